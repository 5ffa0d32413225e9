"""Metro line profiles on real data: Metrolink, the Trafford segments, and a Chester bus route."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pandas as pd
import pytest

from civicdata.transit.gtfs import FeedError, load_feed
from civicdata.metro import (compute_gaps, feed_line, feed_patterns, line_from_files, load_metrolink_lines,
                             metrolink_line, stop_profile)
from civicdata.build.sources import SOURCES
from tests.conftest import DATA, run_cli

FEED = DATA / "transport" / "chester_gtfs.zip"


@pytest.fixture(scope="module")
def raw_le(sources) -> pd.DataFrame:
    raw = pd.read_excel(sources / SOURCES["le_msoa11"].path, sheet_name="Data")
    return raw.set_index(["Code", "Sex"])


@pytest.fixture(scope="module")
def raw_msoa(sources) -> gpd.GeoDataFrame:
    """The raw ONS generalised (BGC) MSOA 2011 boundaries of all England, as staged."""
    return gpd.read_parquet(sources / SOURCES["bgc_msoa11"].path)


def _assert_le_equals_raw(prof: pd.DataFrame, raw_le: pd.DataFrame) -> None:
    """Each stop's male and female life expectancy is the raw ONS value of its MSOA (missing stays missing)."""
    for r in prof.itertuples():
        for sex, label in (("male", "Males"), ("female", "Females")):
            raw = raw_le.loc[(r.msoa, label), "Life Expectancy at birth (in years)"]
            got = getattr(r, f"le_{sex}")
            assert (pd.isna(raw) and pd.isna(got)) or got == pytest.approx(raw)


@pytest.mark.parametrize("key", load_metrolink_lines(DATA)["line_key"].tolist())
def test_every_metrolink_line(key, raw_le, raw_msoa):
    line = metrolink_line(key)
    prof = stop_profile(line)
    assert len(prof) == len(line.stops) >= 9
    assert prof["minutes"].iloc[0] == 0 and prof["minutes"].is_monotonic_increasing
    # the MSOA is the raw ONS polygon containing the stop
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(prof["lon"], prof["lat"]), crs="EPSG:4326")
    hit = gpd.sjoin(pts, raw_msoa, predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    assert prof["msoa"].tolist() == hit["MSOA11CD"].tolist()
    assert not prof["approximate"].any()
    _assert_le_equals_raw(prof, raw_le)  # no estimate stays missing
    gaps = compute_gaps(prof)
    for sex in ("male", "female"):
        g = gaps[sex]
        vals = prof[f"le_{sex}"].dropna()
        assert g.gap_years == pytest.approx(vals.max() - vals.min())
        assert g.gap_years == pytest.approx(max(abs(a - b) for a in vals for b in vals))


def test_pink_line_headline_and_no_estimate_stops():
    prof = stop_profile(metrolink_line("METLPINK:O:2023-07-15"))
    assert prof["name"].iloc[0] == "Rochdale Town Centre" and prof["name"].iloc[-1] == "East Didsbury"
    victoria = prof[prof["name"] == "Victoria"].iloc[0]
    assert pd.isna(victoria["le_male"]) and victoria["msoa"] == "E02006902"  # kept on the line, no estimate
    g = compute_gaps(prof)["male"]
    assert (g.low_stop, g.high_stop) == ("Central Park", "East Didsbury")
    assert g.text == (f"Men at Central Park can expect to live {g.gap_years:.1f} years less than men at East Didsbury, "
                      f"{g.stops_apart} stops / {g.minutes_apart:.0f} minutes apart.")
    assert not g.ci_overlap


def test_overlapping_confidence_intervals_are_flagged():
    prof = stop_profile(metrolink_line("METLPINK:O:2023-07-15"))
    pair = prof[prof["name"].isin(["Chorlton", "Burton Road"])].reset_index(drop=True)
    g = compute_gaps(pair)["male"]
    lo, hi = pair.loc[pair["le_male"].idxmin()], pair.loc[pair["le_male"].idxmax()]
    assert lo["le_male_upper"] >= hi["le_male_lower"] and g.ci_overlap


def test_altrincham_line_from_raw_trafford_segments(sources):
    base = sources / "transport" / "trafford"
    line = line_from_files(base / "trafford_metrolink_lines.geojson", base / "trafford_metrolink_stops.csv",
                           "Altrincham", "Trafford Bar")
    expected = ["Altrincham", "Navigation Road", "Timperley", "Brooklands", "Sale", "Dane Road", "Stretford",
                "Old Trafford", "Trafford Bar"]
    assert line.stops["name"].tolist() == expected
    # the same order as TfGM's timetable for a line running Altrincham -> Trafford Bar
    ml = pd.read_parquet(DATA / "transport" / "metrolink_lines.parquet")
    tfgm = ml[(ml["line_key"] == "METLPURP:I:2023-07-15")].sort_values("stop_sequence")["stop_name"].tolist()
    tfgm_part = [s for s in tfgm if s in expected]
    assert tfgm_part == expected or tfgm_part == expected[::-1]
    far = line.far_stops.set_index("name")["offset_m"]
    assert set(far.index) == {"Barton Dock Road", "Firswood", "Imperial War Museum", "Intu Trafford Centre",
                              "Parkway", "Pomona", "Sale Water Park", "Village", "Wharfside"}
    assert (far > 300).all() and far["Pomona"] < 400


def test_chester_route_end_to_end(raw_le):
    res = run_cli("metro-line", "--feed", str(FEED), "--route", "11706", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    stops = out["stops"]
    feed = load_feed(FEED)
    pats = feed_patterns(feed, "11706")
    assert len(stops) == pats.loc[0, "n_stops"] == pats["n_stops"].max()
    mins = [s["minutes"] for s in stops]
    assert mins[0] == 0 and mins == sorted(mins)
    welsh = [s for s in stops if s["msoa"] is None]
    english = [s for s in stops if s["msoa"] is not None]
    assert welsh and english  # Wrexham to Chester crosses the border: Welsh stops have no data
    assert all(s["le_male"] is None and s["imd_decile"] is None for s in welsh)
    for s in english:
        raw = raw_le.loc[(s["msoa"], "Males"), "Life Expectancy at birth (in years)"]
        assert (pd.isna(raw) and s["le_male"] is None) or s["le_male"] == pytest.approx(raw, abs=1e-3)
    head = out["headline"]["male"]
    vals = [s["le_male"] for s in stops if s["le_male"] is not None]
    assert head["gap_years"] == pytest.approx(max(vals) - min(vals), abs=0.01)


def test_feed_minutes_follow_the_timetable():
    feed = load_feed(FEED)
    line = feed_line(feed, "11706")
    st = feed.stop_times
    trips = feed.trips[feed.trips["route_id"] == "11706"]["trip_id"]
    one = st[st["trip_id"].isin(set(trips))]
    seqs = one.groupby("trip_id")["stop_id"].agg(tuple)
    trip = seqs[seqs == tuple(line.stops["stop_id"])].index
    minutes = []
    for t in trip:
        s = one[one["trip_id"] == t].sort_values("stop_sequence")
        minutes.append((s["arrival_s"].iloc[-1] - s["departure_s"].iloc[0]) / 60)
    assert line.stops["minutes"].iloc[-1] == pytest.approx(pd.Series(minutes).median())


def _zip_with(replace: dict[str, str | None]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(FEED) as src, zipfile.ZipFile(buf, "w") as dst:
        for name in src.namelist():
            if name in replace:
                if replace[name] is not None:
                    dst.writestr(name, replace[name])
            else:
                dst.writestr(name, src.read(name))
    return buf.getvalue()


def test_bad_feeds_name_file_row_and_column(tmp_path):
    p = tmp_path / "nostops.zip"
    p.write_bytes(_zip_with({"stops.txt": None}))
    with pytest.raises(FeedError, match=r"nostops.zip/stops.txt: required file is missing"):
        load_feed(p)
    text = zipfile.ZipFile(FEED).read("stop_times.txt").decode()
    lines = text.split("\n")
    lines[3] = lines[3].replace(lines[3].split(",")[1], "25:6x:00", 1)
    p = tmp_path / "badtime.zip"
    p.write_bytes(_zip_with({"stop_times.txt": "\n".join(lines)}))
    with pytest.raises(FeedError) as exc:
        load_feed(p)
    assert "badtime.zip/stop_times.txt, row 4, column 'arrival_time': malformed time '25:6x:00'" in str(exc.value)


def test_unknown_metrolink_key_is_a_clear_error():
    res = run_cli("metro-line", "--metrolink", "METLNOPE:O")
    assert res.returncode == 1 and "no Metrolink line 'METLNOPE:O'; choose one of METLBLUE" in res.stderr


# ------------------------------------------------------------------ Tyne and Wear Metro (no timetable)

@pytest.fixture(scope="module")
def raw_tw(sources) -> pd.DataFrame:
    return pd.read_csv(sources / SOURCES["tw_metro_lines"].path, dtype=str)


@pytest.fixture(scope="module")
def raw_msoa11_england(sources) -> gpd.GeoDataFrame:
    """The raw ONS generalised (BGC) MSOA 2011 boundaries of all England, as staged."""
    return gpd.read_parquet(sources / SOURCES["bgc_msoa11"].path)


@pytest.mark.parametrize("colour,key,first,last,n", [
    ("Green", "tyne-and-wear:green", "Airport", "South Hylton", 31),
    ("Yellow", "tyne-and-wear:yellow", "St James", "South Shields", 42),
])
def test_tyne_and_wear_lines_against_raw_files(raw_tw, raw_le, raw_msoa11_england, colour, key, first, last, n):
    from civicdata.metro import bundled_line

    raw = raw_tw[raw_tw["line"] == colour].sort_values("seq", key=lambda s: s.astype(int))
    line = bundled_line(key)
    prof = stop_profile(line)
    assert prof["name"].tolist() == raw["station"].tolist() and len(prof) == n
    assert (prof["name"].iloc[0], prof["name"].iloc[-1]) == (first, last)
    assert prof["minutes"].isna().all()  # no timetable: never minutes
    assert prof["km"].tolist() == pytest.approx(raw["km_cumulative"].astype(float).tolist())
    # each stop's MSOA 2011 is the raw ONS polygon holding it
    code_col = "MSOA11CD"
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(raw["lon"].astype(float), raw["lat"].astype(float)),
                           crs="EPSG:4326")
    hit = gpd.sjoin(pts, raw_msoa11_england[[code_col, "geometry"]], predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    assert prof["msoa"].tolist() == hit[code_col].tolist()
    _assert_le_equals_raw(prof, raw_le)
    gaps = compute_gaps(prof)
    for sex in ("male", "female"):
        g = gaps[sex]
        assert g.minutes_apart is None and g.text.endswith(f"{g.stops_apart} stops apart.")
        vals = prof[f"le_{sex}"].dropna()
        assert g.gap_years == pytest.approx(vals.max() - vals.min())


def test_city_centre_stop_without_male_estimate_stays_null(raw_le):
    from civicdata.metro import bundled_line

    prof = stop_profile(bundled_line("tyne-and-wear:yellow"))
    monument = prof[prof["name"] == "Monument"]
    assert len(monument) == 2  # the Yellow line passes Monument twice
    code = monument["msoa"].iloc[0]
    assert pd.isna(raw_le.loc[(code, "Males"), "Life Expectancy at birth (in years)"])
    assert monument["le_male"].isna().all() and monument["le_female"].notna().all()
    out = json.loads(run_cli("metro-line", "--bundled", "tyne-and-wear:yellow", "--json").stdout)
    st_james = out["stops"][0]
    assert st_james["name"] == "St James" and st_james["le_male"] is None and st_james["minutes"] is None
    assert st_james["km"] == 0.0 and out["headline"]["male"]["minutes_apart"] is None
    assert out["headline"]["male"]["text"] == compute_gaps(prof)["male"].text
    assert "stops apart." in out["headline"]["male"]["text"] and "minutes" not in out["headline"]["male"]["text"]


def test_metro_line_list_and_bundled_keys():
    rows = json.loads(run_cli("metro-line", "--list", "--json").stdout)
    by_key = {r["key"]: r for r in rows}
    assert set(rows[0]) == {"key", "network", "name", "first", "last", "stops"}
    assert by_key["tyne-and-wear:green"] == {"key": "tyne-and-wear:green", "network": "Tyne and Wear Metro",
                                             "name": "Green line", "first": "Airport", "last": "South Hylton",
                                             "stops": 31}
    assert by_key["METLPINK:O:2023-07-15"]["network"] == "Greater Manchester Metrolink"
    assert len(rows) == len(load_metrolink_lines(DATA)) + 2
    a = json.loads(run_cli("metro-line", "--bundled", "METLPINK:O:2023-07-15", "--json").stdout)
    b = json.loads(run_cli("metro-line", "--metrolink", "METLPINK:O:2023-07-15", "--json").stdout)
    assert a == b and a["stops"][1]["minutes"] > 0
    bad = run_cli("metro-line", "--bundled", "tyne-and-wear:blue")
    assert bad.returncode == 1 and "tyne-and-wear:yellow" in bad.stderr

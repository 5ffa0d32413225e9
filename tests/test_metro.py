"""Metro line profiles on real data: Metrolink, the Trafford segments, and a Chester bus route."""

from __future__ import annotations

import io
import json
import zipfile

import geopandas as gpd
import pandas as pd
import pytest

from civicdata.gtfs import FeedError, load_feed
from civicdata.metro import (compute_gaps, feed_line, feed_patterns, line_from_files, load_metrolink_lines,
                             metrolink_line, stop_profile)
from civicdata.sources import SOURCES
from tests.conftest import DATA, run_cli

FEED = DATA / "transport" / "chester_gtfs.zip"


@pytest.fixture(scope="module")
def raw_le(sources) -> pd.DataFrame:
    raw = pd.read_excel(sources / SOURCES["le_msoa11"].path, sheet_name="Data")
    return raw.set_index(["Code", "Sex"])


@pytest.fixture(scope="module")
def raw_gm_msoa(sources) -> gpd.GeoDataFrame:
    return gpd.read_file(f"/vsigzip/{sources / SOURCES['gm_msoa11'].path}")


@pytest.mark.parametrize("key", load_metrolink_lines(DATA)["line_key"].tolist())
def test_every_metrolink_line(key, raw_le, raw_gm_msoa):
    line = metrolink_line(key)
    prof = stop_profile(line)
    assert len(prof) == len(line.stops) >= 9
    assert prof["minutes"].iloc[0] == 0 and prof["minutes"].is_monotonic_increasing
    # the MSOA is the raw ONS polygon containing the stop
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(prof["lon"], prof["lat"]), crs="EPSG:4326")
    hit = gpd.sjoin(pts, raw_gm_msoa, predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    assert prof["msoa"].tolist() == hit["area_code"].tolist()
    assert not prof["approximate"].any()
    # life expectancy equals the raw ONS file; no estimate stays missing
    for r in prof.itertuples():
        for sex, label in (("male", "Males"), ("female", "Females")):
            raw = raw_le.loc[(r.msoa, label), "Life Expectancy at birth (in years)"]
            got = getattr(r, f"le_{sex}")
            assert (pd.isna(raw) and pd.isna(got)) or got == pytest.approx(raw)
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

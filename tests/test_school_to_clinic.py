"""School to clinic: the batch, the what-if, and the page (AppTest), on the Chester feed."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from civicdata.transit import access
from civicdata.indicators.catalogue import load_catalogue
from civicdata.geo.places import areas_in_place
from civicdata.transit.gtfs import load_feed
from civicdata.indicators.layers import load_layer
from civicdata.indicators.profile import load_schools
from civicdata.transit.raptor import build_timetable, journey
from tests.conftest import DATA

APP = str(Path(__file__).resolve().parents[1] / "app.py")
DAY = date(2023, 9, 13)


@pytest.fixture(scope="module")
def setup():
    tt = build_timetable(load_feed(DATA / "transport" / "chester_gtfs.zip"), DAY)
    b = access.feed_bounds(tt)
    codes = set(areas_in_place("E06000050", "lsoa21")["code"])
    s = load_schools()
    schools = access.in_bounds(s[s["lsoa21_code"].isin(codes)], b).head(25)
    services = access.in_bounds(load_layer(load_catalogue().get("nhs2014_clinics")), b)
    return tt, schools, services


def test_school_access_matches_single_journeys(setup):
    tt, schools, services = setup
    t = access.school_access(tt, schools, services, 8 * 3600, 9 * 3600, 900)
    assert len(t) == len(schools)
    reached = t[t["reached"]]
    assert len(reached) > 0
    for r in reached.head(5).itertuples():
        svc = services.loc[int(r.service_index)]
        mins = [journey(tt, (r.lat, r.lon), (svc["lat"], svc["lon"]), d).minutes for d in range(8 * 3600, 9 * 3600 + 1, 900)]
        mins = [m for m in mins if m is not None]
        assert r.best == pytest.approx(min(mins)) and r.worst >= r.median >= r.best
    assert (t["two_plus"] == (t["vehicles"].fillna(0) >= 2)).all()


def test_hosting_a_clinic_at_a_school(setup):
    tt, schools, services = setup
    before = access.school_access(tt, schools, services, 8 * 3600, 9 * 3600, 900)
    host = before.sort_values("median", ascending=False, na_position="first").iloc[0]
    extra = pd.DataFrame([{"name": "hosted", "lat": host["lat"], "lon": host["lon"]}])
    after = access.school_access(tt, schools, pd.concat([services, extra], ignore_index=True), 8 * 3600, 9 * 3600, 900)
    gain, summary = access.compare_hosting(before, after)
    assert host["urn"] in set(gain["urn"])
    assert after.set_index("urn").loc[host["urn"], "median"] == 0.0  # the clinic is in the school
    finite = gain["minutes_saved"].notna()
    w = gain.loc[finite, "pupils"].fillna(0)
    if w.sum() > 0:
        expected = float((gain.loc[finite, "minutes_saved"] * w).sum() / w.sum())
        assert summary["pupil_weighted_minutes_saved"] == pytest.approx(expected)
    assert (gain.loc[finite, "minutes_saved"] > 0).all()


def test_page_runs_and_hosts_a_clinic():
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page("views/school_to_clinic.py").run()
    assert not at.exception, at.exception
    assert any("Walking rules: straight-line distance × 1.3 at 1.33 m/s" in c.value and "never chained" in c.value
               for c in at.caption)
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    table = at.dataframe[0].value
    reached, two = int(table["best"].notna().sum()), int(table["two_plus"].sum())
    if reached == len(table):
        assert head.startswith(f"### {two} of {len(table)} schools are two or more buses")
    else:  # one sentence: the two-bus count among the schools with a journey, and how many have none
        assert head.startswith(f"### {two} of the {reached} schools with a journey within 120 minutes are two or more")
        assert f"{len(table) - reached} of {len(table)} have no journey within 120 minutes" in head
    assert at.query_params["place"] in ("E06000050", ["E06000050"])
    # the default service is current (ODS 2025 GP practices), never the 2014 directory
    assert at.sidebar.selectbox(key="sc_service").value == "gp_practices2025"
    assert "from the nearest GP practices (mid-2025)" in head
    urn = str(table.sort_values("median", ascending=False).iloc[0]["urn"])
    at.selectbox(key="sc_host").set_value(urn).run()
    assert not at.exception
    assert any("schools (" in m.value and "gain" in m.value for m in at.markdown)
    at.button(key="sc_save").click().run()
    assert not at.exception
    assert any("Saved layer journey_gp_practices2025_0800_0900" in m.value for m in at.success)
    saved = load_layer(load_catalogue().get("journey_gp_practices2025_0800_0900"))
    assert len(saved) == int(table["median"].notna().sum())


def test_a_place_the_timetable_does_not_serve_is_said_not_swapped_silently():
    """?place=E06000065: the bundled feed has no stops in North Yorkshire; the page shows the district it serves
    and says why, naming both (it showed Cheshire West and Chester without a word)."""
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["place"] = "E06000065"
    at.switch_page("views/school_to_clinic.py").run()
    assert not at.exception, at.exception
    said = [i.value for i in at.info if "no stops in North Yorkshire" in i.value]
    assert len(said) == 1 and "so Cheshire West and Chester is shown" in said[0]
    assert at.query_params["place"] in ("E06000050", ["E06000050"])


def test_journey_minutes_become_a_strategic_focus_indicator(setup):
    from civicdata.focus import compute_focus
    from civicdata.indicators.userlayers import add_layer

    tt, schools, services = setup
    table = access.school_access(tt, schools, services, 8 * 3600, 9 * 3600, 900)
    cat = load_catalogue()
    csv, raw = access.journey_layer(table, service=cat.get("nhs2014_clinics"), feed_name=tt.feed_name, day=DAY,
                                    start=8 * 3600, end=9 * 3600)
    desc, report = add_layer(csv, "journey_minutes.csv", raw)
    assert desc.id == "journey_nhs2014_clinics_0800_0900" and desc.geography == "urn"
    assert desc.polarity == "higher_is_worse" and report.ok == int(table["reached"].sum())
    res = compute_focus(load_catalogue(), "school", "E06000050", {desc.id: 1.0, "imd2025_decile": 1.0})
    got = res.table.set_index("code")
    for r in table.itertuples():
        v = got.loc[str(r.urn), f"v_{desc.id}"]
        if r.reached:  # the school's median minutes, as computed
            assert v == pytest.approx(round(float(r.median), 2))
        else:  # no journey in this feed: missing, never zero
            assert pd.isna(v) and got.loc[str(r.urn), "missing"] >= 1
    # longer journeys mean more need: the normalised value never falls as the minutes rise, and the longest
    # (three schools tie at 100.9 minutes once journeys over 120 minutes are no journey) have the most need
    reached = got[got[f"v_{desc.id}"].notna()].sort_values(f"v_{desc.id}")
    assert reached[f"n_{desc.id}"].is_monotonic_increasing
    top = reached[f"v_{desc.id}"].idxmax()
    assert reached.loc[top, f"n_{desc.id}"] == reached[f"n_{desc.id}"].max() > 90
    # carried to wards as the pupil-weighted mean of their schools
    wards = compute_focus(load_catalogue(), "ward", "E06000050", {desc.id: 1.0})
    assert wards.table[f"v_{desc.id}"].notna().sum() > 0


def test_journey_layer_cli(tmp_path):
    import json

    from tests.conftest import run_cli

    res = run_cli("journey-layer", "--feed", str(DATA / "transport" / "chester_gtfs.zip"), "--date", "20230913",
                  "--within", "E06000050", "--service", "nhs2014_gp_practices", "--every", "15", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["layer"] == "journey_nhs2014_gp_practices_0800_0900" and 0 < out["reached"] <= out["schools"]
    listed = json.loads(run_cli("layers", "--json").stdout)
    assert any(d["id"] == out["layer"] and d["user"] for d in listed)
    again = run_cli("journey-layer", "--feed", str(DATA / "transport" / "chester_gtfs.zip"), "--date", "20230913",
                    "--within", "E06000050", "--service", "nhs2014_gp_practices", "--every", "15")
    assert again.returncode == 1 and "already exists" in again.stderr
    bad = run_cli("journey-layer", "--feed", str(DATA / "transport" / "chester_gtfs.zip"), "--date", "20230913",
                  "--within", "E06000050", "--service", "imd2025_decile")
    assert bad.returncode == 1 and "not a point layer" in bad.stderr

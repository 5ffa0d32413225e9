"""The journey cap on the real Chester feed: a nine-hour wait is not a journey.

Rossmore School (Ellesmere Port, URN 111112) to Eastham Group Practice leaving at 08:00 on 16 Aug 2023: the
router walks nine minutes to the Red Lion stop and waits for the 17:05 bus, arriving 17:17:37 (557.6 minutes).
"""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from civicdata.transit import access, raptor as transit
from civicdata.figures import alt_text
from civicdata.indicators.catalogue import load_catalogue
from civicdata.transit.gtfs import load_feed
from tests.conftest import DATA, run_cli

FEED = DATA / "transport" / "chester_gtfs.zip"
ROSSMORE = (53.289155, -2.940837)
EASTHAM = (53.322280, -2.971892)
AUG16 = date(2023, 8, 16)


@pytest.fixture(scope="module")
def tt():
    return transit.build_timetable(load_feed(FEED), AUG16)


def test_a_nine_hour_wait_is_no_journey_within_120_minutes(tt):
    j = transit.journey(tt, ROSSMORE, EASTHAM, 8 * 3600)
    assert j.arrival is None and j.legs == [] and j.max_minutes == 120
    assert j.beyond_cap_minutes == pytest.approx(557.62, abs=0.01)
    assert j.words.startswith("no journey within 120 minutes")
    assert transit.earliest_arrival(tt, ROSSMORE, EASTHAM, 8 * 3600) == (None, 0, 0)
    long = transit.journey(tt, ROSSMORE, EASTHAM, 8 * 3600, max_minutes=600)
    assert long.minutes == pytest.approx(557.62, abs=0.01) and long.vehicles == 1
    assert [leg.mode for leg in long.legs] == ["walk", "ride", "walk"] and long.legs[1].route == "811"
    assert transit.journey(tt, ROSSMORE, EASTHAM, 8 * 3600, max_minutes=None).arrival == long.arrival
    # a journey inside the cap is untouched by it
    short = transit.journey(tt, ROSSMORE, EASTHAM, 16 * 3600 + 55 * 60)
    assert short.arrival == long.arrival and short.minutes < 30


def test_window_statistics_count_only_journeys_within_the_cap(tt):
    frame = transit.journey_range(tt, ROSSMORE, EASTHAM, 8 * 3600, 9 * 3600)
    assert frame["minutes"].isna().all()
    assert transit.summarise_range(frame)["reached"] == 0
    uncapped = transit.journey_range(tt, ROSSMORE, EASTHAM, 8 * 3600, 9 * 3600, max_minutes=600)
    s = transit.summarise_range(uncapped)
    assert (s["best"], s["median"], s["worst"], s["reached"]) == (pytest.approx(497.62), pytest.approx(527.62),
                                                                  pytest.approx(557.62), 61)


@pytest.fixture(scope="module")
def cwac(tt):
    """Cheshire West and Chester's schools in the feed's area and the 2025 GP practices (the page's default)."""
    return access.schools_and_services(load_catalogue(), "E06000050", access.DEFAULT_SERVICE, tt)


def test_nearest_service_and_the_school_table_respect_the_cap(tt, cwac):
    schools, services = cwac
    capped = access.school_access(tt, schools, services, 8 * 3600, 9 * 3600, 900)
    assert (capped[["best", "median", "worst"]].max() <= 120).all()
    ross = capped.set_index("urn").loc[111112]
    assert not ross["reached"] and ross["departures_reached"] == 0 and pd.isna(ross["median"])
    wide = access.school_access(tt, schools, services, 8 * 3600, 9 * 3600, 900, max_minutes=600)
    assert wide["median"].max() > 400  # the waits the cap leaves out are in this feed
    w = wide.set_index("urn").loc[111112]
    assert w["reached"] and w["median"] > 120
    # every school reached within the cap has the same answer with or without a wider cap
    both = capped[capped["reached"]].merge(wide, on="urn", suffixes=("", "_wide"), validate="one_to_one")
    same = both["departures_reached"] == both["departures_reached_wide"]
    assert np.allclose(both.loc[same, "median"], both.loc[same, "median_wide"])
    assert (capped["departures_reached"] <= wide["departures_reached"]).all()
    text = alt_text.journey_map_text(capped, "Cheshire West and Chester", "GP practices", 120)
    assert f"{int((~capped['reached']).sum())} have no journey within 120 minutes in the window" in text


def test_no_layer_value_exceeds_its_cap():
    from civicdata.indicators.catalogue import load_catalogue

    res = run_cli("journey-layer", "--feed", str(FEED), "--date", "20230816", "--within", "E06000050",
                  "--service", "gp_practices2025", "--every", "15", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["max_minutes"] == 120
    saved = load_catalogue().get(out["layer"])  # the store the CLI wrote to (this test's CIVICDATA_DB_URL)
    layer = pd.read_parquet(saved.data_path)
    assert len(layer) == out["reached"] and layer["minutes"].max() <= 120
    assert "111112" not in set(layer["urn"].astype(str))  # Rossmore: no journey within 120 minutes, so missing, never 500+
    desc = (saved.data_path.parent / "layer.toml").read_text()
    assert "valid_max = 120.0" in desc and "within 120 minutes" in desc
    wide = run_cli("journey-layer", "--feed", str(FEED), "--date", "20230816", "--within", "E06000050",
                   "--service", "gp_practices2025", "--every", "15", "--max-minutes", "600", "--id", "wide", "--json")
    assert wide.returncode == 0, wide.stderr
    w = pd.read_parquet(load_catalogue().get("wide").data_path)
    assert w["minutes"].max() > 400 and w["minutes"].max() <= 600 and "111112" in set(w["urn"].astype(str))


def test_cli_journey_says_why_and_takes_max_minutes():
    base = ["journey", "--feed", str(FEED), "--date", "20230816", "--depart", "08:00",
            "--from", "53.289155,-2.940837", "--to", "53.322280,-2.971892"]
    out = run_cli(*base)
    assert out.returncode == 0 and "no journey within 120 minutes" in out.stdout
    js = json.loads(run_cli(*base, "--json").stdout)
    assert js["arrival"] is None and js["max_minutes"] == 120 and js["beyond_cap_minutes"] == pytest.approx(557.62)
    js = json.loads(run_cli(*base, "--max-minutes", "600", "--json").stdout)
    assert js["minutes"] == pytest.approx(557.62) and js["beyond_cap_minutes"] is None
    bad = run_cli(*base, "--max-minutes", "-5")
    assert bad.returncode == 1 and "--max-minutes" in bad.stderr


def test_page_states_the_cap_and_keeps_it_in_the_link():
    from tests.conftest import open_page

    at = open_page("views/school_to_clinic.py", date="20230816")
    assert at.sidebar.select_slider(key="sc_cap").value == 120
    assert any(c.value.startswith("A journey counts only when it arrives within 120 minutes") for c in at.caption)
    table = next(d.value for d in at.dataframe if "departures_reached" in d.value.columns)
    assert table["median"].max() <= 120
    at.sidebar.select_slider(key="sc_cap").set_value(600).run()
    assert not at.exception
    assert at.query_params["cap"] in ("600", ["600"])
    table = next(d.value for d in at.dataframe if "departures_reached" in d.value.columns)
    assert table["median"].max() > 120

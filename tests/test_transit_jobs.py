"""Journeys at scale on Dask: the same answer, school by school, in this process, on a LocalCluster of two
workers and on an existing cluster by its scheduler address — on the real Chester feed and on a synthetic
regional feed (copies of Chester, as bench/transit_scale.py makes them)."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest

from bench.transit_scale import replicate
from civicdata.transit import access, raptor as transit
from civicdata.indicators.catalogue import load_catalogue
from civicdata.transit.gtfs import load_feed
from civicdata.transit.jobs import journey_matrix, run_origins
from tests.conftest import DATA, run_cli

FEED = DATA / "transport" / "chester_gtfs.zip"
DAY = date(2023, 9, 13)
WINDOW = (8 * 3600, 9 * 3600)


@pytest.fixture(scope="module")
def chester():
    tt = transit.build_timetable(load_feed(FEED), DAY)
    schools, services = access.schools_and_services(load_catalogue(), "E06000050", access.DEFAULT_SERVICE, tt)
    return tt, schools, services


@pytest.fixture(scope="module")
def regional(tmp_path_factory):
    """Four copies of the Chester feed side by side (4 x 34,249 stop_times), 160 origins and 60 services
    around their stops."""
    folder = tmp_path_factory.mktemp("regional") / "feed"
    replicate(FEED, 4, folder)
    tt = transit.build_timetable(load_feed(folder), DAY)
    rng = np.random.default_rng(26)
    served = np.unique(tt.pat_stops)
    o = rng.choice(served, 160)
    s = rng.choice(served, 60, replace=False)
    origins = pd.DataFrame({"lat": tt.stop_lat[o] + rng.uniform(-0.003, 0.003, 160),
                            "lon": tt.stop_lon[o] + rng.uniform(-0.004, 0.004, 160)})
    services = pd.DataFrame({"lat": tt.stop_lat[s] + 0.001, "lon": tt.stop_lon[s]})
    return folder, tt, origins, services


def _frames_equal(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), check_dtype=False)


def test_chester_schools_same_in_process_on_two_workers_and_by_scheduler(chester, tmp_path, monkeypatch):
    monkeypatch.setenv("CIVICDATA_TIMETABLE_CACHE", str(tmp_path))
    tt, schools, services = chester
    plain = access.school_access(tt, schools, services, *WINDOW, 600)
    one = access.school_access_at_scale(FEED, DAY, schools, services, *WINDOW, 600)
    seen = []
    two = access.school_access_at_scale(FEED, DAY, schools, services, *WINDOW, 600, workers=2, progress=seen.append)
    _frames_equal(one, plain)
    _frames_equal(two, plain)
    assert seen[-1] == 1.0 and seen == sorted(seen)
    assert plain["reached"].sum() > 40  # the comparison covers real journeys
    from distributed import LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        by_address = access.school_access_at_scale(FEED, DAY, schools, services, *WINDOW, 600,
                                                    scheduler=cluster.scheduler_address)
    _frames_equal(by_address, plain)


def test_regional_feed_nearest_and_matrix_same_on_one_and_two_workers(regional, tmp_path, monkeypatch):
    monkeypatch.setenv("CIVICDATA_TIMETABLE_CACHE", str(tmp_path))
    folder, tt, origins, services = regional
    plain = transit.nearest_service(tt, origins, services, *WINDOW, 900)
    one = run_origins("nearest", folder, DAY, origins, services, *WINDOW, 900, chunk=37)
    two = run_origins("nearest", folder, DAY, origins, services, *WINDOW, 900, workers=2, chunk=37)
    _frames_equal(one, plain)
    _frames_equal(two, plain)
    assert plain["median"].notna().sum() > 80
    m1 = run_origins("matrix", folder, DAY, origins, services, *WINDOW, 900, k=3, chunk=37)
    m2 = run_origins("matrix", folder, DAY, origins, services, *WINDOW, 900, k=3, workers=2, chunk=37)
    _frames_equal(m1, m2)
    # rank 1 of the matrix is the nearest service, with the same median minutes
    first = m1[m1["rank"] == 1].groupby("origin").agg(service=("service", "first"),
                                                      median=("minutes", lambda m: np.median(m.fillna(np.inf))))
    reached = plain.dropna(subset=["median"]).set_index("school_index")
    assert (first.loc[reached.index, "service"] == reached["service_index"]).all()
    assert np.allclose(first.loc[reached.index, "median"], reached["median"])
    assert (m1["minutes"].dropna() <= 120).all() and set(m1["rank"]) == {1, 2, 3}


def test_matrix_minutes_are_the_journeys(chester):
    tt, schools, services = chester
    m = journey_matrix(tt, schools[["lat", "lon"]].head(6), services[["lat", "lon"]], [8 * 3600, 8 * 3600 + 1800], k=2)
    for r in m.dropna(subset=["minutes"]).itertuples():
        s, o = services.loc[r.service], schools.loc[r.origin]
        j = transit.journey(tt, (o["lat"], o["lon"]), (s["lat"], s["lon"]), r.depart)
        assert j.minutes == pytest.approx(r.minutes) and j.vehicles == r.vehicles


def test_journey_matrix_cli_writes_parquet(tmp_path):
    out = tmp_path / "m.parquet"
    res = run_cli("journey-matrix", "--feed", str(FEED), "--date", "20230913", "--within", "E06000050",
                  "--service", "gp_practices2025", "--every", "30", "--k", "2", "--out", str(out), "--workers", "2",
                  "--json", env={"CIVICDATA_TIMETABLE_CACHE": str(tmp_path / "cache")})
    assert res.returncode == 0, res.stderr
    summary = json.loads(res.stdout)
    m = pd.read_parquet(out)
    assert summary["rows"] == len(m) and summary["departures"] == 3 and summary["k"] == 2
    assert list(m.columns) == ["urn", "school", "rank", "service", "service_lat", "service_lon", "depart", "minutes",
                               "vehicles"]
    assert set(m["depart"]) == {"08:00", "08:30", "09:00"} and m["minutes"].max() <= 120
    assert "100.0%" in res.stderr  # the progress bar, on stderr
    bad = run_cli("journey-matrix", "--feed", str(FEED), "--date", "20230913", "--within", "E06000050",
                  "--service", "gp_practices2025", "--out", str(out), "--workers", "0")
    assert bad.returncode == 1 and "--workers" in bad.stderr


def _poll(at, timeout: float = 180.0):
    import time

    deadline = time.time() + timeout
    while time.time() < deadline:
        at.run()
        assert not at.exception, at.exception
        if not any(p for p in at.get("progress")):
            return at
        time.sleep(1.0)
    raise AssertionError("the background routing did not finish")


def test_page_routes_a_large_area_in_the_background_and_keeps_the_layer(chester, tmp_path, monkeypatch):
    """Above CIVICDATA_BACKGROUND_ABOVE school-departures the page starts a background job on Dask workers,
    shows its progress, and keeps the result as a layer; the table equals the one routed in the page."""
    from tests.conftest import open_page

    monkeypatch.setenv("CIVICDATA_BACKGROUND_ABOVE", "100")  # Chester's 87 schools x 13 departures are "large"
    monkeypatch.setenv("CIVICDATA_JOURNEY_WORKERS", "2")
    monkeypatch.setenv("CIVICDATA_TIMETABLE_CACHE", str(tmp_path / "cache"))
    at = open_page("views/school_to_clinic.py", date="20230913")
    assert any("runs in the background on 2 worker processes" in i.value for i in at.info)
    at.button(key="sc_bg_start").click().run()
    assert not at.exception
    at = _poll(at)
    saved = [s.value for s in at.success if "Kept as your layer" in s.value]
    assert saved and "journey_gp_practices2025_0800_0900" in saved[0]
    tt, schools, services = chester
    expected = access.school_access(tt, schools, services, 8 * 3600, 9 * 3600, 300)
    shown = next(d.value for d in at.dataframe if "departures_reached" in d.value.columns)
    assert shown["urn"].tolist() == expected["urn"].tolist()
    # shown as whole minutes ("7 min"): the grid holds the rounded value too
    assert np.allclose(shown["median"].astype(float), expected["median"].astype(float).round(0), equal_nan=True)
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.indicators.layers import load_layer

    layer = load_layer(load_catalogue().get("journey_gp_practices2025_0800_0900"))
    assert len(layer) == int(expected["reached"].sum()) and layer["value"].max() <= 120
    # the what-if with a clinic hosted at a school runs in the background too, and is not kept as a layer
    host = str(expected.sort_values("median", ascending=False, na_position="first").iloc[0]["urn"])
    at.selectbox(key="sc_host").set_value(host).run()
    at.button(key="sc_bg_start_host").click().run()
    at = _poll(at)
    gains = [m.value for m in at.markdown if "gain" in m.value and m.value.startswith("**")]
    assert gains and gains[0].startswith("**") and "schools" in gains[0]


def test_a_background_job_can_be_cancelled(chester, tmp_path, monkeypatch):
    from civicdata.transit.jobs import Job

    monkeypatch.setenv("CIVICDATA_TIMETABLE_CACHE", str(tmp_path))
    tt, schools, services = chester
    job = Job(access.school_access_at_scale, feed=str(FEED), day=DAY, schools=schools, services=services,
              start=8 * 3600, end=9 * 3600, step=60, workers=2)
    job.cancel()
    assert job.wait(120) == "cancelled" and job.result is None

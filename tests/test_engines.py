"""Both journey engines behind one interface, on the Newport feed and its OpenStreetMap extract."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from civicdata.transit.engines import FerrobusEngine, RaptorEngine, compare_engines
from civicdata.errors import ProblemsError
from civicdata.transit.gtfs import load_feed
from civicdata.transit.raptor import build_timetable

DAY = date(2023, 6, 14)


@pytest.fixture(scope="module")
def engines(sources):
    gtfs = sources / "transport" / "newport-20230613_gtfs.zip"
    ours = RaptorEngine(build_timetable(load_feed(gtfs), DAY))
    fb = FerrobusEngine(gtfs, sources / "transport" / "newport-2023-06-13.osm.pbf", DAY)
    return ours, fb


def test_same_interface_and_comparable_minutes(engines):
    ours, fb = engines
    pairs = pd.DataFrame({"o_lat": [51.5884, 51.5884], "o_lon": [-2.9977, -2.9977],
                          "d_lat": [51.5700, 51.5890], "d_lon": [-3.0200, -2.9960]})
    table = compare_engines([ours, fb], pairs, 8 * 3600)
    for eng in (ours, fb):
        assert f"{eng.name} minutes" in table.columns
    # a 250 m hop: both engines walk it, in a few minutes
    near = table.iloc[1]
    assert near[f"{ours.name} vehicles"] == 0 and near[f"{fb.name} vehicles"] == 0
    assert 0 < near[f"{ours.name} minutes"] < 10 and 0 < near[f"{fb.name} minutes"] < 10
    far = table.iloc[0]
    assert far[f"{ours.name} minutes"] > 5 and far[f"{fb.name} minutes"] > 5
    j = fb.journey((51.5884, -2.9977), (51.57, -3.02), 8 * 3600)
    assert j.arrival > j.departure and j.to_dict()["minutes"] == pytest.approx(j.minutes, abs=0.01)


def test_points_off_the_streets_have_no_journey(engines):
    _, fb = engines
    assert fb.journey((53.48, -2.24), (51.57, -3.02), 8 * 3600).arrival is None  # Manchester is off the extract


def test_missing_extract_is_named(sources, tmp_path):
    with pytest.raises(ProblemsError, match="nope.osm.pbf: OpenStreetMap extract not found"):
        FerrobusEngine(sources / "transport" / "newport-20230613_gtfs.zip", tmp_path / "nope.osm.pbf", DAY)

"""Feeds from the wild: every fault of the malformed corpus named exactly, and never a traceback."""

from __future__ import annotations

import json
from datetime import date

import pytest

from civicdata.transit.access import open_feed
from civicdata.transit.gtfs import check_feed
from tests.conftest import DATA, SOURCES, run_cli
from tests.gtfs_corpus import FAULTS, IN_SERVICE, NO_SERVICE, base_feed, write_zip


@pytest.fixture(scope="module")
def placeholders() -> dict[str, str]:
    b = base_feed()
    st = b["stop_times.txt"].reset_index(drop=True)
    return {"trip0": b["trips.txt"]["trip_id"].iloc[0], "st_trip0": st["trip_id"].iloc[0],
            "seq0": st["stop_sequence"].iloc[0]}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> dict[str, object]:
    folder = tmp_path_factory.mktemp("feeds")
    return {name: write_zip(make(base_feed()), folder / f"{name}.zip") for name, (make, _, _) in FAULTS.items()}


def _day(text: str) -> date:
    return date(int(text[:4]), int(text[4:6]), int(text[6:]))


@pytest.mark.parametrize("name", list(FAULTS))
def test_check_feed_names_each_fault(name, corpus, placeholders):
    _, errors, warnings = FAULTS[name]
    path = corpus[name]
    report = check_feed(path)
    prefix = f"{path.name}/"
    got_errors = [str(p).removeprefix(prefix) for p in report.errors]
    got_warnings = [str(p).removeprefix(prefix) for p in report.warnings]
    for e in errors:
        assert e.format(**placeholders) in got_errors, got_errors
    for w in warnings:
        assert w.format(**placeholders) in got_warnings, got_warnings
    if not errors:
        assert report.ok, got_errors  # routing goes on
    res = run_cli("check-feed", str(path), "--json")
    assert "Traceback" not in res.stderr
    out = json.loads(res.stdout)
    assert out["ok"] is (not errors) and res.returncode == (1 if errors else 0)
    assert len(out["errors"]) == len(report.errors) and len(out["warnings"]) == len(report.warnings)


@pytest.mark.parametrize("name", list(FAULTS))
@pytest.mark.parametrize("day", [IN_SERVICE, NO_SERVICE])
def test_journey_and_page_loader_answer_with_a_result_or_a_message(name, day, corpus):
    path = corpus[name]
    res = run_cli("journey", "--feed", str(path), "--date", day, "--depart", "08:00", "--from", "53.1900,-2.8920",
                  "--to", "53.2050,-2.9000", "--json")
    assert "Traceback" not in res.stderr and "bug in Local Need Explorer" not in res.stderr
    outcome = open_feed(path, _day(day))  # what the School to clinic page runs
    errors = FAULTS[name][1]
    if errors:
        assert res.returncode == 1 and "invalid GTFS feed" in res.stderr
        assert outcome.timetable is None and outcome.errors and "cannot be routed" in outcome.message
    elif day == NO_SERVICE or name == "single_calls" or (name == "calendar_dates_only" and day != IN_SERVICE):
        assert res.returncode == 1 and outcome.timetable is None
        if name == "single_calls" and day == IN_SERVICE:
            assert "none calls at two or more located stops" in res.stderr and "nothing to route" in outcome.message
        else:  # a day with no service names the feed's range and the nearest days that have one
            assert "No trip runs on Wed 01 Jan 2025" in res.stderr and "nearest days with service:" in res.stderr
            assert outcome.message.startswith("No trip runs on Wed 01 Jan 2025")
    else:
        assert res.returncode == 0, res.stderr
        assert outcome.timetable is not None and outcome.message is None
        assert "departure" in json.loads(res.stdout)


def test_no_service_message_names_range_and_nearest_days(corpus):
    o = open_feed(corpus["calendar_dates_only"], date(2023, 9, 20))
    assert o.message == ("No trip runs on Wed 20 Sep 2023 in calendar_dates_only.zip: its calendars cover Wed 13 Sep "
                         "2023 to Thu 14 Sep 2023; nearest days with service: Thu 14 Sep 2023 (before).")
    o = open_feed(corpus["calendar_dates_only"], date(2023, 9, 1))
    assert o.message.endswith("nearest days with service: Wed 13 Sep 2023 (after).")


@pytest.mark.parametrize("path,warnings", [
    (DATA / "transport" / "chester_gtfs.zip", ["chester_gtfs.zip/calendar_dates.txt: optional file is empty: ignored"]),
    (SOURCES / "transport" / "newport-20230613_gtfs.zip",
     ["newport-20230613_gtfs.zip/trips.txt, row 1, column 'trip_direction_name': unknown column(s), ignored: "
      "trip_direction_name"]),
])
def test_real_feeds_load_with_no_error(path, warnings):
    report = check_feed(path)
    assert report.ok and [str(p) for p in report.warnings] == warnings
    repo = DATA.parent  # README.md and every docs/*.md page (the README's longer sections live in docs/)
    readme = "\n".join(p.read_text() for p in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))])
    for w in warnings:  # the README or the user guide lists them
        assert w in readme

"""The journey planner on the real Chester feed: hand-checked journeys, walking, no-service days,
the range variant, and an independent connection scan agreeing with RAPTOR on random pairs."""

from __future__ import annotations

import dataclasses
import json
import math
import threading
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civicdata.transit.gtfs import load_feed, services_on
from civicdata.transit.raptor import (MAX_ROUNDS, MAX_WALK_M, NoServiceError, WALK_FACTOR, build_timetable, earliest_arrival,
                               journey, journey_range, nearest_service, one_to_many, summarise_range, walk_seconds)
from tests.conftest import DATA, run_cli

FEED = DATA / "transport" / "chester_gtfs.zip"
DAY = date(2023, 8, 16)  # a Wednesday inside the feed's calendar
STAND_A = (53.193962, -2.888639)  # Chester Bus Interchange (Stand A), stops.txt
ST_MARYS = (53.182755, -2.888438)  # St Mary's Church (0610CH1061)
ROUTE_16_TRIP = "VJf860e2c0730f792b0bddf0c8e711f295909a649b"  # the hand-checked trip (route 16)


@pytest.fixture(scope="module")
def feed():
    return load_feed(FEED)


@pytest.fixture(scope="module")
def tt(feed):
    return build_timetable(feed, DAY)


def test_hand_checked_journey(tt):
    # stop_times.txt: trip VJf860e2…649b (route 16, service 658 Mon-Fri) leaves Stand A at 08:19:00
    # and reaches St Mary's Church (stop_sequence 5) at 08:28:00. Stand A to St Mary's is 1.25 km:
    # too far to walk under the 800 m rule, so that bus is the journey.
    j = journey(tt, STAND_A, ST_MARYS, 8 * 3600 + 18 * 60)
    d = j.to_dict()
    assert d["arrival"] == "08:28:00" and d["minutes"] == 10.0 and d["vehicles"] == 1
    ride = [leg for leg in d["legs"] if leg["mode"] == "ride"]
    assert ride == [{"mode": "ride", "from": "Chester Bus Interchange (Stand A)", "to": "St Mary's Church",
                     "depart": "08:19:00", "arrive": "08:28:00", "minutes": 9.0, "route": "16",
                     "trip_id": "VJf860e2c0730f792b0bddf0c8e711f295909a649b", "from_stop": "0610CH19052",
                     "to_stop": "0610CH1061"}]


def test_walk_only_when_within_800m(tt):
    a = (53.1900, -2.8900)
    b = (53.1940, -2.8900)  # ~445 m north: 578 m walking, under 800 m
    dist = math.radians(b[0] - a[0]) * 6_371_000
    j = journey(tt, a, b, 9 * 3600)
    assert j.vehicles == 0 and [leg.mode for leg in j.legs] == ["walk"]
    assert j.minutes == pytest.approx(math.ceil(walk_seconds(dist)) / 60, abs=0.02)
    assert dist * WALK_FACTOR <= MAX_WALK_M


def test_no_service_day(feed):
    with pytest.raises(NoServiceError, match="No trip runs on Wed 01 Jan 2025 in chester_gtfs.zip: its calendars cover Mon 31 Jul 2023 to Fri 26 Apr 2024"):
        build_timetable(feed, date(2025, 1, 1))
    assert services_on(feed, date(2023, 8, 19)) != services_on(feed, DAY)  # Saturday differs


def test_range_variant(tt):
    frame = journey_range(tt, STAND_A, ST_MARYS, 8 * 3600, 9 * 3600, 60)
    assert len(frame) == 61
    summary = summarise_range(frame)
    assert summary["best"] <= summary["median"] <= summary["worst"]
    # the 08:18 departure is the hand-checked 10 minutes
    assert frame.set_index("depart").loc[8 * 3600 + 18 * 60, "minutes"] == 10.0
    assert (frame["arrival"] >= frame["depart"]).all()


def test_journeys_never_go_back_in_time(tt):
    j = journey(tt, STAND_A, (53.277313, -2.902529), 8 * 3600)
    t = j.departure
    for leg in j.legs:
        assert leg.depart >= t and leg.arrive >= leg.depart
        t = leg.arrive
    assert t == j.arrival


def test_rides_to_a_stop_it_could_also_walk_to(tt):
    # Wrexham, 20:57:22. Walking all the way is 941 m (over 800 m). stop_times.txt: trip VJ081eec…43f8
    # (route 1) calls at Garden Court (5140AWD70635, sequence 36) at 21:11:11 and Acton Park Hotel
    # (5140AWD70634, sequence 37) at 21:11:33; both stops are within 800 m of the origin, and Acton Park
    # Hotel within 800 m of the destination. Arriving there by bus must count even though it can also
    # be reached on foot (an engine keeping one arrival per stop found no journey at all here).
    origin, destination = (53.058723, -2.988084), (53.062316, -2.997094)
    j = journey(tt, origin, destination, 20 * 3600 + 57 * 60 + 22)
    assert [leg.mode for leg in j.legs] == ["walk", "ride", "walk"]
    ride = j.legs[1]
    assert (ride.from_stop, ride.to_stop, ride.depart, ride.arrive, ride.route) == (
        "5140AWD70635", "5140AWD70634", 21 * 3600 + 11 * 60 + 11, 21 * 3600 + 11 * 60 + 33, "1")
    lat0 = math.radians(float(tt.lat0))
    dx = math.radians(destination[1] - ride.to_lon) * 6_371_000 * math.cos(lat0)
    dy = math.radians(destination[0] - ride.to_lat) * 6_371_000
    assert j.arrival == ride.arrive + math.ceil(walk_seconds(math.hypot(dx, dy)))


def _walk_m(leg) -> float:
    lat0 = math.radians((leg.from_lat + leg.to_lat) / 2)
    dx = math.radians(leg.to_lon - leg.from_lon) * 6_371_000 * math.cos(lat0)
    dy = math.radians(leg.to_lat - leg.from_lat) * 6_371_000
    return math.hypot(dx, dy) * WALK_FACTOR


def test_walking_rules_hold_on_random_journeys(tt):
    """Invariants on 300 random journeys around the feed's stops: legs follow on in time, no walk
    follows another walk (a change walk starts where a vehicle was left, and so does the walk to the
    destination), every walk is at most 800 m, and the fast path answers what journey() answers."""
    rng = np.random.default_rng(2024)
    served = np.unique(tt.pat_stops)
    pick = rng.choice(served, size=(300, 2))
    lat = tt.stop_lat[pick] + rng.uniform(-0.004, 0.004, (300, 2))
    lon = tt.stop_lon[pick] + rng.uniform(-0.006, 0.006, (300, 2))
    departs = rng.integers(6 * 3600, 21 * 3600, 300)
    reached = changes = capped = 0
    for i in range(300):
        o, d, t = (lat[i, 0], lon[i, 0]), (lat[i, 1], lon[i, 1]), int(departs[i])
        j = journey(tt, o, d, t, max_minutes=None)  # the router itself, however long the wait
        assert earliest_arrival(tt, o, d, t, max_minutes=None) == (j.arrival, j.vehicles, j.walk_seconds)
        if i % 10 == 0:  # the compiled call takes numpy scalars and lists as well as Python numbers and tuples
            assert earliest_arrival(tt, [float(o[0]), float(o[1])], d, departs[i], max_minutes=None) == (
                j.arrival, j.vehicles, j.walk_seconds)
        # the default 120-minute cap keeps exactly the journeys of 120 minutes or less, unchanged
        c = journey(tt, o, d, t)
        if j.arrival is not None and j.minutes > 120:
            assert c.arrival is None and c.beyond_cap_minutes == j.minutes
            assert earliest_arrival(tt, o, d, t) == (None, 0, 0)
            capped += 1
        else:
            assert (c.arrival, c.vehicles, c.walk_seconds) == (j.arrival, j.vehicles, j.walk_seconds)
            assert earliest_arrival(tt, o, d, t) == (j.arrival, j.vehicles, j.walk_seconds)
        if j.arrival is None:
            continue
        reached += 1
        changes += max(0, j.vehicles - 1)
        at = t
        for a, b in zip(j.legs, j.legs[1:]):
            assert not (a.mode == "walk" and b.mode == "walk"), j.to_dict()
        for leg in j.legs:
            assert leg.depart >= at and leg.arrive >= leg.depart
            at = leg.arrive
            if leg.mode == "walk":
                assert _walk_m(leg) <= MAX_WALK_M + 1, j.to_dict()
        assert at == j.arrival
    assert reached > 150 and changes > 20  # the sample exercises changes, not only direct buses
    assert capped > 5  # and the cap


def test_timetable_holds_only_stops_served_that_day(tt, feed):
    assert set(np.unique(tt.pat_stops)) == set(range(tt.n_stops))
    running = feed.trips.loc[feed.trips["service_id"].isin(services_on(feed, DAY)), "trip_id"]
    called = set(feed.stop_times.loc[feed.stop_times["trip_id"].isin(set(running)), "stop_id"])
    assert set(tt.stop_ids) <= called and len(tt.stop_ids) < len(feed.stops)


def test_stop_pattern_index_and_change_walks_read_back_from_the_feed(tt, feed):
    """Each stop-pattern entry names a stop the pattern calls at, with the latest departure of the
    day's trips from it there (the pruning stop_pat_last allows); each packed change walk names
    another stop within 800 m walking and its walking time."""
    departs = feed.stop_times.groupby(["trip_id", "stop_id"])["departure_s"].max()
    for s in range(tt.n_stops):
        for j in range(tt.stop_pat_ptr[s], tt.stop_pat_ptr[s + 1]):
            p, pos = tt.stop_pat[j], tt.stop_pat_pos[j]
            assert tt.pat_stops[tt.pat_stops_ptr[p] + pos] == s
            trips = tt.trip_ids[tt.pat_trips[tt.pat_trip_ptr[p]:tt.pat_trip_ptr[p + 1]]]
            if (tt.pat_stops[tt.pat_stops_ptr[p]:tt.pat_stops_ptr[p + 1]] == s).sum() == 1:  # stop called once
                assert tt.stop_pat_last[j] == max(departs[(t, tt.stop_ids[s])] for t in trips)
    to, secs = tt.tr_walk & 0xFFFFFFFF, tt.tr_walk >> 32
    src = np.repeat(np.arange(tt.n_stops), np.diff(tt.tr_ptr))
    metres = np.hypot(tt.stop_x[to] - tt.stop_x[src], tt.stop_y[to] - tt.stop_y[src]) * WALK_FACTOR
    assert len(to) > tt.n_stops and (to != src).all() and (metres <= MAX_WALK_M + 1e-6).all()
    assert np.array_equal(secs, np.ceil(metres / 1.33)) and (np.diff(secs)[np.diff(src) == 0] >= 0).all()


# ------------------------------------------------------------------ independent connection scan

def _csa(feed, day, origin, destination, depart):
    """Earliest arrival by a plain connection scan with the same walking rules (independent code)."""
    services = services_on(feed, day)
    trips = set(feed.trips.loc[feed.trips["service_id"].isin(services), "trip_id"])
    st = feed.stop_times[feed.stop_times["trip_id"].isin(trips)].sort_values(["trip_id", "stop_sequence"])
    nxt = st.groupby("trip_id").shift(-1)
    conn = pd.DataFrame({"trip": st["trip_id"], "from": st["stop_id"], "to": nxt["stop_id"],
                         "dep": st["departure_s"], "arr": nxt["arrival_s"]}).dropna().sort_values("dep")
    stops = feed.stops.set_index("stop_id")
    lat0 = float(stops["stop_lat"].mean())

    def dist(a_lat, a_lon, b_lat, b_lon):
        x = np.radians(np.asarray(b_lon) - a_lon) * 6_371_000 * math.cos(math.radians(lat0))
        y = np.radians(np.asarray(b_lat) - a_lat) * 6_371_000
        return np.hypot(x, y)

    walk = lambda d: np.ceil(d * 1.3 / 1.33)  # noqa: E731
    any_arr: dict[str, float] = {}
    d0 = dist(origin[0], origin[1], stops["stop_lat"].to_numpy(), stops["stop_lon"].to_numpy())
    for sid, dd in zip(stops.index, d0):
        if dd * 1.3 <= 800:
            any_arr[sid] = depart + walk(dd)
    lat, lon = stops["stop_lat"].to_numpy(), stops["stop_lon"].to_numpy()
    ride_arr: dict[str, float] = {}
    boarded: set[str] = set()
    for c in conn.itertuples(index=False):
        if c.trip in boarded or any_arr.get(c._1, math.inf) <= c.dep:
            boarded.add(c.trip)
            if c.arr < ride_arr.get(c.to, math.inf):
                ride_arr[c.to] = c.arr
                if c.arr < any_arr.get(c.to, math.inf):
                    any_arr[c.to] = c.arr
                s = stops.loc[c.to]
                dd = dist(s["stop_lat"], s["stop_lon"], lat, lon)
                for j in np.flatnonzero(dd * 1.3 <= 800):
                    u = stops.index[j]
                    if u != c.to:
                        t = c.arr + walk(dd[j])
                        if t < any_arr.get(u, math.inf):
                            any_arr[u] = t  # a change walk: the next vehicle may be boarded at u
    best = math.inf
    de = dist(destination[0], destination[1], lat, lon)
    for j in np.flatnonzero(de * 1.3 <= 800):
        t = ride_arr.get(stops.index[j], math.inf)
        best = min(best, t + walk(de[j]))
    direct = dist(origin[0], origin[1], destination[0], destination[1])
    if direct * 1.3 <= 800:
        best = min(best, depart + walk(direct))
    return None if math.isinf(best) else best


def test_connection_scan_agrees_with_raptor(feed, tt):
    rng = np.random.default_rng(11)
    served = feed.stop_times["stop_id"].unique()
    stops = feed.stops.set_index("stop_id").loc[served]
    chester = stops[(stops["stop_lat"].between(53.15, 53.24)) & (stops["stop_lon"].between(-2.95, -2.83))]
    agree = 0
    for _ in range(25):
        a, b = chester.sample(2, random_state=int(rng.integers(1e9))).itertuples()
        t = int(rng.integers(7 * 3600, 18 * 3600))
        o, d = (a.stop_lat, a.stop_lon), (b.stop_lat, b.stop_lon)
        expected = _csa(feed, DAY, o, d, t)
        got = journey(tt, o, d, t).arrival
        assert got == expected, (a.Index, b.Index, t, got, expected)
        agree += 1
    assert agree == 25


def test_one_to_many_equals_single_queries(tt):
    dests = pd.DataFrame({"lat": [ST_MARYS[0], 53.277313, 53.175701], "lon": [ST_MARYS[1], -2.902529, -2.896551]})
    many = one_to_many(tt, STAND_A, dests, 8 * 3600)
    for i, r in dests.iterrows():
        single = journey(tt, STAND_A, (r["lat"], r["lon"]), 8 * 3600)
        assert (pd.isna(many.at[i, "arrival"]) and single.arrival is None) or many.at[i, "arrival"] == single.arrival


def test_answers_do_not_depend_on_the_query_before(tt):
    """Work arrays are reset only where the previous query wrote them (whole rows after a search
    that reached much of the network, stop by stop otherwise): every answer equals the same query
    on fresh work arrays, after wide one-to-all searches and after narrow journeys alike."""
    rng = np.random.default_rng(7)
    served = np.unique(tt.pat_stops)
    everywhere = pd.DataFrame({"lat": tt.stop_lat[served], "lon": tt.stop_lon[served]})
    wide = 0
    for i in range(60):
        a = rng.choice(served)
        o = (tt.stop_lat[a] + 0.001, tt.stop_lon[a])
        t = int(rng.integers(7 * 3600, 19 * 3600))
        if i % 3 == 0:  # a wide search, then three journeys to one destination (labels left there would show)
            b = rng.choice(served)
            d = (tt.stop_lat[b], tt.stop_lon[b] - 0.001)
            one_to_many(tt, o, everywhere, t)
            wide += int(tt.workspace(MAX_ROUNDS).state[0] * 4 > tt.n_stops)
        got = earliest_arrival(tt, o, d, t)
        fresh = dataclasses.replace(tt, _local=threading.local())
        assert got == earliest_arrival(fresh, o, d, t), (i, o, d, t)
        assert journey(tt, o, d, t).arrival == got[0]
    assert wide >= 5  # the whole-row reset was exercised


def test_nearest_service_flags_two_buses(tt):
    schools = pd.DataFrame({"lat": [STAND_A[0]], "lon": [STAND_A[1]]})
    services = pd.DataFrame({"lat": [53.277313, ST_MARYS[0]], "lon": [-2.902529, ST_MARYS[1]]})
    res = nearest_service(tt, schools, services, 8 * 3600, 9 * 3600, 300)
    row = res.iloc[0]
    assert row["service_index"] == 1 and row["best"] <= row["median"] <= row["worst"]
    assert row["two_plus"] == (row["vehicles"] >= 2)


def _feed_lines(name: str) -> list[str]:
    """A member of the Chester feed, as text lines."""
    with zipfile.ZipFile(FEED) as z:
        return z.read(name).decode().split("\n")


def _set_cells(lines: list[str], row: int, cells: dict[int, str]) -> None:
    """Overwrite cells (by column position) of one line of a CSV member."""
    parts = lines[row].split(",")
    for col, value in cells.items():
        parts[col] = value
    lines[row] = ",".join(parts)


def _trip_lines(lines: list[str], trip: str) -> list[int]:
    return [i for i, line in enumerate(lines) if line.startswith(trip + ",")]


def _edited_feed(out: Path, replace: dict[str, str | bytes | None]) -> Path:
    """The Chester feed written to ``out`` with some members replaced (None leaves a member out)."""
    with zipfile.ZipFile(FEED) as src, zipfile.ZipFile(out, "w") as z:
        for n in src.namelist():
            data = replace.get(n, src.read(n))
            if data is not None:
                z.writestr(n, data)
    return out


def test_bad_input_names_file_row_column(tmp_path):
    from civicdata.transit.gtfs import FeedError

    lines = _feed_lines("stops.txt")
    _set_cells(lines, 2, {3: ""})
    out = _edited_feed(tmp_path / "nocoord.zip", {"stops.txt": "\n".join(lines)})
    with pytest.raises(FeedError, match=r"nocoord.zip/stops.txt, row 3, column 'stop_lat': stop '0610CH1003' has no valid coordinate"):
        load_feed(out)


def test_journey_cli_json():
    res = run_cli("journey", "--feed", str(FEED), "--date", "20230816", "--depart", "08:18",
                  "--from", f"{STAND_A[0]},{STAND_A[1]}", "--to", f"{ST_MARYS[0]},{ST_MARYS[1]}", "--json",
                  "--window", "08:00-09:00")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["arrival"] == "08:28:00" and out["minutes"] == 10.0 and out["vehicles"] == 1
    assert {"walk_minutes", "legs", "range"} <= set(out)
    assert out["range"]["best"] <= out["range"]["median"] <= out["range"]["worst"]
    none = run_cli("journey", "--feed", str(FEED), "--date", "20230816", "--depart", "23:50",
                   "--from", f"{STAND_A[0]},{STAND_A[1]}", "--to", "53.277313,-2.902529", "--json")
    assert json.loads(none.stdout)["arrival"] is None
    bad = run_cli("journey", "--feed", str(FEED), "--date", "20250101", "--depart", "08:00",
                  "--from", "53.19,-2.89", "--to", "53.18,-2.88")
    assert bad.returncode == 1 and "No trip runs on Wed 01 Jan 2025" in bad.stderr


def test_legs_follow_the_feed_shapes(feed, tt):
    j = journey(tt, STAND_A, ST_MARYS, 8 * 3600 + 18 * 60, with_shapes=True)
    ride = next(leg for leg in j.legs if leg.mode == "ride")
    shape_id = feed.trips.set_index("trip_id").loc[ride.trip_id, "shape_id"]
    pts = feed.shapes[feed.shapes["shape_id"] == shape_id]
    assert len(ride.shape) >= 2
    shape_pts = set(zip(pts["shape_pt_lat"].round(6), pts["shape_pt_lon"].round(6)))
    assert all((round(a, 6), round(b, 6)) in shape_pts for a, b in ride.shape)
    assert abs(ride.shape[0][0] - STAND_A[0]) < 0.002 and abs(ride.shape[-1][0] - ST_MARYS[0]) < 0.002


def test_times_parse_past_midnight_blank_and_padded():
    from civicdata.errors import Problem
    from civicdata.transit.gtfs import parse_gtfs_time

    problems: list[Problem] = []
    got = parse_gtfs_time(pd.Series(["08:00:00", " 7:05:09", "25:10:00", "", "8:60:00"]), "f.txt", "arrival_time",
                          problems)
    assert got[:3].tolist() == [28800, 25509, 90600] and np.isnan(got[3]) and np.isnan(got[4])
    assert [(p.row, p.column) for p in problems] == [(6, "arrival_time")]
    assert "malformed time '8:60:00'" in problems[0].message


def test_bad_feed_files_are_named(tmp_path):
    from civicdata.transit.gtfs import FeedError

    with zipfile.ZipFile(FEED) as z:
        data = z.read("stops.txt")
    head = data.index(b"\n", data.index(b"\n") + 1)  # after the first stop's row
    data = data[:head] + "\nX1,x,Café,53.1,-2.8,0,,,".encode("latin-1") + data[head:]
    out = _edited_feed(tmp_path / "latin1.zip", {"stops.txt": data, "calendar.txt": None,
                                                 "calendar_dates.txt": None})  # neither calendar file
    with pytest.raises(FeedError) as exc:
        load_feed(out)
    text = str(exc.value)
    e_acute = head + len(b"\nX1,x,Caf")
    assert f"latin1.zip/stops.txt: not UTF-8 or UTF-16 text (byte {e_acute})" in text
    assert "latin1.zip/calendar.txt: the feed has neither calendar.txt nor calendar_dates.txt" in text


def test_blank_times_between_timepoints_are_interpolated(tmp_path):
    lines = _feed_lines("stop_times.txt")
    for i in _trip_lines(lines, ROUTE_16_TRIP)[2:4]:  # blank the 3rd and 4th calls' times
        _set_cells(lines, i, {1: "", 2: ""})
    out = _edited_feed(tmp_path / "blanks.zip", {"stop_times.txt": "\n".join(lines)})
    orig = load_feed(FEED).stop_times
    got = load_feed(out).stop_times
    a = orig[orig["trip_id"] == ROUTE_16_TRIP].reset_index(drop=True)
    b = got[got["trip_id"] == ROUTE_16_TRIP].reset_index(drop=True)
    step = (a.loc[4, "arrival_s"] - a.loc[1, "arrival_s"]) / 3  # equal steps by call position
    assert b.loc[2, "arrival_s"] == pytest.approx(a.loc[1, "arrival_s"] + step)
    assert b.loc[3, "arrival_s"] == pytest.approx(a.loc[1, "arrival_s"] + 2 * step)
    assert (b.drop(index=[2, 3])["arrival_s"] == a.drop(index=[2, 3])["arrival_s"]).all()


def test_untimed_trip_ends_and_duplicate_stops_are_named(tmp_path):
    from civicdata.transit.gtfs import FeedError

    times = _feed_lines("stop_times.txt")
    first = _trip_lines(times, ROUTE_16_TRIP)[0]
    _set_cells(times, first, {1: "", 2: ""})  # the trip's first call without a time
    stops = _feed_lines("stops.txt")
    stops.insert(3, stops[2])  # the second stop twice
    dup_row = 4
    out = _edited_feed(tmp_path / "untimed.zip", {"stop_times.txt": "\n".join(times), "stops.txt": "\n".join(stops)})
    with pytest.raises(FeedError) as exc:
        load_feed(out)
    text = str(exc.value)
    assert f"untimed.zip/stops.txt, row {dup_row}, column 'stop_id': stop_id" in text and "appears more than once" in text
    trip = ROUTE_16_TRIP
    assert (f"untimed.zip/stop_times.txt, row {first + 1}, column 'arrival_time': trip '{trip}' has no time here"
            in text)


def test_a_trip_going_back_in_time_is_named(tmp_path):
    from civicdata.transit.gtfs import FeedError

    lines = _feed_lines("stop_times.txt")  # the route 16 trip: 08:19:00 at Stand A, 08:28:00 at St Mary's
    third = _trip_lines(lines, ROUTE_16_TRIP)[2]
    _set_cells(lines, third, {1: "08:00:00", 2: "08:00:00"})  # before the calls ahead of it
    out = _edited_feed(tmp_path / "back.zip", {"stop_times.txt": "\n".join(lines)})
    with pytest.raises(FeedError) as exc:
        load_feed(out)
    trip = ROUTE_16_TRIP
    assert (f"back.zip/stop_times.txt, row {third + 1}, column 'arrival_time': trip '{trip}' goes back in time"
            in str(exc.value))

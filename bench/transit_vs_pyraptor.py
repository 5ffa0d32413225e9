"""Journey-planner speed and correctness against pyraptor, on the Chester feed reshaped for it.

pyraptor (PyPI, unmaintained) needs numpy<2 and pandas<2, so it is installed into its own
throwaway venv (never the project's). Its importer expects Dutch-rail-style feeds: an
agency chosen by name, ``calendar_dates.txt`` only, ``trip_short_name``/``trip_long_name``,
``parent_station`` and ``platform_code`` on every stop, and transfers only between the
platforms of one station (stops sharing a name) at a fixed 120 s. This script converts the
Chester feed to that shape, runs pyraptor one-to-all from 1,000 random origin stations at
random times, runs our engine under the same rules (no walking, same-name transfers of
120 s), and reports both medians, the speed-up and the share of identical earliest
arrivals. Where pyraptor fails, it prints exactly where and why and compares our engine
with an independent connection scan under the same rules instead.
Run: python bench/transit_vs_pyraptor.py [--queries 1000] [--venv /tmp/pyraptor-venv]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.transit.gtfs import load_feed, services_on
from civicdata.settings import data_dir
from civicdata.transit.raptor import INF, _run, build_timetable, pack_walks

DAY = date(2023, 9, 13)
TRANSFER = 120

DRIVER = r'''
import json, sys, time
from pyraptor.gtfs.timetable import read_gtfs_timetable, gtfs_to_pyraptor_timetable
from pyraptor.model.raptor import RaptorAlgorithm
folder, day, queries_path, out_path, budget = sys.argv[1:6]
t = time.perf_counter()
g = read_gtfs_timetable(folder, day, ["Chester"])
tt = gtfs_to_pyraptor_timetable(g)
build = time.perf_counter() - t
queries = json.load(open(queries_path))
res = []
t_all = time.perf_counter()
for q in queries:
    if time.perf_counter() - t_all > float(budget):
        break  # pure Python: stop at the time budget and report how many ran
    st = tt.stations.get(q["from"])
    t = time.perf_counter()
    bag = RaptorAlgorithm(tt).run(st.stops, q["depart"], q["rounds"])
    el = time.perf_counter() - t
    best = bag[q["rounds"]]
    to = tt.stations.get(q["to"]).stops
    arr = min((best[s].earliest_arrival_time for s in to), default=None)
    res.append({"seconds": el, "arrival": None if arr is None or arr >= 10**9 else int(arr)})
json.dump({"build": build, "results": res}, open(out_path, "w"))
'''


def convert(src: Path, out: Path) -> None:
    """The Chester feed in the shape pyraptor's importer reads."""
    import zipfile

    z = zipfile.ZipFile(src)
    read = lambda n: pd.read_csv(z.open(n), dtype=str, keep_default_na=False)  # noqa: E731
    out.mkdir(parents=True, exist_ok=True)
    agency = pd.DataFrame({"agency_id": ["CHESTER"], "agency_name": ["Chester"], "agency_url": ["x"],
                           "agency_timezone": ["Europe/London"]})
    routes = read("routes.txt").assign(agency_id="CHESTER")
    trips = read("trips.txt")
    trips["trip_short_name"] = np.arange(1, len(trips) + 1).astype(str)
    trips["trip_long_name"] = "bus"
    feed = load_feed(src)
    running = services_on(feed, DAY)
    cal = pd.DataFrame({"service_id": sorted(running), "date": DAY.strftime("%Y%m%d"), "exception_type": "1"})
    stops = read("stops.txt")
    names = sorted(stops["stop_name"].unique())
    station_id = {n: f"station_{i}" for i, n in enumerate(names)}
    stops["parent_station"] = stops["stop_name"].map(station_id)
    stops["platform_code"] = stops["stop_code"].where(stops["stop_code"] != "", stops["stop_id"])
    stops["location_type"] = "0"
    stations = pd.DataFrame({"stop_id": list(station_id.values()), "stop_code": list(station_id.values()),
                             "stop_name": list(station_id), "stop_lat": "0", "stop_lon": "0", "location_type": "1",
                             "parent_station": "", "platform_code": ""})
    cols = ["stop_id", "stop_code", "stop_name", "stop_lat", "stop_lon", "location_type", "parent_station", "platform_code"]
    pd.concat([stops[cols], stations[cols]]).to_csv(out / "stops.txt", index=False)
    agency.to_csv(out / "agency.txt", index=False)
    routes.to_csv(out / "routes.txt", index=False)
    trips.to_csv(out / "trips.txt", index=False)
    cal.to_csv(out / "calendar_dates.txt", index=False)
    st = read("stop_times.txt")
    st.to_csv(out / "stop_times.txt", index=False)


def same_rules_timetable(src: Path):
    """Our timetable with pyraptor's transfer rule: only between stops sharing a name, 120 s."""
    tt = build_timetable(load_feed(src), DAY)
    names = pd.Series(tt.stop_names)
    pairs = [(i, j) for grp in names.groupby(names).groups.values() for i in grp for j in grp if i != j]
    pairs.sort()
    src_, dst = (np.array([p[0] for p in pairs], np.int64), np.array([p[1] for p in pairs], np.int64)) if pairs else \
        (np.zeros(0, np.int64), np.zeros(0, np.int64))
    ptr = np.zeros(tt.n_stops + 1, np.int64)
    np.add.at(ptr, src_ + 1, 1)
    tt.tr_ptr, tt.tr_walk = np.cumsum(ptr), pack_walks(dst, np.full(len(dst), TRANSFER, np.int64))
    return tt


def connection_scan(tt, from_idx, to_idx, depart) -> int | None:
    """Independent earliest arrival under the same rules (plain connection scan over the same trips)."""
    conns = []
    for p in range(len(tt.pat_ntrips)):
        stops = tt.pat_stops[tt.pat_stops_ptr[p]:tt.pat_stops_ptr[p + 1]]
        n = len(stops)
        base = tt.pat_st_ptr[p]
        for t in range(tt.pat_ntrips[p]):
            for i in range(n - 1):
                conns.append((int(tt.dep[base + t * n + i]), int(tt.arr[base + t * n + i + 1]), int(stops[i]),
                              int(stops[i + 1]), p * 100000 + t))
    conns.sort()
    arrive = {s: depart for s in from_idx}
    ride = {}
    on = set()
    names = tt.stop_names
    same = pd.Series(range(tt.n_stops)).groupby(names).groups
    for d, a, u, v, trip in conns:
        if d < depart:
            continue
        if trip in on or arrive.get(u, INF) <= d:
            on.add(trip)
            if a < ride.get(v, INF):
                ride[v] = a
                arrive[v] = min(arrive.get(v, INF), a)
                for w in same[names[v]]:
                    if w != v and a + TRANSFER < arrive.get(w, INF):
                        arrive[w] = a + TRANSFER
                        ride[w] = min(ride.get(w, INF), a + TRANSFER)
    best = min((ride.get(s, INF) for s in to_idx), default=INF)
    return None if best >= INF else int(best)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--venv", default=str(Path(tempfile.gettempdir()) / "pyraptor-venv"))
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--budget", type=float, default=240, help="seconds of pyraptor queries at most")
    args = ap.parse_args()
    src = data_dir() / "transport" / "chester_gtfs.zip"
    tt = same_rules_timetable(src)
    names = pd.Series(tt.stop_names)
    served = np.unique(tt.pat_stops)
    stations = sorted(set(names[served]))
    groups = names.groupby(names).groups
    rng = np.random.default_rng(3)
    queries = []
    for _ in range(args.queries):
        a, b = rng.choice(len(stations), 2, replace=False)
        queries.append({"from": stations[a], "to": stations[b], "depart": int(rng.integers(7 * 3600, 18 * 3600)),
                        "rounds": args.rounds})

    ours_t, ours_arr = [], []
    empty = np.zeros(0, np.int64)
    _run(tt, np.array(list(groups[queries[0]["from"]]), np.int64), np.zeros(len(groups[queries[0]["from"]]), np.int64),
         0, empty, empty, False, rounds=args.rounds)
    for q in queries:
        acc = np.array(list(groups[q["from"]]), np.int64)
        t = time.perf_counter()
        work = _run(tt, acc, np.zeros(len(acc), np.int64), q["depart"], empty, empty, False, rounds=args.rounds)
        ours_t.append(time.perf_counter() - t)
        to = np.array(list(groups[q["to"]]), np.int64)
        a = int(work.best[to].min())
        ours_arr.append(None if a >= INF else a)
    print(f"Chester GTFS on {DAY}, pyraptor rules (no walking; 120 s transfers between same-name stops), "
          f"{len(queries)} one-to-all queries, {args.rounds} rounds")
    print(f"ours: median {np.median(ours_t) * 1000:.3f} ms, p95 {np.percentile(ours_t, 95) * 1000:.3f} ms")

    venv = Path(args.venv)
    failure = None
    peer = None
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        try:
            if not (venv / "bin" / "python").exists():
                subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
                subprocess.run([str(venv / "bin" / "pip"), "install", "-q", "pyraptor==1.3.10", "numpy<2", "pandas<2",
                                "attrs"], check=True)
            convert(src, tmp / "feed")
            (tmp / "q.json").write_text(json.dumps(queries))
            (tmp / "driver.py").write_text(DRIVER)
            proc = subprocess.run([str(venv / "bin" / "python"), str(tmp / "driver.py"), str(tmp / "feed"),
                                   DAY.strftime("%Y%m%d"), str(tmp / "q.json"), str(tmp / "out.json"),
                                   str(args.budget)],
                                  capture_output=True, text=True, timeout=3600)
            if proc.returncode != 0:
                failure = "pyraptor failed: " + proc.stderr.strip().splitlines()[-1]
            else:
                peer = json.loads((tmp / "out.json").read_text())
                if not any(r["arrival"] is not None for r in peer["results"]):
                    failure = "pyraptor ran but found no journey for any query"
        except (subprocess.CalledProcessError, OSError, subprocess.TimeoutExpired) as exc:
            failure = f"could not set up pyraptor: {exc}"
    if peer is not None and failure is None:
        pt = [r["seconds"] for r in peer["results"]]
        n = len(peer["results"])
        same = sum(r["arrival"] == o for r, o in zip(peer["results"], ours_arr))
        print(f"pyraptor answered {n} of {len(queries)} queries within the {args.budget:.0f} s budget")
        print(f"pyraptor: median {np.median(pt) * 1000:.3f} ms, p95 {np.percentile(pt, 95) * 1000:.3f} ms "
              f"(timetable build {peer['build']:.1f} s)")
        print(f"speed-up (median): {np.median(pt) / np.median(ours_t):.0f}x; identical earliest arrivals: "
              f"{same} of {n} ({same / max(n, 1):.1%})")
        diff = [(q, r["arrival"], o) for q, r, o in zip(queries, peer["results"], ours_arr) if r["arrival"] != o]
        for q, p, o in diff[:5]:
            print(f"  differs: {q['from']} -> {q['to']} at {q['depart']}: pyraptor {p}, ours {o}")
        return
    print(failure)
    print("comparing with an independent connection scan under the same rules instead (first 200 queries):")
    same, t_csa = 0, []
    for q, o in list(zip(queries, ours_arr))[:200]:
        t = time.perf_counter()
        c = connection_scan(tt, list(groups[q["from"]]), list(groups[q["to"]]), q["depart"])
        t_csa.append(time.perf_counter() - t)
        same += c == o
    print(f"connection scan (pure Python): median {np.median(t_csa) * 1000:.1f} ms; identical earliest arrivals: "
          f"{same} of 200")


if __name__ == "__main__":
    main()

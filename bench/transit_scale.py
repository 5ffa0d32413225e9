"""How cost grows with feed size: the Chester feed replicated into a synthetic regional feed.

Copy k of the feed gets its own stops (shifted k x 0.25 degrees east, so copies do not
interconnect), trips, services and shapes-free stop times. Prints, per size: stop_times,
feed load time, timetable build time, peak memory (RSS of a process that does nothing else),
and median query time (200 random stop-to-stop queries inside one copy). Run: python bench/transit_scale.py [--copies 1 10 50 150]
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.transit.gtfs import load_feed
from civicdata.settings import data_dir
from civicdata.transit.raptor import build_timetable, earliest_arrival

DAY = date(2023, 9, 13)


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM, MB). Not ``ru_maxrss``, which a child started from a large
    parent carries over from before its exec."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def replicate(src: Path, copies: int, out: Path) -> int:
    z = zipfile.ZipFile(src)
    read = lambda n: pd.read_csv(io.BytesIO(z.read(n)), dtype=str, keep_default_na=False)  # noqa: E731
    stops, trips, st, routes = read("stops.txt"), read("trips.txt"), read("stop_times.txt"), read("routes.txt")
    cal = read("calendar.txt")
    out.mkdir(parents=True, exist_ok=True)
    parts = {"stops": [], "trips": [], "st": [], "routes": [], "cal": []}
    for k in range(copies):
        p = f"c{k}_"
        s = stops.copy()
        s["stop_id"] = p + s["stop_id"]
        s["stop_lon"] = (pd.to_numeric(s["stop_lon"]) + 0.25 * k).round(6).astype(str)
        s["parent_station"] = ""
        parts["stops"].append(s[["stop_id", "stop_name", "stop_lat", "stop_lon"]])
        t = trips.copy()
        t["trip_id"] = p + t["trip_id"]
        t["route_id"] = p + t["route_id"]
        t["service_id"] = p + t["service_id"]
        parts["trips"].append(t[["route_id", "service_id", "trip_id"]])
        x = st.copy()
        x["trip_id"] = p + x["trip_id"]
        x["stop_id"] = p + x["stop_id"]
        parts["st"].append(x[["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"]])
        r = routes.copy()
        r["route_id"] = p + r["route_id"]
        parts["routes"].append(r[["route_id", "route_short_name", "route_type"]])
        c = cal.copy()
        c["service_id"] = p + c["service_id"]
        parts["cal"].append(c)
    names = {"stops": "stops.txt", "trips": "trips.txt", "st": "stop_times.txt", "routes": "routes.txt",
             "cal": "calendar.txt"}
    for key, name in names.items():
        pd.concat(parts[key]).to_csv(out / name, index=False)
    return sum(len(x) for x in parts["st"])


def measure(folder: Path) -> None:
    """Load, build and query one feed; print one JSON line (run in its own process for its peak RSS)."""
    import json

    t = time.perf_counter()
    feed = load_feed(folder)
    t_load = time.perf_counter() - t
    rss_load = peak_rss_mb()
    t = time.perf_counter()
    tt = build_timetable(feed, DAY)
    t_build = time.perf_counter() - t
    rng = np.random.default_rng(1)
    served = np.unique(tt.pat_stops)
    first_copy = served[np.char.startswith(tt.stop_ids[served].astype(str), "c0_")]
    earliest_arrival(tt, (tt.stop_lat[first_copy[0]], tt.stop_lon[first_copy[0]]),
                     (tt.stop_lat[first_copy[1]], tt.stop_lon[first_copy[1]]), 8 * 3600)  # numba start-up
    times = []
    for _ in range(200):
        a, b = rng.choice(first_copy, 2)
        q = time.perf_counter()
        earliest_arrival(tt, (tt.stop_lat[a], tt.stop_lon[a]), (tt.stop_lat[b], tt.stop_lon[b]),
                         int(rng.integers(7 * 3600, 18 * 3600)))
        times.append(time.perf_counter() - q)
    print(json.dumps({"load": t_load, "build": t_build, "rss_load": rss_load,
                      "rss": peak_rss_mb(),
                      "query_ms": float(np.median(times) * 1000), "stops": int(tt.n_stops),
                      "patterns": int(len(tt.pat_ntrips))}))


def main() -> None:
    import json
    import subprocess
    import sys

    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, nargs="+", default=[1, 10, 50, 150])
    ap.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        measure(args.measure)
        return
    src = data_dir() / "transport" / "chester_gtfs.zip"
    print("each size is loaded in its own process; peak RSS is that process's (Python, numpy, pandas and "
          "numba included)")
    print(f"{'copies':>6s} {'stop_times':>11s} {'load s':>7s} {'build s':>8s} {'RSS MB':>7s} {'query ms':>9s}")
    for k in args.copies:
        with tempfile.TemporaryDirectory() as tmp:
            n = replicate(src, k, Path(tmp) / "feed")
            out = subprocess.run([sys.executable, __file__, "--measure", str(Path(tmp) / "feed")],
                                 capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            print(f"{k:6d} {n:11,d} {r['load']:7.1f} {r['build']:8.1f} {r['rss']:7.0f} {r['query_ms']:9.3f}",
                  flush=True)


if __name__ == "__main__":
    main()

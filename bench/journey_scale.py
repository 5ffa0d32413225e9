"""Journeys at scale: a synthetic regional feed (copies of the Chester BODS extract side by side, as
bench/transit_scale.py makes them: the stops, trips and stop_times of the real extract in its own
proportions, scaled up), every origin to its nearest of many services, in this process and on Dask.

Prints, medians of --runs:
* the timetable: load + build from the feed vs open from the on-disk cache (civicdata/timetable_cache.py);
* origins per second: in this process (the bare baseline), on a LocalCluster of 1 worker and of 2 workers
  (the 1 -> 2 ratio; this machine has 2 cores), with 13 departures per origin (08:00-09:00 every 5 min) and
  the 120-minute cap;
* peak memory (RSS) per worker;
* an estimate for England's 27,000 open schools x 13 departures on a 64-core cluster, from the measured
  origins per second per worker (stated as an estimate, with its inputs).
Run: python bench/journey_scale.py [--copies 40] [--origins 400] [--services 400] [--runs 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.transit_scale import replicate  # noqa: E402
from civicdata import transit  # noqa: E402
from civicdata.gtfs import load_feed  # noqa: E402
from civicdata.settings import data_dir  # noqa: E402
from civicdata.timetable_cache import open_timetable  # noqa: E402
from civicdata.transit_jobs import run_origins  # noqa: E402

DAY = date(2023, 9, 13)
START, END, STEP = 8 * 3600, 9 * 3600, 300  # 13 departures
ENGLAND_SCHOOLS = 27_000
CLUSTER_CORES = 64


def _points(tt: transit.Timetable, n: int, seed: int, jitter: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    served = np.unique(tt.pat_stops)
    pick = rng.choice(served, n)
    return pd.DataFrame({"lat": tt.stop_lat[pick] + rng.uniform(-jitter, jitter, n),
                         "lon": tt.stop_lon[pick] + rng.uniform(-jitter, jitter, n)})


def _warm(feed: str, day: date, cache: str) -> None:
    """Open the timetable in a worker and run the compiled router once (as a worker's first chunk does)."""
    from civicdata.transit_jobs import _timetable

    _timetable(feed, day, cache)


def _worker_rss(client) -> list[float]:
    import resource

    return list(client.run(lambda: resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024).values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--origins", type=int, default=400)
    ap.add_argument("--services", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "feed"
        n_st = replicate(data_dir() / "transport" / "chester_gtfs.zip", args.copies, folder)
        cache = Path(tmp) / "cache"
        builds, opens = [], []
        for _ in range(args.runs):
            t = time.perf_counter()
            tt = transit.build_timetable(load_feed(folder), DAY)
            builds.append(time.perf_counter() - t)
        open_timetable(folder, DAY, cache)
        for _ in range(args.runs):
            t = time.perf_counter()
            opened = open_timetable(folder, DAY, cache)
            opens.append(time.perf_counter() - t)
        assert opened.source == "cache"
        print(f"synthetic feed: {args.copies} copies of the Chester extract, {n_st:,} stop_times, {tt.n_stops:,} stops "
              f"served, {tt.n_trips_day:,} trips on {DAY}")
        print(f"timetable: load + build {statistics.median(builds):.2f} s; open from the cache "
              f"{statistics.median(opens):.2f} s ({statistics.median(builds) / statistics.median(opens):.0f}x)")
        origins = _points(tt, args.origins, 1, 0.003)
        services = _points(tt, args.services, 2, 0.001)
        rates = {}
        results = {}
        import os

        os.environ["CIVICDATA_TIMETABLE_CACHE"] = str(cache)
        for label, kw in (("in this process", {"workers": 1}), ("1 Dask worker", "one"), ("2 Dask workers", "two")):
            times = []
            for _ in range(args.runs):
                if kw in ("one", "two"):
                    from distributed import Client, LocalCluster

                    n = 1 if kw == "one" else 2
                    with LocalCluster(n_workers=n, threads_per_worker=1, processes=True,
                                      dashboard_address=None) as cluster, Client(cluster) as client:
                        client.run(_warm, str(folder.resolve()), DAY, str(cache.resolve()))  # a warm worker
                        t = time.perf_counter()
                        res = run_origins("nearest", folder, DAY, origins, services, START, END, STEP,
                                          scheduler=cluster.scheduler_address, cache=cache, chunk=50)
                        times.append(time.perf_counter() - t)
                        rss = _worker_rss(client)
                else:
                    t = time.perf_counter()
                    res = run_origins("nearest", folder, DAY, origins, services, START, END, STEP, cache=cache,
                                      chunk=50, **kw)
                    times.append(time.perf_counter() - t)
            rates[label] = args.origins / statistics.median(times)
            results[label] = res
            mem = f"; peak RSS per worker {statistics.median(rss):.0f} MB" if kw in ("one", "two") else ""
            print(f"{label:16s} {rates[label]:7.1f} origins/s (median of {args.runs}; {len(services)} services, "
                  f"13 departures each){mem}", flush=True)
        same = all(results[k].equals(results["in this process"]) for k in results)
        print(f"identical results, origin by origin: {same}")
        ratio = rates["2 Dask workers"] / rates["1 Dask worker"]
        print(f"1 -> 2 workers: {ratio:.2f}x (2 cores)")
        per_worker = rates["1 Dask worker"]
        est = ENGLAND_SCHOOLS / (per_worker * CLUSTER_CORES * min(1.0, ratio / 2))
        print(f"estimate: England's {ENGLAND_SCHOOLS:,} schools x 13 departures on a {CLUSTER_CORES}-core cluster "
              f"~ {est / 60:.1f} minutes at {per_worker:.1f} origins/s per worker and the measured scaling "
              f"({ratio / 2:.0%} per added worker), on a feed of this size; a national feed's queries are slower "
              "(see bench/transit_scale.py for query time against feed size)")


if __name__ == "__main__":
    main()

"""Journeys at scale: a synthetic regional feed (copies of the Chester BODS extract side by side, as
bench/transit_scale.py makes them: the stops, trips and stop_times of the real extract in its own
proportions, scaled up), every origin to its nearest of many services, in this process and on Dask.

Prints, medians of --runs:
* the timetable: load + build from the feed vs open from the on-disk cache (civicdata/transit/cache.py);
* origins per second: in this process (the bare baseline), on a LocalCluster of 1 worker and of 2 workers
  (the 1 -> 2 ratio; this machine has 2 cores), with 13 departures per origin (08:00-09:00 every 5 min) and
  the 120-minute cap;
* peak memory (RSS) per worker;
* an estimate for England's 27,000 open schools x 13 departures on a 64-core cluster, from the measured
  origins per second per worker (stated as an estimate, with its inputs).

``--england`` sizes the feed to England: England's bus stops estimated from the staged NaPTAN stops of
Trafford scaled by Census 2021 usual residents (England / Trafford, from the bundle's LSOA lookup), then
as many copies of the Chester extract as give that many stops (its trips and stop_times follow in the
extract's own proportions). Needs the raw sources (``--sources``, default ../shared/data).
Run: python bench/journey_scale.py [--copies 40 | --england] [--origins 400] [--services 400] [--runs 3]
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
from bench.transit_scale import peak_rss_mb, replicate  # noqa: E402
from civicdata.transit import raptor as transit  # noqa: E402
from civicdata.transit.gtfs import load_feed  # noqa: E402
from civicdata.settings import data_dir  # noqa: E402
from civicdata.transit.cache import open_timetable  # noqa: E402
from civicdata.transit.jobs import run_origins  # noqa: E402

DAY = date(2023, 9, 13)
START, END, STEP = 8 * 3600, 9 * 3600, 300  # 13 departures
ENGLAND_SCHOOLS = 27_000
CLUSTER_CORES = 64


def england_copies(sources: Path, chester: Path) -> tuple[int, dict]:
    """How many copies of the Chester extract make England's number of bus stops, and the inputs.

    England's stops = Trafford's NaPTAN bus stops x (England's / Trafford's usual residents, Census 2021)."""
    import io
    import zipfile

    naptan = pd.read_csv(sources / "transport" / "trafford" / "trafford_bus_stops.csv", dtype=str)
    trafford_stops = int(naptan["atco_code"].nunique())
    lookup = pd.read_parquet(data_dir() / "lookups" / "lsoa21.parquet", columns=["lad24_code", "population2021"])
    england = int(lookup["population2021"].sum())
    trafford = int(lookup.loc[lookup["lad24_code"].eq("E08000009"), "population2021"].sum())
    with zipfile.ZipFile(chester) as z:
        per_copy = len(pd.read_csv(io.BytesIO(z.read("stops.txt")), dtype=str, usecols=["stop_id"]))
    england_stops = trafford_stops * england / trafford
    copies = round(england_stops / per_copy)
    return copies, {"trafford_naptan_bus_stops": trafford_stops, "england_residents_2021": england,
                    "trafford_residents_2021": trafford, "england_stops_estimate": round(england_stops),
                    "stops_per_copy": per_copy, "copies": copies}


def _measure(folder: Path, cache: Path, what: str) -> None:
    """In a fresh process: build the timetable from the feed (``build``) or open it from the cache
    (``open``); print one JSON line of seconds and RSS before and at peak (MB)."""
    import json

    before = peak_rss_mb()
    t = time.perf_counter()
    if what == "build":
        transit.build_timetable(load_feed(folder), DAY)
    else:
        assert open_timetable(folder, DAY, cache).source == "cache"
    print(json.dumps({"seconds": time.perf_counter() - t, "rss_before": before, "rss_peak": peak_rss_mb()}))


def _fresh(folder: Path, cache: Path, what: str) -> dict:
    import json
    import subprocess

    out = subprocess.run([sys.executable, __file__, "--measure", what, str(folder), str(cache)],
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _points(tt: transit.Timetable, n: int, seed: int, jitter: float) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    served = np.unique(tt.pat_stops)
    pick = rng.choice(served, n)
    return pd.DataFrame({"lat": tt.stop_lat[pick] + rng.uniform(-jitter, jitter, n),
                         "lon": tt.stop_lon[pick] + rng.uniform(-jitter, jitter, n)})


def _warm(feed: str, day: date, cache: str) -> None:
    """Open the timetable in a worker and run the compiled router once (as a worker's first chunk does)."""
    from civicdata.transit.jobs import _timetable

    _timetable(feed, day, cache)


def _worker_rss(client) -> list[float]:
    return list(client.run(peak_rss_mb).values())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=40)
    ap.add_argument("--origins", type=int, default=400)
    ap.add_argument("--services", type=int, default=400)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--england", action="store_true", help="as many copies as England has bus stops")
    ap.add_argument("--sources", type=Path, default=Path(__file__).resolve().parents[2] / "shared" / "data")
    ap.add_argument("--measure", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.measure:
        _measure(Path(args.measure[1]), Path(args.measure[2]), args.measure[0])
        return
    chester = data_dir() / "transport" / "chester_gtfs.zip"
    if args.england:
        args.copies, inputs = england_copies(args.sources, chester)
        print(f"England's size: {inputs['trafford_naptan_bus_stops']:,} NaPTAN bus stops in Trafford x "
              f"{inputs['england_residents_2021']:,} / {inputs['trafford_residents_2021']:,} residents (Census 2021) = "
              f"{inputs['england_stops_estimate']:,} stops = {args.copies} copies of the Chester extract "
              f"({inputs['stops_per_copy']:,} stops each)", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "feed"
        n_st = replicate(chester, args.copies, folder)
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
        mem_build, mem_open = _fresh(folder, cache, "build"), _fresh(folder, cache, "open")
        print(f"synthetic feed: {args.copies} copies of the Chester extract, {n_st:,} stop_times, {tt.n_stops:,} stops "
              f"served, {tt.n_trips_day:,} trips on {DAY}")
        print(f"timetable: load + build {statistics.median(builds):.2f} s; open from the cache "
              f"{statistics.median(opens):.2f} s ({statistics.median(builds) / statistics.median(opens):.0f}x)")
        size = sum(f.stat().st_size for f in cache.iterdir()) / 1e6
        print(f"memory, each in a fresh process: building peaks at {mem_build['rss_peak']:,.0f} MB RSS "
              f"({mem_build['rss_before']:,.0f} MB before); opening the cache ({size:,.0f} MB on disk) peaks at "
              f"{mem_open['rss_peak']:,.0f} MB ({mem_open['rss_before']:,.0f} MB before)", flush=True)
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
              f"~ {est:.0f} s at {per_worker:.1f} origins/s per worker and the measured scaling "
              f"({ratio / 2:.0%} per added worker), on a feed of this size. A lower bound: here each search stays "
              "inside its copy of Chester; in England's connected network a 120-minute search reaches more stops "
              "(bench/transit_scale.py: query time against feed size)")


if __name__ == "__main__":
    main()

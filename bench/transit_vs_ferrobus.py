"""Journey-planner speed against ferrobus (Rust RAPTOR walking on OSM streets), Newport feed.

The same 1,000 random origin-destination points and departure times go to both engines.
Prints median and p95 query time of each and the ratio, one-to-many time (one origin to
every stop), and how the two engines' minutes agree (a distribution: our walking is
straight-line x 1.3, theirs follows the streets, so the minutes differ by design).
Run: python bench/transit_vs_ferrobus.py [--queries 1000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
import zipfile
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.gtfs import load_feed
from civicdata.transit import build_timetable, journey, one_to_many

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "transport"
GTFS = SHARED / "newport-20230613_gtfs.zip"
OSM = SHARED / "newport-2023-06-13.osm.pbf"
DAY = date(2023, 6, 14)


def pct(a, q):
    return float(np.percentile(np.asarray(a), q))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args()
    import ferrobus

    t0 = time.perf_counter()
    feed = load_feed(GTFS)
    tt = build_timetable(feed, DAY)
    t_ours_build = time.perf_counter() - t0
    journey(tt, (51.588, -2.998), (51.585, -3.01), 8 * 3600)  # compile once (numba cache)

    with tempfile.TemporaryDirectory() as tmp:
        zipfile.ZipFile(GTFS).extractall(tmp)
        t0 = time.perf_counter()
        model = ferrobus.create_transit_model(str(OSM), [tmp], DAY)
        t_fb_build = time.perf_counter() - t0

    rng = np.random.default_rng(args.seed)
    served = np.unique(tt.pat_stops)
    # The feed reaches far beyond Newport (long-distance coaches); the OSM extract covers Newport only.
    # Sample origins and destinations around the served stops that ferrobus can place on its streets.
    snappable = []
    for i in served:
        try:
            ferrobus.create_transit_point(float(tt.stop_lat[i]), float(tt.stop_lon[i]), model)
            snappable.append(i)
        except (ValueError, RuntimeError):
            pass
    print(f"{len(snappable)} of {len(served)} served stops lie on the OSM extract's streets: points are drawn around them")
    served = np.array(snappable)
    pick = rng.choice(served, size=(args.queries, 2))
    jitter = rng.uniform(-0.0025, 0.0025, size=(args.queries, 2, 2))
    lat = tt.stop_lat[pick] + jitter[:, :, 0]
    lon = tt.stop_lon[pick] + jitter[:, :, 1] * 1.6
    departs = rng.integers(7 * 3600, 19 * 3600, size=args.queries)

    from civicdata.transit import _run, earliest_arrival, egress_matrix, nearby_stops

    ours_t, ours_min, ours_route_t, ours_fast_t = [], [], [], []
    for i in range(args.queries):
        t = time.perf_counter()
        j = journey(tt, (lat[i, 0], lon[i, 0]), (lat[i, 1], lon[i, 1]), int(departs[i]))
        ours_t.append(time.perf_counter() - t)
        ours_min.append(np.nan if j.minutes is None else j.minutes)
        t = time.perf_counter()
        arr, _veh = earliest_arrival(tt, (lat[i, 0], lon[i, 0]), (lat[i, 1], lon[i, 1]), int(departs[i]))
        ours_fast_t.append(time.perf_counter() - t)
        assert arr == j.arrival
        a_s, a_t, _ = nearby_stops(tt, lat[i, 0], lon[i, 0])
        e_s, e_t, _ = nearby_stops(tt, lat[i, 1], lon[i, 1])
        t = time.perf_counter()
        _run(tt, a_s, a_t, int(departs[i]), e_s, e_t, True)
        ours_route_t.append(time.perf_counter() - t)

    fb_t, fb_min, snap_fail = [], [], 0
    t_points = 0.0
    for i in range(args.queries):
        try:
            t = time.perf_counter()
            a = ferrobus.create_transit_point(lat[i, 0], lon[i, 0], model)
            b = ferrobus.create_transit_point(lat[i, 1], lon[i, 1], model)
            t_points += time.perf_counter() - t
        except (ValueError, RuntimeError):
            snap_fail += 1
            fb_t.append(np.nan)
            fb_min.append(np.nan)
            continue
        t = time.perf_counter()
        r = ferrobus.find_route(model, a, b, int(departs[i]), max_transfers=7)
        fb_t.append(time.perf_counter() - t)
        fb_min.append(np.nan if r is None else r["travel_time_seconds"] / 60)

    ours_ms = np.array(ours_t) * 1000
    fb_ms = np.array(fb_t)[~np.isnan(fb_t)] * 1000
    print(f"Newport GTFS on {DAY}: {tt.n_trips_day:,} trips, {tt.n_stops:,} stops; {args.queries} random OD queries")
    print(f"model build: ours {t_ours_build:.2f} s (feed load + timetable), ferrobus {t_fb_build:.2f} s (with OSM streets)")
    print(f"{'engine':10s} {'median ms':>10s} {'p95 ms':>10s}")
    route_ms = np.array(ours_route_t) * 1000
    print(f"{'ours':10s} {np.median(ours_ms):10.3f} {pct(ours_ms, 95):10.3f}   (whole query: snapping, RAPTOR, legs)")
    fast_ms = np.array(ours_fast_t) * 1000
    print(f"{'ours fast':10s} {np.median(fast_ms):10.3f} {pct(fast_ms, 95):10.3f}   (snapping + RAPTOR, arrival and "
          "vehicles only, like ferrobus find_route)")
    print(f"{'ours core':10s} {np.median(route_ms):10.3f} {pct(route_ms, 95):10.3f}   (RAPTOR rounds only)")
    print(f"{'ferrobus':10s} {np.median(fb_ms):10.3f} {pct(fb_ms, 95):10.3f}   (points snapped beforehand: "
          f"{t_points / max(1, len(fb_ms)) * 1000:.3f} ms per pair extra; {snap_fail} points could not be snapped)")
    print(f"per pair including placing both points on the network: ours fast {np.median(fast_ms):.3f} ms, "
          f"ferrobus {np.median(fb_ms) + t_points / max(1, len(fb_ms)) * 1000:.3f} ms")
    print(f"median ratio ours/ferrobus: with legs {np.median(ours_ms) / np.median(fb_ms):.2f}, "
          f"fast path {np.median(fast_ms) / np.median(fb_ms):.2f}, "
          f"RAPTOR core {np.median(route_ms) / np.median(fb_ms):.2f} (below 1 = ours faster)")

    # one origin to every stop
    stops = pd.DataFrame({"lat": tt.stop_lat[served], "lon": tt.stop_lon[served]})
    o = (float(lat[0, 0]), float(lon[0, 0]))
    egress = egress_matrix(tt, stops)  # destinations placed once, as ferrobus points are
    one_to_many(tt, o, stops, 8 * 3600, egress)
    t = time.perf_counter()
    for _ in range(5):
        one_to_many(tt, o, stops, 8 * 3600, egress)
    ours_otm = (time.perf_counter() - t) / 5
    pts = [ferrobus.create_transit_point(r.lat, r.lon, model) for r in stops.itertuples()]
    src = ferrobus.create_transit_point(o[0], o[1], model)
    t = time.perf_counter()
    for _ in range(5):
        ferrobus.find_routes_one_to_many(model, src, pts, 8 * 3600, max_transfers=7)
    fb_otm = (time.perf_counter() - t) / 5
    print(f"one-to-many (one origin -> {len(stops):,} stops): ours {ours_otm * 1000:.1f} ms, ferrobus {fb_otm * 1000:.1f} ms")

    a, b = np.array(ours_min), np.array(fb_min)
    both = ~np.isnan(a) & ~np.isnan(b)
    d = a[both] - b[both]
    print(f"minutes agreement on {both.sum()} pairs both engines reach (ours minus ferrobus): "
          f"p5 {pct(d, 5):+.1f}, p25 {pct(d, 25):+.1f}, median {np.median(d):+.1f}, p75 {pct(d, 75):+.1f}, "
          f"p95 {pct(d, 95):+.1f}; within 5 min: {np.mean(np.abs(d) <= 5):.0%}")
    print(f"reached by ours only: {int((~np.isnan(a) & np.isnan(b)).sum())}, by ferrobus only: "
          f"{int((np.isnan(a) & ~np.isnan(b)).sum())}, by neither: {int((np.isnan(a) & np.isnan(b)).sum())}")


if __name__ == "__main__":
    main()

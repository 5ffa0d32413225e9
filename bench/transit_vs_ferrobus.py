"""Journey-planner speed against ferrobus (Rust RAPTOR walking on OSM streets), Newport feed.

The same 1,000 random origin-destination points and departure times go to both engines.
Prints median and p95 query time of each and the ratio, one-to-many time (one origin to
every stop), and how the two engines' minutes agree (a distribution: our walking is
straight-line x 1.3, theirs follows the streets, so the minutes differ by design).
Run: python bench/transit_vs_ferrobus.py [--queries 1000] [--repeats 5]
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

from civicdata.transit.gtfs import load_feed
from civicdata.transit.raptor import build_timetable, journey, one_to_many

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
    ap.add_argument("--repeats", type=int, default=5)
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

    from civicdata.transit.raptor import _pick, _run, earliest_arrival, egress_matrix, nearby_stops

    od = [((lat[i, 0], lon[i, 0]), (lat[i, 1], lon[i, 1]), int(departs[i])) for i in range(args.queries)]
    near = [(nearby_stops(tt, *o), nearby_stops(tt, *d)) for o, d, _ in od]
    # ferrobus find_route answers a narrower question: from the one nearest stop to the one nearest
    # stop (MAX_CANDIDATE_STOPS = 1 in ferrobus-core). Ours is asked the same question too.
    nearest = [tuple((s[[np.argmin(w)]], w[[np.argmin(w)]]) if len(s) else (s, w) for s, w in pair) for pair in near]
    fb_points, t_points, snap_fail = [], 0.0, 0
    for o, d, _ in od:
        try:
            t = time.perf_counter()
            fb_points.append((ferrobus.create_transit_point(o[0], o[1], model),
                              ferrobus.create_transit_point(d[0], d[1], model)))
            t_points += time.perf_counter() - t
        except (ValueError, RuntimeError):
            snap_fail += 1
            fb_points.append(None)
    n_fb = sum(p is not None for p in fb_points)

    # Each kind of query runs as its own pass over all pairs; the passes alternate between the
    # engines and repeat, so that a slow spell of the machine does not fall on one engine only.
    ours_t, ours_route_t, ours_fast_t, ours_one_t, fb_t, fb_legs_t = [], [], [], [], [], []
    ours_min, fb_min = [], []
    pass_ratio = []  # per pass: median fast path / median find_route
    for rep in range(args.repeats):
        n_fast, n_fb = len(ours_fast_t), len(fb_t)
        for o, d, dep in od:
            t = time.perf_counter()
            j = journey(tt, o, d, dep)
            ours_t.append(time.perf_counter() - t)
            if rep == 0:
                ours_min.append(np.nan if j.minutes is None else j.minutes)
        for o, d, dep in od:
            t = time.perf_counter()
            earliest_arrival(tt, o, d, dep)
            ours_fast_t.append(time.perf_counter() - t)
        for ((a_s, a_t), (e_s, e_t)), (_o, _d, dep) in zip(near, od):
            t = time.perf_counter()
            _run(tt, a_s, a_t, dep, e_s, e_t, True)
            ours_route_t.append(time.perf_counter() - t)
        for ((a_s, a_t), (e_s, e_t)), (_o, _d, dep) in zip(nearest, od):
            t = time.perf_counter()
            work = _run(tt, a_s, a_t, dep, e_s, e_t, True)
            _pick(work.ride, work.rounds, e_s, e_t)
            ours_one_t.append(time.perf_counter() - t)
        for pts, (_o, _d, dep) in zip(fb_points, od):
            if pts is None:
                if rep == 0:
                    fb_min.append(np.nan)
                continue
            t = time.perf_counter()
            r = ferrobus.find_route(model, pts[0], pts[1], dep, max_transfers=7)
            fb_t.append(time.perf_counter() - t)
            if rep == 0:
                fb_min.append(np.nan if r is None else r["travel_time_seconds"] / 60)
        for pts, (_o, _d, dep) in zip(fb_points, od):
            if pts is not None:
                t = time.perf_counter()
                ferrobus.detailed_journey(model, pts[0], pts[1], dep, max_transfers=7)
                fb_legs_t.append(time.perf_counter() - t)
        pass_ratio.append(np.median(ours_fast_t[n_fast:]) / np.median(fb_t[n_fb:]))
    for o, d, dep in od[:50]:  # the fast path answers what journey() answers
        j = journey(tt, o, d, dep)
        assert earliest_arrival(tt, o, d, dep) == (j.arrival, j.vehicles, j.walk_seconds)

    ours_ms = np.array(ours_t) * 1000
    fb_ms = np.array(fb_t) * 1000
    print(f"Newport GTFS on {DAY}: {tt.n_trips_day:,} trips, {tt.n_stops:,} stops; {args.queries} random OD queries, "
          f"each timed {args.repeats} times")
    print(f"model build: ours {t_ours_build:.2f} s (feed load + timetable), ferrobus {t_fb_build:.2f} s (with OSM streets)")
    print(f"{'engine':10s} {'median ms':>10s} {'p95 ms':>10s}")
    route_ms = np.array(ours_route_t) * 1000
    print(f"{'ours':10s} {np.median(ours_ms):10.4f} {pct(ours_ms, 95):10.4f}   (journey(): snapping, RAPTOR, "
          "legs as Python objects)")
    fb_legs_ms = np.array(fb_legs_t) * 1000
    print(f"{'ferrobus':10s} {np.median(fb_legs_ms):10.4f} {pct(fb_legs_ms, 95):10.4f}   (detailed_journey: legs as "
          "GeoJSON, points snapped beforehand)")
    fast_ms = np.array(ours_fast_t) * 1000
    print(f"{'ours fast':10s} {np.median(fast_ms):10.4f} {pct(fast_ms, 95):10.4f}   (earliest_arrival(): snapping + "
          "RAPTOR, arrival, vehicles and walking seconds, like ferrobus find_route)")
    print(f"{'ours core':10s} {np.median(route_ms):10.4f} {pct(route_ms, 95):10.4f}   (_run(): RAPTOR rounds only, "
          "from Python, without snapping)")
    one_ms = np.array(ours_one_t) * 1000
    print(f"{'ours 1:1':10s} {np.median(one_ms):10.4f} {pct(one_ms, 95):10.4f}   (ferrobus's question: nearest stop to "
          "nearest stop, _run() + best arrival)")
    print(f"{'ferrobus':10s} {np.median(fb_ms):10.4f} {pct(fb_ms, 95):10.4f}   (points snapped beforehand: "
          f"{t_points / max(1, n_fb) * 1000:.3f} ms per pair extra; {snap_fail} pairs could not be snapped)")
    print(f"per pair including placing both points on the network: ours fast {np.median(fast_ms):.4f} ms, "
          f"ferrobus {np.median(fb_ms) + t_points / max(1, n_fb) * 1000:.3f} ms")
    print(f"median ratio ours/ferrobus (below 1 = ours faster): fast path vs find_route "
          f"{np.median(fast_ms) / np.median(fb_ms):.2f}, journey() vs detailed_journey "
          f"{np.median(ours_ms) / np.median(fb_legs_ms):.2f}, RAPTOR core vs find_route "
          f"{np.median(route_ms) / np.median(fb_ms):.2f}, same question (nearest stop to nearest stop) "
          f"{np.median(one_ms) / np.median(fb_ms):.2f}")
    print("fast path vs find_route, each pass on its own: " + ", ".join(f"{r:.2f}" for r in pass_ratio))

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

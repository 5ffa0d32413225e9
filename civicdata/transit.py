"""Scheduled public-transport journeys: RAPTOR (Delling, Pajor, Werneck 2012), compiled with numba.

Walking rules (shown in the UI):

* walking distance = straight-line distance x 1.3, at 1.33 m/s;
* walking from the origin to a stop, from a stop to the destination, and between two stops
  to change is at most 800 m (walking distance) each;
* a change needs no buffer beyond its walk (boarding at the stop you alighted is allowed
  when the next departure is at or after the arrival);
* walking all the way is allowed when it is within 800 m.

Rounds are vehicles boarded: round k arrivals use at most k vehicles. Times are seconds
after midnight of the service day (past 24:00:00 allowed). A timetable is built for one
service day from a :class:`~civicdata.gtfs.Feed`; trips of one stop sequence that overtake
each other are split into separate patterns so that every pattern is FIFO.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import date

import numba as nb
import numpy as np
import pandas as pd

from civicdata.errors import Problem, ProblemsError
from civicdata.gtfs import Feed, services_on

WALK_FACTOR = 1.3
WALK_SPEED = 1.33  # m/s
MAX_WALK_M = 800.0  # walking distance (after the factor)
MAX_ROUNDS = 8
INF = np.int64(2**40)

KIND_NONE, KIND_ACCESS, KIND_RIDE, KIND_WALK = 0, 1, 2, 3


class NoServiceError(ProblemsError):
    """The feed has no trips running on the chosen day."""


def walk_seconds(distance_m: np.ndarray | float) -> np.ndarray | float:
    """Walking time (s) for a straight-line distance (m): x 1.3 at 1.33 m/s."""
    return np.asarray(distance_m) * WALK_FACTOR / WALK_SPEED


def _project(lat: np.ndarray, lon: np.ndarray, lat0: float) -> tuple[np.ndarray, np.ndarray]:
    """Equirectangular projection to metres around ``lat0`` (accurate to well under 1% within a region)."""
    x = np.radians(lon) * 6_371_000 * math.cos(math.radians(lat0))
    y = np.radians(lat) * 6_371_000
    return x, y


@dataclass
class Timetable:
    """A feed's timetable for one service day, in RAPTOR arrays."""

    day: date
    feed_name: str
    stop_ids: np.ndarray
    stop_names: np.ndarray
    stop_lat: np.ndarray
    stop_lon: np.ndarray
    stop_x: np.ndarray
    stop_y: np.ndarray
    lat0: float
    pat_stops_ptr: np.ndarray
    pat_stops: np.ndarray
    pat_ntrips: np.ndarray
    pat_st_ptr: np.ndarray
    arr: np.ndarray
    dep: np.ndarray
    pat_trip_ptr: np.ndarray
    pat_trips: np.ndarray  # global trip index per pattern trip
    stop_pat_ptr: np.ndarray
    stop_pat: np.ndarray
    stop_pat_pos: np.ndarray
    tr_ptr: np.ndarray
    tr_to: np.ndarray
    tr_time: np.ndarray
    trip_ids: np.ndarray
    trip_route_label: np.ndarray
    trip_shape: np.ndarray
    grid: StopGrid | None = field(default=None, repr=False)
    n_trips_day: int = 0
    shapes: pd.DataFrame | None = field(default=None, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False, compare=False)

    @property
    def n_stops(self) -> int:
        return len(self.stop_ids)

    def workspace(self, rounds: int) -> Workspace:
        """This thread's RAPTOR work arrays for up to ``rounds`` rounds, allocated once and reused."""
        ws = getattr(self._local, "ws", None)
        if ws is None or ws.tau.shape[0] < rounds + 1:
            ws = Workspace.allocate(self.n_stops, len(self.pat_ntrips), rounds + 1)
            self._local.ws = ws
            self._local.query_arrays = None
        return ws

    def query_arrays(self, rounds: int) -> tuple:
        """The arrays the compiled one-pair query takes after its first six arguments (kept per thread)."""
        ws = self.workspace(rounds)
        args = getattr(self._local, "query_arrays", None)
        if args is None:
            g = self.grid
            args = (self.stop_x, self.stop_y, self.pat_stops_ptr, self.pat_stops, self.pat_ntrips, self.pat_st_ptr,
                    self.arr, self.dep, self.stop_pat_ptr, self.stop_pat, self.stop_pat_pos, self.tr_ptr, self.tr_to,
                    self.tr_time, g.x0, g.y0, g.cell, g.nx, g.ny, g.ptr, g.stops, *ws.arrays())
            self._local.query_arrays = args
        return args


@dataclass
class StopGrid:
    """Stops bucketed in square cells (projected metres) to find those within walking range fast."""

    x0: float
    y0: float
    cell: float
    nx: int
    ny: int
    ptr: np.ndarray  # cell c holds stops[ptr[c]:ptr[c + 1]], c = ix * ny + iy
    stops: np.ndarray

    MAX_CELLS = 4_000_000

    @classmethod
    def build(cls, x: np.ndarray, y: np.ndarray, reach: float) -> StopGrid:
        """Cells of ``reach`` metres (larger when the feed spans a very wide area)."""
        if len(x) == 0:
            return cls(0.0, 0.0, reach, 1, 1, np.zeros(2, np.int64), np.zeros(0, np.int64))
        x0, y0 = float(x.min()), float(y.min())
        width, height = float(x.max()) - x0, float(y.max()) - y0
        cell = max(reach, math.sqrt(width * height / cls.MAX_CELLS))
        nx, ny = int(width // cell) + 1, int(height // cell) + 1
        cid = ((x - x0) // cell).astype(np.int64) * ny + ((y - y0) // cell).astype(np.int64)
        order = np.argsort(cid, kind="stable")
        ptr = np.zeros(nx * ny + 1, np.int64)
        ptr[1:] = np.cumsum(np.bincount(cid, minlength=nx * ny))
        return cls(x0, y0, cell, nx, ny, ptr, order.astype(np.int64))


@dataclass
class Workspace:
    """RAPTOR work arrays, kept between queries. Every entry a query writes is listed in ``touched``
    and reset at the start of the next query, so no query pays for clearing the whole network."""

    tau: np.ndarray  # [round, stop] arrival (s), INF when not reached in that round
    best: np.ndarray  # [stop] best arrival over all rounds
    p_kind: np.ndarray  # [round, stop] how the arrival was made: KIND_*
    p_from: np.ndarray
    p_pat: np.ndarray
    p_trip: np.ndarray
    p_bpos: np.ndarray
    p_apos: np.ndarray
    is_marked: np.ndarray
    marked: np.ndarray
    rode: np.ndarray
    first_pos: np.ndarray  # [pattern] earliest marked position, -1 when not queued
    queue: np.ndarray
    touched: np.ndarray  # stops written by the last query
    is_touched: np.ndarray
    egress_walk: np.ndarray  # [stop] walking seconds to the destination, -1 when out of range
    state: np.ndarray  # [number touched, rounds used] by the last query

    @classmethod
    def allocate(cls, n_stops: int, n_patterns: int, rounds: int) -> Workspace:
        i32 = lambda: np.zeros((rounds, n_stops), np.int32)  # noqa: E731
        return cls(np.full((rounds, n_stops), INF, np.int64), np.full(n_stops, INF, np.int64),
                   np.zeros((rounds, n_stops), np.int8), i32(), i32(), i32(), i32(), i32(),
                   np.zeros(n_stops, np.bool_), np.zeros(n_stops, np.int64), np.zeros(n_stops, np.int64),
                   np.full(n_patterns, -1, np.int64), np.zeros(n_patterns, np.int64), np.zeros(n_stops, np.int64),
                   np.zeros(n_stops, np.bool_), np.full(n_stops, -1, np.int64), np.zeros(2, np.int64))

    def arrays(self) -> tuple:
        return (self.tau, self.best, self.p_kind, self.p_from, self.p_pat, self.p_trip, self.p_bpos, self.p_apos,
                self.is_marked, self.marked, self.rode, self.first_pos, self.queue, self.touched, self.is_touched,
                self.egress_walk, self.state)


# --------------------------------------------------------------------------- building

def _grid_pairs(x: np.ndarray, y: np.ndarray, radius: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All pairs (i, j), i != j, closer than ``radius`` metres, by a uniform grid."""
    cell = radius
    gx = np.floor(x / cell).astype(np.int64)
    gy = np.floor(y / cell).astype(np.int64)
    order = np.lexsort((gy, gx))
    keys = gx[order] * 10_000_019 + gy[order]
    uniq, start = np.unique(keys, return_index=True)
    end = np.append(start[1:], len(order))
    lookup = {int(k): (int(s), int(e)) for k, s, e in zip(uniq, start, end)}
    src, dst, dist = [], [], []
    for k, s, e in zip(uniq, start, end):
        members = order[s:e]
        gxi, gyi = gx[members[0]], gy[members[0]]
        neigh = []
        for dx in (-1, 0, 1):
            for dy in (-1, 0, 1):
                hit = lookup.get(int((gxi + dx) * 10_000_019 + (gyi + dy)))
                if hit:
                    neigh.append(order[hit[0]:hit[1]])
        cand = np.concatenate(neigh)
        d = np.hypot(x[members][:, None] - x[cand][None, :], y[members][:, None] - y[cand][None, :])
        ii, jj = np.nonzero((d <= radius) & (members[:, None] != cand[None, :]))
        src.append(members[ii])
        dst.append(cand[jj])
        dist.append(d[ii, jj])
    if not src:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    return np.concatenate(src), np.concatenate(dst), np.concatenate(dist)


def build_timetable(feed: Feed, day: date) -> Timetable:
    """RAPTOR arrays for the trips running on ``day``. Raises :class:`NoServiceError` on an empty day."""
    services = services_on(feed, day)
    trips = feed.trips[feed.trips["service_id"].isin(services)]
    if trips.empty:
        raise NoServiceError([Problem(feed.name, f"no trips run on {day.isoformat()} (calendar.txt/calendar_dates.txt)")],
                             "empty service day")
    st = feed.stop_times[feed.stop_times["trip_id"].isin(set(trips["trip_id"]))]
    stops = feed.stops[feed.stops["stop_lat"].notna() & feed.stops["stop_lon"].notna()].reset_index(drop=True)
    stop_index = pd.Series(np.arange(len(stops)), index=stops["stop_id"])
    st = st[st["stop_id"].isin(stop_index.index)].sort_values(["trip_id", "stop_sequence"], kind="stable")
    st = st.assign(s=st["stop_id"].map(stop_index).to_numpy())
    g = st.groupby("trip_id", sort=True)
    seq = g["s"].agg(tuple)
    seq = seq[seq.map(len) >= 2]
    trip_ids = np.array(seq.index)
    arr_by_trip = g["arrival_s"].agg(lambda s: s.to_numpy(np.int64)).reindex(trip_ids)
    dep_by_trip = g["departure_s"].agg(lambda s: s.to_numpy(np.int64)).reindex(trip_ids)
    tinfo = trips.set_index("trip_id").reindex(trip_ids)
    route_label = {r: feed.route_label(r) for r in feed.routes["route_id"]}
    trip_route_label = tinfo["route_id"].map(route_label).fillna(tinfo["route_id"]).to_numpy(dtype=object)
    trip_shape = (tinfo["shape_id"] if "shape_id" in tinfo.columns else pd.Series("", index=tinfo.index)).fillna("").to_numpy(dtype=object)

    # group trips by stop sequence, then split into FIFO sub-patterns
    patterns: list[tuple[tuple, list[int]]] = []
    by_seq: dict[tuple, list[int]] = {}
    for t, s in enumerate(seq.to_numpy()):
        by_seq.setdefault(s, []).append(t)
    for s in sorted(by_seq, key=lambda k: (len(k), k)):
        ts = sorted(by_seq[s], key=lambda t: (dep_by_trip.iat[t][0], trip_ids[t]))
        groups: list[list[int]] = []
        for t in ts:
            for grp in groups:
                last = grp[-1]
                if np.all(dep_by_trip.iat[t] >= dep_by_trip.iat[last]) and np.all(arr_by_trip.iat[t] >= arr_by_trip.iat[last]):
                    grp.append(t)
                    break
            else:
                groups.append([t])
        for grp in groups:
            patterns.append((s, grp))

    n_pat = len(patterns)
    pat_stops_ptr = np.zeros(n_pat + 1, np.int64)
    pat_ntrips = np.zeros(n_pat, np.int64)
    pat_st_ptr = np.zeros(n_pat + 1, np.int64)
    pat_trip_ptr = np.zeros(n_pat + 1, np.int64)
    for p, (s, grp) in enumerate(patterns):
        pat_stops_ptr[p + 1] = pat_stops_ptr[p] + len(s)
        pat_ntrips[p] = len(grp)
        pat_st_ptr[p + 1] = pat_st_ptr[p] + len(s) * len(grp)
        pat_trip_ptr[p + 1] = pat_trip_ptr[p] + len(grp)
    pat_stops = np.concatenate([np.asarray(s, np.int64) for s, _ in patterns])
    pat_trips = np.concatenate([np.asarray(grp, np.int64) for _, grp in patterns])
    arr = np.concatenate([np.stack([arr_by_trip.iat[t] for t in grp]).ravel() for _, grp in patterns])
    dep = np.concatenate([np.stack([dep_by_trip.iat[t] for t in grp]).ravel() for _, grp in patterns])

    # stop -> (pattern, position)
    sp = [(s, p, i) for p, (seqs, _) in enumerate(patterns) for i, s in enumerate(seqs)]
    sp_arr = np.array(sp, np.int64)
    order = np.lexsort((sp_arr[:, 2], sp_arr[:, 1], sp_arr[:, 0]))
    sp_arr = sp_arr[order]
    stop_pat_ptr = np.zeros(len(stops) + 1, np.int64)
    np.add.at(stop_pat_ptr, sp_arr[:, 0] + 1, 1)
    stop_pat_ptr = np.cumsum(stop_pat_ptr)

    lat = stops["stop_lat"].to_numpy(float)
    lon = stops["stop_lon"].to_numpy(float)
    lat0 = float(np.mean(lat))
    x, y = _project(lat, lon, lat0)
    src, dst, dist = _grid_pairs(x, y, MAX_WALK_M / WALK_FACTOR)
    o = np.lexsort((dst, dist, src))  # each stop's walks nearest first
    src, dst, dist = src[o], dst[o], dist[o]
    tr_ptr = np.zeros(len(stops) + 1, np.int64)
    np.add.at(tr_ptr, src + 1, 1)
    tr_ptr = np.cumsum(tr_ptr)
    tr_time = np.ceil(walk_seconds(dist)).astype(np.int64)
    return Timetable(day, feed.name, stops["stop_id"].to_numpy(dtype=object), stops["stop_name"].to_numpy(dtype=object),
                     lat, lon, x, y, lat0, pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr, arr, dep, pat_trip_ptr,
                     pat_trips, stop_pat_ptr, sp_arr[:, 1].copy(), sp_arr[:, 2].copy(), tr_ptr, dst.astype(np.int64),
                     tr_time, trip_ids, trip_route_label, trip_shape, StopGrid.build(x, y, MAX_WALK_M / WALK_FACTOR),
                     len(trip_ids), feed.shapes)


# --------------------------------------------------------------------------- the algorithm

@nb.njit(cache=True, inline="always")
def _touch(s, touched, is_touched, state):
    if not is_touched[s]:
        is_touched[s] = True
        touched[state[0]] = s
        state[0] += 1


@nb.njit(cache=True)
def _raptor(access_stops, access_times, dep_time, max_rounds,
            pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr, arr, dep,
            stop_pat_ptr, stop_pat, stop_pat_pos, tr_ptr, tr_to, tr_time,
            egress_stops, egress_times, prune,
            tau, best, p_kind, p_from, p_pat, p_trip, p_bpos, p_apos,
            is_marked, marked, rode, first_pos, queue, touched, is_touched, egress_walk, state):
    """Earliest arrival per round into the workspace arrays (``tau[k, s]``, ``best[s]``, parents);
    returns the number of rounds used (round 0 = walking from the origin).

    The entries the previous query wrote (``touched``) are reset first. Marked stops are kept in
    a list (not a scan of every stop), and only the patterns through them are scanned, from their
    earliest marked position. With ``prune``, arrivals later than the best arrival found so far at
    the destination (through ``egress_stops``) are not kept.
    """
    for i in range(state[0]):
        s = touched[i]
        best[s] = INF
        is_touched[s] = False
        for k in range(state[1]):
            tau[k, s] = INF
            p_kind[k, s] = 0
    state[0] = 0
    state[1] = 0
    K = max_rounds + 1
    n_marked = 0
    target = INF
    if prune:
        for i in range(len(egress_stops)):
            s = egress_stops[i]
            if egress_walk[s] < 0 or egress_times[i] < egress_walk[s]:
                egress_walk[s] = egress_times[i]
    for i in range(len(access_stops)):
        s = access_stops[i]
        t = dep_time + access_times[i]
        if t < tau[0, s]:
            tau[0, s] = t
            best[s] = t
            p_kind[0, s] = 1
            _touch(s, touched, is_touched, state)
            if not is_marked[s]:
                is_marked[s] = True
                marked[n_marked] = s
                n_marked += 1
    rounds = 1
    for k in range(1, K):
        if n_marked == 0:
            break
        rounds = k + 1
        state[1] = rounds
        n_queue = 0
        for m in range(n_marked):
            s = marked[m]
            is_marked[s] = False
            for j in range(stop_pat_ptr[s], stop_pat_ptr[s + 1]):
                p = stop_pat[j]
                pos = stop_pat_pos[j]
                if first_pos[p] == -1:
                    queue[n_queue] = p
                    n_queue += 1
                    first_pos[p] = pos
                elif pos < first_pos[p]:
                    first_pos[p] = pos
        n_marked = 0
        n_rode = 0
        for q in range(n_queue):
            p = queue[q]
            start = first_pos[p]
            first_pos[p] = -1
            s0 = pat_stops_ptr[p]
            nstop = pat_stops_ptr[p + 1] - s0
            ntrip = pat_ntrips[p]
            base = pat_st_ptr[p]
            trip = -1
            board_stop = -1
            board_pos = -1
            for pos in range(start, nstop):
                if prune and arr[base + pos] >= target:
                    break  # even the pattern's first trip arrives here (and further on) no sooner than the target
                s = pat_stops[s0 + pos]
                if trip >= 0:
                    a = arr[base + trip * nstop + pos]
                    lim = best[s]
                    if prune and target < lim:
                        lim = target
                    if a < lim:
                        tau[k, s] = a
                        best[s] = a
                        p_kind[k, s] = 2
                        p_from[k, s] = board_stop
                        p_pat[k, s] = p
                        p_trip[k, s] = trip
                        p_bpos[k, s] = board_pos
                        p_apos[k, s] = pos
                        _touch(s, touched, is_touched, state)
                        if prune and egress_walk[s] >= 0 and a + egress_walk[s] < target:
                            target = a + egress_walk[s]
                        if not is_marked[s]:
                            is_marked[s] = True
                            marked[n_marked] = s
                            n_marked += 1
                            rode[n_rode] = s
                            n_rode += 1
                prev = tau[k - 1, s]
                if prev < INF and (trip < 0 or prev <= dep[base + trip * nstop + pos]):
                    lo = 0
                    hi = ntrip if trip < 0 else trip + 1
                    while lo < hi:
                        mid = (lo + hi) // 2
                        if dep[base + mid * nstop + pos] >= prev:
                            hi = mid
                        else:
                            lo = mid + 1
                    if lo < ntrip and (trip < 0 or lo < trip):
                        trip = lo
                        board_stop = s
                        board_pos = pos
        # walking changes from stops reached by a vehicle in this round
        for r in range(n_rode):
            s = rode[r]
            if p_kind[k, s] != 2:
                continue
            ts = tau[k, s]
            for j in range(tr_ptr[s], tr_ptr[s + 1]):
                u = tr_to[j]
                t = ts + tr_time[j]
                if prune and t >= target:
                    break  # the remaining walks from s are longer
                lim = best[u]
                if prune and target < lim:
                    lim = target
                if t < lim:
                    tau[k, u] = t
                    best[u] = t
                    p_kind[k, u] = 3
                    p_from[k, u] = s
                    _touch(u, touched, is_touched, state)
                    if prune and egress_walk[u] >= 0 and t + egress_walk[u] < target:
                        target = t + egress_walk[u]
                    if not is_marked[u]:
                        is_marked[u] = True
                        marked[n_marked] = u
                        n_marked += 1
    for m in range(n_marked):  # stops marked in the last round allowed
        is_marked[marked[m]] = False
    for i in range(len(egress_stops)):
        egress_walk[egress_stops[i]] = -1
    return rounds


# --------------------------------------------------------------------------- queries

@dataclass
class Leg:
    """One leg: ``mode`` walk or ride; for rides the route, trip and boarding/alighting stops."""

    mode: str
    from_name: str
    to_name: str
    depart: int
    arrive: int
    route: str = ""
    trip_id: str = ""
    from_stop: str = ""
    to_stop: str = ""
    from_lat: float = 0.0
    from_lon: float = 0.0
    to_lat: float = 0.0
    to_lon: float = 0.0
    shape: list[tuple[float, float]] | None = None

    def to_dict(self) -> dict:
        d = {"mode": self.mode, "from": self.from_name, "to": self.to_name, "depart": hhmmss(self.depart),
             "arrive": hhmmss(self.arrive), "minutes": round((self.arrive - self.depart) / 60, 2)}
        if self.mode == "ride":
            d.update({"route": self.route, "trip_id": self.trip_id, "from_stop": self.from_stop, "to_stop": self.to_stop})
        return d


@dataclass
class Journey:
    """A journey result. ``arrival`` is None when no journey exists."""

    departure: int
    arrival: int | None
    vehicles: int
    walk_seconds: float
    legs: list[Leg]

    @property
    def minutes(self) -> float | None:
        return None if self.arrival is None else (self.arrival - self.departure) / 60

    @property
    def walk_minutes(self) -> float:
        return self.walk_seconds / 60

    def to_dict(self) -> dict:
        return {"departure": hhmmss(self.departure), "arrival": None if self.arrival is None else hhmmss(self.arrival),
                "minutes": None if self.minutes is None else round(self.minutes, 2), "vehicles": self.vehicles,
                "walk_minutes": round(self.walk_minutes, 2), "legs": [leg.to_dict() for leg in self.legs]}


def hhmmss(seconds: int | float) -> str:
    s = int(round(seconds))
    return f"{s // 3600:02d}:{s % 3600 // 60:02d}:{s % 60:02d}"


def parse_hhmm(text: str) -> int:
    """``HH:MM`` or ``HH:MM:SS`` to seconds after midnight (hours may pass 24)."""
    parts = text.strip().split(":")
    if len(parts) not in (2, 3) or not all(p.isdigit() for p in parts):
        raise ValueError(f"'{text}' is not a time (HH:MM)")
    h, m = int(parts[0]), int(parts[1])
    s = int(parts[2]) if len(parts) == 3 else 0
    if m > 59 or s > 59:
        raise ValueError(f"'{text}' is not a time (HH:MM)")
    return h * 3600 + m * 60 + s


@nb.njit(cache=True)
def _nearby(stop_x, stop_y, x, y, max_straight, factor, speed, g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops):
    """Stops within ``max_straight`` metres of (x, y), in stop order, and their walking seconds.
    Only the grid cells overlapping the walking range are looked at."""
    ix0 = max(0, int(math.floor((x - max_straight - g_x0) / g_cell)))
    ix1 = min(g_nx - 1, int(math.floor((x + max_straight - g_x0) / g_cell)))
    iy0 = max(0, int(math.floor((y - max_straight - g_y0) / g_cell)))
    iy1 = min(g_ny - 1, int(math.floor((y + max_straight - g_y0) / g_cell)))
    n = 0
    for ix in range(ix0, ix1 + 1):
        n += g_ptr[ix * g_ny + iy1 + 1] - g_ptr[ix * g_ny + iy0] if iy1 >= iy0 else 0
    idx = np.empty(n, np.int64)
    secs = np.empty(n, np.int64)
    n = 0
    for ix in range(ix0, ix1 + 1):
        if iy1 < iy0:
            break
        for j in range(g_ptr[ix * g_ny + iy0], g_ptr[ix * g_ny + iy1 + 1]):
            i = g_stops[j]
            dx = stop_x[i] - x
            dy = stop_y[i] - y
            d = math.sqrt(dx * dx + dy * dy)
            if d <= max_straight:
                idx[n] = i
                secs[n] = math.ceil(d * factor / speed)
                n += 1
    order = np.argsort(idx[:n])
    return idx[:n][order], secs[:n][order]


def _xy(lat: float, lon: float, lat0: float) -> tuple[float, float]:
    return (math.radians(lon) * 6_371_000 * math.cos(math.radians(lat0)), math.radians(lat) * 6_371_000)


def nearby_stops(tt: Timetable, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray, float]:
    """Stops within walking range of a point: (stop indices, walk seconds), and the point's x."""
    x, y = _xy(lat, lon, tt.lat0)
    idx, secs = _nearby(tt.stop_x, tt.stop_y, x, y, MAX_WALK_M / WALK_FACTOR, WALK_FACTOR, WALK_SPEED, *_grid_args(tt))
    return idx, secs, x


def _point_distance(tt: Timetable, a: tuple[float, float], b: tuple[float, float]) -> float:
    xa, ya = _xy(a[0], a[1], tt.lat0)
    xb, yb = _xy(b[0], b[1], tt.lat0)
    return math.hypot(xa - xb, ya - yb)


def _grid_args(tt: Timetable) -> tuple:
    g = tt.grid
    return g.x0, g.y0, g.cell, g.nx, g.ny, g.ptr, g.stops


def _run(tt: Timetable, acc_s, acc_t, dep_time, egr_s, egr_t, prune: bool, rounds: int | None = None):
    """RAPTOR from access stops; returns (tau, best, p_kind, p_from, p_pat, p_trip, p_bpos, p_apos) as
    views of this thread's workspace, valid until its next query."""
    rounds = MAX_ROUNDS if rounds is None else rounds
    ws = tt.workspace(rounds)
    used = _raptor(acc_s, acc_t, int(dep_time), rounds, tt.pat_stops_ptr, tt.pat_stops, tt.pat_ntrips,
                   tt.pat_st_ptr, tt.arr, tt.dep, tt.stop_pat_ptr, tt.stop_pat, tt.stop_pat_pos, tt.tr_ptr, tt.tr_to,
                   tt.tr_time, egr_s, egr_t, prune, *ws.arrays())
    return (ws.tau[:used], ws.best, ws.p_kind[:used], ws.p_from[:used], ws.p_pat[:used], ws.p_trip[:used],
            ws.p_bpos[:used], ws.p_apos[:used])


def journey(tt: Timetable, origin: tuple[float, float], destination: tuple[float, float], depart: int,
            with_shapes: bool = False) -> Journey:
    """Earliest-arrival journey from ``origin`` to ``destination`` (lat, lon) leaving at ``depart`` (s).

    Among journeys arriving equally early, the one with fewer vehicles is returned.
    """
    acc_s, acc_t, _ = nearby_stops(tt, *origin)
    egr_s, egr_t, _ = nearby_stops(tt, *destination)
    direct = _point_distance(tt, origin, destination)
    walk_only = depart + math.ceil(walk_seconds(direct)) if direct * WALK_FACTOR <= MAX_WALK_M else None
    res = _run(tt, acc_s, acc_t, depart, egr_s, egr_t, True)
    return _best_journey(tt, res, depart, origin, destination, egr_s, egr_t, walk_only, with_shapes)


def _best_journey(tt, res, depart, origin, destination, egr_s, egr_t, walk_only, with_shapes) -> Journey:
    t, k, s, e = _pick(res[0], egr_s, egr_t)
    best_t, best_k, best_s, best_e = walk_only, 0, -1, 0
    if t < INF and (walk_only is None or t < walk_only):
        best_t, best_k, best_s, best_e = int(t), int(k), int(s), int(e)
    if best_t is None:
        return Journey(depart, None, 0, 0.0, [])
    if best_s < 0:
        leg = Leg("walk", "origin", "destination", depart, best_t, from_lat=origin[0], from_lon=origin[1],
                  to_lat=destination[0], to_lon=destination[1])
        return Journey(depart, best_t, 0, float(best_t - depart), [leg])
    legs = _reconstruct(tt, res, best_k, best_s, origin, depart, with_shapes)
    last = legs[-1].arrive if legs else depart
    legs.append(Leg("walk", tt.stop_names[best_s], "destination", last, last + best_e,
                    from_lat=tt.stop_lat[best_s], from_lon=tt.stop_lon[best_s], to_lat=destination[0], to_lon=destination[1]))
    legs = [leg for leg in legs if not (leg.mode == "walk" and leg.arrive == leg.depart and leg.from_name != "origin"
                                        and leg.to_name != "destination")]
    walk = sum(leg.arrive - leg.depart for leg in legs if leg.mode == "walk")
    vehicles = sum(1 for leg in legs if leg.mode == "ride")
    return Journey(depart, best_t, vehicles, float(walk), legs)


def _leg_shape(tt: Timetable, gtrip: int, board: int, alight: int) -> list[tuple[float, float]] | None:
    """The part of the trip's shape (shapes.txt) between the boarding and alighting stops, or None."""
    shape_id = tt.trip_shape[gtrip]
    if tt.shapes is None or not shape_id:
        return None
    pts = tt.shapes[tt.shapes["shape_id"] == shape_id].sort_values("shape_pt_sequence")
    if len(pts) < 2:
        return None
    lat, lon = pts["shape_pt_lat"].to_numpy(float), pts["shape_pt_lon"].to_numpy(float)
    x, y = _project(lat, lon, tt.lat0)
    i = int(np.argmin(np.hypot(x - tt.stop_x[board], y - tt.stop_y[board])))
    j = int(np.argmin(np.hypot(x - tt.stop_x[alight], y - tt.stop_y[alight])))
    if j <= i:
        return None
    return list(zip(lat[i:j + 1].tolist(), lon[i:j + 1].tolist()))


@nb.njit(cache=True)
def _pick(tau, egr_s, egr_t):
    """Earliest arrival at the destination over rounds >= 1 (fewest rounds on ties)."""
    best, bk, bs, be = INF, 0, -1, 0
    for k in range(1, tau.shape[0]):
        for i in range(len(egr_s)):
            a = tau[k, egr_s[i]]
            if a < INF and a + egr_t[i] < best:
                best, bk, bs, be = a + egr_t[i], k, egr_s[i], egr_t[i]
    return best, bk, bs, be


def _reconstruct(tt: Timetable, res, k: int, s: int, origin, depart: int, with_shapes: bool) -> list[Leg]:
    tau, _best, p_kind, p_from, p_pat, p_trip, p_bpos, p_apos = res
    legs: list[Leg] = []
    while k >= 0:
        kind = p_kind[k, s]
        if kind == KIND_ACCESS:
            legs.append(Leg("walk", "origin", tt.stop_names[s], depart, int(tau[0, s]), from_lat=origin[0],
                            from_lon=origin[1], to_lat=tt.stop_lat[s], to_lon=tt.stop_lon[s]))
            break
        if kind == KIND_WALK:
            f = int(p_from[k, s])
            legs.append(Leg("walk", tt.stop_names[f], tt.stop_names[s], int(tau[k, f]), int(tau[k, s]),
                            from_lat=tt.stop_lat[f], from_lon=tt.stop_lon[f], to_lat=tt.stop_lat[s], to_lon=tt.stop_lon[s]))
            s = f
            continue
        if kind == KIND_RIDE:
            p, trip, bpos, apos = int(p_pat[k, s]), int(p_trip[k, s]), int(p_bpos[k, s]), int(p_apos[k, s])
            nstop = tt.pat_stops_ptr[p + 1] - tt.pat_stops_ptr[p]
            base = tt.pat_st_ptr[p]
            b = int(p_from[k, s])
            gtrip = int(tt.pat_trips[tt.pat_trip_ptr[p] + trip])
            leg = Leg("ride", tt.stop_names[b], tt.stop_names[s], int(tt.dep[base + trip * nstop + bpos]),
                      int(tt.arr[base + trip * nstop + apos]), route=str(tt.trip_route_label[gtrip]),
                      trip_id=str(tt.trip_ids[gtrip]), from_stop=str(tt.stop_ids[b]), to_stop=str(tt.stop_ids[s]),
                      from_lat=tt.stop_lat[b], from_lon=tt.stop_lon[b], to_lat=tt.stop_lat[s], to_lon=tt.stop_lon[s])
            if with_shapes:
                leg.shape = _leg_shape(tt, gtrip, b, s)
                if leg.shape is None:  # no shapes.txt for this trip: the line through its stops
                    pos = tt.pat_stops[tt.pat_stops_ptr[p] + bpos: tt.pat_stops_ptr[p] + apos + 1]
                    leg.shape = list(zip(tt.stop_lat[pos].tolist(), tt.stop_lon[pos].tolist()))
            legs.append(leg)
            s = b
            k -= 1
            continue
        break
    legs.reverse()
    return legs


@nb.njit(cache=True)
def _query(ox, oy, dx, dy, depart, max_rounds, stop_x, stop_y, pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr,
           arr, dep, stop_pat_ptr, stop_pat, stop_pat_pos, tr_ptr, tr_to, tr_time,
           g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops,
           tau, best, p_kind, p_from, p_pat, p_trip, p_bpos, p_apos,
           is_marked, marked, rode, first_pos, queue, touched, is_touched, egress_walk, state):
    """Snapping, RAPTOR and the best arrival in one compiled call: (arrival or INF, vehicles, walking s)."""
    reach = MAX_WALK_M / WALK_FACTOR
    acc_s, acc_t = _nearby(stop_x, stop_y, ox, oy, reach, WALK_FACTOR, WALK_SPEED,
                           g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops)
    egr_s, egr_t = _nearby(stop_x, stop_y, dx, dy, reach, WALK_FACTOR, WALK_SPEED,
                           g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops)
    used = _raptor(acc_s, acc_t, depart, max_rounds, pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr,
                   arr, dep, stop_pat_ptr, stop_pat, stop_pat_pos, tr_ptr, tr_to, tr_time, egr_s, egr_t, True,
                   tau, best, p_kind, p_from, p_pat, p_trip, p_bpos, p_apos,
                   is_marked, marked, rode, first_pos, queue, touched, is_touched, egress_walk, state)
    t, k, s, e = _pick(tau[:used], egr_s, egr_t)
    direct = math.sqrt((ox - dx) ** 2 + (oy - dy) ** 2)
    if direct * WALK_FACTOR <= MAX_WALK_M:
        w = depart + math.ceil(direct * WALK_FACTOR / WALK_SPEED)
        if w <= t:
            return w, 0, w - depart
    if t >= INF:
        return t, 0, 0
    vehicles = k
    walk = e  # to the destination, then back along the parents
    while True:
        kind = p_kind[k, s]
        if kind == KIND_ACCESS:
            walk += tau[0, s] - depart
            break
        if kind == KIND_WALK:
            f = p_from[k, s]
            walk += tau[k, s] - tau[k, f]
            s = f
        elif kind == KIND_RIDE:
            s = p_from[k, s]
            k -= 1
        else:
            break
    return t, vehicles, walk


def earliest_arrival(tt: Timetable, origin: tuple[float, float], destination: tuple[float, float],
                     depart: int) -> tuple[int | None, int, int]:
    """Arrival time (s, None when unreachable), vehicles and walking seconds of the journey that
    :func:`journey` returns, without building its legs (fast path)."""
    ox, oy = _xy(origin[0], origin[1], tt.lat0)
    dx, dy = _xy(destination[0], destination[1], tt.lat0)
    t, k, walk = _query(ox, oy, dx, dy, int(depart), MAX_ROUNDS, *tt.query_arrays(MAX_ROUNDS))
    return (None if t >= INF else int(t)), int(k), int(walk)


def journey_range(tt: Timetable, origin, destination, start: int, end: int, step: int = 60) -> pd.DataFrame:
    """Journeys for every departure from ``start`` to ``end`` (s) every ``step`` s.

    Columns: ``depart`` (s), ``arrival`` (s or NaN), ``minutes``, ``vehicles``, ``walk_minutes``.
    """
    rows = []
    for t in range(int(start), int(end) + 1, int(step)):
        j = journey(tt, origin, destination, t)
        rows.append({"depart": t, "arrival": np.nan if j.arrival is None else j.arrival,
                     "minutes": np.nan if j.minutes is None else j.minutes, "vehicles": j.vehicles,
                     "walk_minutes": j.walk_minutes})
    return pd.DataFrame(rows)


def summarise_range(frame: pd.DataFrame) -> dict:
    """Best, median and worst minutes across the window (None when no departure reaches)."""
    m = frame["minutes"].dropna()
    if m.empty:
        return {"best": None, "median": None, "worst": None, "departures": len(frame), "reached": 0}
    return {"best": round(float(m.min()), 2), "median": round(float(m.median()), 2), "worst": round(float(m.max()), 2),
            "departures": len(frame), "reached": int(len(m))}


# --------------------------------------------------------------------------- one-to-many

def egress_matrix(tt: Timetable, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For destinations (``lat``, ``lon``): flattened (destination, stop, walk seconds) within walking range."""
    x, y = _project(points["lat"].to_numpy(float), points["lon"].to_numpy(float), tt.lat0)
    ds, ss, ws = [], [], []
    for i in range(len(points)):
        d = np.hypot(tt.stop_x - x[i], tt.stop_y - y[i])
        idx = np.flatnonzero(d * WALK_FACTOR <= MAX_WALK_M)
        ds.append(np.full(len(idx), i))
        ss.append(idx)
        ws.append(np.ceil(walk_seconds(d[idx])).astype(np.int64))
    if not ds:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ds).astype(np.int64), np.concatenate(ss).astype(np.int64), np.concatenate(ws)


@nb.njit(cache=True)
def _destinations(tau, ds, ss, ws, n):
    """Earliest arrival (s, inf when unreachable) at each destination over rounds >= 1, and its round."""
    arrival = np.full(n, np.inf)
    vehicles = np.zeros(n, np.int64)
    for k in range(1, tau.shape[0]):
        for i in range(len(ds)):
            a = tau[k, ss[i]]
            if a < INF and a + ws[i] < arrival[ds[i]]:
                arrival[ds[i]] = a + ws[i]
                vehicles[ds[i]] = k
    return arrival, vehicles


def _one_to_many_arrays(tt: Timetable, origin, dest_x, dest_y, depart: int, egress) -> tuple[np.ndarray, np.ndarray]:
    """Arrival (s, inf unreachable) and vehicles per destination, as arrays."""
    acc_s, acc_t, ox = nearby_stops(tt, *origin)
    oy = math.radians(origin[0]) * 6_371_000
    ds, ss, ws = egress
    res = _run(tt, acc_s, acc_t, depart, np.zeros(0, np.int64), np.zeros(0, np.int64), False)
    arrival, vehicles = _destinations(res[0], ds, ss, ws, len(dest_x))
    direct = np.hypot(dest_x - ox, dest_y - oy)
    walk_arr = depart + np.ceil(walk_seconds(direct))
    use_walk = (direct * WALK_FACTOR <= MAX_WALK_M) & (walk_arr <= arrival)
    arrival[use_walk] = walk_arr[use_walk]
    vehicles[use_walk] = 0
    return arrival, vehicles


def one_to_many(tt: Timetable, origin: tuple[float, float], destinations: pd.DataFrame, depart: int,
                egress=None) -> pd.DataFrame:
    """Earliest arrival from one origin to every destination (one RAPTOR run, no target pruning).

    Columns: ``arrival`` (s, NaN unreachable), ``minutes``, ``vehicles`` (rounds used by the best).
    """
    egress = egress if egress is not None else egress_matrix(tt, destinations)
    dx, dy = _project(destinations["lat"].to_numpy(float), destinations["lon"].to_numpy(float), tt.lat0)
    arrival, vehicles = _one_to_many_arrays(tt, origin, dx, dy, depart, egress)
    out = pd.DataFrame({"arrival": np.where(np.isinf(arrival), np.nan, arrival)}, index=destinations.index)
    out["minutes"] = (out["arrival"] - depart) / 60
    out["vehicles"] = np.where(np.isinf(arrival), 0, vehicles)
    return out


def nearest_service(tt: Timetable, schools: pd.DataFrame, services: pd.DataFrame, start: int, end: int,
                    step: int = 300, progress=None) -> pd.DataFrame:
    """For each school (``lat``, ``lon``): the service reached soonest, and minutes best/median/worst
    over departures from ``start`` to ``end`` every ``step`` s (the service is the one with the best
    median; best/worst are that service's). Also ``vehicles`` and ``walk_minutes`` of the median-time
    departure's journey, and ``two_plus`` (two or more vehicles).
    """
    egress = egress_matrix(tt, services)
    dx, dy = _project(services["lat"].to_numpy(float), services["lon"].to_numpy(float), tt.lat0)
    departs = list(range(int(start), int(end) + 1, int(step)))
    rows = []
    for i, (idx, sc) in enumerate(schools.iterrows()):
        mins = np.vstack([(_one_to_many_arrays(tt, (sc["lat"], sc["lon"]), dx, dy, t, egress)[0] - t) / 60
                          for t in departs])  # departures x services (inf: unreachable)
        med = np.median(mins, axis=0)  # an unreachable departure counts as the longest
        if np.all(np.isinf(med)):
            rows.append({"school_index": idx, "service_index": None, "best": np.nan, "median": np.nan, "worst": np.nan,
                         "vehicles": None, "walk_minutes": np.nan, "two_plus": False})
        else:
            j = int(np.argmin(med))
            col = mins[:, j]
            ok = col[np.isfinite(col)]
            t_med = departs[int(np.argmin(np.abs(col - np.median(ok))))]
            jr = journey(tt, (sc["lat"], sc["lon"]), (services.iloc[j]["lat"], services.iloc[j]["lon"]), t_med)
            rows.append({"school_index": idx, "service_index": services.index[j], "best": float(ok.min()),
                         "median": float(med[j]), "worst": float(col.max()),
                         "vehicles": jr.vehicles, "walk_minutes": jr.walk_minutes, "two_plus": jr.vehicles >= 2})
        if progress is not None:
            progress((i + 1) / len(schools))
    return pd.DataFrame(rows)

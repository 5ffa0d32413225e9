"""Scheduled public-transport journeys: RAPTOR (Delling, Pajor, Werneck 2012), compiled with numba.

Walking rules (shown in the UI):

* walking distance = straight-line distance x 1.3, at 1.33 m/s;
* walking from the origin to a stop, from a stop to the destination, and between two stops
  to change is at most 800 m (walking distance) each;
* walks are never chained: a change walk, and the walk to the destination, start at the stop
  where a vehicle was left;
* a change needs no buffer beyond its walk (boarding at the stop you alighted is allowed
  when the next departure is at or after the arrival);
* walking all the way is allowed when it is within 800 m.

Rounds are vehicles boarded: round k arrivals use at most k vehicles. Times are seconds
after midnight of the service day (past 24:00:00 allowed). A timetable is built for one
service day from a :class:`~civicdata.transit.gtfs.Feed`, with the stops vehicles call at that day;
trips of one stop sequence that overtake each other are split into separate patterns so that
every pattern is FIFO. Points are placed on an equirectangular projection around the feed's
mean latitude (distance error under 3% within about 1 degree of latitude of it).
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import date

import numba as nb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from numba.core import types as nb_types
from numba.experimental import structref

from civicdata.errors import Problem, ProblemsError
from civicdata.transit.gtfs import Feed, no_service_message, services_on

WALK_FACTOR = 1.3
WALK_SPEED = 1.33  # m/s
MAX_WALK_M = 800.0  # walking distance (after the factor)
MAX_ROUNDS = 8
INF = np.int64(2**40)
_NO_ARRIVAL = int(INF)  # compared with Python ints (a numpy scalar comparison costs three times as much)
WALKING_RULES = (f"straight-line distance × {WALK_FACTOR} at {WALK_SPEED} m/s; at most {MAX_WALK_M:.0f} m of walking "
                 "to the first stop, from the last stop, and for each change; walks are never chained; a change needs "
                 f"no buffer beyond its walk; walking all the way is allowed within {MAX_WALK_M:.0f} m")

KIND_NONE, KIND_ACCESS, KIND_RIDE, KIND_WALK = 0, 1, 2, 3  # how a stop's arrival was made

#: the longest journey counted, door to door, waiting for the first vehicle included (minutes): a journey that
#: arrives later counts as "no journey within 120 minutes" (r5py's max_time defaults to two hours, too)
DEFAULT_MAX_MINUTES = 120


def cap_rule(max_minutes: float | None = DEFAULT_MAX_MINUTES) -> str:
    """The journey cap in words, as the page, the CLI, the layer and the README state it."""
    if max_minutes is None:
        return "No cap: a journey counts however long it takes, waiting included."
    return (f"A journey counts only when it arrives within {max_minutes:g} minutes of leaving (door to door, waiting "
            f"for the first vehicle included); a longer one counts as “no journey within {max_minutes:g} minutes”.")


def _over_cap(depart: int, arrival: int | None, max_minutes: float | None) -> bool:
    return arrival is not None and max_minutes is not None and arrival - depart > max_minutes * 60


@structref.register
class _QueryArraysType(nb_types.StructRef):
    def preprocess_fields(self, fields):
        return tuple((name, nb_types.unliteral(t)) for name, t in fields)


class QueryArrays(structref.StructRefProxy):
    """A timetable's arrays and one thread's workspace arrays in one object for compiled code.

    Passed as one argument, it is unboxed once per call: its arrays passed one by one (39 then) cost
    about 2.5 µs per query, more than a tenth of a typical journey query.
    Fields: :data:`_QUERY_FIELDS` (the timetable's arrays, its stop grid, then the workspace's).
    """


_QUERY_FIELDS = ("stop_x", "stop_y", "pat_stops_ptr", "pat_stops", "pat_ntrips", "pat_st_ptr", "arr", "dep",
                 "stop_pat_ptr", "stop_pat", "stop_pat_pos", "stop_pat_last", "tr_ptr", "tr_walk",
                 "g_x0", "g_y0", "g_cell", "g_nx", "g_ny", "g_ptr", "g_stops",
                 "tau", "best", "kind", "walk_from", "ride", "best_ride", "ride_from", "is_marked", "marked",
                 "is_rode", "rode", "first_pos", "last_pos", "queue", "touched", "is_touched", "egress_walk", "state",
                 "near_s", "near_t")
structref.define_proxy(QueryArrays, _QueryArraysType, list(_QUERY_FIELDS))


@nb.njit(cache=True)
def _pack_query_arrays(stop_x, stop_y, pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr, arr, dep,
                       stop_pat_ptr, stop_pat, stop_pat_pos, stop_pat_last, tr_ptr, tr_walk,
                       g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops,
                       tau, best, kind, walk_from, ride, best_ride, ride_from, is_marked, marked,
                       is_rode, rode, first_pos, last_pos, queue, touched, is_touched, egress_walk, state,
                       near_s, near_t):
    """(Built in compiled code, from the numba cache: the proxy's own constructor compiles at first use.)"""
    return QueryArrays(stop_x, stop_y, pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr, arr, dep,
                       stop_pat_ptr, stop_pat, stop_pat_pos, stop_pat_last, tr_ptr, tr_walk,
                       g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops,
                       tau, best, kind, walk_from, ride, best_ride, ride_from, is_marked, marked,
                       is_rode, rode, first_pos, last_pos, queue, touched, is_touched, egress_walk, state,
                       near_s, near_t)


class NoServiceError(ProblemsError):
    """The feed has no trips running on the chosen day."""


def walk_seconds(distance_m: np.ndarray | float) -> np.ndarray | float:
    """Walking time (s) for a straight-line distance (m): x 1.3 at 1.33 m/s."""
    return np.asarray(distance_m) * WALK_FACTOR / WALK_SPEED


def pack_walks(to_stop: np.ndarray, seconds: np.ndarray) -> np.ndarray:
    """Change walks as one int64 each, ``seconds << 32 | to_stop``: a walk's time and the stop it
    reaches in one 8-byte word, so that the walks from a stop span half the cache lines that two
    arrays would (reading them was a quarter of a Newport query's time; packed, queries are ~6% faster)."""
    return (np.asarray(seconds, np.int64) << 32) | np.asarray(to_stop, np.int64)


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
    stop_pat_last: np.ndarray  # departure of the pattern's last trip from the stop (s): nothing to board after it
    tr_ptr: np.ndarray
    tr_walk: np.ndarray  # change walks from each stop, nearest first: see pack_walks
    trip_ids: np.ndarray
    trip_route_label: np.ndarray
    trip_shape: np.ndarray
    grid: StopGrid | None = field(default=None, repr=False)
    n_trips_day: int = 0
    shapes: pd.DataFrame | None = field(default=None, repr=False)
    route_colours: dict = field(default_factory=dict, repr=False)  # route label -> "#RRGGBB" (routes.txt route_color)
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
            self._local.query_arrays = self._local.query_call = None
        return ws

    def query_arrays(self, rounds: int) -> QueryArrays:
        """The timetable's and this thread's workspace arrays as the one object the compiled one-pair
        query takes (kept per thread)."""
        args = getattr(self._local, "query_arrays", None)
        if args is None or self._local.ws.tau.shape[0] <= rounds:
            ws = self.workspace(rounds)
            args = _pack_query_arrays(self.stop_x, self.stop_y, self.pat_stops_ptr, self.pat_stops, self.pat_ntrips,
                                      self.pat_st_ptr, self.arr, self.dep, self.stop_pat_ptr, self.stop_pat,
                                      self.stop_pat_pos, self.stop_pat_last, self.tr_ptr, self.tr_walk,
                                      *_grid_args(self),
                                      *ws.arrays(), ws.near_s, ws.near_t)
            self._local.query_arrays = args
        return args

    def query_call(self) -> tuple:
        """(compiled one-pair query, its :class:`QueryArrays` for :data:`MAX_ROUNDS`) for this thread,
        kept: see :func:`_entry_point`."""
        call = getattr(self._local, "query_call", None)
        if call is None:
            q = self.query_arrays(MAX_ROUNDS)
            call = self._local.query_call = (_entry_point(q), q)
        return call


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
    """RAPTOR work arrays, kept between queries. Every stop a query writes is listed in ``touched``
    and reset at the start of the next query, so no query pays for clearing the whole network.

    Two labels per round and stop: ``tau`` is the earliest arrival by any means (where the next
    vehicle can be boarded), ``ride`` the earliest arrival by getting off a vehicle there (where a
    change walk or the walk to the destination may start).
    """

    tau: np.ndarray  # [round, stop] arrival (s), INF when not improved in that round
    best: np.ndarray  # [stop] best ``tau`` over all rounds
    kind: np.ndarray  # [round, stop] how ``tau`` was reached: KIND_ACCESS, KIND_RIDE or KIND_WALK
    walk_from: np.ndarray  # [round, stop] for KIND_WALK: the stop whose ``ride`` label the walk starts from
    ride: np.ndarray  # [round, stop] arrival (s) getting off a vehicle, INF when not improved in that round
    best_ride: np.ndarray  # [stop] best ``ride`` over all rounds
    ride_from: np.ndarray  # [round, stop, 5] boarding stop, pattern, trip (in pattern), boarding and alighting position
    is_marked: np.ndarray
    marked: np.ndarray
    is_rode: np.ndarray
    rode: np.ndarray
    first_pos: np.ndarray  # [pattern] earliest marked position, -1 when not queued
    last_pos: np.ndarray  # [pattern] latest marked position
    queue: np.ndarray
    touched: np.ndarray  # stops written by the last query
    is_touched: np.ndarray
    egress_walk: np.ndarray  # [stop] walking seconds to the destination, -1 when out of range
    state: np.ndarray  # [number touched, rounds used] by the last query
    near_s: np.ndarray  # [2, stop] stops within walking range of the origin (row 0) and the destination (row 1)
    near_t: np.ndarray  # [2, stop] their walking seconds

    @classmethod
    def allocate(cls, n_stops: int, n_patterns: int, rounds: int) -> Workspace:
        inf = lambda: np.full((rounds, n_stops), INF, np.int64)  # noqa: E731
        flags = lambda: np.zeros(n_stops, np.bool_)  # noqa: E731
        ids = lambda: np.zeros(n_stops, np.int64)  # noqa: E731
        return cls(inf(), np.full(n_stops, INF, np.int64), np.zeros((rounds, n_stops), np.int8),
                   np.zeros((rounds, n_stops), np.int32), inf(), np.full(n_stops, INF, np.int64),
                   np.zeros((rounds, n_stops, 5), np.int32), flags(), ids(), flags(), ids(),
                   np.full(n_patterns, -1, np.int64), np.zeros(n_patterns, np.int64), np.zeros(n_patterns, np.int64),
                   ids(), flags(),
                   np.full(n_stops, -1, np.int64), np.zeros(2, np.int64),
                   np.zeros((2, n_stops), np.int64), np.zeros((2, n_stops), np.int64))

    def arrays(self) -> tuple:
        """The arrays :func:`_raptor` takes, in its order."""
        return (self.tau, self.best, self.kind, self.walk_from, self.ride, self.best_ride, self.ride_from,
                self.is_marked, self.marked, self.is_rode, self.rode, self.first_pos, self.last_pos, self.queue,
                self.touched, self.is_touched, self.egress_walk, self.state)

    @property
    def rounds(self) -> int:
        """Rounds the last query used (round 0 = walking from the origin)."""
        return int(self.state[1])


# --------------------------------------------------------------------------- building

def _isin(values: pd.Series, allowed: pd.Series) -> np.ndarray:
    """Boolean mask: which ``values`` are among ``allowed`` (hashed by Arrow; ids are strings)."""
    mask = pc.is_in(pa.array(values.astype(str), type=pa.string()),
                    value_set=pa.array(allowed.astype(str), type=pa.string()).unique())
    return np.asarray(mask.fill_null(False))


def _fifo_groups(dep: np.ndarray, arr: np.ndarray) -> list[np.ndarray]:
    """Split trips (rows, already ordered by first departure) of one stop sequence into groups in
    which no trip overtakes another: each trip goes to the first group whose last trip it follows."""
    if len(dep) == 1 or (np.all(dep[1:] >= dep[:-1]) and np.all(arr[1:] >= arr[:-1])):
        return [np.arange(len(dep))]
    groups: list[list[int]] = []
    for t in range(len(dep)):
        for grp in groups:
            last = grp[-1]
            if np.all(dep[t] >= dep[last]) and np.all(arr[t] >= arr[last]):
                grp.append(t)
                break
        else:
            groups.append([t])
    return [np.asarray(g) for g in groups]


def build_timetable(feed: Feed, day: date) -> Timetable:
    """RAPTOR arrays for the trips running on ``day``. Raises :class:`NoServiceError` on an empty day."""
    services = services_on(feed, day)
    trips = feed.trips[feed.trips["service_id"].isin(services)]
    if trips.empty:
        raise NoServiceError([Problem(feed.name, no_service_message(feed, day))], "no service on that day")
    # Work on codes and numbers, not on copies of stop_times (millions of rows in a regional feed).
    all_st = feed.stop_times
    trip_all, trip_uniques = pd.factorize(all_st["trip_id"], sort=True)
    stop_all, stop_uniques = pd.factorize(all_st["stop_id"])
    located = feed.stops["stop_lat"].notna() & feed.stops["stop_lon"].notna()
    runs = _isin(pd.Series(trip_uniques), trips["trip_id"])
    has_place = _isin(pd.Series(stop_uniques), feed.stops.loc[located, "stop_id"])
    keep = runs[trip_all] & has_place[stop_all]
    keep &= np.bincount(trip_all[keep], minlength=len(trip_uniques))[trip_all] >= 2  # trips calling at 2+ stops
    if not keep.any():
        raise NoServiceError([Problem(f"{feed.name}/stop_times.txt", f"{len(trips)} trips run on "
                                      f"{day:%a %d %b %Y}, but none calls at two or more located stops: nothing to "
                                      "route")], "no usable service on that day")
    # Only stops a vehicle calls at today: walks lead to a stop to board there, and start where a vehicle was left.
    called = np.zeros(len(stop_uniques), bool)
    called[stop_all[keep]] = True
    stops = feed.stops[located & _isin(feed.stops["stop_id"], pd.Series(stop_uniques[called]))].reset_index(drop=True)
    stop_row = pd.Index(stops["stop_id"]).get_indexer(stop_uniques)  # stop code -> row of ``stops``

    # one row per call, trips numbered in trip_id order, calls in stop_sequence order
    used, tcode = np.unique(trip_all[keep], return_inverse=True)
    trip_ids = np.asarray(trip_uniques[used], dtype=object)
    order = np.lexsort((all_st["stop_sequence"].to_numpy()[keep], tcode))
    tcode = tcode[order]
    call_stop = stop_row[stop_all[keep][order]].astype(np.int64)
    call_arr = all_st["arrival_s"].to_numpy(np.int64)[keep][order]
    call_dep = all_st["departure_s"].to_numpy(np.int64)[keep][order]
    start = np.flatnonzero(np.r_[True, tcode[1:] != tcode[:-1]])
    length = np.diff(np.r_[start, len(tcode)])

    tinfo = trips.drop_duplicates("trip_id").set_index("trip_id").reindex(trip_ids)
    route_label = tinfo["route_id"].map(feed.route_labels()).fillna(tinfo["route_id"])
    trip_route_label = route_label.to_numpy(dtype=object)
    shape = tinfo["shape_id"] if "shape_id" in tinfo.columns else pd.Series("", index=tinfo.index)
    trip_shape = shape.fillna("").to_numpy(dtype=object)

    # group trips by stop sequence, then split into FIFO sub-patterns
    by_seq: dict[bytes, list[int]] = {}
    for t in range(len(start)):
        by_seq.setdefault(call_stop[start[t]:start[t] + length[t]].tobytes(), []).append(t)
    keys = sorted(by_seq, key=lambda k: (len(k), tuple(np.frombuffer(k, np.int64))))
    pat_seqs: list[np.ndarray] = []
    pat_groups: list[np.ndarray] = []
    for key in keys:
        ts = np.asarray(by_seq[key])
        n = len(key) // 8
        ts = ts[np.lexsort((ts, call_dep[start[ts]]))]  # by first departure, then trip_id
        rows = start[ts][:, None] + np.arange(n)[None, :]
        for grp in _fifo_groups(call_dep[rows], call_arr[rows]):
            pat_seqs.append(np.frombuffer(key, np.int64))
            pat_groups.append(ts[grp])

    n_pat = len(pat_seqs)
    seq_len = np.array([len(s) for s in pat_seqs], np.int64)
    pat_ntrips = np.array([len(g) for g in pat_groups], np.int64)
    pat_stops_ptr = np.r_[0, np.cumsum(seq_len)].astype(np.int64)
    pat_st_ptr = np.r_[0, np.cumsum(seq_len * pat_ntrips)].astype(np.int64)
    pat_trip_ptr = np.r_[0, np.cumsum(pat_ntrips)].astype(np.int64)
    pat_stops = np.concatenate(pat_seqs).astype(np.int64)
    pat_trips = np.concatenate(pat_groups).astype(np.int64)
    rows = np.concatenate([(start[g][:, None] + np.arange(len(s))[None, :]).ravel()
                           for s, g in zip(pat_seqs, pat_groups)])
    arr, dep = call_arr[rows], call_dep[rows]

    # stop -> (pattern, position), by stop, then pattern, then position
    sp_pat = np.repeat(np.arange(n_pat, dtype=np.int64), seq_len)
    sp_pos = np.arange(len(pat_stops), dtype=np.int64) - np.repeat(pat_stops_ptr[:-1], seq_len)
    o = np.lexsort((sp_pos, sp_pat, pat_stops))
    stop_pat_ptr = np.r_[0, np.cumsum(np.bincount(pat_stops, minlength=len(stops)))].astype(np.int64)

    lat = stops["stop_lat"].to_numpy(float)
    lon = stops["stop_lon"].to_numpy(float)
    lat0 = float(feed.stops.loc[located, "stop_lat"].mean())  # the feed's, not the day's: same distances every day
    x, y = _project(lat, lon, lat0)
    grid = StopGrid.build(x, y, MAX_WALK_M / WALK_FACTOR)
    src, dst, dist = _pairs_within(x, y, MAX_WALK_M / WALK_FACTOR, grid.x0, grid.y0, grid.cell, grid.nx, grid.ny,
                                   grid.ptr, grid.stops)
    o2 = np.lexsort((dst, dist, src))  # each stop's walks nearest first
    src, dst, dist = src[o2], dst[o2], dist[o2]
    tr_ptr = np.r_[0, np.cumsum(np.bincount(src, minlength=len(stops)))].astype(np.int64)
    tr_walk = pack_walks(dst, np.ceil(walk_seconds(dist)).astype(np.int64))
    stop_pat, stop_pat_pos = sp_pat[o], sp_pos[o]
    stop_pat_last = dep[pat_st_ptr[stop_pat] + (pat_ntrips[stop_pat] - 1) * seq_len[stop_pat] + stop_pat_pos]
    return Timetable(day, feed.name, stops["stop_id"].to_numpy(dtype=object), stops["stop_name"].to_numpy(dtype=object),
                     lat, lon, x, y, lat0, pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr, arr, dep, pat_trip_ptr,
                     pat_trips, stop_pat_ptr, stop_pat, stop_pat_pos, stop_pat_last, tr_ptr, tr_walk, trip_ids,
                     trip_route_label, trip_shape, grid, len(trip_ids), feed.shapes, _route_colours(feed))


def _route_colours(feed: Feed) -> dict[str, str]:
    """Route label -> "#RRGGBB" for the routes whose ``route_color`` is a valid hex colour."""
    if "route_color" not in feed.routes.columns:
        return {}
    labels = feed.route_labels()
    r = feed.routes.drop_duplicates("route_id")
    ok = r["route_color"].fillna("").str.fullmatch(r"[0-9A-Fa-f]{6}")
    return {str(labels.get(rid, rid)): f"#{c.upper()}" for rid, c in zip(r.loc[ok, "route_id"], r.loc[ok, "route_color"])}


# --------------------------------------------------------------------------- the algorithm

@nb.njit(cache=True)
def _raptor(access_stops, access_times, dep_time, max_rounds,
            pat_stops_ptr, pat_stops, pat_ntrips, pat_st_ptr, arr, dep,
            stop_pat_ptr, stop_pat, stop_pat_pos, stop_pat_last, tr_ptr, tr_walk,
            egress_stops, egress_times, prune, target0,
            tau, best, kind, walk_from, ride, best_ride, ride_from,
            is_marked, marked, is_rode, rode, first_pos, last_pos, queue, touched, is_touched, egress_walk, state):
    """Earliest arrivals per round into the workspace arrays (see :class:`Workspace`); the rounds
    used end up in ``state[1]`` (round 0 = walking from the origin).

    The stops the previous query wrote (``touched``) are reset first. (Flags and lists are updated
    inline rather than through helper functions: numba reference-counts arrays passed to a helper,
    which cost a fifth of the time.) Marked stops are kept in a list (not a scan of every stop),
    and only the patterns through them are scanned, from their earliest marked position that the
    pattern's last trip has not yet left. Change walks start where a vehicle was left (``ride``),
    never after another walk. With ``prune``, nothing at or after the best arrival found so far at the
    destination (getting off at one of ``egress_stops``, then walking ``egress_times``) is kept,
    nor anything at or after ``target0`` (walking all the way, INF when too far to walk).
    """
    # (kind, walk_from and ride_from are read only where tau or ride is set)
    if state[0] * 4 > len(best):  # much of the network: whole rows, contiguous, are cleared faster
        best[:] = INF
        best_ride[:] = INF
        is_touched[:] = False
        for k in range(state[1]):
            tau[k, :] = INF
            ride[k, :] = INF
    else:
        for i in range(state[0]):
            s = touched[i]
            best[s] = INF
            best_ride[s] = INF
            is_touched[s] = False
            for k in range(state[1]):
                tau[k, s] = INF
                ride[k, s] = INF
    n_touched = 0
    state[0] = 0
    state[1] = 1
    target = target0  # best arrival at the destination so far
    bound = INF  # arrivals at stops from here on are kept only if earlier: target minus the shortest walk to it
    min_egress = INF
    if prune:
        if len(egress_stops) == 0:
            return  # no stop within walking range of the destination: no journey by vehicle
        for i in range(len(egress_stops)):
            s = egress_stops[i]
            if egress_walk[s] < 0 or egress_times[i] < egress_walk[s]:
                egress_walk[s] = egress_times[i]
            min_egress = min(min_egress, egress_times[i])
        if target < INF:
            bound = target - min_egress
    n_marked = 0
    for i in range(len(access_stops)):
        s = access_stops[i]
        t = dep_time + access_times[i]
        if t < tau[0, s]:
            tau[0, s] = t
            best[s] = t
            kind[0, s] = KIND_ACCESS
            if not is_touched[s]:
                is_touched[s] = True
                touched[n_touched] = s
                n_touched += 1
            if not is_marked[s]:
                is_marked[s] = True
                marked[n_marked] = s
                n_marked += 1
    rounds = 1
    for k in range(1, max_rounds + 1):
        if n_marked == 0:
            break
        rounds = k + 1
        # the patterns through the stops improved in the previous round, from their first such stop
        n_queue = 0
        for m in range(n_marked):
            s = marked[m]
            is_marked[s] = False
            t = tau[k - 1, s]
            for j in range(stop_pat_ptr[s], stop_pat_ptr[s + 1]):
                p = stop_pat[j]
                pos = stop_pat_pos[j]
                if stop_pat_last[j] < t:
                    continue  # the pattern's last trip has left this stop: nothing to board here
                if first_pos[p] == -1:
                    queue[n_queue] = p
                    n_queue += 1
                    first_pos[p] = pos
                    last_pos[p] = pos
                elif pos < first_pos[p]:
                    first_pos[p] = pos
                elif pos > last_pos[p]:
                    last_pos[p] = pos
        n_marked = 0
        n_rode = 0
        for q in range(n_queue):
            p = queue[q]
            start = first_pos[p]
            last = last_pos[p]  # no boarding after the last stop improved in the previous round
            first_pos[p] = -1
            s0 = pat_stops_ptr[p]
            nstop = pat_stops_ptr[p + 1] - s0
            ntrip = pat_ntrips[p]
            base = pat_st_ptr[p]
            trip = -1
            board_stop = -1
            board_pos = -1
            for pos in range(start, nstop):
                s = pat_stops[s0 + pos]
                if trip >= 0:
                    a = arr[base + trip * nstop + pos]
                    if a >= bound:
                        # too late here and further on; so is every trip when the first one is (the
                        # pattern is FIFO), and no other can be boarded after the last marked stop
                        if pos > last or arr[base + pos] >= bound:
                            break
                    elif a < best_ride[s]:
                        ride[k, s] = a
                        best_ride[s] = a
                        ride_from[k, s, 0] = board_stop
                        ride_from[k, s, 1] = p
                        ride_from[k, s, 2] = trip
                        ride_from[k, s, 3] = board_pos
                        ride_from[k, s, 4] = pos
                        if not is_touched[s]:
                            is_touched[s] = True
                            touched[n_touched] = s
                            n_touched += 1
                        if not is_rode[s]:
                            is_rode[s] = True
                            rode[n_rode] = s
                            n_rode += 1
                        if egress_walk[s] >= 0 and a + egress_walk[s] < target:
                            target = a + egress_walk[s]
                            bound = target - min_egress
                        if a < best[s]:
                            tau[k, s] = a
                            best[s] = a
                            kind[k, s] = KIND_RIDE
                            if not is_marked[s]:
                                is_marked[s] = True
                                marked[n_marked] = s
                                n_marked += 1
                elif pos > last:
                    break
                elif arr[base + pos] >= bound:
                    break  # even the pattern's first trip arrives here (and further on) too late
                prev = tau[k - 1, s]
                # an earlier trip than the one ridden only if the one before it can be caught here
                # (not yet boarded: only when the pattern's last trip can be caught here)
                if prev < INF and ((trip < 0 and prev <= dep[base + (ntrip - 1) * nstop + pos])
                                   or (trip > 0 and prev <= dep[base + (trip - 1) * nstop + pos])):
                    lo = 0
                    hi = ntrip - 1 if trip < 0 else trip - 1
                    while lo < hi:
                        mid = (lo + hi) >> 1
                        if dep[base + mid * nstop + pos] >= prev:
                            hi = mid
                        else:
                            lo = mid + 1
                    trip = lo
                    board_stop = s
                    board_pos = pos
        # change walks from the stops where a vehicle was left this round (walks nearest first)
        for r in range(n_rode):
            s = rode[r]
            is_rode[s] = False
            ts = ride[k, s]
            for j in range(tr_ptr[s], tr_ptr[s + 1]):
                w = tr_walk[j]
                t = ts + (w >> 32)
                if t >= bound:
                    break
                u = w & 0xFFFFFFFF
                if t < best[u]:
                    tau[k, u] = t
                    best[u] = t
                    kind[k, u] = KIND_WALK
                    walk_from[k, u] = s
                    if not is_touched[u]:
                        is_touched[u] = True
                        touched[n_touched] = u
                        n_touched += 1
                    if not is_marked[u]:
                        is_marked[u] = True
                        marked[n_marked] = u
                        n_marked += 1
    for m in range(n_marked):  # stops improved in the last round allowed
        is_marked[marked[m]] = False
    for i in range(len(egress_stops)):
        egress_walk[egress_stops[i]] = -1
    state[0] = n_touched
    state[1] = rounds


@nb.njit(cache=True)
def _raptor_on(q, access_stops, access_times, dep_time, max_rounds, egress_stops, egress_times, prune, target0):
    """:func:`_raptor` on a timetable's :class:`QueryArrays` (the one place its arrays are listed)."""
    _raptor(access_stops, access_times, dep_time, max_rounds, q.pat_stops_ptr, q.pat_stops, q.pat_ntrips,
            q.pat_st_ptr, q.arr, q.dep, q.stop_pat_ptr, q.stop_pat, q.stop_pat_pos, q.stop_pat_last, q.tr_ptr,
            q.tr_walk, egress_stops, egress_times, prune, target0, q.tau, q.best, q.kind, q.walk_from, q.ride,
            q.best_ride, q.ride_from, q.is_marked, q.marked, q.is_rode, q.rode, q.first_pos, q.last_pos, q.queue,
            q.touched, q.is_touched, q.egress_walk, q.state)


@nb.njit(cache=True)
def _pick(ride, rounds, egr_s, egr_t):
    """Earliest arrival at the destination (getting off at an egress stop, then walking), over
    rounds 1..rounds-1, fewest rounds on ties: (arrival or INF, round, stop, walk seconds)."""
    best, bk, bs, be = INF, 0, -1, 0
    for k in range(1, rounds):
        for i in range(len(egr_s)):
            a = ride[k, egr_s[i]]
            if a < INF and a + egr_t[i] < best:
                best, bk, bs, be = a + egr_t[i], k, egr_s[i], egr_t[i]
    return best, bk, bs, be


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
    """A journey result. ``arrival`` is None when no journey exists within the cap; ``beyond_cap_minutes``
    then holds the minutes of the earliest journey found that was longer than ``max_minutes`` (None when there
    is none in the feed at all)."""

    departure: int
    arrival: int | None
    vehicles: int
    walk_seconds: float
    legs: list[Leg]
    max_minutes: float | None = None
    beyond_cap_minutes: float | None = None

    @property
    def minutes(self) -> float | None:
        return None if self.arrival is None else (self.arrival - self.departure) / 60

    @property
    def walk_minutes(self) -> float:
        return self.walk_seconds / 60

    @property
    def words(self) -> str:
        """"no journey within 120 minutes" (one exists, longer) or "no journey found in this feed"; "" when found."""
        if self.arrival is not None:
            return ""
        if self.beyond_cap_minutes is not None:
            return (f"no journey within {self.max_minutes:g} minutes (the earliest takes "
                    f"{self.beyond_cap_minutes:.0f} minutes, waiting included)")
        return "no journey found in this feed (which is not the same as no bus)"

    def to_dict(self) -> dict:
        return {"departure": hhmmss(self.departure), "arrival": None if self.arrival is None else hhmmss(self.arrival),
                "minutes": None if self.minutes is None else round(self.minutes, 2), "vehicles": self.vehicles,
                "walk_minutes": round(self.walk_minutes, 2), "legs": [leg.to_dict() for leg in self.legs],
                "max_minutes": self.max_minutes,
                "beyond_cap_minutes": None if self.beyond_cap_minutes is None else round(self.beyond_cap_minutes, 2)}


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
def _cells(x, y, reach, g_x0, g_y0, g_cell, g_nx, g_ny):
    """The grid cells overlapping the square of side 2 x ``reach`` around (x, y): ix0, ix1, iy0, iy1
    (empty when ix1 < ix0 or iy1 < iy0)."""
    ix0 = max(0, int(math.floor((x - reach - g_x0) / g_cell)))
    ix1 = min(g_nx - 1, int(math.floor((x + reach - g_x0) / g_cell)))
    iy0 = max(0, int(math.floor((y - reach - g_y0) / g_cell)))
    iy1 = min(g_ny - 1, int(math.floor((y + reach - g_y0) / g_cell)))
    return ix0, ix1, iy0, iy1


@nb.njit(cache=True)
def _nearby_into(stop_x, stop_y, x, y, max_straight, factor, speed, g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops,
                 out_s, out_t):
    """Stops within ``max_straight`` metres of (x, y) into ``out_s`` in stop order, their walking
    seconds into ``out_t``; returns how many. Only the grid cells overlapping the walking range are
    looked at. (No allocation: the one-pair query fills workspace rows.)"""
    ix0, ix1, iy0, iy1 = _cells(x, y, max_straight, g_x0, g_y0, g_cell, g_nx, g_ny)
    n = 0
    if iy1 < iy0:
        return 0
    for ix in range(ix0, ix1 + 1):
        for j in range(g_ptr[ix * g_ny + iy0], g_ptr[ix * g_ny + iy1 + 1]):
            i = g_stops[j]
            dx = stop_x[i] - x
            dy = stop_y[i] - y
            d = math.sqrt(dx * dx + dy * dy)
            if d <= max_straight:
                t = math.ceil(d * factor / speed)
                m = n  # insertion into stop order (cells hold few stops, each run already in order)
                while m > 0 and out_s[m - 1] > i:
                    out_s[m] = out_s[m - 1]
                    out_t[m] = out_t[m - 1]
                    m -= 1
                out_s[m] = i
                out_t[m] = t
                n += 1
    return n


@nb.njit(cache=True)
def _nearby(stop_x, stop_y, x, y, max_straight, factor, speed, g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops):
    """Stops within ``max_straight`` metres of (x, y), in stop order, and their walking seconds."""
    ix0, ix1, iy0, iy1 = _cells(x, y, max_straight, g_x0, g_y0, g_cell, g_nx, g_ny)
    size = 0
    if iy1 >= iy0:
        for ix in range(ix0, ix1 + 1):
            size += g_ptr[ix * g_ny + iy1 + 1] - g_ptr[ix * g_ny + iy0]
    idx = np.empty(size, np.int64)
    secs = np.empty(size, np.int64)
    n = _nearby_into(stop_x, stop_y, x, y, max_straight, factor, speed, g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops,
                     idx, secs)
    return idx[:n], secs[:n]


@nb.njit(cache=True)
def _pairs_within(stop_x, stop_y, radius, g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops):
    """All pairs (i, j), i != j, of stops at most ``radius`` metres apart, found through the stop
    grid: (i, j, distance in metres)."""
    count = 0
    for twice in range(2):  # count, then fill
        if twice:
            src = np.empty(count, np.int64)
            dst = np.empty(count, np.int64)
            dist = np.empty(count, np.float64)
            count = 0
        for i in range(len(stop_x)):
            ix0, ix1, iy0, iy1 = _cells(stop_x[i], stop_y[i], radius, g_x0, g_y0, g_cell, g_nx, g_ny)
            if iy1 < iy0:
                continue
            for ix in range(ix0, ix1 + 1):
                for j in range(g_ptr[ix * g_ny + iy0], g_ptr[ix * g_ny + iy1 + 1]):
                    u = g_stops[j]
                    d = math.hypot(stop_x[i] - stop_x[u], stop_y[i] - stop_y[u])
                    if u != i and d <= radius:
                        if twice:
                            src[count] = i
                            dst[count] = u
                            dist[count] = d
                        count += 1
    return src, dst, dist


@nb.njit(cache=True)
def _xy(lat: float, lon: float, lat0: float) -> tuple[float, float]:
    """A point's projected metres (as :func:`_project`); compiled, for the one-pair query too."""
    return (math.radians(lon) * 6_371_000 * math.cos(math.radians(lat0)), math.radians(lat) * 6_371_000)


def nearby_stops(tt: Timetable, lat: float, lon: float) -> tuple[np.ndarray, np.ndarray]:
    """Stops within walking range of a point: (stop indices, walk seconds)."""
    x, y = _xy(lat, lon, tt.lat0)
    return _nearby(tt.stop_x, tt.stop_y, x, y, MAX_WALK_M / WALK_FACTOR, WALK_FACTOR, WALK_SPEED, *_grid_args(tt))


@nb.njit(cache=True)
def _walk_all_the_way(ox, oy, dx, dy, depart):
    """Arrival (s) walking from (ox, oy) to (dx, dy) (projected metres) leaving at ``depart``, or INF
    when that is over 800 m of walking. The one statement of that rule for every query."""
    direct = math.sqrt((ox - dx) ** 2 + (oy - dy) ** 2)
    if direct * WALK_FACTOR > MAX_WALK_M:
        return INF
    return depart + math.ceil(direct * WALK_FACTOR / WALK_SPEED)


@nb.njit(cache=True)
def _walk_all_the_way_to(ox, oy, dest_x, dest_y, depart):
    """:func:`_walk_all_the_way` to each destination (INF where too far)."""
    out = np.empty(len(dest_x), np.int64)
    for i in range(len(dest_x)):
        out[i] = _walk_all_the_way(ox, oy, dest_x[i], dest_y[i], depart)
    return out


def _grid_args(tt: Timetable) -> tuple:
    g = tt.grid
    return g.x0, g.y0, g.cell, g.nx, g.ny, g.ptr, g.stops


def _run(tt: Timetable, acc_s, acc_t, dep_time, egr_s, egr_t, prune: bool, rounds: int | None = None,
         beat: int | None = None) -> Workspace:
    """RAPTOR from access stops into this thread's workspace (valid until its next query); with
    ``prune``, only journeys arriving before ``beat`` (s, e.g. walking all the way) are looked for."""
    rounds = MAX_ROUNDS if rounds is None else rounds
    _raptor_on(tt.query_arrays(rounds), acc_s, acc_t, int(dep_time), rounds, egr_s, egr_t, prune,
               INF if beat is None else int(beat))
    return tt.workspace(rounds)  # the workspace those arrays belong to


def journey(tt: Timetable, origin: tuple[float, float], destination: tuple[float, float], depart: int,
            with_shapes: bool = False, max_minutes: float | None = DEFAULT_MAX_MINUTES) -> Journey:
    """Earliest-arrival journey from ``origin`` to ``destination`` (lat, lon) leaving at ``depart`` (s).

    Among journeys arriving equally early, the one with fewer vehicles is returned. One arriving more than
    ``max_minutes`` after ``depart`` is no journey (:func:`cap_rule`; ``None``: no cap): its length is kept in
    ``beyond_cap_minutes``.
    """
    j = _journey(tt, origin, destination, depart, with_shapes)
    j.max_minutes = max_minutes
    if _over_cap(depart, j.arrival, max_minutes):
        return Journey(depart, None, 0, 0.0, [], max_minutes, j.minutes)
    return j


def _journey(tt: Timetable, origin: tuple[float, float], destination: tuple[float, float], depart: int,
             with_shapes: bool = False) -> Journey:
    acc_s, acc_t = nearby_stops(tt, *origin)
    egr_s, egr_t = nearby_stops(tt, *destination)
    walk = _walk_all_the_way(*_xy(origin[0], origin[1], tt.lat0), *_xy(destination[0], destination[1], tt.lat0),
                             int(depart))
    walk_only = None if walk >= _NO_ARRIVAL else walk
    ws = _run(tt, acc_s, acc_t, depart, egr_s, egr_t, True, beat=walk_only)
    return _best_journey(tt, ws, depart, origin, destination, egr_s, egr_t, walk_only, with_shapes)


def _best_journey(tt, ws: Workspace, depart, origin, destination, egr_s, egr_t, walk_only, with_shapes) -> Journey:
    t, k, s, e = _pick(ws.ride, ws.rounds, egr_s, egr_t)
    best_t, best_k, best_s, best_e = walk_only, 0, -1, 0
    if t < INF and (walk_only is None or t < walk_only):
        best_t, best_k, best_s, best_e = int(t), int(k), int(s), int(e)
    if best_t is None:
        return Journey(depart, None, 0, 0.0, [])
    if best_s < 0:
        leg = Leg("walk", "origin", "destination", depart, best_t, from_lat=origin[0], from_lon=origin[1],
                  to_lat=destination[0], to_lon=destination[1])
        return Journey(depart, best_t, 0, float(best_t - depart), [leg])
    legs = _reconstruct(tt, ws, best_k, best_s, origin, depart, with_shapes)
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


def _ride_leg(tt: Timetable, ws: Workspace, k: int, s: int, with_shapes: bool) -> tuple[Leg, int]:
    """The vehicle leg that ends at stop ``s`` in round ``k`` (its ``ride`` label), and its boarding stop."""
    b, p, trip, bpos, apos = (int(v) for v in ws.ride_from[k, s])
    nstop = tt.pat_stops_ptr[p + 1] - tt.pat_stops_ptr[p]
    base = tt.pat_st_ptr[p]
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
    return leg, b


def _reconstruct(tt: Timetable, ws: Workspace, k: int, s: int, origin, depart: int, with_shapes: bool) -> list[Leg]:
    """Legs from the origin to getting off at stop ``s`` in round ``k``, read back along the labels."""
    legs: list[Leg] = []
    while k >= 1:
        leg, b = _ride_leg(tt, ws, k, s, with_shapes)
        legs.append(leg)
        k -= 1
        how = ws.kind[k, b]  # how the boarding stop was reached, one round earlier
        if how == KIND_ACCESS:
            legs.append(Leg("walk", "origin", tt.stop_names[b], depart, int(ws.tau[0, b]), from_lat=origin[0],
                            from_lon=origin[1], to_lat=tt.stop_lat[b], to_lon=tt.stop_lon[b]))
            break
        if how == KIND_WALK:
            f = int(ws.walk_from[k, b])
            legs.append(Leg("walk", tt.stop_names[f], tt.stop_names[b], int(ws.ride[k, f]), int(ws.tau[k, b]),
                            from_lat=tt.stop_lat[f], from_lon=tt.stop_lon[f], to_lat=tt.stop_lat[b], to_lon=tt.stop_lon[b]))
            s = f
        else:  # KIND_RIDE: stayed at the stop where the previous vehicle was left
            s = b
    legs.reverse()
    return legs


@nb.njit(cache=True)
def _query(o_lat, o_lon, d_lat, d_lon, lat0, depart, max_rounds, q):
    """Snapping, RAPTOR and the best arrival in one compiled call: (arrival or INF, vehicles, walking s).
    ``q`` is the timetable's :class:`QueryArrays`."""
    stop_x, stop_y, tau, kind, walk_from, ride, ride_from, state = (q.stop_x, q.stop_y, q.tau, q.kind, q.walk_from,
                                                                    q.ride, q.ride_from, q.state)
    g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops = q.g_x0, q.g_y0, q.g_cell, q.g_nx, q.g_ny, q.g_ptr, q.g_stops
    ox, oy = _xy(o_lat, o_lon, lat0)
    dx, dy = _xy(d_lat, d_lon, lat0)
    reach = MAX_WALK_M / WALK_FACTOR
    near_s, near_t = q.near_s, q.near_t
    n_acc = _nearby_into(stop_x, stop_y, ox, oy, reach, WALK_FACTOR, WALK_SPEED,
                         g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops, near_s[0], near_t[0])
    n_egr = _nearby_into(stop_x, stop_y, dx, dy, reach, WALK_FACTOR, WALK_SPEED,
                         g_x0, g_y0, g_cell, g_nx, g_ny, g_ptr, g_stops, near_s[1], near_t[1])
    acc_s, acc_t, egr_s, egr_t = near_s[0, :n_acc], near_t[0, :n_acc], near_s[1, :n_egr], near_t[1, :n_egr]
    w = _walk_all_the_way(ox, oy, dx, dy, depart)
    _raptor_on(q, acc_s, acc_t, depart, max_rounds, egr_s, egr_t, True, w)
    t, k, s, e = _pick(ride, state[1], egr_s, egr_t)
    if w < INF and w <= t:
        return w, 0, w - depart
    if t >= INF:
        return t, 0, 0
    vehicles = k
    walk = e  # to the destination, then back along the labels as _reconstruct does
    while k >= 1:
        b = ride_from[k, s, 0]
        k -= 1
        how = kind[k, b]
        if how == KIND_ACCESS:
            walk += tau[0, b] - depart
            break
        if how == KIND_WALK:
            s = walk_from[k, b]
            walk += tau[k, b] - ride[k, s]
        else:
            s = b
    return t, vehicles, walk


def _entry_point(q: QueryArrays):
    """:func:`_query` compiled for ``q``'s types, as a function that skips numba's per-call type
    dispatch: about 0.9 µs of the 2 µs a call from Python costs (a typical query is 18 µs). It
    converts its arguments to those types as ``float()`` and ``int()`` would (or raises TypeError), so
    it must only be given ``q`` of that type: :meth:`Timetable.query_call` keeps the two together.
    Falls back to the dispatcher should numba keep its compiled functions elsewhere."""
    sig = (nb_types.float64,) * 5 + (nb_types.int64, nb_types.int64, nb.typeof(q))
    try:
        _query.compile(sig)  # from numba's on-disk cache when there
        return _query.overloads[sig].entry_point
    except (AttributeError, KeyError):
        return _query


def earliest_arrival(tt: Timetable, origin: tuple[float, float], destination: tuple[float, float],
                     depart: int, max_minutes: float | None = DEFAULT_MAX_MINUTES) -> tuple[int | None, int, int]:
    """Arrival time (s, None when unreachable or beyond ``max_minutes``), vehicles and walking seconds of the
    journey that :func:`journey` returns, without building its legs (fast path)."""
    query, q = tt.query_call()
    t, k, walk = query(origin[0], origin[1], destination[0], destination[1], tt.lat0, int(depart), MAX_ROUNDS, q)
    if t >= _NO_ARRIVAL or _over_cap(int(depart), t, max_minutes):  # (compiled code returns Python ints)
        return None, 0, 0
    return t, k, walk


def journey_range(tt: Timetable, origin, destination, start: int, end: int, step: int = 60,
                  max_minutes: float | None = DEFAULT_MAX_MINUTES) -> pd.DataFrame:
    """Journeys for every departure from ``start`` to ``end`` (s) every ``step`` s.

    Columns: ``depart`` (s), ``arrival`` (s or NaN: none within ``max_minutes``), ``minutes``, ``vehicles``,
    ``walk_minutes``.
    """
    rows = []
    for t in range(int(start), int(end) + 1, int(step)):
        j = journey(tt, origin, destination, t, max_minutes=max_minutes)
        rows.append({"depart": t, "arrival": np.nan if j.arrival is None else j.arrival,
                     "minutes": np.nan if j.minutes is None else j.minutes, "vehicles": j.vehicles,
                     "walk_minutes": j.walk_minutes})
    return pd.DataFrame(rows)


#: how the window's statistics treat departures with no journey (within the cap)
WINDOW_RULE = ("Best and worst are over the departures that reach within the cap, and the rest are counted as not "
               "reached. The median counts a departure with no journey within the cap as the longest, so a school "
               "reached by no more than half of the departures has no median journey.")


def summarise_range(frame: pd.DataFrame) -> dict:
    """Best, median and worst minutes across the window over the departures that reach (None when none
    does); the median over reached departures only (the CLI's window; the page's nearest service counts
    unreached departures as the longest, :data:`WINDOW_RULE`)."""
    m = frame["minutes"].dropna()
    if m.empty:
        return {"best": None, "median": None, "worst": None, "departures": len(frame), "reached": 0}
    return {"best": round(float(m.min()), 2), "median": round(float(m.median()), 2), "worst": round(float(m.max()), 2),
            "departures": len(frame), "reached": int(len(m))}


# --------------------------------------------------------------------------- one-to-many

def egress_matrix(tt: Timetable, points: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """For destinations (``lat``, ``lon``): flattened (destination, stop, walk seconds) within walking range."""
    ds, ss, ws = [], [], []
    for i, (lat, lon) in enumerate(zip(points["lat"].to_numpy(float), points["lon"].to_numpy(float))):
        idx, secs = nearby_stops(tt, lat, lon)  # the stop grid, not every stop
        ds.append(np.full(len(idx), i))
        ss.append(idx)
        ws.append(secs)
    if not ds:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(ds).astype(np.int64), np.concatenate(ss).astype(np.int64), np.concatenate(ws)


@nb.njit(cache=True)
def _destinations(ride, rounds, ds, ss, ws, n):
    """Earliest arrival (s, inf when unreachable) at each destination over rounds >= 1 (getting off
    at a stop within walking range, then walking), and its round."""
    arrival = np.full(n, np.inf)
    vehicles = np.zeros(n, np.int64)
    for k in range(1, rounds):
        for i in range(len(ds)):
            a = ride[k, ss[i]]
            if a < INF and a + ws[i] < arrival[ds[i]]:
                arrival[ds[i]] = a + ws[i]
                vehicles[ds[i]] = k
    return arrival, vehicles


def _one_to_many_arrays(tt: Timetable, origin, dest_x, dest_y, depart: int, egress) -> tuple[np.ndarray, np.ndarray]:
    """Arrival (s, inf unreachable) and vehicles per destination, as arrays."""
    acc_s, acc_t = nearby_stops(tt, *origin)
    ox, oy = _xy(origin[0], origin[1], tt.lat0)
    ds, ss, ws = egress
    work = _run(tt, acc_s, acc_t, depart, np.zeros(0, np.int64), np.zeros(0, np.int64), False)
    arrival, vehicles = _destinations(work.ride, work.rounds, ds, ss, ws, len(dest_x))
    walk_arr = _walk_all_the_way_to(ox, oy, dest_x, dest_y, int(depart))
    use_walk = (walk_arr < INF) & (walk_arr <= arrival)
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


def service_targets(tt: Timetable, services: pd.DataFrame) -> tuple:
    """What :func:`departure_minutes` needs of the services (``lat``, ``lon``), made once per batch: the stops
    within walking range of each, and their projected position."""
    dx, dy = _project(services["lat"].to_numpy(float), services["lon"].to_numpy(float), tt.lat0)
    return egress_matrix(tt, services), dx, dy


def departure_minutes(tt: Timetable, origin: tuple[float, float], targets: tuple, departs: list[int],
                      max_minutes: float | None = DEFAULT_MAX_MINUTES) -> tuple[np.ndarray, np.ndarray]:
    """Minutes from ``origin`` to every service for each departure (departures x services; inf where there is
    no journey within ``max_minutes``, :func:`cap_rule`) and the vehicles of each journey."""
    egress, dx, dy = targets
    arr = [_one_to_many_arrays(tt, origin, dx, dy, t, egress) for t in departs]
    mins = np.vstack([(a - t) / 60 for (a, _v), t in zip(arr, departs)])
    mins[mins > (np.inf if max_minutes is None else float(max_minutes))] = np.inf
    return mins, np.vstack([v for _a, v in arr])


def nearest_service(tt: Timetable, schools: pd.DataFrame, services: pd.DataFrame, start: int, end: int,
                    step: int = 300, progress=None, max_minutes: float | None = DEFAULT_MAX_MINUTES) -> pd.DataFrame:
    """For each school (``lat``, ``lon``): the service reached soonest, and minutes best/median/worst
    over departures from ``start`` to ``end`` every ``step`` s (the service is the one with the best
    median; best/worst are that service's). Also ``vehicles`` and ``walk_minutes`` of the median-time
    departure's journey, and ``two_plus`` (two or more vehicles). A journey longer than ``max_minutes``
    counts as none (:func:`cap_rule`); ``departures_reached`` says how many departures reach within it.
    """
    targets = service_targets(tt, services)
    departs = list(range(int(start), int(end) + 1, int(step)))
    rows = []
    for i, (idx, sc) in enumerate(schools.iterrows()):
        mins, _vehicles = departure_minutes(tt, (sc["lat"], sc["lon"]), targets, departs, max_minutes)
        med = np.median(mins, axis=0)  # an unreachable departure counts as the longest
        if np.all(np.isinf(med)):
            rows.append({"school_index": idx, "service_index": None, "best": np.nan, "median": np.nan, "worst": np.nan,
                         "vehicles": None, "walk_minutes": np.nan, "two_plus": False, "departures_reached": 0})
        else:
            j = int(np.argmin(med))
            col = mins[:, j]
            ok = col[np.isfinite(col)]
            t_med = departs[int(np.argmin(np.abs(col - np.median(ok))))]
            jr = journey(tt, (sc["lat"], sc["lon"]), (services.iloc[j]["lat"], services.iloc[j]["lon"]), t_med,
                         max_minutes=max_minutes)
            rows.append({"school_index": idx, "service_index": services.index[j], "best": float(ok.min()),
                         "median": float(med[j]), "worst": float(ok.max()),
                         "vehicles": jr.vehicles, "walk_minutes": jr.walk_minutes, "two_plus": jr.vehicles >= 2,
                         "departures_reached": int(len(ok))})
        if progress is not None:
            progress((i + 1) / len(schools))
    return pd.DataFrame(rows)

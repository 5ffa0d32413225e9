"""Journeys at scale: every school of an area (or a region) against every service, on Dask.

One function, :func:`run_origins`, does the batch three ways with the same answer, school by school:

* ``workers=1`` (the default): in this process;
* ``workers=N`` (N > 1): a ``distributed.LocalCluster`` of N single-threaded worker processes on this machine;
* ``scheduler="tcp://HOST:PORT"``: an existing Dask cluster (its workers need this project installed, the
  feed at the same path and the timetable cache folder reachable: ``$CIVICDATA_TIMETABLE_CACHE``).

Origins go out in chunks (:data:`CHUNK`: task overhead is 0.2–1 ms, a school's window a few ms); each
worker opens the day's timetable itself from the on-disk cache (:mod:`civicdata.transit.cache`; nothing
large is pickled, and the client builds the entry first), keeps it for the following chunks and
warms the compiled router once. Results stream back as chunks finish (``progress`` is called with the
share done) and are put back in the origins' order.

Two kinds of task: ``nearest`` (:func:`civicdata.transit.raptor.nearest_service` per school: the School to clinic
table and the journey layer) and ``matrix`` (:func:`journey_matrix`: each origin's k nearest services by
median minutes, every departure).
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Callable

import numpy as np
import pandas as pd

from civicdata.transit import raptor as transit
from civicdata.transit.cache import open_timetable

CHUNK = 200


class JobCancelled(Exception):
    """The batch was cancelled (its ``cancel`` event was set); nothing was returned or saved."""
_OPEN: dict = {}  # per process: (feed path, day, cache folder) -> Timetable


def _timetable(feed: str, day: date, cache: str | None) -> transit.Timetable:
    key = (feed, day, cache)
    if key not in _OPEN:
        _OPEN.clear()  # one timetable per worker at a time: a regional one is large
        tt = open_timetable(feed, day, Path(cache) if cache else None).timetable
        transit.earliest_arrival(tt, (tt.stop_lat[0], tt.stop_lon[0]), (tt.stop_lat[-1], tt.stop_lon[-1]), 8 * 3600)
        _OPEN[key] = tt  # the compiled router is warm from here on
    return _OPEN[key]


def journey_matrix(tt: transit.Timetable, origins: pd.DataFrame, services: pd.DataFrame, departs: list[int],
                   k: int = 3, max_minutes: float | None = transit.DEFAULT_MAX_MINUTES) -> pd.DataFrame:
    """For each origin (``lat``, ``lon``): its ``k`` services with the lowest median minutes over ``departs``
    (a departure with no journey within ``max_minutes`` counts as the longest; ties by service order), and
    the minutes of every departure to each. Columns: ``origin`` (the origin's index), ``rank`` (1 = nearest),
    ``service`` (the service's index), ``depart`` (s after midnight), ``minutes`` (NaN: no journey within
    the cap), ``vehicles``. Origins with no service reached at all have no rows."""
    targets = transit.service_targets(tt, services)
    parts = []
    for idx, o in zip(origins.index, origins[["lat", "lon"]].to_numpy(float)):
        mins, veh = transit.departure_minutes(tt, (o[0], o[1]), targets, departs, max_minutes)
        med = np.median(mins, axis=0)
        order = np.argsort(med, kind="stable")[:k]
        order = order[np.isfinite(med[order])]
        for rank, j in enumerate(order, start=1):
            m = mins[:, j]
            parts.append(pd.DataFrame({"origin": idx, "rank": rank, "service": services.index[j], "depart": departs,
                                       "minutes": np.where(np.isfinite(m), m, np.nan),
                                       "vehicles": np.where(np.isfinite(m), veh[:, j], 0)}))
    cols = ["origin", "rank", "service", "depart", "minutes", "vehicles"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def _task(kind: str, feed: str, day: date, cache: str | None, origins: pd.DataFrame, services: pd.DataFrame,
          start: int, end: int, step: int, max_minutes: float | None, k: int) -> pd.DataFrame:
    """One chunk of origins, run wherever Dask put it (or here)."""
    tt = _timetable(feed, day, cache)
    if kind == "nearest":
        return transit.nearest_service(tt, origins[["lat", "lon"]], services[["lat", "lon"]], start, end, step,
                                       max_minutes=max_minutes)
    departs = list(range(int(start), int(end) + 1, int(step)))
    return journey_matrix(tt, origins, services, departs, k, max_minutes)


def run_origins(kind: str, feed: str | Path, day: date, origins: pd.DataFrame, services: pd.DataFrame, start: int,
                end: int, step: int = 300, max_minutes: float | None = transit.DEFAULT_MAX_MINUTES, k: int = 3,
                workers: int = 1, scheduler: str | None = None, chunk: int | None = None,
                progress: Callable[[float], None] | None = None, cache: str | Path | None = None,
                cancel: threading.Event | None = None) -> pd.DataFrame:
    """``kind`` ``nearest`` or ``matrix`` for every origin (see the module docstring), in this process
    (``workers=1``), on a LocalCluster of ``workers`` processes, or on the cluster at ``scheduler``. The
    result is the same whichever way it runs, in the origins' order. Setting ``cancel`` stops the batch
    between chunks (Dask's pending chunks are cancelled) with :class:`JobCancelled`."""
    if kind not in ("nearest", "matrix"):
        raise ValueError(f"kind must be 'nearest' or 'matrix' (got {kind!r})")
    if workers < 1:
        raise ValueError(f"--workers must be 1 or more (got {workers})")
    feed = str(Path(feed).resolve())
    cache = str(Path(cache).resolve()) if cache else None
    # chunks of up to CHUNK origins, small enough for some 20 progress steps on a mid-sized batch
    chunk = chunk or min(CHUNK, max(10, len(origins) // 20))
    chunks = [origins.iloc[i:i + chunk] for i in range(0, len(origins), chunk)] or [origins]
    args = (feed, day, cache)
    opts = (start, end, step, max_minutes, k)
    if workers == 1 and scheduler is None:
        done = []
        for i, c in enumerate(chunks):
            if cancel is not None and cancel.is_set():
                raise JobCancelled("cancelled")
            done.append(_task(kind, *args, c, services, *opts))
            if progress:
                progress((i + 1) / len(chunks))
        return _assemble(kind, done)
    from distributed import Client, LocalCluster, as_completed

    open_timetable(feed, day, Path(cache) if cache else None)  # build and cache it once, before the workers open it
    cluster = None
    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    client = Client(scheduler or cluster)
    try:
        svc = client.scatter(services, broadcast=True)
        futures = [client.submit(_task, kind, *args, c, svc, *opts, pure=False) for c in chunks]
        order = {f.key: i for i, f in enumerate(futures)}
        done: list = [None] * len(futures)
        for n, fut in enumerate(as_completed(futures), start=1):
            if cancel is not None and cancel.is_set():
                client.cancel(futures)
                raise JobCancelled("cancelled")
            done[order[fut.key]] = fut.result()
            if progress:
                progress(n / len(futures))
        return _assemble(kind, done)
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _assemble(kind: str, parts: list[pd.DataFrame]) -> pd.DataFrame:
    """The chunks' rows in the origins' order (``nearest``: the columns of
    :func:`civicdata.transit.raptor.nearest_service`, ``school_index`` = the origin's index)."""
    return pd.concat(parts, ignore_index=True)


class Job:
    """A batch running in a background thread (so a page stays responsive): ``progress`` (0-1), ``state``
    (``running``, ``done``, ``cancelled``, ``failed``), ``result`` or ``error``, and :meth:`cancel`."""

    def __init__(self, fn: Callable[..., pd.DataFrame], **kwargs):
        self.progress = 0.0
        self.state = "running"
        self.result: pd.DataFrame | None = None
        self.error: str | None = None
        self._cancel = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(fn, kwargs), daemon=True)
        self._thread.start()

    def _run(self, fn, kwargs) -> None:
        try:
            self.result = fn(progress=self._set, cancel=self._cancel, **kwargs)
            self.state = "done"
        except JobCancelled:
            self.state = "cancelled"
        except Exception as exc:  # noqa: BLE001 - said on the page, never a traceback
            self.error, self.state = f"{type(exc).__name__}: {exc}", "failed"

    def _set(self, share: float) -> None:
        self.progress = float(share)

    def cancel(self) -> None:
        self._cancel.set()

    def wait(self, timeout: float | None = None) -> str:
        self._thread.join(timeout)
        return self.state

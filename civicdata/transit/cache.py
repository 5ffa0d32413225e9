"""A built timetable kept on disk, so a restart, a second app server or a worker opens a feed in seconds.

The key is (the feed's sha256, the service day, the code version): a changed feed, another day or a
change to :mod:`civicdata.transit.raptor` (the code that builds timetables) gives another key, so a stale entry
is never used. Each entry is three files written atomically (temporary name, then rename), in
:func:`cache_dir`:

* ``<key>.npz`` — the RAPTOR arrays (numeric and fixed-width text arrays only: loaded without pickle);
* ``<key>.shapes.parquet`` — the feed's shapes (when it has any);
* ``<key>.json`` — what the arrays are (format version, feed name and sha256, day, the build's code
  version), the scalars, route colours, the feed's warnings, and the sha256 of the two files above.

Opening checks the JSON and both checksums before anything is used; an entry that fails any check is
deleted and rebuilt with a warning, never used.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass, fields
from datetime import date
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata import settings
from civicdata.transit import raptor as transit
from civicdata.errors import Problem
from civicdata.transit.gtfs import load_feed
from civicdata.readers import sha256_file

FORMAT = 1
#: Timetable fields stored as arrays (object arrays of text are stored as fixed-width unicode)
ARRAY_FIELDS = [f.name for f in fields(transit.Timetable)
                if f.name not in ("day", "feed_name", "lat0", "grid", "n_trips_day", "shapes", "route_colours", "_local")]
TEXT_FIELDS = ("stop_ids", "stop_names", "trip_ids", "trip_route_label", "trip_shape")
GRID_ARRAYS = ("ptr", "stops")
GRID_SCALARS = ("x0", "y0", "cell", "nx", "ny")


def cache_dir() -> Path:
    """``$CIVICDATA_TIMETABLE_CACHE``, else ``timetables/`` in the per-user data folder
    (:func:`civicdata.settings.user_data_dir`). Several servers or Dask workers can share one folder."""
    env = os.environ.get("CIVICDATA_TIMETABLE_CACHE")
    return Path(env).resolve() if env else settings.user_data_dir() / "timetables"


def feed_sha256(path: str | Path) -> str:
    """sha256 of a GTFS zip, or of a feed folder (each file's name and sha256, in name order)."""
    path = Path(path)
    if path.is_dir():
        parts = [f"{f.name}\0{sha256_file(f)}\n" for f in sorted(p for p in path.iterdir() if p.is_file())]
        return hashlib.sha256("".join(parts).encode()).hexdigest()
    return sha256_file(path)


@lru_cache(maxsize=1)
def code_version() -> str:
    """A stamp of the code that builds timetables (the transit and GTFS modules as loaded, and this format)."""
    from civicdata.transit import gtfs

    parts = [Path(transit.__file__).read_bytes(), Path(gtfs.__file__).read_bytes(), str(FORMAT).encode()]
    return hashlib.sha256(b"".join(parts)).hexdigest()[:16]


def cache_key(feed_sha: str, day: date) -> str:
    return f"{feed_sha[:32]}_{day:%Y%m%d}_{code_version()}"


@dataclass
class Opened:
    """A timetable and how it was had: ``source`` is ``cache`` or ``built``; ``warnings`` are the feed's
    (as loading it gave them), plus one about a corrupt cache entry when it had to be rebuilt."""

    timetable: transit.Timetable
    source: str
    warnings: list[Problem]
    key: str


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save(tt: transit.Timetable, key: str, feed_sha: str, warnings: list[Problem], folder: Path | None = None) -> Path:
    """Write a timetable's entry (see the module docstring); returns the JSON's path."""
    folder = folder or cache_dir()
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {}
    for name in ARRAY_FIELDS:
        a = getattr(tt, name)
        arrays[name] = a.astype(str) if name in TEXT_FIELDS else a
    for name in GRID_ARRAYS:
        arrays[f"grid_{name}"] = getattr(tt.grid, name)
    npz = folder / f"{key}.npz"
    def write_npz(p: Path) -> None:
        with open(p, "wb") as fh:
            np.savez(fh, **arrays)

    _atomic_write(npz, write_npz)
    shapes = folder / f"{key}.shapes.parquet"
    if tt.shapes is not None:
        _atomic_write(shapes, lambda p: tt.shapes.to_parquet(p, index=False))
    meta = {"format": FORMAT, "code_version": code_version(), "feed_name": tt.feed_name, "feed_sha256": feed_sha,
            "day": tt.day.isoformat(), "lat0": tt.lat0, "n_trips_day": tt.n_trips_day,
            "route_colours": tt.route_colours, "grid": {k: getattr(tt.grid, k) for k in GRID_SCALARS},
            "warnings": [{"file": w.file, "message": w.message, "row": w.row, "column": w.column} for w in warnings],
            "npz_sha256": sha256_file(npz),
            "shapes_sha256": sha256_file(shapes) if tt.shapes is not None else None}
    path = folder / f"{key}.json"
    _atomic_write(path, lambda p: p.write_text(json.dumps(meta, indent=1), encoding="utf-8"))
    return path


class CacheEntryError(Exception):
    """A cache entry is missing a file, fails a checksum or does not describe what was asked."""


def load(key: str, feed_sha: str, day: date, folder: Path | None = None) -> tuple[transit.Timetable, list[Problem]]:
    """Open an entry; :class:`CacheEntryError` when it is absent or fails any check."""
    folder = folder or cache_dir()
    meta_path = folder / f"{key}.json"
    if not meta_path.is_file():
        raise FileNotFoundError(meta_path)
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        want = {"format": FORMAT, "code_version": code_version(), "feed_sha256": feed_sha, "day": day.isoformat()}
        wrong = [k for k, v in want.items() if meta.get(k) != v]
        if wrong:
            raise CacheEntryError(f"it describes another {', '.join(wrong)}")
        npz = folder / f"{key}.npz"
        if not npz.is_file() or sha256_file(npz) != meta["npz_sha256"]:
            raise CacheEntryError(f"{npz.name} is missing or fails its checksum")
        shapes = None
        if meta["shapes_sha256"] is not None:
            sp = folder / f"{key}.shapes.parquet"
            if not sp.is_file() or sha256_file(sp) != meta["shapes_sha256"]:
                raise CacheEntryError(f"{sp.name} is missing or fails its checksum")
            shapes = pd.read_parquet(sp)
        with np.load(npz, allow_pickle=False) as z:
            arrays = {name: z[name] for name in z.files}
        kw = {name: (arrays[name].astype(object) if name in TEXT_FIELDS else arrays[name]) for name in ARRAY_FIELDS}
        grid = transit.StopGrid(**{k: meta["grid"][k] for k in GRID_SCALARS},
                                **{k: arrays[f"grid_{k}"] for k in GRID_ARRAYS})
        tt = transit.Timetable(day=day, feed_name=meta["feed_name"], lat0=float(meta["lat0"]), grid=grid,
                               n_trips_day=int(meta["n_trips_day"]), shapes=shapes,
                               route_colours=dict(meta["route_colours"]), **kw)
        warnings = [Problem(w["file"], w["message"], w["row"], w["column"]) for w in meta["warnings"]]
    except CacheEntryError:
        raise
    except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable JSON, a broken zip, a missing array
        raise CacheEntryError(f"it cannot be read ({type(exc).__name__}: {exc})") from exc
    return tt, warnings


def _remove(key: str, folder: Path) -> None:
    for suffix in (".json", ".npz", ".shapes.parquet"):
        (folder / f"{key}{suffix}").unlink(missing_ok=True)


def open_timetable(path: str | Path, day: date, folder: Path | None = None) -> Opened:
    """The day's timetable of a feed: from the cache when a valid entry exists, else built from the feed
    (:func:`civicdata.transit.gtfs.load_feed`, :func:`civicdata.transit.raptor.build_timetable`) and cached. Raises what
    loading and building raise (:class:`~civicdata.transit.gtfs.FeedError`, :class:`~civicdata.transit.raptor.NoServiceError`).
    """
    folder = folder or cache_dir()
    sha = feed_sha256(path)
    key = cache_key(sha, day)
    extra: list[Problem] = []
    try:
        tt, warnings = load(key, sha, day, folder)
        return Opened(tt, "cache", warnings, key)
    except FileNotFoundError:
        pass
    except CacheEntryError as exc:
        _remove(key, folder)
        extra.append(Problem(str(folder / f"{key}.json"), f"the cached timetable was not used and has been rebuilt: "
                                                          f"{exc}"))
    feed = load_feed(path)
    try:
        tt = transit.build_timetable(feed, day)
    except transit.NoServiceError as exc:
        exc.warnings = feed.warnings  # the page lists them beside the message
        raise
    try:
        save(tt, key, sha, feed.warnings, folder)
    except OSError as exc:  # a read-only or full disk: the timetable is still good, only not kept
        extra.append(Problem(str(folder), f"the timetable could not be cached ({exc})"))
    return Opened(tt, "built", feed.warnings + extra, key)

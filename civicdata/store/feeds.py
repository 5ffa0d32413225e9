"""GTFS timetables in the store: one row per feed (its zip bytes, content sha256 and what was found in it).

Like a user layer, a feed added once is there for every app server and command sharing ``CIVICDATA_DB_URL``.
Each server reads a feed through a local copy named by its sha256 (``<CIVICDATA_HOME>/feed-cache/<database>/
<sha256>.zip``), so the timetable cache, keyed on the file's sha256, is shared with a feed given as a path.
Adding, replacing and removing are one transaction each that bumps the ``feeds`` counter. Nothing here checks a
feed: :mod:`civicdata.transit.feeds` does, before it calls :func:`put_feed`.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update

from civicdata import settings
from civicdata.errors import CivicDataError
from civicdata.store import db


class FeedExistsError(CivicDataError, FileExistsError):
    """A feed with this name is stored already: replace it explicitly."""


class UnknownFeedError(CivicDataError, KeyError):
    """No stored feed has this name."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


@dataclass(frozen=True)
class StoredFeed:
    """One stored feed without its bytes: name, sha256, size, where it came from, what was found in it."""

    name: str
    sha256: str
    size_bytes: int
    source: str
    summary: dict
    added_at: str


def put_feed(name: str, data: bytes, summary: dict, source: str, *, replace_existing: bool = False,
             eng: Engine | None = None) -> StoredFeed:
    """Store a checked feed in one transaction. An existing name raises :class:`FeedExistsError` unless
    ``replace_existing`` (the old feed stays until the new one commits)."""
    eng = eng or db.engine()
    now = db.utc_now()
    sha = hashlib.sha256(data).hexdigest()
    row = {"sha256": sha, "data": data, "size_bytes": len(data), "source": source[:500],
           "summary": json.dumps(summary, sort_keys=True), "added_at": now}
    with db.writing(eng) as conn:
        db.bump(conn, "feeds")
        exists = conn.execute(select(db.gtfs_feeds.c.name).where(db.gtfs_feeds.c.name == name)).first()
        if exists and not replace_existing:
            raise FeedExistsError(f"a feed named '{name}' is stored already: remove it first, or replace it")
        if exists:
            conn.execute(update(db.gtfs_feeds).where(db.gtfs_feeds.c.name == name).values(**row))
        else:
            conn.execute(insert(db.gtfs_feeds).values(name=name, **row))
    return StoredFeed(name, sha, len(data), source, summary, now)


def delete_feed(name: str, eng: Engine | None = None) -> bool:
    """Remove a stored feed in one transaction; False if there was none."""
    with db.writing(eng or db.engine()) as conn:
        db.bump(conn, "feeds")
        return conn.execute(delete(db.gtfs_feeds).where(db.gtfs_feeds.c.name == name)).rowcount > 0


def stored_feeds(eng: Engine | None = None) -> list[StoredFeed]:
    """Every stored feed (without its bytes), by name."""
    t = db.gtfs_feeds
    with db.reading(eng or db.engine()) as conn:
        rows = conn.execute(select(t.c.name, t.c.sha256, t.c.size_bytes, t.c.source, t.c.summary, t.c.added_at)
                            .order_by(t.c.name)).all()
    return [StoredFeed(r[0], r[1], int(r[2]), r[3], json.loads(r[4]), r[5]) for r in rows]


def stored_feed(name: str, eng: Engine | None = None) -> StoredFeed:
    """One stored feed (without its bytes); :class:`UnknownFeedError` when none has this name."""
    hit = [f for f in stored_feeds(eng) if f.name == name]
    if not hit:
        known = ", ".join(f.name for f in stored_feeds(eng)) or "none yet"
        raise UnknownFeedError(f"no stored feed named '{name}' (stored: {known}); add one with "
                               "`python -m civicdata feed add PATH|URL --name NAME`")
    return hit[0]


def cache_dir(eng: Engine) -> Path:
    """This process's folder of feed copies for the database ``eng`` points at."""
    return settings.user_data_dir() / "feed-cache" / db.url_key(eng)


def local_copy(name: str, eng: Engine | None = None) -> Path:
    """The stored feed as a zip file on this machine, copied from the database the first time (written to a
    temporary file, then renamed) and named by its sha256, so a replaced feed is never read stale."""
    eng = eng or db.engine()
    feed = stored_feed(name, eng)
    path = cache_dir(eng) / f"{feed.sha256}.zip"
    if path.is_file():
        return path
    with db.reading(eng) as conn:
        data = conn.execute(select(db.gtfs_feeds.c.data).where(db.gtfs_feeds.c.name == name)).scalar_one_or_none()
    if data is None:  # removed between the two reads
        raise UnknownFeedError(f"the feed '{name}' was removed just now")
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".feed-", suffix=".zip", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(bytes(data))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


__all__ = ["FeedExistsError", "UnknownFeedError", "StoredFeed", "put_feed", "delete_feed", "stored_feeds",
           "stored_feed", "cache_dir", "local_copy"]

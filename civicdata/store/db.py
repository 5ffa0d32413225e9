"""The one database behind everything people create: a SQLAlchemy engine from
:func:`civicdata.settings.db_url`, the versioned schema, one transaction per action, and the version
counters that caches key on.

Tables: user layers (descriptor TOML and Parquet bytes), saved places (kind ``trust``, ``area`` or ``deck``:
a title and a JSON payload), the record of files and folders imported once, workshops (options, questions, participants and their sectors, rounds, ballots, notes, actions; ``dots`` is version 3's and read only on upgrade), and
``versions`` — one counter per kind of thing (``layers``, ``places``) that every change bumps inside its
own transaction, so a server that reads the counter at the start of a rerun knows whether its caches are
current.

SQLite (the default: a file in the per-user data folder) runs in WAL mode with a busy timeout, and
every write transaction starts with ``BEGIN IMMEDIATE`` so that two processes never interleave the
read and the write of one action. PostgreSQL (several app servers behind a load balancer) runs at
READ COMMITTED; actions that read-then-write lock the row they depend on (``SELECT … FOR UPDATE``).
Tables are written only by :mod:`civicdata.workshop.model`, :mod:`civicdata.store.layers` and
:mod:`civicdata.store.places` (and the import record, by the folder imports); others read the counters.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import logging
import threading
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import (CheckConstraint, Column, Connection, Engine, ForeignKey, Index, Integer, LargeBinary, MetaData,
                        String, Table, Text, create_engine, event, insert, select, text, update)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError

from civicdata import settings
from civicdata.errors import CivicDataError

#: 1: workshops; 2: user layers, saved places, layer imports and version counters (added beside version 1's
#: tables on first use: nothing is rewritten); 3: a workshop's place code holds a saved area (``area:<id>``, up
#: to 69 characters; PostgreSQL widens the column in place, SQLite does not limit it); 4: workshops across
#: sectors — voting rounds (dots, points or a 2×2), ballots, participants' sector and organisation, extra
#: sectors and agreed actions, in new tables beside the old ones (a version-3 workshop's dots become round 1's
#: ballots; its participants' sector is "other").
SCHEMA_VERSION = 4
PLACE_CODE_CHARS = 80
#: PostgreSQL advisory lock id held while the schema is created (any fixed number; "LNE1")
_SCHEMA_LOCK = 0x4C4E4531
SQLITE_BUSY_MS = 30_000

metadata = MetaData()

schema_info = Table("schema_info", metadata, Column("version", Integer, primary_key=True, autoincrement=False))

workshops = Table(
    "workshops", metadata,
    Column("id", String(32), primary_key=True),
    Column("key_hash", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("held_on", String(10), nullable=False),  # ISO date
    Column("place_code", String(PLACE_CODE_CHARS)),
    Column("place_name", String(200), nullable=False, server_default=""),
    Column("dots", Integer, nullable=False),
    Column("status", String(8), nullable=False, server_default="open"),
    Column("agreed", Text, nullable=False, server_default="[]"),  # JSON list of option codes
    Column("evidence", Text, nullable=False, server_default="{}"),  # JSON: headline, shortlist, convene
    Column("created_at", String(32), nullable=False),
    Column("closed_at", String(32)),
    CheckConstraint("dots >= 1", name="ck_workshops_dots"),
)

options = Table(
    "options", metadata,
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(80), primary_key=True),
    Column("position", Integer, nullable=False),
    Column("label", String(200), nullable=False),
    Column("reason", Text, nullable=False, server_default=""),
)

questions = Table(
    "questions", metadata,
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("text", String(300), nullable=False),
)

participants = Table(
    "participants", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    Column("token_hash", String(64), nullable=False, unique=True),
    Column("name", String(60), nullable=False),
    Column("joined_at", String(32), nullable=False),
    Index("ix_participants_workshop", "workshop_id"),
)

dots = Table(
    "dots", metadata,
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    Column("slot", Integer, primary_key=True, autoincrement=False),
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    Column("option_code", String(80), nullable=False),
    CheckConstraint("slot >= 0", name="ck_dots_slot"),
    Index("ix_dots_workshop", "workshop_id"),
)

#: version 4: one row per voting round; a workshop has round 1 from its creation, and the highest is current
rounds = Table(
    "workshop_rounds", metadata,
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True),
    Column("number", Integer, primary_key=True, autoincrement=False),
    Column("mode", String(8), nullable=False),  # dots | points | matrix
    Column("budget", Integer),  # dots or points per participant; NULL for a 2x2
    Column("question", String(300), nullable=False, server_default=""),
    Column("opened_at", String(32), nullable=False),
    CheckConstraint("number >= 1", name="ck_rounds_number"),
)

#: a participant's allocation to one option in one round: dots or points (``amount``), or a 2x2 placing
ballots = Table(
    "ballots", metadata,
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    Column("round", Integer, primary_key=True, autoincrement=False),
    Column("option_code", String(80), primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    Column("amount", Integer),
    Column("impact", Integer),
    Column("feasibility", Integer),
    CheckConstraint("amount IS NULL OR amount > 0", name="ck_ballots_amount"),
    CheckConstraint("impact IS NULL OR impact BETWEEN 1 AND 5", name="ck_ballots_impact"),
    CheckConstraint("feasibility IS NULL OR feasibility BETWEEN 1 AND 5", name="ck_ballots_feasibility"),
    Index("ix_ballots_workshop", "workshop_id", "round"),
)

#: a participant's sector (a code) and organisation, given at join
members = Table(
    "participant_sectors", metadata,
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"), primary_key=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    Column("sector", String(24), nullable=False),
    Column("organisation", String(120), nullable=False, server_default=""),
    Index("ix_participant_sectors_workshop", "workshop_id"),
)

#: sectors a facilitator added beside the standard five
extra_sectors = Table(
    "workshop_sectors", metadata,
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), primary_key=True),
    Column("code", String(24), primary_key=True),
    Column("label", String(60), nullable=False),
)

#: commitments recorded beside the agreed focus: who does what by when
actions = Table(
    "workshop_actions", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    Column("title", String(200), nullable=False),
    Column("owner", String(60), nullable=False),
    Column("organisation", String(120), nullable=False, server_default=""),
    Column("review_on", String(10), nullable=False),  # ISO date
    Column("created_at", String(32), nullable=False),
    Index("ix_workshop_actions_workshop", "workshop_id"),
)

notes = Table(
    "notes", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("workshop_id", String(32), ForeignKey("workshops.id", ondelete="CASCADE"), nullable=False),
    Column("participant_id", Integer, ForeignKey("participants.id", ondelete="CASCADE"), nullable=False),
    Column("question", Integer, nullable=False),
    Column("text", String(500), nullable=False),
    Column("created_at", String(32), nullable=False),
    Index("ix_notes_workshop", "workshop_id"),
)


user_layers = Table(
    "user_layers", metadata,
    Column("id", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("descriptor", Text, nullable=False),  # TOML, as civicdata.indicators.catalogue.descriptor_to_toml writes it
    Column("data", LargeBinary, nullable=False),  # Parquet bytes of the validated tidy file
    Column("sha256", String(64), nullable=False),  # of descriptor + data: names the local copy
    Column("rows", Integer, nullable=False),
    Column("source_file", String(300), nullable=False, server_default=""),
    Column("added_at", String(32), nullable=False),
    Column("updated_at", String(32), nullable=False),
)

saved_places = Table(
    "saved_places", metadata,
    Column("kind", String(16), primary_key=True),  # "trust" (school trusts); "area" (custom areas)
    Column("id", String(64), primary_key=True),
    Column("title", String(200), nullable=False),
    Column("payload", Text, nullable=False),  # JSON: {"urns": [...]} for a trust
    Column("updated_at", String(32), nullable=False),
)

imports = Table(
    "imports", metadata,
    Column("path", String(500), primary_key=True),  # a layer folder or saved-trust file as found (absolute path)
    Column("sha256", String(64), primary_key=True),  # of its content
    Column("item_id", String(64), nullable=False),  # the layer or trust id it holds
    Column("outcome", String(300), nullable=False),  # "imported" or why not
    Column("imported_at", String(32), nullable=False),
)

versions = Table(
    "versions", metadata,
    Column("name", String(32), primary_key=True),
    Column("number", Integer, nullable=False),
)

#: the counters in ``versions``
gtfs_feeds = Table(
    "gtfs_feeds", metadata,
    Column("name", String(64), primary_key=True),
    Column("sha256", String(64), nullable=False),  # of the zip: names its local copy and keys the timetable cache
    Column("data", LargeBinary, nullable=False),  # the GTFS zip, checked (and clipped) before it was stored
    Column("size_bytes", Integer, nullable=False),
    Column("source", String(500), nullable=False),  # the file name or address it was added from
    Column("summary", Text, nullable=False),  # JSON: check, calendar, agencies, counts, bbox, districts, clip
    Column("added_at", String(32), nullable=False),
)

VERSION_NAMES = ("layers", "places", "feeds")


class StoreError(CivicDataError, RuntimeError):
    """The database cannot be opened or has a schema this version does not know."""


#: the one sentence a person sees while the database is not answering (no driver, address or path in it)
UNAVAILABLE = ("The database is not answering; nothing you entered was saved; this page tries again every few "
               "seconds.")
log = logging.getLogger(__name__)


class StoreUnavailableError(StoreError):
    """The database is not answering: down, restarting, unreachable, or a SQLite file locked past the busy
    timeout. Its message is :data:`UNAVAILABLE`; what the driver said goes to the server's log only
    (``detail``). ``dropped``: an open connection was lost mid-transaction (a write of it may be retried once
    where that is safe, see :func:`retry_once_if_dropped`)."""

    def __init__(self, detail: str = "", dropped: bool = False):
        super().__init__(UNAVAILABLE)
        self.detail = detail
        self.dropped = dropped


def unavailable(exc: BaseException) -> StoreUnavailableError:
    """The named error for a driver's connection failure (logged with its detail, never shown)."""
    first = (str(exc).splitlines() or [""])[0]
    log.warning("database not answering: %s: %s", type(exc).__name__, first)
    return StoreUnavailableError(f"{type(exc).__name__}: {first}",
                                 dropped=bool(isinstance(exc, DBAPIError) and exc.connection_invalidated))


def retry_once_if_dropped(fn):
    """Run ``fn``; if the database dropped the connection under it, run it once more. Only for writes that are
    idempotent by their key (a participant's ballot for a round is replaced whole), never for appends."""

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreUnavailableError as exc:
            if not exc.dropped:
                raise
            log.warning("retrying %s once after a dropped connection", fn.__name__)
            return fn(*args, **kwargs)

    return run


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def _sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):  # pragma: no cover - exercised through every SQLite test
        dbapi_conn.isolation_level = None  # let the "begin" hook below issue BEGIN itself
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_MS}")
        cur.execute("PRAGMA journal_mode = WAL")
        cur.execute("PRAGMA foreign_keys = ON")
        cur.execute("PRAGMA synchronous = NORMAL")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):  # pragma: no cover
        immediate = not conn.get_execution_options().get("civicdata_readonly", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def engine(url: str | None = None) -> Engine:
    """The engine for ``url`` (default :func:`settings.db_url`), created once per process, with the
    schema created on first use (a SQLite file's folder is made too)."""
    url = url or settings.db_url()
    with _lock:
        if url in _engines:
            return _engines[url]
        parsed = make_url(url)
        if parsed.get_backend_name() == "sqlite":
            if parsed.database and parsed.database != ":memory:":
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            eng = create_engine(url, connect_args={"timeout": SQLITE_BUSY_MS / 1000, "check_same_thread": False})
            _sqlite_hooks(eng)
        elif parsed.get_backend_name() == "postgresql":
            eng = create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=5)
        else:
            raise StoreError(f"CIVICDATA_DB_URL: unsupported database {parsed.get_backend_name()!r} "
                             "(use sqlite:///path or postgresql+psycopg://…)")
        try:
            _create_schema(eng)
        except StoreError:
            raise
        except (OperationalError, InterfaceError) as exc:  # not answering: one sentence, the detail to the log
            eng.dispose()
            raise unavailable(exc) from exc
        except Exception as exc:  # noqa: BLE001 - say which database could not be opened
            raise StoreError(f"cannot open the database {parsed.render_as_string(hide_password=True)}: "
                             f"{type(exc).__name__}: {str(exc).splitlines()[0]}") from exc
        _engines[url] = eng
        return eng


def _create_schema(eng: Engine) -> None:
    with eng.begin() as conn:
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _SCHEMA_LOCK})
        metadata.create_all(conn, checkfirst=True)
        found = conn.execute(select(schema_info.c.version)).scalars().all()
        if found and max(found) > SCHEMA_VERSION:
            raise StoreError(f"the database has schema version {max(found)}, newer than this app's "
                             f"{SCHEMA_VERSION}: upgrade Local Need Explorer")
        if not found:
            conn.execute(schema_info.insert().values(version=SCHEMA_VERSION))
        elif max(found) < SCHEMA_VERSION:  # version 1: its tables stay; the new ones were created above
            if conn.dialect.name == "postgresql" and max(found) < 3:  # place_code was VARCHAR(12)
                conn.execute(text(f"ALTER TABLE workshops ALTER COLUMN place_code TYPE VARCHAR({PLACE_CODE_CHARS})"))
            if max(found) < 4:
                _rounds_from_dots(conn)
            conn.execute(update(schema_info).values(version=SCHEMA_VERSION))
        have = set(conn.execute(select(versions.c.name)).scalars())
        for name in VERSION_NAMES:
            if name not in have:
                conn.execute(versions.insert().values(name=name, number=0))


def _rounds_from_dots(conn: Connection) -> None:
    """Upgrade to version 4: every workshop gets round 1 (dots, its dots per participant) and its dots become
    that round's ballots (one row per participant and option, the dots counted)."""
    conn.execute(text(
        "INSERT INTO workshop_rounds (workshop_id, number, mode, budget, question, opened_at) "
        "SELECT id, 1, 'dots', dots, '', created_at FROM workshops "
        "WHERE id NOT IN (SELECT workshop_id FROM workshop_rounds)"))
    conn.execute(text(
        "INSERT INTO ballots (participant_id, round, option_code, workshop_id, amount) "
        "SELECT participant_id, 1, option_code, MIN(workshop_id), COUNT(*) FROM dots "
        "GROUP BY participant_id, option_code"))


def schema_version(eng: Engine) -> int:
    """The schema version recorded in the database."""
    with reading(eng) as conn:
        return int(conn.execute(select(schema_info.c.version)).scalar_one())


@contextmanager
def writing(eng: Engine) -> Iterator[Connection]:
    """One write transaction: committed whole when the block ends, rolled back whole on any error
    (or if the process dies before the commit)."""
    try:
        with eng.begin() as conn:
            yield conn
    except (OperationalError, InterfaceError) as exc:  # the database is not answering: a named error
        raise unavailable(exc) from exc


@contextmanager
def reading(eng: Engine) -> Iterator[Connection]:
    """One read-only transaction (a consistent snapshot; on SQLite it does not block writers). A database that
    does not answer raises :class:`StoreUnavailableError`, as in :func:`writing`."""
    try:
        with eng.execution_options(civicdata_readonly=True).begin() as conn:
            yield conn
    except (OperationalError, InterfaceError) as exc:
        raise unavailable(exc) from exc


def ping(eng: Engine | None = None) -> bool:
    """Whether the database answers now (``SELECT 1``); never raises for a database that is down."""
    try:
        with reading(eng or engine()) as conn:
            conn.execute(text("SELECT 1"))
        return True
    except StoreUnavailableError:
        return False


def bump(conn: Connection, name: str) -> int:
    """Add one to the ``name`` counter inside the caller's write transaction and return the new number.

    Called first in a write, it also serialises writers of that kind across servers: PostgreSQL holds
    the counter's row lock until the transaction ends (SQLite's ``BEGIN IMMEDIATE`` already does)."""
    conn.execute(update(versions).where(versions.c.name == name).values(number=versions.c.number + 1))
    return int(conn.execute(select(versions.c.number).where(versions.c.name == name)).scalar_one())


def version(name: str, eng: Engine | None = None) -> int:
    """The current ``name`` counter (``layers`` or ``places``): a cache key that changes, on every server,
    when anything of that kind is added, replaced or removed."""
    with reading(eng or engine()) as conn:
        return int(conn.execute(select(versions.c.number).where(versions.c.name == name)).scalar_one())


def url_key(eng: Engine) -> str:
    """A short, stable name for the database ``eng`` points at (password hidden): names this process's folders
    of local copies, so two databases never share one."""
    return hashlib.sha256(eng.url.render_as_string(hide_password=True).encode()).hexdigest()[:12]


def utc_now() -> str:
    """Now, in UTC, as ISO 8601 to the second (the store's timestamps)."""
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def is_imported(path: Path, sha: str, eng: Engine | None = None) -> bool:
    """Whether ``path`` (a layer folder or a saved-trust file) with this content was imported already."""
    t = imports
    with reading(eng or engine()) as conn:
        return conn.execute(select(t.c.path).where(t.c.path == str(path), t.c.sha256 == sha)).first() is not None


def record_import(path: Path, sha: str, item_id: str, outcome: str, eng: Engine | None = None) -> None:
    """Note that ``path`` (with this content) was imported, or why not, so it is never imported twice."""
    try:
        with writing(eng or engine()) as conn:
            conn.execute(insert(imports).values(path=str(path), sha256=sha, item_id=item_id,
                                                   outcome=outcome[:300], imported_at=utc_now()))
    except IntegrityError:  # another process recorded it first
        pass


def imported(eng: Engine | None = None) -> list[dict]:
    """Everything imported from folders so far: path, id, outcome, when (newest first)."""
    t = imports
    with reading(eng or engine()) as conn:
        rows = conn.execute(select(t.c.path, t.c.item_id, t.c.outcome, t.c.imported_at)
                            .order_by(t.c.imported_at.desc(), t.c.path)).all()
    return [dict(r._mapping) for r in rows]


_done_once: set[tuple[str, str, str]] = set()


def once_per_process(what: str, folder: Path, eng: Engine) -> bool:
    """True the first time this process asks for ``what`` (e.g. "import layers") of ``folder`` into the
    database ``eng`` points at, False after: folder imports run once per process, not on every page run."""
    key = (what, str(folder), str(eng.url))
    with _lock:
        if key in _done_once:
            return False
        _done_once.add(key)
        return True


def dispose_all() -> None:
    """Close every pooled connection (tests, and before a process forks)."""
    with _lock:
        for eng in _engines.values():
            eng.dispose()
        _engines.clear()

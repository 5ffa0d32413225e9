"""One store for everything people create, shared by every app server that has the same
``CIVICDATA_DB_URL`` (SQLite by default, PostgreSQL when deployed).

``db`` (engine, schema, transactions, version counters) → ``layers`` (user layers) and ``places`` (saved
trusts and areas); :mod:`civicdata.workshop.model` keeps workshops in the same database.
"""

from civicdata.store.db import (SCHEMA_VERSION, UNAVAILABLE, StoreError, StoreUnavailableError, ping, retry_once_if_dropped, actions, ballots, bump, dispose_all, dots, engine,
                                extra_sectors, gtfs_feeds, members, rounds, imported, imports,
                                is_imported, record_import,
                                metadata, notes, options, participants, questions, reading, saved_places,
                                schema_info, schema_version, user_layers, version, versions, workshops, writing)

__all__ = ["SCHEMA_VERSION", "UNAVAILABLE", "StoreError", "StoreUnavailableError", "ping", "retry_once_if_dropped", "actions", "ballots", "extra_sectors", "members", "rounds", "bump", "dispose_all", "dots", "engine", "gtfs_feeds", "imported", "imports",
           "is_imported", "record_import", "metadata",
           "notes", "options", "participants", "questions", "reading", "saved_places", "schema_info",
           "schema_version", "user_layers", "version", "versions", "workshops", "writing"]

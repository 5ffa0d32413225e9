"""Saved places in the store: school trusts today (kind ``trust``), custom areas next (kind ``area``).

One row per place: kind, id, title and a JSON payload (a trust's ``{"urns": [...]}``). Every change is
one transaction that first bumps the ``places`` counter, so servers sharing ``CIVICDATA_DB_URL`` see it
at their next rerun and two servers saving the same id at once give one place and one refusal.
Validation (ids, URNs) belongs to the caller (:mod:`civicdata.trust`).
"""

from __future__ import annotations

import json

from sqlalchemy import Engine, delete, insert, select, update

from civicdata.errors import CivicDataError
from civicdata.store import db

t = db.saved_places


class PlaceExistsError(CivicDataError, FileExistsError):
    """A saved place of this kind already has this id."""


class UnknownPlaceError(CivicDataError, KeyError):
    """No saved place of this kind has this id."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


def save_place(kind: str, place_id: str, title: str, payload: dict, *, replace: bool = False,
               eng: Engine | None = None) -> None:
    """Save (or with ``replace``, overwrite) one place in one transaction."""
    values = {"title": title[:200], "payload": json.dumps(payload, sort_keys=True), "updated_at": db.utc_now()}
    with db.writing(eng or db.engine()) as conn:
        db.bump(conn, "places")
        exists = conn.execute(select(t.c.id).where(t.c.kind == kind, t.c.id == place_id)).first()
        if exists and not replace:
            raise PlaceExistsError(f"a {kind} '{place_id}' exists already: rename or delete it first")
        if exists:
            conn.execute(update(t).where(t.c.kind == kind, t.c.id == place_id).values(**values))
        else:
            conn.execute(insert(t).values(kind=kind, id=place_id, **values))


def load_place(kind: str, place_id: str, eng: Engine | None = None) -> dict:
    """``{"id", "title", **payload}`` of one saved place."""
    with db.reading(eng or db.engine()) as conn:
        row = conn.execute(select(t.c.title, t.c.payload).where(t.c.kind == kind, t.c.id == place_id)).first()
    if row is None:
        raise UnknownPlaceError(f"no saved {kind} '{place_id}'")
    return {**json.loads(row.payload), "id": place_id, "title": row.title}


def list_places(kind: str, eng: Engine | None = None) -> list[dict]:
    """Every saved place of one kind, by id: ``{"id", "title", **payload}``."""
    with db.reading(eng or db.engine()) as conn:
        rows = conn.execute(select(t.c.id, t.c.title, t.c.payload).where(t.c.kind == kind).order_by(t.c.id)).all()
    return [{**json.loads(r.payload), "id": r.id, "title": r.title} for r in rows]


def rename_place(kind: str, old: str, new: str, title: str | None = None, eng: Engine | None = None) -> None:
    """Give a saved place a new id (and title) in one transaction."""
    with db.writing(eng or db.engine()) as conn:
        db.bump(conn, "places")
        row = conn.execute(select(t.c.title).where(t.c.kind == kind, t.c.id == old)).first()
        if row is None:
            raise UnknownPlaceError(f"no saved {kind} '{old}'")
        if new != old and conn.execute(select(t.c.id).where(t.c.kind == kind, t.c.id == new)).first():
            raise PlaceExistsError(f"a {kind} '{new}' exists already")
        conn.execute(update(t).where(t.c.kind == kind, t.c.id == old)
                     .values(id=new, title=(title or row.title)[:200], updated_at=db.utc_now()))


def delete_place(kind: str, place_id: str, eng: Engine | None = None) -> None:
    """Delete one saved place; :class:`UnknownPlaceError` if there is none."""
    with db.writing(eng or db.engine()) as conn:
        db.bump(conn, "places")
        if conn.execute(delete(t).where(t.c.kind == kind, t.c.id == place_id)).rowcount == 0:
            raise UnknownPlaceError(f"no saved {kind} '{place_id}'")


__all__ = ["PlaceExistsError", "UnknownPlaceError", "save_place", "load_place", "list_places", "rename_place",
           "delete_place"]

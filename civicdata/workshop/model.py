"""Workshops: create, join, vote (dots), note, tally, close, export, delete — one transaction each.

Ids, facilitator keys and participant tokens come from :mod:`secrets`; only SHA-256 hashes of keys and
tokens are stored. The facilitator key is needed to close, export or delete; a participant token
changes only its own dots and notes. A vote replaces all of the participant's dots at once, inside one
transaction that first locks the participant (PostgreSQL ``FOR UPDATE``; SQLite ``BEGIN IMMEDIATE``), so
two racing votes never leave more dots than the limit and a killed process leaves the earlier vote whole.

Invariants: a participant holds 0..``dots`` dots; the tally of an option is the count of current dots on
it; a closed workshop takes no votes, notes or joins.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass, field

from sqlalchemy import Connection, Engine, delete, func, insert, select, update

from civicdata.errors import CivicDataError
from civicdata import store
from civicdata.store import dots as dots_t
from civicdata.store import notes as notes_t
from civicdata.store import options as options_t
from civicdata.store import participants as participants_t
from civicdata.store import questions as questions_t
from civicdata.store import workshops as workshops_t

TITLE_MAX = 200
NAME_MAX = 60
NOTE_MAX = 500
OPTION_LABEL_MAX = 200
QUESTION_MAX = 300
OPTIONS_MAX = 20
QUESTIONS_MAX = 12
PARTICIPANTS_MAX = 300
DOTS_DEFAULT = 3
DOTS_MAX = 10
NOTES_PER_PARTICIPANT_MAX = 60
AGREED_MAX = 2

DEFAULT_QUESTIONS = (
    "What impact do we want?",
    "What are the barriers?",
    "How do we make collaboration accessible?",
    "Our shared priorities",
    "How do we co-create solutions?",
    "Top tips",
)
THEMES = (
    "Prevention",
    "Community health on school sites",
    "Workforce",
    "Children and young people's mental health",
    "School attendance and health",
)


class WorkshopError(CivicDataError, ValueError):
    """A workshop action was refused: the message says why (every problem at once for create)."""


class UnknownWorkshopError(WorkshopError):
    """No workshop has this id (or it was deleted)."""


class AccessError(WorkshopError, PermissionError):
    """A wrong facilitator key or participant token."""


@dataclass(frozen=True)
class Option:
    """One thing to vote on: ``code`` (stable, used in links and the CLI), ``label`` and the evidence
    ``reason`` (e.g. the Strategic focus sentence for a shortlisted place)."""

    code: str
    label: str
    reason: str = ""


@dataclass(frozen=True)
class Created:
    """What :func:`create_workshop` hands back once: the facilitator key is not stored in clear."""

    id: str
    facilitator_key: str
    join_path: str

    def to_json(self) -> dict:
        return {"id": self.id, "facilitator_key": self.facilitator_key, "join_path": self.join_path}


@dataclass
class Workshop:
    """A workshop as anyone with its id sees it (no keys, no participant names)."""

    id: str
    title: str
    held_on: str
    place_code: str | None
    place_name: str
    dots: int
    status: str
    agreed: list[str]
    options: list[Option]
    questions: list[str]
    evidence: dict = field(default_factory=dict)

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def option_label(self, code: str) -> str:
        return next((o.label for o in self.options if o.code == code), code)


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def new_secret(length: int) -> str:
    """An unguessable id or key from :mod:`secrets` (letters and digits only: safe in links and on a
    command line; 16 characters ≈ 95 bits, 32 ≈ 190 bits)."""
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def slug(label: str) -> str:
    """A stable option code from its label: lower case, words joined by '-' ("Workforce" → "workforce"); a
    label that starts with an ONS code keeps that code as it is written ("E01006108 Old Trafford" → "E01006108")."""
    m = re.match(r"\s*([EWSNK]\d{8})\b", label)
    if m:
        return m.group(1)
    s = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
    return s[:80] or "option"


def leaders(options: list[dict], what: str = "dots") -> list[dict]:
    """The options with the most ``what`` (all of them when several tie); none when nothing is placed yet."""
    top = max((o[what] for o in options), default=0)
    return [o for o in options if o[what] == top] if top else []


def lead_words(options: list[dict], what: str = "dots") -> str:
    """"Prevention leads with 3 dots", or "Prevention and Workforce tie with 3 dots each" — never one leader
    when several share the top; "" when nothing is placed yet."""
    top = leaders(options, what)
    if not top:
        return ""
    n = top[0][what]
    if len(top) == 1:
        return f"{top[0]['label']} leads with {n} {what if n != 1 else what.rstrip('s')}"
    names = ", ".join(o["label"] for o in top[:-1]) + f" and {top[-1]['label']}"
    return f"{names} tie with {n} {what if n != 1 else what.rstrip('s')} each"


def join_path(workshop_id: str) -> str:
    """The path of the phone join view (relative to the app's address)."""
    return f"/workshop?ws={workshop_id}&view=join"


def projector_path(workshop_id: str) -> str:
    """The path of the projector view (live tally and notes wall)."""
    return f"/workshop?ws={workshop_id}&view=projector"


def facilitator_path(workshop_id: str, key: str) -> str:
    """The private facilitator link (holds the key: share it with no one)."""
    return f"/workshop?ws={workshop_id}&key={key}"


def qr_png(url: str, scale: int = 8) -> bytes:
    """A QR code of ``url`` as PNG bytes, made offline (segno, pure Python)."""
    import io

    import segno

    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="png", scale=scale, border=2)
    return buf.getvalue()


def absolute(base_url: str, path: str) -> str:
    """``path`` (from :func:`join_path` …) on the app's address ``base_url`` (e.g. "http://host:8501")."""
    return base_url.rstrip("/") + path


def parse_options(items: list[str]) -> list[Option]:
    """Options from typed text: ``Label`` (code made from the label) or ``code=Label``."""
    out = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        code, sep, label = item.partition("=")
        if sep and re.fullmatch(r"[A-Za-z0-9_-]{1,80}", code.strip()) and label.strip():
            out.append(Option(code.strip(), label.strip()))
        else:
            out.append(Option(slug(item), item))
    return out


def _eng(eng: Engine | None) -> Engine:
    return eng if eng is not None else store.engine()


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _check_create(title: str, options: list[Option], dots: int, questions: list[str], held_on: str) -> list[str]:
    problems = []
    if not _clean(title):
        problems.append("title: give the workshop a title")
    elif len(_clean(title)) > TITLE_MAX:
        problems.append(f"title: {len(_clean(title))} characters, at most {TITLE_MAX}")
    try:
        dt.date.fromisoformat(held_on)
    except ValueError:
        problems.append(f"date: {held_on!r} is not a date (YYYY-MM-DD)")
    if len(options) < 2:
        problems.append(f"options: {len(options)} given, at least 2 are needed to vote")
    if len(options) > OPTIONS_MAX:
        problems.append(f"options: {len(options)} given, at most {OPTIONS_MAX}")
    seen: set[str] = set()
    for i, o in enumerate(options, 1):
        if not o.label.strip():
            problems.append(f"option {i}: empty label")
        if len(o.label) > OPTION_LABEL_MAX:
            problems.append(f"option {i}: label of {len(o.label)} characters, at most {OPTION_LABEL_MAX}")
        if o.code in seen:
            problems.append(f"option {i}: {o.label!r} repeats an earlier option (code {o.code!r})")
        seen.add(o.code)
    if not 1 <= dots <= DOTS_MAX:
        problems.append(f"dots: {dots} per participant, allowed 1 to {DOTS_MAX}")
    if len(questions) > QUESTIONS_MAX:
        problems.append(f"questions: {len(questions)} given, at most {QUESTIONS_MAX}")
    for i, q in enumerate(questions, 1):
        if len(q) > QUESTION_MAX:
            problems.append(f"question {i}: {len(q)} characters, at most {QUESTION_MAX}")
    return problems


def create_workshop(title: str, options: list[Option], *, held_on: str | None = None, place_code: str | None = None,
                    place_name: str = "", dots: int = DOTS_DEFAULT, questions: list[str] | None = None,
                    evidence: dict | None = None, eng: Engine | None = None) -> Created:
    """Create a workshop and return its id, the facilitator key (shown once) and the join path.

    ``held_on`` is an ISO date (default today); ``place_code`` an ONS LAD code (2024), ``area:ID`` (a saved custom area) or None.
    Raises :class:`WorkshopError` listing every problem at once.
    """
    held_on = held_on or dt.date.today().isoformat()
    qs = [_clean(q) for q in (list(DEFAULT_QUESTIONS) if questions is None else questions) if _clean(q)]
    opts = [Option(o.code, _clean(o.label), str(o.reason or "").strip()) for o in options]
    problems = _check_create(title, opts, int(dots), qs, held_on)
    if problems:
        raise WorkshopError("the workshop cannot be created:\n" + "\n".join(f"  - {p}" for p in problems))
    wid = new_secret(16)
    key = new_secret(32)
    with store.writing(_eng(eng)) as conn:
        conn.execute(insert(workshops_t).values(
            id=wid, key_hash=_hash(key), title=_clean(title), held_on=held_on, place_code=place_code,
            place_name=_clean(place_name), dots=int(dots), status="open", agreed="[]",
            evidence=json.dumps(evidence or {}, ensure_ascii=False), created_at=_now()))
        conn.execute(insert(options_t), [{"workshop_id": wid, "code": o.code, "position": i, "label": o.label,
                                          "reason": o.reason} for i, o in enumerate(opts)])
        if qs:
            conn.execute(insert(questions_t), [{"workshop_id": wid, "number": i, "text": q}
                                               for i, q in enumerate(qs, 1)])
    return Created(wid, key, join_path(wid))


def _row(conn: Connection, workshop_id: str, lock: bool = False):
    q = select(workshops_t).where(workshops_t.c.id == str(workshop_id))
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    row = conn.execute(q).mappings().first()
    if row is None:
        raise UnknownWorkshopError(f"no workshop has the id {str(workshop_id)[:40]!r} (check the link; it may have "
                                   "been deleted)")
    return row


def _load(conn: Connection, row) -> Workshop:
    wid = row["id"]
    opts = [Option(r.code, r.label, r.reason) for r in conn.execute(
        select(options_t).where(options_t.c.workshop_id == wid).order_by(options_t.c.position))]
    qs = [r.text for r in conn.execute(
        select(questions_t).where(questions_t.c.workshop_id == wid).order_by(questions_t.c.number))]
    return Workshop(wid, row["title"], row["held_on"], row["place_code"], row["place_name"], row["dots"],
                    row["status"], json.loads(row["agreed"]), opts, qs, json.loads(row["evidence"] or "{}"))


def get_workshop(workshop_id: str, eng: Engine | None = None) -> Workshop:
    """The workshop as a participant or the projector sees it."""
    with store.reading(_eng(eng)) as conn:
        return _load(conn, _row(conn, workshop_id))


def _require_key(row, key: str | None) -> None:
    if not key or not hmac.compare_digest(_hash(str(key)), row["key_hash"]):
        raise AccessError("wrong facilitator key for this workshop: use the private facilitator link given when "
                          "it was created")


def check_key(workshop_id: str, key: str | None, eng: Engine | None = None) -> bool:
    """Whether ``key`` is this workshop's facilitator key."""
    with store.reading(_eng(eng)) as conn:
        try:
            _require_key(_row(conn, workshop_id), key)
        except AccessError:
            return False
    return True


def _participant(conn: Connection, workshop_id: str, token: str | None, lock: bool = False):
    if not token:
        raise AccessError("join the workshop first: no participant token given")
    q = select(participants_t).where(participants_t.c.token_hash == _hash(str(token)),
                                     participants_t.c.workshop_id == workshop_id)
    if lock and conn.dialect.name == "postgresql":
        q = q.with_for_update()
    p = conn.execute(q).mappings().first()
    if p is None:
        raise AccessError("this participant token does not belong to this workshop: join again from the link")
    return p


def _require_open(row) -> None:
    if row["status"] != "open":
        raise WorkshopError(f"voting in {row['title']!r} is closed")


def join(workshop_id: str, name: str, eng: Engine | None = None) -> str:
    """Join as ``name`` (1-60 characters) and return the participant token (keep it to vote and note)."""
    name = _clean(name)
    if not name:
        raise WorkshopError("name: type a display name (the facilitator sees it, and the record shows it beside your "
                            "notes; the projector never does)")
    if len(name) > NAME_MAX:
        raise WorkshopError(f"name: {len(name)} characters, at most {NAME_MAX}")
    token = new_secret(32)
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)  # joins queue on the workshop row: the limit holds
        _require_open(row)
        n = conn.execute(select(func.count()).select_from(participants_t)
                         .where(participants_t.c.workshop_id == row["id"])).scalar_one()
        if n >= PARTICIPANTS_MAX:
            raise WorkshopError(f"this workshop is full: {PARTICIPANTS_MAX} participants have joined")
        conn.execute(insert(participants_t).values(workshop_id=row["id"], token_hash=_hash(token), name=name,
                                                   joined_at=_now()))
    return token


def _replace_dots(conn: Connection, row, participant_id: int, codes: list[str]) -> None:
    """Inside a write transaction: the participant's dots become ``codes`` (delete, then insert)."""
    conn.execute(delete(dots_t).where(dots_t.c.participant_id == participant_id))
    if codes:
        conn.execute(insert(dots_t), [{"participant_id": participant_id, "slot": i, "workshop_id": row["id"],
                                       "option_code": c} for i, c in enumerate(codes)])


def resolve_option(ws_options: list[Option], given: str) -> str:
    """An option's code from its code or its exact label (case-insensitive)."""
    for o in ws_options:
        if given == o.code:
            return o.code
    for o in ws_options:
        if given.strip().casefold() == o.label.casefold():
            return o.code
    raise WorkshopError(f"option {given!r} is not one of this workshop's: "
                        + ", ".join(f"{o.code} ({o.label})" for o in ws_options))


def vote(workshop_id: str, token: str, choices: list[str], eng: Engine | None = None) -> list[str]:
    """Place the participant's dots on ``choices`` (codes or labels; one entry per dot, repeats stack),
    replacing only their earlier dots. More than the limit is refused and the earlier dots stay."""
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id)
        _require_open(row)
        p = _participant(conn, row["id"], token, lock=True)
        ws_opts = [Option(r.code, r.label) for r in conn.execute(
            select(options_t.c.code, options_t.c.label).where(options_t.c.workshop_id == row["id"]))]
        codes = [resolve_option(ws_opts, c) for c in choices]
        if len(codes) > row["dots"]:
            raise WorkshopError(f"{len(codes)} dots placed, the limit is {row['dots']} per participant: "
                                "your earlier dots are unchanged")
        _replace_dots(conn, row, p["id"], codes)
    return codes


def resolve_question(questions: list[str], given: str | int) -> int:
    """A question's number (from 1) from its number or its exact text."""
    text_given = str(given).strip()
    if text_given.isdigit() and 1 <= int(text_given) <= len(questions):
        return int(text_given)
    for i, q in enumerate(questions, 1):
        if q.casefold() == text_given.casefold():
            return i
    raise WorkshopError(f"question {text_given!r} is not one of this workshop's: "
                        + "; ".join(f"{i}. {q}" for i, q in enumerate(questions, 1)))


def add_note(workshop_id: str, token: str, question: str | int, note: str, eng: Engine | None = None) -> int:
    """Add a short note (≤ 500 characters) under a question; returns the question's number."""
    note = str(note).strip()
    if not note:
        raise WorkshopError("note: empty")
    if len(note) > NOTE_MAX:
        raise WorkshopError(f"note: {len(note)} characters, at most {NOTE_MAX}")
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id)
        _require_open(row)
        p = _participant(conn, row["id"], token, lock=True)
        qs = [r.text for r in conn.execute(select(questions_t.c.text).where(questions_t.c.workshop_id == row["id"])
                                           .order_by(questions_t.c.number))]
        number = resolve_question(qs, question)
        n = conn.execute(select(func.count()).select_from(notes_t)
                         .where(notes_t.c.participant_id == p["id"])).scalar_one()
        if n >= NOTES_PER_PARTICIPANT_MAX:
            raise WorkshopError(f"you have written {n} notes, the most one participant can add")
        conn.execute(insert(notes_t).values(workshop_id=row["id"], participant_id=p["id"], question=number,
                                            text=note, created_at=_now()))
    return number


def my_part(workshop_id: str, token: str, eng: Engine | None = None) -> dict:
    """The participant's own name, dots (codes) and notes."""
    with store.reading(_eng(eng)) as conn:
        row = _row(conn, workshop_id)
        p = _participant(conn, row["id"], token)
        mine = conn.execute(select(dots_t.c.option_code).where(dots_t.c.participant_id == p["id"])
                            .order_by(dots_t.c.slot)).scalars().all()
        my_notes = [{"question": r.question, "text": r.text} for r in conn.execute(
            select(notes_t.c.question, notes_t.c.text).where(notes_t.c.participant_id == p["id"])
            .order_by(notes_t.c.id))]
    return {"name": p["name"], "dots": list(mine), "notes": my_notes}


def _tally(conn: Connection, ws: Workshop) -> dict:
    counts = dict(conn.execute(select(dots_t.c.option_code, func.count()).where(dots_t.c.workshop_id == ws.id)
                               .group_by(dots_t.c.option_code)).all())
    n_part = conn.execute(select(func.count()).select_from(participants_t)
                          .where(participants_t.c.workshop_id == ws.id)).scalar_one()
    voted = conn.execute(select(func.count(func.distinct(dots_t.c.participant_id)))
                         .where(dots_t.c.workshop_id == ws.id)).scalar_one()
    by_q: dict[int, list[str]] = {}
    for r in conn.execute(select(notes_t.c.question, notes_t.c.text).where(notes_t.c.workshop_id == ws.id)
                          .order_by(notes_t.c.id)):
        by_q.setdefault(r.question, []).append(r.text)
    return {
        "id": ws.id, "title": ws.title, "status": ws.status, "dots_per_participant": ws.dots,
        "options": [{"code": o.code, "label": o.label, "dots": int(counts.get(o.code, 0))} for o in ws.options],
        "participants": int(n_part), "voted": int(voted),
        "notes": [{"number": i, "question": q, "notes": by_q.get(i, [])} for i, q in enumerate(ws.questions, 1)],
        "agreed": ws.agreed,
    }


def tally(workshop_id: str, eng: Engine | None = None) -> dict:
    """The live count: ``{"options": [{"code", "label", "dots"}], "participants", "voted", "notes": [{"number",
    "question", "notes": [text, …]}], …}`` — notes without names, as the projector shows them."""
    with store.reading(_eng(eng)) as conn:
        return _tally(conn, _load(conn, _row(conn, workshop_id)))


def close(workshop_id: str, key: str, agreed: list[str] | None = None, eng: Engine | None = None) -> Workshop:
    """Close voting (facilitator key needed) and mark the agreed focus (one or two options, codes or
    labels). Calling it again on a closed workshop changes only the agreed focus."""
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        ws = _load(conn, row)
        codes = list(dict.fromkeys(resolve_option(ws.options, a) for a in (agreed or [])))
        if len(codes) > AGREED_MAX:
            raise WorkshopError(f"agreed focus: {len(codes)} options, mark one or two")
        values = {"agreed": json.dumps(codes)} if agreed is not None else {}
        if row["status"] == "open":
            values.update(status="closed", closed_at=_now())
        if values:
            conn.execute(update(workshops_t).where(workshops_t.c.id == row["id"]).values(**values))
        return _load(conn, _row(conn, workshop_id))


def reopen(workshop_id: str, key: str, eng: Engine | None = None) -> None:
    """Open voting again (facilitator key needed); votes and notes are kept."""
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        conn.execute(update(workshops_t).where(workshops_t.c.id == row["id"]).values(status="open", closed_at=None))


def record(workshop_id: str, key: str, eng: Engine | None = None) -> dict:
    """Everything the workshop holds, for the export (facilitator key needed): the workshop, its tally,
    every current dot and every note with the participant's display name."""
    with store.reading(_eng(eng)) as conn:
        row = _row(conn, workshop_id)
        _require_key(row, key)
        ws = _load(conn, row)
        names = dict(conn.execute(select(participants_t.c.id, participants_t.c.name)
                                  .where(participants_t.c.workshop_id == ws.id)).all())
        votes = [{"participant": names[r.participant_id], "participant_id": r.participant_id, "dot": r.slot + 1,
                  "option_code": r.option_code, "option_label": ws.option_label(r.option_code)}
                 for r in conn.execute(select(dots_t).where(dots_t.c.workshop_id == ws.id)
                                       .order_by(dots_t.c.participant_id, dots_t.c.slot))]
        all_notes = [{"participant": names[r.participant_id], "participant_id": r.participant_id,
                      "question_number": r.question, "question": ws.questions[r.question - 1], "text": r.text,
                      "created_at": r.created_at}
                     for r in conn.execute(select(notes_t).where(notes_t.c.workshop_id == ws.id).order_by(notes_t.c.id))]
        t = _tally(conn, ws)
        meta = {"created_at": row["created_at"], "closed_at": row["closed_at"]}
    return {"workshop": ws, "tally": t, "votes": votes, "notes": all_notes, **meta}


def delete_workshop(workshop_id: str, key: str, eng: Engine | None = None) -> None:
    """Delete a workshop with its votes and notes (facilitator key needed)."""
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        wid = row["id"]
        for t in (dots_t, notes_t, participants_t, options_t, questions_t):
            conn.execute(delete(t).where(t.c.workshop_id == wid))
        conn.execute(delete(workshops_t).where(workshops_t.c.id == wid))

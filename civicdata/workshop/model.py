"""Workshops: create, join (with a sector), vote in rounds (dots, points or a 2×2), note, tally by sector, close,
record actions, export, delete — one transaction each.

Ids, facilitator keys and participant tokens come from :mod:`secrets`; only SHA-256 hashes of keys and
tokens are stored. The facilitator key is needed to close, export or delete; a participant token
changes only its own dots and notes. A vote replaces all of the participant's dots at once, inside one
transaction that first locks the participant (PostgreSQL ``FOR UPDATE``; SQLite ``BEGIN IMMEDIATE``), so
two racing votes never leave more dots than the limit and a killed process leaves the earlier vote whole.

Rounds: a workshop votes in rounds, one mode each — ``dots`` (a few dots, repeats stack), ``points`` (a budget,
default 100, spread over the options) or ``matrix`` (each option placed on impact and feasibility, 1–5). Round 1
is made with the workshop; the facilitator may open another (the highest number is current: earlier rounds keep
their ballots). A participant's ballot in a round replaces their earlier one whole.

Invariants: a participant's dots or points in a round are 0..the round's budget; the tally of an option is the
sum over current ballots (by sector: over the participants who joined as that sector); a 2×2 average is over
the participants who placed the option; a closed workshop takes no votes, notes or joins.
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
from civicdata.store import actions as actions_t
from civicdata.store import ballots as ballots_t
from civicdata.store import extra_sectors as sectors_t
from civicdata.store import members as members_t
from civicdata.store import notes as notes_t
from civicdata.store import options as options_t
from civicdata.store import participants as participants_t
from civicdata.store import questions as questions_t
from civicdata.store import rounds as rounds_t
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
MODES = ("dots", "points", "matrix")
MODE_NAMES = {"dots": "dots", "points": "points", "matrix": "2×2 of impact and feasibility"}
POINTS_DEFAULT = 100
POINTS_MAX = 1000
SCALE = (1, 5)  # impact and feasibility, each
ROUNDS_MAX = 10
ORGANISATION_MAX = 120
#: the standard sectors (code: label); a facilitator may add others to a workshop
SECTORS = {"school-trust": "School trust", "nhs-trust": "NHS trust", "council": "Council",
           "vcs": "Voluntary or community sector", "other": "Other"}
SECTOR_LABEL_MAX = 60
ACTIONS_MAX = 40
ACTION_TITLE_MAX = 200

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


@dataclass(frozen=True)
class Round:
    """One voting round: its ``number`` (from 1), ``mode`` (dots, points or matrix), ``budget`` (dots or points
    per participant; None for a 2×2) and the ``question`` it answers (may be empty)."""

    number: int
    mode: str
    budget: int | None
    question: str = ""

    def to_json(self) -> dict:
        return {"number": self.number, "mode": self.mode, "budget": self.budget, "question": self.question}


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
    rounds: list[Round] = field(default_factory=list)
    sectors: dict[str, str] = field(default_factory=lambda: dict(SECTORS))

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    @property
    def round(self) -> Round:
        """The current (highest-numbered) round."""
        return self.rounds[-1] if self.rounds else Round(1, "dots", self.dots)

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


def round_lead(t: dict) -> str:
    """The headline of a round's tally: :func:`lead_words` for dots or points; for a 2×2 the option(s) with the
    highest mean impact plus feasibility ("Prevention is placed highest: impact 4.5, feasibility 4.0"; a tie is
    said as a tie); "" while nothing is placed."""
    if t["mode"] != "matrix":
        return lead_words(t["options"], t["mode"])
    placed = [o for o in t["options"] if o["placed"]]
    if not placed:
        return ""
    top = max(o["impact"] + o["feasibility"] for o in placed)
    best = [o for o in placed if o["impact"] + o["feasibility"] == top]
    if len(best) == 1:
        o = best[0]
        return f"{o['label']} is placed highest: impact {o['impact']:.1f}, feasibility {o['feasibility']:.1f}"
    return (", ".join(o["label"] for o in best[:-1]) + f" and {best[-1]['label']} tie, placed highest "
            f"(impact + feasibility {top:.1f})")


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


def _check_mode(mode: str, budget: int | None) -> list[str]:
    if mode not in MODES:
        return [f"mode: {mode!r} is not one of {', '.join(MODES)}"]
    if mode == "dots" and not 1 <= int(budget or 0) <= DOTS_MAX:
        return [f"dots: {budget} per participant, allowed 1 to {DOTS_MAX}"]
    if mode == "points" and not 1 <= int(budget or 0) <= POINTS_MAX:
        return [f"points: {budget} per participant, allowed 1 to {POINTS_MAX}"]
    return []


def _check_create(title: str, options: list[Option], dots: int, questions: list[str], held_on: str,
                  mode: str = "dots", points: int = POINTS_DEFAULT) -> list[str]:
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
    problems += _check_mode(mode, dots if mode == "dots" else points)
    if len(questions) > QUESTIONS_MAX:
        problems.append(f"questions: {len(questions)} given, at most {QUESTIONS_MAX}")
    for i, q in enumerate(questions, 1):
        if len(q) > QUESTION_MAX:
            problems.append(f"question {i}: {len(q)} characters, at most {QUESTION_MAX}")
    return problems


def create_workshop(title: str, options: list[Option], *, held_on: str | None = None, place_code: str | None = None,
                    place_name: str = "", dots: int = DOTS_DEFAULT, questions: list[str] | None = None,
                    evidence: dict | None = None, mode: str = "dots", points: int = POINTS_DEFAULT,
                    eng: Engine | None = None) -> Created:
    """Create a workshop with its round 1 (``mode`` dots, points or matrix; ``dots`` or ``points`` per
    participant) and return its id, the facilitator key (shown once) and the join path.

    ``held_on`` is an ISO date (default today); ``place_code`` an ONS LAD code (2024), ``area:ID`` (a saved custom area) or None.
    Raises :class:`WorkshopError` listing every problem at once.
    """
    held_on = held_on or dt.date.today().isoformat()
    qs = [_clean(q) for q in (list(DEFAULT_QUESTIONS) if questions is None else questions) if _clean(q)]
    opts = [Option(o.code, _clean(o.label), str(o.reason or "").strip()) for o in options]
    problems = _check_create(title, opts, int(dots), qs, held_on, mode, int(points))
    if problems:
        raise WorkshopError("the workshop cannot be created:\n" + "\n".join(f"  - {p}" for p in problems))
    wid = new_secret(16)
    key = new_secret(32)
    with store.writing(_eng(eng)) as conn:
        conn.execute(insert(workshops_t).values(
            id=wid, key_hash=_hash(key), title=_clean(title), held_on=held_on, place_code=place_code,
            place_name=_clean(place_name), dots=int(dots), status="open", agreed="[]",
            evidence=json.dumps(evidence or {}, ensure_ascii=False), created_at=_now()))
        conn.execute(insert(rounds_t).values(workshop_id=wid, number=1, mode=mode, opened_at=_now(),
                                             budget={"dots": int(dots), "points": int(points)}.get(mode)))
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
    rounds = [Round(r.number, r.mode, r.budget, r.question) for r in conn.execute(
        select(rounds_t).where(rounds_t.c.workshop_id == wid).order_by(rounds_t.c.number))]
    extra = {r.code: r.label for r in conn.execute(
        select(sectors_t.c.code, sectors_t.c.label).where(sectors_t.c.workshop_id == wid).order_by(sectors_t.c.code))}
    return Workshop(wid, row["title"], row["held_on"], row["place_code"], row["place_name"], row["dots"],
                    row["status"], json.loads(row["agreed"]), opts, qs, json.loads(row["evidence"] or "{}"),
                    rounds, {**SECTORS, **extra})


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


def sector_code(sectors: dict[str, str], given: str) -> str:
    """A sector's code from its code or its label (case-insensitive)."""
    g = str(given or "").strip()
    for code, label in sectors.items():
        if g.casefold() in (code.casefold(), label.casefold()):
            return code
    raise WorkshopError(f"sector {g!r} is not one of this workshop's: "
                        + ", ".join(f"{c} ({lbl})" for c, lbl in sectors.items()))


def join(workshop_id: str, name: str, sector: str = "other", organisation: str = "",
         eng: Engine | None = None) -> str:
    """Join as ``name`` (1-60 characters) from a ``sector`` (a code or label: :data:`SECTORS` or one the
    facilitator added) and an optional ``organisation``; returns the participant token (keep it to vote and note)."""
    name, organisation = _clean(name), _clean(organisation)
    if not name:
        raise WorkshopError("name: type a display name (the facilitator sees it, and the record shows it beside your "
                            "notes; the projector never does)")
    if len(name) > NAME_MAX:
        raise WorkshopError(f"name: {len(name)} characters, at most {NAME_MAX}")
    if len(organisation) > ORGANISATION_MAX:
        raise WorkshopError(f"organisation: {len(organisation)} characters, at most {ORGANISATION_MAX}")
    token = new_secret(32)
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)  # joins queue on the workshop row: the limit holds
        _require_open(row)
        code = sector_code(_load(conn, row).sectors, sector)
        n = conn.execute(select(func.count()).select_from(participants_t)
                         .where(participants_t.c.workshop_id == row["id"])).scalar_one()
        if n >= PARTICIPANTS_MAX:
            raise WorkshopError(f"this workshop is full: {PARTICIPANTS_MAX} participants have joined")
        pid = conn.execute(insert(participants_t).values(workshop_id=row["id"], token_hash=_hash(token), name=name,
                                                         joined_at=_now())).inserted_primary_key[0]
        conn.execute(insert(members_t).values(participant_id=pid, workshop_id=row["id"], sector=code,
                                              organisation=organisation))
    return token


def add_sector(workshop_id: str, key: str, label: str, eng: Engine | None = None) -> str:
    """Add a sector to this workshop's join form (facilitator key needed); returns its code (from the label)."""
    label = _clean(label)
    if not label or len(label) > SECTOR_LABEL_MAX:
        raise WorkshopError(f"sector: give a name of 1 to {SECTOR_LABEL_MAX} characters")
    code = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")[:24] or "sector"
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        have = _load(conn, row).sectors
        if code in have or label.casefold() in {v.casefold() for v in have.values()}:
            raise WorkshopError(f"sector {label!r} is there already")
        conn.execute(insert(sectors_t).values(workshop_id=row["id"], code=code, label=label))
    return code


def new_round(workshop_id: str, key: str, mode: str, budget: int | None = None, question: str = "",
              eng: Engine | None = None) -> Round:
    """Open the next voting round (facilitator key needed): ``mode`` dots (``budget`` dots, default 3), points
    (default 100) or matrix. Earlier rounds keep their ballots; participants now vote in this one."""
    budget = {"dots": DOTS_DEFAULT, "points": POINTS_DEFAULT}.get(mode) if budget is None else int(budget)
    problems = _check_mode(mode, budget)
    question = _clean(question)
    if len(question) > QUESTION_MAX:
        problems.append(f"question: {len(question)} characters, at most {QUESTION_MAX}")
    if problems:
        raise WorkshopError("the round cannot be opened: " + "; ".join(problems))
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        _require_open(row)
        n = len(_load(conn, row).rounds)
        if n >= ROUNDS_MAX:
            raise WorkshopError(f"this workshop has {n} rounds, the most it can hold")
        made = Round(n + 1, mode, budget if mode != "matrix" else None, question)
        conn.execute(insert(rounds_t).values(workshop_id=row["id"], number=made.number, mode=mode, budget=made.budget,
                                             question=question, opened_at=_now()))
    return made


def _replace_ballot(conn: Connection, row, participant_id: int, number: int, rows: dict[str, dict]) -> None:
    """Inside a write transaction: the participant's ballot in round ``number`` becomes ``rows`` ({option code:
    {"amount" | "impact", "feasibility"}}) — delete, then insert."""
    conn.execute(delete(ballots_t).where(ballots_t.c.participant_id == participant_id, ballots_t.c.round == number))
    if rows:
        conn.execute(insert(ballots_t), [{"participant_id": participant_id, "round": number, "workshop_id": row["id"],
                                          "option_code": c, "amount": v.get("amount"), "impact": v.get("impact"),
                                          "feasibility": v.get("feasibility")} for c, v in rows.items()])


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


def _ballot_context(conn: Connection, workshop_id: str, token: str, mode: str):
    """The open workshop, the locked participant and the current round, which must be in ``mode``."""
    row = _row(conn, workshop_id)
    _require_open(row)
    p = _participant(conn, row["id"], token, lock=True)
    ws = _load(conn, row)
    if ws.round.mode != mode:
        raise WorkshopError(f"round {ws.round.number} is a {MODE_NAMES[ws.round.mode]} round, not {MODE_NAMES[mode]}: "
                            "your earlier ballot is unchanged")
    return row, p, ws


@store.retry_once_if_dropped
def vote(workshop_id: str, token: str, choices: list[str], eng: Engine | None = None) -> list[str]:
    """Place the participant's dots on ``choices`` (codes or labels; one entry per dot, repeats stack) in the
    current round (a dots round), replacing only their earlier dots. More than the limit is refused and the
    earlier dots stay."""
    with store.writing(_eng(eng)) as conn:
        row, p, ws = _ballot_context(conn, workshop_id, token, "dots")
        codes = [resolve_option(ws.options, c) for c in choices]
        if len(codes) > ws.round.budget:
            raise WorkshopError(f"{len(codes)} dots placed, the limit is {ws.round.budget} per participant: "
                                "your earlier dots are unchanged")
        counts: dict[str, int] = {}
        for c in codes:
            counts[c] = counts.get(c, 0) + 1
        _replace_ballot(conn, row, p["id"], ws.round.number, {c: {"amount": n} for c, n in counts.items()})
    return codes


@store.retry_once_if_dropped
def allocate(workshop_id: str, token: str, points: dict[str, int], eng: Engine | None = None) -> dict[str, int]:
    """Spread the participant's points over options (codes or labels → whole points ≥ 0) in the current round
    (a points round), replacing their earlier allocation. Over the budget, or a negative or non-whole number, is
    refused and the earlier allocation stays."""
    with store.writing(_eng(eng)) as conn:
        row, p, ws = _ballot_context(conn, workshop_id, token, "points")
        out: dict[str, int] = {}
        for given, n in points.items():
            code = resolve_option(ws.options, given)
            try:
                value = int(n)
            except (TypeError, ValueError):
                value = -1
            if value < 0 or str(n).strip() not in (str(value), f"{value}.0"):
                raise WorkshopError(f"{n!r} points on {ws.option_label(code)!r}: give a whole number from 0: "
                                    "your earlier points are unchanged")
            out[code] = out.get(code, 0) + value
        total = sum(out.values())
        if total > ws.round.budget:
            raise WorkshopError(f"{total} points placed, the budget is {ws.round.budget} per participant: your "
                                "earlier points are unchanged")
        _replace_ballot(conn, row, p["id"], ws.round.number, {c: {"amount": n} for c, n in out.items() if n})
    return {c: n for c, n in out.items() if n}


@store.retry_once_if_dropped
def place(workshop_id: str, token: str, placings: dict[str, tuple[int, int]],
          eng: Engine | None = None) -> dict[str, tuple[int, int]]:
    """Place options on the 2×2 in the current round (a matrix round): ``{option: (impact, feasibility)}``, each
    1 to 5, replacing the participant's earlier placings. A value out of range is refused and nothing changes."""
    lo, hi = SCALE
    with store.writing(_eng(eng)) as conn:
        row, p, ws = _ballot_context(conn, workshop_id, token, "matrix")
        out: dict[str, tuple[int, int]] = {}
        for given, pair in placings.items():
            code = resolve_option(ws.options, given)
            try:
                impact, feasible = (int(pair[0]), int(pair[1]))
            except (TypeError, ValueError, IndexError):
                impact = feasible = 0
            if not (lo <= impact <= hi and lo <= feasible <= hi):
                raise WorkshopError(f"{ws.option_label(code)!r}: impact and feasibility are each {lo} to {hi} (got "
                                    f"{pair!r}): your earlier placings are unchanged")
            out[code] = (impact, feasible)
        _replace_ballot(conn, row, p["id"], ws.round.number,
                        {c: {"impact": i, "feasibility": f} for c, (i, f) in out.items()})
    return out


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
        raise WorkshopError("note: it is empty: write a few words, then add it")
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


def _ballot_of(conn: Connection, participant_id: int, number: int) -> dict:
    return {r.option_code: r for r in conn.execute(
        select(ballots_t).where(ballots_t.c.participant_id == participant_id, ballots_t.c.round == number)
        .order_by(ballots_t.c.option_code))}


def my_part(workshop_id: str, token: str, eng: Engine | None = None) -> dict:
    """The participant's own name, sector, organisation, notes, and ballot in the current round: ``dots`` (codes,
    one per dot, in option order), ``points`` ({code: points}) and ``matrix`` ({code: [impact, feasibility]})."""
    with store.reading(_eng(eng)) as conn:
        row = _row(conn, workshop_id)
        p = _participant(conn, row["id"], token)
        ws = _load(conn, row)
        m = conn.execute(select(members_t).where(members_t.c.participant_id == p["id"])).mappings().first()
        ballot = _ballot_of(conn, p["id"], ws.round.number)
        my_notes = [{"question": r.question, "text": r.text} for r in conn.execute(
            select(notes_t.c.question, notes_t.c.text).where(notes_t.c.participant_id == p["id"])
            .order_by(notes_t.c.id))]
    mode = ws.round.mode
    amounts = {o.code: int(ballot[o.code].amount) for o in ws.options if o.code in ballot and mode != "matrix"}
    return {"name": p["name"], "sector": m["sector"] if m else "other", "organisation": m["organisation"] if m else "",
            "round": ws.round.to_json(),
            "dots": [c for c, n in amounts.items() for _ in range(n)] if mode == "dots" else [],
            "points": amounts if mode == "points" else {},
            "matrix": {o.code: [ballot[o.code].impact, ballot[o.code].feasibility] for o in ws.options
                       if o.code in ballot} if mode == "matrix" else {},
            "notes": my_notes}


def _sector_of(conn: Connection, workshop_id: str) -> dict[int, str]:
    """Participant id → sector code ("other" for one who joined before sectors were asked)."""
    ids = conn.execute(select(participants_t.c.id).where(participants_t.c.workshop_id == workshop_id)).scalars().all()
    given = dict(conn.execute(select(members_t.c.participant_id, members_t.c.sector)
                              .where(members_t.c.workshop_id == workshop_id)).all())
    return {i: given.get(i, "other") for i in ids}


def _round_tally(conn: Connection, ws: Workshop, rnd: Round, sector_of: dict[int, str]) -> dict:
    """One round's count: options with ``dots`` / ``points`` (and ``by_sector``), or for a 2×2 ``impact``,
    ``feasibility`` (means, 2 decimals), ``placed`` and ``by_sector`` of those."""
    rows = conn.execute(select(ballots_t).where(ballots_t.c.workshop_id == ws.id, ballots_t.c.round == rnd.number)).all()
    voters = {r.participant_id for r in rows}
    sectors = [c for c in ws.sectors if c in set(sector_of.values())]
    voted_by = {c: len({r.participant_id for r in rows if sector_of.get(r.participant_id) == c}) for c in sectors}
    options = []
    for o in ws.options:
        mine = [r for r in rows if r.option_code == o.code]
        item: dict = {"code": o.code, "label": o.label}
        if rnd.mode == "matrix":
            def mean(rs, attr):
                return round(sum(getattr(r, attr) for r in rs) / len(rs), 2) if rs else None
            item.update(impact=mean(mine, "impact"), feasibility=mean(mine, "feasibility"), placed=len(mine),
                        by_sector={c: {"impact": mean(sub, "impact"), "feasibility": mean(sub, "feasibility"),
                                       "placed": len(sub)}
                                   for c in sectors for sub in [[r for r in mine if sector_of.get(r.participant_id) == c]]})
        else:
            item[rnd.mode] = int(sum(r.amount for r in mine))
            item["by_sector"] = {c: int(sum(r.amount for r in mine if sector_of.get(r.participant_id) == c))
                                 for c in sectors}
        options.append(item)
    return {"round": rnd.to_json(), "mode": rnd.mode, "options": options, "voted": len(voters),
            "voted_by_sector": voted_by}


def _tally(conn: Connection, ws: Workshop, number: int | None = None) -> dict:
    sector_of = _sector_of(conn, ws.id)
    rnd = next((r for r in ws.rounds if r.number == number), None) if number else ws.round
    if rnd is None:
        raise WorkshopError(f"round {number}: this workshop has rounds 1 to {len(ws.rounds)}")
    counted = _round_tally(conn, ws, rnd, sector_of)
    by_q: dict[int, list[str]] = {}
    for r in conn.execute(select(notes_t.c.question, notes_t.c.text).where(notes_t.c.workshop_id == ws.id)
                          .order_by(notes_t.c.id)):
        by_q.setdefault(r.question, []).append(r.text)
    joined: dict[str, int] = {}
    for c in sector_of.values():
        joined[c] = joined.get(c, 0) + 1
    out = {
        "id": ws.id, "title": ws.title, "status": ws.status, "dots_per_participant": ws.dots,
        **counted, "rounds": [r.to_json() for r in ws.rounds],
        "participants": len(sector_of),
        "sectors": {c: ws.sectors[c] for c in ws.sectors},
        "participants_by_sector": {c: joined[c] for c in ws.sectors if c in joined},
        "notes": [{"number": i, "question": q, "notes": by_q.get(i, [])} for i, q in enumerate(ws.questions, 1)],
        "agreed": ws.agreed,
    }
    out["sector_words"] = sector_words(out)
    return out


def tally(workshop_id: str, round: int | None = None, eng: Engine | None = None) -> dict:
    """The live count of a round (default the current one): ``{"round": {"number", "mode", "budget",
    "question"}, "mode", "options": [{"code", "label", "dots" | "points", "by_sector": {sector: n}} or, for a
    2×2, {"code", "label", "impact", "feasibility", "placed", "by_sector": {sector: {…}}}], "participants",
    "participants_by_sector", "voted", "voted_by_sector", "sectors", "sector_words", "notes": [{"number",
    "question", "notes": [text, …]}], …}`` — notes without names, as the projector shows them."""
    with store.reading(_eng(eng)) as conn:
        return _tally(conn, _load(conn, _row(conn, workshop_id)), round)


def _plural(label: str) -> str:
    return label if label.endswith("s") or label == "Other" else label + "s"


def sector_words(t: dict) -> str:
    """Where the sectors agree or differ, in words: each sector's first choice (share of its dots or points, or
    for a 2×2 the option it rates highest on impact plus feasibility), and whether they are the same; "" until
    at least two sectors have voted. Ties are said as ties."""
    sectors = [c for c, n in t.get("voted_by_sector", {}).items() if n]
    if len(sectors) < 2:
        return ""
    label = {o["code"]: o["label"] for o in t["options"]}
    firsts: dict[str, tuple[list[str], str]] = {}
    for c in sectors:
        if t["mode"] == "matrix":
            mine = {o["code"]: o["by_sector"][c] for o in t["options"] if o["by_sector"][c]["placed"]}
            score = {k: v["impact"] + v["feasibility"] for k, v in mine.items()}
            top = max(score.values(), default=0)
            best = [k for k, v in score.items() if v == top and top]
            firsts[c] = (best, f"impact {mine[best[0]]['impact']:.1f}, feasibility {mine[best[0]]['feasibility']:.1f}"
                         if len(best) == 1 else f"impact + feasibility {top:.1f}")
        else:
            got = {o["code"]: o["by_sector"][c] for o in t["options"]}
            total, top = sum(got.values()), max(got.values(), default=0)
            firsts[c] = ([k for k, v in got.items() if v == top and top], f"{100 * top / total:.0f}% of their "
                                                                             f"{t['mode']}" if total else "")
    names = t["sectors"]

    def said(codes: list[str]) -> str:
        ls = [label[k] for k in codes]
        return ls[0] if len(ls) == 1 else ", ".join(ls[:-1]) + f" and {ls[-1]} (tied)"

    same = {tuple(v[0]) for v in firsts.values()}
    if len(same) == 1:
        both = "both" if len(sectors) == 2 else f"all {len(sectors)}"
        who = " and ".join(_plural(names[c]) for c in sectors) if len(sectors) == 2 else "the sectors"
        return f"{who[:1].upper()}{who[1:]} agree: {said(firsts[sectors[0]][0])} first in {both}."
    parts = [f"{_plural(names[c])} put {said(firsts[c][0])} first ({firsts[c][1]})" for c in sectors]
    return "The sectors differ: " + "; ".join(parts) + "."


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


def add_action(workshop_id: str, key: str, title: str, owner: str, organisation: str, review_on: str,
               eng: Engine | None = None) -> dict:
    """Record a commitment beside the agreed focus (facilitator key needed; open or closed): what (``title``), who
    (``owner`` and ``organisation``) and when to review it (``review_on``, YYYY-MM-DD). Every problem at once."""
    title, owner, organisation = _clean(title), _clean(owner), _clean(organisation)
    problems = []
    if not title or len(title) > ACTION_TITLE_MAX:
        problems.append(f"title: 1 to {ACTION_TITLE_MAX} characters (got {len(title)})")
    if not owner or len(owner) > NAME_MAX:
        problems.append(f"owner: 1 to {NAME_MAX} characters (got {len(owner)})")
    if len(organisation) > ORGANISATION_MAX:
        problems.append(f"organisation: at most {ORGANISATION_MAX} characters (got {len(organisation)})")
    try:
        review_on = dt.date.fromisoformat(str(review_on)).isoformat()
    except ValueError:
        problems.append(f"review date: {review_on!r} is not a date (YYYY-MM-DD)")
    if problems:
        raise WorkshopError("the action cannot be recorded:\n" + "\n".join(f"  - {x}" for x in problems))
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        n = conn.execute(select(func.count()).select_from(actions_t)
                         .where(actions_t.c.workshop_id == row["id"])).scalar_one()
        if n >= ACTIONS_MAX:
            raise WorkshopError(f"this workshop has {n} actions, the most it can hold")
        values = {"title": title, "owner": owner, "organisation": organisation, "review_on": review_on}
        aid = conn.execute(insert(actions_t).values(workshop_id=row["id"], created_at=_now(), **values)
                           ).inserted_primary_key[0]
    return {"id": int(aid), **values}


def delete_action(workshop_id: str, key: str, action_id: int, eng: Engine | None = None) -> None:
    """Remove one recorded action (facilitator key needed)."""
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        if conn.execute(delete(actions_t).where(actions_t.c.workshop_id == row["id"],
                                                actions_t.c.id == int(action_id))).rowcount == 0:
            raise WorkshopError(f"this workshop has no action {action_id}")


def _actions(conn: Connection, workshop_id: str) -> list[dict]:
    return [{"id": r.id, "title": r.title, "owner": r.owner, "organisation": r.organisation, "review_on": r.review_on}
            for r in conn.execute(select(actions_t).where(actions_t.c.workshop_id == workshop_id)
                                  .order_by(actions_t.c.review_on, actions_t.c.id))]


def list_actions(workshop_id: str, eng: Engine | None = None) -> list[dict]:
    """The workshop's recorded actions, by review date: ``[{"id", "title", "owner", "organisation", "review_on"}]``."""
    with store.reading(_eng(eng)) as conn:
        return _actions(conn, _row(conn, workshop_id)["id"])


def record(workshop_id: str, key: str, eng: Engine | None = None) -> dict:
    """Everything the workshop holds, for the export (facilitator key needed): the workshop, the current round's
    tally and every round's, every ballot line and every note with the participant's display name, sector and
    organisation, and the actions."""
    with store.reading(_eng(eng)) as conn:
        row = _row(conn, workshop_id)
        _require_key(row, key)
        ws = _load(conn, row)
        sector_of = _sector_of(conn, ws.id)
        people = {r.id: r.name for r in conn.execute(select(participants_t.c.id, participants_t.c.name)
                                                     .where(participants_t.c.workshop_id == ws.id))}
        orgs = dict(conn.execute(select(members_t.c.participant_id, members_t.c.organisation)
                                 .where(members_t.c.workshop_id == ws.id)).all())

        def who(pid: int) -> dict:
            return {"participant": people[pid], "participant_id": pid, "sector": sector_of[pid],
                    "organisation": orgs.get(pid, "")}
        modes = {r.number: r.mode for r in ws.rounds}
        votes = [{**who(r.participant_id), "round": r.round, "mode": modes.get(r.round, "dots"),
                  "option_code": r.option_code, "option_label": ws.option_label(r.option_code), "amount": r.amount,
                  "impact": r.impact, "feasibility": r.feasibility}
                 for r in conn.execute(select(ballots_t).where(ballots_t.c.workshop_id == ws.id)
                                       .order_by(ballots_t.c.round, ballots_t.c.participant_id, ballots_t.c.option_code))]
        all_notes = [{**who(r.participant_id), "question_number": r.question, "question": ws.questions[r.question - 1],
                      "text": r.text, "created_at": r.created_at}
                     for r in conn.execute(select(notes_t).where(notes_t.c.workshop_id == ws.id).order_by(notes_t.c.id))]
        rounds = [_tally(conn, ws, r.number) for r in ws.rounds] or [_tally(conn, ws)]
        meta = {"created_at": row["created_at"], "closed_at": row["closed_at"]}
        acts = _actions(conn, ws.id)
    return {"workshop": ws, "tally": rounds[-1], "rounds": rounds, "votes": votes,
            "notes": all_notes, "actions": acts, **meta}


def delete_workshop(workshop_id: str, key: str, eng: Engine | None = None) -> None:
    """Delete a workshop with its rounds, ballots, notes and actions (facilitator key needed)."""
    with store.writing(_eng(eng)) as conn:
        row = _row(conn, workshop_id, lock=True)
        _require_key(row, key)
        wid = row["id"]
        for t in (ballots_t, store.dots, notes_t, members_t, participants_t, options_t, questions_t, rounds_t,
                  sectors_t, actions_t):
            conn.execute(delete(t).where(t.c.workshop_id == wid))
        conn.execute(delete(workshops_t).where(workshops_t.c.id == wid))

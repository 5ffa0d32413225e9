"""Workshop actions on SQLite and on a real PostgreSQL server: limits, keys, tokens, invariants, concurrency."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from civicdata import store
from civicdata.workshop import model

REPO = Path(__file__).resolve().parents[1]
WORKER = REPO / "tests" / "workshop_worker.py"
THEMES = ["Prevention", "Workforce", "Community health on school sites"]


@pytest.fixture
def eng(db_url):
    e = store.engine(db_url)
    yield e
    store.dispose_all()


@pytest.fixture
def ws(eng):
    return model.create_workshop("Trafford convening", model.parse_options(THEMES), place_code="E08000009",
                                 place_name="Trafford", held_on="2026-11-27", eng=eng)


def _dots_of(eng, wid) -> dict[int, list[str]]:
    with store.reading(eng) as conn:
        rows = conn.execute(select(store.dots.c.participant_id, store.dots.c.option_code)
                            .where(store.dots.c.workshop_id == wid).order_by(store.dots.c.slot)).all()
    out: dict[int, list[str]] = {}
    for pid, code in rows:
        out.setdefault(pid, []).append(code)
    return out


def test_schema_is_created_once_and_versioned(eng, db_url):
    assert store.schema_version(eng) == store.SCHEMA_VERSION
    store.dispose_all()
    assert store.schema_version(store.engine(db_url)) == store.SCHEMA_VERSION  # reopening keeps one version row


def test_ids_keys_and_tokens_are_unguessable_and_not_stored(eng, ws):
    assert len(ws.id) == 16 and len(ws.facilitator_key) == 32 and ws.id.isalnum() and ws.facilitator_key.isalnum()
    other = model.create_workshop("Another", model.parse_options(THEMES), eng=eng)
    assert other.id != ws.id and other.facilitator_key != ws.facilitator_key
    token = model.join(ws.id, "Ana", eng=eng)
    with store.reading(eng) as conn:
        stored = json.dumps([list(r) for r in conn.execute(select(store.workshops)).all()] +
                            [list(r) for r in conn.execute(select(store.participants)).all()], default=str)
    assert ws.facilitator_key not in stored and token not in stored
    assert ws.join_path == f"/workshop?ws={ws.id}&view=join"


def test_vote_replaces_only_own_dots_and_tally_is_the_sum(eng, ws):
    a, b = model.join(ws.id, "Ana", eng=eng), model.join(ws.id, "Bo", eng=eng)
    model.vote(ws.id, a, ["prevention", "prevention", "Workforce"], eng=eng)
    model.vote(ws.id, b, ["workforce"], eng=eng)
    model.vote(ws.id, a, ["community-health-on-school-sites"], eng=eng)  # re-vote: Ana's three become one
    t = model.tally(ws.id, eng=eng)
    assert {o["code"]: o["dots"] for o in t["options"]} == {"prevention": 0, "workforce": 1,
                                                            "community-health-on-school-sites": 1}
    assert t["participants"] == 2 and t["voted"] == 2
    model.vote(ws.id, a, ["community-health-on-school-sites"], eng=eng)  # idempotent
    assert model.tally(ws.id, eng=eng) == t


def test_over_the_limit_is_refused_and_earlier_dots_stay(eng, ws):
    a = model.join(ws.id, "Ana", eng=eng)
    model.vote(ws.id, a, ["prevention", "workforce"], eng=eng)
    with pytest.raises(model.WorkshopError, match="4 dots placed, the limit is 3"):
        model.vote(ws.id, a, ["prevention"] * 4, eng=eng)
    with pytest.raises(model.WorkshopError, match="not one of this workshop's"):
        model.vote(ws.id, a, ["housing"], eng=eng)
    assert model.my_part(ws.id, a, eng=eng)["dots"] == ["prevention", "workforce"]


def test_tokens_and_keys_are_checked(eng, ws):
    other = model.create_workshop("Other", model.parse_options(THEMES), eng=eng)
    a = model.join(ws.id, "Ana", eng=eng)
    with pytest.raises(model.AccessError):
        model.vote(other.id, a, ["prevention"], eng=eng)  # a token works in its own workshop only
    with pytest.raises(model.AccessError):
        model.vote(ws.id, "x" * 32, ["prevention"], eng=eng)
    for action in (lambda k: model.close(ws.id, k, eng=eng), lambda k: model.record(ws.id, k, eng=eng),
                   lambda k: model.delete_workshop(ws.id, k, eng=eng)):
        with pytest.raises(model.AccessError, match="wrong facilitator key"):
            action(other.facilitator_key)
    with pytest.raises(model.UnknownWorkshopError, match="no workshop has the id"):
        model.tally("nosuchworkshop00", eng=eng)
    assert model.check_key(ws.id, ws.facilitator_key, eng=eng) and not model.check_key(ws.id, "", eng=eng)


def test_limits_have_clear_messages(eng, ws):
    with pytest.raises(model.WorkshopError, match="name: 61 characters, at most 60"):
        model.join(ws.id, "n" * 61, eng=eng)
    with pytest.raises(model.WorkshopError, match="name: type a display name"):
        model.join(ws.id, "   ", eng=eng)
    a = model.join(ws.id, "Ana", eng=eng)
    with pytest.raises(model.WorkshopError, match="note: 501 characters, at most 500"):
        model.add_note(ws.id, a, 1, "x" * 501, eng=eng)
    with pytest.raises(model.WorkshopError, match="question '9' is not one"):
        model.add_note(ws.id, a, 9, "hello", eng=eng)
    with pytest.raises(model.WorkshopError) as err:  # every problem at once
        model.create_workshop("", model.parse_options([f"Option {i}" for i in range(21)] + ["Option 1"]), dots=0,
                              held_on="27/11/2026", eng=eng)
    msg = str(err.value)
    for part in ("title: give the workshop a title", "options: 22 given, at most 20", "repeats an earlier option",
                 "dots: 0 per participant", "'27/11/2026' is not a date"):
        assert part in msg


def test_participant_limit(eng, monkeypatch):
    monkeypatch.setattr(model, "PARTICIPANTS_MAX", 3)
    w = model.create_workshop("Small room", model.parse_options(THEMES), eng=eng)
    for n in range(3):
        model.join(w.id, f"P{n}", eng=eng)
    with pytest.raises(model.WorkshopError, match="this workshop is full: 3 participants"):
        model.join(w.id, "P3", eng=eng)


def test_shipped_limits_are_the_documented_ones():
    assert (model.NAME_MAX, model.NOTE_MAX, model.OPTIONS_MAX, model.PARTICIPANTS_MAX, model.DOTS_DEFAULT) == \
        (60, 500, 20, 300, 3)


def test_notes_by_question_number_or_text(eng, ws):
    a = model.join(ws.id, "Ana", eng=eng)
    assert model.add_note(ws.id, a, "What are the barriers?", "Two buses to the clinic", eng=eng) == 2
    assert model.add_note(ws.id, a, "6", "<script>alert(1)</script>", eng=eng) == 6
    t = model.tally(ws.id, eng=eng)
    assert t["notes"][1] == {"number": 2, "question": "What are the barriers?", "notes": ["Two buses to the clinic"]}
    assert t["notes"][5]["notes"] == ["<script>alert(1)</script>"]  # stored as typed; escaped when shown


def test_close_marks_agreed_focus_and_stops_votes(eng, ws):
    a = model.join(ws.id, "Ana", eng=eng)
    model.vote(ws.id, a, ["prevention"], eng=eng)
    with pytest.raises(model.WorkshopError, match="mark one or two"):
        model.close(ws.id, ws.facilitator_key, ["prevention", "workforce", "Community health on school sites"], eng=eng)
    assert model.get_workshop(ws.id, eng=eng).is_open  # the refused close changed nothing
    closed = model.close(ws.id, ws.facilitator_key, ["Prevention"], eng=eng)
    assert closed.status == "closed" and closed.agreed == ["prevention"]
    for act in (lambda: model.vote(ws.id, a, ["workforce"], eng=eng), lambda: model.join(ws.id, "Bo", eng=eng),
                lambda: model.add_note(ws.id, a, 1, "late", eng=eng)):
        with pytest.raises(model.WorkshopError, match="is closed"):
            act()
    model.reopen(ws.id, ws.facilitator_key, eng=eng)
    model.vote(ws.id, a, ["workforce"], eng=eng)
    assert model.tally(ws.id, eng=eng)["options"][1]["dots"] == 1


def test_delete_removes_everything(eng, ws):
    a = model.join(ws.id, "Ana", eng=eng)
    model.vote(ws.id, a, ["prevention"], eng=eng)
    model.add_note(ws.id, a, 1, "note", eng=eng)
    model.delete_workshop(ws.id, ws.facilitator_key, eng=eng)
    with store.reading(eng) as conn:
        for t in (store.workshops, store.options, store.questions, store.participants, store.dots, store.notes):
            assert conn.execute(select(t)).all() == [], t.name


# ------------------------------------------------------------------------------------------ separate processes

def _workers(db_url: str, wid: str, jobs: list[list[str]], start_in: float = 4.0) -> list[subprocess.Popen]:
    start_at = str(time.time() + start_in)
    return [subprocess.Popen([sys.executable, str(WORKER), db_url, wid, start_at, *job], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for job in jobs]


def _finish(procs: list[subprocess.Popen]) -> list[str]:
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=180)
        assert p.returncode == 0, err
        outs.append(out.strip())
    return outs


def test_thirty_participants_at_once_give_an_exact_tally(eng, db_url, ws):
    codes = [o.code for o in model.get_workshop(ws.id, eng=eng).options]
    jobs, expected = [], {c: 0 for c in codes}
    for i in range(30):
        choice = [codes[i % 3], codes[(i * 7) % 3], codes[(i // 3) % 3]][: 1 + i % 3]
        for c in choice:
            expected[c] += 1
        jobs.append(["join", f"Participant {i}", *choice])
    tokens = _finish(_workers(db_url, ws.id, jobs, start_in=6.0))
    assert len(set(tokens)) == 30
    t = model.tally(ws.id, eng=eng)
    assert {o["code"]: o["dots"] for o in t["options"]} == expected
    assert t["participants"] == 30 and t["voted"] == 30
    assert all(len(d) <= 3 for d in _dots_of(eng, ws.id).values())


def test_racing_votes_never_exceed_the_limit_and_every_snapshot_is_a_whole_vote(eng, db_url, ws):
    token = model.join(ws.id, "Ana", eng=eng)
    model.vote(ws.id, token, ["prevention"] * 3, eng=eng)
    sets = {"p": ["prevention"] * 3, "w": ["workforce"] * 3, "mix": ["workforce", "prevention", "workforce"]}
    jobs = [["race", token, "25", "prevention,prevention,prevention|workforce,workforce,workforce"],
            ["race", token, "25", "workforce,prevention,workforce|prevention,workforce,prevention,workforce"],
            ["race", token, "25", "workforce,workforce,workforce"]]
    procs = _workers(db_url, ws.id, jobs, start_in=3.0)
    snapshots = 0
    while any(p.poll() is None for p in procs):
        dots = _dots_of(eng, ws.id)
        assert sum(len(d) for d in dots.values()) == 3, dots  # never more, never a half-replaced vote
        snapshots += 1
        time.sleep(0.01)
    refused = [int(x) for x in _finish(procs)]
    assert refused[1] >= 12  # its four-dot vote is refused every time
    final = _dots_of(eng, ws.id)
    assert len(final) == 1 and sorted(next(iter(final.values()))) in [sorted(s) for s in sets.values()] + \
        [sorted(["prevention", "workforce", "prevention"])]
    assert snapshots > 5


def test_a_vote_killed_mid_transaction_counts_not_at_all(eng, db_url, ws):
    token = model.join(ws.id, "Ana", eng=eng)
    model.vote(ws.id, token, ["prevention", "workforce"], eng=eng)
    (proc,) = _workers(db_url, ws.id, [["hang", token, "community-health-on-school-sites"]], start_in=0)
    assert proc.stdout.readline().strip() == "mid"  # the dots are replaced inside the open transaction
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert model.my_part(ws.id, token, eng=eng)["dots"] == ["prevention", "workforce"]
    model.vote(ws.id, token, ["workforce"], eng=eng)  # and nothing is left locked
    assert model.my_part(ws.id, token, eng=eng)["dots"] == ["workforce"]

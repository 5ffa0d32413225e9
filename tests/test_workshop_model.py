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


def _dots_of(eng, wid, number: int = 1) -> dict[int, list[str]]:
    """Each participant's dots in a round, one code per dot, straight from the ballots table."""
    b = store.ballots
    with store.reading(eng) as conn:
        rows = conn.execute(select(b.c.participant_id, b.c.option_code, b.c.amount)
                            .where(b.c.workshop_id == wid, b.c.round == number).order_by(b.c.option_code)).all()
    out: dict[int, list[str]] = {}
    for pid, code, n in rows:
        out.setdefault(pid, []).extend([code] * n)
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
        for t in (store.workshops, store.options, store.questions, store.participants, store.ballots, store.notes):
            assert conn.execute(select(t)).all() == [], t.name


# ------------------------------------------------------------------------------------------ sectors, rounds, actions

def test_points_are_a_budget_over_allocation_is_refused_and_tallies_split_by_sector(eng):
    w = model.create_workshop("Cross-sector", model.parse_options(THEMES), mode="points", points=100, eng=eng)
    a = model.join(w.id, "Ana", "school-trust", "Dean Trust", eng=eng)
    b = model.join(w.id, "Bo", "NHS trust", eng=eng)  # a sector by its label
    c = model.join(w.id, "Cy", "nhs-trust", "Manchester University NHS FT", eng=eng)
    assert model.allocate(w.id, a, {"prevention": 60, "Workforce": "40"}, eng=eng) == {"prevention": 60,
                                                                                     "workforce": 40}
    with pytest.raises(model.WorkshopError, match="110 points placed, the budget is 100.*earlier points are unchanged"):
        model.allocate(w.id, a, {"prevention": 70, "workforce": 40}, eng=eng)
    for bad in (-5, 2.5, "ten"):
        with pytest.raises(model.WorkshopError, match="give a whole number from 0"):
            model.allocate(w.id, a, {"prevention": bad}, eng=eng)
    assert model.my_part(w.id, a, eng=eng)["points"] == {"prevention": 60, "workforce": 40}
    with pytest.raises(model.WorkshopError, match="round 1 is a points round, not dots"):
        model.vote(w.id, a, ["prevention"], eng=eng)
    model.allocate(w.id, b, {"community-health-on-school-sites": 70, "prevention": 30}, eng=eng)
    model.allocate(w.id, c, {"community-health-on-school-sites": 100}, eng=eng)
    t = model.tally(w.id, eng=eng)
    assert t["mode"] == "points" and t["round"] == {"number": 1, "mode": "points", "budget": 100, "question": ""}
    assert {o["code"]: (o["points"], o["by_sector"]) for o in t["options"]} == {
        "prevention": (90, {"school-trust": 60, "nhs-trust": 30}),
        "workforce": (40, {"school-trust": 40, "nhs-trust": 0}),
        "community-health-on-school-sites": (170, {"school-trust": 0, "nhs-trust": 170})}
    assert t["participants_by_sector"] == {"school-trust": 1, "nhs-trust": 2}
    assert t["voted_by_sector"] == {"school-trust": 1, "nhs-trust": 2}
    assert t["sector_words"] == ("The sectors differ: School trusts put Prevention first (60% of their points); "
                                 "NHS trusts put Community health on school sites first (85% of their points).")
    with pytest.raises(model.WorkshopError, match="sector 'police' is not one of this workshop's: school-trust"):
        model.join(w.id, "Di", "police", eng=eng)


def test_a_2x2_round_averages_impact_and_feasibility_and_earlier_rounds_keep_their_ballots(eng, ws):
    a = model.join(ws.id, "Ana", "school-trust", eng=eng)
    b = model.join(ws.id, "Bo", "council", eng=eng)
    model.vote(ws.id, a, ["prevention", "prevention", "workforce"], eng=eng)
    model.vote(ws.id, b, ["workforce"], eng=eng)
    with pytest.raises(model.AccessError):
        model.new_round(ws.id, "wrong", "matrix", eng=eng)
    with pytest.raises(model.WorkshopError, match="points: 0 per participant"):
        model.new_round(ws.id, ws.facilitator_key, "points", 0, eng=eng)
    r = model.new_round(ws.id, ws.facilitator_key, "matrix", question="Where should we start?", eng=eng)
    assert r == model.Round(2, "matrix", None, "Where should we start?")
    model.place(ws.id, a, {"prevention": (5, 4), "workforce": (2, 3)}, eng=eng)
    model.place(ws.id, b, {"prevention": (4, 2)}, eng=eng)
    for bad in ((6, 1), (0, 3), ("x", 2)):
        with pytest.raises(model.WorkshopError, match="impact and feasibility are each 1 to 5.*unchanged"):
            model.place(ws.id, b, {"workforce": bad}, eng=eng)
    assert model.my_part(ws.id, b, eng=eng)["matrix"] == {"prevention": [4, 2]}
    t = model.tally(ws.id, eng=eng)
    got = {o["code"]: (o["impact"], o["feasibility"], o["placed"]) for o in t["options"]}
    assert got == {"prevention": (4.5, 3.0, 2), "workforce": (2.0, 3.0, 1), "community-health-on-school-sites":
                   (None, None, 0)}
    prev = next(o for o in t["options"] if o["code"] == "prevention")
    assert prev["by_sector"] == {"school-trust": {"impact": 5.0, "feasibility": 4.0, "placed": 1},
                                 "council": {"impact": 4.0, "feasibility": 2.0, "placed": 1}}
    assert t["sector_words"] == "School trusts and Councils agree: Prevention first in both."
    first = model.tally(ws.id, round=1, eng=eng)  # round 1 keeps its dots
    assert {o["code"]: o["dots"] for o in first["options"]} == {"prevention": 2, "workforce": 2,
                                                                "community-health-on-school-sites": 0}
    assert first["sector_words"] == ("The sectors differ: School trusts put Prevention first (67% of their dots); "
                                     "Councils put Workforce first (100% of their dots).")


def test_a_tie_within_a_sector_is_said_as_a_tie_and_one_sector_says_nothing(eng, ws):
    a = model.join(ws.id, "Ana", "school-trust", eng=eng)
    model.vote(ws.id, a, ["prevention", "workforce"], eng=eng)
    assert model.tally(ws.id, eng=eng)["sector_words"] == ""  # one sector: nothing to compare
    b = model.join(ws.id, "Bo", "nhs-trust", eng=eng)
    model.vote(ws.id, b, ["workforce"], eng=eng)
    words = model.tally(ws.id, eng=eng)["sector_words"]
    assert words == ("The sectors differ: School trusts put Prevention and Workforce (tied) first (50% of their "
                     "dots); NHS trusts put Workforce first (100% of their dots).")


def test_a_facilitator_adds_a_sector_and_records_actions(eng, ws):
    with pytest.raises(model.AccessError):
        model.add_sector(ws.id, "nope", "Police", eng=eng)
    assert model.add_sector(ws.id, ws.facilitator_key, "Police and fire", eng=eng) == "police-and-fire"
    with pytest.raises(model.WorkshopError, match="is there already"):
        model.add_sector(ws.id, ws.facilitator_key, "NHS trust", eng=eng)
    token = model.join(ws.id, "Di", "Police and fire", "GMP", eng=eng)
    assert model.my_part(ws.id, token, eng=eng)["sector"] == "police-and-fire"
    assert model.get_workshop(ws.id, eng=eng).sectors["police-and-fire"] == "Police and fire"
    with pytest.raises(model.WorkshopError) as err:  # every problem at once
        model.add_action(ws.id, ws.facilitator_key, "", "o" * 61, "Trafford Council", "31/03/2027", eng=eng)
    for part in ("title: 1 to 200 characters", "owner: 1 to 60 characters (got 61)", "'31/03/2027' is not a date"):
        assert part in str(err.value)
    later = model.add_action(ws.id, ws.facilitator_key, "Map the two-bus schools", "Bo", "TfGM", "2027-06-30", eng=eng)
    first = model.add_action(ws.id, ws.facilitator_key, "Pilot a clinic", "Ana", "Dean Trust", "2027-03-31", eng=eng)
    assert [a["title"] for a in model.list_actions(ws.id, eng=eng)] == ["Pilot a clinic", "Map the two-bus schools"]
    model.delete_action(ws.id, ws.facilitator_key, later["id"], eng=eng)
    assert model.list_actions(ws.id, eng=eng) == [first]
    model.delete_workshop(ws.id, ws.facilitator_key, eng=eng)
    with store.reading(eng) as conn:
        for t in (store.actions, store.members, store.extra_sectors, store.rounds, store.ballots):
            assert conn.execute(select(t)).all() == [], t.name


# ------------------------------------------------------------------------------------------ separate processes

def _workers(db_url: str, wid: str, jobs: list[list[str]], start_in: float = 4.0) -> list[subprocess.Popen]:
    start_at = str(time.time() + start_in)
    return [subprocess.Popen([sys.executable, str(WORKER), db_url, wid, start_at, *job], cwd=REPO,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for job in jobs]


def _watch(procs: list[subprocess.Popen], holds) -> int:
    """Check ``holds()`` over and over while the processes run; how many snapshots were checked."""
    snapshots = 0
    while any(p.poll() is None for p in procs):
        assert holds()
        snapshots += 1
        time.sleep(0.01)
    return snapshots


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
    # never more than the limit, never a half-replaced vote
    snapshots = _watch(procs, lambda: sum(len(d) for d in _dots_of(eng, ws.id).values()) == 3)
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


def test_two_sectors_spread_points_at_once_and_the_split_is_exact(eng, db_url):
    """24 participants from two sectors join and spread 100 points each at the same moment: the totals and the
    split by sector are exactly the sums of what each process sent."""
    w = model.create_workshop("Points at once", model.parse_options(THEMES), mode="points", eng=eng)
    codes = [o.code for o in model.get_workshop(w.id, eng=eng).options]
    jobs, expected = [], {c: {"school-trust": 0, "nhs-trust": 0} for c in codes}
    for i in range(24):
        sector = "school-trust" if i % 2 else "nhs-trust"
        split = [(codes[i % 3], 50 + i), (codes[(i + 1) % 3], 50 - i if i < 50 else 0)]
        for c, n in split:
            expected[c][sector] += n
        jobs.append(["points", f"P{i}", sector, *(f"{c}={n}" for c, n in split)])
    assert len(set(_finish(_workers(db_url, w.id, jobs, start_in=6.0)))) == 24
    t = model.tally(w.id, eng=eng)
    assert {o["code"]: o["by_sector"] for o in t["options"]} == expected
    assert {o["code"]: o["points"] for o in t["options"]} == {c: sum(v.values()) for c, v in expected.items()}
    assert t["voted_by_sector"] == {"school-trust": 12, "nhs-trust": 12}


def test_a_2x2_placed_at_once_averages_exactly(eng, db_url):
    w = model.create_workshop("2x2 at once", model.parse_options(THEMES), mode="matrix", eng=eng)
    jobs, sums = [], {"school-trust": [0, 0, 0], "council": [0, 0, 0]}
    for i in range(16):
        sector = "council" if i % 4 == 0 else "school-trust"
        impact, feasible = 1 + i % 5, 1 + (i * 3) % 5
        sums[sector] = [sums[sector][0] + impact, sums[sector][1] + feasible, sums[sector][2] + 1]
        jobs.append(["matrix", f"P{i}", sector, f"prevention={impact}/{feasible}"])
    _finish(_workers(db_url, w.id, jobs, start_in=6.0))
    prev = model.tally(w.id, eng=eng)["options"][0]
    assert prev["placed"] == 16
    for sector, (si, sf, n) in sums.items():
        assert prev["by_sector"][sector] == {"impact": round(si / n, 2), "feasibility": round(sf / n, 2), "placed": n}


def test_racing_point_allocations_never_exceed_the_budget(eng, db_url):
    w = model.create_workshop("Race", model.parse_options(THEMES), mode="points", eng=eng)
    token = model.join(w.id, "Ana", "council", eng=eng)
    model.allocate(w.id, token, {"prevention": 100}, eng=eng)
    jobs = [["racepoints", token, "25", "prevention=60,workforce=40|workforce=100"],
            ["racepoints", token, "25", "prevention=70,workforce=40|prevention=50,workforce=50"],
            ["racepoints", token, "25", "workforce=30,prevention=70"]]
    procs = _workers(db_url, w.id, jobs, start_in=3.0)
    # never more than the budget, never a half-replaced allocation
    snapshots = _watch(procs, lambda: sum(o["points"] for o in model.tally(w.id, eng=eng)["options"]) == 100)
    refused = [int(x) for x in _finish(procs)]
    assert refused[1] >= 12 and snapshots > 5  # its 110-point set is refused every time

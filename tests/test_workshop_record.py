"""The workshop record: one-page HTML (golden file, escaped), CSV and JSON of votes and notes; and the CLI."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path

import pytest

from civicdata.workshop import model, record
from tests.conftest import run_cli

GOLDEN = Path(__file__).parent / "data" / "workshop_record.html"
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture
def rec():
    ev = {"source": "Strategic focus", "area": "Trafford", "unit": "LSOAs (2021)",
          "indicators": "Income deprivation (weight 1)", "link": "",
          "shortlist": [{"code": "E01006187", "name": "Partington (Trafford 017E)", "rank": 1,
                         "reason": "Most deprived decile for income.", "partial_data": False,
                         "convene": [{"role": "Local authority", "name": "Trafford", "code": "E08000009", "detail": ""}]}]}
    opts = [model.Option("E01006187", "Partington (Trafford 017E)", "Most deprived decile for income."),
            *model.parse_options(["Prevention", f"Workforce {HOSTILE}"])]
    w = model.create_workshop(f"Convening {HOSTILE}", opts, held_on="2026-11-27", place_code="E08000009",
                              place_name="Trafford", evidence=ev)
    a = model.join(w.id, "Ana", sector="school-trust", organisation="Dean Trust")
    b = model.join(w.id, HOSTILE, sector="NHS trust")
    model.vote(w.id, a, ["E01006187", "E01006187", "prevention"])
    model.vote(w.id, b, ["prevention"])
    model.add_note(w.id, b, 1, f"{HOSTILE} fewer A&E visits")
    model.add_note(w.id, a, 6, "=HYPERLINK(\"http://x\")")
    model.close(w.id, w.facilitator_key, ["Prevention"])
    model.add_action(w.id, w.facilitator_key, "Pilot a clinic at Partington school", "Ana", "Dean Trust", "2027-03-31")
    r = model.record(w.id, w.facilitator_key)
    return r


def _stable(text: str, r: dict) -> str:
    text = text.replace(r["workshop"].id, "WORKSHOPID")
    return re.sub(r"\d{1,2} [A-Z][a-z]+ \d{4}, \d\d:\d\d UTC", "TIMESTAMP", text)


def test_html_record_matches_golden_and_escapes_everything(rec):
    html = record.to_html(rec)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    for part in ("Agreed focus", "Prevention", "Partington (Trafford 017E)", "Most deprived decile for income.",
                 "Who to convene", "What impact do we want?", "27 November 2026", "Trafford",
                 "2 participants (1 School trust, 1 NHS trust)", "2 voted (1 School trust, 1 NHS trust)",
                 "Pilot a clinic at Partington school", "31 March 2027", "— Ana, School trust, Dean Trust",
                 "School trusts put Partington (Trafford 017E) first (67% of their dots); NHS trusts put Prevention "
                 "first (100% of their dots)"):
        assert part in html
    assert not re.search(r"\d\.\d{4}", html)  # no figure with four decimals
    assert html.count("<thead>") == html.count("<table>")  # every table headed, its header repeated on a new page
    got = _stable(html, rec)
    if not GOLDEN.exists():  # pragma: no cover - written once, reviewed, committed; a missing file fails
        GOLDEN.write_text(got, encoding="utf-8")
        pytest.fail(f"golden file {GOLDEN} was missing: written now, review it and commit it")
    assert got == GOLDEN.read_text(encoding="utf-8")


def test_csv_has_every_dot_and_note_and_defuses_formulas(rec):
    rows = list(csv.DictReader(io.StringIO(record.to_csv(rec))))
    votes = [r for r in rows if r["kind"] == "vote"]
    notes = [r for r in rows if r["kind"] == "note"]
    assert len(votes) == 3 and len(notes) == 2  # a row per participant and option, its dots counted
    assert sorted((r["option_code"], r["amount"]) for r in votes) == [("E01006187", "2"), ("prevention", "1"),
                                                                      ("prevention", "1")]
    assert {r["sector"] for r in rows if r["kind"] != "action"} == {"nhs-trust", "school-trust"}
    action = next(r for r in rows if r["kind"] == "action")
    assert (action["text"], action["owner"], action["review_on"]) == ("Pilot a clinic at Partington school", "Ana",
                                                                     "2027-03-31")
    assert notes[1]["text"] == "'=HYPERLINK(\"http://x\")" and notes[0]["participant"] == HOSTILE


def test_json_record_round_trips(rec):
    data = json.loads(record.to_json(rec))
    assert data["workshop"]["agreed"] == ["prevention"] and data["workshop"]["status"] == "closed"
    assert {o["code"]: o["dots"] for o in data["tally"]["options"]} == {"E01006187": 2, "prevention": 2,
                                                                        model.slug(f"Workforce {HOSTILE}"): 0}
    assert data["workshop"]["evidence"]["shortlist"][0]["convene"][0]["name"] == "Trafford"
    assert len(data["votes"]) == 3 and len(data["notes"]) == 2
    assert {o["code"]: o["by_sector"] for o in data["tally"]["options"]}["prevention"] == {"school-trust": 1,
                                                                                           "nhs-trust": 1}
    assert data["actions"][0]["owner"] == "Ana" and data["workshop"]["rounds"][0]["mode"] == "dots"


def test_cli_runs_a_workshop_end_to_end(tmp_path):
    env = {"CIVICDATA_DB_URL": f"sqlite:///{tmp_path / 'cli.db'}"}
    r = run_cli("workshop", "create", "--title", "Trafford convening", "--place", "Trafford", "--options",
                "Prevention,Workforce,Community health on school sites", "--json", env=env)
    assert r.returncode == 0, r.stderr
    created = json.loads(r.stdout)
    assert set(created) == {"id", "facilitator_key", "join_path"}
    wid, key = created["id"], created["facilitator_key"]
    token = json.loads(run_cli("workshop", "join", wid, "--name", "Ana", "--json", env=env).stdout)["participant_token"]
    r = run_cli("workshop", "vote", wid, "--token", token, "--option", "prevention", "--option", "Workforce", "--json",
                env=env)
    assert r.returncode == 0, r.stderr
    r = run_cli("workshop", "vote", wid, "--token", token, *["--option", "prevention"] * 4, "--json", env=env)
    assert r.returncode == 1 and "limit is 3" in r.stderr and "Traceback" not in r.stderr
    r = run_cli("workshop", "note", wid, "--token", token, "--question", "2", "--text", "Two buses", "--json", env=env)
    assert json.loads(r.stdout) == {"question": 2}
    t = json.loads(run_cli("workshop", "tally", wid, "--json", env=env).stdout)
    assert [(o["code"], o["label"], o["dots"]) for o in t["options"]] == [
        ("prevention", "Prevention", 1), ("workforce", "Workforce", 1),
        ("community-health-on-school-sites", "Community health on school sites", 0)]
    assert t["participants"] == 1 and t["notes"][1]["notes"] == ["Two buses"]
    for bad in (("export", wid, "--key", "wrong"), ("tally", "nosuchid"), ("close", wid, "--key", "")):
        r = run_cli("workshop", *bad, env=env)
        assert r.returncode == 1 and r.stderr.startswith("error: ") and "Traceback" not in r.stderr, r.stderr
    r = run_cli("workshop", "close", wid, "--key", key, "--agreed", "Prevention", "--json", env=env)
    assert json.loads(r.stdout) == {"id": wid, "status": "closed", "agreed": ["prevention"]}
    out = tmp_path / "record.html"
    r = run_cli("workshop", "export", wid, "--key", key, "--format", "html", "--out", str(out), env=env)
    assert r.returncode == 0 and r.stdout == "" and "Agreed focus" in out.read_text()
    r = run_cli("workshop", "export", wid, "--key", key, "--format", "csv", env=env)
    assert r.stdout.splitlines()[0].startswith("kind,round,mode,participant") and len(r.stdout.splitlines()) == 4


def test_cli_runs_a_points_round_and_a_2x2_across_sectors_with_actions_and_a_pdf(tmp_path):
    env = {"CIVICDATA_DB_URL": f"sqlite:///{tmp_path / 'cli.db'}"}

    def cli(*args):
        r = run_cli("workshop", *args, env=env)
        assert r.returncode == 0, r.stderr
        return json.loads(r.stdout) if "--json" in args else r.stdout

    made = cli("create", "--title", "Cross-sector", "--options", "Prevention,Workforce", "--mode", "points",
               "--points", "10", "--json")
    wid, key = made["id"], made["facilitator_key"]
    ana = cli("join", wid, "--name", "Ana", "--sector", "school-trust", "--organisation", "Dean Trust",
              "--json")["participant_token"]
    bo = cli("join", wid, "--name", "Bo", "--sector", "nhs-trust", "--json")["participant_token"]
    assert cli("vote", wid, "--token", ana, "--option", "prevention=7", "--option", "workforce=3", "--json") == {
        "points": {"prevention": 7, "workforce": 3}}
    r = run_cli("workshop", "vote", wid, "--token", bo, "--option", "prevention=11", env=env)
    assert r.returncode == 1 and "11 points placed, the budget is 10" in r.stderr
    r = run_cli("workshop", "vote", wid, "--token", bo, "--option", "prevention", env=env)
    assert r.returncode == 1 and "this round takes CODE=POINTS" in r.stderr
    cli("vote", wid, "--token", bo, "--option", "workforce=10")
    t = cli("tally", wid, "--by", "sector", "--json")
    assert [(o["code"], o["points"], o["by_sector"]) for o in t["options"]] == [
        ("prevention", 7, {"school-trust": 7, "nhs-trust": 0}), ("workforce", 13, {"school-trust": 3, "nhs-trust": 10})]
    assert "(School trust 7, NHS trust 0)" in cli("tally", wid, "--by", "sector")
    assert cli("round", wid, "--key", key, "--mode", "matrix", "--json")["number"] == 2
    cli("vote", wid, "--token", ana, "--option", "prevention=5,4", "--json")
    assert cli("tally", wid, "--json")["options"][0]["impact"] == 5.0
    assert cli("tally", wid, "--round", "1", "--json")["options"][1]["points"] == 13
    act = cli("action", wid, "--key", key, "--title", "Pilot a clinic", "--owner", "Ana", "--organisation",
              "Dean Trust", "--review", "2027-03-31", "--json")
    assert act == {"id": 1, "title": "Pilot a clinic", "owner": "Ana", "organisation": "Dean Trust",
                   "review_on": "2027-03-31"}
    data = json.loads(cli("export", wid, "--key", key, "--format", "json"))
    assert data["actions"] == [act] and [r["mode"] for r in data["workshop"]["rounds"]] == ["points", "matrix"]
    assert {v["sector"] for v in data["votes"]} == {"school-trust", "nhs-trust"}
    pdf = tmp_path / "record.pdf"
    cli("export", wid, "--key", key, "--format", "pdf", "--out", str(pdf))
    assert pdf.read_bytes()[:5] == b"%PDF-" and pdf.stat().st_size > 5000


def test_a_later_workshop_reviews_an_earlier_record_against_todays_data(tmp_path):
    """The evidence keeps the ranking's weights, values and vintages; ranked again today on the same bundle, every
    place stands where it stood. A record from when the data differed (its snapshot edited as an older bundle
    would have left it) shows the move, the values then and now, and the changed vintage."""
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.focus import compute_focus, convene, review_shortlist, shortlist_evidence

    cat = load_catalogue()
    weights = {"imd2025_score": 1.0, "le_male": 1.0}
    res = compute_focus(cat, "ward", "E08000009", weights)
    short = list(res.table["code"][:2])
    ev = shortlist_evidence(res, short, {c: convene("ward", c) for c in short},
                            {k: cat.get(k).title for k in weights}, link="http://x/strategic_focus?unit=ward",
                            vintages={k: cat.get(k).vintage for k in weights}, area_code="E08000009")
    w = model.create_workshop("Then", [model.Option(p["code"], p["name"], p["reason"]) for p in ev["shortlist"]],
                              evidence=ev)
    model.close(w.id, w.facilitator_key, [short[0]])
    path = tmp_path / "then.json"
    path.write_text(record.to_json(model.record(w.id, w.facilitator_key)), encoding="utf-8")
    r = run_cli("workshop", "review", "--record", str(path), "--json")
    assert r.returncode == 0, r.stderr
    same = json.loads(r.stdout)
    assert [(p["rank_then"], p["rank_now"], p["moved"]) for p in same["places"]] == [(1, 1, 0), (2, 2, 0)]
    assert all(v["then"] == v["now"] for p in same["places"] for v in p["values"])
    assert all(v["then"] == v["now"] for v in same["vintages"])
    older = json.loads(path.read_text())
    snap = older["workshop"]["evidence"]
    snap["shortlist"][1]["rank"] = 5
    snap["shortlist"][1]["values"]["imd2025_score"] = 30.0
    snap["vintages"][0]["vintage"] = "IoD2019"
    moved = review_shortlist(cat, snap)
    second = moved["places"][1]
    assert (second["rank_then"], second["rank_now"], second["moved"]) == (5, 2, 3)
    now = next(v["now"] for v in second["values"] if v["id"] == "imd2025_score")
    assert next(v["then"] for v in second["values"] if v["id"] == "imd2025_score") == 30.0 and now != 30.0
    assert moved["vintages"][0] == {"id": "imd2025_score", "title": cat.get("imd2025_score").title,
                                    "then": "IoD2019", "now": cat.get("imd2025_score").vintage}
    typed = tmp_path / "typed.json"
    typed.write_text(json.dumps({"workshop": {"evidence": {}}}))
    bad = run_cli("workshop", "review", "--record", str(typed))
    assert bad.returncode == 1 and "no ranking to review" in bad.stderr


def test_the_pdf_is_printed_on_a4(rec):
    """Chromium prints on US Letter unless the page asks for A4 (``@page``): every page of the record is A4."""
    pdf = record.to_pdf(record.to_html(rec))
    boxes = re.findall(rb"/MediaBox\s*\[\s*0 0 ([\d.]+) ([\d.]+)\s*\]", pdf)
    assert boxes and all(abs(float(w) - 595.3) < 1.5 and abs(float(h) - 841.9) < 1.5 for w, h in boxes), boxes


def test_the_record_links_to_the_public_address_when_one_is_set(rec, monkeypatch):
    rec["workshop"].evidence["link"] = "http://localhost:8501/strategic_focus?unit=ward&area=E08000009"
    assert "(local link: it opens only where the app ran): http://localhost:8501/strategic_focus" in record.to_html(rec)
    monkeypatch.setenv("CIVICDATA_PUBLIC_URL", "https://need.example.org")
    html = record.to_html(rec)
    assert "localhost" not in html and "https://need.example.org/strategic_focus?unit=ward&amp;area=E08000009" in html

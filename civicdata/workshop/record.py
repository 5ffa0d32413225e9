"""A workshop's record: a practical report in HTML (every text escaped) and PDF (the same page printed by
headless Chromium), and CSV and JSON of ballots, notes and actions.

Built from :func:`civicdata.workshop.model.record` (facilitator key already checked).
"""

from __future__ import annotations

import csv
import io
import json
from html import escape
from pathlib import Path

from civicdata.labels import plural
from civicdata.errors import CivicDataError

FORMATS = ("html", "csv", "json")
CSV_COLUMNS = ("kind", "round", "mode", "participant", "participant_id", "sector", "organisation", "option_code",
               "option_label", "amount", "impact", "feasibility", "question_number", "question", "text", "created_at",
               "owner", "review_on")

_CSS = ("body{font-family:Arial,sans-serif;max-width:60em;margin:2em auto;font-size:15px;color:#111}"
        "h1{font-size:26px}h2{font-size:20px;margin-top:1.4em}"
        "td,th{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        "table{border-collapse:collapse;width:100%}.small{color:#444;font-size:13px}"
        ".agreed{border:3px solid #000;padding:.6em 1em}.bar{display:inline-block;height:1em;background:#1f4e79}"
        "@page{size:A4;margin:16mm 14mm}thead{display:table-header-group}"
        "@media print{body{margin:0;max-width:none}h2,h3{break-after:avoid}tr{break-inside:avoid}}")



def long_date(iso: str) -> str:
    """An ISO date as people write it, on the pages as in the record: "2026-12-06" -> "6 December 2026" (unchanged
    if it is not one)."""
    import datetime as dt

    try:
        d = dt.date.fromisoformat(str(iso)[:10])
    except ValueError:
        return str(iso)
    return f"{d.day} {d:%B %Y}"


def _when(stamp: str) -> str:
    """A stored timestamp (ISO, UTC) as "6 December 2026, 14:05 UTC" (unchanged if it is not one)."""
    import datetime as dt

    try:
        t = dt.datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    return f"{t.day} {t:%B %Y, %H:%M}" + (" UTC" if t.utcoffset() is not None and not t.utcoffset() else "")


def _headed(html_text: str) -> str:
    """Every table's first row of headers as its ``thead``: repeated at the top of each printed page."""
    import re

    return re.sub(r"<table><tr>((?:<th>.*?</th>)+)</tr>", r"<table><thead><tr>\1</tr></thead>", html_text)


def _public_link(link: str) -> tuple[str, bool]:
    """The link as the record gives it: on ``$CIVICDATA_PUBLIC_URL`` when that is set (a link saved as
    ``localhost`` moved there), else as saved; and whether it is a local link (``localhost``, ``127.…``)."""
    import re

    from civicdata import settings

    m = re.match(r"https?://(localhost|127\.[0-9.]+|\[::1\])(:\d+)?", link)
    public = settings.public_url()
    if m and public:
        return public.rstrip("/") + link[m.end():], False
    return link, bool(m)


def _score(v) -> str:
    """A ranking score as shown everywhere: one decimal, "–" when there is none."""
    return "–" if v is None else f"{float(v):.1f}"

def _workshop_json(rec: dict) -> dict:
    ws = rec["workshop"]
    return {"id": ws.id, "title": ws.title, "date": ws.held_on, "place_code": ws.place_code,
            "place_name": ws.place_name, "dots_per_participant": ws.dots, "status": ws.status,
            "created_at": rec["created_at"], "closed_at": rec["closed_at"],
            "options": [{"code": o.code, "label": o.label, "reason": o.reason} for o in ws.options],
            "questions": ws.questions, "agreed": ws.agreed, "evidence": ws.evidence,
            "rounds": [r.to_json() for r in ws.rounds], "sectors": ws.sectors}


_TALLY_KEYS = ("round", "mode", "options", "participants", "participants_by_sector", "voted", "voted_by_sector",
               "sector_words")


def to_json(rec: dict) -> str:
    """The record as JSON: workshop (with rounds and sectors), the current round's tally, every round's tally,
    ballots, notes and actions (UTF-8, not ASCII-escaped)."""
    out = {"workshop": _workshop_json(rec),
           "tally": {k: rec["tally"][k] for k in _TALLY_KEYS},
           "rounds": [{k: t[k] for k in _TALLY_KEYS} for t in rec["rounds"]],
           "votes": rec["votes"], "notes": rec["notes"], "actions": rec["actions"]}
    return json.dumps(out, ensure_ascii=False, indent=2)


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula (text starting = + - @ gets a leading ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rec: dict) -> str:
    """Ballots, notes and actions as one long CSV: a row per participant, round and option (``kind`` = vote:
    ``amount`` dots or points, or ``impact`` and ``feasibility``), per note (``kind`` = note) and per action
    (``kind`` = action: ``text`` its title). Every row of a person carries their sector and organisation. Text
    that a spreadsheet would read as a formula is prefixed with '."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n", extrasaction="ignore")
    w.writeheader()
    for v in rec["votes"]:
        w.writerow({"kind": "vote", **{k: _cell(v[k]) for k in CSV_COLUMNS if k in v}})
    for n in rec["notes"]:
        w.writerow({"kind": "note", **{k: _cell(n[k]) for k in CSV_COLUMNS if k in n}})
    for a in rec["actions"]:
        w.writerow({"kind": "action", "text": _cell(a["title"]), "owner": _cell(a["owner"]),
                    "organisation": _cell(a["organisation"]), "review_on": a["review_on"]})
    return buf.getvalue()


def _evidence_html(ws) -> list[str]:
    e = escape
    ev = ws.evidence or {}
    shortlist = ev.get("shortlist") or []
    parts: list[str] = []
    if shortlist:
        parts.append(f"<h2>What the room saw when it voted</h2><p>{e(ev.get('source', ''))}: {e(ev.get('unit', ''))} in "
                     f"{e(ev.get('area', ''))}, ranked on {e(ev.get('indicators', ''))}.</p>")
        if ev.get("weights"):
            parts.append("<p class='small'>Weights: " + "; ".join(
                f"{e(w.get('title', w.get('id', '')))} {e(str(w.get('weight', '')))}" for w in ev["weights"]) + "</p>")
        if ev.get("vintages"):
            parts.append("<p class='small'>Data: " + "; ".join(
                f"{e(v.get('title', ''))} ({e(v.get('vintage', ''))})" for v in ev["vintages"]) + "</p>")
        for p in shortlist:
            rank = f"{p['rank']}. " if p.get("rank") else ""
            parts.append(f"<h3>{e(rank)}{e(p['name'])} <span class='small'>{e(p['code'])}</span></h3>"
                         f"<p>{e(p.get('reason', ''))}</p>")
            if p.get("convene"):
                parts.append("<table><tr><th>Who to convene</th><th>Name</th><th>Detail</th></tr>"
                             + "".join(f"<tr><td>{e(c.get('role', ''))}</td><td>{e(c.get('name', ''))}</td>"
                                       f"<td>{e(c.get('detail', ''))}</td></tr>" for c in p["convene"])
                             + "</table>")
        if ev.get("ranking"):
            parts.append("<table><tr><th>Rank</th><th>Place</th><th>Score (0–100)</th></tr>" + "".join(
                f"<tr><td>{e(str(r.get('rank', '')))}</td><td>{e(r.get('name', ''))} <span class='small'>"
                f"{e(r.get('code', ''))}</span></td><td>{_score(r.get('score'))}</td></tr>" for r in ev["ranking"])
                + "</table>")
        if ev.get("link"):
            link, local = _public_link(ev["link"])
            parts.append(f"<p class='small'>The view the room saw{' (local link: it opens only where the app ran)' if local else ''}: "
                         f"{e(link)}</p>")
    elif any(o.reason for o in ws.options):
        parts.append("<h2>The evidence</h2><ul>" + "".join(f"<li><b>{e(o.label)}</b>: {e(o.reason)}</li>"
                                                          for o in ws.options if o.reason) + "</ul>")
    return parts


def _round_html(t: dict, ws) -> str:
    """One round's table: each option's total and its split by sector (or, for a 2×2, mean impact and
    feasibility), and the words on where the sectors agree."""
    e = escape
    r = t["round"]
    sectors = [c for c, n in t["voted_by_sector"].items() if n]
    head = (f"<h3>Round {r['number']}: {e(_mode_words(r))}" + (f" — {e(r['question'])}" if r["question"] else "")
            + f"</h3><p class='small'>{t['voted']} voted"
            + (" (" + ", ".join(f"{t['voted_by_sector'][c]} {e(ws.sectors[c])}" for c in sectors) + ")" if sectors
               else "") + "</p>")
    split = "".join(f"<th>{e(ws.sectors[c])}</th>" for c in sectors)
    if t["mode"] == "matrix":
        rows = "".join(
            f"<tr><td>{e(o['label'])}{' (agreed)' if o['code'] in ws.agreed else ''}</td>"
            f"<td>{_num(o['impact'])} / {_num(o['feasibility'])} ({o['placed']})</td>"
            + "".join(f"<td>{_num(o['by_sector'][c]['impact'])} / {_num(o['by_sector'][c]['feasibility'])}</td>"
                      for c in sectors) + "</tr>"
            for o in sorted(t["options"], key=lambda o: -((o["impact"] or 0) + (o["feasibility"] or 0))))
        table = (f"<table><tr><th>Option</th><th>Impact / feasibility (1–5; placed by)</th>{split}</tr>{rows}"
                 "</table>")
    else:
        what = t["mode"]
        most = max([o[what] for o in t["options"]] + [1])
        rows = "".join(
            f"<tr><td>{e(o['label'])}{' (agreed)' if o['code'] in ws.agreed else ''}</td><td>{o[what]}</td>"
            + "".join(f"<td>{o['by_sector'][c]}</td>" for c in sectors)
            + f"<td><span class='bar' style='width:{12 * o[what] / most:.2f}em'></span></td></tr>"
            for o in sorted(t["options"], key=lambda o: -o[what]))
        table = f"<table><tr><th>Option</th><th>{what}</th>{split}<th></th></tr>{rows}</table>"
    words = f"<p><b>{e(t['sector_words'])}</b></p>" if t["sector_words"] else ""
    return head + words + table


def _num(x) -> str:
    return "–" if x is None else f"{x:.1f}"


def _mode_words(r: dict) -> str:
    if r["mode"] == "matrix":
        return "a 2×2 of impact and feasibility"
    return f"{r['budget']} {r['mode']} each"


def to_html(rec: dict) -> str:
    """One page, a practical report: title, date, place, the agreed focus and the actions (who does what by
    when), what the room saw when it voted (shortlist with reasons, weights, vintages, the link), each round's
    tally split by sector with where the sectors agree in words, and the notes by question with each writer's
    sector. Every text from people or data is escaped."""
    e = escape
    ws, t = rec["workshop"], rec["tally"]
    place = f" · {e(ws.place_name)}" if ws.place_name else ""
    joined = t["participants_by_sector"]
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Workshop record: {e(ws.title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{e(ws.title)}</h1><p>{e(long_date(ws.held_on))}{place} · {plural(t['participants'], 'participant')}"
             + (" (" + ", ".join(f"{n} {e(ws.sectors[c])}" for c, n in joined.items()) + ")" if joined else "")
             + f" · {plural(len(rec['rounds']), 'round')} · voting {'closed' if ws.status == 'closed' else 'open'}</p>"]
    if ws.agreed:
        parts.append("<div class='agreed'><h2>Agreed focus</h2><ol>"
                     + "".join(f"<li><b>{e(ws.option_label(c))}</b></li>" for c in ws.agreed) + "</ol></div>")
    if rec["actions"]:
        parts.append("<h2>Actions</h2><table><tr><th>What</th><th>Who</th><th>Organisation</th><th>Review by</th></tr>"
                     + "".join(f"<tr><td>{e(a['title'])}</td><td>{e(a['owner'])}</td><td>{e(a['organisation'])}</td>"
                               f"<td>{e(long_date(a['review_on']))}</td></tr>" for a in rec["actions"]) + "</table>")
    parts += _evidence_html(ws)
    parts.append("<h2>The vote</h2>" + "".join(_round_html(r, ws) for r in rec["rounds"]))
    by_q: dict[int, list[dict]] = {}
    for n in rec["notes"]:
        by_q.setdefault(n["question_number"], []).append(n)
    parts.append("<h2>Notes by question</h2>")
    for i, q in enumerate(ws.questions, 1):
        items = by_q.get(i, [])
        parts.append(f"<h3>{i}. {e(q)}</h3>" + ("<ul>" + "".join(
            f"<li>{e(n['text'])} <span class='small'>— {e(n['participant'])}, {e(ws.sectors.get(n['sector'], n['sector']))}"
            + (f", {e(n['organisation'])}" if n["organisation"] else "") + "</span></li>" for n in items)
            + "</ul>" if items else "<p class='small'>No notes.</p>"))
    parts.append(f"<p class='small'>Workshop {e(ws.id)}, created {e(_when(rec['created_at']))}"
                 + (f", closed {e(_when(rec['closed_at']))}" if rec["closed_at"] else "") + ". Made with Local Need Explorer."
                 "</p></body></html>")
    return _headed("".join(parts))


class PdfError(CivicDataError, RuntimeError):
    """The PDF could not be printed (no Chromium, or it failed): the HTML record is always there."""


def chromium_path() -> str | None:
    """The Chromium that prints PDFs: ``$CIVICDATA_CHROMIUM``, else ``chromium`` on the PATH (Debian's, the one
    the browser tests use)."""
    import os
    import shutil

    return os.environ.get("CIVICDATA_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")


def to_pdf(html_text: str, timeout: float = 60) -> bytes:
    """The HTML record printed to PDF (A4) by headless Chromium, offline: the page loads nothing from the
    network (every style is inline). Raises :class:`PdfError` saying why when it cannot."""
    import subprocess
    import tempfile

    exe = chromium_path()
    if not exe:
        raise PdfError("no Chromium to print the PDF (install Debian's chromium, or set CIVICDATA_CHROMIUM): "
                       "download the HTML record and print it from a browser")
    with tempfile.TemporaryDirectory() as tmp:
        src, out = Path(tmp) / "record.html", Path(tmp) / "record.pdf"
        src.write_text(html_text, encoding="utf-8")
        try:
            run = subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                                  f"--user-data-dir={tmp}/profile", f"--print-to-pdf={out}", src.as_uri()],
                                 capture_output=True, timeout=timeout)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PdfError(f"Chromium could not print the record: {exc}") from exc
        if not out.is_file() or out.stat().st_size == 0:
            raise PdfError("Chromium printed no PDF (exit "
                           f"{run.returncode}): {run.stderr.decode(errors='replace').strip()[-300:]}")
        return out.read_bytes()


def export(rec: dict, fmt: str) -> str:
    """The record in ``fmt`` (html, csv or json)."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    return {"html": to_html, "csv": to_csv, "json": to_json}[fmt](rec)

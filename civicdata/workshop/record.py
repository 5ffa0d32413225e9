"""A workshop's record: a one-page HTML (every text escaped), and CSV and JSON of votes and notes.

Built from :func:`civicdata.workshop.model.record` (facilitator key already checked).
"""

from __future__ import annotations

import csv
import io
import json
from html import escape

FORMATS = ("html", "csv", "json")
CSV_COLUMNS = ("kind", "participant", "participant_id", "dot", "option_code", "option_label", "question_number",
               "question", "text", "created_at")

_CSS = ("body{font-family:Arial,sans-serif;max-width:60em;margin:2em auto;font-size:15px;color:#111}"
        "h1{font-size:26px}h2{font-size:20px;margin-top:1.4em}"
        "td,th{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
        "table{border-collapse:collapse;width:100%}.small{color:#444;font-size:13px}"
        ".agreed{border:3px solid #000;padding:.6em 1em}.bar{display:inline-block;height:1em;background:#1f4e79}")


def to_json(rec: dict) -> str:
    """The record as JSON: workshop, tally, votes, notes (UTF-8, not ASCII-escaped)."""
    ws = rec["workshop"]
    out = {"workshop": {"id": ws.id, "title": ws.title, "date": ws.held_on, "place_code": ws.place_code,
                        "place_name": ws.place_name, "dots_per_participant": ws.dots, "status": ws.status,
                        "created_at": rec["created_at"], "closed_at": rec["closed_at"],
                        "options": [{"code": o.code, "label": o.label, "reason": o.reason} for o in ws.options],
                        "questions": ws.questions, "agreed": ws.agreed, "evidence": ws.evidence},
           "tally": {k: rec["tally"][k] for k in ("options", "participants", "voted")},
           "votes": rec["votes"], "notes": rec["notes"]}
    return json.dumps(out, ensure_ascii=False, indent=2)


def _cell(value):
    """A CSV cell that a spreadsheet will not run as a formula (text starting = + - @ gets a leading ')."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def to_csv(rec: dict) -> str:
    """Votes and notes as one long CSV: a row per dot (``kind`` = vote) and per note (``kind`` = note).
    Text that a spreadsheet would read as a formula is prefixed with '."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=CSV_COLUMNS, lineterminator="\n")
    w.writeheader()
    for v in rec["votes"]:
        w.writerow({"kind": "vote", **{k: _cell(v[k]) for k in ("participant", "participant_id", "dot", "option_code",
                                                          "option_label")}})
    for n in rec["notes"]:
        w.writerow({"kind": "note", **{k: _cell(n[k]) for k in ("participant", "participant_id", "question_number",
                                                          "question", "text", "created_at")}})
    return buf.getvalue()


def to_html(rec: dict) -> str:
    """One page: title, date, place, the evidence (shortlist with reasons, who to convene), the tally,
    the agreed focus, and the notes by question. Every text from people or data is escaped."""
    e = escape
    ws, t = rec["workshop"], rec["tally"]
    place = f" · {e(ws.place_name)}" if ws.place_name else ""
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Workshop record: {e(ws.title)}</title>"
             f"<style>{_CSS}</style></head><body>",
             f"<h1>{e(ws.title)}</h1><p>{e(ws.held_on)}{place} · {t['participants']} participants, "
             f"{t['voted']} voted · {ws.dots} dots each · voting {'closed' if ws.status == 'closed' else 'open'}</p>"]
    if ws.agreed:
        parts.append("<div class='agreed'><h2>Agreed focus</h2><ol>"
                     + "".join(f"<li><b>{e(ws.option_label(c))}</b></li>" for c in ws.agreed) + "</ol></div>")
    ev = ws.evidence or {}
    shortlist = ev.get("shortlist") or []
    if shortlist:
        parts.append(f"<h2>The evidence</h2><p>{e(ev.get('source', ''))}: {e(ev.get('unit', ''))} in "
                     f"{e(ev.get('area', ''))}, ranked on {e(ev.get('indicators', ''))}.</p>")
        for p in shortlist:
            rank = f"{p['rank']}. " if p.get("rank") else ""
            parts.append(f"<h3>{e(rank)}{e(p['name'])} <span class='small'>{e(p['code'])}</span></h3>"
                         f"<p>{e(p.get('reason', ''))}</p>")
            if p.get("convene"):
                parts.append("<table><tr><th>Who to convene</th><th>name</th><th>detail</th></tr>"
                             + "".join(f"<tr><td>{e(c.get('role', ''))}</td><td>{e(c.get('name', ''))}</td>"
                                       f"<td>{e(c.get('detail', ''))}</td></tr>" for c in p["convene"])
                             + "</table>")
        if ev.get("link"):
            parts.append(f"<p class='small'>The ranking: {e(ev['link'])}</p>")
    elif any(o.reason for o in ws.options):
        parts.append("<h2>The evidence</h2><ul>" + "".join(f"<li><b>{e(o.label)}</b>: {e(o.reason)}</li>"
                                                          for o in ws.options if o.reason) + "</ul>")
    most = max([o["dots"] for o in t["options"]] + [1])
    rows = "".join(f"<tr><td>{e(o['label'])}{' (agreed)' if o['code'] in ws.agreed else ''}</td><td>{o['dots']}</td>"
                   f"<td><span class='bar' style='width:{12 * o['dots'] / most:.2f}em'></span></td></tr>"
                   for o in sorted(t["options"], key=lambda o: -o["dots"]))
    parts.append(f"<h2>The vote</h2><table><tr><th>option</th><th>dots</th><th></th></tr>{rows}</table>")
    by_q: dict[int, list[dict]] = {}
    for n in rec["notes"]:
        by_q.setdefault(n["question_number"], []).append(n)
    parts.append("<h2>Notes by question</h2>")
    for i, q in enumerate(ws.questions, 1):
        items = by_q.get(i, [])
        parts.append(f"<h3>{i}. {e(q)}</h3>" + ("<ul>" + "".join(f"<li>{e(n['text'])} <span class='small'>— "
                                                                  f"{e(n['participant'])}</span></li>" for n in items)
                                                + "</ul>" if items else "<p class='small'>No notes.</p>"))
    parts.append(f"<p class='small'>Workshop {e(ws.id)}, created {e(rec['created_at'])}"
                 + (f", closed {e(rec['closed_at'])}" if rec["closed_at"] else "") + ". Made with Local Need Explorer."
                 "</p></body></html>")
    return "".join(parts)


def export(rec: dict, fmt: str) -> str:
    """The record in ``fmt`` (html, csv or json)."""
    if fmt not in FORMATS:
        raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
    return {"html": to_html, "csv": to_csv, "json": to_json}[fmt](rec)

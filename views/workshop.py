"""Workshop: the room votes in rounds (dots, points or a 2×2) from their sectors and writes notes; the app keeps
the record, the agreed focus and the actions.

Three views chosen by the link: facilitator (``?ws=ID&key=KEY``), projector (``?ws=ID&view=projector``) and
phone join (``?ws=ID&view=join``, then ``&me=TOKEN`` once joined). Without ``ws``: create a workshop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import urllib.parse

import streamlit as st

from civicdata.labels import plural

from civicdata import settings
from civicdata.store import UNAVAILABLE, StoreUnavailableError
from civicdata.workshop import figures, model, record
from views import _shared

ss = st.session_state
#: the QR code of a link never changes: the projector redraws every 2 s without remaking it
qr_png = st.cache_data(show_spinner=False, max_entries=64)(model.qr_png)
ws_id = st.query_params.get("ws", "")
view = st.query_params.get("view", "")
key = st.query_params.get("key", "")
SR_ONLY = ("<style>.lne-sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);"
           "white-space:nowrap}</style>")


def base_url() -> str:
    """The app's address as the browser reached it (or ``$CIVICDATA_PUBLIC_URL``)."""
    if settings.public_url():
        return settings.public_url()
    url = str(getattr(st.context, "url", "") or "").split("?")[0]
    return url.rsplit("/workshop", 1)[0].rstrip("/")


def notes_wall(notes: list[dict], large: bool, columns: int = 3) -> None:
    """The notes under each question, as escaped text cards, flowing through ``columns`` newspaper columns (a
    question with many notes continues in the next column, so the wall uses the screen evenly)."""
    size = "20px" if large else "16px"  # a projector's text at 20 px or more
    sections = "".join(
        f"<section aria-label='{html.escape(q['question'])}' class='lne-notes'><h4>{q['number']}. "
        f"{html.escape(q['question'])}" + ("</h4><ul>" + "".join(f"<li class='lne-note'>{html.escape(n)}</li>"
                                                              for n in q["notes"]) + "</ul>"
                                           if q["notes"] else " <span class='lne-empty'>(no notes yet)</span></h4>")
        + "</section>" for q in notes)
    st.html(f"<style>.lne-wall{{column-count:{columns};column-gap:1rem}}"
            f".lne-wall h4{{font-size:{size};margin:.15em 0;padding:0;break-after:avoid;break-inside:avoid}}"
            f".lne-wall ul{{list-style:none;padding:0;margin:0 0 .3em 0}}"
            f".lne-note{{background:#fff4c2;border:1px solid #8a6d00;color:#000;padding:.15em .5em;margin:.2em 0;"
            f"font-size:{size};line-height:1.25;overflow-wrap:anywhere;break-inside:avoid}}"
            f".lne-empty{{color:#333;font-weight:normal}}</style>"
            f"<div class='lne-wall'>{sections}</div>")


def round_chart(t: dict, large: bool, key: str, height: int | None = None, words_visible: bool = True) -> None:
    """A round's chart (bars by sector, or the 2×2) and its text alternative (on the projector, for screen
    readers only: the room reads the chart)."""
    fig = figures.matrix_figure(t, large, height) if t["mode"] == "matrix" else figures.tally_figure(t, large, height)
    st.plotly_chart(fig, key=key, theme=None, config={"displayModeBar": False, "staticPlot": True})
    words = figures.tally_words(t)
    if words_visible:
        st.caption(_shared.md_escape(words))
    else:
        st.html(f"{SR_ONLY}<p class='lne-sr'>{html.escape(words)}</p>")


def round_words(r: dict) -> str:
    """"Round 2: spread 100 points" …"""
    what = {"dots": f"place {r['budget']} dots", "points": f"spread {r['budget']} points",
            "matrix": "place each option on impact and feasibility (1 to 5)"}[r["mode"]]
    return f"Round {r['number']}: {what}" + (f" — {r['question'].rstrip('.')}" if r["question"] else "")


def sentence(text: str) -> str:
    """``text`` ending in a full stop (unless it ends in ? or ! already)."""
    return text if text.endswith((".", "?", "!")) else text + "."


def show_links(wid: str, presenting: bool = False) -> None:
    """The join QR and links; the private facilitator link only off the projector (never in presentation mode)."""
    base = base_url()
    join = model.absolute(base, model.join_path(wid))
    c1, c2 = st.columns([1, 2])
    c1.image(qr_png(join), width=240, caption="Scan to join",
             alt=f"QR code of the join link {join}")
    with c2:
        st.markdown("**Join link** (put it on the projector; participants join on their phones):")
        st.code(join, language=None, wrap_lines=True)
        st.markdown("**Projector view** (live tally and notes wall):")
        st.code(model.absolute(base, model.projector_path(wid)), language=None, wrap_lines=True)
    if presenting:
        st.caption("Your facilitator link is hidden in presentation mode.")
        return
    # the private key never sits beside the join link: behind a control, with a warning, below the public links
    st.divider()
    if st.toggle("Show the facilitator link", key="ws_show_key",
                 help="Your private link: it lets you close voting and export the record. Never project it."):
        st.warning("**Do not put this on the projector or share it.** Anyone with this link can close voting and "
                   "export the record. Keep it to open this workshop again later.")
        st.code(model.absolute(base, model.facilitator_path(wid, key)), language=None, wrap_lines=True)
    else:
        st.caption("Your private facilitator link is hidden: switch it on when nobody else can see your screen.")


def load_or_stop(wid: str) -> model.Workshop:
    try:
        return model.get_workshop(wid)
    except model.WorkshopError as exc:
        st.error(str(exc))
        _shared.footer()
        st.stop()


# ------------------------------------------------------------------------------------------------ projector
#: the projector fits one 1280x720 screen: headline, the split by sector, a large QR, and the whole notes wall
PROJECTOR_CSS = """<style>
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: .6rem 1.5rem .5rem 1.5rem !important; }
[data-testid="stMain"] h1 { font-size: 22px !important; margin: 0 !important; padding: 0 !important; }
[data-testid="stMain"] h3 { font-size: clamp(24px, 2.3vw, 40px) !important; padding: 0 !important; }
.st-key-ws_projector [data-testid="stVerticalBlock"] { gap: .3rem !important; }
.st-key-ws_projector [data-testid="stHorizontalBlock"] { gap: 1rem !important; }
.st-key-ws_projector p { margin-bottom: 0 !important; }
.lne-words { font-size: clamp(18px, 1.6vw, 28px); margin: 0; color: #000; line-height: 1.25; }
.lne-count { font-size: clamp(18px, 1.6vw, 28px); color: #000; line-height: 1.35; margin: 0; }
.st-key-ws_projector [data-testid="stImageCaption"] { font-size: 18px !important; color: #000 !important;
  margin: 0 !important; padding: 0 !important; }
</style>"""

if ws_id and view == "projector":
    ws = load_or_stop(ws_id)
    st.html(_shared.PRESENT_CSS + PROJECTOR_CSS)
    st.title(_shared.md_escape(ws.title))

    @st.fragment(run_every=2)
    def live() -> None:
        try:  # the last tally stays on the wall while the database is not answering, with a small mark
            t = st.session_state["ws_last_tally"] = model.tally(ws_id)
            down = False
        except StoreUnavailableError:
            t, down = st.session_state.get("ws_last_tally"), True
            if t is None:
                st.warning(UNAVAILABLE)
                return
        lead = model.round_lead(t)  # a tie is said as a tie, never as one leader
        state = "Voting closed." if t["status"] == "closed" else "Voting open."
        with st.container(key="ws_projector"):
            if t["agreed"]:
                st.markdown("### Agreed focus: " + " and ".join(_shared.md_escape(ws.option_label(c))
                                                                for c in t["agreed"]))
            elif lead:
                st.markdown(f"### {_shared.md_escape(lead)}.")
            else:
                verb = {"dots": "Place your dots", "points": "Spread your points", "matrix": "Place the options"}
                st.markdown(f"### {verb[t['mode']]}: scan the code to join.")
            if t["sector_words"]:
                st.html(f"<p class='lne-words'>{html.escape(t['sector_words'])}</p>")
            c1, c2, c3 = st.columns([7, 2, 2.4])
            with c1:
                round_chart(t, True, "ws_projector_tally", height=250 if t["mode"] != "matrix" else 330,
                            words_visible=False)
            with c2:
                st.html(f"<p class='lne-count'><b>{t['participants']}</b> joined<br><b>{t['voted']}</b> voted<br>"
                        f"{state}<br>{html.escape(sentence(round_words(t['round'])))}</p>"
                        + ("<p class='lne-count' style='font-size:16px;color:#555'>⟳ reconnecting…</p>" if down else ""))
            with c3:
                join = model.absolute(base_url(), model.join_path(ws_id))
                st.image(qr_png(join, scale=8), width=240, caption="Scan to join", alt=f"QR code of {join}")
            notes_wall(t["notes"], True, columns=3)

    live()
    st.stop()

# ------------------------------------------------------------------------------------------------ phone
def keep_typed() -> None:
    """Keep the ballot boxes' values (what the phone typed and sent) past a run that could not reach the
    database: a run that does not draw the boxes would drop them."""
    st.session_state["ws_typed"] = {k: v for k, v in st.session_state.items()
                                    if str(k).startswith(("ws_dots_", "ws_points_", "ws_imp_", "ws_fea_"))}


def ballot_form(ws: model.Workshop, me: str, part: dict) -> None:
    """The current round's ballot: dots or points in number boxes (no upper bound on a box: too many is refused on
    placing, with a message, never capped silently), or a 2×2 placing per option; then a running count."""
    r = ws.round
    count = st.empty()  # filled after the form, so a ballot just placed is counted at once
    if r.mode in ("dots", "points"):
        current = {o.code: (part["dots"].count(o.code) if r.mode == "dots" else part["points"].get(o.code, 0))
                   for o in ws.options}
        placed = sum(current.values())
        keys = {o.code: f"ws_{r.mode}_{r.number}_{o.code}" for o in ws.options}
        # a ballot that did not reach the store (the database did not answer, or the phone moved to another
        # server as it was sent) comes back into the boxes, flagged, never shown as placed. The boxes start from
        # the store; what the phone sent (its widget state, also in a fresh session on another server) wins.
        restored = {k: n for k, n in (st.session_state.pop("ws_typed", None) or {}).items() if k in keys.values()}
        st.session_state.update(restored)
        label = "Place my dots" if r.mode == "dots" else "Place my points"
        button = f"ws_place_{r.number}"
        flag = st.empty()  # filled once the boxes are read
        with st.form(f"ws_vote_{r.number}"):
            st.markdown(f"**{_shared.md_escape(sentence(round_words(r.to_json())))}**" +
                        (" Several on one option if you like." if r.mode == "dots" else ""))
            counts = {o.code: st.number_input(o.label, min_value=0, step=1, key=keys[o.code],
                                              **({} if keys[o.code] in restored else {"value": current[o.code]}))
                      for o in ws.options}
            if {c: int(n) for c, n in counts.items()} != current and not st.session_state.get(button):
                flag.warning(f"Your last change was not saved — press {label} again.")  # never this run's press
            if st.form_submit_button(label, type="primary", key=button):
                try:
                    if r.mode == "dots":
                        model.vote(ws_id, me, [c for c, n in counts.items() for _ in range(int(n))])
                    else:
                        model.allocate(ws_id, me, {c: int(n) for c, n in counts.items()})
                    placed = sum(int(n) for n in counts.values())
                    st.success(f"Your {plural(placed, r.mode[:-1])} {'is' if placed == 1 else 'are'} placed.")
                except StoreUnavailableError:  # kept, to send again once the database answers
                    keep_typed()
                    st.error(f"{UNAVAILABLE} Your {r.mode} are kept here: press {label} again when it is back.")
                except model.WorkshopError as exc:
                    st.error(str(exc))
        left = r.budget - placed
        count.markdown(f"**You have placed {placed} of your {r.budget} {r.mode}.**" +
                       (f" {left} left." if r.mode == "points" and placed else ""))
        return
    scale = ["not placed"] + [str(i) for i in range(model.SCALE[0], model.SCALE[1] + 1)]
    have = part["matrix"]
    restored = {k: v for k, v in (st.session_state.pop("ws_typed", None) or {}).items()
                if str(k).startswith((f"ws_imp_{r.number}_", f"ws_fea_{r.number}_"))}
    st.session_state.update(restored)
    with st.form(f"ws_matrix_{r.number}"):
        st.markdown(f"**{_shared.md_escape(sentence(round_words(r.to_json())))}** 1 = low, 5 = high.")
        picks = {}
        for o in ws.options:
            st.markdown(f"**{_shared.md_escape(o.label)}**")
            c1, c2 = st.columns(2)
            now = have.get(o.code) or [None, None]
            ki, kf = f"ws_imp_{r.number}_{o.code}", f"ws_fea_{r.number}_{o.code}"
            picks[o.code] = (  # as the store has them, unless kept from a run the database did not answer
                c1.select_slider("Impact", scale, key=ki,
                                 **({} if ki in restored else {"value": str(now[0]) if now[0] else "not placed"})),
                c2.select_slider("Feasibility", scale, key=kf,
                                 **({} if kf in restored else {"value": str(now[1]) if now[1] else "not placed"})))
        if st.form_submit_button("Place on the 2×2", type="primary"):
            half = [ws.option_label(c) for c, (i, f) in picks.items() if (i == "not placed") != (f == "not placed")]
            if half:
                st.error("Give both impact and feasibility, or neither, for: " + "; ".join(half) +
                         ". Your earlier placings are unchanged.")
            else:
                try:
                    have = {c: list(v) for c, v in model.place(ws_id, me, {c: (int(i), int(f)) for c, (i, f) in
                                                                           picks.items() if i != "not placed"}).items()}
                    st.success(f"{plural(len(have), 'option')} placed.")
                except StoreUnavailableError:
                    keep_typed()
                    st.error(f"{UNAVAILABLE} Your placings are kept here: press Place on the 2×2 again when it is back.")
                except model.WorkshopError as exc:
                    st.error(str(exc))
    count.markdown(f"**You have placed {len(have)} of the {len(ws.options)} options.**")


if ws_id and not key:
    try:
        ws = load_or_stop(ws_id)
    except StoreUnavailableError:  # the page's guard says so; the boxes' values are kept for when it is back
        keep_typed()
        raise
    st.html(f"<style>{_shared.NO_SIDEBAR_CSS}"
            "[data-testid='stMainBlockContainer']{padding:4rem .8rem 3rem .8rem;max-width:40rem}"
            "[data-testid='stMain'] button{min-height:44px}</style>")
    st.title(_shared.md_escape(ws.title))
    st.caption(f"{record.long_date(ws.held_on)}" + (f" · {ws.place_name}" if ws.place_name else ""))
    me = st.query_params.get("me", "")
    part = None
    if me:
        try:
            part = model.my_part(ws_id, me)
        except StoreUnavailableError:
            keep_typed()
            raise
        except model.WorkshopError as exc:
            st.error(str(exc))
            st.query_params.pop("me", None)
    if part is None:
        with st.form("ws_join"):
            # no max_chars: a pasted name over the limit gets the model's message instead of an empty box
            name = st.text_input("Your name (shown to the facilitator and beside your notes in the workshop's record; "
                                 "never on the projector)", key="ws_name")
            # no default: a silent first choice would count people in a sector they did not pick
            sector = st.selectbox("Your sector (the tally is split by sector)", list(ws.sectors), index=None,
                                  placeholder="Choose your sector", format_func=ws.sectors.get, key="ws_sector")
            org = st.text_input("Your organisation (optional; in the record, never on the projector)", key="ws_org")
            if st.form_submit_button("Join", type="primary"):
                try:
                    if sector is None:
                        raise model.WorkshopError("sector: choose your sector (Other if none fits)")
                    st.query_params["me"] = model.join(ws_id, name, sector, org)
                    st.rerun()
                except model.WorkshopError as exc:
                    st.error(str(exc))
        _shared.footer()
        st.stop()

    st.markdown(f"You joined as **{_shared.md_escape(part['name'])}** "
                f"({_shared.md_escape(ws.sectors.get(part['sector'], part['sector']))}"
                + (f", {_shared.md_escape(part['organisation'])}" if part["organisation"] else "") + ").")
    if any(o.reason for o in ws.options):  # the reasons each option was put forward (none: nothing to open)
        with st.expander("The evidence", expanded=False):
            for o in ws.options:
                st.markdown(f"**{_shared.md_escape(o.label)}**" + (f": {_shared.md_escape(o.reason)}" if o.reason else ""))
    if not ws.is_open:
        st.info(_shared.md_escape("Voting is closed." + (" Agreed focus: " + ", ".join(ws.option_label(c) for c in ws.agreed)
                                                     if ws.agreed else "")))
    else:
        ballot_form(ws, me, part)
        if ws.questions:
            retry = st.session_state.pop("ws_note_retry", None)
            if retry:  # a refused note comes back into the box with the reason (the form clears on submit)
                st.session_state.ws_note, why = retry
                st.error(why)
            with st.form("ws_note_form", clear_on_submit=True):
                q = st.selectbox("Question", range(1, len(ws.questions) + 1),
                                 format_func=lambda i: f"{i}. {ws.questions[i - 1]}", key="ws_q")
                # no max_chars: a pasted note over the limit keeps its text and gets the model's message
                text = st.text_area(f"Your note (up to {model.NOTE_MAX} characters)", key="ws_note")
                if st.form_submit_button("Add note"):
                    try:
                        model.add_note(ws_id, me, q, text)
                        st.success("Note added.")
                    except StoreUnavailableError:  # the note comes back into the box
                        st.session_state.ws_note_retry = (text, UNAVAILABLE + " Your note is kept: add it again.")
                        st.rerun()
                    except model.WorkshopError as exc:
                        st.session_state.ws_note_retry = (text, str(exc))
                        st.rerun()
    mine = model.my_part(ws_id, me)
    if mine["notes"]:
        st.markdown("**Your notes**")
        for n in mine["notes"]:
            st.html(f"<p style='margin:.2em 0'>{n['question']}. {html.escape(n['text'])}</p>")
    _shared.footer()
    st.stop()

# ------------------------------------------------------------------------------------------------ facilitator
def num(x, places: int = 2) -> str:
    """A figure for a table: fixed decimals, "—" when there is none."""
    return "—" if x is None else f"{x:,.{places}f}"


def review_box() -> None:
    """Open an earlier workshop's record (its JSON download) and show how the places the room saw then have
    moved in today's data: rank, score and each indicator, then and now."""
    from civicdata.focus import review_shortlist

    st.caption("Upload the JSON record of an earlier workshop whose options came from Strategic focus: each place the "
               "room saw is ranked again on today's data, with the same weights.")
    up = st.file_uploader("Earlier workshop's record (JSON)", type=["json"], key="ws_review_file", max_upload_size=5)
    if up is None:
        return
    try:
        earlier = json.loads(up.getvalue().decode("utf-8"))
        w = earlier["workshop"]
        rev = review_shortlist(_shared.catalogue(), w.get("evidence") or {})
    except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as exc:
        st.error(f"{up.name}: not a workshop record made by this app ({type(exc).__name__}: {exc}).")
        return
    except ValueError as exc:
        st.error(f"{up.name}: {exc}")
        return
    agreed = set(w.get("agreed") or [])
    st.markdown(f"**{_shared.md_escape(w.get('title', ''))}** ({_shared.md_escape(w.get('date', ''))}): "
                f"{_shared.md_escape(rev['unit'])} in {_shared.md_escape(rev['area'])}.")
    rows = []
    for pl in rev["places"]:
        moved = pl["moved"]
        rows.append({"place": pl["name"] + (" (agreed)" if pl["code"] in agreed else ""), "code": pl["code"],
                     "rank then": pl["rank_then"], "rank now": pl["rank_now"],
                     "moved": "—" if moved is None else ("no change" if moved == 0 else
                                                         f"{abs(moved)} place(s) {'up' if moved > 0 else 'down'}"),
                     "score then": num(pl["score_then"], 1), "score now": num(pl["score_now"], 1),
                     **{f"{v['title']} (then → now)": f"{num(v['then'])} → {num(v['now'])}" for v in pl["values"]}})
    st.table(rows)  # a few rows: a plain table reads out (and projects) better than a grid
    changed = [v for v in rev["vintages"] if v["then"] != v["now"]]
    st.caption("Data: " + ("; ".join(f"{v['title']}: {v['then'] or 'not recorded'} then, {v['now'] or 'gone'} now"
                                     for v in changed) if changed else "the same vintages as then, so any move "
                           "comes from the places ranked beside them, not new figures.") +
               (f" No longer in the catalogue: {', '.join(rev['missing'])}." if rev["missing"] else ""))


@st.cache_data(show_spinner="Printing the PDF…", max_entries=16)
def pdf_of(rec_html: str) -> bytes:
    """The record printed once per content (another facilitator tab, or a reload, gets it at once)."""
    return record.to_pdf(rec_html)


def pdf_download(rec_html: str, stem: str) -> None:
    """The PDF, printed by Chromium when asked (a second or two), kept while the record is unchanged."""
    digest = hashlib.sha256(rec_html.encode("utf-8")).hexdigest()
    have = ss.get("ws_pdf")
    if have and have[0] == digest:
        st.download_button("Record (PDF)", have[1], f"{stem}.pdf", "application/pdf", on_click="ignore",
                           key="ws_pdf_download")
        return
    if st.button("Make the PDF", key="ws_make_pdf", help="Printed from the HTML record by Chromium, offline"):
        try:
            ss.ws_pdf = (digest, pdf_of(rec_html))
        except record.PdfError as exc:
            st.error(str(exc))
        else:
            st.rerun()


presenting = _shared.presentation("views/workshop.py")
st.title("Workshop")
if ws_id and key:
    ws = load_or_stop(ws_id)
    if not model.check_key(ws_id, key):
        st.error("This facilitator link's key is wrong for this workshop. Participants join with the join link.")
        _shared.footer()
        st.stop()
    st.markdown(f"### {_shared.md_escape(ws.title)}")
    st.caption(f"{record.long_date(ws.held_on)}" + (f" · {ws.place_name}" if ws.place_name else "") +
               f" · {round_words(ws.round.to_json())} · voting {'open' if ws.is_open else 'closed'}")
    show_links(ws_id, presenting)
    # read once per run: the downloads, the earlier rounds and the actions all come from it. Built now, not on
    # click: records are small, and a payload made on click failed about one click in four under load
    # (MediaFileStorageError: deferred file not found)
    rec = model.record(ws_id, key)

    @st.fragment(run_every=3)
    @_shared.store_guarded
    def facilitator_tally() -> None:
        t = model.tally(ws_id)
        joined = ", ".join(f"{n} {t['sectors'][c]}" for c, n in t["participants_by_sector"].items())
        st.markdown(f"**{plural(t['participants'], 'participant')}" + (f" ({_shared.md_escape(joined)})" if joined else "")
                    + f", {t['voted']} voted in round {t['round']['number']}.**")
        if t["sector_words"]:
            st.markdown(f"**{_shared.md_escape(t['sector_words'])}**")
        round_chart(t, presenting, "ws_facilitator_tally")
        with st.expander("Notes wall", expanded=False):
            notes_wall(t["notes"], False)

    facilitator_tally()
    if len(ws.rounds) > 1:
        with st.expander(f"Earlier rounds ({len(ws.rounds) - 1})"):
            for t in rec["rounds"][:-1]:
                st.markdown(f"**{_shared.md_escape(round_words(t['round']))}**")
                round_chart(t, False, f"ws_round_{t['round']['number']}")
    if ws.is_open:
        with st.expander("Open the next round"):
            with st.form("ws_round_form"):
                c1, c2, c3 = st.columns([2, 1, 1])
                mode = c1.radio("How the room votes", model.MODES, format_func=model.MODE_NAMES.get,
                                key="ws_round_mode", horizontal=True)
                n_dots = c2.number_input("Dots each (dots)", 1, model.DOTS_MAX, model.DOTS_DEFAULT,
                                         key="ws_round_dots")
                n_points = c3.number_input("Points each (points)", 1, model.POINTS_MAX, model.POINTS_DEFAULT,
                                           key="ws_round_points")
                question = st.text_input("The question this round answers (optional)", key="ws_round_question")
                if st.form_submit_button("Open the round"):
                    budget = {"dots": int(n_dots), "points": int(n_points)}.get(mode)
                    try:
                        model.new_round(ws_id, key, mode, budget, question)
                    except model.WorkshopError as exc:
                        st.error(str(exc))
                    else:
                        st.rerun()
        with st.expander("Add a sector to the join form"):
            st.caption("Standard: " + ", ".join(model.SECTORS.values()) + ".")
            with st.form("ws_sector_form", clear_on_submit=True):
                label = st.text_input("Sector", key="ws_new_sector")
                if st.form_submit_button("Add the sector"):
                    try:
                        model.add_sector(ws_id, key, label)
                    except model.WorkshopError as exc:
                        st.error(str(exc))
                    else:
                        st.rerun()

    st.subheader("Close and record")
    agreed_key = f"ws_agreed_{ws_id}"
    if agreed_key not in ss:  # set once from the store; the form sends exactly what is shown when pressed
        ss[agreed_key] = list(ws.agreed)
    with st.form("ws_close_form"):
        agreed = st.multiselect("Agreed focus (one or two)", [o.code for o in ws.options],
                                max_selections=model.AGREED_MAX, format_func=ws.option_label, key=agreed_key,
                                select_all=False)  # never "Select all" beyond the two it takes
        pressed = st.form_submit_button("Close voting and save the agreed focus" if ws.is_open else
                                        "Save the agreed focus", type="primary")
    if pressed:
        saved = model.close(ws_id, key, agreed)
        st.toast("Agreed focus saved: " + (", ".join(saved.option_label(c) for c in saved.agreed) or "none"))
        st.rerun()
    if ws.agreed:
        st.markdown("**Agreed focus:** " + " and ".join(_shared.md_escape(ws.option_label(c)) for c in ws.agreed))
    if not ws.is_open and st.button("Reopen voting"):
        model.reopen(ws_id, key)
        st.rerun()
    st.markdown("**Actions**: who does what by when (in the record; the next workshop reviews them).")
    acts = rec["actions"]
    if acts:
        _shared.table([{"what": a["title"], "who": a["owner"], "organisation": a["organisation"],
                       "review by": a["review_on"]} for a in acts], hide_index=True, width="stretch",
                     key="ws_actions_table")
    with st.form("ws_action_form", clear_on_submit=True):
        c1, c2, c3, c4 = st.columns([3, 2, 2, 2])
        a_title = c1.text_input("What", key="ws_act_title")
        a_owner = c2.text_input("Who", key="ws_act_owner")
        a_org = c3.text_input("Organisation", key="ws_act_org")
        a_date = c4.date_input("Review by", value=dt.date.today() + dt.timedelta(days=90), format="YYYY-MM-DD",
                               key="ws_act_date")
        if st.form_submit_button("Record the action"):
            try:
                model.add_action(ws_id, key, a_title, a_owner, a_org, a_date.isoformat())
            except model.WorkshopError as exc:
                st.error(str(exc))
            else:
                st.rerun()
    if acts:
        c1, c2 = st.columns([3, 1])
        gone = c1.selectbox("Remove an action", [a["id"] for a in acts], key="ws_act_remove",
                            format_func=lambda i: next(f"{a['title']} ({a['owner']})" for a in acts if a["id"] == i))
        if c2.button("Remove", key="ws_act_remove_btn"):
            model.delete_action(ws_id, key, gone)
            st.rerun()
    d1, d2, d3, d4 = st.columns(4)
    stem = f"workshop_{ws.held_on}_{ws_id[:6]}"
    rec_html = record.to_html(rec)
    d1.download_button("Record (HTML, one page)", rec_html.encode("utf-8"), f"{stem}.html", "text/html",
                       on_click="ignore")
    d2.download_button("Votes, notes, actions (CSV)", record.to_csv(rec).encode("utf-8"), f"{stem}.csv", "text/csv",
                       on_click="ignore")
    d3.download_button("Votes, notes, actions (JSON)", record.to_json(rec).encode("utf-8"), f"{stem}.json",
                       "application/json", on_click="ignore")
    with d4:
        pdf_download(rec_html, stem)
    with st.expander("Review an earlier workshop against today's data"):
        review_box()
    with st.expander("Delete this workshop"):
        st.caption("Deletes its votes, notes and actions for good. Export the record first.")
        if st.button("Delete the workshop", key="ws_delete"):
            model.delete_workshop(ws_id, key)
            st.query_params.clear()
            st.rerun()
    _shared.footer()
    st.stop()

# ------------------------------------------------------------------------------------------------ create
st.caption("Run a convening session across sectors: the room joins on their phones with their sector, votes in "
           "rounds (dots, points or a 2×2 of impact and feasibility) and writes notes under shared questions; the "
           "projector shows the live tally split by sector; you close voting, mark the agreed focus, record who does "
           "what by when, and export the record. Workshops are kept by the app, so every phone and the projector see "
           "the same session and it can be reopened later.")

# A Strategic focus shortlist arrives in the link (from=focus&unit=…&area=…&w=…&short=…)
evidence, shortlist_opts = {}, []
if st.query_params.get("from") == "focus" and st.query_params.get("short"):
    cat = _shared.catalogue()
    valid = [d.id for d in cat if d.geography != "point"]
    weights = _shared.decode_weights(st.query_params.get("w"), valid)
    unit, area = st.query_params.get("unit", "lsoa21"), st.query_params.get("area", settings.DEFAULT_LAD)
    if weights:
        from civicdata.focus import shortlist_evidence

        stamp = tuple(_shared.layer_stamp(k) for k in weights)
        res = _shared.focus_result(unit, area, tuple(weights.items()), 10, stamp,
                                   st.query_params.get("incomplete") == "1")
        short = [c for c in st.query_params.get("short", "").split(",") if c][:3]
        conv = {c: _shared.convene_table(unit, c) for c in short}
        titles = {k: cat.get(k).title for k in res.indicators}
        seen = {k: st.query_params[k] for k in ("unit", "area", "w", "short", "incomplete") if k in st.query_params}
        evidence = shortlist_evidence(res, short, conv, titles,
                                      link=f"{base_url()}/strategic_focus?{urllib.parse.urlencode(seen)}",
                                      vintages={k: cat.get(k).vintage for k in res.indicators}, area_code=area)
        shortlist_opts = [model.Option(p["code"], p["name"], p["reason"]) for p in evidence["shortlist"]]
        st.info(f"From Strategic focus: {len(shortlist_opts)} shortlisted {evidence['unit']} in {evidence['area']} "
                "become options, with their reasons and who to convene as the evidence.")

areas = _shared.saved_areas()
places = {k: v for k, v in _shared.place_options().items() if k != _shared.ENGLAND} | areas


def _place_name(place: str) -> str:
    """A district's name, or a saved area's title."""
    return _shared.saved_area_title(place) if place in areas else places[place].replace(" (Greater Manchester)", "")
with st.form("ws_create"):
    title = st.text_input(f"Title (up to {model.TITLE_MAX} characters)", key="ws_title",
                          value=f"Convening: {evidence['area']}" if evidence else "")
    c1, c2, c3 = st.columns(3)
    held_on = c1.date_input("Date", value=dt.date.today(), format="YYYY-MM-DD", key="ws_date")
    default_place = st.query_params.get("area", settings.DEFAULT_LAD)
    place = c2.selectbox("Place", list(places), format_func=places.get, key="ws_place",
                         index=list(places).index(default_place) if default_place in places else 0)
    dots = c3.number_input("Dots per participant", 1, model.DOTS_MAX, model.DOTS_DEFAULT, key="ws_ndots")
    m1, m2 = st.columns([2, 1])
    mode = m1.radio("Round 1 votes with", model.MODES, format_func=model.MODE_NAMES.get, horizontal=True,
                    key="ws_mode", help="Dots: a few each, stacked if you like. Points: a budget spread over the "
                                        "options. 2×2: each option placed on impact and feasibility, 1 to 5. You can "
                                        "open further rounds in another mode.")
    points = m2.number_input("Points per participant", 1, model.POINTS_MAX, model.POINTS_DEFAULT, key="ws_npoints")
    use_short = st.checkbox("The Strategic focus shortlist: " + ", ".join(o.label for o in shortlist_opts),
                            value=True, key="ws_use_short") if shortlist_opts else False
    themes = st.multiselect("Themes", list(model.THEMES), default=[] if shortlist_opts else list(model.THEMES[:3]),
                            key="ws_themes")
    typed = st.text_area("Other options, one per line", key="ws_typed", help=f"Up to {model.OPTIONS_MAX} options in all")
    questions = st.text_area("Questions for notes, one per line", value="\n".join(model.DEFAULT_QUESTIONS),
                             height=170, key="ws_questions")
    if st.form_submit_button("Create the workshop", type="primary"):
        opts = (shortlist_opts if use_short else []) + model.parse_options(list(themes) + typed.splitlines())
        try:
            created = model.create_workshop(title, opts, held_on=held_on.isoformat(), place_code=place,
                                            place_name=_place_name(place),
                                            dots=int(dots), questions=questions.splitlines(),
                                            evidence=evidence if use_short else {}, mode=mode, points=int(points))
        except model.WorkshopError as exc:
            st.error(str(exc))
        else:
            st.query_params.clear()
            st.query_params.update({"ws": created.id, "key": created.facilitator_key})
            st.rerun()

st.markdown("**Already created one?** Open its private facilitator link: it holds the workshop's id and key.")
_shared.footer()

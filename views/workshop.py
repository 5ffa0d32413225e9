"""Workshop: the room votes with dots and writes notes; the app keeps the record.

Three views chosen by the link: facilitator (``?ws=ID&key=KEY``), projector (``?ws=ID&view=projector``) and
phone join (``?ws=ID&view=join``, then ``&me=TOKEN`` once joined). Without ``ws``: create a workshop.
"""

from __future__ import annotations

import datetime as dt
import html

import streamlit as st

from civicdata import settings
from civicdata.workshop import model, record
from views import _shared

ss = st.session_state
#: the QR code of a link never changes: the projector redraws every 2 s without remaking it
qr_png = st.cache_data(show_spinner=False, max_entries=64)(model.qr_png)
ws_id = st.query_params.get("ws", "")
view = st.query_params.get("view", "")
key = st.query_params.get("key", "")


def base_url() -> str:
    """The app's address as the browser reached it (or ``$CIVICDATA_PUBLIC_URL``)."""
    if settings.public_url():
        return settings.public_url()
    url = str(getattr(st.context, "url", "") or "").split("?")[0]
    return url.rsplit("/workshop", 1)[0].rstrip("/")


def notes_wall(notes: list[dict], large: bool) -> None:
    """The notes under each question, as escaped text cards."""
    size = "22px" if large else "16px"
    st.html(f"<style>.lne-note{{background:#fff4c2;border:1px solid #8a6d00;color:#000;padding:.4em .6em;"
            f"margin:.3em 0;font-size:{size};overflow-wrap:anywhere}}.lne-empty{{color:#333;font-size:{size}}}</style>")
    cols = st.columns(min(3, max(1, len(notes))))
    for i, q in enumerate(notes):
        cards = "".join(f"<li class='lne-note'>{html.escape(n)}</li>" for n in q["notes"]) or \
            "<li class='lne-empty'>No notes yet.</li>"
        cols[i % len(cols)].html(
            f"<section aria-label='{html.escape(q['question'])}'><h4 style='font-size:{size};margin:.3em 0'>"
            f"{q['number']}. {html.escape(q['question'])}</h4><ul style='list-style:none;padding:0;margin:0'>"
            f"{cards}</ul></section>")


def tally_chart(t: dict, large: bool, key: str) -> None:
    """The dots per option as a bar chart, labels escaped (plotly reads some HTML in text)."""
    import plotly.graph_objects as go

    opts = sorted(t["options"], key=lambda o: o["dots"])
    fig = go.Figure(go.Bar(x=[o["dots"] for o in opts], y=[html.escape(o["label"]) for o in opts], orientation="h",
                           text=[o["dots"] for o in opts], textposition="outside", marker_color="#1f4e79",
                           hovertemplate="%{y}: %{x} dots<extra></extra>"))
    fs = 22 if large else 14
    fig.update_layout(height=max(260, 60 * len(opts) + 80), margin=dict(l=10, r=40, t=10, b=30),
                      font=dict(size=fs, color="#000"), plot_bgcolor="#fff", paper_bgcolor="#fff",
                      xaxis=dict(title=None, rangemode="tozero", tickfont=dict(size=fs, color="#000"), dtick=1 if max([o["dots"] for o in opts] + [0]) < 12
                                 else None), yaxis=dict(automargin=True, tickfont=dict(size=fs, color="#000")))
    st.plotly_chart(fig, key=key, theme=None, config={"displayModeBar": False, "staticPlot": True})
    st.caption(_shared.md_escape("Dots per option: " + "; ".join(f"{o['label']} {o['dots']}" for o in reversed(opts))
                                 + "."))


def show_links(wid: str, presenting: bool = False) -> None:
    """The join QR and links; the private facilitator link only off the projector (never in presentation mode)."""
    base = base_url()
    join = model.absolute(base, model.join_path(wid))
    c1, c2 = st.columns([1, 2])
    c1.image(qr_png(join), width=220, caption="Scan to join",
             alt=f"QR code of the join link {join}")
    with c2:
        st.markdown("**Join link** (put it on the projector; participants join on their phones):")
        st.code(join, language=None, wrap_lines=True)
        st.markdown("**Projector view** (live tally and notes wall):")
        st.code(model.absolute(base, model.projector_path(wid)), language=None, wrap_lines=True)
        if presenting:
            st.markdown("Your facilitator link is hidden in presentation mode.")
            return
        st.markdown("**Your facilitator link** — keep it private: it lets you close voting and export the record.")
        st.code(model.absolute(base, model.facilitator_path(wid, key)), language=None, wrap_lines=True)


def load_or_stop(wid: str) -> model.Workshop:
    try:
        return model.get_workshop(wid)
    except model.WorkshopError as exc:
        st.error(str(exc))
        _shared.footer()
        st.stop()


# ------------------------------------------------------------------------------------------------ projector
if ws_id and view == "projector":
    ws = load_or_stop(ws_id)
    st.html(_shared.PRESENT_CSS)
    st.title(_shared.md_escape(ws.title))

    @st.fragment(run_every=2)
    def live() -> None:
        t = model.tally(ws_id)
        lead = model.lead_words(t["options"])  # a tie is said as a tie, never as one leader
        state = "Voting closed." if t["status"] == "closed" else "Voting open."
        if t["agreed"]:
            st.markdown("### Agreed focus: " + " and ".join(_shared.md_escape(ws.option_label(c)) for c in t["agreed"]))
        elif lead:
            st.markdown(f"### {_shared.md_escape(lead)}.")
        else:
            st.markdown("### Place your dots: scan the code to join.")
        c1, c2 = st.columns([3, 1])
        with c1:
            tally_chart(t, True, "ws_projector_tally")
        with c2:
            st.metric("Participants", t["participants"])
            st.metric("Voted", t["voted"])
            st.markdown(state)
            join = model.absolute(base_url(), model.join_path(ws_id))
            st.image(qr_png(join, scale=6), width=200, caption="Scan to join", alt=f"QR code of {join}")
        notes_wall(t["notes"], True)

    live()
    st.stop()

# ------------------------------------------------------------------------------------------------ phone
if ws_id and not key:
    ws = load_or_stop(ws_id)
    st.html("<style>section[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl']{display:none}"
            "[data-testid='stMainBlockContainer']{padding:4rem .8rem 3rem .8rem;max-width:40rem}"
            "[data-testid='stMain'] button{min-height:44px}</style>")
    st.title(_shared.md_escape(ws.title))
    st.caption(f"{ws.held_on}" + (f" · {ws.place_name}" if ws.place_name else ""))
    me = st.query_params.get("me", "")
    part = None
    if me:
        try:
            part = model.my_part(ws_id, me)
        except model.WorkshopError as exc:
            st.error(str(exc))
            st.query_params.pop("me", None)
    if part is None:
        with st.form("ws_join"):
            # no max_chars: a pasted name over the limit gets the model's message instead of an empty box
            name = st.text_input("Your name (shown to the facilitator and beside your notes in the workshop's record; "
                                 "never on the projector)", key="ws_name")
            if st.form_submit_button("Join", type="primary"):
                try:
                    st.query_params["me"] = model.join(ws_id, name)
                    st.rerun()
                except model.WorkshopError as exc:
                    st.error(str(exc))
        _shared.footer()
        st.stop()

    st.markdown(f"You joined as **{_shared.md_escape(part['name'])}**.")
    with st.expander("The evidence", expanded=False):
        for o in ws.options:
            st.markdown(f"**{_shared.md_escape(o.label)}**" + (f": {_shared.md_escape(o.reason)}" if o.reason else ""))
    if not ws.is_open:
        st.info(_shared.md_escape("Voting is closed." + (" Agreed focus: " + ", ".join(ws.option_label(c) for c in ws.agreed)
                                                     if ws.agreed else "")))
    else:
        current = {o.code: part["dots"].count(o.code) for o in ws.options}
        count = st.empty()  # filled after the form, so a vote just placed is counted at once
        placed = len(part["dots"])
        with st.form("ws_vote"):
            st.markdown(f"**Place your {ws.dots} dots** (several on one option if you like):")
            # no upper bound on each box: too many dots is refused on "Place my dots" with a message, never silently
            counts = {o.code: st.number_input(o.label, min_value=0, value=current[o.code], step=1,
                                              key=f"ws_dots_{o.code}") for o in ws.options}
            if st.form_submit_button("Place my dots", type="primary"):
                chosen = [c for c, n in counts.items() for _ in range(int(n))]
                try:
                    model.vote(ws_id, me, chosen)
                    placed = len(chosen)
                    st.success(f"Your {len(chosen)} dot(s) are placed.")
                except model.WorkshopError as exc:
                    st.error(str(exc))
        count.markdown(f"**You have placed {placed} of your {ws.dots} dots.**")
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
presenting = _shared.presentation("views/workshop.py")
st.title("Workshop")
if ws_id and key:
    ws = load_or_stop(ws_id)
    if not model.check_key(ws_id, key):
        st.error("This facilitator link's key is wrong for this workshop. Participants join with the join link.")
        _shared.footer()
        st.stop()
    st.markdown(f"### {_shared.md_escape(ws.title)}")
    st.caption(f"{ws.held_on}" + (f" · {ws.place_name}" if ws.place_name else "") +
               f" · {ws.dots} dots each · voting {'open' if ws.is_open else 'closed'}")
    show_links(ws_id, presenting)

    @st.fragment(run_every=3)
    def facilitator_tally() -> None:
        t = model.tally(ws_id)
        st.markdown(f"**{t['participants']} participants, {t['voted']} voted.**")
        tally_chart(t, presenting, "ws_facilitator_tally")
        with st.expander("Notes wall", expanded=False):
            notes_wall(t["notes"], False)

    facilitator_tally()
    st.subheader("Close and record")
    agreed = st.multiselect("Agreed focus (one or two)", [o.code for o in ws.options], default=ws.agreed,
                            max_selections=model.AGREED_MAX, format_func=ws.option_label, key="ws_agreed")
    c1, c2, c3 = st.columns(3)
    if c1.button("Close voting and save the agreed focus" if ws.is_open else "Save the agreed focus", type="primary"):
        model.close(ws_id, key, agreed)
        st.rerun()
    if not ws.is_open and c2.button("Reopen voting"):
        model.reopen(ws_id, key)
        st.rerun()
    d1, d2, d3 = st.columns(3)
    stem = f"workshop_{ws.held_on}_{ws_id[:6]}"
    # built now, not on click: records are small, and a payload made on click failed about one click in four
    # under load (MediaFileStorageError: deferred file not found)
    rec = model.record(ws_id, key)
    d1.download_button("Record (HTML, one page)", record.to_html(rec).encode("utf-8"), f"{stem}.html", "text/html", on_click="ignore")
    d2.download_button("Votes and notes (CSV)", record.to_csv(rec).encode("utf-8"), f"{stem}.csv", "text/csv", on_click="ignore")
    d3.download_button("Votes and notes (JSON)", record.to_json(rec).encode("utf-8"), f"{stem}.json",
                       "application/json", on_click="ignore")
    with st.expander("Delete this workshop"):
        st.caption("Deletes its votes and notes for good. Export the record first.")
        if st.button("Delete the workshop", key="ws_delete"):
            model.delete_workshop(ws_id, key)
            st.query_params.clear()
            st.rerun()
    _shared.footer()
    st.stop()

# ------------------------------------------------------------------------------------------------ create
st.caption("Run a convening session: the room places dots on a few options and writes notes under shared "
           "questions on their phones; the projector shows the live tally; you close voting, mark the agreed focus "
           "and export the record. Workshops are kept in a database (" +
           ("set by CIVICDATA_DB_URL" if settings.db_url() != f"sqlite:///{settings.user_data_dir() / 'workshops.db'}"
            else "a SQLite file in your user data folder") + ").")

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
        evidence = shortlist_evidence(res, short, conv, titles, link="")
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
                                            evidence=evidence if use_short else {})
        except model.WorkshopError as exc:
            st.error(str(exc))
        else:
            st.query_params.clear()
            st.query_params.update({"ws": created.id, "key": created.facilitator_key})
            st.rerun()

st.markdown("**Already created one?** Open its private facilitator link: it holds the workshop's id and key.")
_shared.footer()

"""Presentation mode, slides, the share link and the footer (every page), and the failover notice."""

from __future__ import annotations

import streamlit as st

from civicdata.labels import plural

from civicdata import settings
from civicdata.manifest import ATTRIBUTION
from views._widgets import md_escape


def moved_server_notice() -> None:
    """Behind the load balancer (``$CIVICDATA_SERVER_NAME`` set): the link carries the server that drew the
    page (``srv``, never in a shared link or a slide). A session whose first run arrives with another
    server's name was moved here by the balancer because that server stopped: say so, once.

    The balancer's cookie cannot tell: the browser's reconnection first asks ``/_stcore/health``, and the
    balancer's answer already re-pins the cookie to the new server."""
    me = settings.server_name()
    if not me:
        return
    first_run = not st.session_state.get("_server_checked")
    st.session_state["_server_checked"] = True
    came_from = st.query_params.get("srv")
    if came_from != me:
        st.query_params["srv"] = me
    if first_run and came_from and came_from != me:  # a toast: it fades, and never moves the page's layout
        st.toast("The server you were using stopped; you are now on another one. Everything saved is kept; "
                 "anything not yet saved needs doing again.", icon=":material/sync:")


def store_down() -> None:
    """The database is not answering: the one sentence (no driver, address or path), and a check every 3 s
    that draws the page again, from its link and what the session holds, as soon as the database answers."""
    from civicdata import store

    if st.query_params.get("view") in ("join", "projector"):  # a phone or the wall: no sidebar toggle, as always
        st.html(f"<style>{NO_SIDEBAR_CSS}</style>")
    st.warning(store.UNAVAILABLE, icon=":material/cloud_off:")

    @st.fragment(run_every=3)
    def retry() -> None:
        if store.ping():
            st.rerun(scope="app")

    retry()


def store_guarded(fn):
    """For a fragment's body: a database that stops answering during the fragment's own rerun gets the one
    sentence there (the page's guard in app.py covers full runs), and the fragment tries again on its next run."""
    import functools

    from civicdata.store import StoreUnavailableError

    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except StoreUnavailableError:
            store_down()

    return run


@st.fragment(run_every=3600)
def rerun_after_reconnect() -> None:
    """Draws nothing; it exists for what Streamlit's browser side does on reconnecting: it asks for a full run
    of the page only when the page has a fragment with ``run_every`` (Streamlit 1.67). The pages' controls sit
    in fragments, and a fragment's rerun sent to a server that has never run the page (the balancer moved the
    browser there because its server stopped) is dropped: without a full run on reconnecting, the first click
    there did nothing. With it, the new server draws the page from the link at once (and says it moved). Its
    own rerun, once an hour, costs nothing."""


def share_box(inline: bool = False) -> None:
    """"Share this view" in the sidebar: the link to the view as it is now. Written after the page has set its
    link parameters (at the end of the fragment whose controls set them, or by ``footer``), never before.

    ``inline``: in the current container instead (the main area), for a fragment nested in another one: such
    a fragment may never write outside itself (Streamlit raises StreamlitInvalidLayoutContextError when the
    outer fragment reruns)."""
    with (st.expander("Share this view") if inline else st.sidebar.expander("Share this view")):
        # a plain link, not st.code: the code box loads a syntax highlighter (~0.4 s of browser work per page)
        link = link_for_current_view()
        st.markdown(f"[{md_escape(link)}]({link.replace(')', '%29').replace(' ', '%20')})")
        st.caption("Anyone opening this link sees the same view: copy it from here.")


def footer(share: bool = True) -> None:
    """Licences and attribution, on every page; with ``share``, the "Share this view" link too (pages whose
    controls sit in a fragment write it at the end of that fragment instead, so that it follows them)."""
    if share:
        share_box()
    st.divider()
    st.caption(ATTRIBUTION + " NHS sites default to current data (ODS mid-2025; hospitals c. 2022); older vintages "
               "(NHS Choices 2014, NHS website ~2016) stay available, shown with their date.")
    st.page_link("views/accessibility.py", label="Accessibility statement (WCAG 2.2 AA)")
    if settings.server_name():
        st.caption(f"Served by app server {settings.server_name()}.")


#: no sidebar and no control to open it (a phone joining a workshop, the wall's projector)
NO_SIDEBAR_CSS = ("section[data-testid='stSidebar'],[data-testid='stSidebarCollapsedControl'],"
                  "[data-testid='stExpandSidebarButton']{display:none}")

PRESENT_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
header[data-testid="stHeader"],
[data-testid="stMain"] .stSelectbox, [data-testid="stMain"] .stMultiSelect, [data-testid="stMain"] .stTextInput,
[data-testid="stMain"] .stRadio, [data-testid="stMain"] .stSlider, [data-testid="stMain"] .stCheckbox,
[data-testid="stMain"] .stFileUploader, [data-testid="stMain"] .stDownloadButton, [data-testid="stMain"] .stButton,
[data-testid="stMain"] [data-testid="stExpander"] { display: none !important; }
html, body, [data-testid="stApp"] { background: #ffffff !important; color: #000000 !important; }
[data-testid="stMain"] p, [data-testid="stMain"] li, [data-testid="stMain"] td, [data-testid="stMain"] th,
[data-testid="stMain"] [data-testid="stCaptionContainer"], [data-testid="stMain"] label { font-size: 24px !important; color: #000 !important; }
[data-testid="stMainBlockContainer"] { padding-top: 1rem !important; padding-bottom: 1rem !important; }
[data-testid="stMain"] button p { color: inherit !important; }  /* a button keeps its own contrast */
[data-testid="stMain"] h1 { font-size: 26px !important; padding: 0 !important; }
[data-testid="stMain"] h3 { font-size: clamp(30px, 2.9vw, 42px) !important; line-height: 1.2 !important;
  color: #000 !important; padding: 0.2rem 0 !important; }
/* the page's main map or chart fills the screen below its headline: a projector cannot scroll */
[class*="st-key-present_"] { flex: none !important; height: calc(100vh - 260px) !important; min-height: 280px; }
/* Trends' headline takes three lines at 1280x720 and its key line two: the spine gives them room */
.st-key-present_tr_spine { height: calc(100vh - 330px) !important; }
</style>
"""


def main_chart(fig, *, key: str, presenting: bool, **kwargs):
    """The page's main map or chart. In presentation mode it is sized from the screen (the room sees the
    headline, the map and its legend without scrolling at 1280x720 and 1920x1080); otherwise as built."""
    if presenting:
        if fig.layout.height is not None:  # a figure from figure_once is built so already: never changed here
            fig.update_layout(height=None)
        with st.container(key=f"present_{key}", height="stretch"):
            return st.plotly_chart(fig, key=key, height="stretch", **kwargs)
    return st.plotly_chart(fig, key=key, **kwargs)


KEYS_JS = """
<script>
const doc = document;
if (!doc.__lneKeys) {
  doc.__lneKeys = true;
  doc.addEventListener('keydown', (e) => {
    const label = {ArrowRight: 'Next slide', ArrowLeft: 'Previous slide', Escape: 'Leave presentation'}[e.key];
    if (!label) return;
    const btn = Array.from(doc.querySelectorAll('button')).find(b => b.innerText.trim() === label);
    if (btn) { btn.click(); e.preventDefault(); }
  });
}
</script>
"""


def presentation(page_path: str) -> bool:
    """Presentation mode (toggle or ``?present=1``): sidebar and controls hidden, large high-contrast
    type; arrow keys step through the saved views (slides: a deck in the store, ``deck=`` in the link, so they
    survive a server that stops and travel with the link), Esc leaves the mode."""
    from civicdata.figures import slides

    ss = st.session_state
    if slides.is_deck_id(st.query_params.get("deck")):  # a deck in the link: its slides, from the store
        ss.deck = st.query_params["deck"]
    ss.slides = slides.deck_slides(ss.deck) if ss.get("deck") else []
    if "present" not in ss:
        ss.present = st.query_params.get("present") == "1"
    with st.sidebar:
        st.divider()
        st.toggle("Presentation mode", key="present")
        if st.button("Save this view as a slide"):
            ss.deck = ss.get("deck") or slides.new_deck_id()
            params = {k: v for k, v in shareable_params().items() if k != "deck"}
            n = slides.add_slide(ss.deck, page_path, params)
            ss.slides = slides.deck_slides(ss.deck)
            st.query_params["deck"] = ss.deck
            st.toast(f"Saved slide {n}.")
        if ss.slides:
            st.caption(f"{plural(len(ss.slides), 'slide')} saved: in presentation mode, → and ← step through them.")
    if ss.present:
        st.query_params["present"] = "1"
        st.html(PRESENT_CSS)
        # st.html runs the script in the page itself (st.components.v1.html is past its removal date)
        st.html(KEYS_JS, unsafe_allow_javascript=True)
        c1, c2, c3 = st.columns(3)
        if c1.button("Previous slide"):
            _go(-1)
        if c2.button("Next slide"):
            _go(+1)
        c3.button("Leave presentation", on_click=_leave)
    elif "present" in st.query_params:
        del st.query_params["present"]
    return bool(ss.present)


def _leave() -> None:
    st.session_state.present = False
    st.query_params.pop("present", None)


def _go(step: int) -> None:
    ss = st.session_state
    if not ss.slides:
        st.toast("No slides saved: use “Save this view as a slide” first.")
        return
    ss.slide_index = (ss.get("slide_index", -1) + step) % len(ss.slides)
    slide = ss.slides[ss.slide_index]
    for key in [k for k in ss.keys() if isinstance(k, str) and k[:3] in ("am_", "ml_", "fo_", "sc_", "tr_")]:
        del ss[key]  # let the target page read its state from the slide's link
    st.switch_page(slide["page"], query_params={**slide["params"], "deck": ss.deck, "present": "1"})


#: link parameters that are secrets of one person, never carried into a shared link or a slide: a workshop's
#: facilitator key and a participant's token
PRIVATE_PARAMS = ("key", "me", "srv")


def shareable_params() -> dict[str, str]:
    """The current view's link parameters that anyone may see (no presentation flag, no secrets)."""
    return {k: v for k, v in st.query_params.to_dict().items() if k != "present" and k not in PRIVATE_PARAMS}


def link_for_current_view() -> str:
    """The URL of this page with the current view's parameters (never a facilitator key or participant token)."""
    from urllib.parse import urlencode

    base = str(getattr(st.context, "url", "") or "").split("?")[0]
    params = shareable_params()
    return base + ("?" + urlencode(params) if params else "")

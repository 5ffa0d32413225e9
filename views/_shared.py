"""The one place that imports both Streamlit and civicdata: cached loaders and shared bits."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import streamlit as st

from civicdata import settings
from civicdata.catalogue import Catalogue, load_catalogue
from civicdata.manifest import load_manifest, manifest_table
from civicdata.sources import ATTRIBUTION


def _stamp(*paths: Path) -> tuple:
    """A cache key that changes when any descriptor or data file below ``paths`` changes."""
    out = []
    for p in paths:
        if p.is_dir():
            out += [(str(f), f.stat().st_mtime_ns) for f in sorted(p.rglob("*")) if f.is_file()]
    return tuple(out)


@st.cache_resource(show_spinner=False, max_entries=4)
def _catalogue(stamp_key: tuple, db_url: str, layers_version: int) -> Catalogue:
    return load_catalogue()


def catalogue() -> Catalogue:
    """The layer catalogue, reloaded when a bundled descriptor changes or when the store's ``layers``
    version moves (a layer added, replaced or removed on any server sharing the database)."""
    from civicdata import store

    d = settings.data_dir()
    return _catalogue(_stamp(*(d / f for f in ("indicators", "schools", "services"))), settings.db_url(),
                      store.version("layers"))


@st.cache_data(show_spinner=False)
def manifest() -> dict:
    return load_manifest()


@st.cache_data(show_spinner=False)
def manifest_frame() -> pd.DataFrame:
    return manifest_table()


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
    if first_run and came_from and came_from != me:
        st.info("The server you were using stopped, so you are now on another one. This page was reopened from "
                "its link: layers, saved trusts, workshops and votes are all kept. Anything not yet saved (a file "
                "being uploaded, a form being filled in) needs doing again.", icon=":material/sync:")


def share_box() -> None:
    """"Share this view" in the sidebar: the link to the view as it is now. Written after the page has set its
    link parameters (at the end of the fragment whose controls set them, or by ``footer``), never before."""
    with st.sidebar.expander("Share this view"):
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


# ----------------------------------------------------------------- places and layers

from civicdata import choropleth, profile  # noqa: E402
from civicdata.geography import load_lookup  # noqa: E402

ENGLAND = "england"
#: marker colours for service point layers (distinct from the viridis area palette)
SERVICE_COLOURS = ("#000000", "#e7298a", "#d95f02", "#a6761d", "#7570b3", "#666666")


@st.cache_data(show_spinner=False)
def place_options() -> dict[str, str]:
    """code -> label: England view, all of GM, the ten GM boroughs, then every other English district."""
    lad = load_lookup("lad24")
    lad = lad[lad["lad24_code"].str.match(r"^E0[6789]")]
    gm = lad[lad["cauth23_code"] == settings.GM_CAUTH_CODE].sort_values("lad24_name")
    rest = lad[lad["cauth23_code"] != settings.GM_CAUTH_CODE].sort_values("lad24_name")
    out = {ENGLAND: "England (by local authority)", settings.GM_CAUTH_CODE: "Greater Manchester (all 10 boroughs)"}
    out.update({r.lad24_code: f"{r.lad24_name} (Greater Manchester)" for r in gm.itertuples()})
    out.update({r.lad24_code: r.lad24_name for r in rest.itertuples()})
    return out


@st.cache_data(show_spinner=False)
def region_options() -> dict[str, str]:
    """code -> label: England, then its nine regions (2024), where local authorities are ranked."""
    lad = load_lookup("lad24")
    reg = lad[lad["region24_code"].str.startswith("E12")].drop_duplicates("region24_code").sort_values("region24_name")
    return {settings.ENGLAND_CODE: "England (all local authorities)", **dict(zip(reg["region24_code"], reg["region24_name"]))}


@st.cache_data(show_spinner=False, max_entries=64)
def national_frame(layer_id: str, stamp_key: tuple) -> pd.DataFrame:
    return choropleth.national_frame(catalogue().get(layer_id))


@st.cache_data(show_spinner=False, max_entries=64)
def place_frame(layer_id: str, place: str, stamp_key: tuple, override_key: str = "", _override=None):
    return choropleth.place_frame(catalogue().get(layer_id), place, override=_override)


@st.cache_data(show_spinner=False, max_entries=32)
def national_lad_frame(layer_id: str, stamp_key: tuple):
    return choropleth.national_lad_frame(catalogue().get(layer_id))


@st.cache_data(show_spinner=False)
def schools() -> pd.DataFrame:
    return profile.load_schools()


@st.cache_data(show_spinner=False, max_entries=64)
def decile_shares(place: str, iod: str) -> pd.DataFrame:
    return profile.compute_decile_shares(place, iod)


@st.cache_data(show_spinner=False, max_entries=64)
def headline(place: str, iod: str):
    """The Area map's headline (bundled data only: it never changes while the app runs)."""
    return profile.compute_headline(place, iod)


@st.cache_data(show_spinner=False, max_entries=64)
def area_profile(place: str, iod: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Life-expectancy range, the 10 most deprived LSOAs and the schools in decile 1, for the area profile."""
    return (profile.compute_life_expectancy_range(place), profile.compute_most_deprived(place, iod),
            profile.compute_schools_most_deprived(place))


@st.cache_data(show_spinner=False, max_entries=64)
def orientation(place: str, bounds: tuple, large: bool, width: int = 900, height: int = 600):
    """Ward/district outlines and names for a place's map (None for the England view)."""
    from civicdata.orientation import orientation_for

    return orientation_for(place, tuple(round(b, 6) for b in bounds), width, height, large)


@st.cache_data(show_spinner=False, max_entries=64)
def orientation_around(bounds: tuple, large: bool, width: int = 400, height: int = 560):
    """Ward/district outlines and names for any view, e.g. around a tram line."""
    from civicdata.orientation import orientation_in_bounds

    return orientation_in_bounds(tuple(round(b, 6) for b in bounds), width, height, large)


def orientation_toggle() -> bool:
    """The "ward names and boundaries" toggle, on by default; ``orient=0`` in the link hides them."""
    on = st.toggle("Ward names and boundaries", value=st.query_params.get("orient") != "0", key="orient_on",
                   help="Outlines of wards and the local authority, ward names, and Metrolink lines in "
                        "Greater Manchester. Drawn offline, no base map needed.")
    if on:
        st.query_params.pop("orient", None)
    else:
        st.query_params["orient"] = "0"
    return on


@st.cache_data(show_spinner=False, max_entries=32)
def practice_points(layer_id: str, stamp_key: tuple, bounds: tuple) -> pd.DataFrame:
    """A practice layer's located practices within the map's bounds."""
    from civicdata.layers import load_layer

    from civicdata.places import pcn_of

    frame = profile.points_in_bounds(load_layer(catalogue().get(layer_id)).dropna(subset=["lat", "lon"]), bounds)
    return frame.assign(pcn=pcn_of(frame["code"]))


@st.cache_data(show_spinner=False, max_entries=32)
def practice_range(layer_id: str, stamp_key: tuple) -> tuple[float, float]:
    """England's 5th and 95th percentile of a practice layer's values (the points' colour range)."""
    from civicdata.layers import load_layer

    v = load_layer(catalogue().get(layer_id))["value"].dropna()
    return float(v.quantile(0.05)), float(v.quantile(0.95))


@st.cache_data(show_spinner="Placing the trust's schools…", max_entries=16)
def trust_schools(urns: tuple) -> pd.DataFrame:
    from civicdata import trust

    return trust.trust_schools(list(urns))


def leaflet_map(m, key: str, height: int = 560) -> str | None:
    """Draw a Leaflet (folium) map as wide as its column; the tooltip of the object clicked last, or None."""
    from streamlit_folium import st_folium

    out = st_folium(m, height=height, use_container_width=True, key=key,
                    returned_objects=["last_object_clicked_tooltip"])
    return (out or {}).get("last_object_clicked_tooltip")


def leaflet_picker(m, key: str, height: int = 520) -> dict:
    """Draw a Leaflet map for picking: ``{"tooltip": text of the object clicked last, "click": where (lat, lng),
    "drawings": GeoJSON features drawn}`` (empty before any interaction)."""
    from streamlit_folium import st_folium

    out = st_folium(m, height=height, use_container_width=True, key=key,
                    returned_objects=["last_object_clicked_tooltip", "last_object_clicked", "all_drawings"]) or {}
    where = out.get("last_object_clicked") or {}
    return {"tooltip": out.get("last_object_clicked_tooltip"),
            "click": (where.get("lat"), where.get("lng")) if where else None, "drawings": out.get("all_drawings")}


@st.cache_data(show_spinner=False, max_entries=16)
def lsoa21_boundaries(lad_code: str):
    """A district's LSOAs 2021 with readable names and polygons (GM's detailed file in GM)."""
    return choropleth.boundaries_for("lsoa21", lad_code)


def saved_trusts() -> dict[str, str]:
    """Saved school trusts as places: ``trust:<id>`` -> "Trust: <title> (N schools)"."""
    from civicdata import trust

    return {f"trust:{g['id']}": f"Trust: {g['title']} ({g['schools']} schools)" for g in trust.list_groups()}


@st.cache_data(show_spinner=False, max_entries=8)
def _saved_areas(places_version: int) -> dict[str, str]:
    from civicdata import places

    return {f"{places.AREA_PREFIX}{a['id']}": f"Area: {a['title']} ({a['neighbourhoods']} neighbourhoods)"
            for a in places.list_areas()}


def saved_areas() -> dict[str, str]:
    """Saved custom areas as places: ``area:<id>`` -> "Area: <title> (N neighbourhoods)" (re-read when any
    server saves, renames or deletes one: the store's ``places`` version)."""
    from civicdata import store

    return _saved_areas(store.version("places"))


@st.cache_data(show_spinner=False, max_entries=16)
def _saved_area_profile(area_id: str, places_version: int) -> dict:
    from civicdata import places

    return places.saved_area_profile(area_id)


def saved_area_profile(area_id: str) -> dict:
    """A saved area's profile (cached until any saved place changes: the store's ``places`` version)."""
    from civicdata import store

    return _saved_area_profile(area_id, store.version("places"))


@st.cache_data(show_spinner=False, max_entries=16)
def district_outlines(lad_codes: tuple):
    """The outlines of local authority districts (LAD 2024, national boundaries)."""
    import pandas as _pd

    parts = [choropleth.boundaries_for("lad", c) for c in lad_codes]
    return _pd.concat(parts, ignore_index=True) if parts else choropleth.boundaries_for("lad", settings.DEFAULT_LAD).iloc[:0]


@st.cache_data(show_spinner=False, max_entries=16)
def trust_convene(urns: tuple) -> dict:
    from civicdata import trust

    return trust.convene_across(trust_schools(urns))


@st.cache_data(show_spinner=False, max_entries=64)
def qof_icb(place: str) -> pd.DataFrame:
    return profile.compute_qof_icb(place)


def layer_stamp(layer_id: str) -> tuple:
    """Cache key part that changes when the layer's data file changes."""
    p = catalogue().get(layer_id).data_path
    return (str(p), p.stat().st_mtime_ns)


# ----------------------------------------------------------------- shareable state

def param(name: str, default: str, valid) -> str:
    """A query parameter if valid, else ``default`` with a notice (never an exception)."""
    value = st.query_params.get(name)
    if value is None:
        return default
    if value in valid:
        return value
    st.toast(f"Link parameter {name}={value!r} is not valid here; showing {default!r} instead.")
    return default


def legend_html(labels, colours, missing: bool, large: bool) -> str:
    """An HTML legend (labels escaped) for the map's classes."""
    import html as _html

    size = 22 if large else 15
    rows = [f'<div style="display:flex;align-items:center;gap:8px;font-size:{size}px;line-height:1.5">'
            f'<span style="display:inline-block;width:{size * 1.4}px;height:{size}px;background:{c};'
            f'border:1px solid #555"></span>{_html.escape(str(lab))}</div>' for lab, c in zip(labels, colours)]
    if missing:
        rows.append(f'<div style="display:flex;align-items:center;gap:8px;font-size:{size}px">'
                    f'<span style="display:inline-block;width:{size * 1.4}px;height:{size}px;background:'
                    f'{choropleth.MISSING_COLOUR};border:1px solid #555"></span>no data / no estimate</div>')
    return "".join(rows)


# ----------------------------------------------------------------- metro lines and feeds

from civicdata import metro  # noqa: E402
from civicdata.gtfs import Feed, load_feed  # noqa: E402


@st.cache_data(show_spinner=False)
def bundled_lines() -> pd.DataFrame:
    return metro.bundled_lines()


@st.cache_resource(show_spinner="Loading the GTFS feed…", max_entries=4)
def feed(path: str, mtime: float) -> Feed:
    """A loaded GTFS feed, shared and never mutated (keyed by path and modification time)."""
    return load_feed(path)


def default_feed_path() -> Path:
    return settings.data_dir() / "transport" / "chester_gtfs.zip"


@st.cache_data(show_spinner=False, max_entries=32)
def line_profile(kind: str, key: str, iod: str, _line: "metro.Line") -> pd.DataFrame:
    """Stop profile of a line; ``kind``/``key`` identify the line for the cache."""
    return metro.stop_profile(_line, iod=iod)


# ----------------------------------------------------------------- strategic focus

from civicdata import focus as _focus  # noqa: E402


@st.cache_data(show_spinner="Ranking…", max_entries=32)
def focus_result(unit: str, area: str, weights: tuple, top_n: int, stamp_key: tuple,
                 include_incomplete: bool = False) -> "_focus.FocusResult":
    """The ranking (cached; ``stamp_key`` moves with the layers and, for a saved area, the store's places)."""
    return _focus.compute_focus(catalogue(), unit, area, dict(weights), top_n=top_n,
                                include_incomplete=include_incomplete)


@st.cache_data(show_spinner=False, max_entries=64)
def convene_table(unit: str, code: str) -> pd.DataFrame:
    return _focus.convene(unit, code)


def encode_weights(weights: dict[str, float]) -> str:
    return ",".join(f"{k}:{v:g}" for k, v in weights.items())


def decode_weights(text: str | None, valid) -> dict[str, float] | None:
    """``id:weight,id:weight`` from a link; None when anything in it is invalid."""
    if not text:
        return None
    out = {}
    for part in text.split(","):
        k, sep, v = part.partition(":")
        try:
            w = float(v)
        except ValueError:
            return None
        if not sep or k not in valid or not (0 <= w <= 10):
            return None
        out[k] = w
    return out or None


# ----------------------------------------------------------------- school to clinic

@st.cache_resource(show_spinner="Building the timetable…", max_entries=4)
def feed_outcome(path: str, mtime: float, day):
    """The day's timetable of a feed, or the message saying why not, with the feed's warnings."""
    from civicdata.access import open_feed

    return open_feed(path, day)


# ----------------------------------------------------------------- accessibility (WCAG 2.2 AA)

#: What the theme (.streamlit/config.toml) cannot set: targets of at least 24x24 px (WCAG 2.5.8) for the
#: date input's day/month/year segments, and a visible keyboard focus ring on every control (2.4.7).
A11Y_CSS = """
<style>
[data-testid="stDateInput"] [role="spinbutton"] { display: inline-flex !important; align-items: center;
  justify-content: center; min-width: 24px; min-height: 24px; }
button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible, [role="option"]:focus-visible,
[role="tab"]:focus-visible, [role="slider"]:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #0b4f8a !important; outline-offset: 2px !important; }
</style>
"""


def md_escape(text: str) -> str:
    """Text shown as itself in Streamlit markdown (no emphasis, links, maths or HTML from data); parentheses
    stay, as without brackets they make no link."""
    return re.sub(r"([\\`*_{}\[\]<>#+!|~$])", r"\\\1", str(text))  # brackets escaped: no link can form


def text_alternative(summary: str, table: pd.DataFrame | None = None, what: str = "map", key: str | None = None) -> None:
    """The text alternative of the map or chart just drawn (WCAG 1.1.1): its summary in words, visible and
    read by screen readers, and (when given) the table behind it one click away."""
    st.caption("**In words:** " + md_escape(summary))
    if table is not None:
        with st.expander(f"Table behind the {what}"):
            st.dataframe(table, hide_index=True, width="stretch", key=key)


# ----------------------------------------------------------------- workshops: presentation mode, slides, links

PRESENT_CSS = """
<style>
section[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], header[data-testid="stHeader"],
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
</style>
"""


def main_chart(fig, *, key: str, presenting: bool, **kwargs):
    """The page's main map or chart. In presentation mode it is sized from the screen (the room sees the
    headline, the map and its legend without scrolling at 1280x720 and 1920x1080); otherwise as built."""
    if presenting:
        fig.update_layout(height=None)
        with st.container(key=f"present_{key}", height="stretch"):
            return st.plotly_chart(fig, key=key, height="stretch", **kwargs)
    return st.plotly_chart(fig, key=key, **kwargs)

KEYS_JS = """
<script>
const doc = window.parent.document;
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
    import streamlit.components.v1 as components

    from civicdata import slides

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
            st.caption(f"{len(ss.slides)} slide(s) saved: in presentation mode, → and ← step through them.")
    if ss.present:
        st.query_params["present"] = "1"
        st.html(PRESENT_CSS)
        components.html(KEYS_JS, height=0)
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


@st.cache_resource(show_spinner="Building the street-accurate model (ferrobus)…", max_entries=2)
def ferrobus_engine(gtfs_path: str, osm_path: str, day):
    from civicdata.engines import FerrobusEngine

    return FerrobusEngine(Path(gtfs_path), Path(osm_path), day)

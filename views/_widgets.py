"""Small widgets and formatting shared by the pages: link parameters, weights in a link, the legend, text
alternatives, Leaflet maps, the accessibility CSS."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from civicdata.indicators import choropleth
from civicdata.labels import column_label


def param(name: str, default: str, valid) -> str:
    """A query parameter if valid, else ``default`` with a notice (never an exception)."""
    value = st.query_params.get(name)
    if value is None:
        return default
    if value in valid:
        return value
    st.toast(f"Link parameter {name}={value!r} is not valid here; showing {default!r} instead.")
    return default


def last_place_or(options, default: str) -> str:
    """The place last looked at elsewhere in the app (``last_place``, set by the Area map and Trends) when it is
    one of ``options``, else ``default``: where a page opens without a link."""
    last = st.session_state.get("last_place")
    return last if last in options else default


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


def legend_html(labels, colours, missing: bool, large: bool, compact: bool = False) -> str:
    """An HTML legend (labels escaped) for the map's classes. ``compact`` (a projector): "Decile 1 (most
    deprived 10%)" written "1 (most deprived 10%)" and tighter rows, so the legend fits a 1280x720 screen."""
    import html as _html

    size = 22 if large else 15
    height = 1.25 if compact else 1.5
    if compact:
        labels = [re.sub(r"^Decile (\d+)", r"\1", str(lab)) for lab in labels]
    rows = [f'<div style="display:flex;align-items:center;gap:8px;font-size:{size}px;line-height:{height}">'
            f'<span style="display:inline-block;width:{size * 1.4}px;height:{size}px;background:{c};'
            f'border:1px solid #555"></span>{_html.escape(str(lab))}</div>' for lab, c in zip(labels, colours)]
    if missing:
        rows.append(f'<div style="display:flex;align-items:center;gap:8px;font-size:{size}px">'
                    f'<span style="display:inline-block;width:{size * 1.4}px;height:{size}px;background:'
                    f'{choropleth.MISSING_COLOUR};border:1px solid #555"></span>no data / no estimate</div>')
    return "".join(rows)


def on_phone() -> bool:
    """True when the browser says it is a phone ("Mobile" in its user agent, as iOS and Android send): maps then
    choose names for a screen about 360 px wide. The server cannot see the width; the agent is what it has."""
    try:
        agent = str(st.context.headers.get("User-Agent", ""))
    except Exception:  # noqa: BLE001 - no browser (AppTest, the warm-up run): not a phone
        return False
    return "Mobile" in agent or "iPhone" in agent or "Android" in agent


def md_escape(text: str) -> str:
    """Text shown as itself in Streamlit markdown (no emphasis, links, maths or HTML from data); parentheses
    stay, as without brackets they make no link."""
    return re.sub(r"([\\`*_{}\[\]<>#+!|~$])", r"\\\1", str(text))  # brackets escaped: no link can form


def table(data, *, column_config: dict | None = None, placeholder: str = "–", decimals: dict | None = None,
          **kwargs):
    """``st.dataframe`` as every page shows a table: each column headed in words with its unit
    (:func:`civicdata.labels.column_label`; the frame keeps its identifiers), a missing value shown as "–",
    every text column (and every header) as wide as it needs (:func:`text_width`), never cut.
    ``decimals``: ``{column: n}`` shows those numbers with exactly n decimals (12.0, not 12); the values are
    rounded too (as for a page's own ``%.Nf`` format), so the grid's accessible table reads what is shown."""
    frame = data if isinstance(data, (pd.DataFrame, pd.Series)) else pd.DataFrame(data)
    if isinstance(frame, pd.Series):
        frame = frame.to_frame()
    config = {c: column_label(c) for c in frame.columns if not isinstance(c, int)}
    for col, label in list(config.items()):  # text never cut: a text column is as wide as its longest entry
        if frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col].dtype):
            config[col] = st.column_config.TextColumn(label, width=text_width(frame[col], label))
    for col, n in (decimals or {}).items():
        if col in frame.columns:
            config[col] = st.column_config.NumberColumn(column_label(col), format=f"%.{n}f")
            if pd.api.types.is_numeric_dtype(frame[col]) and not pd.api.types.is_bool_dtype(frame[col]):
                frame = frame.copy()  # the value itself rounded too: the grid's accessible table (what a screen
                frame[col] = frame[col].round(n)  # reader reads) holds the value, not the formatted text
    if frame.index.name:
        config["_index"] = column_label(frame.index.name)
    config.update(column_config or {})
    for col, c in config.items():  # a column set by the page: its text and its header never cut either
        if col == "_index" or not isinstance(c, dict) or col not in frame.columns:
            continue
        fixed = re.fullmatch(r"%\.(\d)f.*", str((c.get("type_config") or {}).get("format") or ""))
        if fixed and pd.api.types.is_float_dtype(frame[col]):  # rounded as shown (see ``decimals``)
            frame = frame.copy()
            frame[col] = frame[col].round(int(fixed.group(1)))
        label = c.get("label") or column_label(col)
        text = (c.get("type_config") or {}).get("type") in (None, "text") and (
            frame[col].dtype == object or pd.api.types.is_string_dtype(frame[col].dtype))
        need = text_width(frame[col] if text else pd.Series(dtype=object), label) + (34 if c.get("help") else 0)
        width = c.get("width")
        if (c.get("type_config") or {}).get("type") == "progress":  # a bar sized to nothing cuts its header
            need = max(need, 120)
        if width is None and (text or (c.get("type_config") or {}).get("type") == "progress") or \
                _WIDTHS.get(width, 10**6) < need:
            config[col] = {**c, "width": need}
    return st.dataframe(frame, column_config=config, placeholder=placeholder, **kwargs)


#: Streamlit's named column widths, in pixels
_WIDTHS = {"small": 75, "medium": 200, "large": 400}


def text_width(values: pd.Series, label: str = "", most: int = 120) -> int:
    """Pixels a table column needs to show its longest text (up to ``most`` characters) and its header at the
    app's 14 px font, so "per 100,000 (age-standardised)" is never cut to "per 100…"."""
    lengths = values.dropna().astype(str).str.len()
    longest = max(len(str(label)), int(lengths.max()) if len(lengths) else 0)
    return int(min(longest, most) * 6.3 + 30)


_table = table  # text_alternative's own argument is called table


def text_alternative(summary: str, table: pd.DataFrame | None = None, what: str = "map", key: str | None = None,
                     decimals: dict | None = None) -> None:
    """The text alternative of the map or chart just drawn (WCAG 1.1.1): its summary in words, visible and
    read by screen readers, and (when given) the table behind it one click away."""
    st.caption("**In words:** " + md_escape(summary))
    if table is not None:
        with st.expander(f"Table behind the {what}"):
            _table(table, hide_index=True, width="stretch", key=key, decimals=decimals)


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


def leaflet_map(m, key: str, height: int = 560) -> str | None:
    """Draw a Leaflet (folium) map as wide as its column; the tooltip of the object clicked last, or None.

    ``render=False``: st_folium otherwise renders the map twice (the whole page, then the map again); each render
    compiles every marker's script as a Jinja template (School to clinic: ~0.25 s of ~0.45 s a view), and the
    second repeats each name label's ``setIcon``. One render sends the same map otherwise (tests/test_leaflet.py
    checks it for each of the app's maps)."""
    from streamlit_folium import st_folium

    out = st_folium(m, height=height, use_container_width=True, key=key, render=False,
                    returned_objects=["last_object_clicked_tooltip"])
    return (out or {}).get("last_object_clicked_tooltip")


def leaflet_picker(m, key: str, height: int = 520) -> dict:
    """Draw a Leaflet map for picking: ``{"tooltip": text of the object clicked last, "click": where (lat, lng),
    "drawings": GeoJSON features drawn}`` (empty before any interaction). One render, as :func:`leaflet_map`."""
    from streamlit_folium import st_folium

    out = st_folium(m, height=height, use_container_width=True, key=key, render=False,
                    returned_objects=["last_object_clicked_tooltip", "last_object_clicked", "all_drawings"]) or {}
    where = out.get("last_object_clicked") or {}
    return {"tooltip": out.get("last_object_clicked_tooltip"),
            "click": (where.get("lat"), where.get("lng")) if where else None, "drawings": out.get("all_drawings")}


#: What the theme (.streamlit/config.toml) cannot set: targets of at least 24x24 px (WCAG 2.5.8) for the
#: date input's day/month/year segments, and a visible keyboard focus ring on every control (2.4.7).
A11Y_CSS = """
<style>
/* a map's box says "Drawing the map…" until the map covers it (a cold browser takes seconds: never a blank area) */
[class*="st-key-drawing_"] { position: relative; min-height: 320px; }
[class*="st-key-drawing_"]::before { content: "Drawing the map…"; position: absolute; top: 40%; left: 0; right: 0;
  text-align: center; font-size: 1.25rem; color: #31333f; z-index: 0; }
[class*="st-key-drawing_"] > * { position: relative; z-index: 1; }
[data-testid="stDateInput"] [role="spinbutton"] { display: inline-flex !important; align-items: center;
  justify-content: center; min-width: 24px; min-height: 24px; }
button:focus-visible, a:focus-visible, input:focus-visible, textarea:focus-visible, [role="option"]:focus-visible,
[role="tab"]:focus-visible, [role="slider"]:focus-visible, summary:focus-visible, [tabindex]:focus-visible {
  outline: 3px solid #0b4f8a !important; outline-offset: 2px !important; }
</style>
"""

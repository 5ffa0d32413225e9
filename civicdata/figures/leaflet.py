"""Leaflet maps (folium) that draw with no internet: the one place that knows the local asset paths.

Leaflet 1.9.4 (BSD-2-Clause, from the npm package) is served by the app itself from
``static/leaflet/`` (Streamlit static serving, ``/app/static/…``); folium's CDN defaults are
replaced by those files and nothing else is loaded, so maps draw offline. Base-map tiles stay
an option (they need the internet). Used by School to clinic (journeys) and meant for the Trust
page. Every string that reaches a tooltip or popup is HTML-escaped.
"""

from __future__ import annotations

import html
import math

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
from branca.element import MacroElement
from jinja2 import Template

LEAFLET_JS = "/app/static/leaflet/leaflet.js"
LEAFLET_CSS = "/app/static/leaflet/leaflet.css"
#: the sequential colours of minutes (short = light, long = dark), and of a route with no route_color
MINUTE_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")
ROUTE_PALETTE = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d")


class _Popup(MacroElement):
    """A popup bound with Leaflet's own ``bindPopup`` (folium's Popup builds its element with jQuery, which we
    do not load). ``html`` must already be escaped; it is passed to JavaScript as a JSON string."""

    _template = Template("{% macro script(this, kwargs) %}"
                         "{{ this._parent.get_name() }}.bindPopup({{ this.html|tojson }}, {maxWidth: 320});"
                         "{% endmacro %}")

    def __init__(self, html_text: str):
        super().__init__()
        self._name = "LnePopup"
        self.html = html_text


class _FitWhenShown(MacroElement):
    """Fit the map to its bounds as soon as it has a size. ``fitBounds`` on a map drawn while hidden (in a closed
    expander or tab, 0 px wide) zooms out to the whole world and stays there when opened; this fits once the
    container first has a width (a ResizeObserver), then leaves the view to the person."""

    _template = Template("{% macro script(this, kwargs) %}"
                         "(function (map, bounds) {"
                         "  function fit() { map.invalidateSize(false); "
                         "if (map.getSize().x > 0) { map.fitBounds(bounds); return true; } return false; }"
                         "  if (fit() || typeof ResizeObserver === 'undefined') return;"
                         "  var seen = new ResizeObserver(function () { if (fit()) seen.disconnect(); });"
                         "  seen.observe(map.getContainer());"
                         "})({{ this._parent.get_name() }}, {{ this.bounds|tojson }});"
                         "{% endmacro %}")

    def __init__(self, bounds: list[list[float]]):
        super().__init__()
        self._name = "LneFitWhenShown"
        self.bounds = bounds


DRAW_JS = "/app/static/leaflet-draw/leaflet.draw.js"
DRAW_CSS = "/app/static/leaflet-draw/leaflet.draw.css"
PICKED_COLOUR, UNPICKED_COLOUR = "#08519c", "#ffffff"
GIVEN_COLOUR = "#d95f02"  # pasted or from a file: in the area too, told apart from the ones clicked


def configure_offline() -> None:
    """Point folium at the app's own Leaflet files (no CDN, no jQuery or Bootstrap)."""
    folium.Map.default_js = [("leaflet", LEAFLET_JS)]
    folium.Map.default_css = [("leaflet_css", LEAFLET_CSS)]


def _esc(v) -> str:
    """HTML-escaped text that is also safe inside the JavaScript template literal folium wraps tooltips in
    (a backtick or ``${`` would end it or run code: both become character references)."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    return html.escape(str(v), quote=True).replace("`", "&#96;").replace("$", "&#36;").replace("\\", "&#92;")


def minute_colour(minutes: float | None, breaks=(15, 30, 45, 60)) -> str:
    """Colour of a journey time (minutes); grey when there is no journey."""
    if minutes is None or (isinstance(minutes, float) and math.isnan(minutes)):
        return "#9e9e9e"
    return MINUTE_COLOURS[int(np.searchsorted(np.asarray(breaks), minutes, side="right"))]


def route_colour(route: str, colours: dict[str, str]) -> str:
    """The feed's route_color, else a palette colour stable for the route's label."""
    if route in colours:
        return colours[route]
    return ROUTE_PALETTE[sum(route.encode()) % len(ROUTE_PALETTE)]


def padded_bounds(points: pd.DataFrame, pad: float = 0.08) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of ``lat``/``lon`` points, widened by ``pad`` of their extent (at least ~500 m)."""
    minx, maxx = float(points["lon"].min()), float(points["lon"].max())
    miny, maxy = float(points["lat"].min()), float(points["lat"].max())
    px, py = max((maxx - minx) * pad, 0.008), max((maxy - miny) * pad, 0.005)
    return (round(minx - px, 5), round(miny - py, 5), round(maxx + px, 5), round(maxy + py, 5))


def base_map(bounds: tuple[float, float, float, float], tiles: bool = False) -> folium.Map:
    """An empty map fitted to ``(minx, miny, maxx, maxy)`` (degrees); no tiles unless asked."""
    configure_offline()
    minx, miny, maxx, maxy = bounds
    m = folium.Map(location=[(miny + maxy) / 2, (minx + maxx) / 2], zoom_start=12,
                   tiles="OpenStreetMap" if tiles else None, control_scale=True,
                   zoom_snap=0.25)  # fitted closely, not a whole zoom level out
    m.add_child(_FitWhenShown([[miny, minx], [maxy, maxx]]))  # fitted even when drawn in a closed expander
    return m


def add_outline(m: folium.Map, areas: gpd.GeoDataFrame, name: str) -> None:
    """Area outlines (a district), no fill, no tooltip."""
    if len(areas):
        folium.GeoJson(areas[["geometry"]].to_json(), name=name, control=False, interactive=False,
                       style_function=lambda _: {"color": "#000000", "weight": 2, "fill": False}).add_to(m)


def add_schools(m: folium.Map, schools: pd.DataFrame, minutes_column: str = "minutes") -> None:
    """Schools as circles coloured by minutes; tooltip = ``name`` (so a click names the school), popup the details."""
    for r in schools.itertuples():
        mins = getattr(r, minutes_column)
        marker = folium.CircleMarker(
            [float(r.lat), float(r.lon)], radius=8, color="#000000", weight=1, fill=True,
            fill_color=minute_colour(mins), fill_opacity=0.95, tooltip=_esc(r.name))
        marker.add_child(_Popup(f"<b>{_esc(r.name)}</b><br>URN {_esc(r.urn)}<br>"
                                + ("no journey in this feed" if mins is None or pd.isna(mins) else
                                   f"median {float(mins):.0f} min to {_esc(getattr(r, 'service', ''))}")))
        marker.add_to(m)


def add_services(m: folium.Map, services: pd.DataFrame, title: str) -> None:
    """Service points as small black squares-ish circles, tooltip their name and the layer's title (vintage)."""
    for r in services.itertuples():
        folium.CircleMarker([float(r.lat), float(r.lon)], radius=4, color="#000000", weight=1, fill=True,
                            fill_color="#000000", fill_opacity=1, tooltip=f"{_esc(r.name)} ({_esc(title)})").add_to(m)


def add_journey(m: folium.Map, legs: list, route_colours: dict[str, str], hhmm) -> None:
    """A journey's legs: walks dashed grey, rides in the route's colour along the feed's shapes; popups with
    route, boarding and alighting stops and times (``hhmm`` formats seconds)."""
    for leg in legs:
        pts = leg.shape or [(leg.from_lat, leg.from_lon), (leg.to_lat, leg.to_lon)]
        pts = [(float(a), float(b)) for a, b in pts]
        if leg.mode == "walk":
            line = folium.PolyLine(pts, color="#424242", weight=4, dash_array="6 8", opacity=0.9,
                                   tooltip=f"walk {_esc(leg.from_name)} → {_esc(leg.to_name)}")
            line.add_child(_Popup(f"Walk {hhmm(leg.depart)}–{hhmm(leg.arrive)}: {_esc(leg.from_name)} → "
                                  f"{_esc(leg.to_name)}"))
        else:
            line = folium.PolyLine(pts, color=route_colour(leg.route, route_colours), weight=6, opacity=0.95,
                                   tooltip=f"route {_esc(leg.route)}")
            line.add_child(_Popup(f"<b>Route {_esc(leg.route)}</b><br>board {_esc(leg.from_name)} "
                                  f"{hhmm(leg.depart)}<br>alight {_esc(leg.to_name)} {hhmm(leg.arrive)}"))
        line.add_to(m)


def area_picker_map(hoods: gpd.GeoDataFrame, picked: set[str], tiles: bool = False,
                    given: set[str] = frozenset()) -> folium.Map:
    """Neighbourhoods to pick from (``code``, ``name``, ``geometry``): picked ones filled dark blue, ``given`` ones
    (pasted or from a file, and not picked) orange, the rest white; each one's tooltip is "name (code)", so a click
    names it. A drawing tool (Leaflet.draw 1.0.4, served by the app) draws a polygon or rectangle; nothing else can
    be drawn or edited."""
    from folium.plugins import Draw

    b = hoods.total_bounds
    m = base_map((float(b[0]), float(b[1]), float(b[2]), float(b[3])), tiles=tiles)
    shown = hoods[["code", "name", "geometry"]].copy()
    shown["label"] = [f"{_esc(n)} ({_esc(c)})" for n, c in zip(shown["name"], shown["code"])]
    shown["picked"] = shown["code"].isin(picked)
    shown["given"] = shown["code"].isin(given) & ~shown["picked"]
    shown.loc[shown["given"], "label"] += " — pasted or from your file"

    def style(f: dict) -> dict:
        p = f["properties"]
        fill = PICKED_COLOUR if p["picked"] else GIVEN_COLOUR if p["given"] else UNPICKED_COLOUR
        return {"color": "#000000", "weight": 1, "fillColor": fill,
                "fillOpacity": 0.75 if p["picked"] or p["given"] else 0.35}

    folium.GeoJson(
        shown[["label", "picked", "given", "geometry"]].to_json(), name="neighbourhoods",
        style_function=style,
        highlight_function=lambda _: {"weight": 3},
        tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)).add_to(m)
    Draw.default_js = [("leaflet_draw_js", DRAW_JS)]
    Draw.default_css = [("leaflet_draw_css", DRAW_CSS)]
    Draw(draw_options={"polyline": False, "circle": False, "marker": False, "circlemarker": False,
                       "polygon": {"allowIntersection": False, "showArea": False}, "rectangle": True},
         edit_options={"edit": False, "remove": False}, show_geometry_on_click=False).add_to(m)
    return m


def pcn_map(practices: list[dict], hoods: gpd.GeoDataFrame, tiles: bool = False) -> folium.Map:
    """A Primary Care Network as the data give it: its practices (``pcn_profile``'s ``practices`` with a location)
    as circles sized by list size, tooltip name, ODS code, list and QOF prevalence; the neighbourhoods (LSOA 2021,
    ``code``/``name``/``geometry``) they stand in, outlined. No PCN boundary: the data have none."""
    located = [p for p in practices if p["lat"] is not None and p["lon"] is not None]
    pts = pd.DataFrame({"lat": [p["lat"] for p in located], "lon": [p["lon"] for p in located]})
    bounds = padded_bounds(pts) if len(pts) else tuple(float(v) for v in hoods.total_bounds)
    if len(hoods):
        hb = hoods.total_bounds
        bounds = (min(bounds[0], hb[0]), min(bounds[1], hb[1]), max(bounds[2], hb[2]), max(bounds[3], hb[3]))
    m = base_map(bounds, tiles=tiles)
    if len(hoods):
        shown = hoods[["code", "name", "geometry"]].copy()
        shown["label"] = [f"{_esc(n)} ({_esc(c)}): a practice stands here" for n, c in zip(shown["name"], shown["code"])]
        folium.GeoJson(shown[["label", "geometry"]].to_json(), name="neighbourhoods with a practice",
                       style_function=lambda _: {"color": "#08519c", "weight": 2, "fillColor": "#c6dbef",
                                                 "fillOpacity": 0.4},
                       tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)).add_to(m)
    for p in located:
        size = p["list_size"] or 0
        qof = "; ".join(f"{k} {v}%" for k, v in p["qof"].items() if v is not None) or "no QOF 2022-23 figures"
        folium.CircleMarker([p["lat"], p["lon"]], radius=max(5.0, min(16.0, math.sqrt(size) / 10)), color="#000000",
                            weight=1, fill=True, fill_color="#d94801", fill_opacity=0.9,
                            tooltip=f"{_esc(p['name'])} ({_esc(p['ods_code'])}), list {size:,}: {_esc(qof)}").add_to(m)
    return m


def legend_rows(breaks=(15, 30, 45, 60)) -> list[tuple[str, str]]:
    """(colour, label) rows of the minutes legend, to draw beside the map."""
    edges = [0, *breaks]
    rows = [(MINUTE_COLOURS[i], f"{edges[i]}–{edges[i + 1]} min") for i in range(len(breaks))]
    rows.append((MINUTE_COLOURS[-1], f"{breaks[-1]}+ min"))
    rows.append(("#9e9e9e", "no journey in this feed"))
    return rows


def add_orientation(m: folium.Map, orientation) -> None:
    """Ward outlines (dotted) and names (text labels placed by :mod:`civicdata.geo.orientation`'s rule)."""
    if orientation is None:
        return
    if len(orientation.wards):
        folium.GeoJson(orientation.wards[["geometry"]].to_json(), name="wards", control=False, interactive=False,
                       style_function=lambda _: {"color": "#3a3a3a", "weight": 1, "dashArray": "2 4",
                                                 "fill": False}).add_to(m)
    for r in orientation.labels.itertuples():
        weight = "bold" if r.kind == "district" else "normal"
        folium.Marker([r.lat, r.lon], interactive=False, icon=folium.DivIcon(
            html=(f'<div class="lne-label" style="font: {weight} {int(r.size)}px Arial, sans-serif; color: #111; '
                  "white-space: nowrap; transform: translate(-50%, -50%); text-shadow: 0 0 3px #fff, 0 0 3px #fff;"
                  f'">{_esc(r.name)}</div>'), icon_size=(0, 0))).add_to(m)


#: the IoD decile colours of the plotly maps (viridis, decile 1 first) for Leaflet markers
def decile_colour(decile) -> str:
    from civicdata.indicators.choropleth import DECILE_COLOURS, MISSING_COLOUR

    return MISSING_COLOUR if decile is None or pd.isna(decile) else DECILE_COLOURS[int(decile) - 1]


def add_trust_schools(m: folium.Map, schools: pd.DataFrame) -> None:
    """A trust's schools coloured by their neighbourhood's IoD2025 decile; tooltip = name (a click names it)."""
    for r in schools.itertuples():
        marker = folium.CircleMarker([float(r.lat), float(r.lon)], radius=9, color="#000000", weight=2, fill=True,
                                     fill_color=decile_colour(r.imd2025_decile), fill_opacity=0.95,
                                     tooltip=_esc(r.name))
        marker.add_child(_Popup(f"<b>{_esc(r.name)}</b><br>URN {_esc(r.urn)} · {_esc(r.lad24_name)}<br>"
                                f"{_esc(r.neighbourhood)}<br>IoD2025 decile {_esc(r.imd2025_decile)}"))
        marker.add_to(m)

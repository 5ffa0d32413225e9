"""Plotly map figures built from frames. Returned, never rendered (the pages render them).

Maps draw offline by default: a plotly ``geo`` subplot (SVG, Web Mercator, no base layers)
needs nothing from the internet, and its text (ward names) is drawn as SVG text. With base-map
tiles on (they need the internet anyway) the same traces go on a tile ``map`` subplot.
Every user-supplied string is HTML-escaped before it reaches a hover label.
"""

from __future__ import annotations

import html
import json
import math
from dataclasses import dataclass, field

import geopandas as gpd
import numpy as np
import pandas as pd
import plotly.graph_objects as go
import shapely

from civicdata.indicators.catalogue import LayerDescriptor
from civicdata.labels import value_text
from civicdata.indicators.choropleth import MISSING_COLOUR, Classes
from civicdata.geo.boundaries import simplify_for_view
from civicdata.geo.orientation import Orientation

#: Where plotly's geo maps look for their world outline (``<url>world_110m.json``). The app serves an
#: empty one from ``static/topojson/`` (``enableStaticServing``): our maps draw their own boundaries, and
#: plotly would otherwise fetch the file from its CDN and draw nothing offline. Relative, so it also
#: works under a ``baseUrlPath``.
TOPOJSON_URL = "app/static/topojson/"
EMPTY_TOPOLOGY = ('{"type":"Topology","arcs":[],"objects":{' + ",".join(
    f'"{k}":{{"type":"GeometryCollection","geometries":[]}}'
    for k in ("coastlines", "land", "ocean", "lakes", "rivers", "countries", "subunits")) + "}}")


def map_config(**extra) -> dict:
    """The plotly config for every map in the app (offline world outline, no logo)."""
    return {"displaylogo": False, "topojsonURL": TOPOJSON_URL, **extra}


PAYLOAD_DECIMALS = 5  # ~1 m for a borough; one fewer (~10 m, the GM simplification) above 500 areas
FONT = "Arial, Helvetica, sans-serif"


def esc(value) -> str:
    """HTML-escape any value for a hover label or popup (None/NaN -> empty)."""
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return html.escape(str(value), quote=True)


def to_geojson(gdf: gpd.GeoDataFrame, decimals: int = PAYLOAD_DECIMALS) -> dict:
    """A FeatureCollection keyed by ``code`` (feature ``id``) with rounded coordinates."""
    geoms = shapely.set_precision(gdf.geometry.values, 10 ** -decimals)
    feats = []
    for code, geom in zip(gdf["code"], geoms):
        if geom is None or geom.is_empty:
            continue
        feats.append({"type": "Feature", "id": str(code), "properties": {},
                      "geometry": json.loads(shapely.to_geojson(geom))})
    return {"type": "FeatureCollection", "features": feats}


def view_for_bounds(bounds: tuple[float, float, float, float], height_px: int = 640,
                    width_px: int = 900) -> tuple[dict, float]:
    """Centre and zoom that fit ``(minx, miny, maxx, maxy)`` (degrees) into a map of the given size."""
    minx, miny, maxx, maxy = bounds
    centre = {"lon": (minx + maxx) / 2, "lat": (miny + maxy) / 2}
    lat_rad = math.radians(centre["lat"])
    dx = max(maxx - minx, 1e-4) * math.cos(lat_rad)
    dy = max(maxy - miny, 1e-4)
    zoom_x = math.log2(360 * width_px / (256 * dx * 1.1) * math.cos(0))
    zoom_y = math.log2(180 * height_px / (256 * dy * 1.1 * 1.6))
    return centre, max(1.0, min(zoom_x, zoom_y, 16.0))


@dataclass
class PointLayer:
    """Points to draw over the choropleth: a frame with ``lat``, ``lon``, ``name`` and hover lines."""

    title: str
    frame: pd.DataFrame
    hover: list[str] = field(default_factory=list)  # columns shown as "column: value"
    colour: str = "#d95f02"
    colour_by: str | None = None  # a numeric column -> continuous colour scale
    colour_title: str = ""
    size_by: str | None = None  # a numeric column -> marker area
    key_column: str | None = None  # returned in customdata[0] for click-through
    cmin: float = 0.0  # colour scale range for colour_by
    cmax: float = 60.0
    size_per_sqrt: float = 1 / 3  # marker size = 6 + sqrt(size_by) x this, 6 to 22 px
    reverse: bool = False  # True when higher values are better: the darkest red is then the lowest value


def area_hover(frame: pd.DataFrame, desc: LayerDescriptor) -> list[str]:
    """One escaped hover label per area: name, code, value (with CI), national rank, source."""
    out = []
    for row in frame.itertuples():
        if row.status == "suppressed":
            val = "suppressed"
        else:
            val = value_text(row.value, desc.unit, with_unit=True)  # rounded by its unit, as everywhere
        ci = ""
        if desc.has_ci and not pd.isna(row.ci_lower):
            ci = f" (95% CI {value_text(row.ci_lower, desc.unit)} to {value_text(row.ci_upper, desc.unit)})"
        rank = ""
        if "national_rank" in frame.columns and not pd.isna(row.national_rank):
            first = "highest" if desc.polarity == "neutral" else "worst"
            rank = f"<br>Rank {int(row.national_rank):,} of {int(row.national_n):,} in England (1 = {first})"
        out.append(f"<b>{esc(row.name)}</b> {esc(row.code)}<br>{esc(desc.title)}: {esc(val)}{esc(ci)}{rank}")
    return out


def source_line(desc: LayerDescriptor) -> str:
    """The escaped source line shown under every hover label (written once per trace)."""
    return f"<i>{esc(desc.source)}, {esc(desc.vintage)}</i>"


def _kinds(tiles: bool):
    """Trace classes for the offline geo subplot or, with tiles, the tile map subplot."""
    return (go.Choroplethmap, go.Scattermap) if tiles else (go.Choropleth, go.Scattergeo)


def _view(bounds, height: int, width: int, tiles: bool) -> dict:
    """Layout for the map subplot fitting ``bounds`` (lon/lat degrees)."""
    if tiles:
        centre, zoom = view_for_bounds(tuple(bounds), height, width)
        return {"map": {"style": "carto-positron", "center": centre, "zoom": zoom}}
    # explicit ranges (not fitbounds): the map then takes the place's own aspect and fills the figure
    minx, miny, maxx, maxy = bounds
    px, py = (maxx - minx) * 0.02, (maxy - miny) * 0.02
    return {"geo": {"visible": False, "projection": {"type": "mercator"}, "fitbounds": False,
                    "lonaxis": {"range": [minx - px, maxx + px]}, "lataxis": {"range": [miny - py, maxy + py]},
                    "bgcolor": "#ffffff", "showframe": False}}


def _lines_xy(geoms, decimals: int = PAYLOAD_DECIMALS) -> tuple[list, list]:
    """Outlines of polygons (or lines) as lon/lat lists broken by None, rounded."""
    lon: list = []
    lat: list = []
    for g in geoms:
        if g is None or g.is_empty:
            continue
        b = g.boundary if g.geom_type in ("Polygon", "MultiPolygon") else g
        parts = b.geoms if hasattr(b, "geoms") else [b]
        for part in parts:
            xy = np.round(np.asarray(part.coords)[:, :2], decimals)
            lon += xy[:, 0].tolist() + [None]
            lat += xy[:, 1].tolist() + [None]
    return lon, lat


def outline_trace(geoms, name: str, width: float, colour: str, *, tiles: bool = False, bounds=None,
                  dash: str = "solid", polygons: bool = True, px: int = 900, tolerance_px: float = 0.5):
    """Polygon outlines (or lines, ``polygons=False``) as one line trace. Each edge shared by two
    polygons is sent once, lines are simplified to ``tolerance_px`` of a ``px``-wide view of ``bounds``
    and cut to ``bounds`` (nothing is sent that the view does not show). No hover."""
    lines = shapely.boundary(geoms) if polygons else np.asarray(geoms)
    lines = shapely.line_merge(shapely.union_all(lines))
    if bounds is not None:
        lines = shapely.intersection(lines, shapely.box(*bounds))
        lines = shapely.simplify(lines, (bounds[2] - bounds[0]) / px * tolerance_px)
    decimals = PAYLOAD_DECIMALS if bounds is None or bounds[2] - bounds[0] < 0.5 else PAYLOAD_DECIMALS - 1
    lon, lat = _lines_xy([lines], decimals)
    line = {"width": width, "color": colour}
    if not tiles:
        line["dash"] = dash
    _, scatter = _kinds(tiles)
    return scatter(lon=lon, lat=lat, mode="lines", line=line, name=name, hoverinfo="skip", showlegend=False)


def line_view_bounds(profile: pd.DataFrame) -> tuple[float, float, float, float]:
    """The view of a line map: its stops' extent plus 15% and ~1 km on each side (degrees), so the end stops and
    their neighbourhoods sit inside the frame, not on its edge."""
    minx, miny, maxx, maxy = profile["lon"].min(), profile["lat"].min(), profile["lon"].max(), profile["lat"].max()
    pad_x, pad_y = (maxx - minx) * 0.15 + 0.015, (maxy - miny) * 0.15 + 0.009
    return (float(minx - pad_x), float(miny - pad_y), float(maxx + pad_x), float(maxy + pad_y))


def orientation_traces(o: Orientation, tiles: bool = False, bounds=None) -> tuple[list, list]:
    """Plotly traces: (outlines — wards, district, tram lines clipped to ``bounds`` — and names).

    Names are text (SVG text on the offline map), dark with a white halo so they read on any colour;
    draw them last, above the points.
    """
    _, scatter = _kinds(tiles)
    names = []

    def lines(geoms, name, width, colour, dash="solid", polygons=True, tolerance_px=0.5):
        return outline_trace(geoms, name, width, colour, tiles=tiles, bounds=bounds, dash=dash, polygons=polygons,
                             tolerance_px=tolerance_px)

    # dotted ward lines need less detail than the solid district outline
    traces = [lines(o.wards.geometry.values, "ward boundaries", 1.2, "#3a3a3a", "dot", tolerance_px=1.0),
              lines(o.districts.geometry.values, "local authority boundary", 3, "#000000")]
    if len(o.lines):
        traces.append(lines(o.lines.geometry.values, "Metrolink (casing)", 6, "#000000", polygons=False))
        traces.append(lines(o.lines.geometry.values, "Metrolink lines", 3, "#ffd200", polygons=False))
    if len(o.labels):
        # a map with tiles (MapLibre) takes one text size a trace: a trace per size there; one trace offline
        groups = [o.labels] if not tiles else [g for _, g in o.labels.groupby("size", sort=True)]
        for lab in groups:
            font = {"size": lab["size"].tolist() if not tiles else float(lab["size"].iloc[0]), "color": "#111111",
                    "family": FONT}
            if not tiles:
                font["shadow"] = "0 0 3px #ffffff, 0 0 3px #ffffff, 0 0 2px #ffffff"
            bold = lab["kind"] == "district"
            names.append(scatter(lon=lab["lon"], lat=lab["lat"], mode="text", name="place names",
                                 text=[f"<b>{esc(n)}</b>" if b else esc(n) for n, b in zip(lab["name"], bold)],
                                 textfont=font, hoverinfo="skip", showlegend=False))
    return traces, names


def build_area_map(frame: gpd.GeoDataFrame, desc: LayerDescriptor | None, classes: Classes | None,
                   points: list[PointLayer] = (), *, highlight: str | None = None, height: int = 640,
                   large_text: bool = False, tiles: bool = False, bounds=None,
                   orientation: Orientation | None = None) -> go.Figure:
    """A choropleth of ``frame`` (``code``, ``class``, ``geometry`` …) with point layers on top.

    Areas whose ``class`` is NaN are drawn grey ("no data"). ``highlight`` outlines one area.
    ``orientation`` adds ward/district outlines and names (see :mod:`civicdata.geo.orientation`).
    The figure carries ``customdata`` = area code for click-through.
    """
    fig = go.Figure()
    choropleth, _ = _kinds(tiles)
    font_size = 22 if large_text else 14
    b = tuple(bounds if bounds is not None else (frame.total_bounds if len(frame) else (-6.0, 49.9, 2.0, 55.9)))
    drawn = simplify_for_view(frame, b, 900, height) if len(frame) else frame  # half a pixel at the first view
    if desc is not None and classes is not None and len(frame):
        k = len(classes.colours)
        z = frame["class"].fillna(0).astype(float).to_numpy()
        scale = _discrete_scale([MISSING_COLOUR, *classes.colours])
        fig.add_trace(choropleth(
            geojson=to_geojson(drawn, PAYLOAD_DECIMALS if len(frame) <= 500 else PAYLOAD_DECIMALS - 1),
            locations=frame["code"].astype(str), z=z, zmin=-0.5, zmax=k + 0.5,
            colorscale=scale, showscale=False, marker={"line": {"width": 0.6, "color": "#ffffff"}, "opacity": 0.85},
            text=area_hover(frame, desc), hovertemplate="%{text}<br>" + source_line(desc) + "<extra></extra>",
            customdata=np.array(frame["code"].astype(str)).reshape(-1, 1), name=desc.title))
        if highlight is not None and highlight in set(frame["code"]):
            h = drawn[drawn["code"] == highlight]
            fig.add_trace(choropleth(
                geojson=to_geojson(h), locations=h["code"], z=[1] * len(h), colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False, marker={"line": {"width": 4, "color": "#e7298a"}}, hoverinfo="skip", name="selected"))
    if (desc is None or classes is None) and len(frame) and orientation is None:
        # no layer: the place's outline (within the view), so that the map is not empty
        fig.add_trace(outline_trace(frame.geometry.values, "place", 2, "#000000", tiles=tiles, bounds=b))
    outlines, names = orientation_traces(orientation, tiles, b) if orientation is not None else ([], [])
    fig.add_traces(outlines)
    fig.add_traces([t for layer in points for t in _point_traces(layer, font_size, tiles)])
    fig.add_traces(names)
    fig.update_layout(
        **_view(b, height, 900, tiles),
        height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, font={"family": FONT, "size": font_size},
        hoverlabel={"font": {"size": font_size}}, showlegend=bool(points),
        # the point key sits under the map, never over it
        # (its size set here: Streamlit's chart theme would put the key at 12 px, even on a projector)
        legend={"orientation": "h", "yanchor": "top", "y": 0.0, "x": 0.0, "bgcolor": "rgba(255,255,255,0.85)",
                "font": {"size": 16 if large_text else 13}})  # one line under the map, even on a projector
    if points:
        fig.update_layout(margin={"l": 0, "r": 0, "t": 0, "b": 2 * font_size + 8})
    return fig


def _discrete_scale(colours: list[str]) -> list[list]:
    """A plotly colorscale where integer z = i maps exactly to colours[i] (z from 0 to len-1)."""
    n = len(colours)
    scale = []
    for i, c in enumerate(colours):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def _hover_value(col: str, v) -> str:
    if col == "urn" and isinstance(v, (int, float)) and not pd.isna(v):
        return str(int(v))  # an identifier, not a quantity: no thousands separator
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        return "no data" if pd.isna(v) else f"{v:,.0f}" if float(v).is_integer() else value_text(v)  # counts whole
    return v


def _point_traces(layer: PointLayer, font_size: int, tiles: bool = False) -> list:
    """The layer's points; with ``colour_by``, points with no value are a grey trace of their own ("no value"),
    never coloured as if their value were the lowest."""
    from civicdata.labels import column_label

    f = layer.frame
    lines = []
    for row in f.to_dict("records"):
        parts = [f"<b>{esc(row.get('name'))}</b>"]
        for col in layer.hover:
            parts.append(f"{esc(column_label(col))}: {esc(_hover_value(col, row.get(col)))}")
        lines.append("<br>".join(parts))
    lines = np.array(lines, dtype=object)
    size = 10
    if layer.size_by is not None:
        n = pd.to_numeric(f[layer.size_by], errors="coerce").fillna(0).clip(lower=0)
        size = (6 + np.sqrt(n) * layer.size_per_sqrt).clip(6, 22).round(1).to_numpy()
    custom = (np.array(f[layer.key_column].astype(str)).reshape(-1, 1) if layer.key_column
              else np.array([""] * len(f)).reshape(-1, 1))
    _, scatter = _kinds(tiles)

    def trace(mask, marker, name, legend=True):
        s = size[mask] if isinstance(size, np.ndarray) else size
        return scatter(lat=f["lat"][mask].round(6), lon=f["lon"][mask].round(6), mode="markers",
                       marker={**marker, "size": s}, name=name, text=lines[mask], showlegend=legend,
                       hovertemplate="%{text}<extra></extra>", customdata=custom[mask])

    every = np.ones(len(f), dtype=bool)
    if layer.colour_by is None:
        return [trace(every, {"color": layer.colour, "opacity": 0.95}, layer.title)]
    values = pd.to_numeric(f[layer.colour_by], errors="coerce")
    has = values.notna().to_numpy()
    marker = {"color": values[has], "colorscale": "Reds", "reversescale": layer.reverse, "cmin": layer.cmin,
              "cmax": layer.cmax, "showscale": True, "opacity": 0.95,
              # below the toolbar's corner: the scale's title is never under the plotly buttons
              "colorbar": {"title": {"text": layer.colour_title, "font": {"size": font_size - 2}}, "x": 1.0, "len": 0.5,
                           "y": 0.5,
                           "yanchor": "middle", "thickness": 14, "tickfont": {"size": font_size - 2}}}
    if not tiles:  # an outline keeps the palest points visible on the white map (tile maps take no outline)
        marker["line"] = {"width": 0.6, "color": "#555555"}
    out = [trace(has, marker, layer.title)]
    if (~has).any():
        out.append(trace(~has, {"color": MISSING_COLOUR, "opacity": 0.95,
                                **({} if tiles else {"line": {"width": 1, "color": "#555555"}})},
                         f"{layer.title}: no value"))
    return out


def figure_payload_bytes(fig: go.Figure) -> int:
    """Size in bytes of the figure's JSON (what the browser receives)."""
    return len(fig.to_json().encode("utf-8"))


def figure_html(fig: go.Figure, title: str) -> str:
    """A standalone HTML page of the map (plotly.js inlined, so it opens offline).

    The empty world outline is handed to plotly before the map is drawn, so nothing is fetched.
    """
    html_text = fig.to_html(include_plotlyjs=True, full_html=True, config={"displaylogo": False},
                            default_width="100%", default_height="90vh")
    assets = (f"window.PlotlyGeoAssets = window.PlotlyGeoAssets || {{topojson: {{}}}};"
              f"window.PlotlyGeoAssets.topojson['world_110m'] = {EMPTY_TOPOLOGY};")
    return (html_text.replace("<head>", f"<head><title>{esc(title)}</title>", 1)
            .replace("window.PLOTLYENV=", assets + "window.PLOTLYENV=", 1))


def build_line_map(profile: pd.DataFrame, msoas: gpd.GeoDataFrame, line_geometry=None, large_text: bool = False,
                   height: int = 560, orientation: Orientation | None = None) -> go.Figure:
    """The line (its geometry, or stop to stop), the stops, and the MSOAs they fall in (offline geo map).

    ``orientation`` adds ward/district outlines and names around the line.
    """
    fig = go.Figure()
    font_size = 20 if large_text else 13
    if len(msoas):
        fig.add_trace(go.Choropleth(
            geojson=to_geojson(msoas), locations=msoas["code"], z=[1] * len(msoas),
            colorscale=[[0, "#dbe9f6"], [1, "#dbe9f6"]], showscale=False,
            marker={"line": {"width": 1, "color": "#6b8fb3"}, "opacity": 0.6},
            text=[f"{esc(n)} ({esc(c)})" for n, c in zip(msoas["name"], msoas["code"])],
            hovertemplate="%{text}<extra>MSOA 2011</extra>", name="MSOAs of the stops"))
    b = line_view_bounds(profile)
    outlines, names = orientation_traces(orientation, False, b) if orientation is not None else ([], [])
    fig.add_traces(outlines)
    if line_geometry is not None:
        lon, lat = _lines_xy([line_geometry], 6)
    else:
        lon, lat = profile["lon"].tolist(), profile["lat"].tolist()
    fig.add_trace(go.Scattergeo(lon=lon, lat=lat, mode="lines", line={"width": 5, "color": "#e7298a"},
                                name="line", hoverinfo="skip"))
    fig.add_trace(go.Scattergeo(
        lon=profile["lon"], lat=profile["lat"], mode="markers", marker={"size": 12, "color": "#222222"},
        text=[f"<b>{esc(n)}</b><br>men {value_text(m, 'years', True)}, women {value_text(w, 'years', True)}"
              for n, m, w in zip(profile["name"], profile["le_male"], profile["le_female"])],
        hovertemplate="%{text}<extra></extra>", name="stops"))
    fig.add_traces(names)
    fig.update_layout(**_view(b, height, 380, False), height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0},
                      font={"family": FONT, "size": font_size}, showlegend=False)
    return fig

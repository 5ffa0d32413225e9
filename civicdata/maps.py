"""Plotly map figures built from frames. Returned, never rendered (the pages render them).

Maps draw on a plain white background by default (``white-bg``): they work with no internet
in the browser, since plotly.js ships inside Streamlit. Base-map tiles are optional.
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

from civicdata.catalogue import LayerDescriptor
from civicdata.choropleth import MISSING_COLOUR, Classes

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


def _fmt(v: float | None, unit: str = "") -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA:
        return "no data"
    v = float(v)
    txt = f"{v:,.0f}" if abs(v) >= 1000 or v == int(v) else f"{v:.3g}" if abs(v) < 10 else f"{v:.1f}"
    return f"{txt} {unit}".strip()


def area_hover(frame: pd.DataFrame, desc: LayerDescriptor) -> list[str]:
    """One escaped hover label per area: name, code, value (with CI), national rank, source."""
    out = []
    for row in frame.itertuples():
        if row.status == "suppressed":
            val = "suppressed"
        else:
            val = _fmt(row.value, desc.unit if not desc.unit.startswith(("rank", "decile")) else "")
        ci = ""
        if desc.has_ci and not pd.isna(row.ci_lower):
            ci = f" (95% CI {_fmt(row.ci_lower)} to {_fmt(row.ci_upper)})"
        rank = ""
        if "national_rank" in frame.columns and not pd.isna(row.national_rank):
            first = "highest" if desc.polarity == "neutral" else "worst"
            rank = f"<br>Rank {int(row.national_rank):,} of {int(row.national_n):,} in England (1 = {first})"
        out.append(f"<b>{esc(row.name)}</b> {esc(row.code)}<br>{esc(desc.title)}: {esc(val)}{esc(ci)}{rank}")
    return out


def source_line(desc: LayerDescriptor) -> str:
    """The escaped source line shown under every hover label (written once per trace)."""
    return f"<i>{esc(desc.source)}, {esc(desc.vintage)}</i>"


def build_area_map(frame: gpd.GeoDataFrame, desc: LayerDescriptor | None, classes: Classes | None,
                   points: list[PointLayer] = (), *, highlight: str | None = None, height: int = 640,
                   large_text: bool = False, tiles: bool = False, bounds=None) -> go.Figure:
    """A choropleth of ``frame`` (``code``, ``class``, ``geometry`` …) with point layers on top.

    Areas whose ``class`` is NaN are drawn grey ("no data"). ``highlight`` outlines one area.
    The figure carries ``customdata`` = area code for click-through.
    """
    fig = go.Figure()
    font_size = 22 if large_text else 14
    if desc is not None and classes is not None and len(frame):
        k = len(classes.colours)
        z = frame["class"].fillna(0).astype(float).to_numpy()
        scale = _discrete_scale([MISSING_COLOUR, *classes.colours])
        fig.add_trace(go.Choroplethmap(
            geojson=to_geojson(frame, PAYLOAD_DECIMALS if len(frame) <= 500 else PAYLOAD_DECIMALS - 1),
            locations=frame["code"].astype(str), z=z, zmin=-0.5, zmax=k + 0.5,
            colorscale=scale, showscale=False, marker={"line": {"width": 0.6, "color": "#ffffff"}, "opacity": 0.85},
            text=area_hover(frame, desc), hovertemplate="%{text}<br>" + source_line(desc) + "<extra></extra>",
            customdata=np.array(frame["code"].astype(str)).reshape(-1, 1), name=desc.title))
        if highlight is not None and highlight in set(frame["code"]):
            h = frame[frame["code"] == highlight]
            fig.add_trace(go.Choroplethmap(
                geojson=to_geojson(h), locations=h["code"], z=[1] * len(h), colorscale=[[0, "rgba(0,0,0,0)"], [1, "rgba(0,0,0,0)"]],
                showscale=False, marker={"line": {"width": 4, "color": "#e7298a"}}, hoverinfo="skip", name="selected"))
    for layer in points:
        fig.add_trace(_point_trace(layer, font_size))
    b = bounds if bounds is not None else (frame.total_bounds if len(frame) else (-6.0, 49.9, 2.0, 55.9))
    centre, zoom = view_for_bounds(tuple(b), height)
    fig.update_layout(
        map={"style": "carto-positron" if tiles else "white-bg", "center": centre, "zoom": zoom},
        height=height, margin={"l": 0, "r": 0, "t": 0, "b": 0}, font={"family": FONT, "size": font_size},
        hoverlabel={"font": {"size": font_size}}, showlegend=bool(points),
        legend={"orientation": "h", "yanchor": "bottom", "y": 0.0, "x": 0.0, "bgcolor": "rgba(255,255,255,0.85)"})
    return fig


def _discrete_scale(colours: list[str]) -> list[list]:
    """A plotly colorscale where integer z = i maps exactly to colours[i] (z from 0 to len-1)."""
    n = len(colours)
    scale = []
    for i, c in enumerate(colours):
        scale += [[i / n, c], [(i + 1) / n, c]]
    return scale


def _point_trace(layer: PointLayer, font_size: int) -> go.Scattermap:
    f = layer.frame
    lines = []
    for row in f.to_dict("records"):
        parts = [f"<b>{esc(row.get('name'))}</b>"]
        for col in layer.hover:
            v = row.get(col)
            parts.append(f"{esc(col.replace('_', ' '))}: {esc(_fmt(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)}")
        lines.append("<br>".join(parts))
    marker: dict = {"size": 10, "color": layer.colour, "opacity": 0.95}
    if layer.colour_by is not None:
        marker.update(color=pd.to_numeric(f[layer.colour_by], errors="coerce").fillna(-1),
                      colorscale="Reds", cmin=0, cmax=60, showscale=True,
                      colorbar={"title": {"text": layer.colour_title}, "x": 1.0, "len": 0.5, "y": 0.75,
                                "thickness": 14, "tickfont": {"size": font_size - 2}})
    if layer.size_by is not None:
        n = pd.to_numeric(f[layer.size_by], errors="coerce").fillna(0).clip(lower=0)
        marker["size"] = (6 + np.sqrt(n) / 3).clip(6, 22).round(1)
    custom = (np.array(f[layer.key_column].astype(str)).reshape(-1, 1) if layer.key_column
              else np.array([""] * len(f)).reshape(-1, 1))
    return go.Scattermap(lat=f["lat"].round(6), lon=f["lon"].round(6), mode="markers", marker=marker, name=layer.title,
                         text=lines, hovertemplate="%{text}<extra></extra>", customdata=custom)


def figure_payload_bytes(fig: go.Figure) -> int:
    """Size in bytes of the figure's JSON (what the browser receives)."""
    return len(fig.to_json().encode("utf-8"))


def figure_html(fig: go.Figure, title: str) -> str:
    """A standalone HTML page of the map (plotly.js inlined, so it opens offline)."""
    return fig.to_html(include_plotlyjs=True, full_html=True, config={"displaylogo": False},
                       default_width="100%", default_height="90vh").replace(
        "<head>", f"<head><title>{esc(title)}</title>", 1)


def build_line_map(profile: pd.DataFrame, msoas: gpd.GeoDataFrame, line_geometry=None, large_text: bool = False,
                   height: int = 560) -> go.Figure:
    """The line (its geometry, or stop to stop), the stops, and the MSOAs they fall in."""
    fig = go.Figure()
    font_size = 20 if large_text else 13
    if len(msoas):
        fig.add_trace(go.Choroplethmap(
            geojson=to_geojson(msoas), locations=msoas["code"], z=[1] * len(msoas),
            colorscale=[[0, "#dbe9f6"], [1, "#dbe9f6"]], showscale=False,
            marker={"line": {"width": 1, "color": "#6b8fb3"}, "opacity": 0.6},
            text=[f"{esc(n)} ({esc(c)})" for n, c in zip(msoas["name"], msoas["code"])],
            hovertemplate="%{text}<extra>MSOA 2011</extra>", name="MSOAs of the stops"))
    if line_geometry is not None:
        parts = list(line_geometry.geoms) if line_geometry.geom_type.startswith("Multi") else [line_geometry]
        lon: list = []
        lat: list = []
        for part in parts:
            xs, ys = part.xy
            lon += list(xs) + [None]
            lat += list(ys) + [None]
    else:
        lon, lat = profile["lon"].tolist(), profile["lat"].tolist()
    fig.add_trace(go.Scattermap(lon=lon, lat=lat, mode="lines", line={"width": 5, "color": "#e7298a"},
                                name="line", hoverinfo="skip"))
    fig.add_trace(go.Scattermap(
        lon=profile["lon"], lat=profile["lat"], mode="markers", marker={"size": 12, "color": "#222222"},
        text=[f"<b>{esc(n)}</b><br>men {_fmt(m, 'years')}, women {_fmt(w, 'years')}"
              for n, m, w in zip(profile["name"], profile["le_male"], profile["le_female"])],
        hovertemplate="%{text}<extra></extra>", name="stops"))
    b = (profile["lon"].min(), profile["lat"].min(), profile["lon"].max(), profile["lat"].max())
    centre, zoom = view_for_bounds(b, height, 380)
    fig.update_layout(map={"style": "white-bg", "center": centre, "zoom": zoom}, height=height,
                      margin={"l": 0, "r": 0, "t": 0, "b": 0}, font={"family": FONT, "size": font_size},
                      showlegend=False)
    return fig

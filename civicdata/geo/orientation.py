"""Orientation on a map, offline: ward outlines and names, the district's outline, tram lines.

Everything here is plain frames; :mod:`civicdata.figures.maps` draws them (plotly) and no base-map
tiles are needed. Wards are the May 2025 wards and districts the LAD 2024 outlines dissolved from their
LSOAs 2021, both ONS generalised (BGC, 20 m), the same everywhere in England
(:mod:`civicdata.geo.boundaries`).

**Label rule** (:data:`LABEL_RULE`): names are chosen for the map's first view. Its scale is
known from the place's bounds and the map's size in pixels (Web Mercator, as drawn). Places
are taken largest first; a name is kept when its box (characters × 0.56 × font size wide,
1.3 × font size high) fits inside its area at least 1.5 times over on screen, lies wholly in
the view and does not overlap a name already kept. District names go before ward names when a view holds several
districts. Presentation mode uses a larger font, so fewer, larger names are kept. Each name
sits at the point of its area farthest from the area's edge (its pole of inaccessibility),
so it always lies inside the area it names.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from civicdata import settings
from civicdata.geo.boundaries import districts_meeting, outlines, wards
from civicdata.geo.geography import is_gm
from civicdata.geo.places import place_districts

LABEL_RULE = ("Names: at the map's first view, each ward (or district, when several are shown) is named at the "
              "point farthest inside it, largest first, when its name fits inside it at least 1.5 times over, "
              "lies wholly in the view and does not overlap a name already placed; presentation mode uses larger "
              "names, so fewer are placed.")
CHAR_WIDTH = 0.56  # average glyph width of Arial as a share of the font size
LINE_HEIGHT = 1.3
FIT = 1.5  # an area must hold its label this many times over
FONT_PX = 12
FONT_PX_LARGE = 18


@dataclass(frozen=True)
class Orientation:
    """What a map needs to be found: outlines (EPSG:4326) and label points.

    ``wards`` and ``districts``: ``code``, ``name``, ``geometry`` (polygons, drawn as outlines);
    ``labels``: ``name``, ``kind`` (``ward``/``district``), ``lon``, ``lat``, ``size`` (px);
    ``lines``: ``name``, ``geometry`` (tram lines, GM only); ``font_px`` of ward names.
    """

    wards: gpd.GeoDataFrame
    districts: gpd.GeoDataFrame
    labels: pd.DataFrame
    lines: gpd.GeoDataFrame
    font_px: int
    rule: str = LABEL_RULE


def _wards_and_districts(place_code: str, data_dir: Path | None) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """The May 2025 wards lying in the place's districts and the districts' outlines (``code``, ``name``)."""
    lads = place_districts(place_code, data_dir)
    return wards(lads, data_dir), outlines(lads, data_dir)


def metrolink_lines(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Metrolink lines (TfGM GTFS, July 2023) as stop-to-stop lines: ``name``, ``geometry``.

    One direction per line (the first in the bundle): both run along the same track.
    """
    d = Path(data_dir) if data_dir else settings.data_dir()
    m = pd.read_parquet(d / "transport" / "metrolink_lines.parquet")
    first = m.drop_duplicates("line_name")[["line_name", "line_key"]]
    rows = []
    for r in first.itertuples():
        s = m[m["line_key"] == r.line_key].sort_values("stop_sequence")
        rows.append({"name": f"Metrolink {r.line_name}",
                     "geometry": shapely.LineString(np.column_stack([s["lon"], s["lat"]]))})
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=settings.WGS84)


def _mercator(xy: np.ndarray) -> np.ndarray:
    """lon/lat degrees -> Web Mercator in radians (x = lon, y = ln tan(pi/4 + lat/2))."""
    lon, lat = np.radians(xy[:, 0]), np.radians(np.clip(xy[:, 1], -85, 85))
    return np.column_stack([lon, np.log(np.tan(np.pi / 4 + lat / 2))])


def screen_scale(bounds: tuple[float, float, float, float], width_px: int, height_px: int) -> float:
    """Pixels per Web Mercator radian when ``bounds`` (lon/lat degrees) fit a map of this size."""
    minx, miny, maxx, maxy = bounds
    (x0, y0), (x1, y1) = _mercator(np.array([[minx, miny], [maxx, maxy]]))
    return min(width_px / max(x1 - x0, 1e-9), height_px / max(y1 - y0, 1e-9))


def _label_point(geom) -> shapely.Point:
    """The point of the area farthest from its edge (largest part of a multipolygon)."""
    if geom.geom_type == "MultiPolygon":
        geom = max(geom.geoms, key=lambda g: g.area)
    try:
        return shapely.ops.polylabel(geom, tolerance=1e-4)
    except Exception:  # noqa: BLE001 - degenerate rings: fall back to a point surely inside
        return geom.representative_point()


def choose_labels(areas: gpd.GeoDataFrame, kind: str, bounds, width_px: int, height_px: int, font_px: int,
                  taken: list[tuple[float, float, float, float]] | None = None) -> pd.DataFrame:
    """Labels for ``areas`` (``name``, ``geometry``) by :data:`LABEL_RULE`.

    ``taken`` holds screen boxes already used (x0, y0, x1, y1 in px); kept boxes are appended.
    Returns ``name``, ``kind``, ``lon``, ``lat``, ``size``.
    """
    taken = [] if taken is None else taken
    if areas.empty:
        return pd.DataFrame(columns=["name", "kind", "lon", "lat", "size"])
    scale = screen_scale(bounds, width_px, height_px)
    (vx0, vy1), (vx1, vy0) = _mercator(np.array([[bounds[0], bounds[1]], [bounds[2], bounds[3]]])) * [scale, -scale]
    merc = shapely.transform(areas.geometry.values, _mercator)
    screen_area = shapely.area(merc) * scale ** 2
    order = np.argsort(-screen_area, kind="stable")
    h = font_px * LINE_HEIGHT
    out = []
    for i in order:
        name = str(areas["name"].iloc[i])
        w = len(name) * CHAR_WIDTH * font_px + 4
        if screen_area[i] < FIT * w * h:
            continue
        p = _label_point(areas.geometry.iloc[i])
        (mx, my), = _mercator(np.array([[p.x, p.y]]))
        cx, cy = mx * scale, -my * scale
        box = (cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2)
        if box[0] < vx0 or box[2] > vx1 or box[1] < vy0 or box[3] > vy1:
            continue  # the name would run off the view
        if any(box[0] < b[2] and b[0] < box[2] and box[1] < b[3] and b[1] < box[3] for b in taken):
            continue
        taken.append(box)
        out.append({"name": name, "kind": kind, "lon": round(p.x, 5), "lat": round(p.y, 5), "size": font_px})
    return pd.DataFrame(out, columns=["name", "kind", "lon", "lat", "size"])


def orientation_for(place_code: str, bounds: tuple[float, float, float, float], width_px: int = 900,
                    height_px: int = 600, large_text: bool = False,
                    data_dir: Path | None = None) -> Orientation | None:
    """Orientation for a district (LAD 2024 code) or all of GM (``E47000001``) drawn at ``bounds``.

    None for places with no wards (the England view is itself a map of districts).
    """
    if not (place_code == settings.GM_CAUTH_CODE or place_code[:3] in ("E06", "E07", "E08", "E09")):
        return None
    wards, districts = _wards_and_districts(place_code, data_dir)
    gm = is_gm(place_code) or place_code == settings.GM_CAUTH_CODE
    return _assemble(wards, districts, gm, bounds, width_px, height_px, large_text, data_dir)


def orientation_in_bounds(bounds: tuple[float, float, float, float], width_px: int = 400, height_px: int = 560,
                          large_text: bool = False, data_dir: Path | None = None) -> Orientation:
    """Orientation for any view (e.g. a tram line): the wards and districts that meet ``bounds``.

    Metrolink lines are drawn when the view's centre lies in Greater Manchester.
    """
    box = shapely.box(*bounds)
    lads = districts_meeting(bounds, data_dir)
    districts = outlines(lads, data_dir)
    districts = districts[districts.intersects(box)]
    centre = districts[districts.contains(box.centroid)]
    gm = bool(centre["code"].isin(settings.GM_LAD_CODES).any())
    around = wards(lads, data_dir)
    around = around[around.intersects(box)]
    return _assemble(around, districts, gm, bounds, width_px, height_px, large_text, data_dir, clip=box)


def _assemble(wards: gpd.GeoDataFrame, districts: gpd.GeoDataFrame, gm: bool, bounds, width_px: int, height_px: int,
              large_text: bool, data_dir: Path | None, clip=None) -> Orientation:
    """Labels by the rule, and Metrolink lines (GM) meeting ``bounds``. ``clip``: label only what is inside."""
    font = FONT_PX_LARGE if large_text else FONT_PX
    taken: list = []
    parts = []
    visible = (lambda g: g.assign(geometry=g.geometry.intersection(clip))) if clip is not None else (lambda g: g)
    if len(districts) > 1:
        parts.append(choose_labels(visible(districts), "district", bounds, width_px, height_px, font + 4, taken))
    parts.append(choose_labels(visible(wards), "ward", bounds, width_px, height_px, font, taken))
    labels = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    if gm:
        lines = metrolink_lines(data_dir)
        lines = lines[lines.intersects(shapely.box(*bounds))]
    else:
        lines = gpd.GeoDataFrame({"name": []}, geometry=gpd.GeoSeries([], crs=settings.WGS84))
    return Orientation(wards.reset_index(drop=True), districts.reset_index(drop=True), labels,
                       lines.reset_index(drop=True), font)

"""The detailed boundaries the maps draw: ONS generalised (BGC, 20 m) areas of every English district.

One code path for all of England (Greater Manchester is no special case): the bundle keeps
``geography/districts/<level>.parquet`` for ``lsoa11``, ``lsoa21`` (LSOA 2011 and 2021 codes, kept
apart), ``msoa11``, ``msoa21``, ``ward25`` (wards, May 2025) and ``lad24`` (each district's outline,
dissolved from its LSOAs 2021, so no neighbourhood spills past its council's line). Each file is sorted
by LAD 2024 with one Parquet row group per district, and every reader here filters on ``lad24_code``:
the first view of a town reads that town's rows, never all of England's 33,755 LSOAs.

Frames are EPSG:4326 (lon/lat, 5 decimals, about 1 m), columns ``<level>_code``, ``<level>_name``
(ONS names), ``lad24_code``, ``geometry``. They are not simplified: :func:`simplify_for_view` thins a
map's areas for the scale it is drawn at (half a screen pixel by default), keeping shared borders gap-free.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import shapely

from civicdata import settings
from civicdata.bundle import folder

LEVELS = ("lsoa11", "lsoa21", "msoa11", "msoa21", "ward25", "lad24")
LEVEL_TITLES = {"lsoa11": "LSOA 2011", "lsoa21": "LSOA 2021", "msoa11": "MSOA 2011", "msoa21": "MSOA 2021",
                "ward25": "wards (May 2025)", "lad24": "local authority district (2024)"}
SOURCE_NOTE = ("Boundaries: ONS generalised (BGC, 20 m) — LSOA and MSOA 2011 and 2021, wards May 2025; each "
               "district's outline is the union of its LSOAs 2021. Source: Office for National Statistics licensed "
               "under the Open Government Licence v.3.0; contains OS data © Crown copyright and database right.")


def _path(level: str, data_dir: Path | None) -> Path:
    if level not in LEVELS:
        raise ValueError(f"no detailed boundaries at level '{level}'; use one of {', '.join(LEVELS)}")
    return folder(data_dir) / "geography" / "districts" / f"{level}.parquet"


@lru_cache(maxsize=64)
def _read(path: str, mtime: float, lads: tuple[str, ...] | None) -> gpd.GeoDataFrame:
    filters = None if lads is None else [("lad24_code", "in", list(lads))]
    return gpd.read_parquet(path, filters=filters)


@lru_cache(maxsize=8)
def _index(path: str, mtime: float) -> pd.Series:
    code = pq.read_schema(path).names[0]
    t = pd.read_parquet(path, columns=[code, "lad24_code"])
    return t.set_index(code)["lad24_code"]


def read_districts(level: str, lad_codes, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The areas at ``level`` in the given LAD 2024 districts (only their row groups are read).

    Shared (cached): copy before changing.
    """
    p = _path(level, data_dir)
    lads = tuple(sorted(set(lad_codes)))
    return _read(str(p), p.stat().st_mtime, lads)


def district_of(level: str, data_dir: Path | None = None) -> pd.Series:
    """Each area's LAD 2024 (index: the area's code): the district whose rows hold it."""
    p = _path(level, data_dir)
    return _index(str(p), p.stat().st_mtime)


def boundaries_of(level: str, codes, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The polygons of ``codes`` at ``level`` (``code``, ``name`` — the ONS name — and ``geometry``), by code,
    read from the districts that hold them. Codes with no polygon are left out."""
    codes = pd.Index(pd.unique(pd.Series(list(codes), dtype=object).dropna().astype(str)))
    index = district_of(level, data_dir)
    lads = index.reindex(codes).dropna().unique()
    g = read_districts(level, lads, data_dir)
    code = f"{level}_code"
    out = g[g[code].isin(codes)][[code, f"{level}_name", "geometry"]]
    out = out.set_axis(["code", "name", "geometry"], axis=1).sort_values("code").reset_index(drop=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=settings.WGS84)


def outlines(lad_codes, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """District outlines (``code``, ``name``, ``geometry``): each the union of its LSOAs 2021."""
    g = read_districts("lad24", lad_codes, data_dir)
    return gpd.GeoDataFrame(g[["lad24_code", "lad24_name", "geometry"]].set_axis(["code", "name", "geometry"], axis=1)
                            .reset_index(drop=True), geometry="geometry", crs=settings.WGS84)


def wards(lad_codes, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The May 2025 wards lying in these districts (``code``, ``name``, ``geometry``)."""
    g = read_districts("ward25", lad_codes, data_dir)
    return gpd.GeoDataFrame(g[["ward25_code", "ward25_name", "geometry"]].set_axis(["code", "name", "geometry"], axis=1)
                            .reset_index(drop=True), geometry="geometry", crs=settings.WGS84)


def all_outlines(data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """Every district's outline (296 polygons), for finding the districts a view or a point lies in."""
    p = _path("lad24", data_dir)
    g = _read(str(p), p.stat().st_mtime, None)
    return gpd.GeoDataFrame(g[["lad24_code", "lad24_name", "geometry"]].set_axis(["code", "name", "geometry"], axis=1),
                            geometry="geometry", crs=settings.WGS84)


def districts_meeting(bounds: tuple[float, float, float, float], data_dir: Path | None = None) -> list[str]:
    """LAD 2024 codes of the districts that meet a lon/lat box."""
    o = all_outlines(data_dir)
    return sorted(o.loc[o.intersects(shapely.box(*bounds)), "code"])


def locate(points: gpd.GeoSeries, level: str, data_dir: Path | None = None) -> pd.Series:
    """The code of the area at ``level`` holding each point (index of ``points``; missing outside England).

    The district of each point is found first, then only those districts' areas are read.
    """
    pts = gpd.GeoDataFrame(geometry=gpd.GeoSeries(points).to_crs(settings.WGS84))
    out = pd.Series([None] * len(pts), index=pts.index, dtype=object)
    if pts.empty:
        return out
    lad = gpd.sjoin(pts, all_outlines(data_dir)[["code", "geometry"]], predicate="within", how="inner")
    if lad.empty:
        return out
    areas = read_districts(level, lad["code"].unique(), data_dir)
    hit = gpd.sjoin(pts, areas[[f"{level}_code", "geometry"]], predicate="within", how="inner")
    hit = hit[~hit.index.duplicated()]
    out.loc[hit.index] = hit[f"{level}_code"]
    return out


def bytes_read(level: str, lad_codes, data_dir: Path | None = None) -> tuple[int, int]:
    """(compressed bytes of the row groups a read of these districts touches, bytes of the whole file)."""
    p = _path(level, data_dir)
    meta = pq.ParquetFile(p).metadata
    col = meta.schema.names.index("lad24_code")
    want = set(lad_codes)
    touched = 0
    for i in range(meta.num_row_groups):
        rg = meta.row_group(i)
        stats = rg.column(col).statistics
        if stats is None or not stats.has_min_max or any(stats.min <= c <= stats.max for c in want):
            touched += rg.total_compressed_size if hasattr(rg, "total_compressed_size") else sum(
                rg.column(j).total_compressed_size for j in range(rg.num_columns))
    return touched, p.stat().st_size


def metres_per_pixel(bounds: tuple[float, float, float, float], width_px: int, height_px: int) -> float:
    """Ground metres per screen pixel when ``bounds`` (lon/lat) fill a Web Mercator map of this size."""
    minx, miny, maxx, maxy = bounds
    lat = np.radians((miny + maxy) / 2)
    span_x = max(maxx - minx, 1e-6) * 111_320.0 * np.cos(lat)
    # Web Mercator stretches latitude by 1/cos(lat): the same ground distance takes more screen north-south
    y0, y1 = (np.log(np.tan(np.pi / 4 + np.radians(v) / 2)) for v in (miny, maxy))
    span_y = max(y1 - y0, 1e-9) * 6_378_137.0 * np.cos(lat)
    return float(max(span_x / width_px, span_y / height_px))


def simplify_for_view(frame: gpd.GeoDataFrame, bounds: tuple[float, float, float, float], width_px: int,
                      height_px: int, px: float | None = None) -> gpd.GeoDataFrame:
    """``frame``'s polygons simplified by ``px`` screen pixels (default :data:`settings.VIEW_SIMPLIFY_PX`)
    at the scale ``bounds`` are drawn in, as one coverage (``shapely.coverage_simplify`` in British National
    Grid metres), so neighbouring areas keep one shared, gap-free border. Other columns are unchanged."""
    if frame.empty:
        return frame
    tol = metres_per_pixel(bounds, width_px, height_px) * (settings.VIEW_SIMPLIFY_PX if px is None else px)
    bng = frame.geometry.to_crs(settings.BNG).values
    simple = shapely.coverage_simplify(bng, tol)
    keep = shapely.is_valid(simple) & ~shapely.is_empty(simple)
    geoms = np.where(keep, simple, bng)  # an area the simplification broke keeps its stored shape
    out = gpd.GeoSeries(geoms, crs=settings.BNG, index=frame.index).to_crs(settings.WGS84)
    return frame.set_geometry(out.values)


def feature_collection(frame: gpd.GeoDataFrame) -> dict:
    """A GeoJSON FeatureCollection (EPSG:4326) of ``frame``'s polygons with properties ``code`` and ``name``."""
    import json

    feats = [{"type": "Feature", "properties": {"code": str(code), "name": str(name)},
              "geometry": json.loads(shapely.to_geojson(geom))}
             for code, name, geom in zip(frame["code"], frame["name"], frame.geometry.to_crs(settings.WGS84).values)]
    return {"type": "FeatureCollection", "features": feats}

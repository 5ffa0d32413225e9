"""Readers of the bundled data folder (``data/``, or ``$CIVICDATA_DATA``): Parquet tables, lookups and
boundaries, each read once per process and kept until its file changes.

The lowest layer of the library: :mod:`civicdata.geo.names` (readable names) and :mod:`civicdata.geo.geography`
(codes, areas, joins) both read through it, and it imports neither.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from civicdata import settings


def folder(data_dir: Path | None = None) -> Path:
    """``data_dir``, or the bundled data folder when it is None."""
    return Path(data_dir) if data_dir else settings.data_dir()


@lru_cache(maxsize=32)
def _read_parquet(path: str, mtime: float, columns: tuple[str, ...] | None) -> pd.DataFrame:
    return pd.read_parquet(path, columns=list(columns) if columns else None)


def load_bundled(rel: str, data_dir: Path | None = None, columns: tuple[str, ...] | None = None) -> pd.DataFrame:
    """A bundled Parquet table by its path in the data folder (``trends/series.parquet``), read once and kept
    until the file changes; ``columns`` reads only those. Shared between callers: copy it before changing it."""
    path = folder(data_dir) / rel
    return _read_parquet(str(path), path.stat().st_mtime, columns)


def load_lookup(name: str, data_dir: Path | None = None) -> pd.DataFrame:
    """A bundled lookup table (``lsoa11``, ``lsoa21``, ``lsoa11_lsoa21``, ``msoa11_msoa21``, ``lad24``).

    The frame is shared between callers (cached): copy it before changing it.
    """
    return load_bundled(f"lookups/{name}.parquet", data_dir)


@lru_cache(maxsize=32)
def _read_geo(path: str, mtime: float) -> gpd.GeoDataFrame:
    return gpd.read_parquet(path)


def load_boundaries(level: str, region: str = "england", data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The England view's outlines (EPSG:4326, ONS super generalised, BSC 200 m): ``ltla24`` (LAD 2024) and
    ``icb22`` (ICB 2022), columns ``<level>_code``, ``<level>_name``, ``geometry``. Shared (cached): copy before
    changing. Neighbourhoods, wards and a district's own outline come from :mod:`civicdata.geo.boundaries`.
    """
    path = folder(data_dir) / "geography" / region / f"{level}.parquet"
    if not path.is_file():
        options = sorted(p.stem for p in path.parent.glob("*.parquet"))
        raise KeyError(f"no {region} boundaries at level '{level}'; available: {', '.join(options)}")
    return _read_geo(str(path), path.stat().st_mtime)

"""The build's shared helpers: the :class:`Bundle` being written (for the manifest), atomic Parquet writes, descriptors, named errors, reading a source's path and a boundary file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from civicdata import settings
from civicdata.build.sources import SOURCES, Source
from civicdata.errors import Problem, SourceDataError
from civicdata.indicators.catalogue import (
    descriptor_to_toml,
    validate_descriptor,
)
from civicdata.readers import (
    check_codes,
)

PARQUET_OPTS = {"index": False, "compression": "zstd"}



@dataclass
class Bundle:
    """What the build has written so far, for the manifest."""

    out: Path
    datasets: list[dict] = field(default_factory=list)
    sha: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, files: list[str], sources: list[str], rows: int, geography: str,
               title: str, note: str = "") -> None:
        srcs = [SOURCES[k] for k in sources]
        self.datasets.append({
            "name": name,
            "title": title,
            "files": files,
            "rows": int(rows),
            "geography": geography,
            "publisher": "; ".join(dict.fromkeys(s.publisher for s in srcs)),
            "source_title": "; ".join(s.title for s in srcs),
            "source_url": "; ".join(dict.fromkeys(s.url for s in srcs)),
            "licence": "; ".join(dict.fromkeys(s.licence for s in srcs)),
            "vintage": "; ".join(dict.fromkeys(s.vintage for s in srcs)),
            "source_code_vintage": "; ".join(dict.fromkeys(s.geography for s in srcs)),
            "raw_files": [s.path for s in srcs],
            "raw_sha256": [self.sha[k] for k in sources],
            "note": note,
        })



def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.reset_index(drop=True)
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_parquet(path, schema_version="1.0.0", write_covering_bbox=False, **PARQUET_OPTS)
    else:
        frame.to_parquet(path, **PARQUET_OPTS)



def _write_layer(bundle: Bundle, folder: str, raw: dict) -> None:
    desc = validate_descriptor(raw, f"{folder}/{raw['id']}.toml")
    path = bundle.out / folder / f"{desc.id}.toml"
    path.write_text(descriptor_to_toml(desc), encoding="utf-8")



def _raise(problems: list[Problem], what: str) -> None:
    if problems:
        raise SourceDataError(problems, f"cannot build the bundle: {what}")



def _src(sources: Path, key: str) -> tuple[Path, str]:
    s: Source = SOURCES[key]
    return sources / s.path, s.path



def _read_geo(path: Path, label: str, code_col: str, pattern: str, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    if not path.is_file():
        problems.append(Problem(label, "file is missing"))
        return None
    try:
        if path.suffix == ".parquet":
            g = gpd.read_parquet(path)
        else:
            g = gpd.read_file(f"/vsigzip/{path}" if path.suffix == ".gz" else path, engine="pyogrio")
    except Exception as exc:  # pyogrio/pyarrow raise many types for corrupt files
        problems.append(Problem(label, f"cannot be read as a boundary file: {exc}"))
        return None
    if code_col not in g.columns:
        problems.append(Problem(label, "required column is missing", row=1, column=code_col))
        return None
    if g.crs is None or g.crs.to_epsg() != 4326:
        problems.append(Problem(label, f"expected EPSG:4326, found {g.crs}"))
        return None
    frame = pd.DataFrame({code_col: g[code_col].astype(str)})
    check_codes(frame, code_col, pattern, label=label, problems=problems)
    if g.geometry.isna().any():
        problems.append(Problem(label, "feature without geometry", row=int(g.geometry.isna().idxmax()) + 2))
    return g



def _round_geom(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return g.set_geometry(shapely.set_precision(g.geometry.values, 10 ** -settings.COORD_DECIMALS))

"""Load a layer into a tidy frame keyed by area code (or URN), and look up one value.

A tidy layer frame has the columns ``code`` (str: ONS code of the layer's geography and
vintage, or the URN as text), ``name``, ``value`` (float, NaN when missing or suppressed),
``ci_lower``, ``ci_upper`` (NaN when the layer has no CI) and ``status``
(``ok`` | ``suppressed`` | ``missing``). Point layers keep all their columns plus ``lat``/``lon``.
Practice layers (GP practice ODS codes) add ``lat``/``lon`` (NaN: no current location),
``weight`` (the list the value is a share of) and ``lsoa21_code`` (where the practice is).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.indicators.catalogue import LayerDescriptor
from civicdata.errors import UnknownAreaError
from civicdata.geo.geography import check_area_code
from civicdata.geo.names import NAME_LEVELS, names_for

#: Suffix of the optional status column a user layer stores beside its value column.
STATUS_SUFFIX = "__status"


@lru_cache(maxsize=64)
def _read_table(path: str, mtime: float) -> pd.DataFrame:
    if path.endswith(".parquet"):
        return pd.read_parquet(path)
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def read_layer_file(desc: LayerDescriptor) -> pd.DataFrame:
    """The layer's data file as stored (shared, cached by path and modification time)."""
    path = desc.data_path
    return _read_table(str(path), path.stat().st_mtime)


def load_layer(desc: LayerDescriptor) -> pd.DataFrame:
    """The layer as a tidy frame (see module docstring). Never imputes: blanks stay NaN."""
    raw = read_layer_file(desc)
    if desc.geography == "point":
        out = raw.copy()
        out["lat"] = pd.to_numeric(raw[desc.lat_column], errors="coerce")
        out["lon"] = pd.to_numeric(raw[desc.lon_column], errors="coerce")
        out["name"] = raw[desc.name_column].astype(str) if desc.name_column else ""
        if desc.value_column:
            out["value"] = pd.to_numeric(raw[desc.value_column], errors="coerce")
        return out
    code = raw[desc.key_column]
    if desc.geography == "urn":
        code = pd.to_numeric(code, errors="coerce").astype("Int64").astype(str)
    out = pd.DataFrame({"code": code.astype(str).str.strip()})
    out["name"] = raw[desc.name_column].astype(str) if desc.name_column else pd.Series(pd.NA, index=raw.index, dtype="string")
    out["value"] = pd.to_numeric(raw[desc.value_column], errors="coerce").astype(float)
    for key, col in (("ci_lower", desc.ci_lower_column), ("ci_upper", desc.ci_upper_column)):
        out[key] = pd.to_numeric(raw[col], errors="coerce").astype(float) if col else np.nan
    status_col = f"{desc.value_column}{STATUS_SUFFIX}"
    if status_col in raw.columns:
        out["status"] = raw[status_col].astype(str)
    else:
        out["status"] = np.where(out["value"].isna(), "missing", "ok")
    if desc.lat_column and desc.lon_column:  # practice layers: where each practice is (NaN: no current location)
        out["lat"] = pd.to_numeric(raw[desc.lat_column], errors="coerce")
        out["lon"] = pd.to_numeric(raw[desc.lon_column], errors="coerce")
    if desc.weight_column:
        out["weight"] = pd.to_numeric(raw[desc.weight_column], errors="coerce")
    if desc.geography == "practice" and "lsoa21_code" in raw.columns:
        out["lsoa21_code"] = raw["lsoa21_code"]
    return out


@dataclass(frozen=True)
class LayerValue:
    """One layer's value for one area: the CLI's ``values --json`` shape."""

    layer: str
    area: str
    value: float | None
    ci_lower: float | None
    ci_upper: float | None
    status: str
    name: str | None = None  # readable name of the area (see civicdata.geo.names); None for schools/points
    ons_name: str | None = None

    def to_dict(self) -> dict:
        return {"layer": self.layer, "area": self.area, "name": self.name, "ons_name": self.ons_name,
                "value": self.value, "ci_lower": self.ci_lower, "ci_upper": self.ci_upper, "status": self.status}


def _num(x) -> float | None:
    return None if x is None or pd.isna(x) else float(x)


def lookup_value(desc: LayerDescriptor, area_code: str, data_dir: Path | None = None) -> LayerValue:
    """The value of ``desc`` for one area code.

    Raises :class:`~civicdata.errors.VintageMismatchError` when the code is of the other
    vintage, :class:`~civicdata.errors.UnknownAreaError` when it is unknown. A known area
    with no row, or a blank value, has status ``missing`` (value ``None``).
    """
    if desc.geography == "point":
        raise UnknownAreaError(f"layer {desc.id} is a point layer: it has no value per area")
    code = area_code.strip().upper()
    frame = load_layer(desc)
    if desc.geography == "urn":
        if not code.isdigit() or code not in set(frame["code"]):
            raise UnknownAreaError(f"unknown school URN '{area_code}' in layer {desc.id}")
    elif desc.geography == "practice":
        if code not in set(frame["code"]):
            raise UnknownAreaError(f"unknown GP practice code '{area_code}' in layer {desc.id} (QOF 2022-23 practices)")
    elif desc.geography in ("lsoa11", "lsoa21", "msoa11", "msoa21", "ward", "lad"):
        hit = frame[frame["code"] == code]
        if hit.empty:
            check_area_code(code, desc.geography, data_dir)  # raises for unknown / other vintage
    names: tuple[str | None, str | None] = (None, None)
    if desc.geography == "practice":  # the practice's own name (it is not an area: no ONS name)
        names = (str(frame.loc[frame["code"] == code, "name"].iloc[0]), None)
    if desc.geography in NAME_LEVELS:
        t = names_for(desc.geography, data_dir)
        if code in t.index:
            names = (str(t.at[code, "name"]), str(t.at[code, "ons_name"]))
    hit = frame[frame["code"] == code]
    if hit.empty:
        return LayerValue(desc.id, code, None, None, None, "missing", *names)
    row = hit.iloc[0]
    status = str(row["status"])
    return LayerValue(desc.id, code, _num(row["value"]) if status == "ok" else None,
                      _num(row["ci_lower"]) if status == "ok" else None,
                      _num(row["ci_upper"]) if status == "ok" else None, status, *names)

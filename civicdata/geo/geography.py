"""Geography: area codes and their vintages, lookups, boundaries, joins with coverage reports.

Vintages are kept apart: ``lsoa11`` means LSOA 2011 codes, ``lsoa21`` LSOA 2021 codes.
Many LSOA codes exist in both vintages (unchanged areas); a code that exists in only one
of them is reported as belonging to that vintage, and joins never cross vintages silently.

All functions read the bundle in ``data_dir`` (default :func:`civicdata.settings.data_dir`).
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from civicdata import settings
from civicdata.bundle import folder, load_boundaries, load_bundled, load_lookup  # noqa: F401 - readers, re-exported
from civicdata.errors import UnknownAreaError, VintageMismatchError
from civicdata.geo.names import names_for, with_readable_names

LEVELS = ("lsoa11", "lsoa21", "msoa11", "msoa21", "ward", "lad")
LEVEL_LABELS = {
    "lsoa11": "LSOA 2011", "lsoa21": "LSOA 2021", "msoa11": "MSOA 2011", "msoa21": "MSOA 2021",
    "ward": "electoral ward", "lad": "local authority district", "urn": "school URN",
}
OTHER_VINTAGE = {"lsoa11": "lsoa21", "lsoa21": "lsoa11", "msoa11": "msoa21", "msoa21": "msoa11"}
CODE_PREFIX = {"lsoa11": "E01", "lsoa21": "E01", "msoa11": "E02", "msoa21": "E02", "ward": "E05",
               "lad": ("E06", "E07", "E08", "E09")}


def code_name(b: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """A boundary frame's ``<level>_code``/``<level>_name`` columns renamed ``code``/``name`` (with ``geometry``)."""
    code = next(c for c in b.columns if c.endswith("_code"))
    name = next(c for c in b.columns if c.endswith("_name"))
    return b[[code, name, "geometry"]].rename(columns={code: "code", name: "name"})


@dataclass(frozen=True)
class Area:
    """A resolved place: its code, name and level (with vintage)."""

    code: str
    name: str
    level: str

    @property
    def level_label(self) -> str:
        return LEVEL_LABELS.get(self.level, self.level)


@lru_cache(maxsize=4)
def _areas_table(data_dir: str) -> pd.DataFrame:
    """Every known area: code, name (readable), ons_name, level (one row per code and level)."""
    parts = [names_for(level, Path(data_dir)).reset_index().assign(level=level)
             for level in ("lsoa11", "lsoa21", "msoa11", "msoa21", "ward", "lad")]
    out = pd.concat(parts, ignore_index=True).dropna().drop_duplicates(["code", "level"])
    return out.reset_index(drop=True)


def areas_table(data_dir: Path | None = None) -> pd.DataFrame:
    """All known areas of England: columns ``code``, ``name`` (readable, see :mod:`civicdata.geo.names`),
    ``ons_name`` and ``level``."""
    return _areas_table(str(folder(data_dir)))


def check_area_code(code: str, level: str, data_dir: Path | None = None) -> Area:
    """Return the area for ``code`` at ``level``, or raise a helpful error.

    Raises :class:`VintageMismatchError` when the code exists only in the other vintage
    (e.g. an LSOA 2021 code asked of an LSOA 2011 layer) and :class:`UnknownAreaError`
    when it is not known at all.
    """
    code = code.strip().upper()
    t = areas_table(data_dir)
    hit = t[(t["code"] == code) & (t["level"] == level)]
    if len(hit):
        return Area(code, str(hit["name"].iloc[0]), level)
    levels = t.loc[t["code"] == code, "level"].tolist()
    other = OTHER_VINTAGE.get(level)
    if other and other in levels:
        raise VintageMismatchError(
            f"{code} is an {LEVEL_LABELS[other]} code, not an {LEVEL_LABELS[level]} code: the layer uses "
            f"{LEVEL_LABELS[level]} codes. Convert it with the ONS lookup (lookups/lsoa11_lsoa21 or msoa11_msoa21).")
    if levels:
        raise UnknownAreaError(f"{code} is a {LEVEL_LABELS[levels[0]]} code, not a {LEVEL_LABELS.get(level, level)} code")
    raise UnknownAreaError(f"unknown area code '{code}' for {LEVEL_LABELS.get(level, level)}")


def search_areas(text: str, levels: tuple[str, ...] = LEVELS, limit: int = 10,
                 data_dir: Path | None = None) -> pd.DataFrame:
    """Areas whose code equals ``text`` or whose readable or ONS name contains it (case-insensitive).

    "Partington" finds the MSOA and its LSOAs, "Trafford 017" the same by their ONS names.
    Exact code and exact name matches come first. Columns ``code``, ``name``, ``ons_name``, ``level``.
    """
    q = text.strip()
    if not q:
        return pd.DataFrame(columns=["code", "name", "ons_name", "level"])
    t = areas_table(data_dir)
    t = t[t["level"].isin(levels)]
    exact_code = t["code"] == q.upper()
    exact_name = (t["name"].str.lower() == q.lower()) | (t["ons_name"].str.lower() == q.lower())
    pattern = re.escape(q)
    contains = (t["name"].str.contains(pattern, case=False, regex=True)
                | t["ons_name"].str.contains(pattern, case=False, regex=True))
    order = {lv: i for i, lv in enumerate(("lad", "ward", "msoa21", "msoa11", "lsoa21", "lsoa11"))}
    keep = (exact_code | exact_name | contains).to_numpy(dtype=bool)
    hits = t[keep].copy()
    exact = (exact_code | exact_name).to_numpy(dtype=bool)[keep]
    hits["_rank"] = np.where(exact, 0, 10) + hits["level"].astype(object).map(order).fillna(9).to_numpy(dtype=int)
    return hits.sort_values(["_rank", "name"]).drop(columns="_rank").head(limit).reset_index(drop=True)


def suggest_names(text: str, n: int = 5, data_dir: Path | None = None) -> list[str]:
    """Close place names for text that matched nothing (for a friendly 'no match')."""
    t = areas_table(data_dir)
    names = t.loc[t["level"].isin(["lad", "ward", "msoa21", "msoa11"]), "name"].unique().tolist()
    return difflib.get_close_matches(text.strip(), names, n=n, cutoff=0.6)


def resolve_lad(text: str, data_dir: Path | None = None) -> Area:
    """A local authority district (2024 or 2019 code, or exact name)."""
    t = areas_table(data_dir)
    lads = t[t["level"] == "lad"]
    hit = lads[(lads["code"] == text.strip().upper()) | (lads["name"].str.lower() == text.strip().lower())]
    if hit.empty:
        close = difflib.get_close_matches(text.strip(), lads["name"].tolist(), n=3)
        hint = f"; did you mean {', '.join(close)}?" if close else ""
        raise UnknownAreaError(f"unknown local authority '{text}'{hint}")
    return Area(str(hit["code"].iloc[0]), str(hit["name"].iloc[0]), "lad")


def is_gm(lad_code: str) -> bool:
    """True for the ten Greater Manchester boroughs (E08000001..E08000010)."""
    return lad_code in settings.GM_LAD_CODES


def areas_within(lad_code: str, level: str, data_dir: Path | None = None) -> pd.DataFrame:
    """The areas at ``level`` inside a local authority: columns ``code``, ``name`` (readable,
    see :mod:`civicdata.geo.names`), ``ons_name``.

    LSOA 2011 and MSOA 2011 use the LAD of IoD2019 (2019 codes) or the LAD 2024 of
    their 2021 successor, so both 2019 and 2024 district codes work. Wards are the
    2024 wards of the district's LSOA 2021 (best fit, ONS lookup).
    """
    lad_code = resolve_lad(lad_code, data_dir).code
    if level in ("lsoa11", "msoa11"):
        t = load_lookup("lsoa11", data_dir)
        t = t[(t["lad19_code"] == lad_code) | (t["lad24_code"] == lad_code)]
    elif level in ("lsoa21", "msoa21", "ward"):
        t = load_lookup("lsoa21", data_dir)
        t = t[t["lad24_code"] == lad_code]
    else:
        raise ValueError(f"unknown level '{level}'; use one of lsoa11, lsoa21, msoa11, msoa21, ward")
    return units_of(t, level, data_dir)


def units_of(rows: pd.DataFrame, level: str, data_dir: Path | None = None) -> pd.DataFrame:
    """The distinct areas at ``level`` in rows of the LSOA 2011 lookup (``lsoa11``, ``msoa11``) or the LSOA 2021
    lookup (``lsoa21``, ``msoa21``, ``ward``: 2024 wards): ``code``, ``name`` (readable), ``ons_name``, by code."""
    col = "ward24" if level == "ward" else level
    out = rows[[f"{col}_code", f"{col}_name"]].drop_duplicates().set_axis(["code", "name"], axis=1)
    return with_readable_names(out, level, data_dir=data_dir).sort_values("code").reset_index(drop=True)


def lad_of_area(code: str, level: str, data_dir: Path | None = None) -> str:
    """The LAD 2024 holding an area (the most common one among its LSOAs for wards and MSOAs)."""
    if level == "lad":
        return code
    vintage = "lsoa21" if level in ("lsoa21", "msoa21", "ward") else "lsoa11"
    col = {"lsoa11": "lsoa11_code", "msoa11": "msoa11_code", "lsoa21": "lsoa21_code", "msoa21": "msoa21_code",
           "ward": "ward24_code"}[level]
    lk = load_lookup(vintage, data_dir)
    hit = lk.loc[lk[col] == code, "lad24_code"]
    if hit.empty:
        raise UnknownAreaError(f"unknown {LEVEL_LABELS.get(level, level)} code '{code}'")
    return str(hit.mode().iloc[0])


@dataclass
class Coverage:
    """How a set of codes joined to a geography."""

    level: str
    total: int
    matched: int
    unmatched: list[str] = field(default_factory=list)
    other_vintage: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        return self.matched / self.total if self.total else 1.0

    def summary(self) -> str:
        """One sentence for the UI: '1,671 of 1,673 codes matched LSOA 2011 (2 unmatched: …)'."""
        msg = f"{self.matched:,} of {self.total:,} codes matched {LEVEL_LABELS.get(self.level, self.level)}"
        if self.other_vintage:
            other = LEVEL_LABELS[OTHER_VINTAGE[self.level]]
            msg += f"; {len(self.other_vintage):,} are {other} codes (use the lookup)"
        rest = [c for c in self.unmatched if c not in set(self.other_vintage)]
        if rest:
            msg += f"; {len(rest):,} unknown (e.g. {', '.join(rest[:3])})"
        return msg


def compute_coverage(codes: pd.Series, level: str, data_dir: Path | None = None) -> Coverage:
    """Report how many distinct ``codes`` exist at ``level``, which do not, and which are of the other vintage."""
    codes = pd.Series(codes).dropna().astype(str).str.strip().str.upper().drop_duplicates()
    t = areas_table(data_dir)
    known = set(t.loc[t["level"] == level, "code"])
    unmatched = sorted(set(codes) - known)
    other = OTHER_VINTAGE.get(level)
    other_codes = set(t.loc[t["level"] == other, "code"]) if other else set()
    return Coverage(level, len(codes), len(codes) - len(unmatched), unmatched,
                    sorted(c for c in unmatched if c in other_codes))


BOUNDARY_SUFFIXES = (".geojson", ".json", ".gpkg", ".zip")
MAX_BOUNDARY_BYTES = 50 * 1024 * 1024


@dataclass
class BoundaryFile:
    """A user-loaded boundary file: polygons keyed by code, with the detected level and vintage."""

    frame: gpd.GeoDataFrame  # columns code, name, geometry (EPSG:4326)
    level: str  # lsoa11 | lsoa21 | msoa11 | msoa21
    code_column: str
    coverage: Coverage


def read_boundary_file(path: Path, label: str | None = None, data_dir: Path | None = None) -> BoundaryFile:
    """Read an ONS boundary file (GeoJSON, GeoPackage or zipped Shapefile) of LSOAs or MSOAs.

    The code column is the one whose values look like ONS LSOA/MSOA codes; the vintage
    (2011 or 2021) is detected from the codes: the vintage with more matching codes wins,
    and codes only the other vintage knows are counted in the coverage report.
    Raises :class:`civicdata.errors.ProblemsError` naming the file when it cannot be used.
    """
    import pyogrio

    from civicdata.errors import Problem, ProblemsError

    label = label or path.name
    if path.suffix.lower() not in BOUNDARY_SUFFIXES:
        raise ProblemsError([Problem(label, f"unsupported file type '{path.suffix}': use GeoJSON, GeoPackage or a zipped Shapefile")],
                            "cannot read the boundary file")
    if path.stat().st_size > MAX_BOUNDARY_BYTES:
        raise ProblemsError([Problem(label, f"file is larger than {MAX_BOUNDARY_BYTES // 2**20} MB")],
                            "cannot read the boundary file")
    source = f"/vsizip/{path}" if path.suffix.lower() == ".zip" else str(path)
    try:
        g = gpd.read_file(source, engine="pyogrio")
    except (pyogrio.errors.DataSourceError, pyogrio.errors.DataLayerError, ValueError, OSError) as exc:
        raise ProblemsError([Problem(label, f"not a readable boundary file ({exc})")], "cannot read the boundary file") from exc
    if g.empty:
        raise ProblemsError([Problem(label, "the file has no features")], "cannot read the boundary file")
    if g.crs is None:
        raise ProblemsError([Problem(label, "the file has no coordinate reference system")], "cannot read the boundary file")
    best: tuple[int, int, str, str] | None = None
    for col in g.columns:
        if col == g.geometry.name or g[col].dtype.kind not in "OSU" and str(g[col].dtype) not in ("str", "string"):
            continue
        vals = g[col].astype(str).str.strip().str.upper()
        for prefix, levels in (("E01", ("lsoa11", "lsoa21")), ("E02", ("msoa11", "msoa21"))):
            if vals.str.match(rf"^{prefix}\d{{6}}$").mean() > 0.9:
                for level in levels:
                    cov = compute_coverage(vals, level, data_dir)
                    # ties (all codes unchanged between vintages) go to the vintage the column name says
                    hint = int(level[-2:] in col)
                    if best is None or (cov.matched, hint) > best[:2]:
                        best = (cov.matched, hint, level, col)
    if best is None:
        raise ProblemsError([Problem(label, "no column holds LSOA (E01…) or MSOA (E02…) codes")],
                            "cannot read the boundary file")
    _, _, level, col = best
    codes = g[col].astype(str).str.strip().str.upper()
    name_col = next((c for c in g.columns if c != col and c.lower().endswith(("nm", "name"))), None)
    frame = gpd.GeoDataFrame({"code": codes, "name": g[name_col].astype(str) if name_col else codes},
                             geometry=g.geometry.values, crs=g.crs).to_crs(settings.WGS84)
    frame = frame[frame.geometry.notna() & ~frame.geometry.is_empty]
    return BoundaryFile(frame.reset_index(drop=True), level, col, compute_coverage(codes, level, data_dir))

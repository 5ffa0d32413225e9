"""Analysts' own layers: read, validate (every problem at once), save atomically, remove.

User layers live in the store (:mod:`civicdata.store.layers`): one row per layer holding its
descriptor (TOML) and its validated data (Parquet bytes), shared by every app server with the same
``CIVICDATA_DB_URL``. Nothing a user types is used as a path: the stored file name is ours and the
layer id is validated. Files are parsed (CSV, XLSX, Parquet), never executed; no pickle, no eval.

Saving is one transaction: a layer is validated whole before anything is written, and replacing an
existing id keeps the old layer until the new one commits. A failed add leaves the store as it was.
"""

from __future__ import annotations

import csv
import io
import tomllib
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata import settings
from civicdata.indicators.catalogue import (LayerDescriptor, bundled_ids, descriptor_to_toml, load_catalogue,
                                 validate_descriptor)
from civicdata.errors import CivicDataError, DescriptorError, Problem, ProblemsError, add_row_problems
from civicdata.geo.geography import OTHER_VINTAGE, areas_table, LEVEL_LABELS
from civicdata.store import db as store_db
from civicdata.store import layers as stored
from civicdata.store.layers import LayerExistsError  # noqa: F401 - raised by add_layer; callers import it here

MAX_BYTES = 20 * 1024 * 1024  # 20 MB: larger files are refused with a clear message
MAX_ROWS = 200_000
SUPPRESSED = ("*", "c", "x", "..", "-", "[c]", "[x]", "[z]", "supp", "suppressed", "z", "low", "u")
# DfE codes: c confidential, x unavailable, z not applicable, low (rounds to 0), u low reliability
ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")
DELIMITERS = ",;\t|"
ENGLAND_BBOX = (-6.45, 49.85, 1.80, 55.82)  # lon/lat
MAX_LISTED = 8
DATA_FILE = stored.DATA_FILE


class LayerValidationError(ProblemsError):
    """The data file does not fit its descriptor; ``problems`` lists every one."""


class SheetChoiceError(CivicDataError, ValueError):
    """An Excel file has several sheets: the user must say which."""

    def __init__(self, file: str, sheets: list[str]):
        self.sheets = sheets
        super().__init__(f"{file}: the workbook has {len(sheets)} sheets ({', '.join(sheets)}); say which one to use")


@dataclass
class ReadResult:
    """A file read as text cells, with what was detected."""

    frame: pd.DataFrame
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None


@dataclass
class ValidationReport:
    """What a valid layer holds: rows, matched codes, suppressed/missing counts, notes."""

    rows: int
    ok: int
    suppressed: int
    missing: int
    notes: list[str] = field(default_factory=list)


def read_table(data: bytes, filename: str, sheet: str | None = None) -> ReadResult:
    """Parse CSV / XLSX / Parquet bytes into string cells ('' = blank). Raises with the file named."""
    label = Path(filename).name
    if len(data) > MAX_BYTES:
        raise LayerValidationError([Problem(label, f"file is {len(data) / 2**20:.1f} MB; the limit is "
                                                   f"{MAX_BYTES // 2**20} MB")], "file too large")
    if not data.strip():
        raise LayerValidationError([Problem(label, "the file is empty")], "empty file")
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        try:
            book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
        except Exception as exc:  # zipfile / openpyxl raise many types for a bad workbook
            raise LayerValidationError([Problem(label, f"not a readable Excel workbook ({exc})")], "unreadable file") from exc
        sheets = book.sheet_names
        if sheet is None and len(sheets) > 1:
            raise SheetChoiceError(label, sheets)
        if sheet is not None and sheet not in sheets:
            raise SheetChoiceError(label, sheets)
        name = sheet or sheets[0]
        frame = pd.read_excel(book, sheet_name=name, dtype=str, keep_default_na=False)
        return ReadResult(_clean(frame, label), sheet=name)
    if suffix == ".parquet":
        try:
            frame = pd.read_parquet(io.BytesIO(data))
        except Exception as exc:  # pyarrow errors
            raise LayerValidationError([Problem(label, f"not a readable Parquet file ({exc})")], "unreadable file") from exc
        frame = frame.astype(object).where(frame.notna(), "").astype(str)
        return ReadResult(_clean(frame, label))
    if suffix not in (".csv", ".txt", ".tsv"):
        raise LayerValidationError([Problem(label, f"unsupported file type '{suffix or '(none)'}': use CSV, XLSX or Parquet")],
                                   "unsupported file")
    for enc in ENCODINGS:
        try:
            text = data.decode(enc)
            break
        except UnicodeDecodeError:
            continue
    if "\x00" in text:
        raise LayerValidationError([Problem(label, "binary content (NUL bytes): not a text CSV")], "unreadable file")
    first = text.splitlines()[0] if text.splitlines() else ""
    counts = {d: first.count(d) for d in DELIMITERS}
    delim = max(counts, key=counts.get) if max(counts.values()) else ","
    try:
        frame = pd.read_csv(io.StringIO(text), sep=delim, dtype=str, keep_default_na=False, quoting=csv.QUOTE_MINIMAL)
    except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        raise LayerValidationError([Problem(label, f"cannot be parsed as CSV ({exc})")], "unreadable file") from exc
    return ReadResult(_clean(frame, label), encoding=enc, delimiter=delim)


def _clean(frame: pd.DataFrame, label: str) -> pd.DataFrame:
    frame.columns = [str(c).strip() for c in frame.columns]
    if frame.empty:
        raise LayerValidationError([Problem(label, "the file has a header row but no data rows", row=1)], "no data")
    if len(frame) > MAX_ROWS:
        raise LayerValidationError([Problem(label, f"{len(frame):,} rows; the limit is {MAX_ROWS:,}")], "file too large")
    return frame.apply(lambda s: s.astype(str).str.strip())


def _listed(problems: list[Problem], label: str, mask: np.ndarray, column: str, message) -> None:
    add_row_problems(problems, label, mask, column, message, MAX_LISTED)


def validate_layer(frame: pd.DataFrame, desc: LayerDescriptor, label: str,
                   data_dir: Path | None = None) -> tuple[pd.DataFrame, ValidationReport]:
    """Check ``frame`` against ``desc``; return the tidy frame to store and a report.

    The stored frame has the key column (codes upper-cased, URNs as text), the value column
    as numbers (NaN when blank or suppressed), ``<value>__status`` (ok | suppressed | missing),
    CI and name columns when declared, or ``lat``/``lon`` for point layers.
    Raises :class:`LayerValidationError` listing every problem (file, row, column).
    """
    problems: list[Problem] = []
    notes: list[str] = []
    needed = [c for c in (desc.key_column, desc.value_column, desc.lat_column, desc.lon_column,
                          desc.easting_column, desc.northing_column,
                          desc.ci_lower_column, desc.ci_upper_column, desc.name_column) if c]
    missing_cols = [c for c in dict.fromkeys(needed) if c not in frame.columns]
    for c in missing_cols:
        close = [f for f in frame.columns if f.lower() == c.lower()]
        hint = f" (found '{close[0]}': column names are case-sensitive)" if close else \
            f"; the file's columns are: {', '.join(map(str, frame.columns[:12]))}"
        problems.append(Problem(label, f"column '{c}' named in the descriptor is not in the file{hint}", row=1, column=c))
    if len(frame.columns) == 1 and "," not in frame.columns[0] and any(d in frame.columns[0] for d in ";\t|"):
        problems.append(Problem(label, "only one column found: is the delimiter wrong?", row=1))
    if problems:
        raise LayerValidationError(problems, f"{label} does not match its descriptor")

    out = pd.DataFrame(index=frame.index)
    if desc.geography == "point":
        if desc.lat_column and desc.lon_column:
            lat = pd.to_numeric(frame[desc.lat_column], errors="coerce")
            lon = pd.to_numeric(frame[desc.lon_column], errors="coerce")
        else:
            import geopandas as gpd

            e = pd.to_numeric(frame[desc.easting_column], errors="coerce")
            n = pd.to_numeric(frame[desc.northing_column], errors="coerce")
            pts = gpd.GeoSeries(gpd.points_from_xy(e.fillna(0), n.fillna(0)), crs=settings.BNG).to_crs(settings.WGS84)
            lat = pd.Series(np.where(e.isna() | n.isna(), np.nan, pts.y), index=frame.index)
            lon = pd.Series(np.where(e.isna() | n.isna(), np.nan, pts.x), index=frame.index)
            desc = replace(desc, lat_column=desc.northing_column, lon_column=desc.easting_column)
        bad = (lat.isna() | lon.isna()).to_numpy()
        _listed(problems, label, bad, desc.lat_column, lambda i: f"coordinate '{frame.at[i, desc.lat_column]}, "
                f"{frame.at[i, desc.lon_column]}' is not a number")
        minx, miny, maxx, maxy = ENGLAND_BBOX
        outside = (~bad) & ~(lon.between(minx, maxx) & lat.between(miny, maxy)).to_numpy()
        if outside.any():
            swapped = lat.between(minx, maxx) & lon.between(miny, maxy)
            _listed(problems, label, outside, desc.lat_column,
                    lambda i: f"point ({lat.iat[i]:g}, {lon.iat[i]:g}) is outside England"
                    + (" (latitude and longitude swapped?)" if swapped.iat[i] else ""))
        out["lat"], out["lon"] = lat, lon
        if desc.name_column:
            out["name"] = frame[desc.name_column]
        if desc.value_column:
            out[desc.value_column] = pd.to_numeric(frame[desc.value_column], errors="coerce")
        for c in frame.columns:  # keep the analyst's other columns as text for popups
            if c not in out.columns and c not in (desc.lat_column, desc.lon_column, desc.easting_column,
                                                  desc.northing_column):
                out[c] = frame[c]
        if problems:
            raise LayerValidationError(problems, f"{label} has invalid rows")
        return out.reset_index(drop=True), ValidationReport(len(out), len(out), 0, 0, notes)

    key = frame[desc.key_column].str.upper().str.replace(" ", "", regex=False)
    blank_key = (key == "").to_numpy()
    _listed(problems, label, blank_key, desc.key_column, lambda i: "blank key")
    if desc.geography == "urn":
        schools = pd.read_parquet((Path(data_dir) if data_dir else settings.data_dir()) / "schools" / "schools.parquet")
        known = set(schools["urn"].astype(str))
        key = key.str.replace(r"\.0$", "", regex=True)
        unknown = (~blank_key) & ~key.isin(known).to_numpy()
        _listed(problems, label, unknown, desc.key_column,
                lambda i: f"'{frame.at[i, desc.key_column]}' is not the URN of an open school in England (GIAS May 2025)")
    else:
        t = areas_table(data_dir)
        level = desc.geography
        known = set(t.loc[t["level"] == level, "code"])
        unknown = (~blank_key) & ~key.isin(known).to_numpy()
        other = OTHER_VINTAGE.get(level)
        other_codes = set(t.loc[t["level"] == other, "code"]) if other else set()
        is_other = unknown & key.isin(other_codes).to_numpy()
        if is_other.any():
            problems.append(Problem(label, f"{int(is_other.sum())} codes are {LEVEL_LABELS[other]} codes, not "
                                           f"{LEVEL_LABELS[level]}: set geography = \"{other}\" in the descriptor, or "
                                           f"convert them with the ONS lookup (lookups/{'lsoa11_lsoa21' if 'lsoa' in level else 'msoa11_msoa21'})",
                                    column=desc.key_column))
        _listed(problems, label, is_other, desc.key_column,
                lambda i: f"'{key.iat[i]}' is an {LEVEL_LABELS[other]} code")
        _listed(problems, label, unknown & ~is_other, desc.key_column,
                lambda i: f"'{frame.at[i, desc.key_column]}' is not a known {LEVEL_LABELS[level]} code in England")
    dup = key.duplicated(keep="first").to_numpy() & ~blank_key
    _listed(problems, label, dup, desc.key_column, lambda i: f"duplicate key '{key.iat[i]}'")

    raw = frame[desc.value_column]
    suppressed = raw.str.lower().isin(SUPPRESSED).to_numpy()
    blank = (raw == "").to_numpy()
    value = pd.to_numeric(raw.str.replace(",", "", regex=False).str.rstrip("%"), errors="coerce")
    nonnum = value.isna().to_numpy() & ~suppressed & ~blank
    _listed(problems, label, nonnum, desc.value_column,
            lambda i: f"'{raw.iat[i]}' is not a number (suppressed values may be written {', '.join(SUPPRESSED[:5])})")
    lo = desc.valid_min if desc.valid_min is not None else -np.inf
    hi = desc.valid_max if desc.valid_max is not None else np.inf
    out_range = value.notna().to_numpy() & ~value.between(lo, hi).to_numpy()
    _listed(problems, label, out_range, desc.value_column,
            lambda i: f"{value.iat[i]:g} {desc.unit} is outside the valid range {lo:g} to {hi:g}")
    for col in (desc.ci_lower_column, desc.ci_upper_column):
        if col:
            ci = pd.to_numeric(frame[col], errors="coerce")
            bad = ci.isna().to_numpy() & (frame[col] != "").to_numpy() & ~frame[col].str.lower().isin(SUPPRESSED).to_numpy()
            _listed(problems, label, bad, col, lambda i, c=col: f"'{frame.at[i, c]}' is not a number")
            out[col] = ci
    if problems:
        raise LayerValidationError(problems, f"{label} has invalid rows")
    out[desc.key_column] = key
    out[desc.value_column] = value.where(~suppressed)
    out[f"{desc.value_column}__status"] = np.where(suppressed, "suppressed", np.where(value.isna(), "missing", "ok"))
    if desc.name_column:
        out[desc.name_column] = frame[desc.name_column]
    report = ValidationReport(len(out), int((out[f"{desc.value_column}__status"] == "ok").sum()),
                              int(suppressed.sum()), int(blank.sum()), notes)
    return out.reset_index(drop=True), report


def parse_descriptor(text: str, label: str = "descriptor") -> dict:
    """TOML text to a mapping, with parse errors named."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DescriptorError([Problem(label, f"not valid TOML: {exc}")], "unreadable descriptor") from exc


def prepare_layer(data: bytes, filename: str, raw_descriptor: dict, sheet: str | None = None,
                  data_dir: Path | None = None) -> tuple[LayerDescriptor, pd.DataFrame, ValidationReport, ReadResult]:
    """Validate a descriptor and its data without saving anything."""
    raw = dict(raw_descriptor)
    raw["file"] = DATA_FILE  # the stored file name is ours, never the user's
    desc = validate_descriptor(raw, "descriptor")
    if desc.geography == "practice":
        raise DescriptorError([Problem("descriptor", "geography 'practice' is kept for the bundled QOF layers: add "
                                                     "practice data as points (lat_column/lon_column) or keyed on "
                                                     "LSOA/MSOA codes", column="geography")],
                              "invalid layer descriptor")
    read = read_table(data, filename, sheet)
    frame, report = validate_layer(read.frame, desc, Path(filename).name, data_dir)
    if read.encoding and read.encoding != "utf-8-sig":
        report.notes.append(f"read as {read.encoding}")
    if read.delimiter and read.delimiter != ",":
        report.notes.append(f"delimiter {read.delimiter!r}")
    if read.sheet:
        report.notes.append(f"sheet '{read.sheet}'")
    if desc.geography == "point":
        desc = replace(desc, lat_column="lat", lon_column="lon", easting_column=None, northing_column=None,
                       name_column="name" if desc.name_column else None)
    return desc, frame, report, read


def add_layer(data: bytes, filename: str, raw_descriptor: dict, *, replace_existing: bool = False,
              sheet: str | None = None, db_url: str | None = None,
              data_dir: Path | None = None) -> tuple[LayerDescriptor, ValidationReport]:
    """Validate a user layer and save it in the store in one transaction. Raises before anything is
    written if invalid; :class:`LayerExistsError` if the id is taken and ``replace_existing`` is False."""
    desc, frame, report, _ = prepare_layer(data, filename, raw_descriptor, sheet, data_dir)
    if desc.id in bundled_ids(data_dir):
        raise DescriptorError([Problem("descriptor", f"'{desc.id}' is a bundled layer id: choose another", column="id")],
                              "invalid layer descriptor")
    buf = io.BytesIO()
    frame.to_parquet(buf, index=False)
    stored.put_layer(desc.id, desc.title, descriptor_to_toml(desc), buf.getvalue(), len(frame), Path(filename).name,
                     replace_existing=replace_existing, eng=store_db.engine(db_url))
    return desc, report


def remove_layer(layer_id: str, db_url: str | None = None, data_dir: Path | None = None) -> None:
    """Remove a user layer from the store (bundled layers cannot be removed)."""
    desc = load_catalogue(data_dir, db_url).get(layer_id)  # unknown ids raise with suggestions
    if not desc.user:
        raise DescriptorError([Problem("remove-layer", f"'{layer_id}' is a bundled layer and cannot be removed",
                                       column="id")], "cannot remove")
    stored.delete_layer(desc.id, store_db.engine(db_url))

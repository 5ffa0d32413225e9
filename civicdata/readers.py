"""Careful readers for raw tabular files: every problem named by file, row and column.

Rows are counted as a spreadsheet user sees them: the header is row 1, the first data
row is row 2. Problems are collected, not raised one by one; callers raise them together.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import re
import zlib
from pathlib import Path

import pandas as pd

from civicdata.errors import Problem

MAX_ROWS_LISTED = 5

LSOA_RE = r"^[EW]01\d{6}$"
MSOA_RE = r"^[EW]02\d{6}$"
WARD_RE = r"^[EW]05\d{6}$"
LAD_RE = r"^[EW]0[6789]\d{6}$"
ENGLAND_LSOA_RE = r"^E01\d{6}$"
ENGLAND_MSOA_RE = r"^E02\d{6}$"


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes, read in 1 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def read_text_table(path: Path, *, label: str, sep: str = ",", encoding: str = "utf-8-sig",
                    header: bool = True, names: list[str] | None = None,
                    problems: list[Problem]) -> pd.DataFrame | None:
    """Read a (possibly gzipped) delimited text file as strings.

    Returns ``None`` and appends a problem when the file is missing, cannot be decoded
    with ``encoding`` or cannot be parsed. All cells come back as strings (``""`` = blank).
    """
    if not path.is_file():
        problems.append(Problem(label, "file is missing"))
        return None
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as fh:
                raw = fh.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as exc:
        problems.append(Problem(label, f"cannot be read ({exc})"))
        return None
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        problems.append(Problem(label, f"not valid {encoding} text (byte {exc.start})", row=line))
        return None
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False,
                            header=0 if header else None, names=names, engine="python" if len(sep) > 1 or not sep.isascii() else "c")
    except (pd.errors.ParserError, ValueError) as exc:
        msg = str(exc)
        m = re.search(r"line (\d+)", msg)
        problems.append(Problem(label, f"cannot be parsed: {msg}", row=int(m.group(1)) if m else None))
        return None
    return frame


def require_columns(frame: pd.DataFrame, columns: list[str], *, label: str,
                    problems: list[Problem]) -> bool:
    """Append a problem for each missing column; True when all are present."""
    missing = [c for c in columns if c not in frame.columns]
    for c in missing:
        problems.append(Problem(label, "required column is missing", row=1, column=c))
    return not missing


def _bad_rows(mask: pd.Series) -> list[int]:
    return [int(i) + 2 for i in mask[mask].index[: MAX_ROWS_LISTED]]


def check_codes(frame: pd.DataFrame, column: str, pattern: str, *, label: str,
                problems: list[Problem], allow_blank: bool = False) -> None:
    """Append problems for cells in ``column`` that do not match ``pattern``."""
    s = frame[column].astype(str).str.strip()
    bad = ~s.str.match(pattern)
    if allow_blank:
        bad &= s != ""
    n = int(bad.sum())
    if n:
        for row in _bad_rows(bad):
            problems.append(Problem(label, f"'{frame.at[row - 2, column]}' is not a valid code ({pattern})",
                                    row=row, column=column))
        if n > MAX_ROWS_LISTED:
            problems.append(Problem(label, f"... and {n - MAX_ROWS_LISTED} more invalid codes", column=column))


def to_number(frame: pd.DataFrame, column: str, *, label: str, problems: list[Problem],
              thousands: bool = False, integer: bool = False) -> pd.Series:
    """Parse ``column`` as numbers; blanks become NaN; anything else unparseable is a problem.

    ``thousands`` strips thousands separators ("29,199"). ``integer`` flags non-whole values.
    """
    s = frame[column].astype(str).str.strip()
    if thousands:
        s = s.str.replace(",", "", regex=False)
    blank = s.isin(["", "NA", "NaN", "nan"])
    num = pd.to_numeric(s.where(~blank), errors="coerce")
    bad = num.isna() & ~blank
    if integer:
        bad |= num.notna() & (num % 1 != 0)
    n = int(bad.sum())
    if n:
        for row in _bad_rows(bad):
            problems.append(Problem(label, f"'{frame.at[row - 2, column]}' is not a"
                                    f"{'n integer' if integer else ' number'}", row=row, column=column))
        if n > MAX_ROWS_LISTED:
            problems.append(Problem(label, f"... and {n - MAX_ROWS_LISTED} more non-numeric values", column=column))
    return num.astype("Int64") if integer and not bad.any() else num.astype("float64")


def check_unique(frame: pd.DataFrame, column: str, *, label: str, problems: list[Problem]) -> None:
    """Append a problem for each duplicated value of ``column`` (first few rows)."""
    dup = frame[column].duplicated(keep="first")
    n = int(dup.sum())
    for row in _bad_rows(dup):
        problems.append(Problem(label, f"duplicate key '{frame.at[row - 2, column]}'", row=row, column=column))
    if n > MAX_ROWS_LISTED:
        problems.append(Problem(label, f"... and {n - MAX_ROWS_LISTED} more duplicate keys", column=column))

"""Named errors. Each also subclasses a builtin so callers can catch either.

Errors that collect several problems carry them in ``.problems`` (one
:class:`Problem` per file/row/column) and list every one in their message.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Problem:
    """One problem in one input: file, 1-based row (header = row 1) and column when known."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


class CivicDataError(Exception):
    """Base of every error raised by civicdata."""


class ProblemsError(CivicDataError, ValueError):
    """Raised with every problem found at once."""

    def __init__(self, problems: list[Problem], summary: str = "invalid input"):
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{summary} ({len(self.problems)} problem(s)):\n{lines}")


class SourceDataError(ProblemsError):
    """A raw source file for the bundle build is missing, corrupt or malformed."""


class DescriptorError(ProblemsError):
    """A layer descriptor (TOML) is invalid."""


class UnknownLayerError(CivicDataError, KeyError):
    """No layer has this id; the message suggests close ids."""

    def __str__(self) -> str:  # KeyError quotes its message otherwise
        return str(self.args[0])


class UnknownAreaError(CivicDataError, KeyError):
    """An area code or name is not known in the requested geography."""

    def __str__(self) -> str:
        return str(self.args[0])


class VintageMismatchError(UnknownAreaError):
    """An area code belongs to the other vintage (LSOA/MSOA 2011 vs 2021)."""


def add_row_problems(problems: list[Problem], file: str, mask, column: str | None, message, limit: int) -> None:
    """One problem per flagged data row of a table read from ``file`` (the first ``limit``, then a count).

    ``mask`` flags rows (0-based, in file order; the file's row is that + 2, after the header);
    ``message(i)`` words row ``i``.
    """
    rows = np.flatnonzero(np.asarray(mask, dtype=bool))
    for i in rows[:limit]:
        problems.append(Problem(file, message(int(i)), row=int(i) + 2, column=column))
    if len(rows) > limit:
        problems.append(Problem(file, f"... and {len(rows) - limit} more rows like this", column=column))

"""Make the worked example of an analyst's own layer: Bradford's persistent absence by school, 2021/22.

Reads the DfE school-level absence file staged in ../shared/data (schools/absence/, OGL v3.0) and
writes examples/bradford_persistent_absence_2021-22.csv: school_urn, school_name and
enrolments_pa_10_exact_percent (% of enrolments missing 10%+ of sessions) as published, DfE
suppression codes left as they are (the layer keeps them as suppressed). Schools whose 2021/22
URN is no longer an open school in GIAS (May 2025; closed, or converted to an academy with a new
URN) are left out and listed, since a URN layer only accepts open schools.

Run: python examples/make_bradford_absence.py [SOURCES_DIR]
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
RAW = "schools/absence/bradford_school_absence_2013-14_to_2021-22.csv.gz"
OUT = HERE / "bradford_persistent_absence_2021-22.csv"
COLUMNS = ["school_urn", "school_name", "enrolments_pa_10_exact_percent"]


def make(sources: Path) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(kept rows, left-out rows) of 2021/22 from the raw file."""
    raw = pd.read_csv(sources / RAW, dtype=str, keep_default_na=False)
    year = raw[raw["time_period"] == "202122"][COLUMNS]
    open_urns = set(pd.read_parquet(HERE.parent / "data" / "schools" / "schools.parquet")["urn"].astype(str))
    kept = year["school_urn"].isin(open_urns)
    return year[kept].sort_values("school_urn"), year[~kept].sort_values("school_urn")


if __name__ == "__main__":
    src = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE.parents[1] / "shared" / "data"
    kept, left = make(src)
    kept.to_csv(OUT, index=False)
    print(f"wrote {OUT.name}: {len(kept)} schools; left out {len(left)} no longer open under their 2021/22 URN: "
          + ", ".join(f"{r.school_urn} {r.school_name}" for r in left.itertuples()))

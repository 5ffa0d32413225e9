"""Schools: DfE GIAS open establishments (URN, LSOA 2021, pupils, FSM)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from civicdata.build.io import Bundle, _raise, _src, _write, _write_layer
from civicdata.build.sources import SOURCES
from civicdata.errors import Problem
from civicdata.readers import (
    check_codes,
    check_unique,
    read_text_table,
    require_columns,
    to_number,
)


def build_schools(sources: Path, bundle: Bundle) -> pd.DataFrame:
    """GIAS open establishments in England (May 2025): URN, phase, pupils, % FSM, lon/lat, LSOA 2021."""
    problems: list[Problem] = []
    path, label = _src(sources, "gias")
    f = read_text_table(path, label=label, problems=problems)
    _raise(problems, "schools")
    cols = ["urn", "la_code", "la_name", "establishment_name", "establishment_type", "establishment_type_group",
            "education_phase", "number_of_pupils", "percentage_fsm", "lsoa_code", "longitude", "latitude"]
    if require_columns(f, cols, label=label, problems=problems):
        urn = to_number(f, "urn", label=label, problems=problems)
        bad = urn.notna() & (urn % 1 != 0)
        for i in f.index[bad][:5]:
            problems.append(Problem(label, f"URN '{f.at[i, 'urn']}' is not a whole number", row=int(i) + 2, column="urn"))
        # GIAS writes ONS pseudo-codes (999999999; L99999999 Channel Islands; M99999999 Isle of
        # Man) where no English/Welsh LSOA applies: treat them as missing, never as a code.
        f["lsoa_code"] = f["lsoa_code"].where(~f["lsoa_code"].str.fullmatch(r"[A-Z]?9{8,9}"), "")
        check_codes(f, "lsoa_code", r"^[EWS]01\d{6}$", label=label, problems=problems, allow_blank=True)
        out = pd.DataFrame({
            "urn": urn.astype("Int64"), "name": f["establishment_name"], "la_code": f["la_code"],
            "la_name": f["la_name"], "type": f["establishment_type"], "type_group": f["establishment_type_group"],
            "phase": f["education_phase"],
            "pupils": to_number(f, "number_of_pupils", label=label, problems=problems),
            "fsm_pct": to_number(f, "percentage_fsm", label=label, problems=problems),
            "lsoa21_code": f["lsoa_code"].replace("", pd.NA),
            "lon": to_number(f, "longitude", label=label, problems=problems),
            "lat": to_number(f, "latitude", label=label, problems=problems)})
    _raise(problems, "schools")
    check_unique(out.astype({"urn": str}), "urn", label=label, problems=problems)
    badpct = out["fsm_pct"].notna() & ~out["fsm_pct"].between(0, 100)
    for i in out.index[badpct][:5]:
        problems.append(Problem(label, f"% FSM {out.at[i, 'fsm_pct']} is outside 0..100", row=int(i) + 2,
                                column="percentage_fsm"))
    _raise(problems, "schools")
    # England only: an English LSOA, or no LSOA recorded and not a Welsh school (Welsh and
    # Scottish records carry W01/S01 codes or the 'Welsh schools' type group).
    code = out["lsoa21_code"].fillna("")
    england = (code.str.startswith("E") | ((code == "") & (out["type_group"] != "Welsh schools")))
    out = out[england].sort_values("urn")
    _write(out, bundle.out / "schools" / "schools.parquet")
    bundle.record("schools", ["schools/schools.parquet"], ["gias"], len(out), "URN; LSOA 2021; point (WGS84)",
                  "Open schools in England (GIAS)", note="Welsh records dropped; LSOA codes are 2021 vintage")
    src = SOURCES["gias"]
    common = {"geography": "urn", "file": "schools.parquet", "key_column": "urn", "name_column": "name",
              "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
              "vintage": "2025-05", "theme": "schools"}
    _write_layer(bundle, "schools", {**common, "id": "school_fsm_pct", "title": "Pupils eligible for free school meals",
                                     "description": "Percentage of pupils eligible for free school meals (GIAS).",
                                     "unit": "%", "polarity": "higher_is_worse", "value_column": "fsm_pct"})
    _write_layer(bundle, "schools", {**common, "id": "school_pupils", "title": "Number of pupils",
                                     "description": "Pupils on roll (GIAS).", "unit": "pupils",
                                     "polarity": "neutral", "value_column": "pupils", "valid_min": 0})
    return out

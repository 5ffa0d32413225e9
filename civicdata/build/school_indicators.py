"""Every school in England, school by school: absence 2018/19, KS2 and KS4 2022/23, census 2023 (DfE).

Writes ``schools/school_indicators.parquet`` (one row per URN in any of the files) and one layer per
measure, keyed on URN. DfE's codes become missing values with the reason kept in ``<column>__status``
(:data:`DFE_CODES`), never zero. Each row also carries the school's comparison group and pupils for each
vintage (``group_2019``/``pupils_2019`` from the January 2019 census, ``group_2023``/``pupils_2023``
from *Schools, pupils and their characteristics* 2022/23), so a school is set beside its local
authority's and England's schools of the same kind. ``schools/school_absence_national_2019.parquet``
keeps the absence file's national rows (DfE's published figures).

:func:`read_ees_absence` reads DfE's current school-level absence file in its Explore Education
Statistics layout (``1a_absence_3term_school``); an analyst who puts one in the sources folder
(``schools/absence_latest/``) gets its newest year as two more layers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.build.io import Bundle, _raise, _src, _write, _write_layer
from civicdata.build.sources import SOURCES
from civicdata.errors import Problem
from civicdata.readers import read_text_table, require_columns, sha256_file

#: DfE's symbols and suppression codes, and the reason a value is missing that each stands for
DFE_CODES: dict[str, str] = {
    "SUPP": "suppressed", "c": "suppressed", "NE": "no entries", "LOWCOV": "low coverage", "low": "low coverage",
    "NA": "not applicable", "z": "not applicable", "x": "not available", ":": "not available",
    "NP": "not published", "u": "low reliability",
}
#: a 2022/23 file (JSON) gives null where DfE's code was dropped upstream: the reason is not known
NULL_2023 = "not published (DfE's code — suppressed, no entries or low coverage — is not in the file)"
#: the absence file's national rows: ESTAB -> the 2019 census school type they stand for
NATIONAL_2019 = {"PRI": "State-funded primary", "SEC": "State-funded secondary", "SPE": "Special"}
#: the comparison group of a school's 2019 census type (special schools, state-funded and not, together)
GROUP_2019 = {"State-funded primary": "State-funded primary", "State-funded secondary": "State-funded secondary",
              "State-funded special school": "Special", "Non-maintained special school": "Special"}
#: where an analyst puts DfE's current school-level absence file (EES layout)
EES_FOLDER = "schools/absence_latest"
EES_COLUMNS = ["time_period", "geographic_level", "school_urn", "enrolments", "sess_overall_percent",
               "enrolments_pa_10_exact_percent"]


def dfe_values(frame: pd.DataFrame, column: str, *, label: str, problems: list[Problem]) -> tuple[pd.Series, pd.Series]:
    """``column`` as numbers and a status per row: ``ok``, a reason from :data:`DFE_CODES`, or ``missing`` (blank).

    A cell that is neither a number nor a known DfE code is a problem (file, row, column)."""
    s = frame[column].astype(str).str.strip()
    num = pd.to_numeric(s, errors="coerce")
    status = pd.Series("ok", index=frame.index, dtype=object)
    blank = s.isin(["", "nan"])
    coded = s.isin(list(DFE_CODES))
    status[blank] = "missing"
    status[coded] = s[coded].map(DFE_CODES)
    bad = num.isna() & ~blank & ~coded
    for i in frame.index[bad][:5]:
        problems.append(Problem(label, f"'{frame.at[i, column]}' is neither a number nor a DfE code "
                                       f"({', '.join(DFE_CODES)})", row=int(i) + 2, column=column))
    return num.where(status == "ok"), status


def _json_by_urn(path: Path, label: str, fields: list[str], problems: list[Problem]) -> pd.DataFrame | None:
    """A JSON object keyed by URN -> one row per URN with ``fields`` (null kept as NaN)."""
    if not path.is_file():
        problems.append(Problem(label, "file is missing"))
        return None
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(Problem(label, f"not valid JSON ({exc})"))
        return None
    if not isinstance(raw, dict):
        problems.append(Problem(label, "expected an object keyed by URN"))
        return None
    rows = []
    for n, (urn, rec) in enumerate(raw.items(), start=1):
        if not str(urn).isdigit() or not isinstance(rec, dict):
            problems.append(Problem(label, f"entry {n}: key '{urn}' is not a URN with an object"))
            continue
        missing = [f for f in fields if f not in rec]
        if missing:
            problems.append(Problem(label, f"URN {urn}: no field {', '.join(missing)}", column=missing[0]))
            continue
        bad = [f for f in fields if rec[f] is not None and not isinstance(rec[f], (int, float))]
        if bad:
            problems.append(Problem(label, f"URN {urn}: '{rec[bad[0]]}' is not a number", column=bad[0]))
            continue
        rows.append({"urn": int(urn), **{f: rec[f] for f in fields}})
        if len(problems) > 20:
            break
    return pd.DataFrame(rows, columns=["urn", *fields]).astype({f: float for f in fields})


def _status_of_json(values: pd.Series) -> pd.Series:
    return pd.Series(np.where(values.notna(), "ok", NULL_2023), index=values.index, dtype=object)


def read_ees_absence(path: Path, *, label: str | None = None) -> pd.DataFrame:
    """DfE's school-level absence file in its Explore Education Statistics layout (``1a_absence_3term_school``).

    One row per school and year: ``urn``, ``time_period`` (e.g. ``"202122"``), ``year`` ("2021/22"),
    ``enrolments``, ``overall_absence`` (% of sessions), ``persistent_absence`` (% of enrolments missing 10%
    or more of sessions), each with its ``__status``. Raises :class:`civicdata.errors.SourceDataError`
    naming every problem (file, row, column).
    """
    problems: list[Problem] = []
    label = label or path.name
    f = read_text_table(path, label=label, problems=problems)
    if f is not None and require_columns(f, EES_COLUMNS, label=label, problems=problems):
        f = f[f["geographic_level"] == "School"].reset_index(drop=True)
        bad = ~f["school_urn"].str.fullmatch(r"\d{5,7}")
        for i in f.index[bad][:5]:
            problems.append(Problem(label, f"'{f.at[i, 'school_urn']}' is not a URN", row=int(i) + 2, column="school_urn"))
        badp = ~f["time_period"].str.fullmatch(r"\d{6}")
        for i in f.index[badp][:5]:
            problems.append(Problem(label, f"'{f.at[i, 'time_period']}' is not a year like 202122", row=int(i) + 2,
                                    column="time_period"))
        enrol, _ = dfe_values(f, "enrolments", label=label, problems=problems)
        overall, overall_st = dfe_values(f, "sess_overall_percent", label=label, problems=problems)
        pa, pa_st = dfe_values(f, "enrolments_pa_10_exact_percent", label=label, problems=problems)
    _raise(problems, f"school absence ({label})")
    out = pd.DataFrame({"urn": f["school_urn"].astype(int), "time_period": f["time_period"],
                        "year": f["time_period"].str[:4] + "/" + f["time_period"].str[4:],
                        "enrolments": enrol, "overall_absence": overall, "overall_absence__status": overall_st,
                        "persistent_absence": pa, "persistent_absence__status": pa_st})
    dup = out.duplicated(["urn", "time_period"])
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        _raise([Problem(label, f"URN {out.at[i, 'urn']} appears twice for {out.at[i, 'year']}", row=i + 2,
                        column="school_urn")], f"school absence ({label})")
    return out.sort_values(["urn", "time_period"]).reset_index(drop=True)


def build_school_indicators(sources: Path, bundle: Bundle, schools: pd.DataFrame) -> pd.DataFrame:
    """Absence 2018/19, KS2/KS4 2022/23 and census 2023 for every school in England, one row per URN."""
    problems: list[Problem] = []
    p_abs, l_abs = _src(sources, "school_absence2019")
    p_c19, l_c19 = _src(sources, "school_census2019")
    p_spc, l_spc = _src(sources, "school_spc2023")
    ab = read_text_table(p_abs, label=l_abs, problems=problems)
    c19 = read_text_table(p_c19, label=l_c19, problems=problems)
    spc = read_text_table(p_spc, label=l_spc, problems=problems)
    ks2 = _json_by_urn(*_src(sources, "school_ks2_2023"), ["rwmExp"], problems)
    ks4 = _json_by_urn(*_src(sources, "school_ks4_2023"), ["att8", "p8"], problems)
    c23 = _json_by_urn(*_src(sources, "school_census2023"), ["senSupport", "senEhcp", "eal"], problems)
    _raise(problems, "school indicators")
    require_columns(ab, ["LA", "ESTAB", "URN", "PERCTOT", "PPERSABS10"], label=l_abs, problems=problems)
    require_columns(c19, ["URN", "SCHOOLTYPE", "NOR"], label=l_c19, problems=problems)
    fsm_col = "% of pupils known to be eligible for free school meals"
    require_columns(spc, ["urn", "school_name", "new_la_code", "la_name", "phase_type_grouping", "trust",
                          "ward_code", "ward_name", "headcount of pupils", fsm_col], label=l_spc, problems=problems)
    _raise(problems, "school indicators")

    national = ab[ab["LA"] == "NAT"].reset_index(drop=True)  # the files' national rows are not schools
    ab = ab[ab["LA"] != "NAT"].reset_index(drop=True)
    c19 = c19[c19["URN"] != "NAT"].reset_index(drop=True)
    for frame, col, label in ((ab, "URN", l_abs), (c19, "URN", l_c19), (spc, "urn", l_spc)):
        bad = ~frame[col].str.fullmatch(r"\d{5,7}")
        for i in frame.index[bad][:5]:
            problems.append(Problem(label, f"'{frame.at[i, col]}' is not a URN", row=int(i) + 2, column=col))
        dup = frame[col].duplicated()
        for i in frame.index[dup][:5]:
            problems.append(Problem(label, f"URN {frame.at[i, col]} appears twice", row=int(i) + 2, column=col))
    pa, pa_st = dfe_values(ab, "PPERSABS10", label=l_abs, problems=problems)
    tot, tot_st = dfe_values(ab, "PERCTOT", label=l_abs, problems=problems)
    nor, _ = dfe_values(c19, "NOR", label=l_c19, problems=problems)
    hc, _ = dfe_values(spc, "headcount of pupils", label=l_spc, problems=problems)
    fsm, fsm_st = dfe_values(spc, fsm_col, label=l_spc, problems=problems)
    nat_pa, _ = dfe_values(national, "PPERSABS10", label=l_abs, problems=problems)
    nat_tot, _ = dfe_values(national, "PERCTOT", label=l_abs, problems=problems)
    unknown = set(national["ESTAB"]) - set(NATIONAL_2019)
    if unknown:
        problems.append(Problem(l_abs, f"unknown national row(s) {', '.join(sorted(unknown))}", column="ESTAB"))
    _raise(problems, "school indicators")

    a = pd.DataFrame({"urn": ab["URN"].astype(int), "persistent_absence_2019": pa,
                      "persistent_absence_2019__status": pa_st, "overall_absence_2019": tot,
                      "overall_absence_2019__status": tot_st})
    c = pd.DataFrame({"urn": c19["URN"].astype(int), "group_2019": c19["SCHOOLTYPE"].map(GROUP_2019),
                      "pupils_2019": nor})
    s = pd.DataFrame({"urn": spc["urn"].astype(int), "name_2023": spc["school_name"],
                      "group_2023": spc["phase_type_grouping"], "pupils_2023": hc,
                      "la_code_2023": spc["new_la_code"], "la_name_2023": spc["la_name"],
                      "trust_2023": spc["trust"].replace("", pd.NA), "ward_code_2023": spc["ward_code"],
                      "ward_name_2023": spc["ward_name"], "fsm_2023": fsm, "fsm_2023__status": fsm_st})
    k2 = pd.DataFrame({"urn": ks2["urn"], "ks2_rwm_2023": ks2["rwmExp"],
                       "ks2_rwm_2023__status": _status_of_json(ks2["rwmExp"])})
    k4 = pd.DataFrame({"urn": ks4["urn"], "attainment8_2023": ks4["att8"],
                       "attainment8_2023__status": _status_of_json(ks4["att8"]),
                       "progress8_2023": ks4["p8"], "progress8_2023__status": _status_of_json(ks4["p8"])})
    cen = pd.DataFrame({"urn": c23["urn"]})
    for src, col in (("senSupport", "sen_support_2023"), ("senEhcp", "ehcp_2023"), ("eal", "eal_2023")):
        cen[col] = c23[src]
        cen[f"{col}__status"] = _status_of_json(c23[src])
    out = a
    for part in (c, s, k2, k4, cen):
        out = out.merge(part, on="urn", how="outer", validate="1:1")
    gias = schools[["urn", "name", "la_name"]].assign(urn=schools["urn"].astype(int))
    out = out.merge(gias, on="urn", how="left", validate="1:1")
    out["name"] = out["name"].fillna(out["name_2023"]).fillna("URN " + out["urn"].astype(str))
    for col in [c for c in out.columns if c.endswith("__status")]:  # a school not in that file: no record
        out[col] = out[col].fillna("missing")
    out["la_name"] = out["la_name_2023"].fillna(out.pop("la_name"))  # SPC's, else GIAS's (moved to the end)
    out = out.drop(columns="name_2023").sort_values("urn").reset_index(drop=True)
    out["urn"] = out["urn"].astype("Int64")
    front = ["urn", "name"]
    out = out[front + [c for c in out.columns if c not in front]]
    _write(out, bundle.out / "schools" / "school_indicators.parquet")
    used = ["school_absence2019", "school_census2019", "school_spc2023", "school_ks2_2023", "school_ks4_2023",
            "school_census2023", "gias"]
    bundle.record("school_indicators", ["schools/school_indicators.parquet"], used, len(out), "URN",
                  "School-level absence 2018/19, KS2/KS4 2022/23 and census January 2023, every school in England",
                  note="DfE codes kept as reasons in <column>__status (SUPP suppressed, NE no entries, LOWCOV low "
                       "coverage, NA/z not applicable); the 2022/23 JSON files give null where DfE's code was dropped "
                       "upstream ('not published'); never zero")
    nat = pd.DataFrame({"group_2019": national["ESTAB"].map(NATIONAL_2019), "persistent_absence_2019": nat_pa,
                        "overall_absence_2019": nat_tot}).sort_values("group_2019").reset_index(drop=True)
    _write(nat, bundle.out / "schools" / "school_absence_national_2019.parquet")
    bundle.record("school_absence_national_2019", ["schools/school_absence_national_2019.parquet"],
                  ["school_absence2019"], len(nat), "England",
                  "England's persistent and overall absence 2018/19 by school type (DfE's published national rows)")
    _school_layers(bundle)
    _latest_absence(sources, bundle)
    return out


#: (id, column, title, unit, polarity, vintage, source key, description)
SCHOOL_LAYERS = [
    ("school_persistent_absence_2019", "persistent_absence_2019", "Persistent absence, 2018/19", "% of pupils",
     "higher_is_worse", "2018/19", "school_absence2019",
     "Pupils missing 10% or more of possible sessions, 2018/19 (DfE performance tables, full year). Pre-COVID: "
     "the newest school-level figure for all of England here; persistent absence in 2024/25 is about twice as "
     "high nationally."),
    ("school_overall_absence_2019", "overall_absence_2019", "Overall absence, 2018/19", "% of sessions",
     "higher_is_worse", "2018/19", "school_absence2019",
     "Sessions missed for any reason, authorised or not, 2018/19 (DfE performance tables). Pre-COVID."),
    ("school_ks2_rwm_2023", "ks2_rwm_2023", "KS2 reading, writing and maths at the expected standard, 2022/23",
     "% of pupils", "higher_is_better", "2022/23", "school_ks2_2023",
     "Pupils at the end of key stage 2 meeting the expected standard in reading, writing and maths (DfE)."),
    ("school_attainment8_2023", "attainment8_2023", "Attainment 8, 2022/23", "points", "higher_is_better",
     "2022/23", "school_ks4_2023", "Average Attainment 8 score per pupil at the end of key stage 4 (DfE)."),
    ("school_progress8_2023", "progress8_2023", "Progress 8, 2022/23", "score", "higher_is_better", "2022/23",
     "school_ks4_2023", "Progress 8: pupils' progress from key stage 2 to key stage 4 against pupils with "
     "similar starting points nationally; 0 is the national average (DfE)."),
    ("school_sen_support_2023", "sen_support_2023", "Pupils with SEN support, January 2023", "% of pupils",
     "higher_is_worse", "January 2023", "school_census2023",
     "Pupils with special educational needs receiving SEN support (no EHC plan), school census January 2023 "
     "(DfE). Higher = more need."),
    ("school_ehcp_2023", "ehcp_2023", "Pupils with an EHC plan, January 2023", "% of pupils", "higher_is_worse",
     "January 2023", "school_census2023",
     "Pupils with an education, health and care plan, school census January 2023 (DfE). Higher = more need."),
    ("school_eal_2023", "eal_2023", "Pupils with English as an additional language, January 2023", "% of pupils",
     "neutral", "January 2023", "school_census2023",
     "Pupils whose first language is known or believed to be other than English, school census January 2023 (DfE)."),
    ("school_fsm_2023", "fsm_2023", "Pupils known to be eligible for free school meals, January 2023",
     "% of pupils", "higher_is_worse", "January 2023", "school_spc2023",
     "Pupils known to be eligible for free school meals, January 2023 (DfE, Schools, pupils and their "
     "characteristics). GIAS's May 2025 figure is the layer 'Pupils eligible for free school meals'."),
]


def _school_layers(bundle: Bundle) -> None:
    for lid, col, title, unit, polarity, vintage, key, description in SCHOOL_LAYERS:
        src = SOURCES[key]
        raw = {"id": lid, "title": title, "description": description, "unit": unit, "polarity": polarity,
               "geography": "urn", "file": "school_indicators.parquet", "key_column": "urn", "value_column": col,
               "name_column": "name", "source": f"{src.publisher}, {src.title}", "source_url": src.url,
               "licence": src.licence, "vintage": vintage, "theme": "schools"}
        if unit.startswith("%"):
            raw.update(valid_min=0.0, valid_max=100.0)
        raw["coverage"] = (f"no record in the DfE {vintage} file (a school opened since, an independent school, "
                           "or one with no pupils at that stage)")
        _write_layer(bundle, "schools", raw)


def _latest_absence(sources: Path, bundle: Bundle) -> None:
    """DfE's current school-level absence file (EES layout), when an analyst has put one in
    ``<sources>/schools/absence_latest/``: its newest year as two layers."""
    folder = sources / EES_FOLDER
    files = sorted(p for p in folder.glob("*.csv*")) if folder.is_dir() else []
    if not files:
        return
    frames = [read_ees_absence(p, label=f"{EES_FOLDER}/{p.name}") for p in files]
    t = pd.concat(frames, ignore_index=True)
    newest = t["time_period"].max()
    t = t[t["time_period"] == newest].drop_duplicates("urn").sort_values("urn").reset_index(drop=True)
    year = str(t["year"].iloc[0])
    yy = newest[-2:]
    rel = f"schools/school_absence_20{yy}.parquet"
    out = t.drop(columns=["time_period"])
    out["urn"] = out["urn"].astype("Int64")
    _write(out, bundle.out / rel)
    bundle.datasets.append({"name": f"school_absence_20{yy}", "title": f"School-level absence {year} (EES layout)",
                            "files": [rel], "rows": len(out), "geography": "URN",
                            "publisher": "Department for Education", "source_title": "Pupil absence in schools in "
                            "England, school-level file (1a_absence_3term_school)",
                            "source_url": "https://explore-education-statistics.service.gov.uk/find-statistics/"
                                          "pupil-absence-in-schools-in-england",
                            "licence": "Open Government Licence v3.0", "vintage": year, "source_code_vintage": "URN",
                            "raw_files": [f"{EES_FOLDER}/{p.name}" for p in files],
                            "raw_sha256": [sha256_file(p) for p in files], "note": ""})
    for lid, col, title, unit in ((f"school_persistent_absence_20{yy}", "persistent_absence",
                                   f"Persistent absence, {year}", "% of pupils"),
                                  (f"school_overall_absence_20{yy}", "overall_absence", f"Overall absence, {year}",
                                   "% of sessions")):
        _write_layer(bundle, "schools", {
            "id": lid, "title": title, "unit": unit, "polarity": "higher_is_worse", "geography": "urn",
            "file": rel.split("/")[1], "key_column": "urn", "value_column": col, "source": "Department for Education, "
            "Pupil absence in schools in England (school level)", "licence": "Open Government Licence v3.0",
            "vintage": year, "theme": "schools", "valid_min": 0.0, "valid_max": 100.0,
            "description": f"{title}, from DfE's school-level file in the sources folder ({EES_FOLDER})."})

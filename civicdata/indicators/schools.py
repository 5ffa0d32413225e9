"""Every school in England, school by school: each school's absence, attainment and need beside its local
authority's and England's schools of the same kind, and the founding question.

The measures are the bundled school layers (``schools/school_indicators.parquet``, DfE): persistent and
overall absence 2018/19; KS2 reading, writing and maths, Attainment 8 and Progress 8 2022/23; SEN support,
EHC plans, EAL and FSM January 2023; and GIAS's FSM (May 2025).

**Comparison rule** (:data:`COMPARISON_RULE`): a school is compared with schools of its own kind (the DfE
school type of the same year: state-funded primary, state-funded secondary, special …). England's figure
for absence 2018/19 is DfE's published national figure for that type (the file's national rows); for the
other measures it is the mean of England's schools of that type weighted by their pupils (January 2019 or
January 2023 headcount). The local authority's figure is the same mean over its schools of that type. A
trust's figure is the mean of its schools weighted by their pupils.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.bundle import folder, load_bundled
from civicdata.indicators.profile import load_schools

COMPARISON_RULE = ("Each school is compared with schools of its own type in the same year (state-funded primary, "
                   "state-funded secondary, special …). England: DfE's published national figure for absence "
                   "2018/19; for the other measures the mean of England's schools of that type weighted by pupils. "
                   "Local authority: the same mean over its schools of that type. Trust: its schools' mean weighted "
                   "by pupils.")
ABSENCE_NOTE = ("Absence is 2018/19, the newest school-level figure for every school in England here: before COVID. "
                "Persistent absence in England was about twice as high in 2024/25.")


@dataclass(frozen=True)
class Measure:
    """A school layer and how it is compared: the year's type column and pupil weights."""

    id: str
    column: str
    title: str
    unit: str
    vintage: str
    polarity: str
    group: str  # group_2019 | group_2023
    weight: str  # pupils_2019 | pupils_2023 | pupils (GIAS)
    source: str


MEASURES: tuple[Measure, ...] = (
    Measure("school_persistent_absence_2019", "persistent_absence_2019", "Persistent absence", "% of pupils",
            "2018/19", "higher_is_worse", "group_2019", "pupils_2019", "DfE performance tables 2018/19"),
    Measure("school_overall_absence_2019", "overall_absence_2019", "Overall absence", "% of sessions", "2018/19",
            "higher_is_worse", "group_2019", "pupils_2019", "DfE performance tables 2018/19"),
    Measure("school_ks2_rwm_2023", "ks2_rwm_2023", "KS2 reading, writing and maths at the expected standard",
            "% of pupils", "2022/23", "higher_is_better", "group_2023", "pupils_2023", "DfE KS2 2022/23"),
    Measure("school_attainment8_2023", "attainment8_2023", "Attainment 8", "points", "2022/23", "higher_is_better",
            "group_2023", "pupils_2023", "DfE KS4 2022/23"),
    Measure("school_progress8_2023", "progress8_2023", "Progress 8", "score", "2022/23", "higher_is_better",
            "group_2023", "pupils_2023", "DfE KS4 2022/23"),
    Measure("school_sen_support_2023", "sen_support_2023", "SEN support", "% of pupils", "January 2023",
            "higher_is_worse", "group_2023", "pupils_2023", "DfE school census January 2023"),
    Measure("school_ehcp_2023", "ehcp_2023", "EHC plan", "% of pupils", "January 2023", "higher_is_worse",
            "group_2023", "pupils_2023", "DfE school census January 2023"),
    Measure("school_eal_2023", "eal_2023", "English as an additional language", "% of pupils", "January 2023",
            "neutral", "group_2023", "pupils_2023", "DfE school census January 2023"),
    Measure("school_fsm_2023", "fsm_2023", "Known to be eligible for free school meals", "% of pupils",
            "January 2023", "higher_is_worse", "group_2023", "pupils_2023",
            "DfE Schools, pupils and their characteristics 2022/23"),
    Measure("school_fsm_pct", "fsm_pct", "Eligible for free school meals (GIAS)", "% of pupils", "May 2025",
            "higher_is_worse", "group_2023", "pupils", "DfE GIAS May 2025"),
)
BY_ID = {m.id: m for m in MEASURES}


def school_table(data_dir: Path | None = None) -> pd.DataFrame:
    """Every school with a record in any school file: the indicators file joined to GIAS (``pupils``, ``fsm_pct``,
    ``phase``, ``lsoa21_code``, ``imd2025_decile``, ``neighbourhood`` for open schools). Shared (cached): copy
    before changing."""
    d = folder(data_dir)
    files = (d / "schools" / "school_indicators.parquet", d / "schools" / "schools.parquet")
    return _school_table(str(d), tuple(p.stat().st_mtime for p in files))


@lru_cache(maxsize=4)
def _school_table(data_dir: str, mtimes: tuple) -> pd.DataFrame:
    data_dir = Path(data_dir)
    t = load_bundled("schools/school_indicators.parquet", data_dir).copy()
    t["urn"] = t["urn"].astype(int)
    g = load_schools(data_dir)
    keep = ["urn", "phase", "type_group", "pupils", "fsm_pct", "lsoa21_code", "neighbourhood", "imd2025_decile",
            "lat", "lon"]
    g = g[[c for c in keep if c in g.columns]].assign(urn=g["urn"].astype(int))
    t = t.merge(g, on="urn", how="outer", validate="1:1")
    t["fsm_pct__status"] = np.where(t["fsm_pct"].notna(), "ok", "missing")
    return t


def national_absence(data_dir: Path | None = None) -> pd.DataFrame:
    """DfE's published national absence 2018/19 by school type (the absence file's national rows)."""
    return load_bundled("schools/school_absence_national_2019.parquet", data_dir).set_index("group_2019")


def _weighted(frame: pd.DataFrame, column: str, weight: str) -> tuple[float | None, int]:
    """Pupil-weighted mean of ``column`` over rows with a value and a weight, and how many schools it used."""
    ok = frame[column].notna() & frame[weight].notna() & (frame[weight] > 0)
    if not ok.any():
        return None, 0
    v, w = frame.loc[ok, column].astype(float), frame.loc[ok, weight].astype(float)
    return float((v * w).sum() / w.sum()), int(ok.sum())


def england_value(measure: Measure, group: str, data_dir: Path | None = None) -> tuple[float | None, str]:
    """England's figure for schools of ``group`` and how it was made (DfE's published row or a weighted mean)."""
    if measure.group == "group_2019" and measure.column in ("persistent_absence_2019", "overall_absence_2019"):
        nat = national_absence(data_dir)
        if group in nat.index:
            return float(nat.at[group, measure.column]), f"DfE's published national figure ({group}, 2018/19)"
    t = school_table(data_dir)
    v, n = _weighted(t[t[measure.group] == group], measure.column, measure.weight)
    return v, (f"pupil-weighted mean of England's {n:,} {group.lower()} schools with a value" if n else
               f"no {group.lower()} school has a value")


def la_value(measure: Measure, group: str, la_name: str, data_dir: Path | None = None) -> tuple[float | None, int]:
    """The local authority's figure for its schools of ``group`` (pupil-weighted) and how many schools it used."""
    t = school_table(data_dir)
    return _weighted(t[(t[measure.group] == group) & (t["la_name"] == la_name)], measure.column, measure.weight)


def why_missing(status: str, measure: Measure) -> str:
    """The reason a school has no value, in words (status ``missing`` = no record in that file)."""
    if status == "missing":
        return f"no record in the {measure.source} file for this school (not open then, or no pupils at that stage)"
    return status


def _clean(v):
    """A cell as a value or None (NaN, NA and None alike)."""
    return None if v is None or (not isinstance(v, str) and pd.isna(v)) else v


def _one(r: pd.Series, m: Measure, data_dir: Path | None) -> dict:
    """One school's (a row of :func:`school_table`) value of one measure, why it is missing, and its local
    authority's and England's figures for schools of its type: what :func:`compare` and :func:`school_profile`
    both show."""
    group, la, value = _clean(r[m.group]), _clean(r["la_name"]), _clean(r[m.column])
    status = "ok" if value is not None else str(r.get(f"{m.column}__status", "missing"))
    ev, basis = england_value(m, group, data_dir) if group else (None, "")
    lv, n_la = la_value(m, group, la, data_dir) if group and la else (None, 0)
    return {"value": None if value is None else float(value), "status": status,
            "why_missing": None if value is not None else why_missing(status, m), "group": group, "la": la,
            "la_value": lv, "la_schools": n_la, "england": ev, "england_basis": basis}


def compare(measure_id: str, urns: list[int], data_dir: Path | None = None) -> pd.DataFrame:
    """Each school's value of one measure beside its local authority's and England's (same school type).

    Columns ``urn``, ``name``, ``school_type``, ``value``, ``why_missing``, ``la_name``, ``la_value``,
    ``england_value``, ``pupils``. See :data:`COMPARISON_RULE`.
    """
    m = BY_ID[measure_id]
    t = school_table(data_dir).set_index("urn")
    rows = []
    for u in urns:
        if int(u) not in t.index:
            continue
        r = t.loc[int(u)]
        one = _one(r, m, data_dir)
        rows.append({"urn": int(u), "name": r["name"], "school_type": one["group"] or "–", "value": one["value"],
                     "why_missing": one["why_missing"] or "", "la_name": one["la"] or "–",
                     "la_value": one["la_value"], "england_value": one["england"],
                     "pupils": None if pd.isna(r[m.weight]) else float(r[m.weight])})
    return pd.DataFrame(rows, columns=["urn", "name", "school_type", "value", "why_missing", "la_name", "la_value",
                                       "england_value", "pupils"])


def trust_value(table: pd.DataFrame) -> float | None:
    """A trust's figure from :func:`compare`'s table: its schools' values weighted by pupils."""
    return _weighted(table.assign(pupils=table["pupils"].astype(float)), "value", "pupils")[0]


def school_profile(urn: int, data_dir: Path | None = None) -> dict:
    """One school: name, phase, trust, local authority, LSOA 2021 with its IoD2025 IMD decile, and every school
    measure with its vintage (or why it is missing) beside its local authority's and England's.

    Raises ``KeyError`` for a URN no school file knows.
    """
    t = school_table(data_dir).set_index("urn")
    if int(urn) not in t.index:
        raise KeyError(f"no school with URN {urn} in GIAS (May 2025) or the DfE school files")
    r = t.loc[int(urn)]
    def r2(v):
        return None if v is None else round(v, 2)

    measures = []
    for m in MEASURES:
        one = _one(r, m, data_dir)
        measures.append({
            "layer": m.id, "title": m.title, "unit": m.unit, "vintage": m.vintage, "value": r2(one["value"]),
            "status": one["status"], "why_missing": one["why_missing"], "compared_with": one["group"],
            "local_authority": r2(one["la_value"]), "local_authority_schools": one["la_schools"],
            "england": r2(one["england"]), "england_basis": one["england_basis"], "source": m.source})
    return {"urn": int(urn), "name": r["name"], "phase": _clean(r.get("phase")), "school_type_2023": _clean(r["group_2023"]),
            "trust": _clean(r["trust_2023"]), "local_authority": _clean(r["la_name"]),
            "lsoa21_code": _clean(r.get("lsoa21_code")), "neighbourhood": _clean(r.get("neighbourhood")),
            "imd2025_decile": None if _clean(r.get("imd2025_decile")) is None else int(r["imd2025_decile"]),
            "open_in_gias_2025": _clean(r.get("phase")) is not None, "measures": measures,
            "comparison_rule": COMPARISON_RULE, "absence_note": ABSENCE_NOTE}


# ---------------------------------------------------------------------------------------------- the founding question

TOP_SHARE = 0.2
FOUNDING_RULE = ("A school meets the founding question when (1) its persistent absence in 2018/19 is in England's "
                 "highest fifth for its school type, (2) its neighbourhood (LSOA 2021) is in IoD2025 decile 1 or 2, "
                 "and (3) where a journey layer gives its minutes to the nearest clinic or CAMHS site, that journey "
                 "is at least {minutes} minutes; without a journey layer (3) is not judged and is said so.")


def absence_threshold(group: str, data_dir: Path | None = None) -> float | None:
    """The persistent absence 2018/19 (%) at which a school of ``group`` enters England's highest fifth."""
    t = school_table(data_dir)
    v = t.loc[(t["group_2019"] == group) & t["persistent_absence_2019"].notna(), "persistent_absence_2019"]
    return float(np.quantile(v, 1 - TOP_SHARE)) if len(v) else None


def founding_question(urns: list[int], journey: pd.Series | None = None, minutes: float = 45.0,
                      data_dir: Path | None = None) -> pd.DataFrame:
    """The schools among ``urns`` meeting :data:`FOUNDING_RULE`, highest persistent absence first.

    ``journey``: minutes to the nearest clinic by URN (a journey layer), or None. Columns ``urn``, ``name``,
    ``school_type``, ``persistent_absence``, ``threshold``, ``neighbourhood``, ``imd2025_decile``,
    ``journey_minutes``, ``far`` (True, False or None when not judged).
    """
    t = school_table(data_dir)
    t = t[t["urn"].isin([int(u) for u in urns])]
    rows = []
    for group, g in t.groupby("group_2019"):
        cut = absence_threshold(group, data_dir)
        hit = g[(g["persistent_absence_2019"] >= cut) & g["imd2025_decile"].isin([1, 2])]
        for r in hit.itertuples():
            mins = None if journey is None else journey.get(int(r.urn))
            mins = None if mins is None or pd.isna(mins) else float(mins)
            far = None if journey is None else (mins is None or mins >= minutes)
            rows.append({"urn": int(r.urn), "name": r.name, "school_type": group,
                         "persistent_absence": float(r.persistent_absence_2019), "threshold": round(cut, 1),
                         "neighbourhood": r.neighbourhood, "imd2025_decile": int(r.imd2025_decile),
                         "journey_minutes": mins, "far": far})
    out = pd.DataFrame(rows, columns=["urn", "name", "school_type", "persistent_absence", "threshold",
                                      "neighbourhood", "imd2025_decile", "journey_minutes", "far"])
    if journey is not None:
        out = out[out["far"].astype(bool)]
    return out.sort_values(["persistent_absence", "urn"], ascending=[False, True]).reset_index(drop=True)


def absence_in_deprived(lsoa21_codes: set[str], n: int = 10, data_dir: Path | None = None) -> pd.DataFrame:
    """The schools in a place's most deprived neighbourhoods (IoD2025 decile 1 or 2) with the highest persistent
    absence 2018/19: ``urn``, ``name``, ``school_type``, ``persistent_absence``, ``england``, ``neighbourhood``,
    ``imd2025_decile``."""
    t = school_table(data_dir)
    t = t[t["lsoa21_code"].isin(lsoa21_codes) & t["imd2025_decile"].isin([1, 2])
          & t["persistent_absence_2019"].notna()]
    nat = national_absence(data_dir)["persistent_absence_2019"]
    t = t.sort_values(["persistent_absence_2019", "urn"], ascending=[False, True]).head(n)
    return pd.DataFrame({"urn": t["urn"].astype(int), "name": t["name"], "school_type": t["group_2019"],
                         "persistent_absence": t["persistent_absence_2019"],
                         "england": t["group_2019"].map(nat), "neighbourhood": t["neighbourhood"],
                         "imd2025_decile": t["imd2025_decile"].astype(int)}).reset_index(drop=True)


def la_absence_trend(urns: list[int], data_dir: Path | None = None) -> pd.DataFrame:
    """Persistent absence (all pupils, %) from 2018/19 to the latest year for the local authorities of the schools
    ``urns`` and England, one row each: ``Local authority`` then one column per year (DfE via ONS Explore Local
    Statistics; 2019/20 was not published), and ``Note`` when a row joins a predecessor's years.

    A school's authority is its 2024 district when that is a unitary, metropolitan or London borough (a re-formed
    unitary such as North Yorkshire, E06000065, publishes from 2023/24; its predecessor's years, here E10000023,
    fill the earlier columns and the note says so), else the county of the 2023 census (E10…)."""
    from civicdata.geo.geography import load_lookup
    from civicdata.indicators.trends import area_series

    t = school_table(data_dir)
    t = t.loc[t["urn"].isin([int(u) for u in urns]), ["la_code_2023", "la_name", "lsoa21_code"]]
    lad = t["lsoa21_code"].map(load_lookup("lsoa21", data_dir).set_index("lsoa21_code")["lad24_code"])
    t = t.assign(code=lad.where(lad.str[:3].isin(["E06", "E08", "E09"]), t["la_code_2023"]))
    codes = t[["code", "la_name"]].dropna().drop_duplicates("code").sort_values("la_name")
    rows, england = [], None
    since = "2018-08-01"
    for code, la in zip(codes["code"], codes["la_name"]):
        try:
            s = area_series("persistent_absence", code, data_dir)
        except Exception:  # noqa: BLE001 - an LA code the series does not know: left out, not guessed
            continue
        if s.series is not None:
            row: dict = {"Local authority": la}
            joined = []
            for seg in [*s.before, s.series]:
                f = seg.frame[(seg.frame["start"] >= since) & seg.frame["value"].notna()]
                row.update({lab: round(float(v), 1) for lab, v in zip(f["label"], f["value"])})
                if seg is not s.series and len(f):
                    joined.append(f"{f['label'].iloc[0]} to {f['label'].iloc[-1]}: {seg.name} ({seg.code}), the "
                                  f"authority before {s.series.name} ({s.series.code})")
            if joined:
                row["Note"] = "; ".join(joined)
            rows.append(row)
        if england is None and s.england is not None:
            f = s.england.frame
            f = f[f["start"] >= since]
            england = {"Local authority": "England", **{lab: round(float(v), 1) for lab, v in zip(f["label"], f["value"])}}
    if england is not None:
        rows.append(england)
    out = pd.DataFrame(rows)
    years = sorted(c for c in out.columns if "/" in str(c))
    return out.reindex(columns=["Local authority", *years] + (["Note"] if "Note" in out.columns else []))

"""The bundle's Primary Care Networks (NHS ODS ePCN, c. Q4 2024): PCNs with their sub-ICB location and ICB,
and the current practice → PCN memberships.

``lookups/pcn.parquet``: ``pcn_code`` (ODS, U…), ``pcn_name`` (as published), ``pcn_title`` (the same in
title case for display), ``sicb_ods_code`` (3 characters, e.g. ``02A``; 5 for the sub-ICB locations merged in 2024, e.g. ``W2U3Z``), ``sicbl24_code``/``sicbl24_name``
and ``icb24_code``/``icb24_name`` (ONS 2024 codes, matched on the sub-ICB's ODS code in ONS's name; null
where ONS's 2024 list has no such sub-ICB), ``opened_on``, ``closed_on`` (ISO dates; null while open).

``lookups/pcn_practices.parquet``: one row per practice in a PCN today (relationship with no end date):
``ods_code``, ``practice_name``, ``pcn_code``, ``member_since`` (ISO date), the practice's own sub-ICB
(``practice_sicb_ods_code`` and its ONS ``practice_sicbl24_code``), ``same_sub_icb`` (False where the
practice belongs to a PCN of another sub-ICB: both are kept), and where the practice is: ``lat``/``lon``
(its mid-2025 ODS location; null when it has none) and ``lsoa21_code`` (the national boundary holding it).

A PCN has no boundary: its practices' registered patients live wherever they live. Nothing here draws one.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from civicdata import settings
from civicdata.errors import Problem
from civicdata.readers import check_unique, read_text_table, require_columns

if TYPE_CHECKING:
    from pathlib import Path

    from civicdata.build.io import Bundle

PCN_CODE_RE = r"^U\d{5}$"
ODS_PRACTICE_RE = r"^[A-Z]\d{5}$"
SICB_RE = r"^[0-9A-Z]{3}([0-9A-Z]{2})?$"  # 3 characters; 5 for sub-ICBs merged in 2024 (W2U3Z)
SMALL_WORDS = {"and", "of", "the", "for", "in", "on", "at", "by", "with", "to"}
KEEP_UPPER = {"PCN", "NHS", "GP", "ICB", "UK", "CIC", "LLP", "PMS", "GPS", "NE", "NW", "SE", "SW", "II", "III"}


def title_case(name: str) -> str:
    """ODS's upper-case names as people write them: "SOUTH TRAFFORD PCN" → "South Trafford PCN"."""
    words = re.split(r"(\s+|-|/|\()", name.strip())
    out = []
    for i, w in enumerate(words):
        if not w or not w.strip() or w in "-/(":
            out.append(w)
        elif w.upper() in KEEP_UPPER or any(c.isdigit() for c in w):  # acronyms and codes (16C) stay
            out.append(w.upper())
        elif i > 0 and w.lower() in SMALL_WORDS:
            out.append(w.lower())
        else:
            out.append(w[:1].upper() + w[1:].lower())
    return "".join(out)


def _iso(frame: pd.DataFrame, column: str, label: str, problems: list[Problem]) -> pd.Series:
    raw = frame[column].str.strip()
    bad = (raw != "") & ~raw.str.fullmatch(r"\d{8}")
    for i in frame.index[bad][:5]:
        problems.append(Problem(label, f"'{raw[i]}' is not a date (YYYYMMDD)", row=int(i) + 2, column=column))
    out = pd.to_datetime(raw.where(raw != ""), format="%Y%m%d", errors="coerce").dt.strftime("%Y-%m-%d")
    return out.where(raw != "")


def _check(frame: pd.DataFrame, column: str, pattern: str, what: str, label: str, problems: list[Problem]) -> None:
    bad = ~frame[column].str.fullmatch(pattern)
    for i in frame.index[bad][:5]:
        problems.append(Problem(label, f"'{frame.at[i, column]}' is not {what}", row=int(i) + 2, column=column))


def build_pcn(sources: Path, bundle: Bundle) -> None:
    """PCNs and current memberships from ePCN, with ONS 2024 sub-ICB and ICB codes (see module docstring)."""
    from civicdata.build.io import _raise, _src, _write

    problems: list[Problem] = []
    ppath, plabel = _src(sources, "epcn_pcns")
    mpath, mlabel = _src(sources, "epcn_members")
    pcns = read_text_table(ppath, label=plabel, problems=problems)
    mem = read_text_table(mpath, label=mlabel, problems=problems)
    pcols = ["PCN Code", "PCN Name", "Current Sub ICB Loc Code", "Sub ICB Location", "Open Date", "Close Date"]
    mcols = ["Partner Organisation Code", "Partner Name", "Practice Parent Sub ICB Loc Code", "PCN Code",
             "PCN Parent Sub ICB Loc Code", "Practice to PCN Relationship Start Date",
             "Practice to PCN Relationship End Date"]
    if pcns is not None:
        require_columns(pcns, pcols, label=plabel, problems=problems)
    if mem is not None:
        require_columns(mem, mcols, label=mlabel, problems=problems)
    _raise(problems, "Primary Care Networks")
    _check(pcns, "PCN Code", PCN_CODE_RE, "a PCN code (U and five digits)", plabel, problems)
    _check(pcns, "Current Sub ICB Loc Code", SICB_RE, "a sub-ICB location code", plabel, problems)
    check_unique(pcns, "PCN Code", label=plabel, problems=problems)
    opened, closed = _iso(pcns, "Open Date", plabel, problems), _iso(pcns, "Close Date", plabel, problems)
    current = mem[mem["Practice to PCN Relationship End Date"].str.strip() == ""].copy()
    _check(current, "Partner Organisation Code", ODS_PRACTICE_RE, "a GP practice code", mlabel, problems)
    _check(current, "Practice Parent Sub ICB Loc Code", SICB_RE, "a sub-ICB location code", mlabel, problems)
    check_unique(current, "Partner Organisation Code", label=mlabel, problems=problems)
    unknown = ~current["PCN Code"].isin(pcns["PCN Code"])
    for i in current.index[unknown][:5]:
        problems.append(Problem(mlabel, f"PCN '{current.at[i, 'PCN Code']}' is not in {plabel}", row=int(i) + 2,
                                column="PCN Code"))
    since = _iso(current, "Practice to PCN Relationship Start Date", mlabel, problems)
    _raise(problems, "Primary Care Networks")

    # ONS 2024 sub-ICB locations carry their ODS code at the end of their name ("NHS Greater Manchester ICB - 02A")
    lk = pd.read_parquet(bundle.out / "lookups" / "lsoa21.parquet",
                         columns=["sicbl24_code", "sicbl24_name", "icb24_code", "icb24_name"]).drop_duplicates()
    lk["sicb_ods_code"] = lk["sicbl24_name"].str.extract(r"-\s*([0-9A-Z]{3,5})\s*$", expand=False)
    ons = lk.dropna(subset=["sicb_ods_code"]).drop_duplicates("sicb_ods_code").set_index("sicb_ods_code")
    out = pd.DataFrame({
        "pcn_code": pcns["PCN Code"], "pcn_name": pcns["PCN Name"].str.strip(),
        "pcn_title": pcns["PCN Name"].map(title_case), "sicb_ods_code": pcns["Current Sub ICB Loc Code"],
        "opened_on": opened, "closed_on": closed})
    for col in ("sicbl24_code", "sicbl24_name", "icb24_code", "icb24_name"):
        out[col] = out["sicb_ods_code"].map(ons[col])
    out = out.sort_values("pcn_code").reset_index(drop=True)
    members = pd.DataFrame({
        "ods_code": current["Partner Organisation Code"], "practice_name": current["Partner Name"].str.strip(),
        "pcn_code": current["PCN Code"], "member_since": since,
        "practice_sicb_ods_code": current["Practice Parent Sub ICB Loc Code"],
        "pcn_sicb_ods_code": current["PCN Parent Sub ICB Loc Code"]})
    members["practice_sicbl24_code"] = members["practice_sicb_ods_code"].map(ons["sicbl24_code"])
    members["same_sub_icb"] = members["practice_sicb_ods_code"] == members["pcn_sicb_ods_code"]
    members = members.drop(columns="pcn_sicb_ods_code").sort_values("ods_code").reset_index(drop=True)
    gp = pd.read_parquet(bundle.out / "services" / "gp_practices2025.parquet", columns=["ods_code", "lat", "lon"])
    members = members.merge(gp.drop_duplicates("ods_code"), on="ods_code", how="left")
    located = members["lat"].notna()
    pts = gpd.GeoDataFrame(members.loc[located, ["ods_code"]], crs=settings.WGS84,
                           geometry=gpd.points_from_xy(members.loc[located, "lon"], members.loc[located, "lat"]))
    b21 = gpd.read_parquet(bundle.out / "geography" / "districts" / "lsoa21.parquet", columns=["lsoa21_code", "geometry"])
    hit = gpd.sjoin(pts, b21, predicate="within", how="left")
    members["lsoa21_code"] = hit.loc[~hit.index.duplicated(), "lsoa21_code"].reindex(members.index)

    open_pcns = int(out["closed_on"].isna().sum())
    no_ons = int(out.loc[out["closed_on"].isna(), "sicbl24_code"].isna().sum())
    cross = int((~members["same_sub_icb"]).sum())
    _write(out, bundle.out / "lookups" / "pcn.parquet")
    _write(members, bundle.out / "lookups" / "pcn_practices.parquet")
    bundle.record("pcn", ["lookups/pcn.parquet"], ["epcn_pcns"], len(out),
                  "PCN (ODS code); sub-ICB location and ICB (ONS 2024 codes)",
                  "Primary Care Networks with their sub-ICB location and ICB",
                  note=(f"{len(out):,} PCNs, {open_pcns:,} open; ONS 2024 codes matched on the sub-ICB's ODS code "
                        f"in ONS's name ({no_ons} open PCNs unmatched). A PCN has no boundary."))
    bundle.record("pcn_practices", ["lookups/pcn_practices.parquet"], ["epcn_members", "gp_practices2025"], len(members),
                  "GP practice (ODS code); PCN (ODS code)",
                  "GP practices in each Primary Care Network today",
                  note=(f"{len(members):,} current memberships (no end date), one per practice; {cross} practices "
                        f"belong to a PCN of another sub-ICB location (both kept); {int((~located).sum())} have no "
                        f"mid-2025 ODS location (unplaced); LSOA 2021 = the ONS generalised (BGC) boundary "
                        f"holding the location"))


__all__ = ["build_pcn", "title_case"]

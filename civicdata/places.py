"""The places partners work in beyond council boundaries: Primary Care Networks (custom areas to follow).

A PCN (NHS ODS ePCN, c. Q4 2024) is its member practices: where they are (mid-2025 ODS locations, their
LSOA 2021), their QOF 2022-23 registers and list sizes, its sub-ICB location and ICB (ONS 2024 codes).
A PCN has no boundary: its practices' patients live wherever they live, so nothing here draws or implies
one. QOF figures for a PCN are weighted by list size: the sum of its practices' registers over the sum of
the lists QOF uses for each register (practices that joined QOF after 2022-23 have none and are counted
as such). Vintages differ (memberships c. Q4 2024, QOF 2022-23, locations mid-2025) and are stated.
"""

from __future__ import annotations

import difflib
from pathlib import Path

import pandas as pd

from civicdata.bundle import load_bundled
from civicdata.errors import UnknownAreaError

#: QOF registers bundled by practice (id part -> title); the list each register uses is in the build
QOF_KEYS = {"asthma": "Asthma (patients aged 6 and over)", "depression": "Depression (aged 18 and over)",
            "smi": "Serious mental illness (all ages)", "obesity": "Obesity (aged 18 and over)"}
VINTAGES = {"membership": "NHS ODS ePCN, c. Q4 2024", "qof": "QOF 2022-23", "locations": "NHS ODS, mid-2025",
            "sub_icb": "ONS sub-ICB locations and ICBs, 2024"}
NO_BOUNDARY = ("A PCN has no boundary: its practices' registered patients live wherever they live. The map shows "
               "its practices and the neighbourhoods (LSOA 2021) they stand in, not an area the PCN covers.")


class UnknownPCNError(UnknownAreaError):
    """No PCN (or practice in a PCN) has this code."""


def pcns(data_dir: Path | None = None) -> pd.DataFrame:
    """Every PCN (open and closed): ``pcn_code``, ``pcn_name``, ``pcn_title``, sub-ICB and ICB codes."""
    return load_bundled("lookups/pcn.parquet", data_dir)


def memberships(data_dir: Path | None = None) -> pd.DataFrame:
    """Current practice -> PCN rows (one per practice), with each practice's location and LSOA 2021."""
    return load_bundled("lookups/pcn_practices.parquet", data_dir)


def _qof(data_dir: Path | None) -> pd.DataFrame:
    return load_bundled("indicators/qof2023_practices.parquet", data_dir).set_index("practice_code")


def _pcn_row(code: str, data_dir: Path | None) -> pd.Series:
    table = pcns(data_dir)
    hit = table[table["pcn_code"] == code.strip().upper()]
    if hit.empty:
        names = dict(zip(table["pcn_title"].str.lower(), table["pcn_code"]))
        close = difflib.get_close_matches(code.strip().lower(), list(names), n=3, cutoff=0.6)
        hint = ("; did you mean " + ", ".join(f"{names[c]} ({c.title()})" for c in close) + "?") if close else ""
        raise UnknownPCNError(f"no PCN with code '{code}' in {VINTAGES['membership']} (codes are U and five "
                              f"digits){hint}")
    return hit.iloc[0]


def _code(value) -> str | None:
    return None if pd.isna(value) else str(value)


def _sub_icb(ods: str, ons_code, name) -> dict:
    return {"ods_code": ods, "code": _code(ons_code), "name": _code(name)}


def pcn_practices(code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """A PCN's current member practices: ODS code, name, location, LSOA 2021, sub-ICB, list size (QOF
    2022-23, all ages; null if the practice was not in QOF) and each QOF register's prevalence (%)."""
    row = _pcn_row(code, data_dir)
    m = memberships(data_dir)
    m = m[m["pcn_code"] == row["pcn_code"]].copy()
    q = _qof(data_dir)
    m["list_size"] = m["ods_code"].map(q["smi_list"])
    for key in QOF_KEYS:
        m[f"{key}_register"] = m["ods_code"].map(q[f"{key}_register"])
        m[f"{key}_list"] = m["ods_code"].map(q[f"{key}_list"])
        m[f"{key}_pct"] = m["ods_code"].map(q[f"{key}_pct"])
    return m.sort_values("practice_name").reset_index(drop=True)


def qof_for(practices: pd.DataFrame) -> dict:
    """List-size weighted QOF prevalence of a set of practices (a frame from :func:`pcn_practices`):
    per register ``{"title", "register", "list", "pct", "practices"}`` — pct = 100 × Σ register / Σ list over
    the practices with QOF data; ``practices`` counts them."""
    out = {}
    for key, title in QOF_KEYS.items():
        have = practices[practices[f"{key}_list"].notna() & (practices[f"{key}_list"] > 0)]
        reg, lst = float(have[f"{key}_register"].sum()), float(have[f"{key}_list"].sum())
        out[key] = {"title": title, "register": int(reg), "list": int(lst),
                    "pct": round(100 * reg / lst, 2) if lst else None, "practices": int(len(have))}
    return out


def pcn_profile(code: str, data_dir: Path | None = None) -> dict:
    """A PCN as a place (the ``pcn --json`` shape): ``{"code", "name", "ons_name", "sub_icb": {"ods_code",
    "code", "name"}, "icb": {"code", "name"}, "opened_on", "closed_on", "practices": [{"ods_code", "name",
    "list_size", "lat", "lon", "lsoa21_code", "member_since", "sub_icb", "same_sub_icb", "qof": {key: pct}}],
    "qof": {...}, "list_size", "neighbourhoods": [LSOA 2021 codes], "practices_without_location",
    "vintages", "note"}``."""
    row = _pcn_row(code, data_dir)
    prac = pcn_practices(row["pcn_code"], data_dir)
    sub_icbs = pcns(data_dir).drop_duplicates("sicb_ods_code").set_index("sicb_ods_code")
    practices = []
    for r in prac.itertuples():
        own = sub_icbs.loc[r.practice_sicb_ods_code] if r.practice_sicb_ods_code in sub_icbs.index else None
        practices.append({
            "ods_code": r.ods_code, "name": r.practice_name,
            "list_size": None if pd.isna(r.list_size) else int(r.list_size),
            "lat": None if pd.isna(r.lat) else round(float(r.lat), 6),
            "lon": None if pd.isna(r.lon) else round(float(r.lon), 6),
            "lsoa21_code": _code(r.lsoa21_code), "member_since": _code(r.member_since),
            "sub_icb": _sub_icb(r.practice_sicb_ods_code, r.practice_sicbl24_code,
                                None if own is None else own["sicbl24_name"]),
            "same_sub_icb": bool(r.same_sub_icb),
            "qof": {k: (None if pd.isna(getattr(r, f"{k}_pct")) else round(float(getattr(r, f"{k}_pct")), 2))
                    for k in QOF_KEYS}})
    lists = prac["list_size"].dropna()
    return {
        "code": row["pcn_code"], "name": row["pcn_title"], "ons_name": row["pcn_name"],
        "sub_icb": _sub_icb(row["sicb_ods_code"], row["sicbl24_code"], row["sicbl24_name"]),
        "icb": {"code": _code(row["icb24_code"]), "name": _code(row["icb24_name"])},
        "opened_on": _code(row["opened_on"]), "closed_on": _code(row["closed_on"]),
        "practices": practices, "qof": qof_for(prac),
        "list_size": int(lists.sum()) if len(lists) else None,
        "neighbourhoods": sorted(prac["lsoa21_code"].dropna().unique().tolist()),
        "practices_without_location": int(prac["lat"].isna().sum()),
        "vintages": VINTAGES, "note": NO_BOUNDARY,
    }


def practice_pcn(ods_code: str, data_dir: Path | None = None) -> dict:
    """The PCN a practice belongs to today: ``{"ods_code", "name", "pcn": {"code", "name"}, "sub_icb": the
    practice's own, "pcn_sub_icb": the PCN's, "same_sub_icb", "member_since"}``."""
    ods = ods_code.strip().upper()
    m = memberships(data_dir)
    hit = m[m["ods_code"] == ods]
    if hit.empty:
        raise UnknownPCNError(f"practice '{ods_code}' is in no PCN in {VINTAGES['membership']} (a current GP "
                              "practice's ODS code is a letter and five digits, e.g. P91004)")
    r = hit.iloc[0]
    row = _pcn_row(r["pcn_code"], data_dir)
    sub_icbs = pcns(data_dir).drop_duplicates("sicb_ods_code").set_index("sicb_ods_code")
    own_name = sub_icbs.at[r["practice_sicb_ods_code"], "sicbl24_name"] if r["practice_sicb_ods_code"] in sub_icbs.index else None
    return {"ods_code": ods, "name": r["practice_name"], "pcn": {"code": row["pcn_code"], "name": row["pcn_title"]},
            "sub_icb": _sub_icb(r["practice_sicb_ods_code"], r["practice_sicbl24_code"], own_name),
            "pcn_sub_icb": _sub_icb(row["sicb_ods_code"], row["sicbl24_code"], row["sicbl24_name"]),
            "same_sub_icb": bool(r["same_sub_icb"]), "member_since": _code(r["member_since"])}


def pcn_of(ods_codes: pd.Series, data_dir: Path | None = None) -> pd.Series:
    """Each practice's PCN today, for hovers and tables: "South Trafford PCN (U42898)", or "not in a PCN"
    for a code ePCN (c. Q4 2024) has no current membership for; same index as ``ods_codes``."""
    m = memberships(data_dir).set_index("ods_code")["pcn_code"]
    names = pcns(data_dir).set_index("pcn_code")["pcn_title"]
    code = ods_codes.astype(str).str.upper().map(m)
    return (code.map(names) + " (" + code + ")").fillna("not in a PCN")


def pcns_in(lad_code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """The open PCNs with at least one member practice standing in a local authority (LAD 2024): ``pcn_code``,
    ``pcn_title``, ``practices`` (members there), ``sicb_ods_code``."""
    from civicdata.geography import load_lookup

    lsoas = set(load_lookup("lsoa21", data_dir).query("lad24_code == @lad_code")["lsoa21_code"])
    m = memberships(data_dir)
    here = m[m["lsoa21_code"].isin(lsoas)].groupby("pcn_code").size().rename("practices").reset_index()
    out = here.merge(pcns(data_dir), on="pcn_code")
    out = out[out["closed_on"].isna()]
    return out[["pcn_code", "pcn_title", "practices", "sicb_ods_code"]].sort_values("pcn_title").reset_index(drop=True)


__all__ = ["UnknownPCNError", "QOF_KEYS", "VINTAGES", "NO_BOUNDARY", "pcns", "memberships", "pcn_practices",
           "qof_for", "pcn_profile", "practice_pcn", "pcn_of", "pcns_in"]

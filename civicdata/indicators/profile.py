"""Area profile of a local authority district against England.

IoD vintages are never mixed: ``iod="2025"`` uses IoD2025 on LSOA 2021, ``iod="2019"``
IoD2019 on LSOA 2011. Life expectancy is ONS 2016-2020 on MSOA 2011. Schools are GIAS
(May 2025) with the IoD2025 decile of their LSOA 2021 (GIAS records 2021 LSOA codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from civicdata import settings
from civicdata.indicators.families import DOMAINS
from civicdata.geo.geography import areas_within, resolve_lad
from civicdata.geo.places import areas_in_place
from civicdata.geo.names import names_for

DOMAIN_TITLES = {key: title for key, _, _, title in DOMAINS}


def _data(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir else settings.data_dir()


def load_iod(iod: str, data_dir: Path | None = None) -> pd.DataFrame:
    """IoD table for ``"2019"`` (key ``lsoa11_code``) or ``"2025"`` (key ``lsoa21_code``)."""
    if iod not in ("2019", "2025"):
        raise ValueError("iod must be '2019' or '2025'")
    name = "iod2019_lsoa11" if iod == "2019" else "iod2025_lsoa21"
    return pd.read_parquet(_data(data_dir) / "indicators" / f"{name}.parquet")


def compute_decile_shares(lad_code: str, iod: str = "2025", data_dir: Path | None = None) -> pd.DataFrame:
    """Share (%) of the district's LSOAs (or all of GM's, for ``E47000001``) in each national decile,
    IMD and each domain.

    Index: decile 1..10 (1 = most deprived 10% of England). Columns: one per domain key
    (``imd``, ``income`` …) plus ``count_imd`` (number of LSOAs in each IMD decile) and
    ``england`` (the 10% reference).
    """
    level = "lsoa11" if iod == "2019" else "lsoa21"
    codes = set(areas_in_place(lad_code, level, data_dir)["code"])
    t = load_iod(iod, data_dir)
    t = t[t[f"{level}_code"].isin(codes)]
    out = pd.DataFrame(index=pd.RangeIndex(1, 11, name="decile"))
    for key in DOMAIN_TITLES:
        counts = t[f"{key}{iod}_decile"].value_counts().reindex(out.index, fill_value=0)
        out[key] = (100 * counts / len(t)).round(1) if len(t) else 0.0
        if key == "imd":
            out["count_imd"] = counts.astype(int)
    out["england"] = 10.0
    return out


def compute_life_expectancy_range(lad_code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Lowest and highest MSOA (2011) life expectancy in the district, by sex, with the gap.

    Rows ``male``/``female``; columns ``lowest_msoa``, ``lowest_name``, ``lowest``,
    ``highest_msoa``, ``highest_name``, ``highest``, ``gap_years``, ``msoas_with_estimate``, ``msoas``.
    MSOAs with no published estimate are left out (and counted).
    """
    msoas = set(areas_within(lad_code, "msoa11", data_dir)["code"])
    le = pd.read_parquet(_data(data_dir) / "indicators" / "life_expectancy_msoa11.parquet")
    le = le[le["msoa11_code"].isin(msoas)]
    readable = names_for("msoa11", data_dir)["name"]
    rows = {}
    for sex in ("male", "female"):
        s = le.dropna(subset=[f"le_{sex}"])
        if s.empty:
            rows[sex] = {"msoas_with_estimate": 0, "msoas": len(msoas)}
            continue
        lo = s.loc[s[f"le_{sex}"].idxmin()]
        hi = s.loc[s[f"le_{sex}"].idxmax()]
        rows[sex] = {"lowest_msoa": lo["msoa11_code"], "lowest_name": readable.get(lo["msoa11_code"], lo["msoa11_name"]),
                     "lowest": lo[f"le_{sex}"], "highest_msoa": hi["msoa11_code"],
                     "highest_name": readable.get(hi["msoa11_code"], hi["msoa11_name"]),
                     "highest": hi[f"le_{sex}"], "gap_years": hi[f"le_{sex}"] - lo[f"le_{sex}"],
                     "msoas_with_estimate": len(s), "msoas": len(msoas)}
    return pd.DataFrame.from_dict(rows, orient="index")


def compute_most_deprived(lad_code: str, iod: str = "2025", n: int = 10, data_dir: Path | None = None) -> pd.DataFrame:
    """The district's ``n`` most deprived LSOAs by national IMD rank (1 = most deprived).

    Columns: ``code``, ``name`` (readable: "Partington (Trafford 017E)"), ``ons_name``, ``imd_rank``,
    ``imd_decile``, and each domain's decile.
    """
    level = "lsoa11" if iod == "2019" else "lsoa21"
    areas = areas_within(lad_code, level, data_dir)
    t = load_iod(iod, data_dir).rename(columns={f"{level}_code": "code"})
    t = areas.merge(t, on="code", how="inner").sort_values(f"imd{iod}_rank").head(n)
    cols = {"code": "code", "name": "name", "ons_name": "ons_name", f"imd{iod}_rank": "imd_rank",
            f"imd{iod}_decile": "imd_decile"}
    cols.update({f"{k}{iod}_decile": f"{k}_decile" for k in DOMAIN_TITLES if k != "imd"})
    return t[list(cols)].rename(columns=cols).reset_index(drop=True)


QOF_LAYERS = ("qof2023_asthma_pct", "qof2023_depression_pct", "qof2023_smi_pct", "qof2023_obesity_pct")


def compute_qof_icb(lad_code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """QOF 2022-23 prevalence in the district's main ICB (ONS LAD 2024 lookup) against England.

    One row per register: ``register`` (asthma …), ``list_words`` ("patients aged 6 and over"),
    ``icb_code``, ``icb_name``, ``icb_pct`` and ``england_pct`` (register ÷ list × 100 summed over
    the ICB's or England's practices, by QOF's own practice-to-ICB lookup). Empty when the ICB is
    not in QOF 2022-23.
    """
    from civicdata.indicators.families import QOF_REGISTERS
    from civicdata.geo.geography import load_lookup

    q = pd.read_parquet(_data(data_dir) / "indicators" / "qof2023_practices.parquet")
    icb = load_lookup("lad24", data_dir).set_index("lad24_code")["main_icb24_code"].get(lad_code)
    mine = q[q["icb_code"] == icb]
    if mine.empty:
        return pd.DataFrame(columns=["register", "list_words", "icb_code", "icb_name", "icb_pct", "england_pct"])
    rows = []
    for key, (_, _, _, words) in QOF_REGISTERS.items():
        rows.append({"register": key, "list_words": words, "icb_code": icb, "icb_name": mine["icb_name"].iloc[0],
                     "icb_pct": 100 * mine[f"{key}_register"].sum() / mine[f"{key}_list"].sum(),
                     "england_pct": 100 * q[f"{key}_register"].sum() / q[f"{key}_list"].sum()})
    return pd.DataFrame(rows)


def load_schools(data_dir: Path | None = None) -> pd.DataFrame:
    """GIAS schools (England) with the IoD2025 IMD decile and rank of their LSOA 2021, and
    ``neighbourhood``: the readable name of that LSOA ("Partington (Trafford 017E)")."""
    s = pd.read_parquet(_data(data_dir) / "schools" / "schools.parquet")
    iod = load_iod("2025", data_dir)[["lsoa21_code", "imd2025_decile", "imd2025_rank"]]
    s = s.merge(iod, on="lsoa21_code", how="left")
    s["neighbourhood"] = s["lsoa21_code"].map(names_for("lsoa21", data_dir)["name"])
    return s


def schools_in_lad(lad_code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Schools whose LSOA 2021 lies in the district (GIAS LSOA; schools with none are left out)."""
    codes = set(areas_within(lad_code, "lsoa21", data_dir)["code"])
    s = load_schools(data_dir)
    return s[s["lsoa21_code"].isin(codes)].reset_index(drop=True)


def compute_schools_most_deprived(lad_code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Schools in the district whose LSOA 2021 is in IoD2025 decile 1, most deprived first."""
    s = schools_in_lad(lad_code, data_dir)
    s = s[s["imd2025_decile"] == 1].sort_values(["imd2025_rank", "urn"])
    return s[["urn", "name", "phase", "type_group", "pupils", "fsm_pct", "neighbourhood", "lsoa21_code",
              "imd2025_rank"]].reset_index(drop=True)


@dataclass(frozen=True)
class Headline:
    """The one message for a place: '<place>: N neighbourhoods are among England's 10% most deprived'."""

    lad_name: str
    lsoas: int
    decile1: int
    iod: str

    @property
    def text(self) -> str:
        noun = "neighbourhood is" if self.decile1 == 1 else "neighbourhoods are"
        return (f"In {self.lad_name}, {self.decile1} of {self.lsoas} {noun} among England's 10% most deprived "
                f"(IoD{self.iod}).")


def compute_headline(lad_code: str, iod: str = "2025", data_dir: Path | None = None) -> Headline:
    area = resolve_lad(lad_code, data_dir)
    shares = compute_decile_shares(lad_code, iod, data_dir)
    return Headline(area.name, int(shares["count_imd"].sum()), int(shares.loc[1, "count_imd"]), iod)


def search_schools(text: str, limit: int = 10, data_dir: Path | None = None) -> pd.DataFrame:
    """Schools whose URN equals ``text`` or whose name contains it (case-insensitive)."""
    q = text.strip()
    if not q:
        return load_schools(data_dir).head(0)
    s = load_schools(data_dir)
    if q.isdigit():
        return s[s["urn"] == int(q)].reset_index(drop=True)
    hit = s[s["name"].str.contains(q, case=False, regex=False)]
    return hit.sort_values("name").head(limit).reset_index(drop=True)


def school_details(urn: int, data_dir: Path | None = None) -> dict:
    """URN, name, phase, pupils, % FSM, LSOA 2021 (and its readable ``neighbourhood``) and its IoD2025
    IMD decile, LAD 2024."""
    s = load_schools(data_dir)
    row = s[s["urn"] == int(urn)]
    if row.empty:
        raise KeyError(f"no open school with URN {urn}")
    r = row.iloc[0]
    from civicdata.geo.geography import load_lookup

    lad = load_lookup("lsoa21", data_dir).set_index("lsoa21_code")["lad24_code"].get(r["lsoa21_code"])
    return {"urn": int(r["urn"]), "name": r["name"], "phase": r["phase"], "type_group": r["type_group"],
            "pupils": None if pd.isna(r["pupils"]) else int(r["pupils"]),
            "fsm_pct": None if pd.isna(r["fsm_pct"]) else float(r["fsm_pct"]),
            "lsoa21_code": None if pd.isna(r["lsoa21_code"]) else r["lsoa21_code"],
            "neighbourhood": None if pd.isna(r["neighbourhood"]) else r["neighbourhood"],
            "imd2025_decile": None if pd.isna(r["imd2025_decile"]) else int(r["imd2025_decile"]),
            "lad24_code": lad, "lat": float(r["lat"]), "lon": float(r["lon"])}


def points_in_bounds(frame: pd.DataFrame, bounds, margin_deg: float = 0.01) -> pd.DataFrame:
    """Rows of a point frame (``lat``/``lon``) inside ``(minx, miny, maxx, maxy)`` plus a margin."""
    minx, miny, maxx, maxy = bounds
    m = (frame["lon"].between(minx - margin_deg, maxx + margin_deg)
         & frame["lat"].between(miny - margin_deg, maxy + margin_deg))
    return frame[m].reset_index(drop=True)

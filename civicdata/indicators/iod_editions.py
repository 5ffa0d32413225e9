"""The Indices of Deprivation over three editions (2015, 2019, 2025) for one local authority.

* District summaries: rank of average IMD score (1 = most deprived) and the share of LSOAs in England's
  most deprived 10%, in 2015 and 2019 on LAD 2019 codes (317 districts) and 2025 on LAD 2024 codes (296).
  An authority formed after 2019 (e.g. Cumberland) has no 2015 or 2019 summary of its own: its
  predecessor districts' are given, each named.
* LSOA deciles 2015 -> 2019: the same LSOA 2011 geography, every LSOA.
* LSOA deciles 2019 -> 2025: LSOA 2011 -> 2021 through ONS's lookup, only where the LSOA is unchanged
  (change code ``U``); split, merged and redrawn LSOAs are left out and counted.

Ranks and deciles are relative within each edition: :data:`IOD_WARNING` goes wherever they are compared.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from civicdata.geo.geography import load_bundled, load_lookup

IOD_WARNING = ("MHCLG: the Indices of Deprivation measure relative deprivation within each edition. A change of "
               "rank or decile means an area moved relative to others, not that it became more or less deprived in "
               "absolute terms; compare ranks and deciles, never scores. IoD2015 and IoD2019 share the LSOA 2011 "
               "geography; IoD2025 uses LSOA 2021, different indicators and updated methods, so MHCLG says its ranks "
               "are not directly comparable with IoD2019.")


def lad_editions(lad24_code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """The district's IMD summary in each edition: ``edition, lad_code, lad_code_vintage, lad_name,
    rank_average_score, districts, pct_lsoas_decile1, note``. Several rows for one edition when the
    authority was formed from several 2019 districts (each its own row, never combined)."""
    e = load_bundled("trends/iod_lad_editions.parquet", data_dir)
    e = e[e["domain"] == "imd"]
    rows = []
    for edition in (2015, 2019, 2025):
        ed = e[e["edition"] == edition]
        own = ed[ed["lad_code"] == lad24_code]
        if len(own):
            rows.append(own.assign(note=""))
            continue
        if edition == 2025:
            continue
        lsoa = load_lookup("lsoa11", data_dir)
        pred = sorted(set(lsoa.loc[lsoa["lad24_code"] == lad24_code, "lad19_code"]))
        part = ed[ed["lad_code"].isin(pred)]
        if len(part):
            rows.append(part.assign(note="a predecessor district (the authority was formed after 2019)"))
    if not rows:
        return pd.DataFrame(columns=["edition", "lad_code", "lad_code_vintage", "lad_name", "rank_average_score",
                                     "districts", "pct_lsoas_decile1", "note"])
    out = pd.concat(rows, ignore_index=True)
    out["pct_lsoas_decile1"] = out["proportion_bottom_decile"] * 100
    return out[["edition", "lad_code", "lad_code_vintage", "lad_name", "rank_average_score", "districts",
                "pct_lsoas_decile1", "note"]]


def decile_changes(lad24_code: str, data_dir: Path | None = None) -> dict[str, object]:
    """LSOA IMD deciles between editions for the district's LSOAs:

    ``{"2015_2019": crosstab, "2019_2025": crosstab, "lsoas_2015_2019": n, "lsoas_2019_2025": n,
    "left_out_2019_2025": n}``; each crosstab counts LSOAs by earlier decile (rows) and later decile
    (columns), 1 = most deprived 10%.
    """
    lsoa = load_lookup("lsoa11", data_dir)
    codes = lsoa.loc[lsoa["lad24_code"] == lad24_code, "lsoa11_code"]
    d15 = load_bundled("trends/iod2015_lsoa11.parquet", data_dir, ("lsoa11_code", "imd2015_decile"))
    d19 = load_bundled("indicators/iod2019_lsoa11.parquet", data_dir, ("lsoa11_code", "imd2019_decile"))
    d25 = load_bundled("indicators/iod2025_lsoa21.parquet", data_dir, ("lsoa21_code", "imd2025_decile"))
    a = d15[d15["lsoa11_code"].isin(codes)].merge(d19, on="lsoa11_code")
    x1 = pd.crosstab(a["imd2015_decile"].astype(int), a["imd2019_decile"].astype(int))
    look = load_lookup("lsoa11_lsoa21", data_dir)
    look = look[look["lsoa11_code"].isin(codes)]
    unchanged = look[look["change_code"] == "U"]
    b = (unchanged.merge(d19, on="lsoa11_code").merge(d25, on="lsoa21_code"))
    x2 = pd.crosstab(b["imd2019_decile"].astype(int), b["imd2025_decile"].astype(int))
    for x in (x1, x2):
        x.index.name, x.columns.name = "from decile", "to decile"
    return {"2015_2019": x1, "2019_2025": x2, "lsoas_2015_2019": int(len(a)), "lsoas_2019_2025": int(len(b)),
            "left_out_2019_2025": int(look["lsoa11_code"].nunique() - unchanged["lsoa11_code"].nunique())}


def decile1_words(changes: dict, name: str) -> list[str]:
    """Plain sentences on the most deprived decile between editions."""
    out = []
    for key, (a, b), n in (("2015_2019", ("IoD2015", "IoD2019"), changes["lsoas_2015_2019"]),
                           ("2019_2025", ("IoD2019", "IoD2025"), changes["lsoas_2019_2025"])):
        x = changes[key]
        if x.empty:
            continue
        was = int(x.loc[1].sum()) if 1 in x.index else 0
        now = int(x[1].sum()) if 1 in x.columns else 0
        stayed = int(x.loc[1, 1]) if (1 in x.index and 1 in x.columns) else 0
        extra = (f" (only the {n} LSOAs unchanged between 2011 and 2021; {changes['left_out_2019_2025']} changed "
                 "ones left out)") if key == "2019_2025" else f" ({n} LSOAs, same 2011 geography)"
        out.append(f"{name}, {a} to {b}{extra}: {was} LSOAs in England's most deprived 10% in {a}, {now} in {b}; "
                   f"{stayed} in it both times, {now - stayed} newly in it, {was - stayed} no longer in it.")
    return out

"""Readable place names: the one rule for how a neighbourhood, ward or district is named.

ONS names such as "Trafford 017E" mean nothing in a workshop. The House of Commons Library
publishes a readable name for every MSOA (v1.20 for MSOA 2011, v2.2 for MSOA 2021; Open
Parliament Licence v3.0). The naming rule, per level:

=============  ==============================================  ==============================
level          ``name`` (readable)                             ``ons_name``
=============  ==============================================  ==============================
msoa11/msoa21  the Library's name: "Partington"                "Trafford 017"
lsoa11/lsoa21  its MSOA's readable name plus its ONS name:     "Trafford 017E"
               "Partington (Trafford 017E)"
ward           the ward's name (ONS; 2024 wards, and GM's 2023)    the same
lad            the district's name (ONS)                       the same
=============  ==============================================  ==============================

An LSOA 2011 takes the name of its MSOA 2011 (v1.20) and an LSOA 2021 that of its MSOA 2021
(v2.2): vintages are never crossed. The ONS code always stays next to the name where a
place is shown (hover, tables, JSON).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd

from civicdata.bundle import folder, load_bundled, load_lookup

NAME_LEVELS = ("lsoa11", "lsoa21", "msoa11", "msoa21", "ward", "lad")


@lru_cache(maxsize=16)
def _names(level: str, data_dir: str) -> pd.DataFrame:
    d = Path(data_dir)
    if level in ("msoa11", "msoa21", "lsoa11", "lsoa21"):
        yy = level[-2:]
        m = pd.read_parquet(d / "lookups" / f"msoa{yy}_names.parquet")
        msoa = pd.DataFrame({"code": m[f"msoa{yy}_code"], "name": m[f"msoa{yy}_readable_name"],
                             "ons_name": m[f"msoa{yy}_name"]})
        if level.startswith("msoa"):
            out = msoa
        else:
            lk = load_lookup(f"lsoa{yy}", d)[[f"lsoa{yy}_code", f"lsoa{yy}_name", f"msoa{yy}_code"]]
            readable = lk[f"msoa{yy}_code"].map(msoa.set_index("code")["name"])
            out = pd.DataFrame({"code": lk[f"lsoa{yy}_code"].to_numpy(),
                                "name": (readable + " (" + lk[f"lsoa{yy}_name"] + ")")
                                .fillna(lk[f"lsoa{yy}_name"]).to_numpy(),
                                "ons_name": lk[f"lsoa{yy}_name"].to_numpy()})
    elif level == "ward":
        lk = load_lookup("lsoa21", d)[["ward24_code", "ward24_name"]].drop_duplicates()
        w25 = load_bundled("geography/districts/ward25.parquet", d, columns=("ward25_code", "ward25_name"))
        parts = [lk.set_axis(["code", "name"], axis=1), w25.set_axis(["code", "name"], axis=1)]
        out = pd.concat(parts, ignore_index=True).drop_duplicates("code")
        out["ons_name"] = out["name"]
    elif level == "lad":
        lk = load_lookup("lad24", d)
        l11 = load_lookup("lsoa11", d)[["lad19_code", "lad19_name"]].drop_duplicates()
        out = pd.concat([lk[["lad24_code", "lad24_name"]].set_axis(["code", "name"], axis=1),
                         l11.set_axis(["code", "name"], axis=1)], ignore_index=True).drop_duplicates("code")
        out["ons_name"] = out["name"]
    else:
        raise ValueError(f"no names for level '{level}'; use one of {', '.join(NAME_LEVELS)}")
    return out.dropna(subset=["code"]).set_index("code")[["name", "ons_name"]]


def names_for(level: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Every area at ``level``: index ``code``, columns ``name`` (readable) and ``ons_name``.

    Shared (cached): copy before changing.
    """
    return _names(level, str(folder(data_dir)))


def readable_name(code: str, level: str, data_dir: Path | None = None) -> str | None:
    """The readable name of one area ("Partington (Trafford 017E)"), or None when unknown."""
    t = names_for(level, data_dir)
    return str(t.at[code, "name"]) if code in t.index else None


def with_readable_names(frame: pd.DataFrame, level: str, code_column: str = "code",
                        data_dir: Path | None = None) -> pd.DataFrame:
    """A copy of ``frame`` whose ``name`` is the readable name and ``ons_name`` the ONS one.

    Codes the names table does not know keep the ``name`` they had (e.g. from a user's
    boundary file) as both. ``ons_name`` is placed right after ``name``.
    """
    t = names_for(level, data_dir)
    out = frame.copy()
    codes = out[code_column].astype(str)
    old = out["name"] if "name" in out.columns else codes
    out["name"] = codes.map(t["name"]).fillna(old).to_numpy()
    ons = codes.map(t["ons_name"]).fillna(old).to_numpy()
    if "ons_name" in out.columns:
        out = out.drop(columns="ons_name")
    out.insert(list(out.columns).index("name") + 1, "ons_name", ons)
    return out


#: words an organisation's name keeps in capitals, and small words kept lower case inside a name
_ORG_UPPER = {"NHS", "UK", "ICB", "CIC", "LLP", "PCT", "CCG", "GP", "CAMHS", "HQ"}
_ORG_LOWER = {"and", "of", "the", "for", "in", "on", "at", "upon", "with", "by"}


def readable_org_name(name: str) -> str:
    """An ODS name (upper case) in the case a person writes it: "CUMBRIA, NORTHUMBERLAND, TYNE AND WEAR NHS
    FOUNDATION TRUST" -> "Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust"; "GUY'S AND ST THOMAS'
    NHS FOUNDATION TRUST" -> "Guy's and St Thomas' NHS Foundation Trust". A name already in mixed case is kept."""
    text = " ".join(str(name).split())
    if text != text.upper():
        return text

    def word(w: str, first: bool) -> str:
        core = w.strip(",.()&")
        if core in _ORG_UPPER:
            return w
        low = w.lower()
        if not first and low.strip(",.()") in _ORG_LOWER:
            return low
        # capitalise each part after a hyphen or an opening bracket; "'S" stays lower ("Children's")
        out, up = [], True
        for ch in low:
            out.append(ch.upper() if up and ch.isalpha() else ch)
            up = ch in "-(/" or (up and not ch.isalpha())
        return "".join(out)

    return " ".join(word(w, i == 0) for i, w in enumerate(text.split(" ")))

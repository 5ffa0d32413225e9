"""Who to convene for a place: the one rule used by the pages, the brief, the workshop record and its PDF, the
Trust page and ``python -m civicdata convene``.

A place (an LSOA 2011 or 2021, an MSOA 2011, a ward 2024, a local authority 2024 or a school's LSOA 2021) is
its LSOAs 2021. Around it:

- **councils and the NHS's places**: local authority and combined authority (ONS LAD 2024 / 2023), ward(s)
  2024, ICB and sub-ICB (ONS LSOA 2021 lookup, 2024);
- **NHS trusts that are open now** (ODS ``etr``, c. July 2026) whose headquarters, hospitals (NHS website,
  c. 2022, by parent organisation) or care-trust sites (ODS 2025, four trusts) lie within 5 km of the place.
  One row per ODS code, named as ODS names it (in readable case). A site whose parent trust has closed counts
  for the open trust it became (ODS successor table, to about October 2022: RE9 → R0B); a parent closed after
  the table ends is never listed as a partner, and one row says which were left out;
- **independent-sector providers** (a hospital's parent that is not an NHS trust in ODS ``etr``: codes
  beginning N such as Nuffield Health, and others such as Barchester) are never called NHS trusts: they are
  listed under their own role, ``Independent-sector provider (not NHS)``;
- schools in the place by type (GIAS 2025), GP practices and pharmacies counted inside it (ODS 2025).

Distances are from the place's edge (British National Grid, metres), said as a person says them:
"headquarters in the place", "headquarters 2.4 km away".
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import geopandas as gpd
import pandas as pd

from civicdata import settings
from civicdata.bundle import load_lookup
from civicdata.geo.boundaries import boundaries_of

#: sites and headquarters within this distance (metres) of a place count for it
CONVENE_RADIUS_M = 5000.0
COLUMNS = ["role", "name", "code", "detail", "source"]
ROLE_TRUST = "NHS trust"
ROLE_INDEPENDENT = "Independent-sector provider (not NHS)"
ROLE_LEFT_OUT = "Not listed"
ETR_SOURCE = "NHS trusts open now: ODS etr (c. July 2026)"
UNITS = ("lsoa11", "lsoa21", "msoa11", "ward", "lad", "school")


def distance_words(metres: float, what: str = "") -> str:
    """A distance from a place as a person says it: "in the place" (0 m: inside it), "under 100 m away",
    "2.4 km away"; with ``what`` first ("headquarters 2.4 km away")."""
    if metres <= 0:
        text = "in the place"
    elif metres < 100:
        text = "under 100 m away"
    elif metres < 1000:
        text = f"{round(metres, -2):.0f} m away"
    else:
        text = f"{metres / 1000:.1f} km away"
    return f"{what} {text}".strip()


@lru_cache(maxsize=4)
def _trusts(data_dir: str) -> pd.DataFrame:
    return pd.read_parquet(Path(data_dir) / "services" / "nhs_trusts_ods.parquet").set_index("ods_code")


def nhs_trusts(data_dir: Path | None = None) -> pd.DataFrame:
    """ODS ``etr`` trusts (c. July 2026), indexed by ``ods_code``: ``name`` (readable), ``is_open``,
    ``close_date``, ``successor_code``, headquarters ``lat``/``lon`` (WGS84). Shared: copy before changing."""
    return _trusts(str(Path(data_dir) if data_dir else settings.data_dir()))


@dataclass(frozen=True)
class Provider:
    """Who runs a site, as it is now: ``kind`` is ``nhs_trust`` (open in ODS ``etr``), ``independent`` (not an
    NHS trust in ODS) or ``closed`` (a trust that closed with no successor in the table)."""

    kind: str
    code: str
    name: str
    note: str = ""


def resolve_provider(code: str, name: str, trusts: pd.DataFrame) -> Provider:
    """The organisation that runs a site now, from the parent code a site file gives (see the module doc)."""
    code = str(code).strip()
    if code not in trusts.index:
        return Provider("independent", code, str(name).strip())
    row = trusts.loc[code]
    if bool(row["is_open"]):
        return Provider("nhs_trust", code, row["name"])
    succ = row["successor_code"]
    if succ and succ in trusts.index and bool(trusts.at[succ, "is_open"]):
        year = str(row["close_date"])[:4]
        return Provider("nhs_trust", succ, trusts.at[succ, "name"], f"{row['name']} ({code}) became part of it in {year}")
    return Provider("closed", code, row["name"], f"closed on {row['close_date']}")


def _points(frame: pd.DataFrame) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(frame, geometry=gpd.points_from_xy(frame["lon"], frame["lat"]),
                            crs=settings.WGS84).to_crs(settings.BNG)


@lru_cache(maxsize=4)
def _sites(data_dir: str) -> gpd.GeoDataFrame:
    """Every NHS trust headquarters (open trusts) and every hospital and care-trust site with a parent, each
    with the provider that runs it now: ``p_kind``, ``p_code``, ``p_name``, ``p_note``, ``what``
    (``headquarters``, ``hospital``, ``care trust site``), ``site`` (the site's name), ``camhs``, ``source``."""
    d = Path(data_dir)
    t = _trusts(data_dir)
    frames = []
    hq = t[t["is_open"] & t["lat"].notna()].reset_index()
    frames.append(pd.DataFrame({"p_kind": "nhs_trust", "p_code": hq["ods_code"], "p_name": hq["name"], "p_note": "",
                                "what": "headquarters", "site": hq["name"], "camhs": False,
                                "source": ETR_SOURCE + "; headquarters postcode", "lat": hq["lat"], "lon": hq["lon"]}))
    for layer, what, source in (
            ("nhs_hospitals_c2022", "hospital", "hospitals: NHS website (c. 2022), parent organisation"),
            ("care_trust_sites2025", "care trust site", "care trust sites: ODS (2025; four mental-health trusts)")):
        f = pd.read_parquet(d / "services" / f"{layer}.parquet").dropna(subset=["lat", "lon", "parent_code"])
        f = f[f["parent_code"].astype(str).str.strip() != ""]
        names = f["parent_name"].fillna("").astype(str)
        provs = [resolve_provider(c, n, t) for c, n in zip(f["parent_code"].astype(str), names)]
        keep = [bool(p.kind != "independent" or n) for p, n in zip(provs, names)]  # an unnamed non-trust: unknown
        f = f[keep]
        provs = [p for p, k in zip(provs, keep) if k]
        frames.append(pd.DataFrame({"p_kind": [p.kind for p in provs], "p_code": [p.code for p in provs],
                                    "p_name": [p.name for p in provs], "p_note": [p.note for p in provs],
                                    "what": what, "site": f["name"].astype(str).str.strip().to_numpy(),
                                    "camhs": (f["subtype"] == "CAMHS").to_numpy(), "source": source,
                                    "lat": f["lat"].to_numpy(), "lon": f["lon"].to_numpy()}))
    return _points(pd.concat(frames, ignore_index=True))


def providers_near(shape, data_dir: Path | None = None, radius_m: float = CONVENE_RADIUS_M) -> list[dict]:
    """Convene rows for the NHS trusts and independent-sector providers with a headquarters or site within
    ``radius_m`` of ``shape`` (a shapely geometry in British National Grid metres), one row per ODS code, then
    one ``Not listed`` row naming closed trusts left out."""
    sites = _sites(str(Path(data_dir) if data_dir else settings.data_dir()))
    near = sites[sites.intersects(shape.buffer(radius_m))].copy()
    near["dist"] = near.distance(shape)
    rows: dict[str, dict] = {}
    closed: dict[str, str] = {}
    for code, grp in near.groupby("p_code", sort=True):
        kind = grp["p_kind"].iloc[0]
        name = grp["p_name"].iloc[0]
        if kind == "closed":
            closed[code] = f"{name} ({code}), {grp['p_note'].iloc[0]}"
            continue
        bits = []
        h = grp[grp["what"] == "headquarters"]
        if len(h):
            bits.append(distance_words(float(h["dist"].min()), "headquarters"))
        for what in ("hospital", "care trust site"):
            g = grp[grp["what"] == what].sort_values(["dist", "site"])
            if len(g):
                n = g["site"].nunique()
                camhs = int(g.drop_duplicates("site")["camhs"].sum())
                nearest = f"{g['site'].iloc[0]} ({distance_words(float(g['dist'].iloc[0]))})"
                bits.append((f"runs a {what} within {radius_m / 1000:g} km: {nearest}" if n == 1 else
                             f"runs {n} {what}s within {radius_m / 1000:g} km, nearest {nearest}")
                            + (f", {camhs} CAMHS" if camhs else ""))
        notes = sorted({x for x in grp["p_note"] if x})
        if notes:
            bits.append("; ".join(notes))
        role = ROLE_TRUST if kind == "nhs_trust" else ROLE_INDEPENDENT
        source = ETR_SOURCE + "; " + "; ".join(sorted(set(grp["source"]) - {ETR_SOURCE + "; headquarters postcode"}))
        rows[code] = {"role": role, "name": name, "code": code, "detail": "; ".join(bits),
                      "source": source.rstrip("; ") if kind == "nhs_trust" else "; ".join(sorted(set(grp["source"])))}
    out = sorted((r for r in rows.values() if r["role"] == ROLE_TRUST), key=lambda r: r["name"])
    out += sorted((r for r in rows.values() if r["role"] == ROLE_INDEPENDENT), key=lambda r: r["name"])
    if closed:
        out.append({"role": ROLE_LEFT_OUT, "name": f"{len(closed)} closed NHS trust{'s' if len(closed) > 1 else ''}",
                    "code": ", ".join(sorted(closed)),
                    "detail": "runs sites here in older files but has closed, and the ODS successor table (to Oct "
                              "2022) names no successor: " + "; ".join(closed[c] for c in sorted(closed)),
                    "source": ETR_SOURCE + "; ODS successors to Oct 2022"})
    return out


def place_lsoa21(unit: str, code: str, data_dir: Path | None = None) -> list[str]:
    """The LSOAs 2021 a place is made of (an LSOA 2011 through the ONS lookup; a school: its own LSOA 2021).
    KeyError for an unknown school; an unknown area code gives an empty list."""
    l21 = load_lookup("lsoa21", data_dir)
    x = load_lookup("lsoa11_lsoa21", data_dir)
    if unit == "lsoa21":
        return [code] if code in set(l21["lsoa21_code"]) else []
    if unit == "lsoa11":
        return sorted(x.loc[x["lsoa11_code"] == code, "lsoa21_code"])
    if unit == "msoa11":
        l11 = load_lookup("lsoa11", data_dir)
        kids = set(l11.loc[l11["msoa11_code"] == code, "lsoa11_code"])
        return sorted(x.loc[x["lsoa11_code"].isin(kids), "lsoa21_code"].unique())
    if unit in ("ward", "lad"):
        return sorted(l21.loc[l21[f"{unit}24_code"] == code, "lsoa21_code"])
    if unit != "school":
        raise ValueError(f"unknown unit '{unit}'; use one of {', '.join(UNITS)}")
    s = pd.read_parquet((Path(data_dir) if data_dir else settings.data_dir()) / "schools" / "schools.parquet")
    hit = s[s["urn"].astype(str) == str(code)]
    if hit.empty:
        raise KeyError(f"no open school with URN {code}")
    return [hit.iloc[0]["lsoa21_code"]]


def unit_of_code(code: str) -> str:
    """The unit a bare code names: E01 LSOA (2021 if in the 2021 lookup, else 2011), E02 MSOA 2011, E05 ward
    2024, E06-E09 local authority 2024, digits a school's URN. ValueError for anything else."""
    c = str(code).strip().upper()
    if c.isdigit():
        return "school"
    if c.startswith("E01"):
        return "lsoa21" if c in set(load_lookup("lsoa21")["lsoa21_code"]) else "lsoa11"
    prefix = {"E02": "msoa11", "E05": "ward", "E06": "lad", "E07": "lad", "E08": "lad", "E09": "lad"}.get(c[:3])
    if prefix is None:
        raise ValueError(f"'{code}' is not a neighbourhood (E01…), MSOA (E02…), ward (E05…), district (E06–E09…) "
                         "code or a school's URN")
    return prefix


def convene(unit: str, code: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Who to convene for one place: columns ``role``, ``name``, ``code``, ``detail``, ``source`` (see the
    module doc). KeyError when the place has no LSOA 2021."""
    d = Path(data_dir) if data_dir else settings.data_dir()
    lsoas = place_lsoa21(unit, code, data_dir)
    l21 = load_lookup("lsoa21", data_dir)
    rows = l21[l21["lsoa21_code"].isin(lsoas)]
    if rows.empty:
        raise KeyError(f"no LSOA 2021 found for {unit} {code}")
    lad = load_lookup("lad24", data_dir).set_index("lad24_code")
    out: list[dict] = []
    ons = "ONS lookups (LSOA 2021 to ward 2024, LAD 2024, sub-ICB/ICB 2024)"
    for lc in sorted(rows["lad24_code"].unique()):
        out.append({"role": "Local authority", "name": lad.at[lc, "lad24_name"], "code": lc, "detail": "", "source": ons})
        ca = lad.at[lc, "cauth23_code"]
        if isinstance(ca, str) and ca:
            out.append({"role": "Combined authority", "name": lad.at[lc, "cauth23_name"], "code": ca, "detail": "",
                        "source": "ONS LAD 2023 to combined authority lookup"})
    wards = rows.groupby(["ward24_code", "ward24_name"]).size()
    if unit == "lad":  # a whole authority: its wards counted, not listed one by one
        out.append({"role": "Wards", "name": f"{len(wards)} wards", "code": "", "detail": "", "source": ons})
    else:
        for (wc, wn), n in wards.items():
            out.append({"role": "Ward", "name": wn, "code": wc,
                        "detail": f"{n} of the place's {len(rows)} LSOAs (2021)" if len(rows) > 1 else "",
                        "source": ons})
    for (ic, iname), _ in rows.groupby(["icb24_code", "icb24_name"]).size().items():
        out.append({"role": "NHS Integrated Care Board", "name": iname, "code": ic, "detail": "", "source": ons})
    for (sc, sn), _ in rows.groupby(["sicbl24_code", "sicbl24_name"]).size().items():
        out.append({"role": "NHS sub-ICB location", "name": sn, "code": sc, "detail": "", "source": ons})

    shape = boundaries_of("lsoa21", lsoas, data_dir).to_crs(settings.BNG).geometry.union_all()
    out += providers_near(shape, data_dir)

    s = pd.read_parquet(d / "schools" / "schools.parquet")
    s = s[s["lsoa21_code"].isin(lsoas)]
    for tg, grp in s.groupby("type_group"):
        names = ", ".join(grp.sort_values("name")["name"].head(5))
        more = f" and {len(grp) - 5} more" if len(grp) > 5 else ""
        out.append({"role": f"Schools: {tg}", "name": f"{len(grp)} school{'s' if len(grp) > 1 else ''}", "code": "",
                    "detail": names + more, "source": "DfE GIAS open establishments, May 2025"})
    for layer, label in (("gp_practices2025", "GP practices"), ("pharmacies2025", "Pharmacies")):
        p = _points(pd.read_parquet(d / "services" / f"{layer}.parquet"))
        n = int(p.within(shape).sum())
        out.append({"role": f"{label} in the place", "name": str(n), "code": "", "detail": "active in 2025",
                    "source": "NHS Organisation Data Service, 2025"})
    ph = pd.read_parquet(d / "services" / "gm_pharmacies_by_ward.parquet")
    ph = ph[ph["ward_code"].isin(set(rows["ward24_code"]))]
    if len(ph):
        out.append({"role": "Pharmacies in the place's wards", "name": str(len(ph)), "code": "",
                    "detail": ", ".join(sorted(ph["ward_name"].unique())),
                    "source": "Community pharmacies, Greater Manchester (NHS ODS via Trafford Data Lab)"})
    return pd.DataFrame(out, columns=COLUMNS)


def convene_json(code: str, unit: str | None = None, data_dir: Path | None = None) -> list[dict]:
    """The CLI's ``convene CODE --json`` shape: ``[{"role", "name", "code", "detail", "source"}]``."""
    unit = unit or unit_of_code(code)
    return [{k: str(v) for k, v in r.items()} for r in convene(unit, code, data_dir).to_dict("records")]

"""A school trust as one place: its schools, their neighbourhoods, and who to convene across them.

A trust is a set of school URNs (DfE GIAS, open establishments May 2025). Each school takes
the geography of its LSOA 2021 (ONS lookups: ward 2024, LAD 2024, sub-ICB and ICB 2024,
combined authority), the IoD2025 deciles of that LSOA, and the ONS life expectancy (2016-20,
MSOA 2011) of the MSOA 2011 of the LSOA 2011 it came from (ONS LSOA 2011 <-> 2021 lookup).
Nearest services are straight-line distances (km, British National Grid) to current GP
practices (ODS 2025) and hospitals (NHS website, c. 2022).

Saved trusts are named groups of URNs kept in the store (:mod:`civicdata.store.places`, kind
``trust``), one transaction per change, shared by every server with the same ``CIVICDATA_DB_URL``.
Trust files an earlier version saved in ``<user layers>/groups/*.json`` are imported once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from civicdata import settings
from civicdata.convene import ROLE_INDEPENDENT, ROLE_TRUST, providers_near
from civicdata.errors import CivicDataError, Problem, ProblemsError
from civicdata.geo.geography import load_lookup
from civicdata.geo.names import names_for
from civicdata.store import db as store_db
from civicdata.store import places

GROUP_ID_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
NEAR_M = 5000.0
DOMAINS = ("income", "employment", "education", "health", "crime", "barriers", "living_environment")


class TrustError(ProblemsError):
    """No known school in the list, an unreadable file, or a bad group name."""


def _data(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir else settings.data_dir()


def parse_urns(text: str) -> list[str]:
    """URNs from pasted text: numbers separated by commas, spaces or new lines (order kept)."""
    return re.findall(r"\d{5,7}", text or "")


def read_urn_file(path: Path, label: str | None = None) -> list[str]:
    """The ``urn`` column of a CSV or XLSX file (as text). Raises :class:`TrustError` naming the file."""
    label = label or path.name
    try:
        if path.suffix.lower() in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str)
        else:
            frame = pd.read_csv(path, dtype=str, encoding="utf-8-sig", sep=None, engine="python")
    except Exception as exc:  # noqa: BLE001 - any unreadable file is the user's message, never a traceback
        raise TrustError([Problem(label, f"cannot be read as CSV or XLSX ({type(exc).__name__}: {exc})")],
                         "cannot read the schools file") from exc
    cols = {c.strip().lower(): c for c in frame.columns}
    if "urn" not in cols:
        raise TrustError([Problem(label, f"no 'urn' column (columns: {', '.join(map(str, frame.columns))})", row=1)],
                         "cannot read the schools file")
    return [u.strip().split(".")[0] for u in frame[cols["urn"]].dropna().astype(str) if u.strip()]


@dataclass
class SchoolSet:
    """Which of the given URNs are open schools in GIAS (May 2025); the rest reported, never guessed."""

    urns: list[str]
    unknown: list[str] = field(default_factory=list)  # not an open school in England (or closed since)
    duplicates: list[str] = field(default_factory=list)


def resolve_urns(urns: list[str], data_dir: Path | None = None) -> SchoolSet:
    """Known, unknown and repeated URNs, in the order given. Raises :class:`TrustError` when none is known."""
    known = set(pd.read_parquet(_data(data_dir) / "schools" / "schools.parquet")["urn"].astype(str))
    seen: set[str] = set()
    out = SchoolSet([])
    for u in (str(x).strip() for x in urns):
        if u in seen:
            out.duplicates.append(u)
            continue
        seen.add(u)
        (out.urns if u in known else out.unknown).append(u)
    if not out.urns:
        raise TrustError([Problem("URNs", f"none of the {len(seen)} URNs is an open school in England (GIAS May "
                                          f"2025): {', '.join(sorted(seen)[:10]) or 'no URN given'}")],
                         "no known school")
    return out


def _nearest_km(points: gpd.GeoSeries, layer: str, data_dir: Path) -> tuple[np.ndarray, np.ndarray]:
    """Straight-line km from each point (BNG) to the nearest point of a service layer, and its name."""
    f = pd.read_parquet(data_dir / "services" / f"{layer}.parquet").dropna(subset=["lat", "lon"])
    svc = gpd.GeoSeries(gpd.points_from_xy(f["lon"], f["lat"]), crs=settings.WGS84).to_crs(settings.BNG)
    xy = np.column_stack([svc.x, svc.y])
    km, names = [], []
    for p in points:
        d = np.hypot(xy[:, 0] - p.x, xy[:, 1] - p.y)
        i = int(np.argmin(d))
        km.append(round(float(d[i]) / 1000, 2))
        names.append(f["name"].iloc[i])
    return np.asarray(km), np.asarray(names, dtype=object)


def trust_schools(urns: list[str], data_dir: Path | None = None) -> pd.DataFrame:
    """One row per school (known URNs only, in the order given): ``urn``, ``name``, ``phase``, ``pupils``,
    ``fsm_pct``, ``lat``/``lon``, ``lad24_code``/``lad24_name``, ``ward`` (2024 name) and ``ward_code``,
    ``lsoa21_code``, ``neighbourhood`` (readable), ``imd2025_decile`` and ``<domain>2025_decile``,
    ``msoa11_code``, ``le_male``/``le_female`` with ``_lower``/``_upper`` (95% CI, years), ``icb24_code``/
    ``icb24_name``, ``sicbl24_code``/``sicbl24_name``, ``cauth_name``, ``nearest_gp``/``nearest_gp_km``
    (ODS 2025), ``nearest_hospital``/``nearest_hospital_km`` (c. 2022)."""
    d = _data(data_dir)
    s = pd.read_parquet(d / "schools" / "schools.parquet")
    s["urn"] = s["urn"].astype(str)
    open_urns = set(s["urn"])
    s = s.set_index("urn").loc[[u for u in urns if u in open_urns]].reset_index()
    l21 = load_lookup("lsoa21", d).set_index("lsoa21_code")
    s = s.join(l21[["ward24_code", "ward24_name", "lad24_code", "lad24_name", "icb24_code", "icb24_name",
                    "sicbl24_code", "sicbl24_name"]], on="lsoa21_code")
    lad = load_lookup("lad24", d).set_index("lad24_code")
    s["cauth_name"] = s["lad24_code"].map(lad["cauth23_name"])
    s["neighbourhood"] = s["lsoa21_code"].map(names_for("lsoa21", d)["name"])
    iod = pd.read_parquet(d / "indicators" / "iod2025_lsoa21.parquet").set_index("lsoa21_code")
    for key in ("imd", *DOMAINS):
        s[f"{key}2025_decile"] = s["lsoa21_code"].map(iod[f"{key}2025_decile"]).astype("Int64")
    x = load_lookup("lsoa11_lsoa21", d).drop_duplicates("lsoa21_code").set_index("lsoa21_code")["lsoa11_code"]
    msoa = load_lookup("lsoa11", d).set_index("lsoa11_code")["msoa11_code"]
    s["msoa11_code"] = s["lsoa21_code"].map(x).map(msoa)
    le = pd.read_parquet(d / "indicators" / "life_expectancy_msoa11.parquet").set_index("msoa11_code")
    for col in ("le_male", "le_male_lower", "le_male_upper", "le_female", "le_female_lower", "le_female_upper"):
        s[col] = s["msoa11_code"].map(le[col]).astype(float)
    pts = gpd.GeoSeries(gpd.points_from_xy(s["lon"], s["lat"]), crs=settings.WGS84).to_crs(settings.BNG)
    s["nearest_gp_km"], s["nearest_gp"] = _nearest_km(pts, "gp_practices2025", d)
    s["nearest_hospital_km"], s["nearest_hospital"] = _nearest_km(pts, "nhs_hospitals_c2022", d)
    return s.rename(columns={"ward24_name": "ward", "ward24_code": "ward_code"}).reset_index(drop=True)


def pupil_summary(schools: pd.DataFrame) -> dict:
    """Pupils in schools in England's most deprived 10% and 20% of neighbourhoods (IoD2025 decile of the
    school's LSOA 2021): counts and shares of the trust's pupils (schools with no pupil count left out)."""
    p = schools["pupils"].fillna(0)
    total = float(p.sum())
    d = schools["imd2025_decile"]
    out = {"schools": int(len(schools)), "pupils": int(total)}
    for label, cut in (("decile1", 1), ("deciles1_2", 2)):
        n = float(p[d.notna() & (d <= cut)].sum())
        out[f"pupils_{label}"] = int(n)
        out[f"share_{label}"] = round(n / total, 4) if total else None
    return out


def convene_across(schools: pd.DataFrame, data_dir: Path | None = None) -> dict[str, list[dict]]:
    """Who to convene across the trust, each with the trust's schools it serves:
    ``local_authorities`` (with combined authority), ``icbs``, ``sub_icbs`` (ONS codes; LSOA 2021 lookups 2024),
    ``nhs_trusts`` (trusts open now in ODS ``etr`` whose headquarters, hospitals c. 2022 or care-trust sites lie
    within 5 km of a school; ``detail`` says which), ``independent_providers`` (hospitals' parents that are not
    NHS trusts): the rule of :mod:`civicdata.convene`."""
    d = _data(data_dir)

    def groups(code: str, name: str, extra=None) -> list[dict]:
        rows = []
        for (c, n), g in schools.groupby([code, name], sort=True):
            row = {"code": c, "name": n, "schools": g["urn"].tolist()}
            if extra:
                row.update(extra(g))
            rows.append(row)
        return rows

    las = groups("lad24_code", "lad24_name", lambda g: {"combined_authority": g["cauth_name"].dropna().iloc[0]
                                                        if g["cauth_name"].notna().any() else None})
    pts = gpd.GeoDataFrame(schools[["urn", "name"]], crs=settings.WGS84,
                           geometry=gpd.points_from_xy(schools["lon"], schools["lat"])).to_crs(settings.BNG)
    trusts: dict[str, dict] = {}
    # the same sites and the same rule as civicdata.convene: open trusts only, successors followed, one per code
    for r in pts.itertuples():
        for row in providers_near(r.geometry, d, NEAR_M):
            if row["role"] not in (ROLE_TRUST, ROLE_INDEPENDENT):
                continue
            t = trusts.setdefault(row["code"], {"code": row["code"], "name": row["name"], "role": row["role"],
                                                "schools": [], "detail": []})
            t["schools"].append(r.urn)
            t["detail"].append(f"{r.name}: {row['detail'].replace('in the place', 'at the school')}")
    nhs = [{**t, "detail": "; ".join(t["detail"])} for t in sorted(trusts.values(), key=lambda t: t["name"])
           if t["role"] == ROLE_TRUST]
    other = [{**t, "detail": "; ".join(t["detail"])} for t in sorted(trusts.values(), key=lambda t: t["name"])
             if t["role"] == ROLE_INDEPENDENT]
    return {"local_authorities": las, "icbs": groups("icb24_code", "icb24_name"),
            "sub_icbs": groups("sicbl24_code", "sicbl24_name"), "nhs_trusts": nhs,
            "independent_providers": other}


def trust_json(urns: list[str], data_dir: Path | None = None) -> dict:
    """The CLI's ``trust --json`` shape (see the README)."""
    found = resolve_urns(urns, data_dir)
    s = trust_schools(found.urns, data_dir)
    conv = convene_across(s, data_dir)

    def num(v, nd=2):
        return None if v is None or pd.isna(v) else round(float(v), nd)

    schools = [{"urn": r.urn, "name": r.name, "lad24_code": r.lad24_code, "lad24_name": r.lad24_name,
                "ward": r.ward, "lsoa21_code": r.lsoa21_code, "neighbourhood": r.neighbourhood,
                "imd2025_decile": None if pd.isna(r.imd2025_decile) else int(r.imd2025_decile),
                "fsm_pct": num(r.fsm_pct, 1), "pupils": None if pd.isna(r.pupils) else int(r.pupils),
                "le_male": num(r.le_male), "le_female": num(r.le_female)} for r in s.itertuples()]
    return {"schools": schools,
            "local_authorities": [{"code": x["code"], "name": x["name"], "combined_authority": x["combined_authority"],
                                   "schools": x["schools"]} for x in conv["local_authorities"]],
            "icbs": [{"code": x["code"], "name": x["name"], "schools": x["schools"]} for x in conv["icbs"]],
            "sub_icbs": [{"code": x["code"], "name": x["name"], "schools": x["schools"]} for x in conv["sub_icbs"]],
            "nhs_trusts": [{"code": x["code"], "name": x["name"], "schools": x["schools"]} for x in conv["nhs_trusts"]],
            "summary": pupil_summary(s), "unknown_urns": found.unknown, "duplicate_urns": found.duplicates}


# --------------------------------------------------------------------------- saved groups

KIND = "trust"
log = logging.getLogger("civicdata")


def groups_dir() -> Path:
    """Where earlier versions saved trusts (``<user layers>/groups/``): imported into the store once."""
    return settings.user_layers_dir() / "groups"


def _check_id(group_id: str) -> str:
    if not GROUP_ID_RE.match(group_id or ""):
        raise TrustError([Problem("group", f"'{group_id}' is not a valid name: use 1 to 64 of a-z, 0-9, '_' or '-'",
                                  column="id")], "invalid group name")
    return group_id


def save_group(group_id: str, title: str, urns: list[str], *, replace: bool = False,
               data_dir: Path | None = None) -> SchoolSet:
    """Save a trust (known URNs only; unknown and repeated ones are reported back). One transaction."""
    _check_id(group_id)
    found = resolve_urns(urns, data_dir)
    try:
        places.save_place(KIND, group_id, title.strip()[:120] or group_id, {"urns": found.urns}, replace=replace)
    except places.PlaceExistsError:
        raise TrustError([Problem("group", f"a trust '{group_id}' exists already: rename or delete it first",
                                  column="id")], "group exists") from None
    return found


def load_group(group_id: str) -> dict:
    """A saved trust: ``{"id", "title", "urns"}``."""
    _import_once()
    try:
        return places.load_place(KIND, _check_id(group_id))
    except places.UnknownPlaceError:
        raise TrustError([Problem("group", f"no saved trust '{group_id}'", column="id")], "unknown group") from None


def list_groups() -> list[dict]:
    """Saved trusts: ``id``, ``title``, ``schools`` (count), sorted by id."""
    _import_once()
    return [{"id": g["id"], "title": g["title"], "schools": len(g.get("urns", []))} for g in places.list_places(KIND)]


def rename_group(old: str, new: str, title: str | None = None) -> None:
    try:
        places.rename_place(KIND, _check_id(old), _check_id(new), title)
    except places.UnknownPlaceError:
        raise TrustError([Problem("group", f"no saved trust '{old}'", column="id")], "unknown group") from None
    except places.PlaceExistsError:
        raise TrustError([Problem("group", f"a trust '{new}' exists already", column="id")], "group exists") from None


def delete_group(group_id: str) -> None:
    try:
        places.delete_place(KIND, _check_id(group_id))
    except places.UnknownPlaceError:
        raise TrustError([Problem("group", f"no saved trust '{group_id}'", column="id")], "unknown group") from None


def _import_once() -> None:
    folder, eng = groups_dir(), store_db.engine()
    if store_db.once_per_process("import trust files", folder, eng):
        for message in import_group_files(folder, eng):
            log.warning(message)


def import_group_files(folder: Path, eng=None) -> list[str]:
    """Import each ``<id>.json`` trust file in ``folder`` into the store, once (a file already imported with
    the same content is skipped; an id already saved keeps the saved trust). One message per file handled."""
    if not Path(folder).is_dir():
        return []
    eng = eng or store_db.engine()
    messages = []
    for path in sorted(Path(folder).glob("*.json")):
        raw = path.read_bytes()
        sha = hashlib.sha256(raw).hexdigest()
        if store_db.is_imported(path.resolve(), sha, eng):
            continue
        try:
            g = json.loads(raw)
            urns = [str(u) for u in g.get("urns", [])]
            places.save_place(KIND, _check_id(path.stem), str(g.get("title") or path.stem)[:120], {"urns": urns},
                              eng=eng)
            outcome = "imported"
            msg = f"imported the saved trust {path} into the shared store as '{path.stem}'"
        except places.PlaceExistsError:
            outcome = "not imported: the store already has a trust with this id (kept)"
            msg = f"{path}: {outcome}"
        except (ValueError, AttributeError, TrustError) as exc:  # unreadable JSON or a bad id
            outcome = f"not imported: {exc}"
            msg = f"{path}: {outcome}"
        store_db.record_import(path.resolve(), sha, path.stem[:64], outcome, eng)
        messages.append(msg)
    return messages


def brief_html(title: str, schools: pd.DataFrame, summary: dict, convene: pd.DataFrame) -> str:
    """A one-page HTML brief: the trust's pupils in deprived neighbourhoods, its schools, who to convene.
    Every text is escaped."""
    from html import escape as e

    rows = "".join(f"<tr><td>{e(str(r.name))}</td><td>{e(str(r.lad24_name))}</td><td>{e(str(r.neighbourhood))}</td>"
                   f"<td>{e(str(r.imd2025_decile))}</td><td>{e(str(r.pupils))}</td></tr>" for r in schools.itertuples())
    conv = "".join("<tr>" + "".join(f"<td>{e(str(v))}</td>" for v in r) + "</tr>"
                   for r in convene[["role", "name", "code", "schools"]].itertuples(index=False))
    share = summary["share_decile1"]
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Trust brief: " + e(title) +
            "</title><style>body{font-family:Arial,sans-serif;max-width:60em;margin:2em auto;font-size:15px}"
            "td,th{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left}table{border-collapse:collapse;"
            "width:100%}</style></head><body>"
            f"<h1>{e(title)}</h1><p>{summary['pupils_decile1']:,} of {summary['pupils']:,} pupils "
            f"({'–' if share is None else f'{share:.0%}'}) attend schools in England's most deprived 10% of "
            f"neighbourhoods (IoD2025); {summary['pupils_deciles1_2']:,} in the most deprived 20%.</p>"
            "<h2>Schools</h2><table><tr><th>school</th><th>local authority</th><th>neighbourhood</th>"
            f"<th>IoD2025 decile</th><th>pupils</th></tr>{rows}</table>"
            "<h2>Who to convene</h2><table><tr><th>role</th><th>name</th><th>code</th><th>schools</th></tr>"
            f"{conv}</table><p>Sources: DfE GIAS (May 2025); MHCLG IoD2025; ONS lookups 2024; NHS ODS; NHS website. "
            "Contains public sector information licensed under the Open Government Licence v3.0.</p></body></html>")


__all__ = ["CivicDataError", "TrustError", "SchoolSet", "parse_urns", "read_urn_file", "resolve_urns",
           "trust_schools", "pupil_summary", "convene_across", "trust_json", "save_group", "load_group",
           "list_groups", "rename_group", "delete_group", "import_group_files", "brief_html"]

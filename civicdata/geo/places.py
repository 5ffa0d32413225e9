"""The places partners work in beyond council boundaries: custom areas and Primary Care Networks.

A **custom area** is a named set of neighbourhoods: LSOA 2021 or LSOA 2011 codes, never mixed (a code of
the other vintage is an error naming the lookup), or 2024 wards, which become the LSOAs 2021 whose
best-fit ward (ONS lookup) they are. Saved areas live in the store (:mod:`civicdata.store.places`, kind
``area``) beside saved trusts, so every app server sees them. Its profile weights by population: the
share of its residents (Census 2021 for LSOA 2021 areas with IoD2025; ONS mid-2015 for LSOA 2011 areas
with IoD2019) living in each national IMD decile, as MHCLG's local-authority summaries measure extent.

A PCN (NHS ODS ePCN, c. Q4 2024) is its member practices: where they are (mid-2025 ODS locations, their
LSOA 2021), their QOF 2022-23 registers and list sizes, its sub-ICB location and ICB (ONS 2024 codes).
A PCN has no boundary: its practices' patients live wherever they live, so nothing here draws or implies
one. QOF figures for a PCN are weighted by list size: the sum of its practices' registers over the sum of
the lists QOF uses for each register (practices that joined QOF after 2022-23 have none and are counted
as such). Vintages differ (memberships c. Q4 2024, QOF 2022-23, locations mid-2025) and are stated.
"""

from __future__ import annotations

import difflib
import re
from pathlib import Path

import pandas as pd

from civicdata import settings
from civicdata.bundle import load_bundled, load_lookup
from civicdata.errors import Problem, ProblemsError, UnknownAreaError
from civicdata.geo.geography import areas_within
from civicdata.indicators.families import QOF_REGISTERS

#: QOF registers bundled by practice (id part -> "Asthma (patients aged 6 and over)"), from the build's list
QOF_KEYS = {key: f"{title.split(' prevalence')[0]} ({words})" for key, (_, _, title, words) in QOF_REGISTERS.items()}
VINTAGES = {"membership": "NHS ODS ePCN, c. Q4 2024", "qof": "QOF 2022-23", "locations": "NHS ODS, mid-2025",
            "sub_icb": "ONS sub-ICB locations and ICBs, 2024"}
NO_BOUNDARY = ("A PCN has no boundary: its practices' registered patients live wherever they live. It is shown as "
               "its practices and the neighbourhoods (LSOA 2021) they stand in, not as an area the PCN covers.")


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


def _sub_icb_names(data_dir: Path | None) -> pd.Series:
    """ONS 2024 name of each sub-ICB location that has a PCN, by its ODS code (null where ONS has none)."""
    return pcns(data_dir).drop_duplicates("sicb_ods_code").set_index("sicb_ods_code")["sicbl24_name"]


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
    sub_icb_names = _sub_icb_names(data_dir)
    practices = []
    for r in prac.itertuples():
        practices.append({
            "ods_code": r.ods_code, "name": r.practice_name,
            "list_size": None if pd.isna(r.list_size) else int(r.list_size),
            "lat": None if pd.isna(r.lat) else round(float(r.lat), 6),
            "lon": None if pd.isna(r.lon) else round(float(r.lon), 6),
            "lsoa21_code": _code(r.lsoa21_code), "member_since": _code(r.member_since),
            "sub_icb": _sub_icb(r.practice_sicb_ods_code, r.practice_sicbl24_code,
                                sub_icb_names.get(r.practice_sicb_ods_code)),
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
    own_name = _sub_icb_names(data_dir).get(r["practice_sicb_ods_code"])
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
    lk = load_lookup("lsoa21", data_dir)
    lsoas = set(lk.loc[lk["lad24_code"] == lad_code, "lsoa21_code"])
    m = memberships(data_dir)
    here = m[m["lsoa21_code"].isin(lsoas)].groupby("pcn_code").size().rename("practices").reset_index()
    out = here.merge(pcns(data_dir), on="pcn_code")
    out = out[out["closed_on"].isna()]
    return out[["pcn_code", "pcn_title", "practices", "sicb_ods_code"]].sort_values("pcn_title").reset_index(drop=True)


# --------------------------------------------------------------------------- custom areas

AREA_KIND = "area"
AREA_ID_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
AREA_LEVELS = {"lsoa21": "LSOA 2021", "lsoa11": "LSOA 2011"}
MAX_AREA_CODES = 5000
#: below either, the profile says its figures rest on few neighbourhoods or people
SMALL_AREA_NEIGHBOURHOODS = 5
SMALL_AREA_POPULATION = 5000
WARD_RULE = ("wards are taken as the LSOAs 2021 whose best-fit 2024 ward (ONS LSOA 2021 to ward lookup) they are: a "
             "neighbourhood split between two wards counts in the one holding most of its people")


class AreaError(ProblemsError):
    """A custom area that cannot be made or found: every problem at once (codes, vintage, id)."""


def _known(level: str, data_dir: Path | None) -> set[str]:
    return set(load_lookup(level, data_dir)[f"{level}_code"])


def resolve_area_codes(codes: list[str], level: str, label: str = "codes",
                       data_dir: Path | None = None) -> tuple[str, list[str]]:
    """Check a list of neighbourhood codes and return ``(level, codes)`` as stored: LSOA 2021 or 2011 codes,
    sorted and de-duplicated; ``level="ward"`` (2024 wards) gives LSOA 2021 codes (:data:`WARD_RULE`).
    Raises :class:`AreaError` naming every unknown code, code of the other vintage, and an empty list."""
    wanted = [c.strip().upper() for c in codes if c and c.strip()]
    problems: list[Problem] = []
    if level not in (*AREA_LEVELS, "ward"):
        raise AreaError([Problem(label, f"level '{level}' is not one of lsoa21, lsoa11, ward")], "invalid area")
    if not wanted:
        raise AreaError([Problem(label, "no codes: an area needs at least one neighbourhood or ward")], "empty area")
    if len(set(wanted)) > MAX_AREA_CODES:
        raise AreaError([Problem(label, f"{len(set(wanted)):,} codes: at most {MAX_AREA_CODES:,}")], "area too large")
    if level == "ward":
        lk = load_lookup("lsoa21", data_dir)
        known = set(lk["ward24_code"])
        for n, c in enumerate(wanted, start=1):
            if c not in known:
                problems.append(Problem(label, f"'{c}' is not a 2024 ward code in England (E05…)", row=n))
        if problems:
            raise AreaError(problems, "unknown ward codes")
        return "lsoa21", sorted(set(lk.loc[lk["ward24_code"].isin(wanted), "lsoa21_code"]))
    other = "lsoa11" if level == "lsoa21" else "lsoa21"
    here, there = _known(level, data_dir), _known(other, data_dir)
    for n, c in enumerate(wanted, start=1):
        if c in here:
            continue
        if c in there:
            problems.append(Problem(label, f"'{c}' is an {AREA_LEVELS[other]} code, not {AREA_LEVELS[level]}: an area "
                                           f"keeps one vintage (convert with the ONS lookup lookups/lsoa11_lsoa21)",
                                    row=n))
        else:
            problems.append(Problem(label, f"'{c}' is not a known {AREA_LEVELS[level]} code in England", row=n))
    if problems:
        raise AreaError(problems, f"{len(problems)} code(s) do not fit an {AREA_LEVELS[level]} area")
    return level, sorted(set(wanted))


def read_area_file(path: Path) -> tuple[str, list[str]]:
    """Codes from a CSV with one column named ``lsoa21_code``, ``lsoa11_code`` or ``ward_code``
    (``ward24_code``): ``(level, codes)`` before checking."""
    from civicdata.readers import read_text_table

    problems: list[Problem] = []
    frame = read_text_table(Path(path), label=Path(path).name, problems=problems)
    if frame is None:
        raise AreaError(problems, "unreadable area file")
    cols = {c.strip().lower(): c for c in frame.columns}
    for name, level in (("lsoa21_code", "lsoa21"), ("lsoa11_code", "lsoa11"), ("ward_code", "ward"),
                        ("ward24_code", "ward")):
        if name in cols:
            return level, frame[cols[name]].tolist()
    raise AreaError([Problem(Path(path).name, "no column named lsoa21_code, lsoa11_code or ward_code (found: "
                                             f"{', '.join(frame.columns) or 'none'})")], "unreadable area file")


def read_area_upload(name: str, data: bytes) -> tuple[str, list[str]]:
    """:func:`read_area_file` for an uploaded file's bytes (problems name the file as uploaded)."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / (Path(name).name or "codes.csv")
        path.write_bytes(data)
        return read_area_file(path)


def _check_id(area_id: str) -> str:
    if not AREA_ID_RE.match(area_id or ""):
        raise AreaError([Problem("area", f"'{area_id}' is not a valid id: use 1 to 64 of a-z, 0-9, '_' or '-'",
                                 column="id")], "invalid area id")
    return area_id


def save_area(area_id: str, title: str, codes: list[str], level: str, *, replace: bool = False,
              label: str = "codes", data_dir: Path | None = None) -> dict:
    """Check and save a custom area in the store (one transaction); ``{"id", "title", "level", "areas", "from"}``."""
    from civicdata.store import places as saved

    _check_id(area_id)
    stored_level, areas = resolve_area_codes(codes, level, label, data_dir)
    payload = {"level": stored_level, "areas": areas, "from": level}
    try:
        saved.save_place(AREA_KIND, area_id, (title or area_id).strip()[:120] or area_id, payload, replace=replace)
    except saved.PlaceExistsError:
        raise AreaError([Problem("area", f"an area '{area_id}' exists already: use --replace, or another id",
                                 column="id")], "area exists") from None
    return load_area(area_id)


def load_area(area_id: str) -> dict:
    """A saved area: ``{"id", "title", "level", "areas", "from"}``."""
    from civicdata.store import places as saved

    try:
        return saved.load_place(AREA_KIND, _check_id(area_id))
    except saved.UnknownPlaceError:
        raise AreaError([Problem("area", f"no saved area '{area_id}'", column="id")], "unknown area") from None


def list_areas() -> list[dict]:
    """Saved areas, by id: ``{"id", "title", "level", "neighbourhoods"}``."""
    from civicdata.store import places as saved

    return [{"id": a["id"], "title": a["title"], "level": a["level"], "neighbourhoods": len(a["areas"])}
            for a in saved.list_places(AREA_KIND)]


def rename_area(area_id: str, new_id: str | None = None, title: str | None = None) -> dict:
    """Give a saved area a new title and/or id (one transaction). Links and pages that named the old id
    stop finding it; workshops keep the title they were made with. Returns the area as :func:`load_area`."""
    from civicdata.store import places as saved

    _check_id(area_id)
    target = _check_id((new_id or area_id).strip())
    clean = (title or "").strip()[:120] or None
    try:
        saved.rename_place(AREA_KIND, area_id, target, clean)
    except saved.UnknownPlaceError:
        raise AreaError([Problem("area", f"no saved area '{area_id}'", column="id")], "unknown area") from None
    except saved.PlaceExistsError:
        raise AreaError([Problem("area", f"an area '{target}' exists already: choose another id",
                                 column="id")], "area exists") from None
    return load_area(target)


def combine_area_codes(parts: list[tuple[str, list[str], str]], data_dir: Path | None = None) -> tuple[str, list[str]]:
    """Join codes given several ways (picked, pasted, a file), each ``(level, codes, label)``, into one area's
    ``(level, codes)`` as stored. Each part is checked on its own (every bad code named with its part); wards
    become LSOAs 2021; an LSOA 2011 part beside an LSOA 2021 one is refused (an area keeps one vintage)."""
    problems: list[Problem] = []
    levels: dict[str, str] = {}
    codes: set[str] = set()
    for level, given, label in parts:
        if not [c for c in given if c and c.strip()]:
            continue
        try:
            stored, got = resolve_area_codes(given, level, label, data_dir)
        except AreaError as exc:
            problems.extend(exc.problems)
            continue
        levels[label] = stored
        codes.update(got)
    if len(set(levels.values())) > 1:
        which = "; ".join(f"{label}: {AREA_LEVELS[lv]}" for label, lv in levels.items())
        problems.append(Problem("area", f"codes of two vintages ({which}): an area keeps one vintage (convert with "
                                        "the ONS lookup lookups/lsoa11_lsoa21)"))
    if problems:
        raise AreaError(problems, f"{len(problems)} problem(s) with the area's codes")
    if not codes:
        raise AreaError([Problem("area", "no codes: an area needs at least one neighbourhood or ward")], "empty area")
    if len(codes) > MAX_AREA_CODES:
        raise AreaError([Problem("area", f"{len(codes):,} codes: at most {MAX_AREA_CODES:,}")], "area too large")
    return next(iter(levels.values())), sorted(codes)


def delete_area(area_id: str) -> None:
    from civicdata.store import places as saved

    try:
        saved.delete_place(AREA_KIND, _check_id(area_id))
    except saved.UnknownPlaceError:
        raise AreaError([Problem("area", f"no saved area '{area_id}'", column="id")], "unknown area") from None


#: how an area of one LSOA vintage is read at the other (and at MSOA 2011 / ward level)
OTHER_VINTAGE_RULE = ("the other LSOA vintage is reached through the ONS LSOA 2011 to 2021 lookup (every LSOA that "
                      "became, or came from, one of the area's); wards and MSOAs 2011 are those with at least one "
                      "LSOA in the area")
AREA_PREFIX = "area:"


def area_lsoas(level: str, areas: list[str], data_dir: Path | None = None) -> tuple[set[str], set[str]]:
    """``(LSOA 2021 codes, LSOA 2011 codes)`` of an area stored at ``level`` (its own codes, and the other
    vintage through the ONS lookup: :data:`OTHER_VINTAGE_RULE`)."""
    codes = set(areas)
    pairs = load_lookup("lsoa11_lsoa21", data_dir)
    if level == "lsoa21":
        return codes, set(pairs.loc[pairs["lsoa21_code"].isin(codes), "lsoa11_code"])
    if level == "lsoa11":
        return set(pairs.loc[pairs["lsoa11_code"].isin(codes), "lsoa21_code"]), codes
    raise ValueError(f"level must be lsoa21 or lsoa11, not {level!r}")


def area_place(place: str) -> dict | None:
    """The saved area behind a place code ``area:ID`` (as pages and links name one), else None."""
    return load_area(place[len(AREA_PREFIX):]) if place.startswith(AREA_PREFIX) else None


def area_units(place: str, level: str, data_dir: Path | None = None) -> pd.DataFrame:
    """The units at ``level`` of a saved area (``area:ID``), as :func:`civicdata.geo.geography.areas_within` gives a
    district's (columns ``code``, ``name``, ``ons_name``): its LSOAs, the other vintage's and the MSOAs or 2024
    wards with at least one of its LSOAs (:data:`OTHER_VINTAGE_RULE`)."""
    from civicdata.geo.geography import units_of

    a = area_place(place)
    lsoa21, lsoa11 = area_lsoas(a["level"], a["areas"], data_dir)
    if level in ("lsoa11", "msoa11"):
        t = load_lookup("lsoa11", data_dir)
        t = t[t["lsoa11_code"].isin(lsoa11)]
    elif level in ("lsoa21", "msoa21", "ward"):
        t = load_lookup("lsoa21", data_dir)
        t = t[t["lsoa21_code"].isin(lsoa21)]
    else:
        raise ValueError(f"unknown level '{level}'; use one of lsoa11, lsoa21, msoa11, msoa21, ward")
    return units_of(t, level, data_dir)


#: how a drawn shape becomes neighbourhoods
SHAPE_RULE = ("a neighbourhood (LSOA 2021) is in a drawn shape when its label point lies inside the shape: a point "
              "inside its ONS boundary, so every neighbourhood has exactly one (the app does not hold ONS's "
              "population-weighted centres for LSOA 2021)")


def neighbourhoods_in_shape(geometry: dict, data_dir: Path | None = None) -> list[str]:
    """LSOA 2021 codes whose label point lies inside a GeoJSON Polygon or MultiPolygon (WGS84 lon/lat), sorted
    (:data:`SHAPE_RULE`). Raises :class:`AreaError` for a geometry that is not a valid area."""
    import shapely
    from shapely.geometry import shape

    try:
        poly = shape(geometry)
    except (AttributeError, KeyError, TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise AreaError([Problem("the drawn shape", f"not a shape: {exc}")], "invalid shape") from None
    if poly.geom_type not in ("Polygon", "MultiPolygon") or poly.is_empty or poly.area == 0:
        raise AreaError([Problem("the drawn shape", f"a {poly.geom_type} encloses no area: draw a polygon or a "
                                                    "rectangle")], "invalid shape")
    poly = shapely.make_valid(poly)
    lk = load_lookup("lsoa21", data_dir)
    inside = shapely.contains_xy(poly, lk["lon"].to_numpy(), lk["lat"].to_numpy())
    return sorted(lk.loc[inside, "lsoa21_code"])


def area_local_authorities(place: str, data_dir: Path | None = None) -> list[dict]:
    """The local authorities (LAD 2024) a saved area (``area:ID``) lies in, most of its LSOAs (2021) first:
    ``[{"code", "name", "neighbourhoods"}]``. Series published for local authorities (Trends) apply to these."""
    a = area_place(place)
    lsoa21, _ = area_lsoas(a["level"], a["areas"], data_dir)
    lk21 = load_lookup("lsoa21", data_dir)
    return _count_by(lk21[lk21["lsoa21_code"].isin(lsoa21)], "lad24_code", "lad24_name")



def place_districts(place: str, data_dir: Path | None = None) -> list[str]:
    """The LAD 2024 districts a place's map reads: the district itself, GM's ten boroughs for the combined
    authority, a saved area's local authorities."""
    if place.startswith(AREA_PREFIX):
        return [la["code"] for la in area_local_authorities(place, data_dir)]
    if place == settings.GM_CAUTH_CODE:
        return list(settings.GM_LAD_CODES)
    return [place]


def _count_by(frame: pd.DataFrame, code: str, name: str) -> list[dict]:
    g = frame.groupby([code, name], dropna=True).size().rename("neighbourhoods").reset_index()
    g = g.sort_values(["neighbourhoods", name], ascending=[False, True])
    return [{"code": r[0], "name": r[1], "neighbourhoods": int(r[2])} for r in g.itertuples(index=False)]


def area_profile(level: str, areas: list[str], data_dir: Path | None = None) -> dict:
    """The profile of a set of neighbourhoods of one vintage (codes already checked): population,
    ``imd_decile_population_share`` ({"1": share of residents in England's most deprived 10%, … "10"}),
    life expectancy range (MSOA 2011, 2016-20), schools and their FSM, and who to convene (local
    authorities, wards, sub-ICBs, ICBs, PCNs with a practice in the area), with caveats."""
    if level not in AREA_LEVELS:
        raise ValueError(f"level must be lsoa21 or lsoa11, not {level!r}")
    codes = set(areas)
    if level == "lsoa21":
        pop = load_bundled("indicators/population2021_lsoa21.parquet", data_dir).set_index("lsoa21_code")["population2021"]
        iod_name, pop_name = "IoD2025", "Census 2021"
        dec = load_bundled("indicators/iod2025_lsoa21.parquet", data_dir,
                           ("lsoa21_code", "imd2025_decile")).set_index("lsoa21_code")["imd2025_decile"]
    else:
        pop = load_lookup("lsoa11", data_dir).set_index("lsoa11_code")["population_mid2015"]
        iod_name, pop_name = "IoD2019", "ONS mid-2015 (as used by IoD2019)"
        dec = load_bundled("indicators/iod2019_lsoa11.parquet", data_dir,
                           ("lsoa11_code", "imd2019_decile")).set_index("lsoa11_code")["imd2019_decile"]
    lsoa21, lsoa11 = area_lsoas(level, areas, data_dir)
    t = pd.DataFrame({"code": sorted(codes)})
    t["population"] = t["code"].map(pop).astype(float)
    t["decile"] = t["code"].map(dec)
    total = float(t["population"].sum())
    shares = {str(d): (round(float(t.loc[t["decile"] == d, "population"].sum()) / total, 4) if total else None)
              for d in range(1, 11)}
    # life expectancy: MSOA 2011 estimates, 2016-20 (the LSOAs 2011 of the area, or those its LSOAs 2021 came from)
    lk11 = load_lookup("lsoa11", data_dir)
    msoas = set(lk11.loc[lk11["lsoa11_code"].isin(lsoa11), "msoa11_code"])
    le = load_bundled("indicators/life_expectancy_msoa11.parquet", data_dir)
    le = le[le["msoa11_code"].isin(msoas)]
    life = {}
    for sex in ("male", "female"):
        s = le.dropna(subset=[f"le_{sex}"])
        life[sex] = None if s.empty else {
            "lowest": round(float(s[f"le_{sex}"].min()), 1), "lowest_msoa11": s.loc[s[f"le_{sex}"].idxmin(), "msoa11_code"],
            "highest": round(float(s[f"le_{sex}"].max()), 1),
            "highest_msoa11": s.loc[s[f"le_{sex}"].idxmax(), "msoa11_code"]}
    sch = load_bundled("schools/schools.parquet", data_dir)
    sch = sch[sch["lsoa21_code"].isin(lsoa21)]
    pupils = sch["pupils"].fillna(0)
    have_fsm = sch["fsm_pct"].notna() & (pupils > 0)
    fsm = (float((sch.loc[have_fsm, "fsm_pct"] * pupils[have_fsm]).sum() / pupils[have_fsm].sum())
           if have_fsm.any() else None)
    lk21 = load_lookup("lsoa21", data_dir)
    lk21 = lk21[lk21["lsoa21_code"].isin(lsoa21)]
    m = memberships(data_dir)
    pcn_here = m[m["lsoa21_code"].isin(lsoa21)].merge(pcns(data_dir), on="pcn_code")
    caveats = []
    if len(codes) < SMALL_AREA_NEIGHBOURHOODS or total < SMALL_AREA_POPULATION:
        caveats.append(f"A small area ({len(codes)} neighbourhood(s), {int(total):,} people): its shares move a lot "
                       "with one neighbourhood, and life expectancy is for the larger MSOAs (2011) around it.")
    if level == "lsoa11":
        caveats.append("Schools, wards, sub-ICBs and PCNs are found through the LSOAs 2021 these LSOAs 2011 became "
                       "(ONS lookup).")
    return {
        "level": level, "areas": sorted(codes), "neighbourhoods": len(codes), "population": int(total),
        "population_source": pop_name, "iod": iod_name, "imd_decile_population_share": shares,
        "life_expectancy": {**life, "msoa11": len(msoas), "vintage": "ONS, 2016-20, MSOA 2011"},
        "schools": {"count": int(len(sch)), "pupils": int(pupils.sum()),
                    "fsm_pct": None if fsm is None else round(fsm, 1), "vintage": "DfE GIAS, May 2025"},
        "local_authorities": _count_by(lk21, "lad24_code", "lad24_name"),
        "wards": _count_by(lk21, "ward24_code", "ward24_name"),
        "sub_icbs": _count_by(lk21, "sicbl24_code", "sicbl24_name"),
        "icbs": _count_by(lk21, "icb24_code", "icb24_name"),
        "pcns": [{"code": c, "name": n, "practices_here": int(k)} for (c, n), k in
                 pcn_here.groupby(["pcn_code", "pcn_title"]).size().sort_index().items()],
        "caveats": caveats,
    }


def saved_area_profile(area_id: str, data_dir: Path | None = None) -> dict:
    """``area show --json``: the saved area's id, title and how it was made, with :func:`area_profile`."""
    a = load_area(area_id)
    return {"id": a["id"], "title": a["title"], "from": a.get("from", a["level"]),
            **area_profile(a["level"], a["areas"], data_dir)}


__all__ = ["AreaError", "neighbourhoods_in_shape", "SHAPE_RULE", "area_lsoas", "area_units", "area_local_authorities", "area_place", "OTHER_VINTAGE_RULE", "AREA_PREFIX", "resolve_area_codes", "read_area_file", "save_area", "load_area", "list_areas",
           "delete_area", "area_profile", "saved_area_profile", "WARD_RULE", "UnknownPCNError", "QOF_KEYS", "VINTAGES", "NO_BOUNDARY", "pcns", "memberships", "pcn_practices",
           "qof_for", "pcn_profile", "practice_pcn", "pcn_of", "pcns_in"]


def areas_in_place(place_code: str, level: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Areas at ``level`` in a district, in all ten GM boroughs for the GM combined authority code, or in a saved
    custom area (``area:ID``; see :func:`area_units`)."""
    if place_code.startswith(AREA_PREFIX):
        return area_units(place_code, level, data_dir)
    if place_code == settings.GM_CAUTH_CODE:
        parts = [areas_within(c, level, data_dir) for c in settings.GM_LAD_CODES]
        return pd.concat(parts, ignore_index=True).drop_duplicates("code")
    return areas_within(place_code, level, data_dir)


def area_headline(profile: dict) -> str:
    """A saved area's headline, the same on the Places page and the Area map: "Walker and Byker: 64% of its 8,012
    residents live in England's most deprived 10% of neighbourhoods (IoD2025)" (from :func:`saved_area_profile`)."""
    d1 = profile["imd_decile_population_share"]["1"]
    return (f"{profile['title']}: {d1 * 100:.0f}% of its {profile['population']:,} residents live in England's most "
            f"deprived 10% of neighbourhoods ({profile['iod']})")

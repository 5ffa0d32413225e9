"""Strategic focus: rank places or schools on a transparent weighted mix of indicators.

Method (stated on the page and in the README):

1. **Carry** every indicator to the chosen unit (see :data:`CARRY_RULES`): population-weighted
   means of LSOAs for MSOAs and wards, a school takes its LSOA's values, an LSOA takes its
   MSOA's value, 2011 and 2021 LSOAs are bridged by the ONS lookup (population-weighted).
2. **Normalise** each indicator to 0-100 by percentile rank *within the chosen area*, turned
   so that 100 = most need using the layer's polarity (``neutral`` layers: higher = more need).
3. **Weight**: a place's score is the sum of its contributions, each
   ``weight / (sum of the weights of the indicators it has) x normalised value``. A missing
   value is never zero.
4. **Completeness** (:data:`COMPLETENESS_RULE`): by default a place is ranked only when it has
   a value for every indicator with a weight above zero; places missing any are listed after
   the ranked ones, unranked, each with what is missing and why. With ``include_incomplete``
   they are ranked on the indicators they have, and marked as ranked on partial data.
5. **Robustness**: every weight is multiplied by an independent uniform factor in
   [0.75, 1.25] for ``draws`` draws (at least 500) from a fixed, shown seed; a place's
   stability is the share of draws in which it stays in the top N among the ranked places.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata import settings
from civicdata.indicators.catalogue import Catalogue, LayerDescriptor
# who to convene: one rule for every page, the brief, the record and the CLI (importable here as before)
from civicdata.convene import CONVENE_RADIUS_M, convene  # noqa: F401
from civicdata.geo.geography import load_lookup, resolve_lad
from civicdata.indicators.layers import load_layer
from civicdata.geo.names import names_for, with_readable_names
from civicdata.geo.places import area_lsoas, area_place

COMPLETENESS_RULE = ("A place is ranked only when it has a value for every weighted indicator; places missing any "
                     "are listed after the ranked ones with what is missing and why. Switched to include them, "
                     "they are ranked on the indicators they have and marked “partial data”.")
PARTIAL_MARK = "†"

UNITS = ("lsoa11", "lsoa21", "msoa11", "ward", "school", "lad")
UNIT_LABELS = {"lsoa11": "LSOA (2011)", "lsoa21": "LSOA (2021)", "msoa11": "MSOA (2011)", "ward": "ward (2024)",
               "school": "school", "lad": "local authority (2024)"}
UNIT_PLURALS = {"lsoa11": "LSOAs (2011)", "lsoa21": "LSOAs (2021)", "msoa11": "MSOAs (2011)", "ward": "wards (2024)",
                "school": "schools", "lad": "local authorities (2024)"}
#: where local authorities are ranked: England, or one of its regions (region 2024 codes)
ENGLAND_CODE = settings.ENGLAND_CODE
DEFAULT_SEED = 20251022
DEFAULT_DRAWS = 500
PERTURB = 0.25

CARRY_RULES = {
    "same": "used as published",
    "lsoa11->lsoa21": "each LSOA 2021 takes the mid-2015-population-weighted mean of its LSOA 2011 parents (ONS lookup)",
    "lsoa21->lsoa11": "each LSOA 2011 takes the Census-2021-population-weighted mean of its LSOA 2021 successors",
    "msoa11->lsoa": "each LSOA takes the value of the MSOA 2011 it lies in",
    "msoa21->lsoa": "each LSOA 2021 takes the value of the MSOA 2021 it lies in",
    "ward->lsoa": "each LSOA 2021 takes the value of its ward (2024, ONS best fit)",
    "lad->lsoa": "each LSOA takes its district's value",
    "lsoa->msoa11": "population-weighted mean (mid-2015) of the MSOA's LSOA 2011 values",
    "lsoa->ward": "population-weighted mean (Census 2021) of the ward's LSOA 2021 values",
    "lsoa->school": "a school takes the value of its LSOA 2021",
    "lsoa->lad": "population-weighted mean (Census 2021) of the authority's LSOA 2021 values",
    "urn->area": "pupil-weighted mean of the schools located in the area",
    "practice->area": ("list-size-weighted mean of the GP practices located in the area (their 2025 location; a "
                       "practice's patients may live elsewhere); an area with no practice has no value, never zero"),
}


#: the default mix, in order of preference: deprivation (IoD2025 income and health scores: scores, not deciles,
#: so that places in one decile are still told apart), life expectancy, the schools' pupils on free school
#: meals, education; :func:`default_weights` keeps those that cover every place
DEFAULT_CANDIDATES = ("income2025_score", "health2025_score", "le_male", "school_fsm_pct", "education2025_score")
DEFAULT_MAX = 4


def indicator_coverage(catalogue: Catalogue, unit: str, area_code: str, ids: list[str],
                       data_dir: Path | None = None) -> dict[str, tuple[int, int]]:
    """For each layer id: (places of ``unit`` in the area with a value, places in the area)."""
    units = load_units(unit, area_code, data_dir)
    out = {}
    for lid in ids:
        v, _ = carry(catalogue.get(lid), units, data_dir)
        out[lid] = (int(v.notna().sum()), len(v))
    return out


def default_weights(catalogue: Catalogue, unit: str, area_code: str, data_dir: Path | None = None) -> dict[str, float]:
    """The default indicators for a unit and area, weight 1 each: the first :data:`DEFAULT_MAX` of
    :data:`DEFAULT_CANDIDATES` that have a value for **every** place, so that the default ranking leaves no
    place out (used by the page and by ``focus`` with no ``--indicator``)."""
    ids = [k for k in DEFAULT_CANDIDATES if k in catalogue]
    cov = indicator_coverage(catalogue, unit, area_code, ids, data_dir)
    full = [k for k in ids if cov[k][1] and cov[k][0] == cov[k][1]]
    if not full:  # nothing covers every place (e.g. a trust's schools): the best covered one
        full = [max(ids, key=lambda k: cov[k][0])]
    return {k: 1.0 for k in full[:DEFAULT_MAX]}


def _lsoa_weights(vintage: str, data_dir: Path | None) -> pd.Series:
    if vintage == "lsoa11":
        return load_lookup("lsoa11", data_dir).set_index("lsoa11_code")["population_mid2015"].astype(float)
    return load_lookup("lsoa21", data_dir).set_index("lsoa21_code")["population2021"].astype(float)


def _wmean(values: pd.Series, weights: pd.Series, groups: pd.Series) -> pd.Series:
    """Weighted mean of ``values`` by ``groups``; missing values and weights are left out."""
    f = pd.DataFrame({"v": values.to_numpy(), "w": weights.to_numpy(), "g": groups.to_numpy()}).dropna()
    f["vw"] = f["v"] * f["w"]
    g = f.groupby("g")[["vw", "w"]].sum()
    return (g["vw"] / g["w"]).where(g["w"] > 0)


def values_at_lsoa(desc: LayerDescriptor, vintage: str, data_dir: Path | None = None) -> tuple[pd.Series, str]:
    """The layer carried to every LSOA of ``vintage`` (``lsoa11``/``lsoa21``), with the rule used."""
    layer = load_layer(desc).set_index("code")["value"]
    geo = desc.geography
    if geo == vintage:
        return layer, CARRY_RULES["same"]
    x = load_lookup("lsoa11_lsoa21", data_dir)
    if geo in ("lsoa11", "lsoa21"):
        if geo == "lsoa11":  # to lsoa21
            w = _lsoa_weights("lsoa11", data_dir)
            return _wmean(x["lsoa11_code"].map(layer), x["lsoa11_code"].map(w), x["lsoa21_code"]), CARRY_RULES["lsoa11->lsoa21"]
        w = _lsoa_weights("lsoa21", data_dir)
        return _wmean(x["lsoa21_code"].map(layer), x["lsoa21_code"].map(w), x["lsoa11_code"]), CARRY_RULES["lsoa21->lsoa11"]
    if geo == "msoa11":
        l11 = load_lookup("lsoa11", data_dir).set_index("lsoa11_code")["msoa11_code"].map(layer)
        if vintage == "lsoa11":
            return l11, CARRY_RULES["msoa11->lsoa"]
        w = _lsoa_weights("lsoa11", data_dir)
        return _wmean(x["lsoa11_code"].map(l11), x["lsoa11_code"].map(w), x["lsoa21_code"]), CARRY_RULES["msoa11->lsoa"]
    if geo in ("msoa21", "ward", "lad"):
        col = {"msoa21": "msoa21_code", "ward": "ward24_code", "lad": "lad24_code"}[geo]
        l21 = load_lookup("lsoa21", data_dir).set_index("lsoa21_code")[col].map(layer)
        rule = CARRY_RULES[f"{geo}->lsoa"]
        if vintage == "lsoa21":
            return l21, rule
        w = _lsoa_weights("lsoa21", data_dir)
        return _wmean(x["lsoa21_code"].map(l21), x["lsoa21_code"].map(w), x["lsoa11_code"]), rule
    raise ValueError(f"layer {desc.id} ({geo}) cannot be carried to LSOAs")


@dataclass
class Units:
    """The places to rank: ``frame`` has ``code``, ``name`` (readable, see :mod:`civicdata.geo.names`) and
    ``ons_name`` (for schools: the school's name twice, plus ``lsoa21_code``, ``neighbourhood`` etc.)."""

    unit: str
    area_code: str
    area_name: str
    frame: pd.DataFrame


def _school_units(which, data_dir: Path | None) -> pd.DataFrame:
    """Schools (GIAS) for which ``which(schools)`` is True, as focus units: the school's name twice (it has no
    ONS name), its LSOA 2021 and readable ``neighbourhood``, pupils, type, phase and location."""
    s = pd.read_parquet((Path(data_dir) if data_dir else settings.data_dir()) / "schools" / "schools.parquet")
    s = s[which(s)]
    return pd.DataFrame({"code": s["urn"].astype(str), "name": s["name"], "ons_name": s["name"],
                         "lsoa21_code": s["lsoa21_code"],
                         "neighbourhood": s["lsoa21_code"].map(names_for("lsoa21", data_dir)["name"]),
                         "pupils": s["pupils"], "type_group": s["type_group"], "phase": s["phase"],
                         "lat": s["lat"], "lon": s["lon"]})


def load_units(unit: str, area_code: str, data_dir: Path | None = None, urns: list[str] | None = None,
               area_name: str | None = None) -> Units:
    """The units inside an area (a district, ``E47000001`` for all of Greater Manchester, or ``area:ID`` for a
    saved custom area: :data:`civicdata.geo.places.OTHER_VINTAGE_RULE`), or, with ``urns``, the schools of a trust
    (``area_name`` names it; the unit must be ``school``)."""
    if unit not in UNITS:
        raise ValueError(f"unknown unit '{unit}'; use one of {', '.join(UNITS)}")
    if urns is not None:
        if unit != "school":
            raise ValueError("a trust's places are its schools: use the unit 'school'")
        f = _school_units(lambda s: s["urn"].astype(str).isin(set(map(str, urns))), data_dir)
        return Units("school", area_code, area_name or "the trust", f.sort_values("code").reset_index(drop=True))
    if unit == "lad":
        lad = load_lookup("lad24", data_dir)
        lad = lad[lad["lad24_code"].str.match(r"^E0[6789]")]
        if area_code == ENGLAND_CODE:
            area_name = "England"
        elif area_code in set(lad["region24_code"]):
            lad = lad[lad["region24_code"] == area_code]
            area_name = lad["region24_name"].iloc[0]
        else:
            raise ValueError(f"local authorities are ranked within England ({ENGLAND_CODE}) or a region (E12…); "
                             f"{area_code!r} is neither")
        f = pd.DataFrame({"code": lad["lad24_code"], "name": lad["lad24_name"], "ons_name": lad["lad24_name"]})
        return Units("lad", area_code, area_name, f.sort_values("code").reset_index(drop=True))
    l11 = load_lookup("lsoa11", data_dir)
    l21 = load_lookup("lsoa21", data_dir)
    saved = area_place(area_code)
    if saved is not None:  # a saved custom area (area:ID): its neighbourhoods (places.OTHER_VINTAGE_RULE)
        set21, set11 = area_lsoas(saved["level"], saved["areas"], data_dir)
        in11, in21, area_name = l11[l11["lsoa11_code"].isin(set11)], l21[l21["lsoa21_code"].isin(set21)], saved["title"]
    else:
        if area_code == settings.GM_CAUTH_CODE:
            lads = list(settings.GM_LAD_CODES)
            area_name = "Greater Manchester"
        else:
            area = resolve_lad(area_code, data_dir)
            lads, area_name, area_code = [area.code], area.name, area.code
        in11 = l11[l11["lad24_code"].isin(lads) | l11["lad19_code"].isin(lads)]
        in21 = l21[l21["lad24_code"].isin(lads)]
    if unit == "lsoa11":
        f = in11[["lsoa11_code", "lsoa11_name"]].set_axis(["code", "name"], axis=1)
    elif unit == "lsoa21":
        f = in21[["lsoa21_code", "lsoa21_name"]].set_axis(["code", "name"], axis=1)
    elif unit == "msoa11":
        f = in11[["msoa11_code", "msoa11_name"]].drop_duplicates().set_axis(["code", "name"], axis=1)
    elif unit == "ward":
        f = in21[["ward24_code", "ward24_name"]].drop_duplicates().set_axis(["code", "name"], axis=1)
    else:
        f = _school_units(lambda s: s["lsoa21_code"].isin(set(in21["lsoa21_code"])), data_dir)
    if unit != "school":
        f = with_readable_names(f, unit, data_dir=data_dir)
    return Units(unit, area_code, area_name, f.sort_values("code").reset_index(drop=True))


def carry(desc: LayerDescriptor, units: Units, data_dir: Path | None = None) -> tuple[pd.Series, str]:
    """The layer's value for each unit (indexed like ``units.frame``) and the rule used."""
    u = units.unit
    codes = units.frame["code"]
    if desc.geography == "point":
        raise ValueError(f"layer {desc.id} is a point layer: choose an indicator with a value per area")
    if desc.geography == "practice":
        return _carry_practices(desc, units, data_dir), CARRY_RULES["practice->area"]
    if desc.geography == "urn":
        layer = load_layer(desc).set_index("code")["value"]
        if u == "school":
            return codes.map(layer).astype(float), CARRY_RULES["same"]
        s = pd.read_parquet((Path(data_dir) if data_dir else settings.data_dir()) / "schools" / "schools.parquet")
        s = s.assign(value=s["urn"].astype(str).map(layer))
        if u == "lad":
            key = s["lsoa21_code"].map(load_lookup("lsoa21", data_dir).set_index("lsoa21_code")["lad24_code"])
        elif u in ("lsoa21", "ward"):
            key = s["lsoa21_code"] if u == "lsoa21" else s["lsoa21_code"].map(
                load_lookup("lsoa21", data_dir).set_index("lsoa21_code")["ward24_code"])
        else:
            x = load_lookup("lsoa11_lsoa21", data_dir).drop_duplicates("lsoa21_code").set_index("lsoa21_code")["lsoa11_code"]
            key = s["lsoa21_code"].map(x)
            if u == "msoa11":
                key = key.map(load_lookup("lsoa11", data_dir).set_index("lsoa11_code")["msoa11_code"])
        return codes.map(_wmean(s["value"], s["pupils"], key)).astype(float), CARRY_RULES["urn->area"]
    if u == desc.geography or (u == "ward" and desc.geography == "ward"):
        layer = load_layer(desc).set_index("code")["value"]
        return codes.map(layer).astype(float), CARRY_RULES["same"]
    if u in ("lsoa11", "lsoa21"):
        v, rule = values_at_lsoa(desc, u, data_dir)
        return codes.map(v).astype(float), rule
    if u == "msoa11":
        v, rule = values_at_lsoa(desc, "lsoa11", data_dir)
        l11 = load_lookup("lsoa11", data_dir)
        agg = _wmean(l11["lsoa11_code"].map(v), l11["population_mid2015"].astype(float), l11["msoa11_code"])
        return codes.map(agg).astype(float), f"{rule}; then {CARRY_RULES['lsoa->msoa11']}"
    if u in ("ward", "lad"):
        v, rule = values_at_lsoa(desc, "lsoa21", data_dir)
        l21 = load_lookup("lsoa21", data_dir)
        agg = _wmean(l21["lsoa21_code"].map(v), l21["population2021"].astype(float), l21[f"{u}24_code"])
        return codes.map(agg).astype(float), f"{rule}; then {CARRY_RULES[f'lsoa->{u}']}"
    v, rule = values_at_lsoa(desc, "lsoa21", data_dir)
    return units.frame["lsoa21_code"].map(v).astype(float), f"{rule}; then {CARRY_RULES['lsoa->school']}"


def _carry_practices(desc: LayerDescriptor, units: Units, data_dir: Path | None) -> pd.Series:
    """List-size-weighted mean of the practices located in each unit (schools: in the school's LSOA 2021)."""
    p = load_layer(desc).dropna(subset=["value", "weight", "lsoa21_code"])
    u = units.unit
    if u in ("lsoa21", "school"):
        key = p["lsoa21_code"]
    elif u in ("ward", "lad"):
        key = p["lsoa21_code"].map(load_lookup("lsoa21", data_dir).set_index("lsoa21_code")[f"{u}24_code"])
    else:  # 2011 units through the ONS LSOA 2011 <-> 2021 lookup (the LSOA 2011 the practice's LSOA 2021 came from)
        x = load_lookup("lsoa11_lsoa21", data_dir).drop_duplicates("lsoa21_code").set_index("lsoa21_code")["lsoa11_code"]
        key = p["lsoa21_code"].map(x)
        if u == "msoa11":
            key = key.map(load_lookup("lsoa11", data_dir).set_index("lsoa11_code")["msoa11_code"])
    means = _wmean(p["value"], p["weight"], key)
    codes = units.frame["lsoa21_code"] if u == "school" else units.frame["code"]
    return codes.map(means).astype(float).set_axis(units.frame.index)


def why_missing(desc: LayerDescriptor, units: Units) -> pd.Series:
    """Why each unit has no value of ``desc`` (indexed like ``units.frame``; read it where the value is missing).

    At the layer's own geography (or a school for a school layer): the layer's own reason when it gives one
    ("suppressed", "no entries", …), "not published" (or the layer's ``coverage`` note) for a blank value, and
    the ``coverage`` note (or "not in the layer") for a place the layer has no row for. Carried values: no value for the area the place takes it from.
    """
    from civicdata.indicators.catalogue import GEOGRAPHY_LABELS

    codes = units.frame["code"].astype(str)
    own = desc.geography == units.unit or (desc.geography == "urn" and units.unit == "school")
    if own:
        layer = load_layer(desc).drop_duplicates("code").set_index("code")["status"]
        status = codes.map(layer)
        absent = desc.coverage or "not in the layer"
        # the layer's own reason (suppressed, no entries, low coverage …); a blank value: its coverage note
        own_reason = status.where(~status.isin(["ok", "missing"]))
        blank = status.where(status != "missing", desc.coverage or "not published")
        return own_reason.fillna(blank.where(status == "missing")).fillna(absent)
    if desc.geography == "urn":
        return pd.Series("no school in the area has a value", index=units.frame.index)
    if desc.geography == "practice":
        return pd.Series("no GP practice located in the area", index=units.frame.index)
    where = {"school": "its LSOA 2021", "msoa11": "its LSOAs", "ward": "its LSOAs", "lad": "its LSOAs"}.get(units.unit)
    label = GEOGRAPHY_LABELS.get(desc.geography, desc.geography)
    text = f"not published for {where} ({label})" if where else f"not published for its {label}"
    if desc.coverage:
        text += f"; {desc.coverage}"
    return pd.Series(text, index=units.frame.index)


def normalise(values: pd.Series, polarity: str) -> pd.Series:
    """0-100 percentile rank within the given places, 100 = most need; NaN stays NaN.

    Ties share their average rank. A single place with a value gets 50.
    """
    ok = values.notna()
    n = int(ok.sum())
    out = pd.Series(np.nan, index=values.index)
    if n == 0:
        return out
    ascending = polarity != "higher_is_better"  # higher value = more need unless higher is better
    r = values[ok].rank(method="average", ascending=ascending)
    out[ok] = 50.0 if n == 1 else (r - 1) / (n - 1) * 100
    return out


def _scores(norm: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Scores for one or many weight vectors. ``norm`` (places x k); ``weights`` (k,) or (draws x k)."""
    have = ~np.isnan(norm)
    n0 = np.where(have, norm, 0.0)
    w = np.atleast_2d(weights)
    denom = have.astype(float) @ w.T  # places x draws
    num = n0 @ w.T
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(denom > 0, num / denom, np.nan)


@dataclass
class FocusResult:
    """A ranking: ``table`` (one row per place, rank order) and what produced it.

    ``coverage`` maps each indicator to (places with a value, places); ``include_incomplete`` says
    whether places missing a weighted indicator were ranked (on partial data) or listed unranked.
    """

    unit: str
    area_name: str
    indicators: list[str]
    weights: dict[str, float]
    rules: dict[str, str]
    table: pd.DataFrame
    top_n: int
    seed: int
    draws: int
    coverage: dict[str, tuple[int, int]] = field(default_factory=dict)
    include_incomplete: bool = False
    coverage_why: dict[str, str] = field(default_factory=dict)
    method: str = field(default=__doc__ or "")

    def to_json(self, limit: int | None = None) -> list[dict]:
        """The CLI's ``focus --json`` shape (the first ``limit`` places, or all)."""
        out = []
        for r in (self.table if limit is None else self.table.head(limit)).itertuples():
            place = {"code": r.code, "name": r.name, "ons_name": r.ons_name}
            if self.unit == "school":
                place["neighbourhood"] = r.neighbourhood if isinstance(r.neighbourhood, str) else None
            out.append({**place, "rank": None if pd.isna(r.rank) else int(r.rank),
                        "score": round(float(r.score), 4) if not pd.isna(r.score) else None,
                        "contributions": {k: round(float(getattr(r, f"c_{k}")), 4) if not pd.isna(getattr(r, f"c_{k}"))
                                          else None for k in self.indicators},
                        "missing": int(r.missing), "complete": bool(r.complete),
                        "missing_reasons": dict(r.missing_reasons),
                        "stability": None if pd.isna(r.stability) else round(float(r.stability), 4)})
        return out

    @property
    def ranked(self) -> pd.DataFrame:
        """The places with a rank (all places when incomplete ones are included)."""
        return self.table[self.table["rank"].notna()]

    def coverage_notes(self, titles: dict[str, str], unit_plural: str) -> list[str]:
        """One sentence per indicator that covers only part of the area, e.g.
        "Minutes by public transport to GP practices: 47 of 178 schools have a value — outside the area of …"."""
        notes = []
        for lid, (n, total) in self.coverage.items():
            if n < total:
                why = self.coverage_why.get(lid, "")
                notes.append(f"{titles.get(lid, lid)}: {n} of {total} {unit_plural} have a value" + (f" — {why}" if why else ""))
        return notes


def compute_focus(catalogue: Catalogue, unit: str, area_code: str, weights: dict[str, float], top_n: int = 10,
                  draws: int = DEFAULT_DRAWS, seed: int = DEFAULT_SEED, data_dir: Path | None = None,
                  include_incomplete: bool = False, urns: list[str] | None = None,
                  area_name: str | None = None) -> FocusResult:
    """Rank the units of an area on the weighted indicators (see the module docstring).

    ``table`` columns: ``rank`` (1 = most need; NA for a place not ranked), ``code``, ``name``
    (readable), ``ons_name`` (``neighbourhood`` for schools: the readable name of its LSOA 2021),
    ``score`` (0-100), ``c_<layer>`` (contributions, summing to the score), ``v_<layer>`` (carried
    values), ``n_<layer>`` (normalised 0-100), ``missing`` (count), ``complete`` (a value for every
    weighted indicator), ``missing_reasons`` ({layer: why}), ``stability`` (0-1), ``reason``.
    Ranked places come first; by default places missing a weighted indicator follow, unranked
    (fewest missing first), with score, contributions and stability empty.
    """
    if not weights:
        raise ValueError("choose at least one indicator")
    bad = [k for k, w in weights.items() if not (w >= 0) or not np.isfinite(w)]
    if bad:
        raise ValueError(f"weights must be finite and >= 0: {', '.join(bad)}")
    if sum(weights.values()) <= 0:
        raise ValueError("at least one weight must be above zero")
    draws = max(int(draws), DEFAULT_DRAWS)
    units = load_units(unit, area_code, data_dir, urns=urns, area_name=area_name)
    ids = list(weights)
    table = units.frame[["code", "name", "ons_name"] + (["neighbourhood"] if unit == "school" else [])].copy()
    rules = {}
    norms = []
    whys = {}
    coverage_why = {}
    for lid in ids:
        desc = catalogue.get(lid)
        v, rule = carry(desc, units, data_dir)
        rules[lid] = rule
        table[f"v_{lid}"] = v.to_numpy()
        table[f"n_{lid}"] = normalise(v, desc.polarity).to_numpy()
        norms.append(table[f"n_{lid}"].to_numpy())
        if v.isna().any():
            whys[lid] = why_missing(desc, units).where(v.isna().to_numpy())
            coverage_why[lid] = desc.coverage or str(whys[lid].dropna().mode().iloc[0])
    norm = np.column_stack(norms)
    w = np.array([float(weights[k]) for k in ids])
    have = ~np.isnan(norm)
    complete = have[:, w > 0].all(axis=1)
    ranked = np.ones(len(table), dtype=bool) if include_incomplete else complete
    denom = have @ w
    with np.errstate(invalid="ignore", divide="ignore"):
        contrib = np.where(have, norm * w / np.where(denom > 0, denom, np.nan)[:, None], np.nan)
    contrib[~ranked] = np.nan
    for j, lid in enumerate(ids):
        table[f"c_{lid}"] = contrib[:, j]
    table["score"] = np.nansum(contrib, axis=1)
    table.loc[(denom <= 0) | ~ranked, "score"] = np.nan
    table["missing"] = (~have).sum(axis=1)
    table["complete"] = complete
    col = {lid: j for j, lid in enumerate(ids)}
    table["missing_reasons"] = [{lid: str(whys[lid].iat[i]) for lid in whys if not have[i, col[lid]]}
                                for i in range(len(table))]
    # ranked places by score; the others after them, fewest missing first
    table["_ranked"] = ranked & table["score"].notna().to_numpy()
    order = table.sort_values(["_ranked", "score", "missing", "code"], ascending=[False, False, True, True],
                              na_position="last").index
    n_ranked = int(table["_ranked"].sum())
    table = table.loc[order].reset_index(drop=True)
    table.insert(0, "rank", pd.array(list(range(1, n_ranked + 1)) + [pd.NA] * (len(table) - n_ranked), dtype="Int64"))
    stab = np.full(len(table), np.nan)
    norm_sorted = np.column_stack([table[f"n_{k}"].to_numpy() for k in ids])
    stab[:n_ranked] = compute_stability(norm_sorted[:n_ranked], w, top_n, draws, seed)
    table["stability"] = stab
    table = table.drop(columns="_ranked")
    table["reason"] = [explain(row, ids, catalogue, table, units.area_name) for _, row in table.iterrows()]
    coverage = {lid: (int(have[:, j].sum()), len(table)) for j, lid in enumerate(ids)}
    return FocusResult(unit, units.area_name, ids, {k: float(weights[k]) for k in ids}, rules, table, top_n, seed, draws,
                       coverage, include_incomplete, coverage_why=coverage_why)


def compute_stability(norm: np.ndarray, weights: np.ndarray, top_n: int, draws: int = DEFAULT_DRAWS,
                      seed: int = DEFAULT_SEED) -> np.ndarray:
    """Share of ``draws`` random weight perturbations (each weight x U[0.75, 1.25]) in which each
    place is in the top ``top_n`` (ties at the cut broken by position, as in the ranking)."""
    rng = np.random.default_rng(seed)
    factors = rng.uniform(1 - PERTURB, 1 + PERTURB, size=(draws, len(weights)))
    scores = _scores(norm, factors * weights)  # places x draws
    s = np.where(np.isnan(scores), -np.inf, scores)
    # rank within each draw: stable sort by descending score keeps the earlier place first on ties
    order = np.argsort(-s, axis=0, kind="stable")
    top = np.zeros_like(s, dtype=bool)
    cols = np.arange(s.shape[1])
    for k in range(min(top_n, s.shape[0])):
        top[order[k], cols] = True
    return top.mean(axis=1)


def _standing(pct: float, n: int) -> str:
    """Where a normalised value (0-100, 100 = most need) stands among the ``n`` places with a value."""
    if n <= 1:
        return "the only place with a value"
    if pct >= 99.95:
        return f"the most need of {n}"
    if pct <= 0.05:
        return f"the least need of {n}"
    return f"more need than {min(99, max(1, round(pct)))}% of {n}"  # never "100%" for a place tied at the top


def _fmt(v: float) -> str:
    """A value in a reason: whole numbers as such, others to one decimal (a value under 1, e.g. the IoD income
    score, a proportion, to two), never four."""
    if float(v).is_integer() or abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.2f}" if abs(v) < 1 else f"{v:,.1f}"


def explain(row: pd.Series, ids: list[str], catalogue: Catalogue, table: pd.DataFrame, area_name: str) -> str:
    """One plain-English sentence naming the two indicators that lift the place most (largest contributions
    first, always in that order), each with its value and where it stands among the area's places; for a place
    missing a weighted indicator, what is missing and why (unranked, or ranked on partial data).

    Deciles are said as deciles ("income deprivation decile 1"); a decile carried to a larger unit is the mean of
    its LSOAs' deciles, said so, to one decimal. Life expectancy is said against the area's median ("the same as"
    when it rounds to 0.0 years)."""
    gaps = "; ".join(f"{catalogue.get(k).title} ({why})" for k, why in row["missing_reasons"].items())
    if pd.isna(row["rank"]):
        return f"Not ranked: no value for {gaps}." if gaps else "Not ranked: no indicator values."
    parts = []
    contribs = sorted(((row[f"c_{k}"], k) for k in ids if not pd.isna(row[f"c_{k}"])), key=lambda x: (-x[0], x[1]))
    for _, lid in contribs[:2]:
        desc = catalogue.get(lid)
        v = float(row[f"v_{lid}"])
        n = int(table[f"v_{lid}"].notna().sum())
        where = _standing(float(row[f"n_{lid}"]), n)
        name = re.sub(r", IoD20\d\d$", "", desc.title).split(" (")[0]
        if desc.id in ("le_male", "le_female"):
            name = f"{desc.id[3:]} life expectancy"
        elif not re.search(r" [A-Z][a-z]", name):  # "Index of Multiple Deprivation" keeps its capitals
            name = name[0].lower() + name[1:]
        if desc.unit.startswith("decile"):
            if v.is_integer():
                parts.append(f"{name} {v:.0f}" + (" (England's most deprived 10%)" if v == 1 else "") + f", {where}")
            else:
                parts.append(f"mean {name} of its LSOAs {v:.1f}, {where}")
            continue
        if desc.id.startswith("le_"):
            diff = round(v - float(table[f"v_{lid}"].median()), 1)
            rel = ("the same as" if diff == 0 else f"{abs(diff):.1f} years {'below' if diff < 0 else 'above'}")
            # the median of the places ranked (MSOA estimates carried to them), not a published national figure
            parts.append(f"{name} {v:.1f} years, {rel} the median of the places ranked in {area_name} ({where})")
            continue
        if desc.id.startswith("trend_") and desc.id.endswith("_worsening"):
            what = desc.title.split(":")[0]
            unit = desc.unit.replace(" (+ = worse)", "")
            parts.append(f"{what[0].lower() + what[1:]} {'worse' if v > 0 else 'better' if v < 0 else 'unchanged'}"
                         f"{f' by {_fmt(abs(v))} {unit}' if v else ''} over the last three periods ({where})")
            continue
        unit = "" if desc.unit.startswith(("rank", "score")) or desc.unit in name else (
            desc.unit if desc.unit == "%" else f" {desc.unit}")
        parts.append(f"{name} {_fmt(v)}{unit} ({where})")
    if not parts:
        return "No indicator values."
    sentence = "; ".join(parts)
    if row["missing"]:
        sentence += f" ({int(row['missing'])} indicator{'s' if row['missing'] > 1 else ''} missing)"
    sentence = sentence[0].upper() + sentence[1:] + "."
    if not row["complete"]:
        sentence += f" {PARTIAL_MARK} Partial data: no value for {gaps}."
    return sentence


def export_table(result: FocusResult, codes: list[str] | None, titles: dict[str, str]) -> pd.DataFrame:
    """The ranking (or the shortlisted ``codes``) as a CSV-ready table: every column of ``table``, with
    ``missing_reasons`` as text ("Title: why; …") and ``partial_data`` (True: not every weighted
    indicator has a value)."""
    t = result.table[result.table["code"].isin(codes)] if codes else result.table
    return t.assign(missing_reasons=["; ".join(f"{titles.get(k, k)}: {v}" for k, v in m.items())
                                     for m in t["missing_reasons"]],
                    partial_data=~t["complete"])


def build_brief_html(result: FocusResult, shortlist: list[str], convene_tables: dict[str, pd.DataFrame],
                     titles: dict[str, str]) -> str:
    """A one-page HTML brief of the shortlist: reasons, scores, method, and who to convene. All text escaped."""
    from html import escape as e

    t = result.table.set_index("code")
    parts = [f"<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Strategic focus brief: {e(result.area_name)}"
             "</title><style>body{font-family:Arial,sans-serif;max-width:60em;margin:2em auto;font-size:15px}"
             "h1{font-size:26px}td,th{border-bottom:1px solid #ccc;padding:4px 8px;text-align:left;vertical-align:top}"
             "table{border-collapse:collapse;width:100%}.small{color:#555;font-size:12px}</style></head><body>",
             f"<h1>Strategic focus: {e(result.area_name)} ({e(UNIT_LABELS[result.unit])})</h1>",
             "<p>Indicators and weights: " + ", ".join(f"{e(titles[k])} ({result.weights[k]:g})" for k in result.indicators)
             + f". Stability: share of {result.draws} draws with every weight perturbed ±25% (seed {result.seed}) in "
             f"which the place stays in the top {result.top_n}.</p>",
             f"<p>Completeness: {e(COMPLETENESS_RULE)}"
             + (" Here places missing an indicator <b>are</b> ranked on the rest, marked "
                f"{PARTIAL_MARK} partial data." if result.include_incomplete else "") + "</p>"]
    notes = result.coverage_notes(titles, UNIT_PLURALS[result.unit])
    if notes:
        parts.append("<p>Coverage: " + "; ".join(e(n) for n in notes) + ".</p>")
    for code in shortlist:
        if code not in t.index:
            continue
        r = t.loc[code]
        rank = "Not ranked" if pd.isna(r["rank"]) else f"{int(r['rank'])}."
        mark = "" if r["complete"] else f" {PARTIAL_MARK} partial data"
        score = ("not ranked: an indicator has no value" if pd.isna(r["score"]) else
                 f"Score {r['score']:.1f} of 100; stability {r['stability']:.0%}")
        parts.append(f"<h2>{e(rank)} {e(str(r['name']))}{e(mark)} <span class='small'>{e(code)}</span></h2>"
                     f"<p>{e(str(r['reason']))}</p><p>{e(score)}; missing indicators: {int(r['missing'])}.</p>")
        conv = convene_tables.get(code)
        if conv is not None and len(conv):
            rows = "".join(f"<tr><td>{e(str(x.role))}</td><td>{e(str(x.name))}</td><td>{e(str(x.code))}</td>"
                           f"<td>{e(str(x.detail))}</td><td class='small'>{e(str(x.source))}</td></tr>"
                           for x in conv.itertuples())
            parts.append("<h3>Who to convene</h3><table><tr><th>Role</th><th>Name</th><th>Code</th><th>Detail</th>"
                         f"<th>Source</th></tr>{rows}</table>")
    rules = "".join(f"<li>{e(titles[k])}: {e(v)}</li>" for k, v in result.rules.items())
    parts.append(f"<h3>Method</h3><ul>{rules}</ul><p class='small'>Normalised by percentile rank within "
                 f"{e(result.area_name)} (100 = most need, by each layer's polarity); a place's score is the sum of "
                 "its contributions; missing values are never zero. "
                 "Contains public sector information licensed under the Open Government Licence v3.0.</p></body></html>")
    return "".join(parts)


def _num(x) -> float | None:
    return None if x is None or pd.isna(x) else round(float(x), 4)


def shortlist_evidence(result: FocusResult, shortlist: list[str], convene_tables: dict[str, pd.DataFrame],
                       titles: dict[str, str], link: str = "", *, vintages: dict[str, str] | None = None,
                       area_code: str = "", ranking_rows: int = 10) -> dict:
    """The shortlist as plain JSON evidence for a workshop — what the room saw when it voted: the ranking's
    place and method (``unit_code``, ``area_code``, ``weights`` with titles, each indicator's data ``vintages``,
    the first ``ranking_rows`` of the ranking, the share ``link``), and for each shortlisted place its rank,
    score, indicator values, reason (the same sentence as the page) and who to convene."""
    t = result.table.set_index("code")
    places = []
    for code in shortlist:
        if code not in t.index:
            continue
        r = t.loc[code]
        conv = convene_tables.get(code)
        places.append({"code": code, "name": str(r["name"]),
                       "rank": None if pd.isna(r["rank"]) else int(r["rank"]), "score": _num(r["score"]),
                       "values": {k: _num(r.get(f"v_{k}")) for k in result.indicators},
                       "reason": str(r["reason"]), "partial_data": not bool(r["complete"]),
                       "convene": [] if conv is None else
                       [{k: str(v) for k, v in row.items() if k in ("role", "name", "code", "detail")}
                        for row in conv.to_dict("records")]})
    vintages = vintages or {}
    return {"source": "Strategic focus", "area": result.area_name, "unit": UNIT_PLURALS[result.unit],
            "unit_code": result.unit, "area_code": area_code, "include_incomplete": result.include_incomplete,
            "indicators": ", ".join(f"{titles[k]} (weight {result.weights[k]:g})" for k in result.indicators),
            "weights": [{"id": k, "title": titles[k], "weight": result.weights[k]} for k in result.indicators],
            "vintages": [{"id": k, "title": titles[k], "vintage": vintages.get(k, "")} for k in result.indicators],
            "ranking": [{k: p[k] for k in ("rank", "code", "name", "score")} for p in result.to_json(ranking_rows)],
            "link": link, "shortlist": places}


def review_shortlist(catalogue: Catalogue, evidence: dict, data_dir: Path | None = None) -> dict:
    """An earlier workshop's evidence against today's data: the same ranking (unit, area, weights) computed now,
    and for each place the room saw, its rank, score and indicator values then and now, with each indicator's
    vintage then and now. ``{"area", "unit", "places": [{"code", "name", "rank_then", "rank_now", "score_then",
    "score_now", "moved" (places up the ranking: + means more need now), "values": [{"id", "title", "then",
    "now"}]}], "vintages": [{"id", "title", "then", "now"}], "missing": [indicator ids no longer in the
    catalogue]}``."""
    weights = {w["id"]: float(w["weight"]) for w in evidence.get("weights", [])}
    if not weights or not evidence.get("unit_code") or not evidence.get("area_code"):
        raise ValueError("this record has no ranking to review (made before version 4 kept the weights, or its "
                         "options were typed, not taken from Strategic focus)")
    missing = [k for k in weights if k not in catalogue]
    now = compute_focus(catalogue, evidence["unit_code"], evidence["area_code"],
                        {k: v for k, v in weights.items() if k not in missing},
                        include_incomplete=bool(evidence.get("include_incomplete")), data_dir=data_dir)
    t = now.table.set_index("code")
    titles = {w["id"]: w["title"] for w in evidence["weights"]}
    out = []
    for p in evidence.get("shortlist", []):
        here = t.loc[p["code"]] if p["code"] in t.index else None
        rank_now = None if here is None or pd.isna(here["rank"]) else int(here["rank"])
        rank_then = p.get("rank")
        out.append({"code": p["code"], "name": p["name"], "rank_then": rank_then, "rank_now": rank_now,
                    "score_then": p.get("score"), "score_now": None if here is None else _num(here["score"]),
                    "moved": None if rank_then is None or rank_now is None else rank_then - rank_now,
                    "values": [{"id": k, "title": titles.get(k, k), "then": (p.get("values") or {}).get(k),
                                "now": None if here is None or k in missing else _num(here.get(f"v_{k}"))}
                               for k in weights]})
    then_v = {v["id"]: v.get("vintage", "") for v in evidence.get("vintages", [])}
    return {"area": evidence.get("area", ""), "unit": evidence.get("unit", ""), "places": out, "missing": missing,
            "vintages": [{"id": k, "title": titles.get(k, k), "then": then_v.get(k, ""),
                          "now": "" if k in missing else catalogue.get(k).vintage} for k in weights]}

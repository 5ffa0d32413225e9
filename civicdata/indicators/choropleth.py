"""Choropleth data: a layer's values on its own geography for a place, classed nationally.

Pure functions over frames; the plotly figure itself is built in :mod:`civicdata.figures.maps`.

Classification rules (stated in the legend):

* **IoD layers** (theme ``deprivation``): classes are the layer's *national deciles* over
  every English area, class 1 = the most deprived 10% (using the layer's polarity). For a
  decile layer the class is the published decile.
* **Layers with declared ``breaks``**: classes are the intervals between the breaks.
* **Other layers**: national quintiles of the layer (class 1 = worst fifth when polarity is
  declared; lowest fifth when neutral).

National aggregates (the England view) are population-weighted means of the layer's areas
within each local authority district (2024): weights are mid-2015 population for LSOA/MSOA
2011 layers (IoD2019 denominators) and Census 2021 usual residents for LSOA/MSOA 2021 layers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd

from civicdata.indicators.catalogue import LayerDescriptor
from civicdata.geo.boundaries import boundaries_of, outlines, wards
from civicdata.geo.geography import code_name, load_boundaries, load_lookup
from civicdata.geo.places import areas_in_place
from civicdata.indicators.layers import load_layer
from civicdata.geo.names import with_readable_names
from civicdata.geo.places import AREA_PREFIX, place_districts

#: 10 colour-blind-safe sequential colours (viridis), class 1 (most deprived / worst) first.
DECILE_COLOURS: tuple[str, ...] = ("#440154", "#482878", "#3e4989", "#31688e", "#26828e",
                                   "#1f9e89", "#35b779", "#6ece58", "#b5de2b", "#fde725")
#: 5 classes from the same palette, worst first.
QUINTILE_COLOURS: tuple[str, ...] = ("#440154", "#3b528b", "#21918c", "#5ec962", "#fde725")
MISSING_COLOUR = "#d9d9d9"

AGGREGATION_RULE = ("England view: population-weighted mean of the layer's areas in each local authority "
                    "(2024 boundaries); weights are mid-2015 population (2011 areas) or Census 2021 residents "
                    "(2021 areas). Areas with no value are left out of the mean.")


@dataclass(frozen=True)
class Classes:
    """How a layer is classed: one label and colour per class (class 1 first), and the rule."""

    labels: tuple[str, ...]
    colours: tuple[str, ...]
    rule: str
    polarity_note: str


def _worse_first(desc: LayerDescriptor) -> bool:
    return desc.polarity != "higher_is_better"


def national_frame(desc: LayerDescriptor) -> pd.DataFrame:
    """The layer for all of England with ``national_rank`` (1 = worst; for neutral layers 1 = highest),
    ``national_n`` and ``class`` (1..k, NaN when the value is missing)."""
    frame = load_layer(desc).copy()
    frame = frame[frame["code"].str.startswith("E") | (desc.geography == "urn")]
    ok = frame["value"].notna()
    ascending = desc.polarity == "higher_is_better"
    frame["national_rank"] = frame.loc[ok, "value"].rank(method="min", ascending=ascending).astype("Int64")
    if desc.unit.lower().startswith(("decile", "rank")):  # a decile's "rank 1 of 33,755" is shared by 3,376 areas,
        frame["national_rank"] = pd.NA  # and a rank is its own value: no second rank is given for either
        frame["national_rank"] = frame["national_rank"].astype("Int64")
    frame["national_n"] = int(ok.sum())
    frame["class"] = classify_values(desc, frame["value"], frame["value"])
    return frame


def classify_values(desc: LayerDescriptor, values: pd.Series, reference: pd.Series) -> pd.Series:
    """Class (1..k, worst first) of each value, classed against the national ``reference`` values."""
    values = pd.to_numeric(values, errors="coerce")
    ref = pd.to_numeric(reference, errors="coerce").dropna()
    if desc.unit.startswith("decile"):
        cls = values.round()
        return (11 - cls if desc.polarity == "higher_is_worse" else cls).astype("float")
    if desc.breaks:
        edges = np.asarray(desc.breaks, dtype=float)
        idx = np.searchsorted(edges, values.to_numpy(), side="right")  # 0..len(edges)
        k = len(edges) + 1
        cls = pd.Series(idx + 1, index=values.index, dtype=float)  # ascending classes
        if _worse_first(desc):
            cls = k + 1 - cls
        return cls.where(values.notna())
    k = 10 if desc.theme == "deprivation" else 5
    if ref.empty:
        return pd.Series(np.nan, index=values.index)
    worse_high = _worse_first(desc)
    # percentile of each value in the national distribution, worst = 0
    sorted_ref = np.sort(ref.to_numpy())
    pct = np.searchsorted(sorted_ref, values.to_numpy(), side="right") / len(sorted_ref)
    if worse_high:
        pct = 1 - np.searchsorted(sorted_ref, values.to_numpy(), side="left") / len(sorted_ref)
    cls = np.clip(np.ceil(pct * k), 1, k)
    return pd.Series(cls, index=values.index).where(values.notna())


def layer_classes(desc: LayerDescriptor, reference: pd.Series) -> Classes:
    """Labels, colours and the stated rule for ``desc`` (``reference`` = national values)."""
    worse = {"higher_is_worse": "higher values are worse", "higher_is_better": "higher values are better",
             "neutral": "neither direction is better"}[desc.polarity]
    if desc.unit.startswith("decile"):
        labels = tuple(f"Decile {i}" + (" (most deprived 10%)" if i == 1 else " (least deprived 10%)" if i == 10 else "")
                       for i in range(1, 11))
        return Classes(labels, DECILE_COLOURS, "Published national deciles: 1 = most deprived 10% of England.", worse)
    if desc.breaks:
        edges = list(desc.breaks)
        asc = [f"below {edges[0]:g}"] + [f"{a:g} to {b:g}" for a, b in zip(edges, edges[1:])] + [f"{edges[-1]:g} and above"]
        labels = tuple(reversed(asc)) if _worse_first(desc) else tuple(asc)
        colours = _palette(len(labels))
        return Classes(labels, colours, f"Declared class breaks of the layer ({desc.unit}).", worse)
    k = 10 if desc.theme == "deprivation" else 5
    ref = pd.to_numeric(reference, errors="coerce").dropna()
    q = np.quantile(ref, np.linspace(0, 1, k + 1)) if len(ref) else np.full(k + 1, np.nan)
    ranges = [f"{q[i]:.4g} to {q[i + 1]:.4g}" for i in range(k)]
    if _worse_first(desc):
        ranges = ranges[::-1]
    name = "decile" if k == 10 else "quintile"
    tag = "worst" if desc.polarity != "neutral" else ("highest" if _worse_first(desc) else "lowest")
    unit = "" if desc.unit.startswith(("rank", "decile", "mean decile")) else f" {desc.unit}"
    labels = tuple(f"{i + 1}: {r}{unit}" + (f" ({tag})" if i == 0 else "") for i, r in enumerate(ranges))
    rule = (f"National {name}s of the layer over all English areas; class 1 = the "
            f"{'most deprived' if desc.theme == 'deprivation' else tag} {100 // k}%.")
    return Classes(labels, DECILE_COLOURS if k == 10 else QUINTILE_COLOURS, rule, worse)


def _palette(k: int) -> tuple[str, ...]:
    idx = np.linspace(0, len(DECILE_COLOURS) - 1, k).round().astype(int)
    return tuple(DECILE_COLOURS[i] for i in idx)


def boundaries_for(geography: str, lad_code: str, data_dir: Path | None = None,
                   override: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """Boundaries of the areas at ``geography`` in a district (or a saved area, ``area:ID``: its neighbourhoods,
    its local authorities, and the wards whose representative point lies in it): columns ``code``, ``name``
    (readable, see :mod:`civicdata.geo.names`), ``ons_name``, ``geometry``.

    Every district is drawn the same way: ONS generalised (BGC, 20 m) areas read by district, and the
    district's outline dissolved from its LSOAs 2021 (:mod:`civicdata.geo.boundaries`). Wards are the May
    2025 wards. ``override`` (a user-loaded finer file with ``code``/``name``/``geometry`` at the same
    geography) replaces the bundled polygons where it has them.
    """
    b = _boundaries_for(geography, lad_code, data_dir, override)
    return gpd.GeoDataFrame(with_readable_names(b, geography, data_dir=data_dir), geometry="geometry", crs="EPSG:4326")


def _boundaries_for(geography: str, lad_code: str, data_dir: Path | None = None,
                   override: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The bundled polygons (ONS names); see :func:`boundaries_for`."""
    levels = ("lsoa11", "lsoa21", "msoa11", "msoa21")
    if geography not in levels and geography not in ("ward", "lad"):
        raise ValueError(f"no polygons for geography '{geography}'")
    lads = place_districts(lad_code, data_dir)
    if geography == "lad":
        return outlines(lads, data_dir)
    if geography == "ward":  # May 2025 wards: placed by position (values are keyed on 2024 ward codes)
        b = wards(lads, data_dir)
        if lad_code.startswith(AREA_PREFIX):
            area = _boundaries_for("lsoa21", lad_code, data_dir).geometry.union_all()
            b = b[b.geometry.representative_point().within(area)]
        return gpd.GeoDataFrame(b.reset_index(drop=True), geometry="geometry", crs="EPSG:4326")
    codes = areas_in_place(lad_code, geography, data_dir)
    b = boundaries_of(geography, codes["code"], data_dir)
    if override is not None and len(override):
        o = override[override["code"].isin(set(codes["code"]))]
        b = pd.concat([b[~b["code"].isin(set(o["code"]))], o[["code", "name", "geometry"]]], ignore_index=True)
        b = gpd.GeoDataFrame(b, geometry="geometry", crs="EPSG:4326")
    return b.sort_values("code").reset_index(drop=True)


def place_frame(desc: LayerDescriptor, lad_code: str, data_dir: Path | None = None,
                override: gpd.GeoDataFrame | None = None) -> gpd.GeoDataFrame:
    """The layer's areas in one district with values, CI, national rank, class and label.

    Columns: ``code``, ``name``, ``value``, ``ci_lower``, ``ci_upper``, ``status``,
    ``national_rank``, ``national_n``, ``class``, ``geometry`` (EPSG:4326). Areas with no
    value keep their polygon with ``class`` NaN (drawn grey, labelled "no data").
    """
    nat = national_frame(desc)
    b = boundaries_for(desc.geography, lad_code, data_dir, override)
    cols = ["code", "value", "ci_lower", "ci_upper", "status", "national_rank", "national_n", "class"]
    out = b.merge(nat[cols], on="code", how="left")
    out["status"] = out["status"].fillna("missing")
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def population_weights(geography: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Weights for aggregation: columns ``code``, ``lad24_code``, ``weight`` (people)."""
    if geography in ("lsoa11", "msoa11"):
        t = load_lookup("lsoa11", data_dir)
        col = "lsoa11_code" if geography == "lsoa11" else "msoa11_code"
        w = t.groupby([col, "lad24_code"], as_index=False)["population_mid2015"].sum()
    elif geography in ("lsoa21", "msoa21"):
        t = load_lookup("lsoa21", data_dir)
        col = "lsoa21_code" if geography == "lsoa21" else "msoa21_code"
        w = t.groupby([col, "lad24_code"], as_index=False)["population2021"].sum()
    else:
        raise ValueError(f"no population weights for geography '{geography}'")
    return w.set_axis(["code", "lad24_code", "weight"], axis=1)


def national_lad_frame(desc: LayerDescriptor, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """England view: the layer aggregated to local authorities (see :data:`AGGREGATION_RULE`).

    Columns: ``code`` (LAD 2024), ``name``, ``value`` (population-weighted mean), ``areas``
    (areas with a value), ``class`` (classed against the LAD values themselves, same rule),
    ``geometry``.
    """
    nat = load_layer(desc)
    if desc.geography == "lad":  # already one value per local authority: nothing to aggregate
        agg = nat.dropna(subset=["value"]).drop_duplicates("code").set_index("code")[["value"]].assign(areas=1)
        agg.index.name = "lad24_code"
    else:
        w = population_weights(desc.geography, data_dir)
        m = w.merge(nat[["code", "value"]], on="code", how="inner").dropna(subset=["value", "weight"])
        m["wv"] = m["value"] * m["weight"]
        agg = m.groupby("lad24_code").agg(wv=("wv", "sum"), weight=("weight", "sum"), areas=("code", "nunique"))
        agg["value"] = agg["wv"] / agg["weight"]
    lad = load_boundaries("ltla24", "england", data_dir).pipe(code_name)
    out = lad.merge(agg[["value", "areas"]].reset_index().rename(columns={"lad24_code": "code"}), on="code", how="left")
    agg_desc = aggregate_descriptor(desc)
    out["class"] = classify_values(agg_desc, out["value"], out["value"])
    out["status"] = out["value"].notna().map({True: "ok", False: "missing"})
    out[["ci_lower", "ci_upper"]] = float("nan")
    return gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")


def aggregate_descriptor(desc: LayerDescriptor) -> LayerDescriptor:
    """The descriptor to class district averages with: a mean of deciles is no longer a decile,
    so it is classed by national deciles of the district means."""
    if not desc.unit.startswith("decile"):
        return desc
    return replace(desc, unit="mean decile", breaks=None)

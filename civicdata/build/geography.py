"""Geography: population (mid-2015, Census 2021), boundaries (ONS generalised for every district; the England view's outlines), the ONS lookups (LSOA 2011/2021, wards, districts, ICBs) and readable names."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from civicdata import settings
from civicdata.build.io import (
    Bundle,
    _raise,
    _read_geo,
    _round_geom,
    _src,
    _write,
    _write_layer,
)
from civicdata.build.sources import SOURCES
from civicdata.errors import Problem
from civicdata.readers import (
    ENGLAND_LSOA_RE,
    ENGLAND_MSOA_RE,
    LSOA_RE,
    MSOA_RE,
    WARD_RE,
    check_codes,
    check_unique,
    read_text_table,
    require_columns,
    to_number,
)


def build_population2021(sources: Path, bundle: Bundle) -> pd.DataFrame:
    """Census 2021 usual residents per LSOA 2021 (England only): total and 0-15."""
    problems: list[Problem] = []
    path, label = _src(sources, "census2021_age")
    f = read_text_table(path, label=label, problems=problems)
    _raise(problems, "Census 2021 population")
    if require_columns(f, ["lsoa21_code", "lsoa21_name", "age_group", "usual_residents"], label=label,
                       problems=problems):
        check_codes(f, "lsoa21_code", LSOA_RE, label=label, problems=problems)
        f["n"] = to_number(f, "usual_residents", label=label, problems=problems, integer=True)
    _raise(problems, "Census 2021 population")
    f = f[f["lsoa21_code"].str.startswith("E")]
    total = f.groupby("lsoa21_code")["n"].sum()
    kids = f[f["age_group"] == "Aged 15 years and under"].groupby("lsoa21_code")["n"].sum()
    out = pd.DataFrame({"population2021": total, "children0_15_2021": kids}).reset_index()
    out = out.sort_values("lsoa21_code")
    _write(out, bundle.out / "indicators" / "population2021_lsoa21.parquet")
    bundle.record("population2021_lsoa21", ["indicators/population2021_lsoa21.parquet"], ["census2021_age"],
                  len(out), "LSOA 2021", "Census 2021 usual residents (England)")
    src = SOURCES["census2021_age"]
    for col, title in (("population2021", "Usual residents (Census 2021)"),
                       ("children0_15_2021", "Children aged 0-15 (Census 2021)")):
        _write_layer(bundle, "indicators", {
            "id": col, "title": title, "unit": "people", "polarity": "neutral", "geography": "lsoa21",
            "file": "population2021_lsoa21.parquet", "key_column": "lsoa21_code", "value_column": col,
            "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
            "vintage": "2021", "theme": "population", "valid_min": 0})
    return out



DETAIL_LAYERS = [  # (source key, level, ONS code column, ONS name column, code regex)
    ("bgc_lsoa11", "lsoa11", "LSOA11CD", "LSOA11NM", ENGLAND_LSOA_RE),
    ("bgc_lsoa21", "lsoa21", "LSOA21CD", "LSOA21NM", ENGLAND_LSOA_RE),
    ("bgc_msoa11", "msoa11", "MSOA11CD", "MSOA11NM", ENGLAND_MSOA_RE),
    ("bgc_msoa21", "msoa21", "MSOA21CD", "MSOA21NM", ENGLAND_MSOA_RE),
    ("bgc_ward25", "ward25", "WD25CD", "WD25NM", WARD_RE),
]

ENGLAND_LAYERS = [  # (source key, out name, code column, regex): the England view's outlines (BSC, 200 m)
    ("eng_ltla24", "ltla24", "ltla24_code", r"^E0[6789]\d{6}$"),
    ("eng_icb22", "icb22", "icb22_code", r"^E54\d{6}$"),
]

#: holes smaller than this in a dissolved district outline are slivers between neighbouring areas, not places
SLIVER_M2 = 10_000.0


def _polygonal(geoms: np.ndarray) -> np.ndarray:
    """Valid (Multi)Polygons: invalid ones (a ring crossing itself once rounded) rebuilt by GEOS's
    ``structure`` method, which keeps only polygonal parts."""
    bad = ~shapely.is_valid(geoms)
    if bad.any():
        geoms = geoms.copy()
        geoms[bad] = shapely.make_valid(geoms[bad], method="structure", keep_collapsed=False)
    return geoms


def _detail_geometry(geoms) -> np.ndarray:
    """Coordinates rounded to ``BOUNDARY_DECIMALS`` (about 1 m) point by point, then made valid."""
    rounded = shapely.set_precision(np.asarray(geoms), 10 ** -settings.BOUNDARY_DECIMALS, mode="pointwise")
    return _polygonal(rounded)


def build_boundaries(sources: Path, bundle: Bundle) -> dict[str, gpd.GeoDataFrame]:
    """Read every boundary source; write the England view's outlines (LAD 2024, ICB 2022; BSC).

    Returns the ONS generalised (BGC, 20 m) areas of all England as ``bgc/<level>`` frames
    (``<level>_code``, ``<level>_name``, ``geometry``, EPSG:4326, by code) for
    :func:`build_district_boundaries`, and ``england/ltla24``, ``england/icb22``.
    """
    problems: list[Problem] = []
    raw: dict[str, gpd.GeoDataFrame] = {}
    for key, level, code_col, name_col, pattern in DETAIL_LAYERS:
        path, label = _src(sources, key)
        g = _read_geo(path, label, code_col, pattern, problems)
        if g is not None:
            if name_col not in g.columns:
                problems.append(Problem(label, "required column is missing", row=1, column=name_col))
            else:
                check_unique(pd.DataFrame({code_col: g[code_col]}), code_col, label=label, problems=problems)
            raw["bgc/" + level] = g
    for key, name, code_col, pattern in ENGLAND_LAYERS:
        path, label = _src(sources, key)
        g = _read_geo(path, label, code_col, r"^[EWSN]\d{8}$", problems)
        if g is not None:
            raw["england/" + name] = g
    _raise(problems, "boundaries")
    out: dict[str, gpd.GeoDataFrame] = {}
    for key, level, code_col, name_col, pattern in DETAIL_LAYERS:
        g = raw["bgc/" + level]
        g = g[g[code_col].str.match(pattern)].sort_values(code_col)
        out["bgc/" + level] = gpd.GeoDataFrame(
            {f"{level}_code": g[code_col].to_numpy(), f"{level}_name": g[name_col].to_numpy()},
            geometry=_detail_geometry(g.geometry.values), crs=settings.WGS84)
    for key, name, code_col, pattern in ENGLAND_LAYERS:
        g = raw["england/" + name]
        g = g[g[code_col].str.match(pattern)].sort_values(code_col)
        g = _round_geom(g[[c for c in g.columns if c != "geometry"] + ["geometry"]])
        path = f"geography/england/{name}.parquet"
        _write(g, bundle.out / path)
        bundle.record(f"england_{name}", [path], [key], len(g), SOURCES[key].geography, SOURCES[key].title,
                      note="the England view's outlines: ONS super generalised (BSC, 200 m) as distributed; England "
                           "codes only; coordinates rounded to 6 decimals")
        out["england/" + name] = g
    return out


def _outlines(lsoa21: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Each district's outline as the union of its LSOAs 2021 (``lad24_code``, ``geometry``), sliver holes
    (under :data:`SLIVER_M2`, gaps between neighbouring LSOAs) filled."""
    rows = []
    for lad, idx in lsoa21.groupby("lad24_code", sort=True).indices.items():
        u = shapely.union_all(lsoa21.geometry.values[idx])
        polys = []
        for part in shapely.get_parts(u):
            if part.geom_type != "Polygon":
                continue
            keep = [r for r in part.interiors
                    if shapely.area(shapely.polygons(r)) * _M2_PER_DEG2(part.centroid.y) >= SLIVER_M2]
            polys.append(shapely.Polygon(part.exterior, keep))
        rows.append((lad, polys[0] if len(polys) == 1 else shapely.MultiPolygon(polys)))
    return gpd.GeoDataFrame({"lad24_code": [r[0] for r in rows]}, geometry=[r[1] for r in rows], crs=settings.WGS84)


def _M2_PER_DEG2(lat: float) -> float:
    """Square metres per square degree near latitude ``lat`` (for a size test, not a measurement)."""
    return 111_320.0 ** 2 * float(np.cos(np.radians(lat)))


def _write_by_district(g: gpd.GeoDataFrame, path: Path) -> None:
    """GeoParquet sorted by ``lad24_code`` and code, one row group per district (a reader that filters on
    ``lad24_code`` reads only that district's bytes); zstd at a high level, as the files are read, not written, often."""
    import io as _io

    import pyarrow.parquet as pq

    g = g.reset_index(drop=True)
    buf = _io.BytesIO()
    g.to_parquet(buf, schema_version="1.0.0", write_covering_bbox=False, index=False)
    table = pq.read_table(_io.BytesIO(buf.getvalue()))
    path.parent.mkdir(parents=True, exist_ok=True)
    lads = g["lad24_code"].to_numpy()
    starts = np.flatnonzero(np.r_[True, lads[1:] != lads[:-1]])
    ends = np.r_[starts[1:], len(g)]
    with pq.ParquetWriter(path, table.schema, compression="zstd", compression_level=19) as w:
        for a, b in zip(starts, ends):
            part = table.slice(int(a), int(b - a))
            w.write_table(part, row_group_size=int(b - a))


def build_district_boundaries(bundle: Bundle, boundaries: dict[str, gpd.GeoDataFrame],
                              lookups: dict[str, pd.DataFrame]) -> None:
    """The detailed boundaries the maps draw, for every district of England, stored by district.

    ``geography/districts/<level>.parquet`` for LSOA 2011/2021, MSOA 2011/2021 (ONS BGC, 20 m) and
    wards (May 2025, BGC), each row with the LAD 2024 it lies in (``lad24_code``: the lookups' district
    for LSOAs and MSOAs; for a ward, the district holding its representative point), and
    ``lad24.parquet``: each district's outline dissolved from its LSOAs 2021, so no neighbourhood spills
    past its council's line. Coordinates to 5 decimals (about 1 m); no simplification (the maps simplify
    for their scale when they draw).
    """
    problems: list[Problem] = []
    l11, l21 = lookups["lsoa11"], lookups["lsoa21"]
    lad_of = {
        "lsoa11": l11.set_index("lsoa11_code")["lad24_code"],
        "lsoa21": l21.set_index("lsoa21_code")["lad24_code"],
        "msoa11": l11.groupby("msoa11_code")["lad24_code"].agg(lambda s: s.mode().iloc[0]),
        "msoa21": l21.groupby("msoa21_code")["lad24_code"].agg(lambda s: s.mode().iloc[0]),
    }
    frames: dict[str, gpd.GeoDataFrame] = {}
    for key, level, *_ in DETAIL_LAYERS:
        g = boundaries["bgc/" + level].copy()
        if level in lad_of:
            g["lad24_code"] = g[f"{level}_code"].map(lad_of[level])
            missing = g.loc[g["lad24_code"].isna(), f"{level}_code"]
            if len(missing):
                problems.append(Problem(SOURCES[key].path, f"{len(missing)} codes are in no district of the "
                                        f"lookups, e.g. {missing.iloc[0]}", column=f"{level.upper()[:4]}CD"))
        frames[level] = g
    _raise(problems, "district boundaries")
    outline = _outlines(frames["lsoa21"])
    names = lookups["lad24"].set_index("lad24_code")["lad24_name"]
    outline.insert(1, "lad24_name", outline["lad24_code"].map(names))
    wards = frames["ward25"]
    at = gpd.GeoDataFrame(geometry=wards.geometry.representative_point(), crs=settings.WGS84)
    hit = gpd.sjoin(at, outline[["lad24_code", "geometry"]], predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    wards["lad24_code"] = hit["lad24_code"].reindex(wards.index).to_numpy()
    if wards["lad24_code"].isna().any():  # a point on a sliver between districts: the nearest district
        todo = wards["lad24_code"].isna()
        near = gpd.sjoin_nearest(at[todo].to_crs(settings.BNG), outline[["lad24_code", "geometry"]].to_crs(settings.BNG))
        wards.loc[todo, "lad24_code"] = near["lad24_code"][~near.index.duplicated()].reindex(wards.index[todo]).to_numpy()
    frames["ward25"] = wards
    frames["lad24"] = outline
    titles = {"lsoa11": "LSOA 2011", "lsoa21": "LSOA 2021", "msoa11": "MSOA 2011", "msoa21": "MSOA 2021",
              "ward25": "Wards May 2025", "lad24": "LAD 2024 (dissolved from LSOA 2021)"}
    for level, g in frames.items():
        code = "lad24_code" if level == "lad24" else f"{level}_code"
        cols = [code, "lad24_name", "geometry"] if level == "lad24" else [f"{level}_code", f"{level}_name", "lad24_code", "geometry"]
        g = g[cols].sort_values(["lad24_code", code] if level != "lad24" else [code]).reset_index(drop=True)
        path = f"geography/districts/{level}.parquet"
        _write_by_district(g, bundle.out / path)
        key = "bgc_lsoa21" if level == "lad24" else next(k for k, lv, *_ in DETAIL_LAYERS if lv == level)
        used = [key] + (["lsoa21_ward24"] if level == "lad24" else [])
        bundle.record(f"districts_{level}", [path], used, len(g), titles[level],
                      f"{titles[level]} boundaries of every English district, ONS generalised (BGC, 20 m)",
                      note="one row group per LAD 2024 (read a district with a filter on lad24_code); coordinates "
                           "rounded to 5 decimals (about 1 m); not simplified"
                           + ("; each outline is the union of the district's LSOAs 2021" if level == "lad24" else
                              "; a ward's district is the one holding its representative point" if level == "ward25"
                              else ""))



def build_lookups(sources: Path, bundle: Bundle, iod2019: pd.DataFrame, pop2021: pd.DataFrame,
                  boundaries: dict[str, gpd.GeoDataFrame]) -> dict[str, pd.DataFrame]:
    """All-England lookups: LSOA11 -> MSOA11 -> LAD, LSOA11 <-> LSOA21, LSOA -> (sub-)ICB, ward, RUC."""
    problems: list[Problem] = []
    t: dict[str, pd.DataFrame] = {}
    specs = {
        "oa11_lookup": ["LSOA11CD", "LSOA11NM", "MSOA11CD", "MSOA11NM", "LAD17CD", "LAD17NM", "RGN11NM", "CTRY11CD"],
        "lsoa11_centroids": ["lsoa11_code", "longitude", "latitude"],
        "lsoa11_lsoa21": ["lsoa11_code", "change_code", "lsoa21_code", "lsoa21_name", "ltla22_code"],
        "msoa11_msoa21": ["msoa11_code", "msoa21_code", "msoa21_name", "ltla22_code"],
        "lsoa11_icb22": ["lsoa11_code", "sicbl22_code", "sicbl22_name", "icb22_code", "icb22_name"],
        "lsoa21_icb24": ["lsoa21_code", "sicbl24_code", "sicbl24_name", "icb24_code", "icb24_name"],
        "lsoa21_ward24": ["lsoa21_code", "lsoa21_name", "ward24_code", "ward24_name", "ltla24_code", "ltla24_name"],
        "lsoa11_ward17": ["lsoa11_code", "ward17_code"],
        "ruc11": ["lsoa11_code", "ruc11_code", "classification", "ruc"],
        "ruc21": ["lsoa21_code", "ruc21_code", "classification", "ruc"],
        "ltla24_region24": ["ltla24_code", "ltla24_name", "region24_code", "region24_name"],
        "ltla23_cauth23": ["ltla23_code", "cauth23_code", "cauth23_name"],
    }
    for key, cols in specs.items():
        path, label = _src(sources, key)
        f = read_text_table(path, label=label, problems=problems)
        if f is not None and require_columns(f, cols, label=label, problems=problems):
            t[key] = f
    _raise(problems, "lookups")

    oa = t["oa11_lookup"]
    oa = oa[oa["CTRY11CD"] == "E92000001"]
    l11 = (oa.drop_duplicates("LSOA11CD")
           [["LSOA11CD", "MSOA11CD", "MSOA11NM", "LAD17CD", "LAD17NM", "RGN11NM"]]
           .rename(columns={"LSOA11CD": "lsoa11_code", "MSOA11CD": "msoa11_code", "MSOA11NM": "msoa11_name",
                            "LAD17CD": "lad17_code", "LAD17NM": "lad17_name", "RGN11NM": "region11_name"}))
    l11 = iod2019[["lsoa11_code", "lsoa11_name", "lad19_code", "lad19_name"]].merge(l11, on="lsoa11_code",
                                                                                     how="left", validate="1:1")
    if l11["msoa11_code"].isna().any():
        miss = l11.loc[l11["msoa11_code"].isna(), "lsoa11_code"]
        _raise([Problem(SOURCES["oa11_lookup"].path,
                        f"{len(miss)} IoD2019 LSOAs are not in the OA lookup, e.g. {miss.iloc[0]}", column="LSOA11CD")],
               "lookups")
    cen = t["lsoa11_centroids"]
    cen = pd.DataFrame({"lsoa11_code": cen["lsoa11_code"],
                        "lon": to_number(cen, "longitude", label=SOURCES["lsoa11_centroids"].path, problems=problems),
                        "lat": to_number(cen, "latitude", label=SOURCES["lsoa11_centroids"].path, problems=problems)})
    l11 = l11.merge(cen, on="lsoa11_code", how="left", validate="1:1")
    # England and Wales centres: a point nearest a Welsh LSOA centre is outside England.
    cen_ew = cen.sort_values("lsoa11_code")
    _write(cen_ew, bundle.out / "lookups" / "lsoa11_centroids_ew.parquet")
    bundle.record("lookup_lsoa11_centroids_ew", ["lookups/lsoa11_centroids_ew.parquet"], ["lsoa11_centroids"],
                  len(cen_ew), "LSOA 2011 (England and Wales)", "LSOA 2011 centre points, England and Wales")
    icb = t["lsoa11_icb22"][specs["lsoa11_icb22"]]
    l11 = l11.merge(icb, on="lsoa11_code", how="left", validate="1:1")
    l11 = l11.merge(t["lsoa11_ward17"][["lsoa11_code", "ward17_code"]], on="lsoa11_code", how="left", validate="1:1")
    ruc = t["ruc11"].rename(columns={"classification": "ruc11_class", "ruc": "ruc11_urban_rural"})
    l11 = l11.merge(ruc[["lsoa11_code", "ruc11_code", "ruc11_class", "ruc11_urban_rural"]], on="lsoa11_code",
                    how="left", validate="1:1")
    l11["population_mid2015"] = iod2019.set_index("lsoa11_code").loc[l11["lsoa11_code"], "population_mid2015"].values

    x = t["lsoa11_lsoa21"]
    x = x[x["lsoa11_code"].str.startswith("E01") | x["lsoa21_code"].str.startswith("E01")]
    x = x[["lsoa11_code", "lsoa21_code", "change_code", "ltla22_code"]].sort_values(["lsoa11_code", "lsoa21_code"])
    bad = ~x["change_code"].isin(["U", "S", "M", "X"])
    for i in x.index[bad][:5]:
        problems.append(Problem(SOURCES["lsoa11_lsoa21"].path, f"unknown change code '{x.at[i, 'change_code']}'",
                                row=int(i) + 2, column="change_code"))

    w = t["lsoa21_ward24"]
    w = w[w["lsoa21_code"].str.startswith("E01")]
    l21 = w[["lsoa21_code", "lsoa21_name", "ward24_code", "ward24_name", "ltla24_code", "ltla24_name"]].rename(
        columns={"ltla24_code": "lad24_code", "ltla24_name": "lad24_name"})
    # MSOA 2021 by the ONS naming rule: an LSOA is named after its MSOA plus one letter.
    m21 = boundaries["bgc/msoa21"][["msoa21_code", "msoa21_name"]]
    l21["msoa21_name"] = l21["lsoa21_name"].str[:-1]
    l21 = l21.merge(pd.DataFrame(m21), on="msoa21_name", how="left", validate="m:1")
    if l21["msoa21_code"].isna().any():
        miss = l21.loc[l21["msoa21_code"].isna(), "lsoa21_name"]
        problems.append(Problem(SOURCES["lsoa21_ward24"].path,
                                f"{len(miss)} LSOA 2021 names match no MSOA 2021 name, e.g. {miss.iloc[0]}",
                                column="lsoa21_name"))
    l21 = l21.merge(t["lsoa21_icb24"][specs["lsoa21_icb24"]], on="lsoa21_code", how="left", validate="1:1")
    ruc = t["ruc21"].rename(columns={"classification": "ruc21_class", "ruc": "ruc21_urban_rural"})
    l21 = l21.merge(ruc[["lsoa21_code", "ruc21_code", "ruc21_class", "ruc21_urban_rural"]], on="lsoa21_code",
                    how="left", validate="1:1")
    l21 = l21.merge(pop2021[["lsoa21_code", "population2021"]], on="lsoa21_code", how="left", validate="1:1")
    # Centre of each LSOA 2021: representative point of its (generalised, BGC) boundary, always inside it.
    b21 = boundaries["bgc/lsoa21"]
    rp = b21.geometry.representative_point()
    cen21 = pd.DataFrame({"lsoa21_code": b21["lsoa21_code"].values, "lon": rp.x.round(6).values,
                          "lat": rp.y.round(6).values})
    l21 = l21.merge(cen21, on="lsoa21_code", how="left", validate="1:1")
    # LAD 2024 of each LSOA 2011, through its LSOA 2021 successor(s) (the first one, by code).
    first21 = x.drop_duplicates("lsoa11_code")[["lsoa11_code", "lsoa21_code"]]
    l11 = l11.merge(first21.merge(l21[["lsoa21_code", "lad24_code", "lad24_name"]], on="lsoa21_code")
                    .drop(columns="lsoa21_code"), on="lsoa11_code", how="left", validate="1:1")

    lad = t["ltla24_region24"][specs["ltla24_region24"]].rename(
        columns={"ltla24_code": "lad24_code", "ltla24_name": "lad24_name"})
    lad = lad[lad["lad24_code"].str.startswith("E")]
    ca = t["ltla23_cauth23"][["ltla23_code", "cauth23_code", "cauth23_name"]].rename(columns={"ltla23_code": "lad24_code"})
    lad = lad.merge(ca, on="lad24_code", how="left", validate="1:1")
    icb_of_lad = (l21.groupby("lad24_code")["icb24_code"].agg(lambda s: s.mode().iloc[0]).rename("main_icb24_code"))
    lad = lad.merge(icb_of_lad.reset_index(), on="lad24_code", how="left")
    _raise(problems, "lookups")

    m = t["msoa11_msoa21"]
    m = m[m["msoa11_code"].str.startswith("E02")][["msoa11_code", "msoa21_code", "ltla22_code"]]

    tables = {"lsoa11": l11.sort_values("lsoa11_code"), "lsoa21": l21.sort_values("lsoa21_code"),
              "lsoa11_lsoa21": x, "msoa11_msoa21": m.sort_values(["msoa11_code", "msoa21_code"]),
              "lad24": lad.sort_values("lad24_code")}
    sources_of = {"lsoa11": ["iod2019_file2", "oa11_lookup", "lsoa11_centroids", "lsoa11_icb22", "lsoa11_ward17",
                             "ruc11", "iod2019_file6", "lsoa21_ward24"],
                  "lsoa21": ["lsoa21_ward24", "bgc_msoa21", "lsoa21_icb24", "ruc21", "census2021_age", "bgc_lsoa21"],
                  "lsoa11_lsoa21": ["lsoa11_lsoa21"], "msoa11_msoa21": ["msoa11_msoa21"],
                  "lad24": ["ltla24_region24", "ltla23_cauth23", "lsoa21_icb24"]}
    titles = {"lsoa11": "LSOA 2011 -> MSOA 2011 -> LAD (2019, 2024), sub-ICB/ICB 2022, ward 2017, RUC 2011, centre",
              "lsoa21": "LSOA 2021 -> MSOA 2021, ward 2024, LAD 2024, sub-ICB/ICB 2024, RUC 2021, population, centre",
              "lsoa11_lsoa21": "LSOA 2011 <-> LSOA 2021 with ONS change codes (U unchanged, S split, M merged, X redrawn)",
              "msoa11_msoa21": "MSOA 2011 <-> MSOA 2021", "lad24": "LAD 2024 -> region, combined authority, main ICB"}
    for name, frame in tables.items():
        path = f"lookups/{name}.parquet"
        _write(frame, bundle.out / path)
        bundle.record(f"lookup_{name}", [path], sources_of[name], len(frame), name, titles[name])
    return tables



def build_names(sources: Path, bundle: Bundle, lookups: dict[str, pd.DataFrame]) -> None:
    """Readable MSOA names (House of Commons Library) for MSOA 2011 (v1.20) and MSOA 2021 (v2.2).

    Writes ``lookups/msoa11_names.parquet`` and ``lookups/msoa21_names.parquet``: columns
    ``msoa<yy>_code``, ``msoa<yy>_name`` (ONS, e.g. "Trafford 017") and
    ``msoa<yy>_readable_name`` (e.g. "Partington"). England codes only. Every MSOA of the
    bundle's lookups must have a readable name, or the build stops naming the missing ones.
    """
    problems: list[Problem] = []
    for key, yy in (("msoa11_names", "11"), ("msoa21_names", "21")):
        path, label = _src(sources, key)
        cols = [f"msoa{yy}cd", f"msoa{yy}nm", f"msoa{yy}hclnm"]
        f = read_text_table(path, label=label, problems=problems)
        if f is None or not require_columns(f, cols, label=label, problems=problems):
            continue
        check_codes(f, cols[0], MSOA_RE, label=label, problems=problems)
        check_unique(f, cols[0], label=label, problems=problems)
        for col in cols[1:]:
            for i in f.index[f[col].str.strip() == ""][:5]:
                problems.append(Problem(label, "blank name", row=int(i) + 2, column=col))
        f = f[cols].set_axis([f"msoa{yy}_code", f"msoa{yy}_name", f"msoa{yy}_readable_name"], axis=1)
        f = f[f[f"msoa{yy}_code"].str.startswith("E02")]
        known = set(lookups[f"lsoa{yy}"][f"msoa{yy}_code"].dropna())
        missing = sorted(known - set(f[f"msoa{yy}_code"]))
        if missing:
            problems.append(Problem(label, f"{len(missing)} MSOA 20{yy} codes of the lookups have no name, e.g. "
                                           f"{missing[0]}", column=cols[0]))
        f = f[f[f"msoa{yy}_code"].isin(known)].sort_values(f"msoa{yy}_code")
        out = f"lookups/msoa{yy}_names.parquet"
        if not problems:
            _write(f, bundle.out / out)
            bundle.record(f"lookup_msoa{yy}_names", [out], [key], len(f), f"MSOA 20{yy}",
                          f"Readable MSOA 20{yy} names (House of Commons Library)",
                          "England codes only; an LSOA is named by its MSOA's readable name plus its ONS name")
    _raise(problems, "MSOA names")

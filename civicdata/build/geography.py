"""Geography: population (mid-2015, Census 2021), boundaries (GM generalised, England), the ONS lookups (LSOA 2011/2021, wards, districts, ICBs) and readable names."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
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
    LAD_RE,
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



def _simplify_gm(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Simplify a GM coverage by GM_SIMPLIFY_METRES in BNG, keeping shared borders gap-free."""
    bng = g.to_crs(settings.BNG)
    geoms = shapely.coverage_simplify(shapely.make_valid(bng.geometry.values), settings.GM_SIMPLIFY_METRES)
    bng = bng.set_geometry(geoms)
    out = bng.to_crs(settings.WGS84)
    out = out.set_geometry(shapely.set_precision(out.geometry.values, 10 ** -settings.COORD_DECIMALS))
    return out



GM_LAYERS = [  # (source key, out name, code regex, code column, name column)
    ("gm_lsoa11", "lsoa11", LSOA_RE, "lsoa11_code", "lsoa11_name"),
    ("gm_lsoa21", "lsoa21", LSOA_RE, "lsoa21_code", "lsoa21_name"),
    ("gm_msoa11", "msoa11", r"^E02\d{6}$", "msoa11_code", "msoa11_name"),
    ("gm_msoa21", "msoa21", r"^E02\d{6}$", "msoa21_code", "msoa21_name"),
    ("gm_ward23", "ward23", WARD_RE, "ward23_code", "ward23_name"),
    ("gm_lad23", "lad23", LAD_RE, "lad23_code", "lad23_name"),
    ("gm_cauth23", "cauth23", r"^E47\d{6}$", "cauth23_code", "cauth23_name"),
]



ENGLAND_LAYERS = [  # (source key, out name, code column, regex)
    ("eng_lsoa11", "lsoa11", "lsoa11_code", ENGLAND_LSOA_RE),
    ("eng_lsoa21", "lsoa21", "lsoa21_code", ENGLAND_LSOA_RE),
    ("eng_msoa11", "msoa11", "msoa11_code", ENGLAND_MSOA_RE),
    ("eng_msoa21", "msoa21", "msoa21_code", ENGLAND_MSOA_RE),
    ("eng_wards22", "wards22", "ward22_code", r"^E05\d{6}$"),
    ("eng_ltla24", "ltla24", "ltla24_code", r"^E0[6789]\d{6}$"),
    ("eng_icb22", "icb22", "icb22_code", r"^E54\d{6}$"),
]



def build_boundaries(sources: Path, bundle: Bundle) -> dict[str, gpd.GeoDataFrame]:
    """GM boundaries (simplified) and England coarse boundaries (England codes only)."""
    problems: list[Problem] = []
    raw: dict[str, gpd.GeoDataFrame] = {}
    for key, name, pattern, code_col, name_col in GM_LAYERS:
        path, label = _src(sources, key)
        g = _read_geo(path, label, "area_code", pattern, problems)
        if g is not None:
            if "area_name" not in g.columns:
                problems.append(Problem(label, "required column is missing", row=1, column="area_name"))
            raw["gm/" + name] = g
    eng_codes = {}
    for key, name, code_col, pattern in ENGLAND_LAYERS:
        path, label = _src(sources, key)
        g = _read_geo(path, label, code_col, r"^[EWSN]\d{8}$", problems)
        if g is not None:
            raw["england/" + name] = g
            eng_codes[name] = (code_col, pattern)
    _raise(problems, "boundaries")
    out: dict[str, gpd.GeoDataFrame] = {}
    for key, name, _, code_col, name_col in GM_LAYERS:
        g = raw["gm/" + name]
        g = gpd.GeoDataFrame({code_col: g["area_code"], name_col: g["area_name"]}, geometry=g.geometry,
                             crs=g.crs).sort_values(code_col)
        g = _simplify_gm(g)
        path = f"geography/gm/{name}.parquet"
        _write(g, bundle.out / path)
        bundle.record(f"gm_{name}", [path], [key], len(g), SOURCES[key].geography,
                      f"{SOURCES[key].title}", note=f"simplified with a {settings.GM_SIMPLIFY_METRES:g} m tolerance "
                      "(shapely.coverage_simplify in EPSG:27700; shared borders stay gap-free)")
        out["gm/" + name] = g
    for key, name, code_col, pattern in ENGLAND_LAYERS:
        g = raw["england/" + name]
        g = g[g[code_col].str.match(pattern)].sort_values(code_col)
        g = _round_geom(g[[c for c in g.columns if c != "geometry"] + ["geometry"]])
        path = f"geography/england/{name}.parquet"
        _write(g, bundle.out / path)
        bundle.record(f"england_{name}", [path], [key], len(g), SOURCES[key].geography, SOURCES[key].title,
                      note="ultra generalised as distributed; England codes only; coordinates rounded to 6 decimals")
        out["england/" + name] = g
    return out



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
    m21 = boundaries["england/msoa21"][["msoa21_code", "msoa21_name"]]
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
    # Centre of each LSOA 2021: representative point of its (coarse) boundary, always inside it.
    b21 = boundaries["england/lsoa21"]
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
                  "lsoa21": ["lsoa21_ward24", "eng_msoa21", "lsoa21_icb24", "ruc21", "census2021_age", "eng_lsoa21"],
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

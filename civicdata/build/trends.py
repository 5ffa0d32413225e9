"""Build the trends-and-peers part of the bundle (``data/trends/``) from the raw sources.

Called by :func:`civicdata.build.run.build_bundle`; the same rules hold (every problem in a source
reported at once, deterministic output, no value invented).

* ``series.parquet`` — one tidy table of every local-authority series from ONS Explore Local
  Statistics (ELS): ``indicator_id, area_code, area_name, area_type, period, start, end, label,
  value, lci, uci, status, notes``. Codes are as ELS publishes them (2023+ boundaries; Barnsley and
  Sheffield have 2025 codes alongside their older ones). One row per area and period: should ELS list an
  area under both of its tier labels, the build keeps one row, and refuses two different values. Counties
  and their districts both appear; comparisons pick one tier (:func:`civicdata.indicators.trends.comparator_codes`).
* ``<indicator>.toml`` — one descriptor per indicator (:data:`civicdata.indicators.trends.TREND_FIELDS`).
* ``areas.parquet`` — every area code in the series with its type, successor code(s) and the year it
  became obsolete (from ELS's notes), and for current English districts their county (upper tier)
  and region.
* ``clusters.parquet``, ``cluster_descriptions.json``, ``neighbours.parquet`` — ONS similar areas.
* ``iod_lad_editions.parquet`` — IoD local-authority summaries 2015, 2019 (LAD 2019) and 2025 (LAD 2024).
* ``iod2015_lsoa11.parquet`` — IoD2015 IMD score, rank and decile per LSOA 2011.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import geopandas as gpd
import pandas as pd

from civicdata.indicators.catalogue import toml_value
from civicdata.errors import Problem
from civicdata.readers import ENGLAND_LSOA_RE, LAD_RE, check_codes, read_text_table, require_columns, to_number
from civicdata.build.sources import SOURCES

if TYPE_CHECKING:
    from pathlib import Path

    from civicdata.build.io import Bundle

ELS_COLUMNS = ["areacd", "areanm", "geography", "indicator", "period", "observation", "measure", "unit",
               "lci_95", "uci_95", "status", "notes"]

#: ELS geography labels kept (England's codes only) and the area type each code prefix means
AREA_TYPES = {"E92": "country", "E12": "region", "E47": "combined authority", "E10": "county",
              "E06": "unitary authority", "E07": "district", "E08": "metropolitan district", "E09": "London borough"}

#: Each indicator: id, ELS folder, ELS indicator label, title, unit, polarity, period type, decimals.
#: Polarity is ours (ELS has none): it says which direction is worse for the people who live there.
TREND_INDICATORS: list[tuple[str, str, str, str, str, str, str, int]] = [
    ("hle_male", "healthy-life-expectancy", "Male healthy life expectancy",
     "Healthy life expectancy, males", "years", "higher_is_better", "3-year pooled", 1),
    ("hle_female", "healthy-life-expectancy", "Female healthy life expectancy",
     "Healthy life expectancy, females", "years", "higher_is_better", "3-year pooled", 1),
    ("cvd_preventable_mortality", "preventable-cardiovascular-mortality-england",
     "Preventable cardiovascular mortality (England)", "Preventable cardiovascular deaths under 75",
     "per 100,000 (age-standardised)", "higher_is_worse", "3-year pooled", 1),
    ("persistent_absence", "persistent-absences-for-all-pupils", "Persistent absences for all pupils",
     "Persistent absence, all pupils", "%", "higher_is_worse", "academic year", 1),
    ("persistent_absence_fsm", "persistent-absences-for-pupils-eligible-for-free-school-meals",
     "Persistent absences for pupils eligible for free school meals",
     "Persistent absence, pupils eligible for free school meals", "%", "higher_is_worse", "academic year", 1),
    ("children_low_income", "children-in-poverty-2014-2023", "Children in poverty",
     "Children (0-15) in low income families (FYE 2015-2024)", "%",
     "higher_is_worse", "financial year", 1),
    ("children_poverty_bhc", "children-in-relative-poverty-latest", "Children in relative poverty before housing costs",
     "Children (under 16) in relative poverty, before housing costs (FYE 2022-2025)", "%", "higher_is_worse", "financial year", 1),
    ("children_poverty_ahc", "children-in-relative-poverty-latest", "Children in relative poverty after housing costs",
     "Children (under 16) in relative poverty, after housing costs (FYE 2022-2025)", "%", "higher_is_worse", "financial year", 1),
    ("eyfs_communication", "early-years", "Communication and language",
     "Early years: expected level in communication and language", "%", "higher_is_better", "academic year", 1),
    ("eyfs_literacy", "early-years", "Literacy", "Early years: expected level in literacy", "%",
     "higher_is_better", "academic year", 1),
    ("eyfs_maths", "early-years", "Mathematics", "Early years: expected level in maths", "%",
     "higher_is_better", "academic year", 1),
    ("gcse_english_maths", "gcses-in-english-and-maths", "GCSEs in English and Maths",
     "GCSE (or equivalent) English and maths by age 19", "%", "higher_is_better", "academic year", 1),
    ("ks2_expected", "pupils-at-expected-standards-by-end-of-primary-school",
     "Pupils meeting the expected standard in reading, writing and maths",
     "Key stage 2: expected standard in reading, writing and maths", "%", "higher_is_better", "academic year", 0),
    ("adult_obesity", "adult-obesity-prevalence", "Adult obesity prevalence", "Adults living with obesity", "%",
     "higher_is_worse", "survey year (mid-November to mid-November)", 1),
    ("cancer_early_stage", "cancer-diagnosis-at-stage-1-and-2", "Cancer diagnosis at stage 1 and 2",
     "Cancers diagnosed at stage 1 or 2", "%", "higher_is_better", "calendar year", 1),
    ("gdhi_per_head", "gross-disposable-household-income-per-head", "Gross disposable household income",
     "Gross disposable household income per head", "£", "higher_is_better", "calendar year", 0),
    ("claimant_count", "claimant-count", "Claimant Count", "Claimant count (% of people aged 16 to 64)", "%",
     "higher_is_worse", "calendar year", 1),
]

_PERIOD_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})/P(\d+)Y$")
_OBSOLETE_RE = re.compile(r"Obsolete code since (\d{4}) \(replaced by (.+)\)")
_SUCCESSOR_RE = re.compile(r"(E\d{8})")
DOMAIN_KEYS = {
    "Index of Multiple Deprivation": "imd", "Income": "income", "Income Deprivation": "income",
    "Employment": "employment", "Employment Deprivation": "employment",
    "Education, Skills and Training": "education", "Education, Skills and Training Deprivation": "education",
    "Health and Disability": "health", "Health Deprivation and Disability": "health", "Crime": "crime",
    "Barriers to Housing and Services": "barriers", "Living Environment": "living_environment",
    "Living Environment Deprivation": "living_environment",
    "Income Deprivation Affecting Children": "idaci", "Income Deprivation Affecting Older People": "idaopi",
}


def period_label(start: pd.Timestamp, years: int, period_type: str) -> str:
    """A period as people write it: ``2011-13`` (pooled years), ``2023/24`` (academic, financial or
    survey years that start after January), ``2023`` (calendar years)."""
    y = start.year
    if years > 1:
        return f"{y}-{(y + years - 1) % 100:02d}"
    if start.month == 1:
        return str(y)
    return f"{'FY ' if period_type == 'financial year' else ''}{y}/{(y + 1) % 100:02d}"


def parse_period(text: str, period_type: str) -> tuple[str, str, str] | None:
    """``2011-01-01/P3Y`` -> (start, end, label), dates as ``YYYY-MM-DD`` (end = last day in the period)."""
    m = _PERIOD_RE.match(text)
    if not m:
        return None
    start = pd.Timestamp(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    years = int(m.group(4))
    end = start + pd.DateOffset(years=years) - pd.Timedelta(days=1)
    return start.strftime("%Y-%m-%d"), end.strftime("%Y-%m-%d"), period_label(start, years, period_type)


def _read_els(sources: Path, folder: str, problems: list[Problem]) -> tuple[pd.DataFrame | None, dict, str]:
    src = SOURCES[f"trend:{folder}"]
    label = src.path
    f = read_text_table(sources / src.path, label=label, problems=problems)
    meta_src = SOURCES[f"trend-meta:{folder}"]
    try:
        meta = json.loads((sources / meta_src.path).read_text(encoding="utf-8-sig")).get("ess-beta-metadata", {})
    except (OSError, ValueError) as exc:
        problems.append(Problem(meta_src.path, f"metadata cannot be read ({exc})"))
        meta = {}
    if f is not None and not require_columns(f, ELS_COLUMNS, label=label, problems=problems):
        f = None
    return f, meta, label


def _meta_for(meta: dict, els_label: str) -> dict:
    """ELS metadata for one indicator: its own block over the shared one (files with one indicator keep
    everything at the top level)."""
    out = dict(meta.get("shared", {}))
    if els_label in meta and isinstance(meta[els_label], dict):
        out.update(meta[els_label])
    elif "label" in meta:
        out.update({k: v for k, v in meta.items() if not isinstance(v, dict)})
    return out


def build_trends(sources: Path, bundle: Bundle, boundaries_ltla24: gpd.GeoDataFrame) -> None:
    """Write ``data/trends/`` (see the module docstring)."""
    from civicdata.build.io import _raise, _write

    out_dir = bundle.out / "trends"
    out_dir.mkdir(exist_ok=True)
    problems: list[Problem] = []
    frames: list[pd.DataFrame] = []
    descriptors: list[dict] = []
    cache: dict[str, tuple] = {}
    for ind_id, folder, els_label, title, unit, polarity, period_type, decimals in TREND_INDICATORS:
        if folder not in cache:
            cache[folder] = _read_els(sources, folder, problems)
        f, meta, label = cache[folder]
        if f is None:
            continue
        rows = f[f["indicator"] == els_label]
        if rows.empty:
            problems.append(Problem(label, f"no rows for indicator '{els_label}'", column="indicator"))
            continue
        rows = rows[rows["areacd"].str[:3].isin(AREA_TYPES)]
        value = to_number(rows.reset_index(drop=True), "observation", label=label, problems=problems)
        lci = to_number(rows.reset_index(drop=True), "lci_95", label=label, problems=problems)
        uci = to_number(rows.reset_index(drop=True), "uci_95", label=label, problems=problems)
        parsed = rows["period"].map(lambda t: parse_period(t, period_type))
        for idx in parsed[parsed.isna()].index[:5]:
            problems.append(Problem(label, f"'{f.at[idx, 'period']}' is not an ISO 8601 period like 2011-01-01/P3Y",
                                    row=int(idx) + 2, column="period"))
        if parsed.isna().any():
            continue
        tidy = pd.DataFrame({
            "indicator_id": ind_id,
            "area_code": rows["areacd"].str.strip().to_numpy(),
            "area_name": rows["areanm"].str.strip().to_numpy(),
            "area_type": rows["areacd"].str[:3].map(AREA_TYPES).to_numpy(),
            "period": rows["period"].to_numpy(),
            "start": [p[0] for p in parsed], "end": [p[1] for p in parsed], "label": [p[2] for p in parsed],
            "value": value.to_numpy(), "lci": lci.to_numpy(), "uci": uci.to_numpy(),
            "status": rows["status"].str.strip().to_numpy(), "notes": rows["notes"].str.strip().to_numpy(),
        })
        # one row per area and period: an area listed under both tier labels is kept once, if the two agree
        key = ["area_code", "period"]
        dup = tidy.duplicated(key, keep=False)
        if dup.any():
            clash = tidy[dup].groupby(key)["value"].nunique(dropna=False)
            for (code, period) in clash[clash > 1].index[:5]:
                problems.append(Problem(label, f"{code} {period}: the two tiers give different values; "
                                               "refusing to choose", column="observation"))
        tidy = tidy.drop_duplicates(key, keep="first")
        frames.append(tidy)
        m = _meta_for(meta, els_label)
        src = SOURCES[f"trend:{folder}"]
        tiers = set(tidy["area_type"])
        descriptors.append({
            "id": ind_id, "title": title, "description": m.get("subtitle") or title, "unit": unit,
            "polarity": polarity, "period_type": period_type, "decimals": decimals,
            "publisher": m.get("sourceOrg") or src.publisher, "source_url": m.get("sourceURL") or src.url,
            "source_date": m.get("sourceDate", ""), "compiled_by": "ONS Explore Local Statistics",
            "licence": src.licence, "els_indicator": els_label, "els_folder": folder,
            "tier": "lower" if ("district" in tiers) else "upper",
            "has_ci": bool(tidy["lci"].notna().any()),
            "periods": int(tidy["period"].nunique()),
            "first_period": tidy.sort_values("start")["label"].iloc[0],
            "latest_period": tidy.sort_values("start")["label"].iloc[-1],
            "caveats": (m.get("caveats") or "").strip(),
        })
    _raise(problems, "trend series (ONS Explore Local Statistics)")
    series = pd.concat(frames, ignore_index=True).sort_values(["indicator_id", "area_code", "start"])
    _write(series, out_dir / "series.parquet")
    for d in descriptors:
        text = "\n".join(f"{k} = {toml_value(v)}" for k, v in d.items()) + "\n"
        (out_dir / f"{d['id']}.toml").write_text(text, encoding="utf-8")
    folders = list(dict.fromkeys(t[1] for t in TREND_INDICATORS))
    bundle.record("trend_series", ["trends/series.parquet"],
                  [f"trend:{f}" for f in folders] + [f"trend-meta:{f}" for f in folders], len(series), "local authority, region, England (ELS codes)",
                  f"{len(descriptors)} local-authority time series (ONS Explore Local Statistics)",
                  note="England's codes only; one row per area and period (checked); counties and their districts "
                       "both kept, compared one tier at a time; blanks stay missing with ELS's status code")

    areas = _areas_table(series, sources, boundaries_ltla24, problems)
    _raise(problems, "trend areas")
    _write(areas, out_dir / "areas.parquet")
    bundle.record("trend_areas", ["trends/areas.parquet"], ["ltla24_region24", "eng_utla21"], len(areas),
                  "local authority (ELS codes) with county and region",
                  "Areas of the trend series: type, successors of abolished codes, county and region",
                  note="successors from ELS's 'Obsolete code since YEAR (replaced by …)' notes; a district's county "
                       "is the upper-tier authority (2021) containing a point inside the district (LAD 2024)")
    _build_peers(sources, bundle, out_dir, problems)
    _build_iod_editions(sources, bundle, out_dir, problems)
    _build_trend_layers(bundle, folders)


def _worsening_unit(unit: str) -> str:
    return {"%": "percentage points", "£": "£", "years": "years"}.get(unit, unit) + " (+ = worse)"


def _build_trend_layers(bundle: Bundle, folders: list[str]) -> None:
    """Each series as two layers for England's local authorities (LAD 2024): its latest value, and how
    much worse it got over the last three periods (:data:`civicdata.indicators.trends.WORSENING_RULE`), so the
    England map and Strategic focus can use them."""
    from civicdata.indicators import trends
    from civicdata.build.io import _write, _write_layer
    from civicdata.geo.geography import load_lookup

    lad = load_lookup("lad24", bundle.out)
    codes = sorted(c for c in lad["lad24_code"] if c[:3] in ("E06", "E07", "E08", "E09"))
    table = pd.DataFrame({"lad24_code": codes})
    for ind in trends.load_indicators(bundle.out).values():
        latest = trends.latest_by_area(ind.id, codes, bundle.out)
        worse = trends.worsening_by_area(ind.id, codes, bundle.out)
        table[f"{ind.id}_latest"] = latest["value"].to_numpy()
        table[f"{ind.id}_worsening"] = worse["worsening"].to_numpy()
        county_note = (" Districts take their county's figure: it is published for counties and unitary "
                       "authorities only." if ind.tier == "upper" else "")
        common = {"geography": "lad", "file": "trends_lad24.parquet", "key_column": "lad24_code",
                  "source": f"{ind.publisher}, via ONS Explore Local Statistics", "source_url": ind.source_url,
                  "licence": ind.licence, "theme": "trends",
                  "coverage": "published for this authority or its county; re-formed authorities count periods from "
                              "their formation"}
        _write_layer(bundle, "indicators", {
            **common, "id": f"trend_{ind.id}_latest", "title": f"{ind.title}: latest ({ind.latest_period})",
            "description": f"{ind.description}. Each local authority's latest published value ({ind.period_type})."
                           + county_note,
            "unit": ind.unit, "polarity": ind.polarity, "value_column": f"{ind.id}_latest",
            "vintage": ind.latest_period})
        _write_layer(bundle, "indicators", {
            **common, "id": f"trend_{ind.id}_worsening", "title": f"{ind.title}: getting worse (last three periods)",
            "description": f"{ind.title}. {trends.WORSENING_RULE}" + county_note,
            "unit": _worsening_unit(ind.unit), "polarity": "higher_is_worse", "value_column": f"{ind.id}_worsening",
            "vintage": f"to {ind.latest_period}"})
    _write(table, bundle.out / "indicators" / "trends_lad24.parquet")
    bundle.record("trends_lad24", ["indicators/trends_lad24.parquet"], [f"trend:{f}" for f in folders], len(table),
                  "LAD 2024", "Trend series as local-authority layers: latest value and change over three periods",
                  note=trends.WORSENING_RULE + " Districts take their county's figure where a series is published for "
                       "counties only.")


def _areas_table(series: pd.DataFrame, sources: Path, ltla24: gpd.GeoDataFrame, problems: list[Problem]) -> pd.DataFrame:
    first = series.sort_values(["area_code", "start"], ascending=[True, False]).drop_duplicates("area_code")
    areas = first[["area_code", "area_name", "area_type"]].copy()
    succ: dict[str, tuple[int, str]] = {}
    for note in series["notes"].dropna().unique():
        m = _OBSOLETE_RE.search(note)
        if m:
            succ_codes = " ".join(_SUCCESSOR_RE.findall(m.group(2)))
            succ[note] = (int(m.group(1)), succ_codes)
    noted = series[series["notes"].isin(list(succ))].drop_duplicates("area_code")[["area_code", "notes"]]
    by_code = {r.area_code: succ[r.notes] for r in noted.itertuples()}
    areas["obsolete_since"] = areas["area_code"].map(lambda c: by_code.get(c, (None, ""))[0]).astype("Int64")
    areas["successor_codes"] = areas["area_code"].map(lambda c: by_code.get(c, (None, ""))[1])
    # current districts (LAD 2024): their region, and their county when they are two-tier districts
    lsrc = SOURCES["ltla24_region24"]
    lad = read_text_table(sources / lsrc.path, label=lsrc.path, problems=problems)
    if lad is None or not require_columns(lad, ["ltla24_code", "region24_code"], label=lsrc.path, problems=problems):
        return areas
    code_col, reg_col = "ltla24_code", "region24_code"
    region = dict(zip(lad[code_col], lad[reg_col]))
    utla = gpd.read_parquet(sources / SOURCES["eng_utla21"].path)
    ucode = next(c for c in utla.columns if c.lower().startswith("utla") and c.lower().endswith("code"))
    utla = utla[utla[ucode].str.startswith("E10")][[ucode, "geometry"]]
    districts = ltla24[ltla24["ltla24_code"].str.startswith("E07")].copy()
    pts = gpd.GeoDataFrame({"code": districts["ltla24_code"].to_numpy()},
                           geometry=districts.geometry.representative_point().to_numpy(), crs=districts.crs)
    joined = gpd.sjoin(pts, utla.to_crs(pts.crs), how="left", predicate="within")
    county = dict(zip(joined["code"], joined[ucode]))
    missing = sorted(c for c, v in county.items() if not isinstance(v, str))
    if missing:
        problems.append(Problem(SOURCES["eng_utla21"].path, f"districts in no county: {', '.join(missing[:5])}"))
    areas["county_code"] = areas["area_code"].map(county).fillna("")
    areas["region_code"] = areas["area_code"].map(region).fillna("")
    # a county's region is its districts' region
    county_region = {county[d]: region.get(d, "") for d in county if isinstance(county[d], str)}
    is_county = areas["area_code"].str.startswith("E10")
    areas.loc[is_county, "region_code"] = areas.loc[is_county, "area_code"].map(county_region).fillna("")
    return areas.sort_values("area_code").reset_index(drop=True)


def _build_peers(sources: Path, bundle: Bundle, out_dir: Path, problems: list[Problem]) -> None:
    from civicdata.build.io import _raise, _write

    src = SOURCES["ons_clusters"]
    f = read_text_table(sources / src.path, label=src.path, problems=problems)
    kinds = ("global", "economic", "demographic")
    if f is not None and require_columns(f, ["AREACD", "AREANM", "Global", "Economic", "Demographic"],
                                         label=src.path, problems=problems):
        clusters = pd.DataFrame({"area_code": f["AREACD"].str.strip(), "area_name": f["AREANM"].str.strip()})
        for k in kinds:
            v = f[k.capitalize()].str.strip().str.lower()
            bad = ~v.isin(["a", "b", "c", "d", "[x]"])
            for i in v[bad].index[:5]:
                problems.append(Problem(src.path, f"'{f.at[i, k.capitalize()]}' is not a cluster letter A-D or [x]",
                                        row=int(i) + 2, column=k.capitalize()))
            clusters[k] = v.where(v != "[x]", "")
    dsrc = SOURCES["ons_cluster_descriptions"]
    try:
        desc = json.loads((sources / dsrc.path).read_text(encoding="utf-8-sig"))
        missing = [f"{k}/{c}" for k in kinds for c in "abcd" if not desc.get(k, {}).get(c)]
        if missing:
            problems.append(Problem(dsrc.path, f"no description for {', '.join(missing)}"))
    except (OSError, ValueError) as exc:
        problems.append(Problem(dsrc.path, f"cannot be read ({exc})"))
        desc = {}
    rows = []
    for k in kinds:
        nsrc = SOURCES[f"ons_neighbours_{k}"]
        n = read_text_table(sources / nsrc.path, label=nsrc.path, problems=problems)
        if n is None or not require_columns(n, ["AREACD"] + [str(i) for i in range(1, 21)], label=nsrc.path,
                                            problems=problems):
            continue
        for i in range(1, 21):
            # combined authorities have five neighbours: the rest of their row is blank
            check_codes(n, str(i), r"^[ENSWK]\d{8}$", label=nsrc.path, problems=problems, allow_blank=True)
            part = pd.DataFrame({"area_code": n["AREACD"].str.strip(), "kind": k, "rank": i,
                                 "neighbour_code": n[str(i)].str.strip()})
            rows.append(part[part["neighbour_code"] != ""])
    _raise(problems, "ONS similar areas")
    neighbours = pd.concat(rows, ignore_index=True).sort_values(["area_code", "kind", "rank"])
    _write(clusters.sort_values("area_code"), out_dir / "clusters.parquet")
    _write(neighbours, out_dir / "neighbours.parquet")
    (out_dir / "cluster_descriptions.json").write_text(
        json.dumps({k: {c: desc[k][c] for c in "abcd"} for k in kinds}, indent=1, sort_keys=True, ensure_ascii=False)
        + "\n", encoding="utf-8")
    bundle.record("ons_clusters", ["trends/clusters.parquet", "trends/cluster_descriptions.json"],
                  ["ons_clusters", "ons_cluster_descriptions"], len(clusters), "UK local authorities (2023+ codes)",
                  "ONS similar areas: each local authority's cluster (global, economic, demographic) and what it means")
    bundle.record("ons_neighbours", ["trends/neighbours.parquet"],
                  ["ons_neighbours_global", "ons_neighbours_economic", "ons_neighbours_demographic"], len(neighbours),
                  "UK local authorities, counties, combined authorities (2023+ codes)",
                  "ONS similar areas: 20 nearest neighbours (global, economic, demographic)",
                  note="kept UK-wide in ONS's order; the app filters to England's and keeps ONS's rank")


def _build_iod_editions(sources: Path, bundle: Bundle, out_dir: Path, problems: list[Problem]) -> None:
    from civicdata.build.io import _raise, _write

    parts = []
    for key, edition, code_col, name_col, vintage in (("iod2015_lad", 2015, "lad19cd", "lad19nm", "LAD 2019"),
                                                      ("iod2019_lad", 2019, "lad19cd", "lad19nm", "LAD 2019"),
                                                      ("iod2025_lad", 2025, "area_code", "area_name", "LAD 2024")):
        src = SOURCES[key]
        f = read_text_table(sources / src.path, label=src.path, problems=problems)
        cols = [code_col, name_col, "index_domain", "rank_average_score", "proportion_bottom_decile"]
        if f is None or not require_columns(f, cols, label=src.path, problems=problems):
            continue
        check_codes(f, code_col, LAD_RE, label=src.path, problems=problems)
        dom = f["index_domain"].str.strip()
        for i in dom[~dom.isin(DOMAIN_KEYS)].index[:5]:
            problems.append(Problem(src.path, f"unknown index or domain '{dom[i]}'", row=int(i) + 2,
                                    column="index_domain"))
        parts.append(pd.DataFrame({
            "edition": edition, "lad_code": f[code_col].str.strip(), "lad_code_vintage": vintage,
            "lad_name": f[name_col].str.strip(), "domain": dom.map(DOMAIN_KEYS),
            "rank_average_score": to_number(f, "rank_average_score", label=src.path, problems=problems, integer=True),
            "proportion_bottom_decile": to_number(f, "proportion_bottom_decile", label=src.path, problems=problems),
            "districts": f[code_col].nunique()}))
    src = SOURCES["iod2015_lsoa"]
    lsoa = read_text_table(sources / src.path, label=src.path, problems=problems)
    if lsoa is not None and require_columns(lsoa, ["lsoa11_code", "IMD_score", "IMD_rank", "IMD_decile"],
                                            label=src.path, problems=problems):
        check_codes(lsoa, "lsoa11_code", ENGLAND_LSOA_RE, label=src.path, problems=problems)
        lsoa15 = pd.DataFrame({"lsoa11_code": lsoa["lsoa11_code"].str.strip(),
                               "imd2015_score": to_number(lsoa, "IMD_score", label=src.path, problems=problems),
                               "imd2015_rank": to_number(lsoa, "IMD_rank", label=src.path, problems=problems, integer=True),
                               "imd2015_decile": to_number(lsoa, "IMD_decile", label=src.path, problems=problems,
                                                           integer=True)})
    _raise(problems, "IoD editions")
    editions = pd.concat(parts, ignore_index=True).sort_values(["edition", "lad_code", "domain"])
    _write(editions, out_dir / "iod_lad_editions.parquet")
    _write(lsoa15.sort_values("lsoa11_code"), out_dir / "iod2015_lsoa11.parquet")
    bundle.record("iod_lad_editions", ["trends/iod_lad_editions.parquet"], ["iod2015_lad", "iod2019_lad", "iod2025_lad"],
                  len(editions), "LAD 2019 (2015, 2019); LAD 2024 (2025)",
                  "IoD local authority summaries, three editions: rank of average score, share of LSOAs in "
                  "England's most deprived 10%",
                  note="ranks are relative within each edition (1 = most deprived of 317 districts in 2015 and 2019, "
                       "296 in 2025): compare ranks and deciles, never scores; 2015 re-aggregated to 2019 districts by "
                       "Trafford Data Lab")
    bundle.record("iod2015_lsoa11", ["trends/iod2015_lsoa11.parquet"], ["iod2015_lsoa"], len(lsoa15), "LSOA 2011",
                  "IoD2015 IMD score, rank and decile per LSOA 2011")

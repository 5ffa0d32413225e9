"""Build the compact bundle in ``data/`` from the raw sources (``../shared/data``).

Run as ``python -m civicdata build --sources ../shared/data --out data``.

* Everything is written to a temporary folder beside ``--out`` and swapped in only when
  every step succeeded; a failure leaves the existing bundle untouched.
* Every problem in a source (missing file, missing column, bad code, non-number) is
  reported at once with file, row and column (:class:`~civicdata.errors.SourceDataError`).
* The output is deterministic: rows sorted by key, fixed Parquet settings, no timestamps.
* No value is invented: a blank in a source stays missing (NaN) in the bundle.

Geography vintages are kept apart in every table name and column: ``lsoa11_code`` is an
LSOA 2011 code, ``lsoa21_code`` an LSOA 2021 code.
"""

from __future__ import annotations

import csv
import json
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

from civicdata import settings
from civicdata.catalogue import descriptor_to_toml, validate_descriptor
from civicdata.catalogue import toml_value
from civicdata.errors import Problem, SourceDataError
from civicdata.names import readable_org_name
from civicdata.readers import (ENGLAND_LSOA_RE, ENGLAND_MSOA_RE, LAD_RE, LSOA_RE, WARD_RE,
                               MSOA_RE, check_codes, check_unique, read_text_table, require_columns, sha256_file,
                               to_number)
from civicdata.sources import ATTRIBUTION, SOURCES, Source
from civicdata.build_places import build_pcn
from civicdata.build_trends import build_trends

PARQUET_OPTS = {"index": False, "compression": "zstd"}

# IoD domain short names as used in layer ids -> (IoD2019 File 2 column stem, IoD2025 column stem, title)
DOMAINS: list[tuple[str, str, str, str]] = [
    ("imd", "Index of Multiple Deprivation (IMD)", "IMD", "Index of Multiple Deprivation"),
    ("income", "Income", "Income", "Income deprivation"),
    ("employment", "Employment", "Employment", "Employment deprivation"),
    ("education", "Education, Skills and Training", "Education", "Education, skills and training"),
    ("health", "Health Deprivation and Disability", "Health", "Health deprivation and disability"),
    ("crime", "Crime", "Crime", "Crime"),
    ("barriers", "Barriers to Housing and Services", "Housing_and_Services", "Barriers to housing and services"),
    ("living_environment", "Living Environment", "Environment", "Living environment"),
]

# IoD2019 underlying indicators kept as layers: column -> (layer id, title, unit)
# Every IoD indicator is constructed so that higher = more deprived (MHCLG technical report).
IOD2019_UNDERLYING: dict[str, tuple[str, str, str]] = {
    "staying_on_in_education_post_16_indicator": ("not_staying_on_post16_2019", "Not staying on in education after 16", "proportion"),
    "entry_to_higher_education_indicator": ("not_entering_he_2019", "Not entering higher education", "score"),
    "adult_skills_and_english_language_proficiency_indicator": ("adult_skills_2019", "Adults lacking skills or English proficiency", "proportion"),
    "years_of_potential_life_lost_indicator": ("ypll2019", "Years of potential life lost", "indirectly standardised ratio"),
    "comparative_illness_and_disability_ratio_indicator": ("cidr2019", "Comparative illness and disability ratio", "indirectly standardised ratio"),
    "acute_morbidity_indicator": ("acute_morbidity2019", "Acute morbidity (emergency admissions)", "indirectly standardised ratio"),
    "mood_and_anxiety_disorders_indicator": ("mood_anxiety2019", "Mood and anxiety disorders", "score"),
    "road_distance_to_a_post_office_indicator_km": ("distance_post_office2019", "Road distance to a post office", "km"),
    "road_distance_to_a_primary_school_indicator_km": ("distance_primary_school2019", "Road distance to a primary school", "km"),
    "road_distance_to_general_store_or_supermarket_indicator_km": ("distance_shop2019", "Road distance to a general store or supermarket", "km"),
    "road_distance_to_a_gp_surgery_indicator_km": ("distance_gp2019", "Road distance to a GP surgery", "km"),
    "household_overcrowding_indicator": ("overcrowding2019", "Household overcrowding", "proportion"),
    "homelessness_indicator_rate_per_1000_households": ("homelessness2019", "Homelessness", "per 1,000 households"),
    "owner_occupation_affordability_component_of_housing_affordability_indicator": ("affordability_owner2019", "Owner-occupation affordability", "score"),
    "private_rental_affordability_component_of_housing_affordability_indicator": ("affordability_rental2019", "Private rental affordability", "score"),
    "housing_affordability_indicator": ("housing_affordability2019", "Housing affordability", "score"),
    "housing_in_poor_condition_indicator": ("poor_housing2019", "Housing in poor condition", "proportion"),
    "houses_without_central_heating_indicator": ("no_central_heating2019", "Houses without central heating", "proportion"),
    "road_traffic_accidents_indicator": ("road_accidents2019", "Road traffic accidents involving injury", "rate"),
    "nitrogen_dioxide_component_of_air_quality_indicator": ("air_no2_2019", "Air quality: nitrogen dioxide", "ratio to limit"),
    "benzene_component_of_air_quality_indicator": ("air_benzene2019", "Air quality: benzene", "ratio to limit"),
    "sulphur_dioxide_component_of_air_quality_indicator": ("air_so2_2019", "Air quality: sulphur dioxide", "ratio to limit"),
    "particulates_component_of_air_quality_indicator": ("air_particulates2019", "Air quality: particulates", "ratio to limit"),
    "air_quality_indicator": ("air_quality2019", "Air quality indicator", "score"),
}

# IoD2025 underlying indicators: column -> (layer id, title, unit, polarity)
IOD2025_UNDERLYING: dict[str, tuple[str, str, str, str]] = {
    "adult_skills_and_english_language_proficiency_indicator": ("adult_skills2025", "Adults lacking skills or English proficiency", "proportion", "higher_is_worse"),
    "entry_to_higher_education_indicator": ("not_entering_he2025", "Not entering higher education", "score", "higher_is_worse"),
    "acute_morbidity_indicator": ("acute_morbidity2025", "Acute morbidity (emergency admissions)", "indirectly standardised ratio", "higher_is_worse"),
    "comparative_illness_and_disability_ratio_indicator": ("cidr2025", "Comparative illness and disability ratio", "indirectly standardised ratio", "higher_is_worse"),
    "mental_health_indicator": ("mental_health2025", "Mental health indicator", "score", "higher_is_worse"),
    "years_of_potential_life_lost_indicator": ("ypll2025", "Years of potential life lost", "indirectly standardised ratio", "higher_is_worse"),
    "violence_with_injury_rate_per_1_000_at_risk_population": ("violence_with_injury2025", "Violence with injury", "per 1,000 at-risk population", "higher_is_worse"),
    "violence_without_injury_rate_per_1_000_at_risk_population": ("violence_without_injury2025", "Violence without injury", "per 1,000 at-risk population", "higher_is_worse"),
    "stalking_and_harassment_rate_per_1_000_at_risk_population": ("stalking_harassment2025", "Stalking and harassment", "per 1,000 at-risk population", "higher_is_worse"),
    "burglary_rate_per_1_000_at_risk_properties": ("burglary2025", "Burglary", "per 1,000 at-risk properties", "higher_is_worse"),
    "theft_rate_per_1_000_at_risk_population": ("theft2025", "Theft", "per 1,000 at-risk population", "higher_is_worse"),
    "criminal_damage_rate_per_1_000_at_risk_population": ("criminal_damage2025", "Criminal damage", "per 1,000 at-risk population", "higher_is_worse"),
    "public_order_and_possession_of_weapons_rate_per_1_000_at_risk_population": ("public_order2025", "Public order and possession of weapons", "per 1,000 at-risk population", "higher_is_worse"),
    "anti_social_behaviour_rate_per_1_000_at_risk_population": ("anti_social_behaviour2025", "Anti-social behaviour", "per 1,000 at-risk population", "higher_is_worse"),
    # Correlates -1.00 (Spearman) with the geographical-barriers sub-domain score: higher = better connected.
    "connectivity_score": ("connectivity2025", "Connectivity score (access to services)", "score", "higher_is_better"),
    "owner_occupation_affordability_component_of_housing_affordability_indicator": ("affordability_owner2025", "Owner-occupation affordability", "score", "higher_is_worse"),
    "private_rental_affordability_component_of_housing_affordability_indicator": ("affordability_rental2025", "Private rental affordability", "score", "higher_is_worse"),
    "housing_affordability_indicator": ("housing_affordability2025", "Housing affordability", "score", "higher_is_worse"),
    # IoD indicator of poor broadband; correlates +0.31 with the geographical-barriers score.
    "digital_connectivity_broadband_download_and_upload_speeds": ("broadband2025", "Digital connectivity (broadband speeds) indicator", "score", "higher_is_worse"),
    "core_homelessness_rate_percent_of_households": ("core_homelessness2025", "Core homelessness", "% of households", "higher_is_worse"),
    "patient_to_gp_ratio": ("patients_per_gp2025", "Patients per GP", "patients per full-time GP", "higher_is_worse"),
    "homelessness_indicator_rate_per_1_000_households": ("homelessness2025", "Homelessness", "per 1,000 households", "higher_is_worse"),
    "household_overcrowding_indicator_rooms": ("overcrowding_rooms2025", "Household overcrowding (rooms)", "proportion", "higher_is_worse"),
    "household_overcrowding_indicator_bedrooms": ("overcrowding_bedrooms2025", "Household overcrowding (bedrooms)", "proportion", "higher_is_worse"),
}

NHS_CHOICES_SEP = "\u00ac"  # the ¬ character (0xAC in latin-1)


@dataclass
class Bundle:
    """What the build has written so far, for the manifest."""

    out: Path
    datasets: list[dict] = field(default_factory=list)
    sha: dict[str, str] = field(default_factory=dict)

    def record(self, name: str, files: list[str], sources: list[str], rows: int, geography: str,
               title: str, note: str = "") -> None:
        srcs = [SOURCES[k] for k in sources]
        self.datasets.append({
            "name": name,
            "title": title,
            "files": files,
            "rows": int(rows),
            "geography": geography,
            "publisher": "; ".join(dict.fromkeys(s.publisher for s in srcs)),
            "source_title": "; ".join(s.title for s in srcs),
            "source_url": "; ".join(dict.fromkeys(s.url for s in srcs)),
            "licence": "; ".join(dict.fromkeys(s.licence for s in srcs)),
            "vintage": "; ".join(dict.fromkeys(s.vintage for s in srcs)),
            "source_code_vintage": "; ".join(dict.fromkeys(s.geography for s in srcs)),
            "raw_files": [s.path for s in srcs],
            "raw_sha256": [self.sha[k] for k in sources],
            "note": note,
        })


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = frame.reset_index(drop=True)
    if isinstance(frame, gpd.GeoDataFrame):
        frame.to_parquet(path, schema_version="1.0.0", write_covering_bbox=False, **PARQUET_OPTS)
    else:
        frame.to_parquet(path, **PARQUET_OPTS)


def _write_layer(bundle: Bundle, folder: str, raw: dict) -> None:
    desc = validate_descriptor(raw, f"{folder}/{raw['id']}.toml")
    path = bundle.out / folder / f"{desc.id}.toml"
    path.write_text(descriptor_to_toml(desc), encoding="utf-8")


def _raise(problems: list[Problem], what: str) -> None:
    if problems:
        raise SourceDataError(problems, f"cannot build the bundle: {what}")


def _src(sources: Path, key: str) -> tuple[Path, str]:
    s: Source = SOURCES[key]
    return sources / s.path, s.path


# --------------------------------------------------------------------------- deprivation

def build_iod2019(sources: Path, bundle: Bundle) -> pd.DataFrame:
    """IoD2019 IMD + 7 domains (rank, decile) and mid-2015 population, LSOA 2011, England."""
    problems: list[Problem] = []
    p2, l2 = _src(sources, "iod2019_file2")
    p6, l6 = _src(sources, "iod2019_file6")
    f2 = read_text_table(p2, label=l2, problems=problems)
    f6 = read_text_table(p6, label=l6, problems=problems)
    _raise(problems, "IoD2019")
    out = pd.DataFrame()
    cols2 = ["LSOA code (2011)", "LSOA name (2011)", "Local Authority District code (2019)",
             "Local Authority District name (2019)"]
    for key, stem, _, _ in DOMAINS:
        cols2 += [f"{stem} Rank (where 1 is most deprived)",
                  f"{stem} Decile (where 1 is most deprived 10% of LSOAs)"]
    pop_col = "Total population: mid 2015 (excluding prisoners)"
    ok2 = require_columns(f2, cols2, label=l2, problems=problems)
    ok6 = require_columns(f6, ["LSOA code (2011)", pop_col], label=l6, problems=problems)
    _raise(problems, "IoD2019")
    if ok2 and ok6:
        check_codes(f2, "LSOA code (2011)", ENGLAND_LSOA_RE, label=l2, problems=problems)
        check_unique(f2, "LSOA code (2011)", label=l2, problems=problems)
        check_codes(f2, "Local Authority District code (2019)", LAD_RE, label=l2, problems=problems)
        out["lsoa11_code"] = f2["LSOA code (2011)"].str.strip()
        out["lsoa11_name"] = f2["LSOA name (2011)"]
        out["lad19_code"] = f2["Local Authority District code (2019)"]
        out["lad19_name"] = f2["Local Authority District name (2019)"]
        for key, stem, _, _ in DOMAINS:
            out[f"{key}2019_rank"] = to_number(f2, f"{stem} Rank (where 1 is most deprived)", label=l2,
                                               problems=problems, thousands=True, integer=True)
            out[f"{key}2019_decile"] = to_number(f2, f"{stem} Decile (where 1 is most deprived 10% of LSOAs)",
                                                 label=l2, problems=problems, integer=True)
        check_codes(f6, "LSOA code (2011)", ENGLAND_LSOA_RE, label=l6, problems=problems)
        pop = pd.DataFrame({"lsoa11_code": f6["LSOA code (2011)"].str.strip(),
                            "population_mid2015": to_number(f6, pop_col, label=l6, problems=problems,
                                                            thousands=True, integer=True)})
    _raise(problems, "IoD2019")
    out = out.merge(pop, on="lsoa11_code", how="left", validate="1:1")
    for key, *_ in DOMAINS:
        for kind, lo, hi in (("rank", 1, 32844), ("decile", 1, 10)):
            col = out[f"{key}2019_{kind}"]
            bad = col.notna() & ((col < lo) | (col > hi))
            if bad.any():
                problems.append(Problem(l2, f"{kind} outside {lo}..{hi}", row=int(bad.idxmax()) + 2,
                                        column=f"{key}2019_{kind}"))
    _raise(problems, "IoD2019")
    out = out.sort_values("lsoa11_code")
    _write(out, bundle.out / "indicators" / "iod2019_lsoa11.parquet")
    bundle.record("iod2019_lsoa11", ["indicators/iod2019_lsoa11.parquet"], ["iod2019_file2", "iod2019_file6"],
                  len(out), "LSOA 2011", "IoD2019 IMD and domains (rank, decile) with mid-2015 population")
    src = SOURCES["iod2019_file2"]
    for key, _, _, title in DOMAINS:
        for kind in ("rank", "decile"):
            n_unit = "rank (1 = most deprived of 32,844)" if kind == "rank" else "decile (1 = most deprived 10%)"
            raw = {
                "id": f"{key}2019_{kind}", "title": f"{title} {kind}, IoD2019",
                "description": (f"{title}: national {kind} of each LSOA 2011 among England's 32,844 "
                                f"(1 = most deprived). IoD2019 and IoD2025 ranks are not directly comparable (MHCLG)."),
                "unit": n_unit, "polarity": "higher_is_better", "geography": "lsoa11",
                "file": "iod2019_lsoa11.parquet", "key_column": "lsoa11_code", "value_column": f"{key}2019_{kind}",
                "name_column": "lsoa11_name", "source": f"{src.publisher}, {src.title}", "source_url": src.url,
                "licence": src.licence, "vintage": "2019", "theme": "deprivation",
            }
            if kind == "decile":
                raw["breaks"] = [float(b) for b in range(1, 11)]
                raw["valid_min"], raw["valid_max"] = 1, 10
            else:
                raw["valid_min"], raw["valid_max"] = 1, 32844
            _write_layer(bundle, "indicators", raw)
    s6 = SOURCES["iod2019_file6"]
    _write_layer(bundle, "indicators", {
        "id": "population2015", "title": "Population (mid-2015, IoD2019 denominator)",
        "description": "Total population mid-2015 excluding prisoners, as used by IoD2019.",
        "unit": "people", "polarity": "neutral", "geography": "lsoa11", "file": "iod2019_lsoa11.parquet",
        "key_column": "lsoa11_code", "value_column": "population_mid2015", "name_column": "lsoa11_name",
        "source": f"{s6.publisher}, {s6.title}", "source_url": s6.url, "licence": s6.licence,
        "vintage": "mid-2015", "theme": "population", "valid_min": 0})
    return out


def build_iod2019_underlying(sources: Path, bundle: Bundle, lsoa11: pd.Series) -> None:
    """IoD2019 underlying indicators (File 8) for every LSOA 2011; blanks stay missing."""
    problems: list[Problem] = []
    path, label = _src(sources, "iod2019_underlying")
    f = read_text_table(path, label=label, problems=problems)
    _raise(problems, "IoD2019 underlying indicators")
    if require_columns(f, ["lsoa11_code", *IOD2019_UNDERLYING], label=label, problems=problems):
        check_codes(f, "lsoa11_code", ENGLAND_LSOA_RE, label=label, problems=problems)
        check_unique(f, "lsoa11_code", label=label, problems=problems)
        out = pd.DataFrame({"lsoa11_code": f["lsoa11_code"].str.strip()})
        for col, (lid, *_rest) in IOD2019_UNDERLYING.items():
            out[lid] = to_number(f, col, label=label, problems=problems)
    _raise(problems, "IoD2019 underlying indicators")
    missing = set(lsoa11) - set(out["lsoa11_code"])
    if missing:
        _raise([Problem(label, f"{len(missing)} LSOA 2011 codes of IoD2019 File 2 are absent, e.g. {sorted(missing)[0]}",
                        column="lsoa11_code")], "IoD2019 underlying indicators")
    out = out.sort_values("lsoa11_code")
    _write(out, bundle.out / "indicators" / "iod2019_underlying_lsoa11.parquet")
    bundle.record("iod2019_underlying_lsoa11", ["indicators/iod2019_underlying_lsoa11.parquet"],
                  ["iod2019_underlying"], len(out), "LSOA 2011", "IoD2019 underlying indicators")
    src = SOURCES["iod2019_underlying"]
    theme_of = {"ypll2019": "health", "cidr2019": "health", "acute_morbidity2019": "health",
                "mood_anxiety2019": "health"}
    for col, (lid, title, unit) in IOD2019_UNDERLYING.items():
        theme = theme_of.get(lid, "environment" if lid.startswith("air_") else
                             "access" if lid.startswith("distance_") else
                             "education" if lid in ("not_staying_on_post16_2019", "not_entering_he_2019",
                                                    "adult_skills_2019") else "housing")
        _write_layer(bundle, "indicators", {
            "id": lid, "title": f"{title} (IoD2019)",
            "description": f"IoD2019 underlying indicator '{col}' for each LSOA 2011; higher = more deprived.",
            "unit": unit, "polarity": "higher_is_worse", "geography": "lsoa11",
            "file": "iod2019_underlying_lsoa11.parquet", "key_column": "lsoa11_code", "value_column": lid,
            "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
            "vintage": "2019", "theme": theme})


def build_iod2025(sources: Path, bundle: Bundle) -> pd.DataFrame:
    """IoD2025 IMD + 7 domains (score, rank, decile) for all 33,755 LSOA 2021."""
    problems: list[Problem] = []
    path, label = _src(sources, "iod2025_lsoa")
    f = read_text_table(path, label=label, problems=problems)
    _raise(problems, "IoD2025")
    cols = ["lsoa21_code"] + [f"{stem}_{k}" for _, _, stem, _ in DOMAINS for k in ("score", "rank", "decile")]
    if require_columns(f, cols, label=label, problems=problems):
        check_codes(f, "lsoa21_code", ENGLAND_LSOA_RE, label=label, problems=problems)
        check_unique(f, "lsoa21_code", label=label, problems=problems)
        out = pd.DataFrame({"lsoa21_code": f["lsoa21_code"].str.strip()})
        for key, _, stem, _ in DOMAINS:
            out[f"{key}2025_score"] = to_number(f, f"{stem}_score", label=label, problems=problems)
            out[f"{key}2025_rank"] = to_number(f, f"{stem}_rank", label=label, problems=problems, integer=True)
            out[f"{key}2025_decile"] = to_number(f, f"{stem}_decile", label=label, problems=problems, integer=True)
    _raise(problems, "IoD2025")
    out = out.sort_values("lsoa21_code")
    _write(out, bundle.out / "indicators" / "iod2025_lsoa21.parquet")
    bundle.record("iod2025_lsoa21", ["indicators/iod2025_lsoa21.parquet"], ["iod2025_lsoa"], len(out),
                  "LSOA 2021", "IoD2025 IMD and domains (score, rank, decile)")
    src = SOURCES["iod2025_lsoa"]
    for key, _, _, title in DOMAINS:
        for kind in ("score", "rank", "decile"):
            raw = {
                "id": f"{key}2025_{kind}", "title": f"{title} {kind}, IoD2025",
                "description": (f"{title}: {kind} of each LSOA 2021 among England's 33,755 (rank and decile "
                                f"1 = most deprived; higher score = more deprived). Not directly comparable with IoD2019."),
                "unit": {"score": "score", "rank": "rank (1 = most deprived of 33,755)",
                         "decile": "decile (1 = most deprived 10%)"}[kind],
                "polarity": "higher_is_worse" if kind == "score" else "higher_is_better",
                "geography": "lsoa21", "file": "iod2025_lsoa21.parquet", "key_column": "lsoa21_code",
                "value_column": f"{key}2025_{kind}", "source": f"{src.publisher}, {src.title}",
                "source_url": src.url, "licence": src.licence, "vintage": "2025", "theme": "deprivation",
            }
            if kind == "decile":
                raw["breaks"] = [float(b) for b in range(1, 11)]
                raw["valid_min"], raw["valid_max"] = 1, 10
            elif kind == "rank":
                raw["valid_min"], raw["valid_max"] = 1, 33755
            _write_layer(bundle, "indicators", raw)
    return out


def build_iod2025_underlying(sources: Path, bundle: Bundle) -> None:
    """IoD2025 underlying indicators per LSOA 2021 (rates and scores; numerators left out)."""
    problems: list[Problem] = []
    path, label = _src(sources, "iod2025_underlying")
    f = read_text_table(path, label=label, problems=problems)
    _raise(problems, "IoD2025 underlying indicators")
    if require_columns(f, ["lsoa21_code", *IOD2025_UNDERLYING], label=label, problems=problems):
        check_codes(f, "lsoa21_code", ENGLAND_LSOA_RE, label=label, problems=problems)
        check_unique(f, "lsoa21_code", label=label, problems=problems)
        out = pd.DataFrame({"lsoa21_code": f["lsoa21_code"].str.strip()})
        for col, (lid, *_r) in IOD2025_UNDERLYING.items():
            out[lid] = to_number(f, col, label=label, problems=problems)
    _raise(problems, "IoD2025 underlying indicators")
    out = out.sort_values("lsoa21_code")
    _write(out, bundle.out / "indicators" / "iod2025_underlying_lsoa21.parquet")
    bundle.record("iod2025_underlying_lsoa21", ["indicators/iod2025_underlying_lsoa21.parquet"],
                  ["iod2025_underlying"], len(out), "LSOA 2021", "IoD2025 underlying indicators")
    src = SOURCES["iod2025_underlying"]
    for col, (lid, title, unit, polarity) in IOD2025_UNDERLYING.items():
        theme = ("health" if lid in ("acute_morbidity2025", "cidr2025", "mental_health2025", "ypll2025",
                                     "patients_per_gp2025") else
                 "crime" if lid.endswith(("injury2025", "harassment2025", "burglary2025", "theft2025",
                                          "damage2025", "order2025", "behaviour2025")) else
                 "access" if lid in ("connectivity2025", "broadband2025") else
                 "education" if lid in ("adult_skills2025", "not_entering_he2025") else "housing")
        direction = "higher = better connected" if polarity == "higher_is_better" else "higher = more deprived"
        _write_layer(bundle, "indicators", {
            "id": lid, "title": f"{title} (IoD2025)",
            "description": f"IoD2025 underlying indicator '{col}' for each LSOA 2021; {direction}.",
            "unit": unit, "polarity": polarity, "geography": "lsoa21",
            "file": "iod2025_underlying_lsoa21.parquet", "key_column": "lsoa21_code", "value_column": lid,
            "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
            "vintage": "2025", "theme": theme})


def build_iod2025_lad(sources: Path, bundle: Bundle) -> None:
    """IoD2025 File 10 local-authority summaries (LAD 2024), long format as published."""
    problems: list[Problem] = []
    path, label = _src(sources, "iod2025_lad")
    f = read_text_table(path, label=label, problems=problems)
    _raise(problems, "IoD2025 local authority summaries")
    num_cols = ["average_rank", "rank_average_rank", "average_score", "rank_average_score",
                "proportion_bottom_decile", "rank_proportion_bottom_decile"]
    if require_columns(f, ["area_code", "area_name", "index_domain", *num_cols], label=label, problems=problems):
        check_codes(f, "area_code", LAD_RE, label=label, problems=problems)
        out = f[["area_code", "area_name", "index_domain"]].rename(
            columns={"area_code": "lad24_code", "area_name": "lad24_name"}).copy()
        for c in num_cols:
            out[c] = to_number(f, c, label=label, problems=problems)
    _raise(problems, "IoD2025 local authority summaries")
    out = out.sort_values(["lad24_code", "index_domain"])
    _write(out, bundle.out / "indicators" / "iod2025_lad24_summaries.parquet")
    bundle.record("iod2025_lad24_summaries", ["indicators/iod2025_lad24_summaries.parquet"], ["iod2025_lad"],
                  len(out), "LAD 2024", "IoD2025 local authority summaries (File 10)")


# --------------------------------------------------------------------------- health

def build_life_expectancy(sources: Path, bundle: Bundle) -> pd.DataFrame:
    """ONS REQ3292 life expectancy at birth by MSOA 2011 (2016-2020), males/females/persons with 95% CI."""
    problems: list[Problem] = []
    path, label = _src(sources, "le_msoa11")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "life expectancy")
    try:
        f = pd.read_excel(path, sheet_name="Data", dtype=str, keep_default_na=False, engine="openpyxl")
    except ValueError as exc:
        _raise([Problem(label, f"cannot read sheet 'Data': {exc}")], "life expectancy")
    except Exception as exc:  # zipfile/openpyxl errors for a corrupt workbook
        _raise([Problem(label, f"not a readable .xlsx workbook: {exc}")], "life expectancy")
    le, lo, hi = ("Life Expectancy at birth (in years)", "Lower 95% confidence interval",
                  "Upper 95% confidence interval")
    if require_columns(f, ["Code", "Code Name", "Sex", "No of Deaths", "Population", le, lo, hi],
                       label=label, problems=problems):
        check_codes(f, "Code", MSOA_RE, label=label, problems=problems)
        bad_sex = ~f["Sex"].isin(["Males", "Females", "Persons"])
        for i in f.index[bad_sex][:5]:
            problems.append(Problem(label, f"unknown sex '{f.at[i, 'Sex']}'", row=int(i) + 2, column="Sex"))
        long = pd.DataFrame({"msoa11_code": f["Code"].str.strip(), "msoa11_name": f["Code Name"],
                             "sex": f["Sex"].str.lower().map({"males": "male", "females": "female",
                                                              "persons": "persons"}),
                             "le": to_number(f, le, label=label, problems=problems),
                             "lower": to_number(f, lo, label=label, problems=problems),
                             "upper": to_number(f, hi, label=label, problems=problems),
                             "deaths": to_number(f, "No of Deaths", label=label, problems=problems),
                             "population": to_number(f, "Population", label=label, problems=problems)})
        dup = long.duplicated(["msoa11_code", "sex"])
        for i in long.index[dup][:5]:
            problems.append(Problem(label, "duplicate MSOA and sex", row=int(i) + 2, column="Code"))
    _raise(problems, "life expectancy")
    long = long[long["msoa11_code"].str.startswith("E")]  # the file also holds Welsh MSOAs
    wide = long.pivot(index=["msoa11_code", "msoa11_name"], columns="sex",
                      values=["le", "lower", "upper", "deaths", "population"])
    out = pd.DataFrame(index=wide.index)
    for sex in ("male", "female", "persons"):
        out[f"le_{sex}"] = wide[("le", sex)]
        out[f"le_{sex}_lower"] = wide[("lower", sex)]
        out[f"le_{sex}_upper"] = wide[("upper", sex)]
        out[f"deaths_{sex}"] = wide[("deaths", sex)]
        out[f"population_{sex}"] = wide[("population", sex)]
    out = out.reset_index().sort_values("msoa11_code")
    _write(out, bundle.out / "indicators" / "life_expectancy_msoa11.parquet")
    n_missing = int(out["le_male"].isna().sum())
    bundle.record("life_expectancy_msoa11", ["indicators/life_expectancy_msoa11.parquet"], ["le_msoa11"],
                  len(out), "MSOA 2011", "Life expectancy at birth, 2016-2020",
                  note=f"{n_missing} MSOAs have no published male estimate (left missing, never imputed)")
    src = SOURCES["le_msoa11"]
    for sex in ("male", "female", "persons"):
        _write_layer(bundle, "indicators", {
            "id": f"le_{sex}", "title": f"Life expectancy at birth, {sex if sex != 'persons' else 'all persons'} (2016-20)",
            "description": ("Life expectancy at birth in years, MSOA 2011, pooled 2016 to 2020, with 95% "
                            "confidence interval. Some MSOAs have no published estimate."),
            "unit": "years", "polarity": "higher_is_better", "geography": "msoa11",
            "file": "life_expectancy_msoa11.parquet", "key_column": "msoa11_code", "value_column": f"le_{sex}",
            "ci_lower_column": f"le_{sex}_lower", "ci_upper_column": f"le_{sex}_upper",
            "name_column": "msoa11_name", "source": f"{src.publisher}, {src.title}", "source_url": src.url,
            "licence": src.licence, "vintage": "2016-2020", "theme": "health", "valid_min": 0, "valid_max": 120})
    return out


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


# --------------------------------------------------------------------------- geography

def _read_geo(path: Path, label: str, code_col: str, pattern: str, problems: list[Problem]) -> gpd.GeoDataFrame | None:
    if not path.is_file():
        problems.append(Problem(label, "file is missing"))
        return None
    try:
        if path.suffix == ".parquet":
            g = gpd.read_parquet(path)
        else:
            g = gpd.read_file(f"/vsigzip/{path}" if path.suffix == ".gz" else path, engine="pyogrio")
    except Exception as exc:  # pyogrio/pyarrow raise many types for corrupt files
        problems.append(Problem(label, f"cannot be read as a boundary file: {exc}"))
        return None
    if code_col not in g.columns:
        problems.append(Problem(label, "required column is missing", row=1, column=code_col))
        return None
    if g.crs is None or g.crs.to_epsg() != 4326:
        problems.append(Problem(label, f"expected EPSG:4326, found {g.crs}"))
        return None
    frame = pd.DataFrame({code_col: g[code_col].astype(str)})
    check_codes(frame, code_col, pattern, label=label, problems=problems)
    if g.geometry.isna().any():
        problems.append(Problem(label, "feature without geometry", row=int(g.geometry.isna().idxmax()) + 2))
    return g


def _simplify_gm(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    """Simplify a GM coverage by GM_SIMPLIFY_METRES in BNG, keeping shared borders gap-free."""
    bng = g.to_crs(settings.BNG)
    geoms = shapely.coverage_simplify(shapely.make_valid(bng.geometry.values), settings.GM_SIMPLIFY_METRES)
    bng = bng.set_geometry(geoms)
    out = bng.to_crs(settings.WGS84)
    out = out.set_geometry(shapely.set_precision(out.geometry.values, 10 ** -settings.COORD_DECIMALS))
    return out


def _round_geom(g: gpd.GeoDataFrame) -> gpd.GeoDataFrame:
    return g.set_geometry(shapely.set_precision(g.geometry.values, 10 ** -settings.COORD_DECIMALS))


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


# --------------------------------------------------------------------------- schools and services

def build_schools(sources: Path, bundle: Bundle) -> pd.DataFrame:
    """GIAS open establishments in England (May 2025): URN, phase, pupils, % FSM, lon/lat, LSOA 2021."""
    problems: list[Problem] = []
    path, label = _src(sources, "gias")
    f = read_text_table(path, label=label, problems=problems)
    _raise(problems, "schools")
    cols = ["urn", "la_code", "la_name", "establishment_name", "establishment_type", "establishment_type_group",
            "education_phase", "number_of_pupils", "percentage_fsm", "lsoa_code", "longitude", "latitude"]
    if require_columns(f, cols, label=label, problems=problems):
        urn = to_number(f, "urn", label=label, problems=problems)
        bad = urn.notna() & (urn % 1 != 0)
        for i in f.index[bad][:5]:
            problems.append(Problem(label, f"URN '{f.at[i, 'urn']}' is not a whole number", row=int(i) + 2, column="urn"))
        # GIAS writes ONS pseudo-codes (999999999; L99999999 Channel Islands; M99999999 Isle of
        # Man) where no English/Welsh LSOA applies: treat them as missing, never as a code.
        f["lsoa_code"] = f["lsoa_code"].where(~f["lsoa_code"].str.fullmatch(r"[A-Z]?9{8,9}"), "")
        check_codes(f, "lsoa_code", r"^[EWS]01\d{6}$", label=label, problems=problems, allow_blank=True)
        out = pd.DataFrame({
            "urn": urn.astype("Int64"), "name": f["establishment_name"], "la_code": f["la_code"],
            "la_name": f["la_name"], "type": f["establishment_type"], "type_group": f["establishment_type_group"],
            "phase": f["education_phase"],
            "pupils": to_number(f, "number_of_pupils", label=label, problems=problems),
            "fsm_pct": to_number(f, "percentage_fsm", label=label, problems=problems),
            "lsoa21_code": f["lsoa_code"].replace("", pd.NA),
            "lon": to_number(f, "longitude", label=label, problems=problems),
            "lat": to_number(f, "latitude", label=label, problems=problems)})
    _raise(problems, "schools")
    check_unique(out.astype({"urn": str}), "urn", label=label, problems=problems)
    badpct = out["fsm_pct"].notna() & ~out["fsm_pct"].between(0, 100)
    for i in out.index[badpct][:5]:
        problems.append(Problem(label, f"% FSM {out.at[i, 'fsm_pct']} is outside 0..100", row=int(i) + 2,
                                column="percentage_fsm"))
    _raise(problems, "schools")
    # England only: an English LSOA, or no LSOA recorded and not a Welsh school (Welsh and
    # Scottish records carry W01/S01 codes or the 'Welsh schools' type group).
    code = out["lsoa21_code"].fillna("")
    england = (code.str.startswith("E") | ((code == "") & (out["type_group"] != "Welsh schools")))
    out = out[england].sort_values("urn")
    _write(out, bundle.out / "schools" / "schools.parquet")
    bundle.record("schools", ["schools/schools.parquet"], ["gias"], len(out), "URN; LSOA 2021; point (WGS84)",
                  "Open schools in England (GIAS)", note="Welsh records dropped; LSOA codes are 2021 vintage")
    src = SOURCES["gias"]
    common = {"geography": "urn", "file": "schools.parquet", "key_column": "urn", "name_column": "name",
              "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
              "vintage": "2025-05", "theme": "schools"}
    _write_layer(bundle, "schools", {**common, "id": "school_fsm_pct", "title": "Pupils eligible for free school meals",
                                     "description": "Percentage of pupils eligible for free school meals (GIAS).",
                                     "unit": "%", "polarity": "higher_is_worse", "value_column": "fsm_pct"})
    _write_layer(bundle, "schools", {**common, "id": "school_pupils", "title": "Number of pupils",
                                     "description": "Pupils on roll (GIAS).", "unit": "pupils",
                                     "polarity": "neutral", "value_column": "pupils", "valid_min": 0})
    return out


SERVICE_COLUMNS = ["service_id", "name", "service_type", "subtype", "postcode", "ods_code", "parent_code",
                   "parent_name", "lat", "lon", "vintage"]


def _services_frame(**cols) -> pd.DataFrame:
    n = len(next(iter(v for v in cols.values() if not isinstance(v, str))))
    out = pd.DataFrame({c: cols.get(c, pd.Series([pd.NA] * n)) for c in SERVICE_COLUMNS})
    for c in SERVICE_COLUMNS:
        if c not in ("lat", "lon"):
            out[c] = out[c].astype("string")
    return out


def _nhs_csv(sources: Path, key: str, sep: str, encoding: str, problems: list[Problem],
             service_type: str, vintage: str) -> pd.DataFrame | None:
    path, label = _src(sources, key)
    f = read_text_table(path, label=label, sep=sep, encoding=encoding, problems=problems)
    if f is None or not require_columns(f, ["OrganisationCode", "OrganisationName", "Postcode", "Latitude", "Longitude"],
                                        label=label, problems=problems):
        return None
    lat = to_number(f, "Latitude", label=label, problems=problems)
    lon = to_number(f, "Longitude", label=label, problems=problems)
    out = _services_frame(
        service_id=key + ":" + f["OrganisationCode"].where(f["OrganisationCode"] != "", "row" + (f.index + 2).astype(str)),
        name=f["OrganisationName"], service_type=pd.Series([service_type] * len(f)),
        subtype=f.get("SubType", pd.Series([pd.NA] * len(f))), postcode=f["Postcode"],
        ods_code=f["OrganisationCode"], parent_code=f.get("ParentODSCode", pd.Series([pd.NA] * len(f))),
        parent_name=f.get("ParentName", pd.Series([pd.NA] * len(f))), lat=lat, lon=lon,
        vintage=pd.Series([vintage] * len(f)))
    return out


def build_services(sources: Path, bundle: Bundle) -> None:
    """Health services as points, one file and one point layer per dataset, each with its vintage."""
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    sep14 = NHS_CHOICES_SEP
    for key, stype in (("nhs2014_clinics", "clinic"), ("nhs2014_gp_practices", "gp"),
                       ("nhs2014_hospitals", "hospital"), ("nhs2014_pharmacies", "pharmacy")):
        f = _nhs_csv(sources, key, sep14, "latin-1", problems, stype, "2014-02")
        if f is not None:
            frames[key] = f
    for key, stype in (("nhs2016_clinics", "clinic"), ("nhs2016_hospitals", "hospital")):
        f = _nhs_csv(sources, key, ",", "cp1252", problems, stype, "~2016")
        if f is not None:
            frames[key] = f
    # hospitals and trust HQs 2022 (GeoParquet points)
    for key, stype, name_col in (("hospitals22", "hospital", "hospital22_name"),
                                 ("nhs_trusts22", "trust_hq", "nhs_trust22_name")):
        path, label = _src(sources, key)
        g = _read_geo(path, label, name_col, r".+", problems)
        if g is None:
            continue
        pts = g.geometry
        frames[key] = _services_frame(
            service_id=key + ":" + (g.get("nhs_trust22_code", pd.Series(g.index.astype(str), index=g.index))).astype(str).values,
            name=g[name_col].values, service_type=pd.Series([stype] * len(g)),
            ods_code=g["nhs_trust22_code"].values if "nhs_trust22_code" in g else pd.Series([pd.NA] * len(g)),
            subtype=g["status"].values if "status" in g else pd.Series([pd.NA] * len(g)),
            lat=pts.y.values, lon=pts.x.values, vintage=pd.Series(["2022"] * len(g)))
    # GM hospitals: site polygons -> a point inside each site
    path, label = _src(sources, "gm_hospitals")
    g = _read_geo(path, label, "DISTNAME", r".+", problems)
    if g is not None:
        rp = g.to_crs(settings.BNG).geometry.representative_point().to_crs(settings.WGS84)
        frames["gm_hospitals"] = _services_frame(
            service_id="gm_hospitals:" + g["ID"].astype(str).values, name=g["DISTNAME"].values,
            service_type=pd.Series(["hospital"] * len(g)), subtype=g["CLASSIFICA"].values,
            lat=rp.y.values, lon=rp.x.values, vintage=pd.Series(["2020s"] * len(g)))
    for key, stype, cols in (("gm_dentists", "dentist", ("name", "postcode", "lon", "lat")),
                             ("trafford_gps", "gp", ("name", "postcode", "lon", "lat"))):
        path, label = _src(sources, key)
        f = read_text_table(path, label=label, problems=problems)
        if f is None or not require_columns(f, list(cols), label=label, problems=problems):
            continue
        frames[key] = _services_frame(
            service_id=key + ":" + f["postcode"] + ":" + (f.index + 2).astype(str), name=f["name"],
            service_type=pd.Series([stype] * len(f)), postcode=f["postcode"],
            lat=to_number(f, "lat", label=label, problems=problems),
            lon=to_number(f, "lon", label=label, problems=problems),
            vintage=pd.Series([SOURCES[key].vintage] * len(f)))
    _raise(problems, "health services")

    titles = {"nhs2014_clinics": "Clinics (NHS Choices, Feb 2014)",
              "nhs2014_gp_practices": "GP practices (NHS Choices, Feb 2014)",
              "nhs2014_hospitals": "Hospitals (NHS Choices, Feb 2014)",
              "nhs2014_pharmacies": "Pharmacies (NHS Choices, Feb 2014)",
              "nhs2016_clinics": "Clinics (NHS website, ~2016)", "nhs2016_hospitals": "Hospitals (NHS website, ~2016)",
              "hospitals22": "Hospitals, England (2022)", "nhs_trusts22": "NHS trust headquarters (2022)",
              "gm_hospitals": "Hospital sites, Greater Manchester", "gm_dentists": "Dentists, Greater Manchester",
              "trafford_gps": "GP practices, Trafford (Jan 2026)"}
    for key, frame in frames.items():
        inside = frame["lat"].between(49.8, 55.9) & frame["lon"].between(-6.5, 2.0)
        dropped = int((~inside).sum())
        frame = frame[inside].sort_values("service_id", kind="stable").drop_duplicates("service_id")
        path = f"services/{key}.parquet"
        _write(frame, bundle.out / path)
        bundle.record(key, [path], [key], len(frame), "point (WGS84)", titles[key],
                      note=(f"{dropped} rows without coordinates in England dropped" if dropped else ""))
        src = SOURCES[key]
        _write_layer(bundle, "services", {
            "id": key, "title": titles[key], "description": f"{src.title}. Vintage {src.vintage}: services may have "
            "moved or closed since.", "unit": "services", "polarity": "neutral", "geography": "point",
            "file": f"{key}.parquet", "lat_column": "lat", "lon_column": "lon", "name_column": "name",
            "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
            "vintage": src.vintage, "theme": "services"})

    path, label = _src(sources, "gm_pharmacies")
    f = read_text_table(path, label=label, problems=problems)
    cols = ["pharmacy_name", "postcode", "organisation_data_service_code", "ward_code", "ward_name", "la_code", "la_name"]
    if f is not None and require_columns(f, cols, label=label, problems=problems):
        check_codes(f, "ward_code", WARD_RE, label=label, problems=problems)
    _raise(problems, "GM pharmacies")
    ph = f[cols].rename(columns={"pharmacy_name": "name", "organisation_data_service_code": "ods_code",
                                 "ward_code": "ward_code", "la_code": "lad_code", "la_name": "lad_name"})
    ph = ph.sort_values(["ods_code", "name"])
    _write(ph, bundle.out / "services" / "gm_pharmacies_by_ward.parquet")
    bundle.record("gm_pharmacies_by_ward", ["services/gm_pharmacies_by_ward.parquet"], ["gm_pharmacies"], len(ph),
                  "ward (2023)", "Community pharmacies, Greater Manchester (no coordinates: counted by ward)")


#: the four mental-health trusts whose sites make up most of the ODS care-trust-site file (code prefix -> trust)
CARE_TRUSTS = {"TAH": "Sheffield Health and Social Care NHS Foundation Trust",
               "TAJ": "Black Country Healthcare NHS Foundation Trust",
               "TAD": "Bradford District Care NHS Foundation Trust",
               "TAF": "Camden and Islington NHS Foundation Trust"}
CAMHS_NOTE = ("Coverage is partial: ODS lists care-trust sites mainly for four mental-health trusts (Sheffield, "
              "Black Country, Bradford, Camden and Islington); CAMHS sites elsewhere are not in this layer.")


def _ods_geo(sources: Path, key: str, problems: list[Problem]) -> pd.DataFrame | None:
    """An ODS file geocoded by the NHS Transformation Unit: ODS_Code, Name, geo_match, LAT, LON."""
    path, label = _src(sources, key)
    f = read_text_table(path, label=label, problems=problems)
    if f is None or not require_columns(f, ["ODS_Code", "Name", "geo_match", "LAT", "LON"], label=label,
                                        problems=problems):
        return None
    check_unique(f, "ODS_Code", label=label, problems=problems)
    f["lat"] = to_number(f, "LAT", label=label, problems=problems)
    f["lon"] = to_number(f, "LON", label=label, problems=problems)
    return f


def build_services_2025(sources: Path, bundle: Bundle) -> dict[str, str]:
    """Current NHS sites: active GP practices 2025, pharmacies 2025, care-trust sites 2025 (CAMHS marked),
    NHS website hospitals c. 2022 with their parent trust. Returns a note per layer (rows dropped and why)."""
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    notes: dict[str, str] = {}
    gp = _ods_geo(sources, "gp_practices2025", problems)
    path, label = _src(sources, "epraccur2025")
    ep = read_text_table(path, label=label, header=False, problems=problems)
    if ep is not None and ep.shape[1] < 26:
        problems.append(Problem(label, f"{ep.shape[1]} columns; the ODS layout has 27 (status in 13, setting in 26)"))
    _raise(problems, "current GP practices")
    ep = ep.rename(columns={0: "ods_code", 9: "postcode", 12: "status", 25: "setting"})
    m = gp.merge(ep[["ods_code", "postcode", "status", "setting"]], left_on="ODS_Code", right_on="ods_code", how="left")
    no_ep = m["status"].isna()
    inactive = ~no_ep & (m["status"] != "A")
    not_gp = ~no_ep & ~inactive & (m["setting"] != "4")
    no_xy = ~no_ep & ~inactive & ~not_gp & (m["lat"].isna() | m["lon"].isna())
    keep = ~(no_ep | inactive | not_gp | no_xy)
    statuses = ", ".join(f"{s}: {n}" for s, n in m.loc[inactive, "status"].value_counts().sort_index().items())
    notes["gp_practices2025"] = (f"{int(keep.sum()):,} active GP practices kept of {len(m):,} ODS rows; dropped: "
                                 f"{int(no_ep.sum())} not in epraccur (Sep 2025), {int(inactive.sum())} not active "
                                 f"(status {statuses or 'none'}), {int(not_gp.sum())} not GP practices (prescribing "
                                 f"setting other than 4: out-of-hours, clinics, prisons…), {int(no_xy.sum())} without "
                                 "coordinates")
    g = m[keep]
    frames["gp_practices2025"] = _services_frame(
        service_id="gp2025:" + g["ODS_Code"].values, name=g["Name"].values, service_type=pd.Series(["gp"] * len(g)),
        subtype=g["geo_match"].values, postcode=g["postcode"].values, ods_code=g["ODS_Code"].values,
        lat=g["lat"].values, lon=g["lon"].values, vintage=pd.Series(["2025"] * len(g)))
    ph = _ods_geo(sources, "pharmacies2025", problems)
    cts = _ods_geo(sources, "care_trust_sites2025", problems)
    _raise(problems, "current NHS sites")
    for key, f, stype in (("pharmacies2025", ph, "pharmacy"), ("care_trust_sites2025", cts, "care trust site")):
        ok = f["lat"].notna() & f["lon"].notna()
        notes[key] = f"{int(ok.sum()):,} of {len(f):,} ODS rows; {int((~ok).sum())} without coordinates dropped"
        f = f[ok]
        subtype = f["geo_match"]
        parent_code = pd.Series([pd.NA] * len(f))
        parent_name = pd.Series([pd.NA] * len(f))
        if key == "care_trust_sites2025":
            camhs = f["Name"].str.contains(r"\bCAMHS\b", regex=True)
            subtype = camhs.map({True: "CAMHS", False: "other site"})
            parent_code = f["ODS_Code"].str[:3]
            parent_name = parent_code.map(CARE_TRUSTS)
            notes[key] += f"; {int(camhs.sum())} CAMHS sites (name contains CAMHS). {CAMHS_NOTE}"
        frames[key] = _services_frame(
            service_id=key + ":" + f["ODS_Code"].values, name=f["Name"].values,
            service_type=pd.Series([stype] * len(f)), subtype=subtype.values, ods_code=f["ODS_Code"].values,
            parent_code=pd.Series(parent_code).values, parent_name=pd.Series(parent_name).values,
            lat=f["lat"].values, lon=f["lon"].values, vintage=pd.Series(["2025"] * len(f)))
    # NHS website hospitals: every data row has one more field than the header (a leading row index)
    path, label = _src(sources, "nhs_hospitals_c2022")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "NHS website hospitals")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        cols = ["row_index"] + next(csv.reader(fh))
    rows = read_text_table(path, label=label, header=False, names=cols, problems=problems)
    _raise(problems, "NHS website hospitals")
    h = rows.iloc[1:].reset_index(drop=True)  # row 0 is the header line itself
    if not require_columns(h, ["OrganisationCode", "OrganisationName", "SubType", "Postcode", "Latitude", "Longitude",
                               "ParentODSCode", "ParentName"], label=label, problems=problems):
        _raise(problems, "NHS website hospitals")
    h["lat"] = to_number(h, "Latitude", label=label, problems=problems)
    h["lon"] = to_number(h, "Longitude", label=label, problems=problems)
    _raise(problems, "NHS website hospitals")
    ok = h["lat"].notna() & h["lon"].notna()
    notes["nhs_hospitals_c2022"] = (f"{int(ok.sum()):,} of {len(h):,} rows; {int((~ok).sum())} without coordinates "
                                    "dropped; parent organisation = the NHS trust running the hospital")
    h = h[ok]
    frames["nhs_hospitals_c2022"] = _services_frame(
        service_id="nhs_hospitals_c2022:" + h["OrganisationCode"].values, name=h["OrganisationName"].values,
        service_type=pd.Series(["hospital"] * len(h)), subtype=h["SubType"].values, postcode=h["Postcode"].values,
        ods_code=h["OrganisationCode"].values, parent_code=h["ParentODSCode"].values,
        parent_name=h["ParentName"].values, lat=h["lat"].values, lon=h["lon"].values,
        vintage=pd.Series(["c. 2022"] * len(h)))
    titles = {"gp_practices2025": "GP practices (ODS, 2025)", "pharmacies2025": "Pharmacies (ODS, 2025)",
              "care_trust_sites2025": "Care trust sites incl. CAMHS (ODS, 2025; four trusts only)",
              "nhs_hospitals_c2022": "Hospitals with their NHS trust (NHS website, c. 2022)"}
    for key, frame in frames.items():
        frame = frame.sort_values("service_id", kind="stable").drop_duplicates("service_id")
        out = f"services/{key}.parquet"
        _write(frame, bundle.out / out)
        bundle.record(key, [out], [key, "epraccur2025"] if key == "gp_practices2025" else [key], len(frame),
                      "point (WGS84)", titles[key], note=notes[key])
        src = SOURCES[key]
        desc = f"{src.title}. Vintage {src.vintage}. {notes[key]}."
        _write_layer(bundle, "services", {
            "id": key, "title": titles[key], "description": desc, "unit": "services", "polarity": "neutral",
            "geography": "point", "file": f"{key}.parquet", "lat_column": "lat", "lon_column": "lon",
            "name_column": "name", "source": f"{src.publisher}, {src.title}", "source_url": src.url,
            "licence": src.licence, "vintage": src.vintage, "theme": "services"})
    return notes


def build_nhs_trusts(sources: Path, bundle: Bundle) -> None:
    """NHS trusts as they are now: ODS ``etr`` (c. July 2026, open and closed), each closed trust's successor
    followed through the ODS successor table (to about October 2022) to its latest code, and each trust's
    headquarters located by its postcode. Writes ``services/nhs_trusts_ods.parquet``: ``ods_code``, ``name``
    (readable case), ``ods_name``, ``postcode``, ``open_date``, ``close_date`` (ISO; empty = open), ``is_open``,
    ``successor_code`` (the open trust a closed one became; empty when the table does not say), ``lat``/``lon``
    (WGS84, headquarters postcode; empty when not found)."""
    problems: list[Problem] = []
    path, label = _src(sources, "ods_etr2026")
    etr = read_text_table(path, label=label, header=False, problems=problems)
    if etr is not None and etr.shape[1] < 12:
        problems.append(Problem(label, f"{etr.shape[1]} columns; the ODS layout has 27 (close date in 12)"))
    spath, slabel = _src(sources, "ods_succ2022")
    succ = read_text_table(spath, label=slabel, problems=problems)
    if succ is not None:
        require_columns(succ, ["old_code", "new_code", "date"], label=slabel, problems=problems)
    hpath, hlabel = _src(sources, "trust_hq_postcodes")
    hq = read_text_table(hpath, label=hlabel, problems=problems)
    if hq is not None and require_columns(hq, ["pcds", "lat", "long"], label=hlabel, problems=problems):
        hq["lat"] = to_number(hq, "lat", label=hlabel, problems=problems)
        hq["lon"] = to_number(hq, "long", label=hlabel, problems=problems)
    _raise(problems, "NHS trusts (ODS)")
    etr = etr.rename(columns={0: "ods_code", 1: "ods_name", 9: "postcode", 10: "open_date", 11: "close_date"})
    check_unique(etr, "ods_code", label=label, problems=problems)
    _raise(problems, "NHS trusts (ODS)")

    def iso(v: pd.Series) -> pd.Series:
        v = v.fillna("").astype(str).str.strip()
        return v.where(v == "", v.str[:4] + "-" + v.str[4:6] + "-" + v.str[6:8])

    f = pd.DataFrame({"ods_code": etr["ods_code"].astype(str).str.strip(),
                      "name": etr["ods_name"].map(readable_org_name), "ods_name": etr["ods_name"].astype(str),
                      "postcode": etr["postcode"].fillna("").astype(str).str.strip(),
                      "open_date": iso(etr["open_date"]), "close_date": iso(etr["close_date"])})
    f["is_open"] = f["close_date"] == ""
    is_open = dict(zip(f["ods_code"], f["is_open"]))
    nxt = succ.sort_values("date", kind="stable").drop_duplicates("old_code", keep="last")
    nxt = dict(zip(nxt["old_code"].astype(str), nxt["new_code"].astype(str)))

    def successor(code: str) -> str:
        seen, c = {code}, code
        while c in nxt and nxt[c] not in seen:
            c = nxt[c]
            seen.add(c)
        return c if c != code and is_open.get(c, False) else ""

    f["successor_code"] = [("" if o else successor(c)) for c, o in zip(f["ods_code"], f["is_open"])]
    where = hq.drop_duplicates("pcds").set_index("pcds")
    f["lat"] = f["postcode"].map(where["lat"]).astype(float)
    f["lon"] = f["postcode"].map(where["lon"]).astype(float)
    f = f.sort_values("ods_code", kind="stable")
    out = "services/nhs_trusts_ods.parquet"
    _write(f, bundle.out / out)
    n_open = int(f["is_open"].sum())
    located = int((f["is_open"] & f["lat"].notna()).sum())
    bundle.record("nhs_trusts_ods", [out], ["ods_etr2026", "ods_succ2022", "trust_hq_postcodes"], len(f), "ODS code",
                  "NHS trusts, open and closed, with successors and headquarters (ODS etr c. July 2026)",
                  note=(f"{n_open} open trusts, {len(f) - n_open} closed; {int((f['successor_code'] != '').sum())} "
                        f"closed trusts followed to an open successor (successor table to Oct 2022: trusts closed "
                        f"later have none); headquarters located for {located} of the {n_open} open trusts "
                        "(postcode coordinates, provisional)"))


#: QOF registers bundled as prevalence layers: id part -> (group code, list QOF uses, title, list words)
QOF_REGISTERS = {
    "asthma": ("AST", "06OV", "Asthma prevalence (QOF 2022-23)", "patients aged 6 and over"),
    "depression": ("DEP", "18OV", "Depression prevalence (QOF 2022-23)", "patients aged 18 and over"),
    "smi": ("MH", "TOTAL", "Serious mental illness prevalence (QOF 2022-23)", "patients of all ages"),
    "obesity": ("OB", "18OV", "Obesity prevalence (QOF 2022-23)", "patients aged 18 and over"),
}


def build_qof(sources: Path, bundle: Bundle) -> None:
    """QOF 2022-23 prevalence by GP practice for asthma, depression, SMI and obesity, placed at the
    practice's 2025 location (active ODS GP practices) and its LSOA 2021 (the national boundary holding it).

    ``indicators/qof2023_practices.parquet``: ``practice_code``, ``practice_name``, ``lat``, ``lon``,
    ``lsoa21_code`` (null where the practice has no current location), ``icb_code`` (ONS), ``icb_name``,
    and per register ``<x>_register``, ``<x>_list`` (the list QOF uses for it), ``<x>_pct``
    (register / list × 100).
    """
    problems: list[Problem] = []
    path, label = _src(sources, "qof2023")
    q = read_text_table(path, label=label, problems=problems)
    gpath, glabel = _src(sources, "qof2023_geographies")
    geo = read_text_table(gpath, label=glabel, problems=problems)
    if q is not None:
        require_columns(q, ["PRACTICE_CODE", "GROUP_CODE", "REGISTER", "PATIENT_LIST_TYPE", "PRACTICE_LIST_SIZE"],
                        label=label, problems=problems)
    if geo is not None:
        require_columns(geo, ["PRACTICE_CODE", "PRACTICE_NAME", "ICB_ONS_CODE", "ICB_NAME"], label=glabel,
                        problems=problems)
    _raise(problems, "QOF prevalence")
    check_unique(geo, "PRACTICE_CODE", label=glabel, problems=problems)
    q["register"] = to_number(q, "REGISTER", label=label, problems=problems)
    q["list"] = to_number(q, "PRACTICE_LIST_SIZE", label=label, problems=problems)
    out = geo[["PRACTICE_CODE", "PRACTICE_NAME", "ICB_ONS_CODE", "ICB_NAME"]].set_axis(
        ["practice_code", "practice_name", "icb_code", "icb_name"], axis=1)
    for key, (group, list_type, _, _) in QOF_REGISTERS.items():
        r = q[q["GROUP_CODE"] == group]
        for i in r.index[r["PATIENT_LIST_TYPE"] != list_type][:5]:
            problems.append(Problem(label, f"{group} should be on list {list_type}, not {r.at[i, 'PATIENT_LIST_TYPE']}",
                                    row=int(i) + 2, column="PATIENT_LIST_TYPE"))
        r = r.drop_duplicates("PRACTICE_CODE").set_index("PRACTICE_CODE")
        out[f"{key}_register"] = out["practice_code"].map(r["register"])
        out[f"{key}_list"] = out["practice_code"].map(r["list"])
        pct = out[f"{key}_register"] / out[f"{key}_list"].where(out[f"{key}_list"] > 0) * 100
        out[f"{key}_pct"] = pct.round(4)
    _raise(problems, "QOF prevalence")
    gp = pd.read_parquet(bundle.out / "services" / "gp_practices2025.parquet")[["ods_code", "lat", "lon"]]
    out = out.merge(gp.rename(columns={"ods_code": "practice_code"}), on="practice_code", how="left")
    located = out["lat"].notna()
    pts = gpd.GeoDataFrame(out.loc[located, ["practice_code"]],
                           geometry=gpd.points_from_xy(out.loc[located, "lon"], out.loc[located, "lat"]),
                           crs=settings.WGS84)
    b21 = gpd.read_parquet(bundle.out / "geography" / "england" / "lsoa21.parquet")[["lsoa21_code", "geometry"]]
    hit = gpd.sjoin(pts, b21, predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    out["lsoa21_code"] = hit["lsoa21_code"].reindex(out.index)
    out = out.sort_values("practice_code").reset_index(drop=True)
    no_loc = int((~located).sum())
    note = (f"{len(out):,} practices in QOF 2022-23; {no_loc} have no current location (not an active GP practice "
            f"in ODS 2025: closed or merged since) and are kept, unplaced; LSOA 2021 = the national (ultra "
            f"generalised) boundary holding the 2025 location")
    rel = "indicators/qof2023_practices.parquet"
    _write(out, bundle.out / rel)
    bundle.record("qof2023_practices", [rel], ["qof2023", "qof2023_geographies", "gp_practices2025"], len(out),
                  "GP practice (ODS code)", "QOF 2022-23 prevalence by practice: asthma, depression, SMI, obesity",
                  note=note)
    src = SOURCES["qof2023"]
    for key, (group, list_type, title, words) in QOF_REGISTERS.items():
        _write_layer(bundle, "indicators", {
            "id": f"qof2023_{key}_pct", "title": title,
            "description": (f"Patients on the practice's QOF {group} register as a share of its {words} (the list "
                            f"QOF uses for this register), 2022-23, by GP practice. {note}."),
            "unit": "%", "polarity": "higher_is_worse", "geography": "practice", "file": "qof2023_practices.parquet",
            "key_column": "practice_code", "value_column": f"{key}_pct", "name_column": "practice_name",
            "lat_column": "lat", "lon_column": "lon", "weight_column": f"{key}_list",
            "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
            "vintage": src.vintage, "theme": "health",
            "coverage": "only areas with a GP practice located in them (at its 2025 location)"})


# --------------------------------------------------------------------------- transport

def build_transport(sources: Path, bundle: Bundle) -> None:
    """Metrolink lines (stops in running order) and the default journey feed (Chester GTFS, copied)."""
    problems: list[Problem] = []
    path, label = _src(sources, "metrolink_lines")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "Metrolink lines")
    try:
        lines = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _raise([Problem(label, f"not valid JSON: {exc}")], "Metrolink lines")
    rows = []
    for key in sorted(lines):
        line = lines[key]
        for col in ("route_short_name", "direction", "stops"):
            if col not in line:
                problems.append(Problem(label, f"line {key} has no '{col}'", column=col))
        for seq, stop in enumerate(line.get("stops", [])):
            for col in ("stop_name", "stop_lat", "stop_lon"):
                if not isinstance(stop.get(col), (str, float, int)) or stop.get(col) in ("", None):
                    problems.append(Problem(label, f"line {key} stop {seq + 1} has no '{col}'", column=col))
            rows.append({"line_key": key, "line_name": line.get("route_short_name"),
                         "direction": line.get("direction"), "stop_sequence": seq + 1,
                         "stop_name": str(stop.get("stop_name", "")).replace(" (Manchester Metrolink)", ""),
                         "lat": stop.get("stop_lat"), "lon": stop.get("stop_lon"),
                         "seconds_from_previous": stop.get("seconds_since_previous_stop")})
    _raise(problems, "Metrolink lines")
    ml = pd.DataFrame(rows)
    ml["seconds_from_previous"] = ml["seconds_from_previous"].astype("Int64")
    _write(ml, bundle.out / "transport" / "metrolink_lines.parquet")
    bundle.record("metrolink_lines", ["transport/metrolink_lines.parquet"], ["metrolink_lines"], len(ml),
                  "point (WGS84)", "Metrolink lines, stops in running order",
                  note=f"{ml['line_key'].nunique()} line directions; stop names without ' (Manchester Metrolink)'")
    build_tw_metro(sources, bundle)
    path, label = _src(sources, "chester_gtfs")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "Chester GTFS")
    dest = bundle.out / "transport" / "chester_gtfs.zip"
    shutil.copyfile(path, dest)
    bundle.record("chester_gtfs", ["transport/chester_gtfs.zip"], ["chester_gtfs"], 1, "point (WGS84)",
                  "Chester GTFS (default journey feed)", note="copied unchanged")


TW_LINES = {"Green": ("tyne-and-wear:green", "Green line"), "Yellow": ("tyne-and-wear:yellow", "Yellow line")}


def build_tw_metro(sources: Path, bundle: Bundle) -> None:
    """The Tyne and Wear Metro's Green and Yellow lines, stations in running order with straight-line km
    (no timetable): ``transport/tw_metro_lines.parquet``."""
    problems: list[Problem] = []
    path, label = _src(sources, "tw_metro_lines")
    f = read_text_table(path, label=label, problems=problems)
    cols = ["line", "line_description", "seq", "station", "naptan_atco", "lat", "lon", "km_from_prev", "km_cumulative"]
    if f is None or not require_columns(f, cols, label=label, problems=problems):
        _raise(problems, "Tyne and Wear Metro lines")
    for i in f.index[~f["line"].isin(list(TW_LINES))][:5]:
        problems.append(Problem(label, f"unknown line '{f.at[i, 'line']}'", row=int(i) + 2, column="line"))
    nums = {c: to_number(f, c, label=label, problems=problems) for c in ("seq", "lat", "lon", "km_from_prev",
                                                                        "km_cumulative")}
    _raise(problems, "Tyne and Wear Metro lines")
    tw = pd.DataFrame({"line_key": f["line"].map(lambda x: TW_LINES[x][0]),
                       "line_name": f["line"].map(lambda x: TW_LINES[x][1]),
                       "direction": f["line_description"], "stop_sequence": nums["seq"].astype("Int64"),
                       "stop_name": f["station"], "naptan_atco": f["naptan_atco"], "lat": nums["lat"],
                       "lon": nums["lon"], "km_from_prev": nums["km_from_prev"], "km": nums["km_cumulative"]})
    for key, g in tw.groupby("line_key"):
        if g["stop_sequence"].tolist() != list(range(1, len(g) + 1)):
            problems.append(Problem(label, f"{key}: stations are not numbered 1..{len(g)} in order", column="seq"))
    _raise(problems, "Tyne and Wear Metro lines")
    tw = tw.sort_values(["line_key", "stop_sequence"])
    _write(tw, bundle.out / "transport" / "tw_metro_lines.parquet")
    bundle.record("tw_metro_lines", ["transport/tw_metro_lines.parquet"], ["tw_metro_lines"], len(tw),
                  "point (WGS84)", "Tyne and Wear Metro lines, stations in running order",
                  note="Green (Airport to South Hylton) and Yellow (St James via the coast to South Shields; Monument "
                       "twice); straight-line km between stations, no minutes (no timetable)")


# --------------------------------------------------------------------------- manifest and main

def write_manifest(bundle: Bundle) -> None:
    """``manifest.toml``: one [[dataset]] table per output, sorted by name."""
    lines = ["# Local Need Explorer data bundle. Built by `python -m civicdata build`; do not edit by hand.",
             f"# Attribution: {ATTRIBUTION}", "", "[bundle]",
             f"gm_simplify_metres = {toml_value(settings.GM_SIMPLIFY_METRES)}",
             f"coordinate_decimals = {settings.COORD_DECIMALS}", 'crs = "EPSG:4326"', ""]
    for d in sorted(bundle.datasets, key=lambda d: d["name"]):
        lines.append("[[dataset]]")
        for k, v in d.items():
            if v == "" and k == "note":
                continue
            lines.append(f"{k} = {toml_value(v)}")
        lines.append("")
    (bundle.out / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")


def build_bundle(sources: Path, out: Path) -> Path:
    """Build the whole bundle from ``sources`` into ``out`` atomically; return ``out``.

    Writes into a temporary sibling folder, then swaps it in. User layers already inside
    ``out/user_layers`` are carried over. Raises :class:`SourceDataError` (nothing changed).
    """
    sources = Path(sources).resolve()
    out = Path(out).resolve()
    if not sources.is_dir():
        raise SourceDataError([Problem(str(sources), "sources folder does not exist")], "cannot build the bundle")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        bundle = Bundle(tmp)
        problems = []
        for key, src in SOURCES.items():
            p = sources / src.path
            if p.is_file():
                bundle.sha[key] = sha256_file(p)
            else:
                problems.append(Problem(src.path, "file is missing"))
        _raise(problems, "missing source files")
        for folder in ("indicators", "schools", "services", "transport", "lookups", "geography"):
            (tmp / folder).mkdir()
        iod2019 = build_iod2019(sources, bundle)
        build_iod2019_underlying(sources, bundle, iod2019["lsoa11_code"])
        build_iod2025(sources, bundle)
        build_iod2025_underlying(sources, bundle)
        build_iod2025_lad(sources, bundle)
        build_life_expectancy(sources, bundle)
        pop2021 = build_population2021(sources, bundle)
        boundaries = build_boundaries(sources, bundle)
        lookups = build_lookups(sources, bundle, iod2019, pop2021, boundaries)
        build_names(sources, bundle, lookups)
        build_schools(sources, bundle)
        build_services(sources, bundle)
        build_services_2025(sources, bundle)
        build_nhs_trusts(sources, bundle)
        build_qof(sources, bundle)
        build_pcn(sources, bundle)
        build_transport(sources, bundle)
        build_trends(sources, bundle, boundaries["england/ltla24"])
        write_manifest(bundle)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def _swap(tmp: Path, out: Path) -> None:
    user = out / "user_layers"
    if user.is_dir():
        shutil.move(str(user), str(tmp / "user_layers"))
    old = out.with_name(f".{out.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)

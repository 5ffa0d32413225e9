"""English Indices of Deprivation 2019 (LSOA 2011) and 2025 (LSOA 2021): scores, ranks, deciles, underlying indicators and local-authority summaries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from civicdata.build.io import Bundle, _raise, _src, _write, _write_layer
from civicdata.build.sources import SOURCES
from civicdata.errors import Problem
from civicdata.indicators.families import DOMAINS
from civicdata.readers import (
    ENGLAND_LSOA_RE,
    LAD_RE,
    check_codes,
    check_unique,
    read_text_table,
    require_columns,
    to_number,
)

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

"""The raw official sources the bundle is built from, written down as data.

Each :class:`Source` names a file under the staged sources folder (``../shared/data``)
and says who published it, where the official copy lives, its licence, vintage and the
geography (with code vintage) it is keyed on. The build copies these records, with row
counts and sha256 of the raw file, into ``data/manifest.toml``.
"""

from __future__ import annotations

from dataclasses import dataclass

OGL = "Open Government Licence v3.0"
ODBL = "Open Database Licence 1.0 (© OpenStreetMap contributors)"
OPL = "Open Parliament Licence v3.0"

ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Boundaries: Source: Office for National Statistics licensed under the OGL v3.0; "
    "contains OS data © Crown copyright and database right. NHS data © NHS. "
    "Neighbourhood names: contains Parliamentary information licensed under the Open Parliament Licence v3.0 "
    "(House of Commons Library MSOA Names)."
)


@dataclass(frozen=True)
class Source:
    """One raw input file and its provenance."""

    key: str
    path: str
    publisher: str
    title: str
    url: str
    vintage: str
    geography: str
    licence: str = OGL


_MHCLG_2019 = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2019"
_MHCLG_2025 = "https://www.gov.uk/government/statistics/english-indices-of-deprivation-2025"
_GEOPORTAL = "https://geoportal.statistics.gov.uk/"

SOURCES: dict[str, Source] = {
    s.key: s
    for s in [
        Source("iod2019_file1", "deprivation/File_1_-_IMD2019_Index_of_Multiple_Deprivation.csv.gz",
               "MHCLG", "English Indices of Deprivation 2019, File 1: IMD", _MHCLG_2019,
               "2019", "LSOA 2011"),
        Source("iod2019_file2", "deprivation/File_2_-_IoD2019_Domains_of_Deprivation.csv.gz",
               "MHCLG", "English Indices of Deprivation 2019, File 2: domains", _MHCLG_2019,
               "2019", "LSOA 2011"),
        Source("iod2019_file6", "deprivation/File_6_-_IoD2019_Population_Denominators.csv.gz",
               "MHCLG", "English Indices of Deprivation 2019, File 6: population denominators (mid-2015)",
               _MHCLG_2019, "2019 (population mid-2015)", "LSOA 2011"),
        Source("iod2019_underlying", "deprivation/iod2019_underlying_indicators_lsoa11.csv.gz",
               "MHCLG (via the humaniverse IMD package)",
               "English Indices of Deprivation 2019, File 8: underlying indicators", _MHCLG_2019,
               "2019", "LSOA 2011"),
        Source("iod2025_lsoa", "deprivation/iod2025_lsoa21_scores_ranks_deciles.csv.gz",
               "MHCLG (via the humaniverse IMD package)",
               "English Indices of Deprivation 2025: scores, ranks and deciles", _MHCLG_2025,
               "2025", "LSOA 2021"),
        Source("iod2025_underlying", "deprivation/iod2025_underlying_indicators_lsoa21.csv.gz",
               "MHCLG (via the humaniverse IMD package)",
               "English Indices of Deprivation 2025: underlying indicators", _MHCLG_2025,
               "2025", "LSOA 2021"),
        Source("iod2025_lad", "deprivation/iod2025_local_authority_summaries_tidy.csv",
               "MHCLG (tidied by Trafford Data Lab)",
               "English Indices of Deprivation 2025, File 10: local authority summaries", _MHCLG_2025,
               "2025", "LAD 2024"),
        Source("le_msoa11", "health/REQ3292_LifeExpectancy_2011MSOAs_England_2016_to_2020.xlsx",
               "Office for National Statistics",
               "Life expectancy at birth by MSOA 2011, England, 2016 to 2020 (ad hoc REQ3292)",
               "https://www.ons.gov.uk/peoplepopulationandcommunity/healthandsocialcare/"
               "healthandlifeexpectancies/adhocs/13467lifeexpectancyatbirthbymiddlelayersuperoutputareamsoa",
               "2016-2020", "MSOA 2011"),
        Source("census2021_age", "population/census2021_usual_residents_lsoa21_by_age.csv.gz",
               "Office for National Statistics", "Census 2021: usual residents by age group",
               "https://www.nomisweb.co.uk/sources/census_2021", "Census 2021", "LSOA 2021"),
        Source("oa11_lookup", "geography/oa11_lsoa11_msoa11_lad17_rgn11_lookup_uk.csv.gz",
               "Office for National Statistics",
               "OA 2011 to LSOA 2011 to MSOA 2011 to LAD (2017) lookup", _GEOPORTAL,
               "2011 (LAD 2017)", "OA/LSOA/MSOA 2011"),
        Source("lsoa11_centroids", "geography/lsoa11_centroids_ew.csv.gz",
               "Office for National Statistics", "LSOA 2011 population-weighted label points", _GEOPORTAL,
               "2011", "LSOA 2011"),
        Source("lsoa11_lsoa21", "geography/england/lookup_lsoa11_lsoa21_ltla22.csv.gz",
               "Office for National Statistics", "LSOA 2011 to LSOA 2021 to LAD 2022 lookup (with change codes)",
               _GEOPORTAL, "2021 (LAD 2022)", "LSOA 2011 / LSOA 2021"),
        Source("msoa11_msoa21", "geography/england/lookup_msoa11_msoa21_ltla22.csv.gz",
               "Office for National Statistics", "MSOA 2011 to MSOA 2021 lookup", _GEOPORTAL,
               "2021", "MSOA 2011 / MSOA 2021"),
        Source("lsoa11_icb22", "geography/england/lookup_lsoa11_sicbl22_icb22_ltla22.csv.gz",
               "Office for National Statistics", "LSOA 2011 to sub-ICB location to ICB (2022) lookup",
               _GEOPORTAL, "2022", "LSOA 2011"),
        Source("lsoa21_icb24", "geography/england/lookup_lsoa21_icb24.csv.gz",
               "Office for National Statistics", "LSOA 2021 to sub-ICB location to ICB (2024) lookup",
               _GEOPORTAL, "2024", "LSOA 2021"),
        Source("lsoa21_ward24", "geography/england/lookup_lsoa21_ward24_ltla24.csv.gz",
               "Office for National Statistics", "LSOA 2021 to ward 2024 to LAD 2024 lookup", _GEOPORTAL,
               "2024", "LSOA 2021"),
        Source("lsoa11_ward17", "geography/england/lookup_lsoa11_ward17.csv.gz",
               "Office for National Statistics", "LSOA 2011 to ward 2017 lookup", _GEOPORTAL,
               "2017", "LSOA 2011"),
        Source("ruc11", "geography/england/ruc11_lsoa11.csv.gz",
               "Office for National Statistics / Defra", "Rural-urban classification 2011 of LSOAs",
               _GEOPORTAL, "2011", "LSOA 2011"),
        Source("ruc21", "geography/england/ruc21_lsoa21.csv.gz",
               "Office for National Statistics / Defra", "Rural-urban classification 2021 of LSOAs",
               _GEOPORTAL, "2021", "LSOA 2021"),
        Source("ltla24_region24", "geography/england/lookup_ltla24_region24.csv.gz",
               "Office for National Statistics", "LAD 2024 to region lookup", _GEOPORTAL, "2024", "LAD 2024"),
        Source("ltla23_cauth23", "geography/england/lookup_ltla23_cauth23.csv.gz",
               "Office for National Statistics", "LAD 2023 to combined authority lookup", _GEOPORTAL,
               "2023", "LAD 2023"),
        Source("eng_lsoa11", "geography/england/boundaries_lsoa11_ultra_generalised.parquet",
               "Office for National Statistics (via British Red Cross geographr)",
               "LSOA 2011 boundaries, ultra generalised (BUC)", _GEOPORTAL, "2011", "LSOA 2011"),
        Source("eng_lsoa21", "geography/england/boundaries_lsoa21_ultra_generalised.parquet",
               "Office for National Statistics (via British Red Cross geographr)",
               "LSOA 2021 boundaries, ultra generalised (BGC/BUC)", _GEOPORTAL, "2021", "LSOA 2021"),
        Source("eng_msoa11", "geography/england/boundaries_msoa11_ultra_generalised.parquet",
               "Office for National Statistics (via British Red Cross geographr)",
               "MSOA 2011 boundaries, ultra generalised", _GEOPORTAL, "2011", "MSOA 2011"),
        Source("eng_msoa21", "geography/england/boundaries_msoa21_ultra_generalised.parquet",
               "Office for National Statistics (via British Red Cross geographr)",
               "MSOA 2021 boundaries, ultra generalised", _GEOPORTAL, "2021", "MSOA 2021"),
        Source("eng_wards22", "geography/england/boundaries_wards22_ultra_generalised.parquet",
               "Office for National Statistics (via British Red Cross geographr)",
               "Electoral wards December 2022 boundaries, ultra generalised", _GEOPORTAL, "2022", "ward 2022"),
        Source("eng_ltla24", "geography/england/boundaries_ltla24_ultra_generalised.parquet",
               "Office for National Statistics (via British Red Cross geographr)",
               "Local authority districts 2024 boundaries, ultra generalised", _GEOPORTAL, "2024", "LAD 2024"),
        Source("eng_icb22", "geography/england/boundaries_icb22_ultra_generalised.parquet",
               "Office for National Statistics (via British Red Cross geographr)",
               "Integrated Care Boards 2022 boundaries, ultra generalised", _GEOPORTAL, "2022", "ICB 2022"),
        Source("gm_lsoa11", "geography/greater_manchester/lsoa_2011_gm_lsoa_generalised.geojson.gz",
               "Office for National Statistics (via Trafford Data Lab)",
               "LSOA 2011 boundaries, generalised (BGC), Greater Manchester", _GEOPORTAL, "2011", "LSOA 2011"),
        Source("gm_lsoa21", "geography/greater_manchester/lsoa_2021_gm_lsoa_generalised.geojson.gz",
               "Office for National Statistics (via Trafford Data Lab)",
               "LSOA 2021 boundaries, generalised (BGC), Greater Manchester", _GEOPORTAL, "2021", "LSOA 2021"),
        Source("gm_msoa11", "geography/greater_manchester/msoa_2011_gm_msoa_generalised.geojson.gz",
               "Office for National Statistics (via Trafford Data Lab)",
               "MSOA 2011 boundaries, generalised, Greater Manchester", _GEOPORTAL, "2011", "MSOA 2011"),
        Source("gm_msoa21", "geography/greater_manchester/msoa_2021_gm_msoa_generalised.geojson.gz",
               "Office for National Statistics (via Trafford Data Lab)",
               "MSOA 2021 boundaries, generalised, Greater Manchester", _GEOPORTAL, "2021", "MSOA 2021"),
        Source("gm_ward23", "geography/greater_manchester/ward_2023_gm_ward_generalised.geojson.gz",
               "Office for National Statistics (via Trafford Data Lab)",
               "Electoral wards 2023 boundaries, generalised, Greater Manchester", _GEOPORTAL, "2023", "ward 2023"),
        Source("gm_lad23", "geography/greater_manchester/local_authority_2023_gm_local_authority_generalised.geojson.gz",
               "Office for National Statistics (via Trafford Data Lab)",
               "Local authority districts 2023, generalised, Greater Manchester", _GEOPORTAL, "2023", "LAD 2023"),
        Source("gm_cauth23", "geography/greater_manchester/combined_authority_2023_gm_combined_authority_generalised.geojson.gz",
               "Office for National Statistics (via Trafford Data Lab)",
               "Combined authority 2023 outline, Greater Manchester", _GEOPORTAL, "2023", "combined authority 2023"),
        Source("gias", "schools/gias_open_establishments_20250524.csv.gz",
               "Department for Education", "Get Information About Schools: open establishments, 24 May 2025",
               "https://get-information-schools.service.gov.uk/Downloads", "2025-05-24", "URN; LSOA 2021"),
        Source("hospitals22", "health/england/points_hospitals22.parquet",
               "NHS (via British Red Cross geographr)", "Hospitals in England, 2022",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "2022", "point (WGS84)"),
        Source("nhs_trusts22", "health/england/points_nhs_trusts22.parquet",
               "NHS Digital ODS (via British Red Cross geographr)", "NHS trust headquarters, England, 2022",
               "https://digital.nhs.uk/services/organisation-data-service", "2022", "point (WGS84)"),
        Source("gm_hospitals", "health/greater_manchester/gm_hospitals.geojson",
               "Ordnance Survey Open Greenspace/Functional sites (via Trafford Data Lab)",
               "Hospital sites, Greater Manchester", "https://www.trafforddatalab.io/", "2020s",
               "point (WGS84, site centre)"),
        Source("gm_dentists", "health/greater_manchester/gm_dentists.csv",
               "NHS ODS + ONS postcode centroids (via Trafford Data Lab)", "Dentists, Greater Manchester",
               "https://www.trafforddatalab.io/", "2020s", "point (WGS84, postcode centroid)"),
        Source("gm_pharmacies", "health/greater_manchester/gm_pharmacies.csv",
               "NHS ODS (via Trafford Data Lab)", "Community pharmacies, Greater Manchester (by ward)",
               "https://www.trafforddatalab.io/", "2020s", "ward"),
        Source("trafford_gps", "health/greater_manchester/trafford_general_practices.csv",
               "NHS ODS (via Trafford Data Lab)", "GP practices, Trafford", "https://www.trafforddatalab.io/",
               "2026-01", "point (WGS84, postcode centroid)"),
        Source("gp_practices2025", "health/services_2025/ods_gp_practices_geo_2025.csv",
               "NHS Organisation Data Service (geocoded by the NHS Transformation Unit)",
               "GP practices with coordinates (ODS, asset mapping)", "https://digital.nhs.uk/services/organisation-data-service",
               "mid-2025", "point (WGS84, UPRN or postcode)"),
        Source("epraccur2025", "health/services_2025/epraccur_2025-09.csv.gz", "NHS Organisation Data Service",
               "epraccur: GP practices and prescribing cost centres", "https://digital.nhs.uk/services/organisation-data-service",
               "2025-09", "ODS code"),
        Source("pharmacies2025", "health/services_2025/ods_pharmacies_geo_2025.csv",
               "NHS Organisation Data Service (geocoded by the NHS Transformation Unit)",
               "Community pharmacies with coordinates (ODS)", "https://digital.nhs.uk/services/organisation-data-service",
               "mid-2025", "point (WGS84, UPRN or postcode)"),
        Source("care_trust_sites2025", "health/services_2025/ods_care_trust_sites_geo_2025.csv",
               "NHS Organisation Data Service (geocoded by the NHS Transformation Unit)",
               "Care trust sites with coordinates (ODS), incl. CAMHS; mainly four mental-health trusts",
               "https://digital.nhs.uk/services/organisation-data-service", "mid-2025", "point (WGS84)"),
        Source("nhs_hospitals_c2022", "health/services_2025/nhs_website_hospitals_c2022.csv", "NHS website",
               "NHS website service dataset: hospitals, with parent organisation",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "c. 2022", "point (WGS84)"),
        Source("qof2023", "health/qof/qof_prevalence_2022-23.csv.gz", "NHS England",
               "Quality and Outcomes Framework 2022-23: disease registers and list sizes by practice",
               "https://digital.nhs.uk/data-and-information/publications/statistical/quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data/2022-23",
               "2022-23", "GP practice (ODS code)"),
        Source("qof2023_geographies", "health/qof/qof_practice_geographies_2022-23.csv.gz", "NHS England",
               "Quality and Outcomes Framework 2022-23: practice to PCN, sub-ICB, ICB and region",
               "https://digital.nhs.uk/data-and-information/publications/statistical/quality-and-outcomes-framework-achievement-prevalence-and-exceptions-data/2022-23",
               "2022-23", "GP practice (ODS code)"),
        Source("nhs2014_clinics", "health/nhs_choices_2014/Clinics.csv.gz", "NHS Choices",
               "NHS Choices service directory: clinics (Feb 2014)",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "2014-02", "point (WGS84)"),
        Source("nhs2014_gp_practices", "health/nhs_choices_2014/GPPractices.csv.gz", "NHS Choices",
               "NHS Choices service directory: GP practices (Feb 2014)",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "2014-02", "point (WGS84)"),
        Source("nhs2014_hospitals", "health/nhs_choices_2014/Hospital.csv.gz", "NHS Choices",
               "NHS Choices service directory: hospitals (Feb 2014)",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "2014-02", "point (WGS84)"),
        Source("nhs2014_pharmacies", "health/nhs_choices_2014/Pharmacy.csv.gz", "NHS Choices",
               "NHS Choices service directory: pharmacies (Feb 2014)",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "2014-02", "point (WGS84)"),
        Source("nhs2016_clinics", "health/nhs_website_datasets/Clinics.csv.gz", "NHS website",
               "NHS website service datasets: clinics (~2016)",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "~2016", "point (WGS84)"),
        Source("nhs2016_hospitals", "health/nhs_website_datasets/Hospitals.csv.gz", "NHS website",
               "NHS website service datasets: hospitals (~2016)",
               "https://www.nhs.uk/about-us/nhs-website-datasets/", "~2016", "point (WGS84)"),
        Source("metrolink_lines", "transport/metrolink/metrolink_lines_tfgm_gtfs_2023-07.json",
               "Transport for Greater Manchester", "Metrolink lines and stops in running order, from TfGM GTFS",
               "https://odata.tfgm.com/opendata/downloads/TfGMgtfsnew.zip", "2023-07", "point (WGS84)"),
        Source("msoa11_names", "geography/names/MSOA-Names-1.20.csv", "House of Commons Library",
               "MSOA Names 1.20 (readable names for MSOA 2011)",
               "https://houseofcommonslibrary.github.io/msoanames/", "v1.20", "MSOA 2011", OPL),
        Source("msoa21_names", "geography/names/MSOA-Names-2.2.csv", "House of Commons Library",
               "MSOA Names 2.2 (readable names for MSOA 2021)",
               "https://houseofcommonslibrary.github.io/msoanames/", "v2.2", "MSOA 2021", OPL),
        Source("tw_metro_lines", "transport/tyne_and_wear_metro/tw_metro_line_order_compiled.csv",
               "NaPTAN (Department for Transport) and Nexus's published network, compiled",
               "Tyne and Wear Metro: Green and Yellow lines, stations in running order (no timetable)",
               "https://beta-naptan.dft.gov.uk/", "2026-07 (NaPTAN)", "point (WGS84)"),
        Source("chester_gtfs", "transport/chester-20230816-small_gtfs.zip",
               "Department for Transport, Bus Open Data Service", "Chester GTFS extract (subset of routes)",
               "https://data.bus-data.dft.gov.uk/", "2023-08-16", "point (WGS84)"),
    ]
}

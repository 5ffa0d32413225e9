"""Areas, vintages and join coverage, checked against the raw ONS/MHCLG files."""

from __future__ import annotations

import pandas as pd
import pytest

from civicdata.errors import UnknownAreaError, VintageMismatchError
from civicdata.geo.geography import (areas_within, check_area_code, compute_coverage, load_lookup,
                                 search_areas)
from civicdata.build.sources import SOURCES

TRAFFORD = "E08000009"


def test_trafford_lsoa11_equal_the_raw_iod2019_file(sources):
    raw = pd.read_csv(sources / SOURCES["iod2019_file2"].path, encoding="utf-8-sig", dtype=str)
    expected = set(raw.loc[raw["Local Authority District code (2019)"] == TRAFFORD, "LSOA code (2011)"])
    got = areas_within(TRAFFORD, "lsoa11")
    assert set(got["code"]) == expected and len(expected) == 138


def test_trafford_msoa11_and_wards():
    assert len(areas_within("Trafford", "msoa11")) == 28
    wards = areas_within(TRAFFORD, "ward")
    assert "Altrincham" in set(wards["name"]) and len(wards) == 21


def test_lsoa21_within_uses_lad24(sources):
    raw = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path, dtype=str)
    expected = set(raw.loc[raw["ltla24_code"] == TRAFFORD, "lsoa21_code"])
    assert set(areas_within(TRAFFORD, "lsoa21")["code"]) == expected


def test_unknown_lad_suggests():
    with pytest.raises(UnknownAreaError, match="did you mean Trafford"):
        areas_within("Traford", "lsoa11")


def test_vintage_is_detected():
    # E01035000 exists only as a 2021 LSOA (a split/new code); E01006187 exists in both.
    with pytest.raises(VintageMismatchError, match="LSOA 2021 code"):
        check_area_code("E01035000", "lsoa11")
    assert check_area_code("E01035000", "lsoa21").level == "lsoa21"
    assert check_area_code("e01006187", "lsoa11").code == "E01006187"
    with pytest.raises(UnknownAreaError, match="unknown area code"):
        check_area_code("E01999999", "lsoa11")


def test_coverage_report_counts_and_names_misses():
    codes = pd.Series(["E01006187", "E01035000", "E01999999", "E01006187"])
    cov = compute_coverage(codes, "lsoa11")
    assert (cov.total, cov.matched) == (3, 1)
    assert cov.other_vintage == ["E01035000"]
    assert cov.unmatched == ["E01035000", "E01999999"]
    assert cov.summary() == ("1 of 3 codes matched LSOA 2011; 1 are LSOA 2021 codes (use the lookup); "
                             "1 unknown (e.g. E01999999)")


def test_iod2025_joins_fully_to_lsoa21_and_not_to_lsoa11(data_dir):
    iod = pd.read_parquet(data_dir / "indicators/iod2025_lsoa21.parquet")
    assert compute_coverage(iod["lsoa21_code"], "lsoa21").share == 1.0
    cov = compute_coverage(iod["lsoa21_code"], "lsoa11")
    assert cov.matched < cov.total and len(cov.other_vintage) == cov.total - cov.matched


def test_search_by_name_code_and_ward():
    assert search_areas("Trafford").iloc[0].to_dict() == {"code": TRAFFORD, "name": "Trafford",
                                                          "ons_name": "Trafford", "level": "lad"}
    # an MSOA unchanged in 2021 exists in both vintages: both are offered, each labelled
    assert set(search_areas("E02001259")["level"]) == {"msoa11", "msoa21"}
    assert "ward" in set(search_areas("Old Trafford")["level"])


def test_lookups_keep_vintages_apart(data_dir, sources):
    x = load_lookup("lsoa11_lsoa21")
    raw = pd.read_csv(sources / SOURCES["lsoa11_lsoa21"].path, dtype=str)
    raw = raw[raw["lsoa11_code"].str.startswith("E")]
    assert len(x) == len(raw)
    assert x["change_code"].value_counts().to_dict() == raw["change_code"].value_counts().to_dict()
    oa = pd.read_csv(sources / SOURCES["oa11_lookup"].path, encoding="utf-8-sig", dtype=str,
                     usecols=["LSOA11CD", "MSOA11CD"]).drop_duplicates().set_index("LSOA11CD")["MSOA11CD"]
    l11 = load_lookup("lsoa11").set_index("lsoa11_code")
    for code in ("E01006187", "E01005062", "E01000001"):
        assert l11.loc[code, "msoa11_code"] == oa[code]
    l21 = load_lookup("lsoa21")
    assert l21["msoa21_code"].notna().all() and l21["icb24_code"].notna().all()


def test_a_district_reads_its_own_detailed_boundaries():
    """Trafford's 138 LSOAs 2011 come from its own rows of the detailed file, valid and at BGC detail."""
    from civicdata.geo.boundaries import read_districts

    t = read_districts("lsoa11", [TRAFFORD])
    assert set(t["lsoa11_code"]) == set(areas_within(TRAFFORD, "lsoa11")["code"]) and len(t) == 138
    assert t.geometry.is_valid.all() and (t["lad24_code"] == TRAFFORD).all()
    assert t.geometry.count_coordinates().mean() > 30  # BGC (20 m): the super generalised file had ~8

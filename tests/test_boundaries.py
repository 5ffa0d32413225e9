"""Every English place in detail: ONS generalised (BGC) boundaries for all of England, one code path, read by district."""

from __future__ import annotations

import json

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from civicdata import settings
from civicdata.build.sources import SOURCES
from civicdata.geo import boundaries as B
from civicdata.indicators.choropleth import boundaries_for
from tests.conftest import DATA, run_cli

NEWCASTLE, TRAFFORD, HARTLEPOOL, CORNWALL, CAMDEN, NORTH_YORKSHIRE = (
    "E08000021", "E08000009", "E06000001", "E06000052", "E09000007", "E06000065")


def _file(level: str) -> gpd.GeoDataFrame:
    return gpd.read_parquet(DATA / "geography" / "districts" / f"{level}.parquet")


@pytest.mark.parametrize("level,expected", [
    ("lsoa11", ("indicators/iod2019_lsoa11.parquet", "lsoa11_code")),
    ("lsoa21", ("indicators/iod2025_lsoa21.parquet", "lsoa21_code")),
    ("msoa11", ("indicators/life_expectancy_msoa11.parquet", "msoa11_code")),
    ("msoa21", ("lookups/lsoa21.parquet", "msoa21_code")),
])
def test_every_english_area_is_present_once_with_valid_geometry(level, expected):
    g = _file(level)
    codes = g[f"{level}_code"]
    assert codes.is_unique
    want = set(pd.read_parquet(DATA / expected[0], columns=[expected[1]])[expected[1]])
    assert set(codes) == want  # every English code of that vintage, and no other
    assert codes.str.startswith("E0").all()
    assert g.geometry.is_valid.all() and not g.geometry.is_empty.any()
    assert set(g.geom_type) <= {"Polygon", "MultiPolygon"}
    assert g["lad24_code"].notna().all()


@pytest.mark.parametrize("level,key,code_col", [
    ("lsoa11", "bgc_lsoa11", "LSOA11CD"), ("lsoa21", "bgc_lsoa21", "LSOA21CD"),
    ("msoa11", "bgc_msoa11", "MSOA11CD"), ("msoa21", "bgc_msoa21", "MSOA21CD"),
])
def test_areas_outside_greater_manchester_keep_the_raw_bgc_area(sources, level, key, code_col):
    """A sample of 400 areas outside GM (seeded), each within 1% of the raw ONS BGC polygon's area."""
    raw = gpd.read_parquet(sources / SOURCES[key].path, columns=[code_col, "geometry"]).set_index(code_col)
    ours = _file(level).set_index(f"{level}_code")
    outside = ours.index[~ours["lad24_code"].isin(settings.GM_LAD_CODES)]
    sample = pd.Index(np.random.default_rng(43).choice(outside, 400, replace=False))
    a = raw.loc[sample].to_crs(settings.BNG).area
    b = ours.loc[sample].set_crs(settings.WGS84).to_crs(settings.BNG).area
    ratio = (b / a).to_numpy()
    assert np.all(np.abs(ratio - 1) < 0.01), sample[np.abs(ratio - 1) >= 0.01].tolist()


@pytest.mark.parametrize("lad", [NEWCASTLE, TRAFFORD, HARTLEPOOL, CORNWALL, CAMDEN, NORTH_YORKSHIRE])
def test_a_district_outline_agrees_with_its_neighbourhoods(lad):
    """The district's outline and the union of its LSOAs 2021 differ by under 1% of the district's area,
    and no LSOA spills past the line by more than 1% of its own area."""
    lsoas = boundaries_for("lsoa21", lad).to_crs(settings.BNG)
    outline = boundaries_for("lad", lad).to_crs(settings.BNG).geometry.iloc[0]
    union = lsoas.geometry.union_all()
    assert union.symmetric_difference(outline).area < 0.01 * outline.area
    spill = lsoas.geometry.difference(outline).area / lsoas.geometry.area
    assert (spill < 0.01).all()


def test_the_first_view_of_a_district_reads_only_its_rows():
    """Newcastle's LSOAs come from Newcastle's row group: a sliver of the file, never all of England."""
    g = B.read_districts("lsoa21", [NEWCASTLE])
    assert len(g) == 180 and (g["lad24_code"] == NEWCASTLE).all()
    touched, whole = B.bytes_read("lsoa21", [NEWCASTLE])
    assert 0 < touched < 0.01 * whole
    touched_gm, _ = B.bytes_read("lsoa21", settings.GM_LAD_CODES)
    assert touched < touched_gm < 0.1 * whole
    # one row group per district, in district order
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(DATA / "geography" / "districts" / "lsoa21.parquet").metadata
    assert meta.num_row_groups == 296


def test_wards_belong_to_the_district_that_holds_them():
    """Barnsley's wards carry its 2025 code in the raw file (E08000038); here they are Barnsley 2024 (E08000016)."""
    w = _file("ward25")
    assert w["ward25_code"].is_unique and len(w) == 6826
    barnsley = w[w["lad24_code"] == "E08000016"]
    assert len(barnsley) == 21 and "Dodworth" in set(barnsley["ward25_name"])
    outline = B.outlines(["E08000016"]).geometry.iloc[0]
    assert barnsley.geometry.representative_point().within(outline).all()


def test_view_simplification_keeps_shared_borders_gap_free():
    """Half a pixel at Newcastle's first view: fewer vertices, no overlaps, no gaps (the union is unchanged)."""
    g = B.read_districts("lsoa21", [NEWCASTLE])
    bounds = tuple(g.total_bounds)
    s = B.simplify_for_view(g, bounds, 900, 600)
    assert shapely.get_num_coordinates(s.geometry.values).sum() < shapely.get_num_coordinates(g.geometry.values).sum()
    sb, gb = s.to_crs(settings.BNG), g.to_crs(settings.BNG)
    union = sb.geometry.union_all()
    assert abs(sb.area.sum() - union.area) < 1e-4 * union.area  # no overlaps
    assert abs(union.area - gb.geometry.union_all().area) < 2e-3 * union.area  # no gaps opened
    assert s.geometry.is_valid.all() and list(s["lsoa21_code"]) == list(g["lsoa21_code"])
    # a pixel is ~22 m at this view: no vertex moves more than the tolerance
    mpp = B.metres_per_pixel(bounds, 900, 600)
    assert 15 < mpp < 30
    assert max(shapely.hausdorff_distance(a, b) for a, b in zip(sb.geometry, gb.geometry)) < mpp


@pytest.mark.parametrize("level,n", [("lsoa21", 180), ("lsoa11", 175), ("msoa21", 34), ("msoa11", 29), ("lad", 1)])
def test_cli_writes_the_boundaries_the_area_map_draws(level, n, tmp_path):
    out = tmp_path / "b.geojson"
    r = run_cli("boundaries", "Newcastle upon Tyne", "--level", level, "--geojson", "--out", str(out))
    assert r.returncode == 0, r.stderr
    fc = json.loads(out.read_text())
    assert fc["type"] == "FeatureCollection" and len(fc["features"]) == n
    assert all(set(f["properties"]) == {"code", "name"} for f in fc["features"])
    drawn = boundaries_for(level, NEWCASTLE)
    if level != "lad":  # every area of the district has its polygon
        from civicdata.geo.geography import areas_within

        assert len(areas_within(NEWCASTLE, level)) == n
    got = gpd.GeoDataFrame.from_features(fc["features"], crs=settings.WGS84)
    assert list(got["code"]) == list(drawn["code"]) and list(got["name"]) == list(drawn["name"])
    assert all(shapely.equals_exact(a, b, tolerance=1e-9) for a, b in zip(got.geometry, drawn.geometry))


def test_cli_boundaries_names_an_unknown_district():
    r = run_cli("boundaries", "Newcastle upon Tyn", "--level", "lsoa21", "--geojson")
    assert r.returncode != 0 and "unknown local authority 'Newcastle upon Tyn'" in r.stderr
    assert "did you mean Newcastle upon Tyne" in r.stderr and not r.stdout

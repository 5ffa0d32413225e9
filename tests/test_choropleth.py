"""Map-building functions on real data, checked against the raw published files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from civicdata.indicators.catalogue import load_catalogue
from civicdata.indicators.choropleth import (AGGREGATION_RULE, DECILE_COLOURS, boundaries_for, layer_classes,
                                  national_frame, national_lad_frame, place_frame)
from civicdata.geo.geography import read_boundary_file
from civicdata.figures.maps import area_hover, build_area_map, esc, figure_html
from civicdata.indicators.profile import (compute_decile_shares, compute_headline, compute_life_expectancy_range,
                               compute_most_deprived, compute_schools_most_deprived, search_schools)
from civicdata.build.sources import SOURCES

TRAFFORD = "E08000009"
HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


@pytest.fixture(scope="module")
def raw_iod2019(sources) -> pd.DataFrame:
    return pd.read_csv(sources / SOURCES["iod2019_file2"].path, encoding="utf-8-sig", dtype=str)


def test_trafford_decile1_count_equals_raw_iod2019(cat, raw_iod2019):
    raw = raw_iod2019[raw_iod2019["Local Authority District code (2019)"] == TRAFFORD]
    expected = int((raw["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"] == "1").sum())
    frame = place_frame(cat.get("imd2019_decile"), TRAFFORD)
    assert len(frame) == len(raw) == 138
    assert int((frame["class"] == 1).sum()) == expected == 7
    assert int(compute_decile_shares(TRAFFORD, "2019").loc[1, "count_imd"]) == expected


def test_trafford_iod2025_headline_equals_raw(sources):
    iod = pd.read_csv(sources / SOURCES["iod2025_lsoa"].path, dtype=str)
    lk = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path, dtype=str)
    codes = set(lk.loc[lk["ltla24_code"] == TRAFFORD, "lsoa21_code"])
    sub = iod[iod["lsoa21_code"].isin(codes)]
    head = compute_headline(TRAFFORD, "2025")
    assert (head.lsoas, head.decile1) == (len(sub), int((sub["IMD_decile"] == "1").sum()))
    assert head.text == (f"In Trafford, {head.decile1} of {head.lsoas} neighbourhoods are among England's "
                         "10% most deprived (IoD2025).")


def test_national_rank_deciles_equal_published_deciles(cat):
    """Classing IMD rank by national deciles reproduces MHCLG's published deciles exactly."""
    by_rank = national_frame(cat.get("imd2019_rank")).set_index("code")["class"]
    published = national_frame(cat.get("imd2019_decile")).set_index("code")["value"]
    assert (by_rank == published.loc[by_rank.index]).all()


def test_life_expectancy_classes_put_lowest_first(cat):
    d = cat.get("le_male")
    nat = national_frame(d)
    worst = nat.loc[nat["value"].idxmin()]
    best = nat.loc[nat["value"].idxmax()]
    assert (worst["class"], best["class"]) == (1, 5)
    assert worst["national_rank"] == 1
    labels = layer_classes(d, nat["value"]).labels
    assert labels[0].endswith("years (worst)") and len(labels) == 5


def test_decile_legend_uses_the_shared_palette(cat):
    c = layer_classes(cat.get("imd2025_decile"), pd.Series(dtype=float))
    assert c.colours == DECILE_COLOURS and c.labels[0] == "Decile 1 (most deprived 10%)"


def test_life_expectancy_range_equals_raw(sources):
    raw = pd.read_excel(sources / SOURCES["le_msoa11"].path, sheet_name="Data")
    oa = pd.read_csv(sources / SOURCES["oa11_lookup"].path, encoding="utf-8-sig", dtype=str,
                     usecols=["MSOA11CD", "LAD17CD"]).drop_duplicates()
    msoas = set(oa.loc[oa["LAD17CD"] == TRAFFORD, "MSOA11CD"])
    got = compute_life_expectancy_range(TRAFFORD)
    for sex, label in (("male", "Males"), ("female", "Females")):
        r = raw[raw["Code"].isin(msoas) & (raw["Sex"] == label)].dropna(subset=["Life Expectancy at birth (in years)"])
        le = r.set_index("Code")["Life Expectancy at birth (in years)"]
        assert got.loc[sex, "lowest_msoa"] == le.idxmin() and got.loc[sex, "highest_msoa"] == le.idxmax()
        assert got.loc[sex, "gap_years"] == pytest.approx(le.max() - le.min())
    assert got.loc["male", "msoas"] == 28


def test_most_deprived_are_sorted_by_rank(raw_iod2019):
    top = compute_most_deprived(TRAFFORD, "2019")
    raw = raw_iod2019[raw_iod2019["Local Authority District code (2019)"] == TRAFFORD].copy()
    raw["rank"] = raw["Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)"].astype(int)
    assert top["code"].tolist() == raw.sort_values("rank")["LSOA code (2011)"].head(10).tolist()


def test_schools_in_most_deprived_decile(sources):
    s = compute_schools_most_deprived(TRAFFORD)
    iod = pd.read_csv(sources / SOURCES["iod2025_lsoa"].path, dtype=str).set_index("lsoa21_code")
    assert len(s) > 0 and (iod.loc[s["lsoa21_code"], "IMD_decile"] == "1").all()


def test_england_view_is_population_weighted(cat, sources):
    d = cat.get("imd2025_decile")
    nat = national_lad_frame(d)
    assert len(nat) == 296 and nat["value"].notna().all()
    iod = pd.read_csv(sources / SOURCES["iod2025_lsoa"].path, dtype=str)
    pop = pd.read_csv(sources / SOURCES["census2021_age"].path, dtype=str)
    pop["n"] = pop["usual_residents"].astype(int)
    pop = pop.groupby("lsoa21_code")["n"].sum()
    lk = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path, dtype=str)
    codes = lk.loc[lk["ltla24_code"] == TRAFFORD, "lsoa21_code"]
    dec = iod.set_index("lsoa21_code").loc[codes, "IMD_decile"].astype(float)
    expected = float((dec * pop.loc[codes]).sum() / pop.loc[codes].sum())
    assert nat.set_index("code").loc[TRAFFORD, "value"] == pytest.approx(expected)
    assert "population-weighted" in AGGREGATION_RULE


def test_every_district_is_drawn_at_the_same_detail():
    """One code path: Hartlepool's LSOAs carry the detail Trafford's do (ONS BGC), not the ~8 vertices of BSC."""
    gm = boundaries_for("lsoa11", TRAFFORD)
    other = boundaries_for("lsoa11", "E06000001")  # Hartlepool
    assert len(gm) == 138 and len(other) == 58
    per_area_gm = gm.geometry.count_coordinates().mean()
    per_area_other = other.geometry.count_coordinates().mean()
    assert per_area_other > 30 and per_area_other > 0.6 * per_area_gm


def test_loaded_boundary_file_replaces_the_bundled_one(cat):
    bf = read_boundary_file(HERE / "data" / "trafford_lsoa11_bgc.gpkg")
    assert (bf.level, bf.code_column, bf.coverage.matched) == ("lsoa11", "LSOA11CD", 138)
    frame = place_frame(cat.get("imd2019_decile"), TRAFFORD, override=bf.frame)
    merged = frame.set_index("code").geometry
    loaded = bf.frame.set_index("code").geometry
    assert merged.loc[loaded.index].geom_equals_exact(loaded, 1e-9).all()


def test_boundary_file_without_codes_is_named(tmp_path):
    from civicdata.errors import ProblemsError
    import geopandas as gpd
    from shapely.geometry import Point

    p = tmp_path / "places.geojson"
    gpd.GeoDataFrame({"label": ["a"]}, geometry=[Point(0, 51).buffer(0.01)], crs="EPSG:4326").to_file(p)
    with pytest.raises(ProblemsError, match=r"places.geojson: no column holds LSOA \(E01…\) or MSOA \(E02…\) codes"):
        read_boundary_file(p)


def test_hover_labels_escape_html(cat):
    d = cat.get("le_male")
    frame = place_frame(d, TRAFFORD).head(2).copy()
    frame.loc[frame.index[0], "name"] = "<img src=x onerror=alert(1)>"
    text = area_hover(frame, d)[0]
    assert "<img" not in text and "&lt;img src=x onerror=alert(1)&gt;" in text
    assert esc('"quoted" & <b>') == "&quot;quoted&quot; &amp; &lt;b&gt;"


def test_map_figure_has_every_area_and_works_offline(cat):
    d = cat.get("imd2025_decile")
    frame = place_frame(d, TRAFFORD)
    fig = build_area_map(frame, d, layer_classes(d, national_frame(d)["value"]))
    trace = fig.data[0]
    assert len(trace.locations) == len(frame) == 139
    assert len(trace.geojson["features"]) == 139
    # the offline map is a geo subplot with no base layers: nothing comes from a tile server
    assert trace.type == "choropleth" and fig.layout.geo.visible is False
    assert fig.layout.map.style is None
    assert np.array_equal(np.asarray(trace.z), frame["class"].fillna(0).to_numpy())
    html = figure_html(fig, "Trafford <IMD>")
    assert "<title>Trafford &lt;IMD&gt;</title>" in html and '<script src="http' not in html
    # plotly's world outline is handed over in the page, so the saved map opens offline too
    assert "PlotlyGeoAssets.topojson['world_110m']" in html
    assert html.index("PlotlyGeoAssets.topojson") < html.index("Plotly.newPlot")
    tiles = build_area_map(frame, d, layer_classes(d, national_frame(d)["value"]), tiles=True)
    assert tiles.data[0].type == "choroplethmap" and tiles.layout.map.style == "carto-positron"


def test_school_search():
    assert search_schools("106167").iloc[0]["name"] == "St John Vianney School"
    assert (search_schools("vianney")["name"].str.contains("Vianney")).all()


def test_a_decile_or_rank_layer_gives_no_second_rank(cat):
    """Every decile-1 area would be "rank 1 of 33,755" (shared by 3,376), and a rank is its own value: the hover
    and the Area map's details give a national rank only for other layers."""
    assert national_frame(cat.get("imd2025_decile"))["national_rank"].isna().all()
    assert national_frame(cat.get("imd2025_rank"))["national_rank"].isna().all()
    assert national_frame(cat.get("imd2025_score"))["national_rank"].notna().sum() == 33_755

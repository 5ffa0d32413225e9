"""AppTest drives the Area map page on the bundled data and checks real values."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

from civicdata.sources import SOURCES

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _run(**params) -> AppTest:
    return open_page(None, **params)


def _map_spec(at: AppTest) -> dict:
    charts = at.get("plotly_chart")
    assert charts, "no plotly chart on the page"
    return json.loads(charts[0].proto.spec)


def _headline(at: AppTest) -> str:
    return next(m.value for m in at.markdown if m.value.startswith("### "))


@pytest.fixture(scope="module")
def raw_iod2025(sources):
    iod = pd.read_csv(sources / SOURCES["iod2025_lsoa"].path, dtype=str)
    lk = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path, dtype=str)
    return iod.merge(lk[["lsoa21_code", "ltla24_code"]], on="lsoa21_code")


def test_default_is_trafford_imd2025(raw_iod2025):
    at = _run()
    t = raw_iod2025[raw_iod2025["ltla24_code"] == "E08000009"]
    n1 = int((t["IMD_decile"] == "1").sum())
    assert _headline(at) == f"### In Trafford, {n1} of {len(t)} neighbourhoods are among England's 10% most deprived (IoD2025)."
    spec = _map_spec(at)
    choro = spec["data"][0]
    assert choro["type"] == "choroplethmap" and len(choro["locations"]) == len(t)
    assert set(choro["locations"]) == set(t["lsoa21_code"])
    assert spec["layout"]["map"]["style"] == "white-bg"
    assert at.query_params["place"] == ["E08000009"] or at.query_params["place"] == "E08000009"


def test_choose_borough_and_iod2019(sources):
    at = _run()
    at.sidebar.selectbox(key="am_place").set_value("E08000003").run()  # Manchester
    at.sidebar.radio(key="am_iod").set_value("2019").run()
    assert not at.exception
    raw = pd.read_csv(sources / SOURCES["iod2019_file2"].path, encoding="utf-8-sig", dtype=str)
    m = raw[raw["Local Authority District code (2019)"] == "E08000003"]
    n1 = int((m["Index of Multiple Deprivation (IMD) Decile (where 1 is most deprived 10% of LSOAs)"] == "1").sum())
    assert at.sidebar.selectbox(key="am_layer").value == "imd2019_decile"
    assert _headline(at) == f"### In Manchester, {n1} of {len(m)} neighbourhoods are among England's 10% most deprived (IoD2019)."
    assert len(_map_spec(at)["data"][0]["locations"]) == len(m) == 282


def test_life_expectancy_layer_from_link_and_area_click_through(sources):
    at = _run(place="E08000009", layer="le_female")
    spec = _map_spec(at)
    assert len(spec["data"][0]["locations"]) == 28  # MSOA 2011: the layer's own geography
    raw = pd.read_excel(sources / SOURCES["le_msoa11"].path, sheet_name="Data")
    r = raw[(raw["Code"] == "E02001259") & (raw["Sex"] == "Females")].iloc[0]
    box = next(s for s in at.selectbox if s.key and s.key.startswith("am_area_"))
    box.set_value("E02001259").run()
    text = "\n".join(m.value for m in at.markdown)
    assert f"{r['Life Expectancy at birth (in years)']:.4g} years" in text
    assert f"95% CI {r['Lower 95% confidence interval']:.1f} to {r['Upper 95% confidence interval']:.1f}" in text


def test_search_goes_to_the_place():
    at = _run(place="E08000001")  # start in Bolton
    at.sidebar.text_input(key="am_query").set_value("Altrincham").run()
    assert at.selectbox(key="am_pick").value[3].startswith("Altrincham")
    at.button[0].click().run()
    assert not at.exception
    assert at.sidebar.selectbox(key="am_place").value == "E08000009"


def test_school_search_shows_school_details():
    at = _run()
    at.sidebar.text_input(key="am_query").set_value("106167").run()
    at.button[0].click().run()
    text = "\n".join(m.value for m in at.markdown)
    assert "**St John Vianney School** (URN 106167)" in text and "% FSM: 41.3" in text


def test_unknown_search_is_friendly():
    at = _run()
    at.sidebar.text_input(key="am_query").set_value("Trafferd").run()
    assert not at.exception
    assert at.warning[0].value.startswith("No match for “Trafferd”.") and "Trafford" in at.warning[0].value


def test_invalid_link_falls_back_with_notice():
    at = _run(place="E99999999", layer="../../etc")
    assert at.sidebar.selectbox(key="am_place").value == "E08000009"
    assert at.sidebar.selectbox(key="am_layer").value == "imd2025_decile"
    assert any("not valid here" in t.value for t in at.toast)


def test_england_view_draws_local_authorities_not_lsoas():
    at = _run(place="england")
    choro = _map_spec(at)["data"][0]
    assert len(choro["locations"]) == 296
    assert any("population-weighted" in c.value for c in at.caption)


def test_other_english_district_uses_national_boundaries():
    at = _run(place="E06000001", layer="imd2019_decile")  # Hartlepool
    assert len(_map_spec(at)["data"][0]["locations"]) == 58

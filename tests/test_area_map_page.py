"""AppTest drives the Area map page on the bundled data and checks real values."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

from civicdata.build.sources import SOURCES

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
    assert choro["type"] == "choropleth" and len(choro["locations"]) == len(t)
    assert set(choro["locations"]) == set(t["lsoa21_code"])
    assert spec["layout"]["geo"]["visible"] is False  # offline: no base layers, no tiles
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
    assert f"{r['Life Expectancy at birth (in years)']:.1f} years" in text  # years: one decimal
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


@pytest.fixture(scope="module")
def raw_wards(sources) -> pd.DataFrame:
    """The raw ONS generalised (BGC) May 2025 wards of all England, as staged."""
    return pd.read_parquet(sources / SOURCES["bgc_ward25"].path, columns=["WD25CD", "WD25NM", "LAD25CD"])


def _trace(spec: dict, name: str) -> dict | None:
    return next((t for t in spec["data"] if t.get("name") == name), None)


def _numbers(value) -> list[float]:
    """A numeric array from a figure spec: a list, or plotly's typed array ({"dtype", "bdata"})."""
    import base64

    import numpy as np

    if isinstance(value, dict):
        return np.frombuffer(base64.b64decode(value["bdata"]), dtype=value["dtype"]).tolist()
    return list(value)


def _texts(trace: dict) -> set[str]:
    """Label texts as a person reads them (plotly draws the escaped text's entities as characters)."""
    import html
    import re

    return {html.unescape(re.sub(r"</?b>", "", t)) for t in trace["text"]}


def test_orientation_layer_names_wards_and_can_be_hidden(raw_wards):
    """Ward names come from the raw ONS ward file (May 2025), Trafford's 21 of them."""
    at = _run()
    spec = _map_spec(at)
    names = _trace(spec, "place names")
    assert names is not None and names["mode"] == "text"
    trafford_names = set(raw_wards.loc[raw_wards["LAD25CD"] == "E08000009", "WD25NM"])
    assert len(trafford_names) == 21
    shown = _texts(names)
    # the names shown are real ward names, and a good share of Trafford's 21 wards is named, not all of GM's 215
    assert shown <= trafford_names and 8 <= len(shown) <= 21
    assert {"Old Trafford", "Altrincham", "Bowdon"} <= shown
    assert _trace(spec, "ward boundaries")["mode"] == "lines"
    assert _trace(spec, "local authority boundary") is not None
    assert _trace(spec, "Metrolink lines") is not None  # Trafford is in GM: the tram lines are drawn
    # every name lies inside the bounds of Trafford's map
    lons, lats = _numbers(names["lon"]), _numbers(names["lat"])
    assert -2.49 < min(lons) and max(lons) < -2.25 and 53.35 < min(lats) and max(lats) < 53.49
    at.sidebar.toggle(key="orient_on").set_value(False).run()
    hidden = _map_spec(at)
    assert _trace(hidden, "place names") is None and _trace(hidden, "ward boundaries") is None
    assert at.query_params["orient"] in (["0"], "0")
    # the link reproduces the hidden view
    again = _run(orient="0")
    assert _trace(_map_spec(again), "place names") is None


def test_orientation_outside_greater_manchester_uses_england_wards():
    at = _run(place="E06000050", layer="imd2025_decile")  # Cheshire West and Chester
    spec = _map_spec(at)
    names = _texts(_trace(spec, "place names"))
    assert {"Blacon", "Frodsham"} <= names
    assert _trace(spec, "Metrolink lines") is None


def test_hovers_tables_and_details_use_readable_names(sources):
    raw = pd.read_csv(sources / SOURCES["msoa21_names"].path, encoding="utf-8-sig", dtype=str).set_index("msoa21cd")
    assert raw.loc["E02001275", "msoa21hclnm"] == "Partington"
    at = _run()
    choro = _map_spec(at)["data"][0]
    hover = dict(zip(choro["locations"], choro["text"]))
    lk = pd.read_parquet(Path(APP).parent / "data/lookups/lsoa21.parquet").set_index("lsoa21_code")
    partington = [c for c in choro["locations"] if lk.at[c, "msoa21_code"] == "E02001275"]
    assert len(partington) == 5
    for code in partington:
        ons = lk.at[code, "lsoa21_name"]
        assert hover[code].startswith(f"<b>Partington ({ons})</b> {code}")
    # no bare ONS name anywhere in the hovers: every LSOA carries its neighbourhood's name
    assert all(re.match(r"<b>[^<(]+ \(Trafford \d{3}[A-Z]\)</b> E01", t) for t in choro["text"])
    worst = next(d for d in at.dataframe if "imd_rank" in d.value.columns).value
    assert all("(Trafford " in n and not n.startswith("Trafford ") for n in worst["name"])
    assert {"code", "name", "ons_name"} <= set(worst.columns)
    box = next(s for s in at.selectbox if s.key and s.key.startswith("am_area_"))
    box.set_value(partington[0]).run()
    assert any(m.value.startswith(f"**Partington ({lk.at[partington[0], 'lsoa21_name']})**") for m in at.markdown)


def test_search_by_readable_name_finds_msoa_and_its_lsoas():
    at = _run()
    at.sidebar.text_input(key="am_query").set_value("Partington").run()
    options = at.selectbox(key="am_pick").options
    assert any(o.startswith("Partington (E02001275") for o in options)
    assert sum("Partington (Trafford 017" in o for o in options) >= 3


def test_practice_layer_draws_practices_sized_by_list_and_icb_summary(sources):
    at = _run(place="E08000003", layer="qof2023_asthma_pct", svc="")
    spec = _map_spec(at)
    practices = next(t for t in spec["data"] if str(t.get("name", "")).startswith("Asthma prevalence"))
    assert practices["type"] == "scattergeo" and practices["marker"]["colorbar"]["title"]["text"] == "%"
    sizes = _numbers(practices["marker"]["size"])
    assert len(sizes) > 80 and max(sizes) > min(sizes)  # sized by list size
    # each practice's hover names its Primary Care Network (ePCN c. Q4 2024), or says it has none
    hovers = practices["text"]
    assert sum("Primary Care Network (PCN): " in h and " PCN (U" in h for h in hovers) > 0.9 * len(hovers)
    assert not any(t["type"] == "choropleth" for t in spec["data"])  # points, not areas
    text = "\n".join(m.value for m in at.markdown)
    assert "GP practice registers in NHS Greater Manchester Integrated Care Board (QOF 2022-23)" in text
    assert "Asthma: 6.9% of patients aged 6 and over in this ICB's practices; England 6.5%" in text


def test_share_link_follows_each_change_in_the_map_fragment():
    """"Share this view" is written after the controls set the link: changed indicator and IoD vintage both show in
    the link at once (it used to be built before them, one change behind)."""
    at = open_page(place="E08000009")

    def share() -> str:
        return next(m.value for m in at.sidebar.markdown if "layer=" in m.value)

    assert "layer=imd2025_decile" in share()
    at.selectbox(key="am_layer").set_value("health2025_decile").run()
    assert not at.exception and "layer=health2025_decile" in share() and "layer=imd2025_decile" not in share()
    at.radio(key="am_iod").set_value("2019").run()
    assert not at.exception and "iod=2019" in share() and "layer=imd2019_decile" in share()
    assert sum("layer=" in m.value for m in at.sidebar.markdown) == 1  # one link, not one per run


def test_every_map_control_redraws_the_map_and_the_same_view_again_draws_the_same_map():
    """The map's figure is built once per view and reused (views._loaders.figure_once): each control it is
    drawn from must still change it — schools on or off, their phases, a health layer, the highlighted area
    (from a search), large text — and coming back to a view gives exactly its first map."""
    at = _run()
    first = _map_spec(at)
    schools = _trace(first, "Schools (GIAS May 2025)")
    assert schools is not None and len(schools["text"]) > 50  # Trafford's primaries, secondaries, all-through
    box = next(c for c in at.sidebar.checkbox if c.label.startswith("Schools"))
    box.uncheck().run()
    assert _trace(_map_spec(at), "Schools (GIAS May 2025)") is None
    box = next(c for c in at.sidebar.checkbox if c.label.startswith("Schools"))
    box.check().run()
    phase = next(m for m in at.sidebar.multiselect if m.label == "School phase")
    phase.set_value(["Secondary"]).run()
    secondaries = _trace(_map_spec(at), "Schools (GIAS May 2025)")
    assert 5 < len(secondaries["text"]) < len(schools["text"])
    assert all("Phase: Secondary" in t for t in secondaries["text"])
    at.sidebar.multiselect(key="am_services").set_value(["gp_practices2025"]).run()
    assert any("GP practices" in (t.get("name") or "") for t in _map_spec(at)["data"])
    at.sidebar.multiselect(key="am_services").set_value(["nhs_hospitals_c2022"]).run()
    phase = next(m for m in at.sidebar.multiselect if m.label == "School phase")
    phase.set_value(["Primary", "Secondary", "All-through"]).run()
    assert _map_spec(at) == first
    at.sidebar.toggle(key="am_large").set_value(True).run()
    assert _map_spec(at)["layout"]["font"]["size"] == 22 != first["layout"]["font"]["size"]
    # a search for one of the map's neighbourhoods outlines it: the same layer and place, another figure
    at.sidebar.toggle(key="am_large").set_value(False).run()
    assert _map_spec(at) == first
    lsoa = first["data"][0]["locations"][0]
    at.sidebar.text_input(key="am_query").set_value(lsoa).run()
    at.button[0].click().run()
    selected = _trace(_map_spec(at), "selected")
    assert selected is not None and selected["locations"] == [lsoa] and _trace(first, "selected") is None


def test_a_school_layer_colours_the_schools_and_the_profile_lists_absence_in_deprived_neighbourhoods():
    """Persistent absence 2018/19 on Newcastle's map: each school point coloured by its own value (raw DfE); the
    profile lists the schools with the highest absence in the decile 1-2 neighbourhoods, highest first."""
    from civicdata.indicators import schools as S

    at = _run(place="E08000021", layer="school_persistent_absence_2019", svc="")
    assert not at.exception
    spec = _map_spec(at)
    pts = next(t for t in spec["data"] if t.get("name") == "Schools (GIAS May 2025)")
    colours = _numbers(pts["marker"]["color"])
    t = S.school_table().set_index("urn")
    urns = [int(h.split("URN: ")[1].split("<")[0]) for h in pts["text"]]  # a URN is written as it is: no comma
    assert len(colours) == len(urns) > 50 and colours == pytest.approx([t.at[u, "persistent_absence_2019"] for u in urns])
    grey = next(t for t in spec["data"] if t.get("name") == "Schools (GIAS May 2025): no value")
    none = [int(h.split("URN: ")[1].split("<")[0]) for h in grey["text"]]
    assert none and all(pd.isna(t.at[u, "persistent_absence_2019"]) for u in none)  # never coloured as a value
    lo, hi = pts["marker"]["cmin"], pts["marker"]["cmax"]
    assert 0 < lo < 8.2 < 13.7 < hi < 60  # England's 5th to 95th percentile of schools
    table = next(d.value for d in at.dataframe if "Persistent absence 2018/19 (%)" in d.value.columns)
    vals = table["Persistent absence 2018/19 (%)"].tolist()
    assert len(table) == 10 and vals == sorted(vals, reverse=True)
    assert set(table["IMD decile (IoD2025)"]) <= {1, 2}
    assert set(table["England, same type (%)"]) <= {8.2, 13.7, 28.8}
    assert any("before COVID" in c.value for c in at.caption)


def test_the_table_behind_the_map_says_only_what_it_means():
    """A decile layer: its value as a whole number, no "ok" status on every row and no "rank 1 of 33,755" shared
    by a tenth of England; a life expectancy layer: one decimal, its 95% limits and its rank in England."""
    at = _run(place="E08000021", layer="imd2025_decile")
    behind = next(d for d in at.dataframe if "class (1 = the legend's first)" in d.value.columns)
    cols = json.loads(behind.proto.columns)
    assert not {"status", "national_rank", "national_n"} & set(behind.value.columns)
    assert cols["Index of Multiple Deprivation decile, IoD2025"]["type_config"]["format"] == "%.0f"
    at = _run(place="E08000021", layer="le_female")
    behind = next(d for d in at.dataframe if "class (1 = the legend's first)" in d.value.columns)
    cols = json.loads(behind.proto.columns)
    assert cols["ci_lower"]["label"] == "Lower 95% limit" and cols["ci_lower"]["type_config"]["format"] == "%.1f"
    assert "rank in England (1 = worst)" in behind.value.columns

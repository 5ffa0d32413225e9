"""AppTest drives the Metro line page."""

from __future__ import annotations

import json
from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

from civicdata.metro import compute_gaps, metrolink_line, stop_profile

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _page(**params) -> AppTest:
    return open_page("views/metro_line.py", **params)


def test_default_is_the_pink_line_with_computed_headline():
    at = _page()
    assert at.selectbox(key="ml_line").value == "METLPINK:O:2023-07-15"
    gaps = compute_gaps(stop_profile(metrolink_line("METLPINK:O:2023-07-15")))
    heads = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert heads == [f"### {gaps['male'].text}", f"### {gaps['female'].text}"]
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    male = spec["data"][0]
    assert male["name"] == "Males" and len(male["x"]) == 33
    assert spec["layout"]["xaxis"]["ticktext"][0] == "Rochdale Town Centre"
    # the stop table headed in words, life expectancy to one decimal (it showed 75.6337), no coordinates
    table = at.dataframe[0]
    cols = json.loads(table.proto.columns)
    assert list(table.value.columns)[:2] == ["stop", "minutes"] and "lat" not in table.value.columns
    assert cols["le_male_lower"]["label"] == "Male, lower 95% limit (years)"
    assert all(cols[c]["type_config"]["format"] == "%.1f" for c in table.value.columns if c.startswith("le_"))
    assert not [c["label"] for c in cols.values() if "label" in c and "_" in c["label"]]


def test_choose_another_line():
    at = _page()
    at.selectbox(key="ml_line").set_value("METLRED:I:2023-07-15").run()
    assert not at.exception
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert len(spec["data"][0]["x"]) == len(metrolink_line("METLRED:I:2023-07-15").stops)


def test_gtfs_route_from_the_bundled_feed():
    at = _page(source="feed", route="11706")
    assert at.selectbox(key="ml_route").value == "11706"
    heads = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert heads and heads[0].startswith("### Men at ")


def test_invalid_line_in_link_falls_back():
    at = _page(line="METLNOPE")
    assert at.selectbox(key="ml_line").value == "METLPINK:O:2023-07-15"
    assert any("not valid here" in t.value for t in at.toast)


def test_tyne_and_wear_network_then_line_counts_stops():
    from civicdata.metro import bundled_line

    at = _page()
    at.selectbox(key="ml_network").set_value("tyne-and-wear").run()
    assert not at.exception
    assert at.selectbox(key="ml_line").value == "tyne-and-wear:green"
    at.selectbox(key="ml_line").set_value("tyne-and-wear:yellow").run()
    gaps = compute_gaps(stop_profile(bundled_line("tyne-and-wear:yellow")))
    heads = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert heads == [f"### {gaps['male'].text}", f"### {gaps['female'].text}"]
    assert all("minutes" not in h for h in heads)
    assert at.sidebar.radio[1].options == ["evenly", "by distance (km)"]
    at.sidebar.radio[1].set_value("km").run()
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["data"][0]["x"][0] == 0.0 and len(spec["data"][0]["x"]) == 42
    assert at.query_params["line"] in ("tyne-and-wear:yellow", ["tyne-and-wear:yellow"])
    again = _page(line="tyne-and-wear:yellow")
    assert again.selectbox(key="ml_network").value == "tyne-and-wear"


def test_a_reader_from_tyne_and_wear_opens_on_its_metro():
    """Coming from Newcastle upon Tyne (the place last looked at), the page opens on the Tyne and Wear Metro, not
    Manchester's Pink Line; a link's line still wins."""
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["last_place"] = "E08000021"
    at.switch_page("views/metro_line.py").run()
    assert not at.exception and at.selectbox(key="ml_line").value == "tyne-and-wear:green"
    assert _page(line="METLPINK:O:2023-07-15").selectbox(key="ml_line").value == "METLPINK:O:2023-07-15"

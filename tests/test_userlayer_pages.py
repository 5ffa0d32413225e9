"""User layers show up on every page (AppTest), rendered as text."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from civicdata.indicators.userlayers import add_layer
from civicdata.build.sources import SOURCES

APP = str(Path(__file__).resolve().parents[1] / "app.py")
HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def user_layers(sources):
    """Two user layers in this test's store (its own SQLite file: conftest); the Trafford residents frame."""
    c = pd.read_csv(sources / SOURCES["census2021_age"].path)
    w = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path)
    t = set(w.loc[w["ltla24_code"] == "E08000009", "lsoa21_code"])
    k = c[c["lsoa21_code"].isin(t)]
    tot = k.groupby("lsoa21_code")["usual_residents"].sum()
    df = pd.DataFrame({"code": tot.index, "residents": tot.to_numpy()})
    add_layer(df.to_csv(index=False).encode(), "r.csv",
              {"id": "residents", "title": f"Residents {HOSTILE}", "unit": "people", "polarity": "neutral",
               "geography": "lsoa21", "key_column": "code", "value_column": "residents", "source": f"Census {HOSTILE}",
               "licence": "OGL", "vintage": "2021", "theme": "my data"})
    st = pd.read_csv(sources / "transport/trafford/trafford_train_stops.csv")
    st.loc[0, "name"] = HOSTILE
    add_layer(st.to_csv(index=False).encode(), "s.csv",
              {"id": "stations", "title": "Railway stations", "unit": "stations", "polarity": "neutral",
               "geography": "point", "lat_column": "lat", "lon_column": "long", "name_column": "name",
               "source": "NaPTAN", "licence": "OGL", "vintage": "2024", "theme": "services"})
    return df


def test_user_area_layer_on_the_area_map(user_layers):
    df = user_layers
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["layer"] = "residents"
    at.query_params["svc"] = "stations"
    at.run()
    assert not at.exception
    assert at.sidebar.selectbox(key="am_layer").value == "residents"
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    choro = spec["data"][0]
    assert set(choro["locations"]) == set(df["code"])
    hover = " ".join(choro["text"]) + choro["hovertemplate"]
    assert HOSTILE not in hover and "&lt;img src=x onerror=alert(1)&gt;" in hover
    stations = next(t for t in spec["data"] if t.get("name") == "Railway stations")
    assert any("&lt;img src=x" in t for t in stations["text"]) and not any(HOSTILE in t for t in stations["text"])
    box = next(s for s in at.selectbox if s.key and s.key.startswith("am_area_"))
    code = df["code"].iloc[0]
    box.set_value(code).run()
    assert any(f"{df['residents'].iloc[0]:,.0f} people" in m.value for m in at.markdown)  # a count: whole, separated


def test_user_layer_in_strategic_focus(user_layers):
    at = AppTest.from_file(APP, default_timeout=120)
    at.query_params["unit"] = "lsoa21"
    at.query_params["w"] = "residents:1"
    at.switch_page("views/strategic_focus.py").run()
    assert not at.exception
    assert at.sidebar.multiselect(key="fo_ind").value == ["residents"]
    assert len(at.dataframe[0].value) == 139


def test_add_data_page_lists_and_removes_user_layers(user_layers):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("views/add_data.py").run()
    assert not at.exception
    assert any("**residents**" in m.value for m in at.markdown)
    at.button(key="rm_residents").click().run()
    from civicdata.store import layers as stored

    assert [x.id for x in stored.stored_layers()] == ["stations"]


def test_add_data_states_and_enforces_one_upload_limit():
    """The box says the limit the check enforces (MAX_BYTES, 20 MB), not Streamlit's 200 MB default."""
    from civicdata.indicators.userlayers import MAX_BYTES
    from tests.conftest import open_page

    at = open_page("views/add_data.py")
    assert at.get("file_uploader")[0].proto.max_upload_size_mb == MAX_BYTES // 2**20 == 20
    assert any(f"up to {MAX_BYTES // 2**20} MB" in m.value for m in at.markdown)

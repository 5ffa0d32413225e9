"""A second floor for bench/pages.py: the app's chrome (its navigation menu of the same pages, the
sidebar's presentation controls, the accessibility CSS) around the same single plotly chart as
``bare_app.py``. The gap between this and the bare page is what every page of the app pays before
it draws anything of its own.

With ``?controls=area_map`` (a third floor) the page also draws the Area map's sidebar controls, the same
widgets with the same labels but fixed options and no data behind them: what Streamlit's own widgets cost a
page before any of the app's data or figures. With ``?widgets=selectbox,dataframe`` (``bench/widget_cost.py``) it
draws those Streamlit elements (``bench/widgets.py``) above the chart instead."""

import sys
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
st.set_page_config(page_title="Local Need Explorer", page_icon="static/favicon.png", layout="wide")
from bench.widgets import WIDGETS  # noqa: E402
from views._shared import A11Y_CSS, presentation  # noqa: E402

st.html(A11Y_CSS)


def area_map_controls() -> None:
    """The Area map's sidebar widgets (views/area_map.py), with fixed options."""
    with st.sidebar:
        st.header("Place")
        st.selectbox("Place", ["Trafford (Greater Manchester)", "Manchester (Greater Manchester)", "England"])
        st.text_input("Find a ward, LSOA/MSOA code or school (name or URN)")
        st.header("Layer")
        st.radio("Indices of Deprivation", ["IoD2025 (LSOA 2021)", "IoD2019 (LSOA 2011)"], horizontal=True)
        st.selectbox("Theme", ["Deprivation", "Health", "Schools"])
        st.selectbox("Indicator", ["Index of Multiple Deprivation decile, IoD2025", "Income deprivation decile"])
        st.header("Points")
        st.checkbox("Schools (colour: % FSM, size: pupils)", value=True)
        st.multiselect("School phase", ["Primary", "Secondary", "All-through", "Nursery"],
                       default=["Primary", "Secondary", "All-through"])
        st.multiselect("Health services and other points", ["Hospitals", "GP practices"], default=["Hospitals"])
        st.header("View")
        st.toggle("Large text (projector)")
        st.toggle("Ward names and boundaries", value=True)
        st.toggle("Base map tiles (needs internet)")
        with st.expander("Load a finer boundary file"):
            st.file_uploader("ONS LSOA or MSOA boundaries (GeoJSON, GeoPackage, zipped Shapefile)",
                             type=["geojson", "json", "gpkg", "zip"])


def one_chart() -> None:
    presentation("bench")
    st.title("One chart")
    if st.query_params.get("controls") == "area_map":
        area_map_controls()
    for name in filter(None, st.query_params.get("widgets", "").split(",")):
        WIDGETS[name]()
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])), key="bare")


TITLES = ["Area map", "Metro line", "School to clinic", "Strategic focus", "Trust", "Workshop", "Add data",
          "About the data", "Accessibility statement"]
pages = [st.Page(one_chart, title=t, url_path=t.lower().replace(" ", "_"), default=(i == 0),
                 icon=":material/map:") for i, t in enumerate(TITLES)]
st.navigation(pages).run()

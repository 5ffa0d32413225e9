"""A second floor for bench/pages.py: the app's chrome (its navigation menu of the same pages, the
sidebar's presentation controls, the accessibility CSS) around the same single plotly chart as
``bare_app.py``. The gap between this and the bare page is what every page of the app pays before
it draws anything of its own."""

import sys
from pathlib import Path

import plotly.graph_objects as go
import streamlit as st

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
st.set_page_config(page_title="Local Need Explorer", page_icon="static/favicon.png", layout="wide")
from views._shared import A11Y_CSS, presentation  # noqa: E402

st.html(A11Y_CSS)


def one_chart() -> None:
    presentation("bench")
    st.title("One chart")
    st.plotly_chart(go.Figure(go.Bar(x=["a", "b", "c"], y=[1, 3, 2])), key="bare")


TITLES = ["Area map", "Metro line", "School to clinic", "Strategic focus", "Trust", "Workshop", "Add data",
          "About the data", "Accessibility statement"]
pages = [st.Page(one_chart, title=t, url_path=t.lower().replace(" ", "_"), default=(i == 0),
                 icon=":material/map:") for i, t in enumerate(TITLES)]
st.navigation(pages).run()

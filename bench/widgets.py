"""One Streamlit element type each, for ``bench/nav_app.py``'s ``?widgets=`` and ``bench/widget_cost.py``."""

import streamlit as st

#: one Streamlit element type each (a name ending in "_6": six of that type), drawn above the chart with
#: ``?widgets=name,name``; small fixed contents, no data
WIDGETS = {
    "selectbox": lambda: st.selectbox("Place", ["Trafford", "Manchester", "England"]),
    "selectbox_6": lambda: [st.selectbox(f"Choice {i}", ["a", "b", "c"]) for i in range(6)],
    "multiselect": lambda: st.multiselect("School phase", ["Primary", "Secondary", "All-through"],
                                          default=["Primary", "Secondary"]),
    "text_input": lambda: st.text_input("Find a ward"),
    "radio": lambda: st.radio("Indices of Deprivation", ["2025", "2019"], horizontal=True),
    "checkbox": lambda: st.checkbox("Schools", value=True),
    "toggle": lambda: st.toggle("Large text"),
    "slider": lambda: st.slider("Weight", 0.0, 3.0, 1.0),
    "number_input": lambda: st.number_input("Shortlist", 1, 50, 10),
    "file_uploader": lambda: st.expander("Load a file").file_uploader("A boundary file", type=["geojson"]),
    "expander": lambda: st.expander("More").markdown("Text inside."),
    "dataframe": lambda: st.dataframe({"area": ["E01000001", "E01000002", "E01000003"], "decile": [1, 5, 10]}),
    "table": lambda: st.table({"area": ["E01000001", "E01000002", "E01000003"], "decile": [1, 5, 10]}),
    "metric": lambda: st.metric("Life expectancy gap", "8.1 years"),
    "download_button": lambda: st.download_button("Download the table (CSV)", b"a,b", file_name="t.csv",
                                                  on_click="ignore"),
    "code": lambda: st.code("http://127.0.0.1/?place=E08000009", language=None),
    "markdown_10": lambda: [st.markdown(f"**Line {i}**: some *text*") for i in range(10)],
    "caption_10": lambda: [st.caption(f"Source {i}") for i in range(10)],
}

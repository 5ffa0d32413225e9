"""Local Need Explorer: page config and navigation only."""

import streamlit as st

st.set_page_config(page_title="Local Need Explorer", page_icon=":material/map:", layout="wide")

pages = [
    st.Page("pages/home.py", title="About the data", icon=":material/home:", default=True),
]
st.navigation(pages).run()

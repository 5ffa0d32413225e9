"""Local Need Explorer: page config and navigation only."""

import streamlit as st

# the tab icon is a local file: a Material icon name would be fetched from fonts.gstatic.com
st.set_page_config(page_title="Local Need Explorer", page_icon="static/favicon.png", layout="wide")

from civicdata.store import StoreUnavailableError  # noqa: E402
from views._shared import A11Y_CSS, moved_server_notice, on_phone, rerun_after_reconnect, store_down  # noqa: E402

st.html(A11Y_CSS)
if on_phone():  # on a phone the charts' toolbar sat over their titles and keys: pinch-zoom does its work there
    st.html("<style>.js-plotly-plot .modebar-container{display:none !important}</style>")
moved_server_notice()
rerun_after_reconnect()  # a page moved to another server by the balancer is drawn there at once

pages = [
    st.Page("views/area_map.py", title="Area map", icon=":material/map:", default=True),
    st.Page("views/trends.py", title="Trends and peers", icon=":material/trending_up:"),
    st.Page("views/metro_line.py", title="Metro line", icon=":material/tram:"),
    st.Page("views/school_to_clinic.py", title="School to clinic", icon=":material/directions_bus:"),
    st.Page("views/strategic_focus.py", title="Strategic focus", icon=":material/target:"),
    st.Page("views/trust.py", title="Trust", icon=":material/school:"),
    st.Page("views/places.py", title="Places", icon=":material/share_location:"),
    st.Page("views/workshop.py", title="Workshop", icon=":material/how_to_vote:"),
    st.Page("views/add_data.py", title="Add data", icon=":material/upload_file:"),
    st.Page("views/home.py", title="About the data", icon=":material/info:"),
    st.Page("views/accessibility.py", title="Accessibility statement", icon=":material/accessibility:"),
]
# a workshop's phone and projector views show no menu (phones are narrow; the projector shows one thing)
bare = st.query_params.get("view") in ("join", "projector")
try:
    st.navigation(pages, position="hidden" if bare else "sidebar").run()
except StoreUnavailableError:  # the database is not answering: one sentence, and the page tries again by itself
    store_down()

"""Home: what the app is, what data it holds, sources and licences."""

import streamlit as st

from civicdata import settings
from views import _shared

st.title("Local Need Explorer")
st.markdown(
    "Deprivation, health and school indicators for any part of England on one set of maps, so that "
    "leaders of school trusts, NHS trusts and councils can see where need concentrates and agree a "
    f"**strategic focus** for working together. It opens on **{_shared.place_options().get(settings.DEFAULT_LAD)}**; "
    "every local authority district in England can be chosen, or an area of your own."
)

cat = _shared.catalogue()
by_theme = cat.by_theme()
cols = st.columns(4)
cols[0].metric("Layers", len(cat))
cols[1].metric("Themes", len(by_theme))
cols[2].metric("Datasets in the bundle", len(_shared.manifest()["dataset"]))
cols[3].metric("Boundaries", "ONS generalised (20 m)", help="Every district of England is drawn from ONS "
               "Generalised Clipped (BGC, 20 m) boundaries, read district by district and simplified only for the "
               "scale of the map (half a screen pixel). The England view uses ONS super generalised (200 m) outlines.")

st.subheader("Layers by theme")
for theme, layers in by_theme.items():
    with st.expander(f"{theme.capitalize()} ({len(layers)})"):
        _shared.table(
            [{"title": d.title, "geography": d.geography_label, "unit": d.unit,
              "polarity": d.polarity.replace("_", " "), "vintage": d.vintage, "source": d.source,
              "layer id (links and the CLI)": d.id} for d in layers],
            hide_index=True, width="stretch")

st.subheader("Sources, licences and vintages")
st.caption("IoD2019 and life expectancy use 2011 LSOAs/MSOAs; IoD2025, GIAS 2025 and Census 2021 use 2021 LSOAs. "
           "MHCLG says IoD2019 and IoD2025 ranks are not directly comparable.")
manifest = _shared.manifest_frame()  # the title first; the bundle's file id last, for analysts
manifest = manifest[[c for c in manifest.columns if c != "name"] + ["name"]].rename(
    columns={"title": "dataset", "name": "id in the bundle (data/manifest.toml)"})
_shared.table(manifest, hide_index=True, width="stretch",
             column_config={"source_url": st.column_config.LinkColumn("source")})
_shared.footer()

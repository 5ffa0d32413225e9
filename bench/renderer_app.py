"""One choropleth drawn by one renderer, for bench/renderers.py: ``?r=geo|map|deck|leaflet&place=CODE``.

The same polygons (the layer's areas in the place, bundled boundaries), the same class colours and the same
hover text (name, value) in each; a radio switches the layer (IoD2025 income decile <-> health decile), which is
the "colour change" the benchmark times. ``geo`` is what the Area map draws today (civicdata.figures.maps)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import streamlit as st

# run from a folder of its own beside the app's static/ (Streamlit serves static/ next to the script)
sys.path.insert(0, os.environ.get("LNE_REPO", str(Path(__file__).resolve().parents[1])))
from civicdata.indicators import choropleth  # noqa: E402
from civicdata.indicators.catalogue import load_catalogue  # noqa: E402
from civicdata.figures.maps import build_area_map, map_config, to_geojson  # noqa: E402

renderer = st.query_params.get("r", "geo")
place = st.query_params.get("place", "E47000001")
LAYERS = {"income2025_decile": "Income", "health2025_decile": "Health"}


@st.cache_resource
def _cat():
    return load_catalogue()


@st.cache_data
def _frame(layer: str, place: str):
    desc = _cat().get(layer)
    if place == "england":  # England's local authorities, as the Area map's England view aggregates them
        f = choropleth.national_lad_frame(desc)
        classes = choropleth.layer_classes(choropleth.aggregate_descriptor(desc), f["value"])
    else:
        f = choropleth.place_frame(desc, place)
        classes = choropleth.layer_classes(desc, choropleth.national_frame(desc)["value"])
    colours = [classes.colours[int(c) - 1] if c == c else "#bdbdbd" for c in f["class"]]
    return f, classes, colours


@st.cache_data
def _geojson(place: str, layer: str) -> dict:
    f, _, colours = _frame(layer, place)
    gj = to_geojson(f)
    by_code = dict(zip(f["code"], zip(colours, f["name"], f["value"])))
    for feat in gj["features"]:
        colour, name, value = by_code[feat["id"]]
        feat["properties"] = {"fill": colour, "label": f"{name}: {value:g}" if value == value else f"{name}: no data"}
    return gj


st.title(f"Renderer: {renderer}")
layer = st.radio("Layer", list(LAYERS), format_func=LAYERS.get, horizontal=True, key="layer")
frame, classes, _ = _frame(layer, place)
if renderer == "geo":
    desc = _cat().get(layer)
    desc = choropleth.aggregate_descriptor(desc) if place == "england" else desc
    st.plotly_chart(build_area_map(frame, desc, classes, height=600, bounds=tuple(frame.total_bounds)), key="map",
                    config=map_config())  # the offline world outline, as on the Area map
elif renderer == "map":  # plotly MapLibre, offline: a style with no sources and no glyphs
    import plotly.graph_objects as go

    gj = _geojson(place, layer)
    b = frame.total_bounds
    fig = go.Figure(go.Choroplethmap(
        geojson=gj, locations=[f["id"] for f in gj["features"]], z=frame["class"].fillna(0),
        colorscale=[[0, "#bdbdbd"]] + [[(i + 1) / len(classes.colours), c] for i, c in enumerate(classes.colours)],
        showscale=False, text=[f["properties"]["label"] for f in gj["features"]], hovertemplate="%{text}<extra></extra>",
        marker={"line": {"width": 0.6, "color": "#ffffff"}}))
    fig.update_layout(height=600, margin={"l": 0, "r": 0, "t": 0, "b": 0},
                      map={"style": {"version": 8, "sources": {}, "layers": [
                          {"id": "bg", "type": "background", "paint": {"background-color": "#ffffff"}}]},
                           "bounds": {"west": b[0], "south": b[1], "east": b[2], "north": b[3]}})
    st.plotly_chart(fig, key="map", config=map_config())
elif renderer == "deck":  # deck.gl via st.pydeck_chart: no basemap, layer data updated in place
    import pydeck as pdk

    gj = _geojson(place, layer)
    b = frame.total_bounds
    for feat in gj["features"]:
        c = feat["properties"]["fill"].lstrip("#")
        feat["properties"]["rgb"] = [int(c[i:i + 2], 16) for i in (0, 2, 4)]
    view = pdk.data_utils.compute_view([[b[0], b[1]], [b[2], b[3]]])
    deck = pdk.Deck(layers=[pdk.Layer("GeoJsonLayer", gj, id="areas", pickable=True, stroked=True, filled=True,
                                      get_fill_color="properties.rgb", get_line_color=[255, 255, 255],
                                      line_width_min_pixels=0.6)],
                    initial_view_state=view, map_provider=None, tooltip={"text": "{label}"})
    st.pydeck_chart(deck, key="map", height=600, on_select="ignore")
else:  # Leaflet canvas (folium prefer_canvas) through streamlit-folium
    import folium
    from streamlit_folium import st_folium

    from civicdata.figures import leaflet

    gj = _geojson(place, layer)
    b = frame.total_bounds
    leaflet.configure_offline()
    m = folium.Map(location=[(b[1] + b[3]) / 2, (b[0] + b[2]) / 2], zoom_start=10, tiles=None, prefer_canvas=True)
    m.fit_bounds([[b[1], b[0]], [b[3], b[2]]])
    folium.GeoJson(gj, style_function=lambda f: {"fillColor": f["properties"]["fill"], "color": "#ffffff",
                                                 "weight": 0.6, "fillOpacity": 0.85},
                   tooltip=folium.GeoJsonTooltip(fields=["label"], labels=False)).add_to(m)
    st_folium(m, height=600, use_container_width=True, key="map", returned_objects=[])

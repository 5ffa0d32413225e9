"""Metro line: life expectancy stop by stop ("Lives on the Line")."""

from __future__ import annotations

import tempfile
from pathlib import Path

import geopandas as gpd
import streamlit as st

from civicdata.figures import alt_text
from civicdata import metro, settings
from civicdata.figures.charts import build_metro_chart, build_metro_png
from civicdata.errors import ProblemsError
from civicdata.transit.gtfs import FeedError
from civicdata.figures.maps import build_line_map, line_view_bounds, map_config
from views import _shared

presenting = _shared.presentation("views/metro_line.py")

st.title("Metro line")
st.caption("Life expectancy at birth at each stop, as in “Lives on the Line”: the years lost between stops a few "
           "minutes apart.")
ss = st.session_state
lines = _shared.bundled_lines()
keys = lines["key"].tolist()
labels = {r.key: f"{r.name} ({r.direction}): {r.first} → {r.last}" for r in lines.itertuples()}
networks = dict(zip(lines["network"], lines["network_name"]))
DEFAULT = "METLPINK:O:2023-07-15"
SOURCES = {"metrolink": "Bundled tram and metro lines", "feed": "A GTFS feed route",
           "geometry": "Line geometry + stops file"}
if "ml_source" not in ss:
    ss.ml_source = _shared.param("source", "metrolink", SOURCES)
if "ml_line" not in ss:  # a reader coming from a Tyne and Wear district opens on its Metro's Green line
    ss.ml_line = _shared.param("line", "tyne-and-wear:green" if ss.get("last_place") in settings.TYNE_AND_WEAR_LAD_CODES
                               and "tyne-and-wear:green" in keys else DEFAULT, keys)
if "ml_network" not in ss:
    ss.ml_network = lines.set_index("key").at[ss.ml_line, "network"]


@st.fragment(key="ml_view")
def line_view() -> None:
    """The line, its source and display controls with the chart, map, table and downloads they drive: changing
    any of them reruns this fragment, not the page."""
    with st.sidebar:
        st.radio("Line from", list(SOURCES), key="ml_source", format_func=SOURCES.get)
        timetabled = ss.ml_source != "metrolink" or bool(lines.set_index("key").at[ss.ml_line, "timetable"])
        spacing = st.radio("Space stops", ["even", "time" if timetabled else "km"], horizontal=True,
                           format_func={"even": "evenly", "time": "by travel time", "km": "by distance (km)"}.get,
                           key=f"ml_spacing_{'time' if timetabled else 'km'}")  # a line without a timetable: afresh
        iod = st.radio("IMD band", ["2025", "2019"], horizontal=True,
                       format_func=lambda v: f"IoD{v} ({'LSOA 2021' if v == '2025' else 'LSOA 2011'})")
        large = st.toggle("Large text (projector)", value=st.query_params.get("present") == "1") or presenting
        show_orientation = _shared.orientation_toggle()

    line = None
    kind, key = ss.ml_source, ""
    source = None  # what the line is read from, when that can key its cached figures (not an uploaded geometry)
    try:
        if kind == "metrolink":
            c1, c2 = st.columns([1, 2])
            network = c1.selectbox("Network", list(networks), key="ml_network", format_func=networks.get)
            in_network = lines.loc[lines["network"] == network, "key"].tolist()
            if ss.ml_line not in in_network:
                ss.ml_line = in_network[0]
            c2.selectbox("Line", in_network, key="ml_line", format_func=labels.get)
            key = ss.ml_line
            line = metro.bundled_line(key)
            source = ("metrolink", key)
            st.query_params.update({"source": "metrolink", "line": key})
            if not lines.set_index("key").at[key, "timetable"]:
                st.caption("No timetable is bundled for this network: the headline counts stops, never minutes, and "
                           "the chart spaces stops evenly or by straight-line km.")
        elif kind == "feed":
            up = st.file_uploader("GTFS zip (default: the bundled Chester feed, Aug 2023)", type=["zip"])
            if up is not None:
                tmp = Path(tempfile.gettempdir()) / f"lne_feed_{abs(hash(up.getvalue())) % 10**12}.zip"
                tmp.write_bytes(up.getvalue())
                path = tmp
            else:
                path = _shared.default_feed_path()
            fd = _shared.feed(str(path), path.stat().st_mtime)
            routes = fd.routes.assign(label=fd.routes["route_id"].map(fd.route_labels())).sort_values("label")
            rid = st.selectbox("Route", routes["route_id"].tolist(),
                               index=routes["route_id"].tolist().index(st.query_params.get("route"))
                               if st.query_params.get("route") in routes["route_id"].tolist() else 0,
                               format_func=dict(zip(routes["route_id"], routes["label"])).get, key="ml_route")
            pats = metro.feed_patterns(fd, rid)
            pat = st.selectbox("Stop pattern", pats["pattern"].tolist(), key=f"ml_pattern_{rid}",
                               format_func=lambda i: f"{pats.loc[i, 'first']} → {pats.loc[i, 'last']} "
                                                     f"({pats.loc[i, 'n_stops']} stops, {pats.loc[i, 'n_trips']} trips)")
            line = metro.feed_line(fd, rid, int(pat))
            key = f"{fd.name}:{rid}:{pat}"
            source = ("feed", str(path), path.stat().st_mtime_ns, rid, pat)
            st.query_params.update({"source": "feed", "route": rid})
            st.info("Only routes in this feed: a route missing here may still run.")
        else:
            c1, c2 = st.columns(2)
            geo = c1.file_uploader("Line geometry (GeoJSON of line pieces)", type=["geojson", "json"], key="ml_geo")
            stf = c2.file_uploader("Stops (CSV with name, lat, lon; or GeoJSON points)", type=["csv", "geojson", "json"],
                                   key="ml_stops")
            if geo is None or stf is None:
                st.info("Load both files, then pick the two end stops. Tip: try the Trafford Metrolink pieces and stops "
                        "from the shared data folder (Altrincham to Trafford Bar).")
            else:
                with tempfile.TemporaryDirectory() as tmp:
                    gp = Path(tmp) / ("line" + Path(geo.name).suffix)
                    gp.write_bytes(geo.getvalue())
                    sp = Path(tmp) / ("stops" + Path(stf.name).suffix)
                    sp.write_bytes(stf.getvalue())
                    segments = gpd.read_file(gp)
                    stops = metro.read_stops_file(sp, label=stf.name)
                names = sorted(stops["name"].unique())
                a = st.selectbox("From", names, key="ml_from")
                b = st.selectbox("To", names, index=min(1, len(names) - 1), key="ml_to")
                line = metro.line_from_geometry(segments, stops, a, b, label=geo.name)
                key = f"{geo.name}:{stf.name}:{a}:{b}"
    except (ProblemsError, FeedError, KeyError, ValueError) as exc:
        st.error(str(exc.args[0] if isinstance(exc, KeyError) else exc))

    if line is not None:
        profile = _shared.line_profile(kind, key, iod, line)
        gaps = metro.compute_gaps(profile)
        heads = [g for g in gaps.values() if g is not None]
        # on a projector one message per screen: the larger gap is the headline, the other goes below the chart
        shown = [max(heads, key=lambda g: g.gap_years)] if presenting and heads else heads
        for g in shown:
            st.markdown(f"### {g.text}")
            if g.ci_overlap and not presenting:
                st.warning(f"The 95% confidence intervals at {g.low_stop} and {g.high_stop} overlap: this gap may not be real.")
        if not heads:
            st.warning("Fewer than two stops on this line have a published life-expectancy estimate (stops outside "
                       "England have no data).")
        if len(line.far_stops):
            st.warning("Left out, more than 300 m from the line: " + ", ".join(
                f"{r.name} ({r.offset_m:.0f} m)" for r in line.far_stops.itertuples()))

        def chart():
            fig = build_metro_chart(profile, line.name, spacing=spacing, large_text=large)
            if presenting:  # sized from the screen (main_chart)
                fig.update_layout(height=None)
            return fig

        fig = _shared.figure_once(source and ("chart", *source, iod, spacing, large, presenting), chart)
        chart_col, map_col = st.columns([2.2, 1]) if not large else (st.container(), st.container())
        with chart_col:
            _shared.main_chart(fig, key="metro_chart", presenting=presenting, config={"displaylogo": False})
            _shared.text_alternative(alt_text.line_text(profile, line.name), what="chart")
            for g in heads:
                if g not in shown:
                    st.markdown(f"**{g.text}**")
                if g.ci_overlap and presenting:
                    st.caption(f"The 95% confidence intervals at {g.low_stop} and {g.high_stop} overlap: this gap may "
                               "not be real.")
            st.caption(f"Life expectancy at birth, ONS, MSOA 2011, 2016–2020 (95% CI whiskers). Band: IMD decile of the "
                       f"stop's LSOA, IoD{iod}, 1 = most deprived (same colours as the Area map). “No estimate”: ONS "
                       f"publishes none for that MSOA; † no male estimate, ‡ no female estimate (small numbers). * approximate area "
                       f"(nearest LSOA centre). Line: {line.source}.")
        with map_col:
            def line_map():
                orient = _shared.orientation_around(line_view_bounds(profile), large) if show_orientation else None
                return build_line_map(profile, metro.stop_msoa_boundaries(profile), line.geometry, large,
                                      orientation=orient)

            st.plotly_chart(_shared.figure_once(source and ("map", *source, iod, large, show_orientation), line_map),
                            key="metro_map", config=map_config())
        table = profile.rename(columns={"msoa": "msoa11_code", "lsoa": f"lsoa{'21' if iod == '2025' else '11'}_code"})
        # the stop table in words and rounded as the chart is (the CSV keeps every column and decimal)
        le = [c for c in table.columns if c.startswith("le_")]
        _shared.table(table.drop(columns=["lat", "lon"]).rename(columns={"name": "stop"}), hide_index=True,
                      width="stretch", decimals={**{c: 1 for c in le}, "minutes": 0})
        d1, d2, d3 = st.columns(3)
        stem = "".join(c if c.isalnum() else "_" for c in line.name)[:60]
        d1.download_button("Stop table (CSV)", table.to_csv(index=False).encode("utf-8"), f"{stem}.csv", "text/csv", on_click="ignore")
        d2.download_button("Chart (PNG, 16:9 slide)", lambda: build_metro_png(profile, line.name, [g.text for g in heads]),
                           f"{stem}.png", "image/png", on_click="ignore")
        d3.download_button("Chart (HTML)", lambda: fig.to_html(include_plotlyjs=True).encode("utf-8"), f"{stem}.html", "text/html", on_click="ignore")
    _shared.share_box()


line_view()
_shared.footer(share=False)

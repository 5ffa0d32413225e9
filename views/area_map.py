"""Area map: deprivation, health and schools on one map, with an area profile against England."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from civicdata.figures import alt_text
from civicdata.indicators import choropleth, profile
from civicdata import settings
from civicdata.figures.charts import build_decile_share_chart
from civicdata.errors import ProblemsError
from civicdata.indicators import schools as school_ind
from civicdata.indicators.families import QOF_NAMES
from civicdata.labels import unit_decimals, value_text
from civicdata.geo.geography import (lad_of_area, read_boundary_file, search_areas,
                                 suggest_names)
from civicdata.geo.places import areas_in_place
from civicdata.figures.maps import PointLayer, build_area_map, figure_html, map_config
from civicdata.geo.places import AREA_PREFIX
from views import _area, _shared
from views import trends_data


def _trends_section(place: str, place_name: str) -> None:
    """Is it getting worse, and is it unusual for places like this? (the Trends page in brief)."""
    from civicdata.indicators import trends

    if place not in trends_data.places():
        return
    table = trends_data.summary(place, "global")
    st.markdown(f"**Trends and peers: {_shared.md_escape(trends.headline(place, table))}**")
    shown = table.rename(columns={"title": "indicator", "label": "latest period", "value": "latest",
                                  "england": "England", "neighbours_median": "ONS neighbours' median",
                                  "vs_england": "against England", "trend": "trend"})
    shown = shown[["indicator", "latest period", "latest", "unit", "England", "ONS neighbours' median",
                   "against England", "trend"]].copy()
    inds = trends.load_indicators()
    for col in ("latest", "England", "ONS neighbours' median"):  # each row in its indicator's own decimals
        shown[col] = [inds[i].number(v) for v, i in zip(shown[col], table["indicator_id"])]
    _shared.table(shown, hide_index=True, width="stretch", key="am_trends")
    st.page_link("views/trends.py", label=f"Trends and peers for {place_name}: series, ONS neighbours, spine chart",
                 icon=":material/trending_up:", query_params={"place": place})
    st.caption("Source: ONS Explore Local Statistics (17 series, each from its publisher); neighbours: ONS similar "
               "areas (2026, overall). " + trends.SIGNIFICANCE_RULE)

presenting = _shared.presentation("views/area_map.py")

st.title("Area map")

cat = _shared.catalogue()
places = _shared.place_options()
areas = _shared.saved_areas()  # a saved custom area is a place: its neighbourhoods on the map, its profile below
ss = st.session_state

# ---------------------------------------------------------------- state from the link
if "am_next_place" in ss:  # a search hit or a click on the England map moves the place
    ss.am_place = ss.pop("am_next_place")
if "am_place" not in ss:
    ss.am_place = _shared.param("place", ss.get("last_place", settings.DEFAULT_LAD), places | areas)
if ss.am_place not in places and ss.am_place not in areas:  # a saved area deleted meanwhile
    ss.am_place = settings.DEFAULT_LAD
area_ids = [d.id for d in cat if d.geography != "point"]
if "am_layer" not in ss:
    iod = _shared.param("iod", "2025", ("2025", "2019"))
    ss.am_layer = _shared.param("layer", f"imd{iod}_decile", area_ids)
    layer0 = cat.get(ss.am_layer)
    # an IoD layer in the link decides the IoD vintage shown
    ss.am_iod = layer0.vintage if layer0.theme == "deprivation" and layer0.vintage in ("2019", "2025") else iod
ss.setdefault("am_highlight", None)
ss.setdefault("am_large", st.query_params.get("present") == "1")

# ---------------------------------------------------------------- controls
with st.sidebar:
    st.header("Place")
    trusts = _shared.saved_trusts()  # a saved school trust is a place too: it opens on the Trust page

    def _to_trust() -> None:
        if ss.am_place in trusts:
            ss.am_go_trust = ss.am_place[len("trust:"):]
            ss.am_place = ss.get("last_place", settings.DEFAULT_LAD)

    st.selectbox("Place", list(places) + list(areas) + list(trusts), key="am_place", on_change=_to_trust,
                 format_func=lambda p: places.get(p) or areas.get(p) or trusts.get(p, p))
    if "am_go_trust" in ss:
        st.switch_page("views/trust.py", query_params={"group": ss.pop("am_go_trust")})
    query = st.text_input("Find a ward, LSOA/MSOA code or school (name or URN)", key="am_query")

place = ss.am_place
ss.last_place = place
st.query_params["place"] = place
national = place == _shared.ENGLAND
is_area = place in areas
place_name = _shared.saved_area_title(place) if is_area else places[place].replace(" (Greater Manchester)", "")
file_stem = place.replace(":", "-")

# ---------------------------------------------------------------- search
if query:
    areas = search_areas(query, levels=("ward", "lsoa11", "lsoa21", "msoa11", "msoa21", "lad"))
    found_schools = profile.search_schools(query)
    if areas.empty and found_schools.empty:
        hint = suggest_names(query)
        st.warning(f"No match for “{query}”." + (f" Did you mean: {', '.join(hint)}?" if hint else
                                                  " Try a ward name, an E01…/E02… code or a school name."))
    else:
        options = [("area", r.code, r.level, f"{r.name} ({r.code}, {r.level})") for r in areas.itertuples()]
        options += [("school", str(r.urn), "urn", f"{r.name} (school, URN {r.urn})") for r in found_schools.itertuples()]
        pick = st.selectbox("Matches", options, format_func=lambda o: o[3], key="am_pick")
        if st.button("Go there"):
            kind, code, level, _ = pick
            if kind == "school":
                det = profile.school_details(int(code))
                target, ss.am_highlight = det["lad24_code"], ("school", code)
            elif level == "lad":
                target, ss.am_highlight = code, None
            else:
                target, ss.am_highlight = lad_of_area(code, level), ("area", code)
            if target in places:
                ss.am_next_place = target
                st.rerun()


def _rerun_page() -> None:
    """The IoD vintage and large text change the area profile below the map too: these two controls rerun the
    page, not only the map's fragment."""
    st.rerun()


@st.fragment(key="am_map")
def map_section() -> None:
    """The layer, points and view controls with the map, legend, details and downloads they drive: changing
    one reruns this fragment only (a place change reruns the page)."""
    with st.sidebar:
        st.header("Layer")
        st.radio("Indices of Deprivation", ["2025", "2019"], key="am_iod", horizontal=True,
                 on_change=_rerun_page,
                 format_func=lambda v: f"IoD{v} ({'LSOA 2021' if v == '2025' else 'LSOA 2011'})")
        themes = cat.by_theme()
        theme_names = [t for t, ls in themes.items() if any(d.geography != "point" for d in ls)]
        current = cat.get(ss.am_layer) if ss.am_layer in cat else cat.get(f"imd{ss.am_iod}_decile")
        theme = st.selectbox("Theme", theme_names, index=theme_names.index(current.theme),
                             format_func=str.capitalize)
        # IoD vintages are never mixed: the deprivation menu shows the chosen IoD only
        choices = [d for d in themes[theme] if d.geography != "point"
                   and (theme != "deprivation" or d.vintage == ss.am_iod)]
        ids = [d.id for d in choices]
        if ss.am_layer not in ids:
            same_kind = f"imd{ss.am_iod}_decile" if theme == "deprivation" else ids[0]
            ss.am_layer = same_kind if same_kind in ids else ids[0]
        st.selectbox("Indicator", ids, key="am_layer", format_func=lambda i: cat.get(i).title)
        st.header("Points")
        show_schools = st.checkbox("Schools (colour: % FSM, size: pupils)", value=True)
        phases = st.multiselect("School phase", ["Primary", "Secondary", "All-through", "Nursery", "16 plus",
                                                 "Middle deemed primary", "Middle deemed secondary", "Not applicable"],
                                default=["Primary", "Secondary", "All-through"])
        service_layers = [d for d in cat if d.geography == "point"]
        svc_ids = [d.id for d in service_layers]
        if "am_services" not in ss:
            svc_param = st.query_params.get("svc")
            wanted = [s for s in ("nhs_hospitals_c2022" if svc_param is None else svc_param).split(",") if s]
            ss.am_services = [s for s in wanted if s in svc_ids]
            if len(ss.am_services) < len(wanted):
                st.toast("Some services in the link are not available here; they were left out.")
        services = st.multiselect("Health services and other points", svc_ids, key="am_services",
                                  format_func=lambda i: cat.get(i).title)
        st.header("View")
        large = st.toggle("Large text (projector)", key="am_large", on_change=_rerun_page) or presenting
        show_orientation = _shared.orientation_toggle()
        tiles = st.toggle("Base map tiles (needs internet)", value=False)
        with st.expander("Load a finer boundary file"):
            up = st.file_uploader("ONS LSOA or MSOA boundaries (GeoJSON, GeoPackage, zipped Shapefile)",
                                  type=["geojson", "json", "gpkg", "zip"])

    desc = cat.get(ss.am_layer)
    st.query_params.update({"layer": desc.id, "iod": ss.am_iod, "svc": ",".join(services)})

    # ---------------------------------------------------------------- user boundary file
    override = None
    if up is not None:
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / ("upload" + Path(up.name).suffix.lower())
            path.write_bytes(up.getvalue())
            try:
                bf = read_boundary_file(path, label=up.name)
            except ProblemsError as exc:
                st.sidebar.error(str(exc))
            else:
                ss.am_override = {"level": bf.level, "frame": bf.frame, "name": up.name}
                st.sidebar.success(f"{up.name}: {bf.coverage.summary()} (codes in column '{bf.code_column}').")
    if ss.get("am_override") and ss.am_override["level"] == desc.geography:
        override = ss.am_override["frame"]

    # ---------------------------------------------------------------- data for the map
    stamp = _shared.layer_stamp(desc.id)
    if is_area:  # a saved area may be changed under the same id, on any server
        stamp += _shared.places_stamp()
    if desc.geography in ("urn", "practice"):  # drawn as points (schools, GP practices), not areas
        frame = None
        classes = None
    elif national:
        frame = _shared.national_lad_frame(desc.id, stamp)
        classes = choropleth.layer_classes(choropleth.aggregate_descriptor(desc), frame["value"])
    else:
        frame = _shared.place_frame(desc.id, place, stamp, ss.am_override["name"] if override is not None else "",
                                    _override=override)
        classes = choropleth.layer_classes(desc, _shared.national_frame(desc.id, stamp)["value"])

    if national:
        bounds = (-6.4, 49.9, 1.8, 55.8)
    elif frame is not None and len(frame):
        bounds = tuple(frame.total_bounds)
    else:
        bounds = tuple(choropleth.boundaries_for("lad", place).total_bounds)

    highlight = ss.am_highlight[1] if ss.am_highlight and ss.am_highlight[0] == "area" else None
    map_height = 720 if large else 440 if _shared.on_phone() else 600

    def build() -> tuple:
        """The map figure and the orientation it drew (wards, names, lines), from the controls above."""
        points: list[PointLayer] = []
        if show_schools and not national:
            sch = _shared.schools()
            codes = set(areas_in_place(place, "lsoa21")["code"])
            sch = sch[sch["lsoa21_code"].isin(codes) & sch["phase"].isin(phases)].copy()
            value_col = "fsm_pct"
            hover = ["urn", "phase", "pupils", "fsm_pct", "neighbourhood", "lsoa21_code", "imd2025_decile"]
            if desc.geography == "urn":  # a school layer (bundled or an analyst's own): its values by URN
                from civicdata.indicators.layers import load_layer

                value_col = f"{desc.title} ({desc.unit})"
                vals = load_layer(desc).drop_duplicates("code").set_index("code")["value"]
                sch[value_col] = sch["urn"].astype(str).map(vals).astype(float)
                hover = ["urn", "phase", "pupils", value_col, "neighbourhood", "lsoa21_code", "imd2025_decile"]
                lo, hi = _shared.practice_range(desc.id, stamp)  # England's 5th to 95th percentile
            sch["urn:"] = "urn:" + sch["urn"].astype(str)
            points.append(PointLayer("Schools (GIAS May 2025)", sch, hover=hover,
                                     # beside a practice layer, schools stay grey: one colour scale on the map
                                     colour_by=None if desc.geography == "practice" else value_col, colour="#7f7f7f",
                                     colour_title=("% FSM" if value_col == "fsm_pct" else desc.unit[:12]),
                                     size_by="pupils", key_column="urn:",
                                     **({} if value_col == "fsm_pct" else {"cmin": lo, "cmax": hi,
                                                                         "reverse": desc.polarity == "higher_is_better"})))
        if desc.geography == "practice" and not national:
            pts = _shared.practice_points(desc.id, stamp, bounds)
            lo, hi = _shared.practice_range(desc.id, stamp)
            shown, listed = f"{desc.title} ({desc.unit})", "Patients on the list it is a share of"
            pts = pts.rename(columns={"value": shown, "weight": listed})
            points.append(PointLayer(f"{desc.title} (GP practices, size: list)", pts, hover=["code", "pcn", shown, listed],
                                     colour_by=shown, colour_title=desc.unit, size_by=listed, cmin=lo, cmax=hi,
                                     size_per_sqrt=0.12, key_column="code"))
        if not national:
            from civicdata.indicators.layers import load_layer

            for i, sid in enumerate(services):
                sd = cat.get(sid)
                pts = profile.points_in_bounds(load_layer(sd), bounds)
                pts["service:"] = "service:" + sid + ":" + pts.index.astype(str)
                if sd.id == "gp_practices2025":  # a current GP practice's Primary Care Network (ePCN, c. Q4 2024)
                    from civicdata.geo.places import pcn_of

                    pts["pcn"] = pcn_of(pts["ods_code"])
                hover = [c for c in ("service_type", "subtype", "postcode", "pcn", "parent_name", "vintage") if c in pts.columns]
                points.append(PointLayer(f"{sd.title}", pts, hover=hover, colour=_shared.SERVICE_COLOURS[i % len(_shared.SERVICE_COLOURS)],
                                         key_column="service:"))

        draw = frame if frame is not None else choropleth.boundaries_for("lad", place).assign(**{"class": float("nan")})
        orient = None
        if show_orientation and not national:  # a saved area: the wards and districts its view meets
            # names are chosen for the map's size on screen: on a projector, for the smaller one (1280x720, the map
            # about 810x460 px), so they never crowd each other there
            # on a phone, for a map about 360 px wide, so names never pile up there either
            w, h = (810, 460) if presenting else (360, min(map_height, 480)) if _shared.on_phone() else (900, map_height)
            orient = (_shared.orientation_around(bounds, large, w, h) if is_area
                      else _shared.orientation(place, bounds, large, w, h))
        fig = build_area_map(draw, desc if frame is not None else None, classes, points, highlight=highlight,
                             height=map_height, large_text=large, tiles=tiles, bounds=bounds, orientation=orient)
        if presenting:  # sized from the screen (main_chart)
            fig.update_layout(height=None)
        return fig, orient

    # the same view again (a control toggled back, another session, a rerun of the page) reuses its figure;
    # a user's boundary file is never cached
    view = None if override is not None else (
        desc.id, place, stamp, show_schools, tuple(phases), tuple((s, _shared.layer_stamp(s)) for s in services),
        highlight, large, tiles, show_orientation, presenting, _shared.on_phone())  # a phone's names differ
    fig, orient = _shared.figure_once(view, build)

    # ---------------------------------------------------------------- layout
    if desc.theme == "deprivation" and not national and not is_area and frame is not None:
        head = _shared.headline(place, ss.am_iod) if place != settings.GM_CAUTH_CODE else None
        if head is not None:
            st.markdown(f"### {head.text}")
    elif is_area and frame is not None:  # a saved area has its headline too, as on the Places page
        from civicdata.geo.places import area_headline

        st.markdown(f"### {_shared.md_escape(area_headline(_shared.saved_area_profile(place.removeprefix(AREA_PREFIX))))}")
    source_caption = f"{desc.title} — {desc.geography_label}. Source: {desc.source} ({desc.vintage}), {desc.licence}."
    if not presenting:  # on a projector, secondary text goes below the map
        st.caption(source_caption)

    rule = "" if classes is None else (f"{classes.rule} Polarity: {classes.polarity_note}."
                                       + (f" {choropleth.AGGREGATION_RULE}" if national else ""))
    map_col, side_col = st.columns([3, 1.3] if not large else [3, 1.1])
    with map_col:
        with st.container(key="drawing_area_map"):
            event = _shared.main_chart(fig, key="area_map", presenting=presenting, on_select="rerun",
                                       selection_mode="points", config=map_config(scrollZoom=True))
        if frame is not None and classes is not None:
            _shared.text_alternative(
                alt_text.choropleth_text(frame, desc.title, desc.unit, desc.geography_label, place_name, classes.labels,
                                         desc.polarity),
                _behind_the_map(frame, desc), "map", key="am_alt_table",
                decimals={c: unit_decimals(desc.unit) for c in (desc.title[:60], "ci_lower", "ci_upper")})
    if presenting:
        st.caption(f"{source_caption} {rule}".strip())
    with side_col:
        if classes is not None:
            decile = classes.labels[0].startswith("Decile")
            st.markdown("**Legend**" + (" (decile)" if presenting and decile else ""))
            st.html(_shared.legend_html(classes.labels, classes.colours,
                                        bool(frame is not None and frame["class"].isna().any()), large,
                                        compact=presenting))
            if not presenting:  # on a projector the rule goes under the map: the legend fits the screen
                st.caption(rule)
        elif desc.geography == "urn":
            worst = "lowest" if desc.polarity == "higher_is_better" else "highest"
            st.caption(f"{desc.title} is a school layer: each school is coloured by it, darkest red = {worst} "
                       "(scale: England's 5th to 95th percentile of schools); grey: no value for the school. "
                       f"Size: pupils. {desc.description}")
        elif desc.geography == "practice":
            st.caption(f"{desc.title} is a GP practice layer: each practice (at its 2025 location) is a point coloured by "
                       "it (colour scale: England's 5th to 95th percentile of practices) and sized by the list the value "
                       f"is a share of. {desc.description}")
        if orient is not None:
            st.caption("Dotted lines: ward boundaries (" + ("the wards the view meets, May 2025" if is_area else
                       "May 2025 wards") + "); solid black: the local authority"
                       + ("; yellow: Metrolink lines" if len(orient.lines) else "") + "."
                       + ("" if presenting else " " + orient.rule))  # a projector: the key only, not the rule
        if not tiles and not presenting:
            st.caption("Plain background: base-map tiles are off (they need internet). Boundaries are drawn without them.")

    # ---------------------------------------------------------------- click-through
    picked = None
    sel = getattr(event, "selection", None) or {}
    for pt in sel.get("points", []) if isinstance(sel, dict) else []:
        cd = pt.get("customdata")
        if cd:
            picked = cd[0] if isinstance(cd, list) else cd
            break
    if picked and national and str(picked) in places:
        ss.am_next_place = str(picked)
        st.rerun()

    with side_col:
        if not presenting:  # its area picker is hidden on a projector: no heading over nothing
            st.markdown("**Details**")
        if frame is not None and len(frame):
            opts = [""] + frame["code"].tolist()
            names = dict(zip(frame["code"], frame["name"]))
            default = picked if picked in names else (highlight if highlight in names else "")
            code = st.selectbox("Area", opts, index=opts.index(default) if default in opts else 0,
                                format_func=lambda c: "choose an area" if not c else f"{names[c]} ({c})",
                                key=f"am_area_{place}_{desc.geography}")
            if code:
                row = frame[frame["code"] == code].iloc[0]
                val = value_text(row["value"], desc.unit, with_unit=True)  # rounded by its unit, as the hover
                st.markdown(f"**{row['name']}** `{code}`  \n{desc.title}: **{val}**")
                if desc.has_ci and not pd.isna(row.get("ci_lower")):
                    st.markdown(f"95% CI {value_text(row['ci_lower'], desc.unit)} to "
                                f"{value_text(row['ci_upper'], desc.unit)}")
                if "national_rank" in row and not pd.isna(row["national_rank"]):
                    first = "highest" if desc.polarity == "neutral" else "worst"
                    st.markdown(f"Rank {int(row['national_rank']):,} of {int(row['national_n']):,} areas in England with "
                                f"a value (1 = {first}); class {int(row['class'])} — {classes.labels[int(row['class']) - 1]}")
                st.caption(f"Source: {desc.source}, {desc.vintage}")
        school_key = None
        if isinstance(picked, str) and picked.startswith("urn:"):
            school_key = picked[4:]
        elif ss.am_highlight and ss.am_highlight[0] == "school":
            school_key = ss.am_highlight[1]
        if school_key:
            det = profile.school_details(int(school_key))
            st.markdown(f"**{det['name']}** (URN {det['urn']})  \n{det['phase']}, {det['type_group']}  \n"
                        f"Pupils: {det['pupils'] if det['pupils'] is not None else 'not recorded'} · "
                        f"% FSM: {det['fsm_pct'] if det['fsm_pct'] is not None else 'not recorded'}  \n"
                        f"Neighbourhood: {det['neighbourhood'] or 'not recorded'} · LSOA 2021: `{det['lsoa21_code']}` · "
                        f"IMD decile (IoD2025): {det['imd2025_decile']}")
            st.caption("Source: DfE GIAS (May 2025); IoD2025 (MHCLG)")

    # ---------------------------------------------------------------- downloads
    if frame is not None:
        table = pd.DataFrame(frame.drop(columns="geometry"))
        d1, d2 = st.columns(2)
        d1.download_button("Download the table (CSV)", table.to_csv(index=False).encode("utf-8"),
                           file_name=f"{desc.id}_{file_stem}.csv", mime="text/csv", on_click="ignore")
        d2.download_button("Download the map (HTML)", lambda: figure_html(fig, f"{desc.title} — {place_name}").encode("utf-8"),
                           file_name=f"{desc.id}_{file_stem}.html", mime="text/html", on_click="ignore")

    _shared.share_box()


def profile_section() -> None:
    """The area profile against England (IoD vintage and text size from the map's controls; not a fragment:
    only a place, an IoD vintage or the text size change it, and each of those reruns the page)."""
    if national:
        return
    if is_area:  # the same profile as on the Places page
        area_id = place.removeprefix(AREA_PREFIX)
        st.header(f"Area profile: {place_name}")
        _area.show_area_profile(_shared.saved_area_profile(area_id), key="am_area", headline=False)
        st.page_link("views/places.py", label=f"Places: {place_name} (rename, change or delete it)",
                     query_params={"area": area_id}, icon=":material/place:")
        return
    large = ss.am_large or presenting
    iod = ss.am_iod
    st.header(f"Area profile: {place_name}")
    shares = _shared.decile_shares(place, iod)
    c1, c2 = st.columns([1.4, 1])
    with c1:
        st.plotly_chart(build_decile_share_chart(shares, place_name, iod, large), key="deciles",
                        config={"displaylogo": False})
        _shared.text_alternative(alt_text.bars_text([f"decile {d}" for d in shares.index], list(shares["imd"]),
                                                    f"the % of {place_name}'s LSOAs in each national IMD decile "
                                                    f"(IoD{iod}; England: 10% each)", "%", top=10),
                                 shares.reset_index(), "chart", key="am_alt_deciles")
        st.caption(f"Source: MHCLG English Indices of Deprivation {iod}. England reference: 10% of LSOAs in each decile.")
    with c2:
        dom = shares.drop(columns=["count_imd", "england"]).T
        dom.index = [profile.DOMAIN_TITLES[k] for k in dom.index]
        dom = dom[[1, 2, 10]].rename(columns={1: "% in decile 1", 2: "% in decile 2", 10: "% in decile 10"})
        st.markdown("**Each domain: share of LSOAs in national deciles**")
        _shared.table(dom, width="stretch", decimals={c: 1 for c in dom.columns})
    if place != settings.GM_CAUTH_CODE:
        le, most_deprived, schools_d1 = _shared.area_profile(place, iod)
        cols = st.columns(2)
        for col, sex in zip(cols, ("male", "female")):
            r = le.loc[sex]
            if r.get("msoas_with_estimate", 0):
                col.metric(f"Life expectancy gap, {sex}s (2016–20)", f"{r['gap_years']:.1f} years",
                           help="Highest minus lowest MSOA (2011) in the district")
                col.caption(f"Lowest {r['lowest']:.1f} in {r['lowest_name']} ({r['lowest_msoa']}); highest "
                            f"{r['highest']:.1f} in {r['highest_name']} ({r['highest_msoa']}). "
                            f"{int(r['msoas_with_estimate'])} of {int(r['msoas'])} MSOAs have an estimate. Source: ONS.")
        qof = _shared.qof_icb(place)
        if len(qof):
            st.markdown(f"**GP practice registers in {qof['icb_name'].iloc[0]} (QOF 2022-23)**  \n" + "  \n".join(
                f"{QOF_NAMES[r.register]}: {r.icb_pct:.1f}% of {r.list_words} in this ICB's practices; England "
                f"{r.england_pct:.1f}%" for r in qof.itertuples()))
            st.caption("Source: NHS England, Quality and Outcomes Framework 2022-23 (register ÷ the list QOF uses). "
                       "The district's main ICB by the ONS LSOA 2021 to ICB 2024 lookup.")
        _trends_section(place, place_name)
        st.markdown(f"**The 10 most deprived neighbourhoods (IoD{iod})**")
        _shared.table(most_deprived, hide_index=True, width="stretch")
        st.markdown("**Schools in England's most deprived 10% of neighbourhoods (IoD2025 decile 1)**")
        _shared.table(schools_d1, hide_index=True, width="stretch", decimals={"fsm_pct": 1})
        st.caption("Source: DfE GIAS (May 2025) and IoD2025 on LSOA 2021 (GIAS records 2021 LSOA codes).")
        absent = _shared.absence_in_deprived(place)
        st.markdown(f"**Highest persistent absence in {_shared.md_escape(place_name)}'s most deprived neighbourhoods "
                    "(IoD2025 decile 1 or 2), 2018/19**")
        if absent.empty:
            st.markdown("No school in a decile 1 or 2 neighbourhood here has a persistent absence figure for 2018/19.")
        else:
            _shared.table(pd.DataFrame({
                "School": absent["name"], "School type": absent["school_type"],
                "Persistent absence 2018/19 (%)": absent["persistent_absence"].round(1),
                "England, same type (%)": absent["england"].round(1), "Neighbourhood": absent["neighbourhood"],
                "IMD decile (IoD2025)": absent["imd2025_decile"]}), hide_index=True, width="stretch",
                decimals={"Persistent absence 2018/19 (%)": 1, "England, same type (%)": 1})
        st.caption("Source: DfE performance tables 2018/19 (pupils missing 10% or more of sessions); England: DfE's "
                   "published national figure for the school type. " + school_ind.ABSENCE_NOTE)


def _behind_the_map(frame, desc) -> pd.DataFrame:
    """The table behind the map: the columns that say something (no "ok" status on every row, no empty rank)."""
    out = pd.DataFrame(frame.drop(columns="geometry"))
    if "status" in out.columns and (out["status"].fillna("ok") == "ok").all():
        out = out.drop(columns="status")
    for col in ("national_rank", "ci_lower", "ci_upper"):
        if col in out.columns and out[col].isna().all():
            out = out.drop(columns=[col] + (["national_n"] if col == "national_rank" else []))
    first = "highest" if desc.polarity == "neutral" else "worst"
    return out.rename(columns={"value": desc.title[:60], "class": "class (1 = the legend's first)",
                               "national_rank": f"rank in England (1 = {first})", "national_n": "areas ranked in England"})


map_section()
profile_section()
_shared.footer(share=False)

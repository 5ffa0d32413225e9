"""Trends and peers: is it getting worse, and is that unusual for places like this one?"""

from __future__ import annotations

import pandas as pd
import streamlit as st

from civicdata.figures import alt_text
from civicdata import settings
from civicdata.indicators import trends
from civicdata.figures.charts import SPINE_KEY, build_spine_chart, build_trend_chart
from civicdata.indicators.iod_editions import IOD_WARNING, decile1_words
from civicdata.figures.maps import map_config
from civicdata.indicators.peers import KIND_LABELS, KINDS
from views import _shared
from views import trends_data as data

presenting = _shared.presentation("views/trends.py")

st.title("Trends and peers")
ss = st.session_state
places = data.places()
inds = data.indicators()
rules = trends.load_indicators()  # each indicator's decimals, for the tables (read once a run)
areas = _shared.saved_areas()  # a saved area: its local authorities' series, said so
if "tr_place" not in ss:
    ss.tr_place = _shared.param("place", _shared.last_place_or(places, settings.DEFAULT_LAD), places | areas)
if "tr_kind" not in ss:
    ss.tr_kind = _shared.param("peers", "global", KINDS)
if "tr_indicator" not in ss:
    ss.tr_indicator = _shared.param("indicator", "hle_female", inds)

if ss.tr_place not in places and ss.tr_place not in areas:  # a saved area deleted meanwhile
    ss.tr_place = settings.DEFAULT_LAD
with st.sidebar:
    st.header("Place")
    st.selectbox("Local authority or saved area", list(places) + list(areas), key="tr_place",
                 format_func=lambda p: places.get(p) or areas[p])
    st.radio("Compare with ONS's nearest neighbours", list(KINDS), key="tr_kind",
             format_func=lambda k: KIND_LABELS[k].capitalize(),
             help="ONS's statistical nearest neighbours, England's only, in ONS's order: overall, or on economic "
                  "or demographic measures alone.")
    large = st.toggle("Large text (projector)", value=st.query_params.get("present") == "1") or presenting

place, kind = ss.tr_place, ss.tr_kind
if place in areas:
    from civicdata.geo.places import AREA_PREFIX, area_local_authorities

    st.query_params.update({"place": place, "peers": kind})
    title = _shared.saved_area_title(place)
    las = area_local_authorities(place)
    st.markdown(f"### {_shared.md_escape(title)}: these series are published for local authorities, not for a "
                "custom area. Its local authorities' series:")

    def _open(code: str) -> None:
        ss.tr_place = code

    for la in las:
        words = f"{la['name']} ({la['code']}): {la['neighbourhoods']} of the area's neighbourhoods (LSOA 2021)"
        if la["code"] in places:
            st.button(f"Trends for {words}", key=f"tr_open_{la['code']}", on_click=_open, args=(la["code"],))
        else:
            st.markdown(f"- {_shared.md_escape(words)}: no series published for it here.")
    st.caption("The area's own profile (population-weighted deprivation, life expectancy, schools) is on the "
               "Places page.")
    st.page_link("views/places.py", label=f"Places: {title}", query_params={"area": place.removeprefix(AREA_PREFIX)},
                 icon=":material/place:")
    _shared.footer()
    st.stop()
name = places[place].replace(" (county)", "")
if place.startswith("E0"):
    ss.last_place = place
st.query_params.update({"place": place, "peers": kind})

table = data.summary(place, kind)
sim = data.similar(place, kind)
st.markdown(f"### {_shared.md_escape(trends.headline(place, table))}")
reformed = trends.reformed_note(place)
if reformed and not presenting:  # said where the reader starts, not only on the chart of an indicator with a break
    st.info(_shared.md_escape(reformed), icon=":material/history:")
worsening = trends.getting_worse(table)
if worsening and not presenting:
    st.markdown("Worse in each of the last three periods: " + _shared.md_escape("; ".join(worsening)) + ".")

# ---------------------------------------------------------------- spine: every indicator against England
phone = _shared.on_phone()
spine = build_spine_chart(table, name, large_text=large, narrow=phone)
_shared.main_chart(spine, key="tr_spine", presenting=presenting, config=map_config())
if phone and not presenting:  # the chart drops its legend on a phone: the key in words instead
    st.caption(SPINE_KEY)
if presenting:  # the chart fills the screen under the headline; the break is said below it
    st.caption(SPINE_KEY)
    if reformed:  # its own line, its first clause: the room needs the fact, the list is on the normal view
        st.caption(reformed.split(": ")[0] + ": some indicators' earlier periods belong to its predecessors.")
else:
    behind = table[["title", "label", "value", "unit", "england", "vs_england", "trend", "position",
                    "neighbours_median", "published_for"]].copy()
    for col in ("value", "england", "neighbours_median"):  # each row in its indicator's own decimals
        behind[col] = [rules[i].number(v) for v, i in zip(behind[col], table["indicator_id"])]
    behind = behind.rename(columns={"title": "indicator", "label": "latest period"})
    _shared.text_alternative(alt_text.spine_text(table, name), behind, "chart", key="tr_alt_spine",
                             decimals={"position": 0})
    st.caption(trends.SPINE_RULE + " " + trends.SIGNIFICANCE_RULE)

if not presenting:
    # ------------------------------------------------------------ similar areas
    st.header("Places like this one")
    if sim is None:
        st.info(f"ONS lists no similar areas for {name}.")
    else:
        c1, c2 = st.columns([1, 1.2])
        with c1:
            if sim["cluster"]:
                st.markdown(f"**ONS {KIND_LABELS[kind]} cluster {sim['cluster']}**")
                st.write(sim["description"])
            else:
                st.markdown(f"ONS allocates no {KIND_LABELS[kind]} cluster to {_shared.md_escape(name)} "
                            "(clusters are for lower-tier authorities).")
            st.caption(f"Source: {sim['source']}.")
        with c2:
            st.markdown(f"**Nearest English neighbours in ONS's order**: {KIND_LABELS[kind]}")
            _shared.table(pd.DataFrame(sim["neighbours"]).rename(columns={"rank": "ONS rank", "name": "neighbour",
                                                                          "code": "code"})[["ONS rank", "neighbour", "code"]],
                         hide_index=True, width="stretch", height=280, key="tr_neighbours")
            st.caption(f"All {len(sim['neighbours'])} English neighbours (scroll the table). ONS's rank is kept: a "
                       "gap means a Welsh, Scottish or Northern Irish neighbour left out. These are the comparators on "
                       "this page; an indicator's range uses those of them with a figure for it.")

    # ------------------------------------------------------------ one indicator over time
    def indicator_body() -> None:
        st.header("One indicator over time")
        st.selectbox("Indicator", list(inds), key="tr_indicator", format_func=inds.get)
        ind_id = ss.tr_indicator
        st.query_params["indicator"] = ind_id
        s = data.area_series(ind_id, place)
        ind = s.indicator
        band = None
        if s.series is not None:
            band, _used = data.neighbour_band(ind_id, s.series.code, kind)
        if s.published_for:
            st.info(s.published_for[0].upper() + s.published_for[1:] + ".")
        if s.series is None:
            st.warning(f"{ind.title} is not published for {name}.")
            return
        fig = build_trend_chart(s, band, f"ONS {KIND_LABELS[kind]} neighbours", large_text=large)
        st.plotly_chart(fig, key="tr_series", config=map_config())
        seg = s.series.frame.dropna(subset=["value"])
        trend = trends.compute_trend(seg, ind.polarity)
        last = seg.iloc[-1]
        eng = s.england.frame if s.england is not None else None
        e = eng[eng["start"] == last["start"]]["value"] if eng is not None else pd.Series(dtype=float)
        vs, _code = trends.compare_with_england(last["value"], last["lci"], last["uci"],
                                                float(e.iloc[0]) if len(e) else None, ind.polarity)
        table_behind = s.series.frame.assign(area=f"{s.series.name} ({s.series.code})")
        if s.england is not None:
            table_behind = pd.concat([table_behind, s.england.frame.assign(area="England")])
        for b in s.before:
            table_behind = pd.concat([table_behind, b.frame.assign(area=f"{b.name} ({b.code}), before the break")])
        table_behind = table_behind.rename(columns={"label": "period", "start": "period start", "end": "period end"})
        _shared.text_alternative(alt_text.trend_text(s, trend.words, vs, band), table_behind, "chart",
                                 key="tr_alt_series", decimals={c: ind.decimals for c in ("value", "lci", "uci")})
        c1, c2 = st.columns(2)
        c1.metric(f"Latest ({last['label']})", ind.fmt(last["value"]),
                  help="95% CI " + (f"{ind.fmt(last['lci'])} to {ind.fmt(last['uci'])}" if pd.notna(last["lci"])
                                    else "not published"))
        c1.markdown(f"**{vs[0].upper() + vs[1:]}**")
        c2.markdown(f"**Trend: {trend.words}**")
        if s.break_note:
            st.warning(s.break_note)
        st.caption(trends.TREND_RULE + " " + trends.SIGNIFICANCE_RULE + " " + trends.SERIES_RULE)
        st.caption(f"{ind.description}. Period: {ind.period_type}. Source: {ind.source}; {ind.licence}. "
                   f"[Publisher's page]({ind.source_url})")
        if ind.caveats:
            with st.expander("The publisher's caveats"):
                st.markdown(_shared.md_escape(ind.caveats))

    @st.fragment
    def one_indicator() -> None:
        """The indicator menu and what it drives; then the share link, which follows the indicator."""
        indicator_body()
        _shared.share_box()

    one_indicator()

    # ------------------------------------------------------------ every indicator
    st.header("Every indicator: latest, England, neighbours, trend")
    shown = table.rename(columns={"title": "indicator", "label": "latest period", "value": "latest",
                                  "england": "England", "region": "region", "neighbours_median": "neighbours' median",
                                  "vs_england": "against England", "trend": "trend",
                                  "worsening": "change over 3 periods (+ = worse)", "published_for": "note"})
    shown = shown.copy()
    # (``rules``, never ``inds``: rebinding that module name broke the indicator menu's fragment rerun)
    for col in ("latest", "England", "region", "neighbours' median", "change over 3 periods (+ = worse)"):
        # each row in its indicator's own decimals (the publisher's), as its chart and headline figure show it
        shown[col] = [rules[i].number(v) for v, i in zip(shown[col], shown["indicator_id"])]
    _shared.table(shown[["indicator", "latest period", "latest", "unit", "England", "region", "neighbours' median",
                        "against England", "trend", "change over 3 periods (+ = worse)", "note"]],
                 hide_index=True, width="stretch", key="tr_table")
    st.download_button("Download this table (CSV)", table.to_csv(index=False).encode("utf-8"),
                       file_name=f"trends_{place}_{kind}.csv", mime="text/csv", on_click="ignore")

    # ------------------------------------------------------------ IoD over three editions
    if place.startswith("E0"):
        st.header("Deprivation over three editions (IoD2015, IoD2019, IoD2025)")
        lad, changes = data.editions(place)
        st.warning(IOD_WARNING)
        shown = lad.rename(columns={"edition": "IoD edition", "lad_name": "district", "lad_code": "code",
                                    "lad_code_vintage": "code vintage",
                                    "rank_average_score": "IMD rank of average score (1 = most deprived)",
                                    "districts": "of districts", "pct_lsoas_decile1": "% of LSOAs in England's most "
                                                                                      "deprived 10%"})
        _shared.table(shown, hide_index=True, width="stretch", key="tr_iod_lad",
                      decimals={"% of LSOAs in England's most deprived 10%": 1})
        for line in decile1_words(changes, name):
            st.markdown("- " + _shared.md_escape(line))
        c1, c2 = st.columns(2)
        for col, key, title in ((c1, "2015_2019", "IoD2015 → IoD2019 (LSOA 2011)"),
                                (c2, "2019_2025", "IoD2019 → IoD2025 (unchanged LSOAs only)")):
            with col:
                st.markdown(f"**LSOAs by IMD decile, {title}** (rows: earlier decile; columns: later)")
                _shared.table(changes[key], width="stretch", key=f"tr_x_{key}")
        st.caption("Sources: MHCLG English Indices of Deprivation 2015, 2019 and 2025 (LA summaries: 2015 "
                   "re-aggregated to 2019 districts by Trafford Data Lab); ONS LSOA 2011 to 2021 lookup. OGL v3.0.")
_shared.footer(share=presenting)  # otherwise the indicator's fragment writes the link

"""Strategic focus: rank places and schools transparently, shortlist, and see who to convene."""

from __future__ import annotations

import streamlit as st

from civicdata import alt_text, settings
from civicdata.charts import build_contribution_chart
from civicdata.places import AREA_PREFIX, OTHER_VINTAGE_RULE
from civicdata.focus import (COMPLETENESS_RULE, ENGLAND_CODE, PARTIAL_MARK, UNIT_PLURALS, UNITS, build_brief_html,
                             export_table)
from views import _shared

presenting = _shared.presentation("views/strategic_focus.py")

st.title("Strategic focus")
if not presenting:
    st.markdown("Of all the pressures on children and communities, pick one or two to work on together: *focus on "
                "doing fewer things but do these things well.*")
cat = _shared.catalogue()
ss = st.session_state
#: a saved custom area is a place too: rank the neighbourhoods or schools within it
places = {k: v for k, v in _shared.place_options().items() if k != _shared.ENGLAND} | _shared.saved_areas()
#: local authorities are ranked within England or a region
regions = _shared.region_options()
usable = [d for d in cat if d.geography != "point"]
valid_ids = [d.id for d in usable]
DEFAULT_WEIGHTS = {"income2025_decile": 1.0, "health2025_decile": 1.0, "le_male": 1.0, "school_fsm_pct": 1.0}

if "fo_unit" not in ss:
    ss.fo_unit = _shared.param("unit", "lsoa21", UNITS)
    ss.fo_area = _shared.param("area", ENGLAND_CODE if ss.fo_unit == "lad" else settings.DEFAULT_LAD,
                               regions if ss.fo_unit == "lad" else places)
    w = _shared.decode_weights(st.query_params.get("w"), valid_ids)
    if st.query_params.get("w") and w is None:
        st.toast("The weights in the link are not valid here; showing the default mix instead.")
    ss.fo_weights = w or DEFAULT_WEIGHTS
    ss.fo_ind = list(ss.fo_weights)
    short = st.query_params.get("short")
    ss.fo_short_init = short.split(",")[:3] if short else []


@st.fragment(key="fo_view")
def focus_view() -> None:
    """The ranking controls with the chart and table they drive (a fragment: a weight moved reruns this, not the
    page), then the shortlist in a fragment of its own."""
    with st.sidebar:
        st.selectbox("Rank", list(UNITS), key="fo_unit", format_func=UNIT_PLURALS.get)
        within = regions if ss.fo_unit == "lad" else places
        if ss.fo_area not in within:  # local authorities rank within England or a region; the rest within a place
            ss.fo_area = ENGLAND_CODE if ss.fo_unit == "lad" else ss.get("last_place", settings.DEFAULT_LAD)
            ss.fo_area = ss.fo_area if ss.fo_area in within else settings.DEFAULT_LAD
        st.selectbox("Within", list(within), key="fo_area", format_func=within.get)
        st.multiselect("Indicators", valid_ids, key="fo_ind",
                       format_func=lambda i: f"{cat.get(i).title} [{cat.get(i).theme}]")
        weights = {}
        for lid in ss.fo_ind:
            weights[lid] = st.slider(cat.get(lid).title, 0.0, 5.0, float(ss.fo_weights.get(lid, 1.0)), 0.5,
                                     key=f"fo_w_{lid}")
        top_n = st.number_input("Top N for stability", 1, 50, 10, key="fo_top")
        if "fo_incomplete" not in ss:
            ss.fo_incomplete = st.query_params.get("incomplete") == "1"
        include_incomplete = st.toggle("Also rank places missing an indicator", key="fo_incomplete",
                                       help=COMPLETENESS_RULE)
        large = st.toggle("Large text (projector)", value=st.query_params.get("present") == "1") or presenting

    if not weights or sum(weights.values()) <= 0:
        st.info("Choose at least one indicator with a weight above zero.")
        _shared.share_box()
        return

    unit, area = ss.fo_unit, ss.fo_area
    stamp = tuple(_shared.layer_stamp(k) for k in weights)
    if area.startswith(AREA_PREFIX):  # a saved area may be changed under the same id, on any server
        stamp += _shared.places_stamp()
    res = _shared.focus_result(unit, area, tuple(weights.items()), int(top_n), stamp, include_incomplete)
    table = res.table
    titles = {k: cat.get(k).title for k in res.indicators}

    if res.ranked.empty:
        st.warning("No place has a value for every weighted indicator. " + COMPLETENESS_RULE)
        _shared.share_box()
        return
    top = res.ranked.iloc[0]
    partial = "" if top["complete"] else f" {PARTIAL_MARK} (ranked on partial data)"
    if presenting:  # one message on the screen; the reason follows the chart
        st.markdown(f"### In {res.area_name}, {top['name']} ranks first{partial}.")
    else:
        st.markdown(f"### In {res.area_name}, {top['name']} ranks first{partial}: {top['reason']}")
    notes = res.coverage_notes(titles, UNIT_PLURALS[unit])


    def say_coverage() -> None:
        if notes:
            st.warning("**Some indicators cover only part of the area.** " + " · ".join(notes) + ". "
                       + (f"Places missing one are ranked on the rest and marked {PARTIAL_MARK}."
                          if include_incomplete else "Places missing one are listed after the ranked ones, not ranked."))
        st.caption(COMPLETENESS_RULE)


    if not presenting:  # up front; on a projector below the chart, which must fit the screen
        say_coverage()
    with st.expander("How the ranking works", expanded=False):
        st.markdown("Each indicator is carried to the chosen unit, then normalised by **percentile rank within "
                    f"{res.area_name}** (100 = most need, using each layer's polarity). A place's score is the **sum of its "
                    "contributions**: weight ÷ (sum of the weights of the indicators it has) × normalised value. "
                    "Missing values are never zero: the place is ranked on the indicators it has. **Stability** is the "
                    f"share of {res.draws} random draws (every weight × a factor between 0.75 and 1.25, seed {res.seed}) in "
                    f"which the place stays in the top {int(top_n)}.")
        if area.startswith(AREA_PREFIX):
            st.markdown(f"Within a saved area, the units are its own neighbourhoods; {OTHER_VINTAGE_RULE}; schools are "
                        "those in its LSOAs (2021).")
        for k, rule in res.rules.items():
            st.markdown(f"- **{titles[k]}** ({cat.get(k).geography_label}, {cat.get(k).polarity.replace('_', ' ')}): {rule}")

    c1, c2 = st.columns([1.1, 1])
    with c1:
        _shared.main_chart(build_contribution_chart(table, res.indicators, titles, large_text=large), key="focus_bars",
                           presenting=presenting, config={"displaylogo": False})
        ranked = res.ranked.head(15)
        _shared.text_alternative(alt_text.bars_text([f"{int(r)}. {n}" for r, n in zip(ranked["rank"], ranked["name"])],
                                                    list(ranked["score"]), f"the top {len(ranked)} {UNIT_PLURALS[unit]} by "
                                                    "score (0-100), each bar split by indicator", top=5), what="chart")
        if presenting:
            st.markdown(f"**Why {top['name']}:** {top['reason']}")
            say_coverage()
    with c2:
        show = table[["rank", "name", "code"] + (["neighbourhood"] if unit == "school" else []) +
                     ["score", "complete", "missing", "stability", "reason"]]
        st.dataframe(show, hide_index=True, width="stretch", height=520,
                     column_config={"score": st.column_config.NumberColumn(format="%.1f"),
                                    "complete": st.column_config.CheckboxColumn("all indicators",
                                                                                help="False: partial data"),
                                    "stability": st.column_config.ProgressColumn(min_value=0.0, max_value=1.0,
                                                                                 format="percent")})

    shortlist(res, table, unit, area, weights, titles)


@st.fragment(key="fo_shortlist")
def shortlist(res, table, unit: str, area: str, weights: dict, titles: dict) -> None:
    """The shortlist and what it drives (who to convene, the workshop button, the downloads): picking a place
    reruns this fragment only; the chart and table above stay as drawn."""
    include_incomplete = ss.fo_incomplete
    names = dict(zip(table["code"], table["name"]))
    choices = res.ranked["code"].tolist()  # the shortlist follows the completeness rule
    init = [c for c in ss.pop("fo_short_init", []) if c in choices]
    if init:
        ss.fo_short = init
    elif "fo_short" in ss:
        ss.fo_short = [c for c in ss.fo_short if c in choices]
    short = st.multiselect("Shortlist (up to 3)", choices, key="fo_short", max_selections=3,
                           format_func=lambda c: f"{names[c]} ({c})" + ("" if table.set_index("code").at[c, "complete"]
                                                                        else f" {PARTIAL_MARK} partial data"))
    st.query_params.update({"unit": unit, "area": area, "w": _shared.encode_weights(weights),
                            "short": ",".join(short)})
    if include_incomplete:
        st.query_params["incomplete"] = "1"
    else:
        st.query_params.pop("incomplete", None)
    if not short and "short" in st.query_params:
        del st.query_params["short"]

    convene_tables = {}
    for code in short:
        st.subheader(f"Who to convene: {names[code]}")
        conv = _shared.convene_table(unit, code)
        convene_tables[code] = conv
        st.dataframe(conv, hide_index=True, width="stretch")

    if short and st.button("Vote on this shortlist in a workshop", key="fo_workshop",
                           help="Opens the Workshop page with these places as the options and their reasons as evidence"):
        st.switch_page("views/workshop.py", query_params={"from": "focus", **st.query_params.to_dict()})
    d1, d2 = st.columns(2)
    export = export_table(res, short, titles)
    d1.download_button("Shortlist with reasons (CSV)" if short else "Ranking (CSV)",
                       export.to_csv(index=False).encode("utf-8"), f"strategic_focus_{area}_{unit}.csv", "text/csv", on_click="ignore")
    # the brief is small: built now, not on click (a click-time payload failed about one click in four under load)
    d2.download_button("One-page brief (HTML)",
                       build_brief_html(res, short, convene_tables, titles).encode("utf-8") if short else b"",
                       f"strategic_focus_{area}_{unit}.html", "text/html", disabled=not short, on_click="ignore")
    _shared.share_box()


focus_view()
_shared.footer(share=False)

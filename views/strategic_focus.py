"""Strategic focus: rank places and schools transparently, shortlist, and see who to convene."""

from __future__ import annotations

import streamlit as st

from civicdata.figures import alt_text
from civicdata import settings
from civicdata.figures.charts import build_contribution_chart
from civicdata.geo.places import AREA_PREFIX, OTHER_VINTAGE_RULE
from civicdata.focus import (COMPLETENESS_RULE, DEFAULT_CANDIDATES, ENGLAND_CODE, PARTIAL_MARK, UNIT_PLURALS, UNITS,
                             build_brief_html, export_table)
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


def stamp(unit: str, area: str, ids) -> tuple:
    """Cache key part for a unit and area: the layers' files, and for a saved area the store's places."""
    out = tuple(_shared.layer_stamp(k) for k in ids)
    return out + (_shared.places_stamp() if area.startswith(AREA_PREFIX) else ())


def defaults(unit: str, area: str) -> dict:
    """The default mix for a unit and area: indicators that cover every place (civicdata.focus.default_weights)."""
    return _shared.focus_defaults(unit, area, stamp(unit, area, [k for k in DEFAULT_CANDIDATES if k in valid_ids]))


if "fo_unit" not in ss:
    ss.fo_unit = _shared.param("unit", "lsoa21", UNITS)
    # within: the link's area, else a place= link as the other pages take it, else the place last looked at
    current = st.query_params.get("place") if "area" not in st.query_params else None
    ss.fo_area = _shared.param("area", ENGLAND_CODE if ss.fo_unit == "lad" else
                               current if current in places else _shared.last_place_or(places, settings.DEFAULT_LAD),
                               regions if ss.fo_unit == "lad" else places)
    w = _shared.decode_weights(st.query_params.get("w"), valid_ids)
    if st.query_params.get("w") and w is None:
        st.toast("The weights in the link are not valid here; showing the default mix instead.")
    ss.fo_weights = w or defaults(ss.fo_unit, ss.fo_area)
    ss.fo_ind = list(ss.fo_weights)
    # the defaults follow Rank and Within until the reader changes the indicators or a weight
    ss.fo_default_for = None if w else (ss.fo_unit, ss.fo_area, tuple(ss.fo_ind))
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
            ss.fo_area = ENGLAND_CODE if ss.fo_unit == "lad" else ss.get("fo_place", ss.get("last_place",
                                                                                            settings.DEFAULT_LAD))
            ss.fo_area = ss.fo_area if ss.fo_area in within else settings.DEFAULT_LAD
        st.selectbox("Within", list(within), key="fo_area", format_func=within.get)
        if ss.fo_unit != "lad":
            ss.fo_place = ss.fo_area  # back from local authorities, the place the reader had
        was = ss.get("fo_default_for")
        if was and (was[0], was[1]) != (ss.fo_unit, ss.fo_area) and list(was[2]) == list(ss.fo_ind) and all(
                ss.get(f"fo_w_{k}", 1.0) == 1.0 for k in ss.fo_ind):  # untouched defaults follow the place
            new = defaults(ss.fo_unit, ss.fo_area)
            if list(new) != list(ss.fo_ind):  # said, not done silently: the mix is the one that covers every place
                ss.fo_mix_changed = [cat.get(k).title for k in new]
            ss.fo_ind, ss.fo_weights = list(new), dict(new)
            ss.fo_default_for = (ss.fo_unit, ss.fo_area, tuple(new))
        elif was and list(was[2]) != list(ss.fo_ind):
            ss.fo_default_for = None
        plural = UNIT_PLURALS[ss.fo_unit]
        known = {k: _shared.focus_coverage(ss.fo_unit, ss.fo_area, k, stamp(ss.fo_unit, ss.fo_area, [k]))
                 for k in ss.fo_ind}

        def covered(i: str) -> str:
            n, total = known.get(i, (0, 0))
            return f" — {n} of {total} {plural}" if total and n < total else ""

        st.multiselect("Indicators", valid_ids, key="fo_ind",
                       format_func=lambda i: f"{cat.get(i).title} [{cat.get(i).theme}]{covered(i)}",
                       help="The default mix covers every place of the chosen unit and area. An indicator that "
                            "covers only some shows how many, e.g. “73 of 180”.")
        weights = {}
        for lid in ss.fo_ind:
            weights[lid] = st.slider(cat.get(lid).title + covered(lid), 0.0, 5.0, float(ss.fo_weights.get(lid, 1.0)),
                                     0.5, key=f"fo_w_{lid}")
        top_n = st.number_input("Top N for stability", 1, 50, 10, key="fo_top")
        if "fo_incomplete" not in ss:
            ss.fo_incomplete = st.query_params.get("incomplete") == "1"
        include_incomplete = st.toggle("Also rank places missing an indicator", key="fo_incomplete",
                                       help=COMPLETENESS_RULE)
        large = st.toggle("Large text (projector)", value=st.query_params.get("present") == "1") or presenting

    if not weights or sum(weights.values()) <= 0:
        st.info("Choose at least one indicator with a weight above zero.")
        _shared.share_box(inline=True)
        return

    unit, area = ss.fo_unit, ss.fo_area
    changed = ss.pop("fo_mix_changed", None)
    if changed:
        st.info(f"The indicators are now the default mix for {UNIT_PLURALS[unit]}: {', '.join(changed)}. It holds "
                f"the indicators with a figure for every one of them here; change it in the sidebar.")
    # a saved area may be changed under the same id, on any server: its stamp moves with the store's places
    res = _shared.focus_result(unit, area, tuple(weights.items()), int(top_n), stamp(unit, area, weights),
                               include_incomplete)
    table = res.table
    titles = {k: cat.get(k).title for k in res.indicators}

    if res.ranked.empty:
        st.warning("No place has a value for every weighted indicator. " + COMPLETENESS_RULE)
        _shared.share_box(inline=True)
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
        _shared.main_chart(build_contribution_chart(table, res.indicators, titles, large_text=large,
                                                    narrow=_shared.on_phone()), key="focus_bars",
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
                     ["score", "complete", "missing", "stability"]]
        _shared.table(show, hide_index=True, width="stretch", height=520, placeholder="–",
                     column_config={"rank": st.column_config.NumberColumn("Rank", format="%d", width="small"),
                                    "name": st.column_config.TextColumn("School" if unit == "school" else "Place"),
                                    "code": st.column_config.TextColumn("URN" if unit == "school" else "Code"),
                                    "neighbourhood": st.column_config.TextColumn("Neighbourhood"),
                                    "score": st.column_config.NumberColumn("Score (0–100)", format="%.1f"),
                                    "complete": st.column_config.CheckboxColumn("All indicators", width="small",
                                                                                help="Unticked: partial data"),
                                    "missing": st.column_config.NumberColumn("Missing", format="%d", width="small",
                                                                             help="Weighted indicators with no value"),
                                    "stability": st.column_config.ProgressColumn(
                                        "Stability", min_value=0.0, max_value=1.0, format="percent",
                                        help=f"Share of {res.draws} draws with every weight moved ±25% in which the "
                                             f"place stays in the top {int(top_n)}")})
        st.caption("“–”: not ranked (a weighted indicator has no value; why is listed below the ranking).")
    if not presenting:  # each reason in full, wrapped: a table cell would cut it
        st.markdown(f"**Why the first {min(10, len(res.ranked))} rank where they do**")
        st.markdown("\n".join(f"{int(r.rank)}. **{_shared.md_escape(r.name)}** — {_shared.md_escape(r.reason)}"
                               for r in res.ranked.head(10).itertuples()))
        unranked = table[table["rank"].isna()]
        if len(unranked):
            with st.expander(f"{len(unranked)} {UNIT_PLURALS[unit]} not ranked, and why"):
                st.markdown("\n".join(f"- **{_shared.md_escape(r.name)}** ({r.code}) — {_shared.md_escape(r.reason)}"
                                       for r in unranked.itertuples()))

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
    short = st.multiselect("Shortlist (up to 3)", choices, key="fo_short", max_selections=3, select_all=False,
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
        _shared.table(conv, hide_index=True, width="stretch", placeholder="–",
                     column_config={"role": "Role", "name": "Name", "code": "Code", "detail": st.column_config.TextColumn(
                         "Detail", width="large"), "source": "Source"})
    if short:
        st.caption("NHS trusts: those open now in ODS (etr, c. July 2026), within 5 km by headquarters or a site; a "
                   "merged trust's sites count for its successor. Independent-sector providers are listed as such.")

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
    _shared.share_box(inline=True)  # a nested fragment never writes outside itself


focus_view()
_shared.footer(share=False)

"""Trust: a school trust as one place — its schools, their neighbourhoods, who to convene, and focus."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

import pandas as pd
import streamlit as st

from civicdata.labels import plural

from civicdata.figures import alt_text, leaflet
from civicdata.indicators import choropleth
from civicdata import trust
from civicdata.errors import ProblemsError
from civicdata.focus import COMPLETENESS_RULE, compute_focus
from civicdata.indicators import schools as school_ind
from civicdata.indicators.profile import search_schools
from views import _shared

presenting = _shared.presentation("views/trust.py")
st.title("Trust")
st.caption("A multi-academy trust is not a local authority: put its schools on one map, see their neighbourhoods, "
           "and who to convene across them. Schools: DfE GIAS open establishments (May 2025).")
ss = st.session_state
ss.setdefault("tr_urns", [])
cat = _shared.catalogue()

groups = {g["id"]: g for g in trust.list_groups()}
if "tr_group" not in ss:  # a link opens a saved trust
    ss.tr_group = _shared.param("group", "", [""] + list(groups)) if st.query_params.get("group") else ""
with st.sidebar:
    st.header("Saved trusts")
    chosen = st.selectbox("Open a saved trust", [""] + list(groups), key="tr_group",
                          format_func=lambda g: "choose" if not g else f"{groups[g]['title']} ({groups[g]['schools']})")
    if chosen and ss.get("tr_loaded") != chosen:
        ss.tr_urns = trust.load_group(chosen)["urns"]
        ss.tr_loaded = chosen
        st.query_params["group"] = chosen


with st.expander("Define the trust's schools", expanded=not ss.tr_urns):
    c1, c2, c3 = st.columns(3)
    pasted = c1.text_area("Paste URNs", key="tr_paste", help="Numbers separated by commas, spaces or new lines")
    up = c2.file_uploader("Or a CSV/XLSX with a urn column", type=["csv", "xlsx"], key="tr_file", max_upload_size=5)
    q = c3.text_input("Or find schools by name", key="tr_q")
    hits = search_schools(q, limit=20) if q else None
    # shown once there is something to pick: an empty, disabled list is grey text nobody can use
    picked = c3.multiselect("Matches", hits["urn"].astype(str).tolist(), key="tr_hits",
                            format_func=lambda u: f"{hits.set_index(hits['urn'].astype(str)).at[u, 'name']} ({u})") \
        if hits is not None and len(hits) else []
    if st.button("Add these schools", key="tr_add"):
        new = trust.parse_urns(pasted) + list(picked)
        if up is not None:
            with tempfile.TemporaryDirectory() as tmp:
                path = Path(tmp) / ("upload" + Path(up.name).suffix.lower())
                path.write_bytes(up.getvalue())
                try:
                    new += trust.read_urn_file(path, label=up.name)
                except ProblemsError as exc:
                    st.error(str(exc))
        try:
            found = trust.resolve_urns(ss.tr_urns + new)
        except ProblemsError as exc:
            st.error(str(exc))
        else:
            ss.tr_urns = found.urns
            if found.unknown:
                st.warning(f"{plural(len(found.unknown), 'URN')} {'is' if len(found.unknown) == 1 else 'are'} not open schools in England (GIAS May 2025) and were "
                           f"left out: {', '.join(found.unknown)}")
            if found.duplicates:
                st.info(f"{plural(len(found.duplicates), 'repeated URN')} counted once.")
    if ss.tr_urns and st.button("Clear the list", key="tr_clear"):
        ss.tr_urns = []
        ss.pop("tr_loaded", None)
        st.rerun()
    s1, s2, s3 = st.columns([1, 2, 1])
    gid = s1.text_input("Save as (id)", key="tr_id", help="a-z, 0-9, '_' or '-', up to 64")
    title = s2.text_input("Title", key="tr_title")
    if s3.button("Save", key="tr_save", disabled=not ss.tr_urns):
        try:
            trust.save_group(gid, title or gid, ss.tr_urns, replace=gid in groups)
        except ProblemsError as exc:
            st.error(str(exc))
        else:
            st.success(f"Saved trust {gid} ({len(ss.tr_urns)} schools).")
    if chosen:
        r1, r2, r3 = st.columns([2, 1, 1])
        new_id = r1.text_input("Rename the open trust to (id)", key="tr_new_id")
        if r2.button("Rename", key="tr_rename") and new_id:
            try:
                trust.rename_group(chosen, new_id)
            except ProblemsError as exc:
                st.error(str(exc))
            else:
                ss.pop("tr_group", None)
                st.rerun()
        if r3.button("Delete", key="tr_delete"):
            trust.delete_group(chosen)
            ss.pop("tr_group", None)
            ss.tr_urns = []
            st.rerun()

if not ss.tr_urns:
    st.info("Open a saved trust (or leave presentation mode to add the trust's schools) to see them on one map."
            if presenting else "Add the trust's schools above (or open a saved trust) to see them on one map.")
    _shared.footer()
    st.stop()

schools = _shared.trust_schools(tuple(ss.tr_urns))
summary = trust.pupil_summary(schools)
name = groups[chosen]["title"] if chosen else "This trust"
name_mid = name if chosen else "this trust"  # inside a sentence: "None of this trust's 3 schools …"
pct = lambda v: "–" if v is None else f"{v:.0%}"  # noqa: E731
st.markdown(f"### {html.escape(name)}: {summary['pupils_decile1']:,} of {summary['pupils']:,} pupils "
            f"({pct(summary['share_decile1'])}) attend schools in England's most deprived 10% of neighbourhoods; "
            f"{summary['pupils_deciles1_2']:,} ({pct(summary['share_deciles1_2'])}) in the most deprived 20%.")
st.caption("IoD2025 decile of each school's LSOA 2021 (GIAS location). Schools with no pupil count count as 0.")

box = leaflet.padded_bounds(schools[["lat", "lon"]], 0.15)
m = leaflet.base_map(box)
leaflet.add_outline(m, _shared.district_outlines(tuple(sorted(schools["lad24_code"].dropna().unique()))),
                    "local authorities")
# context, as on the other maps: the wards and districts round the schools, dotted and named (for a trust spread
# over a region or more, the outlines alone: every ward of a region would be a heavy map and unreadable names)
if box[2] - box[0] < 1.0 and box[3] - box[1] < 0.7:
    leaflet.add_orientation(m, _shared.orientation_around(tuple(float(v) for v in box), False, 900, 520))
leaflet.add_trust_schools(m, schools)
map_col, card_col = st.columns([3, 1.2])
with map_col:
    tip = _shared.leaflet_map(m, key="tr_map", height=520)
    _shared.text_alternative(alt_text.schools_map_text(schools, name_mid))
with card_col:
    st.markdown("**Colour: IoD2025 decile of the school's neighbourhood** (1 = most deprived 10%)")
    st.html(_shared.legend_html([f"Decile {i}" for i in range(1, 11)], choropleth.DECILE_COLOURS, False,
                                False))
    hit = schools[schools["name"] == tip]
    if len(hit):
        r = hit.iloc[0]
        st.markdown(f"**{html.escape(str(r['name']))}** (URN {r['urn']})  \n{r['lad24_name']} · {r['ward']}  \n"
                    f"{r['neighbourhood']}  \nIoD2025 decile {r['imd2025_decile']} · % FSM {r['fsm_pct']} · "
                    f"pupils {r['pupils']}")

cols = ["urn", "name", "lad24_name", "ward", "neighbourhood", "imd2025_decile", *[f"{d}2025_decile" for d in
        trust.DOMAINS], "fsm_pct", "pupils", "le_male", "le_male_lower", "le_male_upper", "le_female",
        "le_female_lower", "le_female_upper", "nearest_gp", "nearest_gp_km", "nearest_hospital", "nearest_hospital_km"]
_shared.table(schools[cols], hide_index=True, width="stretch")
st.caption("Life expectancy: ONS 2016–20 for the MSOA 2011 the school's LSOA came from (95% CI). Nearest GP practice "
           "(ODS 2025) and hospital (NHS website c. 2022): straight-line km.")

@st.fragment(key="tr_school_measures")
def school_measures() -> None:
    """One measure at a time: each school beside its local authority and England, and the trust's own figure."""
    st.subheader("Absence, attainment and need, school by school")
    ids = [m.id for m in school_ind.MEASURES]
    mid = st.selectbox("Measure", ids, key="tr_measure", format_func=lambda i: (
        f"{school_ind.BY_ID[i].title} ({school_ind.BY_ID[i].vintage})"))
    m = school_ind.BY_ID[mid]
    comp = _shared.school_comparison(mid, tuple(ss.tr_urns))
    digits = 2 if m.unit == "score" else 1
    value_tv = school_ind.trust_value(comp)
    shown = pd.DataFrame({
        "School": comp["name"], "Compared with": comp["school_type"],
        f"School ({m.unit})": comp["value"].round(digits),
        "Local authority": comp["la_name"], f"Local authority's schools ({m.unit})": comp["la_value"].astype(float).round(digits),
        f"England ({m.unit})": comp["england_value"].astype(float).round(digits),
        "Why no value": comp["why_missing"].replace("", None)})
    have = comp["value"].notna().sum()
    words = (f"**{html.escape(name)}**: {value_tv:.{digits}f} {m.unit} across {have} of {len(comp)} schools with a value "
             f"(weighted by pupils)." if value_tv is not None else
             f"No school of {html.escape(name_mid)} has a value for this measure.")
    st.markdown(words)
    _shared.table(shown, hide_index=True, width="stretch", decimals={c: digits for c in shown.columns if "(" in c})
    st.caption(f"{m.title}, {m.vintage}. Source: {m.source}. {school_ind.COMPARISON_RULE}"
               + (f" {school_ind.ABSENCE_NOTE}" if "absence" in mid else ""))


@st.fragment(key="tr_founding")
def founding_question_section() -> None:
    """The founding question: which of the trust's schools carry high absence in deprived neighbourhoods, far
    from a clinic where a journey layer says so; beside each local authority's absence trend to 2024/25."""
    st.subheader("Where the founding story starts")
    journeys = {d.id: d.title for d in cat if d.geography == "urn" and d.user and "minute" in d.unit.lower()}
    jid = st.selectbox("Journey layer (minutes from each school to the nearest clinic)", [""] + list(journeys),
                       key="tr_journey", format_func=lambda i: journeys.get(i, "none: distance not judged"),
                       help="Make one on School to clinic or with `python -m civicdata journey-layer`.")
    minutes = st.slider("Far means at least (minutes)", 15, 120, 45, 5, key="tr_far", disabled=not jid)
    found = _shared.founding_schools(tuple(ss.tr_urns), jid, float(minutes), _shared.layer_stamp(jid) if jid else "")
    st.caption(school_ind.FOUNDING_RULE.format(minutes=minutes))
    if found.empty:
        st.markdown(f"None of {html.escape(name_mid)}'s {len(ss.tr_urns)} schools meets the rule.")
    else:
        st.markdown(f"**{len(found)} of {html.escape(name_mid)}'s {len(ss.tr_urns)} schools "
                    f"{'meets' if len(found) == 1 else 'meet'} the rule.**")
        _shared.table(pd.DataFrame({
            "School": found["name"], "School type": found["school_type"],
            "Persistent absence 2018/19 (%)": found["persistent_absence"].round(1),
            "Top fifth starts at (%)": found["threshold"],
            "Neighbourhood": found["neighbourhood"], "IMD decile (IoD2025)": found["imd2025_decile"],
            "Journey to the nearest clinic (minutes)": found["journey_minutes"]}), hide_index=True, width="stretch",
            decimals={"Persistent absence 2018/19 (%)": 1, "Top fifth starts at (%)": 1,
                      "Journey to the nearest clinic (minutes)": 0})
    trend = _shared.la_absence_trend(tuple(ss.tr_urns))
    if len(trend):
        st.markdown("**Persistent absence in the schools' local authorities, 2018/19 to 2024/25** (all pupils, %)")
        _shared.table(trend, hide_index=True, width="stretch", decimals={c: 1 for c in trend.columns if "/" in c})
    st.caption(school_ind.ABSENCE_NOTE + " Local authority series: DfE via ONS Explore Local Statistics.")


school_measures()
founding_question_section()

st.subheader("Who to convene across the trust")
conv = _shared.trust_convene(tuple(ss.tr_urns))
names = dict(zip(schools["urn"], schools["name"]))
rows = []
for key, role in (("local_authorities", "Local authority"), ("icbs", "NHS Integrated Care Board"),
                  ("sub_icbs", "NHS sub-ICB location"), ("nhs_trusts", "NHS trust"),
                  ("independent_providers", "Independent-sector provider (not NHS)")):
    for r in conv.get(key, []):
        rows.append({"role": role, "name": r["name"], "code": r["code"],
                     "combined authority": r.get("combined_authority") or "",
                     "schools": "; ".join(names.get(u, u) for u in r["schools"]), "why": r.get("detail", "")})
convene = pd.DataFrame(rows)
_shared.table(convene, hide_index=True, width="stretch")
b1, b2 = st.columns(2)
b1.download_button("Who to convene (CSV)", convene.to_csv(index=False).encode("utf-8"), "trust_convene.csv", "text/csv", on_click="ignore")
# small: built now, not on click (a click-time payload failed about one click in four under load)
b2.download_button("One-page brief (HTML)", trust.brief_html(name, schools, summary, convene).encode("utf-8"),
                   "trust_brief.html", "text/html", on_click="ignore")

@st.fragment(key="tr_focus")
def focus_within_trust() -> None:
    """Indicators and weights with the ranking they drive: a weight moved reruns this fragment, not the map and
    tables above (this part sets no link parameter)."""
    st.subheader("Strategic focus within the trust")
    ids = [d.id for d in cat if d.geography != "point"]
    chosen_ind = st.multiselect("Indicators", ids, default=["imd2025_score", "school_fsm_pct"], key="tr_ind",
                                format_func=lambda i: cat.get(i).title)
    wcols = st.columns(max(len(chosen_ind), 1))
    weights = {i: wcols[k].slider(cat.get(i).title, 0.0, 5.0, 1.0, 0.5, key=f"tr_w_{i}") for k, i in enumerate(chosen_ind)}
    if weights and sum(weights.values()) > 0:
        res = compute_focus(cat, "school", "trust", weights, top_n=min(5, len(schools)), urns=list(ss.tr_urns),
                            area_name=name_mid)
        contrib = [f"c_{i}" for i in res.indicators]
        _shared.table(res.table[["rank", "name", "code", "neighbourhood", "score", *contrib, "complete", "stability",
                                "reason"]].rename(columns={f"c_{i}": f"points: {cat.get(i).title}" for i in res.indicators}),
                     hide_index=True, width="stretch", decimals={"rank": 0, "score": 1, **{
                         f"points: {cat.get(i).title}": 1 for i in res.indicators}},
                     column_config={"stability": st.column_config.ProgressColumn(
                         "Stability", min_value=0.0, max_value=1.0, format="percent",
                         help=f"Share of {res.draws} draws with every weight moved ±25% in which the school stays "
                              f"in the top {min(5, len(schools))}")})
        st.caption("Schools of this trust, ranked by percentile within the trust (100 = most need). " + COMPLETENESS_RULE)


focus_within_trust()
_shared.footer()

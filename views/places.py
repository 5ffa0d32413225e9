"""Places: custom areas made of neighbourhoods, and Primary Care Networks — each with its profile."""

from __future__ import annotations

import json
import re

import pandas as pd
import streamlit as st

from civicdata.figures import leaflet
from civicdata.geo import places
from civicdata.geo.names import readable_name, readable_org_name
from civicdata import settings
from civicdata.errors import ProblemsError
from civicdata.indicators.families import QOF_NAMES
from civicdata.labels import plural
from views import _area, _shared

st.title("Places")
st.caption("Partnerships rarely work on a council boundary. Make a named area from neighbourhoods (LSOA 2021), or "
           "open a Primary Care Network, and see who lives there, how deprived, and who to convene.")
ss = st.session_state


#: local authority districts (not England or Greater Manchester as a whole), for both tabs' pickers
lad_options = {k: v for k, v in _shared.place_options().items() if k.startswith("E0")}


def _parse_codes(text: str) -> list[str]:
    return [c for c in re.split(r"[\s,;]+", text.strip()) if c]


def _current_district() -> str:
    """The district a person arrives with: a ``place=`` link as the other pages take it, else the place last
    looked at elsewhere in the app, else the default."""
    linked = st.query_params.get("place")
    return linked if linked in lad_options else _shared.last_place_or(lad_options, settings.DEFAULT_LAD)


@st.fragment(key="pl_make")
def make_area() -> None:
    """Pick neighbourhoods on a map (click to add or remove, or draw a shape) or from a searchable list (the
    keyboard path), or paste codes; then save. A fragment: picking reruns this part only."""
    st.caption("Click neighbourhoods on the map to add or remove them, draw a shape round several (the polygon or "
               "square tool, top left), pick them from the list (type to search by name or code), or paste LSOA "
               "2021 codes. An area keeps one vintage: LSOA 2011 codes are refused with the lookup to use. Dotted lines "
               "and names on the map: the district's wards (May 2025), to find your way.")
    if "pl_lad" not in ss:  # the district last looked at elsewhere in the app, else the default
        ss.pl_lad = _current_district()
    lad = st.selectbox("District to pick from", list(lad_options), key="pl_lad", format_func=lad_options.get)
    hoods = _shared.lsoa21_boundaries(lad)
    label = dict(zip(hoods["code"], hoods["name"] + " — " + hoods["code"]))
    ss.setdefault("pl_picked", [])
    picked = list(ss.pl_picked)  # picks in other districts stay picked (listed by code)
    given = set(_parse_codes(ss.get("pl_pasted", "")))  # what was pasted or uploaded last run, shown on the map too
    if ss.get("pl_upload") is not None:
        try:
            lvl, file_codes = places.read_area_upload(ss.pl_upload.name, ss.pl_upload.getvalue())
            given |= set(file_codes) if lvl == "lsoa21" else set(places.combine_area_codes(
                [(lvl, file_codes, ss.pl_upload.name)])[1]) if lvl == "ward" else set()
        except ProblemsError:
            pass  # its problems are listed when saving
    picker = leaflet.area_picker_map(hoods, set(picked) & set(label), given=given & set(label))
    # the district's wards, dotted and named (not clickable), so a person finds their way as on the other maps
    leaflet.add_orientation(picker, _shared.orientation(lad, tuple(float(v) for v in hoods.total_bounds), False, 900, 520))
    out = _shared.leaflet_picker(picker, key=f"pl_map_{lad}")
    changed = False
    click = out.get("tooltip")
    hit = re.search(r"\((E01\d{6})\)\s*$", click or "")
    if hit and out.get("click") != ss.get("pl_seen_click"):  # a new click on a neighbourhood: add or remove it
        ss.pl_seen_click = out.get("click")
        code = hit.group(1)
        picked = [c for c in picked if c != code] if code in picked else picked + [code]
        changed = True
    for shape in out.get("drawings") or []:
        sig = json.dumps(shape.get("geometry"), sort_keys=True)
        if sig in ss.setdefault("pl_seen_shapes", set()):
            continue
        ss.pl_seen_shapes.add(sig)
        try:
            inside = places.neighbourhoods_in_shape(shape.get("geometry") or {})
        except ProblemsError as exc:
            st.error(str(exc))
            continue
        here = [c for c in inside if c in label]
        picked += [c for c in here if c not in picked]
        changed = True
        st.toast(f"The shape holds {plural(len(here), 'neighbourhood')} of this district ({len(inside)} in England).")
    if changed:
        ss.pl_picked = picked
        st.rerun(scope="fragment")
    st.caption(f"Rule for a drawn shape: {places.SHAPE_RULE}. Dark blue: picked; orange: pasted or from your file "
               "(saved with the picked ones).")
    st.multiselect("Neighbourhoods (LSOA 2021)", list(label) + [c for c in ss.pl_picked if c not in label],
                   format_func=lambda c: label.get(c, f"{c} (another district)"), key="pl_picked")
    pasted = st.text_area("Or paste LSOA 2021 codes (commas, spaces or new lines)", key="pl_pasted")
    upload = st.file_uploader("Or upload a CSV of codes: one column named lsoa21_code, lsoa11_code or ward_code "
                              "(2024 wards)", type=["csv", "txt"], key="pl_upload", max_upload_size=5)
    c1, c2 = st.columns(2)
    new_id = c1.text_input("Id (a-z, 0-9, _ or -)", key="pl_new_id")
    title = c2.text_input("Title", key="pl_title")
    replace = st.checkbox("Replace a saved area with this id", key="pl_replace")
    parts = [("lsoa21", list(ss.pl_picked), "the picked neighbourhoods"),
             ("lsoa21", _parse_codes(pasted), "the pasted codes")]
    try:  # the count says what the button will save: picked, pasted and the file's codes, each once
        if upload is not None:
            parts.append((*places.read_area_upload(upload.name, upload.getvalue()), upload.name))
        level, combined = (places.combine_area_codes(parts) if any(p[1] for p in parts) else ("lsoa21", []))
    except ProblemsError:
        combined = None
    sources = [f"{len(ss.pl_picked)} picked"] + ([f"{len(parts[1][1])} pasted"] if parts[1][1] else []) + (
        [f"{plural(len(parts[2][1]), 'ward' if parts[2][0] == 'ward' else 'code')} from {upload.name}"]
        if len(parts) > 2 else [])
    st.caption((f"**{plural(len(combined), 'neighbourhood')} will be saved** ({', '.join(sources)}; a code given twice "
                "counts once)." if combined is not None else
                f"{', '.join(sources)}: some codes cannot be used; saving lists every problem."))
    if st.button("Save the area", key="pl_save", type="primary"):
        try:
            level, codes = places.combine_area_codes(parts)
            places.save_area(new_id.strip(), title, codes, level, replace=replace, label="the codes")
        except ProblemsError as exc:
            st.error("Not saved: every problem found is listed below.")
            st.code(str(exc), language=None, wrap_lines=True)
        else:
            st.success(f"Saved area {new_id.strip()}.")
            ss.pl_next_area = new_id.strip()
            st.rerun()


tab_areas, tab_pcn = st.tabs(["Custom areas", "Primary Care Networks"])

with tab_areas:
    saved = {a["id"]: a for a in places.list_areas()}
    if "pl_next_area" in ss:  # just saved or deleted: set before the picker is drawn
        ss.pl_area = ss.pop("pl_next_area")
    if "pl_area" not in ss:
        ss.pl_area = _shared.param("area", "", [""] + list(saved)) if st.query_params.get("area") else ""
    st.selectbox("Open a saved area", [""] + list(saved), key="pl_area",
                 format_func=lambda a: "choose" if not a else f"{saved[a]['title']} ({saved[a]['neighbourhoods']} "
                                                              "neighbourhoods)")
    with st.expander("Make an area", expanded=not saved):
        make_area()
    if ss.pl_area:
        st.query_params["area"] = ss.pl_area
        _area.show_area_profile(places.saved_area_profile(ss.pl_area))
        c1, c2, c3 = st.columns(3)  # the area is a place on the other pages too
        place = places.AREA_PREFIX + ss.pl_area
        c1.page_link("views/area_map.py", label="Open it on the Area map", icon=":material/map:",
                     query_params={"place": place})
        c2.page_link("views/strategic_focus.py", label="Rank its neighbourhoods (Strategic focus)",
                     icon=":material/target:", query_params={"unit": "lsoa21", "area": place})
        c3.page_link("views/trends.py", label="Trends for its local authorities", icon=":material/trending_up:",
                     query_params={"place": place})
        with st.expander("Rename this area"):
            r1, r2 = st.columns(2)
            new_title = r1.text_input("New title", value=saved[ss.pl_area]["title"], key=f"pl_rn_title_{ss.pl_area}")
            new_key = r2.text_input("Id (changing it breaks links to the old one)", value=ss.pl_area,
                                    key=f"pl_rn_id_{ss.pl_area}")
            if st.button("Rename", key="pl_rename"):
                try:
                    done = places.rename_area(ss.pl_area, new_key, new_title)
                except ProblemsError as exc:
                    st.error(str(exc))
                else:
                    ss.pl_next_area = done["id"]
                    st.query_params["area"] = done["id"]
                    st.rerun()
        if st.button("Delete this area", key="pl_delete"):
            places.delete_area(ss.pl_area)
            ss.pl_next_area = ""
            st.query_params.pop("area", None)
            st.rerun()

with tab_pcn:
    st.caption(places.NO_BOUNDARY)
    wanted = st.query_params.get("pcn")
    if "pl_pcn_lad" not in ss and not wanted:  # the place the reader has open elsewhere, else Trafford
        ss.pl_pcn_lad = _current_district()
    if wanted and "pl_pcn_lad" not in ss:
        try:
            first = places.pcn_profile(wanted)["practices"]
            lsoa = next((p["lsoa21_code"] for p in first if p["lsoa21_code"]), None)
            from civicdata.geo.geography import lad_of_area

            ss.pl_pcn_lad = lad_of_area(lsoa, "lsoa21") if lsoa else next(iter(lad_options))
        except places.UnknownPCNError:
            st.toast(f"Link parameter pcn={wanted!r} is not a PCN code; choose one below.")
            wanted = None
    lad = st.selectbox("District", list(lad_options), key="pl_pcn_lad", format_func=lad_options.get)
    here = places.pcns_in(lad)
    options = dict(zip(here["pcn_code"], [f"{t} ({plural(int(n), 'practice')} here)"
                                          for t, n in zip(here["pcn_title"], here["practices"])]))
    if wanted and wanted not in options:  # a pcn= left from another district: dropped, and said so
        st.info(f"{wanted} is not a PCN with practices in {lad_options.get(lad, lad)}: showing this district's.")
        st.query_params.pop("pcn", None)
        wanted = None
    if "pl_pcn" not in ss or ss.pl_pcn not in options:
        ss.pl_pcn = wanted if wanted in options else next(iter(options), None)
    code = st.selectbox("Primary Care Network", list(options), key="pl_pcn", format_func=options.get)
    if code:
        st.query_params["pcn"] = code
        p = places.pcn_profile(code)
        st.markdown(f"### {_shared.md_escape(p['name'])} ({p['code']}): {len(p['practices'])} practices, "
                    f"{(p['list_size'] or 0):,} registered patients (QOF 2022-23 lists)")
        st.caption(f"Sub-ICB location {p['sub_icb']['ods_code']} ({p['sub_icb']['name'] or 'no ONS 2024 match'}), "
                   f"{p['icb']['name']}. Membership: {p['vintages']['membership']}; QOF: {p['vintages']['qof']}; "
                   f"locations: {p['vintages']['locations']}.")
        practices = pd.DataFrame([{
            "ODS code": x["ods_code"], "practice": readable_org_name(x["name"]), "list size": x["list_size"],
            "neighbourhood (LSOA 2021)": (readable_name(x["lsoa21_code"], "lsoa21") or x["lsoa21_code"])
            if x["lsoa21_code"] else None, "member since": x["member_since"],
            "own sub-ICB": x["sub_icb"]["ods_code"] + ("" if x["same_sub_icb"] else " (another than the PCN's)"),
            **{f"{QOF_NAMES[k]} (%)": x["qof"][k] for k in places.QOF_KEYS}} for x in p["practices"]])
        hoods = _shared.lsoa21_outlines(tuple(p["neighbourhoods"]))
        m = leaflet.pcn_map(p["practices"], hoods)
        # context: the district's outline and its ward names, as on the other maps
        leaflet.add_outline(m, _shared.district_outlines((lad,)), "local authority")
        box = tuple(float(v) for v in (hoods.total_bounds if len(hoods) else _shared.district_outlines((lad,)).total_bounds))
        leaflet.add_orientation(m, _shared.orientation(lad, box, False, 900, 460))
        tip = _shared.leaflet_map(m, key=f"pl_pcn_map_{code}", height=460)
        st.caption(f"Orange circles: the PCN's {len(p['practices']) - p['practices_without_location']} practices with a "
                   "location (mid-2025 ODS), sized by list; outlined in blue: the neighbourhoods (LSOA 2021) they "
                   f"stand in; solid black: {lad_options.get(lad, lad)}; dotted: its wards (May 2025), named. Not the area its patients live in: no such boundary is published."
                   + (f" {plural(p['practices_without_location'], 'practice')} ha{'s' if p['practices_without_location'] == 1 else 've'} no location." if
                      p["practices_without_location"] else ""))
        if tip:
            st.markdown(f"**Clicked:** {_shared.md_escape(tip)}")
        counts = {c: st.column_config.NumberColumn(c[:1].upper() + c[1:], format="localized")  # 19,389
                  for c in ("list size", "on register", "list")}
        _shared.table(practices, hide_index=True, width="stretch", key="pl_practices", column_config=counts,
                      decimals={c: 1 for c in practices.columns if c.endswith("(%)")})
        qof = pd.DataFrame([{"register": q["title"], "prevalence (%)": q["pct"], "on register": q["register"],
                             "list": q["list"], "practices with QOF data": q["practices"]} for q in p["qof"].values()])
        st.markdown("**QOF prevalence for the PCN** (weighted by list size: all its practices' registers over "
                    "their lists)")
        _shared.table(qof, hide_index=True, width="stretch", key="pl_qof", column_config=counts,
                      decimals={"prevalence (%)": 1})
_shared.footer()

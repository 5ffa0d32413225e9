"""A saved custom area's profile, drawn the same way on the Places page and the Area map."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from civicdata.geo import places
from views import _shared


def who_to_convene(profile: dict) -> pd.DataFrame:
    """The profile's local authorities, wards, sub-ICBs, ICBs and PCNs as one table."""
    rows = []
    for key, role in (("local_authorities", "Local authority"), ("wards", "Ward (2024)"),
                      ("sub_icbs", "NHS sub-ICB location"), ("icbs", "NHS Integrated Care Board")):
        rows += [{"role": role, "code": x["code"], "name": x["name"], "neighbourhoods": x["neighbourhoods"]}
                 for x in profile[key]]
    rows += [{"role": "Primary Care Network", "code": x["code"], "name": x["name"],
              "neighbourhoods": None, "practices here": x["practices_here"]} for x in profile["pcns"]]
    return pd.DataFrame(rows)


def show_area_profile(profile: dict, key: str = "pl", headline: bool = True) -> None:
    """A saved area's profile (:func:`civicdata.geo.places.saved_area_profile`): headline, caveats, residents by
    IMD decile, life expectancy, schools and who to convene (as on the Places page and the Area map)."""
    if headline:  # (the Area map says it above the map)
        st.markdown(f"### {_shared.md_escape(places.area_headline(profile))}")
    st.caption(f"{profile['neighbourhoods']} neighbourhoods ({places.AREA_LEVELS[profile['level']]}); residents: "
               f"{profile['population_source']}; made from "
               f"{'2024 wards (their best-fit LSOAs 2021)' if profile['from'] == 'ward' else places.AREA_LEVELS[profile['from']] + ' codes'}. Shares are of residents, not of "
               "neighbourhoods.")
    for c in profile["caveats"]:
        st.info(c)
    shares = pd.DataFrame({"decile": [f"{d}" + (" (most deprived)" if d == "1" else " (least)" if d == "10" else "")
                                      for d in profile["imd_decile_population_share"]],
                           "share of residents (%)": [None if v is None else round(100 * v, 1)
                                                      for v in profile["imd_decile_population_share"].values()]})
    c1, c2 = st.columns(2)
    c1.markdown("**Residents by national IMD decile**")
    with c1:
        _shared.table(shares, hide_index=True, width="stretch", key=f"{key}_shares",
                      decimals={"share of residents (%)": 1})
    life = profile["life_expectancy"]
    lines = []
    for sex in ("male", "female"):
        if life[sex]:
            lines.append(f"{sex}: {life[sex]['lowest']:.1f}–{life[sex]['highest']:.1f} years")
    c2.markdown("**Life expectancy at birth** (" + life["vintage"] + f", {life['msoa11']} MSOAs): " +
                ("; ".join(lines) or "no estimate"))
    sch = profile["schools"]
    fsm = "no FSM figure" if sch["fsm_pct"] is None else f"{sch['fsm_pct']:.1f}% eligible for free school meals"
    c2.markdown(f"**Schools**: {sch['count']} with {sch['pupils']:,} pupils; {fsm} ({sch['vintage']}).")
    st.markdown("**Who to convene**")
    _shared.table(who_to_convene(profile), hide_index=True, width="stretch", key=f"{key}_who")

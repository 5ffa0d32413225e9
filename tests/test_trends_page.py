"""AppTest drives the Trends and peers page and the Area map's trends section."""

from __future__ import annotations

import json

import pandas as pd

from civicdata.indicators import iod_editions, peers, trends
from tests.conftest import open_page


def _page(**params):
    return open_page("views/trends.py", **params)


def _df(at, first_column: str) -> pd.DataFrame:
    """The table whose first column is ``first_column`` (AppTest keeps no keys on dataframes)."""
    return next(d.value for d in at.dataframe if list(d.value.columns)[:1] == [first_column])


def _captions(at) -> list[str]:
    return [c.value for c in at.caption]


def test_link_reproduces_place_peers_and_indicator():
    at = _page(place="E06000065", peers="economic", indicator="persistent_absence")
    assert at.sidebar.selectbox(key="tr_place").value == "E06000065"
    assert at.sidebar.radio(key="tr_kind").value == "economic"
    assert at.selectbox(key="tr_indicator").value == "persistent_absence"
    table = trends.summary("E06000065", "economic")
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head == "### " + trends.headline("E06000065", table)
    # the break is said in words beside the chart and in its text alternative
    assert any(w.value.startswith("Series break: North Yorkshire (E06000065)") for w in at.warning)
    alt = next(c for c in _captions(at) if c.startswith("**In words:** Chart of Persistent absence"))
    assert "E10000023" in alt and "too few periods to say" in alt
    # similar areas: ONS's economic neighbours, in order, in the table
    nb = _df(at, "ONS rank")
    assert nb["code"].tolist() == [n["code"] for n in peers.peers("E06000065", "economic")["neighbours"]]
    # rules stated on the page
    text = " ".join(_captions(at))
    for rule in (trends.TREND_RULE, trends.SIGNIFICANCE_RULE, trends.SPINE_RULE):
        assert rule.replace("“", "").split(".")[0][:60] in text.replace("“", "")


def test_switching_indicator_and_peers_updates_the_link():
    at = _page(place="E08000009")
    at.selectbox(key="tr_indicator").set_value("claimant_count").run()
    assert not at.exception
    assert at.query_params["indicator"] in ("claimant_count", ["claimant_count"])
    at.sidebar.radio(key="tr_kind").set_value("demographic").run()
    assert not at.exception
    assert at.query_params["peers"] in ("demographic", ["demographic"])
    nb = _df(at, "ONS rank")
    assert nb["code"].tolist()[:3] == [n["code"] for n in peers.peers("E08000009", "demographic")["neighbours"]][:3]


def test_every_indicator_table_and_iod_editions():
    at = _page(place="E06000063")  # Cumberland: formed in 2023
    table = next(d.value for d in at.dataframe if "latest" in d.value.columns)  # (the spine's table has "value")
    assert len(table) == 17
    # each row in its indicator's own (the publisher's) decimals, as its chart shows it: one for most %, rates and
    # years, none for £ and KS2's whole percentages (never 27.6958)
    raw = trends.summary("E06000063", "global").set_index("title")
    inds = trends.load_indicators()
    assert {i.decimals for i in inds.values()} == {0, 1}
    for r in table.itertuples():
        d = inds[raw.at[r.indicator, "indicator_id"]].decimals
        for shown, col in ((r.latest, "value"), (r.England, "england")):
            v = raw.at[r.indicator, col]
            if pd.isna(v):  # no figure: the table shows "–" (a missing cell), never "nan"
                assert not isinstance(shown, str), (r.indicator, shown)
            else:
                assert shown == f"{v:,.{d}f}", (r.indicator, shown)
    # text never cut: the Unit column is as wide as "per 100,000 (age-standardised)" (Glide sized it for "%")
    cols = json.loads(next(d for d in at.dataframe if "latest" in d.value.columns).proto.columns)
    longest = max(table["unit"], key=len)
    assert longest == "per 100,000 (age-standardised)" and cols["unit"]["width"] >= 6.5 * len(longest)
    # the table behind the spine chart too: its indicator's decimals, the position a whole number, headed in words
    spine = next(d for d in at.dataframe if "vs_england" in d.value.columns)
    spine_cols = json.loads(spine.proto.columns)
    assert spine_cols["position"]["type_config"]["format"] == "%.0f"
    assert spine_cols["vs_england"]["label"] == "Against England"
    shown = spine.value.set_index("indicator")["value"]
    assert shown.dropna().str.fullmatch(r"-?[\d,]+(\.\d)?").all()
    iod = _df(at, "IoD edition")
    assert set(iod[iod["IoD edition"] == 2019]["district"]) == {"Allerdale", "Carlisle", "Copeland"}
    # the share of LSOAs in decile 1 to one decimal (it showed 0.9615 and 12.6761)
    iod_cols = json.loads(next(d for d in at.dataframe if list(d.value.columns)[:1] == ["IoD edition"]).proto.columns)
    assert iod_cols["% of LSOAs in England's most deprived 10%"]["type_config"]["format"] == "%.1f"
    assert any(w.value == iod_editions.IOD_WARNING for w in at.warning)
    lines = [m.value for m in at.markdown if m.value.startswith("- Cumberland, IoD")]
    assert len(lines) == 2


def test_district_shows_its_county_figure_and_says_so():
    at = _page(place="E07000117", indicator="hle_female")  # Burnley
    assert any("not published for districts" in i.value.lower() and "Lancashire" in i.value for i in at.info)


def test_invalid_link_parameters_fall_back_with_a_notice():
    at = _page(place="E99999999", peers="nope", indicator="nothing")
    assert at.sidebar.selectbox(key="tr_place").value == "E08000009"
    assert at.sidebar.radio(key="tr_kind").value == "global"
    assert sum("not valid here" in t.value for t in at.toast) == 3


def test_presentation_is_one_slide():
    at = _page(place="E08000009", present="1")
    assert [m.value for m in at.markdown if m.value.startswith("### ")]
    assert not [h for h in at.header if h.value == "One indicator over time"]
    assert any("left = worse" in c for c in _captions(at))


def test_area_map_profile_has_a_trends_section():
    at = open_page(None, place="E08000009")
    df = _df(at, "indicator")
    assert len(df) == 17
    expected = trends.summary("E08000009", "global").set_index("indicator_id")
    row = df.set_index("indicator").loc[expected.at["hle_female", "title"]]
    assert row["latest"] == f"{expected.at['hle_female', 'value']:.1f}"  # years: one decimal
    # every figure in its indicator's own decimals; never four
    inds = {i.title: i for i in trends.load_indicators().values()}
    for r in df.itertuples():
        want = inds[r.indicator].decimals
        for v in (r.latest, r.England):
            assert not isinstance(v, str) or len(v.split(".")[1] if "." in v else "") == want, (r.indicator, v)
    assert row["against England"] == expected.at["hle_female", "vs_england"]
    assert any("Trends and peers: Trafford:" in m.value for m in at.markdown)


def test_strategic_focus_ranks_local_authorities_in_a_region_from_the_link():
    at = open_page("views/strategic_focus.py", unit="lad", area="E12000002",
                   w="trend_hle_male_latest:1,trend_persistent_absence_worsening:1")
    assert at.sidebar.selectbox(key="fo_area").value == "E12000002"
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head.startswith("### In North West, ")
    df = at.dataframe[0].value
    assert len(df) == 35 and pd.isna(df.set_index("code").at["E06000063", "rank"])


def test_a_re_formed_authority_says_so_where_the_reader_starts():
    """North Yorkshire (re-formed 2023): the break is said under the headline, whatever the indicator; Trafford has none."""
    at = _page(place="E06000065")
    note = at.info[0].value
    assert note.startswith("North Yorkshire was re-formed in 2023: where an indicator's earlier periods were "
                           "published for its predecessors (Craven,")
    assert "North Yorkshire \\(county\\)" in note or "North Yorkshire (county)" in note
    assert not any("re-formed" in i.value for i in _page(place="E08000009").info)

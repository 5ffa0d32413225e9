"""AppTest drives the Strategic focus page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

from civicdata.indicators.catalogue import load_catalogue
from civicdata.focus import compute_focus

APP = str(Path(__file__).resolve().parents[1] / "app.py")


def _page(**params) -> AppTest:
    return open_page("views/strategic_focus.py", **params)


def test_link_reproduces_ranking_and_shortlist():
    at = _page(unit="ward", area="E08000009", w="imd2025_score:2,le_male:1", short="E05015244")
    expected = compute_focus(load_catalogue(), "ward", "E08000009", {"imd2025_score": 2, "le_male": 1}, top_n=10)
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head == f"### In Trafford, {expected.table.iloc[0]['name']} ranks first: {expected.table.iloc[0]['reason']}"
    assert at.multiselect(key="fo_short").value == ["E05015244"]
    assert any(s.value.startswith("Who to convene: Bucklow-St Martins") for s in at.subheader)
    df = at.dataframe[0].value
    assert df["code"].tolist() == expected.table["code"].tolist()


def test_change_unit_and_weights():
    at = _page()
    assert at.sidebar.multiselect(key="fo_ind").value == ["income2025_score", "health2025_score",
                                                          "education2025_score"]  # every LSOA of Trafford covered
    at.sidebar.selectbox(key="fo_unit").set_value("msoa11").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 28
    # untouched, the defaults follow the unit: for MSOAs the schools' free school meals cover every place
    assert at.sidebar.multiselect(key="fo_ind").value == ["income2025_score", "health2025_score", "school_fsm_pct",
                                                          "education2025_score"]
    said = [i.value for i in at.info if "default mix" in i.value]  # the change is said, not made silently
    assert len(said) == 1 and "Pupils eligible for free school meals" in said[0]
    at.sidebar.slider(key="fo_w_health2025_score").set_value(5.0).run()
    w = "income2025_score:1,health2025_score:5,school_fsm_pct:1,education2025_score:1"
    assert at.query_params["w"] in (w, [w])
    at.sidebar.selectbox(key="fo_unit").set_value("lsoa21").run()  # a weight moved: the reader's mix stays
    assert at.query_params["w"] in (w, [w])


def test_the_default_ranking_leaves_no_place_out_and_the_picker_says_coverage():
    """Newcastle upon Tyne: the default mix covers all 180 neighbourhoods, so its most deprived (IoD2025 IMD
    score) is ranked; an indicator that covers only some says how many in the picker and on its slider."""
    import pandas as pd

    from civicdata.bundle import load_lookup

    at = _page(area="E08000021")
    df = at.dataframe[0].value
    assert len(df) == 180 and df["rank"].notna().all()
    iod = pd.read_parquet(Path(APP).parent / "data/indicators/iod2025_lsoa21.parquet")
    l21 = load_lookup("lsoa21")
    here = iod[iod["lsoa21_code"].isin(l21.loc[l21["lad24_code"] == "E08000021", "lsoa21_code"])]
    worst = here.sort_values("imd2025_score", ascending=False)["lsoa21_code"].iloc[0]
    assert df.loc[df["code"] == worst, "rank"].iloc[0] <= 5
    at.sidebar.multiselect(key="fo_ind").set_value(["income2025_score", "school_fsm_pct"]).run()
    assert not at.exception
    assert any("Pupils eligible for free school meals — 73 of 180 LSOAs (2021)" == s.label for s in at.sidebar.slider)
    assert "73 of 180" in at.sidebar.multiselect(key="fo_ind").format_func("school_fsm_pct")


def test_invalid_weights_fall_back():
    at = _page(w="imd:abc")
    assert at.sidebar.multiselect(key="fo_ind").value == ["income2025_score", "health2025_score",
                                                          "education2025_score"]
    assert any("not valid here" in t.value for t in at.toast)


def test_partial_coverage_is_said_up_front_and_incomplete_places_are_not_ranked():
    """The journey layer covers only the schools the Chester feed reaches (real GTFS)."""
    from tests.conftest import run_cli

    res = run_cli("journey-layer", "--feed", "data/transport/chester_gtfs.zip", "--date", "20230913", "--within",
                  "E06000050", "--service", "nhs2014_clinics", "--json")
    assert res.returncode == 0, res.stderr
    layer = "journey_nhs2014_clinics_0800_0900"
    at = _page(unit="school", area="E06000050", w=f"imd2025_score:1,{layer}:1")
    warning = next(w.value for w in at.warning if "cover only part" in w.value)
    assert "schools have a value — outside the area of the GTFS feed chester_gtfs.zip" in warning
    table = at.dataframe[0].value
    ranked = table[table["rank"].notna()]
    assert ranked["complete"].all() and not table.loc[table["rank"].isna(), "complete"].any()
    assert table["rank"].notna().tolist() == sorted(table["rank"].notna().tolist(), reverse=True)  # ranked first
    assert at.multiselect(key="fo_short").options == [f"{n} ({c})" for n, c in zip(ranked["name"], ranked["code"])]
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert f"{ranked.iloc[0]['name']} ranks first:" in head and "partial data" not in head
    # switched on: every school ranked, partial ones marked in the table, the shortlist and the link
    at.sidebar.toggle(key="fo_incomplete").set_value(True).run()
    table = at.dataframe[0].value
    assert table["rank"].notna().all() and (~table["complete"]).sum() == len(table) - len(ranked)
    assert at.query_params["incomplete"] in ("1", ["1"])
    partial_code = table.loc[~table["complete"], "code"].iloc[0]
    assert any(o.endswith("† partial data") and partial_code in o for o in at.multiselect(key="fo_short").options)
    at.multiselect(key="fo_short").set_value([partial_code]).run()
    assert not at.exception
    assert any(b.proto.label == "Shortlist with reasons (CSV)" for b in at.get("download_button"))


def test_pickers_with_a_maximum_offer_no_select_all():
    """A shortlist of up to three offers no "Select all" (Streamlit shows one by default)."""
    at = _page(area="E08000021")
    assert at.multiselect(key="fo_short").proto.select_all == 0


def test_a_place_link_or_the_place_last_looked_at_is_where_it_ranks():
    """Strategic focus takes ``place=`` as the other pages do (it ranked Trafford for ?place=E06000065), and
    without a link it ranks within the place the reader last looked at; ``area=`` still wins."""
    at = _page(place="E06000065")
    assert at.sidebar.selectbox(key="fo_area").value == "E06000065"
    assert next(m.value for m in at.markdown if m.value.startswith("### ")).startswith("### In North Yorkshire,")
    at = _page(place="E06000065", area="E08000021")
    assert at.sidebar.selectbox(key="fo_area").value == "E08000021"
    at = AppTest.from_file(APP, default_timeout=120)
    at.session_state["last_place"] = "E08000021"
    at.switch_page("views/strategic_focus.py").run()
    assert at.sidebar.selectbox(key="fo_area").value == "E08000021"

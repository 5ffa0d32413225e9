"""AppTest drives the Strategic focus page."""

from __future__ import annotations

from pathlib import Path

from streamlit.testing.v1 import AppTest

from tests.conftest import open_page

from civicdata.catalogue import load_catalogue
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
    at.sidebar.selectbox(key="fo_unit").set_value("msoa11").run()
    assert not at.exception
    assert len(at.dataframe[0].value) == 28
    at.sidebar.slider(key="fo_w_le_male").set_value(5.0).run()
    assert at.query_params["w"] in ("income2025_decile:1,health2025_decile:1,le_male:5,school_fsm_pct:1",
                                    ["income2025_decile:1,health2025_decile:1,le_male:5,school_fsm_pct:1"])


def test_invalid_weights_fall_back():
    at = _page(w="imd:abc")
    assert at.sidebar.multiselect(key="fo_ind").value == ["income2025_decile", "health2025_decile", "le_male",
                                                          "school_fsm_pct"]
    assert any("not valid here" in t.value for t in at.toast)

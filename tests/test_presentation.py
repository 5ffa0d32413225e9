"""Presentation mode (AppTest): large type, saved views as slides, shareable links on every page."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = str(Path(__file__).resolve().parents[1] / "app.py")
PAGES = ["views/area_map.py", "views/metro_line.py", "views/school_to_clinic.py", "views/strategic_focus.py",
         "views/add_data.py", "views/home.py", "views/trends.py"]
PRESENTED = PAGES[:4] + ["views/trends.py"]


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs(page):
    at = AppTest.from_file(APP, default_timeout=300)
    at.switch_page(page).run()
    assert not at.exception, at.exception


@pytest.mark.parametrize("page", PRESENTED)
def test_presentation_mode_from_the_link(page):
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["present"] = "1"
    at.switch_page(page).run()
    assert not at.exception
    assert at.sidebar.toggle(key="present").value is True
    css = "".join(h.proto.body for h in at.get("html"))
    assert 'section[data-testid="stSidebar"]' in css and "font-size: 24px" in css and "clamp(30px, 2.9vw, 42px)" in css
    assert any(b.label == "Leave presentation" for b in at.button)
    headlines = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert headlines, "a headline message is shown"


def test_slides_step_through_saved_views_and_esc_leaves():
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["place"] = "E08000009"
    at.run()
    at.sidebar.button[0].click().run()  # save Trafford
    at.sidebar.selectbox(key="am_place").set_value("E08000003").run()
    at.sidebar.button[0].click().run()  # save Manchester
    assert [s["params"]["place"] for s in at.session_state["slides"]] == ["E08000009", "E08000003"]
    at.sidebar.toggle(key="present").set_value(True).run()
    next_btn = next(b for b in at.button if b.label == "Next slide")
    next_btn.click().run()
    assert not at.exception
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head.startswith("### In Trafford,")
    next(b for b in at.button if b.label == "Next slide").click().run()
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head.startswith("### In Manchester,")
    next(b for b in at.button if b.label == "Leave presentation").click().run()
    assert at.session_state["present"] is False
    assert "present" not in at.query_params
    # the slides are a deck in the store, named in the link: a fresh session (another server, another machine)
    # opening the link has them, and steps through them
    deck = at.query_params["deck"]
    deck = deck[0] if isinstance(deck, list) else deck
    from civicdata.figures import slides

    assert [s["params"]["place"] for s in slides.deck_slides(deck)] == ["E08000009", "E08000003"]
    fresh = AppTest.from_file(APP, default_timeout=300)
    fresh.query_params["deck"] = deck
    fresh.query_params["present"] = "1"
    fresh.run()
    assert [s["params"]["place"] for s in fresh.session_state["slides"]] == ["E08000009", "E08000003"]
    next(b for b in fresh.button if b.label == "Next slide").click().run()
    assert not fresh.exception
    assert next(m.value for m in fresh.markdown if m.value.startswith("### ")).startswith("### In Trafford,")
    assert slides.deck_slides("not-a-deck") == [] and slides.deck_slides("0" * 16) == []


def test_share_link_carries_the_view():
    at = AppTest.from_file(APP, default_timeout=300)
    at.query_params["place"] = "E08000003"
    at.query_params["layer"] = "le_male"
    at.run()
    links = [m.value for m in at.sidebar.markdown if "place=E08000003" in m.value]
    assert len(links) == 1 and "layer=le_male" in links[0]  # a plain link: [shown text](the link)
    shown, target = links[0][1:-1].split("](")
    assert "place=E08000003" in target and "layer=le_male" in target and "=" in shown

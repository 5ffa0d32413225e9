"""The Workshop page (AppTest): create, facilitator, phone join and projector views, chosen by the link."""

from __future__ import annotations

import re

import pytest

from civicdata.workshop import model
from tests.conftest import open_page

PAGE = "views/workshop.py"
THEMES = ["Prevention", "Workforce", "Community health on school sites"]


@pytest.fixture
def ws():
    return model.create_workshop("Trafford convening", model.parse_options(THEMES), place_code="E08000009",
                                 place_name="Trafford", held_on="2026-11-27")


def test_create_a_workshop_from_themes_and_typed_options():
    at = open_page(PAGE)
    assert at.multiselect(key="ws_themes").value == list(model.THEMES[:3])  # the three themes
    at.text_input(key="ws_title").set_value("Trafford convening")
    at.text_area(key="ws_typed").set_value("Healthy weight\n<b>Housing</b>")
    at.number_input(key="ws_ndots").set_value(4)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Create the workshop").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    wid, key = at.query_params["ws"], at.query_params["key"]
    ws = model.get_workshop(wid)
    assert [o.label for o in ws.options] == list(model.THEMES[:3]) + ["Healthy weight", "<b>Housing</b>"]
    assert ws.dots == 4 and ws.place_code == "E08000009" and ws.place_name == "Trafford"
    assert ws.questions == list(model.DEFAULT_QUESTIONS) and model.check_key(wid, key)
    # the facilitator view: links (join, projector, private) and the QR code
    codes = [c.value for c in at.code]
    assert any(c.endswith(f"/workshop?ws={wid}&view=join") for c in codes)
    assert not any(key in c for c in codes)  # the private link is never printed beside the join link
    assert len(at.get("image")) == 1
    at.toggle(key="ws_show_key").set_value(True).run()
    assert any(c.value.endswith(f"/workshop?ws={wid}&key={key}") for c in at.code)
    assert any("Do not put this on the projector" in w.value for w in at.warning)


def test_create_refuses_bad_input_and_keeps_the_form():
    at = open_page(PAGE)
    at.text_input(key="ws_title").set_value("")
    at.multiselect(key="ws_themes").set_value(["Prevention"])
    next(b for b in at.get("form_submit_button") if b.proto.label == "Create the workshop").click().run()
    msg = at.error[0].value
    assert "title: give the workshop a title" in msg and "options: 1 given, at least 2" in msg
    assert "ws" not in at.query_params


def test_a_strategic_focus_shortlist_becomes_the_options_with_its_evidence():
    at = open_page("views/strategic_focus.py", unit="ward", area="E08000009", w="imd2025_score:2,le_male:1",
                   short="E05015244")
    at.button(key="fo_workshop").click().run()
    assert not at.exception
    assert at.query_params["from"] == "focus" and at.query_params["short"] == "E05015244"
    # AppTest reruns the page it was switched to, so open the Workshop page with the link the button made
    at = open_page(PAGE, **dict(at.query_params))
    assert at.checkbox(key="ws_use_short").value is True
    assert at.multiselect(key="ws_themes").value == []
    at.multiselect(key="ws_themes").set_value(["Workforce"])
    next(b for b in at.get("form_submit_button") if b.proto.label == "Create the workshop").click().run()
    assert not at.error, [e.value for e in at.error]
    ws = model.get_workshop(at.query_params["ws"])
    assert [o.code for o in ws.options] == ["E05015244", "workforce"]
    assert ws.options[0].label == "Bucklow-St Martins" and "male life expectancy" in ws.options[0].reason
    assert ws.evidence["source"] == "Strategic focus" and ws.evidence["shortlist"][0]["convene"]
    # what the room saw when it voted: the weights, the data vintages, the ranking and the link to the view
    ev = ws.evidence
    assert (ev["unit_code"], ev["area_code"]) == ("ward", "E08000009")
    assert [w["id"] for w in ev["weights"]] == [v["id"] for v in ev["vintages"]] and ev["vintages"][0]["vintage"]
    assert ev["ranking"][0]["rank"] == 1 and len(ev["ranking"]) == 10
    assert ev["link"].endswith("/strategic_focus?unit=ward&area=E08000009&w=" + ev["link"].split("&w=")[1])
    assert "short=E05015244" in ev["link"] and ev["shortlist"][0]["values"]


def test_phone_join_vote_and_note(ws):
    at = open_page(PAGE, ws=ws.id, view="join")
    at.text_input(key="ws_name").set_value("Ana")
    at.get("form_submit_button")[0].click().run()
    assert "sector: choose your sector" in at.error[0].value and "me" not in at.query_params  # never a silent default
    at.selectbox(key="ws_sector").set_value("council")
    at.get("form_submit_button")[0].click().run()
    token = at.query_params["me"]
    assert model.my_part(ws.id, token)["sector"] == "council"
    assert model.my_part(ws.id, token)["name"] == "Ana"
    at.number_input(key="ws_dots_1_prevention").set_value(2)
    at.number_input(key="ws_dots_1_workforce").set_value(2)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Place my dots").click().run()
    assert "4 dots placed, the limit is 3" in at.error[0].value
    assert model.my_part(ws.id, token)["dots"] == []
    at.number_input(key="ws_dots_1_workforce").set_value(1)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Place my dots").click().run()
    assert model.my_part(ws.id, token)["dots"] == ["prevention", "prevention", "workforce"]
    at.selectbox(key="ws_q").set_value(2)
    at.text_area(key="ws_note").set_value("Two buses to the clinic")
    next(b for b in at.get("form_submit_button") if b.proto.label == "Add note").click().run()
    assert model.tally(ws.id)["notes"][1]["notes"] == ["Two buses to the clinic"]


def test_projector_shows_the_tally_and_notes(ws):
    a = model.join(ws.id, "Ana")
    model.vote(ws.id, a, ["workforce", "workforce"])
    model.add_note(ws.id, a, 1, "<script>alert(1)</script>")
    at = open_page(PAGE, ws=ws.id, view="projector")
    assert any("Workforce leads with 2 dots" in m.value for m in at.markdown)
    notes = "".join(h.proto.body for h in at.get("html"))
    assert "Dots per option: Workforce 2 (Other 2); Prevention 0; Community health on school sites 0." in notes  # the chart's text alternative, for screen readers
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in notes and "<script>alert" not in notes


def test_wrong_key_and_unknown_workshop_are_clear(ws):
    at = open_page(PAGE, ws=ws.id, key="wrongkey")
    assert "key is wrong" in at.error[0].value
    at = open_page(PAGE, ws="nosuchworkshop00", view="join")
    assert "no workshop has the id" in at.error[0].value


def test_facilitator_closes_with_the_agreed_focus(ws):
    at = open_page(PAGE, ws=ws.id, key=ws.facilitator_key)
    at.multiselect(key=f"ws_agreed_{ws.id}").set_value(["prevention"])
    next(b for b in at.get("form_submit_button") if b.proto.label.startswith("Close voting")).click().run()
    w = model.get_workshop(ws.id)
    assert w.status == "closed" and w.agreed == ["prevention"]
    assert "**Agreed focus:** Prevention" in [m.value for m in at.markdown]
    labels = [d.proto.label for d in at.get("download_button")]
    assert labels == ["Record (HTML, one page)", "Votes, notes, actions (CSV)", "Votes, notes, actions (JSON)"]
    # a later change is saved as picked (in the browser, with the tally redrawing meanwhile: test_workshop_browser)
    at.multiselect(key=f"ws_agreed_{ws.id}").set_value(["workforce", "community-health-on-school-sites"])
    next(b for b in at.get("form_submit_button") if b.proto.label == "Save the agreed focus").click().run()
    assert model.get_workshop(ws.id).agreed == ["workforce", "community-health-on-school-sites"]


def test_people_typed_text_is_shown_as_text_in_every_view():
    hostile = "<script>alert(1)</script> *not bold* [link](javascript:alert(1))"
    w = model.create_workshop(hostile, model.parse_options([f"A {hostile}", "B"]))
    token = model.join(w.id, "<b>Ana</b> *x*")
    model.vote(w.id, token, ["B", "b"])
    for params in ({"view": "projector"}, {"view": "join", "me": token}, {"key": w.facilitator_key}):
        at = open_page(PAGE, ws=w.id, **params)
        shown = [e.value for e in at.title] + [m.value for m in at.markdown] + [c.value for c in at.caption]
        assert shown and not any("<script>" in v or "*not bold*" in v or re.search(r"(?<!\\)\]\(javascript", v)
                                 for v in shown), shown
        assert any("\\<script\\>" in v for v in shown)  # escaped for markdown: the text shows as typed


def test_a_tie_is_said_as_a_tie_on_the_projector(ws):
    a = model.join(ws.id, "Ana")
    b = model.join(ws.id, "Ben")
    model.vote(ws.id, a, ["prevention", "prevention", "workforce"])
    model.vote(ws.id, b, ["workforce"])
    at = open_page(PAGE, ws=ws.id, view="projector")
    head = [m.value for m in at.markdown if m.value.startswith("### ")]
    assert head == ["### Prevention and Workforce tie with 2 dots each."]
    model.vote(ws.id, b, ["workforce", "workforce"])
    at = open_page(PAGE, ws=ws.id, view="projector")
    assert "### Workforce leads with 3 dots." in [m.value for m in at.markdown]
    assert model.lead_words([{"label": "A", "dots": 0}]) == ""


def test_the_facilitator_key_never_leaves_through_share_links_slides_or_the_projector(ws):
    at = open_page(PAGE, ws=ws.id, key=ws.facilitator_key)
    shared = " ".join(m.value for m in at.sidebar.markdown)
    assert f"ws={ws.id}" in shared and ws.facilitator_key not in shared  # Share this view drops the key
    at.sidebar.button[0].click().run()  # Save this view as a slide
    assert all("key" not in s["params"] for s in at.session_state["slides"])
    at = open_page(PAGE, ws=ws.id, key=ws.facilitator_key, present="1")
    assert not any(ws.facilitator_key in c.value for c in at.code)  # not on the projected screen
    assert any("hidden in presentation mode" in m.value for m in at.caption)


def test_downloads_are_built_when_the_page_renders(ws):
    """Records are small: their bytes are in the page, not made on click (a click-time payload failed about one
    click in four under load)."""
    at = open_page(PAGE, ws=ws.id, key=ws.facilitator_key)
    buttons = at.get("download_button")
    assert len(buttons) == 3  # and the PDF once made (a button: printing takes a second or two)
    assert all(b.proto.url and not b.proto.deferred_file_id for b in buttons)  # stored when the page ran


def test_an_ons_code_keeps_its_case_as_an_option_code():
    opts = model.parse_options(["E01006108 Old Trafford", "E05015244", "Prevention"])
    assert [o.code for o in opts] == ["E01006108", "E05015244", "prevention"]


def test_phone_says_what_is_wrong_and_keeps_the_text(ws):
    """A note over the limit keeps its text and names the limit; too many dots in one box is refused with a
    message (no box caps its value silently); the phone shows the dots placed so far."""
    at = open_page(PAGE, ws=ws.id, view="join")
    assert "beside your notes in the workshop's record" in at.text_input(key="ws_name").label  # said before joining
    at.text_input(key="ws_name").set_value("Ana")
    at.selectbox(key="ws_sector").set_value("other")
    at.get("form_submit_button")[0].click().run()
    assert "You have placed 0 of your 3 dots." in [m.value.strip("*") for m in at.markdown]
    at.number_input(key="ws_dots_1_prevention").set_value(5)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Place my dots").click().run()
    assert "5 dots placed, the limit is 3" in at.error[0].value
    at.number_input(key="ws_dots_1_prevention").set_value(2)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Place my dots").click().run()
    assert "You have placed 2 of your 3 dots." in [m.value.strip("*") for m in at.markdown]
    long = "x" * (model.NOTE_MAX + 1)
    at.text_area(key="ws_note").set_value(long)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Add note").click().run()
    assert f"note: {model.NOTE_MAX + 1} characters, at most {model.NOTE_MAX}" in " ".join(e.value for e in at.error)
    assert at.text_area(key="ws_note").value == long  # kept, to be shortened
    at.text_area(key="ws_note").set_value("Shorter")
    next(b for b in at.get("form_submit_button") if b.proto.label == "Add note").click().run()
    assert any(s.value == "Note added." for s in at.success)  # (the box is cleared by the browser: clear_on_submit)


def test_create_names_the_title_limit_and_keeps_the_title():
    at = open_page(PAGE)
    long = "T" * (model.TITLE_MAX + 5)
    at.text_input(key="ws_title").set_value(long)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Create the workshop").click().run()
    assert f"title: {model.TITLE_MAX + 5} characters, at most {model.TITLE_MAX}" in at.error[0].value
    assert at.text_input(key="ws_title").value == long and "ws" not in at.query_params


def test_a_points_round_from_two_sectors_then_a_2x2_with_actions():
    at = open_page(PAGE)
    at.text_input(key="ws_title").set_value("Across sectors")
    at.radio(key="ws_mode").set_value("points")
    at.number_input(key="ws_npoints").set_value(10)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Create the workshop").click().run()
    wid, key = at.query_params["ws"], at.query_params["key"]
    assert model.get_workshop(wid).round == model.Round(1, "points", 10)
    phone = open_page(PAGE, ws=wid, view="join")
    assert phone.selectbox(key="ws_sector").options == list(model.SECTORS.values())
    phone.text_input(key="ws_name").set_value("Ana")
    phone.selectbox(key="ws_sector").set_value("nhs-trust")
    phone.text_input(key="ws_org").set_value("Manchester University NHS FT")
    phone.get("form_submit_button")[0].click().run()
    me = phone.query_params["me"]
    assert "(NHS trust, Manchester University NHS FT)" in " ".join(m.value for m in phone.markdown)
    assert "**You have placed 0 of your 10 points.**" in [m.value for m in phone.markdown]
    phone.number_input(key="ws_points_1_prevention").set_value(8)
    phone.number_input(key="ws_points_1_workforce").set_value(4)
    next(b for b in phone.get("form_submit_button") if b.proto.label == "Place my points").click().run()
    assert "12 points placed, the budget is 10" in phone.error[0].value and model.my_part(wid, me)["points"] == {}
    phone.number_input(key="ws_points_1_workforce").set_value(2)
    next(b for b in phone.get("form_submit_button") if b.proto.label == "Place my points").click().run()
    assert "**You have placed 10 of your 10 points.** 0 left." in [m.value for m in phone.markdown]
    other = model.join(wid, "Bo", "school-trust")
    model.allocate(wid, other, {"workforce": 10})
    fac = open_page(PAGE, ws=wid, key=key)
    said = " ".join(m.value for m in fac.markdown)
    assert ("The sectors differ: School trusts put Workforce first (100% of their points); NHS trusts put Prevention "
            "first (80% of their points).") in said
    next(b for b in fac.get("form_submit_button") if b.proto.label == "Open the round").click().run()
    assert model.get_workshop(wid).round == model.Round(2, "dots", 3)  # the form's defaults: 3 dots each
    fac.radio(key="ws_round_mode").set_value("matrix")
    next(b for b in fac.get("form_submit_button") if b.proto.label == "Open the round").click().run()
    assert model.get_workshop(wid).round.mode == "matrix"
    fac.text_input(key="ws_act_title").set_value("Pilot a clinic at a school")
    next(b for b in fac.get("form_submit_button") if b.proto.label == "Record the action").click().run()
    assert "owner: 1 to 60 characters (got 0)" in fac.error[0].value and model.list_actions(wid) == []
    fac.text_input(key="ws_act_title").set_value("Pilot a clinic at a school")
    fac.text_input(key="ws_act_owner").set_value("Ana")
    next(b for b in fac.get("form_submit_button") if b.proto.label == "Record the action").click().run()
    assert [a["title"] for a in model.list_actions(wid)] == ["Pilot a clinic at a school"]
    phone = open_page(PAGE, ws=wid, view="join", me=me)
    phone.select_slider(key="ws_imp_3_prevention").set_value("5")
    next(b for b in phone.get("form_submit_button") if b.proto.label == "Place on the 2×2").click().run()
    assert "Give both impact and feasibility, or neither, for: Prevention" in phone.error[0].value
    phone.select_slider(key="ws_fea_3_prevention").set_value("3")
    next(b for b in phone.get("form_submit_button") if b.proto.label == "Place on the 2×2").click().run()
    assert model.my_part(wid, me)["matrix"] == {"prevention": [5, 3]}
    proj = open_page(PAGE, ws=wid, view="projector")
    assert "### Prevention is placed highest: impact 5.0, feasibility 3.0." in [m.value for m in proj.markdown]


def test_a_change_that_did_not_reach_the_store_is_flagged_never_shown_as_placed(ws):
    """A phone whose session holds a ballot the store does not (a tap sent as the balancer moved it to another
    server, or while the database did not answer) is told so; once placed, the flag goes."""
    token = model.join(ws.id, "Ana", "council")
    model.vote(ws.id, token, ["prevention"])
    at = open_page(PAGE, ws=ws.id, view="join", me=token)
    assert at.number_input(key="ws_dots_1_prevention").value == 1  # the boxes start from the store
    assert not any("not saved" in w.value for w in at.warning)
    at.session_state["ws_dots_1_workforce"] = 2  # what the phone sent, never stored
    at.run()
    assert any(w.value == "Your last change was not saved — press Place my dots again." for w in at.warning)
    assert not at.success
    next(b for b in at.get("form_submit_button") if b.proto.label == "Place my dots").click().run()
    assert model.my_part(ws.id, token)["dots"] == ["prevention", "workforce", "workforce"]
    assert any("3 dots are placed" in s.value for s in at.success)
    assert not any("not saved" in w.value for w in at.warning)
    at.run()
    assert not any("not saved" in w.value for w in at.warning)


def test_a_database_that_does_not_answer_gets_one_sentence_and_no_internals(ws, monkeypatch):
    """Every page's guard: the store's named error becomes the one sentence, with no driver or address."""
    from civicdata import store

    def down(*a, **k):
        raise store.StoreUnavailableError("OperationalError: connection to server at 127.0.0.1 failed")

    monkeypatch.setattr(model, "get_workshop", down)
    monkeypatch.setattr(store, "ping", lambda *a, **k: False)
    from streamlit.testing.v1 import AppTest

    from tests.conftest import REPO

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=60)
    at.query_params.update({"ws": ws.id, "view": "join"})
    at.switch_page(PAGE)
    at.run()
    assert not at.exception
    assert [w.value for w in at.warning] == [store.UNAVAILABLE]
    shown = " ".join(str(e.value) for e in at.markdown) + " ".join(w.value for w in at.warning)
    assert "127.0.0.1" not in shown and "OperationalError" not in shown


def test_the_agreed_focus_picker_offers_no_select_all(ws):
    at = open_page(PAGE, ws=ws.id, key=ws.facilitator_key)
    picker = at.multiselect(key=f"ws_agreed_{ws.id}")
    assert picker.proto.max_selections == model.AGREED_MAX == 2 and picker.proto.select_all == 0


def test_a_phone_keeps_its_2x2_placings_through_runs_the_database_does_not_answer(monkeypatch):
    """A 2×2 placing sent while the database is down is kept through a run that could not draw the page, and is
    there to send again once it answers."""
    from civicdata import store

    created = model.create_workshop("Two by two", model.parse_options(THEMES), mode="matrix")
    token = model.join(created.id, "Ana", "council")
    at = open_page(PAGE, ws=created.id, view="join", me=token)
    first = model.get_workshop(created.id).options[0].code
    at.select_slider(key=f"ws_imp_1_{first}").set_value("4")
    at.select_slider(key=f"ws_fea_1_{first}").set_value("2")
    real_place, real_get = model.place, model.get_workshop

    def down(*a, **k):
        raise store.StoreUnavailableError("OperationalError: connection refused")

    monkeypatch.setattr(model, "place", down)
    next(b for b in at.get("form_submit_button") if b.proto.label == "Place on the 2×2").click().run()
    assert any(store.UNAVAILABLE in e.value for e in at.error) and model.my_part(created.id, token)["matrix"] == {}
    monkeypatch.setattr(model, "get_workshop", down)
    monkeypatch.setattr(store, "ping", lambda *a, **k: False)
    at.run()  # the page cannot be drawn: the sentence only
    assert [w.value for w in at.warning] == [store.UNAVAILABLE]
    monkeypatch.setattr(model, "get_workshop", real_get)
    monkeypatch.setattr(model, "place", real_place)
    at.run()  # the database answers again: the placings are still there, one press stores them
    assert at.select_slider(key=f"ws_imp_1_{first}").value == "4"
    next(b for b in at.get("form_submit_button") if b.proto.label == "Place on the 2×2").click().run()
    assert model.my_part(created.id, token)["matrix"] == {first: [4, 2]}

"""WCAG 2.2 AA in the browser: axe-core on every page in the menu (and the workshop's phone and projector
views) at 1920x1080, in presentation mode at 1280x720 and at 390x844 — no serious or critical violation —
and the main flows done with the keyboard only. Reports go to test-artifacts/axe/.
"""

from __future__ import annotations

import functools
import json
import re
import time
from pathlib import Path

import pytest

from tests.test_browser import ARTIFACTS, FOLIUM, _offline, _open, _settle, browser, server  # noqa: F401 - fixtures
from tests.test_browser import _ready as _run_finished

AXE_JS = None
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
SIZES = {"desktop": (1920, 1080, False), "present": (1280, 720, True), "phone": (390, 844, False)}
PAGES = ["", "trends", "metro_line", "school_to_clinic", "strategic_focus", "trust", "workshop", "add_data", "places", "home",
         "accessibility"]


def _axe_source() -> str:
    global AXE_JS
    if AXE_JS is None:
        import axe_playwright_python

        AXE_JS = (Path(axe_playwright_python.__file__).parent / "axe.min.js").read_text()
    return AXE_JS


#: Streamlit has finished, and the browser had 1.5 s to draw (maps, late layout)
_ready = functools.partial(_run_finished, settle_ms=1500, timeout_ms=180_000)


def _axe(page) -> dict:
    """axe-core's WCAG A/AA rules over the page and its frames."""
    for frame in page.frames:
        try:
            frame.evaluate(_axe_source())
        except Exception:  # noqa: BLE001 - a frame that went away while injecting
            pass
    return page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, "
                         "resultTypes: ['violations']})", TAGS)


@pytest.fixture(scope="module")
def workshop(server):  # noqa: F811
    from civicdata import store
    from civicdata.workshop import model

    eng = store.engine(server.db)
    ws = model.create_workshop("Trafford convening", model.parse_options(
        ["Prevention", "Workforce", "Community health on school sites"]), place_name="Trafford", eng=eng)
    token = model.join(ws.id, "Ana", eng=eng)
    model.vote(ws.id, token, ["prevention", "workforce"], eng=eng)
    model.add_note(ws.id, token, 1, "Fewer A&E visits", eng=eng)
    return {"ws": ws, "token": token, "eng": eng}


def _paths(workshop) -> dict[str, str]:
    ws = workshop["ws"]
    out = {p or "area_map": f"/{p}" for p in PAGES}
    out["trust"] = "/trust?group=north-west"
    out["area_map_school_absence"] = "/?place=E08000021&layer=school_persistent_absence_2019"
    out["workshop_facilitator"] = f"/workshop?ws={ws.id}&key={ws.facilitator_key}"
    out["workshop_join"] = f"/workshop?ws={ws.id}&view=join"
    out["workshop_phone_voting"] = f"/workshop?ws={ws.id}&view=join&me={workshop['token']}"
    out["workshop_projector"] = f"/workshop?ws={ws.id}&view=projector"
    return out


NAMES = [p or "area_map" for p in PAGES] + ["area_map_school_absence", "workshop_facilitator", "workshop_join", "workshop_phone_voting",
                                              "workshop_projector"]


@pytest.mark.parametrize("mode", ["desktop_then_phone", "present"])
def test_axe_no_serious_or_critical_violations(server, browser, workshop, mode):  # noqa: F811
    """Each page is checked at 1920x1080 and then, resized in place (the layout reflows), at 390x844; and,
    loaded again with ?present=1, at 1280x720."""
    sizes = ["desktop", "phone"] if mode == "desktop_then_phone" else ["present"]
    out_dir = ARTIFACTS / "axe"
    out_dir.mkdir(parents=True, exist_ok=True)
    failures, summary = [], {size: {} for size in sizes}
    for name, path in _paths(workshop).items():
        width, height, present = SIZES[sizes[0]]
        url = f"{server}{path}" + (("&" if "?" in path else "?") + "present=1" if present and "view=" not in path else "")
        page = browser.new_page(viewport={"width": width, "height": height})
        page.blocked = _offline(page)
        page.goto(url)
        _run_finished(page, 0, 180_000)
        if name in ("area_map", "trends", "metro_line", "strategic_focus"):
            page.wait_for_selector(".js-plotly-plot", timeout=60_000)
        if name in ("school_to_clinic", "trust"):  # the Leaflet map inside its frame
            page.frame_locator(FOLIUM).first.locator(".leaflet-container path.leaflet-interactive").first.wait_for(
                timeout=60_000)
        _settle(page)
        for size in sizes:
            if (width, height) != SIZES[size][:2]:
                width, height = SIZES[size][:2]
                page.set_viewport_size({"width": width, "height": height})
                _settle(page)
            result = _axe(page)
            summary[size][name] = {"url": path, "violations": [
                {"id": v["id"], "impact": v["impact"], "nodes": len(v["nodes"])} for v in result["violations"]]}
            (out_dir / f"{name}_{size}.json").write_text(json.dumps(result, indent=1))
            for v in result["violations"]:
                if v["impact"] in ("serious", "critical"):
                    node = v["nodes"][0]
                    failures.append(f"{name} ({size}, {width}x{height}): {v['impact']} {v['id']} on {len(v['nodes'])} "
                                    f"element(s), e.g. {node['html'][:160]} — {node['failureSummary'][:240]}")
        assert not page.locator('[data-testid="stException"]').count(), name
        assert not page.blocked, page.blocked
        page.close()
    for size in sizes:
        (out_dir / f"summary_{size}.json").write_text(json.dumps(summary[size], indent=1))
        assert len(summary[size]) == len(NAMES)
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------------------------------ keyboard only

ACTIVE = """() => { const a = document.activeElement; if (!a) return '';
  const byId = (ids) => ids.split(' ').map(i => (document.getElementById(i) || {}).innerText || '').join(' ');
  const name = a.getAttribute('aria-label') || (a.labels && a.labels.length ? a.labels[0].innerText : '')
    || (a.getAttribute('aria-labelledby') ? byId(a.getAttribute('aria-labelledby')) : '') || a.innerText || '';
  return name.replace(/\\s+/g, ' ').trim(); }"""


def _tab_to(page, pattern: str, limit: int = 160, back: bool = False) -> str:
    """Press Tab (Shift+Tab with ``back``) until the focused element's accessible name matches ``pattern``
    (a regex); its name."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if back else "Tab")
        name = page.evaluate(ACTIVE)
        seen.append(name)
        if re.search(pattern, name):
            return name
    raise AssertionError(f"no control matching {pattern!r} is reachable with Tab; reached: {seen[:60]}")


def _wait_url(page, pattern: str, timeout_s: float = 60) -> None:
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if re.search(pattern, page.url):
            return
        page.wait_for_timeout(200)
    raise AssertionError(f"the link never matched {pattern!r}: {page.url}")


def _pick(page, label: str, text: str, link: str) -> None:
    """With the keyboard: Tab to the box labelled ``label``, type ``text``, Enter; wait for the link to match
    ``link`` and the rerun to finish."""
    _tab_to(page, rf"^{re.escape(label)}$")
    page.keyboard.type(text)
    page.keyboard.press("Enter")
    _wait_url(page, link)
    _ready(page)


def _page(browser, url: str, width: int = 1600, height: int = 1000):  # noqa: F811
    return _open(browser, url, width, height, wait_for='[data-testid="stApp"]')


def test_keyboard_area_map_place_layer_and_area_details(server, browser):  # noqa: F811
    page = _page(browser, f"{server}/?place=E08000009")
    _pick(page, "Place", "Wigan", r"place=E08000010")
    _pick(page, "Indicator", "Income deprivation score", r"layer=income2025_score")  # (a decile has no rank)
    _tab_to(page, r"^Area$")
    page.keyboard.type("E01")  # every area's label ends with its code: the first match is picked
    page.keyboard.press("Enter")
    _ready(page)
    page.get_by_text(re.compile(r"^Rank [\d,]+ of [\d,]+ areas in England")).first.wait_for(timeout=60_000)
    assert not page.blocked


def test_keyboard_strategic_focus_weights_and_shortlist(server, browser):  # noqa: F811
    page = _page(browser, f"{server}/strategic_focus?unit=ward&area=E08000009&w=imd2025_score:1,le_male:1")
    _tab_to(page, r"^Index of Multiple Deprivation score, IoD2025$")
    assert page.evaluate("() => { const a = document.activeElement; "
                         "return a.getAttribute('role') === 'slider' || a.type === 'range'; }")
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    _wait_url(page, r"w=imd2025_score%3A2")
    _ready(page)
    _tab_to(page, r"^Shortlist \(up to 3\)$")
    page.keyboard.type("Bucklow")  # filters the list to that ward
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")  # the choice is sent when the list closes
    _wait_url(page, r"short=E05")
    _ready(page)
    page.get_by_text(re.compile(r"^Who to convene: ")).first.wait_for(timeout=60_000)


def test_keyboard_presentation_slides(server, browser):  # noqa: F811
    page = _page(browser, f"{server}/?place=E08000009")
    _tab_to(page, r"^Save this view as a slide$")
    page.keyboard.press("Enter")
    _ready(page)
    _pick(page, "Place", "Wigan", r"place=E08000010")
    _tab_to(page, r"^Save this view as a slide$", back=True)  # it sits just above the Place box
    page.keyboard.press("Enter")
    _ready(page)
    _tab_to(page, r"^Presentation mode$")
    page.keyboard.press("Space")
    _wait_url(page, r"present=1")
    _ready(page)
    page.keyboard.press("ArrowRight")  # slide 1: Trafford
    _wait_url(page, r"place=E08000009.*present=1|present=1.*place=E08000009")
    _ready(page)
    page.keyboard.press("ArrowRight")  # slide 2: Wigan
    _wait_url(page, r"place=E08000010")
    _ready(page)
    page.keyboard.press("Escape")
    deadline = time.time() + 30
    while "present=1" in page.url and time.time() < deadline:
        page.wait_for_timeout(200)
    assert "present=1" not in page.url


def test_keyboard_join_and_vote_on_a_phone(server, browser, workshop):  # noqa: F811
    from civicdata.workshop import model

    ws = workshop["ws"]
    page = _page(browser, f"{server}/workshop?ws={ws.id}&view=join", 390, 844)
    _tab_to(page, r"^Your name")
    page.keyboard.type("Keyboard user")
    _tab_to(page, r"^Your sector")
    page.keyboard.type("NHS")  # filters the list; Enter picks the match
    page.keyboard.press("Enter")
    _tab_to(page, r"^Join$")
    page.keyboard.press("Enter")  # submits the form
    page.get_by_text("You joined as Keyboard user").wait_for(timeout=60_000)
    _ready(page)
    _tab_to(page, r"^Workforce$")
    page.keyboard.press("Control+A")
    page.keyboard.type("3")
    _tab_to(page, r"^Place my dots$")
    page.keyboard.press("Enter")
    page.get_by_text("Your 3 dots are placed.").wait_for(timeout=60_000)
    token = re.search(r"me=([A-Za-z0-9]+)", page.url).group(1)
    assert model.my_part(ws.id, token, eng=workshop["eng"])["dots"] == ["workforce"] * 3


@pytest.mark.parametrize("view,size", [("join", (390, 844)), ("projector", (1280, 720))])
def test_no_sidebar_toggle_on_the_phone_and_the_projector(server, browser, workshop, view, size):  # noqa: F811
    """A phone joining a workshop and the wall's projector show no way to open the sidebar (nothing to find there),
    and the date is written as people write it."""
    ws = workshop["ws"]
    page = _page(browser, f"{server}/workshop?ws={ws.id}&view={view}", *size)
    _ready(page)
    for testid in ("stExpandSidebarButton", "stSidebarCollapsedControl", "stSidebar"):
        loc = page.locator(f'[data-testid="{testid}"]')
        assert all(not loc.nth(i).is_visible() for i in range(loc.count())), testid
    if view == "join":
        import datetime as dt

        day = dt.date.today()  # the workshop is held today
        assert page.get_by_text(f"{day.day} {day:%B %Y}").count() >= 1
    page.close()


PHONE_AGENT = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
               "Version/17.0 Mobile/15E148 Safari/604.1")


def _label_boxes(page) -> list:
    return page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot .trace.scattergeo text'))
        .map(t => t.getBoundingClientRect()).filter(r => r.width > 0).map(r => [r.left, r.top, r.right, r.bottom])""")


def _overlaps(boxes: list) -> list:
    return [(a, b) for i, a in enumerate(boxes) for b in boxes[i + 1:]
            if a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1]


def test_area_map_on_a_phone_names_never_overlap(server, browser):  # noqa: F811
    """A phone (390x844, a phone's user agent): the ward names are chosen for a map about 360 px wide, so none
    overlaps another (chosen for 900 px they piled up: "Davyhulme" over "Gorse Hill & Cornbrook")."""
    page = browser.new_page(viewport={"width": 390, "height": 844}, user_agent=PHONE_AGENT, is_mobile=True)
    page.blocked = _offline(page)
    page.goto(f"{server}/?place=E08000009")
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    _settle(page)
    boxes = _label_boxes(page)
    assert len(boxes) >= 3 and not _overlaps(boxes), _overlaps(boxes)[:3]
    page.screenshot(path=str(ARTIFACTS / "area_map_trafford_phone_390x844.png"))
    # Trends' spine on the same phone: every indicator's name whole on the screen (they were cut at the left)
    page.goto(f"{server}/trends?place=E08000009")
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=120_000)
    page.wait_for_selector(".js-plotly-plot .ytick text", timeout=60_000)
    _settle(page)
    names = page.locator(".js-plotly-plot").first.locator(".ytick text").evaluate_all(
        "ts => ts.map(t => { const r = t.getBoundingClientRect(); return [r.left, r.right]; })")
    assert len(names) == 17 and min(left for left, _ in names) >= 0 and max(r for _, r in names) <= 390, names
    page.close()


def test_area_map_presentation_at_1280_names_never_overlap_and_the_legend_fits(server, browser):  # noqa: F811
    """On a 1280x720 projector: the ward names drawn on Trafford's map never overlap one another, and the legend
    (ten deciles) ends above the bottom of the screen."""
    page = _open(browser, f"{server}/?place=E08000009&present=1", 1280, 720)
    _ready(page)
    boxes = page.evaluate("""() => Array.from(document.querySelectorAll('.js-plotly-plot .trace.scattergeo text'))
        .map(t => t.getBoundingClientRect()).filter(r => r.width > 0).map(r => [r.left, r.top, r.right, r.bottom])""")
    assert len(boxes) >= 5
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            assert not (a[0] < b[2] - 1 and b[0] < a[2] - 1 and a[1] < b[3] - 1 and b[1] < a[3] - 1), (a, b)
    last = page.get_by_text("10 (least deprived 10%)", exact=True).bounding_box()
    assert last is not None and last["y"] + last["height"] <= 720
    box = page.locator('[class*="st-key-drawing_area_map"]').first
    assert box.evaluate("e => getComputedStyle(e, '::before').content") == '"Drawing the map…"'
    page.screenshot(path=str(ARTIFACTS / "area_map_trafford_present_1280x720.png"))
    page.close()

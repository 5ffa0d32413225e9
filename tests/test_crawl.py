"""The crawl: every page, for several places, every selectbox, radio, toggle and segmented control moved through
its options in Debian's Chromium, and after each change nothing a board must not see.

A change fails the crawl when the page then shows a Streamlit exception element, the word "Traceback", a table
cell reading ``None``/``nan`` or a number with four or more decimals (27.6958, not rounded by unit), a table column headed by an identifier in snake_case (``imd_rank``), or
Streamlit's Deploy button or main menu (``client.toolbarMode = "minimal"``). Tables are
read from the DOM: ``st.table`` cells, and the accessible table that Streamlit's data grid keeps beside its canvas
(the rows on screen).

Bounded to fit CI: up to :data:`OPTIONS` options of each control beyond the one shown, :data:`CONTROLS` controls a
page; for the places after the first, one option each. Controls that leave the page's normal view (presentation
mode) are left to their own tests.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.appserver import start_app
from tests.conftest import free_port
from tests.test_browser import ARGS, CHROMIUM, QUIET_JS, browser  # noqa: F401 - the module's Chromium fixture

#: places crawled: Trafford, Newcastle upon Tyne, North Yorkshire (re-formed 2023) and a saved area
PLACES = ("E08000009", "E08000021", "E06000065")
AREA_ID = "walker-byker"
#: Walker North and Byker South in Newcastle (LSOA 2021)
AREA_CODES = ["E01008388", "E01008426", "E01008429", "E01008305", "E01035622"]
TRUST_ID = "north-east"
#: schools in Newcastle upon Tyne and Stockton-on-Tees (GIAS May 2025): St Johns Primary, West Newcastle Academy, …
TRUST_URNS = ["108476", "139729", "108519", "111660"]
#: page path -> the link parameter that names its place (None: a page with no place; crawled once)
PAGES = {
    "": "place", "trends": "place", "strategic_focus": "area", "school_to_clinic": "place",
    "metro_line": None, "trust": "group", "places": "area", "workshop": None, "add_data": None, "home": None,
    "accessibility": None,
}
OPTIONS = 3
CONTROLS = 10
#: left to their own tests: presentation mode leaves the normal view; a page's place is set by the crawl's links
SKIP_LABELS = ("Presentation mode", "Place", "Schools in", "Within")
SNAKE = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)+$")
READY = '[data-testid="stApp"][data-test-script-state="notRunning"]'

#: what a page shows a person that it must not: (kind, text) pairs found in the DOM
PROBLEMS_JS = r"""() => {
  const out = [];
  document.querySelectorAll('[data-testid="stException"]').forEach(e =>
      out.push(['exception', e.innerText.split('\n')[0].slice(0, 200)]));
  if (/Traceback/.test(document.body.innerText)) out.push(['traceback', 'the page shows "Traceback"']);
  if (document.querySelector('[data-testid="stAppDeployButton"]')) out.push(['chrome', 'a Deploy button']);
  if (document.querySelector('[data-testid="stMainMenu"]')) out.push(['chrome', "Streamlit's main menu"]);
  const tables = document.querySelectorAll('[data-testid="stDataFrame"], [data-testid="stTable"]');
  tables.forEach(t => {
    t.querySelectorAll('th').forEach(h => {
      const s = h.innerText.trim();
      if (/^[a-z0-9]+(_[a-z0-9]+)+$/.test(s)) out.push(['header', s]);
    });
    t.querySelectorAll('td').forEach(c => {
      const s = c.innerText.trim();
      if (s === 'None' || s === 'nan' || s === 'NaN' || s === '<NA>') out.push(['cell', s]);
      if (/^[-−]?[0-9,]*\.[0-9]{4,}( ?%)?$/.test(s)) out.push(['decimals', s]);  // 27.6958: not rounded by unit
    });
  });
  return out;
}"""

# (importing tests.test_browser skips this module, or fails it on CI, when Debian's chromium is missing)

#: the controls of a page now: [kind, label] in document order
CONTROLS_JS = r"""() => {
  const sel = '[data-testid="stSelectbox"], [data-testid="stRadio"], [data-testid="stCheckbox"], ' +
              '[data-testid="stButtonGroup"]';
  return Array.from(document.querySelectorAll(sel)).filter(e => e.offsetParent !== null).map(e => {
    const lab = e.querySelector('[data-testid="stWidgetLabel"]');
    const kind = e.getAttribute('data-testid');
    return [kind, (lab ? lab.innerText : e.innerText).trim().split('\n')[0]];
  });
}"""


@pytest.fixture(scope="module")
def crawl_server(tmp_path_factory):
    """The app (serve.py) with its own store holding one saved area in Newcastle."""
    home = tmp_path_factory.mktemp("crawl")
    db = f"sqlite:///{home / 'workshops.db'}"
    env = {**os.environ, "CIVICDATA_HOME": str(home / "home"), "CIVICDATA_USER_LAYERS": str(home / "layers"),
           "CIVICDATA_DB_URL": db}  # the CLI below saves into what the server will read (start_app's folders)
    subprocess.run([sys.executable, "-m", "civicdata", "area", "save", AREA_ID, "--title", "Walker and Byker",
                    "--lsoa21", ",".join(AREA_CODES)], env=env, check=True, capture_output=True)
    subprocess.run([sys.executable, "-m", "civicdata", "trust-group", "save", TRUST_ID, "--title", "North East trust",
                    "--urns", ",".join(TRUST_URNS)], env=env, check=True, capture_output=True)
    proc = start_app("crawl", free_port(), db, home, "crawl-secret")
    url = f"http://127.0.0.1:{proc.args[-1]}"
    yield url
    proc.terminate()
    proc.wait(timeout=20)


def _settled(page) -> None:
    page.wait_for_timeout(200)
    page.wait_for_selector(READY, timeout=90_000)
    page.evaluate(QUIET_JS, [300, 4000])


def _problems(page, where: str) -> list[str]:
    return [f"{kind} {text!r} ({where})" for kind, text in dict.fromkeys(map(tuple, page.evaluate(PROBLEMS_JS)))]


def _choose(page, kind: str, index: int, n: int) -> str | None:
    """Move control ``index`` of ``kind`` to its ``n``-th other option; what was chosen, or None (no such)."""
    box = page.locator(f'[data-testid="{kind}"]:visible').nth(index)
    if not box.count():
        return None
    if kind == "stSelectbox":
        box.click()
        opts = page.locator('[role="listbox"] [role="option"]')
        try:
            opts.first.wait_for(timeout=3_000)
        except Exception:  # noqa: BLE001 - a select with no options
            page.keyboard.press("Escape")
            return None
        texts = opts.all_inner_texts()
        selected = [o.get_attribute("aria-selected") == "true" for o in opts.all()]
        choices = [i for i, (t, sel) in enumerate(zip(texts, selected)) if not sel]
        if n >= min(len(choices), OPTIONS):
            page.keyboard.press("Escape")
            return None
        # spread over the list (first, middle, last of those on screen), not only the first few
        pick = choices[round(n * (len(choices) - 1) / max(1, min(len(choices), OPTIONS) - 1))]
        opts.nth(pick).click()
        return texts[pick]
    if kind == "stRadio":
        opts = [o for o in box.locator('[role="radiogroup"] label').all() if not o.locator("input:checked").count()]
        if n >= len(opts):
            return None
        text = opts[n].inner_text()
        opts[n].click()
        return text
    if kind == "stButtonGroup":
        opts = box.locator("button").all()
        if n >= len(opts):
            return None
        text = opts[n].inner_text()
        opts[n].click()
        return text
    if n >= 2:  # a toggle or checkbox: on (or off), then back
        return None
    box.locator("label").first.click()
    return "switched"


def _crawl(page, url: str, options: int, log=None) -> list[str]:
    import time

    t0 = time.time()
    page.set_default_timeout(8_000)
    page.goto(url)
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=120_000)  # every page has a title
    page.wait_for_selector(READY, timeout=120_000)
    page.evaluate(QUIET_JS, [500, 6000])  # the page has stopped drawing
    found = _problems(page, url)
    controls = page.evaluate(CONTROLS_JS)[:CONTROLS]
    seen: dict[str, int] = {}
    for kind, label in controls:
        index = seen.get(kind, 0)
        seen[kind] = index + 1
        if label in SKIP_LABELS:
            continue
        for n in range(options if kind != "stCheckbox" else 2):
            try:
                chosen = _choose(page, kind, index, n)
            except Exception as exc:  # noqa: BLE001 - a control that moved away while the page redrew
                found.append(f"{url}: {label!r} could not be changed ({type(exc).__name__})")
                break
            if chosen is None:
                break
            _settled(page)
            found += [p for p in _problems(page, f"{url} after {label!r} -> {chosen!r}")
                      if p.split(" (", 1)[0] not in {f.split(" (", 1)[0] for f in found}]
            if log:
                log(f"{time.time() - t0:6.1f}s {label!r} -> {chosen!r}")
    return found


def _urls(server: str) -> list[tuple[str, int]]:
    out = []
    for path, param in PAGES.items():
        if param is None:
            out.append((f"{server}/{path}", OPTIONS))
            continue
        for i, place in enumerate((*PLACES, f"area:{AREA_ID}")):
            if path == "school_to_clinic" and place.startswith("area:"):
                continue  # schools are chosen by district there
            if path in ("places", "trust") and not place.startswith("area:"):
                continue  # Places opens a saved area, Trust a saved trust
            value = {"places": AREA_ID, "trust": TRUST_ID}.get(path, place)
            out.append((f"{server}/{path}?{param}={value}", OPTIONS if i == 0 else 1))
    return out


def test_no_page_shows_an_error_none_or_an_identifier_whatever_is_changed(crawl_server, browser):  # noqa: F811
    """Every page for Trafford, Newcastle upon Tyne, North Yorkshire and a saved area: each control through its
    options; after each change, no exception, no traceback, no None/nan cell, no snake_case column header."""
    page = browser.new_page(viewport={"width": 1600, "height": 1000})
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    found: list[str] = []
    for url, options in _urls(crawl_server):
        found += _crawl(page, url, options)
    page.close()
    assert not found, "\n".join(found[:40])


if __name__ == "__main__":  # a crawl of one page against a running app: python tests/test_crawl.py URL [OPTIONS]
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        pg = b.new_page(viewport={"width": 1600, "height": 1000})
        for line in sorted(set(_crawl(pg, sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else OPTIONS, print))):
            print(line)
        b.close()

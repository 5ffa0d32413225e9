"""Which map renderer for the Area map (#29 build item 2): the same choropleth drawn four ways, side by side.

``bench/renderer_app.py`` draws one layer's areas with plotly ``geo`` (what the Area map uses today), plotly
``choroplethmap`` (MapLibre, offline style), deck.gl (``st.pydeck_chart``, no basemap) or Leaflet canvas (folium
``prefer_canvas`` via streamlit-folium), for Greater Manchester's 1,702 LSOAs (2021) and England's local
authorities. Debian's Chromium (Playwright, network blocked beyond 127.0.0.1, software WebGL) measures, medians of
``--runs`` in fresh contexts:

* **first draw**: from navigation until the script has finished and the map's marks are on the page, plus two
  animation frames;
* **colour change**: a radio switches the layer (income -> health decile): until the rerun has finished and two
  animation frames have passed (Leaflet: until its iframe has drawn again);
* **JS heap** after the first draw (MB, ``performance.memory``);
* **hover**: whether moving the mouse over the middle of the map shows the area's name.

Also the bare one-chart page (``bench/bare_app.py``) in the same run, as the floor. Prints a table and writes
``bench/renderers_latest.csv``. Run: python bench/renderers.py [--runs 3]
"""

from __future__ import annotations

import argparse
import csv
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.pages import CHROMIUM, COUNT_RUNS_JS, REPO, _serve  # noqa: E402

ARGS = ["--no-sandbox", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--enable-unsafe-swiftshader", "--enable-precise-memory-info"]
FOLIUM = 'iframe[title="streamlit_folium.st_folium"]'
DRAWN = {"geo": ".js-plotly-plot path.choroplethlocation", "map": ".js-plotly-plot canvas",
         "deck": '[data-testid="stDeckGlJsonChart"] canvas', "leaflet": FOLIUM, "bare": ".js-plotly-plot .barlayer"}
HOVER = {"geo": ".hoverlayer .hovertext", "map": ".hoverlayer .hovertext", "deck": ".deck-tooltip",
         "leaflet": ".leaflet-tooltip", "bare": ".hoverlayer .hovertext"}
PLACES = {"E47000001": "Greater Manchester, 1,702 LSOAs (2021)", "england": "England, local authorities"}
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
FRAMES = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(() => r(true))))"


def _context(browser):
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    return ctx, page


def _drawn(page, renderer: str) -> None:
    page.wait_for_selector(IDLE, timeout=180_000)
    page.wait_for_selector(DRAWN[renderer], timeout=180_000)
    if renderer == "leaflet":  # the map is inside streamlit-folium's iframe
        inner = page.frame_locator(FOLIUM).first
        inner.locator("canvas").first.wait_for(timeout=180_000)
        page.locator(FOLIUM).first.element_handle().content_frame().evaluate(FRAMES)
    page.evaluate(FRAMES)


def first_draw(browser, url: str, renderer: str) -> tuple[float, float, bool]:
    import time

    ctx, page = _context(browser)
    t = time.perf_counter()
    page.goto(url)
    _drawn(page, renderer)
    elapsed = time.perf_counter() - t
    heap = page.evaluate("() => performance.memory ? performance.memory.usedJSHeapSize / 1e6 : -1")
    box = page.locator(DRAWN[renderer]).first.bounding_box()
    page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_timeout(600)
    scope = page.frame_locator(FOLIUM).first if renderer == "leaflet" else page
    hover = scope.locator(HOVER[renderer]).count() > 0
    ctx.close()
    return elapsed, heap, hover


def colour_change(browser, url: str, renderer: str) -> float:
    import time

    ctx, page = _context(browser)
    page.goto(url)
    _drawn(page, renderer)
    page.wait_for_timeout(800)
    page.evaluate(COUNT_RUNS_JS)
    t = time.perf_counter()
    page.get_by_text("Health", exact=True).click()
    page.wait_for_function("() => window.__runs >= 1", timeout=120_000, polling=20)
    _drawn(page, renderer)
    elapsed = time.perf_counter() - t
    ctx.close()
    return elapsed


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    import os
    import shutil
    import tempfile

    # Streamlit serves static/ beside the script: the app's Leaflet files and plotly's offline world outline
    here = Path(tempfile.mkdtemp(prefix="lne-renderers-"))
    shutil.copy(REPO / "bench" / "renderer_app.py", here / "renderer_app.py")
    shutil.copytree(REPO / ".streamlit", here / ".streamlit")
    (here / "static").symlink_to(REPO / "static")
    os.environ["LNE_REPO"] = str(REPO)
    app, app_url = _serve(str(here / "renderer_app.py"))
    bare, bare_url = _serve("bench/bare_app.py")
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            first_draw(browser, bare_url, "bare")  # warm the bare page
            floor = statistics.median(first_draw(browser, bare_url, "bare")[0] for _ in range(args.runs))
            rows.append(("bare page (one plotly chart)", "", floor, None, None, None, ""))
            for place, place_label in PLACES.items():
                for renderer in ("geo", "map", "deck", "leaflet"):
                    url = f"{app_url}/?r={renderer}&place={place}"
                    print(f"measuring {renderer} on {place_label} …", file=sys.stderr)
                    first_draw(browser, url, renderer)  # warm the caches
                    firsts = [first_draw(browser, url, renderer) for _ in range(args.runs)]
                    change = statistics.median(colour_change(browser, url, renderer) for _ in range(args.runs))
                    t = statistics.median(f[0] for f in firsts)
                    rows.append((renderer, place_label, t, t / floor, change,
                                 statistics.median(f[1] for f in firsts), all(f[2] for f in firsts)))
            browser.close()
    finally:
        for proc in (app, bare):
            proc.terminate()
            proc.wait(timeout=30)
    print(f"{'renderer':9s} {'view':40s} {'first s':>8s} {'x bare':>7s} {'change s':>9s} {'heap MB':>8s}  hover")
    for r, v, t, ratio, ch, heap, hov in rows:
        print(f"{r:9s} {v:40s} {t:8.2f} {'' if ratio is None else f'{ratio:7.2f}':>7s} "
              f"{'' if ch is None else f'{ch:9.2f}':>9s} {'' if heap is None else f'{heap:8.1f}':>8s}  {hov}")
    with open(REPO / "bench" / "renderers_latest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["renderer", "view", "first_draw_s", "ratio_to_bare", "colour_change_s", "js_heap_mb", "hover"])
        w.writerows([(r, v, round(t, 3), None if ra is None else round(ra, 3), None if c is None else round(c, 3),
                      None if h is None else round(h, 1), hv) for r, v, t, ra, c, h, hv in rows])


if __name__ == "__main__":
    main()

"""What each kind of Streamlit element costs a page's first load, in a real browser.

``bench/nav_app.py`` (the app's menu and sidebar around one plotly chart, the second floor of
``bench/pages.py``) is loaded as it is and with one element type more above the chart
(``?widgets=<name>``, ``bench/widgets.py``: a selectbox, a dataframe, a metric …; ``selectbox_6`` is six
selectboxes, to tell a cost per type from a cost per widget). Each load is a fresh browser context on a warm
server, timed as ``bench/pages.py`` times page-ready (``READY_JS``, checked at every animation frame); medians of
``--runs``. Prints each type's ready time and what it adds to the floor: most of it is the browser fetching and
running the type's own code (its JavaScript chunk), once per page whatever the number of widgets.
Run: python bench/widget_cost.py [--runs 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench.pages import ARGS, CHROMIUM, _ready, _serve  # noqa: E402
from bench.widgets import WIDGETS  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    bare, bare_url = _serve("bench/bare_app.py")
    nav, nav_url = _serve("bench/nav_app.py")
    urls = {"bare page (one plotly chart)": bare_url, "the app's menu and sidebar around it (floor)": nav_url}
    urls |= {f"floor + {name}": f"{nav_url}/?widgets={name}" for name in WIDGETS}
    times: dict[str, list[float]] = {label: [] for label in urls}
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for label, url in urls.items():  # warm each server path once
                _ready(browser, url, ".js-plotly-plot")
            for _ in range(args.runs):  # interleaved, so a slow minute of the machine falls on every row
                for label, url in urls.items():
                    times[label].append(_ready(browser, url, ".js-plotly-plot"))
            browser.close()
    finally:
        for proc in (bare, nav):
            proc.terminate()
            proc.wait(timeout=30)
    med = {label: statistics.median(t) for label, t in times.items()}
    floor = med["the app's menu and sidebar around it (floor)"]
    bare_s = med["bare page (one plotly chart)"]
    print(f"{'page':48s} {'ready s':>8s} {'x bare':>7s} {'adds s':>7s}")
    for label, t in med.items():
        adds = f"{t - floor:+7.2f}" if label.startswith("floor +") else ""
        print(f"{label:48s} {t:8.2f} {t / bare_s:7.2f} {adds:>7s}")


if __name__ == "__main__":
    main()

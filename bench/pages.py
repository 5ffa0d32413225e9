"""Page speed in a real browser: each main page's time to ready, as a ratio to a bare one-chart page.

Starts the app and ``bench/bare_app.py`` (one plotly chart) with ``streamlit run`` on free ports of
127.0.0.1, then drives Debian's Chromium (Playwright, network blocked beyond 127.0.0.1):

* **ready**: from navigation until Streamlit's script has finished and the page's main map or chart is
  drawn, in a fresh browser context, warm (each page visited once before), median of ``--runs``;
* **rerun**: the Area map's IoD radio switched, until the script has finished again;
* **server cost**: Python CPU seconds per page view, each page run by AppTest ``--appruns`` times in this
  process after a warm-up, less the same measure of the bare page (AppTest's own work: it scans every
  installed package for components on each run), and the implied page views per second per core.

Figures are medians; the machine is shared and noisy. Prints a table and writes ``bench/pages_latest.csv``.
Targets (issue "Speed in the room"): ready <= 1.3x the bare page; widget rerun < 0.5 s; first (cold) Area map
load <= 3x the bare page.
Run: python bench/pages.py [--runs 3] [--appruns 5]
"""

from __future__ import annotations

import argparse
import csv
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
FOLIUM = 'iframe[title="streamlit_folium.st_folium"]'
PAGES = [  # (name, path, what marks the page as drawn, AppTest page)
    ("Area map", "/?place=E08000009", ".js-plotly-plot path.choroplethlocation", None),
    ("Metro line", "/metro_line", ".js-plotly-plot .scatterlayer", "views/metro_line.py"),
    ("School to clinic", "/school_to_clinic", FOLIUM, "views/school_to_clinic.py"),
    ("Strategic focus", "/strategic_focus", ".js-plotly-plot .barlayer", "views/strategic_focus.py"),
]


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(script: str) -> tuple[subprocess.Popen, str]:
    port = _port()
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", script, "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port)], cwd=REPO,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"{script} did not start")


def _ready(browser, url: str, drawn: str) -> float:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=180_000)
    page.wait_for_selector(drawn, timeout=180_000)
    elapsed = time.perf_counter() - t
    ctx.close()
    return elapsed


def _rerun(browser, url: str) -> float:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=180_000)
    page.wait_for_selector(".js-plotly-plot path.choroplethlocation", timeout=180_000)
    t = time.perf_counter()
    page.get_by_text("IoD2019 (LSOA 2011)").click()
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="running"]', timeout=10_000)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=180_000)
    elapsed = time.perf_counter() - t
    ctx.close()
    return elapsed


def _server_cost(page: str | None, runs: int, script: str = "app.py") -> float:
    """Median Python CPU seconds (all threads) of one run of the page by AppTest (after a warm-up run)."""
    from streamlit.testing.v1 import AppTest

    times = []
    for i in range(runs + 1):
        at = AppTest.from_file(str(REPO / script), default_timeout=300)
        if page:
            at.switch_page(page)
        t = time.process_time()
        at.run()
        if i:
            times.append(time.process_time() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--appruns", type=int, default=5)
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    app, app_url = _serve("app.py")
    bare, bare_url = _serve("bench/bare_app.py")
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            cold = _ready(browser, app_url + PAGES[0][1], PAGES[0][2])  # the first Area map after start
            _ready(browser, bare_url, ".js-plotly-plot")
            floor = statistics.median(_ready(browser, bare_url, ".js-plotly-plot") for _ in range(args.runs))
            rows.append(("bare page (one plotly chart)", floor, 1.0, "floor"))
            rows.append(("Area map, first (cold) load", cold, cold / floor, "<= 3x"))
            for name, path, drawn, _ in PAGES:
                _ready(browser, app_url + path, drawn)  # warm the caches
                t = statistics.median(_ready(browser, app_url + path, drawn) for _ in range(args.runs))
                rows.append((f"{name}, ready (warm)", t, t / floor, "<= 1.3x"))
            r = statistics.median(_rerun(browser, app_url + "/?place=E08000009") for _ in range(args.runs))
            rows.append(("Area map, IoD radio rerun", r, None, "< 0.5 s"))
            browser.close()
    finally:
        for proc in (app, bare):
            proc.terminate()
            proc.wait(timeout=30)
    os.environ.setdefault("CIVICDATA_USER_LAYERS", str(REPO / "build" / "bench_user_layers"))
    harness = _server_cost(None, args.appruns, "bench/bare_app.py")  # AppTest's own cost, and a one-chart page
    rows.append(("bare page by AppTest, Python CPU per run", harness, None, "baseline, subtracted below"))
    for name, _, _, page in PAGES:
        cpu = max(_server_cost(page, args.appruns) - harness, 1e-3)
        rows.append((f"{name}, Python CPU per view", cpu, None, f"{1 / cpu:.1f} views/s/core"))
    print(f"{'figure':42s} {'seconds':>8s} {'x bare':>7s}  target / note")
    for name, sec, ratio, note in rows:
        print(f"{name:42s} {sec:8.2f} {'' if ratio is None else f'{ratio:7.2f}':>7s}  {note}")
    with open(REPO / "bench" / "pages_latest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["figure", "seconds", "ratio_to_bare", "target_or_note"])
        w.writerows([(n, round(s, 3), None if r is None else round(r, 3), t) for n, s, r, t in rows])


if __name__ == "__main__":
    main()

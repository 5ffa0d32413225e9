"""Page speed in a real browser: each main page's time to ready, as a ratio to a bare one-chart page.

Starts the app and ``bench/bare_app.py`` (one plotly chart) with ``streamlit run`` on free ports of
127.0.0.1, then drives Debian's Chromium (Playwright, network blocked beyond 127.0.0.1):

* **ready**: from navigation until Streamlit's script has finished and the page's main map or chart is
  drawn (checked at every animation frame, ``READY_JS``), in a fresh browser context, warm (each page visited
  once before), median of ``--runs``;
* **rerun**: the Area map's IoD radio switched, until the script has finished again;
* **server cost**: Python CPU seconds per page view, each page run by AppTest ``--appruns`` times in this
  process after a warm-up, less the same measure of the bare page (AppTest's own work: it scans every
  installed package for components on each run), and the implied page views per second per core.

Figures are medians; the machine is shared and noisy. Prints a table and writes ``bench/pages_latest.csv``.
A second floor, ``bench/nav_app.py``, puts the app's menu and sidebar controls around that same chart: the
gap between the two floors is what every page of the app pays before drawing anything of its own.
Widget changes (IoD radio, indicator, place, ward names, line, a weight) are timed in the browser from the change
itself (a selectbox: from Enter, once its menu is open and filtered; a slider: from the key press) and, as Python
CPU per rerun, by AppTest. A workshop (30 votes) and a saved trust are made in a temporary folder.
Targets (issue "Instant in the room"): warm ready <= 1.25x the bare page; every control's rerun <= 0.35 s in
the browser (< 150 ms of Python where the widget only restyles the map); first (cold) Area map load <= 2.5x.
Boundaries (issue "Every English place in detail"), first in the run: the bytes the Area map's page receives over
its websocket per neighbourhood drawn and its warm ready, for Trafford, Newcastle upon Tyne and all of GM
(targets: Newcastle's per neighbourhood <= Trafford's, its ready <= 1.1x Trafford's, GM's payload <= the
baseline's), and what the first view of a district reads of the detailed boundaries (bytes, cold seconds).
``--baseline DIR`` serves another checkout (``git worktree add /tmp/base <commit>``) as the peer, in the same run.
Run: python bench/pages.py [--runs 3] [--appruns 5] [--baseline DIR] [--boundaries-only]
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
PAGES = [  # (name, path, what marks the page as drawn, AppTest page, AppTest link parameters)
    ("Area map", "/?place=E08000009", ".js-plotly-plot path.choroplethlocation", None, {"place": "E08000009"}),
    ("Area map, Newcastle upon Tyne", "/?place=E08000021", ".js-plotly-plot path.choroplethlocation", None,
     {"place": "E08000021"}),
    ("Area map, England (local authorities)", "/?place=england", ".js-plotly-plot path.choroplethlocation", None,
     {"place": "england"}),
    ("Area map, Greater Manchester (1,702 LSOAs)", "/?place=E47000001", ".js-plotly-plot path.choroplethlocation",
     None, {"place": "E47000001"}),
    ("Metro line", "/metro_line", ".js-plotly-plot .scatterlayer", "views/metro_line.py", {}),
    ("School to clinic", "/school_to_clinic", FOLIUM, "views/school_to_clinic.py", {}),
    ("Strategic focus", "/strategic_focus", ".js-plotly-plot .barlayer", "views/strategic_focus.py", {}),
    ("Trust", "/trust?group=bench", FOLIUM, "views/trust.py", {"group": "bench"}),
    ("Trends and peers", "/trends?place=E08000009", ".js-plotly-plot .barlayer", "views/trends.py",
     {"place": "E08000009"}),
    ("Workshop projector", "/workshop?ws={ws}&view=projector", ".js-plotly-plot .barlayer", "views/workshop.py",
     {"ws": "{ws}", "view": "projector"}),
]
INCOME = "Income deprivation decile, IoD2025"
#: a trust for the Trust page: secondaries in Trafford, Cheshire East and Sheffield (GIAS May 2025)
TRUST_URNS = ["106365", "106368", "111417", "111419", "107140", "131895"]
def _choose(label: str, text: str) -> tuple:
    """Pick ``text`` in the selectbox labelled ``label``: open it and type ``text`` (not timed: the menu
    filtering as one types is the browser's, before any change), then press Enter (timed: the change)."""
    def prepare(page) -> None:
        page.get_by_label(label, exact=True).click()
        page.keyboard.type(text)
        # the menu has filtered down to the option (under load 300 ms was not always enough: Enter then picked
        # the value already shown, and nothing reran)
        page.get_by_role("option").filter(has_text=text).first.wait_for(timeout=30_000)
        page.wait_for_timeout(300)

    return prepare, lambda page: page.keyboard.press("Enter")


#: widget changes: (name, page path, how to change it in the browser, AppTest page, params, AppTest change)
RERUNS = [
    ("Area map, IoD radio", "/?place=E08000009", lambda p: p.get_by_text("IoD2019 (LSOA 2011)").click(),
     None, {"place": "E08000009"}, lambda at: at.radio(key="am_iod").set_value("2019")),
    ("Area map, indicator", "/?place=E08000009", _choose("Indicator", "Health deprivation"),
     None, {"place": "E08000009"}, lambda at: at.selectbox(key="am_layer").set_value("health2025_decile")),
    ("Area map, place", "/?place=E08000009", _choose("Place", "Wigan"),
     None, {"place": "E08000009"}, lambda at: at.selectbox(key="am_place").set_value("E08000010")),
    ("Area map, ward names off (restyle)", "/?place=E08000009",
     lambda p: p.get_by_text("Ward names and boundaries").click(), None, {"place": "E08000009"},
     lambda at: at.toggle(key="orient_on").set_value(False)),
    ("Metro line, line", "/metro_line", _choose("Line", "Blue Line (Inbound)"),
     "views/metro_line.py", {}, lambda at: at.selectbox(key="ml_line").set_value("METLBLUE:I:2023-09-21")),
    ("Trends, indicator (a fragment)", "/trends?place=E08000009",
     _choose("Indicator", "Claimant count (% of people aged 16 to 64)"), "views/trends.py",
     {"place": "E08000009"}, lambda at: at.selectbox(key="tr_indicator").set_value("claimant_count")),
    ("Strategic focus, a weight", "/strategic_focus",
     (lambda p: _focus_slider(p, INCOME), lambda p: p.keyboard.press("ArrowRight")),
     "views/strategic_focus.py", {}, lambda at: at.slider(key="fo_w_income2025_decile").set_value(2.0)),
]


#: counts the script runs that finish from now on (window.__runs), by watching the app's run state
COUNT_RUNS_JS = """() => { window.__runs = 0; window.__running = false;
    const app = document.querySelector('[data-testid="stApp"]');
    new MutationObserver(() => { const st = app.getAttribute('data-test-script-state');
        if (st === 'running') window.__running = true;
        if (st === 'notRunning' && window.__running) { window.__runs++; window.__running = false; } })
        .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']}); }"""


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(script: str, warm: bool = True, log: Path | None = None, cwd: Path = REPO) -> tuple[subprocess.Popen, str]:
    """Start ``script`` on a free port (the app through serve.py, as ``make run`` does; ``warm=False`` turns its
    start-up warming off) in checkout ``cwd``; its output to ``log``. Returns once the server answers its health
    check."""
    port = _port()
    opts = ["--server.headless", "true", "--server.address", "127.0.0.1", "--server.port", str(port)]
    cmd = [sys.executable, "serve.py", *opts] if script == "app.py" else [sys.executable, "-m", "streamlit", "run",
                                                                          script, *opts]
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    env = {**os.environ, "LNE_WARM": "1" if warm else "0"}
    if cwd != REPO:  # another checkout reads its own bundle and code
        env.pop("CIVICDATA_DATA", None)
        env["PYTHONPATH"] = str(cwd)
    proc = subprocess.Popen(cmd, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return proc, url
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"{script} did not start")


def _cold(browser, mode: str, runs: int) -> tuple[float, float | None]:
    """The first Area map after the app server starts, a new server each run (median of ``runs``), and the
    median seconds the start-up warming took. ``mode``: ``off`` (no warming), ``during`` (the page is asked
    for as soon as the server answers, while it warms), ``after`` (once the server logs that it warmed)."""
    import tempfile

    times, warmed = [], []
    for _ in range(runs):
        log = Path(tempfile.mkstemp(prefix="lne-serve-", suffix=".log")[1])
        proc, url = _serve("app.py", warm=mode != "off", log=log)
        try:
            if mode == "after":
                for _ in range(600):
                    if "warmed:" in log.read_text():
                        break
                    time.sleep(0.1)
            times.append(_ready(browser, url + PAGES[0][1], PAGES[0][2]))
            if mode != "off":
                for _ in range(600):
                    line = next((x for x in log.read_text().splitlines() if "warmed:" in x), None)
                    if line:
                        warmed.append(float(line.split("default page ")[1].split(" s")[0]))
                        break
                    time.sleep(0.1)
        finally:
            proc.terminate()
            proc.wait(timeout=30)
            log.unlink()
    return statistics.median(times), (statistics.median(warmed) if warmed else None)


#: true once Streamlit's script is not running and the element ``drawn`` is on the page with a size. Asked
#: by the page itself at every animation frame: Playwright's ``wait_for_selector`` retries after 0, 20, 50,
#: 100 and 100 ms and then only every 500 ms, so it saw a page drawn just after a retry up to half a second
#: late, by chance (one run: the bare page 0.05 s late, a page with one selectbox 0.40 s, the Area map 0.37 s;
#: another run: the Area map on time, the Metro line 0.35 s late)
READY_JS = """([drawn]) => {
    const done = document.querySelector('[data-testid="stApp"][data-test-script-state="notRunning"]');
    const el = document.querySelector(drawn);
    if (!done || !el) return false;
    const box = el.getBoundingClientRect();
    return box.width > 0 && box.height > 0; }"""


def _ready(browser, url: str, drawn: str) -> float:
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    t = time.perf_counter()
    page.goto(url)
    page.wait_for_function(READY_JS, arg=[drawn], polling="raf", timeout=180_000)
    elapsed = time.perf_counter() - t
    ctx.close()
    return elapsed


def _ready_median(browser, url: str, drawn: str, runs: int) -> float:
    """``_ready`` once to warm the server's caches for ``url``, then the median of ``runs`` more."""
    _ready(browser, url, drawn)
    return statistics.median(_ready(browser, url, drawn) for _ in range(runs))


def _focus_slider(page, label: str) -> None:
    """Focus the slider labelled ``label``; its first key press after a focus moves nothing (BaseWeb), so
    one is spent here, before the clock starts."""
    page.get_by_role("slider", name=label).focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_timeout(1500)


def _rerun(browser, url: str, change) -> float:
    """Seconds from a widget change until Streamlit has finished the rerun it started (fresh context)."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    page.goto(url)
    page.wait_for_selector('[data-testid="stApp"][data-test-script-state="notRunning"]', timeout=180_000)
    page.wait_for_selector(".js-plotly-plot", timeout=180_000)
    page.wait_for_timeout(1000)
    page.evaluate(COUNT_RUNS_JS)
    if isinstance(change, tuple):  # (untimed preparation, the timed change)
        prepare, change = change
        prepare(page)
        page.evaluate("() => { window.__runs = 0; window.__running = false; }")
    t = time.perf_counter()
    change(page)
    try:  # a run started by the change has finished (however short it was)
        page.wait_for_function("() => window.__runs >= 1", timeout=60_000, polling=20)
    except Exception as exc:  # noqa: BLE001 - say which change did nothing
        raise SystemExit(f"no rerun after the change on {url}: {exc}") from None
    elapsed = time.perf_counter() - t
    ctx.close()
    return elapsed


def _server_cost(page: str | None, runs: int, script: str = "app.py", params: dict | None = None,
                 change=None) -> float:
    """Median Python CPU seconds (all threads) of one run of the page by AppTest (after a warm-up run); with
    ``change``, of the rerun that follows that widget change instead."""
    from streamlit.testing.v1 import AppTest

    times = []
    for i in range(runs + 1):
        at = AppTest.from_file(str(REPO / script), default_timeout=300)
        for k, v in (params or {}).items():
            at.query_params[k] = v
        if page:
            at.switch_page(page)
        if change is not None:
            at.run()
            change(at)
        t = time.process_time()
        at.run()
        assert not at.exception, at.exception
        if i:
            times.append(time.process_time() - t)
    return statistics.median(times)


#: the Area map's boundary payload (issue "Every English place in detail"): what the browser receives for the
#: page, per neighbourhood drawn, for a GM borough, a district outside GM and all of GM
BOUNDARY_PLACES = [("Trafford", "E08000009"), ("Newcastle upon Tyne", "E08000021"),
                   ("Greater Manchester, all ten boroughs", "E47000001")]
AREA = ".js-plotly-plot path.choroplethlocation"


def _payload(browser, url: str) -> tuple[int, int]:
    """(bytes the server sent over the page's websocket from navigation until the map is drawn and the script
    has finished, LSOAs drawn) for the Area map at ``url``, in a fresh context (warm server)."""
    ctx = browser.new_context(viewport={"width": 1600, "height": 1000})
    page = ctx.new_page()
    page.route("**/*", lambda r: r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())
    got = [0]

    def on_ws(ws) -> None:
        ws.on("framereceived", lambda payload: got.__setitem__(0, got[0] + len(payload)))

    page.on("websocket", on_ws)
    page.goto(url)
    page.wait_for_function(READY_JS, arg=[AREA], polling="raf", timeout=180_000)
    page.wait_for_timeout(500)
    n = page.locator(AREA).count()
    ctx.close()
    return got[0], n


def _boundary_rows(browser, app_url: str, label: str, runs: int) -> list[tuple]:
    """Payload per neighbourhood and warm page-ready for :data:`BOUNDARY_PLACES` on the app at ``app_url``."""
    rows = []
    for name, code in BOUNDARY_PLACES:
        url = f"{app_url}/?place={code}"
        _payload(browser, url)  # warm
        sizes = [_payload(browser, url) for _ in range(runs)]
        size, n = statistics.median(s for s, _ in sizes), sizes[0][1]
        ready = _ready_median(browser, url, AREA, runs)
        rows.append((f"{label}: {name}, {n} LSOAs, page ready (warm)", ready, None,
                     f"payload {size / 1000:,.0f} KB, {size / max(n, 1) / 1000:.2f} KB per neighbourhood"))
    return rows


def _district_reads() -> list[tuple]:
    """What the first view of a district reads of the detailed boundaries: bytes and a cold timing."""
    from civicdata import settings
    from civicdata.geo import boundaries as B

    rows = []
    for name, lads in (("Newcastle upon Tyne", ["E08000021"]), ("Trafford", ["E08000009"]),
                       ("Greater Manchester", list(settings.GM_LAD_CODES))):
        touched, whole = B.bytes_read("lsoa21", lads)
        times = []
        for _ in range(5):
            B._read.cache_clear()
            t = time.perf_counter()
            B.read_districts("lsoa21", lads)
            times.append(time.perf_counter() - t)
        rows.append((f"{name}: read its LSOAs 2021 (cold)", statistics.median(times), None,
                     f"{touched / 1000:,.0f} KB of the file's {whole / 1e6:.1f} MB ({100 * touched / whole:.2f}%)"))
    import geopandas as gpd

    times = []
    for _ in range(3):
        t = time.perf_counter()
        gpd.read_parquet(REPO / "data" / "geography" / "districts" / "lsoa21.parquet")
        times.append(time.perf_counter() - t)
    rows.append(("all of England's 33,755 LSOAs 2021, for comparison", statistics.median(times), None,
                 "what a district's view never reads"))
    return rows


def _print(rows: list[tuple]) -> None:
    """The figures as a table: (name, seconds, ratio to the bare page or None, target or note) each."""
    print(f"{'figure':52s} {'seconds':>8s} {'x bare':>7s}  target / note")
    for name, sec, ratio, note in rows:
        print(f"{name:52s} {sec:8.2f} {'' if ratio is None else f'{ratio:7.2f}':>7s}  {note}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--appruns", type=int, default=5)
    ap.add_argument("--cold-runs", type=int, default=5, help="server starts for each cold-load figure")
    ap.add_argument("--browser-only", action="store_true",
                    help="warm pages and reruns in the browser only (no cold starts, no AppTest); writes no CSV")
    ap.add_argument("--boundaries-only", action="store_true",
                    help="only the boundary figures (payload per neighbourhood, page ready, bytes read); no CSV")
    ap.add_argument("--baseline", metavar="CHECKOUT",
                    help="another checkout of the app (e.g. a git worktree of an earlier commit) whose boundary "
                         "figures are measured in the same run, as the peer")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    import json
    import tempfile

    tmp = Path(tempfile.mkdtemp(prefix="lne-bench-"))
    (tmp / "groups").mkdir()
    (tmp / "groups" / "bench.json").write_text(json.dumps({"id": "bench", "title": "Bench trust", "urns": TRUST_URNS}))
    os.environ["CIVICDATA_USER_LAYERS"] = str(tmp)
    os.environ["CIVICDATA_DB_URL"] = f"sqlite:///{tmp / 'workshops.db'}"
    from civicdata.workshop import model

    ws = model.create_workshop("Bench workshop", model.parse_options(["Prevention", "Workforce", "Attendance"]))
    for n in range(30):
        model.vote(ws.id, model.join(ws.id, f"P{n}"), [["prevention"], ["workforce", "attendance"]][n % 2])
    pages = [(n, p.format(ws=ws.id), d, ap, {k: v.format(ws=ws.id) for k, v in q.items()}) for n, p, d, ap, q in PAGES]

    app, app_url = _serve("app.py")
    bare, bare_url = _serve("bench/bare_app.py")
    nav, nav_url = _serve("bench/nav_app.py")
    peer, peer_url = _serve("app.py", cwd=Path(args.baseline).resolve()) if args.baseline else (None, None)
    rows = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            rows += _district_reads()
            rows += _boundary_rows(browser, app_url, "this checkout", args.runs)
            if peer_url:
                rows += _boundary_rows(browser, peer_url, f"baseline {Path(args.baseline).name}", args.runs)
            if args.boundaries_only:
                browser.close()
                _print(rows)
                return
            floor = _ready_median(browser, bare_url, ".js-plotly-plot", args.runs)
            rows.append(("bare page (one plotly chart)", floor, 1.0, "floor"))
            chrome = _ready_median(browser, nav_url, ".js-plotly-plot", args.runs)
            rows.append(("the app's menu and sidebar around that chart", chrome, chrome / floor, "second floor"))
            controls = _ready_median(browser, nav_url + "/?controls=area_map", ".js-plotly-plot", args.runs)
            rows.append(("and the Area map's controls (fixed options, no data)", controls, controls / floor,
                         "third floor"))
            colds = (("off", "no start-up warming"), ("during", "asked for as the server starts, while it warms"),
                     ("after", "once the server has warmed"))
            for mode, words in () if args.browser_only else colds:
                print(f"measuring the cold Area map, {words} …", file=sys.stderr)
                cold, warm_s = _cold(browser, mode, args.cold_runs)
                note = f"<= 2.5x; warming took {warm_s:.1f} s" if warm_s is not None else "<= 2.5x"
                rows.append((f"Area map, first load after start ({words})", cold, cold / floor, note))
            for name, path, drawn, _, _ in pages:
                t = _ready_median(browser, app_url + path, drawn, args.runs)
                rows.append((f"{name}, ready (warm)", t, t / floor, f"<= 1.25x; {t / chrome:.2f}x the second floor"))
            for name, path, change, *_ in RERUNS:
                print(f"measuring {name} …", file=sys.stderr)
                _rerun(browser, app_url + path, change)  # warm the caches of the changed view
                r = statistics.median(_rerun(browser, app_url + path, change) for _ in range(args.runs))
                rows.append((f"{name}: rerun in the browser", r, None, "<= 0.35 s"))
            browser.close()
    finally:
        for proc in (app, bare, nav, *((peer,) if peer else ())):
            proc.terminate()
            proc.wait(timeout=30)
    if args.browser_only:
        _print(rows)
        return
    harness = _server_cost(None, args.appruns, "bench/bare_app.py")  # AppTest's own cost, and a one-chart page
    rows.append(("bare page by AppTest, Python CPU per run", harness, None, "baseline, subtracted below"))
    for name, _, _, page, params in pages:
        cpu = max(_server_cost(page, args.appruns, params=params) - harness, 1e-3)
        rows.append((f"{name}, Python CPU per view", cpu, None, f"{1 / cpu:.1f} views/s/core" if cpu > 0.005
                     else "within the bare page's (AppTest cannot resolve it)"))
    # a rerun of a running AppTest costs the harness less than a first run: measure that on the bare page too
    rerun_harness = _server_cost(None, args.appruns, "bench/bare_app.py", change=lambda at: None)
    rows.append(("bare page by AppTest, Python CPU per rerun", rerun_harness, None, "baseline, subtracted below"))
    for name, _, _, page, params, change in RERUNS:
        if change is not None:
            cpu = max(_server_cost(page, args.appruns, params=params, change=change) - rerun_harness, 1e-3)
            rows.append((f"{name}: Python CPU per rerun", cpu, None,
                         "< 0.15 s (restyle)" if "restyle" in name else "after the change"))
    _print(rows)
    with open(REPO / "bench" / "pages_latest.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["figure", "seconds", "ratio_to_bare", "target_or_note"])
        w.writerows([(n, round(s, 3), None if r is None else round(r, 3), t) for n, s, r, t in rows])


if __name__ == "__main__":
    main()

"""Several app servers: two app servers (`python serve.py`) that share only a PostgreSQL database, behind HAProxy
with deploy/haproxy.cfg (cookie stickiness, health checks), driven through the proxy by Chromium.

Browsers are pinned to a server by the balancer's cookie (LNE_SERVER=a|b), as HAProxy itself would pin
them; every page's footer names the server that drew it, which the tests check.
"""

from __future__ import annotations

import os
import re
import subprocess
import uuid
from pathlib import Path

import pandas as pd
import pytest

from tests.appserver import HAPROXY, start_app, start_proxy
from tests.conftest import free_port
from tests.test_browser import ARTIFACTS, REPO, _offline, _ready, browser  # noqa: F401 - the browser fixture

if not Path(HAPROXY).exists():
    if os.environ.get("CI"):
        raise RuntimeError("HAProxy is missing: .ci/run must `apt-get install -y haproxy`")
    pytest.skip("Debian's haproxy is not installed (apt-get install -y haproxy)", allow_module_level=True)

COOKIE_SECRET = uuid.uuid4().hex


class Cluster:
    """Two app servers (``a``, ``b``) and the proxy in front; ``proxy`` is the address browsers use."""

    def __init__(self, tmp: Path, db_url: str):
        self.tmp, self.db_url = tmp, db_url
        self.ports = {"a": free_port(), "b": free_port()}
        self.apps: dict[str, subprocess.Popen] = {}
        for name in self.ports:
            self.start(name)
        self.proxy_port = free_port()
        self.haproxy = start_proxy(self.proxy_port, self.ports["a"], self.ports["b"])
        self.proxy = f"http://127.0.0.1:{self.proxy_port}"

    def start(self, name: str) -> None:
        """One app server with its own home and layers folder; only the database is shared."""
        self.apps[name] = start_app(name, self.ports[name], self.db_url, self.tmp / name, COOKIE_SECRET,
                                    log=self.log(name))

    def log(self, name: str) -> Path:
        """What server ``name`` printed (Streamlit's lines and the warm-up's)."""
        (self.tmp / name).mkdir(parents=True, exist_ok=True)
        return self.tmp / name / "server.log"

    def kill(self, name: str) -> None:
        self.apps[name].kill()
        self.apps[name].wait(timeout=20)

    def close(self) -> None:
        for p in [self.haproxy, *self.apps.values()]:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    p.kill()


@pytest.fixture(scope="module")
def cluster(postgres_server, tmp_path_factory):
    from tests.postgres import new_database

    c = Cluster(tmp_path_factory.mktemp("servers"), new_database(postgres_server, "servers_" + uuid.uuid4().hex[:8]))
    yield c
    c.close()
    from civicdata import store

    store.dispose_all()


def _pinned(browser, cluster: Cluster, server: str, width: int = 1400, height: int = 1000, **kw):  # noqa: F811
    """A browser context whose balancer cookie pins it to ``server``."""
    ctx = browser.new_context(viewport={"width": width, "height": height}, accept_downloads=True, **kw)
    ctx.add_cookies([{"name": "LNE_SERVER", "value": server, "url": cluster.proxy}])
    page = ctx.new_page()
    page.blocked = _offline(page)
    return page


def _on(page, server: str) -> None:
    page.get_by_text(f"Served by app server {server}.").first.wait_for(timeout=60_000)


def _pick(page, label: str, option: str) -> None:
    """Choose ``option`` in the Streamlit selectbox labelled ``label``."""
    box = page.get_by_label(label, exact=True)
    box.click()
    if box.get_attribute("aria-expanded") != "true":  # a click on a just-drawn box can land before it listens
        box.press("ArrowDown")
    page.locator('[role="option"]', has_text=option).first.click()
    assert box.input_value() == option


@pytest.fixture(scope="module")
def residents_csv(tmp_path_factory) -> Path:
    """Real values: Census 2021 residents of Trafford's LSOAs (2021 codes), from the bundle."""
    from civicdata.geo.geography import areas_within

    pop = pd.read_parquet(REPO / "data/indicators/population2021_lsoa21.parquet")
    codes = set(areas_within("E08000009", "lsoa21")["code"])
    path = tmp_path_factory.mktemp("upload") / "trafford_residents.csv"
    pop[pop["lsoa21_code"].isin(codes)][["lsoa21_code", "population2021"]].to_csv(path, index=False)
    return path


def _cache_lookups(port: int) -> dict[tuple[str, str], int]:
    """Streamlit's own count of cache lookups, by (cached function, hit|miss), from ``/_stcore/metrics``."""
    import urllib.request

    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/metrics", timeout=10).read().decode()
    out = {}
    for m in re.finditer(r'^cache_lookups_total\{cache="([^"]+)",cache_type="[^"]+",result="(hit|miss)"\} (\d+)',
                         text, re.M):
        out[(m.group(1), m.group(2))] = int(m.group(3))
    return out


def test_a_server_warms_the_first_pages_at_start_and_the_first_visitor_uses_that(cluster, browser):  # noqa: F811
    """serve.py runs the default page (the Area map of Trafford) and School to clinic once, in sessions of
    their own, as soon as the server is up; the first person's Area map then finds the trends summary, the
    area profile and the map's frame in the cache (hits, and still one miss each: computed once, by the
    warm-up), and School to clinic's timetable was opened once."""
    import time

    log = cluster.log("b")
    deadline = time.time() + 120
    while "warmed:" not in log.read_text() and time.time() < deadline:
        time.sleep(0.2)
    line = next(x for x in log.read_text().splitlines() if "warmed:" in x)
    assert "default page" in line and "school_to_clinic" in line, line
    warm = ["views.trends_data.summary", "views._loaders.area_profile", "views._loaders.place_frame",
            "views._loaders.headline"]
    before = _cache_lookups(cluster.ports["b"])
    assert all(before.get((f, "miss")) == 1 for f in [*warm, "views._loaders.feed_outcome"]), before
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.blocked = _offline(page)
    page.goto(f"http://127.0.0.1:{cluster.ports['b']}/")
    _ready(page)
    page.wait_for_selector(".js-plotly-plot path.choroplethlocation", timeout=60_000)
    assert page.get_by_text("Trafford").count()
    after = _cache_lookups(cluster.ports["b"])
    for f in warm:
        assert after[(f, "miss")] == 1 and after[(f, "hit")] > before.get((f, "hit"), 0), (f, before, after)
    page.close()


def test_a_layer_uploaded_on_one_server_is_used_on_the_other(cluster, browser, residents_csv, tmp_path):  # noqa: F811
    a = _pinned(browser, cluster, "a")
    a.goto(f"{cluster.proxy}/add_data")
    _ready(a)
    _on(a, "a")
    a.locator('[data-testid="stFileUploader"]').filter(has_text="Data file").locator('input[type="file"]') \
        .set_input_files(str(residents_csv))
    a.get_by_label("Id (a-z, 0-9, _ or -)").wait_for(timeout=60_000)
    a.get_by_label("Id (a-z, 0-9, _ or -)").fill("trafford_residents")
    a.get_by_label("Title").fill("Residents (Census 2021)")
    _pick(a, "Keyed on", "LSOA (2021 codes)")
    a.get_by_label("Unit (%, per 1,000, count…)").fill("people")
    _pick(a, "Key column (area code or URN)", "lsoa21_code")
    _pick(a, "Value column", "population2021")
    a.get_by_label("Source").fill("ONS Census 2021")
    a.get_by_label("Vintage (period)").fill("2021")
    a.get_by_role("button", name="Check and save").click()
    a.get_by_text("Saved layer trafford_residents").wait_for(timeout=60_000)

    b = _pinned(browser, cluster, "b")
    b.goto(f"{cluster.proxy}/add_data")
    _ready(b)
    _on(b, "b")
    b.get_by_text("trafford_residents").first.wait_for(timeout=30_000)
    # drawn on B's Area map from B's own copy, and both downloads come back through the proxy
    b.goto(f"{cluster.proxy}/?place=E08000009&layer=trafford_residents")
    _ready(b)
    b.wait_for_selector(".js-plotly-plot", timeout=60_000)
    _on(b, "b")
    assert b.locator('[data-testid="stException"]').count() == 0
    with b.expect_download(timeout=60_000) as dl:
        b.get_by_role("button", name="Download the table (CSV)").click()
    table = pd.read_csv(dl.value.path())
    assert len(table) == len(pd.read_csv(residents_csv)) == 139
    with b.expect_download(timeout=60_000) as dl:
        b.get_by_role("button", name="Download the map (HTML)").click()
    html = Path(dl.value.path()).read_text(encoding="utf-8")
    assert "Residents (Census 2021)" in html and "plotly" in html.lower()
    b.screenshot(path=str(ARTIFACTS / "servers_layer_on_b.png"))
    assert not a.blocked and not b.blocked
    a.context.close()
    b.context.close()


def test_a_timetable_added_on_one_server_is_offered_on_school_to_clinic_of_the_other(cluster, browser, tmp_path):  # noqa: F811
    """A copy of the Chester feed added under a new name on A's Add data page (Timetables) is listed, with its
    dates and districts, on B's School to clinic, and B routes on it."""
    feed = tmp_path / "chester-shared.zip"
    feed.write_bytes((REPO / "data" / "transport" / "chester_gtfs.zip").read_bytes())
    a = _pinned(browser, cluster, "a")
    a.goto(f"{cluster.proxy}/add_data")
    _ready(a)
    _on(a, "a")
    a.get_by_role("tab", name="Timetables (GTFS)").click()
    a.locator('[data-testid="stFileUploader"]').filter(has_text="GTFS feed (.zip)").locator('input[type="file"]') \
        .set_input_files(str(feed))
    a.get_by_label("Name", exact=True).fill("chester-shared")
    a.get_by_role("button", name="Add the timetable").click()
    a.get_by_text("Stored the timetable chester-shared").wait_for(timeout=120_000)

    b = _pinned(browser, cluster, "b")
    b.goto(f"{cluster.proxy}/school_to_clinic")
    _ready(b)
    _on(b, "b")
    box = b.get_by_label("Timetable", exact=True)
    box.click()
    option = b.locator('[role="option"]', has_text="chester-shared")
    option.first.wait_for(timeout=30_000)
    assert "Cheshire West and Chester" in option.first.inner_text()
    option.first.click()
    _ready(b)
    b.get_by_text("Timetable: chester-shared,").first.wait_for(timeout=120_000)
    assert b.locator('[data-testid="stException"]').count() == 0
    assert "feed=chester-shared" in b.url
    b.screenshot(path=str(ARTIFACTS / "servers_timetable_on_b.png"))
    assert not a.blocked and not b.blocked
    a.context.close()
    b.context.close()


@pytest.fixture(scope="module")
def phone_on_a(cluster, browser):  # noqa: F811
    """A workshop and a phone that joined it through server A: ``(workshop id, the phone's link)``. A fixture,
    not a test's side effect, so that the tests below run in any order (pytest-xdist does not keep it)."""
    from civicdata import store
    from civicdata.workshop import model

    ws = model.create_workshop("Trafford convening", model.parse_options(["Prevention", "Workforce"]),
                               place_name="Trafford", eng=store.engine(cluster.db_url))
    phone = _pinned(browser, cluster, "a", 390, 844, is_mobile=True, has_touch=True)
    phone.goto(f"{cluster.proxy}/workshop?ws={ws.id}&view=join")
    _ready(phone)
    phone.get_by_label("Your name").fill("Phone on A")
    phone.get_by_label(re.compile("^Your sector")).click()
    phone.get_by_role("option", name="Council", exact=True).click()
    phone.get_by_role("button", name="Join").click()
    phone.get_by_text("You joined as Phone on A").wait_for(timeout=60_000)
    phone_url = phone.url
    assert "me=" in phone_url  # the phone's identity is its link
    phone.context.close()
    return ws.id, phone_url


def test_a_phone_voting_through_a_shows_on_the_projector_of_b(cluster, browser, phone_on_a):  # noqa: F811
    wid, phone_url = phone_on_a
    proj = _pinned(browser, cluster, "b", 1280, 720)
    proj.goto(f"{cluster.proxy}/workshop?ws={wid}&view=projector")
    _ready(proj)
    phone = _pinned(browser, cluster, "a", 390, 844, is_mobile=True, has_touch=True)
    phone.goto(phone_url)
    _ready(phone)
    phone.get_by_text("You joined as Phone on A").wait_for(timeout=60_000)
    _on(phone, "a")
    box = phone.get_by_label("Workforce", exact=True)
    box.fill("3")
    box.press("Tab")
    phone.get_by_role("button", name="Place my dots").click()
    phone.get_by_text(re.compile(r"dots? (is|are) placed")).wait_for(timeout=60_000)
    # the chart's words, for screen readers (the room reads the chart)
    proj.locator(".lne-sr", has_text="Dots per option: Workforce 3 (Council 3); Prevention 0.").wait_for(
        state="attached", timeout=10_000)
    proj.context.close()
    phone.context.close()


def test_the_proxy_keeps_streamlit_s_own_scripts_in_memory_and_never_a_page(cluster):
    """deploy/haproxy.cfg caches /static/ (Streamlit's scripts, named by their content's hash): the second
    fetch of the main script and of plotly's 4.7 MB chunk comes from HAProxy's memory (X-Cache-Status: HIT),
    byte for byte the file Streamlit serves, without a cookie; the page itself and the health check never do."""
    import urllib.request

    import streamlit

    static = Path(streamlit.__file__).parent / "static"

    def get(path: str) -> tuple[dict, bytes]:
        with urllib.request.urlopen(cluster.proxy + path, timeout=30) as r:
            return {k.lower(): v for k, v in r.headers.items()}, r.read()

    _, index = get("/")
    main = re.search(r'src="\./(static/js/index\.[^"]+\.js)"', index.decode()).group(1)
    plotly = next((static / "static" / "js").glob("PlotlyChart.*.js")).relative_to(static).as_posix()
    for chunk in (main, plotly):
        get("/" + chunk)
        headers, body = get("/" + chunk)
        assert headers.get("x-cache-status") == "HIT", (chunk, headers)
        assert "set-cookie" not in headers, headers
        assert body == (static / chunk).read_bytes()
    for path in ("/", "/strategic_focus", "/_stcore/health"):
        for _ in range(2):
            headers, _ = get(path)
            assert "x-cache-status" not in headers, (path, headers)


def test_a_browser_carries_on_through_b_when_a_is_killed(cluster, browser, phone_on_a):  # noqa: F811
    """Last in this module: server A is killed while a browser and a workshop phone are on it."""
    from civicdata import store
    from civicdata.workshop import model

    page = _pinned(browser, cluster, "a")
    page.goto(f"{cluster.proxy}/?place=E08000009&layer=imd2025_decile")
    _ready(page)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    _on(page, "a")
    wid, phone_url = phone_on_a
    phone = _pinned(browser, cluster, "a", 390, 844, is_mobile=True, has_touch=True)
    phone.goto(phone_url)
    _ready(phone)
    phone.get_by_text("You joined as Phone on A").wait_for(timeout=60_000)

    from civicdata.store.layers import stored_layers
    from tests.conftest import run_cli

    ex = REPO / "examples"
    added = run_cli("add-layer", str(ex / "bradford_persistent_absence_2021-22.csv"), "--descriptor",
                    str(ex / "bradford_persistent_absence_2021-22.toml"), env={"CIVICDATA_DB_URL": cluster.db_url})
    assert added.returncode == 0, added.stderr
    kept_layers = [x.id for x in stored_layers(store.engine(cluster.db_url))]
    assert "bradford_persistent_absence_2122" in kept_layers
    assert "srv=a" in page.url
    # the phone has typed its dots; it taps Place as server A stops: whatever becomes of that tap (lost with A,
    # or sent to B once the phone has moved), it must end up stored, or flagged on the phone — never shown as
    # placed when the store does not have it
    for label, n in (("Workforce", "2"), ("Prevention", "1")):
        box = phone.get_by_label(label, exact=True)
        box.fill(n)
        box.press("Tab")
    cluster.kill("a")
    try:
        phone.get_by_role("button", name="Place my dots").click(timeout=5_000)
    except Exception:  # noqa: BLE001 - the page was already redrawing: the tap never happened
        pass
    # the page reconnects by itself (HAProxy sends it to B, a fresh session there) and, as every page holds a
    # fragment with run_every (views._present.rerun_after_reconnect), asks B for a full run: without it the
    # next click, a fragment's rerun that B has never run, was dropped and the page sat still
    page.get_by_text("The server you were using stopped").wait_for(timeout=90_000)  # no click needed
    _on(page, "b")
    # the notice is a toast: it never moves the page's layout, and it fades by itself
    assert page.locator('[data-testid="stToast"]').filter(has_text="The server you were using stopped").count() == 1
    page.get_by_text("The server you were using stopped").wait_for(state="hidden", timeout=20_000)
    page.wait_for_timeout(1500)
    page.get_by_text("Ward names and boundaries").first.click()  # a control's fragment now reruns on B
    page.wait_for_function("() => location.search.includes('orient=0')", timeout=60_000)
    page.wait_for_selector(".js-plotly-plot", timeout=60_000)
    for part in ("place=E08000009", "layer=imd2025_decile", "orient=0", "srv=b"):
        assert part in page.url, page.url
    page.screenshot(path=str(ARTIFACTS / "servers_moved_to_b.png"))
    assert page.locator('[data-testid="stException"]').count() == 0
    # every layer in the store before A stopped (the one uploaded through A, when that test ran first, and one added
    # by another process) is still there, listed by B
    page.goto(f"{cluster.proxy}/add_data")
    _ready(page)
    _on(page, "b")
    for layer_id in kept_layers:
        page.get_by_text(layer_id, exact=True).first.wait_for(timeout=30_000)  # "Your layers", in bold
    page.screenshot(path=str(ARTIFACTS / "servers_after_a_stopped.png"))
    # the phone, redrawn by B on reconnecting, keeps its identity (its link) and votes again: the first click counts
    phone.wait_for_function("() => location.search.includes('srv=b')", timeout=90_000)  # (its toast may have faded)
    phone.get_by_text("You joined as Phone on A").wait_for(timeout=60_000)
    _on(phone, "b")
    phone.wait_for_timeout(1500)
    stored = {o["code"]: o["dots"] for o in model.tally(wid, eng=store.engine(cluster.db_url))["options"]}
    flagged = phone.get_by_text("Your last change was not saved").count() > 0
    placed = phone.get_by_text(re.compile(r"dots? (is|are) placed")).count() > 0
    assert flagged or stored == {"workforce": 2, "prevention": 1}, (stored, "neither stored nor flagged")
    assert not (placed and stored != {"workforce": 2, "prevention": 1}), "shown as placed, not stored"
    print(f"tap during the switch: {'stored' if stored == {'workforce': 2, 'prevention': 1} else 'flagged'}")
    # the phone votes again (the first click on B counts)
    for label, n in (("Workforce", "2"), ("Prevention", "1")):
        box = phone.get_by_label(label, exact=True)
        box.fill(n)
        box.press("Tab")
    phone.get_by_role("button", name="Place my dots").click()
    phone.get_by_text(re.compile(r"dots? (is|are) placed")).wait_for(timeout=60_000)
    t = model.tally(wid, eng=store.engine(cluster.db_url))
    assert t["participants"] == 1 and {o["code"]: o["dots"] for o in t["options"]} == {"workforce": 2,
                                                                                       "prevention": 1}
    assert not page.blocked and not phone.blocked
    page.context.close()
    phone.context.close()

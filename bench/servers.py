"""Several app servers: Area map page views per second through HAProxy with one and two app servers, and
the 20-browser burst, against one server reached directly, all in the same run.

Starts a throwaway PostgreSQL (Debian's package, as the tests do) and, for each of three set-ups, fresh
``streamlit run`` servers sharing it (each with its own home) and HAProxy with ``deploy/haproxy.cfg``
(fresh, because a server slows as the sessions it has served pile up: 2.40 to 1.35 views/s over five runs
of one process):

* **direct**: browsers talk to server a itself (the baseline: no proxy);
* **proxy, 1 server**: HAProxy in front of server a only (both backend lines point at it);
* **proxy, 2 servers**: HAProxy in front of a and b, cookie-sticky.

**Throughput** (what the servers can serve): ``--clients`` clients each open Streamlit's websocket as the
browser does (``/_stcore/stream``, through the proxy), ask for the Area map of Trafford (a ``rerun_script``
message with ``place=E08000009``), read every message until ``script_finished`` (checking the map's plotly
figure came and no exception did), close, and start again, for ``--seconds``: page views per second,
median of ``--runs``. Each view is a new connection without a cookie, so HAProxy spreads views over the
servers as it spreads people. No browser draws anything here: on 2 cores, Chromium's own software
rendering would otherwise take the CPU the servers need (see the burst).
**Burst** (the 20-browser load test through the proxy): 20 Chromium contexts (Debian's, network blocked
beyond 127.0.0.1) open the Area map at once; time until its 139 neighbourhoods are drawn, p50 and p95.
Here the 20 Chromiums software-render their maps on the same 2 cores, which dominates.
Run: python bench/servers.py [--runs 3] [--seconds 20] [--clients 8] [--no-burst]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
from tests.appserver import start_app, start_proxy  # noqa: E402 - after the path insert
from tests.conftest import free_port  # noqa: E402

MAP = ".js-plotly-plot path.choroplethlocation"
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'



async def one_view(browser, url: str) -> float:
    ctx = await browser.new_context(viewport={"width": 1280, "height": 800})
    page = await ctx.new_page()

    async def route(r):
        await (r.continue_() if r.request.url.startswith("http://127.0.0.1") else r.abort())

    await page.route("**/*", route)
    t = time.perf_counter()
    await page.goto(url, timeout=600_000, wait_until="commit")
    await page.wait_for_selector(MAP, timeout=600_000)
    await page.wait_for_selector(DONE, timeout=600_000)
    elapsed = time.perf_counter() - t
    n = await page.evaluate("() => document.querySelector('.js-plotly-plot').data[0].locations.length")
    await ctx.close()
    if n != 139:
        raise RuntimeError(f"the map drew {n} neighbourhoods, not Trafford's 139")
    return elapsed


async def protocol_view(base: str, query: str = "place=E08000009") -> float:
    """One page view as the browser asks for it over Streamlit's websocket; seconds until the script ends."""
    import websockets
    from streamlit.proto.BackMsg_pb2 import BackMsg
    from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

    t = time.perf_counter()
    charts = 0
    async with websockets.connect(base.replace("http://", "ws://") + "/_stcore/stream", subprotocols=["streamlit"],
                                  origin=base, max_size=None, open_timeout=120) as ws:
        ask = BackMsg()
        ask.rerun_script.query_string = query
        await ws.send(ask.SerializeToString())
        while True:
            msg = ForwardMsg()
            msg.ParseFromString(await asyncio.wait_for(ws.recv(), 240))
            kind = msg.WhichOneof("type")
            if kind == "delta" and msg.delta.WhichOneof("type") == "new_element":
                element = msg.delta.new_element.WhichOneof("type")
                if element == "exception":
                    raise RuntimeError(f"the page raised: {msg.delta.new_element.exception.message}")
                charts += element == "plotly_chart"
            if kind == "script_finished":
                break
    if not charts:
        raise RuntimeError("the Area map sent no plotly figure")
    return time.perf_counter() - t


async def throughput(base: str, clients: int, seconds: float) -> float:
    """Page views per second from ``clients`` looping protocol clients (after one warm-up view each)."""
    await asyncio.gather(*(protocol_view(base) for _ in range(clients)))
    end = time.perf_counter() + seconds
    done = 0

    async def loop():
        nonlocal done
        while time.perf_counter() < end:
            await protocol_view(base)
            done += 1

    t = time.perf_counter()
    await asyncio.gather(*(loop() for _ in range(clients)))
    return done / (time.perf_counter() - t)


async def burst(base: str, n: int = 20) -> tuple[float, float]:
    from playwright.async_api import async_playwright

    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            times = sorted(await asyncio.gather(*(one_view(browser, f"{base}/?place=E08000009") for _ in range(n))))
        finally:
            await browser.close()
    return statistics.median(times), times[int(0.95 * (len(times) - 1))]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=float, default=20)
    ap.add_argument("--clients", type=int, default=8)
    ap.add_argument("--no-burst", action="store_true", help="skip the 20-browser burst (several minutes)")
    args = ap.parse_args()
    from tests.postgres import PostgresServer

    tmp = Path(tempfile.mkdtemp(prefix="lne-servers-"))
    secret = uuid.uuid4().hex
    rows = []
    with PostgresServer(port=free_port()) as db_url:
        try:
            for name, servers, proxied in (("direct to server a", 1, False), ("proxy, 1 server", 1, True),
                                           ("proxy, 2 servers", 2, True)):
                # fresh servers for each set-up: a server slows as the sessions it has served pile up
                ports = [free_port() for _ in range(servers)]
                procs = [start_app(n, p, db_url, tmp / n, secret) for n, p in zip("ab", ports)]
                a, b = ports[0], ports[-1]
                port = free_port() if proxied else None
                proxy = start_proxy(port, a, b) if proxied else None
                base = f"http://127.0.0.1:{port or a}"
                try:
                    rates = [asyncio.run(throughput(base, args.clients, args.seconds)) for _ in range(args.runs)]
                    p50, p95 = (float("nan"),) * 2 if args.no_burst else asyncio.run(burst(base))
                finally:
                    for proc in ([proxy] if proxy else []) + procs:
                        proc.terminate()
                        proc.wait(timeout=30)
                rows.append((name, statistics.median(rates), rates, p50, p95))
                print(f"{name}: {statistics.median(rates):.2f} views/s (runs {', '.join(f'{r:.2f}' for r in rates)}); "
                      f"20 at once: p50 {p50:.1f} s, p95 {p95:.1f} s", flush=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    base_rate = rows[1][1]
    print(f"\nArea map (Trafford): {args.clients} websocket clients looping for {args.seconds:.0f} s, median of "
          f"{args.runs} runs; {os.cpu_count()} cores shared by the servers, HAProxy, PostgreSQL and the clients")
    print("| set-up | page views/s | ratio to proxy, 1 server | 20 at once p50 | p95 |")
    print("|---|---|---|---|---|")
    for name, rate, _, p50, p95 in rows:
        print(f"| {name} | {rate:.2f} | {rate / base_rate:.2f} | {p50:.1f} s | {p95:.1f} s |")


if __name__ == "__main__":
    main()

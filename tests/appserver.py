"""Starting the app and HAProxy as real processes, for the servers tests and ``bench/servers.py``: one
app server per call (its own home and layers folder; only the database shared), HAProxy with
``deploy/haproxy.cfg``, and the wait for ``/_stcore/health``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"
#: HAProxy marks a server up after 2 passed checks, one every 2 s (deploy/haproxy.cfg)
HEALTH_RISE_SECONDS = 4.5


def wait_healthy(url: str, timeout: float = 120) -> None:
    """Until ``url`` (a ``/_stcore/health`` address) answers ``ok``; RuntimeError after ``timeout`` s."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            if urllib.request.urlopen(url, timeout=2).read() == b"ok":
                return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer")


def start_app(name: str, port: int, db_url: str, home: Path, cookie_secret: str,
              log: Path | None = None) -> subprocess.Popen:
    """``python serve.py`` (``streamlit run app.py``, warmed as ``make run`` does) as server ``name`` on
    127.0.0.1:``port``, answering its health check; its output to ``log`` when given."""
    env = {**os.environ, "CIVICDATA_HOME": str(home / "home"), "CIVICDATA_USER_LAYERS": str(home / "layers"),
           "CIVICDATA_DB_URL": db_url, "CIVICDATA_SERVER_NAME": name, "STREAMLIT_SERVER_COOKIE_SECRET": cookie_secret}
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115 - the child keeps it
    proc = subprocess.Popen([sys.executable, "serve.py", "--server.headless", "true",
                             "--server.address", "127.0.0.1", "--server.port", str(port)], cwd=REPO, env=env,
                            stdout=out, stderr=subprocess.STDOUT)
    wait_healthy(f"http://127.0.0.1:{port}/_stcore/health")
    return proc


def start_proxy(port: int, a: int, b: int) -> subprocess.Popen:
    """HAProxy on 127.0.0.1:``port`` in front of app servers on ports ``a`` and ``b``, once both are up."""
    env = {**os.environ, "LNE_BIND": f"127.0.0.1:{port}", "LNE_SERVER_A": f"127.0.0.1:{a}",
           "LNE_SERVER_B": f"127.0.0.1:{b}"}
    proc = subprocess.Popen([HAPROXY, "-db", "-f", str(REPO / "deploy" / "haproxy.cfg")], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_healthy(f"http://127.0.0.1:{port}/_stcore/health")
    time.sleep(HEALTH_RISE_SECONDS)
    return proc

"""Shared fixtures: the committed bundle, the raw sources beside the repo, and a CLI runner."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / "data"
SOURCES = Path(os.environ.get("CIVICDATA_SOURCES", REPO.parent / "shared" / "data"))


def pytest_configure(config) -> None:
    """Before any fixture of any scope: the user data folder, the store and the user-layers folder point into a
    folder of this run, so that module-scoped fixtures (which run before the per-test ones below) never open
    the developer's own database (``~/.local/share/local-need-explorer``) — nor upgrade it."""
    import tempfile

    run = Path(tempfile.mkdtemp(prefix="lne-tests-"))
    os.environ["CIVICDATA_HOME"] = str(run / "home")
    os.environ["CIVICDATA_DB_URL"] = f"sqlite:///{run / 'home' / 'workshops.db'}"
    os.environ["CIVICDATA_USER_LAYERS"] = str(run / "user_layers")


#: files whose tests drive Chromium against servers they start: under pytest-xdist they share one worker, one
#: after another (each is timing-sensitive under load), while the other worker runs the rest
BROWSER_FILES = ("test_browser.py", "test_accessibility.py", "test_servers.py", "test_crawl.py", "test_faults.py")


def scope_of(nodeid: str) -> str:
    """The unit make test hands to one pytest-xdist worker: a test file (its module fixtures, e.g. a test
    server, are set up once), or ``browser`` for all of BROWSER_FILES together."""
    file = nodeid.split("::", 1)[0]
    return "browser" if Path(file).name in BROWSER_FILES else file


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist, whole scopes (:func:`scope_of`) go to workers. A scheduler of our own: xdist's
    ``--dist loadgroup`` marks a group by changing ``item._nodeid``, which pytest 9.2 no longer reads, so every
    file was spread over both workers."""
    from xdist.scheduler import LoadScopeScheduling

    class ByScope(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return scope_of(nodeid)

    return ByScope(config, log)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    return DATA


@pytest.fixture(scope="session")
def sources() -> Path:
    if not (SOURCES / "README.md").is_file():
        pytest.fail(f"raw sources not found at {SOURCES} (CI clones ../shared beside the repo)")
    return SOURCES


@pytest.fixture(autouse=True)
def _isolated_user_layers(tmp_path_factory, monkeypatch):
    """Every test sees an empty user-layers folder of its own, never the developer's."""
    monkeypatch.setenv("CIVICDATA_USER_LAYERS", str(tmp_path_factory.mktemp("user_layers")))


@pytest.fixture(autouse=True)
def _isolated_workshops(tmp_path_factory, monkeypatch):
    """Every test keeps workshops in a SQLite file of its own, never the developer's user data folder."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("CIVICDATA_HOME", str(home))
    monkeypatch.setenv("CIVICDATA_DB_URL", f"sqlite:///{home / 'workshops.db'}")


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run ``python -m civicdata ARGS`` in a subprocess, as an analyst would."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "civicdata", *args], capture_output=True, text=True,
                          cwd=REPO, env=full_env, timeout=300)


def open_page(page: str | None = None, timeout: int = 120, **params):
    """Run the app in AppTest on ``page`` (default: the Area map) with link parameters; no exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=timeout)
    for k, v in params.items():
        at.query_params[k] = v
    if page:
        at.switch_page(page)
    at.run()
    assert not at.exception, at.exception
    return at


@pytest.fixture(scope="session")
def postgres_server():
    """A real PostgreSQL server for the session (Debian's package; started and stopped here)."""
    from tests.postgres import PostgresServer

    try:
        server = PostgresServer(port=free_port())
    except RuntimeError as exc:
        pytest.fail(str(exc))
    with server as url:
        yield url
    from civicdata import store

    store.dispose_all()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (for servers the tests start)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request, tmp_path):
    """A fresh workshop database: a SQLite file, or a new database on the session's PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'workshops.db'}"
    import uuid

    from tests.postgres import new_database

    return new_database(request.getfixturevalue("postgres_server"), "t_" + uuid.uuid4().hex[:12])

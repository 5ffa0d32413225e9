"""A throwaway PostgreSQL server for the workshop tests: Debian's `postgresql` package (installed by
.ci/run), started in a temporary folder on a Unix socket only, stopped and removed afterwards.

As root, initdb and the server run as the `postgres` user (initdb refuses root).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian keeps it off PATH)."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4]))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("initdb")
    return Path(which).parent if which else None


def new_database(url: str, name: str) -> str:
    """Create database ``name`` on the server of ``url`` (a URL from :class:`PostgresServer`); its URL."""
    from sqlalchemy import create_engine, text

    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return url.replace("/workshops?", f"/{name}?")


class PostgresServer:
    """``with PostgresServer() as url:`` a SQLAlchemy URL of a fresh database, on a private socket."""

    def __init__(self, port: int = 55432):
        self.port = port
        self.bin = pg_bin()
        if self.bin is None:
            raise RuntimeError("PostgreSQL is not installed: `apt-get install -y postgresql` (.ci/run does this)")
        self.dir = Path(tempfile.mkdtemp(prefix="lne-pg-"))
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args: str) -> None:
        subprocess.run([*self.as_user, *args], check=True, capture_output=True, timeout=120)

    def __enter__(self) -> str:
        data = self.dir / "data"
        self._run(str(self.bin / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8")
        self._opts = f"-p {self.port} -k {self.dir} -c listen_addresses='' -c max_connections=200 -c fsync=on"
        self.start()
        self._run(str(self.bin / "createdb"), "-h", str(self.dir), "-p", str(self.port), "-U", "postgres", "workshops")
        return f"postgresql+psycopg://postgres@/workshops?host={self.dir}&port={self.port}"

    def start(self) -> None:
        """Start the server (again, after :meth:`stop`: same data, socket and port)."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-o", self._opts, "-l",
                  str(self.dir / "log"), "-w", "start")

    def stop(self) -> None:
        """Stop the server as an outage would: a fast shutdown cuts every open connection."""
        self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def __exit__(self, *exc) -> None:
        try:
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate", "-w", "stop")
        except subprocess.CalledProcessError:  # stopped already (a test stopped it and failed before starting it)
            pass
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)

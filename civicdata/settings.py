"""Typed defaults in one place.

=====================  ==========================================  ==========================
name                   default                                     meaning (unit)
=====================  ==========================================  ==========================
DATA_DIR               ``<repo>/data`` or ``$CIVICDATA_DATA``      bundled data folder
USER_LAYERS_DIR        ``$CIVICDATA_USER_LAYERS`` or               earlier versions' user layers
                       ``DATA_DIR/user_layers``                    folder, imported into the store
                                                                   once
WGS84                  ``"EPSG:4326"``                             CRS of every bundled file
BNG                    ``"EPSG:27700"``                            British National Grid, metres
BOUNDARY_DECIMALS      ``5``                                       decimals kept on the detailed
                                                                   boundaries' lon/lat (~1 m)
VIEW_SIMPLIFY_PX       ``0.5``                                     a map's areas are simplified
                                                                   by this share of a screen
                                                                   pixel at its first view
COORD_DECIMALS         ``6``                                       decimals kept on lon/lat
                                                                   (~0.1 m)
DEFAULT_LAD            ``"E08000009"`` (Trafford)                  default place
GM_CAUTH_CODE          ``"E47000001"``                             Greater Manchester CA
ENGLAND_CODE           ``"E92000001"``                             England (ONS country code)
GM_LAD_CODES           ``E08000001`` .. ``E08000010``              the ten GM boroughs
TYNE_AND_WEAR_LAD_CODES
                       ``E08000021`` .. ``E08000024``,             the Tyne and Wear Metro's five
                       ``E08000037``                               districts
user_data_dir()        ``$CIVICDATA_HOME`` or                      per-user data folder, outside
                       ``$XDG_DATA_HOME/local-need-explorer`` or   the repository (workshops)
                       ``~/.local/share/local-need-explorer``
db_url()               ``$CIVICDATA_DB_URL`` or                    the store: layers, trusts,
                       ``sqlite:///<user_data_dir>/workshops.db``  workshops (SQLAlchemy URL;
                                                                   PostgreSQL when deployed on
                                                                   several servers)
server_name()          ``$CIVICDATA_SERVER_NAME`` or ""            this server's name, as the load
                                                                   balancer's cookie names it
                                                                   (``a``, ``b``)
public_url()           ``$CIVICDATA_PUBLIC_URL`` or ""             the app's address as people
                                                                   reach it (workshop links, QR)
=====================  ==========================================  ==========================
"""

from __future__ import annotations

import os
from pathlib import Path

REPO_DIR: Path = Path(__file__).resolve().parents[1]

WGS84: str = "EPSG:4326"
BNG: str = "EPSG:27700"
BOUNDARY_DECIMALS: int = 5
VIEW_SIMPLIFY_PX: float = 0.5
COORD_DECIMALS: int = 6
DEFAULT_LAD: str = "E08000009"
GM_CAUTH_CODE: str = "E47000001"
ENGLAND_CODE: str = "E92000001"
#: the ten Greater Manchester boroughs (LAD codes, unchanged 2011-2024)
GM_LAD_CODES: tuple[str, ...] = tuple(f"E080000{n:02d}" for n in range(1, 11))
#: the five districts the Tyne and Wear Metro serves: Newcastle upon Tyne, North Tyneside, South Tyneside,
#: Sunderland, Gateshead
TYNE_AND_WEAR_LAD_CODES: tuple[str, ...] = ("E08000021", "E08000022", "E08000023", "E08000024", "E08000037")


def data_dir() -> Path:
    """The bundled data folder (``$CIVICDATA_DATA`` overrides ``<repo>/data``)."""
    return Path(os.environ.get("CIVICDATA_DATA", REPO_DIR / "data")).resolve()


def examples_dir() -> Path:
    """The worked examples shipped with the project (``<repo>/examples``)."""
    return REPO_DIR / "examples"


def user_layers_dir() -> Path:
    """The user layers folder (``$CIVICDATA_USER_LAYERS`` overrides ``data/user_layers``)."""
    env = os.environ.get("CIVICDATA_USER_LAYERS")
    return Path(env).resolve() if env else data_dir() / "user_layers"


def user_data_dir() -> Path:
    """The per-user data folder, outside the repository (``$CIVICDATA_HOME`` overrides
    ``$XDG_DATA_HOME/local-need-explorer``, itself defaulting to ``~/.local/share/local-need-explorer``)."""
    env = os.environ.get("CIVICDATA_HOME")
    if env:
        return Path(env).resolve()
    xdg = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(xdg).resolve() / "local-need-explorer"


def db_url() -> str:
    """The workshop database as a SQLAlchemy URL: ``$CIVICDATA_DB_URL`` (e.g.
    ``postgresql+psycopg://user@host/db`` when several app servers share it) or a SQLite file
    ``workshops.db`` in :func:`user_data_dir`."""
    env = os.environ.get("CIVICDATA_DB_URL")
    if env:
        return env
    return f"sqlite:///{user_data_dir() / 'workshops.db'}"


def public_url() -> str:
    """The app's public address for links and QR codes (``$CIVICDATA_PUBLIC_URL``), or "" to use the
    address the browser used."""
    return os.environ.get("CIVICDATA_PUBLIC_URL", "").rstrip("/")


def background_above() -> int:
    """School to clinic routes in a background job (progress, cancel) above this many school-departures."""
    return int(os.environ.get("CIVICDATA_BACKGROUND_ABOVE", "5000"))


def journey_workers() -> int:
    """Dask workers (a LocalCluster on this machine) for a page's background routing."""
    return max(1, int(os.environ.get("CIVICDATA_JOURNEY_WORKERS", "2")))


def dask_scheduler() -> str | None:
    """An existing Dask cluster for a page's background routing, or None for a LocalCluster."""
    return os.environ.get("CIVICDATA_DASK_SCHEDULER") or None


def server_name() -> str:
    """This app server's name in the load balancer's cookie (``$CIVICDATA_SERVER_NAME``), or "" alone."""
    return os.environ.get("CIVICDATA_SERVER_NAME", "")

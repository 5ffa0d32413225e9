"""The one place that imports both Streamlit and civicdata: cached loaders and shared bits."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from civicdata import settings
from civicdata.catalogue import Catalogue, load_catalogue
from civicdata.manifest import load_manifest, manifest_table
from civicdata.sources import ATTRIBUTION


def _stamp(*paths: Path) -> tuple:
    """A cache key that changes when any descriptor or data file below ``paths`` changes."""
    out = []
    for p in paths:
        if p.is_dir():
            out += [(str(f), f.stat().st_mtime_ns) for f in sorted(p.rglob("*")) if f.is_file()]
    return tuple(out)


@st.cache_resource(show_spinner=False)
def _catalogue(_stamp_key: tuple) -> Catalogue:
    return load_catalogue()


def catalogue() -> Catalogue:
    """The layer catalogue, reloaded when a descriptor or user layer changes."""
    d = settings.data_dir()
    return _catalogue(_stamp(*(d / f for f in ("indicators", "schools", "services")), settings.user_layers_dir()))


@st.cache_data(show_spinner=False)
def manifest() -> dict:
    return load_manifest()


@st.cache_data(show_spinner=False)
def manifest_frame() -> pd.DataFrame:
    return manifest_table()


def footer() -> None:
    """Licences and attribution, on every page."""
    st.divider()
    st.caption(ATTRIBUTION + " Some services data are old vintages (NHS Choices 2014): shown with their date.")

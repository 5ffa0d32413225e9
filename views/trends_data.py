"""Cached loaders for the Trends page and the Area map's trends section (bundled data only: it never
changes while the app runs, so plain st.cache_data keyed on arguments is enough)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from civicdata.indicators import iod_editions, peers, trends


@st.cache_data(show_spinner=False)
def places() -> dict[str, str]:
    return trends.trend_places()


@st.cache_data(show_spinner=False)
def indicators() -> dict[str, str]:
    """id -> title, in the order shown."""
    return {k: v.title for k, v in trends.load_indicators().items()}


@st.cache_data(show_spinner="Comparing every indicator…", max_entries=64)
def summary(place: str, kind: str) -> pd.DataFrame:
    return trends.summary(place, kind)


@st.cache_data(show_spinner=False, max_entries=128)
def area_series(indicator_id: str, place: str) -> trends.AreaSeries:
    return trends.area_series(indicator_id, place)


@st.cache_data(show_spinner=False, max_entries=128)
def neighbour_band(indicator_id: str, series_code: str, kind: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    return trends.neighbour_series(indicator_id, series_code, kind)


@st.cache_data(show_spinner=False, max_entries=64)
def similar(place: str, kind: str) -> dict | None:
    """The place's ONS cluster and neighbours, or None when ONS lists none for it."""
    try:
        return peers.peers(place, kind)
    except KeyError:
        return None


@st.cache_data(show_spinner=False, max_entries=64)
def editions(place: str) -> tuple[pd.DataFrame, dict]:
    return iod_editions.lad_editions(place), iod_editions.decile_changes(place)

"""Cached loaders for the pages: the catalogue, frames, profiles, lines, feeds and rankings, each keyed on what
changes it (a layer's file, the store's versions). Pure calls into civicdata behind Streamlit's caches."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pandas as pd
import streamlit as st

from civicdata.indicators import choropleth, profile
from civicdata import metro, settings
from civicdata import focus as _focus
from civicdata.indicators.catalogue import Catalogue, load_catalogue
from civicdata.geo.geography import load_lookup
from civicdata.transit.gtfs import Feed, load_feed
from civicdata.manifest import load_manifest, manifest_table


_STAMPS: dict[tuple, tuple[float, str]] = {}


def _stamp(*paths: Path) -> str:
    """A cache key that changes when any descriptor or data file below ``paths`` changes: a digest of every
    file's path and modification time, walked at most once a second (the bundle's 175 files took ~30 ms a
    run when walked on each call, and every page asks several times)."""
    now = time.monotonic()
    seen = _STAMPS.get(paths)
    if seen is not None and now - seen[0] < 1.0:
        return seen[1]
    out = []
    for p in paths:
        if p.is_dir():
            out += [(str(f), f.stat().st_mtime_ns) for f in sorted(p.rglob("*")) if f.is_file()]
    digest = hashlib.sha1(repr(out).encode()).hexdigest()
    _STAMPS[paths] = (now, digest)
    return digest


@st.cache_resource(show_spinner=False, max_entries=4)
def _catalogue(stamp_key: str, db_url: str, layers_version: int) -> Catalogue:
    return load_catalogue()


def catalogue() -> Catalogue:
    """The layer catalogue, reloaded when a bundled descriptor changes or when the store's ``layers``
    version moves (a layer added, replaced or removed on any server sharing the database)."""
    from civicdata import store

    d = settings.data_dir()
    return _catalogue(_stamp(*(d / f for f in ("indicators", "schools", "services"))), settings.db_url(),
                      store.version("layers"))


@st.cache_resource(show_spinner=False, max_entries=24)
def _figure_once(view: tuple, _build):
    return _build()


def figure_once(view: tuple | None, build):
    """``build()`` (a figure, or a tuple holding one) once per ``view``, a tuple of everything the figure is
    drawn from (control values, place, layer stamps): the same view again, in any session, gets the same
    objects back without rebuilding them (a map's plotly figure takes 0.1–0.25 s to build). What comes back is
    shared: the caller must not change it. ``view=None`` (an input that cannot be a key, e.g. a user's
    uploaded boundaries) builds afresh every time."""
    return build() if view is None else _figure_once(view, build)


@st.cache_data(show_spinner=False)
def manifest() -> dict:
    return load_manifest()


@st.cache_data(show_spinner=False)
def manifest_frame() -> pd.DataFrame:
    return manifest_table()


ENGLAND = "england"


#: marker colours for service point layers (distinct from the viridis area palette)
SERVICE_COLOURS = ("#000000", "#e7298a", "#d95f02", "#a6761d", "#7570b3", "#666666")


@st.cache_data(show_spinner=False)
def place_options() -> dict[str, str]:
    """code -> label: England view, all of GM, the ten GM boroughs, then every other English district."""
    lad = load_lookup("lad24")
    lad = lad[lad["lad24_code"].str.match(r"^E0[6789]")]
    gm = lad[lad["cauth23_code"] == settings.GM_CAUTH_CODE].sort_values("lad24_name")
    rest = lad[lad["cauth23_code"] != settings.GM_CAUTH_CODE].sort_values("lad24_name")
    out = {ENGLAND: "England (by local authority)", settings.GM_CAUTH_CODE: "Greater Manchester (all 10 boroughs)"}
    out.update({r.lad24_code: f"{r.lad24_name} (Greater Manchester)" for r in gm.itertuples()})
    out.update({r.lad24_code: r.lad24_name for r in rest.itertuples()})
    return out


@st.cache_data(show_spinner=False)
def region_options() -> dict[str, str]:
    """code -> label: England, then its nine regions (2024), where local authorities are ranked."""
    lad = load_lookup("lad24")
    reg = lad[lad["region24_code"].str.startswith("E12")].drop_duplicates("region24_code").sort_values("region24_name")
    return {settings.ENGLAND_CODE: "England (all local authorities)", **dict(zip(reg["region24_code"], reg["region24_name"]))}


@st.cache_data(show_spinner=False, max_entries=64)
def national_frame(layer_id: str, stamp_key: tuple) -> pd.DataFrame:
    return choropleth.national_frame(catalogue().get(layer_id))


@st.cache_data(show_spinner=False, max_entries=64)
def place_frame(layer_id: str, place: str, stamp_key: tuple, override_key: str = "", _override=None):
    return choropleth.place_frame(catalogue().get(layer_id), place, override=_override)


@st.cache_data(show_spinner=False, max_entries=32)
def national_lad_frame(layer_id: str, stamp_key: tuple):
    return choropleth.national_lad_frame(catalogue().get(layer_id))


@st.cache_data(show_spinner=False)
def schools() -> pd.DataFrame:
    return profile.load_schools()


@st.cache_data(show_spinner=False, max_entries=64)
def decile_shares(place: str, iod: str) -> pd.DataFrame:
    return profile.compute_decile_shares(place, iod)


@st.cache_data(show_spinner=False, max_entries=64)
def headline(place: str, iod: str):
    """The Area map's headline (bundled data only: it never changes while the app runs)."""
    return profile.compute_headline(place, iod)


@st.cache_data(show_spinner=False, max_entries=64)
def area_profile(place: str, iod: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Life-expectancy range, the 10 most deprived LSOAs and the schools in decile 1, for the area profile."""
    return (profile.compute_life_expectancy_range(place), profile.compute_most_deprived(place, iod),
            profile.compute_schools_most_deprived(place))


@st.cache_data(show_spinner=False, max_entries=64)
def orientation(place: str, bounds: tuple, large: bool, width: int = 900, height: int = 600):
    """Ward/district outlines and names for a place's map (None for the England view)."""
    from civicdata.geo.orientation import orientation_for

    return orientation_for(place, tuple(round(b, 6) for b in bounds), width, height, large)


@st.cache_data(show_spinner=False, max_entries=64)
def orientation_around(bounds: tuple, large: bool, width: int = 400, height: int = 560):
    """Ward/district outlines and names for any view, e.g. around a tram line."""
    from civicdata.geo.orientation import orientation_in_bounds

    return orientation_in_bounds(tuple(round(b, 6) for b in bounds), width, height, large)


@st.cache_data(show_spinner=False, max_entries=32)
def practice_points(layer_id: str, stamp_key: tuple, bounds: tuple) -> pd.DataFrame:
    """A practice layer's located practices within the map's bounds."""
    from civicdata.indicators.layers import load_layer

    from civicdata.geo.places import pcn_of

    frame = profile.points_in_bounds(load_layer(catalogue().get(layer_id)).dropna(subset=["lat", "lon"]), bounds)
    return frame.assign(pcn=pcn_of(frame["code"]))


@st.cache_data(show_spinner=False, max_entries=32)
def practice_range(layer_id: str, stamp_key: tuple) -> tuple[float, float]:
    """England's 5th and 95th percentile of a point layer's values (GP practices, schools): the colour range."""
    from civicdata.indicators.layers import load_layer

    v = load_layer(catalogue().get(layer_id))["value"].dropna()
    return float(v.quantile(0.05)), float(v.quantile(0.95))


@st.cache_data(show_spinner="Placing the trust's schools…", max_entries=16)
def trust_schools(urns: tuple) -> pd.DataFrame:
    from civicdata import trust

    return trust.trust_schools(list(urns))


@st.cache_data(show_spinner=False, max_entries=16)
def lsoa21_boundaries(lad_code: str):
    """A district's LSOAs 2021 with readable names and polygons (ONS generalised, read by district)."""
    return choropleth.boundaries_for("lsoa21", lad_code)


@st.cache_data(show_spinner=False, max_entries=16)
def lsoa21_outlines(codes: tuple):
    """LSOAs 2021 anywhere in England by code, with readable names (ONS generalised boundaries, read by district)."""
    from civicdata.geo.boundaries import boundaries_of
    from civicdata.geo.names import with_readable_names

    return with_readable_names(boundaries_of("lsoa21", codes), "lsoa21").reset_index(drop=True)


def saved_trusts() -> dict[str, str]:
    """Saved school trusts as places: ``trust:<id>`` -> "Trust: <title> (N schools)"."""
    from civicdata import trust

    return {f"trust:{g['id']}": f"Trust: {g['title']} ({g['schools']} schools)" for g in trust.list_groups()}


@st.cache_data(show_spinner=False, max_entries=8)
def _saved_areas(db_url: str, places_version: int) -> dict[str, dict]:
    from civicdata.geo import places

    return {f"{places.AREA_PREFIX}{a['id']}": a for a in places.list_areas()}


def places_stamp() -> tuple:
    """Cache key part that moves when any server saves, renames or deletes a saved place (the store's ``places``
    version, in this store: its URL is part of the key)."""
    from civicdata import store

    return settings.db_url(), store.version("places")


def saved_areas() -> dict[str, str]:
    """Saved custom areas as places: ``area:<id>`` -> "Area: <title> (N neighbourhoods)"."""
    return {p: f"Area: {a['title']} ({a['neighbourhoods']} neighbourhoods)" for p, a in _saved_areas(*places_stamp()).items()}


def saved_area_title(place: str) -> str:
    """The title of the saved area ``area:<id>``."""
    return _saved_areas(*places_stamp())[place]["title"]


@st.cache_data(show_spinner=False, max_entries=16)
def _saved_area_profile(area_id: str, db_url: str, places_version: int) -> dict:
    from civicdata.geo import places

    return places.saved_area_profile(area_id)


def saved_area_profile(area_id: str) -> dict:
    """A saved area's profile (cached until any saved place changes: :func:`places_stamp`)."""
    return _saved_area_profile(area_id, *places_stamp())


@st.cache_data(show_spinner=False, max_entries=16)
def district_outlines(lad_codes: tuple):
    """The outlines of local authority districts (LAD 2024, the union of their LSOAs 2021)."""
    import pandas as _pd

    parts = [choropleth.boundaries_for("lad", c) for c in lad_codes]
    return _pd.concat(parts, ignore_index=True) if parts else choropleth.boundaries_for("lad", settings.DEFAULT_LAD).iloc[:0]


@st.cache_data(show_spinner=False, max_entries=16)
def trust_convene(urns: tuple) -> dict:
    from civicdata import trust

    return trust.convene_across(trust_schools(urns))


@st.cache_data(show_spinner=False, max_entries=64)
def qof_icb(place: str) -> pd.DataFrame:
    return profile.compute_qof_icb(place)


def layer_stamp(layer_id: str) -> tuple:
    """Cache key part that changes when the layer's data file changes."""
    p = catalogue().get(layer_id).data_path
    return (str(p), p.stat().st_mtime_ns)


@st.cache_data(show_spinner=False)
def bundled_lines() -> pd.DataFrame:
    return metro.bundled_lines()


@st.cache_resource(show_spinner="Loading the GTFS feed…", max_entries=4)
def feed(path: str, mtime: float) -> Feed:
    """A loaded GTFS feed, shared and never mutated (keyed by path and modification time)."""
    return load_feed(path)


def default_feed_path() -> Path:
    return settings.data_dir() / "transport" / "chester_gtfs.zip"


@st.cache_data(show_spinner=False, max_entries=32)
def line_profile(kind: str, key: str, iod: str, _line: "metro.Line") -> pd.DataFrame:
    """Stop profile of a line; ``kind``/``key`` identify the line for the cache."""
    return metro.stop_profile(_line, iod=iod)


@st.cache_data(show_spinner="Ranking…", max_entries=32)
def focus_result(unit: str, area: str, weights: tuple, top_n: int, stamp_key: tuple,
                 include_incomplete: bool = False) -> "_focus.FocusResult":
    """The ranking (cached; ``stamp_key`` moves with the layers and, for a saved area, the store's places)."""
    return _focus.compute_focus(catalogue(), unit, area, dict(weights), top_n=top_n,
                                include_incomplete=include_incomplete)


@st.cache_data(show_spinner=False, max_entries=64)
def convene_table(unit: str, code: str) -> pd.DataFrame:
    return _focus.convene(unit, code)


@st.cache_data(show_spinner=False, max_entries=64)
def focus_defaults(unit: str, area: str, stamp_key: tuple) -> dict:
    """The default indicators for a unit and area (every place covered): :func:`civicdata.focus.default_weights`."""
    return _focus.default_weights(catalogue(), unit, area)


@st.cache_data(show_spinner=False, max_entries=256)
def focus_coverage(unit: str, area: str, layer_id: str, stamp_key: tuple) -> tuple[int, int]:
    """(places with a value, places) of one layer for a unit and area."""
    return _focus.indicator_coverage(catalogue(), unit, area, [layer_id])[layer_id]


@st.cache_resource(show_spinner="Building the timetable…", max_entries=4)
def feed_outcome(path: str, mtime: float, day):
    """The day's timetable of a feed, or the message saying why not, with the feed's warnings."""
    from civicdata.transit.access import open_feed

    return open_feed(path, day)


@st.cache_resource(show_spinner="Building the street-accurate model (ferrobus)…", max_entries=2)
def ferrobus_engine(gtfs_path: str, osm_path: str, day):
    from civicdata.transit.engines import FerrobusEngine

    return FerrobusEngine(Path(gtfs_path), Path(osm_path), day)


@st.cache_data(show_spinner=False, max_entries=32)
def school_comparison(measure_id: str, urns: tuple) -> pd.DataFrame:
    """Each school's value of a school measure beside its local authority's and England's."""
    from civicdata.indicators import schools as school_ind

    return school_ind.compare(measure_id, list(urns))


@st.cache_data(show_spinner=False, max_entries=32)
def founding_schools(urns: tuple, journey_layer: str, minutes: float, stamp) -> pd.DataFrame:
    """The schools among ``urns`` meeting the founding question's rule (with a journey layer when one is named;
    ``stamp``, the layer's file and time, is part of the cache key so a replaced layer is read again)."""
    from civicdata.indicators import schools as school_ind
    from civicdata.indicators.layers import load_layer

    journey = None
    if journey_layer:
        lay = load_layer(catalogue().get(journey_layer))
        journey = lay.assign(code=lay["code"].astype(int)).set_index("code")["value"]
    return school_ind.founding_question(list(urns), journey, minutes)


@st.cache_data(show_spinner=False, max_entries=16)
def la_absence_trend(urns: tuple) -> pd.DataFrame:
    """Persistent absence 2018/19 to 2024/25 in the schools' local authorities and England."""
    from civicdata.indicators import schools as school_ind

    return school_ind.la_absence_trend(list(urns))


@st.cache_data(show_spinner=False, max_entries=16)
def absence_in_deprived(place: str) -> pd.DataFrame:
    """The place's schools with the highest persistent absence (2018/19) in its decile 1-2 neighbourhoods."""
    from civicdata.geo.places import areas_in_place
    from civicdata.indicators import schools as school_ind

    return school_ind.absence_in_deprived(set(areas_in_place(place, "lsoa21")["code"]))


def stored_feeds() -> list:
    """The GTFS feeds in the store (without their bytes), read again when the store's ``feeds`` counter moves."""
    from civicdata import store

    return _stored_feeds(store.version("feeds"))  # the counter is the cache key


@st.cache_data(show_spinner=False, max_entries=4)
def _stored_feeds(version: int) -> list:
    from civicdata.store import feeds

    return feeds.stored_feeds()


@st.cache_data(show_spinner="Copying the timetable from the store…", max_entries=8)
def stored_feed_path(name: str, sha256: str) -> Path:
    """A stored feed's local copy (named by its sha256: the timetable cache is shared with the same file)."""
    from civicdata.store import feeds

    return feeds.local_copy(name)


@st.cache_data(show_spinner=False, max_entries=8)
def feed_districts(path: str, mtime: float) -> list[str]:
    """LAD 2024 codes of the districts a feed serves (see transit.feeds.covered_districts), most stops first."""
    from civicdata.transit.feeds import covered_districts, districts_of_stops

    return covered_districts(districts_of_stops(feed(path, mtime).stops))


@st.cache_data(show_spinner=False, max_entries=16)
def nearest_service_dates(path: str, mtime: float, day) -> tuple:
    """The nearest dates before and after ``day`` on which the feed runs a trip (None where there is none)."""
    from civicdata.transit.gtfs import nearest_service_days

    return nearest_service_days(feed(path, mtime), day)

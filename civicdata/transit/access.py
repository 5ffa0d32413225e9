"""School-to-service access: for every school, the nearest service by scheduled public transport,
what changes if a clinic is hosted in a school, and the minutes as a layer keyed on URN (so that
Strategic focus and the maps can use them). Pure functions over frames (see transit)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.transit import raptor as transit
from civicdata.indicators.catalogue import Catalogue, LayerDescriptor
from civicdata.errors import Problem
from civicdata.transit.gtfs import FeedError
from civicdata.geo.places import areas_in_place
from civicdata.indicators.layers import load_layer
from civicdata.indicators.profile import load_schools
from civicdata.transit.raptor import Timetable, hhmmss, nearest_service

DEFAULT_STEP = 300  # seconds between departures sampled in the window
#: the service School to clinic starts with: current GP practices (ODS 2025), never the 2014 directory
DEFAULT_SERVICE = "gp_practices2025"


@dataclass
class FeedOutcome:
    """What opening a feed for a day gave: the timetable, or the message saying why not, and the warnings.

    ``errors`` are the feed's errors (it cannot be routed); ``message`` is the one sentence to show
    instead of results (errors, or no service that day); never an exception for a bad feed or day.
    """

    timetable: Timetable | None
    warnings: list[Problem]
    errors: list[Problem]
    message: str | None


def open_feed(path: str | Path, day: date) -> FeedOutcome:
    """The day's timetable of a GTFS feed, as the School to clinic page and the CLI open it: from the
    on-disk cache when the same feed (sha256) and day were built before by the same code, else loaded,
    built and cached (:mod:`civicdata.transit.cache`)."""
    from civicdata.transit.cache import open_timetable

    try:
        opened = open_timetable(path, day)
    except FeedError as exc:
        return FeedOutcome(None, exc.warnings, list(exc.problems),
                           f"{Path(path).name} cannot be routed: {len(exc.problems)} error(s) in the feed.")
    except transit.NoServiceError as exc:
        return FeedOutcome(None, getattr(exc, "warnings", []), [], exc.problems[0].message)
    return FeedOutcome(opened.timetable, opened.warnings, [], None)


def feed_bounds(tt: Timetable, margin_deg: float = 0.01) -> tuple[float, float, float, float]:
    """(minlon, minlat, maxlon, maxlat) of the stops served on the timetable's day, plus a margin."""
    served = np.unique(tt.pat_stops)
    return (float(tt.stop_lon[served].min() - margin_deg), float(tt.stop_lat[served].min() - margin_deg),
            float(tt.stop_lon[served].max() + margin_deg), float(tt.stop_lat[served].max() + margin_deg))


def in_bounds(frame: pd.DataFrame, bounds) -> pd.DataFrame:
    minx, miny, maxx, maxy = bounds
    return frame[frame["lon"].between(minx, maxx) & frame["lat"].between(miny, maxy)].reset_index(drop=True)


def schools_and_services(catalogue: Catalogue, place: str, service_id: str, tt: Timetable,
                         data_dir: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The GIAS schools of a place (LAD code; LSOA 2021 location) and the points of a service layer,
    both kept only within the feed's area (:func:`feed_bounds`)."""
    bounds = feed_bounds(tt)
    schools = load_schools(data_dir)
    codes = set(areas_in_place(place, "lsoa21", data_dir)["code"])
    schools = in_bounds(schools[schools["lsoa21_code"].isin(codes)], bounds)
    desc = catalogue.get(service_id)
    if desc.geography != "point":
        raise ValueError(f"layer {service_id} is not a point layer: choose a service (GP practices, clinics, ...)")
    return schools, in_bounds(load_layer(desc), bounds)


def school_access(tt: Timetable, schools: pd.DataFrame, services: pd.DataFrame, start: int, end: int,
                  step: int = DEFAULT_STEP, progress=None,
                  max_minutes: float | None = transit.DEFAULT_MAX_MINUTES) -> pd.DataFrame:
    """One row per school: ``urn``, ``name``, ``neighbourhood`` (readable name of its LSOA 2021), ``pupils``,
    ``service`` (name of the nearest service by
    median journey time), ``best``/``median``/``worst`` minutes over the window, ``vehicles``,
    ``walk_minutes``, ``two_plus`` (two or more vehicles), ``departures_reached`` (departures with a journey
    within ``max_minutes``), ``reached`` (False: no median journey within the cap in this feed)."""
    res = nearest_service(tt, schools[["lat", "lon"]], services[["lat", "lon"]], start, end, step, progress,
                          max_minutes=max_minutes)
    return school_table(schools, services, res)


def school_access_at_scale(feed: str | Path, day: date, schools: pd.DataFrame, services: pd.DataFrame, start: int,
                           end: int, step: int = DEFAULT_STEP, progress=None,
                           max_minutes: float | None = transit.DEFAULT_MAX_MINUTES, workers: int = 1,
                           scheduler: str | None = None, cancel=None) -> pd.DataFrame:
    """:func:`school_access` for a feed on disk, in this process or on Dask (:mod:`civicdata.transit.jobs`):
    the same table, school by school, whichever way it runs."""
    from civicdata.transit.jobs import run_origins

    origins = schools[["lat", "lon"]].reset_index(drop=True)
    res = run_origins("nearest", feed, day, origins, services[["lat", "lon"]], start, end, step, max_minutes,
                      workers=workers, scheduler=scheduler, progress=progress, cancel=cancel)
    return school_table(schools, services, res)


def school_table(schools: pd.DataFrame, services: pd.DataFrame, res: pd.DataFrame) -> pd.DataFrame:
    """The School to clinic table from :func:`civicdata.transit.raptor.nearest_service`'s rows (one per school, in
    the schools' order)."""
    out = schools[["urn", "name", "neighbourhood", "pupils", "lat", "lon"]].reset_index(drop=True).copy()
    res = res.reset_index(drop=True)
    out["service"] = [services.loc[i, "name"] if i is not None and not pd.isna(i) else None for i in res["service_index"]]
    out["service_index"] = res["service_index"]
    for c in ("best", "median", "worst", "vehicles", "walk_minutes", "two_plus", "departures_reached"):
        out[c] = res[c].to_numpy()
    out["reached"] = out["median"].notna() & np.isfinite(out["median"].astype(float))
    return out


def compare_hosting(before: pd.DataFrame, after: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """Schools whose median journey gets shorter once a clinic is hosted, and the pupil-weighted gain.

    Returns the table (``urn``, ``name``, ``pupils``, ``before``, ``after``, ``minutes_saved``) and a
    summary: ``schools``, ``pupils``, ``pupil_weighted_minutes_saved`` (mean over the pupils who gain).
    """
    b = before.set_index("urn")["median"].astype(float)
    a = after.set_index("urn")["median"].astype(float)
    t = before[["urn", "name", "pupils"]].copy()
    t["pupils"] = pd.to_numeric(t["pupils"], errors="coerce").astype(float)
    bv = t["urn"].map(b).to_numpy(dtype=float, na_value=np.nan)
    av = t["urn"].map(a).to_numpy(dtype=float, na_value=np.nan)
    bv[~np.isfinite(bv)] = np.nan
    av[~np.isfinite(av)] = np.nan
    t["before"], t["after"] = bv, av
    saved = np.where(np.isnan(bv), np.inf, bv) - av
    t["minutes_saved"] = np.where(np.isinf(saved), np.nan, saved)
    gain = t[(t["after"].notna()) & ((t["before"].isna()) | (t["minutes_saved"] > 0.01))].copy()
    gain = gain.sort_values("minutes_saved", ascending=False, na_position="first").reset_index(drop=True)
    w = gain["pupils"].fillna(0)
    finite = gain["minutes_saved"].notna()
    pw = float((gain.loc[finite, "minutes_saved"] * w[finite]).sum() / w[finite].sum()) if w[finite].sum() > 0 else None
    return gain, {"schools": int(len(gain)), "pupils": int(w.sum()), "pupil_weighted_minutes_saved": pw,
                  "newly_reached": int((~finite).sum())}


def journey_layer(table: pd.DataFrame, *, service: LayerDescriptor, feed_name: str, day: date, start: int, end: int,
                  layer_id: str | None = None,
                  max_minutes: float | None = transit.DEFAULT_MAX_MINUTES) -> tuple[bytes, dict]:
    """The median minutes of :func:`school_access` as a layer keyed on school URN, ready for
    :func:`civicdata.indicators.userlayers.add_layer`: (CSV bytes, raw descriptor).

    Schools with no journey in the feed within ``max_minutes`` are left out (missing, never zero), so
    Strategic focus ranks them on their other indicators and counts the missing one. Units: minutes, door
    to door, median over departures every few minutes in the window; higher is worse; never above the cap
    (the descriptor's ``valid_max``).
    """
    cap = "" if max_minutes is None else f" within {max_minutes:g} minutes"
    window = f"{hhmmss(start)[:5]}-{hhmmss(end)[:5]}"
    layer_id = layer_id or f"journey_{service.id}_{window.replace(':', '').replace('-', '_')}"[:64]
    rows = table[table["reached"]]
    csv = pd.DataFrame({"urn": rows["urn"].astype(str), "minutes": rows["median"].astype(float).round(2),
                        "nearest": rows["service"]}).to_csv(index=False).encode("utf-8")
    name = service.title.split(" (")[0]
    raw = {"id": layer_id, "title": f"Minutes by public transport to {name} (nearest)",
           "description": (f"Median door-to-door minutes from each school to the nearest of '{service.title}' over "
                           f"departures {window} on {day:%a %d %b %Y} in the GTFS feed {feed_name}; walking: "
                           f"{transit.WALKING_RULES}. {transit.cap_rule(max_minutes)} {transit.WINDOW_RULE} "
                           f"Schools with no journey{cap} in the feed are missing."),
           "unit": "minutes", "polarity": "higher_is_worse", "geography": "urn", "file": "data.csv",
           "key_column": "urn", "value_column": "minutes", "name_column": "nearest",
           "source": f"Local Need Explorer journey planner on GTFS {feed_name}, {service.source}, DfE GIAS",
           "licence": f"derived: GTFS feed {feed_name} (its own licence); {service.licence}; GIAS: Open Government "
                      "Licence v3.0",
           "vintage": f"timetable of {day.isoformat()}, {window}", "theme": "access", "valid_min": 0,
           **({} if max_minutes is None else {"valid_max": float(max_minutes)}),
           "coverage": f"outside the area of the GTFS feed {feed_name}, or no journey there{cap} in {window}"}
    return csv, raw


def two_buses_headline(table: pd.DataFrame, service_words: str, cap: int) -> str:
    """One coherent sentence over :func:`school_access`'s table (``two_plus``, ``reached``): how many schools are
    two or more buses from the nearest service among those with a journey within ``cap`` minutes, and how many
    have none — never "0 of 87 … two or more buses" beside "34 … have no journey"."""
    total = len(table)
    two = int(table["two_plus"].sum())
    reached = int(table["reached"].sum())
    if reached == total:
        return f"{two} of {total} schools are two or more buses from the nearest {service_words}"
    none = total - reached
    return (f"{two} of the {reached} schools with a journey within {cap} minutes are two or more buses from the "
            f"nearest {service_words}; {none} of {total} have no journey within {cap} minutes in this feed")

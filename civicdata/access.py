"""School-to-service access: for every school, the nearest service by scheduled public transport,
and what changes if a clinic is hosted in a school. Pure functions over frames (see transit)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from civicdata.transit import Timetable, nearest_service

DEFAULT_STEP = 300  # seconds between departures sampled in the window


def feed_bounds(tt: Timetable, margin_deg: float = 0.01) -> tuple[float, float, float, float]:
    """(minlon, minlat, maxlon, maxlat) of the stops served on the timetable's day, plus a margin."""
    served = np.unique(tt.pat_stops)
    return (float(tt.stop_lon[served].min() - margin_deg), float(tt.stop_lat[served].min() - margin_deg),
            float(tt.stop_lon[served].max() + margin_deg), float(tt.stop_lat[served].max() + margin_deg))


def in_bounds(frame: pd.DataFrame, bounds) -> pd.DataFrame:
    minx, miny, maxx, maxy = bounds
    return frame[frame["lon"].between(minx, maxx) & frame["lat"].between(miny, maxy)].reset_index(drop=True)


def school_access(tt: Timetable, schools: pd.DataFrame, services: pd.DataFrame, start: int, end: int,
                  step: int = DEFAULT_STEP, progress=None) -> pd.DataFrame:
    """One row per school: ``urn``, ``name``, ``pupils``, ``service`` (name of the nearest service by
    median journey time), ``best``/``median``/``worst`` minutes over the window, ``vehicles``,
    ``walk_minutes``, ``two_plus`` (two or more vehicles), ``reached`` (False: no journey in this feed)."""
    res = nearest_service(tt, schools[["lat", "lon"]], services[["lat", "lon"]], start, end, step, progress)
    out = schools[["urn", "name", "pupils", "lat", "lon"]].reset_index(drop=True).copy()
    res = res.reset_index(drop=True)
    out["service"] = [services.loc[i, "name"] if i is not None and not pd.isna(i) else None for i in res["service_index"]]
    out["service_index"] = res["service_index"]
    for c in ("best", "median", "worst", "vehicles", "walk_minutes", "two_plus"):
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

"""All Cheshire West and Chester schools in the Chester feed's area x every clinic there, one window.

Prints wall time and peak memory (goal: under 10 s on 2 cores). Run: python bench/transit_batch.py
"""

from __future__ import annotations

import resource
import time
import tracemalloc
from datetime import date

from civicdata.transit import access
from civicdata.indicators.catalogue import load_catalogue
from civicdata.geo.places import areas_in_place
from civicdata.transit.gtfs import load_feed
from civicdata.indicators.layers import load_layer
from civicdata.indicators.profile import load_schools
from civicdata.settings import data_dir
from civicdata.transit.raptor import build_timetable


def main() -> None:
    t0 = time.perf_counter()
    tracemalloc.start()
    tt = build_timetable(load_feed(data_dir() / "transport" / "chester_gtfs.zip"), date(2023, 9, 13))
    bounds = access.feed_bounds(tt)
    codes = set(areas_in_place("E06000050", "lsoa21")["code"])
    s = load_schools()
    schools = access.in_bounds(s[s["lsoa21_code"].isin(codes)], bounds)
    cat = load_catalogue()
    for layer, step in (("nhs2014_clinics", 300), ("nhs2014_gp_practices", 300), ("nhs2014_clinics", 60)):
        services = access.in_bounds(load_layer(cat.get(layer)), bounds)
        t = time.perf_counter()
        res = access.school_access(tt, schools, services, 8 * 3600, 9 * 3600, step)
        wall = time.perf_counter() - t
        print(f"{len(schools)} schools x {len(services)} {layer} services, 08:00-09:00 every {step // 60} min "
              f"({3600 // step + 1} departures): {wall:.2f} s; two or more buses: {int(res['two_plus'].sum())}")
    _, peak = tracemalloc.get_traced_memory()
    print(f"total wall time incl. loading and numba start-up: {time.perf_counter() - t0:.2f} s; "
          f"peak Python allocations {peak / 2**20:.0f} MB; max RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()

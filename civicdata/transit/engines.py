"""Journey engines behind one interface: ours (RAPTOR, straight-line walking) and, when an
OpenStreetMap extract is supplied, ``ferrobus`` (a Rust RAPTOR that walks on the streets).

Both return :class:`~civicdata.transit.raptor.Journey`. Street routing is never written here:
ferrobus does it. Its walking follows streets, ours straight lines x 1.3, so minutes differ.
"""

from __future__ import annotations

import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pandas as pd

from civicdata.errors import Problem, ProblemsError
from civicdata.transit.raptor import Journey, Leg, Timetable, journey as raptor_journey


@dataclass
class RaptorEngine:
    """Our engine on a timetable."""

    timetable: Timetable
    name: str = "ours (straight-line walking)"

    def journey(self, origin: tuple[float, float], destination: tuple[float, float], depart: int) -> Journey:
        # uncapped: the engines are compared on the journeys they find, however long
        return raptor_journey(self.timetable, origin, destination, depart, max_minutes=None)


class FerrobusEngine:
    """ferrobus on a GTFS feed (zip or folder) and an OpenStreetMap extract (.osm.pbf) for one day."""

    name = "ferrobus (street walking)"

    def __init__(self, gtfs: Path, osm: Path, day: date, max_transfers: int = 7):
        try:
            import ferrobus
        except ImportError as exc:  # pragma: no cover - ferrobus is a declared dependency
            raise ProblemsError([Problem("ferrobus", "the ferrobus package is not installed")], "engine unavailable") from exc
        self._fb = ferrobus
        self.max_transfers = max_transfers
        gtfs, osm = Path(gtfs), Path(osm)
        if not osm.is_file():
            raise ProblemsError([Problem(osm.name, "OpenStreetMap extract not found")], "cannot build ferrobus")
        with tempfile.TemporaryDirectory() as tmp:
            folder = gtfs
            if gtfs.is_file():
                try:
                    zipfile.ZipFile(gtfs).extractall(tmp)
                except zipfile.BadZipFile as exc:
                    raise ProblemsError([Problem(gtfs.name, "not a zip file")], "cannot build ferrobus") from exc
                folder = Path(tmp)
            try:
                self.model = ferrobus.create_transit_model(str(osm), [str(folder)], day)
            except (RuntimeError, ValueError, OSError) as exc:
                raise ProblemsError([Problem(osm.name, f"ferrobus could not build a model: {exc}")],
                                    "cannot build ferrobus") from exc

    def journey(self, origin: tuple[float, float], destination: tuple[float, float], depart: int) -> Journey:
        fb = self._fb
        try:
            a = fb.create_transit_point(float(origin[0]), float(origin[1]), self.model)
            b = fb.create_transit_point(float(destination[0]), float(destination[1]), self.model)
        except (ValueError, RuntimeError):
            return Journey(depart, None, 0, 0.0, [])  # a point off the extract's streets
        r = fb.find_route(self.model, a, b, int(depart), max_transfers=self.max_transfers)
        if r is None:
            return Journey(depart, None, 0, 0.0, [])
        arrival = depart + int(r["travel_time_seconds"])
        vehicles = int(r["transfers"]) + 1 if r["used_transit"] else 0
        leg = Leg("ride" if vehicles else "walk", "origin", "destination", depart, arrival)
        return Journey(depart, arrival, vehicles, float(r["walking_time_seconds"]), [leg])


def compare_engines(engines: list, pairs: pd.DataFrame, depart: int) -> pd.DataFrame:
    """Minutes and vehicles of each engine for each origin-destination pair
    (``o_lat``, ``o_lon``, ``d_lat``, ``d_lon``); columns ``<engine name> minutes``/``vehicles``."""
    out = pairs.copy()
    for eng in engines:
        mins, veh = [], []
        for r in pairs.itertuples():
            j = eng.journey((r.o_lat, r.o_lon), (r.d_lat, r.d_lon), depart)
            mins.append(j.minutes)
            veh.append(j.vehicles if j.arrival is not None else None)
        out[f"{eng.name} minutes"] = mins
        out[f"{eng.name} vehicles"] = veh
    return out

"""Timetables and journeys: GTFS reading and checks, the RAPTOR router, the engines, the timetable cache, Dask jobs and school-to-service access."""

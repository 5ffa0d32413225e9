"""A corpus of small malformed GTFS feeds, each made from the real Chester feed with one fault.

``base_feed()`` cuts the bundled Chester feed (BODS, Aug 2023) to two routes; each entry of
``FAULTS`` changes it once and says which errors and warnings ``check_feed`` must name (as the
exact text of the problem). Feeds that only differ in encoding or layout (BOM, UTF-16, CRLF,
quoted fields, times past 24:00:00, calendar_dates.txt only) must load with no error.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pandas as pd

CHESTER = Path(__file__).resolve().parents[1] / "data" / "transport" / "chester_gtfs.zip"
IN_SERVICE = "20230913"  # a Wednesday the Chester calendars cover
NO_SERVICE = "20250101"  # after every calendar ends


def _frames() -> dict[str, pd.DataFrame]:
    with zipfile.ZipFile(CHESTER) as z:
        return {n: pd.read_csv(io.BytesIO(z.read(n)), dtype=str, keep_default_na=False) for n in z.namelist()
                if n != "shapes.txt"}


def base_feed() -> dict[str, pd.DataFrame]:
    """Two routes of the Chester feed (the two with most trips), every table cut to match."""
    f = _frames()
    top = f["trips.txt"]["route_id"].value_counts().index[:2]
    trips = f["trips.txt"][f["trips.txt"]["route_id"].isin(top)].head(40).assign(shape_id="")
    st = f["stop_times.txt"][f["stop_times.txt"]["trip_id"].isin(set(trips["trip_id"]))]
    return {"agency.txt": f["agency.txt"], "routes.txt": f["routes.txt"][f["routes.txt"]["route_id"].isin(top)],
            "trips.txt": trips, "stop_times.txt": st,
            "stops.txt": f["stops.txt"][f["stops.txt"]["stop_id"].isin(set(st["stop_id"]))],
            "calendar.txt": f["calendar.txt"][f["calendar.txt"]["service_id"].isin(set(trips["service_id"]))]}


def to_bytes(frames: dict[str, pd.DataFrame]) -> dict[str, bytes]:
    return {n: df.to_csv(index=False, lineterminator="\n").encode("utf-8") for n, df in frames.items()}


def write_zip(files: dict[str, bytes], path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    return path


# ------------------------------------------------------------------ the faults

def _set(frames, name, row, col, value):
    df = frames[name].reset_index(drop=True).copy()
    df.at[row, col] = value
    frames[name] = df
    return frames


def missing_stops(fr):
    del fr["stops.txt"]
    return to_bytes(fr)


def missing_column(fr):
    fr["stops.txt"] = fr["stops.txt"].drop(columns="stop_lat")
    return to_bytes(fr)


def bad_start_date(fr):
    return to_bytes(_set(fr, "calendar.txt", 0, "start_date", "2007.01.01"))


def bad_time(fr):
    return to_bytes(_set(fr, "stop_times.txt", 2, "arrival_time", "8:5:00"))


def duplicate_trip(fr):
    t = fr["trips.txt"].reset_index(drop=True)
    fr["trips.txt"] = pd.concat([t, t.iloc[[0]]], ignore_index=True)
    return to_bytes(fr)


def unknown_stop(fr):
    return to_bytes(_set(fr, "stop_times.txt", 3, "stop_id", "NOSUCHSTOP"))


def unknown_trip(fr):
    return to_bytes(_set(fr, "stop_times.txt", 3, "trip_id", "NOSUCHTRIP"))


def unknown_route(fr):
    return to_bytes(_set(fr, "trips.txt", 1, "route_id", "NOSUCHROUTE"))


def repeated_sequence(fr):
    st = fr["stop_times.txt"].reset_index(drop=True)
    return to_bytes(_set(fr, "stop_times.txt", 1, "stop_sequence", st.at[0, "stop_sequence"]))


def time_backwards(fr):
    _set(fr, "stop_times.txt", 1, "arrival_time", "00:00:01")
    return to_bytes(_set(fr, "stop_times.txt", 1, "departure_time", "00:00:01"))


def extra_cell(fr):
    files = to_bytes(fr)
    lines = files["routes.txt"].decode().split("\n")
    lines[1] += ",EXTRA"
    files["routes.txt"] = "\n".join(lines).encode()
    return files


def missing_cell(fr):
    files = to_bytes(fr)
    lines = files["agency.txt"].decode().split("\n")
    lines[1] = lines[1].rsplit(",", 1)[0]
    files["agency.txt"] = "\n".join(lines).encode()
    return files


def unknown_column(fr):
    fr["stops.txt"] = fr["stops.txt"].assign(my_note="x")
    return to_bytes(fr)


def unused_stop(fr):
    s = fr["stops.txt"].reset_index(drop=True)
    extra = s.iloc[[0]].assign(stop_id="UNUSED1", stop_name="Nowhere")
    fr["stops.txt"] = pd.concat([s, extra], ignore_index=True)
    return to_bytes(fr)


def empty_optional(fr):
    files = to_bytes(fr)
    files["shapes.txt"] = b"shape_id,shape_pt_lat,shape_pt_lon,shape_pt_sequence\n"
    return files


def trip_without_service(fr):
    return to_bytes(_set(fr, "trips.txt", 0, "service_id", "NOSUCHSERVICE"))


def utf8_bom(fr):
    files = to_bytes(fr)
    files["stops.txt"] = b"\xef\xbb\xbf" + files["stops.txt"]
    return files


def utf16(fr):
    files = to_bytes(fr)
    files["stops.txt"] = files["stops.txt"].decode().encode("utf-16")
    return files


def crlf(fr):
    return {n: d.replace(b"\n", b"\r\n") for n, d in to_bytes(fr).items()}


def quoted_fields(fr):
    s = fr["stops.txt"].reset_index(drop=True).copy()
    s.at[0, "stop_name"] = 'Bus Exchange, Stand "A"'
    fr["stops.txt"] = s
    return to_bytes(fr)


def past_midnight(fr):
    st = fr["stop_times.txt"].reset_index(drop=True).copy()
    first = st["trip_id"].iloc[0]
    rows = st["trip_id"] == first

    def later(t):
        h, m, s = t.split(":")
        return f"{int(h) + 14:02d}:{m}:{s}"

    st.loc[rows, "arrival_time"] = st.loc[rows, "arrival_time"].map(later)
    st.loc[rows, "departure_time"] = st.loc[rows, "departure_time"].map(later)
    fr["stop_times.txt"] = st
    return to_bytes(fr)


def calendar_dates_only(fr):
    services = sorted(set(fr["trips.txt"]["service_id"]))
    del fr["calendar.txt"]
    fr["calendar_dates.txt"] = pd.DataFrame([{"service_id": s, "date": d, "exception_type": "1"}
                                             for s in services for d in (IN_SERVICE, "20230914")])
    return to_bytes(fr)


def single_calls(fr):
    """Every trip calls at one stop only: trips run, but nothing can be routed (crashed the planner)."""
    st = fr["stop_times.txt"]
    fr["stop_times.txt"] = st.drop_duplicates("trip_id")
    return to_bytes(fr)


#: name -> (make, errors that must be named, warnings that must be named); texts are str(Problem) after "feed.zip/"
FAULTS = {
    "missing_stops": (missing_stops, ["stops.txt: required file is missing"], []),
    "missing_column": (missing_column, ["stops.txt, row 1, column 'stop_lat': required column is missing"], []),
    "bad_start_date": (bad_start_date, ["calendar.txt, row 2, column 'start_date': '2007.01.01' is not a date written "
                                        "YYYYMMDD"], []),
    "bad_time": (bad_time, ["stop_times.txt, row 4, column 'arrival_time': malformed time '8:5:00' (expected "
                            "HH:MM:SS)"], []),
    "duplicate_trip": (duplicate_trip, ["trips.txt, row 42, column 'trip_id': trip_id '{trip0}' appears more than "
                                        "once"], []),
    "unknown_stop": (unknown_stop, ["stop_times.txt, row 5, column 'stop_id': stop_id 'NOSUCHSTOP' is not in "
                                    "stops.txt"], []),
    "unknown_trip": (unknown_trip, ["stop_times.txt, row 5, column 'trip_id': trip_id 'NOSUCHTRIP' is not in "
                                    "trips.txt"], []),
    "unknown_route": (unknown_route, ["trips.txt, row 3, column 'route_id': route_id 'NOSUCHROUTE' is not in "
                                      "routes.txt"], []),
    "repeated_sequence": (repeated_sequence, ["stop_times.txt, row 3, column 'stop_sequence': trip '{st_trip0}' lists "
                                              "stop_sequence {seq0} twice"], []),
    "time_backwards": (time_backwards, ["stop_times.txt, row 3, column 'arrival_time': trip '{st_trip0}' goes back "
                                        "in time here (earlier than the call before it, or departing before it "
                                        "arrives)"], []),
    "extra_cell": (extra_cell, [], ["routes.txt, row 2: row has 6 cells, the header 5: 1 extra cell(s) ignored"]),
    "missing_cell": (missing_cell, [], ["agency.txt, row 2: row has 6 cells, the header 7: 1 missing cell(s) left "
                                        "blank"]),
    "unknown_column": (unknown_column, [], ["stops.txt, row 1, column 'my_note': unknown column(s), ignored: "
                                            "my_note"]),
    "unused_stop": (unused_stop, [], ["stops.txt, column 'stop_id': 1 stop(s) that no trip calls at, e.g. "
                                      "'UNUSED1'"]),
    "empty_optional": (empty_optional, [], ["shapes.txt: optional file is empty: ignored"]),
    "trip_without_service": (trip_without_service, [], ["trips.txt, row 2, column 'service_id': trip '{trip0}' has "
                                                        "service_id 'NOSUCHSERVICE', which no calendar defines: it "
                                                        "never runs"]),
    "utf8_bom": (utf8_bom, [], []),
    "utf16": (utf16, [], []),
    "crlf": (crlf, [], []),
    "quoted_fields": (quoted_fields, [], []),
    "past_midnight": (past_midnight, [], []),
    "calendar_dates_only": (calendar_dates_only, [], []),
    "single_calls": (single_calls, [], []),
}

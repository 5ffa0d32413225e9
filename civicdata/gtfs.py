"""Load any GTFS feed (zip or folder) into frames, with every problem named by file, row and column.

Times are parsed to seconds after midnight of the service day; values past 24:00:00 are
valid (a trip running after midnight). The loader is shared by the metro-line profiles
and the journey planner.
"""

from __future__ import annotations

import codecs
import io
import zipfile
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from civicdata.errors import Problem, ProblemsError

REQUIRED: dict[str, list[str]] = {
    "stops.txt": ["stop_id", "stop_name", "stop_lat", "stop_lon"],
    "routes.txt": ["route_id", "route_type"],
    "trips.txt": ["route_id", "service_id", "trip_id"],
    "stop_times.txt": ["trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence"],
}
OPTIONAL: dict[str, list[str]] = {
    "calendar.txt": ["service_id", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
                     "start_date", "end_date"],
    "calendar_dates.txt": ["service_id", "date", "exception_type"],
    "shapes.txt": ["shape_id", "shape_pt_lat", "shape_pt_lon", "shape_pt_sequence"],
    "agency.txt": [],
}
MAX_LISTED = 5


class FeedError(ProblemsError):
    """A GTFS feed is missing files or columns, or holds malformed values."""


@dataclass
class Feed:
    """A loaded GTFS feed. ``stop_times`` holds ``trip_id``, ``stop_id``, ``stop_sequence`` and
    ``arrival_s``/``departure_s`` (seconds after midnight, float; the text times are dropped once
    parsed), sorted by trip and stop_sequence."""

    name: str
    stops: pd.DataFrame
    routes: pd.DataFrame
    trips: pd.DataFrame
    stop_times: pd.DataFrame
    calendar: pd.DataFrame | None
    calendar_dates: pd.DataFrame | None
    shapes: pd.DataFrame | None

    def route_labels(self) -> pd.Series:
        """Each route's ``route_short_name route_long_name`` (either alone when the other is blank, the
        route_id when both are), indexed by route_id (first row of a repeated id)."""
        r = self.routes.drop_duplicates("route_id")
        blank = pd.Series("", index=r.index)
        short = (r["route_short_name"] if "route_short_name" in r.columns else blank).fillna("")
        long = (r["route_long_name"] if "route_long_name" in r.columns else blank).fillna("")
        label = (short + " " + long).where((short != "") & (long != ""), short + long)
        label = label.where(label != "", r["route_id"])
        return pd.Series(label.to_numpy(dtype=object), index=r["route_id"].to_numpy(dtype=object))

    def route_label(self, route_id: str) -> str:
        return self.route_labels().get(route_id, route_id)


def _read_members(path: Path) -> dict[str, bytes]:
    if path.is_dir():
        return {p.name: p.read_bytes() for p in path.glob("*.txt")}
    try:
        with zipfile.ZipFile(path) as z:
            out = {}
            for info in z.infolist():
                name = Path(info.filename).name
                if name.endswith(".txt"):
                    out[name] = z.read(info)
            return out
    except zipfile.BadZipFile as exc:
        raise FeedError([Problem(path.name, "not a zip file or folder of GTFS .txt files")], "cannot read the feed") from exc


def _utf8_error(data: bytes, chunk: int = 1 << 24) -> int | None:
    """Offset of the first byte that is not UTF-8 (a BOM allowed), or None; checked in chunks, not copied whole."""
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    for at in range(0, len(data), chunk):
        try:
            decoder.decode(data[at:at + chunk], final=at + chunk >= len(data))
        except UnicodeDecodeError as exc:
            return at + exc.start
    return None


_TIME = r"^(?P<h>\d{1,3}):(?P<m>[0-5]\d):(?P<s>[0-5]\d)$"


def parse_gtfs_time(values: pd.Series, file: str, column: str, problems: list[Problem]) -> np.ndarray:
    """``H:MM:SS``/``HH:MM:SS`` (hours may pass 24) to seconds (NaN when blank); malformed cells are problems.

    Parsed by Arrow's compute kernels, not row by row: stop_times.txt of a regional feed has millions of rows.
    """
    text = pc.utf8_trim_whitespace(pa.array(values.astype(str), type=pa.string()))
    parts = pc.extract_regex(text, _TIME)  # null where the cell does not match
    bad = np.asarray(pc.and_(pc.is_null(parts), pc.not_equal(text, "")))
    if bad.any():
        rows = np.flatnonzero(bad)
        for i in rows[:MAX_LISTED]:
            problems.append(Problem(file, f"malformed time '{text[int(i)].as_py()}' (expected HH:MM:SS)",
                                    row=int(i) + 2, column=column))
        if len(rows) > MAX_LISTED:
            problems.append(Problem(file, f"... and {len(rows) - MAX_LISTED} more malformed times", column=column))
    h, m, sec = (pc.cast(pc.struct_field(parts, [i]), pa.float64()) for i in range(3))
    seconds = pc.add(pc.add(pc.multiply(h, 3600.0), pc.multiply(m, 60.0)), sec)
    return seconds.to_numpy(zero_copy_only=False)


def _interpolate_within_trips(times: np.ndarray, trip: np.ndarray) -> np.ndarray:
    """Blank (NaN) times between two known times of the same trip, linearly by call position
    (rows sorted by trip, then stop_sequence); blanks before a trip's first or after its last
    known time stay blank."""
    out = times.astype(float).copy()
    known = ~np.isnan(out)
    pos = np.arange(len(out))
    marks = pd.Series(np.where(known, pos, np.nan))
    prev, nxt = marks.ffill().to_numpy(), marks.bfill().to_numpy()
    fill = ~known & ~np.isnan(prev) & ~np.isnan(nxt)
    p, n = prev[fill].astype(np.int64), nxt[fill].astype(np.int64)
    same = (trip[p] == trip[pos[fill]]) & (trip[n] == trip[pos[fill]])
    rows, p, n = pos[fill][same], p[same], n[same]
    out[rows] = out[p] + (rows - p) / (n - p) * (out[n] - out[p])
    return out


def load_feed(path: str | Path) -> Feed:
    """Read a GTFS zip or folder. Raises :class:`FeedError` listing every problem found."""
    path = Path(path)
    label = path.name
    if not path.exists():
        raise FeedError([Problem(label, "file or folder does not exist")], "cannot read the feed")
    members = _read_members(path)
    present = set(members)
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    for name, cols in {**REQUIRED, **OPTIONAL}.items():
        if name not in present:
            if name in REQUIRED:
                problems.append(Problem(f"{label}/{name}", "required file is missing"))
            continue
        data = members.pop(name)
        bad_byte = _utf8_error(data)
        if bad_byte is not None:
            problems.append(Problem(f"{label}/{name}", f"not UTF-8 text (byte {bad_byte})"))
            continue
        # stop_times.txt can hold millions of rows: read only the columns used
        usecols = (lambda c: c.strip() in cols) if name == "stop_times.txt" else None
        try:
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                             usecols=usecols)
        except (pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
            problems.append(Problem(f"{label}/{name}", f"cannot be parsed: {exc}"))
            continue
        del data
        df.columns = [c.strip() for c in df.columns]
        for c in cols:
            if c not in df.columns:
                problems.append(Problem(f"{label}/{name}", "required column is missing", row=1, column=c))
        frames[name] = df
    if "calendar.txt" not in present and "calendar_dates.txt" not in present:
        problems.append(Problem(f"{label}/calendar.txt", "the feed has neither calendar.txt nor calendar_dates.txt"))
    if problems:
        raise FeedError(problems, f"invalid GTFS feed {label}")

    stops = frames["stops.txt"].copy()
    for c in ("stop_lat", "stop_lon"):
        v = pd.to_numeric(stops[c], errors="coerce")
        is_station = stops.get("location_type", pd.Series("", index=stops.index)).isin(["3", "4"])
        bad = v.isna() & ~is_station
        for i in np.flatnonzero(bad.to_numpy())[:MAX_LISTED]:
            problems.append(Problem(f"{label}/stops.txt", f"stop '{stops['stop_id'].iloc[i]}' has no valid coordinate",
                                    row=int(i) + 2, column=c))
        stops[c] = v
    dup = stops["stop_id"].duplicated()
    for i in np.flatnonzero(dup.to_numpy())[:MAX_LISTED]:
        problems.append(Problem(f"{label}/stops.txt", f"stop_id '{stops['stop_id'].iloc[i]}' appears more than once",
                                row=int(i) + 2, column="stop_id"))
    st = frames["stop_times.txt"]
    before = len(problems)
    arr = parse_gtfs_time(st["arrival_time"], f"{label}/stop_times.txt", "arrival_time", problems)
    dep = parse_gtfs_time(st["departure_time"], f"{label}/stop_times.txt", "departure_time", problems)
    seq = pd.to_numeric(st["stop_sequence"], errors="coerce")
    for i in np.flatnonzero(seq.isna().to_numpy())[:MAX_LISTED]:
        problems.append(Problem(f"{label}/stop_times.txt", f"stop_sequence '{st['stop_sequence'].iloc[i]}' is not a number",
                                row=int(i) + 2, column="stop_sequence"))
    unreadable = len(problems) > before  # times or sequences: the trips cannot be ordered and interpolated
    unknown = ~st["stop_id"].isin(set(stops["stop_id"]))
    for i in np.flatnonzero(unknown.to_numpy())[:MAX_LISTED]:
        problems.append(Problem(f"{label}/stop_times.txt", f"stop_id '{st['stop_id'].iloc[i]}' is not in stops.txt",
                                row=int(i) + 2, column="stop_id"))
    if unreadable:
        raise FeedError(problems, f"invalid GTFS feed {label}")
    # Blank times (allowed between timepoints) are filled from the other column or interpolated per trip.
    arr = np.where(np.isnan(arr), dep, arr)
    dep = np.where(np.isnan(dep), arr, dep)
    st = st.drop(columns=["arrival_time", "departure_time"]).assign(arrival_s=arr, departure_s=dep,
                                                                     stop_sequence=seq.astype(int))
    trip_code = pd.factorize(st["trip_id"], sort=True)[0]  # sorting codes, not millions of strings
    order = np.lexsort((st["stop_sequence"].to_numpy(), trip_code))
    st = st.take(order).reset_index(drop=True)
    trip_code = trip_code[order]
    if st["arrival_s"].isna().any():
        st["arrival_s"] = _interpolate_within_trips(st["arrival_s"].to_numpy(), trip_code)
        st["departure_s"] = st["departure_s"].fillna(st["arrival_s"])
        untimed = np.flatnonzero(st["arrival_s"].isna().to_numpy())  # before a trip's first or after its last time
        for i in untimed[:MAX_LISTED]:
            problems.append(Problem(f"{label}/stop_times.txt", f"trip '{st['trip_id'].iloc[i]}' has no time here and "
                                    "none before or after it to interpolate from (a trip's first and last stops need "
                                    "times)", row=int(order[i]) + 2, column="arrival_time"))
        if len(untimed) > MAX_LISTED:
            problems.append(Problem(f"{label}/stop_times.txt", f"... and {len(untimed) - MAX_LISTED} more calls "
                                    "without a time", column="arrival_time"))
    if not st["arrival_s"].isna().any():  # times must not go back along a trip (the router relies on it)
        a, d = st["arrival_s"].to_numpy(), st["departure_s"].to_numpy()
        same_trip = np.r_[False, trip_code[1:] == trip_code[:-1]]
        back = np.flatnonzero((same_trip & (a < np.r_[-np.inf, d[:-1]])) | (d < a))
        for i in back[:MAX_LISTED]:
            column = "departure_time" if d[i] < a[i] else "arrival_time"
            problems.append(Problem(f"{label}/stop_times.txt", f"trip '{st['trip_id'].iloc[i]}' goes back in time "
                                    "here (earlier than the call before it, or departing before it arrives)",
                                    row=int(order[i]) + 2, column=column))
        if len(back) > MAX_LISTED:
            problems.append(Problem(f"{label}/stop_times.txt", f"... and {len(back) - MAX_LISTED} more calls going "
                                    "back in time", column="arrival_time"))
    if problems:
        raise FeedError(problems, f"invalid GTFS feed {label}")
    shapes = frames.get("shapes.txt")
    if shapes is not None:
        shapes = shapes.assign(shape_pt_lat=pd.to_numeric(shapes["shape_pt_lat"], errors="coerce"),
                               shape_pt_lon=pd.to_numeric(shapes["shape_pt_lon"], errors="coerce"),
                               shape_pt_sequence=pd.to_numeric(shapes["shape_pt_sequence"], errors="coerce"))
    return Feed(label, stops, frames["routes.txt"], frames["trips.txt"], st,
                frames.get("calendar.txt"), frames.get("calendar_dates.txt"), shapes)


def services_on(feed: Feed, day: date) -> set[str]:
    """Service ids running on ``day`` (calendar weekdays and date range, then calendar_dates exceptions)."""
    ymd = day.strftime("%Y%m%d")
    running: set[str] = set()
    if feed.calendar is not None and len(feed.calendar):
        c = feed.calendar
        weekday = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"][day.weekday()]
        ok = (c[weekday] == "1") & (c["start_date"] <= ymd) & (c["end_date"] >= ymd)
        running = set(c.loc[ok, "service_id"])
    if feed.calendar_dates is not None and len(feed.calendar_dates):
        cd = feed.calendar_dates[feed.calendar_dates["date"] == ymd]
        running |= set(cd.loc[cd["exception_type"] == "1", "service_id"])
        running -= set(cd.loc[cd["exception_type"] == "2", "service_id"])
    return running

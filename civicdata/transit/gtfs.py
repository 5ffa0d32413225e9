"""Load any GTFS feed (zip or folder) into frames, with every problem named by file, row and column.

Times are parsed to seconds after midnight of the service day; values past 24:00:00 are
valid (a trip running after midnight). The loader is shared by the metro-line profiles
and the journey planner.

Problems come in two classes (see :func:`check_feed`). **Errors** mean the feed cannot be
routed: a required file or column missing, text that is not UTF-8 or UTF-16, unparseable dates
or times, duplicate ids, references to unknown stops, trips or routes, a ``stop_sequence``
repeated within a trip, times going backwards. **Warnings** let routing go on: unknown
columns, rows with extra or missing cells (extra cells are ignored, missing ones blank), stops
no trip uses, empty optional files, trips whose service_id no calendar defines. Every problem
names its file, and row and column where it has them; all are reported at once.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from civicdata.errors import Problem, ProblemsError, add_row_problems

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
SMALL_FILE = 4 * 2**20  # bytes: smaller tables are read row by row, so that every short or long row is named
#: columns the GTFS reference defines per file (others are reported as unknown: a warning)
KNOWN_COLUMNS: dict[str, set[str]] = {
    "agency.txt": {"agency_id", "agency_name", "agency_url", "agency_timezone", "agency_lang", "agency_phone",
                   "agency_fare_url", "agency_email", "agency_noc"},
    "stops.txt": {"stop_id", "stop_code", "stop_name", "tts_stop_name", "stop_desc", "stop_lat", "stop_lon", "zone_id",
                  "stop_url", "location_type", "parent_station", "stop_timezone", "wheelchair_boarding", "level_id",
                  "platform_code"},
    "routes.txt": {"route_id", "agency_id", "route_short_name", "route_long_name", "route_desc", "route_type",
                   "route_url", "route_color", "route_text_color", "route_sort_order", "continuous_pickup",
                   "continuous_drop_off", "network_id"},
    "trips.txt": {"route_id", "service_id", "trip_id", "trip_headsign", "trip_short_name", "direction_id", "block_id",
                  "shape_id", "wheelchair_accessible", "bikes_allowed", "vehicle_journey_code"},
    "stop_times.txt": {"trip_id", "arrival_time", "departure_time", "stop_id", "stop_sequence", "stop_headsign",
                       "pickup_type", "drop_off_type", "continuous_pickup", "continuous_drop_off",
                       "shape_dist_traveled", "timepoint"},
    "calendar.txt": set(OPTIONAL["calendar.txt"]),
    "calendar_dates.txt": set(OPTIONAL["calendar_dates.txt"]),
    "shapes.txt": set(OPTIONAL["shapes.txt"]) | {"shape_dist_traveled"},
}


class FeedError(ProblemsError):
    """A GTFS feed is missing files or columns, or holds malformed values (``problems``: the errors;
    ``warnings``: what would not have stopped routing)."""

    def __init__(self, problems, message: str = "", warnings: list[Problem] | None = None):
        super().__init__(problems, message)
        self.warnings = list(warnings or [])


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
    warnings: list[Problem] = field(default_factory=list)

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


def _utf16(data: bytes) -> bytes | None:
    """UTF-8 bytes of a UTF-16 file (it starts with a byte-order mark), else None."""
    if data[:2] in (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE):
        try:
            return data.decode("utf-16").encode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _read_table(data: bytes, file: str, usecols, warnings: list[Problem]) -> pd.DataFrame:
    """A GTFS table as strings. The C parser first (fast for millions of rows); when a row has more
    cells than the header, the file is read again row by row: extra cells are dropped and missing
    ones left blank, each such row a warning. Raises ``pd.errors.EmptyDataError`` on an empty file."""
    if len(data) > SMALL_FILE:  # stop_times.txt and shapes.txt of a large feed: rows checked only on a parse error
        try:
            df = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, encoding="utf-8-sig",
                             usecols=usecols)
            return df.fillna("")  # a row with missing cells comes back NaN-padded
        except pd.errors.ParserError:
            pass
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    if not rows:
        raise pd.errors.EmptyDataError("no header row")
    header = [c.strip() for c in rows[0]]
    n = len(header)
    fixed = []
    bad = 0
    for i, row in enumerate(rows[1:], start=2):
        if len(row) == 0:
            continue
        if len(row) != n:
            bad += 1
            if bad <= MAX_LISTED:
                what = (f"{len(row) - n} extra cell(s) ignored" if len(row) > n
                        else f"{n - len(row)} missing cell(s) left blank")
                warnings.append(Problem(file, f"row has {len(row)} cells, the header {n}: {what}", row=i))
            row = (row + [""] * n)[:n]
        fixed.append(row)
    if bad > MAX_LISTED:
        warnings.append(Problem(file, f"... and {bad - MAX_LISTED} more rows with extra or missing cells"))
    df = pd.DataFrame(fixed, columns=header, dtype=str)
    if usecols is not None:
        df = df[[c for c in df.columns if usecols(c)]]
    return df


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


def _listed(problems: list[Problem], file: str, mask, column: str, message) -> None:
    add_row_problems(problems, file, mask, column, message, MAX_LISTED)


def _valid_dates(values: pd.Series) -> np.ndarray:
    """True where a cell is a real date written YYYYMMDD."""
    d = pd.to_datetime(values.where(values.str.fullmatch(r"\d{8}")), format="%Y%m%d", errors="coerce")
    return d.notna().to_numpy()


def _reference_checks(label: str, frames: dict[str, pd.DataFrame], st: pd.DataFrame, problems: list[Problem],
                      warnings: list[Problem]) -> None:
    """Ids unique and known across files, dates real, stop_sequence not repeated in a trip (errors);
    trips without a service and stops no trip uses (warnings)."""
    stops, routes, trips = frames["stops.txt"], frames["routes.txt"], frames["trips.txt"]
    for name, frame, col in (("stops.txt", stops, "stop_id"), ("routes.txt", routes, "route_id"),
                             ("trips.txt", trips, "trip_id")):
        _listed(problems, f"{label}/{name}", frame[col].duplicated(), col,
                lambda i, f=frame, c=col: f"{c} '{f[c].iloc[i]}' appears more than once")
    _listed(problems, f"{label}/trips.txt", ~trips["route_id"].isin(set(routes["route_id"])), "route_id",
            lambda i: f"route_id '{trips['route_id'].iloc[i]}' is not in routes.txt")
    _listed(problems, f"{label}/stop_times.txt", ~st["trip_id"].isin(set(trips["trip_id"])), "trip_id",
            lambda i: f"trip_id '{st['trip_id'].iloc[i]}' is not in trips.txt")
    _listed(problems, f"{label}/stop_times.txt", ~st["stop_id"].isin(set(stops["stop_id"])), "stop_id",
            lambda i: f"stop_id '{st['stop_id'].iloc[i]}' is not in stops.txt")
    _listed(problems, f"{label}/stop_times.txt", st.duplicated(["trip_id", "stop_sequence"]), "stop_sequence",
            lambda i: f"trip '{st['trip_id'].iloc[i]}' lists stop_sequence {st['stop_sequence'].iloc[i]} twice")
    services: set[str] = set()
    cal = frames.get("calendar.txt")
    if cal is not None:
        f = f"{label}/calendar.txt"
        _listed(problems, f, cal["service_id"].duplicated(), "service_id",
                lambda i: f"service_id '{cal['service_id'].iloc[i]}' appears more than once")
        for col in ("start_date", "end_date"):
            _listed(problems, f, ~_valid_dates(cal[col]), col,
                    lambda i, c=col: f"'{cal[c].iloc[i]}' is not a date written YYYYMMDD")
        for day in ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"):
            _listed(problems, f, ~cal[day].isin(["0", "1"]), day, lambda i, c=day: f"'{cal[c].iloc[i]}' is not 0 or 1")
        services |= set(cal["service_id"])
    cd = frames.get("calendar_dates.txt")
    if cd is not None:
        f = f"{label}/calendar_dates.txt"
        _listed(problems, f, ~_valid_dates(cd["date"]), "date",
                lambda i: f"'{cd['date'].iloc[i]}' is not a date written YYYYMMDD")
        _listed(problems, f, ~cd["exception_type"].isin(["1", "2"]), "exception_type",
                lambda i: f"exception_type '{cd['exception_type'].iloc[i]}' is not 1 (added) or 2 (removed)")
        services |= set(cd["service_id"])
    no_service = ~trips["service_id"].isin(services)
    if no_service.any():
        _listed(warnings, f"{label}/trips.txt", no_service, "service_id",
                lambda i: f"trip '{trips['trip_id'].iloc[i]}' has service_id '{trips['service_id'].iloc[i]}', which "
                "no calendar defines: it never runs")
    platform = stops.get("location_type", pd.Series("", index=stops.index)).isin(["", "0"])
    unused = platform & ~stops["stop_id"].isin(set(st["stop_id"]))
    if unused.any():
        warnings.append(Problem(f"{label}/stops.txt", f"{int(unused.sum())} stop(s) that no trip calls at, e.g. "
                                f"'{stops.loc[unused, 'stop_id'].iloc[0]}'", column="stop_id"))


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
    warnings: list[Problem] = []
    for name, cols in {**REQUIRED, **OPTIONAL}.items():
        if name not in present:
            if name in REQUIRED:
                problems.append(Problem(f"{label}/{name}", "required file is missing"))
            continue
        data = members.pop(name)
        data = _utf16(data) or data
        bad_byte = _utf8_error(data)
        if bad_byte is not None:
            problems.append(Problem(f"{label}/{name}", f"not UTF-8 or UTF-16 text (byte {bad_byte})"))
            continue
        # stop_times.txt can hold millions of rows: read only the columns used
        usecols = (lambda c: c.strip() in cols) if name == "stop_times.txt" else None
        try:
            df = _read_table(data, f"{label}/{name}", usecols, warnings)
        except pd.errors.EmptyDataError:
            df = None
        del data
        if df is None or (df.empty and name in OPTIONAL):
            if name in REQUIRED:
                problems.append(Problem(f"{label}/{name}", "required file is empty"))
            else:
                warnings.append(Problem(f"{label}/{name}", "optional file is empty: ignored"))
            continue
        df.columns = [c.strip() for c in df.columns]
        for c in cols:
            if c not in df.columns:
                problems.append(Problem(f"{label}/{name}", "required column is missing", row=1, column=c))
        unknown_cols = [c for c in df.columns if c not in KNOWN_COLUMNS.get(name, set(df.columns))]
        if unknown_cols and name != "stop_times.txt":
            warnings.append(Problem(f"{label}/{name}", "unknown column(s), ignored: " + ", ".join(unknown_cols[:8]),
                                    row=1, column=unknown_cols[0]))
        frames[name] = df
    if "calendar.txt" not in frames and "calendar_dates.txt" not in frames:
        problems.append(Problem(f"{label}/calendar.txt", "the feed has neither calendar.txt nor calendar_dates.txt"))
    if problems:
        raise FeedError(problems, f"invalid GTFS feed {label}", warnings)

    stops = frames["stops.txt"].copy()
    for c in ("stop_lat", "stop_lon"):
        v = pd.to_numeric(stops[c], errors="coerce")
        is_station = stops.get("location_type", pd.Series("", index=stops.index)).isin(["3", "4"])
        _listed(problems, f"{label}/stops.txt", v.isna() & ~is_station, c,
                lambda i: f"stop '{stops['stop_id'].iloc[i]}' has no valid coordinate")
        stops[c] = v
    st = frames["stop_times.txt"]
    _reference_checks(label, frames, st, problems, warnings)
    before = len(problems)
    arr = parse_gtfs_time(st["arrival_time"], f"{label}/stop_times.txt", "arrival_time", problems)
    dep = parse_gtfs_time(st["departure_time"], f"{label}/stop_times.txt", "departure_time", problems)
    seq = pd.to_numeric(st["stop_sequence"], errors="coerce")
    _listed(problems, f"{label}/stop_times.txt", seq.isna(), "stop_sequence",
            lambda i: f"stop_sequence '{st['stop_sequence'].iloc[i]}' is not a number")
    unreadable = len(problems) > before  # times or sequences: the trips cannot be ordered and interpolated
    if unreadable:
        raise FeedError(problems, f"invalid GTFS feed {label}", warnings)
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
        raise FeedError(problems, f"invalid GTFS feed {label}", warnings)
    shapes = frames.get("shapes.txt")
    if shapes is not None:
        shapes = shapes.assign(shape_pt_lat=pd.to_numeric(shapes["shape_pt_lat"], errors="coerce"),
                               shape_pt_lon=pd.to_numeric(shapes["shape_pt_lon"], errors="coerce"),
                               shape_pt_sequence=pd.to_numeric(shapes["shape_pt_sequence"], errors="coerce"))
    return Feed(label, stops, frames["routes.txt"], frames["trips.txt"], st,
                frames.get("calendar.txt"), frames.get("calendar_dates.txt"), shapes, warnings)


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


def service_range(feed: Feed) -> tuple[date, date] | None:
    """First and last day any calendar of the feed covers (calendar ranges and added dates), or None."""
    days: list[str] = []
    if feed.calendar is not None and len(feed.calendar):
        days += [feed.calendar["start_date"].min(), feed.calendar["end_date"].max()]
    if feed.calendar_dates is not None and len(feed.calendar_dates):
        added = feed.calendar_dates.loc[feed.calendar_dates["exception_type"] == "1", "date"]
        if len(added):
            days += [added.min(), added.max()]
    if not days:
        return None
    to_date = lambda s: date(int(s[:4]), int(s[4:6]), int(s[6:8]))  # noqa: E731
    return to_date(min(days)), to_date(max(days))


def runs_on(feed: Feed, day: date) -> bool:
    """True when at least one trip runs on ``day``."""
    return bool(feed.trips["service_id"].isin(services_on(feed, day)).any())


def nearest_service_days(feed: Feed, day: date) -> tuple[date | None, date | None]:
    """The nearest day before and after ``day`` on which a trip runs (within the feed's range)."""
    rng = service_range(feed)
    if rng is None:
        return None, None
    first, last = rng
    before = after = None
    d = min(day - timedelta(days=1), last)
    while d >= first and before is None:
        before = d if runs_on(feed, d) else None
        d -= timedelta(days=1)
    d = max(day + timedelta(days=1), first)
    while d <= last and after is None:
        after = d if runs_on(feed, d) else None
        d += timedelta(days=1)
    return before, after


def no_service_message(feed: Feed, day: date) -> str:
    """'No trip runs on Sat 13 Sep 2025 in chester.zip: its calendars cover 16 Aug 2023 to 30 Sep 2023; nearest days
    with service: Fri 29 Sep 2023 (before), none after.'"""
    fmt = lambda d: d.strftime("%a %d %b %Y")  # noqa: E731
    rng = service_range(feed)
    if rng is None:
        return f"No trip runs on {fmt(day)} in {feed.name}: it has no calendar dates at all."
    before, after = nearest_service_days(feed, day)
    near = ", ".join(x for x in (f"{fmt(before)} (before)" if before else "", f"{fmt(after)} (after)" if after else "")
                     if x) or "none"
    return (f"No trip runs on {fmt(day)} in {feed.name}: its calendars cover {fmt(rng[0])} to {fmt(rng[1])}; "
            f"nearest days with service: {near}.")


@dataclass
class FeedReport:
    """What :func:`check_feed` found: ``errors`` (the feed cannot be routed) and ``warnings``."""

    feed: str
    errors: list[Problem]
    warnings: list[Problem]
    service_range: tuple[date, date] | None = None

    @property
    def ok(self) -> bool:
        return not self.errors

    def to_json(self) -> dict:
        def one(p: Problem) -> dict:
            return {"file": p.file, "row": p.row, "column": p.column, "message": p.message}

        rng = self.service_range
        return {"feed": self.feed, "ok": self.ok, "errors": [one(p) for p in self.errors],
                "warnings": [one(p) for p in self.warnings],
                "service_range": None if rng is None else [rng[0].isoformat(), rng[1].isoformat()]}


def load_checked(path: str | Path) -> tuple[Feed | None, FeedReport]:
    """The feed (None when it has errors) and its :class:`FeedReport`, from one reading of the file."""
    name = Path(path).name
    try:
        feed = load_feed(path)
    except FeedError as exc:
        return None, FeedReport(name, list(exc.problems), exc.warnings)
    return feed, FeedReport(name, [], feed.warnings, service_range(feed))


def check_feed(path: str | Path) -> FeedReport:
    """Every problem of a GTFS feed at once, as errors and warnings (see the module docstring)."""
    return load_checked(path)[1]

"""Timetables as shared data: add a GTFS feed once (a file or an address), clip it to a district, keep it in the
store, and route on it from any app server or command.

* :func:`download_feed` streams an address to a temporary file with a size limit and a timeout; an HTTP error, a
  timeout, an HTML page or a file that is not a zip is refused with :class:`FeedDownloadError`, saying what
  happened.
* :func:`clip_feed` keeps the stops within a district and a buffer (:data:`CLIP_BUFFER_M`), every trip that
  serves one of them (whole, so a journey inside the district is the same as on the full feed) and everything
  those trips reference.
* :func:`summarise_feed` says what a feed holds: its check (:func:`civicdata.transit.gtfs.check_feed`), calendar
  range, agencies, numbers of stops, routes and trips, bounding box and the districts (LAD 2024) its stops fall in.
* :func:`add_feed` does all of it and stores the feed only when its check has no error; nothing is stored otherwise.
* :func:`resolve_feed` turns ``--feed`` (a path or a stored feed's name) into a file to route on.
"""

from __future__ import annotations

import io
import re
import socket
import tempfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd

from civicdata import settings
from civicdata.errors import CivicDataError, Problem, ProblemsError
from civicdata.transit.gtfs import load_checked, service_range

#: the largest feed accepted, file or address, on the page and the command line alike (TfGM's is about 41 MB)
MAX_FEED_BYTES = 200 * 1024 * 1024
#: seconds without an answer (connecting, or between two reads) before a download is given up
DOWNLOAD_TIMEOUT_S = 30.0
#: stops this far outside a district are kept by :func:`clip_feed` (journeys from the edge may start there)
CLIP_BUFFER_M = 1000.0
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


class FeedDownloadError(CivicDataError):
    """An address did not give a GTFS zip: the status code, a timeout, an HTML page, a broken zip, or too big."""


class FeedRefusedError(ProblemsError):
    """A feed with errors (it cannot be routed): every problem, by file and row; nothing was stored."""


def feed_name(source: str) -> str:
    """A default name for a feed from its file name or address: ``TfGMgtfsnew.zip`` -> ``TfGMgtfsnew``."""
    stem = re.sub(r"\.zip$", "", source.rstrip("/").split("/")[-1].split("?")[0], flags=re.I)
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "-", stem).strip("-.") or "feed"
    return stem[:64]


def check_name(name: str) -> str:
    if not NAME_RE.match(name or ""):
        raise CivicDataError(f"feed name '{name}': use 1 to 64 letters, digits, '_', '-' or '.', starting with a "
                             "letter or digit")
    return name


def download_feed(url: str, dest: Path, *, max_bytes: int | None = None, timeout: float | None = None,
                  progress: Callable[[int, int | None], None] | None = None) -> Path:
    """Stream ``url`` to ``dest`` (``progress(bytes_so_far, total_or_None)`` after each chunk) and check it is a
    zip. Raises :class:`FeedDownloadError` saying what happened; ``dest`` is removed then. Limits default to
    :data:`MAX_FEED_BYTES` and :data:`DOWNLOAD_TIMEOUT_S`."""
    max_bytes = MAX_FEED_BYTES if max_bytes is None else max_bytes
    timeout = DOWNLOAD_TIMEOUT_S if timeout is None else timeout
    if not re.match(r"^https?://", url, re.I):
        raise FeedDownloadError(f"{url}: not a web address (http:// or https://)")
    req = urllib.request.Request(url, headers={"User-Agent": "local-need-explorer (GTFS feed download)"})
    done = 0
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp, open(dest, "wb") as out:  # noqa: S310 - http(s) only
            total = resp.headers.get("Content-Length")
            total = int(total) if total and total.isdigit() else None
            if total is not None and total > max_bytes:
                raise FeedDownloadError(f"{url}: the file is {total / 2**20:.0f} MB, more than the "
                                        f"{max_bytes / 2**20:.0f} MB limit")
            while True:
                chunk = resp.read(1 << 20)
                if not chunk:
                    break
                done += len(chunk)
                if done > max_bytes:
                    raise FeedDownloadError(f"{url}: more than the {max_bytes / 2**20:.0f} MB limit; stopped")
                out.write(chunk)
                if progress:
                    progress(done, total)
    except FeedDownloadError:
        dest.unlink(missing_ok=True)
        raise
    except urllib.error.HTTPError as exc:
        dest.unlink(missing_ok=True)
        raise FeedDownloadError(f"{url}: the server answered {exc.code} {exc.reason}") from None
    except (TimeoutError, socket.timeout) as exc:
        dest.unlink(missing_ok=True)
        raise FeedDownloadError(f"{url}: no answer within {timeout:g} s (timed out after {done:,} bytes)") from exc
    except urllib.error.URLError as exc:
        dest.unlink(missing_ok=True)
        if isinstance(exc.reason, (TimeoutError, socket.timeout)):
            raise FeedDownloadError(f"{url}: no answer within {timeout:g} s") from None
        raise FeedDownloadError(f"{url}: cannot be reached ({exc.reason})") from None
    except OSError as exc:
        dest.unlink(missing_ok=True)
        raise FeedDownloadError(f"{url}: the download failed ({exc})") from None
    _check_zip(dest, url)
    return dest


def _check_zip(path: Path, label: str, *, remove: bool = True) -> None:
    """Refuse what is not a readable zip, saying whether it looks like a web page; ``remove``: delete the refused
    file (a download; never a file the analyst gave)."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if not zipfile.is_zipfile(path):
        if remove:
            path.unlink(missing_ok=True)
        if not head:
            raise FeedDownloadError(f"{label}: the file is empty")
        if head.startswith(b"PK\x03\x04"):
            raise FeedDownloadError(f"{label}: a broken zip (cut short or damaged: its directory is missing)")
        if re.search(rb"<(!doctype html|html|head|body)", head.lower()):
            raise FeedDownloadError(f"{label}: an HTML page, not a GTFS zip (the address may be a web page or "
                                    "need a login: use the file's own download address)")
        raise FeedDownloadError(f"{label}: not a zip file (a GTFS feed is a .zip of .txt tables)")
    try:
        with zipfile.ZipFile(path) as z:
            bad = z.testzip()
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        if remove:
            path.unlink(missing_ok=True)
        raise FeedDownloadError(f"{label}: a broken zip ({exc})") from None
    if bad is not None:
        if remove:
            path.unlink(missing_ok=True)
        raise FeedDownloadError(f"{label}: a broken zip (the member {bad} is damaged)")


# --------------------------------------------------------------------------------------------- what a feed holds

def _read_member(z: zipfile.ZipFile, member: str) -> pd.DataFrame:
    return pd.read_csv(io.BytesIO(z.read(member)), dtype=str, keep_default_na=False, encoding="utf-8-sig")


def _members(path: Path) -> dict[str, str]:
    """``{table: member}`` for the feed's .txt tables (a folder inside the zip is allowed)."""
    with zipfile.ZipFile(path) as z:
        return {Path(n).name[:-4]: n for n in z.namelist() if n.lower().endswith(".txt") and not n.endswith("/")}


def districts_of_stops(stops: pd.DataFrame, data_dir: Path | None = None) -> list[dict]:
    """The districts (LAD 2024) the stops fall in, most stops first: ``[{"code", "name", "stops"}]``."""
    from civicdata.geo.boundaries import all_outlines

    lat = pd.to_numeric(stops["stop_lat"], errors="coerce")
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce")
    ok = lat.notna() & lon.notna()
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon[ok], lat[ok]), crs=settings.WGS84)
    hit = gpd.sjoin(pts, all_outlines(data_dir)[["code", "name", "geometry"]], predicate="within", how="inner")
    counts = hit.groupby(["code", "name"]).size().sort_values(ascending=False)
    return [{"code": c, "name": n, "stops": int(k)} for (c, n), k in counts.items()]


#: a district a feed "serves" has at least this many of its stops, or a tenth of the busiest district's
MIN_DISTRICT_STOPS = 20


def covered_districts(districts: list[dict]) -> list[str]:
    """LAD 2024 codes of the districts a feed serves: at least :data:`MIN_DISTRICT_STOPS` of its stops or a tenth of
    the busiest district's (a coach stop or two is not a bus network), most stops first."""
    if not districts:
        return []
    top = max(d["stops"] for d in districts)
    return [d["code"] for d in districts if d["stops"] >= MIN_DISTRICT_STOPS or d["stops"] >= top / 10]


def summarise_feed(path: Path, data_dir: Path | None = None, loaded: tuple | None = None) -> dict:
    """What the feed holds (the JSON a stored feed keeps): ``check`` (``ok``, errors and warnings, the first few
    by file and row), ``calendar`` [first, last day], ``agencies``, ``stops``, ``routes``, ``trips``, ``bbox``
    [min lon, min lat, max lon, max lat] and ``districts`` (see :func:`districts_of_stops`). ``loaded``: what
    :func:`civicdata.transit.gtfs.load_checked` gave for ``path`` already (the feed is not read again)."""
    feed, report = loaded or load_checked(path)
    rep = report.to_json()
    out = {"check": {"ok": report.ok, "errors": len(report.errors), "warnings": len(report.warnings),
                     "first_errors": rep["errors"][:5], "first_warnings": rep["warnings"][:5]}}
    if feed is None:
        return out
    rng = service_range(feed)
    members = _members(path)
    with zipfile.ZipFile(path) as z:
        agency = _read_member(z, members["agency"]) if "agency" in members else pd.DataFrame()
    lat = pd.to_numeric(feed.stops["stop_lat"], errors="coerce")
    lon = pd.to_numeric(feed.stops["stop_lon"], errors="coerce")
    out.update({
        "calendar": None if rng is None else [rng[0].isoformat(), rng[1].isoformat()],
        "agencies": sorted(set(agency["agency_name"])) if "agency_name" in agency.columns else [],
        "stops": int(len(feed.stops)), "routes": int(feed.routes["route_id"].nunique()),
        "trips": int(feed.trips["trip_id"].nunique()),
        "bbox": [round(float(lon.min()), 5), round(float(lat.min()), 5), round(float(lon.max()), 5),
                 round(float(lat.max()), 5)],
        "districts": districts_of_stops(feed.stops, data_dir)})
    return out


# ------------------------------------------------------------------------------------------------- clipping

def clip_feed(src: Path, dest: Path, lad_code: str, buffer_m: float = CLIP_BUFFER_M,
              data_dir: Path | None = None) -> dict:
    """Write to ``dest`` the part of ``src`` that serves a district: its stops within the district's outline
    and ``buffer_m`` metres, every trip serving one of them (whole), and the stops, routes, agencies,
    calendars, shapes, frequencies and transfers those trips reference; other tables copied unchanged.
    Returns counts ``{"stops_in_district", "trips", "stops", "routes"}``."""
    from civicdata.geo.boundaries import outlines

    outline = outlines([lad_code], data_dir)
    if outline.empty:
        raise CivicDataError(f"cannot clip to '{lad_code}': not an English district (LAD 2024 code)")
    area = outline.to_crs(settings.BNG).geometry.iloc[0].buffer(buffer_m)
    members = _members(src)
    with zipfile.ZipFile(src) as z:
        t = {name: _read_member(z, m) for name, m in members.items()}
        raw = {name: z.read(m) for name, m in members.items()}
    stops = t["stops"]
    lat = pd.to_numeric(stops["stop_lat"], errors="coerce")
    lon = pd.to_numeric(stops["stop_lon"], errors="coerce")
    pts = gpd.GeoSeries(gpd.points_from_xy(lon, lat), crs=settings.WGS84).to_crs(settings.BNG)
    inside = set(stops.loc[pts.within(area).to_numpy() & lat.notna().to_numpy(), "stop_id"])
    st = t["stop_times"]
    trips_kept = set(st.loc[st["stop_id"].isin(inside), "trip_id"])
    keep: dict[str, pd.DataFrame] = {"stop_times": st[st["trip_id"].isin(trips_kept)]}
    used = set(keep["stop_times"]["stop_id"])
    if "parent_station" in stops.columns:
        used |= set(stops.loc[stops["stop_id"].isin(used), "parent_station"]) - {""}
    keep["stops"] = stops[stops["stop_id"].isin(used)]
    keep["trips"] = t["trips"][t["trips"]["trip_id"].isin(trips_kept)]
    routes = set(keep["trips"]["route_id"])
    keep["routes"] = t["routes"][t["routes"]["route_id"].isin(routes)]
    services = set(keep["trips"]["service_id"])
    for name in ("calendar", "calendar_dates"):
        if name in t:
            keep[name] = t[name][t[name]["service_id"].isin(services)]
    if "agency" in t and "agency_id" in keep["routes"].columns and "agency_id" in t["agency"].columns:
        keep["agency"] = t["agency"][t["agency"]["agency_id"].isin(set(keep["routes"]["agency_id"]))]
    if "shapes" in t and "shape_id" in keep["trips"].columns:
        keep["shapes"] = t["shapes"][t["shapes"]["shape_id"].isin(set(keep["trips"]["shape_id"]))]
    if "frequencies" in t:
        keep["frequencies"] = t["frequencies"][t["frequencies"]["trip_id"].isin(trips_kept)]
    if "transfers" in t:
        tr = t["transfers"]
        keep["transfers"] = tr[tr["from_stop_id"].isin(used) & tr["to_stop_id"].isin(used)]
    if "fare_rules" in t and "route_id" in t["fare_rules"].columns:
        fr = t["fare_rules"]
        keep["fare_rules"] = fr[(fr["route_id"] == "") | fr["route_id"].isin(routes)]
    dest.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as z:
        for name in sorted(members):
            info = zipfile.ZipInfo(f"{name}.txt", date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            z.writestr(info, keep[name].to_csv(index=False) if name in keep else raw[name])
    return {"stops_in_district": len(inside), "trips": len(trips_kept), "stops": len(keep["stops"]),
            "routes": len(routes)}


# ------------------------------------------------------------------------------------------------- adding

def add_feed(source: str, name: str | None = None, clip: str | None = None, *, replace: bool = False,
             progress: Callable[[int, int | None], None] | None = None, data_dir: Path | None = None,
             eng=None):
    """Add a feed (a file path or an http(s) address) to the store under ``name``, clipped to district ``clip``
    when given. Downloads, checks, clips and checks again; stores it only when the check has no error.

    Returns the :class:`civicdata.store.feeds.StoredFeed`. Raises :class:`FeedDownloadError` (the address),
    :class:`FeedRefusedError` (every error of the feed, by file and row) or ``CivicDataError``; nothing is
    stored then.
    """
    from civicdata.store import feeds as stored

    name = check_name(name or feed_name(source))
    if not replace and name in {f.name for f in stored.stored_feeds(eng)}:
        raise stored.FeedExistsError(f"a feed named '{name}' is stored already: remove it first, or replace it")
    with tempfile.TemporaryDirectory(prefix="lne-feed-") as tmp:
        if re.match(r"^https?://", source, re.I):
            path = download_feed(source, Path(tmp) / "download.zip", progress=progress)
        else:
            path = Path(source)
            if not path.is_file():
                raise CivicDataError(f"{source}: no such file")
            if path.stat().st_size > MAX_FEED_BYTES:
                raise CivicDataError(f"{source}: more than the {MAX_FEED_BYTES / 2**20:.0f} MB limit")
            _check_zip(path, str(path), remove=False)
        loaded = load_checked(path)
        if loaded[0] is None:
            errors = loaded[1].errors
            raise FeedRefusedError(errors, f"{source}: the feed has {len(errors)} error(s) and cannot be routed; "
                                           "nothing was stored")
        if clip:
            clipped = Path(tmp) / "clipped.zip"
            clip_feed(path, clipped, clip, data_dir=data_dir)
            loaded = load_checked(clipped)
            if loaded[0] is None:  # pragma: no cover - a clip keeps every reference: this would be a bug, said plainly
                raise FeedRefusedError(loaded[1].errors, f"{source} clipped to {clip}: the clipped feed has errors")
            path = clipped
        summary = summarise_feed(path, data_dir, loaded)
        summary["clip"] = None if not clip else {"district": clip, "buffer_m": CLIP_BUFFER_M}
        return stored.put_feed(name, path.read_bytes(), summary, source, replace_existing=replace, eng=eng)


def resolve_feed(value: str | Path, eng=None) -> Path:
    """``--feed``: an existing file, or the name of a stored feed (its local copy)."""
    p = Path(value)
    if p.is_file():
        return p
    from civicdata.store import feeds as stored

    if NAME_RE.match(str(value)):
        return stored.local_copy(str(value), eng)
    raise CivicDataError(f"{value}: neither a GTFS file nor a stored feed's name")


def problems_text(errors: list[Problem], n: int = 5) -> str:
    """The first ``n`` problems, one a line, as ``file row N, column: message``."""
    return "\n".join(f"  - {p}" for p in errors[:n]) + (f"\n  … and {len(errors) - n} more" if len(errors) > n else "")

"""Metro line profiles ("Lives on the Line"): a line's stops in running order, the life
expectancy of the MSOA each stop stands in, and the largest gap along the line.

Rules:

* A stop's area is the MSOA **2011** polygon containing it (ONS generalised boundaries, BGC 20 m,
  the same everywhere in England). A stop in no
  polygon takes the MSOA of the nearest LSOA 2011 centre and is marked ``approximate``.
  A stop whose nearest LSOA centre is Welsh is outside England: ``no data``, not a guess.
* Values come from ONS life expectancy at birth 2016-2020 (MSOA 2011). MSOAs without a
  published estimate stay ``None`` ("no estimate"); nothing is interpolated.
* The IMD decile is that of the LSOA the stop stands in: IoD2025 on LSOA 2021 (default) or
  IoD2019 on LSOA 2011, never mixed.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass, field
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from shapely.geometry import LineString

from civicdata import settings
from civicdata.errors import ProblemsError, Problem
from civicdata.geo.boundaries import boundaries_of, locate
from civicdata.transit.gtfs import Feed
from civicdata.geo.names import names_for, with_readable_names

MAX_STOP_OFFSET_M = 300.0
SNAP_M = 5.0
METROLINK_SUFFIX = " (Manchester Metrolink)"


def _data(data_dir: Path | None) -> Path:
    return Path(data_dir) if data_dir else settings.data_dir()


@dataclass
class Line:
    """A line: its name, where it came from, and its stops in running order.

    ``stops`` columns: ``name``, ``lat``, ``lon``, ``minutes`` (from the first stop; NaN when
    the source has no timetable), and ``km`` (straight-line km from the first stop) where the
    source gives distances instead of a timetable.
    """

    name: str
    source: str
    stops: pd.DataFrame
    far_stops: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["name", "lat", "lon", "offset_m"]))
    geometry: LineString | None = None


# --------------------------------------------------------------------------- Metrolink (bundled)

def load_metrolink_lines(data_dir: Path | None = None) -> pd.DataFrame:
    """The bundled Metrolink line directions: ``line_key``, ``line_name``, ``direction``, ``first``, ``last``, ``stops``."""
    return _summarise_lines(pd.read_parquet(_data(data_dir) / "transport" / "metrolink_lines.parquet"))


def _summarise_lines(stops: pd.DataFrame) -> pd.DataFrame:
    """One row per ``line_key`` of a stops-in-running-order table: name, direction, first, last, stops."""
    g = stops.sort_values(["line_key", "stop_sequence"]).groupby("line_key", sort=True)
    return pd.DataFrame({"line_name": g["line_name"].first(), "direction": g["direction"].first(),
                         "first": g["stop_name"].first(), "last": g["stop_name"].last(),
                         "stops": g.size()}).reset_index()


def metrolink_line(line_key: str, data_dir: Path | None = None) -> Line:
    """One bundled Metrolink line direction, minutes from TfGM's timetable (July 2023)."""
    ml = pd.read_parquet(_data(data_dir) / "transport" / "metrolink_lines.parquet")
    rows = ml[ml["line_key"] == line_key].sort_values("stop_sequence")
    if rows.empty:
        keys = sorted(ml["line_key"].unique())
        raise KeyError(f"no Metrolink line '{line_key}'; choose one of {', '.join(keys)}")
    secs = rows["seconds_from_previous"].fillna(0).astype(float).cumsum()
    stops = pd.DataFrame({"name": rows["stop_name"].to_numpy(), "lat": rows["lat"].to_numpy(),
                          "lon": rows["lon"].to_numpy(), "minutes": (secs / 60).to_numpy()})
    r0 = rows.iloc[0]
    return Line(f"{r0['line_name']}: {rows['stop_name'].iloc[0]} to {rows['stop_name'].iloc[-1]}",
                "Transport for Greater Manchester GTFS (July 2023)", stops)


NETWORKS = {"metrolink": "Greater Manchester Metrolink", "tyne-and-wear": "Tyne and Wear Metro"}


def bundled_lines(data_dir: Path | None = None) -> pd.DataFrame:
    """Every bundled line: ``key``, ``network`` (id), ``network_name``, ``name``, ``direction``, ``first``,
    ``last``, ``stops``, ``timetable`` (True: minutes between stops are known). Metrolink keys are
    the TfGM line-direction keys (``METLPINK:O:2023-07-15``); Tyne and Wear keys are
    ``tyne-and-wear:green`` and ``tyne-and-wear:yellow``."""
    ml = load_metrolink_lines(data_dir).rename(columns={"line_key": "key", "line_name": "name"})
    ml.insert(1, "network", "metrolink")
    ml["timetable"] = True
    tw = _summarise_lines(pd.read_parquet(_data(data_dir) / "transport" / "tw_metro_lines.parquet")).rename(
        columns={"line_key": "key", "line_name": "name"})
    tw.insert(1, "network", "tyne-and-wear")
    tw["timetable"] = False
    out = pd.concat([ml, tw], ignore_index=True)
    out.insert(2, "network_name", out["network"].map(NETWORKS))
    return out[["key", "network", "network_name", "name", "direction", "first", "last", "stops", "timetable"]]


def bundled_line(key: str, data_dir: Path | None = None) -> Line:
    """One bundled line by its key (see :func:`bundled_lines`)."""
    if not key.startswith("tyne-and-wear:"):
        return metrolink_line(key, data_dir)
    tw = pd.read_parquet(_data(data_dir) / "transport" / "tw_metro_lines.parquet")
    rows = tw[tw["line_key"] == key].sort_values("stop_sequence")
    if rows.empty:
        keys = sorted(bundled_lines(data_dir)["key"])
        raise KeyError(f"no bundled line '{key}'; choose one of {', '.join(keys)}")
    stops = pd.DataFrame({"name": rows["stop_name"].to_numpy(), "lat": rows["lat"].to_numpy(),
                          "lon": rows["lon"].to_numpy(), "minutes": np.nan, "km": rows["km"].to_numpy()})
    return Line(f"Tyne and Wear Metro {rows['line_name'].iloc[0]}: {stops['name'].iloc[0]} to {stops['name'].iloc[-1]}",
                "NaPTAN stations in Nexus's running order (no timetable: stops spaced evenly or by km)", stops)


# --------------------------------------------------------------------------- GTFS feeds

def feed_patterns(feed: Feed, route_id: str) -> pd.DataFrame:
    """Stop patterns of a route: ``pattern`` (0 = most stops, then most trips), ``stop_ids`` (tuple),
    ``n_stops``, ``n_trips``, ``first``, ``last``."""
    trips = feed.trips[feed.trips["route_id"] == route_id]
    if trips.empty:
        raise KeyError(f"route '{route_id}' has no trips in {feed.name}")
    st = feed.stop_times[feed.stop_times["trip_id"].isin(set(trips["trip_id"]))]
    seqs = st.groupby("trip_id", sort=False)["stop_id"].agg(tuple)
    counts = seqs.value_counts()
    names = feed.stops.set_index("stop_id")["stop_name"]
    out = pd.DataFrame({"stop_ids": counts.index, "n_trips": counts.to_numpy()})
    out["n_stops"] = out["stop_ids"].map(len)
    out["first"] = out["stop_ids"].map(lambda s: names.get(s[0], s[0]))
    out["last"] = out["stop_ids"].map(lambda s: names.get(s[-1], s[-1]))
    out["_key"] = out["stop_ids"].map(lambda s: "|".join(s))
    out = out.sort_values(["n_stops", "n_trips", "_key"], ascending=[False, False, True]).drop(columns="_key")
    out.insert(0, "pattern", range(len(out)))
    return out.reset_index(drop=True)


def feed_line(feed: Feed, route_id: str, pattern: int = 0) -> Line:
    """A route's stop pattern (default: the one with the most stops) in running order, with the
    median minutes from the first stop over the trips that run that pattern."""
    pats = feed_patterns(feed, route_id)
    if not 0 <= pattern < len(pats):
        raise KeyError(f"route '{route_id}' has {len(pats)} stop patterns (0 to {len(pats) - 1})")
    stop_ids = pats.loc[pattern, "stop_ids"]
    trips = feed.trips[feed.trips["route_id"] == route_id]
    st = feed.stop_times[feed.stop_times["trip_id"].isin(set(trips["trip_id"]))]
    seqs = st.groupby("trip_id", sort=False)["stop_id"].agg(tuple)
    pattern_trips = seqs[seqs == stop_ids].index
    pst = st[st["trip_id"].isin(set(pattern_trips))].copy()
    pst["idx"] = pst.groupby("trip_id").cumcount()
    start = pst[pst["idx"] == 0].set_index("trip_id")["departure_s"]
    pst["rel"] = pst["arrival_s"] - pst["trip_id"].map(start)
    minutes = pst.groupby("idx")["rel"].median() / 60
    s = feed.stops.set_index("stop_id")
    stops = pd.DataFrame({"name": [s.at[i, "stop_name"] for i in stop_ids],
                          "lat": [s.at[i, "stop_lat"] for i in stop_ids],
                          "lon": [s.at[i, "stop_lon"] for i in stop_ids],
                          "minutes": minutes.reindex(range(len(stop_ids))).to_numpy(),
                          "stop_id": list(stop_ids)})
    return Line(f"{feed.route_label(route_id)}: {stops['name'].iloc[0]} to {stops['name'].iloc[-1]}",
                f"GTFS feed {feed.name}, route {route_id}, pattern {pattern} ({int(pats.loc[pattern, 'n_trips'])} trips)",
                stops)


# --------------------------------------------------------------------------- geometry + stops

def _graph(segments: gpd.GeoDataFrame) -> tuple[np.ndarray, dict[int, list[tuple[int, float]]]]:
    """A graph of the segments' vertices (BNG metres); vertices closer than SNAP_M are joined."""
    bng = segments.to_crs(settings.BNG)
    coords: list[tuple[float, float]] = []
    index: dict[tuple[float, float], int] = {}
    adj: dict[int, list[tuple[int, float]]] = {}

    def node(xy) -> int:
        key = (round(xy[0], 2), round(xy[1], 2))
        if key not in index:
            index[key] = len(coords)
            coords.append(key)
            adj[index[key]] = []
        return index[key]

    for geom in bng.geometry:
        parts = list(geom.geoms) if geom.geom_type == "MultiLineString" else [geom]
        for part in parts:
            pts = list(part.coords)
            for a, b in zip(pts, pts[1:]):
                na, nb = node(a), node(b)
                d = math.dist(a, b)
                adj[na].append((nb, d))
                adj[nb].append((na, d))
    xy = np.asarray(coords)
    # join pieces that meet without sharing a vertex (gaps below SNAP_M)
    for i in range(len(xy)):
        d = np.hypot(xy[:, 0] - xy[i, 0], xy[:, 1] - xy[i, 1])
        for j in np.flatnonzero((d < SNAP_M) & (d > 0)):
            adj[i].append((int(j), float(d[j])))
    return xy, adj


def _shortest_path(adj, a: int, b: int) -> list[int]:
    dist = {a: 0.0}
    prev: dict[int, int] = {}
    heap = [(0.0, a)]
    while heap:
        d, u = heapq.heappop(heap)
        if u == b:
            break
        if d > dist.get(u, math.inf):
            continue
        for v, w in adj[u]:
            nd = d + w
            if nd < dist.get(v, math.inf):
                dist[v] = nd
                prev[v] = u
                heapq.heappush(heap, (nd, v))
    if b not in dist:
        return []
    path = [b]
    while path[-1] != a:
        path.append(prev[path[-1]])
    return path[::-1]


def line_from_geometry(segments: gpd.GeoDataFrame, stops: pd.DataFrame, from_name: str, to_name: str,
                       max_offset_m: float = MAX_STOP_OFFSET_M, label: str = "line geometry") -> Line:
    """Order ``stops`` (``name``, ``lat``, ``lon``) along the network path between two end stops.

    The pieces of ``segments`` (any CRS) become a network; the path is the shortest one
    between the vertices nearest the two end stops. Stops more than ``max_offset_m`` metres
    from the path are left out and reported in ``Line.far_stops``.
    """
    names = {n.lower(): n for n in stops["name"]}
    problems = [Problem(label, f"no stop named '{n}'", column="name") for n in (from_name, to_name)
                if n.lower() not in names]
    if problems:
        raise ProblemsError(problems, "cannot build the line")
    xy, adj = _graph(segments)
    pts = gpd.GeoSeries(gpd.points_from_xy(stops["lon"], stops["lat"]), crs=settings.WGS84).to_crs(settings.BNG)
    sxy = np.column_stack([pts.x, pts.y])

    def nearest(name: str) -> int:
        i = int(np.flatnonzero(stops["name"].str.lower() == name.lower())[0])
        return int(np.argmin(np.hypot(xy[:, 0] - sxy[i, 0], xy[:, 1] - sxy[i, 1])))

    path = _shortest_path(adj, nearest(from_name), nearest(to_name))
    if len(path) < 2:
        raise ProblemsError([Problem(label, f"the line pieces do not connect {from_name} to {to_name}")],
                            "cannot build the line")
    line = LineString(xy[path])
    offset = shapely.distance(line, pts.values)
    along = shapely.line_locate_point(line, pts.values)
    frame = stops[["name", "lat", "lon"]].assign(offset_m=np.round(offset, 1), along_m=along)
    near = frame[frame["offset_m"] <= max_offset_m].sort_values("along_m")
    far = frame[frame["offset_m"] > max_offset_m].sort_values("name")[["name", "lat", "lon", "offset_m"]]
    ordered = near[["name", "lat", "lon"]].assign(minutes=np.nan).reset_index(drop=True)
    geom = gpd.GeoSeries([line], crs=settings.BNG).to_crs(settings.WGS84).iloc[0]
    return Line(f"{from_name} to {to_name}", f"{label}: {len(path)} network vertices, "
                f"{line.length / 1000:.1f} km", ordered, far.reset_index(drop=True), geom)


def read_stops_file(path: Path, label: str | None = None) -> pd.DataFrame:
    """Stops from a CSV (``name`` and ``lat``/``lon`` or ``long``/``longitude``…) or a GeoJSON of points."""
    label = label or path.name
    if path.suffix.lower() in (".geojson", ".json"):
        g = gpd.read_file(path).to_crs(settings.WGS84)
        name_col = next((c for c in g.columns if c.lower() in ("name", "stop_name", "stopname")), None)
        if name_col is None:
            raise ProblemsError([Problem(label, "no 'name' column", row=1, column="name")], "cannot read the stops")
        return pd.DataFrame({"name": g[name_col].astype(str).str.replace(METROLINK_SUFFIX, "", regex=False),
                             "lat": g.geometry.y, "lon": g.geometry.x})
    f = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    cols = {c.lower(): c for c in f.columns}
    pick = lambda *names: next((cols[n] for n in names if n in cols), None)  # noqa: E731
    name, lat, lon = pick("name", "stop_name"), pick("lat", "latitude", "stop_lat"), pick("lon", "long", "lng", "longitude", "stop_lon")
    problems = [Problem(label, "required column is missing", row=1, column=c)
                for c, found in (("name", name), ("lat", lat), ("lon", lon)) if found is None]
    if problems:
        raise ProblemsError(problems, "cannot read the stops")
    out = pd.DataFrame({"name": f[name], "lat": pd.to_numeric(f[lat], errors="coerce"),
                        "lon": pd.to_numeric(f[lon], errors="coerce")})
    bad = out["lat"].isna() | out["lon"].isna()
    if bad.any():
        raise ProblemsError([Problem(label, "stop without a valid coordinate", row=int(i) + 2, column=lat)
                             for i in np.flatnonzero(bad.to_numpy())[:5]], "cannot read the stops")
    return out


def line_from_files(line_path: Path, stops_path: Path, from_name: str, to_name: str) -> Line:
    """:func:`line_from_geometry` on a line-geometry file and a stops file."""
    segments = gpd.read_file(line_path)
    return line_from_geometry(segments, read_stops_file(stops_path), from_name, to_name, label=line_path.name)


# --------------------------------------------------------------------------- values per stop

def stop_msoa_boundaries(profile: pd.DataFrame, data_dir: Path | None = None) -> gpd.GeoDataFrame:
    """The MSOA 2011 polygons the stops fall in (``code``, ``name`` readable, ``ons_name``, ``geometry``;
    ONS generalised, BGC 20 m)."""
    out = boundaries_of("msoa11", set(profile["msoa"].dropna()), _data(data_dir))
    return gpd.GeoDataFrame(with_readable_names(out, "msoa11", data_dir=_data(data_dir)), geometry="geometry",
                            crs=settings.WGS84)


def _locate(points: gpd.GeoDataFrame, level: str, data_dir) -> pd.DataFrame:
    """Code of the ``level`` polygon holding each point (ONS generalised boundaries of its district)."""
    code = locate(points.geometry, level, data_dir)
    return pd.DataFrame({"code": code.astype(object), "method": code.notna().map({True: "ONS generalised boundary", False: None})},
                        index=points.index)


def stop_profile(line: Line, iod: str = "2025", data_dir: Path | None = None) -> pd.DataFrame:
    """Per stop, in order: ``name``, ``lat``, ``lon``, ``minutes`` (``km`` where the line has distances),
    ``msoa`` (2011), ``msoa_name``
    (readable, e.g. "Partington"), ``msoa_ons_name`` ("Trafford 017"),
    ``le_male``/``le_female`` with ``_lower``/``_upper`` (95% CI, years), ``lsoa`` (of the IoD's
    vintage), ``imd_decile``, ``approximate``, ``area_note``."""
    d = _data(data_dir)
    st = line.stops.reset_index(drop=True)
    pts = gpd.GeoDataFrame(st[["name"]], geometry=gpd.points_from_xy(st["lon"], st["lat"]), crs=settings.WGS84)
    msoa = _locate(pts, "msoa11", d)
    lsoa_level = "lsoa21" if iod == "2025" else "lsoa11"
    lsoa = _locate(pts, lsoa_level, d)
    approximate = pd.Series(False, index=st.index)
    note = msoa["method"].copy()
    outside = pd.Series(False, index=st.index)
    missing = msoa["code"].isna()
    if missing.any():
        cen = pd.read_parquet(d / "lookups" / "lsoa11_centroids_ew.parquet")
        l11 = pd.read_parquet(d / "lookups" / "lsoa11.parquet").set_index("lsoa11_code")["msoa11_code"]
        for i in np.flatnonzero(missing.to_numpy()):
            dist = np.hypot((cen["lon"] - st.at[i, "lon"]) * math.cos(math.radians(st.at[i, "lat"])),
                            cen["lat"] - st.at[i, "lat"])
            nearest = cen.iloc[int(np.argmin(dist.to_numpy()))]
            if not str(nearest["lsoa11_code"]).startswith("E"):
                outside.iat[i] = True
                note.iat[i] = "outside England: no data"
            else:
                msoa.iat[i, 0] = l11.get(nearest["lsoa11_code"])
                approximate.iat[i] = True
                note.iat[i] = "approximate: MSOA of the nearest LSOA centre"
                if lsoa["code"].iat[i] is None and lsoa_level == "lsoa11":
                    lsoa.iat[i, 0] = nearest["lsoa11_code"]
    le = pd.read_parquet(d / "indicators" / "life_expectancy_msoa11.parquet").set_index("msoa11_code")
    out = st[["name", "lat", "lon", "minutes"] + (["km"] if "km" in st.columns else [])].copy()
    out["msoa"] = msoa["code"].where(~outside, None)
    out["msoa_name"] = out["msoa"].map(names_for("msoa11", d)["name"])
    out["msoa_ons_name"] = out["msoa"].map(le["msoa11_name"])
    for sex in ("male", "female"):
        for suffix in ("", "_lower", "_upper"):
            col = f"le_{sex}{suffix}"
            out[col] = out["msoa"].map(le[col]).astype(float)
    iod_t = pd.read_parquet(d / "indicators" / f"iod{iod}_{'lsoa21' if iod == '2025' else 'lsoa11'}.parquet")
    dec = iod_t.set_index(f"{lsoa_level}_code")[f"imd{iod}_decile"]
    out["lsoa"] = lsoa["code"].where(~outside, None)
    out["imd_decile"] = out["lsoa"].map(dec).astype("Int64")
    out["approximate"] = approximate.to_numpy()
    out["area_note"] = note.fillna("").to_numpy()
    return out


@dataclass(frozen=True)
class Gap:
    """The largest life-expectancy gap along a line for one sex."""

    sex: str
    low_stop: str
    high_stop: str
    low: float
    high: float
    gap_years: float
    stops_apart: int
    minutes_apart: float | None
    ci_overlap: bool

    @property
    def text(self) -> str:
        who = {"male": "Men", "female": "Women"}[self.sex]
        apart = f"{self.stops_apart} stop{'s' if self.stops_apart != 1 else ''}"
        if self.minutes_apart is not None:
            apart += f" / {self.minutes_apart:.0f} minutes"
        # the difference of the two figures as shown (72.5 and 87.9 → 15.4), so the room's sum agrees
        shown = round(self.high, 1) - round(self.low, 1)
        return (f"{who} at {self.low_stop} can expect to live {shown:.1f} years less than "
                f"{who.lower()} at {self.high_stop}, {apart} apart.")

    def to_dict(self) -> dict:
        return {"sex": self.sex, "low_stop": self.low_stop, "high_stop": self.high_stop, "low": round(self.low, 2),
                "high": round(self.high, 2), "gap_years": round(self.gap_years, 2), "stops_apart": self.stops_apart,
                "minutes_apart": None if self.minutes_apart is None else round(self.minutes_apart, 1),
                "ci_overlap": self.ci_overlap, "text": self.text}


def compute_gaps(profile: pd.DataFrame) -> dict[str, Gap | None]:
    """The largest gap (highest minus lowest life expectancy among the stops) per sex.

    Stops without an estimate are skipped. ``ci_overlap`` is True when the lower stop's upper
    95% limit reaches the higher stop's lower limit: the gap may not be real.
    """
    out: dict[str, Gap | None] = {}
    for sex in ("male", "female"):
        col = f"le_{sex}"
        ok = profile[profile[col].notna()]
        if len(ok) < 2:
            out[sex] = None
            continue
        lo_i, hi_i = ok[col].idxmin(), ok[col].idxmax()
        lo, hi = profile.loc[lo_i], profile.loc[hi_i]
        minutes = None
        if not (pd.isna(lo["minutes"]) or pd.isna(hi["minutes"])):
            minutes = abs(float(hi["minutes"]) - float(lo["minutes"]))
        out[sex] = Gap(sex, lo["name"], hi["name"], float(lo[col]), float(hi[col]), float(hi[col] - lo[col]),
                       abs(int(hi_i) - int(lo_i)), minutes, bool(lo[f"{col}_upper"] >= hi[f"{col}_lower"]))
    return out


def profile_to_json(profile: pd.DataFrame, gaps: dict[str, Gap | None]) -> dict:
    """The CLI's ``metro-line --json`` shape."""
    def num(v):
        return None if v is None or pd.isna(v) else round(float(v), 3)

    stops = [{"name": r["name"], "lat": round(float(r["lat"]), 6), "lon": round(float(r["lon"]), 6),
              "msoa": r["msoa"] if isinstance(r["msoa"], str) else None,
              "msoa_name": r["msoa_name"] if isinstance(r["msoa_name"], str) else None,
              "msoa_ons_name": r["msoa_ons_name"] if isinstance(r["msoa_ons_name"], str) else None,
              "le_male": num(r["le_male"]), "le_female": num(r["le_female"]),
              "le_male_ci": [num(r["le_male_lower"]), num(r["le_male_upper"])],
              "le_female_ci": [num(r["le_female_lower"]), num(r["le_female_upper"])],
              "imd_decile": None if pd.isna(r["imd_decile"]) else int(r["imd_decile"]),
              "minutes": num(r["minutes"]), "km": num(r["km"]) if "km" in profile.columns else None,
              "approximate": bool(r["approximate"])}
             for _, r in profile.iterrows()]
    return {"stops": stops, "headline": {sex: (g.to_dict() if g else None) for sex, g in gaps.items()}}

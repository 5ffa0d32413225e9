"""Transport: Metrolink and Tyne and Wear Metro lines and stops, bundled GTFS feeds."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd

from civicdata.build.io import Bundle, _raise, _src, _write
from civicdata.errors import Problem
from civicdata.readers import (
    read_text_table,
    require_columns,
    to_number,
)


def build_transport(sources: Path, bundle: Bundle) -> None:
    """Metrolink lines (stops in running order) and the default journey feed (Chester GTFS, copied)."""
    problems: list[Problem] = []
    path, label = _src(sources, "metrolink_lines")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "Metrolink lines")
    try:
        lines = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        _raise([Problem(label, f"not valid JSON: {exc}")], "Metrolink lines")
    rows = []
    for key in sorted(lines):
        line = lines[key]
        for col in ("route_short_name", "direction", "stops"):
            if col not in line:
                problems.append(Problem(label, f"line {key} has no '{col}'", column=col))
        for seq, stop in enumerate(line.get("stops", [])):
            for col in ("stop_name", "stop_lat", "stop_lon"):
                if not isinstance(stop.get(col), (str, float, int)) or stop.get(col) in ("", None):
                    problems.append(Problem(label, f"line {key} stop {seq + 1} has no '{col}'", column=col))
            rows.append({"line_key": key, "line_name": line.get("route_short_name"),
                         "direction": line.get("direction"), "stop_sequence": seq + 1,
                         "stop_name": str(stop.get("stop_name", "")).replace(" (Manchester Metrolink)", ""),
                         "lat": stop.get("stop_lat"), "lon": stop.get("stop_lon"),
                         "seconds_from_previous": stop.get("seconds_since_previous_stop")})
    _raise(problems, "Metrolink lines")
    ml = pd.DataFrame(rows)
    ml["seconds_from_previous"] = ml["seconds_from_previous"].astype("Int64")
    _write(ml, bundle.out / "transport" / "metrolink_lines.parquet")
    bundle.record("metrolink_lines", ["transport/metrolink_lines.parquet"], ["metrolink_lines"], len(ml),
                  "point (WGS84)", "Metrolink lines, stops in running order",
                  note=f"{ml['line_key'].nunique()} line directions; stop names without ' (Manchester Metrolink)'")
    build_tw_metro(sources, bundle)
    path, label = _src(sources, "chester_gtfs")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "Chester GTFS")
    dest = bundle.out / "transport" / "chester_gtfs.zip"
    shutil.copyfile(path, dest)
    bundle.record("chester_gtfs", ["transport/chester_gtfs.zip"], ["chester_gtfs"], 1, "point (WGS84)",
                  "Chester GTFS (default journey feed)", note="copied unchanged")



TW_LINES = {"Green": ("tyne-and-wear:green", "Green line"), "Yellow": ("tyne-and-wear:yellow", "Yellow line")}



def build_tw_metro(sources: Path, bundle: Bundle) -> None:
    """The Tyne and Wear Metro's Green and Yellow lines, stations in running order with straight-line km
    (no timetable): ``transport/tw_metro_lines.parquet``."""
    problems: list[Problem] = []
    path, label = _src(sources, "tw_metro_lines")
    f = read_text_table(path, label=label, problems=problems)
    cols = ["line", "line_description", "seq", "station", "naptan_atco", "lat", "lon", "km_from_prev", "km_cumulative"]
    if f is None or not require_columns(f, cols, label=label, problems=problems):
        _raise(problems, "Tyne and Wear Metro lines")
    for i in f.index[~f["line"].isin(list(TW_LINES))][:5]:
        problems.append(Problem(label, f"unknown line '{f.at[i, 'line']}'", row=int(i) + 2, column="line"))
    nums = {c: to_number(f, c, label=label, problems=problems) for c in ("seq", "lat", "lon", "km_from_prev",
                                                                        "km_cumulative")}
    _raise(problems, "Tyne and Wear Metro lines")
    tw = pd.DataFrame({"line_key": f["line"].map(lambda x: TW_LINES[x][0]),
                       "line_name": f["line"].map(lambda x: TW_LINES[x][1]),
                       "direction": f["line_description"], "stop_sequence": nums["seq"].astype("Int64"),
                       "stop_name": f["station"], "naptan_atco": f["naptan_atco"], "lat": nums["lat"],
                       "lon": nums["lon"], "km_from_prev": nums["km_from_prev"], "km": nums["km_cumulative"]})
    for key, g in tw.groupby("line_key"):
        if g["stop_sequence"].tolist() != list(range(1, len(g) + 1)):
            problems.append(Problem(label, f"{key}: stations are not numbered 1..{len(g)} in order", column="seq"))
    _raise(problems, "Tyne and Wear Metro lines")
    tw = tw.sort_values(["line_key", "stop_sequence"])
    _write(tw, bundle.out / "transport" / "tw_metro_lines.parquet")
    bundle.record("tw_metro_lines", ["transport/tw_metro_lines.parquet"], ["tw_metro_lines"], len(tw),
                  "point (WGS84)", "Tyne and Wear Metro lines, stations in running order",
                  note="Green (Airport to South Hylton) and Yellow (St James via the coast to South Shields; Monument "
                       "twice); straight-line km between stations, no minutes (no timetable)")

"""``python -m civicdata …``: the analysts' command line. Same functions as the pages.

Exit codes: 0 success; 1 a data or input error (message on stderr); 2 bad usage.
JSON shapes are a public interface, documented in the README.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Sequence

import pandas as pd

from civicdata import settings
from civicdata.errors import CivicDataError
from civicdata.focus import COMPLETENESS_RULE


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False))


def cmd_build(args: argparse.Namespace) -> int:
    from civicdata.build.run import build_bundle

    out = build_bundle(Path(args.sources), Path(args.out))
    print(f"built the bundle in {out}")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    from civicdata.indicators.catalogue import load_catalogue

    cat = load_catalogue()
    if args.json:
        _print_json([{**d.to_dict(), "user": d.user} for d in cat])
        return 0
    for theme, layers in cat.by_theme().items():
        print(f"[{theme}]")
        for d in layers:
            print(f"  {d.id:32s} {d.geography:7s} {d.vintage:10s} {d.title}")
    return 0


def cmd_values(args: argparse.Namespace) -> int:
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.indicators.layers import lookup_value

    desc = load_catalogue().get(args.layer)
    result = lookup_value(desc, args.area)
    if args.json:
        _print_json(result.to_dict())
        return 0
    area = f"{result.name} ({result.area})" if result.name and result.name != result.area else result.area
    if result.status != "ok":
        print(f"{desc.id} for {area}: {result.status}")
        return 0
    ci = f" (95% CI {result.ci_lower:g} to {result.ci_upper:g})" if result.ci_lower is not None else ""
    print(f"{desc.id} for {area}: {result.value:g} {desc.unit}{ci}  [{desc.source}, {desc.vintage}]")
    return 0


def cmd_areas(args: argparse.Namespace) -> int:
    from civicdata.geo.geography import areas_within

    frame = areas_within(args.within, args.level)
    if args.json:
        _print_json(frame.to_dict(orient="records"))
        return 0
    for row in frame.itertuples():
        print(f"{row.code}  {row.name}")
    print(f"{len(frame)} areas")
    return 0


def cmd_boundaries(args: argparse.Namespace) -> int:
    import shapely

    from civicdata.geo.boundaries import feature_collection
    from civicdata.geo.geography import resolve_lad
    from civicdata.indicators.choropleth import boundaries_for

    lad = resolve_lad(args.lad)
    frame = boundaries_for(args.level, lad.code)
    if not args.geojson:
        for row in frame.itertuples():
            print(f"{row.code}  {row.name}  ({row.geometry.geom_type}, {shapely.get_num_coordinates(row.geometry):,} "
                  "vertices)")
        print(f"{len(frame)} areas in {lad.name} ({args.level}); add --geojson for a FeatureCollection")
        return 0
    text = json.dumps(feature_collection(frame), ensure_ascii=False, separators=(",", ":"))
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(f"wrote {len(frame)} features ({args.level}, {lad.name}) to {args.out}", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_school(args: argparse.Namespace) -> int:
    from civicdata.indicators.schools import school_profile

    try:
        prof = school_profile(int(args.urn))
    except (KeyError, ValueError):
        print(f"error: no school with URN {args.urn} in GIAS (May 2025) or the DfE school files", file=sys.stderr)
        return 1
    if args.json:
        _print_json(prof)
        return 0
    print(f"{prof['name']} (URN {prof['urn']}): {prof['phase'] or 'closed by May 2025'}; "
          f"{prof['local_authority'] or 'local authority not recorded'}; trust: {prof['trust'] or 'none recorded'}")
    if prof["lsoa21_code"]:
        print(f"Neighbourhood {prof['neighbourhood']} ({prof['lsoa21_code']}, LSOA 2021): IMD decile "
              f"{prof['imd2025_decile']} (IoD2025)")
    for m in prof["measures"]:
        def fmt(v):
            return "–" if v is None else f"{v:.1f}" if m["unit"] != "score" else f"{v:.2f}"
        if m["value"] is None:
            print(f"  {m['title']} ({m['vintage']}): – ({m['why_missing']})")
        else:
            print(f"  {m['title']} ({m['vintage']}): {fmt(m['value'])} {m['unit']}; local authority "
                  f"{fmt(m['local_authority'])}; England {fmt(m['england'])} ({m['compared_with']})")
    print(prof["absence_note"])
    return 0


def _feed_json(f) -> dict:
    return {"name": f.name, "sha256": f.sha256, "size_bytes": f.size_bytes, "source": f.source,
            "added_at": f.added_at, "summary": f.summary}


def _feed_line(f) -> str:
    s = f.summary
    cal = " to ".join(s.get("calendar") or ["no calendar"])
    where = ", ".join(d["name"] for d in (s.get("districts") or [])[:4]) or "no English district"
    more = len(s.get("districts") or []) - 4
    return (f"{f.name}: {cal}; {', '.join(s.get('agencies') or []) or 'agency not named'}; {s.get('stops', 0):,} stops, "
            f"{s.get('routes', 0):,} routes, {s.get('trips', 0):,} trips; {where}{f' and {more} more' if more > 0 else ''}"
            + (f"; clipped to {s['clip']['district']} (+{s['clip']['buffer_m']:g} m)" if s.get("clip") else ""))


def cmd_feed(args: argparse.Namespace) -> int:
    from civicdata.store import feeds as stored
    from civicdata.transit import feeds

    if args.action == "add":
        def progress(done: int, total: int | None) -> None:
            if not args.quiet:
                of = f" of {total / 2**20:.1f} MB" if total else ""
                print(f"\rdownloading: {done / 2**20:.1f} MB{of}", end="", file=sys.stderr, flush=True)

        try:
            f = feeds.add_feed(args.source, args.name, args.clip, replace=args.replace, progress=progress)
        finally:
            if not args.quiet and args.source.lower().startswith(("http://", "https://")):
                print(file=sys.stderr)
        if args.json:
            _print_json(_feed_json(f))
        else:
            print(f"stored {_feed_line(f)}")
        return 0
    if args.action == "list":
        all_feeds = stored.stored_feeds()
        if args.json:
            _print_json([_feed_json(f) for f in all_feeds])
        else:
            for f in all_feeds:
                print(_feed_line(f))
            print(f"{len(all_feeds)} stored feed(s); the bundled one is data/transport/chester_gtfs.zip")
        return 0
    if not args.source:
        print(f"error: feed {args.action} needs the feed's NAME", file=sys.stderr)
        return 2
    if args.action == "show":
        f = stored.stored_feed(args.source)
        if args.json:
            _print_json(_feed_json(f))
        else:
            print(_feed_line(f))
            print(f"source: {f.source}; added {f.added_at}; {f.size_bytes / 2**20:.1f} MB; sha256 {f.sha256}")
        return 0
    if not stored.delete_feed(args.source):
        stored.stored_feed(args.source)  # says which feeds there are
    print(f"removed the feed {args.source}")
    return 0


def cmd_metro_line(args: argparse.Namespace) -> int:
    from civicdata import metro

    if args.list:
        table = metro.bundled_lines()
        if args.json:
            _print_json([{"key": r.key, "network": r.network_name, "name": r.name, "first": r.first, "last": r.last,
                          "stops": int(r.stops)} for r in table.itertuples()])
        else:
            for r in table.itertuples():
                print(f"{r.key:24s} {r.network_name:30s} {r.name:12s} {r.first} → {r.last} ({r.stops} stops)")
        return 0
    if args.bundled:
        line = metro.bundled_line(args.bundled)
    elif args.feed:
        if not args.route:
            raise ValueError("--feed needs --route ROUTE_ID")
        from civicdata.transit.gtfs import load_feed

        line = metro.feed_line(load_feed(args.feed), args.route, args.pattern)
    else:
        if not (args.line and args.stops and args.start and args.end):
            raise ValueError("--line needs --stops, --from and --to")
        line = metro.line_from_files(Path(args.line), Path(args.stops), args.start, args.end)
    profile = metro.stop_profile(line, iod=args.iod)
    gaps = metro.compute_gaps(profile)
    if args.json:
        out = metro.profile_to_json(profile, gaps)
        out["line"] = line.name
        out["far_stops"] = line.far_stops[["name", "offset_m"]].to_dict(orient="records")
        _print_json(out)
        return 0
    print(line.name)
    for r in profile.itertuples():
        le = lambda v, lo, hi: "no estimate" if v != v else f"{v:.1f} ({lo:.1f}-{hi:.1f})"  # noqa: E731
        mins = "" if r.minutes != r.minutes else f"{r.minutes:5.1f} min  "
        dec = "-" if r.imd_decile is None or r.imd_decile != r.imd_decile else r.imd_decile
        area = f"{r.msoa_name} ({r.msoa})" if isinstance(r.msoa, str) else "no data"
        print(f"  {mins}{r.name:30s} {area[:40]:40s} M {le(r.le_male, r.le_male_lower, r.le_male_upper):20s} "
              f"F {le(r.le_female, r.le_female_lower, r.le_female_upper):20s} IMD {dec}{' (approximate)' if r.approximate else ''}")
    for r in line.far_stops.itertuples():
        print(f"  left out: {r.name} is {r.offset_m:.0f} m from the line")
    for g in gaps.values():
        if g is not None:
            print(g.text + (" Their 95% confidence intervals overlap." if g.ci_overlap else ""))
    return 0


def cmd_focus(args: argparse.Namespace) -> int:
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.focus import compute_focus

    weights: dict[str, float] = {}
    for item in args.indicator or []:
        layer, sep, w = item.partition("=")
        try:
            weights[layer] = float(w) if sep else 1.0
        except ValueError:
            raise ValueError(f"--indicator {item}: the weight must be a number (LAYER_ID=WEIGHT)") from None
    cat = load_catalogue()
    for layer in weights:
        cat.get(layer)  # unknown ids fail here, with suggestions
    if not weights:  # the page's defaults: the same function
        from civicdata.focus import default_weights

        weights = default_weights(cat, args.unit, args.within)
    import pandas as pd

    from civicdata.focus import COMPLETENESS_RULE, PARTIAL_MARK, UNIT_PLURALS

    res = compute_focus(cat, args.unit, args.within, weights, top_n=args.top, draws=args.draws, seed=args.seed,
                        include_incomplete=args.include_incomplete)
    if args.json:
        _print_json(res.to_json(limit=args.top))
        return 0
    print(f"Strategic focus: {res.area_name}, by {args.unit}; top {args.top} stability from {res.draws} draws, "
          f"seed {res.seed}")
    for lid, rule in res.rules.items():
        print(f"  {lid} (weight {res.weights[lid]:g}): {rule}")
    for note in res.coverage_notes({k: cat.get(k).title for k in res.indicators}, UNIT_PLURALS[args.unit]):
        print(f"  coverage: {note}")
    print(f"  rule: {COMPLETENESS_RULE}" + ("" if not args.include_incomplete else " (included: --include-incomplete)"))
    for r in res.table.head(args.top).itertuples():
        rank = "   -" if pd.isna(r.rank) else f"{r.rank:4d}"
        score = "     -" if pd.isna(r.score) else f"{r.score:6.2f}"
        stab = "   -" if pd.isna(r.stability) else f"{r.stability:.2f}"
        mark = "" if r.complete else f" {PARTIAL_MARK}"
        print(f"{rank}  {r.code:10s} {(r.name + mark)[:40]:40s} score {score}  missing {r.missing}  "
              f"stability {stab}  {r.reason}")
    rest = len(res.table) - args.top
    if rest > 0:
        print(f"  … {rest} more place{'s' if rest > 1 else ''} (--top N shows more)")
    return 0


def cmd_convene(args: argparse.Namespace) -> int:
    from civicdata.convene import convene_json

    rows = convene_json(args.code, args.unit)
    if args.json:
        _print_json(rows)
        return 0
    for r in rows:
        print(f"{r['role']:40s} {r['name'][:60]:60s} {r['code']:10s} {r['detail']}")
    return 0


def cmd_add_layer(args: argparse.Namespace) -> int:
    from civicdata.indicators.userlayers import add_layer, parse_descriptor

    file = Path(args.file)
    if file.is_dir():  # a layer folder: its layer.toml names the data file beside it
        desc_path = Path(args.descriptor) if args.descriptor else file / "layer.toml"
        if not desc_path.is_file():
            raise ValueError(f"{file}: a layer folder needs a layer.toml (or give --descriptor)")
        raw = parse_descriptor(desc_path.read_text(encoding="utf-8"), str(desc_path))
        name = str(raw.get("file") or "")
        if not name or Path(name).name != name:
            raise ValueError(f"{desc_path}: 'file' must name the data file in {file} (no folders)")
        file = file / name
    elif not args.descriptor:
        raise ValueError(f"{file}: give --descriptor LAYER.toml, or a folder holding layer.toml and its data file")
    else:
        desc_path = Path(args.descriptor)
        if not desc_path.is_file():
            raise ValueError(f"{desc_path}: no such file")
        raw = parse_descriptor(desc_path.read_text(encoding="utf-8"), desc_path.name)
    if not file.is_file():
        raise ValueError(f"{file}: no such file")
    desc, report = add_layer(file.read_bytes(), file.name, raw, replace_existing=args.replace, sheet=args.sheet)
    notes = f" ({'; '.join(report.notes)})" if report.notes else ""
    print(f"added layer {desc.id}: {report.rows} rows, {report.ok} values, {report.suppressed} suppressed, "
          f"{report.missing} blank{notes}")
    return 0


def cmd_import_layers(args: argparse.Namespace) -> int:
    from civicdata.indicators.catalogue import import_layer_folders
    from civicdata.trust import import_group_files

    folder = Path(args.folder)
    if not folder.is_dir():
        raise ValueError(f"{folder}: no such folder")
    messages = import_layer_folders(folder) + import_group_files(folder / "groups")
    for m in messages:
        print(m)
    if not messages:
        print(f"{folder}: nothing new to import (every layer folder and trust file was imported before)")
    return 0


def cmd_area(args: argparse.Namespace) -> int:
    from civicdata.geo import places

    if args.action == "list":
        rows = places.list_areas()
        if args.json:
            _print_json(rows)
        else:
            for a in rows:
                print(f"{a['id']:24s} {a['neighbourhoods']:5d} {places.AREA_LEVELS[a['level']]}  {a['title']}")
        return 0
    if not args.id:
        raise ValueError(f"area {args.action} needs the area's id")
    if args.action == "delete":
        places.delete_area(args.id)
        print(f"deleted area {args.id}")
        return 0
    if args.action == "rename":
        if not (args.new_id or args.title):
            raise ValueError("area rename needs --new-id and/or --title")
        args.id = places.rename_area(args.id, args.new_id, args.title)["id"]
    if args.action == "save":
        given = [(lv, v) for lv, v in (("lsoa21", args.lsoa21), ("lsoa11", args.lsoa11), ("ward", args.wards),
                                       ("file", args.file)) if v]
        if len(given) != 1:
            raise ValueError("area save takes exactly one of --lsoa21, --lsoa11, --wards or --file")
        level, value = given[0]
        if level == "file":
            level, codes = places.read_area_file(Path(value))
            label = Path(value).name
        else:
            codes, label = re.split(r"[\s,;]+", value.strip()), f"--{'wards' if level == 'ward' else level}"
        places.save_area(args.id, args.title or args.id, codes, level, replace=args.replace, label=label)
    out = places.saved_area_profile(args.id)
    if args.json:
        _print_json(out)
        return 0
    print(f"{out['title']} ({out['id']}): {out['neighbourhoods']} {places.AREA_LEVELS[out['level']]} neighbourhoods, "
          f"{out['population']:,} people ({out['population_source']})")
    d1 = out["imd_decile_population_share"]["1"]
    print(f"  {d1 * 100:.0f}% of them live in England's most deprived 10% of neighbourhoods ({out['iod']})"
          if d1 is not None else "  no population figures")
    for key, what in (("local_authorities", "local authorities"), ("wards", "wards"), ("sub_icbs", "sub-ICBs"),
                      ("icbs", "ICBs"), ("pcns", "PCNs with a practice here")):
        print(f"  {what}: {', '.join(x['name'] for x in out[key]) or 'none'}")
    for c in out["caveats"]:
        print(f"  note: {c}")
    return 0


def cmd_pcn(args: argparse.Namespace) -> int:
    from civicdata.geo import places

    if args.practice:
        out = places.practice_pcn(args.practice)
        if args.json:
            _print_json(out)
        else:
            where = "" if out["same_sub_icb"] else (f" (the practice is in sub-ICB {out['sub_icb']['ods_code']}, the PCN "
                                                    f"in {out['pcn_sub_icb']['ods_code']})")
            print(f"{out['ods_code']} {out['name']}: {out['pcn']['code']} {out['pcn']['name']}{where}")
        return 0
    if args.within:
        from civicdata.geo.geography import resolve_lad

        lad = resolve_lad(args.within)
        table = places.pcns_in(lad.code)
        if args.json:
            _print_json([{"code": r.pcn_code, "name": r.pcn_title, "practices_here": int(r.practices),
                          "sub_icb": r.sicb_ods_code} for r in table.itertuples()])
        else:
            for r in table.itertuples():
                print(f"{r.pcn_code}  {r.pcn_title} ({r.practices} practice(s) in {lad.name})")
        return 0
    if not args.code:
        raise ValueError("give a PCN code (U and five digits), --practice ODS_CODE or --within LAD")
    out = places.pcn_profile(args.code)
    if args.json:
        _print_json(out)
        return 0
    print(f"{out['code']} {out['name']}: sub-ICB {out['sub_icb']['ods_code']} ({out['sub_icb']['name']}), "
          f"{out['icb']['name']}")
    for r in out["practices"]:
        other = "" if r["same_sub_icb"] else f"  [practice's sub-ICB: {r['sub_icb']['ods_code']}]"
        size = f"{r['list_size']:,}" if r["list_size"] is not None else "no QOF list"
        print(f"  {r['ods_code']}  {r['name'][:40]:40s} {size:>12s} patients  LSOA {r['lsoa21_code'] or '-'}{other}")
    for q in out["qof"].values():
        pct = "-" if q["pct"] is None else f"{q['pct']:.2f}%"
        print(f"  {q['title']}: {pct} ({q['register']:,} of {q['list']:,}, {q['practices']} practices)")
    print(out["note"])
    return 0


def cmd_remove_layer(args: argparse.Namespace) -> int:
    from civicdata.indicators.userlayers import remove_layer

    remove_layer(args.layer)
    print(f"removed layer {args.layer}")
    return 0


def _latlon(text: str) -> tuple[float, float]:
    try:
        lat, lon = (float(v) for v in text.split(","))
    except ValueError:
        raise ValueError(f"'{text}' is not LAT,LON") from None
    return lat, lon


def _day(text: str):
    """``--date YYYYMMDD`` as a date."""
    from datetime import datetime

    try:
        return datetime.strptime(text, "%Y%m%d").date()
    except ValueError:
        raise ValueError(f"--date {text}: use YYYYMMDD") from None


def _window(text: str) -> tuple[int, int]:
    """``--window HH:MM-HH:MM`` as (start, end) seconds after midnight."""
    from civicdata.transit.raptor import parse_hhmm

    a, sep, b = text.partition("-")
    if not sep:
        raise ValueError("--window HH:MM-HH:MM")
    return parse_hhmm(a), parse_hhmm(b)


def cmd_journey(args: argparse.Namespace) -> int:
    from civicdata.transit import raptor as transit
    from civicdata.transit.cache import open_timetable

    tt = open_timetable(args.feed, _day(args.date)).timetable
    cap = _cap(args.max_minutes)
    j = transit.journey(tt, _latlon(args.start), _latlon(args.end), transit.parse_hhmm(args.depart), max_minutes=cap)
    out = j.to_dict()
    if args.window:
        frame = transit.journey_range(tt, _latlon(args.start), _latlon(args.end), *_window(args.window),
                                      max_minutes=cap)
        out["range"] = transit.summarise_range(frame)
    if args.json:
        _print_json(out)
        return 0
    if j.arrival is None:
        print(j.words)
    else:
        print(f"arrive {out['arrival']}  {out['minutes']:.1f} min  {j.vehicles} vehicle(s)  walk {out['walk_minutes']:.1f} min")
        for leg in out["legs"]:
            via = f" [{leg['route']}]" if leg["mode"] == "ride" else ""
            print(f"  {leg['depart']}-{leg['arrive']} {leg['mode']}{via}: {leg['from']} -> {leg['to']}")
    if "range" in out:
        r = out["range"]
        print(f"window: best {r['best']} / median {r['median']} / worst {r['worst']} min "
              f"({r['reached']} of {r['departures']} departures reach" + ("" if cap is None else f" within {cap:g} min")
              + ")")
    print(transit.cap_rule(cap))
    return 0


def _cap(text: str) -> float | None:
    """``--max-minutes``: a number of minutes above 0, or ``none`` for no cap."""
    if str(text).lower() == "none":
        return None
    try:
        v = float(text)
    except ValueError:
        v = -1
    if not (0 < v <= 24 * 60):
        raise ValueError(f"--max-minutes must be minutes between 1 and 1440, or none (got {text!r})")
    return v


def cmd_check_feed(args: argparse.Namespace) -> int:
    from civicdata.transit.gtfs import check_feed

    report = check_feed(args.feed)
    if args.json:
        _print_json(report.to_json())
        return 0 if report.ok else 1
    rng = report.service_range
    print(f"{report.feed}: {'routable' if report.ok else 'cannot be routed'}; {len(report.errors)} error(s), "
          f"{len(report.warnings)} warning(s)" + (f"; service {rng[0]} to {rng[1]}" if rng else ""))
    for kind, items in (("error", report.errors), ("warning", report.warnings)):
        for p in items:
            print(f"  {kind}: {p}")
    return 0 if report.ok else 1


def _trust_urns(args: argparse.Namespace) -> list[str]:
    from civicdata import trust

    urns = trust.parse_urns(args.urns or "")
    if args.file:
        urns += trust.read_urn_file(Path(args.file))
    if getattr(args, "group", None):
        urns += trust.load_group(args.group)["urns"]
    if not urns:
        raise ValueError("give the trust's schools: --urns URN,URN,… or --file PATH (a CSV/XLSX with a urn column)"
                         " or --group ID")
    return urns


def cmd_trust(args: argparse.Namespace) -> int:
    from civicdata import trust

    out = trust.trust_json(_trust_urns(args))
    if args.json:
        _print_json(out)
        return 0
    s = out["summary"]
    print(f"{s['schools']} schools, {s['pupils']:,} pupils; {s['pupils_decile1']:,} in England's most deprived 10% of "
          f"neighbourhoods, {s['pupils_deciles1_2']:,} in the most deprived 20% (IoD2025)")
    for r in out["schools"]:
        print(f"  {r['urn']}  {r['name'][:38]:38s} {r['lad24_name'][:20]:20s} decile {r['imd2025_decile']}  "
              f"{r['neighbourhood']}")
    for key, title in (("local_authorities", "Local authorities"), ("icbs", "ICBs"), ("sub_icbs", "Sub-ICBs"),
                       ("nhs_trusts", "NHS trusts (HQ or hospital within 5 km)")):
        print(f"{title}:")
        for r in out[key]:
            print(f"  {r['code']}  {r['name']}: {len(r['schools'])} school(s)")
    if out["unknown_urns"]:
        print(f"unknown or closed URNs (left out): {', '.join(out['unknown_urns'])}")
    if out["duplicate_urns"]:
        print(f"repeated URNs (counted once): {', '.join(out['duplicate_urns'])}")
    return 0


def cmd_trust_group(args: argparse.Namespace) -> int:
    from civicdata import trust

    if args.action == "list":
        rows = trust.list_groups()
        if args.json:
            _print_json(rows)
        else:
            for g in rows:
                print(f"{g['id']:24s} {g['schools']:4d} schools  {g['title']}")
        return 0
    if args.action == "save":
        found = trust.save_group(args.id, args.title or args.id, _trust_urns(args), replace=args.replace)
        print(f"saved trust {args.id}: {len(found.urns)} schools"
              + (f"; left out {len(found.unknown)} unknown or closed URN(s): {', '.join(found.unknown)}"
                 if found.unknown else "")
              + (f"; {len(found.duplicates)} repeated URN(s) counted once" if found.duplicates else ""))
        return 0
    if args.action == "rename":
        trust.rename_group(args.id, args.new_id, args.title)
        print(f"renamed trust {args.id} to {args.new_id}")
        return 0
    trust.delete_group(args.id)
    print(f"deleted trust {args.id}")
    return 0


def cmd_journey_layer(args: argparse.Namespace) -> int:
    from civicdata.transit import access
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.geo.geography import resolve_lad
    from civicdata.transit.cache import open_timetable
    from civicdata.indicators.userlayers import add_layer

    day = _day(args.date)
    start, end = _window(args.window)
    cat = load_catalogue()
    place = resolve_lad(args.within).code
    tt = open_timetable(args.feed, day).timetable
    schools, services = access.schools_and_services(cat, place, args.service, tt)
    if schools.empty or services.empty:
        raise ValueError(f"no {'schools' if schools.empty else 'services'} of this choice lie within the feed's area")
    cap = _cap(args.max_minutes)
    table = access.school_access_at_scale(args.feed, day, schools, services, start, end, args.every * 60,
                                          progress=_progress_bar(args), max_minutes=cap, workers=args.workers,
                                          scheduler=args.scheduler)
    csv, raw = access.journey_layer(table, service=cat.get(args.service),
                                    feed_name=getattr(args, "feed_label", None) or tt.feed_name, day=day,
                                    start=start, end=end, layer_id=args.id, max_minutes=cap)
    desc, report = add_layer(csv, "journey_minutes.csv", raw, replace_existing=args.replace)
    reached = table[table["reached"]]
    out = {"layer": desc.id, "title": desc.title, "schools": int(len(table)), "reached": int(len(reached)),
           "two_plus": int(table["two_plus"].sum()),
           "median_minutes": None if reached.empty else round(float(reached["median"].median()), 2),
           "max_minutes": cap}
    if args.json:
        _print_json(out)
    else:
        print(f"added layer {out['layer']}: {out['reached']} of {out['schools']} schools reach a service "
              + ("" if cap is None else f"within {cap:g} minutes ")
              + f"(median {out['median_minutes']} min; {out['two_plus']} two or more vehicles away)")
    return 0


def _progress_bar(args: argparse.Namespace):
    """A text progress bar on stderr (the JSON on stdout stays clean); none with --quiet."""
    if getattr(args, "quiet", False):
        return None

    def show(share: float) -> None:
        n = int(share * 30)
        print(f"\r[{'#' * n}{' ' * (30 - n)}] {share * 100:5.1f}%", end="" if share < 1 else "\n", file=sys.stderr,
              flush=True)
    return show


def cmd_journey_matrix(args: argparse.Namespace) -> int:
    from civicdata.transit import access, raptor as transit
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.geo.geography import resolve_lad
    from civicdata.transit.cache import open_timetable
    from civicdata.transit.jobs import run_origins

    day = _day(args.date)
    start, end = _window(args.window)
    cat = load_catalogue()
    place = args.within if args.within == settings.GM_CAUTH_CODE else resolve_lad(args.within).code
    tt = open_timetable(args.feed, day).timetable
    schools, services = access.schools_and_services(cat, place, args.service, tt)
    if schools.empty or services.empty:
        raise ValueError(f"no {'schools' if schools.empty else 'services'} of this choice lie within the feed's area")
    if args.k < 1:
        raise ValueError(f"--k must be 1 or more (got {args.k})")
    cap = _cap(args.max_minutes)
    m = run_origins("matrix", args.feed, day, schools[["lat", "lon"]].reset_index(drop=True),
                    services[["lat", "lon"]], start, end, args.every * 60, cap, k=args.k, workers=args.workers,
                    scheduler=args.scheduler, progress=_progress_bar(args))
    out = pd.DataFrame({"urn": schools["urn"].astype(str).to_numpy()[m["origin"].to_numpy(int)],
                        "school": schools["name"].to_numpy()[m["origin"].to_numpy(int)],
                        "rank": m["rank"].astype(int), "service": services.loc[m["service"], "name"].to_numpy(),
                        "service_lat": services.loc[m["service"], "lat"].to_numpy(),
                        "service_lon": services.loc[m["service"], "lon"].to_numpy(),
                        "depart": [transit.hhmmss(t)[:5] for t in m["depart"]],
                        "minutes": m["minutes"].round(2), "vehicles": m["vehicles"].astype(int)})
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    out.to_parquet(args.out, index=False)
    summary = {"out": str(args.out), "rows": int(len(out)), "schools": int(len(schools)),
               "schools_with_a_service": int(out["urn"].nunique()), "services": int(len(services)), "k": args.k,
               "departures": len(range(start, end + 1, args.every * 60)), "max_minutes": cap,
               "workers": args.workers, "scheduler": args.scheduler}
    if args.json:
        _print_json(summary)
    else:
        print(f"wrote {summary['rows']:,} rows to {args.out}: {summary['schools_with_a_service']} of "
              f"{summary['schools']} schools reach at least one service within "
              f"{'any time' if cap is None else f'{cap:g} minutes'}; k={args.k}, {summary['departures']} departures")
    return 0


def cmd_workshop(args: argparse.Namespace) -> int:
    """``workshop create|join|vote|note|tally|round|sector|action|export|close|review|delete``: the Workshop
    page's functions."""
    from civicdata.workshop import model, record

    a = args.action
    if a == "create":
        opts = model.parse_options(args.options.split(",")) if args.options else []
        place_code, place_name = None, ""
        if args.place:
            from civicdata.geo.geography import resolve_lad

            area = resolve_lad(args.place)
            place_code, place_name = area.code, area.name
        created = model.create_workshop(args.title or "", opts, held_on=args.date, place_code=place_code,
                                        place_name=place_name, dots=args.dots, questions=args.question or None,
                                        mode=args.mode, points=args.points)
        if args.json:
            _print_json(created.to_json())
        else:
            print(f"workshop {created.id} created.\n  join link (share, or show its QR code): {created.join_path}\n"
                  f"  projector: {model.projector_path(created.id)}\n"
                  f"  facilitator key (keep it private): {created.facilitator_key}")
        return 0
    if a == "review":
        from civicdata.indicators.catalogue import load_catalogue
        from civicdata.focus import review_shortlist

        if not args.record:
            raise ValueError("workshop review: give --record FILE.json (an earlier workshop's JSON record)")
        try:
            earlier = json.loads(Path(args.record).read_text(encoding="utf-8"))
            evidence = earlier["workshop"].get("evidence") or {}
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{args.record}: not a workshop record made by this app ({type(exc).__name__}: {exc})")
        out = review_shortlist(load_catalogue(), evidence)
        if args.json:
            _print_json(out)
        else:
            print(f"{out['unit']} in {out['area']}: the places the room saw, ranked again on today's data")
            for pl in out["places"]:
                print(f"  {pl['name']} ({pl['code']}): rank {pl['rank_then']} then, {pl['rank_now']} now")
        return 0
    if args.id is None:
        raise ValueError(f"workshop {a}: give the workshop's id")
    if a == "join":
        token = model.join(args.id, args.name or "", args.sector or "other", args.organisation or "")
        _print_json({"participant_token": token}) if args.json else print(token)
    elif a == "vote":
        mode = model.get_workshop(args.id).round.mode
        if mode == "dots":
            codes = model.vote(args.id, args.token, args.option or [])
            _print_json({"dots": codes}) if args.json else print(f"{len(codes)} dot(s): {', '.join(codes) or 'none'}")
            return 0
        pairs = [_option_value(o, mode) for o in args.option or []]
        if mode == "points":
            got = model.allocate(args.id, args.token, dict(pairs))
            _print_json({"points": got}) if args.json else print(
                f"{sum(got.values())} point(s): " + (", ".join(f"{c} {n}" for c, n in got.items()) or "none"))
        else:
            got = model.place(args.id, args.token, dict(pairs))
            _print_json({"matrix": {c: list(v) for c, v in got.items()}}) if args.json else print(
                "placed: " + (", ".join(f"{c} impact {i}, feasibility {f}" for c, (i, f) in got.items()) or "none"))
    elif a == "round":
        budget = args.points if args.mode == "points" else (args.dots if args.mode == "dots" else None)
        made = model.new_round(args.id, args.key, args.mode, budget, " ".join(args.question or []))
        _print_json(made.to_json()) if args.json else print(f"round {made.number} open: {model.MODE_NAMES[made.mode]}")
    elif a == "sector":
        code = model.add_sector(args.id, args.key, args.label or "")
        _print_json({"code": code, "label": args.label}) if args.json else print(f"sector {code} added")
    elif a == "action":
        done = model.add_action(args.id, args.key, args.title or "", args.owner or "", args.organisation or "",
                                args.review or "")
        _print_json(done) if args.json else print(f"action {done['id']} recorded: review by {done['review_on']}")
    elif a == "note":
        if args.question is None or len(args.question) != 1:
            raise ValueError("workshop note: give one --question (its number, from 1, or its exact text)")
        number = model.add_note(args.id, args.token, args.question[0], args.text or "")
        _print_json({"question": number}) if args.json else print(f"note added under question {number}")
    elif a == "tally":
        t = model.tally(args.id, args.round)
        if args.json:
            _print_json(t)
        else:
            r = t["round"]
            print(f"{t['title']} ({t['status']}), round {r['number']} ({model.MODE_NAMES[r['mode']]}): "
                  f"{t['participants']} participants, {t['voted']} voted")
            split = args.by == "sector"
            for o in t["options"]:
                if t["mode"] == "matrix" and not o["placed"]:
                    line = f"  not placed yet             {o['label']}"
                elif t["mode"] == "matrix":
                    line = f"  impact {o['impact']:.1f} feasibility {o['feasibility']:.1f}  {o['label']} (placed by {o['placed']})"
                else:
                    line = f"  {o[t['mode']]:4d}  {o['label']}"
                if split and t["mode"] != "matrix":
                    line += "  (" + ", ".join(f"{t['sectors'][c]} {n}" for c, n in o["by_sector"].items()) + ")"
                print(line)
            if t["sector_words"]:
                print(t["sector_words"])
    elif a == "export" and args.format == "pdf":
        if not args.out:
            raise ValueError("workshop export --format pdf: give --out FILE.pdf")
        pdf = record.to_pdf(record.to_html(model.record(args.id, args.key)))
        tmp = Path(args.out).with_name(Path(args.out).name + ".part")
        tmp.write_bytes(pdf)
        tmp.replace(args.out)
    elif a == "export":
        text = record.export(model.record(args.id, args.key), args.format)
        if args.out:
            tmp = Path(args.out).with_name(Path(args.out).name + ".part")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(args.out)
        else:
            sys.stdout.write(text)
    elif a == "close":
        ws = model.close(args.id, args.key, args.agreed)
        if args.json:
            _print_json({"id": ws.id, "status": ws.status, "agreed": ws.agreed})
        else:
            print(f"voting closed; agreed focus: {', '.join(ws.option_label(c) for c in ws.agreed) or 'not marked'}")
    elif a == "delete":
        model.delete_workshop(args.id, args.key)
        _print_json({"deleted": args.id}) if args.json else print(f"workshop {args.id} deleted")
    return 0


def _option_value(given: str, mode: str) -> tuple[str, object]:
    """``CODE=POINTS`` (points) or ``CODE=IMPACT,FEASIBILITY`` (a 2×2) from ``--option``."""
    code, sep, value = given.rpartition("=")
    if not sep or not code:
        want = "CODE=POINTS" if mode == "points" else "CODE=IMPACT,FEASIBILITY (each 1 to 5)"
        raise ValueError(f"--option {given!r}: this round takes {want}")
    if mode == "points":
        return code, value.strip()
    parts = [x.strip() for x in value.split(",")]
    if len(parts) != 2 or not all(x.isdigit() for x in parts):
        raise ValueError(f"--option {given!r}: a 2×2 takes CODE=IMPACT,FEASIBILITY (each 1 to 5)")
    return code, (int(parts[0]), int(parts[1]))


def cmd_trend(args: argparse.Namespace) -> int:
    from civicdata.indicators import trends

    if args.list:
        inds = trends.load_indicators()
        rows = [{"id": d.id, "title": d.title, "unit": d.unit, "polarity": d.polarity, "source": d.source,
                 "publisher": d.publisher, "source_url": d.source_url, "licence": d.licence,
                 "period_type": d.period_type, "periods": d.periods, "first_period": d.first_period,
                 "latest_period": d.latest_period, "tier": d.tier, "has_ci": d.has_ci} for d in inds.values()]
        if args.json:
            _print_json(rows)
        else:
            for r in rows:
                print(f"{r['id']:28s} {r['first_period']:>10s} to {r['latest_period']:10s} {r['title']}")
        return 0
    if not args.id or not args.area:
        raise ValueError("give an indicator id and --area CODE (or --list)")
    out = trends.series_json(args.id, args.area)
    if args.json:
        _print_json(out)
        return 0
    print(f"{out['title']} ({out['unit']}) for {out['area']['name']} ({out['area']['code']})")
    if out["published_for"]:
        print(f"  {out['published_for']}")
    eng = {p["start"]: p["value"] for p in out["england"]}
    for p in out["series"]:
        ci = f" (95% CI {p['lci']:g} to {p['uci']:g})" if p["lci"] is not None else ""
        e = eng.get(p["start"])
        val = "no value" if p["value"] is None else f"{p['value']:g}"
        print(f"  {p['label']:>10s}  {val}{ci}" + (f"   England {e:g}" if e is not None else "")
              + (f"  [{p['status']}]" if p["status"] else ""))
    if out["break"]:
        print(f"  {out['break']}")
    if out["trend"]:
        print(f"Trend: {out['trend']['words']}.")
    if out["vs_england"]:
        print(f"Latest ({out['vs_england']['period']}): {out['vs_england']['words']}.")
    print(f"Source: {out['source']}")
    return 0


def cmd_peers(args: argparse.Namespace) -> int:
    from civicdata.indicators import peers

    out = peers.peers(args.code, args.kind)
    if args.json:
        _print_json(out)
        return 0
    print(f"{out['name']} ({out['code']}): ONS {args.kind} cluster {out['cluster'] or 'not allocated'}")
    if out["description"]:
        print(f"  {out['description']}")
    print("Nearest English neighbours (ONS's rank):")
    for n in out["neighbours"]:
        print(f"  {n['rank']:2d}. {n['name']} ({n['code']})")
    return 0


def _scale_args(cmd: argparse.ArgumentParser) -> None:
    where = cmd.add_mutually_exclusive_group()
    where.add_argument("--workers", type=int, default=1,
                       help="1 (default): in this process; N > 1: a Dask LocalCluster of N worker processes")
    where.add_argument("--scheduler", metavar="tcp://HOST:PORT",
                       help="an existing Dask cluster (its workers need the project, the feed and the timetable cache)")
    cmd.add_argument("--quiet", action="store_true", help="no progress bar on stderr")


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m civicdata", description="Local Need Explorer data tools")
    sub = p.add_subparsers(dest="command", required=True)

    b = sub.add_parser("build", help="build the data bundle from the raw sources")
    b.add_argument("--sources", default=str(settings.REPO_DIR.parent / "shared" / "data"))
    b.add_argument("--out", default=str(settings.data_dir()))
    b.set_defaults(func=cmd_build)

    lay = sub.add_parser("layers", help="list every layer with its descriptor")
    lay.add_argument("--json", action="store_true")
    lay.set_defaults(func=cmd_layers)

    v = sub.add_parser("values", help="a layer's value for one area code")
    v.add_argument("layer")
    v.add_argument("--area", required=True, help="ONS code of the layer's geography and vintage, or a URN")
    v.add_argument("--json", action="store_true")
    v.set_defaults(func=cmd_values)

    a = sub.add_parser("areas", help="the areas inside a local authority district")
    a.add_argument("--within", required=True, help="LAD code (2019 or 2024) or name")
    a.add_argument("--level", required=True, choices=["lsoa11", "lsoa21", "msoa11", "msoa21", "ward"])
    a.add_argument("--json", action="store_true")
    a.set_defaults(func=cmd_areas)
    bd = sub.add_parser("boundaries", help="the boundaries the Area map draws for a district (ONS generalised, BGC "
                                           "20 m), e.g. as a GeoJSON FeatureCollection")
    bd.add_argument("lad", help="the local authority district: LAD 2024 code or name")
    bd.add_argument("--level", required=True, choices=["lsoa21", "lsoa11", "msoa21", "msoa11", "ward", "lad"],
                    help="LSOA or MSOA of 2021 or 2011 (codes kept apart), wards (May 2025) or the district's outline")
    bd.add_argument("--geojson", action="store_true", help="write a FeatureCollection (EPSG:4326; properties code, "
                                                           "name) instead of a list")
    bd.add_argument("--out", help="with --geojson: write to this file (default standard output)")
    bd.set_defaults(func=cmd_boundaries)
    fd = sub.add_parser("feed", help="GTFS timetables kept in the store for every server: add (a file or an address, "
                                      "optionally clipped to a district), list, show, remove")
    fd.add_argument("action", choices=["add", "list", "show", "remove"])
    fd.add_argument("source", nargs="?", help="add: a GTFS zip's path or http(s) address; show, remove: the feed's name")
    fd.add_argument("--name", help="add: the name to keep it under (default: from the file name)")
    fd.add_argument("--clip", metavar="LAD", help="add: keep only what serves this district (LAD 2024 code): its "
                                                  "stops and 1 km around, the trips serving them, what they reference")
    fd.add_argument("--replace", action="store_true", help="add: replace a stored feed of the same name")
    fd.add_argument("--quiet", action="store_true", help="add: no download progress")
    fd.add_argument("--json", action="store_true")
    fd.set_defaults(func=cmd_feed)
    sc = sub.add_parser("school", help="one school's profile: absence 2018/19, KS2/KS4 2022/23, census 2023, each beside "
                                       "its local authority and England")
    sc.add_argument("urn", help="the school's URN")
    sc.add_argument("--json", action="store_true")
    sc.set_defaults(func=cmd_school)
    m = sub.add_parser("metro-line", help="life expectancy at each stop of a line")
    src = m.add_mutually_exclusive_group(required=True)
    src.add_argument("--list", action="store_true", help="list every bundled line (key, network, name, ends, stops)")
    src.add_argument("--bundled", "--metrolink", dest="bundled", metavar="KEY",
                     help="a bundled line: METLPINK:O:2023-07-15 (Metrolink), tyne-and-wear:green, "
                          "tyne-and-wear:yellow (--metrolink is an alias)")
    src.add_argument("--feed", metavar="PATH", help="a GTFS zip or folder (with --route)")
    src.add_argument("--line", metavar="GEOJSON", help="line geometry pieces (with --stops, --from, --to)")
    m.add_argument("--route", metavar="ROUTE_ID")
    m.add_argument("--pattern", type=int, default=0, help="stop pattern index (0 = the one with the most stops)")
    m.add_argument("--stops", metavar="CSV_OR_GEOJSON")
    m.add_argument("--from", dest="start", metavar="STOP_NAME")
    m.add_argument("--to", dest="end", metavar="STOP_NAME")
    m.add_argument("--iod", choices=["2025", "2019"], default="2025", help="IoD for the IMD decile band")
    m.add_argument("--json", action="store_true")
    m.set_defaults(func=cmd_metro_line)
    f = sub.add_parser("focus", help="rank places or schools on a weighted mix of indicators",
                       description="Rank places or schools on a weighted mix of indicators. Completeness: "
                                   + COMPLETENESS_RULE + " (--include-incomplete switches it.)")
    f.add_argument("--unit", required=True, choices=["lsoa11", "lsoa21", "msoa11", "ward", "school", "lad"])
    f.add_argument("--within", required=True, help="LAD code or name, or E47000001 for all of Greater Manchester; "
                                                    "with --unit lad: E92000001 (England) or a region code (E12…)")
    f.add_argument("--indicator", action="append", metavar="LAYER_ID=WEIGHT",
                   help="a layer and its weight, once per indicator; none: the page's default mix (those of income, "
                        "health deprivation, male life expectancy, free school meals and education that have a "
                        "value for every place of the unit in the area)")
    f.add_argument("--top", type=int, default=10,
                   help="print only the first N places (ranked first, then those not ranked); also the N of "
                        "'stability = share of draws in the top N'")
    f.add_argument("--include-incomplete", action="store_true",
                   help="rank places missing a weighted indicator on the ones they have (marked partial data). "
                        "Default: a place is ranked only when it has a value for every weighted indicator; places "
                        "missing any are listed after the ranked ones with what is missing and why")
    f.add_argument("--draws", type=int, default=500, help="robustness draws (at least 500)")
    f.add_argument("--seed", type=int, default=20251022)
    f.add_argument("--json", action="store_true")
    f.set_defaults(func=cmd_focus)
    cv = sub.add_parser("convene", help="who to convene for a place: councils, NHS bodies and trusts open now, "
                                         "schools and practices",
                        description="Who to convene for a place (a neighbourhood E01…, MSOA E02…, ward E05…, district "
                                    "E06–E09… or a school's URN): the same table as the pages, the brief and the "
                                    "workshop record. NHS trusts are those open in ODS etr (c. July 2026); a site of a "
                                    "merged trust counts for its successor; independent-sector providers are listed "
                                    "as such, never as NHS trusts.")
    cv.add_argument("code")
    cv.add_argument("--unit", choices=["lsoa11", "lsoa21", "msoa11", "ward", "lad", "school"],
                    help="what the code is (default: read from the code; E01 codes are taken as LSOA 2021 when "
                         "they are one)")
    cv.add_argument("--json", action="store_true", help='[{"role", "name", "code", "detail", "source"}]')
    cv.set_defaults(func=cmd_convene)
    al = sub.add_parser("add-layer", help="add your own layer from a CSV, XLSX or Parquet file (or a folder holding "
                                          "layer.toml and the data file it names)")
    al.add_argument("file", help="the data file, or a layer folder")
    al.add_argument("--descriptor", metavar="LAYER.toml", help="the descriptor (a folder's layer.toml by default)")
    al.add_argument("--sheet", help="the sheet to use when the workbook has several")
    al.add_argument("--replace", action="store_true", help="replace a user layer with the same id")
    al.set_defaults(func=cmd_add_layer)

    ar = sub.add_parser("area", help="a custom area made of neighbourhoods: save, list, show (its profile), rename "
                                      "or delete")
    ar.add_argument("action", choices=["save", "list", "show", "rename", "delete"])
    ar.add_argument("id", nargs="?", help="the area's id ([a-z0-9_-], 1 to 64)")
    ar.add_argument("--title")
    ar.add_argument("--lsoa21", metavar="CODES", help="LSOA 2021 codes, separated by commas or spaces")
    ar.add_argument("--lsoa11", metavar="CODES", help="LSOA 2011 codes (an area keeps one vintage)")
    ar.add_argument("--wards", metavar="CODES", help="2024 ward codes: the area is their LSOAs 2021 (best fit)")
    ar.add_argument("--file", help="a CSV with a column lsoa21_code, lsoa11_code or ward_code")
    ar.add_argument("--replace", action="store_true", help="replace a saved area with the same id")
    ar.add_argument("--new-id", help="with rename: the area's new id (links to the old id stop working)")
    ar.add_argument("--json", action="store_true")
    ar.set_defaults(func=cmd_area)
    pc = sub.add_parser("pcn", help="a Primary Care Network as a place: its practices, sub-ICB, ICB and QOF "
                                     "prevalence (list-size weighted); or a practice's PCN; or the PCNs in a district")
    pc.add_argument("code", nargs="?", help="the PCN's ODS code (U and five digits)")
    pc.add_argument("--practice", metavar="ODS", help="a GP practice's ODS code: its PCN")
    pc.add_argument("--within", metavar="LAD", help="the open PCNs with a member practice in this district")
    pc.add_argument("--json", action="store_true")
    pc.set_defaults(func=cmd_pcn)
    il = sub.add_parser("import-layers", help="copy the layer folders (<id>/layer.toml + data.parquet) and saved "
                                              "trusts (groups/*.json) of an earlier version's user-layers folder into "
                                              "the shared store, once")
    il.add_argument("folder")
    il.set_defaults(func=cmd_import_layers)
    rl = sub.add_parser("remove-layer", help="remove one of your layers")
    rl.add_argument("layer")
    rl.set_defaults(func=cmd_remove_layer)
    j = sub.add_parser("journey", help="a scheduled public-transport journey from a GTFS feed")
    j.add_argument("--feed", required=True, metavar="PATH|NAME", help="a GTFS zip, or a stored feed's name (feed list)")
    j.add_argument("--date", required=True, help="YYYYMMDD")
    j.add_argument("--depart", required=True, help="HH:MM")
    j.add_argument("--from", dest="start", required=True, metavar="LAT,LON")
    j.add_argument("--to", dest="end", required=True, metavar="LAT,LON")
    j.add_argument("--window", metavar="HH:MM-HH:MM", help="add best/median/worst over every minute of a window")
    j.add_argument("--max-minutes", default="120", metavar="N",
                   help="the longest journey counted, door to door, waiting included (default 120; 'none' for no "
                        "cap): a longer one is 'no journey within N minutes'")
    j.add_argument("--json", action="store_true")
    j.set_defaults(func=cmd_journey)
    tr = sub.add_parser("trust", help="a school trust as one place: its schools, neighbourhoods and who to convene")
    tr.add_argument("--urns", help="URNs separated by commas")
    tr.add_argument("--file", help="a CSV or XLSX file with a urn column")
    tr.add_argument("--group", help="a saved trust's id")
    tr.add_argument("--json", action="store_true")
    tr.set_defaults(func=cmd_trust)
    tg = sub.add_parser("trust-group", help="save, list, rename or delete a named trust (its URNs)")
    tg.add_argument("action", choices=["list", "save", "rename", "delete"])
    tg.add_argument("id", nargs="?", help="the trust's id ([a-z0-9_-], 1 to 64)")
    tg.add_argument("new_id", nargs="?", help="with rename: the new id")
    tg.add_argument("--title")
    tg.add_argument("--urns")
    tg.add_argument("--file")
    tg.add_argument("--replace", action="store_true")
    tg.add_argument("--json", action="store_true")
    tg.set_defaults(func=cmd_trust_group)
    cf = sub.add_parser("check-feed", help="check a GTFS feed: errors (cannot be routed) and warnings, each with "
                                           "file, row and column")
    cf.add_argument("feed", metavar="FEED", help="a GTFS zip or folder")
    cf.add_argument("--json", action="store_true")
    cf.set_defaults(func=cmd_check_feed)
    jl = sub.add_parser("journey-layer", help="save each school's minutes to the nearest service as a layer")
    jl.add_argument("--feed", required=True, metavar="PATH|NAME", help="a GTFS zip, or a stored feed's name")
    jl.add_argument("--date", required=True, help="YYYYMMDD")
    jl.add_argument("--within", required=True, help="LAD code or name: its schools (within the feed's area)")
    jl.add_argument("--service", required=True, metavar="POINT_LAYER_ID", help="e.g. gp_practices2025 (the page's default), nhs_hospitals_c2022, care_trust_sites2025")
    jl.add_argument("--window", default="08:00-09:00", metavar="HH:MM-HH:MM")
    jl.add_argument("--every", type=int, default=5, metavar="MIN", help="minutes between departures sampled")
    jl.add_argument("--max-minutes", default="120", metavar="N",
                    help="the longest journey counted (default 120; 'none' for no cap): schools with no journey within "
                         "it are missing from the layer, and no value exceeds it")
    for cmd in (jl,):
        _scale_args(cmd)
    jl.add_argument("--id", help="layer id (default journey_<service>_<window>)")
    jl.add_argument("--replace", action="store_true", help="replace a user layer with the same id")
    jl.add_argument("--json", action="store_true")
    jl.set_defaults(func=cmd_journey_layer)
    tn = sub.add_parser("trend", help="a local-authority time series with England, its trend and significance",
                        description="Local-authority time series (ONS Explore Local Statistics). " )
    tn.add_argument("id", nargs="?", help="indicator id (see --list)")
    tn.add_argument("--list", action="store_true", help="list every trend indicator")
    tn.add_argument("--area", help="local authority, county, region or England code (or a name)")
    tn.add_argument("--json", action="store_true")
    tn.set_defaults(func=cmd_trend)
    pe = sub.add_parser("peers", help="an authority's ONS cluster and nearest English neighbours")
    pe.add_argument("code", help="local authority, county or combined authority code")
    pe.add_argument("--kind", choices=["global", "economic", "demographic"], default="global")
    pe.add_argument("--json", action="store_true")
    pe.set_defaults(func=cmd_peers)
    jm = sub.add_parser("journey-matrix", help="each school's k nearest services by public transport, every "
                                               "departure, as a Parquet file (origin x service x departure)")
    jm.add_argument("--feed", required=True, metavar="PATH|NAME", help="a GTFS zip, or a stored feed's name")
    jm.add_argument("--date", required=True, help="YYYYMMDD")
    jm.add_argument("--within", required=True, help="LAD code or name, or E47000001 (all of Greater Manchester)")
    jm.add_argument("--service", required=True, metavar="POINT_LAYER_ID")
    jm.add_argument("--window", default="08:00-09:00", metavar="HH:MM-HH:MM")
    jm.add_argument("--every", type=int, default=5, metavar="MIN", help="minutes between departures")
    jm.add_argument("--k", type=int, default=3, help="services per school, by median minutes (default 3)")
    jm.add_argument("--max-minutes", default="120", metavar="N", help="the longest journey counted (default 120)")
    jm.add_argument("--out", required=True, metavar="PATH.parquet")
    _scale_args(jm)
    jm.add_argument("--json", action="store_true")
    jm.set_defaults(func=cmd_journey_matrix)
    ws = sub.add_parser("workshop", help="a convening workshop: create, join, vote with dots, note, tally, "
                                         "close and export the record (database: $CIVICDATA_DB_URL)")
    ws.add_argument("action", choices=["create", "join", "vote", "note", "tally", "round", "sector", "action",
                                       "export", "close", "delete", "review"])
    ws.add_argument("--record", help="review: an earlier workshop's JSON record: its places ranked again on today's "
                                     "data")
    ws.add_argument("id", nargs="?", help="the workshop's id (all actions but create)")
    ws.add_argument("--title", help="create: the workshop's title; action: what will be done")
    ws.add_argument("--place", help="create: the local authority (LAD code or name)")
    ws.add_argument("--date", help="create: YYYY-MM-DD (default today)")
    ws.add_argument("--options", help="create: options to vote on, separated by commas (Label or code=Label)")
    ws.add_argument("--mode", choices=["dots", "points", "matrix"], default="dots",
                    help="create, round: how the round votes: dots, points (a budget spread over options) or "
                         "matrix (each option on impact and feasibility, 1-5)")
    ws.add_argument("--dots", type=int, default=3, help="create, round: dots per participant (default 3)")
    ws.add_argument("--points", type=int, default=100, help="create, round: points per participant (default 100)")
    ws.add_argument("--question", action="append", help="create: a question for notes (repeat; default the six "
                                                         "standard ones); note: the question's number or text; "
                                                         "round: the question the round answers")
    ws.add_argument("--name", help="join: your display name (up to 60 characters)")
    ws.add_argument("--sector", help="join: your sector: school-trust, nhs-trust, council, vcs, other (or one the "
                                     "facilitator added)")
    ws.add_argument("--organisation", help="join, action: the organisation")
    ws.add_argument("--label", help="sector: the new sector's name")
    ws.add_argument("--owner", help="action: who will do it")
    ws.add_argument("--review", metavar="YYYY-MM-DD", help="action: when to review it")
    ws.add_argument("--round", type=int, help="tally: the round (default the current one)")
    ws.add_argument("--by", choices=["sector"], help="tally: split each option's count by sector (always in --json)")
    ws.add_argument("--token", help="vote, note: your participant token (from join)")
    ws.add_argument("--option", action="append", help="vote: an option's code or label, once per dot; in a points "
                                                       "round CODE=POINTS; in a 2x2 CODE=IMPACT,FEASIBILITY")
    ws.add_argument("--text", help="note: the note (up to 500 characters)")
    ws.add_argument("--key", help="round, sector, action, export, close, delete: the facilitator key")
    ws.add_argument("--format", choices=["html", "pdf", "csv", "json"], default="html",
                    help="export format (pdf: printed by Chromium; needs --out)")
    ws.add_argument("--out", help="export: write to this file (default standard output)")
    ws.add_argument("--agreed", action="append", help="close: the agreed focus (an option; once or twice)")
    ws.add_argument("--json", action="store_true")
    ws.set_defaults(func=cmd_workshop)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if getattr(args, "command", None) in ("journey", "journey-layer", "journey-matrix") and args.feed:
            from civicdata.transit.feeds import resolve_feed

            args.feed_label = Path(args.feed).name if Path(args.feed).is_file() else args.feed  # named as given
            args.feed = str(resolve_feed(args.feed))  # a path, or a stored feed's name (its local copy)
        if args.command == "feed" and args.action == "add" and not args.source:
            print("error: feed add needs a GTFS zip's path or address", file=sys.stderr)
            return 2
        return args.func(args)
    except (CivicDataError, ValueError, KeyError, FileExistsError) as exc:
        msg = exc.args[0] if isinstance(exc, KeyError) and not isinstance(exc, CivicDataError) and exc.args else exc
        print(f"error: {msg}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - never a traceback for an analyst: say what failed, and that it is ours
        print(f"error: {args.command if hasattr(args, 'command') else 'the command'} could not finish "
              f"({type(exc).__name__}: {exc}). This is a bug in Local Need Explorer: please report it with the "
              "command you ran.", file=sys.stderr)
        return 1

"""``python -m civicdata …``: the analysts' command line. Same functions as the pages.

Exit codes: 0 success; 1 a data or input error (message on stderr); 2 bad usage.
JSON shapes are a public interface, documented in the README.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from civicdata import settings
from civicdata.errors import CivicDataError


def _print_json(obj) -> None:
    print(json.dumps(obj, indent=2, ensure_ascii=False, allow_nan=False))


def cmd_build(args: argparse.Namespace) -> int:
    from civicdata.build import build_bundle

    out = build_bundle(Path(args.sources), Path(args.out))
    print(f"built the bundle in {out}")
    return 0


def cmd_layers(args: argparse.Namespace) -> int:
    from civicdata.catalogue import load_catalogue

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
    from civicdata.catalogue import load_catalogue
    from civicdata.layers import lookup_value

    desc = load_catalogue().get(args.layer)
    result = lookup_value(desc, args.area)
    if args.json:
        _print_json(result.to_dict())
        return 0
    if result.status != "ok":
        print(f"{desc.id} for {result.area}: {result.status}")
        return 0
    ci = f" (95% CI {result.ci_lower:g} to {result.ci_upper:g})" if result.ci_lower is not None else ""
    print(f"{desc.id} for {result.area}: {result.value:g} {desc.unit}{ci}  [{desc.source}, {desc.vintage}]")
    return 0


def cmd_areas(args: argparse.Namespace) -> int:
    from civicdata.geography import areas_within

    frame = areas_within(args.within, args.level)
    if args.json:
        _print_json(frame.to_dict(orient="records"))
        return 0
    for row in frame.itertuples():
        print(f"{row.code}  {row.name}")
    print(f"{len(frame)} areas")
    return 0


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
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except (CivicDataError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1

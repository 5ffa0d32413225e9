"""The run: every build step in order, the manifest, the atomic swap into data/."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from civicdata import settings
from civicdata.build.geography import (
    build_boundaries,
    build_district_boundaries,
    build_lookups,
    build_names,
    build_population2021,
)
from civicdata.build.health import (
    build_life_expectancy,
    build_nhs_trusts,
    build_qof,
    build_services,
    build_services_2025,
)
from civicdata.build.io import Bundle, _raise
from civicdata.build.iod import (
    build_iod2019,
    build_iod2019_underlying,
    build_iod2025,
    build_iod2025_lad,
    build_iod2025_underlying,
)
from civicdata.build.pcn import build_pcn
from civicdata.build.school_indicators import build_school_indicators
from civicdata.build.schools import build_schools
from civicdata.build.sources import ATTRIBUTION, SOURCES
from civicdata.build.transport import build_transport
from civicdata.build.trends import build_trends
from civicdata.errors import Problem, SourceDataError
from civicdata.indicators.catalogue import (
    toml_value,
)
from civicdata.readers import (
    sha256_file,
)


def write_manifest(bundle: Bundle) -> None:
    """``manifest.toml``: one [[dataset]] table per output, sorted by name."""
    lines = ["# Local Need Explorer data bundle. Built by `python -m civicdata build`; do not edit by hand.",
             f"# Attribution: {ATTRIBUTION}", "", "[bundle]",
             f"boundary_decimals = {settings.BOUNDARY_DECIMALS}",
             f"view_simplify_px = {toml_value(settings.VIEW_SIMPLIFY_PX)}",
             f"coordinate_decimals = {settings.COORD_DECIMALS}", 'crs = "EPSG:4326"', ""]
    for d in sorted(bundle.datasets, key=lambda d: d["name"]):
        lines.append("[[dataset]]")
        for k, v in d.items():
            if v == "" and k == "note":
                continue
            lines.append(f"{k} = {toml_value(v)}")
        lines.append("")
    (bundle.out / "manifest.toml").write_text("\n".join(lines), encoding="utf-8")



def build_bundle(sources: Path, out: Path) -> Path:
    """Build the whole bundle from ``sources`` into ``out`` atomically; return ``out``.

    Writes into a temporary sibling folder, then swaps it in. User layers already inside
    ``out/user_layers`` are carried over. Raises :class:`SourceDataError` (nothing changed).
    """
    sources = Path(sources).resolve()
    out = Path(out).resolve()
    if not sources.is_dir():
        raise SourceDataError([Problem(str(sources), "sources folder does not exist")], "cannot build the bundle")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.building-", dir=out.parent))
    try:
        bundle = Bundle(tmp)
        problems = []
        for key, src in SOURCES.items():
            p = sources / src.path
            if p.is_file():
                bundle.sha[key] = sha256_file(p)
            else:
                problems.append(Problem(src.path, "file is missing"))
        _raise(problems, "missing source files")
        for folder in ("indicators", "schools", "services", "transport", "lookups", "geography"):
            (tmp / folder).mkdir()
        iod2019 = build_iod2019(sources, bundle)
        build_iod2019_underlying(sources, bundle, iod2019["lsoa11_code"])
        build_iod2025(sources, bundle)
        build_iod2025_underlying(sources, bundle)
        build_iod2025_lad(sources, bundle)
        build_life_expectancy(sources, bundle)
        pop2021 = build_population2021(sources, bundle)
        boundaries = build_boundaries(sources, bundle)
        lookups = build_lookups(sources, bundle, iod2019, pop2021, boundaries)
        build_district_boundaries(bundle, boundaries, lookups)
        build_names(sources, bundle, lookups)
        schools = build_schools(sources, bundle)
        build_school_indicators(sources, bundle, schools)
        build_services(sources, bundle)
        build_services_2025(sources, bundle)
        build_nhs_trusts(sources, bundle)
        build_qof(sources, bundle)
        build_pcn(sources, bundle)
        build_transport(sources, bundle)
        build_trends(sources, bundle, boundaries["england/ltla24"])
        write_manifest(bundle)
        _swap(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out



def _swap(tmp: Path, out: Path) -> None:
    user = out / "user_layers"
    if user.is_dir():
        shutil.move(str(user), str(tmp / "user_layers"))
    old = out.with_name(f".{out.name}.old")
    if old.exists():
        shutil.rmtree(old)
    if out.exists():
        out.rename(old)
    tmp.rename(out)
    if old.exists():
        shutil.rmtree(old)

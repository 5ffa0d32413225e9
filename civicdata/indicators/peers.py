"""Similar areas: ONS clusters and statistical nearest neighbours of local authorities.

ONS groups the UK's lower-tier local authorities three ways (global, economic, demographic), each
into clusters A–D with a description, and lists for every authority (and county, and combined
authority) its 20 nearest neighbours, nearest first, UK-wide. Here neighbours are filtered to
England's and keep ONS's rank (so the list may read 1, 2, 4, … where a Welsh or Scottish authority
was third). Codes are ONS's 2023+ codes; Barnsley and Sheffield use their 2025 codes (E08000038,
E08000039), which :func:`ons_code` maps from the LAD 2024 codes the rest of the app uses.
Source: ONS, "Clustering similar local authorities and statistical nearest neighbours in the UK"
(2026 update), OGL v3.0.
"""

from __future__ import annotations

import difflib
import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from civicdata import settings
from civicdata.errors import UnknownAreaError
from civicdata.geo.geography import load_bundled, load_lookup

KINDS = ("global", "economic", "demographic")
KIND_LABELS = {"global": "overall (global)", "economic": "economic", "demographic": "demographic"}
SOURCE = ("ONS, Clustering similar local authorities and statistical nearest neighbours in the UK (2026 update), "
          "Open Government Licence v3.0")


def _dir(data_dir: Path | None) -> Path:
    return (data_dir or settings.data_dir()) / "trends"


def _table(name: str, data_dir: Path | None) -> pd.DataFrame:
    return load_bundled(f"trends/{name}", data_dir)


def load_clusters(data_dir: Path | None = None) -> pd.DataFrame:
    """``area_code, area_name, global, economic, demographic`` (cluster letters a–d; "" = not allocated)."""
    return _table("clusters.parquet", data_dir)


def load_neighbours(data_dir: Path | None = None) -> pd.DataFrame:
    """``area_code, kind, rank, neighbour_code``: ONS's 20 nearest neighbours (UK-wide), rank 1 = nearest."""
    return _table("neighbours.parquet", data_dir)


@lru_cache(maxsize=4)
def _descriptions(path: str, mtime: float) -> dict:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def cluster_descriptions(data_dir: Path | None = None) -> dict[str, dict[str, str]]:
    """ONS's words for each cluster: ``{kind: {letter: description}}``."""
    p = _dir(data_dir) / "cluster_descriptions.json"
    return _descriptions(str(p), p.stat().st_mtime)


def _stamp(data_dir: Path | None) -> tuple[str, float]:
    d = _dir(data_dir)
    return str(d), max(p.stat().st_mtime for p in d.glob("*.parquet"))


def area_names(data_dir: Path | None = None) -> dict[str, str]:
    """Names of every code the trends and peers know (ELS areas, ONS clusters, LAD 2024)."""
    return _area_names(data_dir, _stamp(data_dir))


@lru_cache(maxsize=4)
def _area_names(data_dir: Path | None, stamp: tuple) -> dict[str, str]:
    out = dict(zip(load_clusters(data_dir)["area_code"], load_clusters(data_dir)["area_name"]))
    areas = _table("areas.parquet", data_dir)
    out.update(dict(zip(areas["area_code"], areas["area_name"])))
    lad = load_lookup("lad24", data_dir)
    out.update(dict(zip(lad["lad24_code"], lad["lad24_name"])))
    return out


def recodes(data_dir: Path | None = None) -> dict[str, str]:
    """Codes replaced by one new code for the same-named area of the same type (a re-coding after a small
    boundary change, e.g. Barnsley's 2024 code E08000016 -> E08000038 in 2025): old -> new. A county
    replaced by a unitary authority of the same name (North Yorkshire, Somerset, Buckinghamshire, Dorset)
    is a new authority, not a re-coding."""
    return _recodes(data_dir, _stamp(data_dir))


@lru_cache(maxsize=4)
def _recodes(data_dir: Path | None, stamp: tuple) -> dict[str, str]:
    areas = _table("areas.parquet", data_dir)
    names = dict(zip(areas["area_code"], areas["area_name"]))
    types = dict(zip(areas["area_code"], areas["area_type"]))
    out = {}
    for r in areas[areas["successor_codes"].str.len() > 0].itertuples():
        succ = r.successor_codes.split()
        if len(succ) == 1 and names.get(succ[0]) == r.area_name and types.get(succ[0]) == r.area_type:
            out[r.area_code] = succ[0]
    return out


def ons_code(code: str, data_dir: Path | None = None) -> str:
    """The code ONS's similar-areas files use for ``code`` (a LAD 2024 code may have been re-coded)."""
    return recodes(data_dir).get(code, code)


def app_code(code: str, data_dir: Path | None = None) -> str:
    """The LAD 2024 code the app's maps use for an ONS 2023+ code (the inverse of :func:`ons_code`)."""
    lad = _lad24(data_dir, _stamp(data_dir))
    if code in lad:
        return code
    back = {new: old for old, new in recodes(data_dir).items() if old in lad}
    return back.get(code, code)


@lru_cache(maxsize=4)
def _lad24(data_dir: Path | None, stamp: tuple) -> frozenset[str]:
    return frozenset(load_lookup("lad24", data_dir)["lad24_code"].tolist())


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")


def check_code(code: str, data_dir: Path | None = None) -> str:
    """``code`` as ONS's files spell it; :class:`UnknownAreaError` (with close codes or names) if no
    neighbours are listed for it."""
    code = code.strip().upper()
    oc = ons_code(code, data_dir)
    if oc in _listed(data_dir, _stamp(data_dir)):
        return oc
    names = area_names(data_dir)
    close = difflib.get_close_matches(code, list(names), n=3, cutoff=0.8)
    hint = f" Did you mean {', '.join(f'{c} ({names[c]})' for c in close)}?" if close else ""
    raise UnknownAreaError(f"{code!r} is not a local authority, county or combined authority in ONS's similar-areas "
                           f"files (2023+ codes).{hint}")


@lru_cache(maxsize=4)
def _listed(data_dir: Path | None, stamp: tuple) -> frozenset[str]:
    return frozenset(load_neighbours(data_dir)["area_code"].tolist())


@lru_cache(maxsize=4)
def _by_area(data_dir: Path | None, stamp: tuple) -> dict:
    n = load_neighbours(data_dir)
    return {k: g.sort_values("rank") for k, g in n.groupby(["area_code", "kind"], sort=False)}


@dataclass(frozen=True)
class Cluster:
    kind: str
    letter: str  # upper case; "" when ONS did not allocate one (counties, City of London, Isles of Scilly)
    description: str


def cluster_of(code: str, kind: str = "global", data_dir: Path | None = None) -> Cluster:
    """The area's ONS cluster of this kind (counties and combined authorities have none: letter "")."""
    _check_kind(kind)
    oc = ons_code(code, data_dir)
    c = load_clusters(data_dir)
    row = c[c["area_code"] == oc]
    letter = row[kind].iloc[0] if len(row) else ""
    desc = cluster_descriptions(data_dir)[kind].get(letter, "") if letter else ""
    return Cluster(kind, letter.upper(), desc)


def neighbours(code: str, kind: str = "global", england_only: bool = True,
               data_dir: Path | None = None) -> pd.DataFrame:
    """The area's nearest neighbours in ONS's order: ``code`` (ONS's), ``app_code`` (LAD 2024 where it
    differs), ``name``, ``rank`` (ONS's position, 1 = nearest, kept when others are filtered out)."""
    _check_kind(kind)
    oc = check_code(code, data_dir)
    n = _by_area(data_dir, _stamp(data_dir)).get((oc, kind), load_neighbours(data_dir).iloc[:0])
    if england_only:
        n = n[n["neighbour_code"].str.startswith("E")]
    names = area_names(data_dir)
    return pd.DataFrame({"code": n["neighbour_code"].to_numpy(),
                         "app_code": [app_code(c, data_dir) for c in n["neighbour_code"]],
                         "name": [names.get(c, c) for c in n["neighbour_code"]],
                         "rank": n["rank"].astype(int).to_numpy()})


def peers(code: str, kind: str = "global", data_dir: Path | None = None) -> dict:
    """The CLI's ``peers`` JSON: ``{"code", "name", "kind", "cluster", "description", "neighbours": [{"code",
    "name", "rank"}]}`` (England's neighbours, ONS's order and rank)."""
    oc = check_code(code, data_dir)
    cl = cluster_of(oc, kind, data_dir)
    nb = neighbours(oc, kind, data_dir=data_dir)
    return {"code": oc, "name": area_names(data_dir).get(oc, oc), "kind": kind, "cluster": cl.letter or None,
            "description": cl.description or None,
            "neighbours": [{"code": r.code, "name": r.name, "rank": int(r.rank)} for r in nb.itertuples()],
            "source": SOURCE}

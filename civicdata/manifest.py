"""Read ``data/manifest.toml``: the bundle's datasets with source, licence and vintage."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pandas as pd

from civicdata import settings

#: the attribution every page and the bundle's manifest carry
ATTRIBUTION = (
    "Contains public sector information licensed under the Open Government Licence v3.0. "
    "Boundaries: Source: Office for National Statistics licensed under the OGL v3.0; "
    "contains OS data © Crown copyright and database right. NHS data © NHS. "
    "Neighbourhood names: contains Parliamentary information licensed under the Open Parliament Licence v3.0 "
    "(House of Commons Library MSOA Names)."
)


def load_manifest(data_dir: Path | None = None) -> dict:
    """The manifest as a mapping: ``bundle`` settings and a ``dataset`` list."""
    path = (Path(data_dir) if data_dir else settings.data_dir()) / "manifest.toml"
    return tomllib.loads(path.read_text(encoding="utf-8"))


def manifest_table(data_dir: Path | None = None) -> pd.DataFrame:
    """One row per dataset: name, title, rows, geography, publisher, licence, vintage, source_url."""
    ds = load_manifest(data_dir)["dataset"]
    cols = ["name", "title", "rows", "geography", "publisher", "licence", "vintage", "source_url"]
    return pd.DataFrame([{c: d.get(c) for c in cols} for d in ds])

"""Layer descriptors: every bundled one valid, errors report every problem, docs complete."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from civicdata.indicators.catalogue import FIELDS, load_catalogue, load_descriptor, validate_descriptor, descriptor_to_toml
from civicdata.errors import DescriptorError, UnknownLayerError

REPO = Path(__file__).resolve().parents[1]

REQUIRED_IDS = ["imd2019_rank", "imd2019_decile", "income2019_rank", "income2019_decile", "health2019_decile",
                "living_environment2019_rank", "imd2025_rank", "imd2025_decile", "imd2025_score", "le_male",
                "le_female", "school_fsm_pct"]
DOMAINS = ["imd", "income", "employment", "education", "health", "crime", "barriers", "living_environment"]


def test_bundled_catalogue_loads(data_dir):
    cat = load_catalogue(data_dir)
    for layer_id in REQUIRED_IDS:
        assert layer_id in cat
    for d in DOMAINS:
        for kind in ("rank", "decile"):
            assert cat.get(f"{d}2019_{kind}").geography == "lsoa11"
        for kind in ("score", "rank", "decile"):
            assert cat.get(f"{d}2025_{kind}").geography == "lsoa21"
    for d in cat:
        assert d.data_path.is_file(), d.id
        assert d.licence and d.source and d.vintage


def test_bundled_polarities(data_dir):
    cat = load_catalogue(data_dir)
    assert cat.get("le_male").polarity == "higher_is_better"
    assert cat.get("imd2019_decile").polarity == "higher_is_better"  # decile 1 = most deprived
    assert cat.get("imd2025_score").polarity == "higher_is_worse"
    assert cat.get("mood_anxiety2019").polarity == "higher_is_worse"
    assert cat.get("school_fsm_pct").unit == "%"
    assert cat.get("le_female").has_ci


def test_descriptor_files_round_trip(data_dir):
    for path in sorted((data_dir / "indicators").glob("*.toml"))[:10]:
        desc = load_descriptor(path)
        assert descriptor_to_toml(desc) == path.read_text()


def test_unknown_layer_suggests_close_ids(data_dir):
    with pytest.raises(UnknownLayerError) as exc:
        load_catalogue(data_dir).get("imd2019_decil")
    assert "did you mean imd2019_decile" in str(exc.value)


def test_invalid_descriptor_reports_every_problem():
    raw = {"id": "../etc", "title": "x", "unit": "%", "polarity": "higher_is_bad", "geography": "lsao11",
           "file": "../secret.csv", "source": "s", "licence": "l", "vintage": "2024", "theme": "t",
           "colour": "red"}
    with pytest.raises(DescriptorError) as exc:
        validate_descriptor(raw, "my.toml")
    msg = str(exc.value)
    assert "column 'colour': unknown descriptor key" in msg
    with pytest.raises(DescriptorError) as exc:
        validate_descriptor({k: v for k, v in raw.items() if k != "colour"}, "my.toml")
    msgs = [str(p) for p in exc.value.problems]
    assert "my.toml, column 'id': '../etc' is not a valid id: use 1 to 64 of a-z, 0-9, '_' or '-'" in msgs
    assert any("column 'polarity': 'higher_is_bad' is not one of" in m for m in msgs)
    assert any("column 'geography'" in m and "did you mean 'lsoa11'" in m for m in msgs)
    assert any("column 'file': '../secret.csv' must be a bare file name" in m for m in msgs)
    assert "my.toml, column 'key_column': required for lsao11 layers" in msgs
    assert "my.toml, column 'value_column': required for lsao11 layers" in msgs
    assert len(msgs) == 6


def test_missing_required_keys_all_listed():
    with pytest.raises(DescriptorError) as exc:
        validate_descriptor({"id": "a"}, "d.toml")
    missing = sorted(p.column for p in exc.value.problems)
    assert missing == sorted(f.name for f in FIELDS if f.required and f.name != "id")


def test_percent_layers_default_to_0_100():
    d = validate_descriptor({"id": "a", "title": "A", "unit": "%", "polarity": "neutral", "geography": "urn",
                             "file": "a.csv", "key_column": "urn", "value_column": "v", "source": "s",
                             "licence": "l", "vintage": "v", "theme": "t"})
    assert (d.valid_min, d.valid_max) == (0.0, 100.0)


def _readme_and_docs() -> str:
    """README.md and every docs/*.md page: the README is the front door, its longer sections live in docs/."""
    return "\n".join(p.read_text() for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])


def test_readme_documents_every_descriptor_field():
    readme = _readme_and_docs()
    for f in FIELDS:
        assert re.search(rf"^\| `{f.name}` \|", readme, re.M), f"README does not document descriptor key {f.name}"


def test_civicdata_never_imports_streamlit():
    for path in (REPO / "civicdata").rglob("*.py"):
        text = path.read_text()
        assert not re.search(r"^\s*(import|from)\s+streamlit", text, re.M), path


def test_names_and_geography_do_not_import_each_other():
    """bundle (readers) <- names (readable names) <- geography (codes, areas): no import runs upward."""
    pattern = r"^\s*(from civicdata(\.| import ){mod}\b|import civicdata\.{mod}\b|from civicdata\.geo import {leaf}\b)"
    for path, mods in (("geo/names.py", ("geo.geography",)), ("bundle.py", ("geo.geography", "geo.names"))):
        text = (REPO / "civicdata" / path).read_text()
        for mod in mods:
            assert not re.search(pattern.format(mod=re.escape(mod), leaf=mod.split(".")[-1]), text, re.M), \
                f"civicdata/{path} imports {mod}"


def test_readme_documents_every_command():
    from civicdata.cli import build_parser

    readme = (REPO / "README.md").read_text()
    sub = next(a for a in build_parser()._actions if a.__class__.__name__ == "_SubParsersAction")
    for name in sub.choices:
        assert re.search(rf"^\| `{re.escape(name)}[ `]", readme, re.M), f"README's command table lacks `{name}`"

"""The bundle build: row counts, manifest, determinism, and bad input leaving data/ untouched."""

from __future__ import annotations

import gzip
import hashlib
import tomllib
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest

from civicdata.build.run import build_bundle
from civicdata.errors import SourceDataError
from civicdata.build.sources import SOURCES as SOURCE_TABLE


#: a user layer an earlier version kept inside the bundle folder (data/user_layers): a build carries it over
MINE = "id = 'mine'\n"


@pytest.fixture(scope="session")
def two_builds(sources, tmp_path_factory) -> tuple[Path, Path]:
    """The whole bundle built twice from the raw sources, in two processes at once (about 35 s each, mostly
    one core apiece); the second into a folder that already holds a user-layers folder."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    a_out = tmp_path_factory.mktemp("a") / "data"
    b_out = tmp_path_factory.mktemp("b") / "data"
    (b_out / "user_layers" / "mine").mkdir(parents=True)
    (b_out / "user_layers" / "mine" / "layer.toml").write_text(MINE)
    with ProcessPoolExecutor(2, mp_context=multiprocessing.get_context("spawn")) as pool:
        a, b = pool.submit(build_bundle, sources, a_out), pool.submit(build_bundle, sources, b_out)
        return a.result(), b.result()


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
            and "user_layers" not in p.parts}


def test_build_is_deterministic(two_builds):
    a, b = two_builds
    fa, fb = _files(a), _files(b)
    assert fa.keys() == fb.keys()
    differing = [k for k in fa if fa[k] != fb[k]]
    assert differing == []


def test_committed_bundle_matches_a_fresh_build(two_builds, data_dir):
    """data/ is what the build makes: same files, same descriptors, same table contents."""
    fresh = two_builds[0]
    assert sorted(_files(fresh)) == sorted(_files(data_dir))
    for p in sorted(fresh.rglob("*")):
        rel = p.relative_to(fresh)
        if p.suffix in (".toml", ".zip"):
            assert p.read_bytes() == (data_dir / rel).read_bytes(), rel
        elif p.suffix == ".parquet":
            reader = gpd.read_parquet if "geography" in rel.parts else pd.read_parquet
            new, old = reader(p), reader(data_dir / rel)
            if "geography" in rel.parts:
                assert new.geometry.geom_equals_exact(old.geometry, 1e-6).all(), rel
                new, old = pd.DataFrame(new.drop(columns="geometry")), pd.DataFrame(old.drop(columns="geometry"))
            pd.testing.assert_frame_equal(new, old, obj=str(rel))


def test_bundle_is_small(data_dir):
    """The bundle stays small enough to commit: about 52 MB of it is ONS generalised boundaries for every
    district of England at two LSOA and MSOA vintages and wards (40 MB was the budget with coarse boundaries)."""
    size = sum(p.stat().st_size for p in data_dir.rglob("*") if p.is_file() and "user_layers" not in p.parts)
    assert size < 72 * 1024 * 1024


@pytest.mark.parametrize("file,rows", [
    ("indicators/iod2019_lsoa11.parquet", 32844),
    ("indicators/iod2019_underlying_lsoa11.parquet", 32844),
    ("indicators/iod2025_lsoa21.parquet", 33755),
    ("indicators/iod2025_underlying_lsoa21.parquet", 33755),
    ("indicators/life_expectancy_msoa11.parquet", 6791),
    ("lookups/lsoa11.parquet", 32844),
    ("lookups/lsoa21.parquet", 33755),
    ("geography/districts/lsoa11.parquet", 32844),
    ("geography/districts/lsoa21.parquet", 33755),
    ("geography/districts/msoa11.parquet", 6791),
    ("geography/districts/msoa21.parquet", 6856),
    ("geography/districts/ward25.parquet", 6826),
    ("geography/districts/lad24.parquet", 296),
    ("geography/england/ltla24.parquet", 296),
    ("geography/england/icb22.parquet", 42),
    ("services/hospitals22.parquet", 1061),
    ("services/nhs_trusts22.parquet", 218),
])
def test_row_counts(data_dir, file, rows):
    assert len(pd.read_parquet(data_dir / file)) == rows


def test_manifest_describes_every_file(data_dir, sources):
    man = tomllib.loads((data_dir / "manifest.toml").read_text())
    listed = set()
    for d in man["dataset"]:
        for key in ("publisher", "title", "source_url", "licence", "vintage", "geography", "source_code_vintage"):
            assert d[key], (d["name"], key)
        for f in d["files"]:
            listed.add(f)
            assert (data_dir / f).is_file()
            if f.endswith(".parquet"):
                assert len(pd.read_parquet(data_dir / f)) == d["rows"], f
        for raw, sha in zip(d["raw_files"], d["raw_sha256"], strict=True):
            assert hashlib.sha256((sources / raw).read_bytes()).hexdigest() == sha, raw
    data_files = {str(p.relative_to(data_dir)) for p in data_dir.rglob("*")
                  if p.is_file() and p.suffix != ".toml" and "user_layers" not in p.parts}
    assert data_files == listed


def test_boundaries_state_their_ons_release_and_detail(data_dir):
    """The manifest says which ONS release each boundary is: generalised (BGC) for the areas the maps draw,
    super generalised (BSC) for the England view's outlines; never 'ultra generalised'."""
    man = tomllib.loads((data_dir / "manifest.toml").read_text())
    assert man["bundle"]["boundary_decimals"] == 5 and man["bundle"]["view_simplify_px"] == 0.5
    detail = [d for d in man["dataset"] if d["name"].startswith("districts_")]
    assert len(detail) == 6
    assert all("Generalised Clipped (BGC, 20 m)" in d["source_title"] and "Open Government Licence" in d["licence"]
               for d in detail)
    assert all("one row group per LAD 2024" in d["note"] for d in detail)
    coarse = [d for d in man["dataset"] if d["name"] in ("england_ltla24", "england_icb22")]
    assert len(coarse) == 2 and all("(BSC, 200 m)" in d["source_title"] for d in coarse)
    assert "ultra" not in (data_dir / "manifest.toml").read_text().replace("_ultra_generalised.parquet", "")


def test_no_value_is_invented_for_missing_life_expectancy(data_dir, sources):
    """MSOAs with no published estimate stay missing (ONS leaves them blank)."""
    raw = pd.read_excel(sources / SOURCE_TABLE["le_msoa11"].path, sheet_name="Data")
    raw = raw[raw["Code"].str.startswith("E") & (raw["Sex"] == "Males")]
    blank = set(raw.loc[raw["Life Expectancy at birth (in years)"].isna(), "Code"])
    le = pd.read_parquet(data_dir / "indicators/life_expectancy_msoa11.parquet")
    assert blank and set(le.loc[le["le_male"].isna(), "msoa11_code"]) == blank


# ----------------------------------------------------------------- bad input

@pytest.fixture
def sources_copy(sources, tmp_path) -> Path:
    """The raw sources as symlinks, so one file can be replaced by a broken copy."""
    root = tmp_path / "sources"
    for src in SOURCE_TABLE.values():
        dest = root / src.path
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to(sources / src.path)
    return root


@pytest.fixture
def existing_bundle(tmp_path) -> Path:
    out = tmp_path / "out" / "data"
    out.mkdir(parents=True)
    (out / "marker.txt").write_text("the previous bundle")
    return out


def _replace_gz_csv(root: Path, rel: str, edit) -> None:
    path = root / rel
    text = gzip.open(path, "rt", encoding="utf-8-sig").read()
    path.unlink()
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(edit(text))


def _assert_untouched(out: Path) -> None:
    assert sorted(p.name for p in out.iterdir()) == ["marker.txt"]
    assert (out / "marker.txt").read_text() == "the previous bundle"
    assert [p.name for p in out.parent.iterdir()] == ["data"], "temporary build folder left behind"


def test_missing_source_file_is_named(sources_copy, existing_bundle):
    (sources_copy / SOURCE_TABLE["gias"].path).unlink()
    with pytest.raises(SourceDataError) as exc:
        build_bundle(sources_copy, existing_bundle)
    assert "schools/gias_open_establishments_20250524.csv.gz: file is missing" in str(exc.value)
    _assert_untouched(existing_bundle)


def test_missing_column_is_named(sources_copy, existing_bundle):
    rel = SOURCE_TABLE["iod2025_lsoa"].path
    _replace_gz_csv(sources_copy, rel, lambda t: t.replace('"IMD_decile"', '"IMD_dec"', 1))
    with pytest.raises(SourceDataError) as exc:
        build_bundle(sources_copy, existing_bundle)
    assert f"{rel}, row 1, column 'IMD_decile': required column is missing" in str(exc.value)
    _assert_untouched(existing_bundle)


def test_bad_values_are_all_reported_with_row_and_column(sources_copy, existing_bundle):
    rel = SOURCE_TABLE["iod2019_file2"].path

    def corrupt(text: str) -> str:
        lines = text.split("\n")
        lines[2] = lines[2].replace("E01000002", "X01000002", 1)  # row 3: a bad code
        cells = lines[4].split(",")
        cells[4] = "n/a"  # row 5: a non-numeric IMD rank
        lines[4] = ",".join(cells)
        return "\n".join(lines)

    _replace_gz_csv(sources_copy, rel, corrupt)
    with pytest.raises(SourceDataError) as exc:
        build_bundle(sources_copy, existing_bundle)
    msg = str(exc.value)
    assert f"{rel}, row 3, column 'LSOA code (2011)': 'X01000002' is not a valid code" in msg
    assert f"{rel}, row 5, column 'Index of Multiple Deprivation (IMD) Rank (where 1 is most deprived)': " \
           "'n/a' is not an integer" in msg
    assert len(exc.value.problems) == 2
    _assert_untouched(existing_bundle)


def test_wrong_encoding_is_named(sources_copy, existing_bundle):
    rel = SOURCE_TABLE["iod2025_underlying"].path
    path = sources_copy / rel
    text = gzip.open(path, "rt", encoding="utf-8").read()
    path.unlink()
    lines = text.split("\n")
    lines[3] = lines[3] + ",café"
    with gzip.open(path, "wb") as fh:
        fh.write("\n".join(lines).encode("latin-1"))
    with pytest.raises(SourceDataError) as exc:
        build_bundle(sources_copy, existing_bundle)
    assert f"{rel}, row 4: not valid utf-8-sig text" in str(exc.value)
    _assert_untouched(existing_bundle)


def test_corrupt_workbook_is_named(sources_copy, existing_bundle):
    rel = SOURCE_TABLE["le_msoa11"].path
    (sources_copy / rel).unlink()
    (sources_copy / rel).write_bytes(b"PK\x03\x04 this is not a workbook")
    with pytest.raises(SourceDataError) as exc:
        build_bundle(sources_copy, existing_bundle)
    assert f"{rel}: not a readable .xlsx workbook" in str(exc.value)
    _assert_untouched(existing_bundle)


def test_failed_build_keeps_user_layers_and_success_carries_them(sources_copy, tmp_path, two_builds):
    out = tmp_path / "keep" / "data"
    (out / "user_layers" / "mine").mkdir(parents=True)
    (out / "user_layers" / "mine" / "layer.toml").write_text(MINE)
    (sources_copy / SOURCE_TABLE["gias"].path).unlink()
    with pytest.raises(SourceDataError):
        build_bundle(sources_copy, out)
    assert (out / "user_layers" / "mine" / "layer.toml").read_text() == MINE
    # a successful build into a folder with user layers (the second of the two builds) carries them over
    built = two_builds[1]
    assert (built / "manifest.toml").is_file()
    assert (built / "user_layers" / "mine" / "layer.toml").read_text() == MINE

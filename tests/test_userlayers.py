"""Analysts' layers: a corpus of malformed and hostile files, each with its exact error and the
catalogue left exactly as it was; round trips of real LSOA, URN and point layers."""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import pandas as pd
import pytest

from civicdata.indicators.catalogue import load_catalogue
from civicdata.errors import DescriptorError, UnknownLayerError
from civicdata.indicators.layers import lookup_value
from civicdata.indicators.userlayers import (LayerExistsError, LayerValidationError, SheetChoiceError, add_layer,
                                  parse_descriptor)
from civicdata.build.sources import SOURCES
from tests.conftest import run_cli

TRAFFORD = "E08000009"

BASE = {"id": "children_share", "title": "Children aged 0-15", "unit": "%", "polarity": "neutral",
        "geography": "lsoa21", "key_column": "LSOA21CD", "value_column": "children_pct",
        "source": "ONS Census 2021", "licence": "Open Government Licence v3.0", "vintage": "2021", "theme": "my data"}


@pytest.fixture(scope="module")
def children(sources) -> pd.DataFrame:
    """Real values: % of usual residents aged 0-15 in each Trafford LSOA 2021 (Census 2021)."""
    c = pd.read_csv(sources / SOURCES["census2021_age"].path)
    w = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path)
    t = set(w.loc[w["ltla24_code"] == TRAFFORD, "lsoa21_code"])
    k = c[c["lsoa21_code"].isin(t)]
    tot = k.groupby("lsoa21_code")["usual_residents"].sum()
    kids = k[k["age_group"] == "Aged 15 years and under"].set_index("lsoa21_code")["usual_residents"]
    return pd.DataFrame({"LSOA21CD": tot.index, "children_pct": (100 * kids / tot).round(1).to_numpy()})


def _csv(df: pd.DataFrame, **kw) -> bytes:
    return df.to_csv(index=False, **kw).encode("utf-8")


def _snapshot(db_url: str) -> dict[str, str]:
    """Every stored layer's id -> sha256 of its descriptor and data, read from the database itself."""
    from sqlalchemy import create_engine, text

    eng = create_engine(db_url)
    try:
        with eng.connect() as conn:
            rows = conn.execute(text("SELECT id, descriptor, data FROM user_layers ORDER BY id")).all()
    finally:
        eng.dispose()
    return {r[0]: hashlib.sha256(r[1].encode() + bytes(r[2])).hexdigest() for r in rows}


@pytest.fixture
def store(children) -> str:
    """The test's own store (a SQLite file, see conftest) already holding one valid layer, so that
    'unchanged' means something; the store's URL."""
    add_layer(_csv(children), "children.csv", {**BASE, "id": "existing_layer"})
    return os.environ["CIVICDATA_DB_URL"]


def _xlsx(sheets: dict[str, pd.DataFrame]) -> bytes:
    buf = io.BytesIO()
    with pd.ExcelWriter(buf, engine="openpyxl") as xw:
        for name, df in sheets.items():
            df.to_excel(xw, sheet_name=name, index=False)
    return buf.getvalue()


def _cases(children: pd.DataFrame):
    c = children.copy()
    unknown = c.copy()
    unknown.loc[1, "LSOA21CD"] = "E01999999"
    dup = c.copy()
    dup.loc[5, "LSOA21CD"] = dup.loc[4, "LSOA21CD"]
    nonnum = c.copy().astype({"children_pct": str})
    nonnum.loc[2, "children_pct"] = "twelve"
    big = c.copy().astype({"children_pct": float})
    big.loc[0, "children_pct"] = 140.0
    blank = c.copy()
    blank.loc[3, "LSOA21CD"] = ""
    paris = pd.DataFrame({"name": ["Gare du Nord"], "lat": [48.8809], "lon": [2.3553]})
    swapped = pd.DataFrame({"name": ["Altrincham Interchange"], "lat": [-2.347159], "lon": [53.387651]})
    two_sheets = _xlsx({"Notes": pd.DataFrame({"a": ["read me"]}), "Data": c})
    point = {**BASE, "geography": "point", "lat_column": "lat", "lon_column": "lon", "name_column": "name"}
    for k in ("key_column", "value_column"):
        point.pop(k)
    return [
        # (case, data, filename, descriptor, error type, expected message parts)
        ("missing key column", _csv(c.rename(columns={"LSOA21CD": "lsoa_code"})), "a.csv", BASE, LayerValidationError,
         ["a.csv, row 1, column 'LSOA21CD': column 'LSOA21CD' named in the descriptor is not in the file; the file's "
          "columns are: lsoa_code, children_pct"]),
        ("key column in other case", _csv(c.rename(columns={"LSOA21CD": "lsoa21cd"})), "a.csv", BASE, LayerValidationError,
         ["(found 'lsoa21cd': column names are case-sensitive)"]),
        ("unknown code", _csv(unknown), "a.csv", BASE, LayerValidationError,
         ["a.csv, row 3, column 'LSOA21CD': 'E01999999' is not a known LSOA 2021 code in England"]),
        ("2021 codes in a 2011 layer", _csv(c.assign(LSOA21CD=["E01035000"] + list(c["LSOA21CD"][1:]))), "a.csv",
         {**BASE, "geography": "lsoa11"}, LayerValidationError,
         ["3 codes are LSOA 2021 codes, not LSOA 2011: set geography = \"lsoa21\"",
          "a.csv, row 2, column 'LSOA21CD': 'E01035000' is an LSOA 2021 code"]),
        ("duplicate key", _csv(dup), "a.csv", BASE, LayerValidationError,
         [f"a.csv, row 7, column 'LSOA21CD': duplicate key '{c.loc[4, 'LSOA21CD']}'"]),
        ("non-numeric value", _csv(nonnum), "a.csv", BASE, LayerValidationError,
         ["a.csv, row 4, column 'children_pct': 'twelve' is not a number"]),
        ("percentage of 140", _csv(big), "a.csv", BASE, LayerValidationError,
         ["a.csv, row 2, column 'children_pct': 140 % is outside the valid range 0 to 100"]),
        ("blank key", _csv(blank), "a.csv", BASE, LayerValidationError, ["a.csv, row 5, column 'LSOA21CD': blank key"]),
        ("empty file", b"", "a.csv", BASE, LayerValidationError, ["a.csv: the file is empty"]),
        ("whitespace only", b"\n \n", "a.csv", BASE, LayerValidationError, ["a.csv: the file is empty"]),
        ("header only", b"LSOA21CD,children_pct\n", "a.csv", BASE, LayerValidationError,
         ["a.csv, row 1: the file has a header row but no data rows"]),
        ("header and rows with different delimiters", b"LSOA21CD;children_pct\nE01006074,23.2\n", "a.csv", BASE,
         LayerValidationError, ["'E01006074,23.2' is not a known LSOA 2021 code"]),
        ("several sheets, none chosen", two_sheets, "a.xlsx", BASE, SheetChoiceError,
         ["a.xlsx: the workbook has 2 sheets (Notes, Data); say which one to use"]),
        ("sheet that does not exist", two_sheets, "a.xlsx", BASE, SheetChoiceError, ["(Notes, Data)"]),
        ("too large", b"LSOA21CD,children_pct\n" + b"E01006074,1\n" * (2 * 1024 * 1024), "a.csv", BASE,
         LayerValidationError, ["a.csv: file is 24.0 MB; the limit is 20 MB"]),
        ("point outside England", _csv(paris), "p.csv", point, LayerValidationError,
         ["p.csv, row 2, column 'lat': point (48.8809, 2.3553) is outside England"]),
        ("latitude and longitude swapped", _csv(swapped), "p.csv", point, LayerValidationError,
         ["is outside England (latitude and longitude swapped?)"]),
        ("binary content", b"\x00\x01\x02PK garbage", "a.csv", BASE, LayerValidationError,
         ["a.csv: binary content (NUL bytes): not a text CSV"]),
        ("not a workbook", b"this is not a zip", "a.xlsx", BASE, LayerValidationError,
         ["a.xlsx: not a readable Excel workbook"]),
        ("not parquet", b"PAR1 nope", "a.parquet", BASE, LayerValidationError, ["a.parquet: not a readable Parquet file"]),
        ("pickle or executable", b"\x80\x04\x95 pickle", "layer.pkl", BASE, LayerValidationError,
         ["layer.pkl: unsupported file type '.pkl': use CSV, XLSX or Parquet"]),
        ("unknown URN", _csv(pd.DataFrame({"URN": ["999999999"], "v": ["1"]})), "u.csv",
         {**BASE, "geography": "urn", "key_column": "URN", "value_column": "v"}, LayerValidationError,
         ["u.csv, row 2, column 'URN': '999999999' is not the URN of an open school in England (GIAS May 2025)"]),
        ("path-traversal id", _csv(c), "a.csv", {**BASE, "id": "../../etc/passwd"}, DescriptorError,
         ["column 'id': '../../etc/passwd' is not a valid id"]),
        ("id with capitals and spaces", _csv(c), "a.csv", {**BASE, "id": "My Layer"}, DescriptorError,
         ["column 'id': 'My Layer' is not a valid id"]),
        ("bundled id", _csv(c), "a.csv", {**BASE, "id": "imd2019_decile"}, DescriptorError,
         ["column 'id': 'imd2019_decile' is a bundled layer id: choose another"]),
        ("misspelt geography", _csv(c), "a.csv", {**BASE, "geography": "lsoa"}, DescriptorError,
         ["column 'geography': 'lsoa' is not one of"]),
        ("script in the unit is still range-checked", _csv(big), "a.csv", {**BASE, "unit": "%"}, LayerValidationError,
         ["outside the valid range"]),
        ("existing id without confirmation", _csv(c), "a.csv", {**BASE, "id": "existing_layer"}, LayerExistsError,
         ["a layer 'existing_layer' already exists: confirm to replace it"]),
    ]


def pytest_generate_tests(metafunc):
    if "case" in metafunc.fixturenames:
        metafunc.parametrize("case", range(28))


def test_malformed_and_hostile_files(store, children, case):
    name, data, filename, desc, err, parts = _cases(children)[case]
    before = _snapshot(store)
    with pytest.raises(err) as exc:
        add_layer(data, filename, desc)
    for part in parts:
        assert part in str(exc.value), f"{name}: {exc.value}"
    assert _snapshot(store) == before, f"{name}: the catalogue changed"
    assert list(_snapshot(store)) == ["existing_layer"]


def test_corpus_has_at_least_25_cases(children):
    assert len(_cases(children)) >= 25


def test_descriptor_file_path_is_ignored(store, children):
    desc, _ = add_layer(_csv(children), "a.csv", {**BASE, "file": "../../../etc/passwd"})
    assert desc.file == "data.parquet"
    copy = load_catalogue().get("children_share").data_path
    assert copy.name == "data.parquet" and copy.is_file() and "passwd" not in str(copy)
    assert 'file = "data.parquet"' in (copy.parent / "layer.toml").read_text()


def test_bad_toml_is_named():
    with pytest.raises(DescriptorError, match=r"layer.toml: not valid TOML"):
        parse_descriptor('id = "x\ntitle = ', "layer.toml")


def test_encodings_delimiters_and_suppressed_values(store, children):
    c = children.astype({"children_pct": str}).copy()
    c.loc[0, "children_pct"] = "*"
    c.loc[1, "children_pct"] = "c"
    c.loc[2, "children_pct"] = ".."
    c.loc[3, "children_pct"] = ""
    c["area"] = "Sé"
    data = c.to_csv(index=False, sep=";").encode("cp1252")
    desc, report = add_layer(data, "semi.csv", {**BASE, "name_column": "area"})
    assert (report.suppressed, report.missing, report.ok) == (3, 1, len(c) - 4)
    assert "read as cp1252" in report.notes and "delimiter ';'" in report.notes
    cat = load_catalogue()
    v = lookup_value(cat.get("children_share"), c.loc[0, "LSOA21CD"])
    assert (v.status, v.value) == ("suppressed", None)  # kept as suppressed, never zero
    assert lookup_value(cat.get("children_share"), c.loc[3, "LSOA21CD"]).status == "missing"
    bom = children.to_csv(index=False).encode("utf-8-sig")
    add_layer(bom, "bom.csv", {**BASE, "id": "bom_layer"})
    assert lookup_value(load_catalogue().get("bom_layer"), children.loc[5, "LSOA21CD"]).value == \
        children.loc[5, "children_pct"]


def test_replacing_keeps_the_old_layer_until_the_new_one_is_valid(store, children):
    bad = children.astype({"children_pct": str}).copy()
    bad.loc[0, "children_pct"] = "oops"
    with pytest.raises(LayerValidationError):
        add_layer(_csv(bad), "a.csv", {**BASE, "id": "existing_layer"}, replace_existing=True)
    cat = load_catalogue()
    assert lookup_value(cat.get("existing_layer"), children.loc[0, "LSOA21CD"]).value == children.loc[0, "children_pct"]
    newer = children.assign(children_pct=children["children_pct"] / 2)
    add_layer(_csv(newer), "a.csv", {**BASE, "id": "existing_layer", "title": "Halved"}, replace_existing=True)
    cat = load_catalogue()
    assert cat.get("existing_layer").title == "Halved"
    assert list(_snapshot(store)) == ["existing_layer"]


def test_round_trip_lsoa_urn_and_point_layers(store, children, sources, tmp_path):
    from civicdata.focus import compute_focus

    add_layer(_csv(children), "children.csv", BASE)
    # URN-keyed XLSX: real school capacities from Trafford's schools list
    ts = pd.read_csv(sources / "schools" / "trafford_schools_and_colleges.csv")
    gias_urns = set(pd.read_parquet(Path(__file__).parents[1] / "data/schools/schools.parquet")["urn"].astype(str))
    cap = ts[["unique_reference_number", "capacity"]].dropna()
    cap = cap[cap["unique_reference_number"].astype(str).isin(gias_urns)].drop_duplicates("unique_reference_number")
    xlsx = _xlsx({"capacity": cap.rename(columns={"unique_reference_number": "URN"})})
    add_layer(xlsx, "capacity.xlsx", {**BASE, "id": "school_capacity", "title": "School capacity", "unit": "places",
                                      "geography": "urn", "key_column": "URN", "value_column": "capacity"})
    # point layer: Trafford railway stations (NaPTAN)
    st = pd.read_csv(sources / "transport/trafford/trafford_train_stops.csv")
    point = {k: v for k, v in BASE.items() if k not in ("key_column", "value_column")}
    add_layer(_csv(st), "stations.csv", {**point, "id": "rail_stations", "title": "Railway stations", "unit": "stations",
                                         "geography": "point", "lat_column": "lat", "lon_column": "long",
                                         "name_column": "name", "theme": "services"})
    cat = load_catalogue()
    assert {"children_share", "school_capacity", "rail_stations"} <= set(cat.layers)
    row = cap.iloc[0]
    assert lookup_value(cat.get("school_capacity"), str(int(row["unique_reference_number"]))).value == float(row["capacity"])
    # usable in Strategic focus
    res = compute_focus(cat, "ward", TRAFFORD, {"children_share": 1, "school_capacity": 1})
    assert res.table["v_children_share"].notna().all()
    # and the CLI lists them, then removes them cleanly
    out = run_cli("layers", "--json")
    ids = {r["id"]: r["user"] for r in __import__("json").loads(out.stdout)}
    assert ids["children_share"] is True and ids["imd2019_decile"] is False
    for lid in ("children_share", "school_capacity", "rail_stations"):
        res = run_cli("remove-layer", lid)
        assert res.returncode == 0, res.stderr
    assert list(_snapshot(store)) == ["existing_layer"]
    with pytest.raises(UnknownLayerError):
        load_catalogue().get("children_share")


def test_cli_add_layer_failure_exits_non_zero(store, tmp_path, children):
    f = tmp_path / "x.csv"
    f.write_bytes(b"LSOA21CD,children_pct\nE01999999,3\n")
    d = tmp_path / "x.toml"
    d.write_text("\n".join(f'{k} = "{v}"' for k, v in BASE.items()))
    before = _snapshot(store)
    res = run_cli("add-layer", str(f), "--descriptor", str(d))
    assert res.returncode == 1
    assert "x.csv, row 2, column 'LSOA21CD': 'E01999999' is not a known LSOA 2021 code in England" in res.stderr
    assert _snapshot(store) == before
    res = run_cli("remove-layer", "imd2019_decile")
    assert res.returncode == 1 and "is a bundled layer and cannot be removed" in res.stderr

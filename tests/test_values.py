"""Real values through the CLI, checked against the raw published files."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from civicdata.build.sources import SOURCES
from tests.conftest import run_cli

SAMPLE_LSOA11 = ["E01006187", "E01006102", "E01005062", "E01000001", "E01033768"]


@pytest.fixture(scope="module")
def raw_file1(sources) -> pd.DataFrame:
    # Read as text: File 1 writes ranks with thousands separators ("29,199").
    return pd.read_csv(sources / SOURCES["iod2019_file1"].path, encoding="utf-8-sig", dtype=str).set_index(
        "LSOA code (2011)")


@pytest.fixture(scope="module")
def raw_names11(sources) -> pd.DataFrame:
    """House of Commons Library MSOA 2011 names, keyed by the ONS MSOA name ("Trafford 017")."""
    return pd.read_csv(sources / SOURCES["msoa11_names"].path, encoding="utf-8-sig", dtype=str).set_index("msoa11nm")


@pytest.mark.parametrize("code", SAMPLE_LSOA11)
def test_imd2019_rank_and_decile_equal_raw_file1(raw_file1, raw_names11, code):
    rank = int(raw_file1.loc[code, "Index of Multiple Deprivation (IMD) Rank"].replace(",", ""))
    decile = int(raw_file1.loc[code, "Index of Multiple Deprivation (IMD) Decile"])
    ons_name = raw_file1.loc[code, "LSOA name (2011)"]
    # an LSOA's ONS name is its MSOA's plus a letter; it takes that MSOA's readable name
    readable = f"{raw_names11.loc[ons_name[:-1], 'msoa11hclnm']} ({ons_name})"
    for layer, expected in (("imd2019_rank", rank), ("imd2019_decile", decile)):
        res = run_cli("values", layer, "--area", code, "--json")
        assert res.returncode == 0, res.stderr
        assert json.loads(res.stdout) == {"layer": layer, "area": code, "name": readable, "ons_name": ons_name,
                                          "value": expected, "ci_lower": None, "ci_upper": None, "status": "ok"}


def test_iod2025_values_equal_raw(sources):
    raw = pd.read_csv(sources / SOURCES["iod2025_lsoa"].path, dtype=str).set_index("lsoa21_code")
    out = json.loads(run_cli("values", "income2025_score", "--area", "E01035000", "--json").stdout)
    assert out["value"] == float(raw.loc["E01035000", "Income_score"])


@pytest.fixture(scope="module")
def raw_le(sources) -> dict:
    wb = load_workbook(sources / SOURCES["le_msoa11"].path, read_only=True)
    rows = wb["Data"].iter_rows(min_row=2, values_only=True)
    return {(r[3], r[5]): (r[8], r[9], r[10]) for r in rows}


@pytest.mark.parametrize("msoa", ["E02001259", "E02001046", "E02000001", "E02001271"])
def test_life_expectancy_equals_raw_ons_file(raw_le, msoa):
    for layer, sex in (("le_male", "Males"), ("le_female", "Females")):
        res = run_cli("values", layer, "--area", msoa, "--json")
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout)
        le, lo, hi = raw_le[(msoa, sex)]
        assert (out["value"], out["ci_lower"], out["ci_upper"], out["status"]) == pytest.approx((le, lo, hi, "ok"))
        assert out["ci_lower"] < out["value"] < out["ci_upper"]


def test_unpublished_life_expectancy_is_missing_not_zero(raw_le):
    blank = next(code for (code, sex), v in raw_le.items() if sex == "Males" and v[0] is None
                 and code.startswith("E"))
    out = json.loads(run_cli("values", "le_male", "--area", blank, "--json").stdout)
    assert out.pop("name") and out.pop("ons_name")
    assert out == {"layer": "le_male", "area": blank, "value": None, "ci_lower": None, "ci_upper": None,
                   "status": "missing"}


def test_other_vintage_code_is_a_clear_error():
    res = run_cli("values", "imd2019_decile", "--area", "E01035000", "--json")
    assert res.returncode == 1
    assert "E01035000 is an LSOA 2021 code, not an LSOA 2011 code" in res.stderr
    assert res.stdout == ""


def test_unknown_code_and_layer_exit_non_zero():
    res = run_cli("values", "imd2019_decile", "--area", "E01999999")
    assert res.returncode == 1 and "unknown area code 'E01999999'" in res.stderr
    res = run_cli("values", "imd2019_decil", "--area", "E01006187")
    assert res.returncode == 1 and "did you mean imd2019_decile" in res.stderr


def test_school_fsm_from_gias(sources):
    raw = pd.read_csv(sources / SOURCES["gias"].path, dtype=str)
    row = raw[raw["establishment_name"] == "St John Vianney School"].iloc[0]
    urn = str(int(float(row["urn"])))
    out = json.loads(run_cli("values", "school_fsm_pct", "--area", urn, "--json").stdout)
    assert out["value"] == float(row["percentage_fsm"]) and out["status"] == "ok"


def test_areas_json_shape(raw_file1, raw_names11):
    res = run_cli("areas", "--within", "E08000009", "--level", "lsoa11", "--json")
    rows = json.loads(res.stdout)
    assert len(rows) == 138 and set(rows[0]) == {"code", "name", "ons_name"}
    by_code = {r["code"]: r for r in rows}
    ons = raw_file1.loc["E01006187", "LSOA name (2011)"]
    assert by_code["E01006187"] == {"code": "E01006187", "ons_name": ons,
                                    "name": f"{raw_names11.loc[ons[:-1], 'msoa11hclnm']} ({ons})"}
    msoas = json.loads(run_cli("areas", "--within", "Trafford", "--level", "msoa21", "--json").stdout)
    assert {"code": "E02001275", "name": "Partington", "ons_name": "Trafford 017"} in msoas
    assert {"code": "E02001259", "name": "Old Trafford", "ons_name": "Trafford 001"} in msoas


def test_layers_json_lists_descriptors():
    rows = json.loads(run_cli("layers", "--json").stdout)
    by_id = {r["id"]: r for r in rows}
    assert by_id["le_male"]["ci_lower_column"] == "le_male_lower"
    assert by_id["imd2019_decile"]["geography"] == "lsoa11"
    assert all(r["user"] is False for r in rows)

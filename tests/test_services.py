"""Current NHS services and QOF prevalence, checked against the raw staged files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from civicdata.indicators.catalogue import load_catalogue
from civicdata.focus import compute_focus
from civicdata.indicators.layers import load_layer
from civicdata.build.sources import SOURCES
from tests.conftest import DATA, run_cli


@pytest.fixture(scope="module")
def raw_gp(sources) -> pd.DataFrame:
    return pd.read_csv(sources / SOURCES["gp_practices2025"].path, dtype=str)


@pytest.fixture(scope="module")
def raw_epraccur(sources) -> pd.DataFrame:
    return pd.read_csv(sources / SOURCES["epraccur2025"].path, header=None, dtype=str, keep_default_na=False)


@pytest.fixture(scope="module")
def raw_qof(sources) -> pd.DataFrame:
    return pd.read_csv(sources / SOURCES["qof2023"].path, dtype=str)


def test_only_active_gp_practices_are_kept(raw_gp, raw_epraccur):
    gp = pd.read_parquet(DATA / "services/gp_practices2025.parquet")
    ep = raw_epraccur.set_index(0)
    active = set(ep.index[(ep[12] == "A") & (ep[25] == "4")])
    located = set(raw_gp.loc[raw_gp["LAT"].notna() & raw_gp["LON"].notna(), "ODS_Code"])
    assert set(gp["ods_code"]) == active & set(raw_gp["ODS_Code"]) & located
    assert len(gp) == 6615
    # out-of-hours and other prescribing cost centres are gone; a closed practice too
    ooh = raw_gp[raw_gp["Name"].str.contains("OOH")]["ODS_Code"]
    assert not set(ooh) & set(gp["ods_code"])
    # the drops are reported, by reason, in the manifest and the layer's description
    desc = load_catalogue().get("gp_practices2025")
    assert "6,615 active GP practices kept of 12,447 ODS rows" in desc.description
    assert "not GP practices (prescribing setting other than 4" in desc.description
    manifest = (DATA / "manifest.toml").read_text()
    assert "6,615 active GP practices kept of 12,447 ODS rows" in manifest


def test_hospitals_keep_their_parent_trust(sources):
    path = sources / SOURCES["nhs_hospitals_c2022"].path
    header = pd.read_csv(path, nrows=0).columns.tolist()
    raw = pd.read_csv(path, header=None, skiprows=1, dtype=str, keep_default_na=False,
                      names=["row_index"] + header).set_index("OrganisationCode")
    h = pd.read_parquet(DATA / "services/nhs_hospitals_c2022.parquet").set_index("ods_code")
    assert len(h) == (raw["Latitude"] != "").sum()
    for code in ("RBD01", "R0A02"):
        assert h.at[code, "parent_name"] == raw.at[code, "ParentName"]
        assert h.at[code, "parent_code"] == raw.at[code, "ParentODSCode"]
    assert "Manchester University NHS Foundation Trust" in set(h["parent_name"])


def test_care_trust_sites_mark_camhs_and_say_coverage_is_partial(sources):
    raw = pd.read_csv(sources / SOURCES["care_trust_sites2025"].path, dtype=str)
    c = pd.read_parquet(DATA / "services/care_trust_sites2025.parquet")
    camhs = c[c["subtype"] == "CAMHS"]
    assert len(camhs) == raw["Name"].str.contains(r"\bCAMHS\b").sum() > 20
    assert set(camhs["parent_name"].dropna()) <= {"Sheffield Health and Social Care NHS Foundation Trust",
                                                  "Black Country Healthcare NHS Foundation Trust",
                                                  "Bradford District Care NHS Foundation Trust",
                                                  "Camden and Islington NHS Foundation Trust"}
    desc = load_catalogue().get("care_trust_sites2025")
    assert "four trusts" in desc.title and "Coverage is partial" in desc.description


@pytest.mark.parametrize("code", ["A81001", "P84005", "P91004", "Y02875"])
def test_practice_prevalences_equal_the_raw_registers(raw_qof, code):
    r = raw_qof[raw_qof["PRACTICE_CODE"] == code].set_index("GROUP_CODE")
    for layer, group, list_type in (("qof2023_asthma_pct", "AST", "06OV"), ("qof2023_depression_pct", "DEP", "18OV"),
                                    ("qof2023_smi_pct", "MH", "TOTAL"), ("qof2023_obesity_pct", "OB", "18OV")):
        assert r.at[group, "PATIENT_LIST_TYPE"] == list_type
        expected = float(r.at[group, "REGISTER"]) / float(r.at[group, "PRACTICE_LIST_SIZE"]) * 100
        out = json.loads(run_cli("values", layer, "--area", code, "--json").stdout)
        assert out["value"] == pytest.approx(expected, abs=1e-4) and out["status"] == "ok"


def test_values_for_a_practice_code_and_unknown_code():
    out = json.loads(run_cli("values", "qof2023_asthma_pct", "--area", "A81001", "--json").stdout)
    assert out["area"] == "A81001" and out["name"] == "The Densham Surgery"
    bad = run_cli("values", "qof2023_asthma_pct", "--area", "ZZ9999")
    assert bad.returncode == 1 and "unknown GP practice code 'ZZ9999'" in bad.stderr


def test_england_prevalence_and_unplaced_practices(raw_qof, raw_gp):
    q = pd.read_parquet(DATA / "indicators/qof2023_practices.parquet")
    ast = raw_qof[raw_qof["GROUP_CODE"] == "AST"]
    assert round(100 * ast["REGISTER"].astype(float).sum() / ast["PRACTICE_LIST_SIZE"].astype(float).sum(), 1) == 6.5
    gp = set(pd.read_parquet(DATA / "services/gp_practices2025.parquet")["ods_code"])
    unplaced = q[q["lat"].isna()]
    assert set(unplaced["practice_code"]) == set(q["practice_code"]) - gp
    assert f"{len(unplaced)} have no current location" in load_catalogue().get("qof2023_asthma_pct").description


def test_practices_carry_to_wards_as_list_weighted_means():
    cat = load_catalogue()
    res = compute_focus(cat, "ward", "E08000009", {"qof2023_asthma_pct": 1}, include_incomplete=True)
    p = load_layer(cat.get("qof2023_asthma_pct")).dropna(subset=["lsoa21_code"])
    lk = pd.read_parquet(DATA / "lookups/lsoa21.parquet").set_index("lsoa21_code")["ward24_code"]
    p["ward"] = p["lsoa21_code"].map(lk)
    t = res.table.set_index("code")
    for ward, grp in p[p["ward"].isin(t.index)].groupby("ward"):
        expected = (grp["value"] * grp["weight"]).sum() / grp["weight"].sum()
        assert t.at[ward, "v_qof2023_asthma_pct"] == pytest.approx(expected)
    empty = t[t["v_qof2023_asthma_pct"].isna()]
    assert len(empty) and set(empty.index).isdisjoint(set(p["ward"]))  # no practice: no value, never zero
    assert all(r == {"qof2023_asthma_pct": "no GP practice located in the area"} for r in empty["missing_reasons"])


def test_user_layers_cannot_claim_the_practice_geography(tmp_path):
    csv = tmp_path / "p.csv"
    csv.write_text("code,v,lat,lon\nA81001,5,54.5,-1.3\n")
    toml = tmp_path / "p.toml"
    toml.write_text('id = "p"\ntitle = "p"\nunit = "%"\npolarity = "neutral"\ngeography = "practice"\n'
                    'key_column = "code"\nvalue_column = "v"\nlat_column = "lat"\nlon_column = "lon"\n'
                    'source = "s"\nlicence = "l"\nvintage = "1"\ntheme = "t"\n')
    res = run_cli("add-layer", str(csv), "--descriptor", str(toml))
    assert res.returncode == 1 and "geography 'practice' is kept for the bundled QOF layers" in res.stderr

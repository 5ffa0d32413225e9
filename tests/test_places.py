"""Primary Care Networks as places, checked against the staged NHS ODS ePCN and QOF files themselves."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from civicdata import places
from tests.conftest import run_cli

TRAFFORD = "E08000009"
TRAFFORD_SICB = "02A"  # NHS Greater Manchester ICB - 02A (Trafford)


@pytest.fixture(scope="module")
def current(sources) -> pd.DataFrame:
    """Today's memberships, straight from the staged ePCN sheet (no end date)."""
    raw = pd.read_csv(sources / "health/pcn/pcn_core_partner_details.csv", dtype=str, keep_default_na=False)
    return raw[raw["Practice to PCN Relationship End Date"] == ""]


def test_trafford_has_five_pcns_and_twenty_six_practices(current):
    staged = current[current["PCN Parent Sub ICB Loc Code"] == TRAFFORD_SICB]
    bundled = places.pcns()
    codes = sorted(bundled.loc[(bundled["sicb_ods_code"] == TRAFFORD_SICB) & bundled["closed_on"].isna(), "pcn_code"])
    assert codes == sorted(staged["PCN Code"].unique()) and len(codes) == 5
    members = {c: {p["ods_code"] for p in places.pcn_profile(c)["practices"]} for c in codes}
    assert sum(len(v) for v in members.values()) == 26
    for c, got in members.items():
        assert got == set(staged.loc[staged["PCN Code"] == c, "Partner Organisation Code"])
    # the five are also the PCNs whose practices stand in Trafford, every one with its sub-ICB and ICB
    assert sorted(places.pcns_in(TRAFFORD)["pcn_code"]) == codes
    p = places.pcn_profile("U42898")
    assert p["name"] == "South Trafford PCN" and p["ons_name"] == "SOUTH TRAFFORD PCN"
    assert p["sub_icb"] == {"ods_code": "02A", "code": "E38000187", "name": "NHS Greater Manchester ICB - 02A"}
    assert p["icb"] == {"code": "E54000057", "name": "NHS Greater Manchester Integrated Care Board"}
    assert set(p["neighbourhoods"]) <= set(places.memberships()["lsoa21_code"].dropna())
    assert all(n.startswith("E01") for n in p["neighbourhoods"]) and "no boundary" in p["note"]


def test_a_practice_in_a_pcn_of_another_sub_icb_keeps_both(current):
    cross = current[current["Practice Sub ICB Loc and PCN Sub ICB Loc Match"] == "False"]
    assert len(cross) >= 10
    for r in cross.head(5).itertuples(index=False):
        got = places.practice_pcn(r[0])
        assert got["pcn"]["code"] == r[4] and got["same_sub_icb"] is False
        assert got["sub_icb"]["ods_code"] == r[2] and got["pcn_sub_icb"]["ods_code"] == r[6]
        assert got["sub_icb"]["ods_code"] != got["pcn_sub_icb"]["ods_code"]
        # and in its PCN's profile it is listed with its own sub-ICB
        listed = next(p for p in places.pcn_profile(r[4])["practices"] if p["ods_code"] == r[0])
        assert listed["sub_icb"]["ods_code"] == r[2] and listed["same_sub_icb"] is False


def test_qof_prevalence_is_weighted_by_list_size_as_in_the_raw_qof_file(sources):
    """Serious mental illness in North Trafford PCN, recomputed from the staged QOF 2022-23 file."""
    qof = pd.read_csv(sources / "health/qof/qof_prevalence_2022-23.csv.gz", dtype=str)
    smi = qof[qof["GROUP_CODE"] == "MH"].set_index("PRACTICE_CODE")
    p = places.pcn_profile("U66368")
    codes = [x["ods_code"] for x in p["practices"] if x["ods_code"] in smi.index]
    register = sum(int(float(smi.at[c, "REGISTER"])) for c in codes)
    lists = sum(int(float(smi.at[c, "PRACTICE_LIST_SIZE"])) for c in codes)
    assert p["qof"]["smi"]["register"] == register and p["qof"]["smi"]["list"] == lists
    assert p["qof"]["smi"]["pct"] == round(100 * register / lists, 2)
    # not the plain mean of the practices' percentages (they differ in size)
    plain = sum(x["qof"]["smi"] for x in p["practices"] if x["qof"]["smi"] is not None) / len(codes)
    assert abs(plain - p["qof"]["smi"]["pct"]) > 0.001
    assert p["list_size"] == lists  # the all-ages list SMI uses is the practice's list


def test_cli_pcn_json_shapes_and_errors():
    out = run_cli("pcn", "U79881", "--json")
    assert out.returncode == 0, out.stderr
    p = json.loads(out.stdout)
    assert set(p) >= {"code", "name", "sub_icb", "icb", "practices", "qof", "neighbourhoods", "vintages", "note"}
    assert set(p["practices"][0]) >= {"ods_code", "name", "list_size", "lat", "lon", "lsoa21_code", "sub_icb"}
    first = p["practices"][0]["ods_code"]
    back = json.loads(run_cli("pcn", "--practice", first, "--json").stdout)
    assert back["pcn"] == {"code": "U79881", "name": "Trafford West PCN"}
    within = json.loads(run_cli("pcn", "--within", "Trafford", "--json").stdout)
    assert len(within) == 5 and sum(r["practices_here"] for r in within) == 26
    bad = run_cli("pcn", "U00001")
    assert bad.returncode == 1 and "no PCN with code 'U00001'" in bad.stderr
    bad = run_cli("pcn", "--practice", "ZZ999")
    assert bad.returncode == 1 and "practice 'ZZ999' is in no PCN" in bad.stderr


def test_title_case_keeps_acronyms_and_small_words():
    from civicdata.build_places import title_case

    assert title_case("ALTRINCHAM HEALTHCARE ALLIANCE PCN") == "Altrincham Healthcare Alliance PCN"
    assert title_case("THE OAKS AND ST. MARY'S PCN") == "The Oaks and St. Mary's PCN"
    assert title_case("NHS NORTH EAST AND NORTH CUMBRIA ICB - 16C") == "NHS North East and North Cumbria ICB - 16C"

"""A school trust as one place, on real multi-district sets of schools from the bundled GIAS list."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from openpyxl import load_workbook

from civicdata import trust
from civicdata.build.sources import SOURCES
from tests.conftest import DATA, open_page, run_cli


@pytest.fixture(scope="module")
def urns() -> list[str]:
    """Secondaries in Trafford (GM), Cheshire East and Sheffield: three districts, ICBs and NHS trusts."""
    s = pd.read_parquet(DATA / "schools/schools.parquet")
    sec = s[s["phase"] == "Secondary"].sort_values("urn")
    out = []
    for la in ("Trafford", "Cheshire East", "Sheffield"):
        out += sec.loc[sec["la_name"] == la, "urn"].astype(str).head(2).tolist()
    return out


def test_every_field_against_the_raw_files(urns, sources):
    out = trust.trust_json(urns + ["999999", urns[0]])
    assert [s["urn"] for s in out["schools"]] == urns
    assert out["unknown_urns"] == ["999999"] and out["duplicate_urns"] == [urns[0]]
    gias = pd.read_csv(sources / SOURCES["gias"].path, dtype=str)
    gias["urn"] = gias["urn"].astype(float).astype(int).astype(str)
    g = gias.set_index("urn")
    ward = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path, dtype=str).set_index("lsoa21_code")
    icb = pd.read_csv(sources / SOURCES["lsoa21_icb24"].path, dtype=str).set_index("lsoa21_code")
    iod = pd.read_csv(sources / SOURCES["iod2025_lsoa"].path, dtype=str).set_index("lsoa21_code")
    x = pd.read_csv(sources / SOURCES["lsoa11_lsoa21"].path, dtype=str).drop_duplicates("lsoa21_code") \
        .set_index("lsoa21_code")["lsoa11_code"]
    oa = pd.read_csv(sources / SOURCES["oa11_lookup"].path, encoding="utf-8-sig", dtype=str,
                     usecols=["LSOA11CD", "MSOA11CD"]).drop_duplicates().set_index("LSOA11CD")["MSOA11CD"]
    wb = load_workbook(sources / SOURCES["le_msoa11"].path, read_only=True)
    le = {(r[3], r[5]): r[8] for r in wb["Data"].iter_rows(min_row=2, values_only=True)}
    for s in out["schools"]:
        lsoa = g.at[s["urn"], "lsoa_code"]
        assert s["lsoa21_code"] == lsoa and s["name"] == g.at[s["urn"], "establishment_name"]
        assert s["ward"] == ward.at[lsoa, "ward24_name"] and s["lad24_code"] == ward.at[lsoa, "ltla24_code"]
        assert s["imd2025_decile"] == int(iod.at[lsoa, "IMD_decile"])
        assert s["neighbourhood"].endswith(f"({ward.at[lsoa, 'lsoa21_name']})")
        male = le[(oa[x[lsoa]], "Males")]
        assert (male is None and s["le_male"] is None) or s["le_male"] == pytest.approx(male, abs=0.01)
        icb_code = icb.at[lsoa, "icb24_code"]
        assert any(s["urn"] in i["schools"] and i["code"] == icb_code for i in out["icbs"])
    las = {la["name"]: la for la in out["local_authorities"]}
    assert set(las) == {"Trafford", "Cheshire East", "Sheffield"}
    assert las["Trafford"]["combined_authority"] == "Greater Manchester"
    assert len(out["icbs"]) == 3 and len(out["nhs_trusts"]) >= 3
    assert all(set(t["schools"]) <= set(urns) for t in out["nhs_trusts"])
    summary = out["summary"]
    assert summary["schools"] == 6 and summary["pupils"] == int(sum(s["pupils"] or 0 for s in out["schools"]))
    d1 = sum(s["pupils"] or 0 for s in out["schools"] if s["imd2025_decile"] == 1)
    assert summary["pupils_decile1"] == d1


def test_cli_json_and_clear_errors(urns, tmp_path):
    res = run_cli("trust", "--urns", ",".join(urns), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert set(out["schools"][0]) == {"urn", "name", "lad24_code", "lad24_name", "ward", "lsoa21_code",
                                      "neighbourhood", "imd2025_decile", "fsm_pct", "pupils", "le_male", "le_female"}
    assert set(out["nhs_trusts"][0]) == {"code", "name", "schools"}
    none = run_cli("trust", "--urns", "999999,999998")
    assert none.returncode == 1 and "none of the 2 URNs is an open school in England" in none.stderr
    bad = tmp_path / "schools.csv"
    bad.write_text("school,phase\nA,Primary\n")
    res = run_cli("trust", "--file", str(bad))
    assert res.returncode == 1 and "schools.csv, row 1: no 'urn' column" in res.stderr
    assert "Traceback" not in res.stderr
    good = tmp_path / "schools2.csv"
    good.write_text("URN,name\n" + "\n".join(f"{u},x" for u in urns) + "\n")
    assert len(json.loads(run_cli("trust", "--file", str(good), "--json").stdout)["schools"]) == 6


def test_saved_group_round_trip_and_atomicity(urns, monkeypatch):
    found = trust.save_group("north-west", "North West <b>Trust</b>", urns + ["999999"])
    assert found.unknown == ["999999"] and trust.load_group("north-west")["urns"] == urns
    assert trust.list_groups() == [{"id": "north-west", "title": "North West <b>Trust</b>", "schools": 6}]
    with pytest.raises(trust.TrustError, match="exists already"):
        trust.save_group("north-west", "again", urns[:2])
    with pytest.raises(trust.TrustError, match="not a valid name"):
        trust.save_group("../evil", "x", urns)
    # a write that fails half-way (after the version counter moved) is rolled back whole
    from civicdata import store
    from civicdata.store import places

    before = store.version("places")

    def boom(*a, **k):
        raise OSError("disk full")

    with monkeypatch.context() as mp:
        mp.setattr(places, "update", boom)
        with pytest.raises(OSError):
            trust.save_group("north-west", "smaller", urns[:2], replace=True)
    assert trust.load_group("north-west")["urns"] == urns and store.version("places") == before
    assert not trust.groups_dir().exists()  # nothing is written beside the database
    trust.rename_group("north-west", "nw")
    assert [g["id"] for g in trust.list_groups()] == ["nw"]
    trust.delete_group("nw")
    assert trust.list_groups() == []


def test_trust_page_from_a_saved_group_escapes_hostile_names(urns):
    trust.save_group("hostile", "<script>alert(1)</script> Trust", urns)
    at = open_page("views/trust.py", group="hostile")
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head.startswith("### &lt;script&gt;alert(1)&lt;/script&gt; Trust:") and "<script>" not in head
    table = at.dataframe[0].value
    assert table["urn"].tolist() == urns
    frames = [d.value for d in at.dataframe]
    convene = next(f for f in frames if "role" in f.columns)
    assert {"Local authority", "NHS Integrated Care Board", "NHS trust"} <= set(convene["role"])
    focus = next(f for f in frames if "rank" in f.columns)
    assert len(focus) == 6 and focus["rank"].notna().sum() >= 1
    # its figures rounded (it showed 92.8571), stability a bar in %
    cols = json.loads(next(d for d in at.dataframe if "rank" in d.value.columns).proto.columns)
    assert cols["score"]["type_config"]["format"] == "%.1f"
    assert all(v["type_config"]["format"] == "%.1f" for k, v in cols.items() if k.startswith("points: "))
    assert cols["stability"]["type_config"]["type"] == "progress"
    brief = trust.brief_html("<script>x</script>", trust.trust_schools(urns), trust.pupil_summary(
        trust.trust_schools(urns)), convene)
    assert "<script>x" not in brief and "&lt;script&gt;x" in brief


def test_area_map_place_picker_offers_saved_trusts(urns):
    trust.save_group("north-west", "North West Trust", urns)
    at = open_page(None)
    box = at.sidebar.selectbox(key="am_place")
    assert "trust:north-west" in box.options or "Trust: North West Trust (6 schools)" in box.options
    box.set_value("trust:north-west").run()
    assert not at.exception
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head.startswith("### North West Trust:")  # the Trust page opened on the saved trust


def test_trust_page_sets_each_school_beside_its_local_authority_and_england(urns):
    """Persistent absence 2018/19 by default: each school's value, its LA's schools of the same type and DfE's
    national figure; the trust's own pupil-weighted figure in words; another measure on a change."""
    from civicdata.indicators import schools as S

    trust.save_group("measures", "Measures Trust", urns)
    at = open_page("views/trust.py", group="measures")
    assert not at.exception
    assert "Absence, attainment and need, school by school" in [h.value for h in at.subheader]
    comp = next(d.value for d in at.dataframe if "Compared with" in d.value.columns)
    assert len(comp) == len(urns) and set(comp["Compared with"]) == {"State-funded secondary"}
    raw = S.compare("school_persistent_absence_2019", [int(u) for u in urns])
    assert comp["School (% of pupils)"].tolist() == raw["value"].round(1).tolist()
    assert set(comp["England (% of pupils)"]) == {13.7}  # DfE's published national figure, secondaries 2018/19
    assert set(comp["Local authority"]) == {"Trafford", "Cheshire East", "Sheffield"}
    words = next(m.value for m in at.markdown if m.value.startswith("**Measures Trust**:"))
    assert f"{S.trust_value(raw):.1f} % of pupils" in words and f"of {len(urns)} schools" in words
    assert any("before COVID" in c.value for c in at.caption)
    at.selectbox(key="tr_measure").set_value("school_attainment8_2023").run()
    assert not at.exception
    comp = next(d.value for d in at.dataframe if "Compared with" in d.value.columns)
    assert "School (points)" in comp.columns and comp["School (points)"].notna().all()
    # the founding question: its rule stated, the LA trend to 2024/25 beside it
    assert any("highest fifth" in c.value for c in at.caption)
    trend = next(d.value for d in at.dataframe if "2024/25" in d.value.columns)
    assert trend["Local authority"].tolist()[-1] == "England" and "2018/19" in trend.columns

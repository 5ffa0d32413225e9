"""Primary Care Networks as places, checked against the staged NHS ODS ePCN and QOF files themselves."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from civicdata.geo import places
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
    from civicdata.build.pcn import title_case

    assert title_case("ALTRINCHAM HEALTHCARE ALLIANCE PCN") == "Altrincham Healthcare Alliance PCN"
    assert title_case("THE OAKS AND ST. MARY'S PCN") == "The Oaks and St. Mary's PCN"
    assert title_case("NHS NORTH EAST AND NORTH CUMBRIA ICB - 16C") == "NHS North East and North Cumbria ICB - 16C"


# --------------------------------------------------------------------------- custom areas

TRAFFORD_DECILE1 = ["E01006105", "E01006108", "E01006109", "E01006144", "E01006167", "E01006168"]  # IoD2025


def test_trafford_decile_one_area_is_all_in_decile_one_through_the_cli():
    res = run_cli("area", "save", "trafford-d1", "--title", "Trafford's most deprived", "--lsoa21",
                  ",".join(TRAFFORD_DECILE1), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["id"] == "trafford-d1" and out["level"] == "lsoa21" and out["areas"] == TRAFFORD_DECILE1
    assert out["imd_decile_population_share"]["1"] == 1.0
    assert sum(v for v in out["imd_decile_population_share"].values()) == 1.0
    assert out["population"] == 1763 + 1668 + 1149 + 1386 + 1582 + 1811  # Census 2021
    assert [a["name"] for a in out["local_authorities"]] == ["Trafford"]
    assert {p["code"] for p in out["pcns"]} <= set(places.pcns()["pcn_code"])
    assert out["life_expectancy"]["male"]["lowest"] <= out["life_expectancy"]["male"]["highest"]
    assert out["caveats"] == []  # six neighbourhoods, 9,359 people: not small
    # saved in the store: listed by the library and by another process
    assert places.list_areas() == [{"id": "trafford-d1", "title": "Trafford's most deprived", "level": "lsoa21",
                                    "neighbourhoods": 6}]
    again = run_cli("area", "save", "trafford-d1", "--lsoa21", "E01006105")
    assert again.returncode == 1 and "an area 'trafford-d1' exists already" in again.stderr
    assert json.loads(run_cli("area", "show", "trafford-d1", "--json").stdout)["population"] == out["population"]
    assert run_cli("area", "delete", "trafford-d1").returncode == 0
    assert json.loads(run_cli("area", "list", "--json").stdout) == []


def test_population_weighting_checked_by_hand_on_three_neighbourhoods(sources):
    """Trafford 017E (IoD2025 decile 1, 1,668 residents), 001C (decile 2, 1,776), 025A (decile 5, 1,642)."""
    from civicdata.build.sources import SOURCES

    c = pd.read_csv(sources / SOURCES["census2021_age"].path)
    residents = c.groupby("lsoa21_code")["usual_residents"].sum()
    assert [int(residents[x]) for x in ("E01006108", "E01006111", "E01006074")] == [1668, 1776, 1642]
    p = places.area_profile("lsoa21", ["E01006108", "E01006111", "E01006074"])
    assert p["population"] == 5086
    share = p["imd_decile_population_share"]
    assert share["1"] == round(1668 / 5086, 4) == 0.328 and share["2"] == round(1776 / 5086, 4)
    assert share["5"] == round(1642 / 5086, 4) and share["3"] == share["10"] == 0.0
    assert p["caveats"] and "small area (3 neighbourhood(s), 5,086 people)" in p["caveats"][0]


def test_vintages_never_mix_and_every_bad_code_is_named():
    from civicdata.geo.geography import load_lookup

    only11 = sorted(set(load_lookup("lsoa11")["lsoa11_code"]) - set(load_lookup("lsoa21")["lsoa21_code"]))[0]
    with pytest.raises(places.AreaError) as exc:
        places.resolve_area_codes(["E01006108", only11, "E01999999", "nonsense"], "lsoa21", "--lsoa21")
    text = str(exc.value)
    assert f"--lsoa21, row 2: '{only11}' is an LSOA 2011 code, not LSOA 2021" in text and "lsoa11_lsoa21" in text
    assert "row 3: 'E01999999' is not a known LSOA 2021 code" in text and "row 4: 'NONSENSE'" in text
    with pytest.raises(places.AreaError, match="no codes"):
        places.resolve_area_codes([" ", ""], "lsoa21")
    bad = run_cli("area", "save", "x", "--lsoa21", "E01006108", "--lsoa11", "E01006108")
    assert bad.returncode == 1 and "exactly one of" in bad.stderr
    # a 2011 area is profiled with IoD2019 and mid-2015 populations
    p = places.area_profile("lsoa11", ["E01006108"])
    assert p["iod"] == "IoD2019" and p["population_source"].startswith("ONS mid-2015")


def test_wards_become_their_best_fit_neighbourhoods(tmp_path):
    from civicdata.geo.geography import load_lookup

    lk = load_lookup("lsoa21")
    ward = lk.loc[lk["lad24_code"] == "E08000009", "ward24_code"].iloc[0]
    level, codes = places.resolve_area_codes([ward], "ward")
    assert level == "lsoa21" and codes == sorted(lk.loc[lk["ward24_code"] == ward, "lsoa21_code"])
    f = tmp_path / "area.csv"
    f.write_text("ward_code\n" + ward + "\n")
    res = run_cli("area", "save", "one-ward", "--file", str(f), "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["from"] == "ward" and out["areas"] == codes and [w["code"] for w in out["wards"]] == [ward]
    f.write_text("postcode\nM32 0AA\n")
    bad = run_cli("area", "save", "x", "--file", str(f))
    assert bad.returncode == 1 and "area.csv: no column named lsoa21_code, lsoa11_code or ward_code" in bad.stderr


def test_codes_given_several_ways_join_into_one_vintage_and_every_bad_one_is_named():
    from civicdata.geo.geography import load_lookup

    lk = load_lookup("lsoa21")
    ward = lk.loc[lk["lad24_code"] == "E08000009", "ward24_code"].iloc[0]
    of_ward = sorted(lk.loc[lk["ward24_code"] == ward, "lsoa21_code"])
    level, codes = places.combine_area_codes([("lsoa21", TRAFFORD_DECILE1[:2], "the picked neighbourhoods"),
                                              ("lsoa21", [TRAFFORD_DECILE1[1]], "the pasted codes"),
                                              ("ward", [ward], "wards.csv")])
    assert level == "lsoa21" and codes == sorted(set(TRAFFORD_DECILE1[:2]) | set(of_ward))
    only11 = sorted(set(load_lookup("lsoa11")["lsoa11_code"]) - set(lk["lsoa21_code"]))[0]
    with pytest.raises(places.AreaError) as exc:  # a 2011 file beside picked 2021 codes, and a bad pasted code
        places.combine_area_codes([("lsoa21", TRAFFORD_DECILE1[:1], "the picked neighbourhoods"),
                                   ("lsoa21", ["E01999999"], "the pasted codes"),
                                   ("lsoa11", [only11], "old.csv")])
    text = str(exc.value)
    assert "the pasted codes, row 1: 'E01999999' is not a known LSOA 2021 code" in text
    assert "codes of two vintages (the picked neighbourhoods: LSOA 2021; old.csv: LSOA 2011)" in text
    with pytest.raises(places.AreaError, match="no codes"):
        places.combine_area_codes([("lsoa21", [], "the picked neighbourhoods"), ("lsoa21", [" "], "pasted")])
    assert places.read_area_upload("mine.csv", f"ward_code\n{ward}\n".encode()) == ("ward", [ward])
    with pytest.raises(places.AreaError, match="mine.csv: no column named lsoa21_code"):
        places.read_area_upload("mine.csv", b"postcode\nM32 0AA\n")


def test_an_area_is_renamed_by_title_or_id_and_a_taken_id_is_refused():
    places.save_area("d1", "Decile one", TRAFFORD_DECILE1, "lsoa21")
    places.save_area("other", "Other", TRAFFORD_DECILE1[:1], "lsoa21")
    assert places.rename_area("d1", title="Trafford: decile 1")["title"] == "Trafford: decile 1"
    with pytest.raises(places.AreaError, match="an area 'other' exists already"):
        places.rename_area("d1", "other")
    with pytest.raises(places.AreaError, match="no saved area 'nope'"):
        places.rename_area("nope", "x")
    res = run_cli("area", "rename", "d1", "--new-id", "trafford-d1", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert (out["id"], out["title"], out["areas"]) == ("trafford-d1", "Trafford: decile 1", TRAFFORD_DECILE1)
    assert [a["id"] for a in places.list_areas()] == ["other", "trafford-d1"]
    bad = run_cli("area", "rename", "other", "--new-id", "Bad Id")
    assert bad.returncode == 1 and "'Bad Id' is not a valid id" in bad.stderr
    assert places.load_area("other")["title"] == "Other"  # nothing changed


# --------------------------------------------------------------------------- the Places page

def test_places_page_makes_an_area_from_picked_and_pasted_codes_and_reopens_it_by_link():
    from tests.conftest import open_page

    at = open_page("views/places.py")
    at.selectbox(key="pl_lad").set_value("E08000009").run()
    at.multiselect(key="pl_picked").set_value(TRAFFORD_DECILE1[:3]).run()
    at.text_area(key="pl_pasted").set_value(", ".join(TRAFFORD_DECILE1[3:]) + "\nE01999999")
    at.text_input(key="pl_new_id").set_value("d1")
    at.text_input(key="pl_title").set_value("<b>Decile one</b>")
    next(b for b in at.button if b.label == "Save the area").click().run()
    assert not at.exception
    assert "'E01999999' is not a known LSOA 2021 code" in "\n".join(c.value for c in at.code)
    assert places.list_areas() == []  # nothing saved: one code was bad
    # the count says what will be saved: 3 picked, the rest pasted, one code given both ways counted once
    at.multiselect(key="pl_picked").set_value(TRAFFORD_DECILE1[:3])
    at.text_area(key="pl_pasted").set_value(", ".join(TRAFFORD_DECILE1[2:])).run()
    n = len(TRAFFORD_DECILE1)
    assert any(f"**{n} neighbourhoods will be saved** (3 picked, {n - 2} pasted" in c.value for c in at.caption)
    next(b for b in at.button if b.label == "Save the area").click().run()
    assert not at.exception and [a["id"] for a in places.list_areas()] == ["d1"]
    assert len(places.load_area("d1")["areas"]) == n  # exactly what the count said
    head = next(m.value for m in at.markdown if m.value.startswith("### "))
    assert head.startswith("### \\<b\\>Decile one\\</b\\>: 100% of its 9,359 residents")  # escaped: shown as text
    again = open_page("views/places.py", area="d1")
    head = next(m.value for m in again.markdown if m.value.startswith("### "))
    assert "100% of its 9,359 residents live in England's most deprived 10%" in head
    who = next(d.value for d in again.dataframe if "role" in d.value.columns)
    assert "Trafford" in set(who["name"]) and {"Ward (2024)", "NHS Integrated Care Board"} <= set(who["role"])
    assert (who["role"] == "Primary Care Network").sum() == len(places.saved_area_profile("d1")["pcns"])


def test_places_page_renames_an_area_and_its_link_follows():
    from tests.conftest import open_page

    places.save_area("d1", "Decile one", TRAFFORD_DECILE1, "lsoa21")
    places.save_area("other", "Other", TRAFFORD_DECILE1[:1], "lsoa21")
    at = open_page("views/places.py", area="d1")
    at.text_input(key="pl_rn_id_d1").set_value("other")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert not at.exception and "an area 'other' exists already" in at.error[0].value
    assert places.load_area("d1")["title"] == "Decile one"
    at.text_input(key="pl_rn_id_d1").set_value("trafford-d1")
    at.text_input(key="pl_rn_title_d1").set_value("Trafford's decile 1")
    next(b for b in at.button if b.label == "Rename").click().run()
    assert not at.exception and at.query_params["area"] == "trafford-d1"
    assert at.selectbox(key="pl_area").value == "trafford-d1"
    assert any(m.value.startswith("### Trafford's decile 1: 100%") for m in at.markdown)
    assert [a["id"] for a in places.list_areas()] == ["other", "trafford-d1"]


def test_places_page_opens_a_pcn_by_link_with_its_practices_and_weighted_qof():
    from tests.conftest import open_page

    at = open_page("views/places.py", pcn="U42898")
    head = next(m.value for m in at.markdown if m.value.startswith("### South Trafford PCN"))
    assert "(U42898): 6 practices" in head
    practices = next(d.value for d in at.dataframe if "ODS code" in d.value.columns)
    assert len(practices) == 6
    # each practice's neighbourhood by its name, not a bare code
    hoods = practices["neighbourhood (LSOA 2021)"].dropna()
    assert len(hoods) and not hoods.str.fullmatch(r"E01\d{6}").any() and hoods.str.contains(r"Trafford 0\d\d[A-Z]").all()
    assert not practices["practice"].str.fullmatch(r"[A-Z0-9 &'.,()-]+").any()  # names as written, not in capitals
    import json

    cols = json.loads(next(d for d in at.dataframe if "ODS code" in d.value.columns).proto.columns)
    assert cols["list size"]["type_config"]["format"] == "localized"  # 19,389, not 19389
    assert all(v["type_config"]["format"] == "%.1f" for k, v in cols.items() if k.endswith("(%)"))
    qof = next(d.value for d in at.dataframe if "prevalence (%)" in d.value.columns)
    smi = places.pcn_profile("U42898")["qof"]["smi"]["pct"]
    assert qof.loc[qof["register"].str.startswith("Serious"), "prevalence (%)"].iloc[0] == round(smi, 1)  # as shown
    assert any("no boundary" in c.value for c in at.caption)


def test_a_saved_area_is_a_place_on_strategic_focus_trends_and_the_workshop():
    """Saved once, the area is offered wherever a place is picked: Strategic focus ranks within it (its own six
    LSOAs 2021, the schools in them, the LSOAs 2011 they came from), Trends names its local authority's series,
    and a workshop can be held for it."""
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.focus import compute_focus
    from civicdata.workshop import model
    from tests.conftest import open_page

    places.save_area("d1", "Decile one", TRAFFORD_DECILE1, "lsoa21")
    weights = {"income2025_decile": 1.0, "health2025_decile": 1.0}
    cat = load_catalogue()
    res = compute_focus(cat, "lsoa21", "area:d1", weights)
    assert sorted(res.table["code"]) == TRAFFORD_DECILE1 and res.area_name == "Decile one"
    pairs = pd.read_parquet("data/lookups/lsoa11_lsoa21.parquet")
    came_from = set(pairs.loc[pairs["lsoa21_code"].isin(TRAFFORD_DECILE1), "lsoa11_code"])
    assert set(compute_focus(cat, "lsoa11", "area:d1", {"imd2019_decile": 1.0}).table["code"]) == came_from
    schools = pd.read_parquet("data/schools/schools.parquet")
    inside = set(schools.loc[schools["lsoa21_code"].isin(TRAFFORD_DECILE1), "urn"].astype(str))
    assert inside and set(compute_focus(cat, "school", "area:d1", {"school_fsm_pct": 1.0}).table["code"]) == inside

    at = open_page("views/strategic_focus.py", unit="lsoa21", area="area:d1")
    assert at.selectbox(key="fo_area").value == "area:d1"
    assert next(m.value for m in at.markdown if m.value.startswith("### ")).startswith("### In Decile one, ")
    ranked = next(d.value for d in at.dataframe if "score" in d.value.columns)
    assert sorted(ranked["code"]) == TRAFFORD_DECILE1

    at = open_page("views/trends.py", place="area:d1")
    assert any("published for local authorities, not for a custom area" in m.value for m in at.markdown)
    opener = next(b for b in at.button if b.label.startswith("Trends for Trafford (E08000009): 6 of"))
    opener.click().run()
    assert not at.exception and at.selectbox(key="tr_place").value == TRAFFORD
    assert at.query_params["place"] == TRAFFORD

    at = open_page("views/workshop.py", area="area:d1")
    assert at.selectbox(key="ws_place").value == "area:d1"
    at.text_input(key="ws_title").set_value("Decile one convening")
    next(b for b in at.get("form_submit_button") if b.proto.label == "Create the workshop").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    ws = model.get_workshop(at.query_params["ws"])
    assert ws.place_code == "area:d1" and ws.place_name == "Decile one"


def test_a_saved_area_on_the_area_map_draws_its_neighbourhoods_and_its_profile():
    """On the Area map a saved area draws its own six LSOAs (2021), the MSOAs (2011) they lie in for an MSOA layer
    and only the schools inside it; its profile is the Places page's (100% in decile 1)."""
    from tests.conftest import open_page

    places.save_area("d1", "Decile one", TRAFFORD_DECILE1, "lsoa21")
    at = open_page(place="area:d1")
    assert at.selectbox(key="am_place").value == "area:d1"
    behind = "class (1 = the legend's first)"  # the table behind the map: the layer's value under its title
    table = next(d.value for d in at.dataframe if behind in d.value.columns)
    assert sorted(table["code"]) == TRAFFORD_DECILE1
    assert set(table["Index of Multiple Deprivation decile, IoD2025"]) == {1}  # IoD2025 decile 1 each
    heads = [m.value for m in at.markdown if m.value.startswith("### ")]  # said once, above the map, as a district's
    assert heads[0].startswith("### Decile one: 100% of its 9,359 residents live in England's most deprived 10%")
    assert sum("residents live in England's most deprived" in h for h in heads) == 1
    assert any(h.value == "Area profile: Decile one" for h in at.header)
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    drawn = next(t for t in spec["data"] if t.get("name", "").startswith("Schools"))
    urns = {str(c[0] if isinstance(c, list) else c).removeprefix("urn:") for c in drawn["customdata"]}
    schools = pd.read_parquet("data/schools/schools.parquet")
    inside = schools[schools["lsoa21_code"].isin(TRAFFORD_DECILE1)
                     & schools["phase"].isin(["Primary", "Secondary", "All-through"])]
    assert urns == set(inside["urn"].astype(str)) and len(urns) > 0
    at = open_page(place="area:d1", layer="le_male")  # life expectancy: MSOA 2011
    table = next(d.value for d in at.dataframe if behind in d.value.columns)
    lk = pd.read_parquet("data/lookups/lsoa11.parquet")
    pairs = pd.read_parquet("data/lookups/lsoa11_lsoa21.parquet")
    came_from = pairs.loc[pairs["lsoa21_code"].isin(TRAFFORD_DECILE1), "lsoa11_code"]
    assert sorted(table["code"]) == sorted(set(lk.loc[lk["lsoa11_code"].isin(came_from), "msoa11_code"]))
    # the link reopens the same view; a district is still a district
    assert at.query_params["place"] == "area:d1" and at.query_params["layer"] == "le_male"


def test_a_shape_drawn_round_a_district_holds_exactly_its_neighbourhoods():
    """Drawn along Trafford's own boundary (GM's detailed file), a shape holds Trafford's 139 LSOAs 2021 and no
    other (each LSOA's label point lies inside its own boundary); a line or a point is refused by name."""
    import shapely

    from civicdata.indicators import choropleth
    from civicdata.geo.geography import areas_within

    outline = shapely.geometry.mapping(choropleth.boundaries_for("lad", TRAFFORD).geometry.iloc[0])
    assert places.neighbourhoods_in_shape(outline) == sorted(areas_within(TRAFFORD, "lsoa21")["code"])
    for bad in ({"type": "LineString", "coordinates": [[-2.4, 53.4], [-2.3, 53.45]]},
                {"type": "Point", "coordinates": [-2.4, 53.4]}, {"type": "Polygon"}):
        with pytest.raises(places.AreaError, match="the drawn shape"):
            places.neighbourhoods_in_shape(bad)


def test_the_pcn_tab_follows_the_place_and_drops_a_pcn_of_another_district():
    """No link: the PCN tab opens on Trafford (the app's default place), not the first district of the list.
    A link's PCN opens its district; moving to another district drops it with a note."""
    from tests.conftest import open_page

    at = open_page("views/places.py")
    assert at.selectbox(key="pl_pcn_lad").value == "E08000009"
    trafford = set(places.pcns_in("E08000009")["pcn_code"])
    assert at.selectbox(key="pl_pcn").value in trafford
    at = open_page("views/places.py", pcn="U42898")  # South Trafford PCN
    assert at.selectbox(key="pl_pcn_lad").value == "E08000009"
    at.selectbox(key="pl_pcn_lad").set_value("E08000001").run()  # Bolton
    assert not at.exception
    assert any("U42898 is not a PCN with practices in Bolton" in i.value for i in at.info)
    assert at.selectbox(key="pl_pcn").value in set(places.pcns_in("E08000001")["pcn_code"])
    assert at.query_params["pcn"] != ["U42898"]


def test_places_opens_on_the_place_in_the_link():
    """?place=E08000021 (as every page's link names its place): both the picking map and the PCN tab open on
    Newcastle upon Tyne, not Trafford."""
    from tests.conftest import open_page

    at = open_page("views/places.py", place="E08000021")
    assert not at.exception
    assert at.selectbox(key="pl_lad").value == "E08000021"
    assert at.selectbox(key="pl_pcn_lad").value == "E08000021"
    assert at.selectbox(key="pl_pcn").value in set(places.pcns_in("E08000021")["pcn_code"])

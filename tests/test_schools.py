"""Every school in England: school layers from the staged DfE files, school by school, against the raw files."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from civicdata.build.school_indicators import DFE_CODES, read_ees_absence
from civicdata.build.sources import SOURCES
from civicdata.indicators import schools as S
from civicdata.indicators.catalogue import load_catalogue
from civicdata.indicators.layers import lookup_value
from tests.conftest import run_cli

#: schools in three local authorities (Newcastle upon Tyne, Trafford, Cornwall), primary and secondary
URNS = [108456, 135423, 106283, 106365, 111791, 112041]


@pytest.fixture(scope="module")
def raw(sources) -> dict:
    def csv(key, **kw):
        return pd.read_csv(sources / SOURCES[key].path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kw)

    def js(key):
        return json.loads((sources / SOURCES[key].path).read_text())

    return {"abs": csv("school_absence2019").set_index("URN"), "spc": csv("school_spc2023").set_index("urn"),
            "ks2": js("school_ks2_2023"), "ks4": js("school_ks4_2023"), "census": js("school_census2023")}


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def _value(cat, layer: str, urn: int):
    return lookup_value(cat.get(layer), str(urn))


@pytest.mark.parametrize("urn", URNS)
def test_values_equal_the_raw_files(raw, cat, urn):
    a = raw["abs"].loc[str(urn)]
    assert _value(cat, "school_persistent_absence_2019", urn).value == pytest.approx(float(a["PPERSABS10"]))
    assert _value(cat, "school_overall_absence_2019", urn).value == pytest.approx(float(a["PERCTOT"]))
    c = raw["census"][str(urn)]
    assert _value(cat, "school_sen_support_2023", urn).value == pytest.approx(c["senSupport"])
    assert _value(cat, "school_ehcp_2023", urn).value == pytest.approx(c["senEhcp"])
    assert _value(cat, "school_eal_2023", urn).value == pytest.approx(c["eal"])
    fsm = raw["spc"].loc[str(urn), "% of pupils known to be eligible for free school meals"]
    assert _value(cat, "school_fsm_2023", urn).value == pytest.approx(float(fsm))
    if str(urn) in raw["ks2"]:
        assert _value(cat, "school_ks2_rwm_2023", urn).value == pytest.approx(raw["ks2"][str(urn)]["rwmExp"])
    if str(urn) in raw["ks4"]:
        k = raw["ks4"][str(urn)]
        assert _value(cat, "school_attainment8_2023", urn).value == pytest.approx(k["att8"])
        assert _value(cat, "school_progress8_2023", urn).value == pytest.approx(k["p8"])
    else:  # a primary school has no KS4 record: missing, never zero
        v = _value(cat, "school_attainment8_2023", urn)
        assert v.value is None and v.status == "missing"


def test_every_school_of_the_raw_files_is_there_once(raw):
    t = pd.read_parquet(S.folder() / "schools" / "school_indicators.parquet")
    assert t["urn"].is_unique
    assert set(raw["abs"].index[raw["abs"]["LA"] != "NAT"].astype(int)) <= set(t["urn"].astype(int))
    assert {int(u) for u in raw["ks2"]} <= set(t["urn"].astype(int))
    schools = raw["abs"][raw["abs"]["LA"] != "NAT"]  # the three national rows are not schools
    assert t["persistent_absence_2019"].notna().sum() == schools["PPERSABS10"].str.match(r"^[\d.]+$").sum()


def test_a_suppressed_value_stays_missing_with_its_reason(raw, cat):
    supp = raw["abs"][raw["abs"]["PPERSABS10"] == "SUPP"]
    assert len(supp) == 864
    for urn in supp.index[:20]:
        v = _value(cat, "school_persistent_absence_2019", int(urn))
        assert v.value is None and v.status == "suppressed", urn
        # the school's overall absence is published and kept
        assert _value(cat, "school_overall_absence_2019", int(urn)).value == pytest.approx(float(supp.at[urn, "PERCTOT"]))
    prof = S.school_profile(int(supp.index[0]))
    pa = next(m for m in prof["measures"] if m["layer"] == "school_persistent_absence_2019")
    assert pa["value"] is None and pa["why_missing"] == "suppressed"
    # a null in the 2022/23 files (DfE's code dropped upstream) is said as such, never 0
    null_p8 = next(u for u, r in raw["ks4"].items() if r["p8"] is None)
    v = _value(cat, "school_progress8_2023", int(null_p8))
    assert v.value is None and v.status.startswith("not published")


def test_england_figures_are_dfe_s_published_national_rows_and_the_layers_agree(raw):
    """England's persistent absence 2018/19 is DfE's published figure (primary 8.2%, secondary 13.7%, special
    28.8%). The same from the layer, weighted by pupils on roll (January 2019): the school file has no enrolment
    counts (DfE divides persistent absentees by enrolments of pupils aged 5-15, counted over the year), so the
    pupil-weighted mean agrees within 0.2 points for primary and 0.35 for secondary."""
    nat = S.national_absence()["persistent_absence_2019"]
    assert nat.to_dict() == {"Special": 28.8, "State-funded primary": 8.2, "State-funded secondary": 13.7}
    m = S.BY_ID["school_persistent_absence_2019"]
    assert S.england_value(m, "State-funded primary")[0] == 8.2
    t = S.school_table()
    for group, published, tol in (("State-funded primary", 8.2, 0.2), ("State-funded secondary", 13.7, 0.35)):
        got, n = S._weighted(t[t["group_2019"] == group], "persistent_absence_2019", "pupils_2019")
        assert abs(got - published) < tol, (group, got)
        assert n > 3000
    ov = S.national_absence()["overall_absence_2019"]
    assert ov.to_dict() == {"Special": 10.1, "State-funded primary": 4.0, "State-funded secondary": 5.5}
    got, _ = S._weighted(t[t["group_2019"] == "State-funded primary"], "overall_absence_2019", "pupils_2019")
    assert abs(got - 4.0) < 0.1


def test_the_ees_layout_reader_gives_the_bradford_file_s_values(sources, raw):
    path = sources / "schools" / "absence" / "bradford_school_absence_2013-14_to_2021-22.csv.gz"
    t = read_ees_absence(path).set_index(["urn", "time_period"])
    assert len(t) == 1592 and set(t.index.get_level_values("time_period")) >= {"201819", "202122"}
    r = t.loc[(107204, "201819")]
    assert r["persistent_absence"] == pytest.approx(10.08646) and r["overall_absence"] == pytest.approx(5.26471)
    assert r["year"] == "2018/19" and r["persistent_absence__status"] == "ok"
    assert t.loc[(107204, "202122"), "persistent_absence"] == pytest.approx(25.72254)
    # the same measure as the all-England 2018/19 file: equal to its published one-decimal figures
    b19 = t.xs("201819", level="time_period")
    a = raw["abs"][raw["abs"]["LA"] == "380"]
    a = a[a["PPERSABS10"] != "SUPP"]
    both = b19.index.intersection(a.index.astype(int))
    assert len(both) > 150
    diff = (b19.loc[both, "persistent_absence"] - a.loc[both.astype(str), "PPERSABS10"].astype(float).to_numpy()).abs()
    assert diff.max() <= 0.05 + 1e-9


def test_the_ees_reader_names_a_bad_cell(tmp_path):
    from civicdata.errors import SourceDataError

    bad = tmp_path / "absence.csv"
    bad.write_text("time_period,geographic_level,school_urn,enrolments,sess_overall_percent,"
                   "enrolments_pa_10_exact_percent\n202324,School,100000,200,5.1,12.5\n202324,School,100001,180,c,oops\n")
    with pytest.raises(SourceDataError) as err:
        read_ees_absence(bad)
    text = str(err.value)
    assert "absence.csv" in text and "row 3" in text and "enrolments_pa_10_exact_percent" in text and "oops" in text
    assert DFE_CODES["c"] == "suppressed"


def test_cli_school_profile_json(raw):
    r = run_cli("school", "108456", "--json")
    assert r.returncode == 0, r.stderr
    p = json.loads(r.stdout)
    assert set(p) >= {"urn", "name", "phase", "trust", "local_authority", "lsoa21_code", "imd2025_decile", "measures"}
    assert p["name"] == "Lemington Riverside Primary School" and p["local_authority"] == "Newcastle upon Tyne"
    assert p["trust"] == "Outer West Learning Trust" and p["imd2025_decile"] == 1
    pa = next(m for m in p["measures"] if m["layer"] == "school_persistent_absence_2019")
    assert pa["value"] == 20.2 and pa["vintage"] == "2018/19" and pa["england"] == 8.2
    assert pa["compared_with"] == "State-funded primary" and pa["local_authority"] is not None
    a8 = next(m for m in p["measures"] if m["layer"] == "school_attainment8_2023")
    assert a8["value"] is None and "no record" in a8["why_missing"]
    assert {m["layer"] for m in p["measures"]} == {m.id for m in S.MEASURES}
    bad = run_cli("school", "999", "--json")
    assert bad.returncode == 1 and "no school with URN 999" in bad.stderr and not bad.stdout


def test_local_authority_figure_is_the_pupil_weighted_mean_of_its_schools_of_that_type():
    m = S.BY_ID["school_ks2_rwm_2023"]
    t = S.school_table()
    la = t[(t["la_name"] == "Trafford") & (t["group_2023"] == "State-funded primary") & t["ks2_rwm_2023"].notna()]
    expected = (la["ks2_rwm_2023"] * la["pupils_2023"]).sum() / la["pupils_2023"].sum()
    got, n = S.la_value(m, "State-funded primary", "Trafford")
    assert got == pytest.approx(expected) and n == len(la) > 50


def test_the_founding_question_follows_its_rule():
    t = S.school_table()
    newcastle = t.loc[t["la_name"] == "Newcastle upon Tyne", "urn"].tolist()
    found = S.founding_question(newcastle)
    assert len(found) > 0
    for r in found.itertuples():
        assert r.persistent_absence >= S.absence_threshold(r.school_type) and r.imd2025_decile in (1, 2)
    # the threshold is England's highest fifth for the type
    prim = t.loc[(t["group_2019"] == "State-funded primary"), "persistent_absence_2019"].dropna()
    assert (prim >= S.absence_threshold("State-funded primary")).mean() == pytest.approx(0.2, abs=0.01)
    # with a journey layer, only schools at least that far stay (a school with no journey counts as far)
    journey = pd.Series({u: (30.0 if i % 2 else 60.0) for i, u in enumerate(found["urn"])})
    far = S.founding_question(newcastle, journey, minutes=45)
    assert set(far["urn"]) == {u for i, u in enumerate(found["urn"]) if i % 2 == 0}
    assert far["far"].all()


def test_the_la_absence_trend_joins_a_re_formed_authority_to_its_predecessor():
    """A North Yorkshire school's authority: E06000065 publishes from 2023/24, the county E10000023 before; the row
    has every year, each from the series that publishes it, and says which years are the predecessor's (the Trust
    page showed "–" for 2023/24 and 2024/25)."""
    from civicdata.indicators.trends import area_series

    t = S.school_table()
    ny = int(t.loc[t["la_code_2023"] == "E10000023", "urn"].iloc[0])
    trend = S.la_absence_trend([ny]).set_index("Local authority")
    now, before = area_series("persistent_absence", "E06000065"), area_series("persistent_absence", "E10000023")
    last = now.series.frame.dropna(subset=["value"]).iloc[-1]
    assert trend.at["North Yorkshire", last["label"]] == round(last["value"], 1)
    old = before.series.frame.set_index("label")["value"]
    assert trend.at["North Yorkshire", "2018/19"] == round(old["2018/19"], 1)
    assert "2018/19 to 2022/23: North Yorkshire (E10000023)" in trend.at["North Yorkshire", "Note"]
    assert trend.loc["England"].drop("Note").notna().all()

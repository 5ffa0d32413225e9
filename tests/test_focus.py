"""Strategic focus on real data: normalisation, weights, polarity, missing values, robustness, convene."""

from __future__ import annotations

import json
import re

import numpy as np
import pandas as pd
import pytest

from civicdata.indicators.catalogue import load_catalogue
from civicdata.focus import compute_focus, compute_stability, convene, normalise
from civicdata.build.sources import SOURCES
from tests.conftest import run_cli

TRAFFORD = "E08000009"


@pytest.fixture(scope="module")
def cat():
    return load_catalogue()


def test_normalise_is_a_percentile_rank_turned_by_polarity():
    v = pd.Series([70.0, 80.0, np.nan, 75.0, 90.0])
    better = normalise(v, "higher_is_better")  # life expectancy: the lowest is the most need
    assert better.tolist()[:2] == [100.0, pytest.approx(100 / 3)] and np.isnan(better[2])
    assert better[4] == 0.0
    worse = normalise(v, "higher_is_worse")
    assert worse[4] == 100.0 and worse[0] == 0.0
    assert normalise(pd.Series([5.0, 5.0]), "higher_is_worse").tolist() == [50.0, 50.0]


def test_score_is_the_sum_of_contributions_and_ranks_are_a_permutation(cat):
    res = compute_focus(cat, "lsoa21", TRAFFORD, {"imd2025_score": 2, "le_male": 1, "mood_anxiety2019": 0.5})
    t = res.table
    contrib = t[[f"c_{k}" for k in res.indicators]].sum(axis=1, min_count=1)
    assert np.allclose(t["score"], contrib, equal_nan=True)
    ranked = t[t["rank"].notna()]
    assert ranked["complete"].all() and len(ranked) == int(t["complete"].sum()) > 100
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert ranked["score"].is_monotonic_decreasing
    full = t[t["missing"] == 0].iloc[0]
    w = res.weights
    expected = sum(full[f"n_{k}"] * w[k] for k in w) / sum(w.values())
    assert full["score"] == pytest.approx(expected)


def test_life_expectancy_lower_is_worse(cat, sources):
    res = compute_focus(cat, "msoa11", TRAFFORD, {"le_male": 1})
    raw = pd.read_excel(sources / SOURCES["le_msoa11"].path, sheet_name="Data")
    oa = pd.read_csv(sources / SOURCES["oa11_lookup"].path, encoding="utf-8-sig", dtype=str,
                     usecols=["MSOA11CD", "LAD17CD"]).drop_duplicates()
    msoas = set(oa.loc[oa["LAD17CD"] == TRAFFORD, "MSOA11CD"])
    r = raw[raw["Code"].isin(msoas) & (raw["Sex"] == "Males")].dropna(subset=["Life Expectancy at birth (in years)"])
    lowest = r.loc[r["Life Expectancy at birth (in years)"].idxmin(), "Code"]
    assert res.table.iloc[0]["code"] == lowest and res.table.iloc[0]["score"] == 100.0
    assert "life expectancy" in res.table.iloc[0]["reason"] and "below the median of the places ranked in Trafford" in res.table.iloc[0]["reason"]


def test_missing_values_are_not_zero(cat):
    res = compute_focus(cat, "msoa11", TRAFFORD, {"le_male": 1, "imd2019_rank": 1}, include_incomplete=True)
    t = res.table
    gap = t[t["v_le_male"].isna()]
    assert len(gap) >= 1  # an MSOA with no published estimate
    row = gap.iloc[0]
    assert row["missing"] == 1 and np.isnan(row["c_le_male"])
    # ranked on the rest: its score equals its normalised IMD rank alone
    assert row["score"] == pytest.approx(row["n_imd2019_rank"])
    assert "(1 indicator missing)" in row["reason"]
    assert not row["complete"] and row["missing_reasons"] == {"le_male": "not published"}
    assert "† Partial data: no value for Life expectancy at birth, male (2016-20) (not published)." in row["reason"]


def test_stability_on_a_constructed_case():
    # three places, two indicators. A leads on both: always first. B and C swap with the weights:
    # B = (100, 0), C = (0, 100) with equal weights -> tie broken by position, so the draw decides.
    norm = np.array([[100.0, 100.0], [100.0, 0.0], [0.0, 100.0]])
    stab = compute_stability(norm, np.array([1.0, 1.0]), top_n=2, draws=2000, seed=7)
    assert stab[0] == 1.0
    assert stab[1] + stab[2] == pytest.approx(1.0)
    assert 0.4 < stab[1] < 0.6  # B stays in the top 2 whenever weight 1 draws above weight 2: half the time
    # with a dominant weight no perturbation of +-25% can overturn the order
    stab = compute_stability(norm, np.array([3.0, 1.0]), top_n=2, draws=500, seed=7)
    assert stab.tolist() == [1.0, 1.0, 0.0]


def test_same_weights_same_ranking_and_shown_seed(cat):
    a = compute_focus(cat, "ward", TRAFFORD, {"imd2025_score": 1, "le_female": 1})
    b = compute_focus(cat, "ward", TRAFFORD, {"imd2025_score": 1, "le_female": 1})
    pd.testing.assert_frame_equal(a.table, b.table)
    assert a.seed == 20251022 and a.draws == 500


def test_school_takes_its_lsoa_values(cat, sources):
    res = compute_focus(cat, "school", TRAFFORD, {"imd2025_decile": 1, "school_fsm_pct": 1})
    iod = pd.read_csv(sources / SOURCES["iod2025_lsoa"].path, dtype=str).set_index("lsoa21_code")
    gias = pd.read_csv(sources / SOURCES["gias"].path, dtype=str)
    gias["urn"] = gias["urn"].astype(float).astype(int).astype(str)
    g = gias.set_index("urn")
    for r in res.table.head(5).itertuples():
        assert r.v_imd2025_decile == float(iod.loc[g.loc[r.code, "lsoa_code"], "IMD_decile"])


def test_convene_for_a_trafford_ward(sources):
    c = convene("ward", "E05015244")  # Bucklow-St Martins
    roles = dict(zip(c["role"], c["name"]))
    assert roles["Local authority"] == "Trafford" and roles["Combined authority"] == "Greater Manchester"
    assert roles["Ward"] == "Bucklow-St Martins"
    icb = pd.read_csv(sources / SOURCES["lsoa21_icb24"].path, dtype=str)
    ward = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path, dtype=str)
    lsoas = set(ward.loc[ward["ward24_code"] == "E05015244", "lsoa21_code"])
    assert roles["NHS Integrated Care Board"] == icb[icb["lsoa21_code"].isin(lsoas)]["icb24_name"].iloc[0]
    gias = pd.read_csv(sources / SOURCES["gias"].path, dtype=str)
    schools = gias[gias["lsoa_code"].isin(lsoas)]
    for tg, n in schools["establishment_type_group"].value_counts().items():
        row = c[c["role"] == f"Schools: {tg}"].iloc[0]
        assert row["name"] == f"{n} school{'s' if n > 1 else ''}"
    assert c["source"].str.len().gt(0).all()
    assert (c["role"] == "NHS trust").any()


def test_focus_cli_json_shape():
    res = run_cli("focus", "--unit", "ward", "--within", TRAFFORD, "--indicator", "imd2025_score=2",
                  "--indicator", "le_male=1", "--top", "3", "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert len(rows) == 3 and set(rows[0]) == {"code", "name", "ons_name", "rank", "score", "contributions", "missing",
                                               "complete", "missing_reasons", "stability"}
    assert rows[0]["rank"] == 1 and set(rows[0]["contributions"]) == {"imd2025_score", "le_male"}
    assert rows[0]["score"] == pytest.approx(sum(rows[0]["contributions"].values()), abs=1e-3)
    bad = run_cli("focus", "--unit", "ward", "--within", TRAFFORD, "--indicator", "imd2025_scor=1")
    assert bad.returncode == 1 and "did you mean imd2025_score" in bad.stderr


# ------------------------------------------------------------------ completeness (partial-coverage layers)

JOURNEY = "journey_nhs2014_clinics_0800_0900"
CWAC = "E06000050"  # Cheshire West and Chester: the bundled Chester feed covers part of it


@pytest.fixture()
def journey_layer():
    """School to clinic minutes for Cheshire West and Chester from the real Chester GTFS, saved as a layer."""
    res = run_cli("journey-layer", "--feed", "data/transport/chester_gtfs.zip", "--date", "20230913", "--within", CWAC,
                  "--service", "nhs2014_clinics", "--json")
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout)
    assert out["layer"] == JOURNEY and 0 < out["reached"] < out["schools"]
    return out


def _focus_json(*extra) -> list[dict]:
    res = run_cli("focus", "--unit", "school", "--within", CWAC, "--indicator", "imd2025_score=1",
                  "--indicator", f"{JOURNEY}=1", "--top", "500", "--json", *extra)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout)


def test_places_missing_an_indicator_are_listed_after_the_ranked_ones(journey_layer):
    rows = _focus_json()
    ranked = [r for r in rows if r["rank"] is not None]
    rest = [r for r in rows if r["rank"] is None]
    assert len(ranked) == journey_layer["reached"] == sum(r["complete"] for r in rows)
    assert rows[:len(ranked)] == ranked  # complete places first, in rank order
    assert [r["rank"] for r in ranked] == list(range(1, len(ranked) + 1))
    assert all(r["complete"] and r["missing_reasons"] == {} for r in ranked)
    assert rest and all(not r["complete"] and r["score"] is None and r["stability"] is None for r in rest)
    why = rest[0]["missing_reasons"][JOURNEY]
    assert why.startswith("outside the area of the GTFS feed chester_gtfs.zip")  # the layer's own coverage note
    # stability draws follow the rule: only ranked places can be in the top N (each draw fills it exactly)
    res = compute_focus(load_catalogue(), "school", CWAC, {"imd2025_score": 1, JOURNEY: 1}, top_n=10)
    assert res.table["stability"].sum() == pytest.approx(10) and res.table["stability"].iloc[10:].isna().sum() == \
        len(rest)


def test_include_incomplete_ranks_on_the_rest_with_a_marker(journey_layer, cat):
    rows = _focus_json("--include-incomplete")
    assert all(r["rank"] is not None for r in rows)
    partial = [r for r in rows if not r["complete"]]
    assert partial and all(set(r["missing_reasons"]) == {JOURNEY} for r in partial)
    # ranked on IMD alone, a partial school's score is its IMD percentile
    assert all(r["score"] == pytest.approx(r["contributions"]["imd2025_score"]) for r in partial)
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.focus import build_brief_html

    res = compute_focus(load_catalogue(), "school", CWAC, {"imd2025_score": 1, JOURNEY: 1}, include_incomplete=True)
    first_partial = res.table[~res.table["complete"]].iloc[0]
    assert "† Partial data: no value for Minutes by public transport" in first_partial["reason"]
    titles = {k: load_catalogue().get(k).title for k in res.indicators}
    from civicdata.focus import export_table

    complete_code = res.table.loc[res.table["complete"], "code"].iloc[0]
    csv = export_table(res, [first_partial["code"], complete_code], titles).to_csv(index=False)
    lines = csv.splitlines()
    header = lines[0].split(",")
    assert "partial_data" in header and "missing_reasons" in header and len(lines) == 3
    assert any("True" in ln and "Minutes by public transport to Clinics (nearest): outside the area" in ln
               for ln in lines[1:])
    html = build_brief_html(res, [first_partial["code"]], {}, titles)
    assert "† partial data" in html and f"{len(rows) - len(partial)} of {len(rows)} schools have a value" in html
    assert "Completeness: A place is ranked only when" in html


def test_top_limits_the_output(journey_layer):
    res = run_cli("focus", "--unit", "school", "--within", CWAC, "--indicator", "imd2025_score=1",
                  "--indicator", f"{JOURNEY}=1", "--top", "4", "--json")
    rows = json.loads(res.stdout)
    assert [r["rank"] for r in rows] == [1, 2, 3, 4]
    text = run_cli("focus", "--unit", "school", "--within", CWAC, "--indicator", "imd2025_score=1",
                   "--indicator", f"{JOURNEY}=1", "--top", "4").stdout
    assert "coverage: Minutes by public transport to Clinics (nearest): " in text
    assert re.search(r"coverage: .*: (\d+) of (\d+) schools have a value — outside the area of the GTFS feed", text)
    assert "… 174 more places (--top N shows more)" in text
    from civicdata.focus import COMPLETENESS_RULE

    assert COMPLETENESS_RULE in " ".join(run_cli("focus", "--help").stdout.split())

"""Trends and peers on the real staged files: values and CIs equal the raw ELS CSVs, unitary authorities
counted once, re-formed authorities break their series, neighbours in ONS's order, the rules hold on every
local authority, IoD over three editions against the raw summaries, and the CLI's JSON shapes."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
import pytest

from civicdata.indicators import iod_editions, peers, trends
from civicdata.build.trends import TREND_INDICATORS
from civicdata.errors import UnknownAreaError
from tests.conftest import run_cli

FOLDER = {t[0]: t[1] for t in TREND_INDICATORS}
ELS_LABEL = {t[0]: t[2] for t in TREND_INDICATORS}


def _raw(sources, indicator_id: str) -> pd.DataFrame:
    folder = FOLDER[indicator_id]
    path = next((sources / "trends" / folder).glob("*.csv.gz"))
    f = pd.read_csv(path, encoding="utf-8-sig", dtype=str, keep_default_na=False)
    return f[f["indicator"] == ELS_LABEL[indicator_id]]


def _num(text: str) -> float | None:
    return float(text) if text != "" else None


@pytest.mark.parametrize("indicator_id,code,period", [
    ("hle_male", "E08000009", "2022-01-01/P3Y"),            # Trafford, with CI
    ("hle_female", "E06000009", "2011-01-01/P3Y"),          # Blackpool, first period
    ("cvd_preventable_mortality", "E08000003", "2001-01-01/P3Y"),  # Manchester, 2001-03
    ("persistent_absence", "E10000017", "2006-08-01/P1Y"),  # Lancashire county, 2006/07
    ("claimant_count", "E07000117", "2025-01-01/P1Y"),      # Burnley, a district
    ("gdhi_per_head", "E09000030", "1997-01-01/P1Y"),       # Tower Hamlets, 1997
    ("cancer_early_stage", "E06000005", "2022-01-01/P1Y"),  # Darlington 2022: blank, status u
    ("adult_obesity", "E06000065", "2024-11-16/P1Y"),       # North Yorkshire, re-formed, latest
])
def test_values_and_cis_equal_the_raw_csv(sources, indicator_id, code, period):
    raw = _raw(sources, indicator_id)
    rows = raw[(raw["areacd"] == code) & (raw["period"] == period)]
    if rows.empty:
        pytest.fail(f"test area {code} {period} not in the raw file")
    r = rows.iloc[0]
    ours = trends.indicator_rows(indicator_id)
    ours = ours[(ours["area_code"] == code) & (ours["period"] == period)]
    assert len(ours) == 1  # never two rows for one area and period
    o = ours.iloc[0]
    for ours_col, raw_col in (("value", "observation"), ("lci", "lci_95"), ("uci", "uci_95")):
        want = _num(r[raw_col])
        got = o[ours_col]
        assert (want is None and pd.isna(got)) or math.isclose(got, want, rel_tol=0, abs_tol=1e-9), (ours_col, got, want)
    assert o["status"] == r["status"].strip()
    # and through the CLI's JSON
    js = trends.series_json(indicator_id, code)
    point = next(p for p in js["series"] + [q for b in js["before"] for q in b["series"]]
                 if p["start"] == o["start"])
    assert point["value"] == (None if pd.isna(o["value"]) else o["value"])


def test_no_upper_and_lower_tier_double_count(sources):
    """ELS publishes counties and their districts side by side (Lancashire and Burnley both have a claimant
    count): comparisons use one tier, never both, and each area appears once per period."""
    raw = _raw(sources, "claimant_count")
    period = "2025-01-01/P1Y"
    assert {"E10000017", "E07000117"} <= set(raw[raw["period"] == period]["areacd"])
    ours = trends.load_series()
    assert not ours.duplicated(["indicator_id", "area_code", "period"]).any()
    lower = trends.la_values("claimant_count", period)  # published for districts: the lower tier
    assert lower.index.is_unique and not any(c.startswith("E10") for c in lower.index)
    assert any(c.startswith("E07") for c in lower.index) and 290 <= len(lower) <= 296
    upper = trends.la_values("hle_male", "2022-01-01/P3Y")  # counties and unitaries only
    assert upper.index.is_unique and not any(c.startswith("E07") for c in upper.index)
    assert any(c.startswith("E10") for c in upper.index) and 140 <= len(upper) <= 153
    # no abolished code is compared: North Yorkshire county's last figures are not in today's spread
    assert "E10000023" not in set(trends.la_values("persistent_absence", "2022-08-01/P1Y").index)


@pytest.mark.parametrize("code,predecessor,first_own", [
    ("E06000065", "E10000023", "2023/24"),  # North Yorkshire from North Yorkshire county
    ("E06000063", "E10000006", "2023/24"),  # Cumberland from Cumbria county
    ("E06000066", "E10000027", "2023/24"),  # Somerset
    ("E06000060", "E10000002", "2020/21"),  # Buckinghamshire
    ("E06000061", "E10000021", "2021/22"),  # North Northamptonshire from Northamptonshire
])
def test_re_formed_authority_shows_a_break(sources, code, predecessor, first_own):
    s = trends.area_series("persistent_absence", code)
    assert s.series.code == code and s.series.frame["label"].iloc[0] == first_own
    assert [b.code for b in s.before] == [predecessor]
    before = s.before[0].frame
    assert before["start"].max() < s.series.frame["start"].min()
    # the predecessor's values are its own raw values, not the new authority's
    raw = _raw(sources, "persistent_absence")
    raw = raw[raw["areacd"] == predecessor].sort_values("period")
    assert before["value"].tolist() == pytest.approx([float(v) for v in raw["observation"]][:len(before)])
    assert "Series break" in s.break_note and predecessor in s.break_note
    # drawn as separate traces: no trace holds points of both areas
    from civicdata.figures.charts import build_trend_chart

    fig = build_trend_chart(s, None)
    own = [t for t in fig.data if code in (t.name or "") and t.mode == "lines+markers"]
    old = [t for t in fig.data if predecessor in (t.name or "")]
    assert len(own) == 1 and len(old) == 1
    assert min(own[0].x) > max(old[0].x)
    # and the trend rule counts only the new authority's periods
    js = trends.series_json("persistent_absence", code)
    assert js["trend"]["periods"] == [p["label"] for p in js["series"]][-4:]


def test_recoded_area_follows_its_new_code(sources):
    """Barnsley's LAD 2024 code E08000016 became E08000038 in 2025: HLE is only under the new code."""
    raw = _raw(sources, "hle_male")
    assert raw[raw["areacd"] == "E08000016"].empty and not raw[raw["areacd"] == "E08000038"].empty
    s = trends.area_series("hle_male", "E08000016")
    assert s.series.code == "E08000038" and "re-coded" in s.published_for
    assert peers.ons_code("E08000016") == "E08000038"
    assert peers.app_code("E08000038") == "E08000016"
    # a county re-formed as a unitary of the same name is not a re-coding
    assert "E10000023" not in peers.recodes()


def test_district_takes_its_county_figure_and_says_so():
    s = trends.area_series("hle_female", "E07000117")  # Burnley, in Lancashire
    assert s.series.code == "E10000017"
    assert "Lancashire" in s.published_for and "not published for districts" in s.published_for
    assert s.region.code == "E12000002"  # North West


@pytest.mark.parametrize("kind", ["global", "economic", "demographic"])
@pytest.mark.parametrize("code", ["E08000009", "E06000009", "E10000017"])
def test_neighbours_in_ons_order(sources, kind, code):
    raw = pd.read_csv(sources / f"similar_areas/ons_la_clusters_2026/{kind}-neighbours.csv", dtype=str,
                      encoding="utf-8-sig").set_index("AREACD")
    row = raw.loc[code]
    want = [(c, i) for i, c in enumerate(row.tolist(), start=1) if isinstance(c, str) and c.startswith("E")]
    got = peers.peers(code, kind)
    assert [(n["code"], n["rank"]) for n in got["neighbours"]] == want
    clusters = pd.read_csv(sources / "similar_areas/ons_la_clusters_2026/cluster-allocation.csv", dtype=str,
                           encoding="utf-8-sig").set_index("AREACD")
    if code in clusters.index:
        assert got["cluster"] == clusters.at[code, kind.capitalize()]
        desc = json.loads((sources / "similar_areas/ons_la_clusters_2026/cluster-descriptions.json")
                          .read_text(encoding="utf-8-sig"))
        assert got["description"] == desc[kind][got["cluster"].lower()]
    else:
        assert got["cluster"] is None  # counties have no cluster letter


def test_trend_rule_holds_on_every_authority():
    """Every "worse in each of the last three periods" has three worse steps in the data, and every "no clear
    change" has overlapping CIs (or a change under 5%) between the ends of the window."""
    checked = 0
    for ind in trends.load_indicators().values():
        rows = trends.indicator_rows(ind.id)
        for code, seg in rows[rows["area_type"] != "country"].groupby("area_code"):
            seg = seg.sort_values("start")
            t = trends.compute_trend(seg, ind.polarity)
            v = seg.dropna(subset=["value"])["value"].to_numpy()[-4:]
            sign = 1 if ind.polarity == "higher_is_worse" else -1
            if t.direction == "too few periods":
                assert len(v) < 4
                continue
            steps = np.diff(v) * sign
            if t.words.endswith("each of the last three periods"):
                assert (steps > 0).all() if t.direction == "worse" else (steps < 0).all()
            elif t.direction == "no clear change":
                w = seg.dropna(subset=["value"]).tail(4)
                a, b = w.iloc[0], w.iloc[-1]
                if pd.notna(a["lci"]) and pd.notna(b["lci"]):
                    assert not (b["lci"] > a["uci"] or b["uci"] < a["lci"])
                else:
                    assert abs(v[-1] - v[0]) <= 0.05 * abs(v[0])
            assert t.change == pytest.approx((v[-1] - v[0]) * sign)
            checked += 1
    assert checked > 4000


def test_significance_rule_on_every_authority():
    """Latest HLE (with CIs): significantly worse than England exactly when the whole CI is below England."""
    eng = trends.area_series("hle_male", "E92000001").series.frame.set_index("start")["value"]
    rows = trends.indicator_rows("hle_male")
    latest = rows[rows["start"] == rows["start"].max()].dropna(subset=["value"])
    counts = {}
    for r in latest.itertuples():
        words, code = trends.compare_with_england(r.value, r.lci, r.uci, eng[r.start], "higher_is_better")
        expect = "worse" if r.uci < eng[r.start] else "better" if r.lci > eng[r.start] else "similar"
        assert code == expect, (r.area_code, words)
        counts[code] = counts.get(code, 0) + 1
    assert counts["worse"] > 10 and counts["better"] > 10 and counts["similar"] > 10
    # no CI: only higher/lower, never "significantly"
    assert trends.compare_with_england(20.0, None, None, 18.0, "higher_is_worse")[1] == "higher"


def test_spine_positions_are_polarity_aware():
    t = trends.summary("E06000009", "global")  # Blackpool
    assert (t["position"].dropna().between(0, 100)).all()
    hle = t.set_index("indicator_id").loc["hle_male"]
    assert hle["position"] < 2  # lowest healthy life expectancy in England: worst = left
    rows = trends.indicator_rows("hle_male")
    latest = rows[(rows["period"] == hle["period"])]
    assert hle["value"] == latest[latest["area_code"] == "E06000009"]["value"].iloc[0]
    # the neighbours' range is the min and max of the neighbours' values for that period
    band, used = trends.neighbour_series("hle_male", "E06000009", "global")
    vals = latest[latest["area_code"].isin(set(used["code"]))]["value"]
    row = band[band["label"] == hle["label"]].iloc[0]
    assert (row["low"], row["high"], row["n"]) == (vals.min(), vals.max(), len(vals))


def test_worsening_layer_equals_the_raw_change(sources, data_dir):
    """trend_claimant_count_worsening for Trafford = latest minus three periods earlier, + = worse."""
    raw = _raw(sources, "claimant_count")
    raw = raw[raw["areacd"] == "E08000009"].sort_values("period")
    v = [float(x) for x in raw["observation"] if x != ""]
    layer = pd.read_parquet(data_dir / "indicators" / "trends_lad24.parquet").set_index("lad24_code")
    assert layer.at["E08000009", "claimant_count_worsening"] == pytest.approx(v[-1] - v[-4])
    assert layer.at["E08000009", "claimant_count_latest"] == pytest.approx(v[-1])
    # HLE (higher is better): a fall is a positive (worse) number
    hle = trends.area_series("hle_male", "E08000009").series.frame["value"].to_numpy()
    assert layer.at["E08000009", "hle_male_worsening"] == pytest.approx(-(hle[-1] - hle[-4]))


def test_strategic_focus_ranks_local_authorities_in_a_region():
    from civicdata.indicators.catalogue import load_catalogue
    from civicdata.focus import compute_focus

    res = compute_focus(load_catalogue(), "lad", "E12000002",
                        {"trend_hle_male_latest": 1.0, "trend_persistent_absence_worsening": 1.0})
    assert len(res.table) == 35 and res.area_name == "North West"
    ranked = res.ranked
    assert ranked["rank"].tolist() == list(range(1, len(ranked) + 1))
    assert np.allclose(ranked[[c for c in ranked if c.startswith("c_")]].sum(axis=1), ranked["score"])
    # re-formed Cumberland and Westmorland and Furness have too few periods of their own: not ranked, said why
    unranked = res.table[res.table["rank"].isna()]
    assert set(unranked["code"]) == {"E06000063", "E06000064"}
    assert all("trend_persistent_absence_worsening" in r for r in unranked["missing_reasons"])
    with pytest.raises(ValueError, match="England"):
        compute_focus(load_catalogue(), "lad", "E08000009", {"trend_hle_male_latest": 1.0})


def test_iod_editions_against_the_raw_summaries(sources):
    raw15 = pd.read_csv(sources / "deprivation/iod_lad_summaries_2015_2019_2025/IoD2015.csv", dtype=str)
    raw19 = pd.read_csv(sources / "deprivation/iod_lad_summaries_2015_2019_2025/IoD2019.csv", dtype=str)
    t = iod_editions.lad_editions("E08000009").set_index("edition")
    for raw, ed in ((raw15, 2015), (raw19, 2019)):
        r = raw[(raw["lad19cd"] == "E08000009") & (raw["index_domain"] == "Index of Multiple Deprivation")].iloc[0]
        assert t.at[ed, "rank_average_score"] == int(r["rank_average_score"])
        assert t.at[ed, "pct_lsoas_decile1"] == pytest.approx(float(r["proportion_bottom_decile"]) * 100)
    assert t.loc[[2015, 2019], "districts"].tolist() == [317, 317] and t.at[2025, "districts"] == 296
    blackpool = iod_editions.lad_editions("E06000009")
    assert blackpool["rank_average_score"].tolist() == [1, 1, 1]
    # Cumberland was formed in 2023: 2015 and 2019 are its three predecessor districts, each named
    cumb = iod_editions.lad_editions("E06000063")
    assert set(cumb[cumb["edition"] == 2019]["lad_name"]) == {"Allerdale", "Carlisle", "Copeland"}
    assert cumb[cumb["edition"] == 2025]["lad_code"].tolist() == ["E06000063"]


def test_lsoa_deciles_between_editions_against_the_raw_files(sources, data_dir):
    ch = iod_editions.decile_changes("E08000009")
    raw15 = pd.read_csv(sources / "deprivation/iod2015_lsoa11/imd2015_lsoa11_england.csv.gz", dtype=str)
    trafford = raw15[raw15["lad13_code"] == "E08000009"]
    assert ch["lsoas_2015_2019"] == len(trafford) == int(ch["2015_2019"].to_numpy().sum())
    # rows are IoD2015 deciles: their totals equal the raw file's counts
    counts = trafford["IMD_decile"].astype(int).value_counts()
    assert ch["2015_2019"].sum(axis=1).to_dict() == {int(k): int(v) for k, v in counts.items()}
    # 2019 -> 2025 only for unchanged LSOAs; the changed ones are counted as left out
    look = pd.read_parquet(data_dir / "lookups" / "lsoa11_lsoa21.parquet")
    mine = look[look["lsoa11_code"].isin(trafford["lsoa11_code"])]
    assert ch["lsoas_2019_2025"] == (mine["change_code"] == "U").sum()
    assert ch["left_out_2019_2025"] == mine[mine["change_code"] != "U"]["lsoa11_code"].nunique()
    assert "IoD2019 to IoD2025" in " ".join(iod_editions.decile1_words(ch, "Trafford"))
    assert "relative" in iod_editions.IOD_WARNING


def test_unknown_code_and_indicator_are_clear_errors():
    with pytest.raises(UnknownAreaError, match="not an English local authority"):
        trends.area_series("hle_male", "E0800009")
    with pytest.raises(KeyError, match="Did you mean hle_male"):
        trends.area_series("hle_mal", "E08000009")
    with pytest.raises(UnknownAreaError, match="similar-areas"):
        peers.peers("E99999999")


def test_cli_shapes():
    out = run_cli("trend", "--list", "--json")
    assert out.returncode == 0, out.stderr
    lst = json.loads(out.stdout)
    assert len(lst) == 17
    assert set(lst[0]) >= {"id", "title", "unit", "polarity", "source", "publisher", "source_url", "licence",
                           "period_type", "periods", "tier", "has_ci"}
    out = run_cli("trend", "persistent_absence", "--area", "E06000065", "--json")
    assert out.returncode == 0, out.stderr
    js = json.loads(out.stdout)
    assert js["area"] == {"code": "E06000065", "name": "North Yorkshire"}
    assert set(js["series"][0]) == {"start", "end", "label", "value", "lci", "uci", "status"}
    assert js["before"][0]["code"] == "E10000023" and js["break"]
    assert js["england"][0]["start"] <= js["series"][0]["start"]
    assert set(js["trend"]) == {"words", "direction", "change_positive_is_worse", "periods", "rule"}
    out = run_cli("peers", "E08000009", "--kind", "economic", "--json")
    js = json.loads(out.stdout)
    assert set(js) >= {"code", "kind", "cluster", "description", "neighbours"} and js["kind"] == "economic"
    assert [n["rank"] for n in js["neighbours"]] == sorted(n["rank"] for n in js["neighbours"])
    bad = run_cli("trend", "hle_male", "--area", "E0800009")
    assert bad.returncode == 1 and "error:" in bad.stderr and "Traceback" not in bad.stderr
    bad = run_cli("peers", "nowhere")
    assert bad.returncode == 1 and "similar-areas" in bad.stderr
    out = run_cli("trend", "hle_female", "--area", "Trafford")
    assert out.returncode == 0 and "2022-24" in out.stdout and "Trend:" in out.stdout


def test_descriptors_carry_the_publishers_metadata(sources):
    for ind in trends.load_indicators().values():
        meta = json.loads(next((sources / "trends" / ind.els_folder).glob("*.json")).read_text(encoding="utf-8-sig"))
        meta = meta["ess-beta-metadata"]
        shared = meta.get("shared", meta)
        assert ind.source_url == meta.get(ind.els_indicator, {}).get("sourceURL", shared.get("sourceURL"))
        assert ind.publisher == meta.get(ind.els_indicator, {}).get("sourceOrg", shared.get("sourceOrg"))
        assert ind.polarity in ("higher_is_worse", "higher_is_better")
        assert ind.licence == "Open Government Licence v3.0"


def test_readme_documents_every_trend_descriptor_key():
    from pathlib import Path

    repo = Path(__file__).resolve().parents[1]
    # README.md and every docs/*.md page: the README is the front door, its longer sections live in docs/
    readme = "\n".join(p.read_text() for p in [repo / "README.md", *sorted((repo / "docs").glob("*.md"))])
    for f in trends.TREND_FIELDS:
        assert f"| `{f.name}` |" in readme, f.name
    for rule in (trends.TREND_RULE, trends.SIGNIFICANCE_RULE, trends.SPINE_RULE):
        assert rule in readme


def test_a_county_is_placed_among_counties_and_unitaries():
    """Claimant count is published for districts and counties alike: Lancashire is placed among the upper tier
    (counties and unitaries), Burnley among the lower tier (districts and unitaries), never a mix."""
    county = trends.summary("E10000017").set_index("indicator_id").loc["claimant_count"]
    district = trends.summary("E07000117").set_index("indicator_id").loc["claimant_count"]
    upper = trends.la_values("claimant_count", county["period"], tier="upper")
    lower = trends.la_values("claimant_count", district["period"])
    assert county["las"] == len(upper) and district["las"] == len(lower) and len(upper) < len(lower)
    assert "E10000017" in upper.index and "E07000117" in lower.index

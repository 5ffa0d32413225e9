"""Readable place names (House of Commons Library MSOA names), checked against the raw names files."""

from __future__ import annotations

import json
import re

import pandas as pd
import pytest

from civicdata.geo.geography import areas_table, load_lookup, search_areas
from civicdata.geo.names import names_for, readable_name, with_readable_names
from civicdata.build.sources import SOURCES
from tests.conftest import open_page, run_cli

PARTINGTON = "E02001275"  # Trafford 017, unchanged between 2011 and 2021


@pytest.fixture(scope="module")
def raw_names(sources) -> dict[str, pd.DataFrame]:
    return {yy: pd.read_csv(sources / SOURCES[f"msoa{yy}_names"].path, encoding="utf-8-sig", dtype=str)
            .set_index(f"msoa{yy}cd") for yy in ("11", "21")}


def test_msoa_names_equal_the_raw_files(raw_names):
    for yy in ("11", "21"):
        raw = raw_names[yy]
        raw = raw[raw.index.str.startswith("E02")]
        t = names_for(f"msoa{yy}")
        assert len(t) == len(raw) == {"11": 6791, "21": 6856}[yy]
        assert (t["name"] == raw.loc[t.index, f"msoa{yy}hclnm"]).all()
        assert (t["ons_name"] == raw.loc[t.index, f"msoa{yy}nm"]).all()
    assert readable_name(PARTINGTON, "msoa11") == readable_name(PARTINGTON, "msoa21") == "Partington"
    assert readable_name("E02001259", "msoa21") == "Old Trafford"


def test_an_lsoa_is_named_after_its_own_vintages_msoa(raw_names):
    for yy in ("11", "21"):
        lk = load_lookup(f"lsoa{yy}")
        inside = lk[lk[f"msoa{yy}_code"] == PARTINGTON]
        assert len(inside) == 5
        for r in inside.itertuples():
            ons = getattr(r, f"lsoa{yy}_name")
            assert ons.startswith("Trafford 017")
            assert readable_name(getattr(r, f"lsoa{yy}_code"), f"lsoa{yy}") == f"Partington ({ons})"
    # an LSOA 2021 whose MSOA 2021 is new in 2021 takes the 2021 file's name, never a 2011 one
    raw21 = raw_names["21"]
    new = raw21[(raw21["type"] != "Present in 2011") & raw21.index.str.startswith("E02")].index[0]
    l21 = load_lookup("lsoa21")
    code = l21.loc[l21["msoa21_code"] == new, "lsoa21_code"].iloc[0]
    assert readable_name(code, "lsoa21").startswith(raw21.loc[new, "msoa21hclnm"] + " (")


def test_ward_and_district_keep_their_ons_names(sources):
    raw = pd.read_csv(sources / SOURCES["lsoa21_ward24"].path, dtype=str)
    row = raw[raw["ltla24_code"] == "E08000009"].iloc[0]
    assert readable_name(row["ward24_code"], "ward") == row["ward24_name"]
    assert readable_name("E08000009", "lad") == "Trafford"
    t = with_readable_names(pd.DataFrame({"code": ["E99999999", PARTINGTON], "name": ["Mine", "x"]}), "msoa21")
    assert t.to_dict("records") == [{"code": "E99999999", "name": "Mine", "ons_name": "Mine"},
                                    {"code": PARTINGTON, "name": "Partington", "ons_name": "Trafford 017"}]


def test_search_by_readable_name():
    hits = search_areas("Partington", levels=("msoa21", "lsoa21"), limit=20)
    assert hits.iloc[0][["code", "name", "level"]].tolist() == [PARTINGTON, "Partington", "msoa21"]
    assert (hits["level"] == "lsoa21").sum() == 5
    old = search_areas("Old Trafford", limit=30)
    assert {"ward", "msoa11", "msoa21"} <= set(old["level"])
    assert search_areas("Trafford 017", levels=("msoa21",))["code"].tolist() == [PARTINGTON]  # ONS names still work
    assert areas_table()["ons_name"].notna().all()


def test_cli_json_carries_name_and_ons_name():
    rows = json.loads(run_cli("focus", "--unit", "lsoa21", "--within", "Trafford", "--indicator", "imd2025_score=1",
                              "--json").stdout)
    first = rows[0]
    assert first["name"] == readable_name(first["code"], "lsoa21")
    assert first["name"].endswith(f"({first['ons_name']})") and re.match(r"Trafford \d{3}[A-Z]$", first["ons_name"])
    schools = json.loads(run_cli("focus", "--unit", "school", "--within", "Trafford", "--indicator",
                                 "imd2025_score=1", "--top", "500", "--json").stdout)
    assert all(r["neighbourhood"] is None or r["neighbourhood"].endswith(")") for r in schools)
    assert sum(r["neighbourhood"] is not None for r in schools) > 80
    out = json.loads(run_cli("metro-line", "--metrolink", "METLPINK:O:2023-07-15", "--json").stdout)
    named = [s for s in out["stops"] if s["msoa"]]
    assert named and all(s["msoa_name"] == readable_name(s["msoa"], "msoa11") for s in named)
    assert all(s["msoa_ons_name"] == names_for("msoa11").at[s["msoa"], "ons_name"] for s in named)
    text = run_cli("values", "le_male", "--area", PARTINGTON).stdout
    assert text.startswith(f"le_male for Partington ({PARTINGTON}):")


# an ONS LSOA name ("Trafford 017E"): a district name, three digits, one letter
def _ons_lsoa_pattern() -> re.Pattern:
    lads = sorted(set(load_lookup("lad24")["lad24_name"]), key=len, reverse=True)
    return re.compile(r"(?:" + "|".join(re.escape(n) for n in lads) + r") \d{3}[A-Z]\b")


def _strings(at) -> list[str]:
    """Every string a page shows: markdown, captions, headings, tables (not the ONS-name columns), charts."""
    out = [e.value for e in (*at.markdown, *at.caption, *at.title, *at.header, *at.subheader)]
    for df in at.dataframe:
        frame = df.value
        for col in frame.columns:
            if "ons_name" in str(col) or frame[col].dtype.kind not in "OSU" and str(frame[col].dtype) != "str":
                continue
            out += [v for v in frame[col].tolist() if isinstance(v, str)]
    for sb in at.selectbox:
        out += [str(o) for o in sb.options]
    for chart in at.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        for trace in spec["data"]:
            for key in ("text", "y", "hovertext"):
                v = trace.get(key)
                if isinstance(v, list):
                    out += [x for x in v if isinstance(x, str)]
    return out


@pytest.mark.parametrize("page,params", [
    (None, {}),
    (None, {"layer": "le_male"}),
    ("views/strategic_focus.py", {"unit": "lsoa21", "area": "E08000009"}),
    ("views/strategic_focus.py", {"unit": "school", "area": "E08000009"}),
    ("views/metro_line.py", {}),
])
def test_no_page_shows_a_bare_ons_name(page, params):
    at = open_page(page, **params)
    pattern = _ons_lsoa_pattern()
    strings = _strings(at)
    found = 0
    for s in strings:
        for m in pattern.finditer(s):
            found += 1
            before = s[:m.start()]
            # every ONS name sits in brackets right after a readable name: "Partington (Trafford 017E)"
            assert before.endswith("(") and re.search(r"\w[^()]* \($", before), f"bare ONS name in {s!r}"
    if page != "views/metro_line.py":
        assert found > 0  # the check saw LSOA names at all

"""Who to convene, on the bundled data against the staged ODS files: NHS trusts open now, successors followed,
one row per ODS code in readable case, independent-sector providers never called NHS trusts, distances in words."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import run_cli

from civicdata.convene import (ROLE_INDEPENDENT, ROLE_LEFT_OUT, ROLE_TRUST, convene, distance_words, nhs_trusts,
                               unit_of_code)
from civicdata.geo.names import readable_org_name
from civicdata.build.sources import SOURCES

#: Walker North and Byker South & St Peters (Newcastle upon Tyne, LSOA 2021)
WALKER_NORTH, BYKER_SOUTH = "E01008388", "E01008305"
HARTLEPOOL, MIDDLESBROUGH, SEFTON = "E06000001", "E06000002", "E08000014"


def _etr(sources) -> pd.DataFrame:
    return pd.read_csv(sources / SOURCES["ods_etr2026"].path, header=None, dtype=str, keep_default_na=False)


def test_the_bundled_trusts_are_ods_etr_with_successors(sources):
    raw = _etr(sources)
    t = nhs_trusts()
    assert len(t) == len(raw) == 274 and int(t["is_open"].sum()) == int((raw[11] == "").sum()) == 202
    assert set(t.index[t["is_open"]]) == set(raw.loc[raw[11] == "", 0])
    assert t.at["RE9", "successor_code"] == "R0B" and not t.at["RE9", "is_open"]  # merged in April 2019
    assert t.at["RNK", "successor_code"] == ""  # closed 2026: after the successor table ends, none is guessed
    assert t.at["RX4", "name"] == "Cumbria, Northumberland, Tyne and Wear NHS Foundation Trust"
    assert t["is_open"].sum() - t.loc[t["is_open"], "lat"].notna().sum() == 1  # RAT's new HQ postcode is missing


@pytest.mark.parametrize("code", [WALKER_NORTH, BYKER_SOUTH])
def test_newcastle_neighbourhoods_convene_open_trusts_once_each(code):
    c = convene("lsoa21", code)
    trusts = c[c["role"] == ROLE_TRUST]
    assert "RE9" not in set(c["code"])  # merged into R0B in 2019
    assert (c["code"] == "RX4").sum() == 1 and trusts["code"].is_unique
    assert "R0B" in set(trusts["code"])  # South Tyneside's old sites count for its successor, and say so
    assert "(RE9) became part of it in 2019" in trusts.loc[trusts["code"] == "R0B", "detail"].iloc[0]
    assert set(trusts["code"]) <= set(nhs_trusts().index[nhs_trusts()["is_open"]])
    assert not trusts["code"].str.startswith("N").any()
    assert (c.loc[c["code"] == "NT2", "role"] == ROLE_INDEPENDENT).all() and (c["code"] == "NT2").any()
    assert not c["detail"].str.contains(r"0\.0 km").any()
    assert all(n == n.strip() and n != n.upper() for n in trusts["name"])


def test_hartlepool_and_middlesbrough_say_headquarters_in_the_place_and_list_each_trust_once():
    for lad, hq in ((HARTLEPOOL, "RVW"), (MIDDLESBROUGH, "RTR")):
        c = convene("lad", lad)
        trusts = c[c["role"] == ROLE_TRUST]
        assert trusts["code"].is_unique and (trusts["code"] == hq).sum() == 1
        assert trusts.loc[trusts["code"] == hq, "detail"].iloc[0].startswith("headquarters in the place")
        assert not c["detail"].str.contains(r"0\.0 km").any()
        assert not trusts["name"].str.contains("Nuffield|Ramsay|Barchester").any()
    c = convene("lad", MIDDLESBROUGH)
    assert {"Nuffield Health", "Barchester Healthcare Ltd"} <= set(c.loc[c["role"] == ROLE_INDEPENDENT, "name"])


def test_a_trust_closed_after_the_successor_table_is_never_a_partner_and_said_once():
    c = convene("lad", SEFTON)
    assert "RVY" not in set(c.loc[c["role"] == ROLE_TRUST, "code"])  # Southport and Ormskirk, closed June 2023
    left = c[c["role"] == ROLE_LEFT_OUT]
    assert len(left) == 1 and left["code"].iloc[0] == "RVY"
    assert "closed on 2023-06-30" in left["detail"].iloc[0] and "names no successor" in left["detail"].iloc[0]


def test_the_convene_cli_gives_the_same_rows_as_the_pages():
    res = run_cli("convene", WALKER_NORTH, "--json")
    assert res.returncode == 0, res.stderr
    rows = json.loads(res.stdout)
    assert rows and all(set(r) == {"role", "name", "code", "detail", "source"} for r in rows)
    assert rows == [{k: str(v) for k, v in r.items()} for r in convene("lsoa21", WALKER_NORTH).to_dict("records")]
    bad = run_cli("convene", "X123")
    assert bad.returncode == 1 and "not a neighbourhood" in bad.stderr and "Traceback" not in bad.stderr


def test_words_for_distances_codes_and_names():
    assert distance_words(0, "headquarters") == "headquarters in the place"
    assert distance_words(40) == "under 100 m away" and distance_words(640) == "600 m away"
    assert distance_words(2449) == "2.4 km away"
    assert [unit_of_code(c) for c in (WALKER_NORTH, "E02001754", "E05011439", "E08000021", "106365")] == [
        "lsoa21", "msoa11", "ward", "lad", "school"]
    assert readable_org_name("GUY'S AND ST THOMAS' NHS FOUNDATION TRUST") == "Guy's and St Thomas' NHS Foundation Trust"
    assert readable_org_name("THE NEWCASTLE UPON TYNE HOSPITALS NHS FOUNDATION TRUST") == (
        "The Newcastle upon Tyne Hospitals NHS Foundation Trust")

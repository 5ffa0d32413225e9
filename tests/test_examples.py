"""The shipped worked example (Bradford's persistent absence by school) against the raw DfE file."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from tests.conftest import REPO, run_cli

EX = REPO / "examples"
RAW = "schools/absence/bradford_school_absence_2013-14_to_2021-22.csv.gz"


@pytest.fixture(scope="module")
def raw_2122(sources) -> pd.DataFrame:
    raw = pd.read_csv(sources / RAW, dtype=str, keep_default_na=False)
    return raw[raw["time_period"] == "202122"].set_index("school_urn")


def test_example_file_is_the_raw_file_less_schools_no_longer_open(raw_2122):
    import importlib.util

    ex = pd.read_csv(EX / "bradford_persistent_absence_2021-22.csv", dtype=str, keep_default_na=False)
    assert list(ex.columns) == ["school_urn", "school_name", "enrolments_pa_10_exact_percent"]
    for r in ex.itertuples():
        assert r.enrolments_pa_10_exact_percent == raw_2122.at[r.school_urn, "enrolments_pa_10_exact_percent"]
        assert r.school_name == raw_2122.at[r.school_urn, "school_name"]
    gias = set(pd.read_parquet(REPO / "data/schools/schools.parquet")["urn"].astype(str))
    left = set(raw_2122.index) - set(ex["school_urn"])
    assert left == set(raw_2122.index) - gias and len(ex) + len(left) == len(raw_2122) == 200
    spec = importlib.util.spec_from_file_location("make_example", EX / "make_bradford_absence.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    kept, _ = mod.make(REPO.parent / "shared" / "data")
    assert kept.reset_index(drop=True).equals(ex)  # the script makes exactly the shipped file


def test_example_round_trip_through_the_cli(raw_2122):
    res = run_cli("add-layer", str(EX / "bradford_persistent_absence_2021-22.csv"), "--descriptor",
                  str(EX / "bradford_persistent_absence_2021-22.toml"))
    assert res.returncode == 0, res.stderr
    assert "added layer bradford_persistent_absence_2122: 175 rows" in res.stdout
    for urn in ("137320", "101494"):
        out = json.loads(run_cli("values", "bradford_persistent_absence_2122", "--area", urn, "--json").stdout)
        assert out["value"] == pytest.approx(float(raw_2122.at[urn, "enrolments_pa_10_exact_percent"]))
        assert out["status"] == "ok"
    rows = json.loads(run_cli("focus", "--unit", "school", "--within", "Bradford", "--indicator", "imd2025_score=1",
                              "--indicator", "bradford_persistent_absence_2122=2", "--top", "400", "--json").stdout)
    ranked = [r for r in rows if r["complete"]]
    assert len(ranked) == 175 and all(r["rank"] is None for r in rows if not r["complete"])
    import tomllib

    note = tomllib.loads((EX / "bradford_persistent_absence_2021-22.toml").read_text())["coverage"]
    assert {r["missing_reasons"]["bradford_persistent_absence_2122"] for r in rows if not r["complete"]} == {note}
    top = ranked[0]
    assert top["contributions"]["bradford_persistent_absence_2122"] > 0
    removed = run_cli("remove-layer", "bradford_persistent_absence_2122")
    assert removed.returncode == 0


def test_dfe_codes_are_kept_as_suppressed(tmp_path):
    csv = tmp_path / "pa.csv"
    csv.write_text("school_urn,school_name,enrolments_pa_10_exact_percent\n137320,A,z\n101494,B,low\n107204,C,12.5\n")
    res = run_cli("add-layer", str(csv), "--descriptor", str(EX / "bradford_persistent_absence_2021-22.toml"))
    assert res.returncode == 0, res.stderr
    assert "3 rows, 1 values, 2 suppressed" in res.stdout
    out = json.loads(run_cli("values", "bradford_persistent_absence_2122", "--area", "137320", "--json").stdout)
    assert out["status"] == "suppressed" and out["value"] is None


#: every page, with the layer chosen wherever a page lets one choose a layer (Bradford: the example's district)
PAGES_WITH_LAYER = [
    ("views/area_map.py", {"place": "E08000032", "layer": "{id}"}),
    ("views/area_map.py", {"place": "E08000032", "layer": "{id}", "iod": "2019"}),
    ("views/strategic_focus.py", {"unit": "school", "area": "E08000032", "w": "imd2025_score:1,{id}:2"}),
    ("views/strategic_focus.py", {"unit": "ward", "area": "E08000032", "w": "{id}:1"}),
    ("views/trends.py", {"place": "E08000032"}), ("views/metro_line.py", {}), ("views/school_to_clinic.py", {}),
    ("views/trust.py", {}), ("views/places.py", {}), ("views/workshop.py", {}), ("views/add_data.py", {}),
    ("views/home.py", {}),
]


@pytest.mark.parametrize("toml", sorted(EX.glob("*.toml")), ids=lambda p: p.stem)
def test_every_example_layer_draws_on_every_page(toml):
    """Each worked example under examples/, added as an analyst adds it, is listed and drawn on every page with
    no exception: on the Area map its schools are coloured by it; Strategic focus ranks on it."""
    import tomllib

    from tests.conftest import open_page

    layer_id = tomllib.loads(toml.read_text())["id"]
    data = toml.with_suffix(".csv")
    assert run_cli("add-layer", str(data), "--descriptor", str(toml)).returncode == 0
    for page, params in PAGES_WITH_LAYER:
        at = open_page(page, **{k: v.format(id=layer_id) for k, v in params.items()})
        assert not at.exception, (page, params)
        if page.endswith("area_map.py"):
            assert at.selectbox(key="am_layer").value == layer_id
            spec = json.loads(at.get("plotly_chart")[0].proto.spec)
            schools = [t for t in spec["data"] if t.get("name") == "Schools (GIAS May 2025)"]
            assert schools and schools[0]["marker"]["colorbar"]["title"]["text"] == "%"
            assert any("Persistent absence" in s for s in schools[0]["text"])
        if page.endswith("strategic_focus.py") and params["unit"] == "school":
            df = at.dataframe[0].value
            assert df["rank"].notna().sum() == 175  # the Bradford schools that have a value

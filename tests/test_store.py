"""The store: two processes that share only CIVICDATA_DB_URL see the same layers, trusts and votes; the
same layer id added at once on two "servers" gives one layer and one refusal; version counters move;
earlier versions' folders are imported once; a version-1 (workshops only) database is upgraded in place.
Every case on SQLite and on a real PostgreSQL server."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, inspect

from civicdata import store
from civicdata.store import layers as stored
from tests.conftest import REPO, run_cli

TRAFFORD_URNS = ["106365", "106368", "111417", "111419", "107140", "131895"]
DESC = """id = "trafford_residents"
title = "Residents (Census 2021)"
unit = "people"
polarity = "neutral"
geography = "lsoa21"
key_column = "lsoa21_code"
value_column = "population2021"
source = "ONS Census 2021"
licence = "Open Government Licence v3.0"
vintage = "2021"
theme = "my data"
"""


@pytest.fixture(scope="module")
def residents_csv(tmp_path_factory) -> Path:
    """Real values: Census 2021 residents of Trafford's LSOAs (2021 codes), from the bundle."""
    from civicdata.geo.geography import areas_within

    pop = pd.read_parquet(REPO / "data/indicators/population2021_lsoa21.parquet")
    codes = set(areas_within("E08000009", "lsoa21")["code"])
    folder = tmp_path_factory.mktemp("layer")
    pop[pop["lsoa21_code"].isin(codes)][["lsoa21_code", "population2021"]].to_csv(folder / "residents.csv",
                                                                                    index=False)
    (folder / "layer.toml").write_text(DESC + 'file = "residents.csv"\n')
    return folder / "residents.csv"


def _server(tmp_path: Path, name: str, db_url: str) -> dict:
    """The environment of one "server": its own home and layers folder, the shared database only."""
    home = tmp_path / name
    return {"CIVICDATA_HOME": str(home / "home"), "CIVICDATA_USER_LAYERS": str(home / "layers"),
            "CIVICDATA_DB_URL": db_url}


def _cli(env: dict, *args: str) -> subprocess.CompletedProcess:
    res = run_cli(*args, env=env)
    assert res.returncode == 0, res.stderr
    return res


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_two_processes_sharing_only_the_database_see_the_same_things(db_url, tmp_path, residents_csv):
    a, b = _server(tmp_path, "a", db_url), _server(tmp_path, "b", db_url)
    # a layer added on A (from a layer folder, as an analyst keeps it) is listed and read on B
    out = _cli(a, "add-layer", str(residents_csv.parent))
    assert "added layer trafford_residents" in out.stdout
    listed = {r["id"]: r["user"] for r in json.loads(_cli(b, "layers", "--json").stdout)}
    assert listed["trafford_residents"] is True
    pop = pd.read_csv(residents_csv)
    code, value = pop.iloc[0]["lsoa21_code"], float(pop.iloc[0]["population2021"])
    got = json.loads(_cli(b, "values", "trafford_residents", "--area", code, "--json").stdout)
    assert got["value"] == value and got["status"] == "ok"
    # B keeps its own local copy, in its own home; A's home is not read
    assert list((Path(b["CIVICDATA_HOME"]) / "layer-cache").rglob("data.parquet"))
    # a trust saved on B is listed on A
    _cli(b, "trust-group", "save", "north-west", "--title", "North West Trust", "--urns", ",".join(TRAFFORD_URNS))
    assert json.loads(_cli(a, "trust-group", "list", "--json").stdout) == [
        {"id": "north-west", "title": "North West Trust", "schools": 6}]
    # a workshop created on A, joined and voted on B, is tallied on A
    ws = json.loads(_cli(a, "workshop", "create", "--title", "Trafford", "--place", "Trafford", "--options",
                         "Prevention,Workforce", "--json").stdout)
    tok = json.loads(_cli(b, "workshop", "join", ws["id"], "--name", "Ana", "--json").stdout)["participant_token"]
    _cli(b, "workshop", "vote", ws["id"], "--token", tok, "--option", "prevention", "--option", "prevention")
    tally = json.loads(_cli(a, "workshop", "tally", ws["id"], "--json").stdout)
    assert {o["code"]: o["dots"] for o in tally["options"]} == {"prevention": 2, "workforce": 0}
    # removed on B: gone on A
    _cli(b, "remove-layer", "trafford_residents")
    assert "trafford_residents" not in {r["id"] for r in json.loads(_cli(a, "layers", "--json").stdout)}
    store.dispose_all()


ADD_AT_ONCE = """
import sys, time
from civicdata.store import layers as stored
start = float(sys.argv[1])
while time.time() < start:
    time.sleep(0.001)
try:
    stored.put_layer("same_id", sys.argv[2], "id = 'same_id'\\n", sys.argv[2].encode(), 1)
    print("added")
except stored.LayerExistsError as exc:
    print("refused:", exc)
"""


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_the_same_layer_id_added_at_once_gives_one_layer_and_one_refusal(db_url, tmp_path):
    import time

    store.engine(db_url)  # the schema exists before the race (as it does on a running deployment)
    for attempt in range(3):
        start = time.time() + 2.0
        procs = [subprocess.Popen([sys.executable, "-c", ADD_AT_ONCE, str(start), f"server-{s}-{attempt}"],
                                  cwd=REPO, env={**os.environ, **_server(tmp_path, s, db_url)},
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for s in "ab"]
        outs = [p.communicate(timeout=60) for p in procs]
        lines = sorted(o[0].strip() for o in outs)
        assert [p.returncode for p in procs] == [0, 0], [o[1] for o in outs]
        assert lines[0] == "added" and lines[1].startswith("refused: a layer 'same_id' already exists"), lines
        rows = stored.stored_layers(store.engine(db_url))
        assert [r.id for r in rows] == ["same_id"] and rows[0].title.endswith(f"-{attempt}")
        stored.delete_layer("same_id", store.engine(db_url))
    store.dispose_all()


@pytest.mark.parametrize("db_url", ["sqlite", "postgresql"], indirect=True)
def test_every_change_moves_its_version_and_a_failed_one_does_not(db_url):
    eng = store.engine(db_url)
    v0 = store.version("layers", eng)
    stored.put_layer("x", "X", "id = 'x'\n", b"1", 1, eng=eng)
    assert store.version("layers", eng) == v0 + 1
    with pytest.raises(stored.LayerExistsError):
        stored.put_layer("x", "X again", "id = 'x'\n", b"2", 1, eng=eng)
    assert store.version("layers", eng) == v0 + 1 and stored.layer_data("x", eng) == b"1"
    stored.put_layer("x", "X2", "id = 'x'\n", b"2", 1, replace_existing=True, eng=eng)
    assert store.version("layers", eng) == v0 + 2 and stored.layer_data("x", eng) == b"2"
    assert stored.delete_layer("x", eng) and store.version("layers", eng) == v0 + 3
    assert store.version("places", eng) == 0
    store.dispose_all()


def test_a_replaced_layer_gets_a_new_local_copy(tmp_path):
    eng = store.engine()
    stored.put_layer("x", "X", "id = 'x'\n", b"one", 1, eng=eng)
    first = stored.local_copies(eng)
    stored.put_layer("x", "X", "id = 'x'\n", b"two", 1, replace_existing=True, eng=eng)
    second = stored.local_copies(eng)
    assert len(first) == len(second) == 1 and first != second
    assert (second[0] / "data.parquet").read_bytes() == b"two"
    stored.delete_layer("x", eng)
    assert stored.local_copies(eng) == []


def test_earlier_folders_are_imported_once_with_a_message(tmp_path, monkeypatch, residents_csv):
    """A user-layers folder as earlier versions wrote it: <id>/layer.toml + data.parquet, groups/*.json."""
    from civicdata.indicators.catalogue import load_catalogue

    old = tmp_path / "user_layers"
    (old / "trafford_residents").mkdir(parents=True)
    frame = pd.read_csv(residents_csv)
    frame.to_parquet(old / "trafford_residents" / "data.parquet", index=False)
    (old / "trafford_residents" / "layer.toml").write_text(DESC + 'file = "data.parquet"\n')
    (old / "broken").mkdir()
    (old / "broken" / "layer.toml").write_text('id = "broken"\n')
    (old / "broken" / "data.parquet").write_bytes(b"")
    (old / "groups").mkdir()
    (old / "groups" / "north-west.json").write_text(json.dumps({"id": "north-west", "title": "NW",
                                                               "urns": TRAFFORD_URNS}))
    res = _cli(dict(os.environ), "import-layers", str(old))
    assert f"imported the layer folder {old / 'trafford_residents'} into the shared store as 'trafford_residents'" \
        in res.stdout
    assert f"{old / 'broken'}: not imported:" in res.stdout and "title" in res.stdout
    assert f"imported the saved trust {old / 'groups' / 'north-west.json'}" in res.stdout
    again = _cli(dict(os.environ), "import-layers", str(old))
    assert "nothing new to import" in again.stdout
    # the app's own import of $CIVICDATA_USER_LAYERS finds nothing new either: the database remembers
    monkeypatch.setenv("CIVICDATA_USER_LAYERS", str(old))
    cat = load_catalogue()
    assert cat.get("trafford_residents").user and "broken" not in cat
    assert {r["item_id"]: r["outcome"] for r in store.imported()}["trafford_residents"] == "imported"
    # a changed folder whose id is taken keeps the stored layer, and says so
    frame.assign(population2021=0).to_parquet(old / "trafford_residents" / "data.parquet", index=False)
    res = _cli(dict(os.environ), "import-layers", str(old))
    assert "not imported: the store already has a layer with this id (kept)" in res.stdout


def test_a_version_1_database_is_upgraded_in_place(db_url):
    """Version 1 held only the workshop tables, with a 12-character place code: opening it adds the new tables,
    widens the place code for a saved area (``area:<id>``), turns the dots into round 1's ballots (version 4) and
    keeps every workshop; SQLite and PostgreSQL."""
    from sqlalchemy import MetaData, String, insert

    url = db_url
    old = MetaData()
    for name in ("schema_info", "workshops", "options", "questions", "participants", "dots", "notes"):
        store.metadata.tables[name].to_metadata(old)
    old.tables["workshops"].c.place_code.type = String(12)  # as version 1 made it
    e = create_engine(url)
    old.create_all(e)
    with e.begin() as c:
        c.execute(insert(old.tables["schema_info"]).values(version=1))
        c.execute(insert(old.tables["workshops"]).values(id="w1", key_hash="0" * 64, title="Kept", held_on="2026-01-01",
                                                         place_code="E08000009", dots=3,
                                                         created_at="2026-01-01T00:00:00+00:00"))
        c.execute(insert(old.tables["options"]), [{"workshop_id": "w1", "code": k, "position": i, "label": k.title()}
                                                  for i, k in enumerate(("prevention", "workforce"))])
        for pid, dots in ((1, ["prevention", "prevention", "workforce"]), (2, ["workforce"])):
            c.execute(insert(old.tables["participants"]).values(id=pid, workshop_id="w1", token_hash=f"{pid}" * 64,
                                                                name=f"P{pid}", joined_at="2026-01-01T00:00:00+00:00"))
            c.execute(insert(old.tables["dots"]), [{"participant_id": pid, "slot": i, "workshop_id": "w1",
                                                    "option_code": d} for i, d in enumerate(dots)])
    e.dispose()
    eng = store.engine(url)
    assert store.schema_version(eng) == store.SCHEMA_VERSION == 4
    from civicdata.workshop import model as wm

    # version 4: the dots became round 1's ballots; who joined before sectors were asked counts as "other"
    kept = wm.tally("w1", eng=eng)
    assert kept["round"] == {"number": 1, "mode": "dots", "budget": 3, "question": ""}
    assert [(o["code"], o["dots"], o["by_sector"]) for o in kept["options"]] == [
        ("prevention", 2, {"other": 2}), ("workforce", 2, {"other": 2})]
    assert kept["participants"] == 2 and kept["voted"] == 2 and kept["participants_by_sector"] == {"other": 2}
    assert {"user_layers", "saved_places", "imports", "versions"} <= set(inspect(eng).get_table_names())
    from civicdata.workshop import model

    assert model.get_workshop("w1", eng=eng).title == "Kept"
    assert store.version("layers", eng) == 0
    long_area = "area:" + "a" * 64  # the longest saved-area id
    made = model.create_workshop("In an area", model.parse_options(["One", "Two"]), place_code=long_area,
                                 place_name="An area", eng=eng)
    assert model.get_workshop(made.id, eng=eng).place_code == long_area
    store.dispose_all()


@pytest.fixture(scope="module")
def module_scope_db_url() -> str:
    """What a module-scoped fixture (set up before the per-test isolation) would open."""
    from civicdata import settings

    return settings.db_url()


def test_module_fixtures_never_open_the_developers_own_database(module_scope_db_url):
    """A module-scoped fixture once opened ~/.local/share/local-need-explorer/workshops.db, and a newer checkout
    upgraded it under an older one: the whole run now points into a folder of its own (conftest)."""
    assert "lne-tests-" in module_scope_db_url
    assert str(Path.home() / ".local" / "share" / "local-need-explorer") not in module_scope_db_url


def test_a_database_that_does_not_answer_is_one_named_error_without_its_address(tmp_path):
    """Opening, reading and writing a database that is down all raise StoreUnavailableError, whose message is
    the one sentence users see: no driver, address, socket path or port (those go to the server's log)."""
    from civicdata import store
    from civicdata.store import db

    url = f"postgresql+psycopg://postgres@/workshops?host={tmp_path}&port=1"  # nothing listens there
    with pytest.raises(store.StoreUnavailableError) as err:
        store.engine(url)
    assert str(err.value) == store.UNAVAILABLE and str(tmp_path) not in str(err.value)
    assert "psycopg" not in str(err.value) and "OperationalError" in err.value.detail
    assert url not in db._engines  # a later call tries again
    eng = db.create_engine(url, pool_pre_ping=True)
    for action in (db.reading, db.writing):
        with pytest.raises(store.StoreUnavailableError):
            with action(eng) as conn:
                conn.exec_driver_sql("SELECT 1")
    assert store.ping(eng) is False


def test_a_ballot_is_written_again_once_only_when_the_connection_dropped():
    from civicdata.store import db

    calls = []

    @db.retry_once_if_dropped
    def write(dropped: bool):
        calls.append(1)
        if len(calls) == 1:
            raise db.StoreUnavailableError("dropped", dropped=dropped)
        return "stored"

    assert write(True) == "stored" and len(calls) == 2  # a dropped connection: written again, once
    calls.clear()
    with pytest.raises(db.StoreUnavailableError):
        write(False)  # the database is down: not retried here (the page says so and tries again)
    assert len(calls) == 1

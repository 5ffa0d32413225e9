"""The on-disk timetable cache on the real Chester feed: a hit equals a fresh build, a changed feed or code
version or day misses, and a corrupt entry is rebuilt with a warning, never used."""

from __future__ import annotations

import json
import shutil
import zipfile
from datetime import date

import numpy as np
import pytest

from civicdata.transit import access, cache as tc, raptor as transit
from civicdata.transit.gtfs import load_feed
from tests.conftest import DATA, run_cli

FEED = DATA / "transport" / "chester_gtfs.zip"
DAY = date(2023, 9, 13)
PAIRS = [((53.289155, -2.940837), (53.322280, -2.971892), 8 * 3600),  # Rossmore School -> Eastham practice
         ((53.1965, -2.8810), (53.1905, -2.8920), 7 * 3600 + 40 * 60),
         ((53.2100, -2.9000), (53.1700, -2.8700), 15 * 3600 + 20 * 60)]


@pytest.fixture(scope="module")
def fresh():
    return transit.build_timetable(load_feed(FEED), DAY)


def _same(a: transit.Timetable, b: transit.Timetable) -> None:
    for name in tc.ARRAY_FIELDS:
        x, y = getattr(a, name), getattr(b, name)
        assert x.dtype == y.dtype and np.array_equal(x, y), name
    assert (a.feed_name, a.day, a.lat0, a.n_trips_day, a.route_colours) == (b.feed_name, b.day, b.lat0, b.n_trips_day,
                                                                            b.route_colours)
    assert a.shapes.equals(b.shapes)
    for o, d, t in PAIRS:
        ja, jb = transit.journey(a, o, d, t, max_minutes=None), transit.journey(b, o, d, t, max_minutes=None)
        assert ja.to_dict() == jb.to_dict()


def test_a_hit_equals_a_fresh_build(tmp_path, fresh):
    first = tc.open_timetable(FEED, DAY, tmp_path)
    assert first.source == "built"
    again = tc.open_timetable(FEED, DAY, tmp_path)
    assert again.source == "cache" and again.key == first.key
    _same(again.timetable, fresh)
    assert [str(w) for w in again.warnings] == [str(w) for w in load_feed(FEED).warnings]
    # nothing in the entry needs pickle
    with np.load(tmp_path / f"{again.key}.npz", allow_pickle=False) as z:
        assert all(z[n].dtype != object for n in z.files)


def test_changed_feed_day_or_code_version_is_rebuilt(tmp_path, monkeypatch):
    tc.open_timetable(FEED, DAY, tmp_path)
    other_day = tc.open_timetable(FEED, date(2023, 9, 14), tmp_path)
    assert other_day.source == "built" and other_day.timetable.day == date(2023, 9, 14)
    # the same feed with one trip fewer: another sha256, another timetable
    from civicdata.transit.gtfs import services_on

    feed = load_feed(FEED)
    gone = feed.trips[feed.trips["service_id"].isin(services_on(feed, DAY))]["trip_id"].iloc[0]
    changed = tmp_path / "changed.zip"
    with zipfile.ZipFile(FEED) as src, zipfile.ZipFile(changed, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename in ("trips.txt", "stop_times.txt"):  # a trip that runs that day, and its calls
                data = "\n".join(line for line in data.decode().split("\n") if f"{gone}," not in line).encode()
            dst.writestr(item.filename, data)
    c = tc.open_timetable(changed, DAY, tmp_path)
    assert c.source == "built" and c.timetable.n_trips_day < tc.open_timetable(FEED, DAY, tmp_path).timetable.n_trips_day
    assert tc.open_timetable(FEED, DAY, tmp_path).source == "cache"
    monkeypatch.setattr(tc, "code_version", lambda: "another-version")
    assert tc.open_timetable(FEED, DAY, tmp_path).source == "built"


@pytest.mark.parametrize("damage", ["truncated arrays", "flipped byte", "bad json", "missing shapes",
                                    "json for another day"])
def test_a_corrupt_entry_is_rebuilt_with_a_warning_never_used(tmp_path, fresh, damage):
    key = tc.open_timetable(FEED, DAY, tmp_path).key
    npz, meta, shapes = (tmp_path / f"{key}{s}" for s in (".npz", ".json", ".shapes.parquet"))
    if damage == "truncated arrays":
        npz.write_bytes(npz.read_bytes()[: npz.stat().st_size // 2])
    elif damage == "flipped byte":
        b = bytearray(npz.read_bytes())
        b[len(b) // 2] ^= 0xFF
        npz.write_bytes(bytes(b))
    elif damage == "bad json":
        meta.write_text("{not json")
    elif damage == "missing shapes":
        shapes.unlink()
    else:
        m = json.loads(meta.read_text())
        m["day"] = "2023-09-14"
        meta.write_text(json.dumps(m))
    opened = tc.open_timetable(FEED, DAY, tmp_path)
    assert opened.source == "built"
    assert any("was not used and has been rebuilt" in w.message for w in opened.warnings)
    _same(opened.timetable, fresh)
    assert tc.open_timetable(FEED, DAY, tmp_path).source == "cache"  # the entry was written again


def test_an_unwritable_folder_still_gives_the_timetable(tmp_path, fresh):
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where the folder should be")
    opened = tc.open_timetable(FEED, DAY, blocked / "cache")
    assert opened.source == "built" and any("could not be cached" in w.message for w in opened.warnings)
    _same(opened.timetable, fresh)


def test_the_page_and_the_cli_share_the_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("CIVICDATA_TIMETABLE_CACHE", str(tmp_path))
    out = access.open_feed(FEED, DAY)
    assert out.timetable is not None and len(list(tmp_path.glob("*.npz"))) == 1
    res = run_cli("journey", "--feed", str(FEED), "--date", "20230913", "--depart", "08:00", "--from",
                  "53.289155,-2.940837", "--to", "53.322280,-2.971892", "--max-minutes", "600", "--json",
                  env={"CIVICDATA_TIMETABLE_CACHE": str(tmp_path)})
    assert res.returncode == 0 and json.loads(res.stdout)["minutes"] == pytest.approx(557.62)
    assert len(list(tmp_path.glob("*.npz"))) == 1  # the CLI opened the page's entry
    none = access.open_feed(FEED, date(2025, 9, 13))
    assert none.timetable is None and "No trip runs" in none.message and none.warnings
    shutil.rmtree(tmp_path)

"""Timetables as shared data: GTFS feeds added once (a file or an address) to the store, clipped to a district,
listed and routed on from another process sharing only the database. A real HTTP server on 127.0.0.1 serves the
bundled Chester feed, a 404, a page that never answers in time, an HTML page and a broken zip."""

from __future__ import annotations

import http.server
import json
import threading
import time
import zipfile
from datetime import date

import numpy as np
import pytest

from civicdata.store import feeds as stored
from civicdata.transit import feeds
from civicdata.transit.gtfs import check_feed, load_feed
from civicdata.transit.raptor import build_timetable, journey
from tests.conftest import DATA, run_cli

CHESTER = DATA / "transport" / "chester_gtfs.zip"
CWAC = "E06000050"  # Cheshire West and Chester
DAY = date(2023, 8, 16)


class _Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's name
        if self.path == "/chester.zip":
            body = CHESTER.read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", "application/zip")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for i in range(0, len(body), 65536):  # in chunks, as a real server streams
                self.wfile.write(body[i:i + 65536])
        elif self.path == "/slow.zip":
            time.sleep(4)
            self.send_response(200)
            self.end_headers()
        elif self.path == "/page.html":
            body = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Please sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif self.path == "/broken.zip":
            body = CHESTER.read_bytes()[:5000]  # a zip cut short
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        else:
            self.send_error(404, "Not Found")

    def log_message(self, *args):  # quiet
        pass


@pytest.fixture(scope="module")
def http_server():
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def test_a_feed_added_by_address_is_listed_by_another_process_and_routes_as_the_file(http_server):
    add = run_cli("feed", "add", f"{http_server}/chester.zip", "--name", "chester-copy", "--json")
    assert add.returncode == 0, add.stderr
    got = json.loads(add.stdout)
    assert got["name"] == "chester-copy" and got["size_bytes"] == CHESTER.stat().st_size
    s = got["summary"]
    assert s["check"]["ok"] and s["calendar"] == ["2023-08-16", "2023-09-30"] or s["calendar"][0] <= "2023-08-16"
    assert s["stops"] > 100 and s["trips"] > 100 and s["districts"][0]["code"] == CWAC
    # another process, sharing only the database: the same feed, by name
    listed = json.loads(run_cli("feed", "list", "--json").stdout)
    assert [f["name"] for f in listed] == ["chester-copy"] and listed[0]["sha256"] == got["sha256"]
    shown = json.loads(run_cli("feed", "show", "chester-copy", "--json").stdout)
    assert shown["summary"]["districts"] == s["districts"]
    args = ["--date", "20230816", "--depart", "08:18", "--from", "53.188956,-2.891286", "--to", "53.200134,-2.917843",
            "--window", "08:00-09:00", "--json"]
    by_name = run_cli("journey", "--feed", "chester-copy", *args)
    by_file = run_cli("journey", "--feed", str(CHESTER), *args)
    assert by_name.returncode == 0, by_name.stderr
    assert json.loads(by_name.stdout) == json.loads(by_file.stdout) and json.loads(by_file.stdout)["arrival"]
    again = run_cli("feed", "add", f"{http_server}/chester.zip", "--name", "chester-copy")
    assert again.returncode == 1 and "stored already" in again.stderr
    assert run_cli("feed", "remove", "chester-copy").returncode == 0
    assert json.loads(run_cli("feed", "list", "--json").stdout) == []
    gone = run_cli("journey", "--feed", "chester-copy", *args)
    assert gone.returncode == 1 and "no stored feed named 'chester-copy'" in gone.stderr


@pytest.mark.parametrize("path,expected", [
    ("/missing.zip", "the server answered 404"),
    ("/slow.zip", "no answer within 1 s"),
    ("/page.html", "an HTML page, not a GTFS zip"),
    ("/broken.zip", "broken zip"),
])
def test_a_bad_address_is_refused_with_its_own_message_and_nothing_is_stored(http_server, path, expected,
                                                                              tmp_path, monkeypatch):
    monkeypatch.setattr(feeds, "DOWNLOAD_TIMEOUT_S", 1.0)
    with pytest.raises(feeds.FeedDownloadError) as err:
        feeds.add_feed(f"{http_server}{path}", "bad")
    assert expected in str(err.value) and http_server in str(err.value)
    assert stored.stored_feeds() == []


def test_the_cli_refuses_a_404_and_a_feed_with_errors_naming_the_first_problems(http_server, tmp_path):
    r = run_cli("feed", "add", f"{http_server}/nothing-here.zip", "--name", "x")
    assert r.returncode == 1 and "404" in r.stderr and not r.stdout
    broken = tmp_path / "no_stop_times.zip"
    with zipfile.ZipFile(CHESTER) as src, zipfile.ZipFile(broken, "w") as dst:
        for n in src.namelist():
            if not n.endswith("stop_times.txt"):
                dst.writestr(n, src.read(n))
    r = run_cli("feed", "add", str(broken), "--name", "broken")
    assert r.returncode == 1 and "cannot be routed; nothing was stored" in r.stderr and "stop_times.txt" in r.stderr
    assert json.loads(run_cli("feed", "list", "--json").stdout) == []


def test_a_clipped_feed_keeps_every_journey_inside_the_district(tmp_path):
    clipped = tmp_path / "cwac.zip"
    counts = feeds.clip_feed(CHESTER, clipped, CWAC)
    assert check_feed(clipped).ok and not check_feed(clipped).errors
    full, part = load_feed(CHESTER), load_feed(clipped)
    assert 0 < len(part.trips) <= len(full.trips) and counts["trips"] == len(part.trips)
    tt_full, tt_part = build_timetable(full, DAY), build_timetable(part, DAY)
    from civicdata.geo.boundaries import outlines

    area = outlines([CWAC]).geometry.iloc[0]
    import geopandas as gpd

    stops = full.stops.assign(lat=full.stops["stop_lat"].astype(float), lon=full.stops["stop_lon"].astype(float))
    inside = stops[gpd.GeoSeries(gpd.points_from_xy(stops["lon"], stops["lat"]), crs=4326).within(area).to_numpy()]
    rng = np.random.default_rng(45)
    pairs = rng.choice(len(inside), size=(40, 2), replace=True)
    def rides(j):
        return [(leg.trip_id, leg.from_stop, leg.to_stop, leg.depart, leg.arrive) for leg in j.legs if leg.mode == "ride"]

    reached = 0
    for a, b in pairs:
        o, d = inside.iloc[a], inside.iloc[b]
        for depart in (8 * 3600, 15 * 3600 + 30 * 60):
            j1 = journey(tt_full, (o.lat, o.lon), (d.lat, d.lon), depart)
            j2 = journey(tt_part, (o.lat, o.lon), (d.lat, d.lon), depart)
            # the same buses, stop to stop and minute to minute; walks are measured around each feed's own mean
            # latitude (raptor's projection), so a walk may differ by a second
            assert rides(j1) == rides(j2) and j1.vehicles == j2.vehicles, (o.stop_id, d.stop_id, depart)
            assert (j1.arrival is None) == (j2.arrival is None)
            assert j1.arrival is None or abs(j1.arrival - j2.arrival) <= 2, (o.stop_id, d.stop_id, depart)
            reached += j1.arrival is not None and j1.vehicles > 0
    assert reached > 20  # real bus journeys, not only walks


def test_add_feed_clipped_stores_the_district_and_a_clean_check():
    f = feeds.add_feed(str(CHESTER), "chester-cwac", clip=CWAC)
    assert f.summary["clip"] == {"district": CWAC, "buffer_m": feeds.CLIP_BUFFER_M}
    assert f.summary["check"]["ok"] and f.summary["check"]["errors"] == 0
    assert f.summary["districts"][0]["code"] == CWAC
    path = stored.local_copy("chester-cwac")
    assert path.read_bytes() and path.name == f"{f.sha256}.zip"
    assert feeds.resolve_feed("chester-cwac") == path


def test_school_to_clinic_lists_stored_feeds_offers_their_districts_and_the_nearest_date():
    """A stored feed is offered beside the bundled one (name, dates, districts); "Schools in" offers the districts
    it serves; a date outside its calendar says so and offers the nearest date with service."""
    import datetime as dt

    from tests.conftest import open_page

    feeds.add_feed(str(CHESTER), "chester-cwac", clip=CWAC)
    at = open_page("views/school_to_clinic.py")
    box = at.sidebar.selectbox(key="sc_feed")
    assert box.options[0].startswith("Chester (bundled")
    assert any(o.startswith("chester-cwac: 2023-") and "Cheshire West and Chester" in o for o in box.options)
    box.set_value("chester-cwac").run()
    assert not at.exception and at.query_params["feed"] in (["chester-cwac"], "chester-cwac")
    served = at.sidebar.selectbox(key="sc_place")
    summary = stored.stored_feed("chester-cwac").summary
    assert served.value == CWAC and set(served.options) == {
        {d["code"]: d["name"] for d in summary["districts"]}[c] for c in feeds.covered_districts(summary["districts"])}
    assert any(i.value.startswith("Timetable: chester-cwac,") for i in at.info)
    last = dt.date.fromisoformat(summary["calendar"][1])
    at.sidebar.date_input(key="sc_date").set_value(last + dt.timedelta(days=300)).run()
    assert any("No trip runs on" in e.value and "chester-cwac" in e.value for e in at.error)
    use = next(b for b in at.button if b.label.startswith("Use "))
    use.click().run()
    assert not at.exception and at.sidebar.date_input(key="sc_date").value <= last
    assert any(i.value.startswith("Timetable: chester-cwac,") for i in at.info)

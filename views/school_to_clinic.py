"""School to clinic: the scheduled public-transport journey from each school to the nearest service."""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

import pandas as pd
import streamlit as st

from civicdata.transit import access, raptor as transit
from civicdata.transit.feeds import covered_districts
from civicdata.labels import plural
from civicdata.geo.names import readable_org_name
from civicdata.figures import alt_text, leaflet
from civicdata import settings
from civicdata.transit.engines import RaptorEngine, compare_engines
from civicdata.errors import ProblemsError
from civicdata.store import StoreUnavailableError
from civicdata.indicators.userlayers import LayerExistsError, add_layer
from views import _shared

presenting = _shared.presentation("views/school_to_clinic.py")

st.title("School to clinic")
st.caption("How far is the nearest clinic, GP or hospital from each school by scheduled bus? "
           f"Walking rules: {transit.WALKING_RULES}.")
cat = _shared.catalogue()
ss = st.session_state
points = [d for d in cat if d.geography == "point"]
point_ids = [d.id for d in points]
places = {k: v for k, v in _shared.place_options().items() if k not in (_shared.ENGLAND, "E47000001")}
DEFAULT_SERVICE = access.DEFAULT_SERVICE
WINDOWS = {"morning": ("08:00", "09:00"), "after school": ("15:15", "16:15")}
CAPS = (60, 90, 120, 180, 240, 600)  # minutes: the longest journey counted

if "sc_place" not in ss:
    # the link's place, else the one last looked at, else Cheshire West and Chester (the bundled feed's)
    ss.sc_place = _shared.param("place", _shared.last_place_or(places, "E06000050"), places)
    ss.sc_service = _shared.param("service", DEFAULT_SERVICE, point_ids)
    ss.sc_window = _shared.param("window", "morning", WINDOWS)
    d = st.query_params.get("date", "20230913")
    try:
        ss.sc_date = date(int(d[:4]), int(d[4:6]), int(d[6:8]))
    except ValueError:
        st.toast(f"Link parameter date={d!r} is not a date; showing 13 Sep 2023.")
        ss.sc_date = date(2023, 9, 13)
if "sc_cap" not in ss:
    ss.sc_cap = int(_shared.param("cap", str(transit.DEFAULT_MAX_MINUTES), [str(c) for c in CAPS]))
if "sc_next_date" in ss:  # "use the nearest date with service", from the last run
    ss.sc_date = ss.pop("sc_next_date")

try:  # added once on Add data (or `feed add`), on any server
    stored = {f.name: f for f in _shared.stored_feeds()}
except StoreUnavailableError:  # the database does not answer: the bundled feed still routes
    stored = {}
    st.caption("The stored timetables cannot be read just now; the bundled one is shown.")
feed_labels = {"": "Chester (bundled, Aug–Sep 2023)"}
feed_labels.update({n: f"{n}: {' to '.join(f.summary.get('calendar') or ['no calendar'])} · "
                       + (", ".join(d["name"] for d in f.summary.get("districts", [])[:3]) or "outside England")
                    for n, f in stored.items()})
if "sc_feed" not in ss or ss.sc_feed not in feed_labels:
    ss.sc_feed = _shared.param("feed", "", feed_labels)

with st.sidebar:
    st.selectbox("Timetable", list(feed_labels), key="sc_feed", format_func=feed_labels.get,
                 help="The bundled feed, or one an analyst added on Add data › Timetables (kept for every server).")
    up = st.file_uploader("Or a GTFS feed for this visit only (.zip)", type=["zip"])

if up is not None:
    path = Path(tempfile.gettempdir()) / f"lne_gtfs_{abs(hash(up.getvalue())) % 10**12}.zip"
    path.write_bytes(up.getvalue())
    covered = _shared.feed_districts(str(path), path.stat().st_mtime)
elif ss.sc_feed:
    path = _shared.stored_feed_path(ss.sc_feed, stored[ss.sc_feed].sha256)
    covered = covered_districts(stored[ss.sc_feed].summary.get("districts", []))
else:
    path = _shared.default_feed_path()
    covered = _shared.feed_districts(str(path), path.stat().st_mtime)
school_places = {k: v for k, v in places.items() if k in set(covered)} or places  # the districts the feed serves
if ss.sc_place not in school_places:  # another feed: the app's current place when it serves it, else its first
    asked = ss.sc_place
    ss.sc_place = _shared.last_place_or(school_places, next(iter(school_places)))
    if asked in places and asked != ss.get("sc_unserved_said"):  # said once, not on every rerun
        ss.sc_unserved_said = asked
        served = ", ".join(school_places[k] for k in list(school_places)[:4]) + (
            f" and {len(school_places) - 4} more" if len(school_places) > 4 else "")
        st.info(f"This timetable has no stops in {places[asked]}: it serves {served}, so "
                f"{school_places[ss.sc_place]} is shown. A timetable for {places[asked]} can be added on "
                "Add data › Timetables (GTFS).")

with st.sidebar:
    st.selectbox("Schools in", list(school_places), key="sc_place", format_func=school_places.get,
                 help="The districts the timetable's stops fall in.")
    st.selectbox("Service", point_ids, key="sc_service", format_func=lambda i: cat.get(i).title)
    st.date_input("Date", key="sc_date")
    st.radio("Window", list(WINDOWS), key="sc_window",
             format_func=lambda w: f"{w} ({WINDOWS[w][0]}–{WINDOWS[w][1]})")
    osm = st.file_uploader("Street-accurate option: OpenStreetMap extract (.osm.pbf) of the area", type=["pbf"])
    step_min = st.select_slider("Departures sampled every", [1, 5, 10, 15], value=5, format_func=lambda m: f"{m} min")
    st.select_slider("Longest journey counted", CAPS, key="sc_cap", format_func=lambda m: f"{m} min",
                     help=transit.cap_rule(transit.DEFAULT_MAX_MINUTES) + " The default is 120 minutes.")
cap = ss.sc_cap

if ss.sc_feed:
    st.query_params["feed"] = ss.sc_feed
else:
    st.query_params.pop("feed", None)
st.query_params.update({"place": ss.sc_place, "service": ss.sc_service, "window": ss.sc_window,
                        "date": ss.sc_date.strftime("%Y%m%d"), "cap": str(cap)})
outcome = _shared.feed_outcome(str(path), path.stat().st_mtime, ss.sc_date)
if outcome.warnings:
    with st.expander(f"{plural(len(outcome.warnings), 'note')} about this timetable (routing goes on)"):
        st.text("\n".join(str(p) for p in outcome.warnings))
if outcome.timetable is None:  # errors, or no service that day: the message instead of results
    # a stored feed is read from a copy named by its sha256: say its name instead
    st.error(outcome.message.replace(path.name, ss.sc_feed) if ss.sc_feed and up is None else outcome.message)
    if outcome.errors:
        st.text("\n".join(str(p) for p in outcome.errors))
    else:  # a date outside the feed's calendar: offer the nearest dates with service
        for near in _shared.nearest_service_dates(str(path), path.stat().st_mtime, ss.sc_date):
            if near and st.button(f"Use {near:%a %d %b %Y} (nearest date with service)", key=f"sc_near_{near}"):
                ss.sc_next_date = near
                st.rerun()
    _shared.footer()
    st.stop()
tt = outcome.timetable

feed_title = (up.name if up is not None else ss.sc_feed if ss.sc_feed else feed_labels[""])  # a name, not a file
(st.caption if presenting else st.info)(  # on a projector a line under the title, not a box filling the screen
    f"Timetable: {feed_title}, {tt.n_trips_day:,} trips on {ss.sc_date:%a %d %b %Y}."
    + (" The bundled feed is a subset of routes: “no journey found in this feed” is not “no bus”."
       if not ss.sc_feed and up is None else " “No journey found in this feed” is not “no bus”: a feed may "
       "leave out operators."))
bounds = access.feed_bounds(tt)
schools, services = access.schools_and_services(cat, ss.sc_place, ss.sc_service, tt)
if schools.empty or services.empty:
    st.warning(f"No {'schools' if schools.empty else 'services'} of this choice lie within the feed's area.")
    _shared.footer()
    st.stop()
start, end = (transit.parse_hhmm(t) for t in WINDOWS[ss.sc_window])


@st.cache_data(show_spinner=False, max_entries=16)
def run(feed_key: tuple, place: str, service: str, window: str, step: int, max_minutes: int,
        host: str = "") -> pd.DataFrame:
    svc = _with_host(host)
    bar = st.progress(0.0, text="Routing every school…")
    out = access.school_access(tt, schools, svc, start, end, step, progress=lambda f: bar.progress(f),
                               max_minutes=max_minutes)
    bar.empty()
    return out


def _service_words(desc) -> str:
    """'GP practices (ODS, 2025)' -> 'GP practices (2025)': the service in a sentence, with its vintage."""
    words = desc.title.split(" (")[0]
    words = words if words[:2].isupper() else words[0].lower() + words[1:]
    return f"{words} ({desc.vintage})"


@st.cache_resource(show_spinner=False)
def _jobs() -> dict:
    """Background routing jobs of this server, by what they route (shared: two people asking the same share it)."""
    return {}


def _with_host(host: str) -> pd.DataFrame:
    """The services, plus a clinic hosted at the school ``host`` (a URN) when one is chosen."""
    if not host:
        return services
    h = schools[schools["urn"].astype(str) == host].iloc[0]
    return pd.concat([services, pd.DataFrame([{"name": f"Clinic hosted at {h['name']}", "lat": h["lat"],
                                               "lon": h["lon"]}])], ignore_index=True)


def _in_background(key: tuple, host: str = "") -> pd.DataFrame:
    """Route every school in a background job (a large feed or area): progress and cancel while it runs, the
    page stays usable, and the result is kept as your layer when it finishes (not for a what-if with a hosted
    clinic). Returns the table when done."""
    from civicdata.transit.jobs import Job

    jobs = _jobs()
    key = key + (host,)
    job = jobs.get(key)
    what = "the what-if with a clinic at the school" if host else "every school"
    scheduler, workers = settings.dask_scheduler(), settings.journey_workers()
    where = f"the Dask cluster at {scheduler}" if scheduler else f"{workers} worker processes"
    if job is None or job.state in ("cancelled", "failed"):
        if job is not None and job.state == "failed":
            st.error(f"The background routing failed: {job.error}")
        elif job is not None:
            st.info("The background routing was cancelled; nothing was saved.")
        st.info(f"{len(schools)} schools × {n_departures} departures: routing runs in the background on {where}, so "
                "the page stays usable." + ("" if host else " The result is kept as your layer when it finishes."))
        if st.button(f"Route {what} in the background", key=f"sc_bg_start{'_host' if host else ''}"):
            jobs[key] = Job(access.school_access_at_scale, feed=str(path), day=ss.sc_date, schools=schools,
                            services=_with_host(host), start=start, end=end, step=step_min * 60, max_minutes=cap,
                            workers=workers, scheduler=scheduler)
            st.rerun()
        _shared.footer()
        st.stop()
    if job.state == "running":
        @st.fragment(run_every=1)
        def progress() -> None:
            j = _jobs()[key]
            st.progress(j.progress, text=f"Routing {what} in the background on {where}: {j.progress:.0%} done")
            if st.button("Cancel", key=f"sc_bg_cancel{'_host' if host else ''}"):
                j.cancel()
            if j.state != "running":
                st.rerun()
        progress()
        _shared.footer()
        st.stop()
    if host:
        return job.result
    if not getattr(job, "saved", None):  # kept as a layer, once
        csv, raw = access.journey_layer(job.result, service=cat.get(ss.sc_service), feed_name=feed_title,
                                        day=ss.sc_date, start=start, end=end, max_minutes=cap)
        try:
            desc, _report = add_layer(csv, "journey_minutes.csv", raw, replace_existing=True)
            job.saved = (f"Kept as your layer “{desc.title}” ({desc.id}; it replaces any earlier layer of that id, "
                         "so a new run keeps the newest minutes).")
        except ProblemsError as exc:
            job.saved = f"The result could not be kept as a layer: {exc}"
    st.success(job.saved)
    return job.result


feed_key = (str(path), path.stat().st_mtime, ss.sc_date.isoformat())
n_departures = len(range(start, end + 1, step_min * 60))
large = len(schools) * n_departures > settings.background_above()
bg_key = feed_key + (ss.sc_place, ss.sc_service, ss.sc_window, step_min, cap)
if large:
    table = _in_background(bg_key)
else:
    table = run(feed_key, ss.sc_place, ss.sc_service, ss.sc_window, step_min * 60, cap)
st.markdown("### " + access.two_buses_headline(table, _service_words(cat.get(ss.sc_service)), cap) + ".")
st.caption(transit.cap_rule(cap) + " " + transit.WINDOW_RULE)

# the minutes beside the school's name, where a projector shows them; where it is, its pupils and URN after
show = table[["name", "median", "best", "worst", "vehicles", "two_plus", "service", "departures_reached",
              "walk_minutes", "neighbourhood", "pupils", "urn"]].copy()
show["service"] = show["service"].map(lambda n: readable_org_name(n) if isinstance(n, str) else n).fillna(
    f"no journey within {cap} minutes in this feed")  # "Western Ave Medical Ctre", not in capitals
only_two = st.toggle("Only schools two or more buses away")
_shared.table(show[show["two_plus"]] if only_two else show, hide_index=True, width="stretch",
             column_config={**{c: st.column_config.NumberColumn(lab, format="%.0f min") for c, lab in (
                 ("best", "quickest"), ("median", "median journey"), ("worst", "slowest"))},
                            "name": st.column_config.TextColumn("School"),
                            "service": st.column_config.TextColumn("Nearest service reached"),
                            "walk_minutes": st.column_config.NumberColumn("walking", format="%.1f min"),
                            "vehicles": st.column_config.NumberColumn("buses", format="%d"),
                            "departures_reached": st.column_config.NumberColumn(
                                f"departures within {cap} min", format="%d",
                                help="departures in the window with a journey within the cap"),
                            "two_plus": st.column_config.CheckboxColumn("2+ buses")})
csv_cols = ["urn", "name", "neighbourhood", "pupils", "service", "best", "median", "worst", "departures_reached",
            "vehicles", "walk_minutes", "two_plus"]  # the CSV keeps its columns in their published order
st.download_button("Table (CSV)", show[csv_cols].to_csv(index=False).encode("utf-8"), f"school_to_service_{ss.sc_place}.csv",
                   "text/csv", on_click="ignore")
with st.expander("Use these minutes in Strategic focus and on the maps"):
    csv, raw = access.journey_layer(table, service=cat.get(ss.sc_service), feed_name=feed_title, day=ss.sc_date,
                                    start=start, end=end, max_minutes=cap)
    st.caption(f"Saves the median minutes of the {int(table['reached'].sum())} schools with a journey as your layer "
               f"“{raw['title']}” (keyed on URN; schools without a journey stay missing, never zero).")
    replace_it = st.checkbox("Replace my layer of the same id if it exists", key="sc_replace")
    if st.button("Save as a layer", key="sc_save"):
        try:
            desc, report = add_layer(csv, "journey_minutes.csv", raw, replace_existing=replace_it)
        except LayerExistsError as exc:
            st.warning(str(exc))
        except ProblemsError as exc:
            st.error(str(exc))
        else:
            st.success(f"Saved layer {desc.id} ({report.ok} schools). It is now an indicator in Strategic focus "
                       "(schools, or carried to wards and LSOAs by pupil-weighted mean).")

# map (Leaflet, served by the app): schools coloured by median minutes, services, the chosen school's journey
names = dict(zip(table["urn"].astype(str), table["name"]))
urn_of = {n: u for u, n in reversed(list(names.items()))}  # a clicked school's tooltip -> its URN
if "sc_next_pick" in ss:  # a click on the map chooses the school
    ss.sc_pick = ss.pop("sc_next_pick")
pick = st.selectbox("Draw the journey from (or click a school on the map)", [""] + list(names),
                    format_func=lambda u: names.get(u, "choose a school"), key="sc_pick")
sch_layer = table.assign(minutes=table["median"].where(table["reached"]))
legs_frame = None
journey_legs = []
if pick:
    row = table[table["urn"].astype(str) == pick].iloc[0]
    if row["reached"]:
        svc = services.loc[int(row["service_index"])]
        j = transit.journey(tt, (row["lat"], row["lon"]), (svc["lat"], svc["lon"]),
                            start + int((end - start) / 2), with_shapes=True, max_minutes=cap)
        if j.arrival is None:
            st.info(f"Leaving at the middle of the window, {names[pick]} has {j.words}.")
        else:
            legs_frame = pd.DataFrame([leg.to_dict() for leg in j.legs])
            journey_legs = j.legs
    else:
        st.info(f"{names[pick]} has no journey to a service within {cap} minutes in this feed in the window.")
with st.sidebar:
    show_orientation = _shared.orientation_toggle()
    tiles = st.toggle("Base map tiles (needs internet)", value=False, key="sc_tiles")
view = leaflet.padded_bounds(table[["lat", "lon"]])  # the schools of the place (the feed may reach far beyond)
orient = _shared.orientation(ss.sc_place, view, False, 900, 560) if show_orientation else None
m = leaflet.base_map(view, tiles=tiles)
leaflet.add_orientation(m, orient)
leaflet.add_outline(m, _shared.district_outlines((ss.sc_place,)), "local authority")
leaflet.add_services(m, access.in_bounds(services, leaflet.padded_bounds(table[["lat", "lon"]], 0.5)),
                     cat.get(ss.sc_service).title)
leaflet.add_schools(m, sch_layer)
leaflet.add_journey(m, journey_legs, tt.route_colours, lambda t: transit.hhmmss(t)[:5])
map_col, key_col = st.columns([4, 1])
with map_col:
    tip = _shared.leaflet_map(m, key="sc_leaflet")
    _shared.text_alternative(alt_text.journey_map_text(table, places[ss.sc_place], cat.get(ss.sc_service).title,
                                                       cap))
with key_col:
    st.markdown("**Median minutes**")
    st.html("".join(f'<div style="display:flex;gap:8px;align-items:center"><span style="width:16px;height:16px;'
                    f'border-radius:50%;border:1px solid #000;background:{c};display:inline-block"></span>{lab}</div>'
                    for c, lab in leaflet.legend_rows()))
    st.caption("Black dots: " + cat.get(ss.sc_service).title + ". Journey: walks dashed, rides in the route's "
               "colour along the feed's shapes; click a leg for its stops and times.")
if tip in urn_of and urn_of[tip] != pick:
    ss.sc_next_pick = urn_of[tip]
    st.rerun()
if legs_frame is not None:
    st.markdown(f"**Journey from {names[pick]}, leaving {transit.hhmmss(start + int((end - start) / 2))}**")
    _shared.table(legs_frame, hide_index=True, width="stretch")

if osm is not None:
    st.subheader("Street-accurate minutes (ferrobus) beside ours")
    osm_path = Path(tempfile.gettempdir()) / f"lne_osm_{abs(hash(osm.getvalue())) % 10**12}.osm.pbf"
    osm_path.write_bytes(osm.getvalue())
    try:
        engines = [RaptorEngine(tt), _shared.ferrobus_engine(str(path), str(osm_path), ss.sc_date)]
    except ProblemsError as exc:
        st.error(str(exc))
    else:
        reached = table[table["reached"]]
        pairs = pd.DataFrame({"school": reached["name"], "o_lat": reached["lat"], "o_lon": reached["lon"],
                              "d_lat": [services.loc[int(i), "lat"] for i in reached["service_index"]],
                              "d_lon": [services.loc[int(i), "lon"] for i in reached["service_index"]]})
        mid = start + (end - start) // 2
        cmp = compare_engines(engines, pairs, mid)
        st.caption(f"Departure {transit.hhmmss(mid)} to each school's nearest service. ferrobus walks on the streets, "
                   "ours straight lines × 1.3: the minutes differ by design.")
        _shared.table(cmp.drop(columns=["o_lat", "o_lon", "d_lat", "d_lon"]), hide_index=True, width="stretch")

if presenting and not ss.get("sc_host"):  # a projector hides the school picker: nothing to show under the heading
    _shared.footer()
    st.stop()
st.subheader("What if a clinic were hosted in a school?")
host = st.selectbox("Host a clinic at", [""] + list(names), format_func=lambda u: names.get(u, "choose a school"),
                    key="sc_host")
if host:
    if large:
        after = _in_background(bg_key, host)
    else:
        after = run(feed_key, ss.sc_place, ss.sc_service, ss.sc_window, step_min * 60, cap, host)
    gain, summary = access.compare_hosting(table, after)
    pw = summary["pupil_weighted_minutes_saved"]
    st.markdown(f"**{summary['schools']} schools ({summary['pupils']:,} pupils) gain**"
                + (f"; pupil-weighted, {pw:.1f} minutes shorter" if pw is not None else "")
                + (f"; {summary['newly_reached']} newly reachable" if summary["newly_reached"] else "") + ".")
    _shared.table(gain, hide_index=True, width="stretch")
_shared.footer()

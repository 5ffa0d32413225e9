"""Add data: upload a file, describe it, see the validation report, save it as a layer."""

from __future__ import annotations

import streamlit as st

from civicdata import settings, store
from civicdata.indicators.catalogue import GEOGRAPHIES, GEOGRAPHY_LABELS, POLARITIES
from civicdata.errors import CivicDataError
from civicdata.indicators.userlayers import (MAX_BYTES, SUPPRESSED, LayerExistsError, SheetChoiceError, add_layer, read_table,
                                  remove_layer)
from views import _shared

st.title("Add data")
st.markdown(f"Add your own layer from a CSV, Excel (.xlsx) or Parquet file (up to {MAX_BYTES // 2**20} MB), keyed on "
            "LSOA/MSOA codes (2011 or 2021), ward or local-authority codes, school URN, or point coordinates. "
            f"Suppressed values ({', '.join(SUPPRESSED[:5])}) are kept as suppressed, never as zero. The layer then "
            "appears on the Area map, in Strategic focus and (points) as destinations.")
ss = st.session_state
tab_layers, tab_feeds = st.tabs(["Layers", "Timetables (GTFS)"])


@st.fragment
def timetables() -> None:
    """Add a GTFS feed once (a file or an address, optionally clipped to a district), list and remove feeds: kept
    in the store, so School to clinic offers them on every server."""
    from civicdata.errors import CivicDataError as _Err
    from civicdata.store import feeds as stored
    from civicdata.transit import feeds

    st.markdown(f"Add a region's bus timetable once and every leader sees journeys for their place on School to "
                f"clinic. A GTFS zip up to {feeds.MAX_FEED_BYTES // 2**20} MB, from a file or an address (e.g. "
                "TfGM's or a Bus Open Data Service region's: see the README); it is checked first and stored only "
                "when it can be routed.")
    how = st.radio("From", ["a file", "an address (URL)"], horizontal=True, key="tt_how")
    if how == "a file":
        src_file = st.file_uploader("GTFS feed (.zip)", type=["zip"], key="tt_file",
                                    max_upload_size=feeds.MAX_FEED_BYTES // 2**20)
        url = ""
    else:
        src_file = None
        url = st.text_input("Address of the GTFS zip", key="tt_url", placeholder="https://…/gtfs.zip")
    c1, c2 = st.columns(2)
    default = feeds.feed_name(src_file.name if src_file is not None else url) if (src_file or url) else ""
    name = c1.text_input("Name", key="tt_name", placeholder=default or "e.g. tfgm-2026-11",
                         help="Letters, digits, '_', '-' or '.'; how School to clinic lists it.")
    lads = {k: v for k, v in _shared.place_options().items() if k.startswith("E0")}
    clip = c2.selectbox("Keep only what serves", [""] + list(lads), key="tt_clip",
                        format_func=lambda c: lads.get(c, "the whole feed"),
                        help=f"Clip a region's feed to one district: its stops and {feeds.CLIP_BUFFER_M:g} m around, "
                             "the trips serving them (whole) and what they reference.")
    replace = st.checkbox("Replace a stored feed of the same name", key="tt_replace")
    if st.button("Add the timetable", key="tt_add", type="primary", disabled=not (src_file or url.strip())):
        bar = st.progress(0.0, text="Starting…")

        def progress(done: int, total: int | None) -> None:
            bar.progress(min(done / total, 1.0) if total else 0.0,
                         text=f"Downloaded {done / 2**20:.1f} MB" + (f" of {total / 2**20:.1f} MB" if total else ""))

        try:
            if src_file is not None:
                import tempfile
                from pathlib import Path

                with tempfile.TemporaryDirectory() as tmp:
                    path = Path(tmp) / src_file.name
                    path.write_bytes(src_file.getvalue())
                    bar.progress(0.3, text="Checking the feed…")
                    f = feeds.add_feed(str(path), name.strip() or default, clip or None, replace=replace)
            else:
                f = feeds.add_feed(url.strip(), name.strip() or default, clip or None, replace=replace,
                                   progress=progress)
        except stored.FeedExistsError as exc:
            bar.empty()
            st.warning(f"{exc}. Tick “Replace a stored feed of the same name” and add it again.")
        except feeds.FeedRefusedError as exc:
            bar.empty()
            st.error("Not stored: the feed has errors (it cannot be routed). The first problems:")
            st.code(str(exc), language=None, wrap_lines=True)
        except _Err as exc:
            bar.empty()
            st.error(f"Not stored: {exc}")
        else:
            bar.progress(1.0, text="Stored.")
            cal = " to ".join(f.summary.get("calendar") or ["no calendar"])
            st.success(f"Stored the timetable {f.name}: {cal}; {f.summary['stops']:,} stops, {f.summary['trips']:,} "
                       "trips. School to clinic offers it on every server.")
    all_feeds = _shared.stored_feeds()
    st.subheader("Stored timetables")
    if not all_feeds:
        st.markdown("None yet: School to clinic uses the bundled Chester feed (August 2023).")
        return
    _shared.table([{"Name": f.name, "Calendar": " to ".join(f.summary.get("calendar") or []),
                    "Agencies": ", ".join(f.summary.get("agencies") or []),
                    "Districts": ", ".join(d["name"] for d in f.summary.get("districts", [])[:5]),
                    "Stops": f.summary.get("stops"), "Trips": f.summary.get("trips"),
                    "Size (MB)": round(f.size_bytes / 2**20, 1), "Clipped to": (f.summary.get("clip") or {}).get("district"),
                    "From": f.source, "Added (UTC)": f.added_at} for f in all_feeds], hide_index=True, width="stretch",
                  decimals={"Size (MB)": 1})
    r1, r2 = st.columns([3, 1])
    gone = r1.selectbox("Remove a timetable", [f.name for f in all_feeds], key="tt_remove_pick")
    if r2.button("Remove", key="tt_remove"):
        stored.delete_feed(gone)
        st.rerun()


with tab_feeds:
    timetables()

with tab_layers:
    with st.expander("Worked example: persistent absence in Bradford's schools (DfE, 2021/22)"):
        ex = settings.examples_dir()
        st.markdown("A local file keyed on school URN: the share of each Bradford school's pupils missing 10% or more "
                    "of sessions (DfE school-level absence, 2021/22). Upload the CSV here with the descriptor below, or "
                    "`python -m civicdata add-layer examples/bradford_persistent_absence_2021-22.csv --descriptor "
                    "examples/bradford_persistent_absence_2021-22.toml`. Strategic focus can then weigh persistent "
                    "absence with deprivation and distance to services for Bradford's schools.")
        toml_text = (ex / "bradford_persistent_absence_2021-22.toml").read_text(encoding="utf-8")
        st.code(toml_text, language="toml", wrap_lines=True)
        e1, e2 = st.columns(2)
        e1.download_button("Example data (CSV)", (ex / "bradford_persistent_absence_2021-22.csv").read_bytes(),
                           "bradford_persistent_absence_2021-22.csv", "text/csv", on_click="ignore")
        e2.download_button("Example descriptor (TOML)", toml_text.encode("utf-8"),
                           "bradford_persistent_absence_2021-22.toml", "application/toml", on_click="ignore")
    up = st.file_uploader("Data file", type=["csv", "txt", "tsv", "xlsx", "parquet"],
                          max_upload_size=MAX_BYTES // 2**20)  # the box states the same limit the check enforces
    if up is None:
        cat = _shared.catalogue()
        mine = [d for d in cat if d.user]
        if mine:
            st.subheader("Your layers")
            for d in mine:
                c1, c2 = st.columns([4, 1])
                c1.markdown(f"**{d.id}** — {d.title} ({d.geography_label}, {d.unit})")
                if c2.button("Remove", key=f"rm_{d.id}"):
                    remove_layer(d.id)
                    st.rerun()
        imported = store.imported()
        if imported:
            with st.expander(f"Imported from folders ({len(imported)})"):
                st.caption("Layers and saved trusts an earlier version kept in a folder on one server are copied into "
                           "the shared store once, so every server sees them.")
                _shared.table([{"Folder or file": r["path"], "Id": r["item_id"], "Outcome": r["outcome"],
                               "When (UTC)": r["imported_at"]} for r in imported], hide_index=True, width="stretch")
        _shared.footer()
        st.stop()

    data = up.getvalue()
    sheet = None
    try:
        read = read_table(data, up.name)
    except SheetChoiceError as exc:
        sheet = st.selectbox("This workbook has several sheets: which one holds the data?", exc.sheets, key="ad_sheet")
        read = read_table(data, up.name, sheet)
    except CivicDataError as exc:
        st.error(str(exc))
        st.stop()

    frame = read.frame
    st.caption(f"{len(frame):,} rows, {len(frame.columns)} columns"
               + (f"; read as {read.encoding}" if read.encoding else "")
               + (f"; delimiter {read.delimiter!r}" if read.delimiter else ""))
    _shared.table(frame.head(10), hide_index=True, width="stretch")
    cols = list(frame.columns)

    with st.form("descriptor"):
        st.subheader("Describe the layer")
        c1, c2 = st.columns(2)
        layer_id = c1.text_input("Id (a-z, 0-9, _ or -)", key="ad_id")
        title = c2.text_input("Title", key="ad_title")
        description = st.text_area("Description", key="ad_desc")
        c1, c2, c3 = st.columns(3)
        geography = c1.selectbox("Keyed on", list(GEOGRAPHIES), format_func=GEOGRAPHY_LABELS.get, key="ad_geo")
        unit = c2.text_input("Unit (%, per 1,000, count…)", key="ad_unit")
        polarity = c3.selectbox("Which way is worse?", list(POLARITIES), key="ad_pol",
                                format_func=lambda p: p.replace("_", " "))
        c1, c2, c3 = st.columns(3)
        key_col = c1.selectbox("Key column (area code or URN)", [""] + cols, key="ad_key")
        value_col = c2.selectbox("Value column", [""] + cols, key="ad_value")
        name_col = c3.selectbox("Name column (optional)", [""] + cols, key="ad_name")
        c1, c2 = st.columns(2)
        lat_col = c1.selectbox("Latitude column (points)", [""] + cols, key="ad_lat")
        lon_col = c2.selectbox("Longitude column (points)", [""] + cols, key="ad_lon")
        c1, c2, c3, c4 = st.columns(4)
        source = c1.text_input("Source", key="ad_source")
        licence = c2.text_input("Licence", value="Open Government Licence v3.0", key="ad_lic")
        vintage = c3.text_input("Vintage (period)", key="ad_vintage")
        theme = c4.text_input("Theme", value="my data", key="ad_theme")
        replace_ok = st.checkbox("Replace my existing layer with this id", key="ad_replace")
        submitted = st.form_submit_button("Check and save")

    if submitted:
        raw = {"id": layer_id, "title": title, "unit": unit, "polarity": polarity, "geography": geography,
               "source": source, "licence": licence, "vintage": vintage, "theme": theme}
        for k, v in (("description", description), ("key_column", key_col), ("value_column", value_col),
                     ("name_column", name_col), ("lat_column", lat_col), ("lon_column", lon_col)):
            if v:
                raw[k] = v
        try:
            desc, report = add_layer(data, up.name, raw, replace_existing=replace_ok, sheet=sheet)
        except LayerExistsError as exc:
            st.warning(f"{exc}. Tick “Replace my existing layer” and save again.")
        except CivicDataError as exc:
            st.error("Not saved: every problem found is listed below.")
            st.code(str(exc), language=None, wrap_lines=True)
        else:
            st.success(f"Saved layer {desc.id}: {report.rows:,} rows, {report.ok:,} values, {report.suppressed:,} "
                       f"suppressed, {report.missing:,} blank.")
    _shared.footer()

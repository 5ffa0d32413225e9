"""Health: ONS life expectancy by MSOA 2011, NHS sites (2014-2025), current ODS services, NHS trusts (ODS etr c. July 2026 with successors), QOF prevalence by practice."""

from __future__ import annotations

import csv
from pathlib import Path

import geopandas as gpd
import pandas as pd

from civicdata import settings
from civicdata.build.io import Bundle, _raise, _read_geo, _src, _write, _write_layer
from civicdata.build.sources import SOURCES
from civicdata.errors import Problem
from civicdata.geo.names import readable_org_name
from civicdata.indicators.families import QOF_REGISTERS
from civicdata.readers import (
    MSOA_RE,
    WARD_RE,
    check_codes,
    check_unique,
    read_text_table,
    require_columns,
    to_number,
)

NHS_CHOICES_SEP = "\u00ac"  # the ¬ character (0xAC in latin-1)



def build_life_expectancy(sources: Path, bundle: Bundle) -> pd.DataFrame:
    """ONS REQ3292 life expectancy at birth by MSOA 2011 (2016-2020), males/females/persons with 95% CI."""
    problems: list[Problem] = []
    path, label = _src(sources, "le_msoa11")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "life expectancy")
    try:
        f = pd.read_excel(path, sheet_name="Data", dtype=str, keep_default_na=False, engine="openpyxl")
    except ValueError as exc:
        _raise([Problem(label, f"cannot read sheet 'Data': {exc}")], "life expectancy")
    except Exception as exc:  # zipfile/openpyxl errors for a corrupt workbook
        _raise([Problem(label, f"not a readable .xlsx workbook: {exc}")], "life expectancy")
    le, lo, hi = ("Life Expectancy at birth (in years)", "Lower 95% confidence interval",
                  "Upper 95% confidence interval")
    if require_columns(f, ["Code", "Code Name", "Sex", "No of Deaths", "Population", le, lo, hi],
                       label=label, problems=problems):
        check_codes(f, "Code", MSOA_RE, label=label, problems=problems)
        bad_sex = ~f["Sex"].isin(["Males", "Females", "Persons"])
        for i in f.index[bad_sex][:5]:
            problems.append(Problem(label, f"unknown sex '{f.at[i, 'Sex']}'", row=int(i) + 2, column="Sex"))
        long = pd.DataFrame({"msoa11_code": f["Code"].str.strip(), "msoa11_name": f["Code Name"],
                             "sex": f["Sex"].str.lower().map({"males": "male", "females": "female",
                                                              "persons": "persons"}),
                             "le": to_number(f, le, label=label, problems=problems),
                             "lower": to_number(f, lo, label=label, problems=problems),
                             "upper": to_number(f, hi, label=label, problems=problems),
                             "deaths": to_number(f, "No of Deaths", label=label, problems=problems),
                             "population": to_number(f, "Population", label=label, problems=problems)})
        dup = long.duplicated(["msoa11_code", "sex"])
        for i in long.index[dup][:5]:
            problems.append(Problem(label, "duplicate MSOA and sex", row=int(i) + 2, column="Code"))
    _raise(problems, "life expectancy")
    long = long[long["msoa11_code"].str.startswith("E")]  # the file also holds Welsh MSOAs
    wide = long.pivot(index=["msoa11_code", "msoa11_name"], columns="sex",
                      values=["le", "lower", "upper", "deaths", "population"])
    out = pd.DataFrame(index=wide.index)
    for sex in ("male", "female", "persons"):
        out[f"le_{sex}"] = wide[("le", sex)]
        out[f"le_{sex}_lower"] = wide[("lower", sex)]
        out[f"le_{sex}_upper"] = wide[("upper", sex)]
        out[f"deaths_{sex}"] = wide[("deaths", sex)]
        out[f"population_{sex}"] = wide[("population", sex)]
    out = out.reset_index().sort_values("msoa11_code")
    _write(out, bundle.out / "indicators" / "life_expectancy_msoa11.parquet")
    n_missing = int(out["le_male"].isna().sum())
    bundle.record("life_expectancy_msoa11", ["indicators/life_expectancy_msoa11.parquet"], ["le_msoa11"],
                  len(out), "MSOA 2011", "Life expectancy at birth, 2016-2020",
                  note=f"{n_missing} MSOAs have no published male estimate (left missing, never imputed)")
    src = SOURCES["le_msoa11"]
    for sex in ("male", "female", "persons"):
        _write_layer(bundle, "indicators", {
            "id": f"le_{sex}", "title": f"Life expectancy at birth, {sex if sex != 'persons' else 'all persons'} (2016-20)",
            "description": ("Life expectancy at birth in years, MSOA 2011, pooled 2016 to 2020, with 95% "
                            "confidence interval. Some MSOAs have no published estimate."),
            "unit": "years", "polarity": "higher_is_better", "geography": "msoa11",
            "file": "life_expectancy_msoa11.parquet", "key_column": "msoa11_code", "value_column": f"le_{sex}",
            "ci_lower_column": f"le_{sex}_lower", "ci_upper_column": f"le_{sex}_upper",
            "name_column": "msoa11_name", "source": f"{src.publisher}, {src.title}", "source_url": src.url,
            "licence": src.licence, "vintage": "2016-2020", "theme": "health", "valid_min": 0, "valid_max": 120})
    return out



SERVICE_COLUMNS = ["service_id", "name", "service_type", "subtype", "postcode", "ods_code", "parent_code",
                   "parent_name", "lat", "lon", "vintage"]



def _services_frame(**cols) -> pd.DataFrame:
    n = len(next(iter(v for v in cols.values() if not isinstance(v, str))))
    out = pd.DataFrame({c: cols.get(c, pd.Series([pd.NA] * n)) for c in SERVICE_COLUMNS})
    for c in SERVICE_COLUMNS:
        if c not in ("lat", "lon"):
            out[c] = out[c].astype("string")
    return out



def _nhs_csv(sources: Path, key: str, sep: str, encoding: str, problems: list[Problem],
             service_type: str, vintage: str) -> pd.DataFrame | None:
    path, label = _src(sources, key)
    f = read_text_table(path, label=label, sep=sep, encoding=encoding, problems=problems)
    if f is None or not require_columns(f, ["OrganisationCode", "OrganisationName", "Postcode", "Latitude", "Longitude"],
                                        label=label, problems=problems):
        return None
    lat = to_number(f, "Latitude", label=label, problems=problems)
    lon = to_number(f, "Longitude", label=label, problems=problems)
    out = _services_frame(
        service_id=key + ":" + f["OrganisationCode"].where(f["OrganisationCode"] != "", "row" + (f.index + 2).astype(str)),
        name=f["OrganisationName"], service_type=pd.Series([service_type] * len(f)),
        subtype=f.get("SubType", pd.Series([pd.NA] * len(f))), postcode=f["Postcode"],
        ods_code=f["OrganisationCode"], parent_code=f.get("ParentODSCode", pd.Series([pd.NA] * len(f))),
        parent_name=f.get("ParentName", pd.Series([pd.NA] * len(f))), lat=lat, lon=lon,
        vintage=pd.Series([vintage] * len(f)))
    return out



def build_services(sources: Path, bundle: Bundle) -> None:
    """Health services as points, one file and one point layer per dataset, each with its vintage."""
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    sep14 = NHS_CHOICES_SEP
    for key, stype in (("nhs2014_clinics", "clinic"), ("nhs2014_gp_practices", "gp"),
                       ("nhs2014_hospitals", "hospital"), ("nhs2014_pharmacies", "pharmacy")):
        f = _nhs_csv(sources, key, sep14, "latin-1", problems, stype, "2014-02")
        if f is not None:
            frames[key] = f
    for key, stype in (("nhs2016_clinics", "clinic"), ("nhs2016_hospitals", "hospital")):
        f = _nhs_csv(sources, key, ",", "cp1252", problems, stype, "~2016")
        if f is not None:
            frames[key] = f
    # hospitals and trust HQs 2022 (GeoParquet points)
    for key, stype, name_col in (("hospitals22", "hospital", "hospital22_name"),
                                 ("nhs_trusts22", "trust_hq", "nhs_trust22_name")):
        path, label = _src(sources, key)
        g = _read_geo(path, label, name_col, r".+", problems)
        if g is None:
            continue
        pts = g.geometry
        frames[key] = _services_frame(
            service_id=key + ":" + (g.get("nhs_trust22_code", pd.Series(g.index.astype(str), index=g.index))).astype(str).values,
            name=g[name_col].values, service_type=pd.Series([stype] * len(g)),
            ods_code=g["nhs_trust22_code"].values if "nhs_trust22_code" in g else pd.Series([pd.NA] * len(g)),
            subtype=g["status"].values if "status" in g else pd.Series([pd.NA] * len(g)),
            lat=pts.y.values, lon=pts.x.values, vintage=pd.Series(["2022"] * len(g)))
    # GM hospitals: site polygons -> a point inside each site
    path, label = _src(sources, "gm_hospitals")
    g = _read_geo(path, label, "DISTNAME", r".+", problems)
    if g is not None:
        rp = g.to_crs(settings.BNG).geometry.representative_point().to_crs(settings.WGS84)
        frames["gm_hospitals"] = _services_frame(
            service_id="gm_hospitals:" + g["ID"].astype(str).values, name=g["DISTNAME"].values,
            service_type=pd.Series(["hospital"] * len(g)), subtype=g["CLASSIFICA"].values,
            lat=rp.y.values, lon=rp.x.values, vintage=pd.Series(["2020s"] * len(g)))
    for key, stype, cols in (("gm_dentists", "dentist", ("name", "postcode", "lon", "lat")),
                             ("trafford_gps", "gp", ("name", "postcode", "lon", "lat"))):
        path, label = _src(sources, key)
        f = read_text_table(path, label=label, problems=problems)
        if f is None or not require_columns(f, list(cols), label=label, problems=problems):
            continue
        frames[key] = _services_frame(
            service_id=key + ":" + f["postcode"] + ":" + (f.index + 2).astype(str), name=f["name"],
            service_type=pd.Series([stype] * len(f)), postcode=f["postcode"],
            lat=to_number(f, "lat", label=label, problems=problems),
            lon=to_number(f, "lon", label=label, problems=problems),
            vintage=pd.Series([SOURCES[key].vintage] * len(f)))
    _raise(problems, "health services")

    titles = {"nhs2014_clinics": "Clinics (NHS Choices, Feb 2014)",
              "nhs2014_gp_practices": "GP practices (NHS Choices, Feb 2014)",
              "nhs2014_hospitals": "Hospitals (NHS Choices, Feb 2014)",
              "nhs2014_pharmacies": "Pharmacies (NHS Choices, Feb 2014)",
              "nhs2016_clinics": "Clinics (NHS website, ~2016)", "nhs2016_hospitals": "Hospitals (NHS website, ~2016)",
              "hospitals22": "Hospitals, England (2022)", "nhs_trusts22": "NHS trust headquarters (2022)",
              "gm_hospitals": "Hospital sites, Greater Manchester", "gm_dentists": "Dentists, Greater Manchester",
              "trafford_gps": "GP practices, Trafford (Jan 2026)"}
    for key, frame in frames.items():
        inside = frame["lat"].between(49.8, 55.9) & frame["lon"].between(-6.5, 2.0)
        dropped = int((~inside).sum())
        frame = frame[inside].sort_values("service_id", kind="stable").drop_duplicates("service_id")
        path = f"services/{key}.parquet"
        _write(frame, bundle.out / path)
        bundle.record(key, [path], [key], len(frame), "point (WGS84)", titles[key],
                      note=(f"{dropped} rows without coordinates in England dropped" if dropped else ""))
        src = SOURCES[key]
        _write_layer(bundle, "services", {
            "id": key, "title": titles[key], "description": f"{src.title}. Vintage {src.vintage}: services may have "
            "moved or closed since.", "unit": "services", "polarity": "neutral", "geography": "point",
            "file": f"{key}.parquet", "lat_column": "lat", "lon_column": "lon", "name_column": "name",
            "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
            "vintage": src.vintage, "theme": "services"})

    path, label = _src(sources, "gm_pharmacies")
    f = read_text_table(path, label=label, problems=problems)
    cols = ["pharmacy_name", "postcode", "organisation_data_service_code", "ward_code", "ward_name", "la_code", "la_name"]
    if f is not None and require_columns(f, cols, label=label, problems=problems):
        check_codes(f, "ward_code", WARD_RE, label=label, problems=problems)
    _raise(problems, "GM pharmacies")
    ph = f[cols].rename(columns={"pharmacy_name": "name", "organisation_data_service_code": "ods_code",
                                 "ward_code": "ward_code", "la_code": "lad_code", "la_name": "lad_name"})
    ph = ph.sort_values(["ods_code", "name"])
    _write(ph, bundle.out / "services" / "gm_pharmacies_by_ward.parquet")
    bundle.record("gm_pharmacies_by_ward", ["services/gm_pharmacies_by_ward.parquet"], ["gm_pharmacies"], len(ph),
                  "ward (2023)", "Community pharmacies, Greater Manchester (no coordinates: counted by ward)")



#: the four mental-health trusts whose sites make up most of the ODS care-trust-site file (code prefix -> trust)
CARE_TRUSTS = {"TAH": "Sheffield Health and Social Care NHS Foundation Trust",
               "TAJ": "Black Country Healthcare NHS Foundation Trust",
               "TAD": "Bradford District Care NHS Foundation Trust",
               "TAF": "Camden and Islington NHS Foundation Trust"}



CAMHS_NOTE = ("Coverage is partial: ODS lists care-trust sites mainly for four mental-health trusts (Sheffield, "
              "Black Country, Bradford, Camden and Islington); CAMHS sites elsewhere are not in this layer.")



def _ods_geo(sources: Path, key: str, problems: list[Problem]) -> pd.DataFrame | None:
    """An ODS file geocoded by the NHS Transformation Unit: ODS_Code, Name, geo_match, LAT, LON."""
    path, label = _src(sources, key)
    f = read_text_table(path, label=label, problems=problems)
    if f is None or not require_columns(f, ["ODS_Code", "Name", "geo_match", "LAT", "LON"], label=label,
                                        problems=problems):
        return None
    check_unique(f, "ODS_Code", label=label, problems=problems)
    f["lat"] = to_number(f, "LAT", label=label, problems=problems)
    f["lon"] = to_number(f, "LON", label=label, problems=problems)
    return f



def build_services_2025(sources: Path, bundle: Bundle) -> dict[str, str]:
    """Current NHS sites: active GP practices 2025, pharmacies 2025, care-trust sites 2025 (CAMHS marked),
    NHS website hospitals c. 2022 with their parent trust. Returns a note per layer (rows dropped and why)."""
    problems: list[Problem] = []
    frames: dict[str, pd.DataFrame] = {}
    notes: dict[str, str] = {}
    gp = _ods_geo(sources, "gp_practices2025", problems)
    path, label = _src(sources, "epraccur2025")
    ep = read_text_table(path, label=label, header=False, problems=problems)
    if ep is not None and ep.shape[1] < 26:
        problems.append(Problem(label, f"{ep.shape[1]} columns; the ODS layout has 27 (status in 13, setting in 26)"))
    _raise(problems, "current GP practices")
    ep = ep.rename(columns={0: "ods_code", 9: "postcode", 12: "status", 25: "setting"})
    m = gp.merge(ep[["ods_code", "postcode", "status", "setting"]], left_on="ODS_Code", right_on="ods_code", how="left")
    no_ep = m["status"].isna()
    inactive = ~no_ep & (m["status"] != "A")
    not_gp = ~no_ep & ~inactive & (m["setting"] != "4")
    no_xy = ~no_ep & ~inactive & ~not_gp & (m["lat"].isna() | m["lon"].isna())
    keep = ~(no_ep | inactive | not_gp | no_xy)
    statuses = ", ".join(f"{s}: {n}" for s, n in m.loc[inactive, "status"].value_counts().sort_index().items())
    notes["gp_practices2025"] = (f"{int(keep.sum()):,} active GP practices kept of {len(m):,} ODS rows; dropped: "
                                 f"{int(no_ep.sum())} not in epraccur (Sep 2025), {int(inactive.sum())} not active "
                                 f"(status {statuses or 'none'}), {int(not_gp.sum())} not GP practices (prescribing "
                                 f"setting other than 4: out-of-hours, clinics, prisons…), {int(no_xy.sum())} without "
                                 "coordinates")
    g = m[keep]
    frames["gp_practices2025"] = _services_frame(
        service_id="gp2025:" + g["ODS_Code"].values, name=g["Name"].values, service_type=pd.Series(["gp"] * len(g)),
        subtype=g["geo_match"].values, postcode=g["postcode"].values, ods_code=g["ODS_Code"].values,
        lat=g["lat"].values, lon=g["lon"].values, vintage=pd.Series(["2025"] * len(g)))
    ph = _ods_geo(sources, "pharmacies2025", problems)
    cts = _ods_geo(sources, "care_trust_sites2025", problems)
    _raise(problems, "current NHS sites")
    for key, f, stype in (("pharmacies2025", ph, "pharmacy"), ("care_trust_sites2025", cts, "care trust site")):
        ok = f["lat"].notna() & f["lon"].notna()
        notes[key] = f"{int(ok.sum()):,} of {len(f):,} ODS rows; {int((~ok).sum())} without coordinates dropped"
        f = f[ok]
        subtype = f["geo_match"]
        parent_code = pd.Series([pd.NA] * len(f))
        parent_name = pd.Series([pd.NA] * len(f))
        if key == "care_trust_sites2025":
            camhs = f["Name"].str.contains(r"\bCAMHS\b", regex=True)
            subtype = camhs.map({True: "CAMHS", False: "other site"})
            parent_code = f["ODS_Code"].str[:3]
            parent_name = parent_code.map(CARE_TRUSTS)
            notes[key] += f"; {int(camhs.sum())} CAMHS sites (name contains CAMHS). {CAMHS_NOTE}"
        frames[key] = _services_frame(
            service_id=key + ":" + f["ODS_Code"].values, name=f["Name"].values,
            service_type=pd.Series([stype] * len(f)), subtype=subtype.values, ods_code=f["ODS_Code"].values,
            parent_code=pd.Series(parent_code).values, parent_name=pd.Series(parent_name).values,
            lat=f["lat"].values, lon=f["lon"].values, vintage=pd.Series(["2025"] * len(f)))
    # NHS website hospitals: every data row has one more field than the header (a leading row index)
    path, label = _src(sources, "nhs_hospitals_c2022")
    if not path.is_file():
        _raise([Problem(label, "file is missing")], "NHS website hospitals")
    with open(path, encoding="utf-8-sig", newline="") as fh:
        cols = ["row_index"] + next(csv.reader(fh))
    rows = read_text_table(path, label=label, header=False, names=cols, problems=problems)
    _raise(problems, "NHS website hospitals")
    h = rows.iloc[1:].reset_index(drop=True)  # row 0 is the header line itself
    if not require_columns(h, ["OrganisationCode", "OrganisationName", "SubType", "Postcode", "Latitude", "Longitude",
                               "ParentODSCode", "ParentName"], label=label, problems=problems):
        _raise(problems, "NHS website hospitals")
    h["lat"] = to_number(h, "Latitude", label=label, problems=problems)
    h["lon"] = to_number(h, "Longitude", label=label, problems=problems)
    _raise(problems, "NHS website hospitals")
    ok = h["lat"].notna() & h["lon"].notna()
    notes["nhs_hospitals_c2022"] = (f"{int(ok.sum()):,} of {len(h):,} rows; {int((~ok).sum())} without coordinates "
                                    "dropped; parent organisation = the NHS trust running the hospital")
    h = h[ok]
    frames["nhs_hospitals_c2022"] = _services_frame(
        service_id="nhs_hospitals_c2022:" + h["OrganisationCode"].values, name=h["OrganisationName"].values,
        service_type=pd.Series(["hospital"] * len(h)), subtype=h["SubType"].values, postcode=h["Postcode"].values,
        ods_code=h["OrganisationCode"].values, parent_code=h["ParentODSCode"].values,
        parent_name=h["ParentName"].values, lat=h["lat"].values, lon=h["lon"].values,
        vintage=pd.Series(["c. 2022"] * len(h)))
    titles = {"gp_practices2025": "GP practices (ODS, 2025)", "pharmacies2025": "Pharmacies (ODS, 2025)",
              "care_trust_sites2025": "Care trust sites incl. CAMHS (ODS, 2025; four trusts only)",
              "nhs_hospitals_c2022": "Hospitals with their NHS trust (NHS website, c. 2022)"}
    for key, frame in frames.items():
        frame = frame.sort_values("service_id", kind="stable").drop_duplicates("service_id")
        out = f"services/{key}.parquet"
        _write(frame, bundle.out / out)
        bundle.record(key, [out], [key, "epraccur2025"] if key == "gp_practices2025" else [key], len(frame),
                      "point (WGS84)", titles[key], note=notes[key])
        src = SOURCES[key]
        desc = f"{src.title}. Vintage {src.vintage}. {notes[key]}."
        _write_layer(bundle, "services", {
            "id": key, "title": titles[key], "description": desc, "unit": "services", "polarity": "neutral",
            "geography": "point", "file": f"{key}.parquet", "lat_column": "lat", "lon_column": "lon",
            "name_column": "name", "source": f"{src.publisher}, {src.title}", "source_url": src.url,
            "licence": src.licence, "vintage": src.vintage, "theme": "services"})
    return notes



def build_nhs_trusts(sources: Path, bundle: Bundle) -> None:
    """NHS trusts as they are now: ODS ``etr`` (c. July 2026, open and closed), each closed trust's successor
    followed through the ODS successor table (to about October 2022) to its latest code, and each trust's
    headquarters located by its postcode. Writes ``services/nhs_trusts_ods.parquet``: ``ods_code``, ``name``
    (readable case), ``ods_name``, ``postcode``, ``open_date``, ``close_date`` (ISO; empty = open), ``is_open``,
    ``successor_code`` (the open trust a closed one became; empty when the table does not say), ``lat``/``lon``
    (WGS84, headquarters postcode; empty when not found)."""
    problems: list[Problem] = []
    path, label = _src(sources, "ods_etr2026")
    etr = read_text_table(path, label=label, header=False, problems=problems)
    if etr is not None and etr.shape[1] < 12:
        problems.append(Problem(label, f"{etr.shape[1]} columns; the ODS layout has 27 (close date in 12)"))
    spath, slabel = _src(sources, "ods_succ2022")
    succ = read_text_table(spath, label=slabel, problems=problems)
    if succ is not None:
        require_columns(succ, ["old_code", "new_code", "date"], label=slabel, problems=problems)
    hpath, hlabel = _src(sources, "trust_hq_postcodes")
    hq = read_text_table(hpath, label=hlabel, problems=problems)
    if hq is not None and require_columns(hq, ["pcds", "lat", "long"], label=hlabel, problems=problems):
        hq["lat"] = to_number(hq, "lat", label=hlabel, problems=problems)
        hq["lon"] = to_number(hq, "long", label=hlabel, problems=problems)
    _raise(problems, "NHS trusts (ODS)")
    etr = etr.rename(columns={0: "ods_code", 1: "ods_name", 9: "postcode", 10: "open_date", 11: "close_date"})
    check_unique(etr, "ods_code", label=label, problems=problems)
    _raise(problems, "NHS trusts (ODS)")

    def iso(v: pd.Series) -> pd.Series:
        v = v.fillna("").astype(str).str.strip()
        return v.where(v == "", v.str[:4] + "-" + v.str[4:6] + "-" + v.str[6:8])

    f = pd.DataFrame({"ods_code": etr["ods_code"].astype(str).str.strip(),
                      "name": etr["ods_name"].map(readable_org_name), "ods_name": etr["ods_name"].astype(str),
                      "postcode": etr["postcode"].fillna("").astype(str).str.strip(),
                      "open_date": iso(etr["open_date"]), "close_date": iso(etr["close_date"])})
    f["is_open"] = f["close_date"] == ""
    is_open = dict(zip(f["ods_code"], f["is_open"]))
    nxt = succ.sort_values("date", kind="stable").drop_duplicates("old_code", keep="last")
    nxt = dict(zip(nxt["old_code"].astype(str), nxt["new_code"].astype(str)))

    def successor(code: str) -> str:
        seen, c = {code}, code
        while c in nxt and nxt[c] not in seen:
            c = nxt[c]
            seen.add(c)
        return c if c != code and is_open.get(c, False) else ""

    f["successor_code"] = [("" if o else successor(c)) for c, o in zip(f["ods_code"], f["is_open"])]
    where = hq.drop_duplicates("pcds").set_index("pcds")
    f["lat"] = f["postcode"].map(where["lat"]).astype(float)
    f["lon"] = f["postcode"].map(where["lon"]).astype(float)
    f = f.sort_values("ods_code", kind="stable")
    out = "services/nhs_trusts_ods.parquet"
    _write(f, bundle.out / out)
    n_open = int(f["is_open"].sum())
    located = int((f["is_open"] & f["lat"].notna()).sum())
    bundle.record("nhs_trusts_ods", [out], ["ods_etr2026", "ods_succ2022", "trust_hq_postcodes"], len(f), "ODS code",
                  "NHS trusts, open and closed, with successors and headquarters (ODS etr c. July 2026)",
                  note=(f"{n_open} open trusts, {len(f) - n_open} closed; {int((f['successor_code'] != '').sum())} "
                        f"closed trusts followed to an open successor (successor table to Oct 2022: trusts closed "
                        f"later have none); headquarters located for {located} of the {n_open} open trusts "
                        "(postcode coordinates, provisional)"))



def build_qof(sources: Path, bundle: Bundle) -> None:
    """QOF 2022-23 prevalence by GP practice for asthma, depression, SMI and obesity, placed at the
    practice's 2025 location (active ODS GP practices) and its LSOA 2021 (the national boundary holding it).

    ``indicators/qof2023_practices.parquet``: ``practice_code``, ``practice_name``, ``lat``, ``lon``,
    ``lsoa21_code`` (null where the practice has no current location), ``icb_code`` (ONS), ``icb_name``,
    and per register ``<x>_register``, ``<x>_list`` (the list QOF uses for it), ``<x>_pct``
    (register / list × 100).
    """
    problems: list[Problem] = []
    path, label = _src(sources, "qof2023")
    q = read_text_table(path, label=label, problems=problems)
    gpath, glabel = _src(sources, "qof2023_geographies")
    geo = read_text_table(gpath, label=glabel, problems=problems)
    if q is not None:
        require_columns(q, ["PRACTICE_CODE", "GROUP_CODE", "REGISTER", "PATIENT_LIST_TYPE", "PRACTICE_LIST_SIZE"],
                        label=label, problems=problems)
    if geo is not None:
        require_columns(geo, ["PRACTICE_CODE", "PRACTICE_NAME", "ICB_ONS_CODE", "ICB_NAME"], label=glabel,
                        problems=problems)
    _raise(problems, "QOF prevalence")
    check_unique(geo, "PRACTICE_CODE", label=glabel, problems=problems)
    q["register"] = to_number(q, "REGISTER", label=label, problems=problems)
    q["list"] = to_number(q, "PRACTICE_LIST_SIZE", label=label, problems=problems)
    out = geo[["PRACTICE_CODE", "PRACTICE_NAME", "ICB_ONS_CODE", "ICB_NAME"]].set_axis(
        ["practice_code", "practice_name", "icb_code", "icb_name"], axis=1)
    for key, (group, list_type, _, _) in QOF_REGISTERS.items():
        r = q[q["GROUP_CODE"] == group]
        for i in r.index[r["PATIENT_LIST_TYPE"] != list_type][:5]:
            problems.append(Problem(label, f"{group} should be on list {list_type}, not {r.at[i, 'PATIENT_LIST_TYPE']}",
                                    row=int(i) + 2, column="PATIENT_LIST_TYPE"))
        r = r.drop_duplicates("PRACTICE_CODE").set_index("PRACTICE_CODE")
        out[f"{key}_register"] = out["practice_code"].map(r["register"])
        out[f"{key}_list"] = out["practice_code"].map(r["list"])
        pct = out[f"{key}_register"] / out[f"{key}_list"].where(out[f"{key}_list"] > 0) * 100
        out[f"{key}_pct"] = pct.round(4)
    _raise(problems, "QOF prevalence")
    gp = pd.read_parquet(bundle.out / "services" / "gp_practices2025.parquet")[["ods_code", "lat", "lon"]]
    out = out.merge(gp.rename(columns={"ods_code": "practice_code"}), on="practice_code", how="left")
    located = out["lat"].notna()
    pts = gpd.GeoDataFrame(out.loc[located, ["practice_code"]],
                           geometry=gpd.points_from_xy(out.loc[located, "lon"], out.loc[located, "lat"]),
                           crs=settings.WGS84)
    b21 = gpd.read_parquet(bundle.out / "geography" / "districts" / "lsoa21.parquet")[["lsoa21_code", "geometry"]]
    hit = gpd.sjoin(pts, b21, predicate="within", how="left")
    hit = hit[~hit.index.duplicated()]
    out["lsoa21_code"] = hit["lsoa21_code"].reindex(out.index)
    out = out.sort_values("practice_code").reset_index(drop=True)
    no_loc = int((~located).sum())
    note = (f"{len(out):,} practices in QOF 2022-23; {no_loc} have no current location (not an active GP practice "
            f"in ODS 2025: closed or merged since) and are kept, unplaced; LSOA 2021 = the ONS generalised (BGC) "
            f"boundary holding the 2025 location")
    rel = "indicators/qof2023_practices.parquet"
    _write(out, bundle.out / rel)
    bundle.record("qof2023_practices", [rel], ["qof2023", "qof2023_geographies", "gp_practices2025"], len(out),
                  "GP practice (ODS code)", "QOF 2022-23 prevalence by practice: asthma, depression, SMI, obesity",
                  note=note)
    src = SOURCES["qof2023"]
    for key, (group, list_type, title, words) in QOF_REGISTERS.items():
        _write_layer(bundle, "indicators", {
            "id": f"qof2023_{key}_pct", "title": title,
            "description": (f"Patients on the practice's QOF {group} register as a share of its {words} (the list "
                            f"QOF uses for this register), 2022-23, by GP practice. {note}."),
            "unit": "%", "polarity": "higher_is_worse", "geography": "practice", "file": "qof2023_practices.parquet",
            "key_column": "practice_code", "value_column": f"{key}_pct", "name_column": "practice_name",
            "lat_column": "lat", "lon_column": "lon", "weight_column": f"{key}_list",
            "source": f"{src.publisher}, {src.title}", "source_url": src.url, "licence": src.licence,
            "vintage": src.vintage, "theme": "health",
            "coverage": "only areas with a GP practice located in them (at its 2025 location)"})

"""Local-authority time series: is it getting worse, and is it unusual for places like this one?

The bundle's ``data/trends/series.parquet`` holds 17 series from ONS Explore Local Statistics (ELS) for
England, its regions and every local authority, one row per area and period, with 95% confidence
intervals where the publisher gives them. Each indicator has a descriptor (``data/trends/<id>.toml``,
fields in :data:`TREND_FIELDS`). Codes are ELS's (2023+ boundaries); the app's places are LAD 2024.

Three rules, stated wherever a result is shown (:data:`TREND_RULE`, :data:`SIGNIFICANCE_RULE`,
:data:`SERIES_RULE`):

* **which series stands for a place** — the place's own code; else the code it was re-coded to (same
  name, same type); else, for a two-tier district, its county's (upper tier) with that said;
* **breaks** — a re-formed authority (Cumberland, North Yorkshire, Somerset, Buckinghamshire, North and
  West Northamptonshire…) is a different area from its predecessors: their periods are returned as
  separate segments, never joined to the new authority's line;
* **trend and significance** — see the rule texts.
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from civicdata.indicators import peers
from civicdata import settings
from civicdata.indicators.catalogue import POLARITIES, Field
from civicdata.errors import CivicDataError, UnknownAreaError
from civicdata.geo.geography import load_bundled

ENGLAND = settings.ENGLAND_CODE

#: Every trend descriptor key (``data/trends/<id>.toml``); the README documents each (a test checks it).
TREND_FIELDS: tuple[Field, ...] = (
    Field("id", str, True, "indicator id, `[a-z0-9_]`"),
    Field("title", str, True, "short human title"),
    Field("description", str, True, "what the number measures (the publisher's subtitle)"),
    Field("unit", str, True, "unit of the value (`%`, `years`, `£`, `per 100,000 (age-standardised)`)"),
    Field("polarity", str, True, "`higher_is_worse` | `higher_is_better` (ours: ELS gives none)"),
    Field("period_type", str, True, "`3-year pooled`, `academic year`, `financial year`, `calendar year`, …"),
    Field("decimals", int, True, "decimal places the publisher shows"),
    Field("publisher", str, True, "who publishes the statistic (ELS's `sourceOrg`)"),
    Field("source_url", str, True, "the publisher's page (ELS's `sourceURL`)"),
    Field("source_date", str, True, "the publisher's release date, DD/MM/YYYY (ELS's `sourceDate`)"),
    Field("compiled_by", str, True, "who compiled the series we read (ONS Explore Local Statistics)"),
    Field("licence", str, True, "licence"),
    Field("els_indicator", str, True, "the indicator's label in the ELS file"),
    Field("els_folder", str, True, "the ELS folder under `../shared/data/trends/`"),
    Field("tier", str, True, "`lower` (published for districts) or `upper` (counties and unitaries only)"),
    Field("has_ci", bool, True, "whether 95% confidence intervals are published"),
    Field("periods", int, True, "number of periods in the series"),
    Field("first_period", str, True, "label of the first period"),
    Field("latest_period", str, True, "label of the latest period"),
    Field("caveats", str, False, "the publisher's caveats, as ELS gives them"),
)

TREND_RULE = ("Trend rule: the last four periods published for the area (three changes). “Worse (or better) in "
              "each of the last three periods” when every change goes the same way; otherwise “worse (better) than "
              "three periods ago” when the latest value and the one three periods earlier differ by more than their "
              "95% confidence intervals allow (the intervals do not overlap) or, for figures published without "
              "intervals, by more than 5% of the earlier value; otherwise “no clear change”. Fewer than four "
              "periods: “too few periods to say”. A series break (a re-formed authority) starts the count again.")
SIGNIFICANCE_RULE = ("Compared with England: where the area's figure has a 95% confidence interval, it is "
                     "“significantly worse (better) than England” when the whole interval lies on the worse (better) "
                     "side of England's value, and “similar to England” when the interval includes it. Figures "
                     "published without intervals are only “higher/lower than England”: no test is possible.")
SERIES_RULE = ("Which series: the place's own; for a district whose figure is published only for counties, the "
               "county's (said beside it). A re-formed authority's predecessors are different areas: their "
               "earlier periods are drawn as separate lines after a break, never joined to the new authority's.")
SPINE_RULE = ("Spine: each indicator's latest value placed among England's local authorities with a value for "
              "that period (districts, unitaries, metropolitan districts and London boroughs for indicators published "
              "for districts; counties and unitaries for the rest, and for a county). Position = the share of those authorities the "
              "place is doing better than (0 = worst, 100 = best), so worse is always on the left whatever the "
              "indicator's direction. The band is the middle half (25th–75th percentile) of authorities.")
WORSENING_RULE = ("Getting worse, as a number: the latest value minus the value three periods earlier, in the "
                  "indicator's unit, signed so that a positive number means worse (the trend rule's own window).")
CHANGE_TOLERANCE = 0.05


class UnknownIndicatorError(CivicDataError, KeyError):
    """No trend indicator has this id; the message suggests close ids."""

    def __str__(self) -> str:
        return str(self.args[0])


@dataclass(frozen=True)
class TrendIndicator:
    """A validated trend descriptor (see :data:`TREND_FIELDS`)."""

    id: str
    title: str
    description: str
    unit: str
    polarity: str
    period_type: str
    decimals: int
    publisher: str
    source_url: str
    source_date: str
    compiled_by: str
    licence: str
    els_indicator: str
    els_folder: str
    tier: str
    has_ci: bool
    periods: int
    first_period: str
    latest_period: str
    caveats: str = ""

    @property
    def source(self) -> str:
        return f"{self.publisher}, via {self.compiled_by} (released {self.source_date})"

    def number(self, value: float | None) -> str | None:
        """The value in the publisher's decimals, with thousands separators and no unit; None when missing."""
        if value is None or pd.isna(value):
            return None
        return f"{value:,.{self.decimals}f}"

    def fmt(self, value: float | None) -> str:
        """The value as the publisher shows it, with its unit."""
        num = self.number(value)
        if num is None:
            return "no value"
        if self.unit == "£":
            return f"£{num}"
        if self.unit == "%":
            return f"{num}%"
        return f"{num} {self.unit}"

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in TREND_FIELDS}


def _dir(data_dir: Path | None) -> Path:
    return (data_dir or settings.data_dir()) / "trends"


@lru_cache(maxsize=4)
def _indicators(folder: str, stamp: tuple) -> dict[str, TrendIndicator]:
    out = {}
    for p in sorted(Path(folder).glob("*.toml")):
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
        problems = [f"missing key {f.name!r}" for f in TREND_FIELDS if f.required and f.name not in raw]
        problems += [f"{k!r} should be {f.type.__name__}" for f in TREND_FIELDS
                     if (k := f.name) in raw and not isinstance(raw[k], f.type)]
        if raw.get("polarity") not in POLARITIES:
            problems.append(f"polarity {raw.get('polarity')!r} is not one of {', '.join(POLARITIES)}")
        if problems:
            raise ValueError(f"{p}: " + "; ".join(problems))
        out[raw["id"]] = TrendIndicator(**{f.name: raw.get(f.name, "") for f in TREND_FIELDS})
    return out


def load_indicators(data_dir: Path | None = None) -> dict[str, TrendIndicator]:
    """Every trend indicator, by id, in file-name order."""
    folder = _dir(data_dir)
    stamp = tuple((p.name, p.stat().st_mtime_ns) for p in sorted(folder.glob("*.toml")))
    return _indicators(str(folder), stamp)


def get_indicator(indicator_id: str, data_dir: Path | None = None) -> TrendIndicator:
    """One indicator; :class:`UnknownIndicatorError` naming close ids if there is none."""
    inds = load_indicators(data_dir)
    if indicator_id in inds:
        return inds[indicator_id]
    close = difflib.get_close_matches(indicator_id, list(inds), n=3, cutoff=0.5)
    raise UnknownIndicatorError(f"no trend indicator {indicator_id!r}."
                                + (f" Did you mean {', '.join(close)}?" if close else "")
                                + f" Known: {', '.join(inds)}.")


def load_series(data_dir: Path | None = None) -> pd.DataFrame:
    """The tidy table: ``indicator_id, area_code, area_name, area_type, period, start, end, label, value,
    lci, uci, status, notes`` (dates ``YYYY-MM-DD``; value in the indicator's unit; status as ELS gives it,
    e.g. ``x`` not available, ``u`` unreliable)."""
    return load_bundled("trends/series.parquet", data_dir)


def load_areas(data_dir: Path | None = None) -> pd.DataFrame:
    """``area_code, area_name, area_type, obsolete_since, successor_codes, county_code, region_code``."""
    return load_bundled("trends/areas.parquet", data_dir)


@lru_cache(maxsize=4)
def _by_indicator(series: tuple[str, float], data_dir: Path | None) -> dict[str, pd.DataFrame]:
    """Each indicator's rows, and the set of area codes that have one (keyed on the series file and its mtime)."""
    s = load_series(data_dir)
    return {k: (g.reset_index(drop=True), frozenset(g["area_code"].tolist()))
            for k, g in s.groupby("indicator_id", sort=False)}


def _indicator(indicator_id: str, data_dir: Path | None) -> tuple[pd.DataFrame, frozenset[str]]:
    get_indicator(indicator_id, data_dir)
    p = _dir(data_dir) / "series.parquet"
    by = _by_indicator((str(p), p.stat().st_mtime), data_dir)
    return by.get(indicator_id) or (load_series(data_dir).iloc[:0], frozenset())


def indicator_rows(indicator_id: str, data_dir: Path | None = None) -> pd.DataFrame:
    """Every row of one indicator."""
    return _indicator(indicator_id, data_dir)[0]


def indicator_codes(indicator_id: str, data_dir: Path | None = None) -> frozenset[str]:
    """Every area code with a row for the indicator."""
    return _indicator(indicator_id, data_dir)[1]


def _area_row(code: str, data_dir: Path | None) -> pd.Series | None:
    a = load_areas(data_dir)
    r = a[a["area_code"] == code]
    return r.iloc[0] if len(r) else None


def check_area(code: str, data_dir: Path | None = None) -> tuple[str, str]:
    """``(code, name)`` of an English local authority, county, region or England known to the series or
    the app (LAD 2024); :class:`UnknownAreaError` naming close codes or names otherwise."""
    code = code.strip()
    names = peers.area_names(data_dir)
    up = code.upper()
    if up in names and up.startswith("E"):
        return up, names[up]
    by_name = {v.lower(): k for k, v in names.items() if k.startswith("E")}
    if code.lower() in by_name:
        c = by_name[code.lower()]
        return c, names[c]
    close = difflib.get_close_matches(up, [k for k in names if k.startswith("E")], n=3, cutoff=0.8)
    close += [by_name[n] for n in difflib.get_close_matches(code.lower(), list(by_name), n=3, cutoff=0.7)]
    hint = f" Did you mean {', '.join(dict.fromkeys(f'{c} ({names[c]})' for c in close))}?" if close else ""
    raise UnknownAreaError(f"{code!r} is not an English local authority, county, region or England code known to "
                           f"the trend series.{hint}")


# ---------------------------------------------------------------------------------------- one area's series

@dataclass
class Segment:
    """A run of periods for one area code: the place's own line, or a predecessor's before a break."""

    code: str
    name: str
    frame: pd.DataFrame  # start, end, label, value, lci, uci, status, notes (sorted by start)
    note: str = ""


@dataclass
class AreaSeries:
    """One indicator for one place: the series that stands for it, England's, its region's, and the
    segments of predecessor areas (different areas: drawn apart)."""

    indicator: TrendIndicator
    area_code: str
    area_name: str
    series: Segment | None
    published_for: str = ""  # why another code's series stands for this place, when it does
    before: list[Segment] = field(default_factory=list)
    region: Segment | None = None
    england: Segment | None = None

    @property
    def break_note(self) -> str:
        if not self.before or self.series is None:
            return ""
        names = "; ".join(f"{s.name} ({s.code}), {s.frame['label'].iloc[0]} to {s.frame['label'].iloc[-1]}"
                          for s in self.before)
        return (f"Series break: {self.series.name} ({self.series.code}) is published from "
                f"{self.series.frame['label'].iloc[0]}; earlier periods are for a different area: {names}. "
                "They are drawn as a separate line, not joined.")


COLUMNS = ["start", "end", "label", "value", "lci", "uci", "status", "notes"]


def _segment(rows: pd.DataFrame, code: str, note: str = "") -> Segment | None:
    r = rows[rows["area_code"] == code].sort_values("start")
    if r.empty:
        return None
    return Segment(code, r["area_name"].iloc[-1], r[COLUMNS].reset_index(drop=True), note)


def resolve_series_code(indicator_id: str, code: str, data_dir: Path | None = None) -> tuple[str | None, str]:
    """The code whose series stands for the place ``code``, and why when it is not ``code`` itself
    (:data:`SERIES_RULE`). ``(None, reason)`` when the indicator is not published for the place."""
    have = indicator_codes(indicator_id, data_dir)
    if code in have:
        return code, ""
    names = peers.area_names(data_dir)
    rec = peers.recodes(data_dir)
    if code in rec and rec[code] in have:
        return rec[code], f"published under {names.get(rec[code])}'s newer code {rec[code]} (re-coded)"
    older = [old for old, new in rec.items() if new == code and old in have]
    if older:
        return older[0], f"published under {names.get(older[0])}'s earlier code {older[0]} (re-coded)"
    row = _area_row(code, data_dir)
    ind = get_indicator(indicator_id, data_dir)
    if row is not None and row["county_code"] and row["county_code"] in have:
        c = row["county_code"]
        return c, (f"not published for districts: the figure for {names.get(c, c)} ({c}), the county "
                   f"{names.get(code, code)} is in")
    return None, f"{ind.title} is not published for {names.get(code, code)} ({code})"


def predecessors(code: str, data_dir: Path | None = None) -> list[str]:
    """Codes that ELS says were replaced by ``code`` (abolished areas it was formed from), excluding
    re-codings of the same area."""
    a = load_areas(data_dir)
    rec = peers.recodes(data_dir)
    hits = a[a["successor_codes"].str.split().map(lambda s: code in s)]
    return [c for c in hits["area_code"] if rec.get(c) != code]


def area_series(indicator_id: str, code: str, data_dir: Path | None = None) -> AreaSeries:
    """One indicator for one place (any English LA, county, region or England), with England's and
    the region's series, and predecessor segments before a break."""
    ind = get_indicator(indicator_id, data_dir)
    code, name = check_area(code, data_dir)
    rows = indicator_rows(indicator_id, data_dir)
    series_code, why = resolve_series_code(indicator_id, code, data_dir)
    out = AreaSeries(ind, code, name, None, why)
    out.england = _segment(rows, ENGLAND)
    row = _area_row(series_code or code, data_dir)
    region = row["region_code"] if row is not None and row["region_code"] else ""
    if not region:
        own = _area_row(code, data_dir)
        region = own["region_code"] if own is not None else ""
    if region and region != code:
        out.region = _segment(rows, region)
    if series_code is None:
        return out
    out.series = _segment(rows, series_code, why)
    first = out.series.frame["start"].iloc[0]
    for p in predecessors(series_code, data_dir):
        seg = _segment(rows, p)
        if seg is not None:
            seg.frame = seg.frame[seg.frame["start"] < first].reset_index(drop=True)  # only what the new one lacks
            if len(seg.frame):
                a = _area_row(p, data_dir)
                seg.note = (f"{seg.name} ({p}), {a['area_type']} abolished in {int(a['obsolete_since'])}"
                            if a is not None and not pd.isna(a["obsolete_since"]) else f"{seg.name} ({p})")
                out.before.append(seg)
    return out


# ---------------------------------------------------------------------------------------- rules

@dataclass(frozen=True)
class Trend:
    """The plain-words trend of a series (:data:`TREND_RULE`)."""

    words: str       # e.g. "worse in each of the last three periods"
    direction: str   # "worse", "better", "no clear change", "too few periods"
    change: float | None  # latest minus three periods earlier, positive = worse (indicator's unit)
    periods: tuple[str, ...]  # the labels of the periods looked at

    def to_dict(self) -> dict:
        return {"words": self.words, "direction": self.direction,
                "change_positive_is_worse": None if self.change is None else round(float(self.change), 6),
                "periods": list(self.periods), "rule": TREND_RULE}


def _worse_sign(polarity: str) -> int:
    return 1 if polarity == "higher_is_worse" else -1


def compute_trend(frame: pd.DataFrame, polarity: str) -> Trend:
    """The trend of one segment (columns ``label, value, lci, uci``), by :data:`TREND_RULE`."""
    f = frame.dropna(subset=["value"]).tail(4)
    labels = tuple(f["label"])
    if len(f) < 4:
        return Trend(f"too few periods to say ({len(f)} published)", "too few periods", None, labels)
    v = f["value"].to_numpy(dtype=float)
    sign = _worse_sign(polarity)
    steps = np.diff(v) * sign  # positive = a step towards worse
    change = float((v[-1] - v[0]) * sign)
    if (steps > 0).all():
        return Trend("worse in each of the last three periods", "worse", change, labels)
    if (steps < 0).all():
        return Trend("better in each of the last three periods", "better", change, labels)
    first, last = f.iloc[0], f.iloc[-1]
    has_ci = not any(pd.isna(x) for x in (first["lci"], first["uci"], last["lci"], last["uci"]))
    if has_ci:
        differ = last["lci"] > first["uci"] or last["uci"] < first["lci"]
    else:
        differ = abs(v[-1] - v[0]) > CHANGE_TOLERANCE * abs(v[0]) if v[0] != 0 else v[-1] != 0
    if differ:
        d = "worse" if change > 0 else "better"
        return Trend(f"{d} than three periods ago ({first['label']})", d, change, labels)
    return Trend("no clear change", "no clear change", change, labels)


def compare_with_england(value: float, lci: float | None, uci: float | None, england: float | None,
                         polarity: str) -> tuple[str, str]:
    """``(words, code)`` by :data:`SIGNIFICANCE_RULE`; code is ``worse``, ``better``, ``similar``,
    ``higher``, ``lower``, ``same`` or ``not compared``."""
    if value is None or pd.isna(value):
        return "not compared (no value)", "not compared"
    if england is None or pd.isna(england):
        return "not compared (no England figure published)", "not compared"
    if lci is not None and uci is not None and not pd.isna(lci) and not pd.isna(uci):
        if lci <= england <= uci:
            return "similar to England", "similar"
        higher = lci > england
        worse = higher == (polarity == "higher_is_worse")
        return (f"significantly {'worse' if worse else 'better'} than England", "worse" if worse else "better")
    if value == england:
        return "the same as England", "same"
    return (f"{'higher' if value > england else 'lower'} than England (no confidence interval: not tested)",
            "higher" if value > england else "lower")


# ---------------------------------------------------------------------------------------- comparators

def comparator_codes(ind: TrendIndicator, rows: pd.DataFrame, data_dir: Path | None = None,
                     tier: str | None = None) -> set[str]:
    """England's local authorities at one tier (the indicator's, or ``tier``), no obsolete codes: districts,
    unitaries, metropolitan districts and London boroughs (``lower``), or counties and unitaries (``upper``)."""
    a = load_areas(data_dir)
    current = a[a["obsolete_since"].isna()]
    prefixes = ("E06", "E07", "E08", "E09") if (tier or ind.tier) == "lower" else ("E06", "E08", "E09", "E10")
    return set(current[current["area_code"].str[:3].isin(prefixes)]["area_code"].tolist()) & indicator_codes(ind.id, data_dir)


def la_values(indicator_id: str, period: str, data_dir: Path | None = None, tier: str | None = None) -> pd.Series:
    """England's local authorities' values for one period (``period`` as ELS writes it), indexed by code, at the
    indicator's tier (or ``tier``: a county is placed among counties and unitaries)."""
    ind = get_indicator(indicator_id, data_dir)
    rows = indicator_rows(indicator_id, data_dir)
    codes = comparator_codes(ind, rows, data_dir, tier)
    r = rows[(rows["period"] == period) & rows["area_code"].isin(codes)].dropna(subset=["value"])
    return r.set_index("area_code")["value"]


def neighbour_series(indicator_id: str, series_code: str, kind: str = "global",
                     data_dir: Path | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The place's English ONS neighbours on this indicator: per period ``start, label, median, low, high,
    n`` (their median and range), and the neighbours used (``code, name, rank``). The neighbours are the
    series code's own (a county's for a county figure)."""
    rows = indicator_rows(indicator_id, data_dir)
    try:
        nb = peers.neighbours(series_code, kind, data_dir=data_dir)
    except UnknownAreaError:
        nb = pd.DataFrame(columns=["code", "app_code", "name", "rank"])
    codes = {c: c for c in nb["code"]}
    rec = peers.recodes(data_dir)
    have = indicator_codes(indicator_id, data_dir)
    for c in list(codes):  # a neighbour's figure may sit under its other code
        if c not in have:
            alt = rec.get(c) or next((o for o, n in rec.items() if n == c), None)
            if alt in have:
                codes[c] = alt
    r = rows[rows["area_code"].isin(list(codes.values()))].dropna(subset=["value"])
    band = (r.groupby(["start", "label"])["value"].agg(median="median", low="min", high="max", n="count")
            .reset_index().sort_values("start"))
    return band.reset_index(drop=True), nb[["code", "name", "rank"]]


def _percentile_better(values: pd.Series, v: float, polarity: str) -> float:
    """Share (0-100) of ``values`` that ``v`` is doing better than (ties count half)."""
    arr = values.to_numpy(dtype=float)
    if polarity == "higher_is_worse":
        better, ties = (arr > v).mean(), (arr == v).mean()
    else:
        better, ties = (arr < v).mean(), (arr == v).mean()
    return float((better + ties / 2) * 100)


# ---------------------------------------------------------------------------------------- one place, every indicator

def summary(code: str, kind: str = "global", data_dir: Path | None = None) -> pd.DataFrame:
    """Every indicator's latest value for the place against England, the region, its neighbours and
    England's spread of local authorities: one row per indicator with columns ``indicator_id, title, unit,
    polarity, period, label, value, lci, uci, published_for, england, region, neighbours_median,
    neighbours_low, neighbours_high, neighbours_n, vs_england, vs_england_code, trend, trend_direction,
    worsening (positive = worse), position (0 worst - 100 best among England's LAs), england_position,
    neighbours_position_low, neighbours_position_high, p25_position, p75_position, las`` (authorities
    compared)."""
    recs = []
    for ind in load_indicators(data_dir).values():
        s = area_series(ind.id, code, data_dir)
        rec = {"indicator_id": ind.id, "title": ind.title, "unit": ind.unit, "polarity": ind.polarity,
               "published_for": s.published_for}
        if s.series is None or s.series.frame["value"].notna().sum() == 0:
            recs.append(rec)
            continue
        seg = s.series.frame.dropna(subset=["value"])
        last = seg.iloc[-1]
        rows = indicator_rows(ind.id, data_dir)
        period = rows[(rows["area_code"] == s.series.code) & (rows["start"] == last["start"])]["period"].iloc[0]
        eng = s.england.frame if s.england is not None else None
        eng_v = eng[eng["start"] == last["start"]]["value"] if eng is not None else pd.Series(dtype=float)
        eng_value = float(eng_v.iloc[0]) if len(eng_v) else None
        reg = s.region.frame if s.region is not None else None
        reg_v = reg[reg["start"] == last["start"]]["value"] if reg is not None else pd.Series(dtype=float)
        words, cmp_code = compare_with_england(last["value"], last["lci"], last["uci"], eng_value, ind.polarity)
        trend = compute_trend(seg, ind.polarity)
        band, _nb = neighbour_series(ind.id, s.series.code, kind, data_dir)
        nb_row = band[band["start"] == last["start"]]
        las = la_values(ind.id, period, data_dir, "upper" if s.series.code.startswith("E10") else None)
        rec.update({"period": period, "label": last["label"], "value": float(last["value"]),
                    "lci": None if pd.isna(last["lci"]) else float(last["lci"]),
                    "uci": None if pd.isna(last["uci"]) else float(last["uci"]),
                    "england": eng_value, "region": float(reg_v.iloc[0]) if len(reg_v) else None,
                    "vs_england": words, "vs_england_code": cmp_code,
                    "trend": trend.words, "trend_direction": trend.direction, "worsening": trend.change,
                    "las": int(len(las))})
        if len(nb_row):
            rec.update({"neighbours_median": float(nb_row["median"].iloc[0]), "neighbours_low": float(nb_row["low"].iloc[0]),
                        "neighbours_high": float(nb_row["high"].iloc[0]), "neighbours_n": int(nb_row["n"].iloc[0])})
        if len(las) >= 10:
            pos = lambda v: _percentile_better(las, v, ind.polarity)  # noqa: E731
            rec.update({"position": pos(last["value"]),
                        "england_position": pos(eng_value) if eng_value is not None else None,
                        "p25_position": 25.0, "p75_position": 75.0})
            if len(nb_row):
                a, b = pos(rec["neighbours_low"]), pos(rec["neighbours_high"])
                rec.update({"neighbours_position_low": min(a, b), "neighbours_position_high": max(a, b)})
        recs.append(rec)
    cols = ["indicator_id", "title", "unit", "polarity", "period", "label", "value", "lci", "uci", "published_for",
            "england", "region", "neighbours_median", "neighbours_low", "neighbours_high", "neighbours_n",
            "vs_england", "vs_england_code", "trend", "trend_direction", "worsening", "position", "england_position",
            "neighbours_position_low", "neighbours_position_high", "p25_position", "p75_position", "las"]
    return pd.DataFrame(recs).reindex(columns=cols)


def headline(code: str, table: pd.DataFrame) -> str:
    """One sentence for the room: how many indicators are significantly worse than England, and how many
    got worse in each of the last three periods (:func:`getting_worse` names them)."""
    _, name = check_area(code)
    shown = table.dropna(subset=["value"])
    tested = shown[shown["vs_england_code"].isin(["worse", "better", "similar"])]
    worse = int((tested["vs_england_code"] == "worse").sum())
    getting = len(getting_worse(table))
    return (f"{name}: {worse} of {len(tested)} indicators with confidence intervals significantly worse than England; "
            f"{getting or 'none'} of {len(shown)} worse in each of the last three periods.")


def getting_worse(table: pd.DataFrame) -> list[str]:
    """Titles of the indicators that got worse in each of the last three periods."""
    return table[table["trend"] == "worse in each of the last three periods"]["title"].tolist()


def worsening_by_area(indicator_id: str, codes: list[str], data_dir: Path | None = None) -> pd.DataFrame:
    """For each place code: ``code, worsening`` (positive = worse, :data:`WORSENING_RULE`), ``trend`` words
    and ``series_code`` (NaN / "" where the indicator is not published for it or has too few periods)."""
    ind = get_indicator(indicator_id, data_dir)
    rows = indicator_rows(indicator_id, data_dir)
    out = []
    for code in codes:
        sc, _why = resolve_series_code(indicator_id, code, data_dir)
        if sc is None:
            out.append({"code": code, "worsening": np.nan, "trend": "not published", "series_code": ""})
            continue
        seg = rows[rows["area_code"] == sc].sort_values("start")
        t = compute_trend(seg, ind.polarity)
        out.append({"code": code, "worsening": np.nan if t.change is None else t.change, "trend": t.words,
                    "series_code": sc})
    return pd.DataFrame(out)


def latest_by_area(indicator_id: str, codes: list[str], data_dir: Path | None = None) -> pd.DataFrame:
    """For each place code: ``code, value`` (the latest published value of the series that stands for it),
    ``label`` (its period) and ``series_code`` (NaN / "" where the indicator is not published for it)."""
    rows = indicator_rows(indicator_id, data_dir)
    out = []
    for code in codes:
        sc, _why = resolve_series_code(indicator_id, code, data_dir)
        seg = rows[rows["area_code"] == sc].dropna(subset=["value"]).sort_values("start") if sc else rows.iloc[:0]
        out.append({"code": code, "value": float(seg["value"].iloc[-1]) if len(seg) else np.nan,
                    "label": seg["label"].iloc[-1] if len(seg) else "", "series_code": sc or ""})
    return pd.DataFrame(out)


def series_json(indicator_id: str, code: str, data_dir: Path | None = None) -> dict:
    """The CLI's ``trend ID --area CODE --json``: ``{"id", "title", "unit", "polarity", "area": {"code",
    "name"}, "series_code", "published_for", "series": [{"start", "end", "label", "value", "lci", "uci",
    "status"}], "before": [{"code", "name", "note", "series": [...]}], "region": {"code", "name", "series"},
    "england": [...], "trend": {...}, "vs_england": {...}, "rules": {...}}``."""
    s = area_series(indicator_id, code, data_dir)

    def pts(seg: Segment | None) -> list[dict]:
        if seg is None:
            return []
        f = seg.frame
        return [{"start": r.start, "end": r.end, "label": r.label,
                 "value": None if pd.isna(r.value) else float(r.value),
                 "lci": None if pd.isna(r.lci) else float(r.lci), "uci": None if pd.isna(r.uci) else float(r.uci),
                 "status": r.status or None} for r in f.itertuples()]

    out = {"id": s.indicator.id, "title": s.indicator.title, "unit": s.indicator.unit,
           "polarity": s.indicator.polarity, "area": {"code": s.area_code, "name": s.area_name},
           "series_code": s.series.code if s.series else None, "published_for": s.published_for or None,
           "series": pts(s.series),
           "before": [{"code": b.code, "name": b.name, "note": b.note, "series": pts(b)} for b in s.before],
           "break": s.break_note or None,
           "region": ({"code": s.region.code, "name": s.region.name, "series": pts(s.region)} if s.region else None),
           "england": pts(s.england), "trend": None, "vs_england": None,
           "source": s.indicator.source, "source_url": s.indicator.source_url, "licence": s.indicator.licence,
           "rules": {"trend": TREND_RULE, "significance": SIGNIFICANCE_RULE, "series": SERIES_RULE}}
    if s.series is not None:
        seg = s.series.frame.dropna(subset=["value"])
        out["trend"] = compute_trend(seg, s.indicator.polarity).to_dict()
        if len(seg) and s.england is not None:
            last = seg.iloc[-1]
            e = s.england.frame[s.england.frame["start"] == last["start"]]["value"]
            words, c = compare_with_england(last["value"], last["lci"], last["uci"],
                                            float(e.iloc[0]) if len(e) else None, s.indicator.polarity)
            out["vs_england"] = {"period": last["label"], "words": words, "code": c,
                                 "england": float(e.iloc[0]) if len(e) else None}
    return out


def trend_places(data_dir: Path | None = None) -> dict[str, str]:
    """Places the Trends page offers: England's current local authorities (LAD 2024) and counties,
    code -> name."""
    from civicdata.geo.geography import load_lookup

    lad = load_lookup("lad24", data_dir)
    lad = lad[lad["lad24_code"].str.match(r"^E0[6789]")].sort_values("lad24_name")
    out = dict(zip(lad["lad24_code"], lad["lad24_name"]))
    a = load_areas(data_dir)
    counties = a[a["area_code"].str.startswith("E10") & a["obsolete_since"].isna()].sort_values("area_name")
    out.update({r.area_code: f"{r.area_name} (county)" for r in counties.itertuples()})
    return out


def reformed_note(code: str, data_dir: Path | None = None) -> str:
    """For a re-formed authority, the sentence a reader needs before any chart: "North Yorkshire was re-formed
    in 2023: where an indicator's earlier periods were published for its predecessors (Craven, …), they are …";
    "" for an area with no predecessor (ONS's area list; re-codings of the same area are not re-formings)."""
    before = predecessors(code, data_dir)
    if not before:
        return ""
    a = load_areas(data_dir).set_index("area_code")
    name = a.at[code, "area_name"] if code in a.index else code
    years = sorted({str(a.at[c, "obsolete_since"]) for c in before if c in a.index and pd.notna(a.at[c, "obsolete_since"])})
    parts = [f"{a.at[c, 'area_name']}" + (" (county)" if a.at[c, "area_type"] == "county" else "")
             for c in before if c in a.index]
    when = f" in {years[-1]}" if years else ""
    return (f"{name} was re-formed{when}: where an indicator's earlier periods were published for its predecessors "
            f"({', '.join(parts)}), they are different areas, drawn apart from its own line (some, such as healthy "
            "life expectancy, are published for the new authority back in time).")

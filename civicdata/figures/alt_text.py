"""Text alternatives for maps and charts (WCAG 1.1.1): one or two plain sentences that say what the picture
shows, for screen-reader users and anyone who cannot see the colours. Pure functions over the frames the
pages already draw; the pages put the sentence next to the picture and the table one click away.
"""

from __future__ import annotations

import math

import pandas as pd

from civicdata.labels import value_text


def _num(v: float, unit: str = "") -> str:
    """A value rounded by its unit (:func:`civicdata.labels.value_text`), the unit after it unless a decile/rank."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "no value"
    return value_text(v, unit, with_unit=True)


def choropleth_text(frame: pd.DataFrame, title: str, unit: str, geography_label: str, place_name: str,
                    class_labels: tuple[str, ...], polarity: str) -> str:
    """E.g. "Map of IMD decile (IoD2025) for 139 LSOAs (2021 codes) in Trafford. Decile 1 (most deprived 10%):
    6; Decile 2: 9; … Most need: Partington (Trafford 017E) (1). No value: 0."

    ``frame`` has ``name``, ``value`` and ``class`` (1-based, class 1 first in ``class_labels``);
    ``polarity`` is the layer's (higher_is_worse, higher_is_better, neutral).
    """
    n = len(frame)
    counts = frame["class"].value_counts()
    parts = [f"Map of {title} for {n:,} {geography_label} areas in {place_name}."]
    by_class = [f"{lab}: {int(counts.get(i + 1, 0))}" for i, lab in enumerate(class_labels) if counts.get(i + 1, 0)]
    if by_class:
        parts.append("Areas per class — " + "; ".join(by_class) + ".")
    vals = frame.dropna(subset=["value"])
    if len(vals) and polarity in ("higher_is_worse", "higher_is_better"):
        worst = vals.loc[vals["value"].idxmax() if polarity == "higher_is_worse" else vals["value"].idxmin()]
        best = vals.loc[vals["value"].idxmin() if polarity == "higher_is_worse" else vals["value"].idxmax()]
        parts.append(f"Most need: {_extreme(vals, worst, unit)}; least: {_extreme(vals, best, unit)}.")
    elif len(vals):
        hi, lo = vals.loc[vals["value"].idxmax()], vals.loc[vals["value"].idxmin()]
        parts.append(f"Highest: {hi['name']} ({_num(hi['value'], unit)}); lowest: {lo['name']} ({_num(lo['value'], unit)}).")
    missing = n - len(vals)
    if missing:
        parts.append(f"No value: {missing}.")
    return " ".join(parts)


def _extreme(vals: pd.DataFrame, row: pd.Series, unit: str) -> str:
    """"Partington (Trafford 017E) (1)", or when others share the value (a decile), "12 areas at 1, e.g. …"."""
    same = int((vals["value"] == row["value"]).sum())
    if same > 1:
        return f"{same} areas at {_num(row['value'], unit)}, e.g. {row['name']}"
    return f"{row['name']} ({_num(row['value'], unit)})"


def bars_text(labels: list[str], values: list[float], what: str, unit: str = "", top: int = 5) -> str:
    """E.g. "Bar chart of share of LSOAs by IMD decile: 1: 4%; 2: 6%; …" (the first ``top`` bars, in order)."""
    items = [f"{lab}: {_num(v, unit)}" for lab, v in list(zip(labels, values))[:top]]
    more = f"; and {len(labels) - top} more" if len(labels) > top else ""
    return f"Bar chart of {what}: " + "; ".join(items) + more + "."


def line_text(profile: pd.DataFrame, line_name: str) -> str:
    """E.g. "Life expectancy at 28 stops of Blue Line: male from 73.4 years (Ashton West) to 82.0 (Eccles); female
    …" from a :func:`civicdata.metro.stop_profile` frame (stops in order, MSOA 2011 estimates, 2016-20)."""
    parts = [f"Chart of life expectancy at birth at each of the {len(profile)} stops of {line_name}, in order."]
    for sex in ("male", "female"):
        col = f"le_{sex}"
        v = profile.dropna(subset=[col])
        if len(v):
            lo, hi = v.loc[v[col].idxmin()], v.loc[v[col].idxmax()]
            parts.append(f"{sex.capitalize()}: lowest {lo[col]:.1f} years at {lo['name']}, highest {hi[col]:.1f} at "
                         f"{hi['name']}.")
    both = profile[["le_male", "le_female"]].isna()
    missing = int(both.all(axis=1).sum())
    if missing:
        parts.append(f"{missing} stop{'s have' if missing != 1 else ' has'} no estimate.")
    for sex in ("male", "female"):  # a stop with one sex's estimate only (ONS suppresses small counts)
        only = int((both[f"le_{sex}"] & ~both.all(axis=1)).sum())
        if only:
            parts.append(f"{only} stop{'s have' if only != 1 else ' has'} no {sex} estimate.")
    return " ".join(parts)


def journey_map_text(table: pd.DataFrame, place_name: str, service: str, max_minutes: float | None = 120) -> str:
    """E.g. "Map of 52 schools in Chester and the nearest GP practice by public transport: median 14 minutes;
    9 need two or more vehicles; 3 have no journey within 120 minutes in the window." (``table`` from the School
    to clinic run; ``max_minutes`` its cap)."""
    reached = table[table["reached"]]
    parts = [f"Map of {len(table)} schools in {place_name} and the nearest {service} by scheduled public transport,"
             " coloured by median minutes."]
    if len(reached):
        worst = reached.loc[reached["median"].idxmax()]
        parts.append(f"Median across schools {reached['median'].median():.0f} minutes; longest {worst['median']:.0f} "
                     f"minutes from {worst['name']}.")
    within = "" if max_minutes is None else f" within {max_minutes:g} minutes"
    parts.append(f"{int(table['two_plus'].sum())} need two or more vehicles; "
                 f"{int((~table['reached']).sum())} have no journey{within} in the window.")
    return " ".join(parts)


def schools_map_text(schools: pd.DataFrame, name: str) -> str:
    """E.g. "Map of the trust's 6 schools in 3 local authorities, coloured by IoD2025 decile: 2 in decile 1 …"."""
    d = schools["imd2025_decile"].dropna().astype(int).value_counts().sort_index()
    by = "; ".join(f"decile {k}: {v}" for k, v in d.items())
    las = schools["lad24_name"].dropna().nunique()
    return (f"Map of {name}'s {len(schools)} schools in {las} local authorit{'y' if las == 1 else 'ies'}, coloured by "
            f"the IoD2025 decile of each school's neighbourhood (1 = most deprived 10%): {by}.")


def trend_text(series, trend_words: str, vs_england: str, band=None) -> str:
    """E.g. "Chart of Persistent absence (%) for Trafford, 2006/07 to 2024/25: latest 12.6 (2024/25), England 18.1;
    trend: better in each of the last three periods; lower than England. ONS neighbours' median 16.6." from a
    :class:`civicdata.indicators.trends.AreaSeries`."""
    ind = series.indicator
    if series.series is None or series.series.frame["value"].notna().sum() == 0:
        return f"{ind.title} is not published for {series.area_name}."
    f = series.series.frame.dropna(subset=["value"])
    last = f.iloc[-1]
    parts = [f"Chart of {ind.title} ({ind.unit}) for {series.series.name}, {f['label'].iloc[0]} to {last['label']}: "
             f"latest {ind.number(last['value'])} ({last['label']})"]
    if series.england is not None:
        e = series.england.frame[series.england.frame["start"] == last["start"]]["value"]
        if len(e):
            parts[0] += f", England {ind.number(float(e.iloc[0]))}"
    parts.append(f"trend: {trend_words}; {vs_england}")
    if band is not None and len(band):
        b = band[band["start"] == last["start"]]
        if len(b):
            lo, hi = ind.number(float(b["low"].iloc[0])), ind.number(float(b["high"].iloc[0]))
            parts.append(f"ONS neighbours' median {ind.number(float(b['median'].iloc[0]))} (range {lo} to {hi}, "
                         f"{int(b['n'].iloc[0])} neighbours with a figure)")
    text = "; ".join(parts) + "."
    if series.break_note:
        text += " " + series.break_note
    return text


def spine_text(table: pd.DataFrame, place: str) -> str:
    """E.g. "Spine chart of 17 indicators for Trafford among England's local authorities: significantly worse than
    England: none; ... Best placed: ...; worst placed: ..." from :func:`civicdata.indicators.trends.summary`."""
    t = table.dropna(subset=["position"])
    if t.empty:
        return f"No indicator has a latest value for {place}."
    worse = t[t["vs_england_code"] == "worse"]["title"].tolist()
    better = t[t["vs_england_code"] == "better"]["title"].tolist()
    lo = t.loc[t["position"].idxmin()]
    hi = t.loc[t["position"].idxmax()]
    return (f"Spine chart of {len(t)} indicators for {place}, each placed among England's local authorities "
            f"(0 = worst, 100 = best). Significantly worse than England: {', '.join(worse) or 'none'}. "
            f"Significantly better: {', '.join(better) or 'none'}. Worst placed: {lo['title']} "
            f"({lo['position']:.0f}); best placed: {hi['title']} ({hi['position']:.0f}).")

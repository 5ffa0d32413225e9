"""Plotly charts built from frames. Returned, never rendered."""

from __future__ import annotations

import re
import textwrap

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from civicdata.indicators.choropleth import DECILE_COLOURS
from civicdata.figures.maps import FONT, esc


def _text_size(fig: go.Figure, size: int) -> go.Figure:
    """Axis ticks, axis titles and the legend at ``size`` px (ticks near-black) where the chart set none. Streamlit's
    chart theme sets 12 px ticks and 14 px axis titles, and those win over the layout's font: a projector's
    "large text" chart showed 12 px labels."""
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        if axis.tickfont.size is None:
            axis.tickfont.size = size
        if axis.tickfont.color is None:  # near-black, not the theme's grey (#808495 is 3.9:1 on white)
            axis.tickfont.color = "#111111"
        if axis.title.font.color is None:
            axis.title.font.color = "#111111"
        if axis.title.font.size is None:
            axis.title.font.size = size
    if fig.layout.legend.font.size is None:
        fig.layout.legend.font.size = size
    return fig


def build_decile_share_chart(shares: pd.DataFrame, place: str, iod: str, large_text: bool = False) -> go.Figure:
    """Bars: % of the place's LSOAs in each national IMD decile, with England's 10% as a line."""
    size = 22 if large_text else 14
    fig = go.Figure(go.Bar(
        x=[str(d) for d in shares.index], y=shares["imd"], marker_color=list(DECILE_COLOURS),
        text=[f"{v:.0f}%" for v in shares["imd"]], textposition="outside",
        customdata=shares["count_imd"], name=esc(place),
        hovertemplate="Decile %{x}: %{y:.1f}% (%{customdata} LSOAs)<extra></extra>"))
    # England's 10% is named in the right margin, beside its line: never among the bars' own labels
    fig.add_hline(y=10, line_dash="dash", line_color="#333333", layer="below")  # under the bars and their labels
    fig.add_annotation(x=1, xref="paper", y=10, yref="y", xanchor="left", text="England<br>10%", showarrow=False,
                       font={"size": size - 2}, align="left")
    top = float(shares["imd"].max()) if len(shares) else 10.0
    fig.update_yaxes(range=[0, max(top, 10.0) * 1.25])  # room above the tallest bar for its label
    fig.update_layout(
        height=320 if not large_text else 420, margin={"l": 10, "r": 20 + 4 * size, "t": 40, "b": 10},
        font={"family": FONT, "size": size}, showlegend=False,
        title={"text": f"{esc(place)}: share of LSOAs by national IMD decile (IoD{iod})", "font": {"size": size}},
        xaxis={"title": "IMD decile (1 = most deprived 10% of England)", "dtick": 1},
        yaxis={"title": "% of LSOAs", "rangemode": "tozero"})
    return _text_size(fig, size)


SEX_COLOURS = {"male": "#0b4f8a", "female": "#c2185b"}


def _positions(profile: pd.DataFrame, spacing: str) -> list[float]:
    if spacing == "time" and profile["minutes"].notna().all():
        return profile["minutes"].astype(float).tolist()
    if spacing == "km" and "km" in profile.columns and profile["km"].notna().all():
        return profile["km"].astype(float).tolist()
    return list(range(len(profile)))


def build_metro_chart(profile: pd.DataFrame, title: str, spacing: str = "even", large_text: bool = False,
                      height: int | None = None) -> go.Figure:
    """A schematic line: male and female life expectancy at each stop (95% CI whiskers), the
    IMD decile of each stop's LSOA as a coloured band underneath, stops labelled.

    ``spacing`` ``"even"`` spaces stops evenly (labels never overlap); ``"time"`` by minutes.
    Stops with no estimate stay on the line with a gap in the series.
    """
    size = 22 if large_text else 14
    x = _positions(profile, spacing)
    fig = go.Figure()
    for sex in ("male", "female"):
        y = profile[f"le_{sex}"]
        fig.add_trace(go.Scatter(
            x=x, y=y, mode="lines+markers", name=f"{sex.capitalize()}s", connectgaps=False,
            line={"color": SEX_COLOURS[sex], "width": 4 if large_text else 3},
            marker={"size": 12 if large_text else 9, "color": SEX_COLOURS[sex]},
            error_y={"type": "data", "symmetric": False, "array": (profile[f"le_{sex}_upper"] - y).tolist(),
                     "arrayminus": (y - profile[f"le_{sex}_lower"]).tolist(), "thickness": 1.5, "width": 4},
            text=[esc(n) for n in profile["name"]],
            hovertemplate="%{text}: %{y:.1f} years<extra>" + sex + "s</extra>"))
    ymin = float(np.nanmin(profile[["le_male_lower", "le_female_lower"]].to_numpy())) if \
        profile[["le_male_lower", "le_female_lower"]].notna().any().any() else 70.0
    band_y = ymin - 2.5
    dec = profile["imd_decile"]
    fig.add_trace(go.Scatter(
        x=x, y=[band_y] * len(x), mode="markers", name="IMD decile of the stop's LSOA",
        marker={"symbol": "square", "size": 22 if large_text else 16,
                "color": [DECILE_COLOURS[int(d) - 1] if not pd.isna(d) else "#d9d9d9" for d in dec],
                "line": {"width": 1, "color": "#333333"}},
        text=[f"{esc(n)}: IMD decile {'no data' if pd.isna(d) else int(d)}" for n, d in zip(profile["name"], dec)],
        hovertemplate="%{text}<extra></extra>"))
    # a stop with no estimate says so above its square (shifted clear of it); with one sex's only, its name is
    # marked († no male, ‡ no female estimate: ONS suppresses small counts), as the caption explains
    male, female = profile["le_male"].isna(), profile["le_female"].isna()
    square = 22 if large_text else 16
    for xi, m, f in zip(x, male, female):
        if m and f:
            fig.add_annotation(x=xi, y=band_y, yshift=square / 2 + 4, text="no estimate", textangle=-90,
                               showarrow=False, yanchor="bottom", font={"size": size - 4, "color": "#444444"})
    labels = [esc(n) + (" *" if a else "") + (" †" if m and not f else " ‡" if f and not m else "")
              for n, a, m, f in zip(profile["name"], profile["approximate"], male, female)]
    fig.update_layout(
        title={"text": esc(title), "font": {"size": size + 4}}, font={"family": FONT, "size": size},
        height=height or (720 if large_text else 560), margin={"l": 60, "r": 20, "t": 105 if large_text else 80, "b": 10},  # title above the key
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        # on a projector the axis is shorter than this title: "Years" there, the rest is in the caption
        yaxis={"title": "Years (2016–20)" if large_text else "Life expectancy at birth (years), 2016–20",
               "gridcolor": "#e5e5e5"},
        xaxis={"tickmode": "array", "tickvals": x, "ticktext": labels, "tickangle": -60,
               "tickfont": {"size": size - 2}, "showgrid": False},
        plot_bgcolor="white")
    return _text_size(fig, size)


def build_metro_png(profile: pd.DataFrame, title: str, headline: list[str], width_in: float = 13.33,
                    height_in: float = 7.5, dpi: int = 150) -> bytes:
    """The same chart as a 16:9 PNG for a slide (matplotlib, no browser needed)."""
    import io

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    x = np.arange(len(profile))
    fig, ax = plt.subplots(figsize=(width_in, height_in), dpi=dpi)
    for sex in ("male", "female"):
        y = profile[f"le_{sex}"].to_numpy(dtype=float)
        err = np.vstack([y - profile[f"le_{sex}_lower"].to_numpy(dtype=float),
                         profile[f"le_{sex}_upper"].to_numpy(dtype=float) - y])
        ax.errorbar(x, y, yerr=err, color=SEX_COLOURS[sex], marker="o", lw=2.5, capsize=3, label=f"{sex.capitalize()}s")
    lows = profile[["le_male_lower", "le_female_lower"]].to_numpy(dtype=float)
    band = (np.nanmin(lows) if np.isfinite(lows).any() else 72.0) - 2.5
    for xi, d in zip(x, profile["imd_decile"]):
        ax.add_patch(plt.Rectangle((xi - 0.45, band - 0.6), 0.9, 1.2,
                                   color=DECILE_COLOURS[int(d) - 1] if not pd.isna(d) else "#d9d9d9"))
    ax.set_xticks(x, [n + (" *" if a else "") for n, a in zip(profile["name"], profile["approximate"])],
                  rotation=60, ha="right", fontsize=11)
    ax.set_ylabel("Life expectancy at birth (years), 2016–20", fontsize=13)
    ax.set_ylim(band - 1.5, None)
    fig.suptitle(title + ("\n" + "\n".join(headline) if headline else ""), fontsize=15, x=0.01, ha="left")
    for xi, m, w in zip(x, profile["le_male"], profile["le_female"]):
        if pd.isna(m) and pd.isna(w):
            ax.text(xi, band + 1.4, "no estimate", rotation=90, ha="center", va="bottom", fontsize=9, color="#555555")
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 1.0), ncol=2, fontsize=12, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    fig.text(0.01, 0.01, "Source: ONS life expectancy by MSOA 2011 (2016–20); band: IMD decile (MHCLG), "
             "1 = most deprived (dark). * approximate area.", fontsize=9, color="#444444")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def build_contribution_chart(table: pd.DataFrame, indicators: list[str], titles: dict[str, str], n: int = 15,
                             large_text: bool = False, narrow: bool = False) -> go.Figure:
    """Stacked horizontal bars: how much each indicator contributed to each place's score (top ``n``).
    ``narrow`` (a phone): short names on lines of 22 characters, 11 px."""
    size = 20 if large_text else 11 if narrow else 13
    n = min(n, 10) if large_text else n  # on a projector ten rows, each named at 20 px
    top = table[table["rank"].notna()].head(n).iloc[::-1]  # only ranked places have bars
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    fig = go.Figure()
    names = top["name"].astype(str)
    if large_text or narrow:  # on a projector "Walker South 030A", not "Walker South (Newcastle upon Tyne 030A)"
        names = names.str.replace(r"\s*\((?:[^()]*\s)?(\d{3}[A-Z])\)$", r" \1", regex=True)
    if narrow and not large_text:
        names = pd.Series(["<br>".join(textwrap.wrap(esc(nm), 22)) for nm in names], index=names.index)
    for i, lid in enumerate(indicators):
        fig.add_trace(go.Bar(
            y=[f"{int(r)}. {nm if narrow and not large_text else esc(nm)}" + ("" if ok else " †")
               for r, nm, ok in zip(top["rank"], names, top["complete"])],
            x=top[f"c_{lid}"].fillna(0),
            orientation="h", name=esc(titles[lid]), marker_color=palette[i % len(palette)],
            hovertemplate="%{y}: %{x:.1f} points<extra>" + esc(titles[lid]) + "</extra>"))
    rows = list(fig.data[0].y) if fig.data else []
    fig.update_layout(barmode="stack", height=max(320, 34 * len(top) + 120), font={"family": FONT, "size": size},
                      margin={"l": 10, "r": 10, "t": 30, "b": 10},
                      xaxis={"title": "score (0–100)" if large_text or narrow else "score (0–100) = sum of contributions",
                             "range": [0, 100], "dtick": 25, "tickfont": {"color": "#111111"}},  # 0 … 100
                      yaxis={"tickmode": "array", "tickvals": rows, "ticktext": rows,  # every row named
                             "tickfont": {"color": "#111111"}},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}, plot_bgcolor="white")
    if not top["complete"].all():
        fig.add_annotation(text="† ranked on partial data: an indicator has no value", xref="paper", yref="paper",
                           x=1, y=-0.02, xanchor="right", yanchor="top", showarrow=False, font={"size": size - 1})
        fig.update_layout(margin={"b": 40})
    return _text_size(fig, size)


# ----------------------------------------------------------------- trends and peers

PLACE_COLOUR = "#0b4f8a"
NEIGHBOUR_COLOUR = "#b35806"
#: marker colour and symbol by comparison with England (colour-blind safe; the symbol says it too)
COMPARE_STYLE = {"worse": ("#c51b7d", "diamond"), "better": ("#2166ac", "circle"), "similar": ("#fee08b", "square"),
                 "untested": ("#ffffff", "circle")}
COMPARE_GROUPS = (("worse", "significantly worse than England"), ("better", "significantly better than England"),
                  ("similar", "similar to England"), ("untested", "not tested against England (no interval or no "
                                                                  "England figure)"))
COMPARE_GROUP_OF = {"worse": "worse", "better": "better", "similar": "similar"}


def _dates(frame: pd.DataFrame) -> list:
    return pd.to_datetime(frame["start"]).tolist()


def _gapped(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with an empty row where a period is missing (e.g. no persistent absence for 2019/20), so a
    line breaks there instead of joining across the missing year."""
    if len(frame) < 3:
        return frame
    d = pd.to_datetime(frame["start"])
    step = d.diff().median()
    gaps = d.diff() > step * 1.5
    if not gaps.any():
        return frame
    blanks = pd.DataFrame({"start": (d[gaps] - step).dt.strftime("%Y-%m-%d").to_numpy()})
    out = pd.concat([frame, blanks], ignore_index=True).sort_values("start", kind="stable")
    return out.reset_index(drop=True)


def build_trend_chart(series, band: pd.DataFrame | None, neighbours_label: str = "ONS nearest neighbours",
                      large_text: bool = False, height: int | None = None) -> go.Figure:
    """One indicator over time for a place (:class:`civicdata.indicators.trends.AreaSeries`): the place's line with
    its 95% CI band, England (dashed), the region (dotted), the neighbours' median (orange) within their
    range (shaded); predecessor areas before a break as separate grey lines with a vertical marker. The
    x axis is each period's start, labelled as the publisher writes the period."""
    ind = series.indicator
    size = 22 if large_text else 14
    fig = go.Figure()
    ticks: dict = {}

    def add_ticks(f: pd.DataFrame) -> None:
        for d, lab in zip(_dates(f), f["label"]):
            ticks[d] = lab

    if band is not None and len(band):
        add_ticks(band)
        # the range breaks where a period is missing (no 2019/20 absence), as the lines do: one shape per run
        gapped = _gapped(band)
        run = gapped["high"].isna().cumsum()
        for k, (_, part) in enumerate(gapped[gapped["high"].notna()].groupby(run[gapped["high"].notna()])):
            x = _dates(part)
            fig.add_trace(go.Scatter(x=x + x[::-1], y=part["high"].tolist() + part["low"].tolist()[::-1],
                                     fill="toself", fillcolor="rgba(179,88,6,0.15)", line={"width": 0},
                                     hoverinfo="skip", name=f"{esc(neighbours_label)}: range", legendgroup="range",
                                     showlegend=k == 0))
        band = _gapped(band)
        x = _dates(band)
        fig.add_trace(go.Scatter(x=x, y=band["median"], mode="lines", name=f"{esc(neighbours_label)}: median",
                                 line={"color": NEIGHBOUR_COLOUR, "width": 2},
                                 customdata=np.stack([band["label"], band["n"]], axis=-1),
                                 hovertemplate="%{customdata[0]}: median %{y} of %{customdata[1]} neighbours<extra></extra>"))
    for seg, name, style in ((series.england, "England", {"color": "#000000", "dash": "dash", "width": 2}),
                             (series.region, None, {"color": "#555555", "dash": "dot", "width": 2})):
        if seg is None:
            continue
        add_ticks(seg.frame)
        f = _gapped(seg.frame)
        fig.add_trace(go.Scatter(x=_dates(f), y=f["value"], mode="lines", connectgaps=False,
                                 name=esc(name or seg.name), line=style, customdata=f["label"],
                                 hovertemplate=f"{esc(name or seg.name)} %{{customdata}}: %{{y}}<extra></extra>"))
    for seg in series.before:
        add_ticks(seg.frame)
        f = _gapped(seg.frame)
        fig.add_trace(go.Scatter(x=_dates(f), y=f["value"], mode="lines+markers", connectgaps=False,
                                 name=esc(f"Before the break: {seg.name} ({seg.code})"),
                                 line={"color": "#7f7f7f", "width": 2}, marker={"size": 7, "color": "#7f7f7f"},
                                 customdata=f["label"],
                                 hovertemplate=f"{esc(seg.name)} %{{customdata}}: %{{y}}<extra></extra>"))
    if series.series is not None:
        add_ticks(series.series.frame)
        ci = series.series.frame.dropna(subset=["lci", "uci"])
        if len(ci):
            xc = _dates(ci)
            fig.add_trace(go.Scatter(x=xc + xc[::-1], y=ci["uci"].tolist() + ci["lci"].tolist()[::-1], fill="toself",
                                     fillcolor="rgba(11,79,138,0.18)", line={"width": 0}, hoverinfo="skip",
                                     name=f"{esc(series.series.name)}: 95% CI"))
        f = _gapped(series.series.frame)
        x = _dates(f)
        fig.add_trace(go.Scatter(x=x, y=f["value"], mode="lines+markers", connectgaps=False,
                                 name=esc(f"{series.series.name} ({series.series.code})"),
                                 line={"color": PLACE_COLOUR, "width": 4 if large_text else 3},
                                 marker={"size": 11 if large_text else 8, "color": PLACE_COLOUR},
                                 customdata=np.stack([f["label"], f["lci"].fillna(np.nan), f["uci"].fillna(np.nan)], axis=-1),
                                 hovertemplate="%{customdata[0]}: %{y}"
                                 + (" (95% CI %{customdata[1]} to %{customdata[2]})" if ind.has_ci else "")
                                 + "<extra></extra>"))
        if series.before:
            fig.add_vline(x=x[0], line_dash="dot", line_color="#333333")
            fig.add_annotation(x=x[0], y=1, yref="paper", text="series break", showarrow=False,
                               xanchor="left", font={"size": size - 2})
    keys = sorted(ticks)
    step = max(1, len(keys) // 10)
    fig.update_layout(
        height=height or (460 if not large_text else 560), margin={"l": 10, "r": 10, "t": 50, "b": 10},
        font={"family": FONT, "size": size},
        title={"text": esc(f"{ind.title} — {series.area_name}"), "font": {"size": size + 2}},
        xaxis={"tickvals": keys[::step], "ticktext": [ticks[k] for k in keys[::step]], "title": ind.period_type},
        yaxis={"title": esc(ind.unit)},
        legend={"orientation": "h", "y": -0.2, "font": {"size": size - 2}})
    return _text_size(fig, size)


SPINE_KEY = ("◆ significantly worse than England · ● better · ■ similar · ○ not tested · black bar: England · "
             "orange: ONS neighbours · left = worse, right = better")


def build_spine_chart(table: pd.DataFrame, place: str, large_text: bool = False, height: int | None = None,
                      narrow: bool = False) -> go.Figure:
    """Every indicator's latest value placed among England's local authorities (0 = worst, 100 = best:
    polarity-aware, worse always left): the full range in light grey, the middle half darker, England
    as a black bar, the neighbours' range in orange, and the place as a marker coloured and shaped by
    its comparison with England. ``table`` is :func:`civicdata.indicators.trends.summary`. ``narrow`` (a phone):
    short names, the title and the legend left to the page's text."""
    t = table.dropna(subset=["position"]).iloc[::-1]
    size = 20 if large_text else 13
    labels = [f"{r.title}, {r.label}" if str(r.title).endswith(")") else f"{r.title} ({r.label})"  # no ") ("
              for r in t.itertuples()]
    if large_text or narrow:  # on a projector (20 px) or a phone: the names alone, shortened (periods in the table)
        short = [re.sub(r"\s*\([^)]*\)", "", title).strip() for title in t["title"]]
        labels = short if len(set(short)) == len(short) else list(t["title"])
    if narrow and not large_text:  # a phone: each name on lines of 24 characters, so the bars keep half the width
        labels = ["<br>".join(textwrap.wrap(lab, 24)) for lab in labels]
    label_of = dict(zip(t.index, (esc(lab).replace("&lt;br&gt;", "<br>") for lab in labels)))
    t = t.assign(_y=[label_of[i] for i in t.index])
    y = list(t["_y"])
    fig = go.Figure()
    fig.add_trace(go.Bar(y=y, x=[100] * len(t), orientation="h", marker_color="#e6e6e6", hoverinfo="skip",
                         name="England's local authorities (worst to best)", width=0.6))
    fig.add_trace(go.Bar(y=y, x=[50] * len(t), base=[25] * len(t), orientation="h", marker_color="#bdbdbd",
                         hoverinfo="skip", name="middle half of authorities", width=0.6))
    nb = t.dropna(subset=["neighbours_position_low"])
    if len(nb):
        fig.add_trace(go.Bar(y=list(nb["_y"]),
                             x=(nb["neighbours_position_high"] - nb["neighbours_position_low"]).clip(lower=1),
                             base=nb["neighbours_position_low"], orientation="h", width=0.22,
                             marker_color=NEIGHBOUR_COLOUR, name="ONS neighbours' range", hoverinfo="skip"))
    eng = t.dropna(subset=["england_position"])
    fig.add_trace(go.Scatter(y=list(eng["_y"]), x=eng["england_position"],
                             mode="markers", name="England", marker={"symbol": "line-ns", "size": 22,
                                                                     "line": {"width": 4, "color": "#000000"}},
                             hovertemplate="England: %{x:.0f}<extra></extra>"))
    for group, label in COMPARE_GROUPS:
        part = t[t["vs_england_code"].map(lambda c: COMPARE_GROUP_OF.get(c, "untested")) == group]
        if part.empty:
            continue
        colour, symbol = COMPARE_STYLE[group]
        fig.add_trace(go.Scatter(
            y=list(part["_y"]), x=part["position"], mode="markers",
            name=esc(f"{place}: {label}"),
            marker={"symbol": symbol, "size": 16 if large_text else 13, "color": colour,
                    "line": {"width": 2, "color": "#111111"}},
            customdata=np.stack([part["value"].map(lambda v: f"{v:,.1f}"), part["unit"], part["vs_england"],
                                 part["trend"]], axis=-1),
            hovertemplate="%{customdata[0]} %{customdata[1]}: %{customdata[2]}; trend: %{customdata[3]}"
                          "<extra></extra>"))
    bare = large_text or narrow  # no title, axis title or legend: the page's key line says them
    if narrow and not large_text:
        size = 11
    fig.update_layout(
        barmode="overlay", height=height or max(320, (48 if narrow else 34) * len(t) + 140),
        font={"family": FONT, "size": size}, margin={"l": 4 if narrow else 10, "r": 4 if narrow else 10, "t": 0 if bare else 50, "b": 0 if bare else 10},
        title=None if bare else {"text": esc(f"{place} among England's local authorities (latest period)"),
                                 "font": {"size": size + 2}},
        xaxis={"range": [-2, 102], "tickvals": [0, 25, 50, 75, 100], "ticktext": ["worst", "25", "50", "75", "best"],
               "title": None if bare else "position among England's local authorities",
               "tickfont": {"color": "#111111", "size": size},
               # on a projector every row needs its 20 px name: the scale is said in the key line instead
               "showticklabels": not bare},
        yaxis={"tickfont": {"color": "#111111", "size": size}, "automargin": True,
               "tickmode": "array", "tickvals": y, "ticktext": y},  # every name, never every other one
        # on a projector the key is a line of text under the chart (:data:`SPINE_KEY`): a legend would take half
        # the screen at 1280x720
        showlegend=not bare, legend={"orientation": "h", "y": -0.12, "font": {"size": size - 1}})
    return _text_size(fig, size)

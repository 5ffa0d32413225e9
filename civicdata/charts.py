"""Plotly charts built from frames. Returned, never rendered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from civicdata.choropleth import DECILE_COLOURS
from civicdata.maps import FONT, esc


def build_decile_share_chart(shares: pd.DataFrame, place: str, iod: str, large_text: bool = False) -> go.Figure:
    """Bars: % of the place's LSOAs in each national IMD decile, with England's 10% as a line."""
    size = 22 if large_text else 14
    fig = go.Figure(go.Bar(
        x=[str(d) for d in shares.index], y=shares["imd"], marker_color=list(DECILE_COLOURS),
        text=[f"{v:.0f}%" for v in shares["imd"]], textposition="outside",
        customdata=shares["count_imd"], name=esc(place),
        hovertemplate="Decile %{x}: %{y:.1f}% (%{customdata} LSOAs)<extra></extra>"))
    fig.add_hline(y=10, line_dash="dash", line_color="#333333", annotation_text="England: 10%",
                  annotation_position="top right")
    fig.update_layout(
        height=320 if not large_text else 420, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        font={"family": FONT, "size": size}, showlegend=False,
        title={"text": f"{esc(place)}: share of LSOAs by national IMD decile (IoD{iod})", "font": {"size": size}},
        xaxis={"title": "IMD decile (1 = most deprived 10% of England)"}, yaxis={"title": "% of LSOAs", "rangemode": "tozero"})
    return fig


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
    no_est = profile["le_male"].isna() & profile["le_female"].isna()
    for xi, m in zip(x, no_est):
        if m:
            fig.add_annotation(x=xi, y=band_y + 0.9, text="no estimate", textangle=-90, showarrow=False,
                               yanchor="bottom", font={"size": size - 4, "color": "#555555"})
    labels = [esc(n) + (" *" if a else "") for n, a in zip(profile["name"], profile["approximate"])]
    fig.update_layout(
        title={"text": esc(title), "font": {"size": size + 4}}, font={"family": FONT, "size": size},
        height=height or (720 if large_text else 560), margin={"l": 60, "r": 20, "t": 70, "b": 10},
        legend={"orientation": "h", "y": 1.02, "x": 0, "yanchor": "bottom"},
        yaxis={"title": "Life expectancy at birth (years), 2016–20", "gridcolor": "#e5e5e5"},
        xaxis={"tickmode": "array", "tickvals": x, "ticktext": labels, "tickangle": -60,
               "tickfont": {"size": size - 2}, "showgrid": False},
        plot_bgcolor="white")
    return fig


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
                             large_text: bool = False) -> go.Figure:
    """Stacked horizontal bars: how much each indicator contributed to each place's score (top ``n``)."""
    size = 20 if large_text else 13
    top = table[table["rank"].notna()].head(n).iloc[::-1]  # only ranked places have bars
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    fig = go.Figure()
    for i, lid in enumerate(indicators):
        fig.add_trace(go.Bar(
            y=[f"{int(r)}. {esc(nm)}" + ("" if ok else " †") for r, nm, ok in zip(top["rank"], top["name"], top["complete"])],
            x=top[f"c_{lid}"].fillna(0),
            orientation="h", name=esc(titles[lid]), marker_color=palette[i % len(palette)],
            hovertemplate="%{y}: %{x:.1f} points<extra>" + esc(titles[lid]) + "</extra>"))
    fig.update_layout(barmode="stack", height=max(320, 34 * len(top) + 120), font={"family": FONT, "size": size},
                      margin={"l": 10, "r": 10, "t": 30, "b": 10}, xaxis={"title": "score (0–100) = sum of contributions",
                                                                          "range": [0, 100]},
                      legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0}, plot_bgcolor="white")
    if not top["complete"].all():
        fig.add_annotation(text="† ranked on partial data: an indicator has no value", xref="paper", yref="paper",
                           x=1, y=-0.02, xanchor="right", yanchor="top", showarrow=False, font={"size": size - 1})
        fig.update_layout(margin={"b": 40})
    return fig

"""The workshop's charts, from a :func:`civicdata.workshop.model.tally`: a round's dots or points per option
stacked by sector, and the averaged 2×2 of impact against feasibility. Plotly figures, no Streamlit; every
label from people is escaped (plotly reads some HTML in text)."""

from __future__ import annotations

import html

import plotly.graph_objects as go

#: one colour per sector, distinguishable with the common colour-vision deficiencies (Okabe–Ito), each at least
#: 3:1 against white beside its label; sectors a facilitator adds take the next ones
SECTOR_COLOURS = {"school-trust": "#b35900", "nhs-trust": "#0060a8", "council": "#007a5a", "vcs": "#a8447e",
                  "other": "#595959"}
EXTRA_COLOURS = ("#5a3e9b", "#8a6d00", "#2f6f8f", "#9c2f2f")


def sector_colours(sectors: dict[str, str]) -> dict[str, str]:
    """Sector code → colour: the standard five fixed, added ones in order."""
    extra = iter(EXTRA_COLOURS * 4)
    return {c: SECTOR_COLOURS.get(c) or next(extra) for c in sectors}


def _layout(fig: go.Figure, large: bool, height: int | None) -> None:
    fs = 22 if large else 14
    fig.update_layout(height=height, margin=dict(l=10, r=30, t=36, b=30), font=dict(size=fs, color="#000"),
                      plot_bgcolor="#fff", paper_bgcolor="#fff",
                      legend=dict(orientation="h", yanchor="bottom", y=1.0, xanchor="left", x=0,
                                  font=dict(size=fs, color="#000")))


def wrap_label(text: str, width: int = 22) -> str:
    """An option's name (HTML-escaped) broken into lines of about ``width`` characters at spaces, so a long name
    wraps beside its bar instead of squeezing the bars on a projector."""
    import textwrap

    return "<br>".join(html.escape(line) for line in textwrap.wrap(str(text), width=width)) or html.escape(str(text))


def tally_figure(t: dict, large: bool = False, height: int | None = None) -> go.Figure:
    """Horizontal bars: each option's dots or points, one segment per sector that voted (the total at the bar's
    end). Options in descending order of total, top first."""
    what = t["mode"]
    opts = sorted(t["options"], key=lambda o: o[what])
    labels = [wrap_label(o["label"], 18 if large else 28) for o in opts]
    colours = sector_colours(t["sectors"])
    voted = [c for c, n in t.get("voted_by_sector", {}).items() if n] or []
    fig = go.Figure()
    for c in voted:
        fig.add_trace(go.Bar(x=[o["by_sector"].get(c, 0) for o in opts], y=labels, orientation="h",
                             name=html.escape(t["sectors"][c]), marker_color=colours[c],
                             hovertemplate=f"{html.escape(t['sectors'][c])}: %{{x}} {what}<extra></extra>"))
    if not voted:  # nothing placed yet: empty bars keep the options on screen
        fig.add_trace(go.Bar(x=[0] * len(opts), y=labels, orientation="h", showlegend=False,
                             marker_color="#1f4e79", hoverinfo="skip"))
    top = max([o[what] for o in opts] + [0])
    fig.add_trace(go.Scatter(x=[o[what] for o in opts], y=labels, mode="text", text=[str(o[what]) for o in opts],
                             textposition="middle right", showlegend=False, hoverinfo="skip",
                             textfont=dict(size=22 if large else 14, color="#000")))
    _layout(fig, large, height or max(260, 60 * len(opts) + 110))
    fig.update_layout(barmode="stack", showlegend=len(voted) > 0, legend_traceorder="normal")
    fig.update_xaxes(title=None, rangemode="tozero", range=[0, max(1, top) * 1.2 + 0.4],  # room for the total
                     dtick=1 if top < 12 else None, tickfont=dict(color="#000"))
    # a gap between each option's name and its bar, so a total of 0 never reads as part of the name ("Elswick0")
    fig.update_yaxes(automargin=True, tickfont=dict(color="#000"), ticklabelstandoff=14 if large else 10)
    return fig


def _label_offsets(points: list[tuple[float, float]]) -> list[tuple[int, int]]:
    """Each point's label offset in pixels (across, down): above the point, below it when an earlier label is
    already above a point nearby, and drawn towards the middle near the left and right edges."""
    out: list[tuple[int, int]] = []
    for i, (x, y) in enumerate(points):
        across = -60 if x > 3.9 else (60 if x < 2.1 else 0)
        crowded = any(abs(x - x2) < 1.6 and abs(y - y2) < 0.9 and out[j][1] < 0
                      for j, (x2, y2) in enumerate(points[:i]))
        out.append((across, 34 if crowded or y > 4.6 else -34))
    return out


def matrix_figure(t: dict, large: bool = False, height: int | None = None) -> go.Figure:
    """The averaged 2×2: each placed option at its mean feasibility (across) and impact (up), 1 to 5, with the
    midlines at 3 and the four quadrants named; the number placing it beside its label."""
    placed = [o for o in t["options"] if o["placed"]]
    fs = 22 if large else 14
    xy = [(o["feasibility"], o["impact"]) for o in placed]
    names = [f"{html.escape(o['label'])} ({o['placed']})" for o in placed]
    fig = go.Figure(go.Scatter(
        x=[p[0] for p in xy], y=[p[1] for p in xy], mode="markers", cliponaxis=False, text=names,
        marker=dict(size=18 if large else 12, color="#1f4e79", line=dict(color="#000", width=1)),
        hovertemplate="%{text}: impact %{y:.1f}, feasibility %{x:.1f}<extra></extra>"))
    for (x, y), name, (ax, ay) in zip(xy, names, _label_offsets(xy)):  # each label joined to its point
        fig.add_annotation(x=x, y=y, text=name, showarrow=True, arrowhead=0, arrowwidth=1.5, arrowcolor="#000",
                           ax=ax, ay=ay, font=dict(size=fs - 2, color="#000"), bgcolor="rgba(255,255,255,0.85)")
    for x0, x1, y0, y1 in ((0.5, 3, 3, 5.5), (3, 5.5, 3, 5.5), (0.5, 3, 0.5, 3), (3, 5.5, 0.5, 3)):
        fig.add_shape(type="rect", x0=x0, x1=x1, y0=y0, y1=y1, line=dict(color="#000", width=1),
                      fillcolor="#e8f0f8" if (x0, y0) == (3, 3) else "#fff", layer="below")
    for x, y, words in ((0.55, 5.45, "high impact, hard"), (5.45, 5.45, "start here: high impact, feasible"),
                        (0.55, 0.55, "low impact, hard"), (5.45, 0.55, "low impact, feasible")):
        fig.add_annotation(x=x, y=y, text=words, showarrow=False, xanchor="left" if x < 3 else "right",
                           yanchor="top" if y > 3 else "bottom", font=dict(size=14 if large else 12, color="#333"))
    _layout(fig, large, height or 460)
    small = 16 if large else 13
    axis = dict(range=[0.5, 5.5], dtick=1, zeroline=False, showgrid=False, tickfont=dict(color="#000", size=small),
                automargin=True)
    title = dict(font=dict(size=small, color="#000"), standoff=4)
    fig.update_xaxes(title=dict(text="feasibility (mean, 1–5)", **title), **axis)
    fig.update_yaxes(title=dict(text="impact (mean, 1–5)", **title), **axis)
    fig.update_layout(showlegend=False, margin=dict(l=10, r=20, t=10, b=10))
    return fig


def tally_words(t: dict) -> str:
    """The chart's text alternative: each option's total and split by sector, or its 2×2 means."""
    sectors = t["sectors"]
    if t["mode"] == "matrix":
        return "Impact and feasibility (means, 1 to 5): " + "; ".join(
            f"{o['label']} impact {o['impact']:.1f}, feasibility {o['feasibility']:.1f} ({o['placed']} placed)"
            if o["placed"] else f"{o['label']} not placed" for o in t["options"]) + "."
    what = t["mode"]
    return f"{what.capitalize()} per option: " + "; ".join(
        f"{o['label']} {o[what]}" + (" (" + ", ".join(f"{sectors[c]} {n}" for c, n in o["by_sector"].items() if n)
                                     + ")" if o[what] else "")
        for o in sorted(t["options"], key=lambda o: -o[what])) + "."

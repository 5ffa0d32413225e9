"""Plotly charts built from frames. Returned, never rendered."""

from __future__ import annotations

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

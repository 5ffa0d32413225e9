"""Orientation layer: ward outlines and names, by the stated label rule, on the real bundled boundaries."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import shapely

from civicdata.geo import orientation as orient
from civicdata.indicators.choropleth import boundaries_for
from civicdata.figures.maps import orientation_traces

REPO = Path(__file__).resolve().parents[1]


def _bounds(place: str) -> tuple:
    return tuple(boundaries_for("lad", place).total_bounds)


def _screen_boxes(o: orient.Orientation, bounds, width=900, height=600) -> list[tuple]:
    scale = orient.screen_scale(bounds, width, height)
    boxes = []
    for r in o.labels.itertuples():
        (mx, my), = orient._mercator(np.array([[r.lon, r.lat]]))
        w = len(r.name) * orient.CHAR_WIDTH * r.size + 4
        h = r.size * orient.LINE_HEIGHT
        boxes.append((mx * scale - w / 2, -my * scale - h / 2, mx * scale + w / 2, -my * scale + h / 2))
    return boxes


def test_trafford_names_lie_inside_their_wards_and_never_overlap():
    b = _bounds("E08000009")
    o = orient.orientation_for("E08000009", b)
    assert len(o.wards) == 21 and len(o.districts) == 1  # Trafford's 21 wards (GM 2023)
    assert 8 <= len(o.labels) < 21  # the small central wards stay unnamed at this zoom
    wards = o.wards.set_index("name")
    for r in o.labels.itertuples():
        assert wards.loc[r.name, "geometry"].contains(shapely.Point(r.lon, r.lat)), r.name
    boxes = _screen_boxes(o, b)
    scale = orient.screen_scale(b, 900, 600)
    (x0, y1), (x1, y0) = orient._mercator(np.array([[b[0], b[1]], [b[2], b[3]]])) * [scale, -scale]
    assert all(x0 <= bx[0] and bx[2] <= x1 and y0 <= bx[1] and bx[3] <= y1 for bx in boxes)  # wholly in view
    for i, a in enumerate(boxes):
        for c in boxes[i + 1:]:
            assert not (a[0] < c[2] and c[0] < a[2] and a[1] < c[3] and c[1] < a[3])
    assert len(o.lines) >= 2  # Metrolink lines cross Trafford


def test_larger_names_in_presentation_mode_are_fewer():
    b = _bounds("E08000009")
    normal = orient.orientation_for("E08000009", b)
    large = orient.orientation_for("E08000009", b, large_text=True)
    assert set(large.labels["size"]) == {orient.FONT_PX_LARGE} and set(normal.labels["size"]) == {orient.FONT_PX}
    assert 0 < len(large.labels) < len(normal.labels)


def test_all_of_gm_names_districts_first_and_is_no_carpet():
    b = (-2.73, 53.33, -1.91, 53.69)
    o = orient.orientation_for("E47000001", b)
    assert len(o.wards) == 215 and len(o.districts) == 10
    kinds = o.labels["kind"].tolist()
    assert kinds[:10] == ["district"] * 10  # every borough named, before any ward
    assert len(o.labels) < 60  # far fewer names than GM's 215 wards


def test_outside_gm_uses_england_wards_and_no_tram_lines():
    b = _bounds("E06000050")
    o = orient.orientation_for("E06000050", b)
    assert len(o.wards) > 30 and len(o.lines) == 0
    assert {"Blacon", "Frodsham"} <= set(o.labels["name"])
    assert orient.orientation_for("england", b) is None


def test_traces_cut_to_the_view_and_send_shared_edges_once():
    b = _bounds("E08000009")
    o = orient.orientation_for("E08000009", b)
    lines, names = orientation_traces(o, False, b)
    wards = next(t for t in lines if t.name == "ward boundaries")
    lon = np.array([v for v in wards.lon if v is not None])
    lat = np.array([v for v in wards.lat if v is not None])
    assert lon.min() >= b[0] - 1e-5 and lon.max() <= b[2] + 1e-5 and lat.min() >= b[1] - 1e-5  # 5 decimals
    # each ward's whole boundary would repeat every inner edge: the merged lines are much shorter
    full = sum(len(np.asarray(g.exterior.coords)) if g.geom_type == "Polygon" else
               sum(len(np.asarray(p.exterior.coords)) for p in g.geoms) for g in o.wards.geometry)
    assert len(lon) < 0.7 * full
    assert names[0].mode == "text" and len(names[0].text) == len(o.labels)


def _readme_and_docs() -> str:
    """README.md and every docs/*.md page: the README is the front door, its longer sections live in docs/."""
    return "\n".join(p.read_text() for p in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))])


def test_readme_states_the_label_rule_with_the_code_s_numbers():
    readme = _readme_and_docs()
    rule = readme[readme.index("**Label\n  rule:**"):readme.index("* nothing is sent")]
    assert f"× {orient.CHAR_WIDTH} × font size" in rule and f"{orient.LINE_HEIGHT} × font size" in rule
    assert f"at least {orient.FIT:g} times" in rule
    assert re.search(rf"{orient.FONT_PX} px, {orient.FONT_PX_LARGE} px in presentation mode", rule)

"""The Leaflet helper: local assets only, and text that cannot break out of folium's JavaScript."""

from __future__ import annotations

import re

import pandas as pd

from civicdata import leaflet
from tests.conftest import REPO

HOSTILE = "St David`s ${alert(1)} <img src=x onerror=alert(2)>"


def _render(name: str) -> str:
    m = leaflet.base_map((-2.95, 53.15, -2.85, 53.22))
    leaflet.add_schools(m, pd.DataFrame({"name": [name], "urn": [1], "lat": [53.19], "lon": [-2.89],
                                         "minutes": [20.0], "service": [name]}))
    leaflet.add_services(m, pd.DataFrame({"name": [name], "lat": [53.2], "lon": [-2.9]}), "GP practices (2025)")
    return m.get_root().render()


def test_only_the_apps_own_leaflet_is_loaded():
    html = _render("A school")
    assert re.findall(r'<script src="([^"]+)"', html) == [leaflet.LEAFLET_JS]
    assert re.findall(r'<link rel="stylesheet" href="([^"]+)"', html) == [leaflet.LEAFLET_CSS]
    assert "$(" not in html and "jquery" not in html.lower()  # folium's Popup needs jQuery: ours binds with Leaflet
    for path in (leaflet.LEAFLET_JS, leaflet.LEAFLET_CSS):
        assert (REPO / path.removeprefix("/app/")).is_file()  # served by Streamlit's static serving


def test_hostile_names_cannot_end_the_template_literal_or_add_html():
    html = _render(HOSTILE)
    tooltips = re.findall(r"bindTooltip\(\s*`(.*?)`", html, re.S)
    assert tooltips and all("`" not in t and "${" not in t and "<img" not in t for t in tooltips)
    assert "&#96;" in html and "&#36;{alert(1)}" in html and "&lt;img src=x" in html
    assert "onerror=alert(2)>" not in html.replace("&lt;img src=x onerror=alert(2)&gt;", "")

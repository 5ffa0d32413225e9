"""The Leaflet helper: local assets only, and text that cannot break out of folium's JavaScript."""

from __future__ import annotations

import re

import pandas as pd

from civicdata.figures import leaflet
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


def _sent(m) -> tuple[str, str, str]:
    """What st_folium sends the browser for ``m`` (its html, header and map script), ids made alike."""
    from streamlit_folium import _get_header, _get_html, _get_map_string

    same = re.compile(r"[0-9a-f]{32}")
    return tuple(same.sub("ID", s) for s in (_get_html(m), _get_header(m), _get_map_string(m)))


def test_one_render_sends_the_same_maps_as_st_folium_s_two(tmp_path):
    """views._widgets draws maps with ``st_folium(..., render=False)``: one render of the map instead of the whole
    page's then the map's (the second compiled every marker's script again). For each of the app's maps, on
    bundled data, that sends what two renders sent, less the second's repeated ``setIcon`` of each name label."""
    from civicdata.indicators import choropleth, profile
    from civicdata.geo import places
    from civicdata.geo.orientation import orientation_for

    def school_to_clinic():
        schools = profile.load_schools()
        schools = schools[schools["la_name"] == "Cheshire West and Chester"].head(60).assign(minutes=25.0, service="a GP")
        bounds = leaflet.padded_bounds(schools[["lat", "lon"]])
        m = leaflet.base_map(bounds)
        leaflet.add_orientation(m, orientation_for("E06000050", bounds, 900, 560, False))
        leaflet.add_outline(m, choropleth.boundaries_for("lad", "E06000050"), "local authority")
        leaflet.add_services(m, schools.head(20), "GP practices (2025)")
        leaflet.add_schools(m, schools)
        return m

    def trust():
        schools = profile.load_schools()
        schools = schools[schools["urn"].astype(str).isin(["106365", "106368", "111417", "111419"])]
        schools = schools.assign(lad24_name=schools["la_name"])
        m = leaflet.base_map(leaflet.padded_bounds(schools[["lat", "lon"]]))
        leaflet.add_trust_schools(m, schools)
        return m

    def picker():
        return leaflet.area_picker_map(choropleth.boundaries_for("lsoa21", "E08000009"), {"E01006187"})

    def pcn():
        p = places.pcn_profile("U79881")
        hoods = choropleth.boundaries_for("lsoa21", "E08000009")
        return leaflet.pcn_map(p["practices"], hoods[hoods["code"].isin(p["neighbourhoods"])])

    for build in (school_to_clinic, trust, picker, pcn):
        twice = build()
        twice.get_root().render()
        twice.render()
        once = build()
        once.render()
        a, b = _sent(twice), _sent(once)
        assert a[:2] == b[:2], build.__name__
        repeated = [line for line in a[2].splitlines() if line.strip()]
        single = [line for line in b[2].splitlines() if line.strip()]
        extra = list(repeated)
        for line in single:
            extra.remove(line)
        assert all(".setIcon(" in line for line in extra), (build.__name__, extra[:3])
        assert len(single) > 20 and "L.map(" in b[2], build.__name__
        if build is school_to_clinic:
            assert len(extra) > 5  # the name labels' setIcon, once each now


def test_the_picking_map_shows_pasted_codes_apart_from_picked_ones():
    """Picked neighbourhoods dark blue, pasted or uploaded ones orange (and said in the tooltip), the rest white."""
    import json

    from civicdata.indicators import choropleth

    hoods = choropleth.boundaries_for("lsoa21", "E08000009")
    picked, pasted = {"E01006187"}, {"E01006188", "E01006187"}
    m = leaflet.area_picker_map(hoods, picked, given=pasted)
    layer = next(c for c in m._children.values() if type(c).__name__ == "GeoJson")
    feats = {f["properties"]["label"].rsplit("(", 1)[1][:9]: f for f in json.loads(layer.data if isinstance(
        layer.data, str) else json.dumps(layer.data))["features"]}
    fills = {code: layer.style_function(f)["fillColor"] for code, f in feats.items()}
    assert fills["E01006187"] == leaflet.PICKED_COLOUR  # picked wins
    assert fills["E01006188"] == leaflet.GIVEN_COLOUR
    assert "pasted or from your file" in feats["E01006188"]["properties"]["label"]
    assert sum(v == leaflet.UNPICKED_COLOUR for v in fills.values()) == len(hoods) - 2

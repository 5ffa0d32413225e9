"""The one import of the pages: every shared helper, from the module of its concern.

* :mod:`views._loaders` — cached loaders (catalogue, frames, profiles, lines, feeds, rankings);
* :mod:`views._widgets` — widgets and formatting (link parameters, legend, text alternatives, Leaflet maps);
* :mod:`views._present` — presentation mode, slides, the share link, the footer, the failover notice.

These are the only modules that import both Streamlit and civicdata; the pages import this one.
"""

from __future__ import annotations

from views._loaders import (  # noqa: F401
    ENGLAND, SERVICE_COLOURS, area_profile, bundled_lines, catalogue, convene_table, decile_shares,
    default_feed_path, district_outlines, feed, feed_outcome, ferrobus_engine, figure_once, focus_coverage,
    focus_defaults, focus_result, headline,
    layer_stamp, line_profile, lsoa21_boundaries, lsoa21_outlines, manifest, manifest_frame, national_frame,
    national_lad_frame, orientation, orientation_around, place_frame, place_options, places_stamp, practice_points,
    practice_range, qof_icb, region_options, saved_area_profile, saved_area_title, saved_areas, saved_trusts,
    schools, trust_convene, trust_schools, stored_feeds, stored_feed_path, feed_districts, nearest_service_dates,
    school_comparison, founding_schools, la_absence_trend, absence_in_deprived,
)
from views._present import (  # noqa: F401
    KEYS_JS, NO_SIDEBAR_CSS, PRESENT_CSS, PRIVATE_PARAMS, footer, link_for_current_view, main_chart, moved_server_notice,
    presentation, rerun_after_reconnect, share_box, shareable_params, store_down, store_guarded,
)
from views._widgets import (  # noqa: F401
    A11Y_CSS, decode_weights, encode_weights, leaflet_map, leaflet_picker, legend_html, md_escape, table,
    orientation_toggle, param, text_alternative, on_phone, last_place_or,
)

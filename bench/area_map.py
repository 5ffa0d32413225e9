"""Area map payload benchmark: build time (cold and warm) and JSON size sent to the browser.

Targets (issue: Area map): a borough of ~200 LSOAs < 0.5 s warm and < 300 KB;
all 1,673 GM LSOAs < 2 MB; the national (local-authority) view < 1 MB. With the orientation
layer (ward outlines and names, district outline, Metrolink in GM; on by default) the same
targets hold, and its added bytes are printed ("+orient KB").
Run: python bench/area_map.py
"""

from __future__ import annotations

import statistics
import time

from civicdata.indicators.catalogue import load_catalogue
from civicdata.indicators.choropleth import aggregate_descriptor, layer_classes, national_frame, national_lad_frame, place_frame
from civicdata.figures.maps import build_area_map, figure_payload_bytes
from civicdata.geo.orientation import orientation_for

CASES = [
    ("Wigan, IMD 2019 decile (LSOA 2011)", "imd2019_decile", "E08000010", 300_000),
    ("Wigan, IMD 2025 decile (LSOA 2021)", "imd2025_decile", "E08000010", 300_000),
    ("Trafford, IMD 2025 decile (LSOA 2021)", "imd2025_decile", "E08000009", 300_000),
    ("Manchester, IMD 2019 decile (LSOA 2011)", "imd2019_decile", "E08000003", None),
    ("Trafford, male life expectancy (MSOA 2011)", "le_male", "E08000009", 300_000),
    ("Hartlepool, IMD 2019 decile (national coarse)", "imd2019_decile", "E06000001", 300_000),
    ("All GM, IMD 2019 decile (1,673 LSOA 2011)", "imd2019_decile", "E47000001", 2_000_000),
    ("All GM, IMD 2025 decile (1,702 LSOA 2021)", "imd2025_decile", "E47000001", 2_000_000),
]


def timed(fn, repeat: int = 5):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t)
    return out, times


def main() -> None:
    cat = load_catalogue()
    print(f"{'case':50s} {'areas':>6s} {'cold s':>7s} {'warm s':>7s} {'KB':>7s} {'+orient':>8s} {'orient s':>8s}  "
          "target for the whole map with orientation (KB = 1,000 bytes)")
    for label, layer, place, limit in CASES:
        d = cat.get(layer)

        def build(orient: bool = False):
            frame = place_frame(d, place)
            o = orientation_for(place, tuple(frame.total_bounds)) if orient else None
            return frame, build_area_map(frame, d, layer_classes(d, national_frame(d)["value"]), orientation=o)

        t0 = time.perf_counter()
        build()
        cold = time.perf_counter() - t0
        (frame, fig), warm = timed(build)
        size = figure_payload_bytes(fig)
        (_, fig_o), warm_o = timed(lambda: build(True))
        size_o = figure_payload_bytes(fig_o)
        target = "(no target: above ~200 areas)" if limit is None else \
            f"< {limit // 1000} KB {'ok' if size_o < limit else 'OVER'}"
        print(f"{label:50s} {len(frame):6d} {cold:7.2f} {statistics.median(warm):7.3f} {size / 1000:7.0f} "
              f"{(size_o - size) / 1000:+8.0f} {statistics.median(warm_o) - statistics.median(warm):8.3f}  {target}")
    for layer in ("imd2025_decile", "le_male"):
        d = cat.get(layer)

        def build_nat():
            nat = national_lad_frame(d)
            return nat, build_area_map(nat, d, layer_classes(aggregate_descriptor(d), nat["value"]))

        (nat, fig), warm = timed(build_nat, 3)
        size = figure_payload_bytes(fig)
        print(f"{'England by local authority, ' + layer:50s} {len(nat):6d} {'':7s} {statistics.median(warm):7.3f} "
              f"{size / 1000:7.0f}  < 1000 KB {'ok' if size < 1_000_000 else 'OVER'}")


if __name__ == "__main__":
    main()

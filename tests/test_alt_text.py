"""Text alternatives of maps and charts: the sentences agree with the data drawn, and every page shows them."""

from __future__ import annotations

import pandas as pd
import pytest

from civicdata.figures import alt_text
from civicdata.indicators import choropleth, profile
from civicdata import metro
from civicdata.indicators.catalogue import load_catalogue
from tests.conftest import open_page


def test_choropleth_text_counts_classes_and_names_the_extremes():
    desc = load_catalogue().get("imd2025_decile")
    frame = choropleth.place_frame(desc, "E08000009")
    classes = choropleth.layer_classes(desc, frame["value"])
    text = alt_text.choropleth_text(frame, desc.title, desc.unit, desc.geography_label, "Trafford", classes.labels,
                                    desc.polarity)
    head = profile.compute_headline("E08000009", "2025")
    n1 = int((frame["value"] == 1).sum())
    assert f"for {len(frame)} LSOA (2021 codes) areas in Trafford" in text
    assert f"Decile 1 (most deprived 10%): {n1};" in text and f"{n1} of {len(frame)}" in head.text
    worst = frame.loc[frame["value"].idxmin(), "name"]  # decile: higher is better, so the lowest is most need
    n10 = int((frame["value"] == 10).sum())
    # a decile is shared: how many areas are at it, never one of them as if it alone were the most deprived;
    # whole numbers both ends (it read "(1)" beside "(10.0)")
    assert f"Most need: {n1} areas at 1, e.g. {worst}; least: {n10} areas at 10, e.g. " in text
    assert "10.0" not in text


def test_values_are_rounded_by_their_unit_everywhere():
    from civicdata.labels import unit_decimals, value_text

    assert [unit_decimals(u) for u in ("%", "decile (1 = most deprived 10%)", "rank (1 = most deprived of 33,755)",
                                       "proportion", "years", "£", "per 100,000 (age-standardised)", "score")] == \
        [1, 0, 0, 2, 1, 0, 1, 1]
    assert value_text(27.6958, "%", with_unit=True) == "27.7 %" and value_text(12345.6, "£") == "12,346"
    assert value_text(None, "%") == "no data" and value_text(float("nan")) == "no data"
    desc = load_catalogue().get("le_female")  # a single extreme: named with its value, one decimal
    frame = choropleth.place_frame(desc, "E08000009")
    classes = choropleth.layer_classes(desc, frame["value"])
    text = alt_text.choropleth_text(frame, desc.title, desc.unit, desc.geography_label, "Trafford", classes.labels,
                                    desc.polarity)
    low = frame.loc[frame["value"].idxmin()]
    assert f"Most need: {low['name']} ({low['value']:.1f} years)" in text


def test_line_text_gives_the_lowest_and_highest_stop():
    line = metro.bundled_line(metro.bundled_lines()["key"].iloc[0])
    prof = metro.stop_profile(line, iod="2025")
    text = alt_text.line_text(prof, line.name)
    lo = prof.loc[prof["le_male"].idxmin()]
    assert f"Male: lowest {lo['le_male']:.1f} years at {lo['name']}" in text
    assert f"each of the {len(prof)} stops of {line.name}" in text


def test_bars_and_schools_text():
    assert alt_text.bars_text(["a", "b", "c"], [1.0, 2.5, 30.0], "things", "%", top=2) == \
        "Bar chart of things: a: 1.0 %; b: 2.5 %; and 1 more."  # one decimal for %
    schools = pd.DataFrame({"imd2025_decile": [1, 1, 4], "lad24_name": ["Trafford", "Trafford", "Sheffield"]})
    assert alt_text.schools_map_text(schools, "North West Trust") == (
        "Map of North West Trust's 3 schools in 2 local authorities, coloured by the IoD2025 decile of each "
        "school's neighbourhood (1 = most deprived 10%): decile 1: 2; decile 4: 1.")


@pytest.mark.parametrize("page,what", [(None, "Map of"), ("views/metro_line.py", "Chart of life expectancy"),
                                       ("views/strategic_focus.py", "Bar chart of the top"),
                                       ("views/school_to_clinic.py", "Map of")])
def test_every_map_and_chart_has_its_words(page, what):
    at = open_page(page, timeout=300)
    words = [c.value for c in at.caption if c.value.startswith("**In words:** ")]
    assert any(w.startswith(f"**In words:** {what}") for w in words), words


def test_a_stop_with_one_sex_estimate_says_so_and_the_headline_adds_up():
    """Tyne and Wear's Green line: five stops have a female estimate only. The chart marks them "no male estimate"
    and its text counts them; the headline's gap is the difference of the two figures as shown."""
    from civicdata.figures.charts import build_metro_chart

    line = metro.bundled_line("tyne-and-wear:green")
    prof = metro.stop_profile(line, iod="2025")
    only_female = prof["le_male"].isna() & prof["le_female"].notna()
    assert only_female.sum() == 5
    assert "5 stops have no male estimate." in alt_text.line_text(prof, line.name)
    ticks = build_metro_chart(prof, line.name).layout.xaxis.ticktext
    assert sum(t.endswith(" †") for t in ticks) == 5  # marked "† no male estimate" (the page's caption says so)
    for g in metro.compute_gaps(prof).values():
        assert f"live {round(g.high, 1) - round(g.low, 1):.1f} years less" in g.text

"""Column headers in words: the one rule for how a table's column is headed on a page, in a brief or a record.

Frames keep their identifiers (``imd_rank``, ``fsm_pct``, ``lsoa21_code``): they are the CLI's JSON keys and the
join keys. What a person reads is :func:`column_label`: a header from :data:`LABELS` where one is written, else
the identifier in words (``imd2025_rank`` -> "IMD 2025 rank", ``lsoa21_code`` -> "LSOA 2021 code"). No header is
ever an identifier in snake_case.
"""

from __future__ import annotations

import re

#: headers written out, with units where the column has one
LABELS = {
    "code": "Code", "name": "Name", "ons_name": "ONS name", "role": "Role", "detail": "Detail", "source": "Source",
    "urn": "URN", "pcn": "Primary Care Network (PCN)", "pupils": "Pupils", "type_group": "School type", "phase": "Phase", "fsm_pct": "Pupils eligible for FSM (%)",
    "lsoa21_code": "Neighbourhood code (LSOA 2021)", "lsoa11_code": "Neighbourhood code (LSOA 2011)",
    "msoa11_code": "MSOA 2011 code", "msoa21_code": "MSOA 2021 code", "neighbourhood": "Neighbourhood",
    "neighbourhoods": "Neighbourhoods", "imd_rank": "IMD rank (1 = most deprived)", "imd_decile": "IMD decile",
    "imd_score": "IMD score", "lad24_code": "Local authority code", "lad24_name": "Local authority",
    "ward": "Ward", "ward_code": "Ward code", "ward24_code": "Ward code (2024)", "ward24_name": "Ward (2024)",
    "le_male": "Male life expectancy (years)", "le_female": "Female life expectancy (years)",
    "le_male_lower": "Male, lower 95% limit (years)", "le_male_upper": "Male, upper 95% limit (years)",
    "le_female_lower": "Female, lower 95% limit (years)", "le_female_upper": "Female, upper 95% limit (years)",
    "msoa_name": "Neighbourhood (MSOA name, House of Commons Library)", "msoa_ons_name": "MSOA (ONS name)",
    "lci": "Lower 95% limit", "uci": "Upper 95% limit", "ci_lower": "Lower 95% limit", "ci_upper": "Upper 95% limit", "stop": "Stop", "position": "Position among England's authorities (0 worst, 100 best)",
    "neighbours_median": "Neighbours' median", "vs_england": "Against England", "published_for": "Note", "approximate": "Area approximate (nearest LSOA centre)", "area_note": "Note on the area",
    "journey_minutes": "Journey (minutes)", "minutes": "Minutes", "rank": "Rank", "score": "Score (0–100)",
    "stability": "Stability", "reason": "Why", "missing": "Indicators missing", "complete": "All indicators",
    "value": "Value", "unit": "Unit", "period": "Period", "lat": "Latitude", "lon": "Longitude",
    "population": "Residents", "population2021": "Residents (Census 2021)", "schools": "Schools",
    "practices here": "Practices here", "nearest_gp_km": "Nearest GP practice (km)", "nearest_gp": "Nearest GP practice",
    "nearest_hospital_km": "Nearest hospital (km)", "nearest_hospital": "Nearest hospital",
}
#: words for the parts of an identifier
_PARTS = {
    "imd": "IMD", "iod": "IoD", "lsoa21": "LSOA 2021", "lsoa11": "LSOA 2011", "msoa11": "MSOA 2011",
    "msoa21": "MSOA 2021", "lad24": "local authority 2024", "lad": "local authority", "ward24": "ward 2024",
    "fsm": "FSM", "fsm6": "FSM6", "pct": "(%)", "km": "(km)", "le": "life expectancy", "ons": "ONS", "urn": "URN",
    "gp": "GP", "nhs": "NHS", "icb": "ICB", "icb24": "ICB 2024", "sicbl24": "sub-ICB 2024", "qof": "QOF", "pcn": "PCN",
    "ods": "ODS", "sen": "SEN", "eal": "EAL", "ehc": "EHC", "ks2": "KS2", "ks4": "KS4", "ci": "CI", "id": "id",
    "lat": "latitude", "lon": "longitude", "n": "number of", "o": "from", "d": "to",
}


def column_label(name) -> str:
    """The header a person reads for column ``name`` (see the module doc). Names already in words stay."""
    text = str(name)
    if text in LABELS:
        return LABELS[text]
    if "_" not in text and not re.fullmatch(r"[a-z]+\d+[a-z0-9]*", text):
        return text[:1].upper() + text[1:]
    words = []
    for part in text.split("_"):
        if part in _PARTS:
            words.append(_PARTS[part])
            continue
        m = re.fullmatch(r"([a-z]+)(\d{4})", part)  # imd2025 -> IMD 2025
        if m:
            words.append(f"{_PARTS.get(m.group(1), m.group(1))} {m.group(2)}")
        else:
            words.append(part)
    out = " ".join(w for w in words if w)
    return out[:1].upper() + out[1:]


def column_labels(columns) -> dict:
    """``{column: header}`` for every column (see :func:`column_label`)."""
    return {c: column_label(c) for c in columns}


#: units whose values are whole numbers (counts, classes, places in an order, pounds)
_WHOLE_UNITS = ("decile", "rank", "quintile", "services", "people", "pupils", "patients", "£", "count", "schools")
#: units whose values are small fractions (0.12), shown to two decimals
_FRACTION_UNITS = ("proportion", "ratio to limit")


def unit_decimals(unit: str) -> int:
    """Decimals a value in ``unit`` is shown with, the one rule for maps, hovers, details and text alternatives:
    none for counts, deciles, ranks and £; two for proportions (0.12); one for %, rates, years, scores and the rest."""
    u = (unit or "").strip().lower()
    if u.startswith(_WHOLE_UNITS):
        return 0
    if u.startswith(_FRACTION_UNITS):
        return 2
    return 1


def value_text(value, unit: str = "", with_unit: bool = False) -> str:
    """A value as a person reads it in ``unit`` (:func:`unit_decimals`, thousands separated: "12.3", "1,204",
    "decile 1" stays "1"); "no data" when missing. ``with_unit`` appends the unit, except for deciles and ranks
    (their unit is a note such as "1 = most deprived 10%")."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "no data"
    if v != v:  # NaN
        return "no data"
    text = f"{v:,.{unit_decimals(unit)}f}"
    if with_unit and unit and not unit.lower().startswith(("decile", "rank")):
        text = f"{text} {unit}".strip()
    return text


def plural(n: int, word: str, many: str | None = None) -> str:
    """"1 participant", "3 participants" (``many`` for an irregular plural): never "1 participants" or "round(s)"."""
    return f"{n:,} {word if n == 1 else many or word + 's'}"

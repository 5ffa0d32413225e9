"""The layer catalogue: descriptors (small TOML files next to their data), validated.

A *layer* is one indicator on one geography. Its descriptor says what it is (title,
unit, polarity), where it is (``file`` in the descriptor's own folder, key and value
columns) and where it came from (source, licence, vintage). The fields are written down
once, in :data:`FIELDS`; validation and the README table are both derived from it.

Bundled layers live under ``data/`` (``data/indicators``, ``data/schools``,
``data/services``); user layers in the store (:mod:`civicdata.store.layers`), shared by every server with
the same ``CIVICDATA_DB_URL`` and read through local copies. Layer folders in the old user-layers folder
(``$CIVICDATA_USER_LAYERS``, one folder per layer) are imported into the store once, with a message.
"""

from __future__ import annotations

import difflib
import logging
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from civicdata import bundle, settings
from civicdata.errors import DescriptorError, Problem, UnknownLayerError
from civicdata.store import db as store_db
from civicdata.store import layers as stored

log = logging.getLogger("civicdata")

LAYER_ID_RE = re.compile(r"^[a-z0-9_-]{1,64}$")
FILE_NAME_RE = re.compile(r"^[A-Za-z0-9_.-]{1,128}$")

POLARITIES = ("higher_is_worse", "higher_is_better", "neutral")
GEOGRAPHIES = ("lsoa11", "lsoa21", "msoa11", "msoa21", "ward", "lad", "urn", "practice", "point")

#: Human names of each geography, with its code vintage.
GEOGRAPHY_LABELS = {
    "lsoa11": "LSOA (2011 codes)",
    "lsoa21": "LSOA (2021 codes)",
    "msoa11": "MSOA (2011 codes)",
    "msoa21": "MSOA (2021 codes)",
    "ward": "electoral ward",
    "lad": "local authority district",
    "urn": "school (DfE URN)",
    "practice": "GP practice (ODS code), placed at its 2025 location",
    "point": "points (lat/lon, WGS84)",
}


@dataclass(frozen=True)
class Field:
    """One descriptor key: name, type, whether required, and its help text."""

    name: str
    type: type | tuple[type, ...]
    required: bool
    help: str


#: Every descriptor key, in the order they are written. The README documents each one
#: (a test checks it).
FIELDS: tuple[Field, ...] = (
    Field("id", str, True, "unique id, `[a-z0-9_-]{1,64}`; bundled ids carry their vintage (`imd2019_decile`)"),
    Field("title", str, True, "short human title shown in menus and legends"),
    Field("description", str, False, "one or two sentences: what the number measures"),
    Field("unit", str, True, "unit of the value (`%`, `years`, `rank`, `decile`, `km`, `score`…)"),
    Field("polarity", str, True, "`higher_is_worse` | `higher_is_better` | `neutral`"),
    Field("geography", str, True, "`lsoa11` | `lsoa21` | `msoa11` | `msoa21` | `ward` | `lad` | `urn` | `practice` | "
                                  "`point`"),
    Field("file", str, True, "data file (Parquet or CSV) in the same folder as the descriptor; a bare file name"),
    Field("key_column", str, False, "column holding the area code or URN (required unless geography is `point`)"),
    Field("lat_column", str, False, "latitude column (WGS84), for `point` layers"),
    Field("lon_column", str, False, "longitude column (WGS84), for `point` layers"),
    Field("easting_column", str, False, "British National Grid easting (metres), instead of lat/lon, for `point` layers"),
    Field("northing_column", str, False, "British National Grid northing (metres), with `easting_column`"),
    Field("value_column", str, False, "column holding the value (required unless geography is `point`)"),
    Field("ci_lower_column", str, False, "lower 95% confidence limit column"),
    Field("ci_upper_column", str, False, "upper 95% confidence limit column"),
    Field("name_column", str, False, "column with a human name for each row"),
    Field("source", str, True, "publisher and title of the source"),
    Field("source_url", str, False, "URL of the official source"),
    Field("licence", str, True, "licence of the source (e.g. Open Government Licence v3.0)"),
    Field("vintage", str, True, "period the data describes (`2019`, `2016-2020`…)"),
    Field("theme", str, True, "menu group: `deprivation`, `health`, `schools`, `services`, or your own"),
    Field("breaks", list, False, "class breaks for the choropleth (ascending numbers); quantiles if absent"),
    Field("valid_min", (int, float), False, "smallest valid value (`%` layers default to 0)"),
    Field("valid_max", (int, float), False, "largest valid value (`%` layers default to 100)"),
    Field("weight_column", str, False, "people each value is a share of (e.g. a practice's list size): sizes "
                                       "points and weights means when values are carried to areas"),
    Field("coverage", str, False, "where the layer has values when not everywhere, e.g. \"only schools the GTFS "
                                  "feed reaches\"; shown as the reason a place has no value"),
)
FIELD_NAMES = tuple(f.name for f in FIELDS)


@dataclass(frozen=True)
class LayerDescriptor:
    """A validated layer descriptor. ``path`` is the folder holding the descriptor."""

    id: str
    title: str
    unit: str
    polarity: str
    geography: str
    file: str
    source: str
    licence: str
    vintage: str
    theme: str
    description: str = ""
    key_column: str | None = None
    lat_column: str | None = None
    lon_column: str | None = None
    easting_column: str | None = None
    northing_column: str | None = None
    value_column: str | None = None
    ci_lower_column: str | None = None
    ci_upper_column: str | None = None
    name_column: str | None = None
    source_url: str | None = None
    breaks: tuple[float, ...] | None = None
    valid_min: float | None = None
    valid_max: float | None = None
    coverage: str | None = None
    weight_column: str | None = None
    path: Path | None = field(default=None, compare=False)
    user: bool = field(default=False, compare=False)

    @property
    def data_path(self) -> Path:
        """Absolute path of the layer's data file."""
        if self.path is None:
            raise ValueError(f"layer {self.id} has no folder")
        return self.path / self.file

    @property
    def geography_label(self) -> str:
        """Human name of the geography, with its code vintage."""
        return GEOGRAPHY_LABELS[self.geography]

    @property
    def has_ci(self) -> bool:
        return bool(self.ci_lower_column and self.ci_upper_column)

    def to_dict(self) -> dict[str, Any]:
        """The descriptor as written in TOML (absent optional keys left out)."""
        out: dict[str, Any] = {}
        for name in FIELD_NAMES:
            value = getattr(self, name)
            if value is None or (name == "description" and value == ""):
                continue
            out[name] = list(value) if isinstance(value, tuple) else value
        return out


def validate_descriptor(raw: dict[str, Any], source_name: str = "<descriptor>") -> LayerDescriptor:
    """Check a raw descriptor mapping; raise :class:`DescriptorError` with every problem.

    Unknown keys, missing required keys, wrong types, bad ids, bad polarity/geography,
    file names that are paths, and missing key/value/lat/lon columns are all reported.
    """
    problems: list[Problem] = []

    def bad(key: str | None, msg: str) -> None:
        problems.append(Problem(source_name, msg, column=key))

    known = {f.name: f for f in FIELDS}
    for key in raw:
        if key not in known:
            close = difflib.get_close_matches(str(key), FIELD_NAMES, n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            bad(str(key), f"unknown descriptor key{hint}")
    for f in FIELDS:
        if f.name not in raw:
            if f.required:
                bad(f.name, "required key is missing")
            continue
        value = raw[f.name]
        if isinstance(value, bool) or not isinstance(value, f.type):
            bad(f.name, f"must be {_type_name(f.type)}, got {type(value).__name__}")
        elif isinstance(value, str) and not value.strip() and f.required:
            bad(f.name, "must not be empty")
    if problems:
        raise DescriptorError(problems, f"invalid layer descriptor {source_name}")

    layer_id = raw["id"]
    if not LAYER_ID_RE.match(layer_id):
        bad("id", f"'{layer_id}' is not a valid id: use 1 to 64 of a-z, 0-9, '_' or '-'")
    if raw["polarity"] not in POLARITIES:
        bad("polarity", f"'{raw['polarity']}' is not one of {', '.join(POLARITIES)}")
    if raw["geography"] not in GEOGRAPHIES:
        close = difflib.get_close_matches(raw["geography"], GEOGRAPHIES, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        bad("geography", f"'{raw['geography']}' is not one of {', '.join(GEOGRAPHIES)}{hint}")
    if not FILE_NAME_RE.match(raw["file"]) or raw["file"].startswith("."):
        bad("file", f"'{raw['file']}' must be a bare file name in the descriptor's folder, not a path")
    if raw["geography"] == "point":
        has_ll = "lat_column" in raw and "lon_column" in raw
        has_en = "easting_column" in raw and "northing_column" in raw
        if not (has_ll or has_en):
            for key in ("lat_column", "lon_column"):
                if key not in raw:
                    bad(key, "required for point layers (or easting_column and northing_column)")
    else:
        for key in ("key_column", "value_column") + (("lat_column", "lon_column") if raw["geography"] == "practice"
                                                     else ()):
            if key not in raw:
                bad(key, f"required for {raw['geography']} layers")
    if "breaks" in raw:
        br = raw["breaks"]
        if not br or not all(isinstance(b, (int, float)) and not isinstance(b, bool) for b in br):
            bad("breaks", "must be a non-empty list of numbers")
        elif list(br) != sorted(br):
            bad("breaks", "must be in ascending order")
    if problems:
        raise DescriptorError(problems, f"invalid layer descriptor {source_name}")

    kwargs = {k: raw[k] for k in FIELD_NAMES if k in raw}
    if "breaks" in kwargs:
        kwargs["breaks"] = tuple(float(b) for b in kwargs["breaks"])
    for key in ("valid_min", "valid_max"):
        if key in kwargs:
            kwargs[key] = float(kwargs[key])
    if kwargs.get("unit") == "%":
        kwargs.setdefault("valid_min", 0.0)
        kwargs.setdefault("valid_max", 100.0)
    return LayerDescriptor(**kwargs)


def _type_name(t: type | tuple[type, ...]) -> str:
    if isinstance(t, tuple):
        return "a number"
    return {str: "a string", list: "a list", int: "an integer", float: "a number"}.get(t, t.__name__)


def load_descriptor(path: Path, user: bool = False) -> LayerDescriptor:
    """Read and validate one descriptor TOML file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise DescriptorError([Problem(str(path), f"not valid TOML: {exc}")], "unreadable descriptor") from exc
    except UnicodeDecodeError as exc:
        raise DescriptorError([Problem(str(path), "not UTF-8 text")], "unreadable descriptor") from exc
    desc = validate_descriptor(raw, str(path))
    return _with_path(desc, path.parent, user)


def _with_path(desc: LayerDescriptor, folder: Path, user: bool) -> LayerDescriptor:
    kwargs = {name: getattr(desc, name) for name in FIELD_NAMES}
    return LayerDescriptor(**kwargs, path=folder, user=user)


def descriptor_to_toml(desc: LayerDescriptor | dict[str, Any]) -> str:
    """Serialise a descriptor as TOML, keys in :data:`FIELDS` order (deterministic)."""
    data = desc.to_dict() if isinstance(desc, LayerDescriptor) else desc
    lines = []
    for name in FIELD_NAMES:
        if name in data and data[name] is not None:
            lines.append(f"{name} = {toml_value(data[name])}")
    return "\n".join(lines) + "\n"


def toml_value(value: Any) -> str:
    """One TOML value: string (basic, escaped), integer, float, bool, or list of these."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        escaped = escaped.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
        escaped = "".join(c if ord(c) >= 0x20 and ord(c) != 0x7F else f"\\u{ord(c):04x}" for c in escaped)
        return f'"{escaped}"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


@dataclass
class Catalogue:
    """All layers: bundled first, then user layers; ids are unique."""

    layers: dict[str, LayerDescriptor]

    def get(self, layer_id: str) -> LayerDescriptor:
        """The layer with this id, or :class:`UnknownLayerError` naming close ids."""
        try:
            return self.layers[layer_id]
        except KeyError:
            close = difflib.get_close_matches(layer_id, list(self.layers), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else "; run `python -m civicdata layers` to list them"
            raise UnknownLayerError(f"no layer '{layer_id}'{hint}") from None

    def __contains__(self, layer_id: str) -> bool:
        return layer_id in self.layers

    def __iter__(self):
        return iter(self.layers.values())

    def __len__(self) -> int:
        return len(self.layers)

    def by_theme(self) -> dict[str, list[LayerDescriptor]]:
        """Layers grouped by theme: the main themes first (:data:`THEME_ORDER`), then others A-Z."""
        out: dict[str, list[LayerDescriptor]] = {}
        for desc in self.layers.values():
            out.setdefault(desc.theme, []).append(desc)
        rank = {t: i for i, t in enumerate(THEME_ORDER)}
        return dict(sorted(out.items(), key=lambda kv: (rank.get(kv[0], len(rank)), kv[0])))


THEME_ORDER = ("deprivation", "health", "schools", "services", "population", "education", "crime",
               "housing", "access", "environment")

BUNDLED_LAYER_FOLDERS = ("indicators", "schools", "services")


def load_catalogue(data_dir: Path | None = None, db_url: str | None = None) -> Catalogue:
    """Discover and validate every descriptor: bundled (``data/indicators`` etc.) then the store's.

    Every invalid descriptor is reported at once. A user layer may not reuse a bundled id. Layer folders
    in ``$CIVICDATA_USER_LAYERS`` not yet imported into the store are imported first (once).
    """
    data_dir = bundle.folder(data_dir)
    eng = store_db.engine(db_url)
    _import_once(settings.user_layers_dir(), eng)
    problems: list[Problem] = []
    layers: dict[str, LayerDescriptor] = {}
    paths: list[tuple[Path, bool]] = []
    for folder in BUNDLED_LAYER_FOLDERS:
        paths += [(p, False) for p in sorted((data_dir / folder).glob("*.toml"))]
    paths += [(p / stored.DESCRIPTOR_FILE, True) for p in stored.local_copies(eng)]
    for path, user in paths:
        try:
            desc = load_descriptor(path, user=user)
        except DescriptorError as exc:
            problems += exc.problems
            continue
        if desc.id in layers:
            problems.append(Problem(str(path), f"layer id '{desc.id}' is already used by {layers[desc.id].path}",
                                    column="id"))
            continue
        layers[desc.id] = desc
    if problems:
        raise DescriptorError(problems, "the layer catalogue has invalid descriptors")
    return Catalogue(layers)


def _import_once(folder: Path, eng) -> None:
    if store_db.once_per_process("import layer folders", folder, eng):
        for message in import_layer_folders(folder, eng):
            log.warning(message)


def bundled_ids(data_dir: Path | None = None) -> set[str]:
    """The ids of the bundled layers (user layers may not reuse them)."""
    return {p.stem for folder in BUNDLED_LAYER_FOLDERS for p in (bundle.folder(data_dir) / folder).glob("*.toml")}


def import_layer_folders(folder: Path, eng=None) -> list[str]:
    """Import each layer folder below ``folder`` (``<id>/layer.toml`` + ``<id>/data.parquet``, as earlier
    versions kept user layers) into the store, once: a folder already imported with the same content is
    skipped; an id already in the store keeps the stored layer. One message per folder handled."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    eng = eng or store_db.engine()
    messages = []
    taken = bundled_ids()
    for toml_path in sorted(folder.glob("*/layer.toml")):
        layer_dir = toml_path.parent
        if layer_dir.name.startswith(".") or not (layer_dir / stored.DATA_FILE).is_file():
            continue
        sha = stored.folder_sha256(layer_dir)
        if store_db.is_imported(layer_dir.resolve(), sha, eng):
            continue
        try:
            desc = load_descriptor(toml_path, user=True)
            if desc.id in taken:
                raise DescriptorError([Problem(str(toml_path), f"'{desc.id}' is a bundled layer id", column="id")],
                                      "invalid layer descriptor")
            if desc.file != stored.DATA_FILE:
                raise DescriptorError([Problem(str(toml_path), f"its data file must be {stored.DATA_FILE}",
                                               column="file")], "unreadable descriptor")
            data = (layer_dir / stored.DATA_FILE).read_bytes()
            stored.put_layer(desc.id, desc.title, toml_path.read_text(encoding="utf-8"), data,
                             _parquet_rows(data), f"{layer_dir.name}/{stored.DATA_FILE}", eng=eng)
            outcome = "imported"
            msg = f"imported the layer folder {layer_dir} into the shared store as '{desc.id}'"
        except stored.LayerExistsError:
            outcome = "not imported: the store already has a layer with this id (kept)"
            msg = f"{layer_dir}: {outcome}"
        except DescriptorError as exc:
            outcome = f"not imported: {exc}"
            msg = f"{layer_dir}: {outcome}"
        store_db.record_import(layer_dir.resolve(), sha, layer_dir.name, outcome, eng)
        messages.append(msg)
    return messages


def _parquet_rows(data: bytes) -> int:
    import io

    import pyarrow.parquet as pq

    return pq.ParquetFile(io.BytesIO(data)).metadata.num_rows

"""User layers in the store: one row per layer (descriptor TOML + Parquet bytes), and local copies.

Every app server and CLI reads the same rows (``CIVICDATA_DB_URL``). To stay a file-backed layer like the
bundled ones, each stored layer is copied once into this process's cache folder
(``<CIVICDATA_HOME>/layer-cache/<database>/<id>-<sha>/``: ``layer.toml`` + ``data.parquet``), named by the
sha256 of its content, so a replaced layer gets a new folder and nothing stale is ever read.

Adding, replacing and removing are one transaction each that first bumps the ``layers`` counter: that
serialises writers across servers, so when two servers add the same id at once one wins and the other is
told (:class:`LayerExistsError`). Nothing here validates a layer: :mod:`civicdata.indicators.userlayers` does, before
it calls :func:`put_layer`.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from civicdata import settings
from civicdata.errors import CivicDataError
from civicdata.store import db

DESCRIPTOR_FILE = "layer.toml"
DATA_FILE = "data.parquet"
STALE_COPY_SECONDS = 3600


class LayerExistsError(CivicDataError, FileExistsError):
    """A layer with this id exists: ask before replacing (``replace=True``)."""


@dataclass(frozen=True)
class StoredLayer:
    """One stored user layer, without its data: id, title, descriptor TOML, content sha256, rows, when."""

    id: str
    title: str
    descriptor: str
    sha256: str
    rows: int
    source_file: str
    updated_at: str


def content_sha256(descriptor: str, data: bytes) -> str:
    """sha256 of a layer's descriptor text and data bytes (names its local copy)."""
    h = hashlib.sha256(descriptor.encode("utf-8"))
    h.update(b"\0")
    h.update(data)
    return h.hexdigest()


def put_layer(layer_id: str, title: str, descriptor: str, data: bytes, rows: int, source_file: str = "", *,
              replace_existing: bool = False, eng: Engine | None = None) -> int:
    """Store a validated layer in one transaction; the new ``layers`` version. An existing id raises
    :class:`LayerExistsError` unless ``replace_existing`` (the old row stays until the new one commits)."""
    eng = eng or db.engine()
    now = db.utc_now()
    row = {"title": title[:200], "descriptor": descriptor, "data": data, "sha256": content_sha256(descriptor, data),
           "rows": int(rows), "source_file": source_file[:300], "updated_at": now}
    try:
        with db.writing(eng) as conn:
            number = db.bump(conn, "layers")
            exists = conn.execute(select(db.user_layers.c.id).where(db.user_layers.c.id == layer_id)).first()
            if exists and not replace_existing:
                raise LayerExistsError(f"a layer '{layer_id}' already exists: confirm to replace it (the old one is "
                                       "kept until the new one is saved)")
            if exists:
                conn.execute(update(db.user_layers).where(db.user_layers.c.id == layer_id).values(**row))
            else:
                conn.execute(insert(db.user_layers).values(id=layer_id, added_at=now, **row))
    except IntegrityError as exc:  # pragma: no cover - bump() serialises writers; kept as a last guard
        raise LayerExistsError(f"a layer '{layer_id}' was added at the same moment elsewhere: "
                               "confirm to replace it") from exc
    return number


def delete_layer(layer_id: str, eng: Engine | None = None) -> bool:
    """Remove a stored layer in one transaction; False if there was none."""
    with db.writing(eng or db.engine()) as conn:
        db.bump(conn, "layers")
        return conn.execute(delete(db.user_layers).where(db.user_layers.c.id == layer_id)).rowcount > 0


def stored_layers(eng: Engine | None = None) -> list[StoredLayer]:
    """Every stored layer (without its data), by id."""
    t = db.user_layers
    with db.reading(eng or db.engine()) as conn:
        rows = conn.execute(select(t.c.id, t.c.title, t.c.descriptor, t.c.sha256, t.c.rows, t.c.source_file,
                                   t.c.updated_at).order_by(t.c.id)).all()
    return [StoredLayer(*r) for r in rows]


def layer_data(layer_id: str, eng: Engine | None = None) -> bytes:
    """The stored Parquet bytes of one layer."""
    with db.reading(eng or db.engine()) as conn:
        data = conn.execute(select(db.user_layers.c.data).where(db.user_layers.c.id == layer_id)).scalar_one_or_none()
    if data is None:
        raise KeyError(layer_id)
    return bytes(data)


def cache_dir(eng: Engine) -> Path:
    """This process's folder of local copies for the database ``eng`` points at."""
    return settings.user_data_dir() / "layer-cache" / db.url_key(eng)


def local_copies(eng: Engine | None = None) -> list[Path]:
    """A folder (``layer.toml`` + ``data.parquet``) for each stored layer, copied from the database the
    first time it is needed (written to a temporary folder, then renamed). Copies of replaced or removed
    layers are deleted once they are an hour old (a page still drawing an old copy can finish)."""
    eng = eng or db.engine()
    root = cache_dir(eng)
    out: list[Path] = []
    keep: set[str] = set()
    for layer in stored_layers(eng):
        name = f"{layer.id}-{layer.sha256[:16]}"
        keep.add(name)
        folder = root / name
        if not (folder / DESCRIPTOR_FILE).is_file():
            try:
                data = layer_data(layer.id, eng)
            except KeyError:  # removed between the two reads
                continue
            _write_copy(folder, layer.descriptor, data)
        out.append(folder)
    if root.is_dir():
        for old in root.iterdir():
            if old.name not in keep and old.stat().st_mtime < time.time() - STALE_COPY_SECONDS:
                shutil.rmtree(old, ignore_errors=True)
    return out


def _write_copy(folder: Path, descriptor: str, data: bytes) -> None:
    folder.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".copy-{folder.name}-", dir=folder.parent))
    try:
        (tmp / DATA_FILE).write_bytes(data)
        (tmp / DESCRIPTOR_FILE).write_text(descriptor, encoding="utf-8")
        try:
            os.rename(tmp, folder)
        except OSError:  # another process copied it first: theirs is identical
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


# --------------------------------------------------------------------------- folders imported once

def folder_sha256(folder: Path) -> str:
    """sha256 of a layer folder's ``layer.toml`` and data file."""
    toml = (folder / DESCRIPTOR_FILE).read_text(encoding="utf-8")
    data = (folder / DATA_FILE).read_bytes() if (folder / DATA_FILE).is_file() else b""
    return content_sha256(toml, data)


__all__ = ["LayerExistsError", "StoredLayer", "content_sha256", "put_layer", "delete_layer", "stored_layers",
           "layer_data", "cache_dir", "local_copies", "folder_sha256"]

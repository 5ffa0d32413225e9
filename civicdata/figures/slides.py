"""Slides: the views a convenor saves to step through in presentation mode, kept in the store as a
*deck* (``saved_places`` kind ``deck``; its id travels in the link as ``deck=``), so a deck survives a
server that stops, and the same link opens the same slides on any server or machine.

A slide is a page path and the link parameters of the view (secrets such as a facilitator key are left
out by the caller).
"""

from __future__ import annotations

import re
import secrets

from civicdata.store import places as saved

KIND = "deck"
DECK_ID_RE = re.compile(r"^[a-f0-9]{16}$")
MAX_SLIDES = 60


def new_deck_id() -> str:
    """A fresh, unguessable deck id (16 hex characters)."""
    return secrets.token_hex(8)


def is_deck_id(text: str | None) -> bool:
    return bool(text and DECK_ID_RE.match(text))


def deck_slides(deck_id: str) -> list[dict]:
    """The deck's slides in order (``[{"page", "params"}]``); [] for an unknown or malformed id."""
    if not is_deck_id(deck_id):
        return []
    try:
        return list(saved.load_place(KIND, deck_id).get("slides", []))
    except saved.UnknownPlaceError:
        return []


def add_slide(deck_id: str, page: str, params: dict[str, str]) -> int:
    """Append a slide to the deck (made on first use); the number of slides. A full deck keeps its first
    :data:`MAX_SLIDES`."""
    if not is_deck_id(deck_id):
        raise ValueError(f"'{deck_id}' is not a deck id")
    slides = deck_slides(deck_id)[: MAX_SLIDES - 1]
    slides.append({"page": page, "params": {str(k): str(v) for k, v in params.items()}})
    saved.save_place(KIND, deck_id, "slides", {"slides": slides}, replace=True)
    return len(slides)


__all__ = ["new_deck_id", "is_deck_id", "deck_slides", "add_slide", "MAX_SLIDES"]

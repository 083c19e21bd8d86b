"""The voter-facing string catalogue: every word on a kiosk screen comes from here, by id, in Arabic or
English.

The election's catalogue is ``config/strings.json``; ``kiosk/accessibility/strings_kiosk.json`` adds
the kiosk's own strings that the catalogue does not (yet) have. The catalogue wins when both define an
id. A missing id is a programming error and raises ``KeyError`` loudly: a voter must never see an id.

Every value put into a template (a confirmation code, a number, a kiosk id, a candidate's or a contest's name)
is bidi-isolated: wrapped in FIRST STRONG ISOLATE (U+2068) ... POP DIRECTIONAL ISOLATE (U+2069), Unicode's
bidirectional algorithm (UAX #9, X5c) then lays the value out on its own, in the direction of its first strong
letter (left to right when it has none, as an all-digit code), and the text around it cannot reorder its parts.
Without it, an Arabic sentence shows the code ``7935-D2F7-C57A-19DF`` as ``D2F7-C57A-19DF-7935`` (the digit group
takes the sentence's right-to-left direction). ``ltr`` isolates a token that is always left to right (LEFT-TO-RIGHT
ISOLATE, U+2066), for text the screens build themselves. The isolates are invisible (zero-width in Amiri with
Pillow's raqm layout, which Kivy uses; tests/ui/test_bidi.py checks the visual order of every such string).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from importlib import resources
from pathlib import Path

from election.manifest import Language, Text

# Package data, found through importlib.resources (not by a path relative to the checkout).
CATALOGUE_PATH = Path(str(resources.files("config") / "strings.json"))
OVERRIDES_PATH = Path(str(resources.files("kiosk.accessibility") / "strings_kiosk.json"))


LRI = "\u2066"
"""LEFT-TO-RIGHT ISOLATE"""
FSI = "\u2068"
"""FIRST STRONG ISOLATE"""
PDI = "\u2069"
"""POP DIRECTIONAL ISOLATE"""
ISOLATES = frozenset("\u2066\u2067\u2068\u2069")

PIN_DOT = "\u2022"
"""BULLET: the PIN screen shows one per digit typed (in Amiri, the kiosk's one font; U+25CF is not in it)."""


def isolate(value: object) -> str:
    """``value`` as text laid out on its own, in the direction of its first strong letter (LTR if none)."""
    return f"{FSI}{value}{PDI}"


def ltr(value: object) -> str:
    """``value`` as a left-to-right token (a code, an id) that surrounding Arabic text cannot reorder."""
    return f"{LRI}{value}{PDI}"


def plain(text: str) -> str:
    """``text`` without its bidi isolates (for speech, logs and comparisons)."""
    return "".join(c for c in text if c not in ISOLATES)


class CatalogueError(ValueError):
    """A string file is malformed: the message names the file and the entry."""


def _load(path: Path) -> dict[str, Text]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise CatalogueError(f"{path}: {exc}") from None
    if not isinstance(raw, Mapping):
        raise CatalogueError(f"{path}: expected an object of id -> {{ar, en}}")
    out: dict[str, Text] = {}
    for key, value in raw.items():
        try:
            out[str(key)] = Text.from_dict(value, f"{path.name}:{key}")
        except ValueError as exc:
            raise CatalogueError(str(exc)) from None
    return out


class Catalogue:
    def __init__(self, entries: Mapping[str, Text]) -> None:
        self._entries = dict(entries)

    @classmethod
    def load(cls, catalogue: Path = CATALOGUE_PATH, overrides: Path = OVERRIDES_PATH) -> Catalogue:
        entries = _load(overrides)
        if catalogue.exists():
            entries.update(_load(catalogue))
        return cls(entries)

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def text(self, key: str, language: Language, **values: object) -> str:
        entry = self._entries.get(key)
        if entry is None:
            raise KeyError(f"string {key!r} is in neither the catalogue nor the kiosk overrides")
        template = entry.in_language(language)
        return template.format(**{k: isolate(v) for k, v in values.items()}) if values else template

    def missing(self, keys: Mapping[str, object] | list[str] | tuple[str, ...] | frozenset[str]) -> list[str]:
        return sorted(k for k in keys if k not in self._entries)

"""The audio clips of an election package other than the candidates' own: how they are named, where they
live in the package, and the content rule that every one the kiosk may need is there.

The audio ballot speaks every screen text, contest, wilayat, number and confirmation-code character in
Arabic and English (VVSG 2.0 ch. 7; Decision 128/2003, Art. 5). A text with placeholders
("Choose up to {seats}") is spoken as its literal parts with the values' clips between them, so each
literal part is its own clip: ``str:ballot.instructions#0``, then ``num:2``.

The package builder writes ``audio/clips.json`` (``CLIP_INDEX``): the string templates it used and, for
every clip id, its path and spoken text in each language. The kiosk reads the same index, so what it
asks for is exactly what was synthesised or recorded.
"""

from __future__ import annotations

import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from election.manifest import Language, Manifest, Text

CLIP_INDEX = "audio/clips.json"
CLIP_INDEX_FORMAT = 1
MIN_CLIP_BYTES = 64

CODE_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
"""Confirmation codes are RFC 4648 base32 (A-Z, 2-7): letters have their own clips, digits use numbers."""

_SAFE_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")


class ClipIndexError(ValueError):
    """``audio/clips.json`` is malformed or does not cover what the kiosk needs."""


# ---- clip ids ------------------------------------------------------------------------------------


def string_clip(key: str, part: int | None = None) -> str:
    """A whole string without placeholders (``part=None``) or the ``part``-th literal part of a template."""
    return f"str:{key}" if part is None else f"str:{key}#{part}"


def number_clip(n: int) -> str:
    return f"num:{n}"


def letter_clip(letter: str) -> str:
    return f"chr:{letter}"


def contest_clip(contest_id: str) -> str:
    return f"contest:{contest_id}"


def wilayat_clip(code: str) -> str:
    return f"wilayat:{code}"


def candidate_clip(candidate_id: str) -> str:
    """A candidate's announcement (ballot number, then name); its path is the manifest's ``audio``."""
    return f"cand:{candidate_id}"


def clip_path(clip_id: str, language: Language) -> str:
    """Where a non-candidate clip lives in the package, e.g. ``audio/en/strings/ballot.instructions.0.ogg``."""
    kind, _, key = clip_id.partition(":")
    folder = {"str": "strings", "num": "numbers", "chr": "letters", "contest": "contests", "wilayat": "wilayats"}
    if kind not in folder or not key:
        raise ClipIndexError(f"{clip_id!r} is not a named clip id")
    name = key.replace("#", ".")
    if not _SAFE_KEY.match(name):
        raise ClipIndexError(f"{clip_id!r}: unsafe characters for a file name")
    return f"audio/{language.value}/{folder[kind]}/{name}.ogg"


# ---- templates -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    """A spoken literal part of a template: its clip is ``string_clip(key, index)``."""

    text: str
    index: int


@dataclass(frozen=True)
class Placeholder:
    name: str


TemplatePart = Literal | Placeholder


def _speakable(text: str) -> bool:
    return any(ch.isalnum() for ch in text)


def template_parts(template: str) -> tuple[TemplatePart, ...]:
    """Split a catalogue template into literal parts and placeholders, in spoken order.

    Literal parts with nothing to say (a lone comma or colon) are dropped; the others are numbered from
    0 in order. A template without placeholders is one literal part (spoken as ``string_clip(key)``).
    """
    parts: list[TemplatePart] = []
    index = 0
    for literal, field_name, _spec, _conv in string.Formatter().parse(template):
        if literal and _speakable(literal):
            parts.append(Literal(literal.strip(), index))
            index += 1
        if field_name:
            parts.append(Placeholder(field_name))
    return tuple(parts)


def has_placeholders(template: str) -> bool:
    return any(isinstance(p, Placeholder) for p in template_parts(template))


def string_clips(key: str, text: Text) -> dict[str, Text]:
    """The clips of one catalogue string: clip id -> what it says in each language.

    The literal parts of the Arabic and English templates need not line up (word order differs), so a
    part index missing in one language gets the other language's count of parts: every clip id exists
    in both languages, with a blank text where a language has fewer parts (never spoken there).
    """
    if not has_placeholders(text.ar) and not has_placeholders(text.en):
        return {string_clip(key): text}
    ar = [p.text for p in template_parts(text.ar) if isinstance(p, Literal)]
    en = [p.text for p in template_parts(text.en) if isinstance(p, Literal)]
    return {string_clip(key, i): Text(ar=_at(ar, i), en=_at(en, i)) for i in range(max(len(ar), len(en)))}


def _at(items: list[str], i: int) -> str:
    return items[i] if i < len(items) else ""


def numbers_needed(manifest: Manifest) -> int:
    """The largest number the audio ballot may speak: ballot numbers, counts of contests, and 0-60 for
    times of day, seconds and tries."""
    biggest = max((k.ballot_number for c in manifest.contests for k in c.candidates), default=0)
    return max(60, biggest, len(manifest.contests), max((c.seats for c in manifest.contests), default=0))


def required_clip_ids(manifest: Manifest) -> set[str]:
    """Clips every package must have, whatever the kiosk's own strings: the manifest's strings, every
    contest and wilayat name, the numbers and the code letters."""
    ids: set[str] = set()
    for key, text in manifest.strings.items():
        ids.update(string_clips(key, text))
    ids.update(contest_clip(c.id) for c in manifest.contests)
    ids.update(wilayat_clip(w.code) for w in manifest.wilayats)
    ids.update(number_clip(n) for n in range(numbers_needed(manifest) + 1))
    ids.update(letter_clip(c) for c in CODE_LETTERS)
    return ids


# ---- the index in the package --------------------------------------------------------------------


@dataclass(frozen=True)
class ClipEntry:
    """One clip: its path and spoken text per language (an empty text: not spoken in that language)."""

    paths: Text
    text: Text

    def path(self, language: Language) -> str:
        return self.paths.in_language(language)


@dataclass(frozen=True)
class ClipIndex:
    strings: Mapping[str, Text]
    clips: Mapping[str, ClipEntry]

    def to_json(self) -> bytes:
        data = {
            "format": CLIP_INDEX_FORMAT,
            "strings": {k: v.to_dict() for k, v in sorted(self.strings.items())},
            "clips": {
                k: {"ar": {"path": e.paths.ar, "text": e.text.ar}, "en": {"path": e.paths.en, "text": e.text.en}}
                for k, e in sorted(self.clips.items())
            },
        }
        return (json.dumps(data, ensure_ascii=False, indent=1, sort_keys=True) + "\n").encode("utf-8")

    @staticmethod
    def from_json(data: bytes) -> ClipIndex:
        try:
            raw: Any = json.loads(data.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ClipIndexError(f"not valid UTF-8 JSON ({exc})") from None
        if not isinstance(raw, dict) or raw.get("format") != CLIP_INDEX_FORMAT:
            raise ClipIndexError(f"expected an object with format {CLIP_INDEX_FORMAT}")
        strings_raw, clips_raw = raw.get("strings"), raw.get("clips")
        if not isinstance(strings_raw, dict) or not isinstance(clips_raw, dict):
            raise ClipIndexError("'strings' and 'clips' must be objects")
        strings: dict[str, Text] = {}
        for key, value in strings_raw.items():
            if not isinstance(value, dict) or not all(isinstance(value.get(lang), str) for lang in ("ar", "en")):
                raise ClipIndexError(f"strings.{key}: expected 'ar' and 'en' strings")
            strings[key] = Text(ar=value["ar"], en=value["en"])
        clips: dict[str, ClipEntry] = {}
        for key, value in clips_raw.items():
            try:
                ar, en = value["ar"], value["en"]
                entry = ClipEntry(paths=Text(ar=ar["path"], en=en["path"]), text=Text(ar=ar["text"], en=en["text"]))
            except (KeyError, TypeError):
                raise ClipIndexError(f"clips.{key}: expected ar/en objects with 'path' and 'text'") from None
            if not all(isinstance(x, str) for x in (*entry.paths.to_dict().values(), *entry.text.to_dict().values())):
                raise ClipIndexError(f"clips.{key}: paths and texts must be strings")
            clips[key] = entry
        return ClipIndex(strings=strings, clips=clips)


def check_clips(manifest: Manifest, members: Mapping[str, bytes]) -> tuple[str, str] | None:
    """The package's content rule for audio: the first problem as ``(file, problem)``, or ``None``.

    A package without ``audio/clips.json`` has only candidate audio (checked by the package loader); with
    one, every clip it lists must be present, and it must cover the manifest's strings, contests,
    wilayats, numbers and code letters.
    """
    data = members.get(CLIP_INDEX)
    if data is None:
        return None
    try:
        index = ClipIndex.from_json(data)
    except ClipIndexError as exc:
        return CLIP_INDEX, str(exc)
    for clip_id in sorted(required_clip_ids(manifest)):
        if clip_id not in index.clips:
            return CLIP_INDEX, f"no clip {clip_id!r} (needed by the manifest)"
    for clip_id, entry in sorted(index.clips.items()):
        for language in Language:
            if not entry.text.in_language(language):
                continue
            path = entry.path(language)
            audio = members.get(path)
            if audio is None:
                return path, f"missing: the {language.value} audio clip {clip_id!r}"
            if len(audio) < MIN_CLIP_BYTES:
                return path, f"the {language.value} audio clip {clip_id!r} is empty or truncated"
    return None

"""The audio ballot's clips other than the candidates': what the package builder records or synthesises.

Every voter-facing string (the election's catalogue in the manifest, config/strings.json, and the kiosk's
own strings in kiosk/accessibility/strings_kiosk.json and strings_audio.json), every number the ballot
may say, the letters of confirmation codes, and every contest and wilayat name, in Arabic and English.
Naming and the package rule are in ``election.audio_clips``; this module decides the texts.

    python -m tools.audio_catalogue out/demo-small      # print the catalogue's size per kind

Confirmation-code letters are spoken with the ICAO spelling alphabet ("K, Kilo"): Arabic speakers name
several Latin letters alike (B and P are both "بي"), and a voter must be able to write the code down.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

from election.audio_clips import (
    CODE_LETTERS,
    ClipEntry,
    ClipIndex,
    clip_path,
    contest_clip,
    letter_clip,
    number_clip,
    numbers_needed,
    string_clips,
    wilayat_clip,
)
from election.manifest import Language, Manifest, Text

REPO_ROOT = Path(__file__).resolve().parent.parent
STRING_FILES = (
    REPO_ROOT / "kiosk" / "accessibility" / "strings_kiosk.json",
    REPO_ROOT / "kiosk" / "accessibility" / "strings_audio.json",
    REPO_ROOT / "config" / "strings.json",
)
"""Later files win, and the manifest's own strings win over all of them (the election office's text)."""

SPELLING_ALPHABET: Mapping[str, Text] = {
    "A": Text("ألفا", "A, Alfa"),
    "B": Text("برافو", "B, Bravo"),
    "C": Text("تشارلي", "C, Charlie"),
    "D": Text("دلتا", "D, Delta"),
    "E": Text("إيكو", "E, Echo"),
    "F": Text("فوكستروت", "F, Foxtrot"),
    "G": Text("غولف", "G, Golf"),
    "H": Text("هوتيل", "H, Hotel"),
    "I": Text("إنديا", "I, India"),
    "J": Text("جولييت", "J, Juliett"),
    "K": Text("كيلو", "K, Kilo"),
    "L": Text("ليما", "L, Lima"),
    "M": Text("مايك", "M, Mike"),
    "N": Text("نوفمبر", "N, November"),
    "O": Text("أوسكار", "O, Oscar"),
    "P": Text("بابا", "P, Papa"),
    "Q": Text("كيبيك", "Q, Quebec"),
    "R": Text("روميو", "R, Romeo"),
    "S": Text("سييرا", "S, Sierra"),
    "T": Text("تانغو", "T, Tango"),
    "U": Text("يونيفورم", "U, Uniform"),
    "V": Text("فيكتور", "V, Victor"),
    "W": Text("ويسكي", "W, Whiskey"),
    "X": Text("إكس راي", "X, X-ray"),
    "Y": Text("يانكي", "Y, Yankee"),
    "Z": Text("زولو", "Z, Zulu"),
}

SynthJob = tuple[str, Language, str]
"""(text, language, package path), as the package builder's synthesis jobs."""


def _load(path: Path) -> dict[str, Text]:
    raw = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected an object of id -> {{ar, en}}")
    return {str(k): Text.from_dict(v, f"{path.name}:{k}") for k, v in raw.items()}


def voter_strings(manifest: Manifest, files: tuple[Path, ...] = STRING_FILES) -> dict[str, Text]:
    """Every string the kiosk may show or say for this election, merged as the kiosk merges them."""
    merged: dict[str, Text] = {}
    for path in files:
        if path.exists():
            merged.update(_load(path))
    merged.update(manifest.strings)
    return merged


def clip_index(manifest: Manifest, strings: Mapping[str, Text] | None = None) -> ClipIndex:
    """The package's ``audio/clips.json``: every non-candidate clip with its path and text per language."""
    if strings is None:
        strings = voter_strings(manifest)
    texts: dict[str, Text] = {}
    for key, text in sorted(strings.items()):
        texts.update(string_clips(key, text))
    for n in range(numbers_needed(manifest) + 1):
        texts[number_clip(n)] = Text(ar=str(n), en=str(n))
    for letter in CODE_LETTERS:
        texts[letter_clip(letter)] = SPELLING_ALPHABET[letter]
    for contest in manifest.contests:
        texts[contest_clip(contest.id)] = contest.name
    for wilayat in manifest.wilayats:
        texts[wilayat_clip(wilayat.code)] = wilayat.name
    clips = {
        clip_id: ClipEntry(
            paths=Text(ar=clip_path(clip_id, Language.ARABIC), en=clip_path(clip_id, Language.ENGLISH)), text=text
        )
        for clip_id, text in texts.items()
    }
    return ClipIndex(strings=dict(strings), clips=clips)


def catalogue_jobs(index: ClipIndex, definition: Path, files: dict[str, bytes]) -> tuple[int, list[SynthJob]]:
    """Take recorded clips from the definition directory (same path as in the package) into ``files``;
    return how many were recorded and the synthesis jobs for the rest."""
    recorded = 0
    jobs: list[SynthJob] = []
    for _clip_id, entry in sorted(index.clips.items()):
        for language in Language:
            text = entry.text.in_language(language)
            if not text:
                continue
            path = entry.path(language)
            source = definition / path
            if source.is_file():
                files[path] = source.read_bytes()
                recorded += 1
            else:
                jobs.append((text, language, path))
    return recorded, jobs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.audio_catalogue", description=__doc__.split("\n")[0])
    parser.add_argument("definition", type=Path, help="definition directory with manifest.json")
    args = parser.parse_args(argv)
    manifest = Manifest.from_dict(json.loads((args.definition / "manifest.json").read_bytes()))
    index = clip_index(manifest)
    kinds = Counter(clip_id.partition(":")[0] for clip_id in index.clips)
    candidates = sum(len(c.candidates) for c in manifest.contests)
    for kind, count in sorted(kinds.items()):
        print(f"{kind:10} {count:6} clip ids")
    print(f"{'cand':10} {candidates:6} clip ids (from the manifest)")
    files = sum(1 for e in index.clips.values() for lang in Language if e.text.in_language(lang))
    print(f"total files: {files + 2 * candidates}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Check the audio ballot of an election package: every clip exists, is an Ogg clip, and has a sane length.

    python -m tools.check_audio <package> --commission-key PEM

The package is verified with the election commission's public key (``--commission-key``, the PEM file the
kiosks are given) and loaded as a kiosk loads it. Then every candidate's clip (both languages) and
every clip of ``audio/clips.json`` (strings, numbers, code letters, contests, wilayats) must be present
and decode as Ogg Vorbis or Opus, last between ``--min`` and ``--max`` seconds, and be spoken at a
plausible pace for its text (a clip of a long sentence that lasts 0.3 s is cut; one of a name that lasts
20 s is the wrong clip). Durations come from the Ogg headers (no decoding), so the national package's
~2,500 clips take well under a second. Exit status 1 lists every problem.
"""

from __future__ import annotations

import argparse
import statistics
import struct
import sys
import time
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from election.audio_clips import CLIP_INDEX, ClipIndex, ClipIndexError, candidate_clip, required_clip_ids
from election.manifest import Language, Manifest
from election.package import PackageError, load_package, read_commission_key

MIN_SECONDS = 0.15
MAX_SECONDS = 45.0
MIN_CHARS_PER_S = 2.0
"""Slower than this is not speech at ~120 words per minute (or at the slowest recorded pace)."""
MAX_CHARS_PER_S = 40.0


class OggError(ValueError):
    pass


def ogg_duration(data: bytes) -> float:
    """The duration of an Ogg Vorbis or Ogg Opus clip in seconds, from its first and last page headers."""
    if data[:4] != b"OggS" or len(data) < 28:
        raise OggError("not an Ogg file")
    segments = data[26]
    payload = 27 + segments
    if len(data) < payload + 16:
        raise OggError("truncated")
    head = data[payload : payload + 19]
    if head[:7] == b"\x01vorbis" and len(head) >= 16:
        rate = struct.unpack_from("<I", head, 12)[0]
        pre_skip = 0
    elif head[:8] == b"OpusHead" and len(head) >= 12:
        pre_skip = struct.unpack_from("<H", head, 10)[0]
        rate = 48_000  # Opus granule positions always count 48 kHz samples
    else:
        raise OggError("neither Vorbis nor Opus")
    if rate <= 0:
        raise OggError("sample rate 0")
    last = data.rfind(b"OggS")
    if last < 0 or last + 14 > len(data):
        raise OggError("truncated")
    granule = struct.unpack_from("<q", data, last + 6)[0]
    if granule <= 0:
        raise OggError("no audio samples (truncated?)")
    return float(max(0, granule - pre_skip) / rate)


@dataclass(frozen=True)
class Clip:
    clip_id: str
    language: Language
    path: str
    text: str


@dataclass(frozen=True)
class Report:
    checked: int
    problems: tuple[str, ...]
    durations: Mapping[str, tuple[float, ...]]  # by kind
    seconds: float


def _announcement(manifest: Manifest) -> Iterator[Clip]:
    for contest in manifest.contests:
        for k in contest.candidates:
            for lang in Language:
                # What tools.build_package synthesises: the ballot number, then the name.
                text = f"{k.ballot_number} {k.name.in_language(lang)}"
                yield Clip(candidate_clip(k.id), lang, k.audio.in_language(lang), text)


def clips_of(manifest: Manifest, index: ClipIndex | None) -> Iterator[Clip]:
    yield from _announcement(manifest)
    if index is None:
        return
    for clip_id, entry in sorted(index.clips.items()):
        for lang in Language:
            text = entry.text.in_language(lang)
            if text:
                yield Clip(clip_id, lang, entry.path(lang), text)


def check_clip(clip: Clip, data: bytes | None) -> tuple[float | None, str | None]:
    where = f"{clip.path} ({clip.clip_id}, {clip.language.value})"
    if data is None:
        return None, f"{where}: missing"
    try:
        seconds = ogg_duration(data)
    except OggError as exc:
        return None, f"{where}: {exc}"
    if not MIN_SECONDS <= seconds <= MAX_SECONDS:
        return seconds, f"{where}: lasts {seconds:.2f} s (expected {MIN_SECONDS}-{MAX_SECONDS} s)"
    letters = sum(ch.isalnum() for ch in clip.text)
    pace = letters / seconds
    if letters >= 8 and not MIN_CHARS_PER_S <= pace <= MAX_CHARS_PER_S:
        return seconds, f"{where}: {seconds:.2f} s for {letters} letters of text is not a plausible pace"
    return seconds, None


def check(manifest: Manifest, files: Mapping[str, bytes]) -> Report:
    start = time.perf_counter()
    problems: list[str] = []
    index: ClipIndex | None = None
    if CLIP_INDEX not in files:
        problems.append(f"{CLIP_INDEX}: missing (the package has candidate audio only)")
    else:
        try:
            index = ClipIndex.from_json(files[CLIP_INDEX])
        except ClipIndexError as exc:
            problems.append(f"{CLIP_INDEX}: {exc}")
    if index is not None:
        problems += [f"{CLIP_INDEX}: no clip {c!r}" for c in sorted(required_clip_ids(manifest) - set(index.clips))]
    durations: dict[str, list[float]] = defaultdict(list)
    checked = 0
    for clip in clips_of(manifest, index):
        seconds, problem = check_clip(clip, files.get(clip.path))
        checked += 1
        if seconds is not None:
            durations[clip.clip_id.partition(":")[0]].append(seconds)
        if problem is not None:
            problems.append(problem)
    return Report(checked, tuple(problems), {k: tuple(v) for k, v in durations.items()}, time.perf_counter() - start)


def summary(report: Report) -> str:
    lines = [f"{'kind':10} {'clips':>6} {'min s':>7} {'median s':>9} {'max s':>7}"]
    for kind, values in sorted(report.durations.items()):
        lines.append(
            f"{kind:10} {len(values):6} {min(values):7.2f} {statistics.median(values):9.2f} {max(values):7.2f}"
        )
    total = sum(sum(v) for v in report.durations.values())
    lines.append(f"{report.checked} clips checked in {report.seconds * 1000:.0f} ms; {total / 60:.1f} minutes of audio")
    lines.append(f"{len(report.problems)} problem(s)" if report.problems else "every clip present and sane")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.check_audio", description=__doc__.split("\n")[0])
    parser.add_argument("package", type=Path)
    parser.add_argument(
        "--commission-key", type=Path, required=True, metavar="PEM",
        help="the election commission's Ed25519 public key (PEM), as the kiosks are given it",
    )  # fmt: skip
    args = parser.parse_args(argv)

    started = time.perf_counter()
    try:
        key = read_commission_key(args.commission_key)
        package = load_package(args.package.read_bytes(), key, archive_name=str(args.package))
    except OSError as exc:
        print(f"error: {args.package}: cannot be read ({exc.strerror})", file=sys.stderr)
        return 2
    except (ValueError, PackageError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    loaded = time.perf_counter() - started
    report = check(package.manifest, package.files)
    print(f"{args.package}: loaded and verified in {loaded:.2f} s")
    print(summary(report))
    for problem in report.problems:
        print(f"problem: {problem}", file=sys.stderr)
    return 1 if report.problems else 0


if __name__ == "__main__":
    raise SystemExit(main())

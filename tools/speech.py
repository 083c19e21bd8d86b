"""Synthesised speech for the kiosk's audio read-out (candidate names, screen texts).

espeak-ng renders the text to WAV at a clear rate (about 122 words per minute, VVSG 2.0 ch. 7), then sox
turns it into a small mono Ogg Vorbis clip (16 kHz). sox runs with ``-R`` (repeatable mode) so the same
input gives byte-identical clips and election packages are reproducible.

Clips are cached by content: the key hashes the text, language, voice, rate and output format, so
rebuilding a package re-synthesises only what changed. ``synthesise_many`` runs a few syntheses at
once (subprocesses; the work happens outside Python).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, get_args

SpeechLanguage = Literal["ar", "en"]
VOICES: dict[SpeechLanguage, str] = {"ar": "ar", "en": "en"}
DEFAULT_RATE_WPM = 122
SAMPLE_RATE = 16_000
VORBIS_QUALITY = 1  # sox -C for Vorbis: -1..10; 1 is plenty for speech at 16 kHz
CLIP_SUFFIX = ".ogg"
_FORMAT = f"ogg-vorbis-q{VORBIS_QUALITY}-{SAMPLE_RATE}hz-mono-v1"
_TIMEOUT_S = 60

Progress = Callable[[int, int], None]


class SpeechError(RuntimeError):
    """Speech synthesis failed; the message names the tool and its error output."""


class SpeechToolMissingError(SpeechError):
    """espeak-ng, sox or soxi is not installed (apt-get install espeak-ng sox libsox-fmt-all)."""


@dataclass(frozen=True)
class SpeechJob:
    text: str
    language: SpeechLanguage
    out_path: Path


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise SpeechToolMissingError(f"{name} is not installed or not on PATH (needed for speech synthesis)")
    return path


def _check(text: str, language: str) -> None:
    if language not in get_args(SpeechLanguage):
        raise ValueError(f"unsupported speech language {language!r} (expected 'ar' or 'en')")
    if not text.strip():
        raise ValueError("cannot synthesise empty text")


def cache_key(text: str, language: SpeechLanguage, *, rate: int = DEFAULT_RATE_WPM) -> str:
    """The content address of a clip: SHA-256 over everything that changes its bytes."""
    material = {"text": text, "language": language, "voice": VOICES[language], "rate": rate, "format": _FORMAT}
    return hashlib.sha256(json.dumps(material, sort_keys=True, ensure_ascii=False).encode("utf-8")).hexdigest()


def _run(argv: list[str], *, stdin: bytes | None = None) -> None:
    try:
        result = subprocess.run(argv, input=stdin, capture_output=True, timeout=_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise SpeechError(f"{Path(argv[0]).name} did not finish within {_TIMEOUT_S} s") from None
    if result.returncode != 0:
        err = result.stderr.decode("utf-8", "replace").strip()
        raise SpeechError(f"{Path(argv[0]).name} failed (exit {result.returncode}): {err}")


def _render(text: str, language: SpeechLanguage, rate: int, out_path: Path) -> None:
    espeak, sox = _tool("espeak-ng"), _tool("sox")
    with tempfile.TemporaryDirectory(prefix="sanduq-speech-") as tmp:
        wav = Path(tmp) / "speech.wav"
        # --stdin: the text never reaches the argument parser (a name starting with '-' stays text);
        # -b 1: the input is UTF-8.
        _run(
            [espeak, "-v", VOICES[language], "-s", str(rate), "-b", "1", "--stdin", "-w", str(wav)],
            stdin=text.encode("utf-8"),
        )
        clip = Path(tmp) / f"speech{CLIP_SUFFIX}"
        _run([sox, "-R", str(wav), "-C", str(VORBIS_QUALITY), "-r", str(SAMPLE_RATE), "-c", "1", str(clip)])
        _install(clip, out_path, move=True)


def _install(src: Path, dst: Path, *, move: bool) -> None:
    """Put ``src`` at ``dst`` atomically (a unique temporary name first, so parallel jobs with the same
    text and readers of a cache never see half a file)."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".partial")
    os.close(fd)
    os.chmod(tmp_name, 0o644)  # mkstemp makes 0600; clips are public material
    try:
        if move:
            shutil.move(str(src), tmp_name)
        else:
            shutil.copyfile(src, tmp_name)
        os.replace(tmp_name, dst)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise


def synthesise(
    text: str,
    language: SpeechLanguage,
    out_path: Path,
    *,
    cache_dir: Path | None = None,
    rate: int = DEFAULT_RATE_WPM,
) -> Path:
    """Speak ``text`` in ``language`` into an Ogg Vorbis clip at ``out_path``; returns ``out_path``.

    With ``cache_dir``, a clip already synthesised for the same text, language, voice and rate is copied
    instead of running espeak-ng and sox again.
    """
    _check(text, language)
    out_path = Path(out_path)
    if cache_dir is None:
        _render(text, language, rate, out_path)
        return out_path
    cached = Path(cache_dir) / f"{cache_key(text, language, rate=rate)}{CLIP_SUFFIX}"
    if not cached.exists():
        _render(text, language, rate, cached)
    if cached.resolve() != out_path.resolve():
        _install(cached, out_path, move=False)
    return out_path


def synthesise_many(
    jobs: Sequence[SpeechJob],
    *,
    cache_dir: Path | None = None,
    rate: int = DEFAULT_RATE_WPM,
    workers: int = 2,
    progress: Progress | None = None,
) -> list[Path]:
    """Synthesise every job, ``workers`` at a time; ``progress(done, total)`` after each. Returns the
    output paths in job order. On the first failure the queued jobs are cancelled and it is raised."""
    for job in jobs:
        _check(job.text, job.language)
    if jobs:  # fail fast, before starting a pool
        _tool("espeak-ng")
        _tool("sox")
    total, done = len(jobs), 0
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = {
            pool.submit(synthesise, j.text, j.language, j.out_path, cache_dir=cache_dir, rate=rate): i
            for i, j in enumerate(jobs)
        }
        for future in as_completed(futures):
            try:
                future.result()
            except BaseException:
                for other in futures:
                    other.cancel()
                raise
            done += 1
            if progress is not None:
                progress(done, total)
    return [j.out_path for j in jobs]


def clip_duration(path: Path) -> float:
    """The clip's duration in seconds (``soxi -D``)."""
    soxi = _tool("soxi")
    try:
        result = subprocess.run([soxi, "-D", str(path)], capture_output=True, timeout=_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        raise SpeechError(f"soxi did not finish within {_TIMEOUT_S} s") from None
    if result.returncode != 0:
        raise SpeechError(f"soxi cannot read {path}: {result.stderr.decode('utf-8', 'replace').strip()}")
    try:
        return float(result.stdout.decode("ascii").strip())
    except ValueError:
        raise SpeechError(f"soxi gave no duration for {path}") from None

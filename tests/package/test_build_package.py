"""The package builder end to end: the small demo definition and the test PKI in, a signed package out
that a kiosk loads, with every candidate's audio synthesised by espeak-ng in Arabic and English."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from devtools.test_pki import load
from election.audio_clips import CLIP_INDEX, ClipIndex
from election.package import load_package
from tools.build_package import BuildError, build, summary

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def definition_and_pki(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("build")
    definition = root / "definition"
    subprocess.run(
        [sys.executable, "-m", "devtools.demo_election", "--scale", "small", "--seed", "7", "--out", str(definition)],
        check=True,
        capture_output=True,
    )
    pki = root / "pki"
    subprocess.run(
        [sys.executable, "-m", "devtools.test_pki", "--out", str(pki), "--voters", "3", "--kiosks", "1"],
        check=True,
        capture_output=True,
    )
    return definition, pki


@pytest.fixture(scope="module")
def audio_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One speech cache for the module: synthesising the small election's clips once is enough."""
    return tmp_path_factory.mktemp("audio-cache")


def _cached_clips(cache: Path) -> set[Path]:
    return {p for p in cache.rglob("*") if p.is_file() and p.parent.name != "clips"}


def test_builds_a_package_the_kiosk_accepts(definition_and_pki: tuple[Path, Path], tmp_path: Path, audio_cache: Path):
    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    result = build(definition, tmp_path / "small.sanduq", pki, audio_cache=audio_cache, quiet=True)

    package = load_package(result.package_path.read_bytes(), pki.commission_public_key())
    candidates = [k for c in package.manifest.contests for k in c.candidates]
    # Candidates' clips, plus the rest of the audio ballot listed in audio/clips.json (tools.audio_catalogue).
    catalogue = ClipIndex.from_json(package.file(CLIP_INDEX))
    spoken = sum(1 for e in catalogue.clips.values() for text in (e.text.ar, e.text.en) if text)
    assert (
        sum(1 for p in package.files if p.startswith("audio/") and p.endswith(".ogg")) == 2 * len(candidates) + spoken
    )
    assert result.clips_synthesised == 2 * len(candidates) + spoken
    clip = package.file(candidates[0].audio.ar)
    assert clip[:4] in (b"OggS", b"RIFF", b"fLaC")  # a real audio container, not a placeholder
    text = summary(result)
    assert "wilayats" in text and package.package_hash in text


def test_rebuild_reuses_the_audio_cache_and_is_identical(
    definition_and_pki: tuple[Path, Path], tmp_path: Path, audio_cache: Path
):
    import datetime as dt

    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    when = dt.datetime(2027, 10, 1, tzinfo=dt.UTC)
    first = build(definition, tmp_path / "a.sanduq", pki, audio_cache=audio_cache, created=when, quiet=True)
    cached = _cached_clips(audio_cache)
    second = build(definition, tmp_path / "b.sanduq", pki, audio_cache=audio_cache, created=when, quiet=True)
    assert _cached_clips(audio_cache) == cached  # nothing new was synthesised
    assert first.package_path.read_bytes() == second.package_path.read_bytes()


def test_missing_photo_in_the_definition_is_named(definition_and_pki: tuple[Path, Path], tmp_path: Path):
    import shutil

    definition, pki_dir = definition_and_pki
    broken = tmp_path / "definition"
    shutil.copytree(definition, broken)
    victim = sorted((broken / "photos").iterdir())[0]
    victim.unlink()
    with pytest.raises(BuildError, match=victim.name):
        build(broken, tmp_path / "x.sanduq", load(pki_dir), audio_cache=tmp_path / "unused-cache", quiet=True)
    assert not (tmp_path / "x.sanduq").exists()


def test_cli_reports_a_bad_pki_directory(tmp_path: Path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.build_package",
            str(tmp_path),
            "--out",
            str(tmp_path / "p"),
            "--pki",
            str(tmp_path),
        ],
        check=False,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "cannot read the PKI" in proc.stderr

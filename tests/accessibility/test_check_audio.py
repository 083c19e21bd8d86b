"""``python -m tools.check_audio`` over the small demo package: every clip is there with a sane duration,
and a missing, truncated or absurdly short clip is named. Speech is replaced by sox tones whose length
follows the text (real espeak-ng synthesis of the whole package is the package builder's own test); the
clips are real Ogg Vorbis files, read by the same header parser as the national run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import pytest

from tools.check_audio import OggError, check, ogg_duration

pytestmark = pytest.mark.integration


def _tone(seconds: float, out: Path) -> None:
    subprocess.run(
        ["sox", "-R", "-n", "-r", "16000", "-c", "1", str(out), "synth", f"{seconds:.2f}", "sine", "440"],
        check=True,
        capture_output=True,
    )


@pytest.fixture(scope="module")
def small_package(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    import tools.speech
    from devtools.test_pki import load
    from tools.build_package import build
    from tools.trust_material import load_trust

    root = tmp_path_factory.mktemp("audio")
    definition, pki = root / "definition", root / "pki"
    for argv in (
        ["-m", "devtools.demo_election", "--scale", "small", "--seed", "7", "--out", str(definition)],
        ["-m", "devtools.test_pki", "--out", str(pki), "--voters", "3", "--kiosks", "1"],
    ):
        subprocess.run([sys.executable, *argv], check=True, capture_output=True)
    tones = root / "tones"
    tones.mkdir()
    lock = threading.Lock()  # the builder synthesises on two threads

    def fake_synthesise(text: str, language: str, out_path: Path, **_: object) -> Path:
        seconds = round(max(0.5, len(text) / 12), 1)  # about the pace of speech at ~120 words per minute
        tone = tones / f"{seconds}.ogg"
        with lock:
            if not tone.exists():
                _tone(seconds, tone)
        shutil.copyfile(tone, out_path)
        return out_path

    patch = pytest.MonkeyPatch()
    patch.setattr(tools.speech, "synthesise", fake_synthesise)
    try:
        test_pki = load(pki)
        trust, key = load_trust(test_pki.trust_dir), test_pki.commission_private_key()
        build(definition, root / "small.sanduq", trust, key, audio_cache=root / "cache", quiet=True)
    finally:
        patch.undo()
    return root / "small.sanduq", test_pki.commission_public_path


def test_every_clip_of_the_small_package_is_present_and_sane(small_package):
    package, commission_key = small_package
    result = subprocess.run(
        [sys.executable, "-m", "tools.check_audio", str(package), "--commission-key", str(commission_key)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "every clip present and sane" in result.stdout
    # candidates (14 x 2), and the catalogue's strings, numbers, letters, contests and wilayats
    for kind in ("cand", "str", "num", "chr", "contest", "wilayat"):
        assert any(line.startswith(kind + " ") for line in result.stdout.splitlines()), kind


def test_a_package_signed_by_another_key_or_a_bad_key_file_is_refused(small_package, tmp_path):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

    package, _ = small_package
    other = Ed25519PrivateKey.generate().public_key()
    (tmp_path / "other.pub").write_bytes(other.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "junk.pub").write_text("not a key")
    for key, said in (
        ("other.pub", "index.sig"),
        ("junk.pub", "is not a PEM public key"),
        ("none.pub", "cannot be read"),
    ):
        result = subprocess.run(
            [sys.executable, "-m", "tools.check_audio", str(package), "--commission-key", str(tmp_path / key)],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert result.returncode == 2 and said in result.stderr and "Traceback" not in result.stderr, result.stderr


def _members(package: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(package) as z:
        return {n: z.read(n) for n in z.namelist()}


def test_a_missing_truncated_or_too_short_clip_is_named(small_package, tmp_path):
    from election.manifest import Manifest

    package, _ = small_package
    files = _members(package)
    manifest = Manifest.from_dict(json.loads(files["manifest.json"]))
    candidate = manifest.contests[0].candidates[0]
    del files[candidate.audio.en]
    files["audio/ar/numbers/7.ogg"] = files["audio/ar/numbers/7.ogg"][:40]
    _tone(0.05, tmp_path / "blip.ogg")
    files["audio/en/strings/ballot.blank_confirm.ogg"] = (tmp_path / "blip.ogg").read_bytes()
    report = check(manifest, files)
    text = "\n".join(report.problems)
    assert len(report.problems) == 3, text
    assert f"{candidate.audio.en} (cand:{candidate.id}, en): missing" in text
    assert "audio/ar/numbers/7.ogg (num:7, ar): truncated" in text
    assert "ballot.blank_confirm" in text and "lasts 0.05 s" in text


def test_the_duration_comes_from_the_ogg_headers(tmp_path):
    _tone(1.5, tmp_path / "a.ogg")
    assert ogg_duration((tmp_path / "a.ogg").read_bytes()) == pytest.approx(1.5, abs=0.01)
    with pytest.raises(OggError):
        ogg_duration(b"RIFF....WAVEfmt ")

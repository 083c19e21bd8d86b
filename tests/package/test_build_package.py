"""The package builder end to end: the small demo definition and the test PKI's trust directory and commission
key in, a signed package out that a kiosk loads, with every candidate's audio synthesised by espeak-ng in Arabic and
English; the command line with the commission's key encrypted under a passphrase, as a commission keeps it."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    PrivateFormat,
    PublicFormat,
)

from devtools.test_pki import TestPki, load
from election.audio_clips import CLIP_INDEX, ClipIndex
from election.package import CARD_POLICIES, load_package
from tools.build_package import BuildError, BuildResult, build, summary
from tools.trust_material import PASSPHRASE_ENV, load_trust

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


def _build(pki: TestPki, definition: Path, out: Path, **options) -> BuildResult:
    return build(definition, out, load_trust(pki.trust_dir), pki.commission_private_key(), quiet=True, **options)


def test_builds_a_package_the_kiosk_accepts(definition_and_pki: tuple[Path, Path], tmp_path: Path, audio_cache: Path):
    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    result = _build(pki, definition, tmp_path / "small.sanduq", audio_cache=audio_cache)

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
    # the trust material is the test PKI's, byte for byte where the format allows (certificates re-encoded as PEM)
    assert package.file("trust/card-roots/national-root.pem") == pki.national_root.cert_path.read_bytes()
    assert package.file("crl/staff-ca.crl") == pki.staff_crl_path.read_bytes()
    assert package.card_policies is not None and package.card_policies.staff_ca_policy_oids


def test_rebuild_reuses_the_audio_cache_and_is_identical(
    definition_and_pki: tuple[Path, Path], tmp_path: Path, audio_cache: Path
):
    import datetime as dt

    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    when = dt.datetime(2027, 10, 1, tzinfo=dt.UTC)
    first = _build(pki, definition, tmp_path / "a.sanduq", audio_cache=audio_cache, created=when)
    cached = _cached_clips(audio_cache)
    second = _build(pki, definition, tmp_path / "b.sanduq", audio_cache=audio_cache, created=when)
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
        _build(load(pki_dir), broken, tmp_path / "x.sanduq", audio_cache=tmp_path / "unused-cache")
    assert not (tmp_path / "x.sanduq").exists()


def test_a_malformed_card_policies_file_of_the_commission_is_not_packaged(
    definition_and_pki: tuple[Path, Path], tmp_path: Path, audio_cache: Path
):
    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    trust = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, trust)
    (trust / "card-policies.json").write_text('{"staff_ca_policy_oids": ["staff CA"], "auth_policy_oids": []}')
    with pytest.raises(BuildError, match=f"{CARD_POLICIES}: staff_ca_policy_oids: expected a list of dotted OIDs"):
        build(definition, tmp_path / "x.sanduq", load_trust(trust), pki.commission_private_key(),
              audio_cache=audio_cache, quiet=True)  # fmt: skip
    assert not (tmp_path / "x.sanduq").exists()


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "tools.build_package", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def encrypted_key(definition_and_pki: tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The test PKI's commission key as a commission would keep it: PKCS#8, encrypted under a passphrase."""
    pki = load(definition_and_pki[1])
    path = tmp_path_factory.mktemp("commission") / "commission-key.pem"
    key = pki.commission_private_key()
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"TEST passphrase")))
    return path


def test_the_cli_signs_with_an_encrypted_commission_key_and_names_it(
    definition_and_pki: tuple[Path, Path], encrypted_key: Path, tmp_path: Path, audio_cache: Path
):
    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    out = tmp_path / "small.sanduq"
    done = _cli(str(definition), "--out", str(out), "--trust", str(pki.trust_dir), "--commission-key",
                str(encrypted_key), "--audio-cache", str(audio_cache),
                env={PASSPHRASE_ENV: "TEST passphrase"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    load_package(out.read_bytes(), pki.commission_public_key())  # signed by the commission's key, verifies
    public = pki.commission_public_key().public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)
    assert hashlib.sha256(public).hexdigest() in done.stdout  # the operator sees which key signed it
    # the passphrase from a file (its first line) works as well
    (tmp_path / "pass").write_text("TEST passphrase\n")
    again = _cli(str(definition), "--out", str(tmp_path / "again.sanduq"), "--trust", str(pki.trust_dir),
                 "--commission-key", str(encrypted_key), "--commission-key-passphrase-file", str(tmp_path / "pass"),
                 "--audio-cache", str(audio_cache))  # fmt: skip
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize(
    ("env", "said"),
    [
        ({PASSPHRASE_ENV: "not the passphrase"}, "wrong passphrase for the commission's signing key"),
        ({}, "is encrypted: give its passphrase with --commission-key-passphrase-file"),
    ],
)
def test_the_cli_refuses_an_encrypted_key_without_its_passphrase(
    definition_and_pki: tuple[Path, Path], encrypted_key: Path, tmp_path: Path, env: dict[str, str], said: str
):
    definition, pki_dir = definition_and_pki
    environment = {k: v for k, v in os.environ.items() if k != PASSPHRASE_ENV} | env
    done = subprocess.run(
        [sys.executable, "-m", "tools.build_package", str(definition), "--out", str(tmp_path / "p"), "--trust",
         str(load(pki_dir).trust_dir), "--commission-key", str(encrypted_key)],
        check=False, capture_output=True, text=True, env=environment, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "p").exists()


def test_cli_reports_a_bad_trust_directory_or_signing_key(definition_and_pki: tuple[Path, Path], tmp_path: Path):
    definition, pki_dir = definition_and_pki
    pki = load(pki_dir)
    out = ["--out", str(tmp_path / "p")]
    key = ["--commission-key", str(pki.commission_key_path)]
    missing = _cli(str(definition), *out, "--trust", str(tmp_path / "nowhere"), *key)
    assert missing.returncode == 2 and "nowhere: not a directory" in missing.stderr, missing.stderr
    # the test PKI's whole directory is not a trust directory: it holds much more (private keys among it)
    whole = _cli(str(definition), *out, "--trust", str(pki_dir), *key)
    assert whole.returncode == 2 and "not part of a trust directory" in whole.stderr, whole.stderr
    # the public key, or a kiosk's EC key, is not the commission's signing key
    for wrong, said in ((pki.commission_public_path, "not a PEM private key"),
                        (pki.kiosks["kiosk-001"].key_path, "not an Ed25519 private key")):  # fmt: skip
        done = _cli(str(definition), *out, "--trust", str(pki.trust_dir), "--commission-key", str(wrong))
        assert done.returncode == 2 and said in done.stderr and "Traceback" not in done.stderr, done.stderr
    assert not (tmp_path / "p").exists()

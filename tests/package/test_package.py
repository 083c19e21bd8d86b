"""The signed election package: a good package loads whole; any tampering is refused whole, naming the file."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from election.manifest import ContestId
from election.package import PackageError, load_package
from tests.package.conftest import package_files, small_manifest_dict

Sign = Callable[[dict[str, bytes]], bytes]


def _rewrite(archive: bytes, change: Callable[[dict[str, bytes]], None]) -> bytes:
    """Change members of an already signed archive without re-signing (an attacker's edit)."""
    with zipfile.ZipFile(io.BytesIO(archive)) as zf:
        members = {info.filename: zf.read(info) for info in zf.infolist()}
    change(members)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    return out.getvalue()


def _refused(archive: bytes, key: Ed25519PrivateKey) -> PackageError:
    with pytest.raises(PackageError) as info:
        load_package(archive, key.public_key())
    return info.value


def test_good_package_loads_with_everything(files: dict[str, bytes], sign: Sign, commission_key: Ed25519PrivateKey):
    package = load_package(sign(files), commission_key.public_key())
    assert package.manifest.election_id == "test-2027"
    assert package.audio_clip_count == 2 * 6  # six candidates (one withdrawn), Arabic and English
    assert package.file("photos/MCT-1.png") == files["photos/MCT-1.png"]
    assert len(package.card_roots) == 1 and len(package.crls) == 1
    assert package.manifest.contests_by_id[ContestId("C-MCT")].selection_ids == ("MCT-1", "MCT-2", "MCT-4")


def test_building_is_deterministic(files: dict[str, bytes], sign: Sign):
    assert sign(files) == sign(dict(files))


def test_changed_photo_byte_is_refused(files: dict[str, bytes], sign: Sign, commission_key: Ed25519PrivateKey):
    def flip(m: dict[str, bytes]) -> None:
        photo = bytearray(m["photos/SLL-2.png"])
        photo[-5] ^= 1
        m["photos/SLL-2.png"] = bytes(photo)

    error = _refused(_rewrite(sign(files), flip), commission_key)
    assert error.file == "photos/SLL-2.png"
    assert "does not match its signed hash" in error.problem


def test_changed_manifest_field_is_refused(files: dict[str, bytes], sign: Sign, commission_key: Ed25519PrivateKey):
    def more_seats(m: dict[str, bytes]) -> None:
        m["manifest.json"] = m["manifest.json"].replace(b'"seats": 1', b'"seats": 2')

    error = _refused(_rewrite(sign(files), more_seats), commission_key)
    assert error.file == "manifest.json"
    assert "signed hash" in error.problem


def test_bad_signature_is_refused(files: dict[str, bytes], sign: Sign, commission_key: Ed25519PrivateKey):
    forged = Ed25519PrivateKey.generate()

    def resign(m: dict[str, bytes]) -> None:
        m["index.sig"] = forged.sign(m["index.json"])

    error = _refused(_rewrite(sign(files), resign), commission_key)
    assert error.file == "index.sig"
    assert "election commission" in error.problem


def test_package_signed_by_another_key_is_refused(files: dict[str, bytes], commission_key: Ed25519PrivateKey):
    from election.package import write_package

    other = write_package(files, Ed25519PrivateKey.generate(), created="2027-10-01T08:00:00+04:00")
    assert _refused(other, commission_key).file == "index.sig"


def test_missing_audio_clip_is_refused_even_when_signed(files: dict[str, bytes], sign: Sign, commission_key):
    del files["audio/en/SLL-1.ogg"]
    error = _refused(sign(files), commission_key)
    assert error.file == "audio/en/SLL-1.ogg"
    assert "audio clip of candidate 'SLL-1'" in error.problem


def test_audio_clip_removed_from_signed_archive_is_refused(files: dict[str, bytes], sign: Sign, commission_key):
    def drop(m: dict[str, bytes]) -> None:
        del m["audio/ar/MCT-2.ogg"]

    error = _refused(_rewrite(sign(files), drop), commission_key)
    assert error.file == "audio/ar/MCT-2.ogg"
    assert "listed in the signed index but not in the archive" in error.problem


def test_withdrawn_candidate_on_a_ballot_is_refused_even_when_signed(sign: Sign, commission_key):
    manifest = small_manifest_dict()
    manifest["ballot_styles"][0]["contests"][0]["candidates"] = ["MCT-1", "MCT-2", "MCT-3", "MCT-4"]
    error = _refused(sign(package_files(manifest)), commission_key)
    assert error.file == "manifest.json"
    assert "withdrawn candidate 'MCT-3'" in error.problem


def test_unknown_file_added_is_refused(files: dict[str, bytes], sign: Sign, commission_key: Ed25519PrivateKey):
    def add(m: dict[str, bytes]) -> None:
        m["photos/extra.png"] = m["photos/MCT-1.png"]

    error = _refused(_rewrite(sign(files), add), commission_key)
    assert error.file == "photos/extra.png"
    assert "unknown file" in error.problem


def test_missing_photo_is_refused(files: dict[str, bytes], sign: Sign, commission_key: Ed25519PrivateKey):
    del files["photos/MCT-4.png"]
    error = _refused(sign(files), commission_key)
    assert error.file == "photos/MCT-4.png" and "photo of candidate 'MCT-4'" in error.problem


def test_corrupt_photo_is_refused(files: dict[str, bytes], sign: Sign, commission_key: Ed25519PrivateKey):
    files["photos/MCT-4.png"] = b"\x89PNG not really"
    assert "not a valid image" in _refused(sign(files), commission_key).problem


@pytest.mark.parametrize("name", ["../evil.png", "/abs.png", "photos/../../x", "a\\b"])
def test_unsafe_member_names_are_refused(name: str, files: dict[str, bytes], sign: Sign, commission_key):
    def add(m: dict[str, bytes]) -> None:
        m[name] = b"x"

    error = _refused(_rewrite(sign(files), add), commission_key)
    assert "unsafe file name" in error.problem or "unknown file" in error.problem


def test_not_an_archive_is_refused(commission_key: Ed25519PrivateKey):
    error = _refused(b"this is not a zip file", commission_key)
    assert error.file == "package" and "not a valid package archive" in error.problem


def test_unsupported_format_version_is_refused(files: dict[str, bytes], commission_key: Ed25519PrivateKey):
    from election.canonical import canonical_json

    def bump(m: dict[str, bytes]) -> None:
        index = json.loads(m["index.json"])
        index["format_version"] = 99
        m["index.json"] = canonical_json(index)
        m["index.sig"] = commission_key.sign(m["index.json"])

    from election.package import write_package

    archive = write_package(files, commission_key, created="x")
    error = _refused(_rewrite(archive, bump), commission_key)
    assert "format version 99 is not supported" in error.problem


def test_duplicate_ballot_numbers_are_refused(sign: Sign, commission_key: Ed25519PrivateKey):
    manifest = small_manifest_dict()
    manifest["contests"][1]["candidates"][1]["ballot_number"] = 1
    error = _refused(sign(package_files(manifest)), commission_key)
    assert "ballot number '1' appears twice" in error.problem


def test_wilayat_without_a_centre_is_refused(sign: Sign, commission_key: Ed25519PrivateKey):
    manifest = small_manifest_dict()
    manifest["centres"] = [manifest["centres"][1]]
    manifest["kiosks"] = [manifest["kiosks"][1]]
    error = _refused(sign(package_files(manifest)), commission_key)
    assert "wilayat 'MCT': served by no polling centre" in error.problem


def test_zero_seats_is_refused_and_uncontested_is_a_warning(sign: Sign, commission_key: Ed25519PrivateKey):
    manifest = small_manifest_dict()
    manifest["contests"][1]["seats"] = 0
    assert "seats must be at least 1" in _refused(sign(package_files(manifest)), commission_key).problem

    manifest["contests"][1]["seats"] = 2
    package = load_package(sign(package_files(manifest)), commission_key.public_key())
    assert any("uncontested" in w for w in package.warnings)

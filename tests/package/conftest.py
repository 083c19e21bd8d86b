"""A small, self-contained election definition and signing key for the package tests."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509 import CertificateRevocationList

from election.package import write_package
from tests.package.pki import tiny_pki

CREATED = "2027-10-01T08:00:00+04:00"


def _png(colour: tuple[int, int, int]) -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (24, 30), colour).save(buffer, format="PNG")
    return buffer.getvalue()


def _candidate(cid: str, number: int, withdrawn: bool = False) -> dict[str, object]:
    return {
        "id": cid,
        "ballot_number": number,
        "name": {"ar": f"مرشح {number}", "en": f"Candidate {number}"},
        "photo": f"photos/{cid}.png",
        "audio": {"ar": f"audio/ar/{cid}.ogg", "en": f"audio/en/{cid}.ogg"},
        "withdrawn": withdrawn,
    }


def small_manifest_dict() -> dict[str, Any]:
    contests = [
        {
            "id": "C-MCT",
            "wilayat": "MCT",
            "kind": "shura",
            "name": {"ar": "مجلس الشورى - مسقط", "en": "Shura Council - Muscat"},
            "seats": 2,
            "candidates": [
                _candidate("MCT-1", 1),
                _candidate("MCT-2", 2),
                _candidate("MCT-3", 3, withdrawn=True),
                _candidate("MCT-4", 4),
            ],
        },
        {
            "id": "C-SLL",
            "wilayat": "SLL",
            "kind": "shura",
            "name": {"ar": "مجلس الشورى - صلالة", "en": "Shura Council - Salalah"},
            "seats": 1,
            "candidates": [_candidate("SLL-1", 1), _candidate("SLL-2", 2)],
        },
    ]
    return {
        "format_version": 1,
        "election_id": "test-2027",
        "kind": "shura",
        "name": {"ar": "انتخابات تجريبية", "en": "Test election"},
        "date": "2027-10-27",
        "polls_open": "07:00",
        "polls_close": "19:00",
        "timezone": "Asia/Muscat",
        "governorates": [
            {"code": "MA", "name": {"ar": "مسقط", "en": "Muscat"}},
            {"code": "DH", "name": {"ar": "ظفار", "en": "Dhofar"}},
        ],
        "wilayats": [
            {"code": "MCT", "governorate": "MA", "name": {"ar": "مسقط", "en": "Muscat"}},
            {"code": "SLL", "governorate": "DH", "name": {"ar": "صلالة", "en": "Salalah"}},
        ],
        "contests": contests,
        "centres": [
            {
                "id": "PC-1",
                "name": {"ar": "مركز موحد", "en": "Unified centre"},
                "wilayat": "MCT",
                "unified": True,
                "serves": [],
            },
            {
                "id": "PC-2",
                "name": {"ar": "مركز صلالة", "en": "Salalah centre"},
                "wilayat": "SLL",
                "unified": False,
                "serves": ["SLL"],
            },
        ],
        "kiosks": [{"id": "K-1", "centre": "PC-1"}, {"id": "K-2", "centre": "PC-2"}],
        "ballot_styles": [
            {
                "id": "BS-MCT",
                "wilayat": "MCT",
                "contests": [{"contest": "C-MCT", "candidates": ["MCT-1", "MCT-2", "MCT-4"]}],
            },
            {"id": "BS-SLL", "wilayat": "SLL", "contests": [{"contest": "C-SLL", "candidates": ["SLL-1", "SLL-2"]}]},
        ],
        "strings": {"attract": {"ar": "أدخل بطاقتك", "en": "Insert your ID card"}},
    }


def package_files(manifest: dict[str, Any]) -> dict[str, bytes]:
    pki = tiny_pki()
    files = {"manifest.json": json.dumps(manifest, ensure_ascii=False).encode()}
    for i, contest in enumerate(manifest["contests"]):
        for j, cand in enumerate(contest["candidates"]):
            files[cand["photo"]] = _png((40 * i, 30 * j, 200))
            for lang in ("ar", "en"):
                files[cand["audio"][lang]] = b"OggS" + bytes(100) + cand["id"].encode() + lang.encode()
    files["trust/card-roots/national-root.pem"] = pki.root_pem
    files["trust/kiosk-ca.pem"] = pki.root_pem
    files["trust/central-ca.pem"] = pki.root_pem
    files["crl/national-root.crl"] = pki.crl_der
    return files


@pytest.fixture(scope="session")
def commission_key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


@pytest.fixture
def files() -> dict[str, bytes]:
    return package_files(small_manifest_dict())


@pytest.fixture
def sign(commission_key: Ed25519PrivateKey) -> Callable[[dict[str, bytes]], bytes]:
    def _sign(files: dict[str, bytes]) -> bytes:
        return write_package(files, commission_key, created=CREATED)

    return _sign


__all__ = ["CertificateRevocationList", "small_manifest_dict"]

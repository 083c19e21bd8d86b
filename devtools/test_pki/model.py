"""Typed values of the test PKI: identities going in, and a loaded view of everything written out."""

from __future__ import annotations

import datetime as dt
import enum
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ec import EllipticCurvePrivateKey
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key, load_pem_public_key

from sync.staff_roles import SANDUQ_OID_ARC, StaffRole

INDEX_FORMAT = "sanduq-test-pki/1"
TRUST_DIR = "trust"
"""The trust directory in the layout the package builder reads (tools.trust_material), written by generate()."""

__all__ = [
    "INDEX_FORMAT",
    "SANDUQ_OID_ARC",
    "TRUST_DIR",
    "BadKind",
    "CardFiles",
    "KeyPair",
    "StaffRole",
    "TestPki",
    "VoterIdentity",
    "load",
]


class BadKind(enum.Enum):
    """Deliberately bad cards, one per way a kiosk must refuse a card."""

    EXPIRED = "expired"
    NOT_YET_VALID = "not_yet_valid"
    UNKNOWN_ISSUER = "unknown_issuer"
    SELF_SIGNED = "self_signed"
    REVOKED = "revoked"
    WRONG_KEY_USAGE = "wrong_key_usage"


@dataclass(frozen=True)
class VoterIdentity:
    """What the card's identity file holds, and what the authentication certificate's subject repeats."""

    civil_number: str
    name_ar: str
    name_en: str
    birth_date: dt.date
    card_expiry: dt.date
    pin: str


@dataclass(frozen=True)
class KeyPair:
    cert_path: Path
    key_path: Path

    def cert(self) -> x509.Certificate:
        return x509.load_pem_x509_certificate(self.cert_path.read_bytes())

    def key(self) -> EllipticCurvePrivateKey | RSAPrivateKey:
        key = load_pem_private_key(self.key_path.read_bytes(), password=None)
        if not isinstance(key, EllipticCurvePrivateKey | RSAPrivateKey):
            raise TypeError(f"{self.key_path}: unexpected key type {type(key).__name__}")
        return key


@dataclass(frozen=True)
class CardFiles:
    """One card directory: card.json (identity, PIN, profile), auth-cert.pem, auth-key.TEST.pem."""

    directory: Path
    identity: VoterIdentity
    kind: str  # "voter", "staff" or "bad"
    role: StaffRole | None
    bad_kind: BadKind | None
    profile: str

    @property
    def card_json(self) -> Path:
        return self.directory / "card.json"

    @property
    def auth(self) -> KeyPair:
        return KeyPair(self.directory / "auth-cert.pem", self.directory / "auth-key.TEST.pem")

    @classmethod
    def load(cls, directory: Path) -> CardFiles:
        data = json.loads((directory / "card.json").read_text(encoding="utf-8"))
        identity = VoterIdentity(
            civil_number=str(data["civil_number"]),
            name_ar=str(data["name_ar"]),
            name_en=str(data["name_en"]),
            birth_date=dt.date.fromisoformat(data["birth_date"]),
            card_expiry=dt.date.fromisoformat(data["card_expiry"]),
            pin=str(data["pin"]),
        )
        role = StaffRole(data["role"]) if data.get("role") else None
        bad = BadKind(data["bad_kind"]) if data.get("bad_kind") else None
        return cls(directory, identity, str(data["kind"]), role, bad, str(data["profile"]))


@dataclass(frozen=True)
class TestPki:
    """Typed access to one generated test PKI directory (see docs/card.md for the layout)."""

    __test__ = False  # not a pytest test class despite the name

    out_dir: Path
    generated_at: dt.datetime
    national_root: KeyPair
    card_ca: KeyPair
    staff_ca: KeyPair
    kiosk_ca: KeyPair
    central_ca: KeyPair
    central_server: KeyPair
    rogue_root: KeyPair
    card_crl_path: Path
    staff_crl_path: Path
    root_crl_path: Path
    stale_card_crl_path: Path
    commission_public_path: Path
    commission_key_path: Path
    voters: Mapping[str, CardFiles]
    staff: Mapping[str, CardFiles]
    bad: Mapping[BadKind, CardFiles]
    kiosks: Mapping[str, KeyPair]
    revoked_civil_numbers: tuple[str, ...]

    # -- election-package inputs -------------------------------------------------------------------
    @property
    def trust_dir(self) -> Path:
        """``--trust`` of ``python -m tools.build_package`` (``--commission-key`` is :attr:`commission_key_path`)."""
        return self.out_dir / TRUST_DIR

    def trust_roots(self) -> list[x509.Certificate]:
        """The national root: what an election package lists as the voter-card trust anchor."""
        return [self.national_root.cert()]

    def intermediates(self) -> list[x509.Certificate]:
        return [self.card_ca.cert(), self.staff_ca.cert()]

    def crls(self) -> list[x509.CertificateRevocationList]:
        """Current CRLs of every level: card CA, staff CA and the national root (which covers both CAs)."""
        paths = (self.card_crl_path, self.staff_crl_path, self.root_crl_path)
        return [x509.load_der_x509_crl(p.read_bytes()) for p in paths]

    def stale_crls(self) -> list[x509.CertificateRevocationList]:
        paths = (self.stale_card_crl_path, self.staff_crl_path, self.root_crl_path)
        return [x509.load_der_x509_crl(p.read_bytes()) for p in paths]

    def commission_public_key(self) -> Ed25519PublicKey:
        key = load_pem_public_key(self.commission_public_path.read_bytes())
        if not isinstance(key, Ed25519PublicKey):
            raise TypeError("commission key is not Ed25519")
        return key

    def commission_private_key(self) -> Ed25519PrivateKey:
        key = load_pem_private_key(self.commission_key_path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise TypeError("commission key is not Ed25519")
        return key

    def card(self, ref: str) -> CardFiles:
        """A card by civil number, staff id, or ``bad/<kind>``."""
        if ref in self.voters:
            return self.voters[ref]
        if ref in self.staff:
            return self.staff[ref]
        if ref.startswith("bad/"):
            return self.bad[BadKind(ref.removeprefix("bad/"))]
        for files in (*self.staff.values(), *self.bad.values()):
            if files.identity.civil_number == ref:
                return files
        raise KeyError(f"no card {ref!r} in {self.out_dir}")


def load(out_dir: Path) -> TestPki:
    """Read ``out_dir/index.json`` written by :func:`devtools.test_pki.generate`."""
    index: dict[str, Any] = json.loads((out_dir / "index.json").read_text(encoding="utf-8"))
    if index.get("format") != INDEX_FORMAT:
        raise ValueError(f"{out_dir}: not a Sanduq test PKI (format {index.get('format')!r})")

    def pair(entry: Mapping[str, str]) -> KeyPair:
        return KeyPair(out_dir / entry["cert"], out_dir / entry["key"])

    roots = index["roots"]
    return TestPki(
        out_dir=out_dir,
        generated_at=dt.datetime.fromisoformat(index["generated_at"]),
        national_root=pair(roots["national_root"]),
        card_ca=pair(roots["card_ca"]),
        staff_ca=pair(roots["staff_ca"]),
        kiosk_ca=pair(roots["kiosk_ca"]),
        central_ca=pair(roots["central_ca"]),
        central_server=pair(index["central"]["server"]),
        rogue_root=pair(roots["rogue_root"]),
        card_crl_path=out_dir / index["crl"]["card_ca"],
        staff_crl_path=out_dir / index["crl"]["staff_ca"],
        root_crl_path=out_dir / index["crl"]["national_root"],
        stale_card_crl_path=out_dir / index["crl"]["card_ca_stale"],
        commission_public_path=out_dir / index["commission"]["public"],
        commission_key_path=out_dir / index["commission"]["key"],
        voters={c: CardFiles.load(out_dir / d) for c, d in index["cards"].items()},
        staff={s: CardFiles.load(out_dir / d) for s, d in index["staff"].items()},
        bad={BadKind(k): CardFiles.load(out_dir / d) for k, d in index["bad"].items()},
        kiosks={k: pair(v) for k, v in index["kiosks"].items()},
        revoked_civil_numbers=tuple(index["revoked_civil_numbers"]),
    )

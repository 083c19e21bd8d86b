"""Kiosk signatures: ECDSA P-256 / SHA-256 (the kiosk certificate's key) or Ed25519, base64 on the wire.

A ``Signer`` wraps the private key so the rest of the kiosk never touches key material; every
verification failure is one exception, ``BadSignature``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PublicKey = ec.EllipticCurvePublicKey | Ed25519PublicKey
PrivateKey = ec.EllipticCurvePrivateKey | Ed25519PrivateKey


class BadSignature(ValueError):
    """A signature does not verify (or is not even well-formed)."""


class NotAKioskCertificate(ValueError):
    """A certificate does not name exactly one kiosk."""


def kiosk_id_of(cert: x509.Certificate) -> str:
    """The kiosk a certificate is for: its one subjectAltName dNSName. The office identifies a kiosk by this, and
    the kiosk checks its own certificate by it at start-up, so both read the same name."""
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        raise NotAKioskCertificate("kiosk certificate has no subjectAltName") from None
    names = san.get_values_for_type(x509.DNSName)
    if len(names) != 1:
        raise NotAKioskCertificate("kiosk certificate must name exactly one kiosk (one dNSName)")
    return names[0]


@dataclass(frozen=True)
class Signer:
    """Signs bytes with a kiosk key; ``sign`` returns base64."""

    private_key: PrivateKey

    def __post_init__(self) -> None:
        if isinstance(self.private_key, ec.EllipticCurvePrivateKey) and self.private_key.curve.name != "secp256r1":
            raise ValueError("kiosk ECDSA keys must be P-256")

    @staticmethod
    def from_pem_file(path: Path) -> Signer:
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey | Ed25519PrivateKey):
            raise ValueError(f"{path}: a kiosk key must be ECDSA P-256 or Ed25519, not {type(key).__name__}")
        return Signer(key)

    def sign(self, data: bytes) -> str:
        if isinstance(self.private_key, Ed25519PrivateKey):
            raw = self.private_key.sign(data)
        else:
            raw = self.private_key.sign(data, ec.ECDSA(hashes.SHA256()))
        return base64.b64encode(raw).decode("ascii")

    def public_key(self) -> PublicKey:
        return self.private_key.public_key()


def verify(public_key: PublicKey, data: bytes, signature_b64: str) -> None:
    """Raise BadSignature unless ``signature_b64`` is a valid signature of ``data`` by ``public_key``."""
    try:
        raw = base64.b64decode(signature_b64, validate=True)
        if isinstance(public_key, Ed25519PublicKey):
            public_key.verify(raw, data)
        else:
            public_key.verify(raw, data, ec.ECDSA(hashes.SHA256()))
    except (InvalidSignature, binascii.Error, ValueError):
        raise BadSignature("signature does not verify") from None


def public_key_of_cert(cert: x509.Certificate) -> PublicKey:
    key = cert.public_key()
    if not isinstance(key, ec.EllipticCurvePublicKey | Ed25519PublicKey):
        raise ValueError(f"certificate key is {type(key).__name__}, expected ECDSA P-256 or Ed25519")
    return key


def load_cert_public_key(path: Path) -> PublicKey:
    return public_key_of_cert(x509.load_pem_x509_certificate(path.read_bytes()))


def cert_fingerprint(cert: x509.Certificate) -> str:
    """SHA-256 hex of the certificate's DER encoding."""
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()

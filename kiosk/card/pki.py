"""Kiosk-side PKI check of an eID card: path to a trusted root, validity, key usage, revocation, identity
cross-check, and the card's signature over a fresh challenge.

Why not cryptography's ``PolicyBuilder().build_client_verifier()``: it requires a SAN in the end-entity
certificate (national eID authentication certificates have none), applies CA/Browser Forum profile rules
and does no revocation checking. Why not pyhanko-certvalidator: it would do, but it is one more dependency
for a path that is short and fixed (card -> issuing CA -> national root, both CAs listed in the election
package) and it cannot report our distinct outcomes as directly. So the path is built here from library
primitives only: ``Certificate.verify_directly_issued_by`` (signature + issuer name),
``CertificateRevocationList.is_signature_valid`` / ``get_revoked_certificate_by_serial_number``, and
explicit basicConstraints / keyUsage / extendedKeyUsage / validity checks. No hand-written cryptography.

Trust anchors and CRLs are plain inputs (:class:`TrustAnchors`): the election package supplies them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID

from kiosk.card.identity import CardIdentity
from kiosk.card.profile import CertificateCheck, EcdsaFormat
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.roles import StaffRole

CHALLENGE_DOMAIN = b"sanduq/card-auth/v1"
NONCE_BYTES = 32
MAX_CHAIN_CAS = 2  # issuing CA (+ the root); national eID paths are short and fixed

_UNDERSTOOD_EXTENSIONS = {
    ExtensionOID.BASIC_CONSTRAINTS,
    ExtensionOID.KEY_USAGE,
    ExtensionOID.EXTENDED_KEY_USAGE,
    ExtensionOID.CERTIFICATE_POLICIES,
    ExtensionOID.SUBJECT_ALTERNATIVE_NAME,
    ExtensionOID.SUBJECT_KEY_IDENTIFIER,
    ExtensionOID.AUTHORITY_KEY_IDENTIFIER,
    ExtensionOID.CRL_DISTRIBUTION_POINTS,
    ExtensionOID.AUTHORITY_INFORMATION_ACCESS,
}


@dataclass(frozen=True)
class TrustAnchors:
    """Trust inputs from the election package: roots, issuing CAs, their CRLs, and which CAs issue staff cards."""

    roots: Sequence[x509.Certificate]
    intermediates: Sequence[x509.Certificate]
    crls: Sequence[x509.CertificateRevocationList]
    staff_issuers: Sequence[x509.Certificate] = ()


@dataclass(frozen=True)
class CertificateAccepted:
    certificate: x509.Certificate
    issuer: x509.Certificate
    role: StaffRole | None  # set only for certificates from a staff issuer with exactly one role policy


@dataclass(frozen=True)
class Challenge:
    """A fresh nonce bound to this kiosk, this election and this moment; the card signs its digest."""

    nonce: bytes
    kiosk_id: str
    election_id: str
    issued_at: dt.datetime
    message: bytes = field(init=False)

    def __post_init__(self) -> None:
        parts = [
            CHALLENGE_DOMAIN,
            self.nonce,
            self.kiosk_id.encode(),
            self.election_id.encode(),
            self.issued_at.astimezone(dt.UTC).isoformat().encode(),
        ]
        object.__setattr__(self, "message", b"".join(len(p).to_bytes(2, "big") + p for p in parts))

    @property
    def digest(self) -> bytes:
        return hashlib.sha256(self.message).digest()


def new_challenge(kiosk_id: str, election_id: str, now: dt.datetime, random_bytes: Callable[[int], bytes]) -> Challenge:
    nonce = random_bytes(NONCE_BYTES)
    if len(nonce) != NONCE_BYTES:
        raise ValueError("random source returned the wrong length")
    return Challenge(nonce, kiosk_id, election_id, now)


def _fail(reason: FailureReason, detail: str) -> AuthFailure:
    return AuthFailure(reason, detail)


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature, UnsupportedAlgorithm):
        return False
    return True


def _same(a: x509.Certificate, b: x509.Certificate) -> bool:
    return a.fingerprint(hashes.SHA256()) == b.fingerprint(hashes.SHA256())


def _ext(cert: x509.Certificate, kind: type[x509.ExtensionType]) -> x509.ExtensionType | None:
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except x509.ExtensionNotFound:
        return None


def _is_ca(cert: x509.Certificate) -> bool:
    constraints = _ext(cert, x509.BasicConstraints)
    usage = _ext(cert, x509.KeyUsage)
    return (
        isinstance(constraints, x509.BasicConstraints)
        and constraints.ca
        and isinstance(usage, x509.KeyUsage)
        and usage.key_cert_sign
    )


def build_path(cert: x509.Certificate, anchors: TrustAnchors) -> list[x509.Certificate] | AuthFailure:
    """[end entity, issuing CA, ..., root], each verified directly issued by the next; or UNTRUSTED."""
    if cert.issuer == cert.subject and _issued_by(cert, cert):
        return _fail(FailureReason.UNTRUSTED, "self-signed certificate")
    path = [cert]
    current = cert
    for _ in range(MAX_CHAIN_CAS):
        root = next((r for r in anchors.roots if _issued_by(current, r)), None)
        if root is not None:
            if not _is_ca(root):
                return _fail(FailureReason.UNTRUSTED, "trust anchor is not a CA certificate")
            return [*path, root]
        ca = next((c for c in anchors.intermediates if c.subject != c.issuer and _issued_by(current, c)), None)
        if ca is None:
            break
        if not _is_ca(ca):
            return _fail(FailureReason.UNTRUSTED, "issuer is not a CA certificate")
        constraints = _ext(ca, x509.BasicConstraints)
        if (
            isinstance(constraints, x509.BasicConstraints)
            and constraints.path_length is not None
            and constraints.path_length < len(path) - 1
        ):
            return _fail(FailureReason.UNTRUSTED, "path length constraint exceeded")
        path.append(ca)
        current = ca
    return _fail(FailureReason.UNTRUSTED, "not issued by a trusted CA")


def _validity(path: list[x509.Certificate], now: dt.datetime) -> AuthFailure | None:
    for depth, cert in enumerate(path):
        what = "certificate" if depth == 0 else f"CA certificate {cert.subject.rfc4514_string()}"
        if now < cert.not_valid_before_utc:
            return _fail(FailureReason.NOT_YET_VALID, f"{what} is valid from {cert.not_valid_before_utc:%Y-%m-%d}")
        if now > cert.not_valid_after_utc:
            return _fail(FailureReason.EXPIRED, f"{what} expired on {cert.not_valid_after_utc:%Y-%m-%d}")
    return None


def _authentication_usage(cert: x509.Certificate) -> AuthFailure | None:
    for extension in cert.extensions:
        if extension.critical and extension.oid not in _UNDERSTOOD_EXTENSIONS:
            return _fail(FailureReason.UNTRUSTED, f"unknown critical extension {extension.oid.dotted_string}")
    constraints = _ext(cert, x509.BasicConstraints)
    if isinstance(constraints, x509.BasicConstraints) and constraints.ca:
        return _fail(FailureReason.WRONG_KEY_USAGE, "a CA certificate is not a card certificate")
    usage = _ext(cert, x509.KeyUsage)
    if not isinstance(usage, x509.KeyUsage) or not usage.digital_signature:
        return _fail(FailureReason.WRONG_KEY_USAGE, "key usage does not include digitalSignature")
    eku = _ext(cert, x509.ExtendedKeyUsage)
    if isinstance(eku, x509.ExtendedKeyUsage) and not (
        ExtendedKeyUsageOID.CLIENT_AUTH in eku or ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE in eku
    ):
        return _fail(FailureReason.WRONG_KEY_USAGE, "extended key usage excludes client authentication")
    return None


def _revocation(
    cert: x509.Certificate, issuer: x509.Certificate, anchors: TrustAnchors, now: dt.datetime
) -> AuthFailure | None:
    public_key = issuer.public_key()
    if not isinstance(public_key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
        return _fail(FailureReason.UNTRUSTED, "unsupported issuer key type")
    usable = [c for c in anchors.crls if c.issuer == issuer.subject and c.is_signature_valid(public_key)]
    if not usable:
        return _fail(FailureReason.REVOCATION_STALE, "no valid CRL from the issuing CA")
    crl = max(usable, key=lambda c: c.last_update_utc)
    if crl.last_update_utc > now:
        return _fail(FailureReason.REVOCATION_STALE, "CRL is not yet valid (clock or CRL wrong)")
    if crl.next_update_utc is None or crl.next_update_utc < now:
        return _fail(FailureReason.REVOCATION_STALE, "CRL is past its nextUpdate")
    entry = crl.get_revoked_certificate_by_serial_number(cert.serial_number)
    if entry is not None and entry.revocation_date_utc <= now:
        return _fail(FailureReason.REVOKED, f"revoked on {entry.revocation_date_utc:%Y-%m-%d}")
    return None


def _role(cert: x509.Certificate, issuer: x509.Certificate, anchors: TrustAnchors) -> StaffRole | AuthFailure | None:
    if not any(_same(issuer, s) for s in anchors.staff_issuers):
        return None
    policies = _ext(cert, x509.CertificatePolicies)
    roles = {
        role
        for p in (policies if isinstance(policies, x509.CertificatePolicies) else [])
        if (role := StaffRole.from_policy_oid(p.policy_identifier)) is not None
    }
    if len(roles) != 1:
        return _fail(FailureReason.UNTRUSTED, "staff certificate without exactly one role")
    return roles.pop()


def check_certificate(
    cert: x509.Certificate, anchors: TrustAnchors, now: dt.datetime
) -> CertificateAccepted | AuthFailure:
    """Trusted path, validity (whole path), authentication key usage, revocation; in that order."""
    path = build_path(cert, anchors)
    if isinstance(path, AuthFailure):
        return path
    for check in (_validity(path, now), _authentication_usage(cert), _revocation(cert, path[1], anchors, now)):
        if check is not None:
            return check
    role = _role(cert, path[1], anchors)
    if isinstance(role, AuthFailure):
        return role
    return CertificateAccepted(cert, path[1], role)


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1:
        return None
    value = values[0].value
    return value if isinstance(value, str) else None


def check_identity(cert: x509.Certificate, identity: CardIdentity, rules: CertificateCheck) -> AuthFailure | None:
    """The certificate subject must name the same person as the card's identity file."""
    serial = _attribute(cert.subject, NameOID.SERIAL_NUMBER)
    if serial != rules.civil_number_prefix + identity.civil_number:
        return _fail(FailureReason.IDENTITY_MISMATCH, "civil number differs between certificate and card data")
    if rules.check_name_en and _attribute(cert.subject, NameOID.COMMON_NAME) != identity.name_en:
        return _fail(FailureReason.IDENTITY_MISMATCH, "English name differs between certificate and card data")
    if rules.check_name_ar:
        given = _attribute(cert.subject, NameOID.GIVEN_NAME)
        surname = _attribute(cert.subject, NameOID.SURNAME)
        if identity.name_ar is None or f"{given} {surname}" != identity.name_ar:
            return _fail(FailureReason.IDENTITY_MISMATCH, "Arabic name differs between certificate and card data")
    return None


def check_signature(
    cert: x509.Certificate, challenge: Challenge, signature: bytes, ecdsa_format: EcdsaFormat
) -> AuthFailure | None:
    """The card's signature over ``challenge.digest`` must verify under the certificate's public key."""
    key = cert.public_key()
    try:
        if isinstance(key, ec.EllipticCurvePublicKey):
            der = signature
            if ecdsa_format is EcdsaFormat.RAW:
                size = (key.curve.key_size + 7) // 8
                if len(signature) != 2 * size:
                    return _fail(FailureReason.BAD_SIGNATURE, "signature has the wrong length")
                der = encode_dss_signature(
                    int.from_bytes(signature[:size], "big"), int.from_bytes(signature[size:], "big")
                )
            key.verify(der, challenge.digest, ec.ECDSA(Prehashed(hashes.SHA256())))
        elif isinstance(key, rsa.RSAPublicKey):
            key.verify(signature, challenge.digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))
        else:
            return _fail(FailureReason.UNTRUSTED, f"unsupported card key type {type(key).__name__}")
    except (InvalidSignature, ValueError):
        return _fail(FailureReason.BAD_SIGNATURE, "the card's signature over the challenge does not verify")
    return None

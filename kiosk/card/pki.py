"""Kiosk-side PKI check of an eID card: RFC 5280 path validation with revocation at every level (by
pyhanko-certvalidator), the national-eID profile on top, the identity cross-check on the verified
certificate, and the card's signature over a fresh challenge.

Why pyhanko-certvalidator: cryptography's ``build_client_verifier()`` requires a SAN in the end-entity
certificate (national eID certificates have none), applies CA/Browser Forum rules and checks no
revocation. pyhanko-certvalidator implements RFC 5280 section 6 (path building and validation, name
constraints, policies, unknown critical extensions) and section 6.3 (CRL processing: scope from the issuing
distribution point, delta CRLs, cRLSign of the CRL issuer, validity of the CRL, revocation of every
certificate of the path). It runs offline here: ``allow_fetching=False``, and every CRL comes from the
election package (:class:`TrustAnchors`). Revocation is required for the card and for every CA below the
root (fail closed), time tolerance is zero.

What is added on top (docs/card.md, section "Path validation"):

- the national-eID end-entity profile (:func:`_card_profile`): a SAN is not required; keyUsage must have
  digitalSignature and must not have keyCertSign/cRLSign; basicConstraints must not say CA; EKU must contain
  clientAuth unless the certificate asserts an eID authentication policy OID of the trust configuration;
- the package's CAs and CRLs are profile-checked, and two outcome-neutral speed-ups set up, once per package
  in :mod:`kiosk.card.trust`; every certificate below the root must also have a direct CRL of its issuer
  (:mod:`sync.direct_crls`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pv_errors
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo, ValidationTimingParams
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)

from election.path_validation import validate_path
from kiosk.card.identity import CardIdentity
from kiosk.card.profile import CertificateCheck, EcdsaFormat
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.trust import UNDERSTOOD_EXTENSIONS, TrustAnchors, TrustPolicy, name_of
from sync.staff_roles import StaffRole, roles_in

__all__ = [
    "CHALLENGE_DOMAIN",
    "CertificateAccepted",
    "Challenge",
    "TrustAnchors",
    "TrustPolicy",
    "check_certificate",
    "check_certificate_der",
    "check_identity",
    "check_signature",
    "load_card_certificate",
    "new_challenge",
]

log = logging.getLogger(__name__)

CHALLENGE_DOMAIN = b"sanduq/card-auth/v1"
NONCE_BYTES = 32

_REVOCATION = CertRevTrustPolicy(
    RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED,
    )
)


@dataclass(frozen=True)
class CertificateAccepted:
    certificate: x509.Certificate
    issuer: x509.Certificate
    role: StaffRole | None  # set only for certificates from a staff CA with exactly one role policy


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


def load_card_certificate(der: bytes) -> x509.Certificate | AuthFailure:
    """The card's certificate from its DER bytes, parsed far enough that nothing raises later (cryptography
    parses names and extensions lazily): bad DER, invalid UTF-8 in a name, a duplicated or malformed
    extension (an empty extendedKeyUsage, ...) are each a MALFORMED_CERTIFICATE refusal with the reason."""
    try:
        cert = x509.load_der_x509_certificate(der)
        for name in (cert.subject, cert.issuer):
            for attribute in name:
                _ = attribute.value
        _ = [extension.value for extension in cert.extensions]
        cert.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.InvalidVersion) as exc:
        return _fail(FailureReason.MALFORMED_CERTIFICATE, f"certificate does not parse ({exc})")
    return cert


def check_certificate_der(der: bytes, anchors: TrustAnchors, now: dt.datetime) -> CertificateAccepted | AuthFailure:
    """:func:`load_card_certificate` then :func:`check_certificate`."""
    cert = load_card_certificate(der)
    return cert if isinstance(cert, AuthFailure) else check_certificate(cert, anchors, now)


def _policy_oids(cert: x509.Certificate) -> list[str]:
    try:
        policies = cert.extensions.get_extension_for_class(x509.CertificatePolicies).value
    except x509.ExtensionNotFound:
        return []
    return [p.policy_identifier.dotted_string for p in policies]


def _card_profile(cert: x509.Certificate, policy: TrustPolicy) -> AuthFailure | None:
    """The national-eID profile of a card's authentication certificate; malformed parts are refusals too."""
    try:
        subject = cert.subject
        for attribute in subject:
            _ = attribute.value  # decodes every attribute (invalid UTF-8 raises here)
        extensions = cert.extensions  # duplicated or malformed extensions raise here
        for extension in extensions:
            if extension.critical and extension.oid not in UNDERSTOOD_EXTENSIONS:
                return _fail(FailureReason.UNTRUSTED, f"unknown critical extension {extension.oid.dotted_string}")
        policies = _policy_oids(cert)
    except (ValueError, x509.DuplicateExtension) as exc:
        return _fail(FailureReason.MALFORMED_CERTIFICATE, f"certificate does not parse ({exc})")
    if len(subject) == 0:
        return _fail(FailureReason.MALFORMED_CERTIFICATE, "certificate has an empty subject")
    try:
        if extensions.get_extension_for_class(x509.BasicConstraints).value.ca:
            return _fail(FailureReason.WRONG_KEY_USAGE, "a CA certificate is not a card certificate")
    except x509.ExtensionNotFound:
        pass
    try:
        usage = extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return _fail(FailureReason.WRONG_KEY_USAGE, "no keyUsage (digitalSignature is required)")
    if not usage.digital_signature:
        return _fail(FailureReason.WRONG_KEY_USAGE, "key usage does not include digitalSignature")
    if usage.key_cert_sign or usage.crl_sign:
        return _fail(FailureReason.WRONG_KEY_USAGE, "a card certificate must not have keyCertSign or cRLSign")
    eid_policy = any(oid in policy.auth_policy_oids for oid in policies)
    try:
        eku = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        eku = None
    if eku is not None and ExtendedKeyUsageOID.CLIENT_AUTH not in eku and not eid_policy:
        return _fail(FailureReason.WRONG_KEY_USAGE, "extended key usage excludes client authentication")
    if eku is None and not eid_policy:
        return _fail(FailureReason.WRONG_KEY_USAGE, "neither the clientAuth EKU nor an eID authentication policy")
    return None


_REASONS: tuple[tuple[type[Exception], FailureReason], ...] = (
    (pv_errors.RevokedError, FailureReason.REVOKED),
    (pv_errors.ExpiredError, FailureReason.EXPIRED),
    (pv_errors.NotYetValidError, FailureReason.NOT_YET_VALID),
    (pv_errors.InsufficientRevinfoError, FailureReason.REVOCATION_STALE),
    (pv_errors.InvalidCertificateError, FailureReason.UNTRUSTED),  # e.g. a self-signed card certificate
    (pv_errors.PathBuildingError, FailureReason.UNTRUSTED),
    (pv_errors.PathValidationError, FailureReason.UNTRUSTED),
    (pv_errors.ValidationError, FailureReason.UNTRUSTED),
)


def _detail(exc: pv_errors.ValidationError) -> str:
    """A refusal's detail for logs and staff: which level failed and why, never the card holder's name or
    number (pyhanko's own messages quote the card's subject, so they are used only for CA certificates)."""
    if not isinstance(exc, pv_errors.PathValidationError):
        return "the certificate is self-signed or cannot be used as a card certificate"
    if not exc.is_ee_cert:
        return f"CA certificate: {exc}"
    if isinstance(exc, pv_errors.RevokedError):
        return f"card certificate revoked on {exc.revocation_dt:%Y-%m-%d %H:%M:%S}Z"
    if isinstance(exc, pv_errors.ExpiredError):
        return f"card certificate expired {exc.expired_dt:%Y-%m-%d %H:%M:%S}Z"
    if isinstance(exc, pv_errors.NotYetValidError):
        return f"card certificate valid from {exc.valid_from:%Y-%m-%d %H:%M:%S}Z"
    if isinstance(exc, pv_errors.InsufficientRevinfoError):
        return "card certificate: no current, valid CRL in scope for it in the election package"
    return f"card certificate: path validation failed ({type(exc).__name__})"


def _path(cert: x509.Certificate, anchors: TrustAnchors, now: dt.datetime) -> list[asn1_x509.Certificate] | AuthFailure:
    """RFC 5280 path validation with revocation at every level; [root, ..., issuing CA, card] or a refusal."""
    prepared = anchors._prepared
    branch_cas, branch_crls = prepared.branch(cert.issuer)
    try:
        context = ValidationContext(
            trust_roots=list(prepared.roots),
            other_certs=branch_cas,
            crls=branch_crls,
            moment=now,
            allow_fetching=False,
            revinfo_policy=_REVOCATION,
            time_tolerance=dt.timedelta(0),
            signature_validator=prepared.signatures,
        )
        # "Valid now" (the injected clock), not "valid at a past moment": a certificate on a current CRL is
        # revoked whatever the entry's revocationDate says (pyhanko ignores future-dated entries only in
        # point-in-time validation, which is for old signatures, not for a card in the reader).
        context.timing_params = ValidationTimingParams(
            ValidationTimingInfo(validation_time=now, best_signature_time=now, point_in_time_validation=False),
            time_tolerance=dt.timedelta(0),
        )
        end_entity = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
        path = validate_path(CertificateValidator(end_entity, validation_context=context))
    except pv_errors.ValidationError as exc:
        reason = next(r for kind, r in _REASONS if isinstance(exc, kind))
        detail = _detail(exc)
        if reason is FailureReason.UNTRUSTED and prepared.refused:
            detail += f" (not used from the package: {'; '.join(prepared.refused)})"
        return _fail(reason, detail)
    except pv_errors.PathError:
        detail = "no path to a trusted root"
        if prepared.refused:
            detail += f" (not used from the package: {'; '.join(prepared.refused)})"
        return _fail(FailureReason.UNTRUSTED, detail)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError, NotImplementedError) as exc:
        # asn1crypto parses lazily: a malformed part of the certificate can surface anywhere in validation.
        return _fail(FailureReason.MALFORMED_CERTIFICATE, f"certificate cannot be validated ({type(exc).__name__})")
    return list(path)


def _anchor_problem(root: x509.Certificate, intermediates: int, now: dt.datetime) -> AuthFailure | None:
    """What RFC 5280 leaves to the relying party about the trust anchor itself, which a national eID root
    certificate states and the kiosk honours: its validity period and its pathLenConstraint."""
    what = f"root certificate {name_of(root)}"
    if now < root.not_valid_before_utc:
        return _fail(
            FailureReason.NOT_YET_VALID, f"{what} is valid from {root.not_valid_before_utc:%Y-%m-%d %H:%M:%S}Z"
        )
    if now > root.not_valid_after_utc:
        return _fail(FailureReason.EXPIRED, f"{what} expired {root.not_valid_after_utc:%Y-%m-%d %H:%M:%S}Z")
    path_length = root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length
    if path_length is not None and intermediates > path_length:
        return _fail(FailureReason.UNTRUSTED, f"{what}: path length constraint {path_length} exceeded")
    return None


def _role(cert: x509.Certificate, issuer: asn1_x509.Certificate, policy: TrustPolicy) -> StaffRole | AuthFailure | None:
    issuer_policies = {p["policy_identifier"].dotted for p in (issuer.certificate_policies_value or [])}
    roles = roles_in(_policy_oids(cert))
    if not issuer_policies & policy.staff_ca_policy_oids:
        if roles:
            return _fail(FailureReason.UNTRUSTED, "a staff role from a CA not authorised to issue staff cards")
        return None
    if len(roles) != 1:
        return _fail(FailureReason.UNTRUSTED, "staff certificate without exactly one role")
    return next(iter(roles))


def check_certificate(
    cert: x509.Certificate, anchors: TrustAnchors, now: dt.datetime
) -> CertificateAccepted | AuthFailure:
    """The card profile first (cheap, no signature needed), then the validated path with revocation of every
    level, then the staff role."""
    profile = _card_profile(cert, anchors.policy)
    if profile is not None:
        return profile
    path = _path(cert, anchors, now)
    if isinstance(path, AuthFailure):
        return path
    if len(path) < 2:
        return _fail(FailureReason.UNTRUSTED, "a trust anchor is not a card certificate")
    chain = [x509.load_der_x509_certificate(c.dump()) for c in path]
    anchor = _anchor_problem(chain[0], len(path) - 2, now)
    if anchor is not None:
        return anchor
    for depth in range(1, len(chain)):
        uncovered = anchors._prepared.direct.uncovered(chain[depth], chain[depth - 1], now)
        if uncovered is not None:
            what = "card certificate" if depth == len(chain) - 1 else f"CA certificate {name_of(chain[depth])}"
            return _fail(FailureReason.REVOCATION_STALE, f"{what}: {uncovered}")
    issuer = path[-2]
    role = _role(cert, issuer, anchors.policy)
    if isinstance(role, AuthFailure):
        return role
    return CertificateAccepted(cert, x509.load_der_x509_certificate(issuer.dump()), role)


def _attribute(name: x509.Name, oid: x509.ObjectIdentifier) -> str | None:
    values = name.get_attributes_for_oid(oid)
    if len(values) != 1:
        return None
    value = values[0].value
    return value if isinstance(value, str) else None


def check_identity(
    accepted: CertificateAccepted, identity: CardIdentity, rules: CertificateCheck
) -> AuthFailure | None:
    """The verified certificate's subject must name the same person as the card's identity file."""
    subject = accepted.certificate.subject
    serial = _attribute(subject, NameOID.SERIAL_NUMBER)
    if serial != rules.civil_number_prefix + identity.civil_number:
        return _fail(FailureReason.IDENTITY_MISMATCH, "civil number differs between certificate and card data")
    if rules.check_name_en and _attribute(subject, NameOID.COMMON_NAME) != identity.name_en:
        return _fail(FailureReason.IDENTITY_MISMATCH, "English name differs between certificate and card data")
    if rules.check_name_ar:
        given = _attribute(subject, NameOID.GIVEN_NAME)
        surname = _attribute(subject, NameOID.SURNAME)
        if identity.name_ar is None or f"{given} {surname}" != identity.name_ar:
            return _fail(FailureReason.IDENTITY_MISMATCH, "Arabic name differs between certificate and card data")
    return None


def check_signature(
    cert: x509.Certificate, challenge: Challenge, signature: bytes, ecdsa_format: EcdsaFormat
) -> AuthFailure | None:
    """The card's signature over ``challenge.digest`` must verify under the certificate's public key."""
    try:
        key = cert.public_key()
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
    except (UnsupportedAlgorithm, TypeError) as exc:
        return _fail(FailureReason.UNTRUSTED, f"card key cannot be used ({type(exc).__name__})")
    return None

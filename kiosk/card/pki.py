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
- CA profile checks RFC 5280 asks of CAs but a validator does not apply to trust anchors
  (:func:`_ca_problem`): critical basicConstraints with cA, keyCertSign, a non-empty subject, no unknown
  critical extension;
- CRL profile checks (:func:`_crl_problem`): a CRLNumber that is present and not critical;
- one speed-up that changes no outcome: pyhanko looks a serial up in a CRL by a linear scan in pure Python
  (about 1 s for 100,000 entries); :func:`_indexed_find_cert_in_list` answers "not listed" from an index
  of the CRL's serials and hands every other case to pyhanko's own function.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, ExtensionOID, NameOID
from pyhanko_certvalidator import CertificateValidator, ValidationContext
from pyhanko_certvalidator import errors as pv_errors
from pyhanko_certvalidator.ltv.types import ValidationTimingInfo, ValidationTimingParams
from pyhanko_certvalidator.policy_decl import (
    CertRevTrustPolicy,
    RevocationCheckingPolicy,
    RevocationCheckingRule,
)
from pyhanko_certvalidator.revinfo import validate_crl as _pv_crl
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

from kiosk.card.direct_crls import DirectCrls
from kiosk.card.identity import CardIdentity
from kiosk.card.profile import CertificateCheck, EcdsaFormat
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.roles import STAFF_CA_POLICY_OID, TEST_EID_AUTH_POLICY_OID, StaffRole, roles_in

log = logging.getLogger(__name__)

CHALLENGE_DOMAIN = b"sanduq/card-auth/v1"
NONCE_BYTES = 32

# Extensions the national-eID profile understands on a card certificate (pyhanko refuses any other critical
# extension anywhere in the path; this list is for the pre-check before the PIN is asked).
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
    ExtensionOID.NAME_CONSTRAINTS,
    ExtensionOID.POLICY_CONSTRAINTS,
    ExtensionOID.INHIBIT_ANY_POLICY,
    ExtensionOID.POLICY_MAPPINGS,
    ExtensionOID.FRESHEST_CRL,
}

_REVOCATION = CertRevTrustPolicy(
    RevocationCheckingPolicy(
        ee_certificate_rule=RevocationCheckingRule.CRL_REQUIRED,
        intermediate_ca_cert_rule=RevocationCheckingRule.CRL_REQUIRED,
    )
)


@dataclass(frozen=True)
class TrustPolicy:
    """The policy OIDs of the package's trust configuration (``trust/card-policies.json``).

    ``staff_ca_policy_oids``: a CA certificate asserting one of them issues staff cards (and only such a CA
    may: a role policy in a card from any other CA is refused). ``auth_policy_oids``: national-eID
    authentication policies that stand in for the clientAuth EKU on a card certificate.
    """

    staff_ca_policy_oids: frozenset[str] = frozenset({STAFF_CA_POLICY_OID})
    auth_policy_oids: frozenset[str] = frozenset({TEST_EID_AUTH_POLICY_OID})


class _MemoisingSignatureValidator(DefaultSignatureValidator):
    """pyhanko's own signature check, with valid results remembered for large signed data (a CRL of 100,000
    entries is 4 MB: verifying it costs milliseconds on every card, the same bytes every time).

    A result is reused only for the same signature, key and algorithm over *equal* data (compared in full,
    a memcmp): it is a cache of a pure function, so it changes no outcome. Invalid signatures are never
    cached. One instance per :class:`TrustAnchors` (per election package).
    """

    MIN_BYTES = 64 * 1024

    def __init__(self) -> None:
        self._valid: dict[tuple[bytes, bytes, bytes], bytes] = {}
        self._lock = threading.Lock()

    def validate_signature(
        self,
        signature: bytes,
        signed_data: bytes,
        public_key_info: Any,
        signature_algorithm: Any,
        context: SignatureValidationContext = DEFAULT_VALIDATION_CONTEXT,
    ) -> None:
        if len(signed_data) < self.MIN_BYTES or context != DEFAULT_VALIDATION_CONTEXT:
            super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
            return
        key = (bytes(signature), public_key_info.dump(), signature_algorithm.dump())
        with self._lock:
            known = self._valid.get(key)
        if known is not None and known == signed_data:
            return
        super().validate_signature(signature, signed_data, public_key_info, signature_algorithm, context)
        with self._lock:
            self._valid[key] = bytes(signed_data)


@dataclass(frozen=True)
class _Prepared:
    roots: tuple[asn1_x509.Certificate, ...]
    intermediates: tuple[asn1_x509.Certificate, ...]
    crls: tuple[asn1_crl.CertificateList, ...]
    refused: tuple[str, ...]  # why a CA or CRL of the package is not used (for logs and refusal details)
    signatures: _MemoisingSignatureValidator
    direct: DirectCrls


@dataclass(frozen=True)
class TrustAnchors:
    """Trust inputs from the election package: roots, issuing CAs, CRLs for every level, policy OIDs.

    Prepared once (asn1crypto objects, CRL serial indexes, profile checks of every CA and CRL) when built:
    build it once per election package, not per card.
    """

    roots: Sequence[x509.Certificate]
    intermediates: Sequence[x509.Certificate]
    crls: Sequence[x509.CertificateRevocationList]
    policy: TrustPolicy = field(default_factory=TrustPolicy)
    _prepared: _Prepared = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_prepared", _prepare(self))

    @property
    def refused(self) -> tuple[str, ...]:
        """Package CAs and CRLs left out, each with its reason."""
        return self._prepared.refused


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


# -- preparing the package's trust material ------------------------------------------------------------------


def _name_of(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string() or "<empty subject>"
    except ValueError:
        return "<unreadable subject>"


def _ca_problem(cert: x509.Certificate) -> str | None:
    """Why ``cert`` cannot serve as a CA of the card PKI (RFC 5280 4.2.1.3, 4.2.1.9, 4.1.2.6), or None."""
    try:
        if len(cert.subject) == 0:
            return "empty subject"
        extensions = cert.extensions
        unknown = [e.oid.dotted_string for e in extensions if e.critical and e.oid not in _UNDERSTOOD_EXTENSIONS]
        if unknown:
            return f"unknown critical extension {unknown[0]}"
        try:
            constraints = extensions.get_extension_for_class(x509.BasicConstraints)
        except x509.ExtensionNotFound:
            return "no basicConstraints"
        if not constraints.critical or not constraints.value.ca:
            return "basicConstraints not critical or not cA"
        try:
            usage = extensions.get_extension_for_class(x509.KeyUsage).value
        except x509.ExtensionNotFound:
            return "no keyUsage"
        if not usage.key_cert_sign:
            return "keyUsage without keyCertSign"
    except (ValueError, x509.DuplicateExtension) as exc:  # invalid UTF-8 in a name, duplicated extension, ...
        return f"malformed certificate ({exc})"
    return None


def _crl_problem(crl: x509.CertificateRevocationList) -> str | None:
    """Why ``crl`` is not a conforming CRL (RFC 5280 5.2.3: CRLNumber is required and non-critical)."""
    try:
        number = crl.extensions.get_extension_for_class(x509.CRLNumber)
    except x509.ExtensionNotFound:
        return "no CRLNumber"
    except ValueError as exc:
        return f"malformed CRL extensions ({exc})"
    if number.critical:
        return "critical CRLNumber"
    return None


# asn1crypto CRL object -> the set of its serial numbers; looked up by _indexed_find_cert_in_list.
_SERIAL_INDEX: weakref.WeakKeyDictionary[asn1_crl.CertificateList, frozenset[int]] = weakref.WeakKeyDictionary()
_original_find_cert_in_list: Callable[..., Any] = _pv_crl.find_cert_in_list


def _indexed_find_cert_in_list(
    cert: Any, cert_issuer_name: Any, certificate_list: Any, crl_authority_name: Any
) -> tuple[Any, Any]:
    """pyhanko's ``find_cert_in_list`` with an index: a serial in no entry of the CRL gives ``(None, None)``,
    exactly what the linear scan returns then; everything else (a listed serial, an unindexed CRL, an
    attribute certificate) goes to pyhanko's own function unchanged."""
    serials = _SERIAL_INDEX.get(certificate_list)
    if serials is not None and isinstance(cert, asn1_x509.Certificate) and cert.serial_number not in serials:
        return None, None
    found: tuple[Any, Any] = _original_find_cert_in_list(cert, cert_issuer_name, certificate_list, crl_authority_name)
    return found


if getattr(_pv_crl, "find_cert_in_list", None) is _original_find_cert_in_list:
    _pv_crl.find_cert_in_list = _indexed_find_cert_in_list


def _serials(crl: x509.CertificateRevocationList) -> frozenset[int] | None:
    try:
        return frozenset(entry.serial_number for entry in crl)
    except ValueError:
        return None  # unindexed: pyhanko scans it itself


def _prepare(anchors: TrustAnchors) -> _Prepared:
    refused: list[str] = []

    def usable_cas(certs: Iterable[x509.Certificate], what: str) -> tuple[asn1_x509.Certificate, ...]:
        out = []
        for cert in certs:
            problem = _ca_problem(cert)
            if problem is not None:
                refused.append(f"{what} {_name_of(cert)}: {problem}")
                continue
            out.append(asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER)))
        return tuple(out)

    roots = usable_cas(anchors.roots, "root")
    intermediates = usable_cas(anchors.intermediates, "CA")
    crls = []
    for crl in anchors.crls:
        problem = _crl_problem(crl)
        if problem is not None:
            refused.append(f"CRL of {crl.issuer.rfc4514_string()}: {problem}")
            continue
        loaded = asn1_crl.CertificateList.load(crl.public_bytes(Encoding.DER))
        serials = _serials(crl)
        if serials is not None:
            _SERIAL_INDEX[loaded] = serials
        crls.append(loaded)
    for line in refused:
        log.warning("card trust material not used: %s", line)
    direct = DirectCrls([c for c in anchors.crls if _crl_problem(c) is None])
    return _Prepared(roots, intermediates, tuple(crls), tuple(refused), _MemoisingSignatureValidator(), direct)


# -- the card certificate ---------------------------------------------------------------------------------------


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
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension) as exc:
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
            if extension.critical and extension.oid not in _UNDERSTOOD_EXTENSIONS:
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


async def _validate(validator: CertificateValidator) -> Any:
    return await validator.async_validate_path()


def _path(cert: x509.Certificate, anchors: TrustAnchors, now: dt.datetime) -> list[asn1_x509.Certificate] | AuthFailure:
    """RFC 5280 path validation with revocation at every level; [root, ..., issuing CA, card] or a refusal."""
    prepared = anchors._prepared
    try:
        context = ValidationContext(
            trust_roots=list(prepared.roots),
            other_certs=list(prepared.intermediates),
            crls=list(prepared.crls),
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
        path = asyncio.run(_validate(CertificateValidator(end_entity, validation_context=context)))
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
    what = f"root certificate {_name_of(root)}"
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
            what = "card certificate" if depth == len(chain) - 1 else f"CA certificate {_name_of(chain[depth])}"
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

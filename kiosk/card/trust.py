"""The election package's card trust material, prepared once per package for the kiosk's path validation.

:class:`TrustAnchors` holds the roots, the issuing CAs, the CRLs of every level and the :class:`TrustPolicy`
(policy OIDs of ``trust/card-policies.json``). Building it checks what RFC 5280 asks of CAs and CRLs but a
validator does not apply to trust anchors (:func:`_ca_problem`, :func:`_crl_problem`: such material is left
out and named in ``refused``), converts everything to the asn1crypto form pyhanko-certvalidator works on, and
sets up two speed-ups that change no outcome (docs/card.md, "Path validation"):

- :func:`_indexed_find_cert_in_list` replaces pyhanko's linear scan of a CRL's entries (about 0.6 s for
  100,000 entries) by a lookup in an index of the CRL's serials; a serial in no entry gives ``(None, None)``,
  exactly what the scan returns then, and every other case goes to pyhanko's own function;
- :class:`_MemoisingSignatureValidator` verifies a large CRL's signature once per package.
"""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtensionOID
from pyhanko_certvalidator.revinfo import validate_crl as _pv_crl
from pyhanko_certvalidator.sig_validate import (
    DEFAULT_VALIDATION_CONTEXT,
    DefaultSignatureValidator,
    SignatureValidationContext,
)

from sync.direct_crls import DirectCrls
from sync.staff_roles import STAFF_CA_POLICY_OID, TEST_EID_AUTH_POLICY_OID

log = logging.getLogger(__name__)

# Extensions the national-eID profile understands on a card certificate (pyhanko refuses any other critical
# extension anywhere in the path; this list is for the pre-check before the PIN is asked).
UNDERSTOOD_EXTENSIONS = {
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
    ca_names: tuple[x509.Name, ...]  # subject and issuer name of each of ``intermediates``, same order
    ca_issuers: tuple[x509.Name, ...]
    crl_issuers: tuple[x509.Name | None, ...]  # issuer name of each of ``crls``
    root_names: frozenset[x509.Name]

    def branch(self, issuer: x509.Name) -> tuple[list[asn1_x509.Certificate], list[asn1_crl.CertificateList]]:
        """The CAs that can lie on a path from a certificate issued by ``issuer`` up to a root (matched by
        name, so look-alike CAs are kept: signatures decide), and the CRLs issued by them or by a root.

        Only these are handed to the validator: a CRL of another branch (a sibling CA's) can never be a direct
        CRL for the path, and pyhanko would otherwise consider it (see sync/direct_crls.py) and spend
        time validating that sibling's own path."""
        names = {issuer}
        chosen: set[int] = set()
        while True:
            more = {i for i, name in enumerate(self.ca_names) if name in names and i not in chosen}
            if not more:
                break
            chosen |= more
            names |= {self.ca_issuers[i] for i in more}
        issuers = names | set(self.root_names)
        cas = [self.intermediates[i] for i in sorted(chosen)]
        crls = [crl for crl, name in zip(self.crls, self.crl_issuers, strict=True) if name in issuers]
        return cas, crls


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


def name_of(cert: x509.Certificate) -> str:
    try:
        return cert.subject.rfc4514_string() or "<empty subject>"
    except ValueError:
        return "<unreadable subject>"


def _ca_problem(cert: x509.Certificate) -> str | None:
    """Why ``cert`` cannot serve as a CA of the card PKI (RFC 5280 4.2.1.3, 4.2.1.9, 4.1.2.6), or None."""
    try:
        _ = [attribute.value for name in (cert.subject, cert.issuer) for attribute in name]
        if len(cert.subject) == 0:
            return "empty subject"
        extensions = cert.extensions
        unknown = [e.oid.dotted_string for e in extensions if e.critical and e.oid not in UNDERSTOOD_EXTENSIONS]
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


def _crl_issuer_text(crl: x509.CertificateRevocationList) -> str:
    try:
        return crl.issuer.rfc4514_string()
    except ValueError:
        return "<unreadable issuer>"


def _crl_problem(crl: x509.CertificateRevocationList) -> str | None:
    """Why ``crl`` is not a conforming CRL (RFC 5280 5.2.3: CRLNumber is required and non-critical), or cannot
    be read in full (a malformed name or extension, found only when read: cryptography parses lazily)."""
    try:
        _ = [attribute.value for attribute in crl.issuer]
        _ = [extension.value for extension in crl.extensions]
    except (ValueError, x509.DuplicateExtension) as exc:
        return f"malformed ({exc})"
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

    def usable_cas(certs: Iterable[x509.Certificate], what: str) -> list[x509.Certificate]:
        out = []
        for cert in certs:
            problem = _ca_problem(cert)
            if problem is not None:
                refused.append(f"{what} {name_of(cert)}: {problem}")
                continue
            out.append(cert)
        return out

    def asn1(certs: list[x509.Certificate]) -> tuple[asn1_x509.Certificate, ...]:
        return tuple(asn1_x509.Certificate.load(c.public_bytes(Encoding.DER)) for c in certs)

    root_certs = usable_cas(anchors.roots, "root")
    ca_certs = usable_cas(anchors.intermediates, "CA")
    roots, intermediates = asn1(root_certs), asn1(ca_certs)
    crls = []
    usable: list[x509.CertificateRevocationList] = []
    for position, crl in enumerate(anchors.crls, 1):
        problem = _crl_problem(crl)
        if problem is not None:
            refused.append(f"CRL {position} ({_crl_issuer_text(crl)}): {problem}")
            continue
        loaded = asn1_crl.CertificateList.load(crl.public_bytes(Encoding.DER))
        serials = _serials(crl)
        if serials is not None:
            _SERIAL_INDEX[loaded] = serials
        crls.append(loaded)
        usable.append(crl)
    for line in refused:
        log.warning("card trust material not used: %s", line)
    direct = DirectCrls(usable)
    return _Prepared(
        roots,
        intermediates,
        tuple(crls),
        tuple(refused),
        _MemoisingSignatureValidator(),
        direct,
        ca_names=tuple(c.subject for c in ca_certs),
        ca_issuers=tuple(c.issuer for c in ca_certs),
        crl_issuers=tuple(c.issuer for c in usable),
        root_names=frozenset(c.subject for c in root_certs),
    )


# -- the card certificate ---------------------------------------------------------------------------------------

"""Defence in depth over pyhanko-certvalidator's CRL processing: each certificate of a validated path below the
root must be covered by a *direct, complete, current* CRL of its own issuer in the election package.

Why: besides RFC 5280's rules, pyhanko 0.33 also accepts, as revocation information for a certificate, a CRL
issued by a *sibling* CA (any CRL issuer whose own issuer is the certificate's issuer), even when that CRL is
not an indirect CRL (``_get_crl_scope_assuming_authority``: ``indirect_crl_issuer``). A sibling never lists
the certificate, so it says "not revoked": with the national root's CRL missing from a package, the citizen
CA would pass on the strength of the staff CA's CRL. The check here refuses that (fail closed); a revocation
that pyhanko found stands regardless (it runs first).

A CRL covers certificate C issued by I at ``now`` when: its issuer name is C's issuer name; its signature
verifies with I's key and I's keyUsage (if present) has cRLSign; thisUpdate <= now < nextUpdate; it is not a
delta CRL and has no critical extension other than CRLNumber, deltaCRLIndicator or issuingDistributionPoint;
its issuing distribution point (if any) is not indirect, not for attribute certificates, not limited to some
reasons, does not exclude C's kind (user / CA), and names a distribution point only if C lists that point.

Shared: the kiosk's path validation (``kiosk.card.trust``) and the office's staff login, which checks the staff CA
against the national root's CRL (``central.auth.RootRevocation``).
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Sequence

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from cryptography.x509.oid import ExtensionOID

_ALLOWED_CRITICAL = {ExtensionOID.CRL_NUMBER, ExtensionOID.DELTA_CRL_INDICATOR, ExtensionOID.ISSUING_DISTRIBUTION_POINT}


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        return False


def _distribution_points(cert: x509.Certificate) -> list[x509.GeneralName]:
    try:
        points = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    except x509.ExtensionNotFound:
        return []
    return [name for point in points for name in (point.full_name or [])]


def _scope_problem(crl: x509.CertificateRevocationList, cert: x509.Certificate) -> str | None:
    extensions = crl.extensions
    if any(e.critical and e.oid not in _ALLOWED_CRITICAL for e in extensions):
        return "unknown critical extension"
    try:
        extensions.get_extension_for_class(x509.DeltaCRLIndicator)
        return "a delta CRL"
    except x509.ExtensionNotFound:
        pass
    try:
        idp = extensions.get_extension_for_class(x509.IssuingDistributionPoint).value
    except x509.ExtensionNotFound:
        return None
    if idp.indirect_crl or idp.only_contains_attribute_certs or idp.only_some_reasons is not None:
        return "indirect, attribute-certificate or some-reasons CRL"
    ca = _is_ca(cert)
    if (idp.only_contains_user_certs and ca) or (idp.only_contains_ca_certs and not ca):
        return "scope excludes this kind of certificate"
    if idp.relative_name is not None:
        return "relative distribution point name"
    if idp.full_name is not None and not set(idp.full_name) & set(_distribution_points(cert)):
        return "for another distribution point"
    return None


class DirectCrls:
    """The package's CRLs by issuer name, with each CRL's signature checked once per issuer key."""

    def __init__(self, crls: Sequence[x509.CertificateRevocationList]) -> None:
        self._by_issuer: dict[bytes, list[tuple[int, x509.CertificateRevocationList]]] = {}
        for index, crl in enumerate(crls):
            try:
                name = crl.issuer.public_bytes()
            except ValueError:
                continue
            self._by_issuer.setdefault(name, []).append((index, crl))
        self._signatures: dict[tuple[int, bytes], bool] = {}
        self._lock = threading.Lock()

    def _signed_by(self, index: int, crl: x509.CertificateRevocationList, issuer: x509.Certificate) -> bool:
        key = issuer.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey | rsa.RSAPublicKey):
            return False
        cache_key = (index, key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo))
        with self._lock:
            known = self._signatures.get(cache_key)
        if known is None:
            known = crl.is_signature_valid(key)
            with self._lock:
                self._signatures[cache_key] = known
        return known

    def uncovered(self, cert: x509.Certificate, issuer: x509.Certificate, now: dt.datetime) -> str | None:
        """None if a direct, complete, current CRL of ``issuer`` covers ``cert``; else why not."""
        try:
            usage = issuer.extensions.get_extension_for_class(x509.KeyUsage).value
            if not usage.crl_sign:
                return "its issuer may not sign CRLs (no cRLSign)"
        except x509.ExtensionNotFound:
            pass
        why = "no CRL of its issuer in the election package"
        for index, crl in self._by_issuer.get(cert.issuer.public_bytes(), []):
            next_update = crl.next_update_utc
            if next_update is None or not crl.last_update_utc <= now < next_update:
                why = "no current CRL of its issuer (past nextUpdate or not yet valid)"
                continue
            scope = _scope_problem(crl, cert)
            if scope is not None:
                why = f"no complete CRL of its issuer in scope ({scope})"
                continue
            if not self._signed_by(index, crl, issuer):
                why = "no CRL signed by its issuer"
                continue
            return None
        return why

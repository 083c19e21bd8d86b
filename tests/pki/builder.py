"""A national-eID-shaped PKI built in memory with ``cryptography``, every part adjustable for one test case.

``Spec`` describes root -> issuing CA -> card (optionally a second CA level) and the CRLs; ``build(spec)``
returns the certificates, the CRLs and ready :class:`TrustAnchors`. The defaults are a genuine, current
hierarchy: the card certificate has no SAN, keyUsage digitalSignature (critical), EKU clientAuth and the
eID authentication policy; the root's CRL covers the CA, the CA's CRL covers the card.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.card.pki import TrustAnchors
from sync.staff_roles import TEST_EID_AUTH_POLICY_OID

NOW = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)
SECOND = dt.timedelta(seconds=1)
DAY = dt.timedelta(days=1)
UNKNOWN_OID = x509.ObjectIdentifier("1.3.6.1.4.1.99999.1")

Ext = tuple[x509.ExtensionType, bool]  # an extension and its criticality


def name(*parts: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


CARD_SUBJECT = name(
    (NameOID.COUNTRY_NAME, "OM"),
    (NameOID.ORGANIZATION_NAME, "Sanduq TEST"),
    (NameOID.SERIAL_NUMBER, "10000001"),
    (NameOID.COMMON_NAME, "Test Voter"),
)


def usage(
    *, sign: bool = True, cert_sign: bool = False, crl_sign: bool = False, encipher: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(sign, False, encipher, False, False, cert_sign, crl_sign, False, False)


@dataclass
class CertSpec:
    not_before: dt.timedelta = -365 * DAY  # relative to NOW
    not_after: dt.timedelta = 365 * DAY
    subject: x509.Name | None = None
    basic_constraints: Ext | None = None  # None: the level's default
    key_usage: Ext | None = None
    extra: list[Ext] = field(default_factory=list)
    omit: set[type[x509.ExtensionType]] = field(default_factory=set)  # default extensions to leave out


@dataclass
class CrlSpec:
    issuer: str  # "root" or "ca" (or "ca2")
    revoked: Sequence[str] = ()  # "card", "ca", "ca2"
    this_update: dt.timedelta = -DAY
    next_update: dt.timedelta = 7 * DAY
    revocation_date: dt.timedelta = -2 * DAY
    number: int | None = 1
    number_critical: bool = False
    extra: list[Ext] = field(default_factory=list)
    forged: bool = False  # signed by a key that is not the issuer's


@dataclass
class Spec:
    root: CertSpec = field(default_factory=CertSpec)
    ca: CertSpec = field(default_factory=CertSpec)
    card: CertSpec = field(default_factory=lambda: CertSpec(not_before=-30 * DAY, not_after=300 * DAY))
    ca2: CertSpec | None = None  # a second CA level between ca and the card
    sibling: bool = False  # another CA under the root (like the staff CA), with its own CRL issuer "sibling"
    root_path_length: int | None = 1
    ca_path_length: int | None = 0
    ca_crl_sign: bool = True  # the issuing CA's keyUsage has cRLSign
    crls: list[CrlSpec] | None = None  # None: the genuine pair (root's CRL and the CA's CRL)
    card_eku: Sequence[x509.ObjectIdentifier] | None = (ExtendedKeyUsageOID.CLIENT_AUTH,)
    card_policies: Sequence[str] = (TEST_EID_AUTH_POLICY_OID,)
    tamper: Callable[[bytes], bytes] | None = None  # edits the card certificate's DER (malformed-input cases)


@dataclass
class Built:
    root: x509.Certificate
    cas: list[x509.Certificate]
    card_der: bytes
    crls: list[x509.CertificateRevocationList]
    anchors: TrustAnchors


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _cert(
    spec: CertSpec,
    subject: x509.Name,
    key: ec.EllipticCurvePrivateKey,
    issuer_name: x509.Name,
    issuer_key: ec.EllipticCurvePrivateKey,
    serial: int,
    defaults: list[Ext],
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(spec.subject if spec.subject is not None else subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(NOW + spec.not_before)
        .not_valid_after(NOW + spec.not_after)
    )
    overrides = {type(o[0]): o for o in (spec.basic_constraints, spec.key_usage) if o is not None}
    for default in defaults:
        if type(default[0]) in spec.omit:
            continue
        extension, critical = overrides.get(type(default[0]), default)
        builder = builder.add_extension(extension, critical)
    for extension, critical in spec.extra:
        builder = builder.add_extension(extension, critical)
    return builder.sign(issuer_key, hashes.SHA256())


def _ca_defaults(key: ec.EllipticCurvePrivateKey, path_length: int | None, crl_sign: bool = True) -> list[Ext]:
    return [
        (x509.BasicConstraints(ca=True, path_length=path_length), True),
        (usage(sign=False, cert_sign=True, crl_sign=crl_sign), True),
        (x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False),
    ]


def build(spec: Spec) -> Built:
    root_key, ca_key, card_key = _key(), _key(), _key()
    root_name = name((NameOID.COUNTRY_NAME, "OM"), (NameOID.COMMON_NAME, "TEST National Root CA"))
    ca_name = name((NameOID.COUNTRY_NAME, "OM"), (NameOID.COMMON_NAME, "TEST Citizen Authentication CA"))
    root = _cert(spec.root, root_name, root_key, root_name, root_key, 1, _ca_defaults(root_key, spec.root_path_length))
    ca = _cert(
        spec.ca, ca_name, ca_key, root.subject, root_key, 2, _ca_defaults(ca_key, spec.ca_path_length, spec.ca_crl_sign)
    )
    keys = {"root": (root, root_key), "ca": (ca, ca_key)}
    cas = [ca]
    issuer, issuer_key = ca, ca_key
    if spec.ca2 is not None:
        ca2_key = _key()
        ca2_name = name((NameOID.COUNTRY_NAME, "OM"), (NameOID.COMMON_NAME, "TEST Regional CA"))
        ca2 = _cert(spec.ca2, ca2_name, ca2_key, ca.subject, ca_key, 3, _ca_defaults(ca2_key, 0))
        keys["ca2"] = (ca2, ca2_key)
        cas.append(ca2)
        issuer, issuer_key = ca2, ca2_key
    card_defaults: list[Ext] = [
        (x509.BasicConstraints(ca=False, path_length=None), True),
        (usage(), True),
        (x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), False),
    ]
    if spec.card_eku is not None:
        card_defaults.append((x509.ExtendedKeyUsage(list(spec.card_eku)), False))
    if spec.card_policies:
        policies = [x509.PolicyInformation(x509.ObjectIdentifier(p), None) for p in spec.card_policies]
        card_defaults.append((x509.CertificatePolicies(policies), False))
    card = _cert(spec.card, CARD_SUBJECT, card_key, issuer.subject, issuer_key, 1000, card_defaults)
    if spec.sibling:
        sibling_key = _key()
        sibling_name = name((NameOID.COUNTRY_NAME, "OM"), (NameOID.COMMON_NAME, "TEST Sibling CA"))
        sibling = _cert(CertSpec(), sibling_name, sibling_key, root.subject, root_key, 4, _ca_defaults(sibling_key, 0))
        keys["sibling"] = (sibling, sibling_key)
        cas.append(sibling)
    serials = {"card": card.serial_number, "ca": ca.serial_number, **({"ca2": 3} if spec.ca2 else {})}
    crl_specs = spec.crls if spec.crls is not None else default_crls(spec)
    crls = [_crl(c, keys, serials) for c in crl_specs]
    der = card.public_bytes(Encoding.DER)
    if spec.tamper is not None:
        der = spec.tamper(der)
    return Built(root, cas, der, crls, TrustAnchors([root], cas, crls))


def default_crls(spec: Spec) -> list[CrlSpec]:
    out = [CrlSpec("root"), CrlSpec("ca")]
    if spec.ca2 is not None:
        out.append(CrlSpec("ca2"))
    if spec.sibling:
        out.append(CrlSpec("sibling"))
    return out


def _crl(
    spec: CrlSpec,
    keys: dict[str, tuple[x509.Certificate, ec.EllipticCurvePrivateKey]],
    serials: dict[str, int],
) -> x509.CertificateRevocationList:
    issuer, key = keys[spec.issuer]
    builder = x509.CertificateRevocationListBuilder().issuer_name(issuer.subject).last_update(NOW + spec.this_update)
    builder = builder.next_update(NOW + spec.next_update)
    if spec.number is not None:
        builder = builder.add_extension(x509.CRLNumber(spec.number), spec.number_critical)
    builder = builder.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), False)
    for extension, critical in spec.extra:
        builder = builder.add_extension(extension, critical)
    for target in spec.revoked:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serials[target])
            .revocation_date(NOW + spec.revocation_date)
            .build()
        )
    return builder.sign(_key() if spec.forged else key, hashes.SHA256())

"""Certificate, CRL and key builders for the test PKI (cryptography's x509 builders, nothing hand-made)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.types import CertificatePublicKeyTypes
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CRL_BASE_URL = "http://crl.test-pki.sanduq.invalid/"


def new_key(algorithm: str = "ecdsa-p256") -> PrivateKey:
    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "rsa-2048":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise ValueError(f"unsupported key algorithm {algorithm!r}")


@dataclass(frozen=True)
class Issuer:
    cert: x509.Certificate
    key: PrivateKey


def name(*parts: tuple[x509.ObjectIdentifier, str]) -> x509.Name:
    return x509.Name([x509.NameAttribute(oid, value) for oid, value in parts])


def key_usage(
    *, digital_signature: bool = False, key_encipherment: bool = False, cert_sign: bool = False
) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=digital_signature,
        content_commitment=False,
        key_encipherment=key_encipherment,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _sign(builder: x509.CertificateBuilder, signer_key: PrivateKey) -> x509.Certificate:
    return builder.sign(signer_key, hashes.SHA256())


def ca_certificate(
    subject: x509.Name,
    key: PrivateKey,
    issuer: Issuer | None,
    not_before: dt.datetime,
    not_after: dt.datetime,
    path_length: int | None,
    crl_name: str | None = None,
    policies: Sequence[x509.ObjectIdentifier] = (),
) -> x509.Certificate:
    """A CA certificate; ``issuer=None`` makes a self-signed root. ``policies``: its certificatePolicies."""
    issuer_name = issuer.cert.subject if issuer else subject
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(key_usage(cert_sign=True), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
    )
    if issuer:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False
        )
    if crl_name:
        builder = builder.add_extension(_crl_dp(crl_name), critical=False)
    if policies:
        builder = builder.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(oid, None) for oid in policies]), critical=False
        )
    return _sign(builder, signer)


def _crl_dp(crl_name: str) -> x509.CRLDistributionPoints:
    return x509.CRLDistributionPoints(
        [x509.DistributionPoint([x509.UniformResourceIdentifier(CRL_BASE_URL + crl_name)], None, None, None)]
    )


def end_entity_certificate(
    subject: x509.Name,
    public_key: CertificatePublicKeyTypes,
    issuer: Issuer,
    not_before: dt.datetime,
    not_after: dt.datetime,
    usage: x509.KeyUsage,
    eku: Sequence[x509.ObjectIdentifier] = (),
    san: Sequence[x509.GeneralName] = (),
    policies: Sequence[x509.ObjectIdentifier] = (),
    crl_name: str | None = None,
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    if eku:
        builder = builder.add_extension(x509.ExtendedKeyUsage(list(eku)), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(list(san)), critical=False)
    if policies:
        builder = builder.add_extension(
            x509.CertificatePolicies([x509.PolicyInformation(oid, None) for oid in policies]), critical=False
        )
    if crl_name:
        builder = builder.add_extension(_crl_dp(crl_name), critical=False)
    return _sign(builder, issuer.key)


def self_signed_end_entity(
    subject: x509.Name, key: PrivateKey, not_before: dt.datetime, not_after: dt.datetime
) -> x509.Certificate:
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(key_usage(digital_signature=True), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
    )
    return _sign(builder, key)


def make_crl(
    issuer: Issuer, revoked_serials: Sequence[int], this_update: dt.datetime, next_update: dt.datetime, number: int
) -> x509.CertificateRevocationList:
    """A CRL signed by ``issuer``; pass a ``next_update`` in the past to get a stale one for tests."""
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.cert.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer.key.public_key()), critical=False)
    )
    for serial in revoked_serials:
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(serial)
            .revocation_date(this_update - dt.timedelta(hours=1))
            .add_extension(x509.CRLReason(x509.ReasonFlags.key_compromise), critical=False)
            .build()
        )
    return builder.sign(issuer.key, hashes.SHA256())


# -- writing -------------------------------------------------------------------------------------------------


def write_cert(path: Path, cert: x509.Certificate) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


def write_key(path: Path, key: PrivateKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    path.chmod(0o600)


def write_crl(path: Path, crl: x509.CertificateRevocationList) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(crl.public_bytes(serialization.Encoding.DER))


__all__ = [
    "ExtendedKeyUsageOID",
    "NameOID",
]

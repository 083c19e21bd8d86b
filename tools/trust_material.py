"""The election commission's own trust material and signing key, read from files the commission controls.

The package builder (tools/build_package.py) takes a *trust directory* and the commission's signing key file;
nothing here knows of the test PKI, which merely writes the same layout (``devtools.test_pki`` -> ``trust/``).
The directory mirrors the package's ``trust/`` and ``crl/`` folders (docs/election-package.md, "Building a
package with the commission's own keys"):

    card-roots/*.pem           roots that voter and staff card certificates chain to (the national root)
    card-intermediates/*.pem   the issuing CAs (citizen authentication CA, election staff CA, ...)
    kiosk-ca.pem               the CA of the kiosks' certificates
    central-ca.pem             the CA of the central office's TLS certificate
    crl/*.crl                  a CRL (DER or PEM) of every CA in card-roots/ and card-intermediates/
    card-policies.json         optional: the card certificate policy OIDs (docs/card.md)
    collector.pem              optional: the vote collector's TLS certificate (elections with remote voting)

Each certificate file holds exactly one PEM certificate. Any other file is refused rather than left out of the
package unnoticed. Every problem is one :class:`TrustError` naming the file and what is wrong with it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, load_pem_private_key

from election.package import CARD_INTERMEDIATES_DIR, CARD_POLICIES, CARD_ROOTS_DIR, CENTRAL_CA, CRL_DIR, KIOSK_CA

# Names inside the trust directory (the package's names without its ``trust/`` prefix).
CARD_ROOTS: Final = "card-roots"
CARD_INTERMEDIATES: Final = "card-intermediates"
CRLS: Final = "crl"
KIOSK_CA_FILE: Final = "kiosk-ca.pem"
CENTRAL_CA_FILE: Final = "central-ca.pem"
CARD_POLICIES_FILE: Final = "card-policies.json"
COLLECTOR_FILE: Final = "collector.pem"
_TOP_FILES: Final = frozenset({KIOSK_CA_FILE, CENTRAL_CA_FILE, CARD_POLICIES_FILE, COLLECTOR_FILE})
_FOLDERS: Final = {CARD_ROOTS: ".pem", CARD_INTERMEDIATES: ".pem", CRLS: ".crl"}
_SAFE_NAME: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")

PASSPHRASE_ENV: Final = "SANDUQ_COMMISSION_KEY_PASSPHRASE"  # noqa: S105 - the name of a variable, not a secret
"""Where ``python -m tools.build_package`` looks for the signing key's passphrase when no file names it."""

_IssuerKey = (
    rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey | ed448.Ed448PublicKey | dsa.DSAPublicKey
)


class TrustError(Exception):
    """The trust directory or the signing key cannot be used; the message names the file and why."""


@dataclass(frozen=True)
class TrustMaterial:
    """What the package carries for the kiosks, the office and the voter app to trust, by file name."""

    directory: Path
    card_roots: Mapping[str, x509.Certificate]
    card_intermediates: Mapping[str, x509.Certificate]
    kiosk_ca: x509.Certificate
    central_ca: x509.Certificate
    crls: Mapping[str, x509.CertificateRevocationList]
    card_policies: bytes | None  # parsed and checked by election.package when the built package is loaded back
    collector: x509.Certificate | None

    def package_files(self) -> dict[str, bytes]:
        """The package members (path -> bytes): certificates re-encoded as PEM, CRLs as DER. Not the collector's
        certificate, which the builder adds only to an election with remote voting."""
        files = {f"{CARD_ROOTS_DIR}{n}": _pem(c) for n, c in sorted(self.card_roots.items())}
        files.update({f"{CARD_INTERMEDIATES_DIR}{n}": _pem(c) for n, c in sorted(self.card_intermediates.items())})
        files[KIOSK_CA] = _pem(self.kiosk_ca)
        files[CENTRAL_CA] = _pem(self.central_ca)
        files.update({f"{CRL_DIR}{n}": crl.public_bytes(Encoding.DER) for n, crl in sorted(self.crls.items())})
        if self.card_policies is not None:
            files[CARD_POLICIES] = self.card_policies
        return files


def load_trust(directory: Path) -> TrustMaterial:
    """Read and check a trust directory (layout in the module docstring)."""
    if not directory.is_dir():
        raise TrustError(f"{directory}: not a directory (the commission's trust directory, docs/election-package.md)")
    _refuse_unknown_files(directory)
    roots = _folder_certificates(directory / CARD_ROOTS, "a card root")
    if not roots:
        raise TrustError(f"{directory / CARD_ROOTS}: no root certificate (*.pem): cards could chain to nothing")
    intermediates = _folder_certificates(directory / CARD_INTERMEDIATES, "an issuing card CA")
    policies, collector = directory / CARD_POLICIES_FILE, directory / COLLECTOR_FILE
    material = TrustMaterial(
        directory=directory,
        card_roots=roots,
        card_intermediates=intermediates,
        kiosk_ca=_ca_certificate(directory / KIOSK_CA_FILE, "the kiosks' CA"),
        central_ca=_ca_certificate(directory / CENTRAL_CA_FILE, "the central office's TLS CA"),
        crls=_crls(directory / CRLS),
        card_policies=_read(policies, "the card policy OIDs") if policies.is_file() else None,
        collector=read_collector_certificate(collector) if collector.is_file() else None,
    )
    _check_card_pki(material)
    return material


def read_collector_certificate(path: Path) -> x509.Certificate:
    """The vote collector's TLS certificate (PEM): it must name its host, which the voter app connects to."""
    certificate = _certificate(path, "the vote collector's TLS certificate")
    try:
        certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        raise TrustError(f"{path}: the certificate names no host (no subjectAltName) for the voter app") from None
    return certificate


def read_signing_key(path: Path, passphrase: Callable[[], bytes] | None = None) -> Ed25519PrivateKey:
    """The commission's Ed25519 signing key from a PEM (PKCS#8) file. ``passphrase`` is called only when the key
    is encrypted; without it an encrypted key is refused."""
    data = _read(path, "the commission's signing key")
    try:
        key = load_pem_private_key(data, password=None)
    except TypeError:  # encrypted: "Password was not given but private key is encrypted"
        if passphrase is None:
            raise TrustError(f"{path}: the commission's signing key is encrypted and no passphrase was given") from None
        try:
            key = load_pem_private_key(data, password=passphrase())
        except (ValueError, TypeError):
            raise TrustError(f"{path}: wrong passphrase for the commission's signing key (or a damaged key)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise TrustError(f"{path}: not a PEM private key (the commission's Ed25519 signing key)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise TrustError(f"{path}: not an Ed25519 private key (the commission signs packages with Ed25519)")
    return key


# ---- reading ------------------------------------------------------------------------------------


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise TrustError(f"{path}: missing ({what})") from None
    except OSError as exc:
        raise TrustError(f"{path}: cannot be read ({exc.strerror}; {what})") from None


def _refuse_unknown_files(directory: Path) -> None:
    expected = ", ".join([*(f"{d}/*{s}" for d, s in _FOLDERS.items()), *sorted(_TOP_FILES)])
    for path in sorted(directory.rglob("*")):
        if not _in_layout(path.relative_to(directory).parts, path):
            raise TrustError(f"{path}: not part of a trust directory (it holds {expected} only)")


def _in_layout(parts: tuple[str, ...], path: Path) -> bool:
    if len(parts) == 1:
        return (parts[0] in _TOP_FILES and path.is_file()) or (parts[0] in _FOLDERS and path.is_dir())
    folder, name = parts[0], parts[-1]
    return (
        len(parts) == 2
        and folder in _FOLDERS
        and path.is_file()
        and path.suffix == _FOLDERS[folder]
        and _SAFE_NAME.fullmatch(name) is not None
    )


def _certificate(path: Path, what: str) -> x509.Certificate:
    data = _read(path, what)
    try:
        certificates = x509.load_pem_x509_certificates(data)
    except ValueError:
        raise TrustError(f"{path}: not a PEM certificate ({what})") from None
    if len(certificates) != 1:
        raise TrustError(f"{path}: {len(certificates)} certificates in one file (one certificate per file: {what})")
    return certificates[0]


def _ca_certificate(path: Path, what: str) -> x509.Certificate:
    certificate = _certificate(path, what)
    try:
        is_ca = certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        raise TrustError(f"{path}: not a CA certificate (basicConstraints CA:TRUE), so not {what}")
    return certificate


def _folder_certificates(folder: Path, what: str) -> dict[str, x509.Certificate]:
    if not folder.is_dir():
        return {}
    return {p.name: _ca_certificate(p, what) for p in sorted(folder.glob("*.pem"))}


def _crls(folder: Path) -> dict[str, x509.CertificateRevocationList]:
    crls: dict[str, x509.CertificateRevocationList] = {}
    for path in sorted(folder.glob("*.crl")) if folder.is_dir() else ():
        data = _read(path, "a certificate revocation list")
        try:
            crls[path.name] = x509.load_der_x509_crl(data)
        except ValueError:
            try:
                crls[path.name] = x509.load_pem_x509_crl(data)
            except ValueError:
                raise TrustError(f"{path}: not a certificate revocation list (DER or PEM)") from None
    return crls


# ---- checking -----------------------------------------------------------------------------------


def _signed_by(crl: x509.CertificateRevocationList, ca: x509.Certificate) -> bool:
    key = ca.public_key()
    return crl.issuer == ca.subject and isinstance(key, _IssuerKey) and crl.is_signature_valid(key)


def _issued_by(certificate: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def _check_card_pki(material: TrustMaterial) -> None:
    """The kiosk needs a current CRL at every level of the card PKI (docs/card.md) and a path from every issuing
    CA to a root: a package without them would refuse every card on election day, so the builder refuses it."""
    d = material.directory
    cas = {f"{CARD_ROOTS}/{n}": c for n, c in material.card_roots.items()}
    cas.update({f"{CARD_INTERMEDIATES}/{n}": c for n, c in material.card_intermediates.items()})
    for name, ca in material.card_intermediates.items():
        others = [c for where, c in cas.items() if where != f"{CARD_INTERMEDIATES}/{name}"]
        if not any(_issued_by(ca, issuer) for issuer in others):
            raise TrustError(
                f"{d / CARD_INTERMEDIATES / name}: not issued by any certificate in {CARD_ROOTS}/ or "
                f"{CARD_INTERMEDIATES}/ (issuer {ca.issuer.rfc4514_string()})"
            )
    for where, ca in cas.items():
        if not any(_signed_by(crl, ca) for crl in material.crls.values()):
            raise TrustError(
                f"{d / where}: no CRL of this CA in {d / CRLS}/ (a kiosk refuses every card without a CRL at "
                "every level of the card PKI)"
            )
    for name, crl in material.crls.items():
        if not any(_signed_by(crl, ca) for ca in cas.values()):
            raise TrustError(
                f"{d / CRLS / name}: issued by none of the CAs in {CARD_ROOTS}/ or {CARD_INTERMEDIATES}/ "
                f"(issuer {crl.issuer.rfc4514_string()})"
            )


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(Encoding.PEM)

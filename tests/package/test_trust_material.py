"""The commission's trust directory (tools.trust_material): the test PKI's ``trust/`` is read as a commission's would
be and packaged as the kiosk needs it; every missing, malformed or stray file is refused by name, before anything is
built, and so is a card PKI that would refuse every card on election day (a CA without a CRL, a CA from another
hierarchy)."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, Encoding, PrivateFormat

from devtools import test_pki
from devtools.test_pki import x509_build as xb
from election.package import CARD_POLICIES, CENTRAL_CA, KIOSK_CA
from tools.trust_material import TrustError, load_trust, read_signing_key

NOW = dt.datetime(2027, 10, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> test_pki.TestPki:
    out = tmp_path_factory.mktemp("trust") / "pki"
    return test_pki.generate(out, test_pki.synthetic_voters(1, NOW), ["kiosk-001"], now=NOW)


@pytest.fixture
def trust(pki: test_pki.TestPki, tmp_path: Path) -> Path:
    """A copy of the test PKI's trust directory, to break."""
    copy = tmp_path / "trust"
    shutil.copytree(pki.trust_dir, copy)
    return copy


def test_the_test_pkis_trust_directory_is_packaged_as_the_kiosk_needs_it(pki: test_pki.TestPki) -> None:
    files = load_trust(pki.trust_dir).package_files()
    assert set(files) == {
        "trust/card-roots/national-root.pem",
        "trust/card-intermediates/card-ca.pem",
        "trust/card-intermediates/staff-ca.pem",
        KIOSK_CA,
        CENTRAL_CA,
        CARD_POLICIES,
        "crl/card-ca.crl",
        "crl/staff-ca.crl",
        "crl/national-root.crl",
    }
    assert x509.load_pem_x509_certificate(files["trust/card-intermediates/staff-ca.pem"]) == pki.staff_ca.cert()
    assert x509.load_pem_x509_certificate(files[KIOSK_CA]) == pki.kiosk_ca.cert()
    assert files["crl/card-ca.crl"] == pki.card_crl_path.read_bytes()  # the current CRL, not the stale one


def _rogue_crl(pki: test_pki.TestPki) -> bytes:
    rogue = xb.Issuer(pki.rogue_root.cert(), pki.rogue_root.key())
    return xb.make_crl(rogue, [], NOW, NOW + dt.timedelta(days=7), 1).public_bytes(Encoding.DER)


Breakage = Callable[[Path, test_pki.TestPki], object]
BROKEN: dict[str, tuple[Breakage, str]] = {
    "kiosk CA missing": (lambda t, _: (t / "kiosk-ca.pem").unlink(), "kiosk-ca.pem: missing (the kiosks' CA)"),
    "no root": (
        lambda t, _: (t / "card-roots" / "national-root.pem").unlink(),
        "card-roots: no root certificate (*.pem): cards could chain to nothing",
    ),
    "root not PEM": (
        lambda t, p: (t / "card-roots" / "national-root.pem").write_bytes(
            p.national_root.cert().public_bytes(Encoding.DER)
        ),
        "national-root.pem: not a PEM certificate (a card root)",
    ),
    "a chain in one file": (
        lambda t, p: (t / "card-intermediates" / "card-ca.pem").write_bytes(
            p.card_ca.cert_path.read_bytes() + p.national_root.cert_path.read_bytes()
        ),
        "card-ca.pem: 2 certificates in one file",
    ),
    "the office's server certificate as its CA": (
        lambda t, p: shutil.copyfile(p.central_server.cert_path, t / "central-ca.pem"),
        "central-ca.pem: not a CA certificate (basicConstraints CA:TRUE), so not the central office's TLS CA",
    ),
    "a CA without its CRL": (
        lambda t, _: (t / "crl" / "staff-ca.crl").unlink(),
        "staff-ca.pem: no CRL of this CA in",
    ),
    "a CRL of another issuer": (
        lambda t, p: (t / "crl" / "rogue.crl").write_bytes(_rogue_crl(p)),
        "rogue.crl: issued by none of the CAs in card-roots/ or card-intermediates/",
    ),
    "not a CRL": (
        lambda t, _: (t / "crl" / "card-ca.crl").write_text("revoked: nobody"),
        "card-ca.crl: not a certificate revocation list (DER or PEM)",
    ),
    "an issuing CA of another hierarchy": (
        lambda t, p: shutil.copyfile(p.rogue_root.cert_path, t / "card-intermediates" / "rogue.pem"),
        "rogue.pem: not issued by any certificate in card-roots/ or card-intermediates/",
    ),
    "a stray file": (
        lambda t, _: (t / "README.txt").write_text("our keys"),
        "README.txt: not part of a trust directory",
    ),
    "a certificate under another name": (
        lambda t, _: (t / "card-roots" / "national-root.pem").rename(t / "card-roots" / "national-root.crt"),
        "national-root.crt: not part of a trust directory",
    ),
    "a collector certificate naming no host": (
        lambda t, p: shutil.copyfile(p.kiosk_ca.cert_path, t / "collector.pem"),
        "collector.pem: the certificate names no host",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_a_broken_trust_directory_is_refused_naming_the_file(case: str, trust: Path, pki: test_pki.TestPki) -> None:
    breakage, said = BROKEN[case]
    breakage(trust, pki)
    with pytest.raises(TrustError) as refused:
        load_trust(trust)
    assert said in str(refused.value)
    assert str(trust) in str(refused.value)  # the whole path: the operator knows which directory


def test_a_pem_crl_is_accepted_and_packaged_as_der(trust: Path, pki: test_pki.TestPki) -> None:
    crl = x509.load_der_x509_crl(pki.root_crl_path.read_bytes())
    (trust / "crl" / "national-root.crl").write_bytes(crl.public_bytes(Encoding.PEM))
    assert load_trust(trust).package_files()["crl/national-root.crl"] == pki.root_crl_path.read_bytes()


def test_an_encrypted_signing_key_needs_its_passphrase(pki: test_pki.TestPki, tmp_path: Path) -> None:
    key = pki.commission_private_key()
    path = tmp_path / "key.pem"
    path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, BestAvailableEncryption(b"TEST pass")))
    assert read_signing_key(path, lambda: b"TEST pass").public_key() == key.public_key()
    with pytest.raises(TrustError, match="encrypted and no passphrase was given"):
        read_signing_key(path)
    with pytest.raises(TrustError, match="wrong passphrase"):
        read_signing_key(path, lambda: b"guess")
    asked: list[str] = []

    def ask() -> bytes:
        asked.append("asked")
        return b""

    read_signing_key(pki.commission_key_path, ask)
    assert not asked  # an unencrypted key asks for nothing

"""One CRL reloader for the office's three CRLs (``central.auth.CrlFile``: the staff CA's, the kiosk CA's and the
national root's): a CRL replaced on disk is what the next read sees, without a restart; a corrupt or foreign
replacement keeps the last good CRL and says why, naming the file; with no good version yet there is no CRL (the
callers refuse everyone); the staff CA's CRL, read at start-up, stops the office with a clear error."""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from central.auth import CrlFile, CrlRefused
from central.config import CentralConfig
from central.office import Office
from devtools.kiosksim import Election
from devtools.test_pki import x509_build as xb

NOW = dt.datetime(2027, 10, 24, 3, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
CORRUPT = b"-----BEGIN X509 CRL-----\nbm90IGEgQ1JM\n-----END X509 CRL-----\n"


def _ca(common_name: str) -> xb.Issuer:
    key = xb.new_key()
    cert = xb.ca_certificate(xb.name((NameOID.COMMON_NAME, common_name)), key, None, NOW - DAY, NOW + 30 * DAY, 0)
    return xb.Issuer(cert, key)


def _write(path: Path, issuer: xb.Issuer, serials: list[int], number: int, *, pem: bool = False) -> None:
    crl = xb.make_crl(issuer, serials, NOW - DAY, NOW + 7 * DAY, number)
    path.write_bytes(crl.public_bytes(Encoding.PEM if pem else Encoding.DER))


def _signed_by(ca: xb.Issuer) -> Callable[[x509.CertificateRevocationList], None]:
    def accept(crl: x509.CertificateRevocationList) -> None:
        if crl.issuer != ca.cert.subject or not crl.is_signature_valid(ca.key.public_key()):
            raise ValueError("the CRL is not signed by the kiosk CA")

    return accept


def _revoked(crl: x509.CertificateRevocationList | None) -> list[int]:
    assert crl is not None
    return sorted(r.serial_number for r in crl)


@pytest.fixture
def ca() -> xb.Issuer:
    return _ca("Test kiosk CA")


def test_a_crl_replaced_on_disk_is_the_one_the_next_read_sees(ca: xb.Issuer, tmp_path: Path) -> None:
    path = tmp_path / "kiosk.crl"
    _write(path, ca, [], 1)
    crls = CrlFile(path, "kiosk CRL", _signed_by(ca))
    assert _revoked(crls.current()) == []
    _write(path, ca, [101], 2, pem=True)  # the operator drops in a new CRL, PEM this time
    assert _revoked(crls.current()) == [101]
    _write(path, ca, [101, 102], 3)
    assert _revoked(crls.current()) == [101, 102]
    assert crls.current() is crls.current()  # an unchanged file is not parsed again


def test_a_corrupt_replacement_keeps_the_last_good_crl_and_says_why(
    ca: xb.Issuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "kiosk.crl"
    _write(path, ca, [7], 1)
    crls = CrlFile(path, "kiosk CRL", _signed_by(ca))
    assert _revoked(crls.current()) == [7]
    path.write_bytes(CORRUPT)
    with caplog.at_level(logging.ERROR, logger="central.auth"):
        assert _revoked(crls.current()) == [7]  # a revoked kiosk stays revoked
    assert f"kiosk CRL refused, keeping the last good one: {path}: not a certificate revocation list" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.ERROR, logger="central.auth"):
        assert _revoked(crls.current()) == [7]
    assert caplog.text == ""  # said once per version of the file, not at every request
    _write(path, ca, [7, 8], 2)
    assert _revoked(crls.current()) == [7, 8]  # once mended, the new CRL counts


def test_a_crl_of_another_issuer_is_refused_like_a_corrupt_one(
    ca: xb.Issuer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "kiosk.crl"
    _write(path, ca, [], 1)
    crls = CrlFile(path, "kiosk CRL", _signed_by(ca))
    assert _revoked(crls.current()) == []
    _write(path, _ca("Some other CA"), [5, 6], 9)
    with caplog.at_level(logging.ERROR, logger="central.auth"):
        assert _revoked(crls.current()) == []
    assert f"{path}: the CRL is not signed by the kiosk CA" in caplog.text


def test_with_no_good_version_yet_there_is_no_crl_and_load_says_why(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "staff.crl"
    path.write_bytes(b"not a CRL at all")
    crls = CrlFile(path, "staff CRL")
    with caplog.at_level(logging.ERROR, logger="central.auth"):
        assert crls.current() is None  # the callers then refuse every card or kiosk
    assert "staff CRL refused" in caplog.text
    with pytest.raises(CrlRefused, match=rf"^{re.escape(str(path))}: not a certificate revocation list \("):
        crls.load()
    missing = CrlFile(tmp_path / "missing.crl", "national root CRL")
    with caplog.at_level(logging.ERROR, logger="central.auth"):
        assert missing.current() is None
    assert f"national root CRL {tmp_path / 'missing.crl'} cannot be read" in caplog.text
    with pytest.raises(FileNotFoundError):
        missing.load()


def _config(
    election: Election, tmp_path: Path, *, staff_crl: Path | None = None, kiosk_crl: Path | None = None
) -> CentralConfig:
    return CentralConfig(
        database_url=f"sqlite:///{tmp_path / 'unused.db'}",
        election_dir=election.root / "election",
        record_dir=tmp_path / "record",
        staff_ca=election.pki.staff_ca.cert_path,
        kiosk_ca=election.pki.kiosk_ca.cert_path,
        staff_crl=staff_crl,
        kiosk_crl=kiosk_crl,
    )


def test_the_office_does_not_start_on_a_corrupt_staff_crl(election: Election, tmp_path: Path) -> None:
    path = tmp_path / "staff-ca.crl"
    path.write_bytes(CORRUPT)
    with pytest.raises(CrlRefused, match=rf"^{re.escape(str(path))}: not a certificate revocation list"):
        Office.open(_config(election, tmp_path, staff_crl=path))
    _write(path, _ca("Not the staff CA"), [], 1)
    with pytest.raises(CrlRefused, match=rf"^{re.escape(str(path))}: the CRL is not issued by the staff CA$"):
        Office.open(_config(election, tmp_path, staff_crl=path))


def test_a_corrupt_kiosk_crl_at_start_refuses_kiosks_instead_of_stopping_the_office(
    election: Election, tmp_path: Path
) -> None:
    path = tmp_path / "kiosk-ca.crl"
    path.write_bytes(CORRUPT)
    office = Office.open(_config(election, tmp_path, kiosk_crl=path))
    try:
        assert office.kiosk_crl is not None and office.kiosk_crl.current() is None  # every kiosk is refused
        ca = election.pki.kiosk_ca
        listed = next(iter(election.pki.kiosks.values())).cert().serial_number
        _write(path, xb.Issuer(ca.cert(), ca.key()), [listed], 2)
        assert _revoked(office.kiosk_crl.current()) == [listed]  # mended on disk: read at the next request
    finally:
        office.close()

"""Staff login checks the national root's CRL for the staff CA, as the kiosk checks every level of a card's path
(``[server] national_root`` and ``national_root_crl``): with the root's current CRL a staff card logs in; once the
root revokes the staff CA (a new CRL file, no restart) the card's session ends at its next request and every login
is refused with a clear 401 and an audit entry; a stale root CRL or one the root did not sign refuses every card."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from sqlalchemy import select

from central.api import create_app
from central.config import ConfigError, parse_config
from central.models import AuditEntry
from central.office import Office
from devtools.central_office import Clock, make_office
from devtools.kiosksim import Election, client_for
from devtools.test_pki import TestPki
from devtools.test_pki import x509_build as xb
from tests.central.staffsim import attempt_login

DAY = dt.timedelta(days=1)


def _root_crl(pki: TestPki, now: dt.datetime, *, revoke_staff_ca: bool = False, stale: bool = False, number: int = 2,
              signer: str = "national_root") -> x509.CertificateRevocationList:  # fmt: skip
    pair = pki.national_root if signer == "national_root" else pki.staff_ca
    serials = [pki.staff_ca.cert().serial_number] if revoke_staff_ca else []
    this, until = (now - 9 * DAY, now - 2 * DAY) if stale else (now - DAY, now + 7 * DAY)
    return xb.make_crl(xb.Issuer(pair.cert(), pair.key()), serials, this, until, number)


@pytest.fixture(scope="module")
def base(election: Election, pg_database: str, tmp_path_factory: pytest.TempPathFactory, clock: Clock) -> Office:
    office = make_office(election, pg_database, tmp_path_factory.mktemp("record"), clock, workers=0)
    office.close()
    return office


@pytest.fixture
def office_on(base: Office, election: Election, clock: Clock) -> Iterator[object]:
    opened: list[Office] = []

    def open_with(crl_file: Path) -> Office:
        config = dataclasses.replace(
            base.config, national_root=election.pki.national_root.cert_path, national_root_crl=crl_file
        )
        office = Office.open(config, clock=clock)
        opened.append(office)
        return office

    yield open_with
    for office in opened:
        office.close()


def _audit(office: Office, action: str) -> list[AuditEntry]:
    with office.db.transaction() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.seq)))


def test_a_staff_ca_revoked_by_the_national_root_refuses_its_cards(
    election: Election, office_on, clock: Clock, tmp_path: Path
) -> None:
    crl_file = tmp_path / "national-root.crl"
    crl_file.write_bytes(_root_crl(election.pki, clock.now).public_bytes(Encoding.DER))
    office = office_on(crl_file)
    http = client_for(create_app(office), None)

    ok = attempt_login(http, election.pki, "staff-cm-1")
    assert ok.status_code == 200, ok.text
    token = {"Authorization": f"Bearer {ok.json()['token']}"}
    assert http.get("/api/audit", headers=token).status_code == 200

    # The root revokes the staff CA: a new CRL file, picked up at the next request (no restart).
    revoked = _root_crl(election.pki, clock.now, revoke_staff_ca=True, number=3)
    crl_file.write_bytes(revoked.public_bytes(Encoding.PEM))
    ended = http.get("/api/audit", headers=token)
    assert ended.status_code == 401
    assert ended.json()["detail"] == "the election staff CA is revoked by the national root"
    assert any("revoked by the national root" in e.details["reason"] for e in _audit(office, "staff.session_revoked"))

    refused = attempt_login(http, election.pki, "staff-admin-1")
    assert refused.status_code == 401
    assert refused.json()["detail"] == "the election staff CA is revoked by the national root"
    reasons = [r for e in _audit(office, "staff.login_refused") for r in e.details["reasons"]]
    assert "the election staff CA is revoked by the national root" in reasons


@pytest.mark.parametrize(
    ("kind", "detail"),
    [
        ("stale", "the national root's CRL does not cover the election staff CA: no current CRL of its issuer"),
        ("not-the-roots", "the national root's CRL cannot be read: no staff card is accepted"),
        ("garbage", "the national root's CRL cannot be read: no staff card is accepted"),
    ],
)
def test_without_a_current_root_crl_no_staff_card_logs_in(
    election: Election, office_on, clock: Clock, tmp_path: Path, kind: str, detail: str
) -> None:
    crl_file = tmp_path / "national-root.crl"
    if kind == "garbage":
        crl_file.write_bytes(b"not a CRL")
    else:
        crl = _root_crl(
            election.pki, clock.now, stale=kind == "stale", signer="staff_ca" if kind != "stale" else "national_root"
        )
        crl_file.write_bytes(crl.public_bytes(Encoding.DER))
    http = client_for(create_app(office_on(crl_file)), None)
    refused = attempt_login(http, election.pki, "staff-cm-1")
    assert refused.status_code == 401
    assert refused.json()["detail"].startswith(detail)


def test_the_root_and_its_crl_are_configured_together(tmp_path: Path) -> None:
    data = {"database": {"url": "sqlite:///x.db"}, "election": {"dir": "e"}, "ingest": {"workers": 0}}
    for server in ({"national_root": "root.pem"}, {"national_root_crl": "root.crl"}):
        with pytest.raises(ConfigError, match="give both"):
            parse_config({**data, "server": server}, base=tmp_path)
    config = parse_config(
        {**data, "server": {"national_root": "root.pem", "national_root_crl": "root.crl"}}, base=tmp_path
    )
    assert config.national_root == tmp_path / "root.pem" and config.national_root_crl == tmp_path / "root.crl"

"""The test PKI looks like a national eID PKI and gives every consumer what it needs."""

from __future__ import annotations

import datetime as dt
import json
import socket
import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtensionOID, NameOID

from devtools import test_pki
from devtools.test_pki import BadKind, StaffRole

NOW = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> test_pki.TestPki:
    out = tmp_path_factory.mktemp("pki") / "test-pki"
    voters = test_pki.synthetic_voters(4, NOW)
    return test_pki.generate(out, voters, ["kiosk-001"], now=NOW, revoke=[voters[3].civil_number])


def test_voter_certificate_is_shaped_like_a_national_eid_certificate(pki: test_pki.TestPki) -> None:
    card = pki.voters["10000001"]
    cert = card.auth.cert()
    subject = cert.subject
    assert subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "10000001"
    assert subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == card.identity.name_en
    given = str(subject.get_attributes_for_oid(NameOID.GIVEN_NAME)[0].value)
    surname = str(subject.get_attributes_for_oid(NameOID.SURNAME)[0].value)
    assert f"{given} {surname}" == card.identity.name_ar
    with pytest.raises(x509.ExtensionNotFound):
        cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and not usage.key_encipherment
    cert.verify_directly_issued_by(pki.card_ca.cert())
    pki.card_ca.cert().verify_directly_issued_by(pki.national_root.cert())


def test_private_key_matches_certificate_and_files_say_test(pki: test_pki.TestPki) -> None:
    card = pki.voters["10000002"]
    assert card.auth.key().public_key() == card.auth.cert().public_key()
    assert card.auth.key_path.name == "auth-key.TEST.pem"
    assert "TEST MATERIAL" in (pki.out_dir / "README.txt").read_text()
    assert json.loads(card.card_json.read_text())["pin"] == "1234"


def test_staff_cards_carry_their_role_and_come_from_the_staff_ca(pki: test_pki.TestPki) -> None:
    roles = {files.role for files in pki.staff.values()}
    assert roles == set(StaffRole)
    admin = pki.staff["staff-admin-1"].auth.cert()
    policies = admin.extensions.get_extension_for_class(x509.CertificatePolicies).value
    assert [StaffRole.from_policy_oid(p.policy_identifier) for p in policies] == [StaffRole.ADMINISTRATOR]
    admin.verify_directly_issued_by(pki.staff_ca.cert())


def test_bad_cards_are_bad_in_their_own_way(pki: test_pki.TestPki) -> None:
    assert set(pki.bad) == set(BadKind)
    expired = pki.bad[BadKind.EXPIRED].auth.cert()
    assert expired.not_valid_after_utc < NOW
    assert pki.bad[BadKind.NOT_YET_VALID].auth.cert().not_valid_before_utc > NOW
    rogue = pki.bad[BadKind.UNKNOWN_ISSUER].auth.cert()
    assert rogue.issuer == pki.card_ca.cert().subject  # same name, different key
    with pytest.raises(Exception):  # noqa: B017 - InvalidSignature
        rogue.verify_directly_issued_by(pki.card_ca.cert())
    wrong = pki.bad[BadKind.WRONG_KEY_USAGE].auth.cert().extensions.get_extension_for_class(x509.KeyUsage).value
    assert wrong.key_encipherment and not wrong.digital_signature


def test_crl_revokes_the_revoked_cards_and_a_stale_crl_exists(pki: test_pki.TestPki) -> None:
    crl, staff_crl, root_crl = pki.crls()
    assert root_crl.is_signature_valid(pki.national_root.key().public_key())  # covers the CAs (every level)
    assert crl.is_signature_valid(pki.card_ca.key().public_key())
    assert staff_crl.is_signature_valid(pki.staff_ca.key().public_key())
    revoked = pki.bad[BadKind.REVOKED].auth.cert()
    assert crl.get_revoked_certificate_by_serial_number(revoked.serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(pki.voters["10000004"].auth.cert().serial_number) is not None
    assert crl.get_revoked_certificate_by_serial_number(pki.voters["10000001"].auth.cert().serial_number) is None
    assert crl.next_update_utc is not None and crl.next_update_utc > NOW
    stale = pki.stale_crls()[0]
    assert stale.next_update_utc is not None and stale.next_update_utc < NOW
    assert set(pki.revoked_civil_numbers) == {"10000004", pki.bad[BadKind.REVOKED].identity.civil_number}


def test_load_round_trips_and_finds_cards_by_any_reference(pki: test_pki.TestPki) -> None:
    again = test_pki.load(pki.out_dir)
    assert again == pki
    assert again.card("staff-pw-1").role is StaffRole.POLL_WORKER
    assert again.card("bad/revoked").bad_kind is BadKind.REVOKED
    assert again.card(pki.staff["staff-cm-1"].identity.civil_number).role is StaffRole.COMMITTEE_MEMBER
    with pytest.raises(KeyError):
        again.card("12345")


def test_commission_key_signs_and_verifies(pki: test_pki.TestPki) -> None:
    signature = pki.commission_private_key().sign(b"election package")
    pki.commission_public_key().verify(signature, b"election package")


def test_kiosk_and_central_certificates_work_for_mutual_tls(pki: test_pki.TestPki) -> None:
    """A real TLS handshake on loopback: the server checks the kiosk, the kiosk checks "localhost"."""
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(pki.kiosk_ca.cert_path))
    server_ctx.verify_mode = ssl.CERT_REQUIRED
    server_ctx.load_cert_chain(pki.central_server.cert_path, pki.central_server.key_path)
    client_ctx = ssl.create_default_context(cafile=str(pki.out_dir / "central/ca.pem"))
    kiosk = pki.kiosks["kiosk-001"]
    client_ctx.load_cert_chain(kiosk.cert_path, kiosk.key_path)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    seen: list[str] = []

    def serve() -> None:
        conn, _ = listener.accept()
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            peer: Any = tls.getpeercert()
            seen.append(dict(x[0] for x in peer["subject"])["commonName"])
            tls.sendall(b"ok")

    thread = threading.Thread(target=serve)
    thread.start()
    with (
        socket.create_connection(("127.0.0.1", port)) as raw,
        client_ctx.wrap_socket(raw, server_hostname="localhost") as tls,
    ):
        assert tls.recv(2) == b"ok"
    thread.join(5)
    listener.close()
    assert seen == ["kiosk-001"]


def test_roll_csv_with_extra_columns_is_read(tmp_path: Path) -> None:
    roll = tmp_path / "roll.csv"
    roll.write_text(
        "civil_number,wilayat,eligible,name_ar,name_en,birth_date,centre\n"
        "12345678,muscat,true,سالم الحارثي,Salim Al Harthy,1980-05-01,C1\n",
        encoding="utf-8",
    )
    (voter,) = test_pki.voters_from_roll(roll, NOW)
    assert (voter.civil_number, voter.name_en, voter.birth_date) == ("12345678", "Salim Al Harthy", dt.date(1980, 5, 1))


def test_roll_csv_without_required_column_is_refused(tmp_path: Path) -> None:
    roll = tmp_path / "roll.csv"
    roll.write_text("civil_number,name_en\n1,x\n", encoding="utf-8")
    with pytest.raises(test_pki.RollFormatError, match="name_ar"):
        test_pki.voters_from_roll(roll, NOW)


def test_rsa_card_keys_are_supported(tmp_path: Path) -> None:
    pki = test_pki.generate(tmp_path / "rsa", test_pki.synthetic_voters(1, NOW), [], now=NOW, algorithm="rsa-2048")
    assert pki.voters["10000001"].auth.cert().public_key().key_size == 2048  # type: ignore[union-attr]


def test_tests_can_issue_their_own_crls(pki: test_pki.TestPki) -> None:
    hour = dt.timedelta(hours=1)
    crl = test_pki.issue_crl(pki, this_update=NOW - 2 * hour, next_update=NOW - hour, revoke=["10000001"])
    assert crl.is_signature_valid(pki.card_ca.key().public_key())
    assert crl.get_revoked_certificate_by_serial_number(pki.voters["10000001"].auth.cert().serial_number)
    staff = test_pki.issue_crl(pki, this_update=NOW, next_update=NOW + hour, revoke=["staff-pw-1"], issuer="staff_ca")
    assert staff.issuer == pki.staff_ca.cert().subject

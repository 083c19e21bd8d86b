"""Staff roles come only from a CA asserting a staff-CA policy of the trust configuration, one role per card;
and the CRL serial index used for speed gives pyhanko's own answers."""

from __future__ import annotations

import pytest
from asn1crypto import crl as asn1_crl  # type: ignore[import-untyped]
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from kiosk.card import trust as pki
from kiosk.card.pki import CertificateAccepted, check_certificate_der
from kiosk.card.results import AuthFailure, FailureReason
from sync.staff_roles import STAFF_CA_POLICY_OID, TEST_EID_AUTH_POLICY_OID, StaffRole
from tests.pki.builder import NOW, CertSpec, CrlSpec, Spec, build


def _policies(*oids: str) -> tuple[x509.ExtensionType, bool]:
    return x509.CertificatePolicies([x509.PolicyInformation(x509.ObjectIdentifier(o), None) for o in oids]), False


def _staff_spec(*card_policies: str, ca_policy: str = STAFF_CA_POLICY_OID) -> Spec:
    return Spec(ca=CertSpec(extra=[_policies(ca_policy)]), card_policies=card_policies)


@pytest.mark.parametrize("role", list(StaffRole))
def test_a_staff_ca_gives_the_cards_one_role(role: StaffRole) -> None:
    built = build(_staff_spec(role.policy_oid_dotted))
    result = check_certificate_der(built.card_der, built.anchors, NOW)
    assert isinstance(result, CertificateAccepted) and result.role is role


@pytest.mark.parametrize(
    ("spec", "detail"),
    [
        (lambda: _staff_spec(TEST_EID_AUTH_POLICY_OID), "exactly one role"),
        (
            lambda: _staff_spec(StaffRole.POLL_WORKER.policy_oid_dotted, StaffRole.ADMINISTRATOR.policy_oid_dotted),
            "exactly one role",
        ),
        # A role policy in a card whose CA does not assert the staff-CA policy (e.g. the citizen CA, or a CA
        # that merely calls itself "Staff" in its name) is refused, not silently demoted to a voter.
        (lambda: Spec(card_policies=(StaffRole.ADMINISTRATOR.policy_oid_dotted,)), "not authorised"),
        (lambda: _staff_spec(StaffRole.ADMINISTRATOR.policy_oid_dotted, ca_policy="1.2.3.4"), "not authorised"),
    ],
)
def test_staff_role_refusals(spec, detail: str) -> None:
    built = build(spec())
    result = check_certificate_der(built.card_der, built.anchors, NOW)
    assert isinstance(result, AuthFailure) and result.reason is FailureReason.UNTRUSTED
    assert detail in result.detail


def test_a_ca_named_staff_is_not_a_staff_ca() -> None:
    from cryptography.x509.oid import NameOID

    from tests.pki.builder import name

    staff_name = name((NameOID.COUNTRY_NAME, "OM"), (NameOID.COMMON_NAME, "Election Staff CA"))
    built = build(Spec(ca=CertSpec(subject=staff_name)))
    result = check_certificate_der(built.card_der, built.anchors, NOW)
    assert isinstance(result, CertificateAccepted) and result.role is None


def test_the_serial_index_answers_like_pyhanko_on_a_large_crl() -> None:
    revoked_many = CrlSpec("ca", revoked=["card"])
    built = build(Spec(crls=[CrlSpec("root"), revoked_many]))
    revoked = check_certificate_der(built.card_der, built.anchors, NOW)
    assert isinstance(revoked, AuthFailure) and revoked.reason is FailureReason.REVOKED
    # The same lookups with and without the index, on a CRL that lists the card and one that does not.
    card = asn1_x509.Certificate.load(built.card_der)
    listing = asn1_crl.CertificateList.load(built.crls[1].public_bytes(Encoding.DER))
    other = asn1_crl.CertificateList.load(build(Spec()).crls[1].public_bytes(Encoding.DER))
    pki._SERIAL_INDEX[listing] = frozenset({card.serial_number})
    pki._SERIAL_INDEX[other] = frozenset()
    for crl in (listing, other):
        args = (card, card.issuer, crl, crl["tbs_cert_list"]["issuer"])
        assert pki._indexed_find_cert_in_list(*args) == pki._original_find_cert_in_list(*args)
    assert pki._indexed_find_cert_in_list(card, card.issuer, listing, listing["tbs_cert_list"]["issuer"])[0] is not None
    from pyhanko_certvalidator.revinfo import validate_crl

    assert validate_crl.find_cert_in_list is pki._indexed_find_cert_in_list  # installed (pinned pyhanko 0.33.0)


def test_the_signature_memo_never_accepts_other_bytes_under_a_known_signature() -> None:
    """The memo of CRL signatures (large CRLs are verified once per package) compares the data in full: a CRL
    whose entries were altered after its genuine signature was seen is still refused."""
    import dataclasses

    from cryptography.exceptions import InvalidSignature

    built = build(Spec(crls=[CrlSpec("root"), dataclasses.replace(CrlSpec("ca"), revoked=["card"])]))
    crl = asn1_crl.CertificateList.load(built.crls[1].public_bytes(Encoding.DER))
    ca = asn1_x509.Certificate.load(built.cas[0].public_bytes(Encoding.DER))
    memo = pki._MemoisingSignatureValidator()
    memo.MIN_BYTES = 0  # memoise even this small CRL
    signed = crl["tbs_cert_list"].dump()
    args = (crl["signature"].native, ca.public_key, crl["signature_algorithm"])
    memo.validate_signature(args[0], signed, args[1], args[2])  # genuine: verified, then remembered
    memo.validate_signature(args[0], signed, args[1], args[2])  # remembered
    altered = signed[:-1] + bytes([signed[-1] ^ 1])
    with pytest.raises(InvalidSignature):
        memo.validate_signature(args[0], altered, args[1], args[2])


def test_the_check_also_runs_inside_an_event_loop() -> None:
    """pyhanko is asynchronous; the kiosk's check is synchronous and must work from a thread running a loop."""
    import asyncio

    built = build(Spec())

    async def inside() -> object:
        return check_certificate_der(built.card_der, built.anchors, NOW)

    assert isinstance(asyncio.run(inside()), CertificateAccepted)

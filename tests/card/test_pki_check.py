"""The kiosk-side PKI check refuses every bad card with its own reason and accepts good ones."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from devtools import test_pki
from devtools.test_pki import BadKind
from kiosk.card.identity import CardIdentity
from kiosk.card.pki import (
    CertificateAccepted,
    TrustAnchors,
    TrustPolicy,
    check_certificate,
    check_identity,
    check_signature,
    new_challenge,
)
from kiosk.card.profile import EcdsaFormat, load_named_profile
from kiosk.card.results import AuthFailure, FailureReason
from sync.staff_roles import StaffRole

NOW = dt.datetime(2026, 10, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> test_pki.TestPki:
    voters = test_pki.synthetic_voters(3, NOW)
    return test_pki.generate(tmp_path_factory.mktemp("pki") / "p", voters, [], now=NOW, revoke=["10000003"])


@pytest.fixture(scope="module")
def anchors(pki: test_pki.TestPki) -> TrustAnchors:
    return TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls())


def _reason(result: CertificateAccepted | AuthFailure) -> FailureReason | None:
    return result.reason if isinstance(result, AuthFailure) else None


def test_good_voter_certificate_is_accepted_as_a_voter(pki, anchors) -> None:
    result = check_certificate(pki.voters["10000001"].auth.cert(), anchors, NOW)
    assert isinstance(result, CertificateAccepted)
    assert result.role is None


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        (BadKind.EXPIRED, FailureReason.EXPIRED),
        (BadKind.NOT_YET_VALID, FailureReason.NOT_YET_VALID),
        (BadKind.UNKNOWN_ISSUER, FailureReason.UNTRUSTED),
        (BadKind.SELF_SIGNED, FailureReason.UNTRUSTED),
        (BadKind.REVOKED, FailureReason.REVOKED),
        (BadKind.WRONG_KEY_USAGE, FailureReason.WRONG_KEY_USAGE),
    ],
)
def test_each_bad_card_is_refused_with_its_reason(pki, anchors, kind: BadKind, reason: FailureReason) -> None:
    result = check_certificate(pki.bad[kind].auth.cert(), anchors, NOW)
    assert _reason(result) is reason


def test_unknown_issuer_and_self_signed_say_why_in_the_detail(pki, anchors) -> None:
    rogue = check_certificate(pki.bad[BadKind.UNKNOWN_ISSUER].auth.cert(), anchors, NOW)
    selfsigned = check_certificate(pki.bad[BadKind.SELF_SIGNED].auth.cert(), anchors, NOW)
    assert isinstance(rogue, AuthFailure) and "trusted root" in rogue.detail
    assert isinstance(selfsigned, AuthFailure) and "self-signed" in selfsigned.detail


def test_revoked_voter_from_the_roll_is_refused(pki, anchors) -> None:
    assert _reason(check_certificate(pki.voters["10000003"].auth.cert(), anchors, NOW)) is FailureReason.REVOKED


def test_stale_or_missing_crl_fails_closed(pki, anchors) -> None:
    good = pki.voters["10000001"].auth.cert()
    stale = TrustAnchors(anchors.roots, anchors.intermediates, pki.stale_crls(), anchors.policy)
    assert _reason(check_certificate(good, stale, NOW)) is FailureReason.REVOCATION_STALE
    none = TrustAnchors(anchors.roots, anchors.intermediates, [], anchors.policy)
    assert _reason(check_certificate(good, none, NOW)) is FailureReason.REVOCATION_STALE
    later = NOW + dt.timedelta(days=8)  # the current CRL's nextUpdate is now + 7 days
    assert _reason(check_certificate(good, anchors, later)) is FailureReason.REVOCATION_STALE


def test_crl_signed_by_another_key_is_ignored(pki, anchors) -> None:
    """A CRL that names the card CA but is signed by the rogue CA does not count as revocation data."""
    from devtools.test_pki import x509_build as xb

    rogue_key = xb.new_key()
    fake = xb.make_crl(xb.Issuer(pki.card_ca.cert(), rogue_key), [], NOW, NOW + dt.timedelta(days=1), 9)
    forged = TrustAnchors(anchors.roots, anchors.intermediates, [fake], anchors.policy)
    assert _reason(check_certificate(pki.voters["10000001"].auth.cert(), forged, NOW)) is FailureReason.REVOCATION_STALE


def test_untrusted_when_the_root_is_not_in_the_package(pki, anchors) -> None:
    other_election = TrustAnchors([pki.rogue_root.cert()], anchors.intermediates, anchors.crls)
    assert (
        _reason(check_certificate(pki.voters["10000001"].auth.cert(), other_election, NOW)) is FailureReason.UNTRUSTED
    )


@pytest.mark.parametrize("staff_id", ["staff-pw-1", "staff-cm-1", "staff-admin-1"])
def test_staff_cards_are_recognised_with_their_role(pki, anchors, staff_id: str) -> None:
    result = check_certificate(pki.staff[staff_id].auth.cert(), anchors, NOW)
    assert isinstance(result, CertificateAccepted)
    assert result.role is pki.staff[staff_id].role


def test_staff_role_is_not_accepted_from_a_ca_not_listed_as_staff_issuer(pki, anchors) -> None:
    """The staff CA is a staff CA by the policy OID the package's trust configuration lists, not by its name:
    with another staff-CA policy configured, a staff card's role comes from a CA not authorised for it."""
    not_staff = TrustAnchors(anchors.roots, anchors.intermediates, anchors.crls, TrustPolicy(frozenset({"1.2.3.4"})))
    result = check_certificate(pki.staff["staff-admin-1"].auth.cert(), not_staff, NOW)
    assert isinstance(result, AuthFailure) and result.reason is FailureReason.UNTRUSTED
    assert "not authorised" in result.detail
    assert StaffRole.ADMINISTRATOR.policy_oid.dotted_string.startswith("2.25.")


def _identity(files: test_pki.CardFiles) -> CardIdentity:
    i = files.identity
    return CardIdentity(i.civil_number, i.name_en, i.name_ar, i.birth_date, i.card_expiry)


def test_identity_cross_check(pki) -> None:
    rules = load_named_profile("oman_ias").certificate
    files = pki.voters["10000001"]
    accepted = check_certificate(
        files.auth.cert(), TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls()), NOW
    )
    assert isinstance(accepted, CertificateAccepted)
    cert = accepted
    assert check_identity(cert, _identity(files), rules) is None
    other = _identity(pki.voters["10000002"])
    mismatch = check_identity(cert, other, rules)
    assert mismatch is not None and mismatch.reason is FailureReason.IDENTITY_MISMATCH
    wrong_ar = CardIdentity(files.identity.civil_number, files.identity.name_en, "اسم آخر", dt.date(2000, 1, 1), None)
    assert check_identity(cert, wrong_ar, rules) is not None


def test_signature_over_the_challenge(pki) -> None:
    files = pki.voters["10000001"]
    key = files.auth.key()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    challenge = new_challenge("kiosk-001", "shura-2027", NOW, lambda n: bytes(range(n)))
    r, s = decode_dss_signature(key.sign(challenge.digest, ec.ECDSA(Prehashed(hashes.SHA256()))))
    raw = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    assert check_signature(files.auth.cert(), challenge, raw, EcdsaFormat.RAW) is None
    replay = new_challenge("kiosk-002", "shura-2027", NOW, lambda n: bytes(range(n)))
    bad = check_signature(files.auth.cert(), replay, raw, EcdsaFormat.RAW)
    assert bad is not None and bad.reason is FailureReason.BAD_SIGNATURE
    assert check_signature(files.auth.cert(), challenge, raw[:-1], EcdsaFormat.RAW) is not None


def test_challenge_binds_kiosk_election_and_time() -> None:
    rng = lambda n: b"\x07" * n  # noqa: E731
    base = new_challenge("k1", "e1", NOW, rng)
    assert base.digest != new_challenge("k2", "e1", NOW, rng).digest
    assert base.digest != new_challenge("k1", "e2", NOW, rng).digest
    assert base.digest != new_challenge("k1", "e1", NOW + dt.timedelta(seconds=1), rng).digest
    assert base.digest == hashlib.sha256(base.message).digest()


def test_rsa_cards_verify_too(tmp_path: Path) -> None:
    pki = test_pki.generate(tmp_path / "rsa", test_pki.synthetic_voters(1, NOW), [], now=NOW, algorithm="rsa-2048")
    files = pki.voters["10000001"]
    anchors = TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls())
    assert isinstance(check_certificate(files.auth.cert(), anchors, NOW), CertificateAccepted)
    challenge = new_challenge("k", "e", NOW, lambda n: b"\x01" * n)
    key = files.auth.key()
    signature = key.sign(challenge.digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))  # type: ignore[call-arg, arg-type]
    assert check_signature(files.auth.cert(), challenge, signature, EcdsaFormat.RAW) is None

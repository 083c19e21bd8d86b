"""End-to-end card sessions against the virtual card in process (no pcscd), for both profiles."""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets

import pytest

from devtools import test_pki
from devtools.test_pki import BadKind
from devtools.virtual_card.card import CardMode, VirtualCard
from kiosk.card.pki import TrustAnchors
from kiosk.card.profile import CardProfile, EcdsaFormat, SigningMethod, load_named_profile
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.session import Authenticated, CardAuthenticator, CardRead
from sync.staff_roles import StaffRole

from .fakes import VirtualCardChannel

PROFILES = ["oman_ias", "belpic"]


def authenticator(profile: CardProfile, anchors: TrustAnchors) -> CardAuthenticator:
    return CardAuthenticator(
        profile, anchors, "kiosk-001", "shura-2027", lambda: dt.datetime.now(dt.UTC), secrets.token_bytes
    )


def run(auth: CardAuthenticator, channel: VirtualCardChannel, pin: str = "1234") -> Authenticated | AuthFailure:
    read = auth.read(channel)
    if isinstance(read, AuthFailure):
        return read
    return auth.authenticate(channel, read, pin)


@pytest.mark.parametrize("profile_name", PROFILES)
def test_good_voter_authenticates(card_pki: test_pki.TestPki, card_anchors, profile_name: str) -> None:
    profile = load_named_profile(profile_name)
    card = VirtualCard.from_files(card_pki.voters["10000001"], profile)
    result = run(authenticator(profile, card_anchors), VirtualCardChannel(card))
    assert isinstance(result, Authenticated), result
    assert result.identity.civil_number == "10000001"
    assert result.role is None
    if profile_name == "oman_ias":
        assert result.identity.name_ar == card_pki.voters["10000001"].identity.name_ar


def test_staff_card_authenticates_with_its_role(card_pki, card_anchors) -> None:
    profile = load_named_profile("oman_ias")
    card = VirtualCard.from_files(card_pki.staff["staff-cm-1"], profile)
    result = run(authenticator(profile, card_anchors), VirtualCardChannel(card))
    assert isinstance(result, Authenticated)
    assert result.role is StaffRole.COMMITTEE_MEMBER


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
def test_bad_cards_are_refused_before_the_pin_is_asked(card_pki, card_anchors, kind, reason) -> None:
    profile = load_named_profile("oman_ias")
    card = VirtualCard.from_files(card_pki.bad[kind], profile)
    result = authenticator(profile, card_anchors).read(VirtualCardChannel(card))
    assert isinstance(result, AuthFailure) and result.reason is reason
    assert card.state.tries_left == profile.pin.max_tries


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        (CardMode.GARBLED_TLV, FailureReason.CARD_ERROR),
        (CardMode.UNEXPECTED_SW, FailureReason.CARD_ERROR),
        (CardMode.TRUNCATED, FailureReason.MALFORMED_CERTIFICATE),
        (CardMode.WRONG_KEY, FailureReason.BAD_SIGNATURE),
        (CardMode.SWAPPED_CERT, FailureReason.IDENTITY_MISMATCH),
        (CardMode.UNSUPPORTED, FailureReason.UNSUPPORTED_CARD),
    ],
)
def test_misbehaving_cards_are_refused_cleanly(card_pki, card_anchors, mode: CardMode, reason) -> None:
    profile = load_named_profile("oman_ias")
    other = card_pki.voters["10000002"]
    card = VirtualCard.from_files(card_pki.voters["10000001"], profile, mode, other)
    result = run(authenticator(profile, card_anchors), VirtualCardChannel(card))
    assert isinstance(result, AuthFailure) and result.reason is reason, result


@pytest.mark.parametrize("profile_name", PROFILES)
def test_wrong_pin_counts_down_and_blocks_at_the_limit(card_pki, card_anchors, profile_name: str) -> None:
    profile = load_named_profile(profile_name)
    card = VirtualCard.from_files(card_pki.voters["10000002"], profile)
    auth = authenticator(profile, card_anchors)
    channel = VirtualCardChannel(card)
    read = auth.read(channel)
    assert isinstance(read, CardRead)
    seen = [auth.authenticate(channel, read, "9999") for _ in range(profile.pin.max_tries)]
    assert [(r.reason, r.tries_left) for r in seen if isinstance(r, AuthFailure)] == [
        (FailureReason.WRONG_PIN, 2),
        (FailureReason.WRONG_PIN, 1),
        (FailureReason.PIN_BLOCKED, 0),
    ]
    # Even the right PIN is refused now, and a fresh insertion reports the block.
    again = auth.authenticate(channel, read, "1234")
    assert isinstance(again, AuthFailure) and again.reason is FailureReason.PIN_BLOCKED
    card.power_on()
    fresh = run(auth, VirtualCardChannel(card))
    assert isinstance(fresh, AuthFailure) and fresh.reason is FailureReason.PIN_BLOCKED


def test_pin_status_is_read_without_spending_a_try(card_pki, card_anchors) -> None:
    profile = load_named_profile("oman_ias")
    card = VirtualCard.from_files(card_pki.voters["10000003"], profile)
    auth = authenticator(profile, card_anchors)
    channel = VirtualCardChannel(card)
    read = auth.read(channel)
    assert isinstance(read, CardRead)
    auth.authenticate(channel, read, "0000")
    card.power_on()
    reread = auth.read(VirtualCardChannel(card))
    assert isinstance(reread, CardRead) and reread.pin.tries_left == 2
    assert card.state.tries_left == 2


def test_badly_formed_pin_never_reaches_the_card(card_pki, card_anchors) -> None:
    profile = load_named_profile("oman_ias")
    card = VirtualCard.from_files(card_pki.voters["10000004"], profile)
    auth = authenticator(profile, card_anchors)
    channel = VirtualCardChannel(card)
    read = auth.read(channel)
    assert isinstance(read, CardRead)
    result = auth.authenticate(channel, read, "12")
    assert isinstance(result, AuthFailure) and result.reason is FailureReason.PIN_FORMAT
    assert card.state.tries_left == profile.pin.max_tries


@pytest.mark.parametrize("profile_name", PROFILES)
def test_pulling_the_card_at_any_apdu_aborts_cleanly(card_pki, card_anchors, profile_name: str) -> None:
    profile = load_named_profile(profile_name)
    auth = authenticator(profile, card_anchors)
    total = VirtualCardChannel(VirtualCard.from_files(card_pki.voters["10000005"], profile))
    assert isinstance(run(auth, total), Authenticated)
    for pull_at in range(1, total.raw_count + 1):
        card = VirtualCard.from_files(card_pki.voters["10000005"], profile)
        result = run(auth, VirtualCardChannel(card, pull_at=pull_at))
        assert isinstance(result, AuthFailure), pull_at
        assert result.reason is FailureReason.CARD_REMOVED, (pull_at, result)


@pytest.mark.parametrize("ecdsa_format", [EcdsaFormat.RAW, EcdsaFormat.DER])
def test_internal_authenticate_profiles_work(card_pki, card_anchors, ecdsa_format: EcdsaFormat) -> None:
    base = load_named_profile("oman_ias")
    signing = dataclasses.replace(base.signing, method=SigningMethod.INTERNAL_AUTHENTICATE, ecdsa_format=ecdsa_format)
    profile = dataclasses.replace(base, signing=signing)
    card = VirtualCard.from_files(card_pki.voters["10000001"], profile)
    assert isinstance(run(authenticator(profile, card_anchors), VirtualCardChannel(card)), Authenticated)


def test_every_card_refusal_has_a_voter_facing_failure() -> None:
    from kiosk.adapters.card import card_failure
    from kiosk.session import events as ev

    shown = {reason: card_failure(AuthFailure(reason, "")).failure for reason in FailureReason}
    assert shown[FailureReason.UNSUPPORTED_CARD] is ev.Failure.NOT_AN_ID_CARD  # "this card is not supported"
    assert shown[FailureReason.CARD_TIMEOUT] is ev.Failure.CARD_UNREADABLE
    assert shown[FailureReason.REVOCATION_STALE] is ev.Failure.REVOCATION_STALE

"""Adversarial virtual cards through the real pcscd (isolated, started by the tests) and the kiosk's own card
adapter (kiosk.adapters.card.PcscCard, as run_kiosk builds it): each card ends in its own reason, within its
phase's timeout, the reader is released, and the next genuine card is served.

The profile's timeouts are shortened to 2 s here (config/cards/oman_ias.toml has 8/5/5 s) so the suite stays
quick; the mechanism is the one the kiosk runs.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
import time
from collections.abc import Callable

import pytest
from cryptography.hazmat.primitives.serialization import Encoding

from devtools import test_pki
from devtools.virtual_card.card import CardMode, VirtualCard
from devtools.virtual_card.harness import PcscHarness
from kiosk.adapters.card import PcscCard
from kiosk.card.profile import CardProfile, Timeouts, load_named_profile
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.session import CardAuthenticator, CardRead
from kiosk.session import events as ev
from kiosk.session.model import Secret

pytestmark = pytest.mark.integration

TIMEOUT = 2.0
MARGIN = 4.0  # scheduling slack on a loaded 2-core machine; a hang would be unbounded, not 4 s late
T0_UNKNOWN_ATR = bytes.fromhex("3B021450")  # a T=0 card of another kind
T1_UNKNOWN_ATR = bytes.fromhex("3BF81300008131FE15597562696B657934D4")  # a T=1 token


def _profile() -> CardProfile:
    return dataclasses.replace(load_named_profile("oman_ias"), timeouts=Timeouts(TIMEOUT, TIMEOUT, TIMEOUT))


def _kiosk_card(pcsc: PcscHarness, anchors) -> PcscCard:
    auth = CardAuthenticator(
        _profile(),
        anchors,
        "kiosk-001",
        "shura-2027",
        lambda: dt.datetime.now(dt.UTC),
        secrets.token_bytes,
        profiles=[load_named_profile("belpic")],
    )
    return PcscCard(pcsc.reader_name(), auth)


def _invalid_utf8(files: test_pki.CardFiles) -> bytes:
    der = files.auth.cert().public_bytes(Encoding.DER)
    name = files.identity.name_en.encode()
    return der.replace(name, b"\xff\xfe" + name[2:], 1)


def _garbage(files: test_pki.CardFiles) -> bytes:
    return b"\x30\x82\x01\x00" + b"\x02" * 256


Setup = Callable[[VirtualCard], None]


def _atr(atr: bytes) -> Setup:
    def setup(card: VirtualCard) -> None:
        card.atr_override = atr

    return setup


# (id, mode, card setup, phase that fails: "read" or "pin", expected reason)
CASES: list[tuple[str, CardMode, Setup | None, str, FailureReason]] = [
    ("never-answers", CardMode.NEVER_ANSWERS, None, "read", FailureReason.CARD_TIMEOUT),
    ("never-answers-verify", CardMode.NEVER_ANSWERS_VERIFY, None, "pin", FailureReason.CARD_TIMEOUT),
    ("never-answers-signature", CardMode.NEVER_ANSWERS_SIGN, None, "pin", FailureReason.CARD_TIMEOUT),
    # vpcd passes no answer on for an empty frame: pcscd keeps waiting, and the reading timeout ends it.
    ("empty-frame", CardMode.EMPTY_FRAME, None, "read", FailureReason.CARD_TIMEOUT),
    ("ten-seconds-per-apdu", CardMode.SLOW, None, "read", FailureReason.CARD_TIMEOUT),
    ("one-byte-answer", CardMode.ONE_BYTE, None, "read", FailureReason.CARD_ERROR),
    ("endless-61xx", CardMode.ENDLESS_61XX, None, "read", FailureReason.CARD_ERROR),
    ("endless-6cxx", CardMode.ENDLESS_6CXX, None, "read", FailureReason.CARD_ERROR),
    ("oversize-answer-to-le-256", CardMode.OVERSIZE, None, "read", FailureReason.CARD_ERROR),
    ("verify-6a82", CardMode.VERIFY_6A82, None, "read", FailureReason.CARD_ERROR),
    ("pso-hash-6983", CardMode.PSO_HASH_6983, None, "pin", FailureReason.CARD_ERROR),
    ("63cf-on-a-3-try-card", CardMode.TRIES_63CF, None, "read", FailureReason.CARD_ERROR),
    ("unknown-atr-t0", CardMode.NORMAL, _atr(T0_UNKNOWN_ATR), "read", FailureReason.UNSUPPORTED_CARD),
    ("unknown-atr-t1", CardMode.NORMAL, _atr(T1_UNKNOWN_ATR), "read", FailureReason.UNSUPPORTED_CARD),
]


def _genuine_card_is_served(kiosk: PcscCard, pcsc: PcscHarness, card_pki) -> None:
    pcsc.insert(VirtualCard.from_files(card_pki.voters["10000002"], _profile()))
    read = kiosk.read()
    assert isinstance(read, ev.CardRead), kiosk.last_refusal
    assert isinstance(kiosk.verify_pin(Secret("1234")), ev.PinAccepted), kiosk.last_refusal
    assert isinstance(kiosk.authenticate(), ev.VoterAuthenticated)


@pytest.mark.parametrize(("case", "mode", "setup", "phase", "reason"), CASES, ids=[c[0] for c in CASES])
def test_adversarial_card_ends_in_its_reason_and_the_next_card_is_served(
    pcsc: PcscHarness,
    card_pki,
    card_anchors,
    case: str,
    mode: CardMode,
    setup: Setup | None,
    phase: str,
    reason: FailureReason,
) -> None:
    card = VirtualCard.from_files(card_pki.voters["10000001"], _profile(), mode)
    card.delay = 10.0  # CardMode.SLOW: ten seconds per APDU
    if setup is not None:
        setup(card)
    kiosk = _kiosk_card(pcsc, card_anchors)
    pcsc.insert(card)
    started = time.monotonic()
    read = kiosk.read()
    outcome: object
    if phase == "pin":
        assert isinstance(read, ev.CardRead), kiosk.last_refusal
        started = time.monotonic()
        outcome = kiosk.verify_pin(Secret("1234"))
    else:
        outcome = read
    elapsed = time.monotonic() - started
    assert isinstance(outcome, ev.Failed), outcome
    assert kiosk.last_refusal is not None and kiosk.last_refusal.reason is reason, kiosk.last_refusal
    assert elapsed < TIMEOUT + MARGIN, f"{case}: took {elapsed:.1f} s"
    if reason is FailureReason.UNSUPPORTED_CARD:
        assert card.apdu_count == 0  # refused on the ATR alone: no command, no PIN try
    pcsc.remove()
    _genuine_card_is_served(kiosk, pcsc, card_pki)


@pytest.mark.parametrize("bad_der", [_invalid_utf8, _garbage], ids=["subject-invalid-utf8", "garbage-der"])
def test_malformed_certificate_is_refused_before_any_pin_try(
    pcsc: PcscHarness, card_pki, card_anchors, bad_der
) -> None:
    files = card_pki.voters["10000003"]
    card = VirtualCard.from_files(files, _profile())
    card = dataclasses.replace(card, certificate_der=bad_der(files))
    kiosk = _kiosk_card(pcsc, card_anchors)
    pcsc.insert(card)
    outcome = kiosk.read()
    assert isinstance(outcome, ev.Failed)
    assert kiosk.last_refusal is not None and kiosk.last_refusal.reason is FailureReason.MALFORMED_CERTIFICATE
    assert card.state.tries_left == 3
    pcsc.remove()
    _genuine_card_is_served(kiosk, pcsc, card_pki)


def test_a_card_of_the_other_profile_is_selected_by_its_atr(pcsc: PcscHarness, card_pki, card_anchors) -> None:
    kiosk = _kiosk_card(pcsc, card_anchors)
    pcsc.insert(VirtualCard.from_files(card_pki.voters["10000004"], load_named_profile("belpic")))
    assert isinstance(kiosk.read(), ev.CardRead), kiosk.last_refusal
    assert isinstance(kiosk.verify_pin(Secret("1234")), ev.PinAccepted), kiosk.last_refusal
    assert isinstance(kiosk.authenticate(), ev.VoterAuthenticated)


def test_the_reader_is_released_when_the_card_layer_raises(pcsc: PcscHarness, card_pki, card_anchors) -> None:
    """PcscCard.read closes its exclusive connection even when the authenticator raises unexpectedly."""
    from kiosk.card.transport import PcscConnection

    class Exploding(CardAuthenticator):
        def read(self, channel: object, atr: bytes | None = None) -> CardRead | AuthFailure:
            raise RuntimeError("unexpected")

    auth = Exploding(_profile(), card_anchors, "kiosk-001", "e", lambda: dt.datetime.now(dt.UTC), secrets.token_bytes)
    kiosk = PcscCard(pcsc.reader_name(), auth)
    pcsc.insert(VirtualCard.from_files(card_pki.voters["10000002"], _profile()))
    with pytest.raises(RuntimeError):
        kiosk.read()
    with PcscConnection(pcsc.reader_name()) as again:  # exclusive: a leaked connection would be a sharing violation
        assert again.atr == _profile().atr

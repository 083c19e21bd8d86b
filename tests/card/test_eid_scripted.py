"""Scripted APDU exchanges: every status-word path of the eID reader ends in the right outcome."""

from __future__ import annotations

import pytest

from kiosk.card.apdu import CardStatusError, SecurityStatusNotSatisfied
from kiosk.card.eid import EidCard, PinState
from kiosk.card.profile import load_named_profile
from kiosk.card.results import FailureReason
from kiosk.card.session import _failure

from .fakes import ScriptedChannel

SELECT_PKI = "00A4040C0CA0000000180C000001634200"
SELECT_ROP = "00A4040C09A000000018524F5001"
VERIFY_EMPTY = "00200081"
PIN_1234 = "002000811031323334" + "FF" * 12


def card(script: list[tuple[str, str]]) -> tuple[EidCard, ScriptedChannel]:
    channel = ScriptedChannel(script)
    return EidCard(channel, load_named_profile("oman_ias")), channel


@pytest.mark.parametrize(
    ("sw", "state", "tries"),
    [("63C3", PinState.TRIES_LEFT, 3), ("63C1", PinState.TRIES_LEFT, 1), ("9000", PinState.VERIFIED, None),
     ("6983", PinState.BLOCKED, 0), ("63C0", PinState.BLOCKED, 0)],
)  # fmt: skip
def test_pin_status_paths(sw: str, state: PinState, tries: int | None) -> None:
    eid, channel = card([(SELECT_PKI, "9000"), (VERIFY_EMPTY, sw)])
    status = eid.pin_status()
    assert (status.state, status.tries_left) == (state, tries)
    assert channel.done()


def test_pin_status_unexpected_sw_raises_a_typed_error() -> None:
    eid, _ = card([(SELECT_PKI, "9000"), (VERIFY_EMPTY, "6700")])
    with pytest.raises(CardStatusError):
        eid.pin_status()


@pytest.mark.parametrize(
    ("sw", "state", "tries"),
    [("9000", PinState.VERIFIED, None), ("63C2", PinState.TRIES_LEFT, 2), ("63C0", PinState.BLOCKED, 0),
     ("6983", PinState.BLOCKED, 0)],
)  # fmt: skip
def test_verify_paths_send_the_padded_ascii_pin_once(sw: str, state: PinState, tries: int | None) -> None:
    eid, channel = card([(SELECT_PKI, "9000"), (PIN_1234, sw)])
    status = eid.verify_pin("1234")
    assert (status.state, status.tries_left) == (state, tries)
    assert channel.done()  # exactly one VERIFY: never retried automatically
    assert channel.sent[-1].sensitive


def test_signing_without_pin_is_a_security_error() -> None:
    eid, _ = card([(SELECT_PKI, "9000"), ("00224 1B6 06 800142840181".replace(" ", ""), "9000"),
                   ("002A90A022 9020*".replace(" ", ""), "9000"), ("002A9E9A00", "6982")])  # fmt: skip
    with pytest.raises(SecurityStatusNotSatisfied):
        eid.sign_digest(bytes(32))


def test_signature_delivered_through_get_response() -> None:
    eid, channel = card([(SELECT_PKI, "9000"), ("0022*", "9000"), ("002A90A0*", "9000"), ("002A9E9A00", "6140"),
                         ("00C0000040", "11" * 64 + "9000")])  # fmt: skip
    assert eid.sign_digest(bytes(32)) == b"\x11" * 64
    assert channel.done()


@pytest.mark.parametrize(
    ("script", "reason"),
    [
        ([(SELECT_ROP, "6A82")], FailureReason.UNSUPPORTED_CARD),
        ([(SELECT_ROP, "6D00")], FailureReason.UNSUPPORTED_CARD),
        ([(SELECT_ROP, "9000"), ("00A4080C0402010101", "9000"), ("00B0000000", "6F00")], FailureReason.CARD_ERROR),
        (
            [(SELECT_ROP, "9000"), ("00A4080C0402010101", "9000"), ("00B0000000", "7001FF9000")],
            FailureReason.CARD_ERROR,
        ),
        ([(SELECT_ROP, "9000"), ("00A4080C0402010101", "6982")], FailureReason.CARD_ERROR),
    ],
)
def test_reading_identity_failures_become_reasons(script, reason: FailureReason) -> None:
    eid, _ = card(script)
    with pytest.raises(Exception) as caught:
        eid.read_identity()
    assert _failure("read", caught.value).reason is reason


def test_read_binary_stops_at_end_of_file_answers() -> None:
    eid, _ = card([(SELECT_ROP, "9000"), ("00A4080C0402010101", "9000"), ("00B0000000", "AA" * 256 + "9000"),
                   ("00B0010000", "6B00")])  # fmt: skip
    assert eid.read_file("identity") == b"\xaa" * 256

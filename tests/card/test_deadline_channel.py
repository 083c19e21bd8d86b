"""DeadlineChannel: a phase's deadline bounds every transmit; a stuck call never blocks the caller, and the
connection is closed as soon as the stuck call returns."""

from __future__ import annotations

import threading
import time

import pytest

from kiosk.card.apdu import CommandApdu, ResponseApdu
from kiosk.card.transport import CardTimeoutError, DeadlineChannel

SELECT = CommandApdu(0x00, 0xA4, 0x04, 0x0C, b"\xa0\x00\x00\x00\x18")


class StuckChannel:
    def __init__(self) -> None:
        self.release = threading.Event()
        self.calls = 0

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        self.calls += 1
        self.release.wait(10)
        return ResponseApdu(b"", 0x9000)


def test_a_stuck_transmit_ends_at_the_deadline_and_the_connection_closes_when_it_returns() -> None:
    inner = StuckChannel()
    closed = threading.Event()
    channel = DeadlineChannel(inner, closed.set)
    channel.phase("reading the card", 0.2)
    started = time.monotonic()
    with pytest.raises(CardTimeoutError) as raised:
        channel.transmit(SELECT)
    assert time.monotonic() - started < 2
    assert "reading the card" in str(raised.value)
    channel.close()  # returns at once: the PC/SC call is still blocked
    assert not closed.is_set()
    with pytest.raises(CardTimeoutError):
        channel.transmit(SELECT)  # abandoned: nothing more reaches the card
    assert inner.calls == 1
    inner.release.set()  # the card is pulled: the blocked call returns
    assert closed.wait(2)


def test_a_prompt_card_is_untouched_by_the_deadline() -> None:
    inner = StuckChannel()
    inner.release.set()
    closed = threading.Event()
    channel = DeadlineChannel(inner, closed.set)
    channel.phase("PIN verification", 5)
    assert channel.transmit(SELECT).ok
    channel.close()
    assert closed.is_set()

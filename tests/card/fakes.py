"""Fakes at the card edge: a scripted APDU channel and an in-process virtual card channel (no pcscd)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

from devtools.virtual_card.card import VirtualCard
from kiosk.card.apdu import CommandApdu, ResponseApdu
from kiosk.card.transport import CardRemovedError, exchange_t0


class ScriptedChannel:
    """A scripted T=0 card: each expected raw command (hex; a trailing '*' matches any rest) gets its response.

    Commands go through the transport's T=0 logic, so scripts can answer 61xx / 6Cxx like a real card.
    """

    def __init__(self, script: Sequence[tuple[str, str]]) -> None:
        self.script = [(c.replace(" ", "").upper(), r.replace(" ", "")) for c, r in script]
        self.sent: list[CommandApdu] = []

    def _send(self, raw: bytes) -> bytes:
        if not self.script:
            raise AssertionError(f"unexpected command {raw.hex()}")
        expected, response = self.script.pop(0)
        actual = raw.hex().upper()
        if expected.endswith("*"):
            assert actual.startswith(expected[:-1]), (actual, expected)
        else:
            assert actual == expected, (actual, expected)
        return bytes.fromhex(response)

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        self.sent.append(command)
        response, _steps = exchange_t0(self._send, command)
        return response

    def done(self) -> bool:
        return not self.script


class VirtualCardChannel:
    """The virtual card behind the same T=0 logic as the PC/SC transport, in process (fast unit tests).

    ``pull_at=n`` makes the n-th raw APDU fail as if the card had been pulled out of the reader.
    """

    def __init__(self, card: VirtualCard, pull_at: int | None = None) -> None:
        self.card = card
        self.pull_at = pull_at
        self.raw_count = 0

    def _send(self, raw: bytes) -> bytes:
        self.raw_count += 1
        if self.pull_at is not None and self.raw_count >= self.pull_at:
            raise CardRemovedError("transmit: card removed", 0x80100069)
        response = self.card.process(raw)
        if response is None:  # a card that never answers: block until the test gives up on this thread
            threading.Event().wait(3600)
            raise CardRemovedError("transmit: card removed", 0x80100069)
        return response

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        response, _steps = exchange_t0(self._send, command)
        return response

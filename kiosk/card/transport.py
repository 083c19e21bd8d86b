"""PC/SC shell: the only module that imports pyscard.

- :class:`PcscConnection`: one exclusive connection per card session, T=0 handling (GET RESPONSE on 61xx,
  resend with the exact Le on 6Cxx, case-4 commands sent without Le), an APDU trace with PIN data
  redacted, and the card unpowered when the session ends.
- :class:`PcscContext`: reader listing and status-change waiting for :mod:`kiosk.card.monitor`.
- Failures of the PC/SC layer are typed :class:`CardIoError` subclasses.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from kiosk.card.apdu import CardDataError, CommandApdu, ResponseApdu

log = logging.getLogger(__name__)

# PC/SC result codes (pcsclite.h); kept here so callers never see pyscard's integers.
SCARD_S_SUCCESS = 0x00000000
SCARD_E_INVALID_HANDLE = 0x80100003
SCARD_E_UNKNOWN_READER = 0x80100009
SCARD_E_TIMEOUT = 0x8010000A
SCARD_E_SHARING_VIOLATION = 0x8010000B
SCARD_E_NO_SMARTCARD = 0x8010000C
SCARD_E_PROTO_MISMATCH = 0x8010000F
SCARD_E_NOT_READY = 0x80100010
SCARD_F_COMM_ERROR = 0x80100013
SCARD_E_NOT_TRANSACTED = 0x80100016
SCARD_E_READER_UNAVAILABLE = 0x80100017
SCARD_E_NO_SERVICE = 0x8010001D
SCARD_E_SERVICE_STOPPED = 0x8010001E
SCARD_E_NO_READERS_AVAILABLE = 0x8010002E
SCARD_W_UNRESPONSIVE_CARD = 0x80100066
SCARD_W_UNPOWERED_CARD = 0x80100067
SCARD_W_RESET_CARD = 0x80100068
SCARD_W_REMOVED_CARD = 0x80100069

_DAEMON_GONE = {SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, SCARD_E_INVALID_HANDLE, SCARD_F_COMM_ERROR}
_READER_GONE = {SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE}
_CARD_GONE = {
    SCARD_E_NO_SMARTCARD,
    SCARD_W_REMOVED_CARD,
    SCARD_W_RESET_CARD,
    SCARD_E_NOT_TRANSACTED,
    SCARD_W_UNPOWERED_CARD,
    SCARD_W_UNRESPONSIVE_CARD,
}

MAX_GET_RESPONSE_ROUNDS = 64
MAX_SHORT_RESPONSE = 256  # short APDUs: at most 256 data bytes per response (Le = 00)


class CardIoError(Exception):
    """A PC/SC failure: the card, the reader or the daemon went away, or the reader is busy."""

    def __init__(self, message: str, code: int = 0) -> None:
        self.code = code
        super().__init__(f"{message} (PC/SC 0x{code:08X})" if code else message)


class CardRemovedError(CardIoError):
    pass


class ReaderGoneError(CardIoError):
    pass


class DaemonGoneError(CardIoError):
    pass


class ReaderBusyError(CardIoError):
    """Another PC/SC client holds the reader (sharing violation)."""


class ResponseTooLong(CardDataError):
    """The card answered more bytes than the command asked for (refused, never truncated)."""


class CardTimeoutError(CardIoError):
    """The card did not finish a phase (reading, PIN, signature) within the profile's time limit."""

    def __init__(self, phase: str, seconds: float) -> None:
        self.phase = phase
        self.seconds = seconds
        super().__init__(f"{phase}: the card did not answer within {seconds:g} s")


def error_for(code: int, what: str) -> CardIoError:
    if code in _CARD_GONE:
        return CardRemovedError(f"{what}: card removed", code)
    if code in _READER_GONE:
        return ReaderGoneError(f"{what}: reader gone", code)
    if code in _DAEMON_GONE:
        return DaemonGoneError(f"{what}: PC/SC service gone", code)
    if code == SCARD_E_SHARING_VIOLATION:
        return ReaderBusyError(f"{what}: reader in use by another program", code)
    return CardIoError(f"{what}: failed", code)


class ApduChannel(Protocol):
    """What the eID reader needs from a connection: fakes in unit tests, PC/SC in the kiosk."""

    def transmit(self, command: CommandApdu) -> ResponseApdu: ...


@dataclass(frozen=True)
class TraceEntry:
    """One raw exchange: the command with sensitive data redacted; of the response, only SW and length."""

    command: str
    sw: int
    response_length: int
    seconds: float


def _bounded(command: CommandApdu, response: ResponseApdu) -> ResponseApdu:
    """Refuse an answer longer than the command asked for (Le; 256 at most): never truncate it silently."""
    limit = command.le if command.le is not None else MAX_SHORT_RESPONSE
    if len(response.data) > limit:
        raise ResponseTooLong(f"card answered {len(response.data)} bytes where at most {limit} were asked for")
    return response


def exchange_t0(
    send: Callable[[bytes], bytes], command: CommandApdu
) -> tuple[ResponseApdu, list[tuple[CommandApdu, ResponseApdu]]]:
    """Run ``command`` over a T=0 link given a raw ``send``; returns the final response and the raw steps.

    Case 4 commands go out without Le; 61xx is followed by GET RESPONSE (repeatedly, data concatenated);
    6Cxx makes us resend the same command with Le = xx. Pure: unit-tested with scripted cards.
    """
    steps: list[tuple[CommandApdu, ResponseApdu]] = []

    def run(cmd: CommandApdu) -> ResponseApdu:
        response = _bounded(cmd, ResponseApdu.parse(send(cmd.to_bytes())))
        steps.append((cmd, response))
        return response

    first = command
    if command.data and command.le is not None:  # case 4 on T=0: no Le byte
        first = CommandApdu(command.cla, command.ins, command.p1, command.p2, command.data, None, command.sensitive)
    response = run(first)
    if response.sw1 == 0x6C:
        response = run(command.with_le(response.sw2 or 256))
    data = response.data
    rounds = 0
    while response.sw1 == 0x61:
        rounds += 1
        if rounds > MAX_GET_RESPONSE_ROUNDS:
            raise CardDataError("card keeps answering 61xx")
        response = run(CommandApdu(command.cla & 0x03, 0xC0, 0x00, 0x00, b"", response.sw2 or 256))
        if response.sw1 == 0x6C:
            response = run(CommandApdu(command.cla & 0x03, 0xC0, 0x00, 0x00, b"", response.sw2 or 256))
        data += response.data
    return ResponseApdu(data, response.sw), steps


class PcscContext:
    """A PC/SC context (one per thread that uses it)."""

    def __init__(self) -> None:
        from smartcard import scard

        self._scard: Any = scard
        code, self.handle = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
        if code != SCARD_S_SUCCESS:
            raise error_for(code & 0xFFFFFFFF, "establish context")

    def readers(self) -> list[str]:
        code, readers = self._scard.SCardListReaders(self.handle, [])
        code &= 0xFFFFFFFF
        if code in (SCARD_E_NO_READERS_AVAILABLE, SCARD_E_READER_UNAVAILABLE):
            return []
        if code != SCARD_S_SUCCESS:
            raise error_for(code, "list readers")
        return list(readers)

    def card_states(
        self, readers: Sequence[str], known: dict[str, int], timeout_ms: int
    ) -> dict[str, tuple[bool, bytes]]:
        """Wait up to ``timeout_ms`` for a change; returns {reader: (card present, ATR)} for ``readers``.

        ``known`` maps reader -> last event state (updated in place) so the call blocks until a change.
        """
        scard = self._scard
        states = [(r, known.get(r, scard.SCARD_STATE_UNAWARE)) for r in readers]
        code, result = scard.SCardGetStatusChange(self.handle, timeout_ms, states)
        code &= 0xFFFFFFFF
        if code not in (SCARD_S_SUCCESS, SCARD_E_TIMEOUT):
            raise error_for(code, "get status change")
        out: dict[str, tuple[bool, bytes]] = {}
        for reader, event_state, atr in result:
            known[reader] = event_state & ~scard.SCARD_STATE_CHANGED
            if event_state & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                continue
            present = bool(event_state & scard.SCARD_STATE_PRESENT) and not event_state & scard.SCARD_STATE_MUTE
            out[reader] = (present, bytes(atr))
        return out

    def close(self) -> None:
        self._scard.SCardReleaseContext(self.handle)


class PcscConnection:
    """An exclusive connection to the card in ``reader``; use as a context manager (unpowers on exit)."""

    def __init__(self, reader: str, context: PcscContext | None = None) -> None:
        self._own_context = context is None
        self._context = context or PcscContext()
        scard = self._context._scard
        self._scard: Any = scard
        self.reader = reader
        self.trace: list[TraceEntry] = []
        self.io_seconds = 0.0
        code, self._card, self._protocol = scard.SCardConnect(
            self._context.handle, reader, scard.SCARD_SHARE_EXCLUSIVE, scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1
        )
        code &= 0xFFFFFFFF
        if code != SCARD_S_SUCCESS:
            if self._own_context:
                self._context.close()
            raise error_for(code, f"connect to {reader!r}")
        self.is_t0 = self._protocol == scard.SCARD_PROTOCOL_T0
        code, _name, _state, _proto, atr = scard.SCardStatus(self._card)
        self.atr = bytes(atr) if (code & 0xFFFFFFFF) == SCARD_S_SUCCESS else b""

    def _send(self, raw: bytes) -> bytes:
        started = time.perf_counter()
        code, response = self._scard.SCardTransmit(self._card, self._protocol, list(raw))
        self.io_seconds += time.perf_counter() - started
        code &= 0xFFFFFFFF
        if code != SCARD_S_SUCCESS:
            raise error_for(code, "transmit")
        if not response:
            # vpcd (and some readers) report success with an empty answer when the card went away mid-command
            # (pcscd may not have noticed the removal yet, so the card's status cannot tell these apart).
            raise CardRemovedError("transmit: no answer from the card", SCARD_W_UNRESPONSIVE_CARD)
        if len(response) < 2:
            raise CardDataError(f"transmit: a {len(response)}-byte answer has no status word")
        return bytes(response)

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        started = time.perf_counter()
        if self.is_t0:
            response, steps = exchange_t0(self._send, command)
        else:
            response = _bounded(command, ResponseApdu.parse(self._send(command.to_bytes())))
            steps = [(command, response)]
        elapsed = time.perf_counter() - started
        for cmd, resp in steps:
            entry = TraceEntry(cmd.redacted_hex(), resp.sw, len(resp.data), elapsed / len(steps))
            self.trace.append(entry)
            log.debug("APDU %s -> %04X (%d bytes)", entry.command, entry.sw, entry.response_length)
        return response

    def close(self) -> None:
        """Disconnect and unpower the card (errors ignored: the card may already be gone)."""
        if self._card is not None:
            self._scard.SCardDisconnect(self._card, self._scard.SCARD_UNPOWER_CARD)
            self._card = None
        if self._own_context:
            self._context.close()

    def __enter__(self) -> PcscConnection:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DeadlineChannel:
    """An :class:`ApduChannel` whose every transmit is bounded by the deadline of the current phase.

    Each transmit runs on a helper thread; the caller waits at most until the phase's deadline. A card that
    never answers, or answers too slowly, gives :class:`CardTimeoutError` at the deadline; from then on the
    channel is *abandoned*: every further transmit fails at once, and :meth:`close` closes the connection as
    soon as the blocked PC/SC call returns (when the card is pulled, at the latest), so the reader is
    released without the caller ever blocking on it.
    """

    def __init__(self, inner: ApduChannel, close: Callable[[], None], clock: Callable[[], float] = time.monotonic):
        self._inner = inner
        self._close = close
        self._clock = clock
        self._lock = threading.Lock()
        self._busy = False
        self._closing = False
        self._closed = False
        self.abandoned = False
        self._phase = "card"
        self._seconds = 0.0
        self._deadline: float | None = None

    def phase(self, name: str, seconds: float) -> None:
        """Start phase ``name``: transmits from now on must be done within ``seconds``."""
        self._phase, self._seconds, self._deadline = name, seconds, self._clock() + seconds

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        if self.abandoned or self._closed:
            raise CardTimeoutError(self._phase, self._seconds)
        result: list[ResponseApdu] = []
        error: list[BaseException] = []

        def work() -> None:
            try:
                result.append(self._inner.transmit(command))
            except BaseException as exc:  # handed to the caller below
                error.append(exc)
            finally:
                with self._lock:
                    self._busy = False
                    closing = self._closing
                if closing:
                    self._close_now()

        with self._lock:
            self._busy = True
        worker = threading.Thread(target=work, name="card-apdu", daemon=True)
        worker.start()
        remaining = None if self._deadline is None else max(0.0, self._deadline - self._clock())
        worker.join(remaining)
        if worker.is_alive():
            self.abandoned = True
            log.info("card phase %s timed out after %g s", self._phase, self._seconds)
            raise CardTimeoutError(self._phase, self._seconds)
        if error:
            raise error[0]
        return result[0]

    def _close_now(self) -> None:
        if not self._closed:
            self._closed = True
            with contextlib.suppress(CardIoError):
                self._close()

    def close(self) -> None:
        """Close the connection now, or, while a transmit is still blocked, as soon as it returns."""
        with self._lock:
            if self._busy:
                self._closing = True
                return
        self._close_now()

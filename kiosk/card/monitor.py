"""Card and reader events on a queue, from our own polling loop (pyscard's CardMonitor thread dies silently
when pcscd goes away; this one reports DaemonGone, keeps retrying, and reports DaemonBack).

The kiosk app consumes ``monitor.events`` (a ``queue.Queue``) on its UI thread, e.g. with a Kivy
``Clock.schedule_interval`` that drains it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass

from kiosk.card.transport import CardIoError, PcscContext

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardInserted:
    reader: str
    atr: bytes


@dataclass(frozen=True)
class CardRemoved:
    reader: str


@dataclass(frozen=True)
class ReaderAdded:
    reader: str


@dataclass(frozen=True)
class ReaderGone:
    reader: str


@dataclass(frozen=True)
class DaemonGone:
    detail: str


@dataclass(frozen=True)
class DaemonBack:
    pass


CardEvent = CardInserted | CardRemoved | ReaderAdded | ReaderGone | DaemonGone | DaemonBack


class CardMonitor:
    """Polls PC/SC on a daemon thread; every state change becomes one event on :attr:`events`."""

    def __init__(
        self,
        events: queue.Queue[CardEvent] | None = None,
        poll_seconds: float = 0.2,
        context_factory: Callable[[], PcscContext] = PcscContext,
    ) -> None:
        self.events: queue.Queue[CardEvent] = events if events is not None else queue.Queue()
        self.poll_seconds = poll_seconds
        self._factory = context_factory
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="card-monitor", daemon=True)
        self._present: dict[str, bool] = {}  # reader -> card present
        self._daemon_up: bool | None = None

    def start(self) -> CardMonitor:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)

    def __enter__(self) -> CardMonitor:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def _emit(self, event: CardEvent) -> None:
        log.debug("card event %s", type(event).__name__)
        self.events.put(event)

    def _lost_daemon(self, detail: str) -> None:
        for reader, present in sorted(self._present.items()):
            if present:
                self._emit(CardRemoved(reader))
            self._emit(ReaderGone(reader))
        self._present.clear()
        if self._daemon_up is not False:
            self._emit(DaemonGone(detail))
        self._daemon_up = False

    def _run(self) -> None:
        context: PcscContext | None = None
        known_states: dict[str, int] = {}
        while not self._stop.is_set():
            if context is None:
                try:
                    context = self._factory()
                except CardIoError as exc:
                    self._lost_daemon(str(exc))
                    self._stop.wait(self.poll_seconds)
                    continue
                if self._daemon_up is False:
                    self._emit(DaemonBack())
                self._daemon_up = True
                known_states = {}
            try:
                self._poll(context, known_states)
            except CardIoError as exc:
                log.warning("PC/SC lost: %s", exc)
                context.close()  # releasing a dead context only returns an error code
                context = None
                self._lost_daemon(str(exc))
                self._stop.wait(self.poll_seconds)
        if context is not None:
            context.close()

    def _poll(self, context: PcscContext, known_states: dict[str, int]) -> None:
        readers = context.readers()
        for reader in sorted(set(self._present) - set(readers)):
            if self._present.pop(reader):
                self._emit(CardRemoved(reader))
            known_states.pop(reader, None)
            self._emit(ReaderGone(reader))
        for reader in readers:
            if reader not in self._present:
                self._present[reader] = False
                self._emit(ReaderAdded(reader))
        if not readers:
            self._stop.wait(self.poll_seconds)
            return
        states = context.card_states(readers, known_states, int(self.poll_seconds * 1000))
        for reader, (present, atr) in states.items():
            if present != self._present.get(reader):
                self._present[reader] = present
                self._emit(CardInserted(reader, atr) if present else CardRemoved(reader))

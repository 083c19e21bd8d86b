"""CardEventsPort over the card layer's CardMonitor.

The monitor polls PC/SC on its own thread and puts typed events on a queue; a small drain thread turns
them into session events and hands them to the sink (``SessionDriver.post``, which marshals them to the
Kivy thread with ``Clock.schedule_once``). Only one reader is watched: the kiosk's card slot.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable

from kiosk.card import monitor as m
from kiosk.session import events as ev

log = logging.getLogger(__name__)


class MonitorCardEvents:
    def __init__(self, reader: str, monitor: m.CardMonitor | None = None) -> None:
        self.reader = reader
        self.monitor = monitor or m.CardMonitor()
        self._sink: Callable[[ev.Event], None] | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._drain, name="card-events", daemon=True)

    def start(self, sink: Callable[[ev.Event], None]) -> None:
        self._sink = sink
        self.monitor.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.ident is None:  # never started (a station shut down before its app ran)
            return
        self.monitor.stop()
        self._thread.join(2)

    def translate(self, event: m.CardEvent) -> ev.Event | None:
        """The session event for a monitor event on our reader (None: not ours, or nothing to do)."""
        match event:
            case m.CardInserted(reader=reader) if reader == self.reader:
                return ev.CardInserted()
            case m.CardRemoved(reader=reader) if reader == self.reader:
                return ev.CardRemoved()
            case m.ReaderGone(reader=reader) if reader == self.reader:
                return ev.ReaderLost()
            case m.ReaderAdded(reader=reader) if reader == self.reader:
                return ev.ReaderBack()
            case m.DaemonGone():
                return ev.ReaderLost()
            case m.DaemonBack():
                return ev.ReaderBack()
        return None

    def _drain(self) -> None:
        while not self._stop.is_set():
            try:
                event = self.monitor.events.get(timeout=0.2)
            except queue.Empty:
                continue
            translated = self.translate(event)
            log.info("card monitor: %s -> %s", type(event).__name__, type(translated).__name__)
            if translated is not None and self._sink is not None:
                self._sink(translated)

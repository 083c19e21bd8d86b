"""The dashboard's live feed: server-sent events (``text/event-stream``) carrying the page's sections, re-rendered.

Secrecy and cost, by construction:
- Snapshots are taken on a fixed grid of wall-clock ticks (every ``period_s`` seconds, at multiples of it since
  the epoch), never when something happens: a viewer learns the aggregate figures at most once per tick, the same
  figures every other viewer gets, and nothing about when within the tick a voted mark or a batch arrived.
- One render per tick (one read of the office, every language), whatever the number of viewers: the first viewer
  to reach a tick renders it, the others wait for that render and reuse it; only the latest snapshot is kept.
- At most ``max_subscribers`` streams at once (503 beyond, the page still works without the feed); a stream ends
  after ``lifetime_s`` (the browser's EventSource reconnects by itself, sending the last event id, so an unchanged
  snapshot is not sent again) and as soon as its viewer goes away.

An event is ``id: <digest>``, ``event: update``, ``data: {"at": <time shown>, "sections": {<element id>: <html>}}``;
a section's HTML replaces the element with that id. A comment line (``: keep-alive``) is sent when nothing changed
for ``keepalive_s`` seconds.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import math
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

import anyio.to_thread
from starlette.responses import StreamingResponse
from starlette.types import Receive, Scope, Send

Render = Callable[[], dict[str, tuple[str, dict[str, str]]]]
"""Renders the sections in every language: {language: (the time shown as 'updated', {element id: html})}."""


def sections_digest(sections: dict[str, str]) -> str:
    """The event id of a snapshot: it changes exactly when a section's HTML does. The page carries the digest of
    the sections it was rendered with, so the feed's first event is skipped when nothing changed since."""
    return hashlib.sha256(json.dumps(sections, sort_keys=True).encode()).hexdigest()[:32]


@dataclass
class _Snapshot:
    tick: int
    digest: str
    data: str


class LiveFeed:
    def __init__(
        self,
        render: Render,
        *,
        period_s: float = 3.0,
        max_subscribers: int = 100,
        keepalive_s: float = 15.0,
        lifetime_s: float = 60.0,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        if period_s <= 0 or max_subscribers < 1:
            raise ValueError("the live feed needs a positive period and at least one subscriber")
        self.render, self.period_s, self.max_subscribers = render, period_s, max_subscribers
        self.keepalive_s, self.lifetime_s = keepalive_s, lifetime_s
        self.clock, self.sleep = clock, sleep
        self._lock = threading.Lock()
        self._render_lock = threading.Lock()
        self._tick = -1
        self._latest: dict[str, _Snapshot] = {}
        self._subscribers = 0
        self.renders = 0  # how many times the office was read and rendered (one per tick at most)

    @property
    def subscribers(self) -> int:
        return self._subscribers

    def acquire(self) -> bool:
        """Take a subscriber slot; False when all are taken."""
        with self._lock:
            if self._subscribers >= self.max_subscribers:
                return False
            self._subscribers += 1
            return True

    def release(self) -> None:
        with self._lock:
            self._subscribers -= 1

    def snapshot(self, lang: str, tick: int) -> _Snapshot:
        """The snapshot of ``tick`` (or a later one) for ``lang``, rendered once whoever asks first (blocking: run it
        in a thread). An unknown language raises KeyError."""
        with self._render_lock:
            if self._tick < tick:
                self._latest = {
                    language: _Snapshot(
                        tick,
                        sections_digest(sections),
                        json.dumps({"at": at, "sections": sections}, ensure_ascii=False, separators=(",", ":")),
                    )
                    for language, (at, sections) in self.render().items()
                }
                self._tick = tick
                self.renders += 1
            return self._latest[lang]

    async def stream(
        self, lang: str, last_event_id: str | None, disconnected: Callable[[], Awaitable[bool]]
    ) -> AsyncIterator[str]:
        """The event stream of one subscriber (who holds a slot: ``EventStream`` releases it)."""
        yield f"retry: {int(self.period_s * 1000)}\n\n"
        sent = last_event_id
        started = last_write = self.clock()
        while True:
            now = self.clock()
            tick = math.floor(now / self.period_s) + 1
            await self.sleep(tick * self.period_s - now)
            if await disconnected():
                return
            snap = await anyio.to_thread.run_sync(self.snapshot, lang, tick)
            now = self.clock()
            if snap.digest != sent:
                sent, last_write = snap.digest, now
                yield f"id: {snap.digest}\nevent: update\ndata: {snap.data}\n\n"
            elif now - last_write >= self.keepalive_s:
                last_write = now
                yield ": keep-alive\n\n"
            if now - started >= self.lifetime_s:
                return


class EventStream(StreamingResponse):
    """A subscriber's ``text/event-stream`` response; its slot in ``feed`` is released when the response ends,
    however it ends (stream over, viewer gone, server stopping)."""

    def __init__(self, feed: LiveFeed, events: AsyncIterator[str]) -> None:
        super().__init__(
            events,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
        )
        self.feed, self.events = feed, events

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self.feed.release()
            aclose = getattr(self.events, "aclose", None)
            if aclose is not None:
                await aclose()

"""Failed staff logins, limited per client and aggregated in the office's audit log (issue 15, point 8).

6,000 unauthenticated logins in 20 s added 6,000 entries to the office's hash-chained audit log (each one an
``audit_head`` update that every other audited action waits for) and doubled kiosk latency. Now:

- per client address, at most ``failures_per_minute`` refused logins (and ``challenges_per_minute`` challenges)
  in any 60 s; beyond that, ``429 too_many_requests`` at once, before any database work;
- refused logins are written to the audit log as one ``staff.login_refused`` entry per window of
  ``window`` seconds with the count, the number of clients and the reasons, instead of one entry each. The
  first refusal of a window is written at once (so a single wrong login is in the log as it happens); the rest
  of the window's are written when the window is over (at the next login attempt after it, or at shutdown).

State is in memory (per office process): a restart forgets the counters, never an audit entry already written.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from starlette.requests import Request

from central import audit
from central.db import Database

WINDOW: Final = 60.0


@dataclass
class _Window:
    started: float
    first_at: dt.datetime
    count: int = 0
    clients: set[str] = field(default_factory=set)
    reasons: Counter[str] = field(default_factory=Counter)


class LoginGuard:
    def __init__(
        self,
        *,
        failures_per_minute: int = 10,
        challenges_per_minute: int = 120,
        window: float = WINDOW,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.failures_per_minute = failures_per_minute
        self.challenges_per_minute = challenges_per_minute
        self.window = window
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._failures: dict[str, deque[float]] = {}
        self._challenges: dict[str, deque[float]] = {}
        self._open: _Window | None = None

    # ---- rate limits -----------------------------------------------------------------------------------

    def allow_challenge(self, client: str) -> bool:
        return self._take(self._challenges, client, self.challenges_per_minute, count=True)

    def allow_login(self, client: str) -> bool:
        """False while ``client`` has had ``failures_per_minute`` refused logins in the last minute."""
        return self._take(self._failures, client, self.failures_per_minute, count=False)

    def _take(self, book: dict[str, deque[float]], client: str, limit: int, *, count: bool) -> bool:
        now = self._monotonic()
        with self._lock:
            times = book.setdefault(client, deque())
            while times and now - times[0] >= 60.0:
                times.popleft()
            if len(times) >= limit:
                return False
            if count:
                times.append(now)
            if len(book) > 100_000:  # forget clients idle for a minute
                for key in [k for k, v in book.items() if not v or now - v[-1] >= 60.0]:
                    del book[key]
            return True

    # ---- the audit log ------------------------------------------------------------------------------------

    def refused(self, db: Database, client: str, reason: str, at: dt.datetime) -> None:
        """Count a refused login; write the audit entries that are due."""
        now = self._monotonic()
        with self._lock:
            self._failures.setdefault(client, deque()).append(now)
            due = self._roll(now)
            first = self._open is None
            if first:
                self._open = _Window(now, at)
            window = self._open
            assert window is not None
            window.count += 1
            window.clients.add(client)
            window.reasons[reason[:120]] += 1
            if first:  # the first of a window is logged at once; the window then counts from zero
                immediate = _Window(now, at, 1, {client}, Counter({reason[:120]: 1}))
                window.count, window.clients, window.reasons = 0, set(), Counter()
            else:
                immediate = None
        for w in [*due, *([immediate] if immediate else [])]:
            self._write(db, w, at)

    def flush(self, db: Database, at: dt.datetime, *, force: bool = False) -> None:
        """Write the window that is over (all of it with ``force``, e.g. at shutdown)."""
        with self._lock:
            due = self._roll(self._monotonic(), force=force)
        for w in due:
            self._write(db, w, at)

    def _roll(self, now: float, *, force: bool = False) -> list[_Window]:
        window = self._open
        if window is None or not (force or now - window.started >= self.window):
            return []
        self._open = None
        return [window] if window.count else []

    def _write(self, db: Database, window: _Window, at: dt.datetime) -> None:
        with db.transaction() as s:
            audit.append(
                s,
                at=at,
                actor="unknown",
                action="staff.login_refused",
                details={
                    "count": window.count,
                    "clients": len(window.clients),
                    "since": window.first_at.isoformat(),
                    "reasons": dict(window.reasons.most_common(5)),
                },
            )


def login_guard(request: Request) -> LoginGuard:
    guard: LoginGuard = request.app.state.login_guard
    return guard


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"

"""In-memory rate limits (docs/remote-voting.md, section 6): a token bucket per client address, a sliding window
of card authentications per voter, a cap on outstanding challenges per client address.

They are per process, on purpose: they shed load before it costs CPU, so each instance protects itself, and with
N instances behind a load balancer a client or a voter reaches at most N times a limit (a restart resets them).
Everything that must hold across instances lives in the database, which they share: a challenge (issued by one
instance, used once on any), a submission and its idempotency key, the cap of submissions per credential and the
sequence rule, the second-device fetch window and counter, credentials and the in-person voids. Behind a load
balancer the client's address is the balancer's ``X-Forwarded-For`` (``trusted_proxies``, collector.server)."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from collector.errors import CollectorError, ErrorCode

Monotonic = Callable[[], float]


@dataclass(frozen=True)
class RateLimits:
    client_rate: float = 10.0  # requests per second per client address
    client_burst: float = 40.0
    voter_auths_per_hour: int = 10
    submissions_per_credential: int = 30
    challenges_outstanding: int = 20  # per client address
    challenge_seconds: int = 120
    fetch_minutes: int = 30
    fetches: int = 3
    max_tracked: int = 100_000  # buckets kept; the oldest are forgotten beyond this


@dataclass
class _Bucket:
    tokens: float
    at: float


@dataclass
class Limiter:
    limits: RateLimits = field(default_factory=RateLimits)
    clock: Monotonic = time.monotonic
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _clients: dict[str, _Bucket] = field(default_factory=dict)
    _voters: dict[str, deque[float]] = field(default_factory=dict)
    _challenges: dict[str, deque[float]] = field(default_factory=dict)

    def challenge(self, address: str) -> None:
        """A challenge for ``address``; at most ``challenges_outstanding`` unexpired ones at once."""
        now = self.clock()
        with self._lock:
            issued = self._challenges.setdefault(address, deque())
            while issued and issued[0] <= now - self.limits.challenge_seconds:
                issued.popleft()
            if len(issued) >= self.limits.challenges_outstanding:
                wait = int(issued[0] + self.limits.challenge_seconds - now) + 1
                raise CollectorError(ErrorCode.RATE_LIMITED, "too many outstanding challenges", retry_after=wait)
            issued.append(now)
            if len(self._challenges) > self.limits.max_tracked:
                self._challenges.pop(next(iter(self._challenges)))

    def client(self, address: str) -> None:
        """One request from ``address``; raises 429 when its bucket is empty."""
        limits = self.limits
        now = self.clock()
        with self._lock:
            bucket = self._clients.get(address)
            if bucket is None:
                if len(self._clients) >= limits.max_tracked:
                    self._clients.pop(next(iter(self._clients)))
                bucket = self._clients[address] = _Bucket(limits.client_burst, now)
            bucket.tokens = min(limits.client_burst, bucket.tokens + (now - bucket.at) * limits.client_rate)
            bucket.at = now
            if bucket.tokens < 1:
                wait = int((1 - bucket.tokens) / limits.client_rate) + 1
                raise CollectorError(ErrorCode.RATE_LIMITED, "too many requests from this address", retry_after=wait)
            bucket.tokens -= 1

    def voter(self, civil_number: str) -> None:
        """One card authentication of this voter; at most ``voter_auths_per_hour`` in any hour."""
        now = self.clock()
        with self._lock:
            window = self._voters.setdefault(civil_number, deque())
            while window and window[0] <= now - 3600:
                window.popleft()
            if len(window) >= self.limits.voter_auths_per_hour:
                wait = int(window[0] + 3600 - now) + 1
                raise CollectorError(
                    ErrorCode.RATE_LIMITED, "too many card authentications for this voter", retry_after=wait
                )
            window.append(now)
            if len(self._voters) > self.limits.max_tracked:
                self._voters.pop(next(iter(self._voters)))

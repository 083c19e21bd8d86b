"""The kiosk's HTTPS client for the sync protocol: mutual TLS, the office's CA pinned, timeouts, retries.

``SyncClient`` makes one request per call and turns every outcome into a model or one of two errors:
``Unreachable`` (network failure, timeout, 5xx: try again later) or ``Rejected`` (a 4xx with the office's
``ErrorBody``: retrying unchanged will not help). ``Backoff`` is exponential with full jitter; its
randomness and sleep are injectable so tests need not wait.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar
from urllib.parse import quote

import requests

from sync.protocol import (
    ENDPOINTS,
    AuditSegment,
    AuditSegmentAck,
    BatchReceipt,
    ChainCloseAck,
    CheckinRelease,
    CheckinRequest,
    CheckinResponse,
    ErrorBody,
    ErrorCode,
    Heartbeat,
    HeartbeatAck,
    ProtocolError,
    ProvisionalAck,
    ReleaseAck,
    VotedMark,
    VotedMarkAck,
    parse_message,
    to_wire,
)
from sync.protocol.fields import _Model

log = logging.getLogger(__name__)


class _NoCheckinPaths(logging.Filter):
    """urllib3 logs every request line at DEBUG; a voted mark's or a release's path holds the voter's check-in
    token, so those lines are dropped (nothing the kiosk logs may name a voter, at any level)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "/v1/checkins/" not in record.getMessage()


logging.getLogger("urllib3.connectionpool").addFilter(_NoCheckinPaths())

M = TypeVar("M", bound=_Model)


class SyncError(Exception):
    pass


class Unreachable(SyncError):
    """The office could not be reached or answered 5xx; the request may or may not have been applied."""


class Rejected(SyncError):
    """The office refused the request (4xx); ``error`` is its typed answer."""

    def __init__(self, status: int, error: ErrorBody) -> None:
        super().__init__(f"HTTP {status} {error.error.value}: {error.detail}")
        self.status = status
        self.error = error


@dataclass(frozen=True)
class TlsIdentity:
    """The kiosk's client certificate and key, and the office CA that is its only trust root."""

    cert: Path
    key: Path
    ca: Path


@dataclass
class Backoff:
    """Exponential backoff with full jitter: the n-th wait is uniform in [0, min(cap, base * 2**n)]."""

    base: float = 0.5
    cap: float = 30.0
    rng: random.Random = field(default_factory=random.SystemRandom)
    failures: int = 0

    def next_delay(self) -> float:
        ceiling = min(self.cap, self.base * (2 ** min(self.failures, 30)))
        self.failures += 1
        return self.rng.uniform(0, ceiling)

    def reset(self) -> None:
        self.failures = 0


class SyncClient:
    def __init__(
        self,
        base_url: str,
        tls: TlsIdentity,
        *,
        connect_timeout: float = 3.0,
        read_timeout: float = 10.0,
        session: requests.Session | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._session = session or requests.Session()
        self._session.cert = (str(tls.cert), str(tls.key))
        self._session.verify = str(tls.ca)  # the office CA and nothing else
        self._session.trust_env = False  # no proxies or CA bundles from the environment
        self._timeout = (connect_timeout, read_timeout)

    def close(self) -> None:
        self._session.close()

    def _post(self, name: str, body: bytes, response: type[M], token: str | None = None) -> M:
        path = ENDPOINTS[name].path
        if token is not None:
            path = path.replace("{token}", quote(token, safe=""))
        try:
            reply = self._session.post(
                self.base_url + path,
                data=body,
                headers={"Content-Type": "application/json"},
                timeout=self._timeout,
            )
        except requests.RequestException as exc:
            raise Unreachable(f"{name}: {type(exc).__name__}") from None
        if reply.status_code >= 500:
            raise Unreachable(f"{name}: HTTP {reply.status_code}")
        if reply.status_code >= 400:
            try:
                error = parse_message(ErrorBody, reply.content)
            except ProtocolError:
                error = ErrorBody(error=ErrorCode.MALFORMED, detail=reply.text[:200] or "no body")
            raise Rejected(reply.status_code, error)
        try:
            return parse_message(response, reply.content)
        except ProtocolError as exc:
            # A 2xx we cannot read: treat as not delivered; idempotency makes the retry safe.
            raise Unreachable(f"{name}: unreadable answer ({exc})") from None

    def checkin(self, request: CheckinRequest) -> CheckinResponse:
        return self._post("checkin", to_wire(request), CheckinResponse)

    def voted(self, token: str, mark: VotedMark) -> VotedMarkAck:
        return self._post("voted", to_wire(mark), VotedMarkAck, token)

    def release(self, token: str, release: CheckinRelease) -> bool:
        return self._post("release", to_wire(release), ReleaseAck, token).released

    def send_batch(self, body: bytes) -> BatchReceipt:
        """``body`` is the signed batch exactly as stored in the outbox (byte-identical on every retry)."""
        return self._post("batch", body, BatchReceipt)

    def send_provisional(self, body: bytes) -> ProvisionalAck:
        return self._post("provisional", body, ProvisionalAck)

    def send_chain_close(self, body: bytes) -> ChainCloseAck:
        """``body`` is the ``ChainCloseSubmission`` exactly as stored in the outbox."""
        return self._post("chain_close", body, ChainCloseAck)

    def send_audit_segment(self, segment: AuditSegment) -> AuditSegmentAck:
        return self._post("audit_segment", to_wire(segment), AuditSegmentAck)

    def heartbeat(self, beat: Heartbeat) -> HeartbeatAck:
        return self._post("heartbeat", to_wire(beat), HeartbeatAck)


T = TypeVar("T")


def with_retries(
    call: Callable[[], T],
    *,
    attempts: int,
    backoff: Backoff,
    sleep: Callable[[float], None] = time.sleep,
) -> T:
    """Retry ``call`` on Unreachable up to ``attempts`` times (Rejected is final). For interactive calls
    such as check-in, where a voter is waiting and a short total wait matters."""
    for attempt in range(attempts):
        try:
            return call()
        except Unreachable:
            if attempt == attempts - 1:
                raise
            sleep(backoff.next_delay())
    raise AssertionError("unreachable")

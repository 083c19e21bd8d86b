"""The voter app's HTTPS client for the vote collector (protocol ``r1``, docs/remote-voting.md).

* TLS 1.2+ with the collector's certificate **pinned**: the only trust anchor is the certificate the signed
  election package holds (``ssl`` with ``VERIFY_X509_PARTIAL_CHAIN``, so that certificate itself is the anchor;
  the host name is checked against it too). No CA bundle, proxy or certificate from the environment is used.
* Every answer is read up to a bound (16 KiB, a fetched ballot 1 MiB) and parsed strictly
  (``election.verify.strict_json``, then ``remote.protocol``); anything else is :class:`Unreachable` (a 2xx we
  cannot read: resending is safe, the submission is idempotent) or :class:`Refused` (a 4xx, with its code).
* :func:`submit_until_known` resends the byte-identical submission after a lost connection until the collector
  answers with a receipt (the ballot arrived: its original receipt) or a refusal (it did not, and why), so the
  voter is never left with "maybe".
"""

from __future__ import annotations

import base64
import json
import logging
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final, TypeVar

import httpx
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from election.ballot import EncryptedBallot
from election.remote_statement import BallotStatement
from election.verify.primitives import Invalid
from election.verify.strict_json import loads
from remote import protocol as p

log = logging.getLogger(__name__)

MAX_ANSWER_BYTES: Final = 16 * 1024
MAX_BALLOT_ANSWER_BYTES: Final = 1024 * 1024
T = TypeVar("T")


class CollectorError(Exception):
    pass


class Unreachable(CollectorError):
    """No answer we can read (network, timeout, 5xx, an unreadable 2xx): the request may or may not have been
    applied; an idempotent request is sent again."""


class Refused(CollectorError):
    """The collector refused the request (4xx) with a typed error: sending it unchanged again will not help."""

    def __init__(self, status: int, error: p.ErrorAnswer, retry_after: float | None = None) -> None:
        super().__init__(f"HTTP {status} {error.error}: {error.detail}")
        self.status = status
        self.error = error
        self.retry_after = retry_after


def pinned_context(certificate: x509.Certificate) -> ssl.SSLContext:
    """A client TLS context whose only trust anchor is ``certificate`` (the collector's, from the package)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.check_hostname = True
    context.verify_mode = ssl.CERT_REQUIRED
    context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN
    context.load_verify_locations(cadata=certificate.public_bytes(serialization.Encoding.PEM).decode("ascii"))
    return context


@dataclass(frozen=True)
class Submission:
    """One signed ballot submission, exactly as sent on every try (``body`` is byte-identical each time)."""

    submission_id: str
    sequence: int
    ballot: EncryptedBallot
    body: bytes


def make_submission(
    *,
    election_id: str,
    collector_id: str,
    credential_hex: str,
    sign: Callable[[bytes], bytes],
    ballot: EncryptedBallot,
    sequence: int,
    submission_id: str,
) -> Submission:
    statement = BallotStatement(
        election_id=election_id,
        collector_id=collector_id,
        credential=credential_hex,
        submission_id=submission_id,
        sequence=sequence,
        ballot_id=ballot.ballot_id,
        ballot_hash=ballot.ballot_hash.hex(),
    ).signing_bytes()
    body = {
        "submission_id": submission_id,
        "credential": credential_hex,
        "sequence": sequence,
        "ballot": ballot.to_dict(),
        "signature": sign(statement).hex(),
    }
    return Submission(submission_id, sequence, ballot, json.dumps(body, separators=(",", ":")).encode("utf-8"))


NOT_PINNED: Final = (
    "the server is not the election's vote collector: its TLS certificate is not the one the signed election "
    "package pins (trust/collector.pem); nothing was sent"
)


def _not_the_pinned_certificate(exc: BaseException) -> bool:
    """Whether the TLS handshake failed because the server's certificate is not the pinned one."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, ssl.SSLCertVerificationError):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class CollectorClient:
    def __init__(
        self,
        base_url: str,
        certificate: x509.Certificate,
        *,
        collector_id: str,
        election_id: str,
        connect_timeout: float = 5.0,
        read_timeout: float = 20.0,
    ) -> None:
        if not base_url.startswith("https://"):
            raise ValueError("the collector's address must be https://")
        self.base_url = base_url.rstrip("/")
        self.collector_id = collector_id
        self.election_id = election_id
        self._http = httpx.Client(
            verify=pinned_context(certificate),
            trust_env=False,
            timeout=httpx.Timeout(read_timeout, connect=connect_timeout),
            follow_redirects=False,
        )

    def close(self) -> None:
        self._http.close()

    def _call(self, method: str, path: str, body: bytes | None, limit: int, what: str) -> Any:
        headers = {"Content-Type": "application/json"} if body is not None else {}
        try:
            with self._http.stream(method, self.base_url + path, content=body, headers=headers) as reply:
                data = b""
                for chunk in reply.iter_bytes():
                    data += chunk
                    if len(data) > limit:
                        raise Unreachable(f"{what}: the collector's answer is larger than {limit} bytes")
                status = reply.status_code
                retry = reply.headers.get("Retry-After")
        except httpx.HTTPError as exc:
            if _not_the_pinned_certificate(exc):
                raise Unreachable(f"{what}: {NOT_PINNED}") from None
            raise Unreachable(f"{what}: {type(exc).__name__}") from None
        if status >= 500 or status in (301, 302, 303, 307, 308):
            raise Unreachable(f"{what}: HTTP {status}")
        try:
            parsed = loads(data, what)
        except Invalid:
            parsed = None
        if status >= 400:
            retry_after = float(retry) if retry is not None and retry.isdigit() and len(retry) < 6 else None
            raise Refused(status, p.parse_error(parsed), retry_after)
        if status != 200 or parsed is None:
            raise Unreachable(f"{what}: HTTP {status} with an answer that is not JSON")
        return parsed

    def _answer(self, parse: Callable[[], T], what: str) -> T:
        try:
            return parse()
        except p.BadAnswer as exc:
            raise Unreachable(f"{what}: {exc}") from None

    def challenge(self) -> p.IssuedChallenge:
        data = self._call("POST", "/r1/challenge", b"{}", MAX_ANSWER_BYTES, "challenge")
        return self._answer(
            lambda: p.parse_challenge(data, collector_id=self.collector_id, election_id=self.election_id), "challenge"
        )

    def register(
        self,
        challenge: p.IssuedChallenge,
        *,
        credential_hex: str,
        certificate_der: bytes,
        signature: bytes,
        ecdsa_format: str,
        styles: frozenset[str],
    ) -> p.Registration:
        body = {
            "challenge_id": challenge.challenge_id,
            "credential": credential_hex,
            "certificate": base64.b64encode(certificate_der).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
            "ecdsa_format": ecdsa_format,
        }
        data = self._call("POST", "/r1/credentials", json.dumps(body).encode(), MAX_ANSWER_BYTES, "registration")
        return self._answer(
            lambda: p.parse_registration(data, credential=credential_hex, styles=styles), "registration"
        )

    def my_votes(
        self, challenge: p.IssuedChallenge, *, certificate_der: bytes, signature: bytes, ecdsa_format: str
    ) -> p.MyVotes:
        body = {
            "challenge_id": challenge.challenge_id,
            "certificate": base64.b64encode(certificate_der).decode("ascii"),
            "signature": base64.b64encode(signature).decode("ascii"),
            "ecdsa_format": ecdsa_format,
        }
        data = self._call("POST", "/r1/my-votes", json.dumps(body).encode(), MAX_ANSWER_BYTES, "my-votes")
        return self._answer(lambda: p.parse_my_votes(data), "my-votes")

    def submit(self, submission: Submission) -> p.Receipt:
        data = self._call("POST", "/r1/ballots", submission.body, MAX_ANSWER_BYTES, "submission")
        return self._answer(
            lambda: p.parse_receipt(
                data, submission_id=submission.submission_id, ballot=submission.ballot, sequence=submission.sequence
            ),
            "submission",
        )

    def fetch_ballot(self, ballot_id: str) -> p.FetchedBallot:
        data = self._call("GET", f"/r1/ballots/{ballot_id}", None, MAX_BALLOT_ANSWER_BYTES, "ballot fetch")
        return self._answer(lambda: p.parse_fetched(data, ballot_id=ballot_id), "ballot fetch")


@dataclass(frozen=True)
class Arrived:
    receipt: p.Receipt


@dataclass(frozen=True)
class NotAccepted:
    """The collector answered and did not accept the ballot: ``error`` says why (it is not counted)."""

    error: p.ErrorAnswer
    status: int


@dataclass(frozen=True)
class NotYetKnown:
    """No answer after every try: the submission is kept on the device and sent again (byte-identical) when the
    voter retries or the app restarts; the collector counts it once. The app says so plainly."""

    reason: str


def submit_until_known(
    client: CollectorClient,
    submission: Submission,
    *,
    attempts: int = 6,
    delay: Callable[[int], float] = lambda n: min(8.0, 0.5 * 2**n),
    sleep: Callable[[float], None] = time.sleep,
) -> Arrived | NotAccepted | NotYetKnown:
    """Send the same bytes until the collector gives a receipt or a refusal (idempotent by ``submission_id``)."""
    last = ""
    for attempt in range(attempts):
        try:
            return Arrived(client.submit(submission))
        except Refused as exc:
            if exc.status == 429 and attempt < attempts - 1:
                sleep(min(exc.retry_after or delay(attempt), 30.0))
                continue
            return NotAccepted(exc.error, exc.status)
        except Unreachable as exc:
            last = str(exc)
            log.info("submission not answered (try %d of %d)", attempt + 1, attempts)
            if attempt < attempts - 1:
                sleep(delay(attempt))
    return NotYetKnown(last)

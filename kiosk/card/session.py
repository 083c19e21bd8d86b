"""Authenticating a card holder end to end, with every expected failure as an :class:`AuthFailure` value.

Two steps so the kiosk can show the voter's name and ask for the PIN in between::

    auth = CardAuthenticator(profile, anchors, kiosk_id, election_id, clock, secrets.token_bytes)
    with PcscConnection(reader) as channel:
        read = auth.read(channel)                      # CardRead | AuthFailure
        if isinstance(read, CardRead):
            result = auth.authenticate(channel, read, pin)   # Authenticated | AuthFailure

Only a signature by the card's key over a fresh challenge, with the certificate chained to a trusted root,
valid now and not revoked, authenticates; reading the data files alone does not.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kiosk.card.apdu import CardDataError, CardStatusError, FileNotFound, NotSupported, PinBlocked
from kiosk.card.eid import EidCard, PinState, PinStatus
from kiosk.card.identity import CardIdentity, PinFormatError
from kiosk.card.pki import (
    Challenge,
    TrustAnchors,
    check_certificate,
    check_identity,
    check_signature,
    new_challenge,
)
from kiosk.card.profile import CardProfile
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.roles import StaffRole
from kiosk.card.transport import (
    ApduChannel,
    CardIoError,
    DaemonGoneError,
    ReaderBusyError,
    ReaderGoneError,
)

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardRead:
    """Identity and certificate read and checked (trusted, valid, not revoked, consistent); PIN not yet tried."""

    identity: CardIdentity
    certificate: x509.Certificate
    role: StaffRole | None
    pin: PinStatus


@dataclass(frozen=True)
class Authenticated:
    identity: CardIdentity
    role: StaffRole | None  # None: a voter; otherwise an election staff member
    certificate_sha256: str
    challenge: Challenge


@dataclass
class Timings:
    """Where the time of the last operation went (for the benchmark): kiosk-side verification vs card I/O."""

    verify_seconds: float = 0.0


def profile_for_atr(profiles: list[CardProfile], atr: bytes) -> CardProfile | None:
    return next((p for p in profiles if p.atr == atr), None)


_CardTrouble = (CardIoError, CardStatusError, CardDataError)


def _failure(step: str, exc: Exception) -> AuthFailure:
    """The one AuthFailure for an exception of the card layer."""
    reason = FailureReason.CARD_ERROR
    tries: int | None = None
    if isinstance(exc, ReaderGoneError):
        reason = FailureReason.READER_GONE
    elif isinstance(exc, ReaderBusyError):
        reason = FailureReason.READER_BUSY
    elif isinstance(exc, DaemonGoneError):
        reason = FailureReason.SERVICE_GONE
    elif isinstance(exc, CardIoError):  # CardRemovedError and unclassified I/O failures
        reason = FailureReason.CARD_REMOVED
    elif isinstance(exc, PinBlocked):
        reason, tries = FailureReason.PIN_BLOCKED, 0
    elif isinstance(exc, FileNotFound | NotSupported):
        reason = FailureReason.UNSUPPORTED_CARD
    failure = AuthFailure(reason, f"{step}: {exc}", tries)
    log.info("card refused: %s (%s)", failure.reason.value, failure.detail)
    return failure


class CardAuthenticator:
    """Reads and authenticates cards of one profile against the election's trust anchors."""

    def __init__(
        self,
        profile: CardProfile,
        anchors: TrustAnchors,
        kiosk_id: str,
        election_id: str,
        clock: Callable[[], dt.datetime],
        random_bytes: Callable[[int], bytes],
    ) -> None:
        self.profile = profile
        self.anchors = anchors
        self.kiosk_id = kiosk_id
        self.election_id = election_id
        self.clock = clock
        self.random_bytes = random_bytes
        self.timings = Timings()

    def read(self, channel: ApduChannel) -> CardRead | AuthFailure:
        """Read identity + certificate, check the certificate and the identity, read the PIN status."""
        card = EidCard(channel, self.profile)
        self.timings = Timings()
        try:
            identity = card.read_identity()
            certificate = card.read_auth_certificate()
            started = time.perf_counter()
            verdict = check_certificate(certificate, self.anchors, self.clock())
            mismatch = check_identity(certificate, identity, self.profile.certificate)
            self.timings.verify_seconds += time.perf_counter() - started
            if isinstance(verdict, AuthFailure):
                return verdict
            if mismatch is not None:
                return mismatch
            pin = card.pin_status()
            if pin.state is PinState.BLOCKED:
                return AuthFailure(FailureReason.PIN_BLOCKED, "PIN blocked", 0)
            return CardRead(identity, certificate, verdict.role, pin)
        except _CardTrouble as exc:
            return _failure("read card", exc)

    def authenticate(self, channel: ApduChannel, read: CardRead, pin: str) -> Authenticated | AuthFailure:
        """One PIN try, then the challenge signature. A wrong PIN is returned with the tries left; never retried."""
        card = EidCard(channel, self.profile)
        try:
            try:
                status = card.verify_pin(pin)
            except PinFormatError as exc:
                return AuthFailure(FailureReason.PIN_FORMAT, str(exc))
            if status.state is PinState.BLOCKED:
                return AuthFailure(FailureReason.PIN_BLOCKED, "PIN blocked", 0)
            if status.state is PinState.TRIES_LEFT:
                if status.tries_left == 0:
                    return AuthFailure(FailureReason.PIN_BLOCKED, "PIN blocked", 0)
                return AuthFailure(FailureReason.WRONG_PIN, "wrong PIN", status.tries_left)
            challenge = new_challenge(self.kiosk_id, self.election_id, self.clock(), self.random_bytes)
            signature = card.sign_digest(challenge.digest)
            started = time.perf_counter()
            bad = check_signature(read.certificate, challenge, signature, self.profile.signing.ecdsa_format)
            self.timings.verify_seconds += time.perf_counter() - started
            if bad is not None:
                return bad
            fingerprint = read.certificate.fingerprint(hashes.SHA256()).hex()
            log.info("card authenticated (certificate %s, role %s)", fingerprint[:16], read.role)
            return Authenticated(read.identity, read.role, fingerprint, challenge)
        except _CardTrouble as exc:
            return _failure("authenticate", exc)


def identity_digest(identity: CardIdentity) -> str:
    """A stable, non-reversible handle for logs (never log the civil number itself)."""
    return hashlib.sha256(identity.civil_number.encode()).hexdigest()[:16]

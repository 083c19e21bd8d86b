"""Authenticating a card holder end to end, with every expected failure as an :class:`AuthFailure` value.

Two steps so the kiosk can show the voter's name and ask for the PIN in between::

    auth = CardAuthenticator(profile, anchors, kiosk_id, election_id, clock, secrets.token_bytes,
                             profiles=load_all_profiles())
    with PcscConnection(reader) as connection:
        channel = DeadlineChannel(connection, connection.close)
        read = auth.read(channel, connection.atr)        # CardRead | AuthFailure (the ATR picks the profile)
        if isinstance(read, CardRead):
            result = auth.authenticate(channel, read, pin)   # Authenticated | AuthFailure

Each phase (reading, PIN verification, signature) is bounded by the profile's ``[timeouts]`` when the channel
is a :class:`DeadlineChannel`; a phase that runs out is ``FailureReason.CARD_TIMEOUT``.

Only a signature by the card's key over a fresh challenge, with the certificate chained to a trusted root,
valid now and not revoked, authenticates; reading the data files alone does not.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes

from kiosk.card.apdu import CardDataError, CardStatusError, FileNotFound, NotSupported, PinBlocked
from kiosk.card.eid import EidCard, PinState, PinStatus
from kiosk.card.identity import CardIdentity, PinFormatError, encode_pin
from kiosk.card.pki import (
    CertificateAccepted,
    Challenge,
    TrustAnchors,
    check_certificate,
    check_identity,
    check_signature,
    load_card_certificate,
    new_challenge,
)
from kiosk.card.profile import CardProfile, profile_for_atr
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.transport import (
    ApduChannel,
    CardIoError,
    CardTimeoutError,
    DaemonGoneError,
    DeadlineChannel,
    ReaderBusyError,
    ReaderGoneError,
    ResponseTooLong,
)
from sync.staff_roles import StaffRole

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CardRead:
    """Identity and certificate read and checked (trusted, valid, not revoked, consistent); PIN not yet tried."""

    identity: CardIdentity
    certificate: x509.Certificate
    role: StaffRole | None
    pin: PinStatus
    profile: CardProfile  # the profile the card's ATR selected


@dataclass(frozen=True)
class Authenticated:
    identity: CardIdentity
    role: StaffRole | None  # None: a voter; otherwise an election staff member
    certificate_sha256: str
    challenge: Challenge
    signature: bytes = field(default=b"", repr=False)
    """The card's signature over ``challenge.digest`` (verified): the voter app sends it to the vote collector."""


@dataclass
class Timings:
    """Where the time of the last operation went (for the benchmark): kiosk-side verification vs card I/O."""

    verify_seconds: float = 0.0


# No "handle for logs" of a card holder exists on purpose: a hash of an 8-digit civil number is reversed by
# trying them all. Nothing logged by the card layer identifies a voter (docs/card.md, "Logs").
__all__ = ["Authenticated", "CardAuthenticator", "CardRead", "Timings", "profile_for_atr"]


_CardTrouble = (CardIoError, CardStatusError, CardDataError)


def _failure(step: str, exc: Exception) -> AuthFailure:
    """The one AuthFailure for an exception of the card layer."""
    reason = FailureReason.CARD_ERROR
    tries: int | None = None
    if isinstance(exc, ReaderGoneError):
        reason = FailureReason.READER_GONE
    elif isinstance(exc, CardTimeoutError):
        reason = FailureReason.CARD_TIMEOUT
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
    elif isinstance(exc, CardDataError) and not isinstance(exc, ResponseTooLong) and step.endswith("certificate"):
        reason = FailureReason.MALFORMED_CERTIFICATE
    failure = AuthFailure(reason, f"{step}: {exc}", tries)
    log.info("card refused: %s (%s)", failure.reason.value, failure.detail)
    return failure


class CardAuthenticator:
    """Reads and authenticates cards (the ATR picks one of its profiles) against the election's trust anchors."""

    def __init__(
        self,
        profile: CardProfile,
        anchors: TrustAnchors,
        kiosk_id: str,
        election_id: str,
        clock: Callable[[], dt.datetime],
        random_bytes: Callable[[int], bytes],
        profiles: Sequence[CardProfile] = (),
    ) -> None:
        """``profile`` is the default; with ``profiles`` (and an ATR passed to :meth:`read`), the ATR selects
        one of ``profile`` and ``profiles`` and an unknown ATR is ``UNSUPPORTED_CARD``."""
        self.profile = profile
        self.profiles = (profile, *[p for p in profiles if p is not profile])
        self.anchors = anchors
        self.kiosk_id = kiosk_id
        self.election_id = election_id
        self.clock = clock
        self.random_bytes = random_bytes
        self.timings = Timings()

    def read(self, channel: ApduChannel, atr: bytes | None = None) -> CardRead | AuthFailure:
        """Select the profile by ``atr``, read identity + certificate, validate the certificate, then check the
        identity against the *verified* certificate, then read the PIN status (no PIN try is spent)."""
        self.timings = Timings()
        profile = self.profile
        if atr is not None:
            selected = profile_for_atr(self.profiles, atr)
            if selected is None:
                return AuthFailure(FailureReason.UNSUPPORTED_CARD, "this card is not supported (unknown ATR)")
            profile = selected
        card = EidCard(channel, profile)
        step = "read card"
        try:
            if isinstance(channel, DeadlineChannel):
                channel.phase("reading the card", profile.timeouts.read)
            identity = card.read_identity()
            step = "read certificate"
            der = card.read_auth_certificate_der()
            step = "read card"
            started = time.perf_counter()
            certificate = load_card_certificate(der)
            verdict = (
                certificate
                if isinstance(certificate, AuthFailure)
                else check_certificate(certificate, self.anchors, self.clock())
            )
            mismatch = (
                check_identity(verdict, identity, profile.certificate)
                if isinstance(verdict, CertificateAccepted)
                else None
            )
            self.timings.verify_seconds += time.perf_counter() - started
            if isinstance(verdict, AuthFailure):
                return verdict
            if mismatch is not None:
                return mismatch
            pin = card.pin_status()
            if pin.state is PinState.BLOCKED:
                return AuthFailure(FailureReason.PIN_BLOCKED, "PIN blocked", 0)
            return CardRead(identity, verdict.certificate, verdict.role, pin, profile)
        except _CardTrouble as exc:
            return _failure(step, exc)

    def authenticate(self, channel: ApduChannel, read: CardRead, pin: str) -> Authenticated | AuthFailure:
        """One PIN try, then the challenge signature. A wrong PIN is returned with the tries left; never retried."""
        profile = read.profile
        card = EidCard(channel, profile)
        try:
            try:
                encode_pin(profile.pin, pin)  # the PIN's format is checked before the card is asked
            except PinFormatError as exc:
                return AuthFailure(FailureReason.PIN_FORMAT, str(exc))
            if isinstance(channel, DeadlineChannel):
                channel.phase("PIN verification", profile.timeouts.pin)
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
            if isinstance(channel, DeadlineChannel):
                channel.phase("signature", profile.timeouts.sign)
            signature = card.sign_digest(challenge.digest)
            started = time.perf_counter()
            bad = check_signature(read.certificate, challenge, signature, profile.signing.ecdsa_format)
            self.timings.verify_seconds += time.perf_counter() - started
            if bad is not None:
                return bad
            fingerprint = read.certificate.fingerprint(hashes.SHA256()).hex()
            # Nothing that identifies the holder is logged (no fingerprint, name or number): only the kind.
            log.info("card authenticated (%s)", "staff" if read.role is not None else "voter")
            return Authenticated(read.identity, read.role, fingerprint, challenge, signature)
        except _CardTrouble as exc:
            return _failure("authenticate", exc)

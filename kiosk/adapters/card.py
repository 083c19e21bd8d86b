"""CardPort over a real PC/SC reader and the card layer (kiosk.card): read, PIN, challenge signature and
the PKI check against the election package's trust anchors and revocation lists.

Each call blocks (PC/SC) and returns one session event; expected failures are values, never exceptions.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field

from election.package import ElectionPackage
from kiosk.card.pki import TrustAnchors
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.session import Authenticated, CardAuthenticator, CardRead
from kiosk.card.transport import CardIoError, PcscConnection
from kiosk.session import events as ev
from kiosk.session.model import CardKind, Secret, StaffIdentity, VoterIdentity
from kiosk.states import StaffCard, StaffRole

_CARD_FAILURES: dict[FailureReason, ev.Failure] = {
    FailureReason.EXPIRED: ev.Failure.CERT_EXPIRED,
    FailureReason.NOT_YET_VALID: ev.Failure.CERT_NOT_YET_VALID,
    FailureReason.UNTRUSTED: ev.Failure.CERT_UNTRUSTED,
    FailureReason.REVOKED: ev.Failure.CERT_REVOKED,
    FailureReason.PIN_BLOCKED: ev.Failure.PIN_BLOCKED,
    FailureReason.CARD_REMOVED: ev.Failure.CARD_REMOVED,
    FailureReason.READER_GONE: ev.Failure.READER_GONE,
    FailureReason.SERVICE_GONE: ev.Failure.READER_GONE,
    FailureReason.UNSUPPORTED_CARD: ev.Failure.NOT_AN_ID_CARD,
}


def trust_anchors_of(package: ElectionPackage) -> TrustAnchors:
    """The card PKI check's anchors from a verified election package: roots, intermediates, CRLs, and the
    staff card CA(s) among the intermediates."""
    staff = [c for c in package.card_intermediates if "Staff" in c.subject.rfc4514_string()]
    return TrustAnchors(package.card_roots, package.card_intermediates, package.crls, staff)


def card_failure(failure: AuthFailure) -> ev.Failed:
    name = failure.reason.name
    mapped = _CARD_FAILURES.get(failure.reason)
    if mapped is None:
        mapped = {
            "REVOCATION_STALE": ev.Failure.REVOCATION_STALE,
            "BAD_SIGNATURE": ev.Failure.BAD_SIGNATURE,
            "IDENTITY_MISMATCH": ev.Failure.IDENTITY_MISMATCH,
        }.get(name, ev.Failure.CARD_UNREADABLE)
    return ev.Failed(mapped)


@dataclass
class PcscCard:
    """CardPort over a real PC/SC reader: one exclusive connection from reading the card to the signature."""

    reader: str
    authenticator: CardAuthenticator
    _conn: PcscConnection | None = None
    _read: CardRead | None = None
    _auth: Authenticated | None = None
    staff_cards: dict[str, StaffCard] = field(default_factory=dict)
    """Each staff card authenticated so far (role and certificate SHA-256), by staff id: the ballot box checks
    the role and records the fingerprint when staff open or close the polls."""

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(CardIoError):
                self._conn.__exit__(None, None, None)
        self._conn, self._read, self._auth = None, None, None

    def read(self) -> ev.CardRead | ev.Failed:
        self.close()
        try:
            self._conn = PcscConnection(self.reader).__enter__()
        except CardIoError:
            return ev.Failed(ev.Failure.CARD_UNREADABLE)
        result = self.authenticator.read(self._conn)
        if isinstance(result, AuthFailure):
            self.close()
            return card_failure(result)
        self._read = result
        kind = CardKind.STAFF if result.role is not None else CardKind.VOTER
        return ev.CardRead(kind, result.pin.tries_left if result.pin.tries_left is not None else 3)

    def verify_pin(self, pin: Secret) -> ev.PinAccepted | ev.PinRejected | ev.Failed:
        if self._conn is None or self._read is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        # The card layer verifies the PIN and signs the challenge in one call (one PIN try, never retried).
        result = self.authenticator.authenticate(self._conn, self._read, pin.reveal())
        if isinstance(result, AuthFailure):
            if result.reason is FailureReason.WRONG_PIN:
                return ev.PinRejected(result.tries_left or 0)
            if result.reason is FailureReason.PIN_BLOCKED:
                return ev.PinRejected(0)
            self.close()
            return card_failure(result)
        self._auth = result
        return ev.PinAccepted()

    def authenticate(self) -> ev.VoterAuthenticated | ev.StaffAuthenticated | ev.Failed:
        auth = self._auth
        self.close()
        if auth is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        if auth.role is not None:
            staff_id = auth.identity.civil_number
            self.staff_cards[staff_id] = StaffCard(staff_id, StaffRole(auth.role.value), auth.certificate_sha256)
            return ev.StaffAuthenticated(StaffIdentity(auth.identity.civil_number, auth.identity.name_en))
        return ev.VoterAuthenticated(VoterIdentity(auth.identity.civil_number))

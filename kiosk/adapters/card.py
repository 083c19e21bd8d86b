"""CardPort over a real PC/SC reader and the card layer (kiosk.card): read, PIN, challenge signature and
the PKI check against the election package's trust anchors and revocation lists.

Each call blocks (PC/SC) and returns one session event; expected failures are values, never exceptions.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from election.package import ElectionPackage
from kiosk.card.pki import TrustAnchors, TrustPolicy
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.session import Authenticated, CardAuthenticator, CardRead
from kiosk.card.transport import CardIoError, DeadlineChannel, PcscConnection
from kiosk.polls import StaffCard, StaffRole
from kiosk.session import events as ev
from kiosk.session.model import CardKind, Secret, StaffIdentity, VoterIdentity

# Every refusal of the card layer and the voter-facing failure it shows (one entry per FailureReason; a test
# checks none is missing).
_CARD_FAILURES: dict[FailureReason, ev.Failure] = {
    FailureReason.EXPIRED: ev.Failure.CERT_EXPIRED,
    FailureReason.NOT_YET_VALID: ev.Failure.CERT_NOT_YET_VALID,
    FailureReason.UNTRUSTED: ev.Failure.CERT_UNTRUSTED,
    FailureReason.REVOKED: ev.Failure.CERT_REVOKED,
    FailureReason.REVOCATION_STALE: ev.Failure.REVOCATION_STALE,
    FailureReason.BAD_SIGNATURE: ev.Failure.BAD_SIGNATURE,
    FailureReason.WRONG_KEY_USAGE: ev.Failure.CERT_UNTRUSTED,
    FailureReason.IDENTITY_MISMATCH: ev.Failure.IDENTITY_MISMATCH,
    FailureReason.WRONG_PIN: ev.Failure.CARD_UNREADABLE,  # not reached: a wrong PIN is ev.PinRejected
    FailureReason.PIN_BLOCKED: ev.Failure.PIN_BLOCKED,
    FailureReason.PIN_FORMAT: ev.Failure.CARD_UNREADABLE,  # not reached: the keypad enforces the format
    FailureReason.CARD_REMOVED: ev.Failure.CARD_REMOVED,
    FailureReason.READER_GONE: ev.Failure.READER_GONE,
    FailureReason.READER_BUSY: ev.Failure.READER_GONE,
    FailureReason.SERVICE_GONE: ev.Failure.READER_GONE,
    FailureReason.UNSUPPORTED_CARD: ev.Failure.NOT_AN_ID_CARD,  # "this card is not supported"
    FailureReason.CARD_ERROR: ev.Failure.CARD_UNREADABLE,
    FailureReason.MALFORMED_CERTIFICATE: ev.Failure.CERT_UNTRUSTED,
    FailureReason.CARD_TIMEOUT: ev.Failure.CARD_UNREADABLE,  # "could not be read: remove it, insert it again"
}


def trust_anchors_of(package: ElectionPackage) -> TrustAnchors:
    """The card PKI check's anchors from a verified election package: roots, intermediates, the CRLs of every
    level, and the policy OIDs of ``trust/card-policies.json`` (staff-card CAs are the CAs asserting a staff-CA
    policy; without the file, the project defaults of sync/staff_roles.py apply)."""
    policies = package.card_policies
    policy = (
        TrustPolicy(frozenset(policies.staff_ca_policy_oids), frozenset(policies.auth_policy_oids))
        if policies is not None
        else TrustPolicy()
    )
    return TrustAnchors(package.card_roots, package.card_intermediates, package.crls, policy)


def card_failure(failure: AuthFailure) -> ev.Failed:
    return ev.Failed(_CARD_FAILURES[failure.reason])


@dataclass
class PcscCard:
    """CardPort over a real PC/SC reader: one exclusive connection from reading the card to the signature."""

    reader: str
    authenticator: CardAuthenticator
    _conn: DeadlineChannel | None = None
    _read: CardRead | None = None
    _auth: Authenticated | None = None
    last_refusal: AuthFailure | None = None
    """The card layer's last refusal, with its precise reason (for the staff view and tests; holds no PIN)."""
    staff_cards: dict[str, StaffCard] = field(default_factory=dict)
    """Each staff card authenticated so far (role and certificate SHA-256), by staff id: the ballot box checks
    the role and records the fingerprint when staff open or close the polls."""

    def close(self) -> None:
        """Release the reader: at once, or (a card stuck in a command) as soon as the blocked call returns."""
        if self._conn is not None:
            self._conn.close()
        self._conn, self._read, self._auth = None, None, None

    def read(self) -> ev.CardRead | ev.Failed:
        self.close()
        self.last_refusal = None
        try:
            connection = PcscConnection(self.reader).__enter__()
        except CardIoError:
            return ev.Failed(ev.Failure.CARD_UNREADABLE)
        self._conn = DeadlineChannel(connection, connection.close)
        try:
            result = self.authenticator.read(self._conn, connection.atr)
        except BaseException:
            self.close()  # never leave the exclusive connection open behind an unexpected error
            raise
        if isinstance(result, AuthFailure):
            self.last_refusal = result
            self.close()
            return card_failure(result)
        self._read = result
        kind = CardKind.STAFF if result.role is not None else CardKind.VOTER
        tries = result.pin.tries_left if result.pin.tries_left is not None else result.profile.pin.max_tries
        return ev.CardRead(kind, tries)

    def verify_pin(self, pin: Secret) -> ev.PinAccepted | ev.PinRejected | ev.Failed:
        if self._conn is None or self._read is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        result = self.try_pin(self.authenticator, pin)
        if not isinstance(result, Authenticated):
            return result
        self._auth = result
        return ev.PinAccepted()

    def try_pin(self, signer: CardAuthenticator, pin: Secret) -> Authenticated | ev.PinRejected | ev.Failed:
        """One PIN try on the card ``read()`` accepted, signed by ``signer`` (the card layer verifies the PIN
        and signs the challenge in one call, never retried). A wrong or blocked PIN is ``PinRejected`` with the
        tries left and keeps the card; any other refusal closes it. Shared by the kiosk and the voter app."""
        assert self._conn is not None and self._read is not None
        try:
            result = signer.authenticate(self._conn, self._read, pin.reveal())
        except BaseException:
            self.close()
            raise
        if isinstance(result, AuthFailure):
            self.last_refusal = result
            if result.reason is FailureReason.WRONG_PIN:
                return ev.PinRejected(result.tries_left or 0)
            if result.reason is FailureReason.PIN_BLOCKED:
                return ev.PinRejected(0)
            self.close()
            return card_failure(result)
        return result

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

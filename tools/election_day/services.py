"""The kiosk's real services behind the session's ports, for the election day: the card through pcscd,
the poll book through the sync client, encryption by the election core into the ballot box.

These adapters are the composition a production ``run_kiosk.py`` needs; the kiosk app does not wire real
components yet (it runs on fakes), so the demo composes them here. Each call blocks (PC/SC, SQL, HTTPS)
and returns one session event; expected failures are values, never exceptions.
"""

from __future__ import annotations

import contextlib
import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from nacl.public import PublicKey as SealPublicKey

from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot
from election.challenge import challenge_ballot, verify_challenge
from election.confirmation import ConfirmationCode, confirmation_code
from election.context import ElectionContext
from election.manifest import BallotStyleId, CandidateId, ContestId, Manifest
from kiosk.ballot_box import BallotBox, BallotBoxError, BallotToStore, random_ballot_id
from kiosk.card.results import AuthFailure, FailureReason
from kiosk.card.session import Authenticated, CardAuthenticator, CardRead
from kiosk.card.transport import CardIoError, PcscConnection
from kiosk.session import events as ev
from kiosk.session.model import (
    CardKind,
    CastReceipt,
    ChallengeReport,
    CheckInTicket,
    SealedBallot,
    Secret,
    Selections,
    StaffIdentity,
    VoterIdentity,
)
from kiosk.states import PollsAction, StaffCard, StaffRole
from sync.client import Rejected, SyncClient, Unreachable
from sync.protocol import CheckinRelease, CheckinRequest, CheckinStatus, ProvisionalReason, ReleaseReason

log = logging.getLogger(__name__)

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
            return ev.StaffAuthenticated(StaffIdentity(auth.identity.civil_number, auth.identity.name_en))
        return ev.VoterAuthenticated(VoterIdentity(auth.identity.civil_number))


_CHECKIN_FAILURES = {
    CheckinStatus.NOT_ON_ROLL: ev.Failure.NOT_ON_ROLL,
    CheckinStatus.ALREADY_VOTED: ev.Failure.ALREADY_VOTED,
    CheckinStatus.LOCKED_ELSEWHERE: ev.Failure.VOTER_LOCKED,
    CheckinStatus.INELIGIBLE: ev.Failure.WRONG_CENTRE,
    CheckinStatus.WRONG_CENTRE: ev.Failure.WRONG_CENTRE,
}


@dataclass
class CentralPollBook:
    """PollBookPort over the sync client. Offline, a voter on the centre's copy of the roll gets a
    provisional ticket (the election's offline policy) with an identity envelope sealed at cast time."""

    client: SyncClient
    box: BallotBox
    kiosk_id: str
    centre_id: str
    offline_roll: dict[str, str]  # civil number -> ballot style, the centre's copy of the roll
    provisional_voters: dict[str, str] = field(default_factory=dict)  # token -> civil number (memory only)
    last_status: str = ""

    def check_in(self, voter: VoterIdentity) -> ev.CheckedIn | ev.Failed:
        request = CheckinRequest(
            kiosk_id=self.kiosk_id,
            centre_id=self.centre_id,
            civil_number=voter.civil_number,
            idempotency_key=secrets.token_hex(16),
        )
        try:
            answer = self.client.checkin(request)
        except Unreachable:
            style = self.offline_roll.get(voter.civil_number)
            self.last_status = "unreachable"
            if style is None:
                return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
            token = f"provisional-{secrets.token_hex(12)}"
            self.provisional_voters[token] = voter.civil_number
            return ev.CheckedIn(CheckInTicket(BallotStyleId(style), provisional=True, token=token))
        except Rejected:
            self.last_status = "rejected"
            return ev.Failed(ev.Failure.POLL_BOOK_UNAVAILABLE)
        self.last_status = answer.status.value
        if answer.status is not CheckinStatus.ELIGIBLE:
            return ev.Failed(_CHECKIN_FAILURES.get(answer.status, ev.Failure.INTERNAL))
        assert answer.checkin_token is not None and answer.ballot_style_id is not None
        self.box.record_checkin(answer.checkin_token, answer.ballot_style_id)
        return ev.CheckedIn(CheckInTicket(BallotStyleId(answer.ballot_style_id), False, answer.checkin_token))

    def cancel(self, ticket: CheckInTicket) -> None:
        if ticket.provisional:
            self.provisional_voters.pop(ticket.token, None)
            return
        self.box.release_checkin(ticket.token, ReleaseReason.VOTER_LEFT)
        release = CheckinRelease(kiosk_id=self.kiosk_id, reason=ReleaseReason.VOTER_LEFT)
        with contextlib.suppress(Unreachable, Rejected):  # queued in the ballot box; the sync worker sends it
            self.client.release(ticket.token, release)


@dataclass(frozen=True)
class _Sealed:
    ballot: EncryptedBallot
    seed: bytes = field(repr=False)
    code: ConfirmationCode
    previous: str
    plaintext: PlaintextBallot = field(repr=False)

    def to_store(self, payload: dict[str, object] | None = None) -> BallotToStore:
        return BallotToStore(
            ballot_id=self.ballot.ballot_id,
            ballot_style_id=str(self.ballot.style_id),
            confirmation_code=self.code.hex(),
            previous_code=self.previous,
            encrypted_ballot=payload if payload is not None else self.ballot.to_dict(),
        )


@dataclass
class RealBallots:
    """BallotPort: the election core encrypts (commit before cast or challenge), the ballot box stores."""

    manifest: Manifest
    context: ElectionContext
    box: BallotBox
    poll_book: CentralPollBook
    office_key: SealPublicKey
    random_bytes: Callable[[int], bytes] = secrets.token_bytes
    before_cast: Callable[[], None] | None = None
    """Called just before a cast is stored: the demo's kill scenario stops the kiosk here."""
    after_store: Callable[[], None] | None = None
    """Called after a ballot is stored (the sync worker is woken)."""

    def seal(self, style: BallotStyleId, selections: Selections) -> ev.BallotSealed | ev.Failed:
        plain = PlaintextBallot(style, {ContestId(c): frozenset(v) for c, v in selections.items()})
        seed = self.random_bytes(32)
        try:
            ballot = encrypt_ballot(self.context, self.manifest, plain, ballot_id=random_ballot_id(), seed=seed)
        except ValueError:
            log.exception("encryption failed")
            return ev.Failed(ev.Failure.ENCRYPTION_FAILED)
        previous = self.box.chain_head
        code = confirmation_code(bytes.fromhex(previous), self.box.kiosk_id, ballot)
        sealed = _Sealed(ballot, seed, code, previous, plain)
        return ev.BallotSealed(SealedBallot(handle=sealed, code=code.short))

    def cast(self, sealed: SealedBallot, ticket: CheckInTicket) -> ev.BallotCast | ev.Failed:
        s = sealed.handle
        assert isinstance(s, _Sealed)
        if self.before_cast is not None:
            self.before_cast()
        try:
            if ticket.provisional:
                civil = self.poll_book.provisional_voters.pop(ticket.token)
                self.box.cast_provisional(
                    s.to_store(), civil_number=civil, reason=ProvisionalReason.CENTRAL_UNREACHABLE,
                    office_key=self.office_key,
                )  # fmt: skip
            else:
                self.box.cast(ticket.token, s.to_store())
        except (BallotBoxError, KeyError) as exc:
            log.warning("cast refused by the ballot box: %s", type(exc).__name__)
            return ev.Failed(ev.Failure.CAST_FAILED)
        if self.after_store is not None:
            self.after_store()
        return ev.BallotCast(CastReceipt(code=s.code.short, qr_payload=s.code.qr_payload()))

    def challenge(self, sealed: SealedBallot) -> ev.BallotChallenged | ev.Failed:
        s = sealed.handle
        assert isinstance(s, _Sealed)
        challenged = challenge_ballot(s.ballot, s.seed)
        try:
            self.box.record_challenge(s.to_store(challenged.to_dict()))
        except BallotBoxError:
            return ev.Failed(ev.Failure.CHALLENGE_FAILED)
        try:
            opened = verify_challenge(self.context, self.manifest, challenged)
            decrypted = {c: tuple(sorted(v)) for c, v in opened.selections.items()}
            verified = all(set(decrypted.get(c, ())) == set(v) for c, v in s.plaintext.selections.items())
        except ValueError:
            decrypted, verified = {}, False
        if self.after_store is not None:
            self.after_store()
        return ev.BallotChallenged(ChallengeReport(decrypted=decrypted, verified=verified, code=s.code.short))


def staff_card(staff_id: str, role: StaffRole, cert_sha256: str) -> StaffCard:
    return StaffCard(staff_id, role, cert_sha256)


def open_polls(box: BallotBox, staff: StaffCard) -> None:
    with contextlib.suppress(BallotBoxError):
        box.apply(PollsAction.OPEN, staff)


def selections_of(choices: dict[str, list[str]]) -> dict[ContestId, tuple[CandidateId, ...]]:
    return {ContestId(c): tuple(CandidateId(x) for x in v) for c, v in choices.items()}

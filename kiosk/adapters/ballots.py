"""BallotPort over the election core and the ballot box: encryption (commit before cast or challenge),
casting (also provisional, with the identity envelope sealed to the office), the Benaloh challenge.

Each call blocks (SQL) and returns one session event; expected failures are values, never exceptions.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from nacl.public import PublicKey as SealPublicKey

from election.ballot import EncryptedBallot, PlaintextBallot, encrypt_ballot
from election.benaloh import challenge_ballot, verify_challenge
from election.check_code import KIOSK_SOURCE, CheckPayload
from election.confirmation import ConfirmationCode, confirmation_code
from election.context import ElectionContext
from election.manifest import BallotStyleId, ContestId, Manifest
from kiosk.ballot_box import BallotBox, BallotBoxError, BallotToStore, random_ballot_id
from kiosk.session import events as ev
from kiosk.session.model import CastReceipt, ChallengeReport, CheckInTicket, SealedBallot, Selections
from sync.protocol import ProvisionalReason

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Sealed:
    ballot: EncryptedBallot
    seed: bytes = field(repr=False)
    code: ConfirmationCode
    plaintext: PlaintextBallot = field(repr=False)

    def to_store(self, payload: dict[str, object] | None = None) -> BallotToStore:
        return BallotToStore(
            ballot_id=self.ballot.ballot_id,
            ballot_style_id=str(self.ballot.style_id),
            confirmation_code=self.code.hex(),
            encrypted_ballot=payload if payload is not None else self.ballot.to_dict(),
        )


class ProvisionalCheckIns(Protocol):
    """The poll book's provisional check-ins: ticket token -> civil number (memory only; the central poll book's
    offline check-ins, whose identity envelope is sealed at cast time)."""

    provisional_voters: dict[str, str]


@dataclass
class RealBallots:
    """BallotPort: the election core encrypts (commit before cast or challenge), the ballot box stores."""

    manifest: Manifest
    context: ElectionContext
    box: BallotBox
    poll_book: ProvisionalCheckIns
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
        code = confirmation_code(bytes.fromhex(self.box.genesis), self.box.kiosk_id, ballot)
        sealed = _Sealed(ballot, seed, code, plain)
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
        check = CheckPayload(KIOSK_SOURCE, s.ballot.ballot_id, s.seed).text()  # the second device's code
        return ev.BallotChallenged(
            ChallengeReport(decrypted=decrypted, verified=verified, code=s.code.short, check_code=check)
        )

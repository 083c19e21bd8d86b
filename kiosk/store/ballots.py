"""The voter side of the ballot box: check-ins, and the three ways a ballot is stored (cast, Benaloh-challenged,
provisional), all through ONE implementation of the storing invariants (``_store_ballot``).

Every ballot, whatever its disposition, is stored in one ``BEGIN IMMEDIATE`` transaction that checks the polls
are open, (for a cast ballot) that the check-in is active and of the ballot's style, that its confirmation code
is a code (64 lower-case hex digits; the code binds the ballot, the kiosk and the election, never the ballot
before) and that it is not already stored; then stores the ballot row, (for a cast ballot) marks the check-in voted
for the office, and appends the signed audit entry, which names no ballot except a provisional one (the batch
chain moves when ``kiosk.store.outbox`` seals a batch). The ballot box
never looks inside an encrypted ballot: it takes the election core's ``EncryptedBallot.to_dict()`` as an opaque
JSON object. It is the voter's hot path, so it runs as SQL statements on one connection (no ORM unit of work).
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Callable
from typing import Any

from nacl.public import PublicKey as SealPublicKey
from nacl.public import SealedBox
from sqlalchemy import Connection, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from election.canonical import sha256_hex
from kiosk import audit
from kiosk.polls import PollsState
from kiosk.store.base import StoreBase
from kiosk.store.models import BallotRow, CheckinRow, OutboxRow
from kiosk.store.records import (
    BallotBoxError,
    BallotToStore,
    ChainMismatch,
    CheckinNotActive,
    DuplicateBallot,
    PollsNotOpen,
    UnknownCheckin,
)
from sync.protocol import (
    BallotDisposition,
    BatchBallot,
    IdentityEnvelopeContent,
    ProvisionalReason,
    ProvisionalSubmission,
    ReleaseReason,
    to_wire,
)


class VoterStore(StoreBase):
    """Check-ins (the office's opaque tokens) and ballots."""

    def record_checkin(self, token: str, ballot_style_id: str) -> None:
        """Remember a check-in the office granted (its token only: no civil number, no time)."""
        with self._tx() as (s, kiosk):
            if kiosk.polls_state != PollsState.OPEN.value:
                raise PollsNotOpen(f"polls are {kiosk.polls_state}")
            if s.get(CheckinRow, token) is not None:
                return  # a retried check-in returns the same token
            s.add(CheckinRow(token=token, ballot_style_id=ballot_style_id, status="checked_in", synced=False))

    def release_checkin(self, token: str, reason: ReleaseReason) -> None:
        """The voter left without casting: queue a release of the office's lock."""
        with self._tx() as (s, _):
            row = s.get(CheckinRow, token)
            if row is None:
                raise UnknownCheckin("no such check-in")
            if row.status != "checked_in":
                return
            row.status, row.release_reason, row.synced = "released", reason.value, False

    def cast(self, token: str, ballot: BallotToStore) -> BatchBallot:
        """Cast: ballot stored + check-in voted + chain advanced + audit entry, all or nothing."""
        wire = ballot.as_wire(BallotDisposition.CAST)
        with self._engine.begin() as c:
            self._store_ballot(c, ballot, wire, "cast", "ballot_cast", token=token)
        return wire

    def record_challenge(self, ballot: BallotToStore) -> BatchBallot:
        """A Benaloh-challenged (spoiled) ballot, with whatever the core reveals in it; never counted."""
        wire = ballot.as_wire(BallotDisposition.CHALLENGED)
        with self._engine.begin() as c:
            self._store_ballot(c, ballot, wire, "challenged", "ballot_challenged")
        return wire

    def cast_provisional(
        self,
        ballot: BallotToStore,
        *,
        civil_number: str,
        reason: ProvisionalReason,
        office_key: SealPublicKey,
    ) -> str:
        """Store a provisional ballot and queue it with an identity envelope sealed to the office's X25519
        key (this kiosk cannot open it again). Returns the envelope id."""
        envelope_id = secrets.token_hex(16)
        wire = ballot.as_wire(BallotDisposition.CAST)
        content = IdentityEnvelopeContent(
            envelope_id=envelope_id,
            civil_number=civil_number,
            kiosk_id=self.kiosk_id,
            centre_id=self.centre_id,
            reason=reason,
            ballot_hash=sha256_hex(to_wire(wire)),
        )
        sealed = base64.b64encode(SealedBox(office_key).encrypt(to_wire(content))).decode("ascii")
        submission = self._signed(
            ProvisionalSubmission,
            kiosk_id=self.kiosk_id,
            envelope_id=envelope_id,
            identity_envelope=sealed,
            ballot=wire,
        )
        with self._engine.begin() as c:
            self._store_ballot(c, ballot, wire, "provisional", "ballot_provisional", envelope_id=envelope_id)
            c.execute(
                insert(OutboxRow).values(
                    kind="provisional", idempotency_key=envelope_id, body=to_wire(submission), sent=False, attempts=0
                )
            )
        return envelope_id

    def _store_ballot(
        self,
        c: Connection,
        ballot: BallotToStore,
        wire: BatchBallot,
        stored_as: str,
        log_kind: str,
        *,
        token: str | None = None,
        envelope_id: str | None = None,
    ) -> None:
        """The storing invariants, once for every disposition (see the module's docstring). ``token``: the
        check-in a cast ballot uses up; ``envelope_id``: a provisional ballot's submission (its batch id)."""
        (polls_state,) = c.exec_driver_sql("SELECT polls_state FROM kiosk WHERE id = 1").one()
        if polls_state != PollsState.OPEN.value:
            raise PollsNotOpen(f"polls are {polls_state}")
        if token is not None:
            checkin = c.exec_driver_sql(
                "SELECT status, ballot_style_id FROM checkins WHERE token = ?", (token,)
            ).one_or_none()
            if checkin is None:
                raise UnknownCheckin("no such check-in")
            if checkin[0] != "checked_in":
                raise CheckinNotActive(f"check-in is {checkin[0]}")
            if checkin[1] != ballot.ballot_style_id:
                raise BallotBoxError("the ballot's style is not the voter's")
        code = ballot.confirmation_code
        if len(code) != 64 or code != code.lower() or any(ch not in "0123456789abcdef" for ch in code):
            raise ChainMismatch("a confirmation code is 64 lower-case hex digits")
        body = to_wire(wire)
        digest = sha256_hex(body)
        try:
            c.exec_driver_sql(
                "INSERT INTO ballots (ballot_id, disposition, body, ballot_hash, batch_id) VALUES (?, ?, ?, ?, ?)",
                (ballot.ballot_id, stored_as, body, digest, envelope_id),
            )
        except IntegrityError:
            raise DuplicateBallot(f"ballot {ballot.ballot_id} is already stored") from None
        if token is not None:
            c.exec_driver_sql("UPDATE checkins SET status = 'voted', synced = 0 WHERE token = ?", (token,))
        # A cast or challenged ballot's entry names no ballot (no id, code or hash): the log's order must not order
        # the kiosk's ballots; the batch_sealed entry names them, sorted, once they are mixed in a batch. A
        # provisional ballot leaves at once, alone, with its identity envelope, so its entry may name it.
        payload: dict[str, Any] = {}
        if envelope_id is not None:
            payload = {
                "ballot_id": ballot.ballot_id,
                "ballot_hash": digest,
                "code": ballot.confirmation_code,
                "envelope_id": envelope_id,
            }
        audit.append_on(c, self._signer, self.kiosk_id, log_kind, payload)

    def export_ballots(self) -> list[BatchBallot]:
        """Every stored ballot, ordered by ballot id (random): what an auditor's export of the kiosk shows."""
        with Session(self._engine) as s:
            return [
                BatchBallot.model_validate_json(b)
                for b in s.scalars(select(BallotRow.body).order_by(BallotRow.ballot_id))
            ]


def random_ballot_id(random_hex: Callable[[int], str] = secrets.token_hex) -> str:
    """A ballot id with no relation to time, voter or sequence."""
    return random_hex(16)

"""The kiosk's ballot box: the only place the kiosk writes ballots, check-ins and the audit log.

Every public method is one SQLite transaction (``BEGIN IMMEDIATE`` .. ``COMMIT``; WAL, synchronous=FULL), so
a crash at any instant leaves either all of its effects or none. ``cast`` stores the encrypted ballot and
its confirmation code, marks the local check-in voted (queueing the voted mark), advances the confirmation
chain, appends the signed audit entry and leaves the ballot in the pending pool, from which ``seal_batches``
moves ballots into signed, shuffled batches in the outbox. The ballot box never looks inside an encrypted
ballot: it takes the election core's ``EncryptedBallot.to_dict()`` as an opaque JSON object.

How secrecy is kept here is described in kiosk/store/models.py and docs/sync-protocol.md ("Secrecy").
"""

from __future__ import annotations

import base64
import json
import secrets
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from nacl.public import PublicKey as SealPublicKey
from nacl.public import SealedBox
from sqlalchemy import Engine, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from election.canonical import sha256_hex
from election.chain_statement import ChainStatement, StatementKind
from kiosk import audit
from kiosk.states import PollsAction, PollsState, Refused, StaffCard, decide
from kiosk.store.db import open_database
from kiosk.store.models import AuditHeadRow, AuditRow, BallotRow, CheckinRow, KioskRow, OutboxRow
from sync.protocol import (
    MAX_BATCH_BALLOTS,
    BallotBatch,
    BallotDisposition,
    BatchBallot,
    ChainCloseSubmission,
    IdentityEnvelopeContent,
    ProvisionalReason,
    ProvisionalSubmission,
    ReleaseReason,
    SignedChainClose,
    SignedChainHead,
    signed_close,
    signed_head,
    signing_bytes,
    to_wire,
)
from sync.signing import Signer

DEFAULT_MIN_BATCH: Final = 10
SYNC_REFUSED: Final = "sync_refused"
SYNC_FAULTS_ACKNOWLEDGED: Final = "sync_faults_acknowledged"
SESSION_EVENT: Final = "session_event"
CHAIN_CLOSED: Final = "chain_closed"
CHAIN_CLOSE_OUTBOX: Final = "chain_close"
_KIND_OF_ENTRY: Final = {"ballot_cast": 0, "ballot_challenged": 1, "ballot_provisional": 2}

_rng = secrets.SystemRandom()


class StaffIdentity(Protocol):
    """What the ballot box logs of a staff member (``kiosk.states.StaffCard`` is one)."""

    def to_dict(self) -> dict[str, str]: ...


class BallotBoxError(Exception):
    """A request the ballot box refuses; nothing was written."""


class PollsNotOpen(BallotBoxError):
    pass


class UnknownCheckin(BallotBoxError):
    pass


class CheckinNotActive(BallotBoxError):
    """The check-in was already used to vote or was released."""


class ChainMismatch(BallotBoxError):
    """The ballot's previous code is not the kiosk's current chain head (a ballot was encrypted out of turn)."""


class DuplicateBallot(BallotBoxError):
    pass


class TransitionRefused(BallotBoxError):
    def __init__(self, refused: Refused) -> None:
        super().__init__(f"cannot {refused.action.value} from {refused.state.value}: {refused.reason.value}")
        self.refused = refused


@dataclass(frozen=True)
class BallotToStore:
    """An encrypted ballot and its confirmation code, as the voting session hands it over."""

    ballot_id: str
    ballot_style_id: str
    confirmation_code: str
    previous_code: str
    encrypted_ballot: Mapping[str, Any]

    def as_wire(self, disposition: BallotDisposition) -> BatchBallot:
        return BatchBallot(
            ballot_id=self.ballot_id,
            ballot_style_id=self.ballot_style_id,
            disposition=disposition,
            confirmation_code=self.confirmation_code,
            previous_code=self.previous_code,
            encrypted_ballot=dict(self.encrypted_ballot),
        )


@dataclass(frozen=True)
class Counts:
    cast: int
    challenged: int
    provisional: int
    unbatched: int
    unsent_outbox: int
    """Outbox items (batches, provisional submissions) not yet acknowledged."""
    unsent_ballots: int
    """Ballots not yet acknowledged by the office: in the pool or in an unsent outbox item."""
    pending_voted_marks: int
    pending_releases: int


@dataclass(frozen=True)
class PollsReport:
    """The zero report (on open) or close report (on close): what the kiosk holds at that moment."""

    kiosk_id: str
    state: PollsState
    counts: Counts
    chain_head: str
    audit_count: int

    def to_dict(self) -> dict[str, Any]:
        c = self.counts
        return {
            "kiosk_id": self.kiosk_id,
            "state": self.state.value,
            "ballots_cast": c.cast,
            "ballots_challenged": c.challenged,
            "ballots_provisional": c.provisional,
            "ballots_pending_sync": c.unsent_ballots,
            "voted_marks_pending_sync": c.pending_voted_marks,
            "chain_head": self.chain_head,
            "audit_count": self.audit_count,
        }


@dataclass(frozen=True)
class OutboxItem:
    seq: int
    kind: str
    idempotency_key: str
    body: bytes


class BallotBox:
    """Open with ``BallotBox.create`` (a fresh kiosk) or ``BallotBox.open`` (after a restart)."""

    def __init__(self, engine: Engine, signer: Signer, *, min_batch: int = DEFAULT_MIN_BATCH) -> None:
        if not 1 <= min_batch <= MAX_BATCH_BALLOTS:
            raise ValueError(f"min_batch must be 1..{MAX_BATCH_BALLOTS}")
        self._engine = engine
        self._signer = signer
        self.min_batch = min_batch
        with Session(engine) as s:
            kiosk = s.get(KioskRow, 1)
            if kiosk is None:
                raise BallotBoxError("the database is not initialised (use BallotBox.create)")
            self.kiosk_id = kiosk.kiosk_id
            self.centre_id = kiosk.centre_id

    @classmethod
    def create(
        cls,
        path: Path,
        signer: Signer,
        *,
        kiosk_id: str,
        centre_id: str,
        chain_genesis: str,
        min_batch: int = DEFAULT_MIN_BATCH,
    ) -> BallotBox:
        """Initialise a kiosk database (polls state ``setup``). ``chain_genesis`` is the hex of
        ``election.confirmation.genesis_code(H_E, kiosk_id)``."""
        engine = open_database(path)
        with Session(engine) as s, s.begin():
            if s.get(KioskRow, 1) is not None:
                raise BallotBoxError(f"{path} is already initialised")
            s.add(
                KioskRow(
                    id=1,
                    kiosk_id=kiosk_id,
                    centre_id=centre_id,
                    polls_state=PollsState.SETUP.value,
                    chain_head=chain_genesis,
                    audit_synced_through=0,
                )
            )
            audit.append(
                s, signer, kiosk_id, "kiosk_initialised", {"centre_id": centre_id, "chain_genesis": chain_genesis}
            )
        return cls(engine, signer, min_batch=min_batch)

    @classmethod
    def open(cls, path: Path, signer: Signer, *, min_batch: int = DEFAULT_MIN_BATCH) -> BallotBox:
        if not path.exists():
            raise BallotBoxError(f"{path}: no kiosk database")
        return cls(open_database(path), signer, min_batch=min_batch)

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def _tx(self) -> Iterator[tuple[Session, KioskRow]]:
        with Session(self._engine, expire_on_commit=False) as s, s.begin():
            kiosk = s.get(KioskRow, 1)
            assert kiosk is not None
            yield s, kiosk

    def _log(self, s: Session, kind: str, payload: Mapping[str, Any]) -> None:
        audit.append(s, self._signer, self.kiosk_id, kind, payload)

    # ---- voters ------------------------------------------------------------------------------------

    def record_checkin(self, token: str, ballot_style_id: str) -> None:
        """Remember a check-in the office granted (its token only: no civil number, no time)."""
        with self._tx() as (s, kiosk):
            self._require_open(kiosk)
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
        """Cast: ballot stored + check-in voted + chain advanced + audit entry, all or nothing.

        The voter's hot path, so it runs as SQL statements on one connection in one ``BEGIN IMMEDIATE``
        transaction (no ORM unit of work): the same checks, rows and audit entry as the other operations."""
        wire = ballot.as_wire(BallotDisposition.CAST)
        body = to_wire(wire)
        digest = sha256_hex(body)
        with self._engine.begin() as c:
            polls_state, chain_head = c.exec_driver_sql("SELECT polls_state, chain_head FROM kiosk WHERE id = 1").one()
            if polls_state != PollsState.OPEN.value:
                raise PollsNotOpen(f"polls are {polls_state}")
            checkin = c.exec_driver_sql(
                "SELECT status, ballot_style_id FROM checkins WHERE token = ?", (token,)
            ).one_or_none()
            if checkin is None:
                raise UnknownCheckin("no such check-in")
            if checkin[0] != "checked_in":
                raise CheckinNotActive(f"check-in is {checkin[0]}")
            if checkin[1] != ballot.ballot_style_id:
                raise BallotBoxError("the ballot's style is not the voter's")
            if ballot.previous_code != chain_head:
                raise ChainMismatch("the ballot does not chain from this kiosk's last confirmation code")
            try:
                c.exec_driver_sql(
                    "INSERT INTO ballots (ballot_id, disposition, body, ballot_hash, batch_id)"
                    " VALUES (?, 'cast', ?, ?, NULL)",
                    (ballot.ballot_id, body, digest),
                )
            except IntegrityError:
                raise DuplicateBallot(f"ballot {ballot.ballot_id} is already stored") from None
            c.exec_driver_sql("UPDATE kiosk SET chain_head = ? WHERE id = 1", (ballot.confirmation_code,))
            c.exec_driver_sql("UPDATE checkins SET status = 'voted', synced = 0 WHERE token = ?", (token,))
            payload = {"ballot_id": ballot.ballot_id, "ballot_hash": digest, "code": ballot.confirmation_code}
            audit.append_on(c, self._signer, self.kiosk_id, "ballot_cast", payload)
        return wire

    def record_challenge(self, ballot: BallotToStore) -> BatchBallot:
        """A Benaloh-challenged (spoiled) ballot, with whatever the core reveals in it; never counted."""
        with self._tx() as (s, kiosk):
            self._require_open(kiosk)
            return self._store(s, kiosk, ballot, BallotDisposition.CHALLENGED, "ballot_challenged")

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
        unsigned = ProvisionalSubmission.model_construct(
            kiosk_id=self.kiosk_id, envelope_id=envelope_id, identity_envelope=sealed, ballot=wire, signature=""
        )
        submission = ProvisionalSubmission(
            kiosk_id=self.kiosk_id,
            envelope_id=envelope_id,
            identity_envelope=sealed,
            ballot=wire,
            signature=self._signer.sign(signing_bytes(unsigned)),
        )
        with self._tx() as (s, kiosk):
            self._require_open(kiosk)
            self._store(s, kiosk, ballot, None, "ballot_provisional", batch_id=envelope_id, wire=wire)
            s.add(
                OutboxRow(
                    kind="provisional", idempotency_key=envelope_id, body=to_wire(submission), sent=False, attempts=0
                )
            )
        return envelope_id

    def _store(
        self,
        s: Session,
        kiosk: KioskRow,
        ballot: BallotToStore,
        disposition: BallotDisposition | None,
        log_kind: str,
        *,
        batch_id: str | None = None,
        wire: BatchBallot | None = None,
    ) -> BatchBallot:
        if ballot.previous_code != kiosk.chain_head:
            raise ChainMismatch("the ballot does not chain from this kiosk's last confirmation code")
        if s.get(BallotRow, ballot.ballot_id) is not None:
            raise DuplicateBallot(f"ballot {ballot.ballot_id} is already stored")
        wire = wire or ballot.as_wire(disposition or BallotDisposition.CAST)
        body = to_wire(wire)
        digest = sha256_hex(body)
        stored_as = disposition.value if disposition is not None else "provisional"
        s.add(
            BallotRow(
                ballot_id=ballot.ballot_id, disposition=stored_as, body=body, ballot_hash=digest, batch_id=batch_id
            )
        )
        kiosk.chain_head = ballot.confirmation_code
        payload: dict[str, Any] = {
            "ballot_id": ballot.ballot_id,
            "ballot_hash": digest,
            "code": ballot.confirmation_code,
        }
        if batch_id is not None:
            payload["envelope_id"] = batch_id
        self._log(s, log_kind, payload)
        return wire

    @staticmethod
    def _require_open(kiosk: KioskRow) -> None:
        if kiosk.polls_state != PollsState.OPEN.value:
            raise PollsNotOpen(f"polls are {kiosk.polls_state}")

    # ---- batches --------------------------------------------------------------------------------------

    def seal_batches(self, *, force: bool = False) -> list[str]:
        """Move pending ballots into signed batches, in random order, in the outbox. Without ``force`` only
        full batches (at least ``min_batch``) are sealed; ``force`` (window elapsed, polls closing) seals all."""
        sealed: list[str] = []
        with self._tx() as (s, _):
            pool = list(s.scalars(select(BallotRow).where(BallotRow.batch_id.is_(None))).all())
            if len(pool) > MAX_BATCH_BALLOTS:
                # Several batches at once: split in cast order (the office extends the kiosk's chain batch by
                # batch, so a later batch must not hold a ballot that an earlier one chains from); shuffled inside.
                position = self._cast_positions(s)
                pool.sort(key=lambda row: position[row.ballot_id])
            while pool and (force or len(pool) >= self.min_batch):
                size = min(len(pool), MAX_BATCH_BALLOTS)
                chunk, pool = pool[:size], pool[size:]
                head = self._chain_head_after(s, chunk, whole_chain=not pool)
                _rng.shuffle(chunk)
                batch_id = secrets.token_hex(16)
                ballots = [BatchBallot.model_validate_json(row.body) for row in chunk]
                unsigned = BallotBatch.model_construct(
                    kiosk_id=self.kiosk_id, batch_id=batch_id, ballots=ballots, chain_head=head, signature=""
                )
                batch = BallotBatch(
                    kiosk_id=self.kiosk_id,
                    batch_id=batch_id,
                    ballots=ballots,
                    chain_head=head,
                    signature=self._signer.sign(signing_bytes(unsigned)),
                )
                body = to_wire(batch)
                for row in chunk:
                    row.batch_id = batch_id
                s.add(OutboxRow(kind="batch", idempotency_key=batch_id, body=body, sent=False, attempts=0))
                self._log(
                    s, "batch_sealed", {"batch_id": batch_id, "ballots": len(chunk), "batch_hash": sha256_hex(body)}
                )
                sealed.append(batch_id)
        return sealed

    def _chain_head_after(self, s: Session, chunk: list[BallotRow], *, whole_chain: bool) -> SignedChainHead:
        """The signed chain head once ``chunk`` (sealed in cast order) is in the office's chain: the kiosk's own
        head and counts when nothing stays in the pool (``whole_chain``), else the chain up to the chunk's last
        ballot (links counted from the audit log, provisional ones in between included)."""
        kiosk = s.get(KioskRow, 1)
        assert kiosk is not None
        if whole_chain:
            c = self._counts(s)
            last, counts = kiosk.chain_head, [c.cast, c.challenged, c.provisional]
        else:
            position = self._cast_positions(s)
            upto = max(position[row.ballot_id] for row in chunk)
            counts, last = [0, 0, 0], self._genesis(s)
            rows = s.execute(
                select(AuditRow.kind, AuditRow.payload)
                .where(AuditRow.kind.in_(audit.BALLOT_KINDS), AuditRow.seq <= upto)
                .order_by(AuditRow.seq)
            )
            for kind, payload in rows:
                counts[_KIND_OF_ENTRY[kind]] += 1
                last = str(json.loads(payload)["code"])
        statement = ChainStatement(StatementKind.HEAD, self.kiosk_id, self._genesis(s), last, *counts)
        return signed_head(statement, self._signer.sign(statement.signing_bytes()))

    def _genesis(self, s: Session) -> str:
        """The chain's genesis code (hex), as logged when the kiosk database was initialised."""
        payload = s.scalar(select(AuditRow.payload).where(AuditRow.seq == 1, AuditRow.kind == "kiosk_initialised"))
        if payload is None:
            raise BallotBoxError("the audit log does not start with kiosk_initialised")
        return str(json.loads(payload)["chain_genesis"])

    def _chain_close(self, s: Session, kiosk: KioskRow) -> SignedChainClose:
        """The next signed chain close (``close_seq`` = closes already logged + 1)."""
        closes = s.scalar(select(func.count()).select_from(AuditRow).where(AuditRow.kind == CHAIN_CLOSED)) or 0
        c = self._counts(s)
        statement = ChainStatement(
            StatementKind.CLOSE,
            self.kiosk_id,
            self._genesis(s),
            kiosk.chain_head,
            c.cast,
            c.challenged,
            c.provisional,
            close_seq=closes + 1,
        )
        return signed_close(statement, self._signer.sign(statement.signing_bytes()))

    @staticmethod
    def _cast_positions(s: Session) -> dict[str, int]:
        """ballot id -> the seq of its audit entry (the order in which the kiosk stored its ballots)."""
        rows = s.execute(select(AuditRow.seq, AuditRow.payload).where(AuditRow.kind.in_(audit.BALLOT_KINDS)))
        return {str(json.loads(payload)["ballot_id"]): seq for seq, payload in rows}

    # ---- polls states -----------------------------------------------------------------------------------

    @property
    def chain_head(self) -> str:
        """The hex confirmation code the kiosk's next ballot (cast, challenged or provisional) chains from."""
        with Session(self._engine) as s:
            kiosk = s.get(KioskRow, 1)
            assert kiosk is not None
            return kiosk.chain_head

    @property
    def polls_state(self) -> PollsState:
        with Session(self._engine) as s:
            kiosk = s.get(KioskRow, 1)
            assert kiosk is not None
            return PollsState(kiosk.polls_state)

    def apply(self, action: PollsAction, staff: StaffCard) -> PollsReport:
        """Open, pause, resume or close the polls; returns the zero report (open) or the close report."""
        if action is PollsAction.CLOSE and self.polls_state in (PollsState.OPEN, PollsState.PAUSED):
            self.seal_batches(force=True)  # the last, possibly small, batch leaves with the close report
        with self._tx() as (s, kiosk):
            stored = s.scalar(select(func.count()).select_from(BallotRow)) or 0
            outcome = decide(PollsState(kiosk.polls_state), action, staff, ballots_stored=stored)
            if isinstance(outcome, Refused):
                raise TransitionRefused(outcome)
            kiosk.polls_state = outcome.after.value
            report = PollsReport(
                self.kiosk_id, outcome.after, self._counts(s), kiosk.chain_head, self._audit_count(s) + 1
            )
            self._log(
                s,
                f"polls_{action.value}",
                {"staff": staff.to_dict(), "from": outcome.before.value, "report": report.to_dict()},
            )
            if action is PollsAction.CLOSE:
                # The signed chain close: stored (audit log, outbox) in the transaction that closes the polls,
                # queued after the final batch (sealed just before), sent to POST /v1/chain-close.
                close = self._chain_close(s, kiosk)
                self._log(s, CHAIN_CLOSED, {"close": close.model_dump(mode="json")})
                submission = ChainCloseSubmission(kiosk_id=self.kiosk_id, close=close)
                s.add(
                    OutboxRow(
                        kind=CHAIN_CLOSE_OUTBOX,
                        idempotency_key=f"close-{close.close_seq}",
                        body=to_wire(submission),
                        sent=False,
                        attempts=0,
                    )
                )
        return report

    def chain_close(self) -> SignedChainClose | None:
        """The kiosk's latest signed chain close (None while its polls never closed): for the close report."""
        with Session(self._engine) as s:
            payload = s.scalar(
                select(AuditRow.payload).where(AuditRow.kind == CHAIN_CLOSED).order_by(AuditRow.seq.desc()).limit(1)
            )
        return None if payload is None else SignedChainClose.model_validate(json.loads(payload)["close"])

    def checkin_count(self) -> int:
        """Check-ins recorded on this kiosk (random tokens only, never who): for the staff screen."""
        with Session(self._engine) as s:
            return s.scalar(select(func.count()).select_from(CheckinRow)) or 0

    def counts(self) -> Counts:
        with Session(self._engine) as s:
            return self._counts(s)

    @staticmethod
    def _counts(s: Session) -> Counts:
        by_disp = dict(s.execute(select(BallotRow.disposition, func.count()).group_by(BallotRow.disposition)).all())
        pending = dict(
            s.execute(
                select(CheckinRow.status, func.count()).where(CheckinRow.synced.is_(False)).group_by(CheckinRow.status)
            ).all()
        )
        unbatched = s.scalar(select(func.count()).select_from(BallotRow).where(BallotRow.batch_id.is_(None))) or 0
        unsent = s.scalar(select(func.count()).select_from(OutboxRow).where(OutboxRow.sent.is_(False))) or 0
        unsent_keys = select(OutboxRow.idempotency_key).where(OutboxRow.sent.is_(False))
        in_unsent = (
            s.scalar(select(func.count()).select_from(BallotRow).where(BallotRow.batch_id.in_(unsent_keys))) or 0
        )
        return Counts(
            cast=by_disp.get("cast", 0),
            challenged=by_disp.get("challenged", 0),
            provisional=by_disp.get("provisional", 0),
            unbatched=unbatched,
            unsent_outbox=unsent,
            unsent_ballots=unbatched + in_unsent,
            pending_voted_marks=pending.get("voted", 0),
            pending_releases=pending.get("released", 0),
        )

    @staticmethod
    def _audit_count(s: Session) -> int:
        head = s.get(AuditHeadRow, 1)
        return head.count if head is not None else 0

    # ---- the sync side (used by sync.worker.SyncWorker) ------------------------------------------------

    def pending_checkin_updates(self, limit: int = 100) -> list[tuple[str, str, str | None]]:
        """(token, "voted"|"released", release reason) not yet acknowledged, in random (token) order."""
        with Session(self._engine) as s:
            rows = s.execute(
                select(CheckinRow.token, CheckinRow.status, CheckinRow.release_reason)
                .where(CheckinRow.synced.is_(False), CheckinRow.status != "checked_in")
                .order_by(CheckinRow.token)
                .limit(limit)
            )
            return [(r[0], r[1], r[2]) for r in rows]

    def mark_checkin_synced(self, token: str) -> None:
        with self._tx() as (s, _):
            s.execute(update(CheckinRow).where(CheckinRow.token == token).values(synced=True))

    def unsent_outbox(self, limit: int = 10) -> list[OutboxItem]:
        with Session(self._engine) as s:
            rows = s.scalars(
                select(OutboxRow).where(OutboxRow.sent.is_(False)).order_by(OutboxRow.seq).limit(limit)
            ).all()
            return [OutboxItem(r.seq, r.kind, r.idempotency_key, r.body) for r in rows]

    def mark_outbox_sent(self, seq: int, *, refused: int = 0) -> None:
        """Acknowledged by the office. A provisional item's body (with the sealed identity envelope) is
        wiped: the office has it, and the kiosk need not keep the voter-ballot link any longer. ``refused``
        ballots of a delivered batch (the office's receipt) are logged in the same transaction
        (``sync_refused``): a sync fault that lasts until staff acknowledge it."""
        with self._tx() as (s, _):
            row = s.get(OutboxRow, seq)
            if row is None or row.sent:
                return
            row.sent, row.last_error = True, None
            if row.kind == "provisional":
                row.body = b""
            if refused > 0:
                self._log(s, SYNC_REFUSED, {"batch_id": row.idempotency_key, "refused": refused})

    def unacknowledged_refusals(self) -> list[tuple[str, int]]:
        """(batch id, ballots refused) logged since staff last acknowledged the sync faults."""
        with Session(self._engine) as s:
            rows = s.execute(
                select(AuditRow.kind, AuditRow.payload)
                .where(AuditRow.kind.in_((SYNC_REFUSED, SYNC_FAULTS_ACKNOWLEDGED)))
                .order_by(AuditRow.seq)
            ).all()
        open_refusals: list[tuple[str, int]] = []
        for kind, payload in rows:
            if kind == SYNC_FAULTS_ACKNOWLEDGED:
                open_refusals = []
            else:
                data = json.loads(payload)
                open_refusals.append((str(data["batch_id"]), int(data["refused"])))
        return open_refusals

    def acknowledge_sync_faults(self, staff: StaffIdentity) -> None:
        """Staff have seen the sync faults (logged with the staff card, a ``kiosk.states.StaffCard``)."""
        with self._tx() as (s, _):
            self._log(s, SYNC_FAULTS_ACKNOWLEDGED, {"staff": staff.to_dict()})

    def record_session_event(self, kind: str, detail: str) -> None:
        """Append a voter-session or staff event (card read, PIN refused, staff action, assistance given) to the
        signed audit log. The session never puts a vote, a PIN or a voter's identity in an event."""
        with self._tx() as (s, _):
            self._log(s, SESSION_EVENT, {"event": kind[:64], "detail": detail[:200]})

    def record_outbox_failure(self, seq: int, error: str) -> None:
        with self._tx() as (s, _):
            row = s.get(OutboxRow, seq)
            if row is not None:
                row.attempts += 1
                row.last_error = error[:500]

    def audit_synced_through(self) -> int:
        with Session(self._engine) as s:
            kiosk = s.get(KioskRow, 1)
            assert kiosk is not None
            return kiosk.audit_synced_through

    def set_audit_synced_through(self, seq: int) -> None:
        with self._tx() as (_, kiosk):
            kiosk.audit_synced_through = max(kiosk.audit_synced_through, seq)

    def audit_entries_after(self, seq: int, limit: int) -> list[AuditRow]:
        with Session(self._engine) as s:
            rows = list(audit.entries_after(s, seq, limit))
            s.expunge_all()
            return rows

    def audit_head(self) -> tuple[int, str, str]:
        with Session(self._engine) as s:
            head = s.get(AuditHeadRow, 1)
            assert head is not None
            return head.count, head.head_hash, head.signature

    def audit_releasable_through(self) -> int:
        """The last audit seq the sync worker may send (docs/sync-protocol.md, "Audit segments: held back"):
        the ``batch_sealed`` entry of the latest delivered batch before which every ballot entry's ballot was
        delivered; the whole log once the polls are closed and every ballot delivered. Entries that name ballots
        so leave only with or after their batch, and nothing the office receives tells it where in the log the
        voter now at the kiosk stands."""
        with Session(self._engine) as s:
            kiosk = s.get(KioskRow, 1)
            assert kiosk is not None
            unsent_keys = set(s.scalars(select(OutboxRow.idempotency_key).where(OutboxRow.sent.is_(False))))
            undelivered = set(
                s.scalars(
                    select(BallotRow.ballot_id).where(
                        BallotRow.batch_id.is_(None) | BallotRow.batch_id.in_(list(unsent_keys))
                    )
                )
            )
            if not undelivered and kiosk.polls_state == PollsState.CLOSED.value:
                return self._audit_count(s)
            through = kiosk.audit_synced_through
            rows = s.execute(
                select(AuditRow.seq, AuditRow.kind, AuditRow.payload)
                .where(AuditRow.seq > through, AuditRow.kind.in_([*audit.BALLOT_KINDS, "batch_sealed"]))
                .order_by(AuditRow.seq)
            )
            for seq, kind, payload in rows:
                data = json.loads(payload)
                if kind == "batch_sealed":
                    if data["batch_id"] in unsent_keys:
                        break
                    through = seq
                elif data["ballot_id"] in undelivered:
                    break
            return int(through)

    def signed_audit_head_at(self, seq: int) -> tuple[int, str, str]:
        """(count, head hash, signature) of the log's first ``seq`` entries, signed now by the kiosk key: the head
        sent with a held-back audit segment (the current head's count would say how far the log has grown)."""
        with Session(self._engine) as s:
            digest = (
                audit.genesis_hash(self.kiosk_id)
                if seq == 0
                else s.scalar(select(AuditRow.entry_hash).where(AuditRow.seq == seq))
            )
            if digest is None:
                raise BallotBoxError(f"no audit entry {seq}")
        return seq, digest, self._signer.sign(audit.head_signing_bytes(self.kiosk_id, seq, digest))

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

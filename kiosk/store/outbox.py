"""The ballot box's sending side: ballots sealed into signed, shuffled batches; the outbox the sync worker drains
in order; check-in outcomes (voted marks, releases) waiting for the office. Everything it hands out is a named
record (``OutboxItem``, ``CheckinUpdate``)."""

from __future__ import annotations

import json
import secrets
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from election.canonical import sha256_hex
from election.chain_statement import ChainStatement, StatementKind
from kiosk import audit
from kiosk.store.base import StoreBase
from kiosk.store.models import AuditRow, BallotRow, CheckinRow, KioskRow, OutboxRow
from kiosk.store.records import SYNC_REFUSED, CheckinUpdate, OutboxItem
from sync.protocol import (
    MAX_BATCH_BALLOTS,
    BallotBatch,
    BatchBallot,
    SignedChainHead,
    signed_head,
    to_wire,
)

DEFAULT_MIN_BATCH: Final = 10
_KIND_OF_ENTRY: Final = {"ballot_cast": 0, "ballot_challenged": 1, "ballot_provisional": 2}

_rng = secrets.SystemRandom()


class Outbox(StoreBase):
    min_batch: int
    """A batch is sealed once the pool holds this many ballots (or when forced: window elapsed, polls closing)."""

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
                batch = self._signed(
                    BallotBatch, kiosk_id=self.kiosk_id, batch_id=batch_id, ballots=ballots, chain_head=head
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

    def record_outbox_failure(self, seq: int, error: str) -> None:
        with self._tx() as (s, _):
            row = s.get(OutboxRow, seq)
            if row is not None:
                row.attempts += 1
                row.last_error = error[:500]

    def pending_checkin_updates(self, limit: int = 100) -> list[CheckinUpdate]:
        """Check-in outcomes ("voted", "released") not yet acknowledged, in random (token) order."""
        with Session(self._engine) as s:
            rows = s.execute(
                select(CheckinRow.token, CheckinRow.status, CheckinRow.release_reason)
                .where(CheckinRow.synced.is_(False), CheckinRow.status != "checked_in")
                .order_by(CheckinRow.token)
                .limit(limit)
            )
            return [CheckinUpdate(r[0], r[1], r[2]) for r in rows]

    def mark_checkin_synced(self, token: str) -> None:
        with self._tx() as (s, _):
            s.execute(update(CheckinRow).where(CheckinRow.token == token).values(synced=True))

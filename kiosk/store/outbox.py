"""The ballot box's sending side: ballots sealed into signed, shuffled batches, each extending the kiosk's batch
chain (``election.confirmation.batch_root``: the root over its links' codes, sorted, signed in its chain head) and
logged by a ``batch_sealed`` entry that names its ballots (ids and hashes, sorted by id); the outbox the sync worker
drains in order; check-in outcomes (voted marks, releases) waiting for the office. Everything it hands out is a named
record (``OutboxItem``, ``CheckinUpdate``)."""

from __future__ import annotations

import json
import secrets
from typing import Final

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from election.canonical import sha256_hex
from election.chain_statement import ChainStatement, StatementKind
from election.confirmation import batch_root
from kiosk.store.base import StoreBase
from kiosk.store.models import AuditRow, BallotRow, CheckinRow, KioskRow, OutboxRow
from kiosk.store.records import BATCH_SEALED, SYNC_REFUSED, CheckinUpdate, OutboxItem
from sync.protocol import (
    MAX_BATCH_BALLOTS,
    BallotBatch,
    BallotDisposition,
    BatchBallot,
    signed_head,
    to_wire,
)

DEFAULT_MIN_BATCH: Final = 10

_rng = secrets.SystemRandom()


class Outbox(StoreBase):
    min_batch: int
    """A batch is sealed once the pool holds this many ballots (or when forced: window elapsed, polls closing)."""

    def seal_batches(self, *, force: bool = False) -> list[str]:
        """Move pending ballots into signed batches, in random order, in the outbox. Without ``force`` only
        full batches (at least ``min_batch``) are sealed; ``force`` (window elapsed, polls closing) seals all, and
        seals a batch of provisional links alone when only those wait. Each batch extends the kiosk's batch chain:
        its links are its ballots and the provisional ballots stored since the last batch (sent before, with their
        envelopes), its root ``batch_root(previous root, kiosk, their codes)``, its signed head that root and the
        links counted so far. A pool of more than MAX_BATCH_BALLOTS is split at random, each part one batch."""
        sealed: list[str] = []
        with self._tx() as (s, kiosk):
            pool = list(s.scalars(select(BallotRow).where(BallotRow.batch_id.is_(None))).all())
            provisional = self._unlinked_provisional(s)
            _rng.shuffle(pool)
            while (pool and (force or len(pool) >= self.min_batch)) or (force and provisional):
                size = min(len(pool), MAX_BATCH_BALLOTS)
                chunk, pool = pool[:size], pool[size:]
                codes, provisional = provisional, []
                sealed.append(self._seal(s, kiosk, chunk, codes))
        return sealed

    def _seal(self, s: Session, kiosk: KioskRow, chunk: list[BallotRow], provisional: list[str]) -> str:
        ballots = [BatchBallot.model_validate_json(row.body) for row in chunk]
        previous, counts = self._last_sealed(s)
        root = batch_root(
            bytes.fromhex(previous),
            self.kiosk_id,
            [bytes.fromhex(b.confirmation_code) for b in ballots] + [bytes.fromhex(c) for c in provisional],
        ).hex()
        counts = [
            counts[0] + sum(b.disposition is BallotDisposition.CAST for b in ballots),
            counts[1] + sum(b.disposition is BallotDisposition.CHALLENGED for b in ballots),
            counts[2] + len(provisional),
        ]
        statement = ChainStatement(StatementKind.HEAD, self.kiosk_id, self._genesis(s), root, *counts)
        head = signed_head(statement, self._signer.sign(statement.signing_bytes()))
        batch_id = secrets.token_hex(16)
        codes = sorted(provisional)
        batch = self._signed(
            BallotBatch,
            kiosk_id=self.kiosk_id,
            batch_id=batch_id,
            ballots=ballots,
            provisional_codes=codes,
            chain_head=head,
        )
        body = to_wire(batch)
        for row in chunk:
            row.batch_id = batch_id
        kiosk.chain_head = root
        s.add(OutboxRow(kind="batch", idempotency_key=batch_id, body=body, sent=False, attempts=0))
        self._log(
            s,
            BATCH_SEALED,
            {
                "batch_id": batch_id,
                "ballots": sorted(
                    ({"ballot_id": r.ballot_id, "ballot_hash": r.ballot_hash} for r in chunk),
                    key=lambda b: b["ballot_id"],
                ),
                "provisional_codes": codes,
                "previous_root": previous,
                "root": root,
                "counts": counts,
                "batch_hash": sha256_hex(body),
            },
        )
        return batch_id

    @staticmethod
    def _last_sealed(s: Session) -> tuple[str, list[int]]:
        """The root and the cumulative (cast, challenged, provisional) link counts of the last sealed batch (the
        genesis and zeros before the first)."""
        payload = s.scalar(
            select(AuditRow.payload).where(AuditRow.kind == BATCH_SEALED).order_by(AuditRow.seq.desc()).limit(1)
        )
        if payload is None:
            return StoreBase._genesis(s), [0, 0, 0]
        data = json.loads(payload)
        return str(data["root"]), [int(n) for n in data["counts"]]

    @staticmethod
    def _unlinked_provisional(s: Session) -> list[str]:
        """The codes of provisional ballots that no sealed batch links yet (they join the next one)."""
        linked: set[str] = set()
        for payload in s.scalars(select(AuditRow.payload).where(AuditRow.kind == BATCH_SEALED)):
            linked.update(json.loads(payload)["provisional_codes"])
        bodies = s.scalars(select(BallotRow.body).where(BallotRow.disposition == "provisional"))
        codes = {BatchBallot.model_validate_json(body).confirmation_code for body in bodies}
        return sorted(codes - linked)

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

"""The ballot box's audit side: session and staff events into the signed log, sync faults until staff acknowledge
them, and what the sync worker may send of the log (held back until the ballots it names are delivered)."""

from __future__ import annotations

import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.polls import PollsState
from kiosk.store.base import StoreBase
from kiosk.store.models import AuditHeadRow, AuditRow, BallotRow, KioskRow, OutboxRow
from kiosk.store.records import (
    BATCH_SEALED,
    SESSION_EVENT,
    SYNC_FAULTS_ACKNOWLEDGED,
    SYNC_REFUSED,
    AuditHead,
    BallotBoxError,
    StaffIdentity,
    SyncRefusal,
)


class AuditTrail(StoreBase):
    def record_session_event(self, kind: str, detail: str) -> None:
        """Append a voter-session or staff event (card read, PIN refused, staff action, assistance given) to the
        signed audit log. The session never puts a vote, a PIN or a voter's identity in an event."""
        with self._tx() as (s, _):
            self._log(s, SESSION_EVENT, {"event": kind[:64], "detail": detail[:200]})

    def unacknowledged_refusals(self) -> list[SyncRefusal]:
        """Ballots refused per batch, logged since staff last acknowledged the sync faults."""
        with Session(self._engine) as s:
            rows = s.execute(
                select(AuditRow.kind, AuditRow.payload)
                .where(AuditRow.kind.in_((SYNC_REFUSED, SYNC_FAULTS_ACKNOWLEDGED)))
                .order_by(AuditRow.seq)
            ).all()
        open_refusals: list[SyncRefusal] = []
        for kind, payload in rows:
            if kind == SYNC_FAULTS_ACKNOWLEDGED:
                open_refusals = []
            else:
                data = json.loads(payload)
                open_refusals.append(SyncRefusal(str(data["batch_id"]), int(data["refused"])))
        return open_refusals

    def acknowledge_sync_faults(self, staff: StaffIdentity) -> None:
        """Staff have seen the sync faults (logged with the staff card, a ``kiosk.polls.StaffCard``)."""
        with self._tx() as (s, _):
            self._log(s, SYNC_FAULTS_ACKNOWLEDGED, {"staff": staff.to_dict()})

    def audit_synced_through(self) -> int:
        return self._kiosk_row().audit_synced_through

    def set_audit_synced_through(self, seq: int) -> None:
        with self._tx() as (_, kiosk):
            kiosk.audit_synced_through = max(kiosk.audit_synced_through, seq)

    def audit_entries_after(self, seq: int, limit: int) -> list[AuditRow]:
        with Session(self._engine) as s:
            rows = list(audit.entries_after(s, seq, limit))
            s.expunge_all()
            return rows

    def audit_head(self) -> AuditHead:
        with Session(self._engine) as s:
            head = s.get(AuditHeadRow, 1)
            assert head is not None
            return AuditHead(head.count, head.head_hash, head.signature)

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
            # Cast and challenge entries name no ballot; one is delivered once as many ballots were sealed in
            # delivered batches up to an entry as such entries precede it.
            through, anonymous, sealed = kiosk.audit_synced_through, 0, 0
            rows = s.execute(
                select(AuditRow.seq, AuditRow.kind, AuditRow.payload)
                .where(AuditRow.kind.in_([*audit.BALLOT_KINDS, BATCH_SEALED]))
                .order_by(AuditRow.seq)
            )
            for seq, kind, payload in rows:
                if kind in ("ballot_cast", "ballot_challenged"):
                    anonymous += 1
                    continue
                data = json.loads(payload)
                if kind == BATCH_SEALED:
                    if data["batch_id"] in unsent_keys:
                        break
                    sealed += len(data["ballots"])
                    if sealed == anonymous and seq > through:
                        through = seq
                elif data["ballot_id"] in undelivered:
                    break
            return int(through)

    def signed_audit_head_at(self, seq: int) -> AuditHead:
        """The log's first ``seq`` entries' head, signed now by the kiosk key: the head sent with a held-back audit
        segment (the current head's count would say how far the log has grown)."""
        with Session(self._engine) as s:
            digest = (
                audit.genesis_hash(self.kiosk_id)
                if seq == 0
                else s.scalar(select(AuditRow.entry_hash).where(AuditRow.seq == seq))
            )
            if digest is None:
                raise BallotBoxError(f"no audit entry {seq}")
        return AuditHead(seq, digest, self._signer.sign(audit.head_signing_bytes(self.kiosk_id, seq, digest)))

"""What every part of the ballot box shares: the database, the kiosk's signing key and its ids, one transaction
helper, and the read queries more than one part needs (counts, the chain's genesis, ballots' positions)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeVar

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.store.models import AuditHeadRow, AuditRow, BallotRow, CheckinRow, KioskRow, OutboxRow
from kiosk.store.records import BallotBoxError, Counts
from sync.protocol import BallotBatch, ProvisionalSubmission, signing_bytes
from sync.signing import Signer

_Signed = TypeVar("_Signed", BallotBatch, ProvisionalSubmission)


class StoreBase:
    """The state the ballot box's parts (``kiosk.store.ballots``, ``.outbox``, ``.polls``, ``.audit_trail``)
    work on. Every public method of a part is one SQLite transaction (``BEGIN IMMEDIATE`` .. ``COMMIT``)."""

    kiosk_id: str
    centre_id: str

    def __init__(self, engine: Engine, signer: Signer) -> None:
        self._engine = engine
        self._signer = signer
        with Session(engine) as s:
            kiosk = s.get(KioskRow, 1)
            if kiosk is None:
                raise BallotBoxError("the database is not initialised (use BallotBox.create)")
            self.kiosk_id = kiosk.kiosk_id
            self.centre_id = kiosk.centre_id

    @contextmanager
    def _tx(self) -> Iterator[tuple[Session, KioskRow]]:
        with Session(self._engine, expire_on_commit=False) as s, s.begin():
            kiosk = s.get(KioskRow, 1)
            assert kiosk is not None
            yield s, kiosk

    def _kiosk_row(self) -> KioskRow:
        with Session(self._engine) as s:
            kiosk = s.get(KioskRow, 1)
            assert kiosk is not None
            return kiosk

    def _signed(self, message: type[_Signed], **fields: Any) -> _Signed:
        """``message`` with ``fields`` and the kiosk's signature over ``signing_bytes`` of them."""
        unsigned = message.model_construct(**fields, signature="")
        return message(**fields, signature=self._signer.sign(signing_bytes(unsigned)))

    def _log(self, s: Session, kind: str, payload: Mapping[str, Any]) -> None:
        audit.append(s, self._signer, self.kiosk_id, kind, payload)

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

    def counts(self) -> Counts:
        with Session(self._engine) as s:
            return self._counts(s)

    @staticmethod
    def _audit_count(s: Session) -> int:
        head = s.get(AuditHeadRow, 1)
        return head.count if head is not None else 0

    @staticmethod
    def _genesis(s: Session) -> str:
        """The chain's genesis code (hex), as logged when the kiosk database was initialised."""
        payload = s.scalar(select(AuditRow.payload).where(AuditRow.seq == 1, AuditRow.kind == "kiosk_initialised"))
        if payload is None:
            raise BallotBoxError("the audit log does not start with kiosk_initialised")
        return str(json.loads(payload)["chain_genesis"])

"""The kiosk's ballot box: the only place the kiosk writes ballots, check-ins and the audit log.

One SQLite database (``kiosk/store/``: models, migrations, WAL, synchronous=FULL, ``BEGIN IMMEDIATE``), every
public method one transaction, so a crash at any instant leaves either all of its effects or none. Its parts,
one concept each, share the database, the kiosk's key and its ids (``kiosk.store.base.StoreBase``):

- ``kiosk.store.ballots.VoterStore``: check-ins and the three ways a ballot is stored (cast, challenged,
  provisional), through one implementation of the storing invariants;
- ``kiosk.store.outbox.Outbox``: signed, shuffled batches, the outbox, check-in outcomes for the office (named
  records: ``OutboxItem``, ``CheckinUpdate``);
- ``kiosk.store.polls_store.PollsStore``: the polls states with their reports, and the signed chain close;
- ``kiosk.store.audit_trail.AuditTrail``: session events, sync faults, what of the log may be sent.

``BallotBox`` is all of them on one database: the session's adapters use its voter side, the sync worker its
``sync.worker.KioskQueue`` side, the staff screens its polls. How secrecy is kept is described in
kiosk/store/models.py and docs/sync-protocol.md ("Secrecy").
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from kiosk import audit
from kiosk.polls import PollsState
from kiosk.store.audit_trail import AuditTrail
from kiosk.store.ballots import VoterStore, random_ballot_id
from kiosk.store.db import open_database
from kiosk.store.models import KioskRow
from kiosk.store.outbox import DEFAULT_MIN_BATCH
from kiosk.store.polls_store import PollsStore
from kiosk.store.records import (
    CHAIN_CLOSE_OUTBOX,
    CHAIN_CLOSED,
    SESSION_EVENT,
    SYNC_FAULTS_ACKNOWLEDGED,
    SYNC_REFUSED,
    AuditHead,
    BallotBoxError,
    BallotToStore,
    ChainMismatch,
    CheckinNotActive,
    CheckinUpdate,
    Counts,
    DuplicateBallot,
    OutboxItem,
    PollsNotOpen,
    PollsReport,
    StaffIdentity,
    SyncRefusal,
    TransitionRefused,
    UnknownCheckin,
)
from sync.protocol import MAX_BATCH_BALLOTS
from sync.signing import Signer

__all__ = [
    "CHAIN_CLOSED",
    "CHAIN_CLOSE_OUTBOX",
    "DEFAULT_MIN_BATCH",
    "SESSION_EVENT",
    "SYNC_FAULTS_ACKNOWLEDGED",
    "SYNC_REFUSED",
    "AuditHead",
    "BallotBox",
    "BallotBoxError",
    "BallotToStore",
    "ChainMismatch",
    "CheckinNotActive",
    "CheckinUpdate",
    "Counts",
    "DuplicateBallot",
    "OutboxItem",
    "PollsNotOpen",
    "PollsReport",
    "StaffIdentity",
    "SyncRefusal",
    "TransitionRefused",
    "UnknownCheckin",
    "random_ballot_id",
]


class BallotBox(VoterStore, PollsStore, AuditTrail):
    """Open with ``BallotBox.create`` (a fresh kiosk) or ``BallotBox.open`` (after a restart)."""

    def __init__(self, engine: Engine, signer: Signer, *, min_batch: int = DEFAULT_MIN_BATCH) -> None:
        if not 1 <= min_batch <= MAX_BATCH_BALLOTS:
            raise ValueError(f"min_batch must be 1..{MAX_BATCH_BALLOTS}")
        super().__init__(engine, signer)
        self.min_batch = min_batch

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

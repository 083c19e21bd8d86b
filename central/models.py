"""The central office's database tables (SQLAlchemy 2 typed models). The schema itself is owned by Alembic
(central/migrations); ``Base.metadata`` is what the migrations are checked against.

Privacy rules visible in the schema:
- ``voters`` holds a state, never a ballot id, a kiosk after voting, or the time of the voted mark; the lock
  (kiosk, token, expiry, the check-in request's key) lives on the voter row only while the lock exists;
- no per-check-in table: a check-in's answer is not stored (a retry is answered from the live lock), and a
  spent token is kept only as a keyed hash of (kiosk, token), with no kiosk, voter or time;
- turnout is kept only as counts per centre, wilayat and coarse time bucket (``turnout_buckets``);
- ``ballots`` carry nothing that identifies the voter; a provisional envelope's sealed identity is
  erased (set to NULL) as soon as the envelope is decided.
"""

from __future__ import annotations

import datetime as dt
import enum
from typing import Any

from sqlalchemy import JSON, DateTime, Enum, ForeignKey, Index, Integer, LargeBinary, String, Text, false, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    type_annotation_map = {  # noqa: RUF012  (SQLAlchemy's documented way)
        dict[str, Any]: JSON,
        list[Any]: JSON,
        dt.datetime: DateTime(timezone=True),
    }


def _enum(cls: type[enum.Enum]) -> Enum:
    return Enum(cls, native_enum=False, length=24, values_callable=lambda e: [m.value for m in e])


class VoterState(enum.Enum):
    NOT_VOTED = "not_voted"
    CHECKED_IN = "checked_in"
    VOTED = "voted"


class Voter(Base):
    __tablename__ = "voters"
    civil_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    wilayat: Mapped[str] = mapped_column(String(32), index=True)
    style_id: Mapped[str] = mapped_column(String(64))
    eligible: Mapped[bool]
    state: Mapped[VoterState] = mapped_column(_enum(VoterState), default=VoterState.NOT_VOTED)
    lock_kiosk: Mapped[str | None] = mapped_column(String(64))
    lock_token: Mapped[str | None] = mapped_column(String(64), unique=True)
    lock_expires_at: Mapped[dt.datetime | None]
    lock_request: Mapped[str | None] = mapped_column(String(64))
    """Keyed hash of (kiosk, idempotency key) of the check-in that took the lock: a retry of it is answered from
    the lock, the same key for another voter is refused. Cleared with the lock."""


class SpentToken(Base):
    """Check-in tokens already used for a voted mark or release (so a retry gets the same answer). The key is a
    keyed hash of (kiosk, token) (``pollbook.spent_key``): no kiosk id, no token hash joinable elsewhere, no
    voter, no time. On SQLite the table has no rowid (no insertion counter)."""

    __tablename__ = "spent_tokens"
    spent_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    outcome: Mapped[str] = mapped_column(String(16))
    __table_args__ = {"sqlite_with_rowid": False}  # noqa: RUF012  (SQLAlchemy's documented way)


class TurnoutBucket(Base):
    """Voted marks counted per centre, wilayat and time bucket (e.g. 15 minutes): the only turnout data."""

    __tablename__ = "turnout_buckets"
    centre_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    wilayat: Mapped[str] = mapped_column(String(32), primary_key=True)
    bucket_start: Mapped[dt.datetime] = mapped_column(primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)


class Kiosk(Base):
    __tablename__ = "kiosks"
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    centre_id: Mapped[str] = mapped_column(String(64))
    cert_sha256: Mapped[str | None] = mapped_column(String(64))
    public_key_pem: Mapped[str | None] = mapped_column(Text)
    enrolled_at: Mapped[dt.datetime | None]
    enrolled_by: Mapped[str | None] = mapped_column(String(128))
    last_seen_at: Mapped[dt.datetime | None]
    status: Mapped[dict[str, Any]] = mapped_column(default=dict)
    chain_head: Mapped[str | None] = mapped_column(String(128))
    ballots_accepted: Mapped[int] = mapped_column(Integer, default=0)


class Batch(Base):
    """A ballot batch as received; the stored response is returned again for a replay of the same batch."""

    __tablename__ = "batches"
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime]
    response: Mapped[dict[str, Any]]


class BallotStatus(enum.Enum):
    ACCEPTED = "accepted"  # counted (a cast ballot) or published (a challenged one)
    REFUSED = "refused"  # refused at ingest (proofs, chain, style...): never counted; ``reason`` says why
    FLAGGED = "flagged"  # held for the committee (Art. 6), not in the tally unless the committee accepts it
    REJECTED = "rejected"  # a flagged ballot the committee decided not to count (its reason in ``reason``)


class Ballot(Base):
    __tablename__ = "ballots"
    ballot_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    batch_id: Mapped[str | None] = mapped_column(String(64))
    style_id: Mapped[str] = mapped_column(String(64))
    confirmation_code: Mapped[str | None] = mapped_column(String(128), index=True)
    status: Mapped[BallotStatus] = mapped_column(_enum(BallotStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    provisional: Mapped[bool] = mapped_column(default=False)
    spoiled: Mapped[bool] = mapped_column(default=False)  # challenged (Benaloh): published, never tallied
    payload: Mapped[dict[str, Any]]


class RejectedSubmission(Base):
    """A batch or envelope refused as a whole (bad signature, unknown kiosk, conflicting replay...)."""

    __tablename__ = "rejected_submissions"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(32))
    kiosk_id: Mapped[str | None] = mapped_column(String(64))
    item_id: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)
    body_sha256: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[dt.datetime]


class TallyState(Base):
    """The running encrypted tally of one contest (a serialised ``TallyAccumulator``)."""

    __tablename__ = "tally_state"
    contest_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    state: Mapped[dict[str, Any]]
    ballots: Mapped[int] = mapped_column(Integer, default=0)


class EnvelopeStatus(enum.Enum):
    RECEIVED = "received"
    COUNTED = "counted"  # voter had not voted: marked voted, ballot in the tally
    ADJUDICATION = "adjudication"  # voter had voted elsewhere (or identity unusable): committee decides
    ACCEPTED = "accepted"  # committee accepted: ballot in the tally
    REJECTED = "rejected"  # committee or verification rejected


class ProvisionalEnvelope(Base):
    __tablename__ = "provisional_envelopes"
    envelope_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    centre_id: Mapped[str] = mapped_column(String(64))
    sealed_identity: Mapped[bytes | None] = mapped_column(LargeBinary)
    ballot: Mapped[dict[str, Any]]
    status: Mapped[EnvelopeStatus] = mapped_column(_enum(EnvelopeStatus))
    reason: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(128))
    received_at: Mapped[dt.datetime]


class SheetStatus(enum.Enum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"  # refused by a committee member other than the one who entered it (``reason``)
    WITHDRAWN = "withdrawn"  # withdrawn by the member who entered it (``reason``)
    REPLACED = "replaced"  # superseded by a corrected sheet (``replaced_by``)


class ManualSheet(Base):
    """A manually counted result sheet (Art. 8 paper centre, Art. 9 embassy): entered by one committee member,
    approved by another."""

    __tablename__ = "manual_sheets"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str] = mapped_column(String(64))
    contest_id: Mapped[str] = mapped_column(String(64))
    voters: Mapped[int]
    blank: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]]
    status: Mapped[SheetStatus] = mapped_column(_enum(SheetStatus))
    entered_by: Mapped[str] = mapped_column(String(128))
    approved_by: Mapped[str | None] = mapped_column(String(128))
    reason: Mapped[str | None] = mapped_column(Text)
    """Why it was rejected or withdrawn (migration 0007)."""
    replaced_by: Mapped[int | None] = mapped_column(Integer)
    """The corrected sheet that replaced this pending one (migration 0007)."""
    __table_args__ = (
        # At most one live (pending or approved) sheet per source and contest (migration 0007).
        Index(
            "uq_sheet_live",
            "source_kind",
            "source_id",
            "contest_id",
            unique=True,
            sqlite_where=text("status IN ('pending', 'approved')"),
            postgresql_where=text("status IN ('pending', 'approved')"),
        ),
    )


class LotDraw(Base):
    """The outcome of the drawing of lots for the last seat(s) of a contest whose results tie (recorded by a
    committee member after results; one per contest). ``winners`` are among the tied candidates."""

    __tablename__ = "lot_draws"
    contest_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    tied: Mapped[list[Any]]
    winners: Mapped[list[Any]]
    seats: Mapped[int]
    note: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(128))
    recorded_at: Mapped[dt.datetime]
    results_id: Mapped[int]


class CentreStatus(Base):
    __tablename__ = "centre_status"
    centre_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    closed_at: Mapped[dt.datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(128))
    manual: Mapped[bool] = mapped_column(default=False)
    phase: Mapped[str] = mapped_column(String(16), default="open", server_default="open")
    """``central.phase.CentrePhase``: open, closing (no new check-in), closed (migration 0007)."""


class StaffToken(Base):
    __tablename__ = "staff_tokens"
    token_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    subject: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(32))
    expires_at: Mapped[dt.datetime]
    cert_serial: Mapped[str | None] = mapped_column(String(64))
    """Hex serial of the staff card certificate that logged in: checked against the CRL on every request."""
    console: Mapped[bool] = mapped_column(default=False, server_default=false())
    """Minted by ``python -m central issue-token`` (no card): limited to roles that need no second person."""


class StaffChallenge(Base):
    __tablename__ = "staff_challenges"
    nonce: Mapped[str] = mapped_column(String(64), primary_key=True)
    expires_at: Mapped[dt.datetime]


class GuardianShare(Base):
    __tablename__ = "guardian_shares"
    guardian_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    payload: Mapped[dict[str, Any]]
    uploaded_by: Mapped[str] = mapped_column(String(128))


class PublishedResult(Base):
    __tablename__ = "published_results"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    computed_at: Mapped[dt.datetime]
    results: Mapped[dict[str, Any]]
    record_dir: Mapped[str] = mapped_column(Text)
    verified: Mapped[bool]
    verifier_output: Mapped[str] = mapped_column(Text)


class ElectionPhaseRow(Base):
    """One row (id 1): the election's phase (``central.phase.Phase``); every write locks it (FOR SHARE on
    PostgreSQL), every transition locks it FOR UPDATE. ``tally_hash`` is the frozen encrypted tally's hash."""

    __tablename__ = "election_phase"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    phase: Mapped[str] = mapped_column(String(24))
    changed_at: Mapped[dt.datetime]
    tally_hash: Mapped[str | None] = mapped_column(String(64))
    frozen_at: Mapped[dt.datetime | None]


class SignedAuditHead(Base):
    """The office's audit chain head, signed by the office at a phase transition (published in the record)."""

    __tablename__ = "office_audit_heads"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    statement: Mapped[dict[str, Any]]
    signature: Mapped[str] = mapped_column(Text)


class AuditEntry(Base):
    """Append-only, hash-chained log of privileged actions; on PostgreSQL a trigger refuses UPDATE/DELETE."""

    __tablename__ = "audit_log"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    at: Mapped[dt.datetime]
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]]
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64), unique=True)


class AuditHead(Base):
    """One row: the last sequence number and hash; locked FOR UPDATE to append in order."""

    __tablename__ = "audit_head"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int]
    entry_hash: Mapped[str] = mapped_column(String(64))


class KioskAuditEntry(Base):
    """Kiosks' own hash-chained audit-log entries, stored by (kiosk, seq) exactly as received."""

    __tablename__ = "kiosk_audit_entries"
    kiosk_id: Mapped[str] = mapped_column(String(64), ForeignKey("kiosks.kiosk_id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    entry: Mapped[dict[str, Any]]
    entry_hash: Mapped[str] = mapped_column(String(64))


class KioskChainHead(Base):
    """A kiosk-signed chain head, as carried by an accepted batch (``sync.protocol.SignedChainHead``, signature
    included), kept for the record's ``kiosks/<kiosk>.json`` (last head) and the next batch's check (migration 0006)."""

    __tablename__ = "kiosk_chain_heads"
    batch_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64), index=True)
    links: Mapped[int] = mapped_column(Integer)
    """cast + challenged + provisional links of the statement (the latest head has the most)."""
    statement: Mapped[dict[str, Any]]


class KioskChainClose(Base):
    """A kiosk-signed chain close (``sync.protocol.SignedChainClose``, signature included); the highest
    ``close_seq`` is the kiosk's close (migration 0006)."""

    __tablename__ = "kiosk_chain_closes"
    kiosk_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    close_seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    statement: Mapped[dict[str, Any]]
    received_at: Mapped[dt.datetime]


Index("ix_ballots_status", Ballot.status)
Index("ix_voters_lock_request", Voter.lock_request, unique=True)

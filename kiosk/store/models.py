"""The kiosk's local database (SQLite): typed SQLAlchemy 2 models.

Secrecy is a property of this schema, so it is spelled out here:

* ``ballots`` and ``checkins`` share no column, no foreign key and no sequence. Neither holds a time.
* Both are ``WITHOUT ROWID`` tables clustered on a random key (``ballot_id`` from ``secrets``, the check-in
  token from the central office), so their physical B-tree order is random, not the order voters came in.
* A ballot's place in the kiosk's sequence is stored nowhere: its confirmation code binds only the ballot, the
  kiosk and the election, and the public batch chain orders batches, not ballots. The check-in rows hold only
  the office's opaque token and are sent in random order (see docs/sync-protocol.md, "Secrecy").
* ``audit_log`` is ordered (it must be, to be a chain); its cast and challenge entries name no ballot, a
  ``batch_sealed`` entry names its batch's ballots by id and hash, sorted; it never names a check-in.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class KioskRow(Base):
    """The single row describing this kiosk and its polls state."""

    __tablename__ = "kiosk"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kiosk_id: Mapped[str] = mapped_column(String(64))
    centre_id: Mapped[str] = mapped_column(String(64))
    polls_state: Mapped[str] = mapped_column(String(16))
    chain_head: Mapped[str] = mapped_column(String(64))
    """The root (hex) of the last sealed batch of the kiosk's batch chain (its genesis before the first)."""
    audit_synced_through: Mapped[int] = mapped_column(Integer, default=0)


class CheckinRow(Base):
    """A local check-in: the office's opaque token and what became of it. No civil number, no time,
    no ballot."""

    __tablename__ = "checkins"
    __table_args__ = ({"sqlite_with_rowid": False},)

    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    ballot_style_id: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16))  # checked_in | voted | released
    release_reason: Mapped[str | None] = mapped_column(String(32), nullable=True)
    synced: Mapped[bool] = mapped_column(Boolean, default=False)
    """True once the office acknowledged the voted mark or release."""


class BallotRow(Base):
    """A stored encrypted ballot (cast, challenged or provisional). ``body`` is the canonical JSON of the
    ``BatchBallot`` exactly as it will be sent; ``ballot_hash`` its SHA-256, also in the audit log."""

    __tablename__ = "ballots"
    __table_args__ = ({"sqlite_with_rowid": False},)

    ballot_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    disposition: Mapped[str] = mapped_column(String(16))  # cast | challenged | provisional
    body: Mapped[bytes] = mapped_column(LargeBinary)
    ballot_hash: Mapped[str] = mapped_column(String(64))
    batch_id: Mapped[str | None] = mapped_column(String(32), nullable=True, index=True)
    """Set when the ballot is placed in a batch (or provisional submission); NULL = in the pending pool."""


class OutboxRow(Base):
    """Items to send, drained strictly in ``seq`` order: signed batches and provisional submissions.
    ``body`` is fixed when the item is created, so every retry is byte-identical."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_unsent", "sent", "seq"), {"sqlite_autoincrement": True})

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(16))  # batch | provisional
    idempotency_key: Mapped[str] = mapped_column(String(32), unique=True)
    body: Mapped[bytes] = mapped_column(LargeBinary)
    sent: Mapped[bool] = mapped_column(Boolean, default=False)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)


class AuditRow(Base):
    """One hash-chained, signed audit-log entry (definitions in kiosk/audit.py)."""

    __tablename__ = "audit_log"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(64))
    payload: Mapped[str] = mapped_column(Text)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200))


class AuditHeadRow(Base):
    """The signed head (count + last hash), rewritten in the same transaction as every append."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    head_hash: Mapped[str] = mapped_column(String(64))
    signature: Mapped[str] = mapped_column(String(200))

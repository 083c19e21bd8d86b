"""The collector's tables (SQLAlchemy 2 typed models; schema by Alembic, collector/migrations)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ChallengeRow(Base):
    """A card challenge: fresh, single-use (``used``), short-lived (``expires_at``)."""

    __tablename__ = "challenges"
    challenge_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    nonce: Mapped[bytes] = mapped_column(LargeBinary(32))
    issued_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), index=True)
    used: Mapped[bool] = mapped_column(default=False)


class CredentialRow(Base):
    """A voter's registered credential. The voter -> credential link is the collector's secret: it is never
    published, logged or sent to the office."""

    __tablename__ = "credentials"
    credential: Mapped[str] = mapped_column(String(64), primary_key=True)
    civil_number: Mapped[str] = mapped_column(String(16), index=True)
    style_id: Mapped[str] = mapped_column(String(128))
    voter_group: Mapped[str] = mapped_column(String(16))
    registered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    voided_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)
    void_reason: Mapped[str | None] = mapped_column(String(16), default=None)  # "replaced" | "in-person"

    __table_args__ = (
        # one live credential per voter
        Index(
            "ix_credentials_live_voter",
            "civil_number",
            unique=True,
            sqlite_where=text("voided_at IS NULL"),
            postgresql_where=text("voided_at IS NULL"),
        ),
    )


class SubmissionRow(Base):
    """Every accepted submission, kept for audit; per credential the highest sequence counts."""

    __tablename__ = "submissions"
    submission_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    credential: Mapped[str] = mapped_column(ForeignKey("credentials.credential"), index=True)
    sequence: Mapped[int] = mapped_column(Integer)
    ballot_id: Mapped[str] = mapped_column(String(128), unique=True)
    ballot_hash: Mapped[str] = mapped_column(String(64))
    ballot_json: Mapped[str] = mapped_column(Text)
    signature: Mapped[str] = mapped_column(String(128))
    body_digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the canonical request body (idempotency)
    received_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    fetches: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (UniqueConstraint("credential", "sequence", name="uq_submissions_credential_sequence"),)


class InPersonRow(Base):
    """A voter who checked in at a kiosk (the office told the collector): no credential may be registered."""

    __tablename__ = "in_person"
    civil_number: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


class HandoverCheckinRow(Base):
    """The handover's progress with one counted credential's check-in at the office (docs/remote-voting.md,
    section 7): the office's check-in token, kept BEFORE the voted mark is sent, so a rerun resends the mark with
    it (the office answers a spent token of this kiosk "already recorded": the collector's own mark, never an
    in-person vote), and ``voted`` once the office acknowledged the mark. No time is kept."""

    __tablename__ = "handover_checkins"
    credential: Mapped[str] = mapped_column(ForeignKey("credentials.credential"), primary_key=True)
    checkin_token: Mapped[str] = mapped_column(String(64))
    voted: Mapped[bool] = mapped_column(default=False)


class HandoverOutboxRow(Base):
    """The handover's signed batches (``seq`` 0, 1, ...) and its chain close (the last ``seq``), stored in one
    transaction after every check-in and before the first is sent: a rerun resends exactly these bytes (a new
    ECDSA signature over the same batch would be another content under the same batch id)."""

    __tablename__ = "handover_outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    kind: Mapped[str] = mapped_column(String(8))  # "batch" | "close"
    root: Mapped[str] = mapped_column(String(64))  # the chain's root after it
    body: Mapped[bytes] = mapped_column(LargeBinary)  # the wire bytes, as sent
    acknowledged: Mapped[bool] = mapped_column(default=False)

"""The database work of a ballot submission, in as few round trips as the rules allow (docs/remote-voting.md,
section 9): one statement before the proofs are checked (the idempotent answer to a resend, the credential's
style and state), then one transaction after (the credential's row lock, one statement of checks, one insert).

Every rule is enforced in the database, so any number of collector instances may run this at once on one
PostgreSQL: the credential's row lock (``FOR UPDATE``) orders one credential's submissions, the primary key on
``submission_id`` and the unique ``ballot_id`` and ``(credential, sequence)`` settle what a race between
instances leaves (an ``IntegrityError``, answered as a conflict the client may resend through)."""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

from sqlalchemy import bindparam, func, insert, select
from sqlalchemy.exc import IntegrityError

from collector.db import Database
from collector.errors import CollectorError, ErrorCode
from collector.models import CredentialRow, SubmissionRow

VOID_REPLACED = "replaced"
VOID_IN_PERSON = "in-person"


def utc(value: dt.datetime) -> dt.datetime:
    """A time read back from the database (SQLite returns it without its zone: it was stored as UTC)."""
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value.astimezone(dt.UTC)


@dataclass(frozen=True)
class Held:
    """A stored submission, as its receipt shows it."""

    submission_id: str
    ballot_id: str
    ballot_hash: str
    sequence: int
    received_at: dt.datetime
    body_digest: str


@dataclass(frozen=True)
class Looked:
    """What is known before the proofs are checked: ``held`` when this submission_id is already stored."""

    style_id: str
    voter_group: str
    held: Held | None


@dataclass(frozen=True)
class NewSubmission:
    submission_id: str
    credential: str
    sequence: int
    ballot_id: str
    ballot_hash: str
    ballot_json: str
    signature: str
    body_digest: str
    received_at: dt.datetime


_HELD_COLUMNS = (
    SubmissionRow.submission_id,
    SubmissionRow.ballot_id,
    SubmissionRow.ballot_hash,
    SubmissionRow.sequence,
    SubmissionRow.received_at,
    SubmissionRow.body_digest,
)

# Built once, with bound parameters: SQLAlchemy then compiles each statement once per process (its cache).
_LOOK_UP = (
    select(CredentialRow.style_id, CredentialRow.voter_group, CredentialRow.voided_at, CredentialRow.void_reason)
    .add_columns(*_HELD_COLUMNS)
    .outerjoin(SubmissionRow, SubmissionRow.submission_id == bindparam("submission_id"))
    .where(CredentialRow.credential == bindparam("credential"))
)
_MINE = SubmissionRow.credential == bindparam("credential")
_THIS_ID = SubmissionRow.submission_id == bindparam("submission_id")
# The lock, then the checks in a statement of their own: under READ COMMITTED a statement sees what was committed
# when it started, so checks in the locking statement itself would miss a submission committed while it waited.
_LOCK = (
    select(CredentialRow.voided_at, CredentialRow.void_reason)
    .where(CredentialRow.credential == bindparam("credential"))
    .with_for_update()
)
_CHECKS = select(
    select(func.count()).select_from(SubmissionRow).where(_MINE).scalar_subquery(),
    select(func.max(SubmissionRow.sequence)).where(_MINE).scalar_subquery(),
    select(SubmissionRow.body_digest).where(_THIS_ID).scalar_subquery(),
    select(SubmissionRow.ballot_id).where(SubmissionRow.ballot_id == bindparam("ballot_id")).exists(),
)
_HELD = select(*_HELD_COLUMNS).where(_THIS_ID)
_INSERT = insert(SubmissionRow)


def _held(row: tuple[str, str, str, int, dt.datetime, str]) -> Held:
    return Held(row[0], row[1], row[2], row[3], utc(row[4]), row[5])


def refuse_unless_live(voided_at: dt.datetime | None, void_reason: str | None) -> None:
    if void_reason == VOID_IN_PERSON:
        raise CollectorError(ErrorCode.VOTED_IN_PERSON, "this voter has voted at a polling centre")
    if voided_at is not None:
        raise CollectorError(ErrorCode.CONFLICT, "this credential was replaced by a newer one")


def _same_or_conflict(held: Held, digest: str) -> Held:
    if held.body_digest != digest:
        raise CollectorError(ErrorCode.CONFLICT, "this submission_id was used for another submission")
    return held


def look_up(db: Database, credential: str, submission_id: str, digest: str) -> Looked:
    """One statement, outside a transaction: the credential (refused unless registered and live) and the
    submission already stored under ``submission_id`` (refused if it was another submission)."""
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        row = conn.execute(_LOOK_UP, {"credential": credential, "submission_id": submission_id}).first()
    if row is None:
        raise CollectorError(ErrorCode.NO_CREDENTIAL, "this credential is not registered")
    held = _same_or_conflict(_held(row[4:]), digest) if row[4] is not None else None
    if held is None:
        refuse_unless_live(row[2], row[3])
    return Looked(row[0], row[1], held)


def record(db: Database, new: NewSubmission, *, per_credential: int) -> tuple[Held, bool]:
    """Store ``new`` unless a rule refuses it; ``(held, True)`` when a concurrent resend stored it first."""
    try:
        with db.engine.begin() as conn:
            live = conn.execute(_LOCK, {"credential": new.credential}).first()
            if live is None:
                raise CollectorError(ErrorCode.NO_CREDENTIAL, "this credential is not registered")
            voided_at, void_reason = live
            keys = {"credential": new.credential, "submission_id": new.submission_id, "ballot_id": new.ballot_id}
            count, highest, held_digest, ballot_id_taken = conn.execute(_CHECKS, keys).one()
            if held_digest is not None:  # a concurrent resend won the race
                stored = conn.execute(_HELD, {"submission_id": new.submission_id}).one()
                return _same_or_conflict(_held(stored._tuple()), new.body_digest), True
            refuse_unless_live(voided_at, void_reason)
            if count >= per_credential:
                raise CollectorError(ErrorCode.RATE_LIMITED, "this credential has submitted too many ballots")
            if highest is not None and new.sequence <= highest:
                raise CollectorError(ErrorCode.STALE_SEQUENCE, f"a ballot with sequence {highest} is already recorded")
            if ballot_id_taken:
                raise CollectorError(ErrorCode.CONFLICT, "this ballot id was already used")
            conn.execute(_INSERT, dataclasses.asdict(new) | {"fetches": 0})
    except IntegrityError:
        raise CollectorError(ErrorCode.CONFLICT, "a concurrent submission took this sequence or ballot id") from None
    held = Held(new.submission_id, new.ballot_id, new.ballot_hash, new.sequence, new.received_at, new.body_digest)
    return held, False

"""The voter's own check, ``POST /r1/my-votes`` (docs/remote-voting.md, section 5): every submission recorded under
the card holder's credentials, the current one and any it replaced, each with its status, so that a voter who never
voted remotely sees a ballot cast in their name, and a voter who did can compare each code with their receipts.

Secrecy: the answer links the card holder to their credentials and ballots. :class:`collector.service.Collector`
computes it only after the card's signature over a fresh my-votes challenge and sends it only in the reply; nothing
of it is logged here (tests/collector/test_secrecy.py).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Final

from sqlalchemy import func, select

from collector.db import Database
from collector.models import CredentialRow, SubmissionRow
from collector.submissions import VOID_IN_PERSON, VOID_REPLACED, utc
from election.remote_statement import MY_VOTES_LISTED, SubmissionStatus
from election.roll import CivilNumber

MAX_LISTED: Final = MY_VOTES_LISTED
"""40 entries stay well inside the voter app's 16 KiB answer bound (about 300 bytes each at most)."""


def _status(row: CredentialRow, sequence: int, last: int) -> SubmissionStatus:
    if row.void_reason == VOID_IN_PERSON:
        return SubmissionStatus.VOIDED
    if row.void_reason == VOID_REPLACED or row.voided_at is not None:
        return SubmissionStatus.REPLACED
    return SubmissionStatus.COUNTS if sequence == last else SubmissionStatus.SUPERSEDED


def _time(value: dt.datetime) -> str:
    return utc(value).isoformat()


def my_votes_answer(db: Database, civil_number: CivilNumber, *, listed: int = MAX_LISTED) -> dict[str, Any]:
    """The answer for an authenticated card holder: ``credential`` (the current one) and ``voided``,
    ``submissions`` (how many in all) and ``last_received_at``, and ``ballots``, the most recent ``listed``
    submissions, newest first."""
    with db.transaction() as s:
        credentials = {
            row.credential: row
            for row in s.scalars(
                select(CredentialRow)
                .where(CredentialRow.civil_number == civil_number)
                .order_by(CredentialRow.registered_at.desc())
            ).all()
        }
        current = next(iter(credentials.values()), None)
        count: int = 0
        last_at: dt.datetime | None = None
        ballots: list[dict[str, Any]] = []
        if credentials:
            held = SubmissionRow.credential.in_(list(credentials))
            count, last_at = s.execute(select(func.count(), func.max(SubmissionRow.received_at)).where(held)).one()
            last_sequence = dict(
                s.execute(
                    select(SubmissionRow.credential, func.max(SubmissionRow.sequence))
                    .where(held)
                    .group_by(SubmissionRow.credential)
                ).all()
            )
            rows = s.execute(
                select(
                    SubmissionRow.credential,
                    SubmissionRow.received_at,
                    SubmissionRow.sequence,
                    SubmissionRow.ballot_id,
                    SubmissionRow.ballot_hash,
                )
                .where(held)
                .order_by(SubmissionRow.received_at.desc(), SubmissionRow.sequence.desc())
                .limit(listed)
            ).all()
            ballots = [
                {
                    "received_at": _time(received_at),
                    "sequence": sequence,
                    "ballot_id": ballot_id,
                    "ballot_hash": ballot_hash,
                    "status": _status(credentials[credential], sequence, last_sequence[credential]).value,
                }
                for credential, received_at, sequence, ballot_id, ballot_hash in rows
            ]
        return {
            "credential": current.credential if current else None,
            "voided": bool(current and current.voided_at is not None),
            "submissions": count,
            "last_received_at": _time(last_at) if last_at is not None else None,
            "ballots": ballots,
        }

"""What the voter's "my votes" screen shows: the collector's answer to ``POST /r1/my-votes`` as a table (pure).

The collector lists every submission recorded under the card's identity, the current credential's and those of any
credential it replaced, the most recent first (at most ``election.remote_statement.MY_VOTES_LISTED``; the summary says
how many there are in all). One row per ballot: when it arrived (Oman time), its number (the credential's sequence),
its code (the first 16 hex digits of the ballot hash in groups of four: the code the confirmation screen showed,
``remote.ballots.short_code``) and what became of it. Every number, time and code is bidi-isolated
(kiosk.ui_text.ltr) so an Arabic sentence cannot reorder it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import assert_never
from zoneinfo import ZoneInfo

from election.manifest import Language
from election.remote_statement import SubmissionStatus
from kiosk.ui_text import Catalogue, ltr
from remote.ballots import short_code
from remote.protocol import MyVotes, RecordedBallot

OMAN = ZoneInfo("Asia/Muscat")

COLUMNS = (
    "remote.my_votes.col_received",
    "remote.my_votes.col_number",
    "remote.my_votes.col_code",
    "remote.my_votes.col_status",
)
"""The ballot table's columns, in reading order (right to left in Arabic)."""


def credential_code(credential: str) -> str:
    """The credential's first 16 hex digits in groups of four (what the table shows of it)."""
    head = credential[:16].upper()
    return "-".join(head[i : i + 4] for i in range(0, 16, 4))


def _when(at: dt.datetime) -> str:
    return at.astimezone(OMAN).strftime("%Y-%m-%d %H:%M:%S")


def status_key(answer: MyVotes) -> str:
    """The sentence for the whole answer: nothing recorded, the last ballot counts, voided in person, or none counts
    (every listed ballot was sent with a replaced credential)."""
    if answer.submissions == 0:
        return "remote.my_votes.status_none"
    if answer.voided:
        return "remote.my_votes.status_voided"
    if any(b.status is SubmissionStatus.COUNTS for b in answer.ballots):
        return "remote.my_votes.status_counts"
    return "remote.my_votes.status_none_counts"


def ballot_status_key(status: SubmissionStatus) -> str:
    match status:
        case SubmissionStatus.COUNTS:
            return "remote.my_votes.ballot_counts"
        case SubmissionStatus.SUPERSEDED:
            return "remote.my_votes.ballot_superseded"
        case SubmissionStatus.VOIDED:
            return "remote.my_votes.ballot_voided"
        case SubmissionStatus.REPLACED:
            return "remote.my_votes.ballot_replaced"
        case _:
            assert_never(status)


@dataclass(frozen=True)
class Table:
    """The screen's content, every cell in reading order: ``summary`` (label, value) rows, then the ballot table
    (``columns``, one row of ``ballots`` per recorded ballot) and ``cut`` (a sentence when the list is not whole)."""

    summary: tuple[tuple[str, str], ...]
    columns: tuple[str, ...]
    ballots: tuple[tuple[str, ...], ...]
    cut: str


def ballot_row(ballot: RecordedBallot, catalogue: Catalogue, language: Language) -> tuple[str, ...]:
    return (
        ltr(_when(ballot.received_at)),
        ltr(ballot.sequence),
        ltr(short_code(ballot.ballot_hash)),
        catalogue.text(ballot_status_key(ballot.status), language),
    )


def table(answer: MyVotes, catalogue: Catalogue, language: Language) -> Table:
    def t(key: str, **values: object) -> str:
        return catalogue.text(key, language, **values)

    summary = [(t("remote.my_votes.ballots"), ltr(answer.submissions))]
    if answer.credential is not None:
        summary.append((t("remote.my_votes.credential"), ltr(credential_code(answer.credential))))
    summary.append((t("remote.my_votes.status"), t(status_key(answer))))
    cut = ""
    if len(answer.ballots) < answer.submissions:
        cut = t("remote.my_votes.cut", shown=len(answer.ballots), total=answer.submissions)
    return Table(
        tuple(summary),
        tuple(t(key) for key in COLUMNS) if answer.ballots else (),
        tuple(ballot_row(b, catalogue, language) for b in answer.ballots),
        cut,
    )

"""What the voter's "my votes" screen shows: the collector's answer to ``POST /r1/my-votes`` as table rows (pure).

The collector answers, for the card's identity: the current credential, whether it was voided by an in-person vote,
how many ballots were recorded under the voter's credentials and when the last one arrived (collector/service.py).
It lists no ballot one by one, so the table has one row per fact. Every number, time and code is bidi-isolated
(kiosk.ui_text.isolate) so an Arabic sentence cannot reorder it.
"""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

from election.manifest import Language
from kiosk.ui_text import Catalogue, ltr
from remote.protocol import MyVotes

OMAN = ZoneInfo("Asia/Muscat")


def credential_code(credential: str) -> str:
    """The credential's first 16 hex digits in groups of four (what the table shows of it)."""
    head = credential[:16].upper()
    return "-".join(head[i : i + 4] for i in range(0, 16, 4))


def _when(at: dt.datetime) -> str:
    return at.astimezone(OMAN).strftime("%Y-%m-%d %H:%M")


def status_key(answer: MyVotes) -> str:
    if answer.submissions == 0:
        return "remote.my_votes.status_none"
    return "remote.my_votes.status_voided" if answer.voided else "remote.my_votes.status_counts"


def rows(answer: MyVotes, catalogue: Catalogue, language: Language) -> list[tuple[str, str]]:
    """(label, value) rows, in reading order."""

    def t(key: str) -> str:
        return catalogue.text(key, language)

    out = [(t("remote.my_votes.ballots"), ltr(answer.submissions))]
    if answer.last_received_at is not None:
        out.append((t("remote.my_votes.last"), ltr(_when(answer.last_received_at))))
    if answer.credential is not None:
        out.append((t("remote.my_votes.credential"), ltr(credential_code(answer.credential))))
    out.append((t("remote.my_votes.status"), t(status_key(answer))))
    return out

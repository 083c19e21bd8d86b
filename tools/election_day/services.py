"""The kiosk's real services behind the session's ports, for the election day: the card through pcscd,
the poll book through the sync client, encryption by the election core into the ballot box.

The adapters live in ``kiosk.adapters`` (``card``, ``pollbook``, ``ballots``), where ``run_kiosk.py``
composes them too; they are re-exported here for the election-day tools, with a few small helpers.
"""

from __future__ import annotations

import contextlib

from election.manifest import CandidateId, ContestId
from kiosk.adapters.ballots import RealBallots
from kiosk.adapters.card import PcscCard, card_failure
from kiosk.adapters.pollbook import CentralPollBook
from kiosk.ballot_box import BallotBox, BallotBoxError
from kiosk.states import PollsAction, StaffCard, StaffRole

__all__ = ["CentralPollBook", "PcscCard", "RealBallots", "card_failure", "open_polls", "selections_of", "staff_card"]


def staff_card(staff_id: str, role: StaffRole, cert_sha256: str) -> StaffCard:
    return StaffCard(staff_id, role, cert_sha256)


def open_polls(box: BallotBox, staff: StaffCard) -> None:
    with contextlib.suppress(BallotBoxError):
        box.apply(PollsAction.OPEN, staff)


def selections_of(choices: dict[str, list[str]]) -> dict[ContestId, tuple[CandidateId, ...]]:
    return {ContestId(c): tuple(CandidateId(x) for x in v) for c, v in choices.items()}

"""The kiosk's polls states and the staff-authorised transitions between them (pure; no clock, no I/O).

    setup --open--> open --pause--> paused --resume--> open
    open|paused --close--> closed --reopen (administrator)--> open

Opening requires a zero report (no ballot stored); every transition needs a staff card of a role allowed
for it. ``kiosk.ballot_box`` persists the result and writes it to the audit log in one transaction.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

# Staff roles and their policy OIDs: one definition for kiosk and office; re-exported here (explicitly, for mypy).
from sync.staff_roles import StaffRole as StaffRole  # noqa: PLC0414


class PollsState(enum.Enum):
    SETUP = "setup"
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"


class PollsAction(enum.Enum):
    OPEN = "open"
    PAUSE = "pause"
    RESUME = "resume"
    CLOSE = "close"
    REOPEN = "reopen"
    """Closed -> open again (a close by mistake): an administrator only; the kiosk's next close is a new signed
    chain close (``close_seq`` + 1) covering every ballot, those before the first close included."""


_FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class StaffCard:
    """A staff member as authenticated by the card layer (the ballot box does not read cards itself)."""

    staff_id: str
    role: StaffRole
    cert_fingerprint: str
    """SHA-256 hex of the staff card's authentication certificate (DER)."""

    def __post_init__(self) -> None:
        if not self.staff_id or len(self.staff_id) > 64:
            raise ValueError("staff_id must be 1..64 characters")
        if not _FINGERPRINT.match(self.cert_fingerprint):
            raise ValueError("cert_fingerprint must be 64 lower-case hex digits")

    def to_dict(self) -> dict[str, str]:
        return {"staff_id": self.staff_id, "role": self.role.value, "cert_fingerprint": self.cert_fingerprint}


class Refusal(enum.Enum):
    NOT_ALLOWED_FROM_STATE = "not_allowed_from_state"
    ROLE_NOT_AUTHORISED = "role_not_authorised"
    BALLOTS_PRESENT = "ballots_present"
    """Opening polls on a kiosk that already stores ballots (the zero report would be false)."""


@dataclass(frozen=True)
class Transition:
    before: PollsState
    action: PollsAction
    after: PollsState
    staff: StaffCard


@dataclass(frozen=True)
class Refused:
    state: PollsState
    action: PollsAction
    reason: Refusal


_SUPERVISORS = frozenset({StaffRole.COMMITTEE_MEMBER, StaffRole.ADMINISTRATOR})
_ANY_STAFF = frozenset(StaffRole)

RULES: dict[tuple[PollsState, PollsAction], tuple[PollsState, frozenset[StaffRole]]] = {
    (PollsState.SETUP, PollsAction.OPEN): (PollsState.OPEN, _SUPERVISORS),
    (PollsState.OPEN, PollsAction.PAUSE): (PollsState.PAUSED, _ANY_STAFF),
    (PollsState.PAUSED, PollsAction.RESUME): (PollsState.OPEN, _ANY_STAFF),
    (PollsState.OPEN, PollsAction.CLOSE): (PollsState.CLOSED, _SUPERVISORS),
    (PollsState.PAUSED, PollsAction.CLOSE): (PollsState.CLOSED, _SUPERVISORS),
    (PollsState.CLOSED, PollsAction.REOPEN): (PollsState.OPEN, frozenset({StaffRole.ADMINISTRATOR})),
}


def decide(state: PollsState, action: PollsAction, staff: StaffCard, *, ballots_stored: int) -> Transition | Refused:
    """The outcome of ``staff`` asking for ``action`` in ``state``; refusals are values, not exceptions."""
    rule = RULES.get((state, action))
    if rule is None:
        return Refused(state, action, Refusal.NOT_ALLOWED_FROM_STATE)
    after, roles = rule
    if staff.role not in roles:
        return Refused(state, action, Refusal.ROLE_NOT_AUTHORISED)
    if action is PollsAction.OPEN and ballots_stored != 0:
        return Refused(state, action, Refusal.BALLOTS_PRESENT)
    return Transition(state, action, after, staff)

"""The voter session's state: one frozen value, replaced (never mutated) by each transition."""

from __future__ import annotations

from dataclasses import dataclass, field

from election.manifest import CandidateId, ContestId
from kiosk.session.events import Failure, StaffAction
from kiosk.session.model import (
    CardKind,
    CastReceipt,
    ChallengeReport,
    CheckInTicket,
    KioskMode,
    MessageId,
    Phase,
    SealedBallot,
    Secret,
    Selections,
    Settings,
    StaffIdentity,
    VoterIdentity,
)


@dataclass(frozen=True)
class SessionState:
    phase: Phase
    kiosk: KioskMode = field(default_factory=KioskMode)
    settings: Settings = field(default_factory=Settings)
    # card and authentication
    card_present: bool = False
    reader_ok: bool = True
    card_kind: CardKind | None = None
    pin: Secret = field(default_factory=Secret, repr=False)
    pin_tries_left: int | None = None
    pin_wrong: bool = False
    voter: VoterIdentity | None = field(default=None, repr=False)
    staff: StaffIdentity | None = None
    ticket: CheckInTicket | None = field(default=None, repr=False)
    # ballot
    contest_index: int = 0
    selections: Selections = field(default_factory=dict, repr=False)
    overvote_tried: ContestId | None = None
    blank_confirmed: bool = False
    sealed: SealedBallot | None = field(default=None, repr=False)
    receipt: CastReceipt | None = field(default=None, repr=False)
    challenge: ChallengeReport | None = field(default=None, repr=False)
    challenges_done: int = 0
    # messages and timers
    failure: Failure | None = None
    notice: MessageId | None = None
    """A passing notice on the attract screen ("card removed ..."); on the notice screen without a failure, why the
    session ended (the voter cancelled and kept their internet vote)."""
    timer_token: int = 0
    warning: bool = False
    staff_report: tuple[str, ...] = ()
    staff_action: StaffAction | None = None
    staff_ok: bool = True
    """Whether the last staff action was done (False: refused by the ballot box, e.g. a card without the role)."""
    cast_after_removal: bool = False

    def selected(self, contest: ContestId) -> tuple[CandidateId, ...]:
        return self.selections.get(contest, ())

"""Effects the voter session asks the shell to perform. The session itself performs none.

Each service effect is answered by an event (see kiosk.session.events). Audit effects carry only what
may be logged: never a PIN, a civil number or a choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from election.manifest import BallotStyleId
from kiosk.session.events import StaffAction
from kiosk.session.model import CheckInTicket, ClipId, SealedBallot, Secret, Selections, StaffIdentity, VoterIdentity


@dataclass(frozen=True)
class ReadCard:
    pass


@dataclass(frozen=True)
class VerifyPin:
    pin: Secret = field(repr=False)


@dataclass(frozen=True)
class Authenticate:
    """Sign a fresh challenge with the card and check its certificate chain and revocation."""


@dataclass(frozen=True)
class CheckIn:
    voter: VoterIdentity


@dataclass(frozen=True)
class Seal:
    """Encrypt the voter's choices and commit to the ballot (confirmation code) before cast/challenge."""

    style: BallotStyleId
    selections: Selections = field(repr=False)


@dataclass(frozen=True)
class CastSealed:
    sealed: SealedBallot
    ticket: CheckInTicket


@dataclass(frozen=True)
class ChallengeSealed:
    sealed: SealedBallot


@dataclass(frozen=True)
class CancelCheckIn:
    """The voter left without casting: release the poll-book check-in (nothing is recorded)."""

    ticket: CheckInTicket


@dataclass(frozen=True)
class ArmTimer:
    """Fire ``TimerExpired(token)`` after ``seconds``; earlier tokens are stale and ignored."""

    token: int
    seconds: float


@dataclass(frozen=True)
class Speak:
    """Audio hook: play these prompts in order (the accessibility layer decides whether audio is on)."""

    clips: tuple[ClipId, ...]


@dataclass(frozen=True)
class RunStaffAction:
    action: StaffAction
    staff: StaffIdentity


@dataclass(frozen=True)
class Audit:
    """An entry for the kiosk's append-only audit log; ``detail`` never holds voter data."""

    kind: str
    detail: str = ""


@dataclass(frozen=True)
class SessionWiped:
    """The session's secrets were dropped; the shell clears anything it cached for the last voter."""


Effect = (
    ReadCard
    | VerifyPin
    | Authenticate
    | CheckIn
    | Seal
    | CastSealed
    | ChallengeSealed
    | CancelCheckIn
    | ArmTimer
    | Speak
    | RunStaffAction
    | Audit
    | SessionWiped
)

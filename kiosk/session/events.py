"""Events that drive the voter session: voter input, card and service results, timers, staff actions.

The session never waits on anything: a service call is an effect, and its result comes back as one of
the events here (from whichever thread ran it, marshalled to the UI thread by the shell).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from election.manifest import CandidateId, Language
from kiosk.session.model import (
    CardKind,
    CastReceipt,
    ChallengeReport,
    CheckInTicket,
    SealedBallot,
    StaffIdentity,
    TextSize,
    Theme,
    VoterIdentity,
)


class Failure(enum.Enum):
    """Every way a session can fail, each with its own voter-facing message (kiosk.session.flow)."""

    CARD_UNREADABLE = "card_unreadable"
    NOT_AN_ID_CARD = "not_an_id_card"
    READER_GONE = "reader_gone"
    PIN_BLOCKED = "pin_blocked"
    CERT_EXPIRED = "cert_expired"
    CERT_NOT_YET_VALID = "cert_not_yet_valid"
    CERT_UNTRUSTED = "cert_untrusted"
    CERT_REVOKED = "cert_revoked"
    REVOCATION_STALE = "revocation_stale"
    BAD_SIGNATURE = "bad_signature"
    IDENTITY_MISMATCH = "identity_mismatch"
    ALREADY_VOTED = "already_voted"
    NOT_ON_ROLL = "not_on_roll"
    VOTER_LOCKED = "voter_locked"
    WRONG_CENTRE = "wrong_centre"
    POLL_BOOK_UNAVAILABLE = "poll_book_unavailable"
    ENCRYPTION_FAILED = "encryption_failed"
    CAST_FAILED = "cast_failed"
    CHALLENGE_FAILED = "challenge_failed"
    STAFF_NOT_AUTHORISED = "staff_not_authorised"
    POLLS_CLOSED = "polls_closed"
    CARD_REMOVED = "card_removed"
    TIMED_OUT = "timed_out"
    INTERNAL = "internal"


# ---- card --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CardInserted:
    pass


@dataclass(frozen=True)
class CardRemoved:
    pass


@dataclass(frozen=True)
class ReaderLost:
    """The reader or the PC/SC daemon went away; the card layer reports ReaderBack when it returns."""


@dataclass(frozen=True)
class ReaderBack:
    pass


@dataclass(frozen=True)
class CardRead:
    kind: CardKind
    pin_tries_left: int


@dataclass(frozen=True)
class PinAccepted:
    pass


@dataclass(frozen=True)
class PinRejected:
    tries_left: int


@dataclass(frozen=True)
class VoterAuthenticated:
    voter: VoterIdentity


@dataclass(frozen=True)
class StaffAuthenticated:
    staff: StaffIdentity


@dataclass(frozen=True)
class Failed:
    """A service or the card answered with an expected failure; the session shows its message."""

    failure: Failure


# ---- poll book and ballot services -----------------------------------------------------------------


@dataclass(frozen=True)
class CheckedIn:
    ticket: CheckInTicket


@dataclass(frozen=True)
class BallotSealed:
    sealed: SealedBallot


@dataclass(frozen=True)
class BallotCast:
    receipt: CastReceipt


@dataclass(frozen=True)
class BallotChallenged:
    report: ChallengeReport


# ---- voter input --------------------------------------------------------------------------------


@dataclass(frozen=True)
class PinDigit:
    digit: str = field(repr=False)


@dataclass(frozen=True)
class PinBackspace:
    pass


@dataclass(frozen=True)
class PinSubmit:
    pass


@dataclass(frozen=True)
class ChooseLanguage:
    language: Language


@dataclass(frozen=True)
class ChooseTextSize:
    size: TextSize


@dataclass(frozen=True)
class ChooseTheme:
    theme: Theme


@dataclass(frozen=True)
class ToggleAudio:
    pass


@dataclass(frozen=True)
class Continue:
    """The voter pressed the screen's main "continue" button (accessibility done, provisional accepted,
    challenge result read, confirmation read)."""


@dataclass(frozen=True)
class CancelVoting:
    """The voter chose not to vote here after being told their internet vote would be replaced: the session ends with
    nothing cast and the check-in released, so the internet vote still counts."""


@dataclass(frozen=True)
class ToggleCandidate:
    candidate: CandidateId = field(repr=False)


@dataclass(frozen=True)
class NextContest:
    pass


@dataclass(frozen=True)
class PreviousContest:
    pass


@dataclass(frozen=True)
class GoToReview:
    pass


@dataclass(frozen=True)
class BackToBallot:
    pass


@dataclass(frozen=True)
class ConfirmBlank:
    """The voter explicitly confirmed that they want to cast a blank ballot (Art. 7: counted as blank)."""


@dataclass(frozen=True)
class SealBallot:
    pass


@dataclass(frozen=True)
class Cast:
    pass


@dataclass(frozen=True)
class Challenge:
    pass


@dataclass(frozen=True)
class DismissNotice:
    """Close a passing notice (overvote explanation) without leaving the screen."""


@dataclass(frozen=True)
class Activity:
    """Any touch or key: restarts the inactivity timer and clears the "are you still there?" warning."""


@dataclass(frozen=True)
class Replay:
    """Replay the audio of the current screen (accessibility hook)."""


# ---- timers ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TimerExpired:
    token: int


# ---- staff ----------------------------------------------------------------------------------------


class StaffAction(enum.Enum):
    OPEN_POLLS = "open_polls"
    CLOSE_POLLS = "close_polls"
    STATUS = "status"
    START_ASSISTED = "start_assisted"
    MANUAL_FALLBACK = "manual_fallback"
    REOPEN_POLLS = "reopen_polls"
    """After a close: only an administrator's card may reopen (the ballot box decides, and audits it)."""


@dataclass(frozen=True)
class StaffChoose:
    action: StaffAction


@dataclass(frozen=True)
class StaffDone:
    """A staff action finished; ``lines`` is the report or status to show (no voter data in it)."""

    action: StaffAction
    lines: tuple[str, ...]
    ok: bool = True


@dataclass(frozen=True)
class PollsChanged:
    """The kiosk's polls state changed outside this session (restored at start-up)."""

    polls_open: bool
    manual_fallback: bool = False


Event = (
    CardInserted
    | CardRemoved
    | ReaderLost
    | ReaderBack
    | CardRead
    | PinAccepted
    | PinRejected
    | VoterAuthenticated
    | StaffAuthenticated
    | Failed
    | CheckedIn
    | BallotSealed
    | BallotCast
    | BallotChallenged
    | PinDigit
    | PinBackspace
    | PinSubmit
    | ChooseLanguage
    | ChooseTextSize
    | ChooseTheme
    | ToggleAudio
    | Continue
    | CancelVoting
    | ToggleCandidate
    | NextContest
    | PreviousContest
    | GoToReview
    | BackToBallot
    | ConfirmBlank
    | SealBallot
    | Cast
    | Challenge
    | DismissNotice
    | Activity
    | Replay
    | TimerExpired
    | StaffChoose
    | StaffDone
    | PollsChanged
)

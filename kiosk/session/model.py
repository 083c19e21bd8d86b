"""Values of the voter session: what the kiosk knows about the voter, the ballot and the settings.

Everything here is a frozen value. Secrets (the PIN being typed, the voter's identity, the choices) live
only inside the session state and are dropped when the session resets; their ``repr`` never shows them so
a stray log line cannot leak them.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import NewType

from election.manifest import BallotStyleId, CandidateId, ContestId, Language

MessageId = NewType("MessageId", str)
"""A key of the voter-facing string catalogue (config/strings.json plus kiosk overrides)."""

ClipId = NewType("ClipId", str)
"""An audio clip id; the audio layer maps it to a recorded or synthesised prompt."""

Selections = Mapping[ContestId, tuple[CandidateId, ...]]


class Phase(enum.Enum):
    """Where the voter is in the journey. The screen shown for each phase is data (kiosk.session.flow)."""

    CLOSED = "closed"  # polls not open, or the centre switched to the manual method
    ATTRACT = "attract"
    READING_CARD = "reading_card"
    PIN_ENTRY = "pin_entry"
    AUTHENTICATING = "authenticating"
    CHECKING_IN = "checking_in"
    REMOTE_VOTE = "remote_vote"  # the voter has a ballot cast over the internet: voting here replaces it
    PROVISIONAL = "provisional"
    ACCESSIBILITY = "accessibility"
    BALLOT = "ballot"
    REVIEW = "review"
    SEALING = "sealing"
    CAST_OR_CHALLENGE = "cast_or_challenge"
    CASTING = "casting"
    CONFIRMATION = "confirmation"
    CHALLENGING = "challenging"
    CHALLENGE_RESULT = "challenge_result"
    NOTICE = "notice"  # the session cannot go on: a message, then "remove your card"
    STAFF_MENU = "staff_menu"
    STAFF_BUSY = "staff_busy"
    STAFF_REPORT = "staff_report"


class TextSize(enum.Enum):
    """At least four text sizes (VVSG 2.0 7.1-G); the scale factors live in kiosk.accessibility.display."""

    NORMAL = "normal"
    LARGE = "large"
    LARGER = "larger"
    LARGEST = "largest"


class Theme(enum.Enum):
    STANDARD = "standard"  # >= 10:1
    HIGH_CONTRAST_LIGHT = "high_contrast_light"  # >= 20:1
    HIGH_CONTRAST_DARK = "high_contrast_dark"  # >= 20:1


@dataclass(frozen=True)
class Settings:
    """The voter's language and accessibility choices; back to these defaults for every new voter."""

    language: Language = Language.ARABIC
    text_size: TextSize = TextSize.NORMAL
    theme: Theme = Theme.STANDARD
    audio: bool = False


class CardKind(enum.Enum):
    VOTER = "voter"
    STAFF = "staff"


@dataclass(frozen=True)
class VoterIdentity:
    """Who the card's authenticated certificate says the voter is. Never logged."""

    civil_number: str
    wilayat_hint: str | None = None

    def __repr__(self) -> str:
        return "VoterIdentity(<redacted>)"


@dataclass(frozen=True)
class StaffIdentity:
    staff_id: str
    name: str = ""


@dataclass(frozen=True)
class CheckInTicket:
    """The poll book's answer for an eligible voter: which ballot style, and whether provisionally.

    ``token`` is opaque to the kiosk UI: the ballot box uses it to mark the voter as voted in the same
    transaction as the cast (Decision 128/2003, Art. 4).
    """

    style: BallotStyleId
    provisional: bool
    token: str = field(repr=False, default="")
    remote_vote_replaced: bool = False
    """The office says a ballot cast over the internet is recorded under this voter's identity: the voted mark of a
    ballot cast here voids it (docs/remote-voting.md); a release (the voter cancels) leaves it counting."""


@dataclass(frozen=True)
class SealedBallot:
    """An encrypted ballot the kiosk has committed to, before the voter casts or challenges it.

    ``handle`` is opaque (the real encrypted ballot lives in the ballot service); ``code`` is the short
    human form of its confirmation code.
    """

    handle: object = field(repr=False, compare=False)
    code: str = ""


@dataclass(frozen=True)
class CastReceipt:
    code: str
    qr_payload: str


@dataclass(frozen=True)
class ChallengeReport:
    """What the challenged ballot decrypted to (shown to the voter only) and whether it matched.

    ``verified`` is the kiosk's own check: a failure is shown as a warning, but a pass certifies nothing (a
    tampered kiosk would say it too), so the screen shows ``check_code`` as a QR code for the voter to check the
    ballot on a device they trust (``python -m remote.verify``, election/check_code.py)."""

    decrypted: Selections = field(repr=False)
    verified: bool
    code: str
    check_code: str = field(default="", repr=False)


class Secret:
    """A short secret string (the PIN being typed) that never shows itself in repr or str."""

    __slots__ = ("_value",)

    def __init__(self, value: str = "") -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __len__(self) -> int:
        return len(self._value)

    def __repr__(self) -> str:
        return f"Secret(<{len(self._value)} chars>)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(("Secret", len(self._value)))


@dataclass(frozen=True)
class KioskMode:
    """What the staff have set on this kiosk; survives from voter to voter (unlike ``Settings``)."""

    polls_open: bool = False
    polls_closed: bool = False
    """The polls were open and have been closed (not open and not closed: not yet open today)."""
    manual_fallback: bool = False
    assisted_next: bool = False


@dataclass(frozen=True)
class StaffStatus:
    """What the staff screens show about this kiosk (counts only: nothing about any voter or ballot's content)."""

    at: dt.datetime
    """Now, timezone-aware (the screens show it in Oman's time, Asia/Muscat)."""
    kiosk_id: str
    ballots_cast: int
    check_ins: int
    """Voters checked in on this kiosk (each a random token in the ballot box; who they were is not kept)."""
    outbox: int | None = None
    """Items (ballot batches, voted marks, the chain close) still to be sent to the central office; None for a
    standalone kiosk, which has no office."""
    office_reachable: bool | None = None

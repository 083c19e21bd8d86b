"""The small interfaces the kiosk shell needs from the card layer, the poll book, the ballot services and
the staff functions. Adapters translate the real modules' outcomes into session events; fakes implement
the same interfaces for tests and the demo.

All calls may block (PC/SC, SQL, HTTP): the effect runner calls them on a worker thread, never on the
UI thread.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from election.manifest import BallotStyleId, Language
from kiosk.session import events as ev
from kiosk.session.model import CheckInTicket, ClipId, SealedBallot, Secret, Selections, StaffIdentity, VoterIdentity


class CardPort(Protocol):
    """The card in the reader: read it, verify its PIN, authenticate it (challenge signature + PKI)."""

    def read(self) -> ev.CardRead | ev.Failed: ...

    def verify_pin(self, pin: Secret) -> ev.PinAccepted | ev.PinRejected | ev.Failed: ...

    def authenticate(self) -> ev.VoterAuthenticated | ev.StaffAuthenticated | ev.Failed: ...


class CardEventsPort(Protocol):
    """Insertion/removal and reader health, pushed from the card layer's own thread."""

    def start(self, sink: Callable[[ev.Event], None]) -> None: ...

    def stop(self) -> None: ...


class PollBookPort(Protocol):
    def check_in(self, voter: VoterIdentity) -> ev.CheckedIn | ev.Failed: ...

    def cancel(self, ticket: CheckInTicket) -> None: ...


class BallotPort(Protocol):
    """Encryption (commit before cast/challenge), the ballot box, and the Benaloh challenge."""

    def seal(self, style: BallotStyleId, selections: Selections) -> ev.BallotSealed | ev.Failed: ...

    def cast(self, sealed: SealedBallot, ticket: CheckInTicket) -> ev.BallotCast | ev.Failed: ...

    def challenge(self, sealed: SealedBallot) -> ev.BallotChallenged | ev.Failed: ...


class StaffPort(Protocol):
    def run(self, action: ev.StaffAction, staff: StaffIdentity) -> ev.StaffDone: ...


class AuditPort(Protocol):
    def record(self, kind: str, detail: str) -> None: ...


class SpeakerPort(Protocol):
    """Audio hook for the accessibility layer; the default does nothing."""

    def speak(self, clips: tuple[ClipId, ...], language: Language) -> None: ...


class SchedulerPort(Protocol):
    def call_later(self, seconds: float, callback: Callable[[], None]) -> None: ...


class SilentSpeaker:
    def speak(self, clips: tuple[ClipId, ...], language: Language) -> None:
        return None


class DemoControlsPort(Protocol):
    """The demo kiosk's way to insert demo voters' cards (keyboard F2/F3/F4 or the demo panel)."""

    def insert_next_voter(self) -> str: ...

    def insert_staff(self) -> str: ...

    def remove(self) -> str: ...

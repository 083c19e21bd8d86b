"""In-memory implementations of the kiosk ports, for tests, benchmarks and the demo without hardware.

They behave like the real components from the session's point of view (a PIN counter that blocks, a poll
book that remembers who voted, a ballot box that refuses a second cast) but do no cryptography and no
I/O. Nothing here is used when the real components are wired (see kiosk.ui.app).
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable
from dataclasses import dataclass, field

from election.manifest import BallotStyleId, Manifest, WilayatCode
from kiosk.session import events as ev
from kiosk.session.model import (
    CardKind,
    CastReceipt,
    ChallengeReport,
    CheckInTicket,
    SealedBallot,
    Secret,
    Selections,
    StaffIdentity,
    VoterIdentity,
)


@dataclass
class FakeCardSpec:
    civil_number: str
    pin: str = "1234"
    tries_left: int = 3
    kind: CardKind = CardKind.VOTER
    read_failure: ev.Failure | None = None
    auth_failure: ev.Failure | None = None
    wilayat: WilayatCode | None = None


@dataclass
class FakeCard:
    """A reader with (at most) one card in it."""

    inserted: FakeCardSpec | None = None

    def insert(self, spec: FakeCardSpec) -> None:
        self.inserted = spec

    def remove(self) -> None:
        self.inserted = None

    def read(self) -> ev.CardRead | ev.Failed:
        card = self.inserted
        if card is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        if card.read_failure is not None:
            return ev.Failed(card.read_failure)
        return ev.CardRead(card.kind, card.tries_left)

    def verify_pin(self, pin: Secret) -> ev.PinAccepted | ev.PinRejected | ev.Failed:
        card = self.inserted
        if card is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        if card.tries_left <= 0:
            return ev.PinRejected(0)
        if pin.reveal() == card.pin:
            card.tries_left = 3
            return ev.PinAccepted()
        card.tries_left -= 1
        return ev.PinRejected(card.tries_left)

    def authenticate(self) -> ev.VoterAuthenticated | ev.StaffAuthenticated | ev.Failed:
        card = self.inserted
        if card is None:
            return ev.Failed(ev.Failure.CARD_REMOVED)
        if card.auth_failure is not None:
            return ev.Failed(card.auth_failure)
        if card.kind is CardKind.STAFF:
            return ev.StaffAuthenticated(StaffIdentity(card.civil_number))
        return ev.VoterAuthenticated(VoterIdentity(card.civil_number, card.wilayat))


@dataclass
class FakePollBook:
    """Voters by civil number -> wilayat; ``voted`` and ``locked`` as the central poll book would keep them."""

    manifest: Manifest
    roll: dict[str, WilayatCode]
    voted: set[str] = field(default_factory=set)
    locked: set[str] = field(default_factory=set)
    offline: bool = False
    checked_in: set[str] = field(default_factory=set)

    def check_in(self, voter: VoterIdentity) -> ev.CheckedIn | ev.Failed:
        number = voter.civil_number
        if number in self.voted:
            return ev.Failed(ev.Failure.ALREADY_VOTED)
        if number in self.locked:
            return ev.Failed(ev.Failure.VOTER_LOCKED)
        wilayat = self.roll.get(number)
        if wilayat is None:
            if self.offline and voter.wilayat_hint is not None:
                wilayat = WilayatCode(voter.wilayat_hint)
            else:
                return ev.Failed(ev.Failure.NOT_ON_ROLL)
        style = self.manifest.style_for_wilayat(wilayat).id
        self.checked_in.add(number)
        return ev.CheckedIn(CheckInTicket(style=style, provisional=self.offline, token=number))

    def cancel(self, ticket: CheckInTicket) -> None:
        self.checked_in.discard(ticket.token)

    def mark_voted(self, token: str) -> None:
        self.checked_in.discard(token)
        self.voted.add(token)


@dataclass
class _FakeSealed:
    style: BallotStyleId
    selections: Selections
    ballot_id: str


@dataclass
class FakeBallots:
    """Seals by hashing (no encryption); a cast marks the voter in the poll book in the same call."""

    poll_book: FakePollBook
    cast_count: int = 0
    spoiled_count: int = 0
    tamper: bool = False  # a dishonest "kiosk": the challenge reveals different choices
    fail_cast: bool = False
    _ids: itertools.count[int] = field(default_factory=itertools.count)

    def seal(self, style: BallotStyleId, selections: Selections) -> ev.BallotSealed | ev.Failed:
        ballot_id = f"fake-{next(self._ids)}"
        code = hashlib.sha256(ballot_id.encode()).hexdigest()[:16].upper()
        short = "-".join(code[i : i + 4] for i in range(0, 16, 4))
        return ev.BallotSealed(SealedBallot(handle=_FakeSealed(style, dict(selections), ballot_id), code=short))

    def cast(self, sealed: SealedBallot, ticket: CheckInTicket) -> ev.BallotCast | ev.Failed:
        if self.fail_cast:
            return ev.Failed(ev.Failure.CAST_FAILED)
        if ticket.token in self.poll_book.voted:
            return ev.Failed(ev.Failure.ALREADY_VOTED)
        self.poll_book.mark_voted(ticket.token)
        self.cast_count += 1
        return ev.BallotCast(CastReceipt(code=sealed.code, qr_payload=f"SANDUQ-FAKE:{sealed.code}"))

    def challenge(self, sealed: SealedBallot) -> ev.BallotChallenged | ev.Failed:
        handle = sealed.handle
        assert isinstance(handle, _FakeSealed)
        self.spoiled_count += 1
        decrypted = dict.fromkeys(handle.selections, ()) if self.tamper else handle.selections
        verified = decrypted == handle.selections
        return ev.BallotChallenged(ChallengeReport(decrypted=decrypted, verified=verified, code=sealed.code))


@dataclass
class FakeStaff:
    """Staff functions that only log; the real ones (sync's kiosk states) write zero and close reports."""

    status_lines: Callable[[], tuple[str, ...]] = lambda: ("reader: ok", "sync: offline (fake)")
    log: list[tuple[ev.StaffAction, str]] = field(default_factory=list)

    def run(self, action: ev.StaffAction, staff: StaffIdentity) -> ev.StaffDone:
        self.log.append((action, staff.staff_id))
        lines = {
            ev.StaffAction.OPEN_POLLS: ("zero report: 0 ballots in the ballot box",),
            ev.StaffAction.CLOSE_POLLS: ("close report: polls closed",),
            ev.StaffAction.STATUS: self.status_lines(),
            ev.StaffAction.START_ASSISTED: ("assisted voting armed for the next voter",),
            ev.StaffAction.MANUAL_FALLBACK: ("centre switched to the manual method (Art. 8)",),
            ev.StaffAction.REOPEN_POLLS: ("polls reopened",),
        }[action]
        return ev.StaffDone(action, tuple(lines))


@dataclass
class MemoryAudit:
    entries: list[tuple[str, str]] = field(default_factory=list)

    def record(self, kind: str, detail: str) -> None:
        self.entries.append((kind, detail))


@dataclass
class ManualScheduler:
    """Timers that fire only when a test says so."""

    pending: list[tuple[float, Callable[[], None]]] = field(default_factory=list)

    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        self.pending.append((seconds, callback))

    def fire_all(self) -> None:
        pending, self.pending = self.pending, []
        for _, callback in pending:
            callback()


@dataclass
class FakeCardEvents:
    """The card monitor of a fake reader: inserting or removing a card posts the event to the sink."""

    card: FakeCard
    sink: Callable[[ev.Event], None] | None = None

    def start(self, sink: Callable[[ev.Event], None]) -> None:
        self.sink = sink

    def stop(self) -> None:
        self.sink = None

    def insert(self, spec: FakeCardSpec) -> None:
        if self.card.inserted is not None:
            self.remove()
        self.card.insert(spec)
        if self.sink is not None:
            self.sink(ev.CardInserted())

    def remove(self) -> None:
        if self.card.inserted is None:
            return
        self.card.remove()
        if self.sink is not None:
            self.sink(ev.CardRemoved())


@dataclass
class DemoDeck:
    """Demo voters' cards, handed out in turn (keyboard F2 in the demo kiosk); F4 is a staff card."""

    events: FakeCardEvents
    voters: list[FakeCardSpec]
    staff_card: FakeCardSpec
    position: int = 0

    def insert_next_voter(self) -> str:
        spec = self.voters[self.position % len(self.voters)]
        self.position += 1
        self.events.insert(
            FakeCardSpec(spec.civil_number, spec.pin, 3, spec.kind, spec.read_failure, spec.auth_failure)
        )
        return f"demo voter {self.position} (PIN {spec.pin})"

    def insert_staff(self) -> str:
        self.events.insert(self.staff_card)
        return f"staff card (PIN {self.staff_card.pin})"

    def remove(self) -> str:
        self.events.remove()
        return "card removed"

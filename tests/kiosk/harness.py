"""A scripted kiosk without Kivy: the real session machine and driver over the in-memory fakes."""

from __future__ import annotations

from dataclasses import dataclass, field

from devtools.demo_election.build import small_manifest
from devtools.fakes import FakeBallots, FakeCard, FakeCardSpec, FakePollBook, FakeStaff, ManualScheduler, MemoryAudit
from devtools.loop import InlineLoop
from election.manifest import CandidateId, Contest, Manifest, WilayatCode
from kiosk.driver import Ports, SessionDriver
from kiosk.session import SessionConfig, VoterSession, initial_state
from kiosk.session import events as ev
from kiosk.session.effects import Effect
from kiosk.session.model import CardKind, ClipId, KioskMode, Phase
from kiosk.session.voter_state import SessionState

MANIFEST = small_manifest()
TWO_SEATS = MANIFEST.contests[0]  # 2 seats, 6 candidates
WITH_WITHDRAWN = MANIFEST.contests[1]  # 1 seat, one withdrawn candidate


@dataclass
class RecordingSpeaker:
    spoken: list[tuple[ClipId, ...]] = field(default_factory=list)

    def speak(self, clips: tuple[ClipId, ...], language: object) -> None:
        self.spoken.append(clips)


class Kiosk:
    def __init__(self, manifest: Manifest = MANIFEST, *, polls_open: bool = True, offline: bool = False) -> None:
        self.manifest = manifest
        self.loop = InlineLoop()
        self.card = FakeCard()
        roll = {f"1000{i}": c.wilayat for i, c in enumerate(manifest.contests)}
        self.poll_book = FakePollBook(manifest, roll=dict(roll), offline=offline)
        self.ballots = FakeBallots(self.poll_book)
        self.staff = FakeStaff()
        self.audit = MemoryAudit()
        self.scheduler = ManualScheduler()
        self.speaker = RecordingSpeaker()
        self.machine = VoterSession(SessionConfig(manifest))
        self.effects: list[Effect] = []
        ports = Ports(
            card=self.card,
            poll_book=self.poll_book,
            ballots=self.ballots,
            staff=self.staff,
            audit=self.audit,
            speaker=self.speaker,
            scheduler=self.scheduler,
        )
        self.driver = SessionDriver(
            machine=self.machine,
            state=initial_state(KioskMode(polls_open=polls_open)),
            ports=ports,
            marshal=self.loop.call_soon,
            run_blocking=self.loop.call_soon,
        )
        self.states: list[SessionState] = []
        self.driver.listeners.append(self.states.append)
        step = self.machine.step

        def recording_step(state: SessionState, event: ev.Event) -> tuple[SessionState, tuple[Effect, ...]]:
            new, effects = step(state, event)
            self.effects.extend(effects)
            return new, effects

        self.machine.step = recording_step  # type: ignore[method-assign]

    @property
    def state(self) -> SessionState:
        return self.driver.state

    @property
    def phase(self) -> Phase:
        return self.driver.state.phase

    def send(self, *events: ev.Event) -> Kiosk:
        for event in events:
            self.driver.dispatch(event)
            self.loop.run_until_idle()
        return self

    # ---- scripted voter steps ------------------------------------------------------------------------

    def voter_number(self, contest: Contest) -> str:
        return f"1000{self.manifest.contests.index(contest)}"

    def insert(self, spec: FakeCardSpec) -> Kiosk:
        self.card.insert(spec)
        return self.send(ev.CardInserted())

    def insert_voter(self, contest: Contest = TWO_SEATS, **kw: object) -> Kiosk:
        return self.insert(FakeCardSpec(self.voter_number(contest), **kw))  # type: ignore[arg-type]

    def insert_staff(self) -> Kiosk:
        return self.insert(FakeCardSpec("S-001", kind=CardKind.STAFF))

    def remove(self) -> Kiosk:
        self.card.remove()
        return self.send(ev.CardRemoved())

    def pin(self, digits: str = "1234") -> Kiosk:
        self.send(*(ev.PinDigit(d) for d in digits))
        return self.send(ev.PinSubmit())

    def to_ballot(self, contest: Contest = TWO_SEATS) -> Kiosk:
        self.insert_voter(contest).pin()
        assert self.phase is Phase.ACCESSIBILITY, self.phase
        return self.send(ev.Continue())

    def choose(self, *candidates: CandidateId) -> Kiosk:
        return self.send(*(ev.ToggleCandidate(c) for c in candidates))

    def fire_timers(self) -> Kiosk:
        self.scheduler.fire_all()
        self.loop.run_until_idle()
        return self


def wilayat_of(contest: Contest) -> WilayatCode:
    return contest.wilayat

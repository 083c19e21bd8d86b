"""The imperative shell around the voter session: feeds events to the machine, runs its effects against
the ports, and tells listeners (the screens) about the new state. No Kivy here.

Threading: ``dispatch`` runs on one thread only (the UI thread in the app). Blocking port calls go to
``run_blocking`` (a single worker thread in the app, so card commands are never interleaved); their
results come back through ``marshal`` (``Clock.schedule_once`` in the app). Results from a session that
has since ended are dropped by an epoch check, so a late answer can never reach the next voter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk.ports import AuditPort, BallotPort, CardPort, PollBookPort, SchedulerPort, SpeakerPort, StaffPort
from kiosk.session import effects as fx
from kiosk.session import events as ev
from kiosk.session.machine import VoterSession
from kiosk.session.voter_state import SessionState

log = logging.getLogger(__name__)

Listener = Callable[[SessionState], None]


@dataclass
class Ports:
    card: CardPort
    poll_book: PollBookPort
    ballots: BallotPort
    staff: StaffPort
    audit: AuditPort
    speaker: SpeakerPort
    scheduler: SchedulerPort


@dataclass
class SessionDriver:
    machine: VoterSession
    state: SessionState
    ports: Ports
    marshal: Callable[[Callable[[], None]], None]
    run_blocking: Callable[[Callable[[], None]], None]
    listeners: list[Listener] = field(default_factory=list)
    on_wiped: list[Callable[[], None]] = field(default_factory=list)
    """Called when a session is wiped: the screens drop anything they drew for the last voter."""
    epoch: int = 0

    def dispatch(self, event: ev.Event) -> None:
        self.state, effects = self.machine.step(self.state, event)
        for effect in effects:
            self._run(effect)
        for listener in list(self.listeners):
            listener(self.state)

    def post(self, event: ev.Event) -> None:
        """Thread-safe: deliver an event from any thread (card monitor, worker) to the UI thread."""
        self.marshal(lambda: self.dispatch(event))

    # ---- effects ----------------------------------------------------------------------------------

    def _blocking(self, call: Callable[[], ev.Event], what: str) -> None:
        epoch = self.epoch

        def work() -> None:
            try:
                result = call()
            except Exception:
                # Unexpected: logged with its traceback (no voter data is in these calls' reprs).
                log.exception("%s failed unexpectedly", what)
                result = ev.Failed(ev.Failure.INTERNAL)
            self.marshal(lambda: self._deliver(epoch, result))

        self.run_blocking(work)

    def _deliver(self, epoch: int, event: ev.Event) -> None:
        if epoch == self.epoch:
            self.dispatch(event)

    def _run(self, effect: fx.Effect) -> None:
        p = self.ports
        match effect:
            case fx.ReadCard():
                self._blocking(p.card.read, "reading the card")
            case fx.VerifyPin(pin=pin):
                self._blocking(lambda: p.card.verify_pin(pin), "verifying the PIN")
            case fx.Authenticate():
                self._blocking(p.card.authenticate, "authenticating the card")
            case fx.CheckIn(voter=voter):
                self._blocking(lambda: p.poll_book.check_in(voter), "checking in")
            case fx.Seal(style=style, selections=selections):
                self._blocking(lambda: p.ballots.seal(style, selections), "sealing the ballot")
            case fx.CastSealed(sealed=sealed, ticket=ticket):
                self._blocking(lambda: p.ballots.cast(sealed, ticket), "casting")
            case fx.ChallengeSealed(sealed=sealed):
                self._blocking(lambda: p.ballots.challenge(sealed), "challenging")
            case fx.RunStaffAction(action=action, staff=staff):
                self._blocking(lambda: p.staff.run(action, staff), f"staff action {action.value}")
            case fx.CancelCheckIn(ticket=ticket):
                self.run_blocking(lambda: _quietly(lambda: p.poll_book.cancel(ticket), "cancelling a check-in"))
            case fx.ArmTimer(token=token, seconds=seconds):
                p.scheduler.call_later(seconds, lambda: self.post(ev.TimerExpired(token)))
            case fx.Speak(clips=clips):
                p.speaker.speak(clips, self.state.settings.language)
            case fx.Audit(kind=kind, detail=detail):
                p.audit.record(kind, detail)
            case fx.SessionWiped():
                self.epoch += 1
                for forget in list(self.on_wiped):
                    forget()


def _quietly(call: Callable[[], None], what: str) -> None:
    try:
        call()
    except Exception:
        log.exception("%s failed", what)

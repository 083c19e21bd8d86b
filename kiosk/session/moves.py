"""What every transition of the voter session is made of: the session's config, the ``Step`` a transition
returns, and its three moves (``Moves``): ``enter`` a phase (arming the inactivity timer where the voter is
expected to act, and reading the screen aloud when audio is on), ``fail`` with the failure's message, and
``reset`` to the idle screen with every secret dropped. The transitions themselves are ``kiosk.session.machine``
(events for every phase) and the phase modules it dispatches to."""

from __future__ import annotations

from dataclasses import dataclass, replace

from election.manifest import Contest, Manifest
from kiosk.session import ballot, flow
from kiosk.session import events as ev
from kiosk.session.effects import ArmTimer, Audit, CancelCheckIn, Effect, SessionWiped, Speak
from kiosk.session.model import CheckInTicket, KioskMode, MessageId, Phase, Secret, Settings
from kiosk.session.voter_state import SessionState

Step = tuple[SessionState, tuple[Effect, ...]]

CARD_REMOVED_NOTICE = MessageId("kiosk.error.card_removed")
THANK_YOU_NOTICE = MessageId("goodbye.thanks")
REMOTE_VOTE_KEPT_NOTICE = MessageId("kiosk.remote_vote.kept")


@dataclass(frozen=True)
class SessionConfig:
    manifest: Manifest
    inactivity_warning_s: float = 90.0
    inactivity_end_s: float = 30.0
    notice_s: float = 8.0
    pin_min_length: int = 4
    pin_max_length: int = 8


def idle_phase(kiosk: KioskMode) -> Phase:
    return Phase.ATTRACT if kiosk.polls_open and not kiosk.manual_fallback else Phase.CLOSED


def after_check_in(ticket: CheckInTicket) -> Phase:
    return Phase.PROVISIONAL if ticket.provisional else Phase.ACCESSIBILITY


@dataclass(frozen=True)
class Moves:
    """The session's moves, bound to the election it serves."""

    config: SessionConfig

    def enter(self, state: SessionState, phase: Phase, *extra: Effect) -> Step:
        """Move to ``phase``; arm the inactivity timer if the voter is expected to act there. The caller changes
        the other fields with a (type-checked) ``replace`` of ``state`` first."""
        token = state.timer_token + 1
        new = replace(state, phase=phase, timer_token=token, warning=False)
        effects: list[Effect] = list(extra)
        if phase in flow.WAITS_FOR_VOTER:
            effects.append(ArmTimer(token, self.config.inactivity_warning_s))
        if new.settings.audio:
            effects.append(Speak(flow.SCREEN_CLIPS[phase]))
        return new, tuple(effects)

    def reset(self, state: SessionState, notice: MessageId | None, *extra: Effect) -> Step:
        """End the session: every secret and setting is dropped; the kiosk mode stays."""
        effects: list[Effect] = list(extra)
        if state.ticket is not None and state.receipt is None:
            effects.append(CancelCheckIn(state.ticket))
        token = state.timer_token + 1
        new = SessionState(
            phase=idle_phase(state.kiosk),
            kiosk=state.kiosk,
            reader_ok=state.reader_ok,
            notice=notice,
            timer_token=token,
            settings=Settings(),
        )
        effects.append(SessionWiped())
        if notice is not None:
            effects.append(ArmTimer(token, self.config.notice_s))
        return new, tuple(effects)

    def fail(self, state: SessionState, failure: ev.Failure) -> Step:
        """Show the failure's message; the session waits for the card to be removed. Choices are dropped."""
        effects: list[Effect] = [Audit("session_failed", failure.value)]
        if state.ticket is not None and state.receipt is None:
            effects.append(CancelCheckIn(state.ticket))
        return self.enter(
            replace(
                state,
                failure=failure,
                pin=Secret(),
                voter=None,
                ticket=None,
                selections={},
                sealed=None,
                challenge=None,
            ),
            Phase.NOTICE,
            *effects,
        )

    def contests(self, state: SessionState) -> tuple[Contest, ...]:
        assert state.ticket is not None, "the ballot phases are reached only after check-in"
        return ballot.contests_for(self.config.manifest, state.ticket.style)

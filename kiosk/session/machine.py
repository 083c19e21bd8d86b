"""The voter session state machine: ``step(state, event) -> (state, effects)``, pure and total.

No clock, no threads, no I/O: timers are ``ArmTimer`` effects answered by ``TimerExpired`` events, and
every service call is an effect answered by an event. An event that does not fit the current phase is
ignored (a late answer from a service, a double touch), so the machine can never be pushed into a state
the journey does not have.

This module is the dispatch (one phase, one transition function) and what holds in every phase: card removal,
the reader, timers, activity, the language, display and audio settings, the polls' state, and the notice. The
transitions of the phases are grouped by the part of the journey they serve: ``entry_phases`` (card, PIN,
authentication, check-in), ``ballot_phases`` (marking, review, sealing, cast or challenge) and ``staff_phases``;
``moves`` holds the config and the moves they share (enter a phase, fail, reset).
"""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from kiosk.session import ballot_phases, entry_phases, flow, staff_phases
from kiosk.session import events as ev
from kiosk.session.effects import ArmTimer, Audit, Speak
from kiosk.session.model import CardKind, ClipId, KioskMode, Phase
from kiosk.session.moves import (
    CARD_REMOVED_NOTICE,
    REMOTE_VOTE_KEPT_NOTICE,
    THANK_YOU_NOTICE,
    Moves,
    SessionConfig,
    Step,
    idle_phase,
)
from kiosk.session.voter_state import SessionState

__all__ = [
    "CARD_REMOVED_NOTICE",
    "REMOTE_VOTE_KEPT_NOTICE",
    "THANK_YOU_NOTICE",
    "SessionConfig",
    "Step",
    "VoterSession",
    "initial_state",
]


def initial_state(kiosk: KioskMode | None = None) -> SessionState:
    mode = kiosk or KioskMode()
    return SessionState(phase=idle_phase(mode), kiosk=mode)


class VoterSession:
    """The transition function, bound to the election it serves."""

    def __init__(self, config: SessionConfig) -> None:
        self._moves = Moves(config)

    @property
    def config(self) -> SessionConfig:
        return self._moves.config

    # ---- the transition function ---------------------------------------------------------------------

    def step(self, state: SessionState, event: ev.Event) -> Step:
        handled = self._global(state, event)
        if handled is not None:
            return handled
        phase = state.phase
        match phase:
            case Phase.CLOSED:
                return entry_phases.on_closed(self._moves, state, event)
            case Phase.ATTRACT:
                return entry_phases.on_attract(self._moves, state, event)
            case Phase.READING_CARD:
                return entry_phases.on_reading_card(self._moves, state, event)
            case Phase.PIN_ENTRY:
                return entry_phases.on_pin_entry(self._moves, state, event)
            case Phase.AUTHENTICATING:
                return entry_phases.on_authenticating(self._moves, state, event)
            case Phase.CHECKING_IN:
                return entry_phases.on_checking_in(self._moves, state, event)
            case Phase.REMOTE_VOTE:
                return entry_phases.on_remote_vote(self._moves, state, event)
            case Phase.PROVISIONAL:
                return entry_phases.on_provisional(self._moves, state, event)
            case Phase.ACCESSIBILITY:
                return entry_phases.on_accessibility(self._moves, state, event)
            case Phase.BALLOT:
                return ballot_phases.on_ballot(self._moves, state, event)
            case Phase.REVIEW:
                return ballot_phases.on_review(self._moves, state, event)
            case Phase.SEALING:
                return ballot_phases.on_sealing(self._moves, state, event)
            case Phase.CAST_OR_CHALLENGE:
                return ballot_phases.on_cast_or_challenge(self._moves, state, event)
            case Phase.CASTING:
                return ballot_phases.on_casting(self._moves, state, event)
            case Phase.CHALLENGING:
                return ballot_phases.on_challenging(self._moves, state, event)
            case Phase.CHALLENGE_RESULT:
                return ballot_phases.on_challenge_result(self._moves, state, event)
            case Phase.NOTICE:
                return self._on_notice(state, event)
            case Phase.STAFF_MENU:
                return staff_phases.on_staff_menu(self._moves, state, event)
            case Phase.STAFF_BUSY:
                return staff_phases.on_staff_busy(self._moves, state, event)
            case Phase.STAFF_REPORT:
                return staff_phases.on_staff_report(self._moves, state, event)
            case Phase.CONFIRMATION:
                return state, ()  # the receipt is shown until the card is removed (handled above)
            case _:
                assert_never(phase)

    def _global(self, state: SessionState, event: ev.Event) -> Step | None:
        match event:
            case ev.CardRemoved():
                return self._card_removed(state)
            case ev.ReaderLost():
                lost = replace(state, reader_ok=False, card_present=False)
                if state.phase in flow.IDLE:
                    return lost, (Audit("reader_lost"),)
                return self._moves.reset(
                    lost, None, Audit("reader_lost"), Audit("session_abandoned", state.phase.value)
                )
            case ev.ReaderBack():
                return replace(state, reader_ok=True), (Audit("reader_back"),)
            case ev.TimerExpired(token=token):
                return self._timer(state, token)
            case ev.Activity():
                if state.phase in flow.WAITS_FOR_VOTER:
                    return self._moves.enter(state, state.phase)
                return state, ()
            case ev.ChooseLanguage(language=language) if state.phase not in flow.IDLE:
                return self._moves.enter(
                    replace(state, settings=replace(state.settings, language=language)), state.phase
                )
            case ev.ChooseLanguage(language=language):
                # On the attract screen the language toggle only changes what the attract screen shows.
                return replace(state, settings=replace(state.settings, language=language)), ()
            case ev.ChooseTextSize(size=size) if state.phase not in flow.IDLE:
                return self._moves.enter(replace(state, settings=replace(state.settings, text_size=size)), state.phase)
            case ev.ChooseTheme(theme=theme) if state.phase not in flow.IDLE:
                return self._moves.enter(replace(state, settings=replace(state.settings, theme=theme)), state.phase)
            case ev.ToggleAudio() if state.phase not in flow.IDLE:
                return self._moves.enter(
                    replace(state, settings=replace(state.settings, audio=not state.settings.audio)), state.phase
                )
            case ev.ToggleAudio() if state.phase is Phase.ATTRACT:
                return self._attract_audio(state)
            case ev.Replay() if state.settings.audio:
                return state, (Speak(flow.SCREEN_CLIPS[state.phase]),)
            case ev.PollsChanged(polls_open=polls_open, manual_fallback=manual):
                was_open = state.kiosk.polls_open or state.kiosk.polls_closed
                closed = not polls_open and was_open
                kiosk = replace(state.kiosk, polls_open=polls_open, polls_closed=closed, manual_fallback=manual)
                new = replace(state, kiosk=kiosk)
                if state.phase in flow.IDLE:
                    new = replace(new, phase=idle_phase(kiosk))
                return new, ()
        return None

    def _attract_audio(self, state: SessionState) -> Step:
        """Audio turned on (or off) before the card: the attract screen is read, and the setting is carried
        into the session. A voter who walks away without a card does not leave it on for the next one: the
        setting lapses after the inactivity delay (a new timer, which also ends any passing notice)."""
        audio = not state.settings.audio
        token = state.timer_token + 1
        new = replace(state, settings=replace(state.settings, audio=audio), timer_token=token)
        if not audio:
            return new, ()
        lapse = ArmTimer(token, self.config.inactivity_warning_s + self.config.inactivity_end_s)
        return new, (lapse, Speak(flow.SCREEN_CLIPS[Phase.ATTRACT]))

    def _card_removed(self, state: SessionState) -> Step:
        state = replace(state, card_present=False)
        if state.phase in flow.IDLE:
            return state, ()
        if state.phase is Phase.CASTING:
            # The cast is one transaction already under way: it completes and the code is still shown.
            return replace(state, cast_after_removal=True), ()
        if state.phase is Phase.CONFIRMATION:
            return self._moves.reset(state, THANK_YOU_NOTICE, Audit("session_ended"))
        if state.phase is Phase.NOTICE or state.card_kind is CardKind.STAFF:
            return self._moves.reset(state, None, Audit("session_ended"))
        abandoned = Audit("session_abandoned", f"card removed at {state.phase.value}")
        return self._moves.reset(state, CARD_REMOVED_NOTICE, abandoned)

    def _timer(self, state: SessionState, token: int) -> Step:
        if token != state.timer_token:
            return state, ()
        if state.phase in flow.IDLE:
            return replace(state, notice=None, settings=replace(state.settings, audio=False)), ()
        if state.phase is Phase.CONFIRMATION and state.cast_after_removal:
            return self._moves.reset(state, THANK_YOU_NOTICE, Audit("session_ended"))
        if state.phase not in flow.WAITS_FOR_VOTER:
            return state, ()
        if not state.warning:
            new = replace(state, warning=True)
            clips = (Speak((ClipId("prompt.still_there"),)),) if state.settings.audio else ()
            return new, (ArmTimer(token, self.config.inactivity_end_s), *clips)
        if state.card_kind is CardKind.STAFF:
            return self._moves.reset(state, None, Audit("staff_timed_out"))
        return self._moves.fail(state, ev.Failure.TIMED_OUT)

    # ---- the notice (a failure's message, or the end of a cancelled session) -------------------------

    def _on_notice(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.Continue) and not state.card_present:
            return self._moves.reset(state, None)
        return state, ()

"""The voter session state machine: ``step(state, event) -> (state, effects)``, pure and total.

No clock, no threads, no I/O: timers are ``ArmTimer`` effects answered by ``TimerExpired`` events, and
every service call is an effect answered by an event. An event that does not fit the current phase is
ignored (a late answer from a service, a double touch), so the machine can never be pushed into a state
the journey does not have.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import assert_never

from election.manifest import Contest, Manifest
from kiosk.session import ballot, flow
from kiosk.session import events as ev
from kiosk.session.effects import (
    ArmTimer,
    Audit,
    Authenticate,
    CancelCheckIn,
    CastSealed,
    ChallengeSealed,
    CheckIn,
    Effect,
    ReadCard,
    RunStaffAction,
    Seal,
    SessionWiped,
    Speak,
    VerifyPin,
)
from kiosk.session.model import CardKind, CheckInTicket, ClipId, KioskMode, MessageId, Phase, Secret, Settings
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


def initial_state(kiosk: KioskMode | None = None) -> SessionState:
    mode = kiosk or KioskMode()
    return SessionState(phase=_idle_phase(mode), kiosk=mode)


def _idle_phase(kiosk: KioskMode) -> Phase:
    return Phase.ATTRACT if kiosk.polls_open and not kiosk.manual_fallback else Phase.CLOSED


def _after_check_in(ticket: CheckInTicket) -> Phase:
    return Phase.PROVISIONAL if ticket.provisional else Phase.ACCESSIBILITY


class VoterSession:
    """The transition function, bound to the election it serves."""

    def __init__(self, config: SessionConfig) -> None:
        self.config = config

    # ---- helpers ----------------------------------------------------------------------------------

    def _enter(self, state: SessionState, phase: Phase, *extra: Effect) -> Step:
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

    def _reset(self, state: SessionState, notice: MessageId | None, *extra: Effect) -> Step:
        """End the session: every secret and setting is dropped; the kiosk mode stays."""
        effects: list[Effect] = list(extra)
        if state.ticket is not None and state.receipt is None:
            effects.append(CancelCheckIn(state.ticket))
        token = state.timer_token + 1
        new = SessionState(
            phase=_idle_phase(state.kiosk),
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

    def _fail(self, state: SessionState, failure: ev.Failure) -> Step:
        """Show the failure's message; the session waits for the card to be removed. Choices are dropped."""
        effects: list[Effect] = [Audit("session_failed", failure.value)]
        if state.ticket is not None and state.receipt is None:
            effects.append(CancelCheckIn(state.ticket))
        return self._enter(
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

    def _contests(self, state: SessionState) -> tuple[Contest, ...]:
        assert state.ticket is not None, "the ballot phases are reached only after check-in"
        return ballot.contests_for(self.config.manifest, state.ticket.style)

    # ---- the transition function ---------------------------------------------------------------------

    def step(self, state: SessionState, event: ev.Event) -> Step:
        handled = self._global(state, event)
        if handled is not None:
            return handled
        phase = state.phase
        match phase:
            case Phase.CLOSED:
                return self._on_closed(state, event)
            case Phase.ATTRACT:
                return self._on_attract(state, event)
            case Phase.READING_CARD:
                return self._on_reading_card(state, event)
            case Phase.PIN_ENTRY:
                return self._on_pin_entry(state, event)
            case Phase.AUTHENTICATING:
                return self._on_authenticating(state, event)
            case Phase.CHECKING_IN:
                return self._on_checking_in(state, event)
            case Phase.REMOTE_VOTE:
                return self._on_remote_vote(state, event)
            case Phase.PROVISIONAL:
                return self._on_provisional(state, event)
            case Phase.ACCESSIBILITY:
                return self._on_accessibility(state, event)
            case Phase.BALLOT:
                return self._on_ballot(state, event)
            case Phase.REVIEW:
                return self._on_review(state, event)
            case Phase.SEALING:
                return self._on_sealing(state, event)
            case Phase.CAST_OR_CHALLENGE:
                return self._on_cast_or_challenge(state, event)
            case Phase.CASTING:
                return self._on_casting(state, event)
            case Phase.CHALLENGING:
                return self._on_challenging(state, event)
            case Phase.CHALLENGE_RESULT:
                return self._on_challenge_result(state, event)
            case Phase.NOTICE:
                return self._on_notice(state, event)
            case Phase.STAFF_MENU:
                return self._on_staff_menu(state, event)
            case Phase.STAFF_BUSY:
                return self._on_staff_busy(state, event)
            case Phase.STAFF_REPORT:
                return self._on_staff_report(state, event)
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
                return self._reset(lost, None, Audit("reader_lost"), Audit("session_abandoned", state.phase.value))
            case ev.ReaderBack():
                return replace(state, reader_ok=True), (Audit("reader_back"),)
            case ev.TimerExpired(token=token):
                return self._timer(state, token)
            case ev.Activity():
                if state.phase in flow.WAITS_FOR_VOTER:
                    return self._enter(state, state.phase)
                return state, ()
            case ev.ChooseLanguage(language=language) if state.phase not in flow.IDLE:
                return self._enter(replace(state, settings=replace(state.settings, language=language)), state.phase)
            case ev.ChooseLanguage(language=language):
                # On the attract screen the language toggle only changes what the attract screen shows.
                return replace(state, settings=replace(state.settings, language=language)), ()
            case ev.ChooseTextSize(size=size) if state.phase not in flow.IDLE:
                return self._enter(replace(state, settings=replace(state.settings, text_size=size)), state.phase)
            case ev.ChooseTheme(theme=theme) if state.phase not in flow.IDLE:
                return self._enter(replace(state, settings=replace(state.settings, theme=theme)), state.phase)
            case ev.ToggleAudio() if state.phase not in flow.IDLE:
                return self._enter(
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
                    new = replace(new, phase=_idle_phase(kiosk))
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
            return self._reset(state, THANK_YOU_NOTICE, Audit("session_ended"))
        if state.phase is Phase.NOTICE or state.card_kind is CardKind.STAFF:
            return self._reset(state, None, Audit("session_ended"))
        abandoned = Audit("session_abandoned", f"card removed at {state.phase.value}")
        return self._reset(state, CARD_REMOVED_NOTICE, abandoned)

    def _timer(self, state: SessionState, token: int) -> Step:
        if token != state.timer_token:
            return state, ()
        if state.phase in flow.IDLE:
            return replace(state, notice=None, settings=replace(state.settings, audio=False)), ()
        if state.phase is Phase.CONFIRMATION and state.cast_after_removal:
            return self._reset(state, THANK_YOU_NOTICE, Audit("session_ended"))
        if state.phase not in flow.WAITS_FOR_VOTER:
            return state, ()
        if not state.warning:
            new = replace(state, warning=True)
            clips = (Speak((ClipId("prompt.still_there"),)),) if state.settings.audio else ()
            return new, (ArmTimer(token, self.config.inactivity_end_s), *clips)
        if state.card_kind is CardKind.STAFF:
            return self._reset(state, None, Audit("staff_timed_out"))
        return self._fail(state, ev.Failure.TIMED_OUT)

    # ---- card, PIN and authentication ------------------------------------------------------------------

    def _on_closed(self, state: SessionState, event: ev.Event) -> Step:
        return self._on_attract(state, event)

    def _on_attract(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.CardInserted):
            # Language and audio chosen on the attract screen carry into the session; the rest is fresh.
            settings = Settings(language=state.settings.language, audio=state.settings.audio)
            return self._enter(
                replace(state, card_present=True, notice=None, settings=settings), Phase.READING_CARD, ReadCard()
            )
        return state, ()

    def _on_reading_card(self, state: SessionState, event: ev.Event) -> Step:
        match event:
            case ev.CardRead(kind=kind, pin_tries_left=tries):
                state = replace(state, card_kind=kind, pin_tries_left=tries)
                if kind is CardKind.VOTER and _idle_phase(state.kiosk) is Phase.CLOSED:
                    return self._fail(state, ev.Failure.POLLS_CLOSED)
                if tries <= 0:
                    return self._fail(state, ev.Failure.PIN_BLOCKED)
                return self._enter(replace(state, pin=Secret(), pin_wrong=False), Phase.PIN_ENTRY)
            case ev.Failed(failure=failure):
                return self._fail(state, failure)
        return state, ()

    def _on_pin_entry(self, state: SessionState, event: ev.Event) -> Step:
        pin = state.pin.reveal()
        match event:
            case ev.PinDigit(digit=d) if len(d) == 1 and d in "0123456789":
                if len(pin) >= self.config.pin_max_length:
                    return state, ()
                return self._enter(replace(state, pin=Secret(pin + d), pin_wrong=False), Phase.PIN_ENTRY)
            case ev.PinBackspace():
                return self._enter(replace(state, pin=Secret(pin[:-1])), Phase.PIN_ENTRY)
            case ev.PinSubmit() if len(pin) >= self.config.pin_min_length:
                return self._enter(replace(state, pin=Secret()), Phase.AUTHENTICATING, VerifyPin(Secret(pin)))
        return state, ()

    def _on_authenticating(self, state: SessionState, event: ev.Event) -> Step:
        match event:
            case ev.PinRejected(tries_left=tries) if tries <= 0:
                return self._fail(replace(state, pin_tries_left=0), ev.Failure.PIN_BLOCKED)
            case ev.PinRejected(tries_left=tries):
                return self._enter(
                    replace(state, pin_tries_left=tries, pin_wrong=True), Phase.PIN_ENTRY, Audit("pin_rejected")
                )
            case ev.PinAccepted():
                return state, (Authenticate(),)
            case ev.VoterAuthenticated(voter=voter) if state.card_kind is CardKind.VOTER:
                return self._enter(
                    replace(state, voter=voter), Phase.CHECKING_IN, CheckIn(voter), Audit("voter_authenticated")
                )
            case ev.StaffAuthenticated(staff=staff) if state.card_kind is CardKind.STAFF:
                return self._enter(
                    replace(state, staff=staff), Phase.STAFF_MENU, Audit("staff_signed_in", staff.staff_id)
                )
            case ev.Failed(failure=failure):
                return self._fail(state, failure)
        return state, ()

    def _on_checking_in(self, state: SessionState, event: ev.Event) -> Step:
        match event:
            case ev.CheckedIn(ticket=ticket):
                settings = state.settings
                kiosk = state.kiosk
                if kiosk.assisted_next:
                    settings = replace(settings, audio=True)
                    kiosk = replace(kiosk, assisted_next=False)
                nxt = Phase.REMOTE_VOTE if ticket.remote_vote_replaced else _after_check_in(ticket)
                audit = Audit("checked_in", "provisional" if ticket.provisional else "eligible")
                # The identity is no longer needed: the ticket is all the ballot box needs.
                return self._enter(
                    replace(state, ticket=ticket, voter=None, settings=settings, kiosk=kiosk), nxt, audit
                )
            case ev.Failed(failure=failure):
                return self._fail(state, failure)
        return state, ()

    def _on_remote_vote(self, state: SessionState, event: ev.Event) -> Step:
        """The voter has been told that a vote cast here replaces their internet vote: go on, or cancel. The check-in
        itself voided nothing (the office voids the credential at the voted mark), so a cancel releases the check-in
        and the internet vote still counts; the screen that follows says so."""
        assert state.ticket is not None, "reached only with an eligible check-in"
        match event:
            case ev.Continue():
                return self._enter(state, _after_check_in(state.ticket))
            case ev.CancelVoting():
                ended = replace(state, ticket=None, failure=None, notice=REMOTE_VOTE_KEPT_NOTICE)
                audit = Audit("session_cancelled", "by the voter before the ballot")
                return self._enter(ended, Phase.NOTICE, audit, CancelCheckIn(state.ticket))
        return state, ()

    def _on_provisional(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.Continue):
            return self._enter(state, Phase.ACCESSIBILITY)
        return state, ()

    def _on_accessibility(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.Continue):
            return self._enter(replace(state, contest_index=0), Phase.BALLOT)
        return state, ()

    # ---- ballot ----------------------------------------------------------------------------------------

    def _on_ballot(self, state: SessionState, event: ev.Event) -> Step:
        contests = self._contests(state)
        contest = contests[state.contest_index]
        match event:
            case ev.ToggleCandidate(candidate=candidate):
                after = ballot.toggle(contest, state.selected(contest.id), candidate)
                if after is None:
                    clips = (Speak((ClipId("prompt.overvote"),)),) if state.settings.audio else ()
                    new, effects = self._enter(replace(state, overvote_tried=contest.id), Phase.BALLOT)
                    return new, effects + clips
                selections = {**state.selections, contest.id: after}
                return self._enter(replace(state, selections=selections, overvote_tried=None), Phase.BALLOT)
            case ev.DismissNotice():
                return self._enter(replace(state, overvote_tried=None), Phase.BALLOT)
            case ev.NextContest() if state.contest_index + 1 < len(contests):
                return self._enter(
                    replace(state, contest_index=state.contest_index + 1, overvote_tried=None), Phase.BALLOT
                )
            case ev.NextContest() | ev.GoToReview():
                return self._enter(replace(state, overvote_tried=None, blank_confirmed=False), Phase.REVIEW)
            case ev.PreviousContest() if state.contest_index > 0:
                return self._enter(
                    replace(state, contest_index=state.contest_index - 1, overvote_tried=None), Phase.BALLOT
                )
        return state, ()

    def _on_review(self, state: SessionState, event: ev.Event) -> Step:
        match event:
            case ev.BackToBallot():
                return self._enter(replace(state, contest_index=0, blank_confirmed=False), Phase.BALLOT)
            case ev.ConfirmBlank() if ballot.is_blank(self._contests(state), state.selections):
                # "Yes, cast a blank ballot" is the voter's one confirmation: the kiosk seals the ballot at once
                # (the cast-or-challenge step follows, as for every ballot).
                assert state.ticket is not None
                seal = Seal(state.ticket.style, state.selections)
                return self._enter(replace(state, blank_confirmed=True), Phase.SEALING, seal)
            case ev.SealBallot():
                if ballot.is_blank(self._contests(state), state.selections) and not state.blank_confirmed:
                    return state, ()
                assert state.ticket is not None
                return self._enter(state, Phase.SEALING, Seal(state.ticket.style, state.selections))
        return state, ()

    def _on_sealing(self, state: SessionState, event: ev.Event) -> Step:
        match event:
            case ev.BallotSealed(sealed=sealed):
                return self._enter(replace(state, sealed=sealed), Phase.CAST_OR_CHALLENGE)
            case ev.Failed(failure=failure):
                return self._fail(state, failure)
        return state, ()

    def _on_cast_or_challenge(self, state: SessionState, event: ev.Event) -> Step:
        assert state.sealed is not None and state.ticket is not None
        match event:
            case ev.Cast():
                return self._enter(state, Phase.CASTING, CastSealed(state.sealed, state.ticket))
            case ev.Challenge():
                return self._enter(state, Phase.CHALLENGING, ChallengeSealed(state.sealed))
        return state, ()

    def _on_casting(self, state: SessionState, event: ev.Event) -> Step:
        match event:
            case ev.BallotCast(receipt=receipt):
                new, effects = self._enter(
                    replace(state, receipt=receipt, selections={}, sealed=None, ticket=None),
                    Phase.CONFIRMATION,
                    Audit("ballot_cast", "provisional" if state.ticket and state.ticket.provisional else ""),
                )
                if state.cast_after_removal:
                    effects = (*effects, ArmTimer(new.timer_token, self.config.notice_s))
                return new, effects
            case ev.Failed(failure=failure):
                if state.cast_after_removal:
                    return self._reset(state, CARD_REMOVED_NOTICE, Audit("session_failed", failure.value))
                return self._fail(state, failure)
        return state, ()

    def _on_challenging(self, state: SessionState, event: ev.Event) -> Step:
        match event:
            case ev.BallotChallenged(report=report):
                return self._enter(
                    replace(state, challenge=report, sealed=None, challenges_done=state.challenges_done + 1),
                    Phase.CHALLENGE_RESULT,
                    Audit("ballot_challenged"),
                )
            case ev.Failed(failure=failure):
                return self._fail(state, failure)
        return state, ()

    def _on_challenge_result(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.Continue):
            # "Vote again" starts from an empty ballot: the challenged choices are not carried over.
            return self._enter(replace(state, contest_index=0, challenge=None, selections={}), Phase.BALLOT)
        return state, ()

    def _on_notice(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.Continue) and not state.card_present:
            return self._reset(state, None)
        return state, ()

    # ---- staff -----------------------------------------------------------------------------------------

    def _on_staff_menu(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.StaffChoose) and state.staff is not None:
            action = event.action
            if action is ev.StaffAction.OPEN_POLLS and state.kiosk.polls_open:
                return state, ()
            if action is ev.StaffAction.CLOSE_POLLS and not state.kiosk.polls_open:
                return state, ()
            if action is ev.StaffAction.REOPEN_POLLS and not state.kiosk.polls_closed:
                return state, ()
            return self._enter(
                replace(state, staff_action=action),
                Phase.STAFF_BUSY,
                Audit("staff_action", f"{action.value} by {state.staff.staff_id}"),
                RunStaffAction(action, state.staff),
            )
        return state, ()

    def _on_staff_busy(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.StaffDone):
            kiosk = state.kiosk
            if event.ok:
                match event.action:
                    case ev.StaffAction.OPEN_POLLS:
                        kiosk = replace(kiosk, polls_open=True, polls_closed=False)
                    case ev.StaffAction.CLOSE_POLLS:
                        kiosk = replace(kiosk, polls_open=False, polls_closed=True)
                    case ev.StaffAction.REOPEN_POLLS:
                        kiosk = replace(kiosk, polls_open=True, polls_closed=False)
                    case ev.StaffAction.MANUAL_FALLBACK:
                        kiosk = replace(kiosk, manual_fallback=True)
                    case ev.StaffAction.START_ASSISTED:
                        kiosk = replace(kiosk, assisted_next=True)
                    case ev.StaffAction.STATUS:
                        pass  # a report only: the kiosk's mode is unchanged
                    case _:
                        assert_never(event.action)
            return self._enter(
                replace(state, kiosk=kiosk, staff_report=event.lines, staff_ok=event.ok), Phase.STAFF_REPORT
            )
        return state, ()

    def _on_staff_report(self, state: SessionState, event: ev.Event) -> Step:
        if isinstance(event, ev.Continue):
            return self._enter(replace(state, staff_report=()), Phase.STAFF_MENU)
        return state, ()

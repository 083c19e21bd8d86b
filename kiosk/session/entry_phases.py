"""The voter session from the card to the ballot: the attract screen, reading the card, PIN entry, the card's
authentication (a voter is checked in, a staff member signed in), the check-in's answer, the remote-vote notice,
the provisional notice and the accessibility choices. One transition function per phase, called by
``kiosk.session.machine.VoterSession.step``."""

from __future__ import annotations

from dataclasses import replace

from kiosk.session import events as ev
from kiosk.session.effects import Audit, Authenticate, CancelCheckIn, CheckIn, ReadCard, VerifyPin
from kiosk.session.model import CardKind, Phase, Secret, Settings
from kiosk.session.moves import REMOTE_VOTE_KEPT_NOTICE, Moves, Step, after_check_in, idle_phase
from kiosk.session.voter_state import SessionState


def on_closed(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    return on_attract(moves, state, event)


def on_attract(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    if isinstance(event, ev.CardInserted):
        # Language and audio chosen on the attract screen carry into the session; the rest is fresh.
        settings = Settings(language=state.settings.language, audio=state.settings.audio)
        return moves.enter(
            replace(state, card_present=True, notice=None, settings=settings), Phase.READING_CARD, ReadCard()
        )
    return state, ()


def on_reading_card(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    match event:
        case ev.CardRead(kind=kind, pin_tries_left=tries):
            state = replace(state, card_kind=kind, pin_tries_left=tries)
            if kind is CardKind.VOTER and idle_phase(state.kiosk) is Phase.CLOSED:
                return moves.fail(state, ev.Failure.POLLS_CLOSED)
            if tries <= 0:
                return moves.fail(state, ev.Failure.PIN_BLOCKED)
            return moves.enter(replace(state, pin=Secret(), pin_wrong=False), Phase.PIN_ENTRY)
        case ev.Failed(failure=failure):
            return moves.fail(state, failure)
    return state, ()


def on_pin_entry(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    pin = state.pin.reveal()
    match event:
        case ev.PinDigit(digit=d) if len(d) == 1 and d in "0123456789":
            if len(pin) >= moves.config.pin_max_length:
                return state, ()
            return moves.enter(replace(state, pin=Secret(pin + d), pin_wrong=False), Phase.PIN_ENTRY)
        case ev.PinBackspace():
            return moves.enter(replace(state, pin=Secret(pin[:-1])), Phase.PIN_ENTRY)
        case ev.PinSubmit() if len(pin) >= moves.config.pin_min_length:
            return moves.enter(replace(state, pin=Secret()), Phase.AUTHENTICATING, VerifyPin(Secret(pin)))
    return state, ()


def on_authenticating(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    match event:
        case ev.PinRejected(tries_left=tries) if tries <= 0:
            return moves.fail(replace(state, pin_tries_left=0), ev.Failure.PIN_BLOCKED)
        case ev.PinRejected(tries_left=tries):
            return moves.enter(
                replace(state, pin_tries_left=tries, pin_wrong=True), Phase.PIN_ENTRY, Audit("pin_rejected")
            )
        case ev.PinAccepted():
            return state, (Authenticate(),)
        case ev.VoterAuthenticated(voter=voter) if state.card_kind is CardKind.VOTER:
            return moves.enter(
                replace(state, voter=voter), Phase.CHECKING_IN, CheckIn(voter), Audit("voter_authenticated")
            )
        case ev.StaffAuthenticated(staff=staff) if state.card_kind is CardKind.STAFF:
            return moves.enter(replace(state, staff=staff), Phase.STAFF_MENU, Audit("staff_signed_in", staff.staff_id))
        case ev.Failed(failure=failure):
            return moves.fail(state, failure)
    return state, ()


def on_checking_in(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    match event:
        case ev.CheckedIn(ticket=ticket):
            settings = state.settings
            kiosk = state.kiosk
            if kiosk.assisted_next:
                settings = replace(settings, audio=True)
                kiosk = replace(kiosk, assisted_next=False)
            nxt = Phase.REMOTE_VOTE if ticket.remote_vote_replaced else after_check_in(ticket)
            audit = Audit("checked_in", "provisional" if ticket.provisional else "eligible")
            # The identity is no longer needed: the ticket is all the ballot box needs.
            return moves.enter(replace(state, ticket=ticket, voter=None, settings=settings, kiosk=kiosk), nxt, audit)
        case ev.Failed(failure=failure):
            return moves.fail(state, failure)
    return state, ()


def on_remote_vote(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    """The voter has been told that a vote cast here replaces their internet vote: go on, or cancel. The check-in
    itself voided nothing (the office voids the credential at the voted mark), so a cancel releases the check-in
    and the internet vote still counts; the screen that follows says so."""
    assert state.ticket is not None, "reached only with an eligible check-in"
    match event:
        case ev.Continue():
            return moves.enter(state, after_check_in(state.ticket))
        case ev.CancelVoting():
            ended = replace(state, ticket=None, failure=None, notice=REMOTE_VOTE_KEPT_NOTICE)
            audit = Audit("session_cancelled", "by the voter before the ballot")
            return moves.enter(ended, Phase.NOTICE, audit, CancelCheckIn(state.ticket))
    return state, ()


def on_provisional(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    if isinstance(event, ev.Continue):
        return moves.enter(state, Phase.ACCESSIBILITY)
    return state, ()


def on_accessibility(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    if isinstance(event, ev.Continue):
        return moves.enter(replace(state, contest_index=0), Phase.BALLOT)
    return state, ()

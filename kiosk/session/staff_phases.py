"""The staff card's phases: the menu (an action that does not fit the polls' state is ignored), the action under
way and its report, which also changes the kiosk's mode. One transition function per phase, called by
``kiosk.session.machine.VoterSession.step``."""

from __future__ import annotations

from dataclasses import replace
from typing import assert_never

from kiosk.session import events as ev
from kiosk.session.effects import Audit, RunStaffAction
from kiosk.session.model import Phase
from kiosk.session.moves import Moves, Step
from kiosk.session.voter_state import SessionState


def on_staff_menu(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    if isinstance(event, ev.StaffChoose) and state.staff is not None:
        action = event.action
        if action is ev.StaffAction.OPEN_POLLS and state.kiosk.polls_open:
            return state, ()
        if action is ev.StaffAction.CLOSE_POLLS and not state.kiosk.polls_open:
            return state, ()
        if action is ev.StaffAction.REOPEN_POLLS and not state.kiosk.polls_closed:
            return state, ()
        return moves.enter(
            replace(state, staff_action=action),
            Phase.STAFF_BUSY,
            Audit("staff_action", f"{action.value} by {state.staff.staff_id}"),
            RunStaffAction(action, state.staff),
        )
    return state, ()


def on_staff_busy(moves: Moves, state: SessionState, event: ev.Event) -> Step:
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
        return moves.enter(replace(state, kiosk=kiosk, staff_report=event.lines, staff_ok=event.ok), Phase.STAFF_REPORT)
    return state, ()


def on_staff_report(moves: Moves, state: SessionState, event: ev.Event) -> Step:
    if isinstance(event, ev.Continue):
        return moves.enter(replace(state, staff_report=()), Phase.STAFF_MENU)
    return state, ()

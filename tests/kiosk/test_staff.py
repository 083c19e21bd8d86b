# mypy: disable-error-code="comparison-overlap,unreachable,union-attr"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""Staff functions with a staff card: open and close polls, status, assisted voting, manual fallback."""

from __future__ import annotations

from kiosk.session import events as ev
from kiosk.session.model import Phase
from tests.kiosk.harness import Kiosk


def _staff(k: Kiosk) -> Kiosk:
    k.insert_staff().pin()
    assert k.phase is Phase.STAFF_MENU
    return k


def test_staff_open_the_polls_with_a_zero_report_and_voters_can_then_vote():
    k = _staff(Kiosk(polls_open=False))
    k.send(ev.StaffChoose(ev.StaffAction.OPEN_POLLS))
    assert k.phase is Phase.STAFF_REPORT and "zero report" in k.state.staff_report[0]
    k.send(ev.Continue())
    assert k.phase is Phase.STAFF_MENU
    k.remove()
    assert k.phase is Phase.ATTRACT and k.state.kiosk.polls_open
    k.to_ballot()
    assert k.phase is Phase.BALLOT
    assert ("staff_action", "open_polls by S-001") in k.audit.entries


def test_staff_close_the_polls_and_the_kiosk_refuses_voters():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.CLOSE_POLLS)).remove()
    assert k.phase is Phase.CLOSED
    k.insert_voter()
    assert k.state.failure is ev.Failure.POLLS_CLOSED


def test_opening_open_polls_is_refused():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.OPEN_POLLS))
    assert k.phase is Phase.STAFF_MENU and k.staff.log == []


def test_the_manual_fallback_closes_the_kiosk_for_voters():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.MANUAL_FALLBACK)).remove()
    assert k.phase is Phase.CLOSED and k.state.kiosk.manual_fallback


def test_status_shows_the_report_lines():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.STATUS))
    assert k.state.staff_report == ("reader: ok", "sync: offline (fake)")


def test_assisted_voting_turns_audio_on_for_the_next_voter_only():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.START_ASSISTED)).remove()
    k.insert_voter().pin()
    assert k.state.settings.audio and not k.state.kiosk.assisted_next
    k.remove().insert_voter().pin()
    assert not k.state.settings.audio


def test_a_staff_session_times_out_back_to_the_idle_screen():
    k = _staff(Kiosk()).fire_timers().fire_timers()
    assert k.phase is Phase.ATTRACT


def test_a_kiosk_not_yet_open_and_one_closed_for_the_day_are_told_apart():
    k = Kiosk(polls_open=False)
    assert k.phase is Phase.CLOSED and not k.state.kiosk.polls_closed  # morning: not yet open
    _staff(k).send(ev.StaffChoose(ev.StaffAction.OPEN_POLLS)).send(ev.Continue())
    assert k.state.kiosk.polls_open and not k.state.kiosk.polls_closed
    k.send(ev.StaffChoose(ev.StaffAction.CLOSE_POLLS)).send(ev.Continue()).remove()
    assert k.phase is Phase.CLOSED and k.state.kiosk.polls_closed  # evening: closed
    k.send(ev.PollsChanged(polls_open=True, manual_fallback=False))
    assert k.phase is Phase.ATTRACT and not k.state.kiosk.polls_closed
    k.send(ev.PollsChanged(polls_open=False, manual_fallback=False))
    assert k.phase is Phase.CLOSED and k.state.kiosk.polls_closed


def test_after_a_close_the_staff_menu_offers_reopen_and_a_reopen_opens_the_kiosk_to_voters():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.CLOSE_POLLS), ev.Continue())
    assert k.state.kiosk.polls_closed
    k.send(ev.StaffChoose(ev.StaffAction.REOPEN_POLLS))
    assert k.phase is Phase.STAFF_REPORT and k.state.staff_ok and k.state.kiosk.polls_open
    assert ("staff_action", "reopen_polls by S-001") in k.audit.entries
    k.send(ev.Continue()).remove()
    assert k.phase is Phase.ATTRACT


def test_reopen_is_ignored_while_the_polls_were_never_closed():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.REOPEN_POLLS))
    assert k.phase is Phase.STAFF_MENU and k.staff.log == []


def test_a_refused_staff_action_leaves_the_polls_as_they_were_and_says_so():
    k = _staff(Kiosk()).send(ev.StaffChoose(ev.StaffAction.CLOSE_POLLS), ev.Continue())
    # a ballot box that refuses (a card without the administrator's role)
    refuse = lambda action, _staff: ev.StaffDone(action, ("refused: role_not_authorised",), ok=False)  # noqa: E731
    setattr(k.staff, "run", refuse)  # noqa: B010
    k.send(ev.StaffChoose(ev.StaffAction.REOPEN_POLLS))
    assert k.phase is Phase.STAFF_REPORT and not k.state.staff_ok and k.state.kiosk.polls_closed

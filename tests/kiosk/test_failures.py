# mypy: disable-error-code="comparison-overlap,unreachable,union-attr"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""Everything that can go wrong in a session: PINs, the roll, the card pulled, inactivity, late answers."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from devtools.fakes import FakeCardSpec
from kiosk.session import events as ev
from kiosk.session.effects import ArmTimer, CancelCheckIn
from kiosk.session.model import Phase, Settings
from tests.kiosk.harness import TWO_SEATS, Kiosk


def _first_two():
    return [c.id for c in TWO_SEATS.active_candidates][:2]


def test_a_wrong_pin_shows_the_tries_left_and_the_right_pin_then_works():
    k = Kiosk().insert_voter().pin("9999")
    assert k.phase is Phase.PIN_ENTRY and k.state.pin_wrong and k.state.pin_tries_left == 2
    assert len(k.state.pin) == 0  # the wrong PIN is not kept for another try
    k.pin("1234")
    assert k.phase is Phase.ACCESSIBILITY


def test_three_wrong_pins_block_the_card():
    k = Kiosk().insert_voter().pin("0000").pin("0000").pin("0000")
    assert k.phase is Phase.NOTICE and k.state.failure is ev.Failure.PIN_BLOCKED
    k.remove()
    assert k.phase is Phase.ATTRACT and k.state.notice is None


def test_a_card_already_blocked_is_refused_before_the_pin():
    k = Kiosk().insert_voter(tries_left=0)
    assert k.phase is Phase.NOTICE and k.state.failure is ev.Failure.PIN_BLOCKED


def test_the_pin_pad_takes_digits_only_up_to_the_maximum_and_needs_the_minimum():
    k = Kiosk().insert_voter()
    k.send(ev.PinDigit("1"), ev.PinDigit("x"), ev.PinDigit("12"), ev.PinDigit("2"), ev.PinSubmit())
    assert k.phase is Phase.PIN_ENTRY and len(k.state.pin) == 2
    k.send(*(ev.PinDigit("7") for _ in range(10)))
    assert len(k.state.pin) == 8
    k.send(ev.PinBackspace())
    assert len(k.state.pin) == 7


def test_the_pin_never_appears_in_state_or_effect_reprs():
    k = Kiosk().insert_voter().send(*(ev.PinDigit(d) for d in "5831"))
    assert "5831" not in repr(k.state)
    k.send(ev.PinSubmit())
    assert all("5831" not in repr(e) for e in k.effects)


@pytest.mark.parametrize(
    ("setup", "failure"),
    [
        (lambda k: k.poll_book.voted.add(k.voter_number(TWO_SEATS)), ev.Failure.ALREADY_VOTED),
        (lambda k: k.poll_book.roll.clear(), ev.Failure.NOT_ON_ROLL),
        (lambda k: k.poll_book.locked.add(k.voter_number(TWO_SEATS)), ev.Failure.VOTER_LOCKED),
    ],
)
def test_the_poll_book_refusals_are_shown(setup: Callable[[Kiosk], None], failure: ev.Failure):
    k = Kiosk()
    setup(k)
    k.insert_voter().pin()
    assert k.phase is Phase.NOTICE and k.state.failure is failure


@pytest.mark.parametrize(
    "failure",
    [ev.Failure.CERT_EXPIRED, ev.Failure.CERT_REVOKED, ev.Failure.IDENTITY_MISMATCH, ev.Failure.REVOCATION_STALE],
)
def test_an_authentication_failure_is_shown_and_nothing_is_checked_in(failure: ev.Failure):
    k = Kiosk().insert_voter(auth_failure=failure).pin()
    assert k.phase is Phase.NOTICE and k.state.failure is failure
    assert k.poll_book.checked_in == set()


def test_an_unreadable_card_is_shown():
    k = Kiosk().insert_voter(read_failure=ev.Failure.NOT_AN_ID_CARD)
    assert k.phase is Phase.NOTICE and k.state.failure is ev.Failure.NOT_AN_ID_CARD


def test_a_voter_card_while_polls_are_closed_is_refused():
    k = Kiosk(polls_open=False)
    assert k.phase is Phase.CLOSED
    k.insert_voter()
    assert k.phase is Phase.NOTICE and k.state.failure is ev.Failure.POLLS_CLOSED


# ---- the card pulled at every step ------------------------------------------------------------------


def _without_answers(k: Kiosk, event: ev.Event) -> Kiosk:
    """Dispatch without letting the worker answer: the card is pulled while the kiosk waits."""
    k.driver.dispatch(event)
    return k


STEPS: dict[str, Callable[[Kiosk], Kiosk]] = {
    "reading": lambda k: _without_answers(k, ev.CardInserted()),
    "authenticating": lambda k: _without_answers(k.insert_voter().send(*map(ev.PinDigit, "1234")), ev.PinSubmit()),
    "pin": lambda k: k.insert_voter(),
    "pin_typed": lambda k: k.insert_voter().send(ev.PinDigit("1")),
    "accessibility": lambda k: k.insert_voter().pin(),
    "ballot": lambda k: k.to_ballot().choose(*_first_two()),
    "review": lambda k: k.to_ballot().choose(*_first_two()).send(ev.GoToReview()),
    "cast_or_challenge": lambda k: k.to_ballot().choose(*_first_two()).send(ev.GoToReview(), ev.SealBallot()),
    "challenge_result": lambda k: k.to_ballot().send(
        ev.GoToReview(), ev.ConfirmBlank(), ev.SealBallot(), ev.Challenge()
    ),
    "notice": lambda k: k.insert_voter().pin("0").pin("0000").pin("0000").pin("0000"),
}


@pytest.mark.parametrize("step", list(STEPS))
def test_pulling_the_card_ends_the_session_and_records_nothing(step: str):
    k = Kiosk()
    k.card.insert(FakeCardSpec(k.voter_number(TWO_SEATS)))
    STEPS[step](k)
    before = k.phase
    k.card.remove()
    k.driver.dispatch(ev.CardRemoved())
    k.loop.run_until_idle()
    assert k.phase is Phase.ATTRACT, before
    assert k.ballots.cast_count == 0 and k.poll_book.voted == set()
    assert k.poll_book.checked_in == set()  # any check-in is released
    s = k.state
    assert s.selections == {} and s.voter is None and s.ticket is None and s.sealed is None and len(s.pin) == 0
    assert s.settings == Settings()
    # and the next voter can start at once
    k.to_ballot()
    assert k.phase is Phase.BALLOT


def test_a_check_in_is_cancelled_when_the_card_is_pulled_after_it():
    k = Kiosk().to_ballot()
    k.remove()
    assert any(isinstance(e, CancelCheckIn) for e in k.effects)
    assert k.state.notice == "kiosk.error.card_removed"


def test_pulling_the_card_while_casting_still_completes_the_cast_and_shows_the_code():
    k = Kiosk().to_ballot().choose(*_first_two()).send(ev.GoToReview(), ev.SealBallot())
    k.driver.dispatch(ev.Cast())  # the cast is queued on the worker, not yet done
    assert k.phase is Phase.CASTING
    k.card.remove()
    k.driver.dispatch(ev.CardRemoved())
    k.loop.run_until_idle()
    assert k.phase is Phase.CONFIRMATION and k.ballots.cast_count == 1
    k.fire_timers()
    assert k.phase is Phase.ATTRACT and k.state.receipt is None


def test_reader_lost_ends_the_session_and_the_attract_screen_says_so():
    k = Kiosk().to_ballot().send(ev.ReaderLost())
    assert k.phase is Phase.ATTRACT and not k.state.reader_ok and k.ballots.cast_count == 0
    k.send(ev.ReaderBack())
    assert k.state.reader_ok


# ---- inactivity --------------------------------------------------------------------------------------


def test_inactivity_warns_then_ends_the_session_without_recording():
    k = Kiosk().to_ballot().choose(_first_two()[0])
    k.fire_timers()
    assert k.phase is Phase.BALLOT and k.state.warning
    k.fire_timers()
    assert k.phase is Phase.NOTICE and k.state.failure is ev.Failure.TIMED_OUT
    assert k.state.selections == {} and k.poll_book.checked_in == set()
    k.remove()
    assert k.phase is Phase.ATTRACT


def test_activity_clears_the_warning_and_restarts_the_timer():
    k = Kiosk().to_ballot()
    k.fire_timers()
    assert k.state.warning
    k.send(ev.Activity())
    assert not k.state.warning and k.phase is Phase.BALLOT
    arms = [e for e in k.effects if isinstance(e, ArmTimer)]
    assert arms[-1].token == k.state.timer_token


def test_a_stale_timer_is_ignored():
    k = Kiosk().to_ballot()
    old = k.state.timer_token
    k.choose(_first_two()[0])  # re-arms with a new token
    k.send(ev.TimerExpired(old))
    assert not k.state.warning


def test_an_answer_from_an_ended_session_never_reaches_the_next_voter():
    k = Kiosk().insert_voter()
    k.send(*(ev.PinDigit(d) for d in "1234"))
    k.driver.dispatch(ev.PinSubmit())  # VerifyPin queued
    k.card.remove()
    k.driver.dispatch(ev.CardRemoved())
    k.card.insert(FakeCardSpec(k.voter_number(TWO_SEATS)))
    k.driver.dispatch(ev.CardInserted())
    k.loop.run_until_idle()
    assert k.phase is Phase.PIN_ENTRY  # the first voter's PIN result was dropped


def test_late_or_misplaced_events_change_nothing():
    k = Kiosk()
    for event in (ev.Cast(), ev.PinAccepted(), ev.BallotCast(None), ev.Continue(), ev.ToggleCandidate("x")):  # type: ignore[arg-type]
        k.send(event)
        assert k.phase is Phase.ATTRACT

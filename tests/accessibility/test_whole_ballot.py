# mypy: disable-error-code="comparison-overlap,unreachable"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""A voter completes a whole ballot without touching the screen: with the accessible controller only, and
with two switches only. Drives the real session machine and driver (kiosk.driver) over the kiosk's
in-memory fakes, with the accessibility shell, audio queue and clip library; a fake player records every
clip started, and the assertions are on what the voter hears."""

from __future__ import annotations

from kiosk.accessibility.input import Key, Switch
from kiosk.session.model import Phase
from tests.accessibility.harness import CONTEST, AccessibleKiosk

DOWN, UP, SELECT = Key.DOWN, Key.UP, Key.SELECT
A, B, C = (f"cand:{k.id}" for k in CONTEST.active_candidates[:3])


def _count(n: int, of: int) -> list[str]:
    return ["str:ballot.selected_count#0", f"num:{n}", "str:ballot.selected_count#1", f"num:{of}"]


def test_a_whole_ballot_with_the_accessible_controller_only(tmp_path):
    k = AccessibleKiosk(tmp_path)
    k.insert_voter()
    assert k.phase is Phase.PIN_ENTRY and k.listen() == []  # audio is off until the voter asks

    # The first key press turns audio on and reads the screen.
    assert k.press(SELECT) == ["str:pin.enter", "str:pin.hint"]
    # PIN pad: 1 2 3 4 ... 9 0 delete ok; the digit is heard when focused, then how many were entered.
    assert k.press(SELECT) == ["num:1"]
    assert k.press(SELECT) == ["str:audio.pin_count#0", "num:1"]
    for digit in (2, 3, 4):
        assert k.press(DOWN, SELECT) == [f"num:{digit}", "str:audio.pin_count#0", f"num:{digit}"]
    assert k.press(*[DOWN] * 8)[-1] == "str:kiosk.pin.ok"
    heard = k.press(SELECT)
    assert k.phase is Phase.ACCESSIBILITY
    assert heard == [
        "str:auth.in_progress",
        "str:kiosk.busy.checking_in",
        "str:access.title",
        "str:access.reset_note",
        "str:audio.controller_help",
    ]

    # Accessibility options: continue, audio, Arabic, English, ... -> English, then the screen again.
    assert k.press(DOWN, DOWN, DOWN, DOWN) == [
        "str:nav.next",
        "str:access.audio",
        "str:kiosk.on",
        "str:language.arabic",
        "str:language.english",
    ]
    assert k.press(SELECT) == ["str:access.title", "str:access.reset_note", "str:audio.controller_help"]
    assert k.state.settings.language.value == "en"
    k.press(UP, UP, UP)
    heard = k.press(SELECT)
    assert k.phase is Phase.BALLOT
    assert heard == [
        "str:ballot.title#0", f"contest:{CONTEST.id}",
        "str:kiosk.ballot.contest_of#0", "num:1", "str:kiosk.ballot.contest_of#1", "num:1",
        "str:ballot.instructions#0", "num:2",
        *_count(0, 2),
        "str:audio.candidates_count#0", "num:6", "str:audio.candidates_count#1",
        "str:audio.controller_help",
    ]  # fmt: skip

    # Candidates: hear each, select two; each selection is confirmed with the running count.
    assert k.press(DOWN) == [A, "str:audio.not_selected"]
    assert k.press(SELECT) == [A, "str:ballot.selected", *_count(1, 2)]
    assert k.press(DOWN, DOWN) == [B, "str:audio.not_selected", C, "str:audio.not_selected"]
    assert k.press(SELECT) == [C, "str:ballot.selected", *_count(2, 2)]
    # Unselect and reselect: the change is confirmed either way.
    assert k.press(SELECT) == [C, "str:audio.choice_removed", *_count(1, 2)]
    assert k.press(SELECT) == [C, "str:ballot.selected", *_count(2, 2)]
    # A third choice would be an overvote: impossible, and explained.
    k.press(DOWN)
    assert k.press(SELECT) == ["str:ballot.overvote#0", "num:2", "str:ballot.overvote#1"]
    assert k.press(SELECT) == ["str:kiosk.ballot.ok"]
    k.press(SELECT)  # dismiss
    heard = k.press(*[DOWN] * 7)
    assert heard[-1] == "str:kiosk.ballot.review"

    # Review: the final choices are read before anything can be cast.
    heard = k.press(SELECT)
    assert k.phase is Phase.REVIEW
    assert heard == [
        "str:review.title",
        f"contest:{CONTEST.id}", "str:audio.you_chose", A, C,
        "str:review.instructions",
    ]  # fmt: skip
    assert k.press(SELECT, SELECT)[0] == "str:kiosk.review.seal"
    assert k.phase is Phase.CAST_OR_CHALLENGE
    assert k.press(SELECT) == ["str:cast.button"]
    heard = k.press(SELECT)
    assert k.phase is Phase.CONFIRMATION and k.ballots.cast_count == 1
    # The confirmation code is spelled out character by character.
    code = k.state.receipt.code.replace("-", "")
    spelled = [f"num:{ch}" if ch.isdigit() else f"chr:{ch}" for ch in code]
    assert heard[:2] == ["str:cast.in_progress", "str:cast.done"]
    assert heard[2:] == ["str:confirmation.code#0", *spelled, "str:confirmation.explanation", "str:card.remove"]
    assert k.queue.missing == set()  # every clip asked for is in the package


def test_a_whole_ballot_with_two_switches_only(tmp_path):
    k = AccessibleKiosk(tmp_path)
    k.insert_voter()
    move, select = Switch.MOVE, Switch.SELECT
    assert k.switch(select) == ["str:pin.enter", "str:pin.hint"]  # first press: audio on, the screen is read
    # PIN 1234 with step scanning (move to the next key, select it).
    assert k.switch(select) == ["num:1"]
    k.switch(select)
    for _ in range(3):
        k.switch(move, select)
    k.switch(*[move] * 8)
    k.switch(select)
    assert k.phase is Phase.ACCESSIBILITY
    heard = k.switch(select, select)  # focus "continue", select it
    assert k.phase is Phase.BALLOT
    assert heard[0] == "str:nav.next" and heard[-1] == "str:audio.scan_help"

    # Auto-scan: the focus moves by itself once the kiosk has been silent for the scan interval.
    interval = k.shell.scan.interval_s
    assert k.wait(interval - 0.25) == []
    assert k.wait(0.5) == [A, "str:audio.not_selected"]
    assert k.shell.focused_key == f"candidate.{CONTEST.active_candidates[0].id}"
    assert k.switch(select) == [A, "str:ballot.selected", *_count(1, 2)]
    assert k.wait(interval + 0.25) == [B, "str:audio.not_selected"]
    assert k.wait(interval + 0.25) == [C, "str:audio.not_selected"]
    assert k.switch(select) == [C, "str:ballot.selected", *_count(2, 2)]
    # The move switch skips ahead without waiting: 3 more candidates, then "review my choices".
    heard = k.switch(move, move, move, move)
    assert heard[-1] == "str:kiosk.ballot.review"
    k.switch(select)
    assert k.phase is Phase.REVIEW
    k.switch(select, select)  # seal
    k.switch(select, select)  # cast
    assert k.phase is Phase.CONFIRMATION and k.ballots.cast_count == 1
    assert k.queue.missing == set()

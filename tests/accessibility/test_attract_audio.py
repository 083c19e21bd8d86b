# mypy: disable-error-code="comparison-overlap,unreachable"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""Audio from the first screen: the voter turns it on at the attract screen, before the card, and hears
the attract instruction at once; the clips then follow the whole session without a second request; the
next voter starts silent."""

from __future__ import annotations

from kiosk.accessibility.input import Key, Switch
from kiosk.session import events as ev
from kiosk.session.model import Phase
from tests.accessibility.harness import AccessibleKiosk

ATTRACT = ["str:attract.title", "str:attract.insert_card", "str:attract.audio_hint"]


def test_the_audio_button_on_the_attract_screen_reads_it_and_the_card_keeps_audio_on(tmp_path):
    k = AccessibleKiosk(tmp_path)
    assert k.listen() == []
    k.send(ev.ToggleAudio())  # the large "Audio / صوت" button
    assert k.phase is Phase.ATTRACT and k.listen() == ATTRACT
    k.insert_voter()
    heard = k.listen()
    assert k.phase is Phase.PIN_ENTRY
    assert heard[-2:] == ["str:pin.enter", "str:pin.hint"]


def test_the_controller_help_key_on_the_attract_screen_turns_audio_on(tmp_path):
    k = AccessibleKiosk(tmp_path)
    assert k.press(Key.HELP) == ATTRACT
    assert k.state.settings.audio
    # Audio is on: the keys now move through the attract screen's items and are heard.
    assert k.press(Key.DOWN) == ["str:access.audio"]
    assert k.press(Key.DOWN) == ["str:language.arabic"]
    k.insert_voter()
    assert k.listen()[-2:] == ["str:pin.enter", "str:pin.hint"]
    # The PIN pad answers the first key with the digit: no key is spent turning audio on again.
    assert k.press(Key.SELECT) == ["num:1"]


def test_a_switch_press_on_the_attract_screen_turns_audio_on(tmp_path):
    k = AccessibleKiosk(tmp_path)
    assert k.switch(Switch.SELECT) == ATTRACT
    assert k.state.settings.audio


def test_the_next_voter_starts_silent_after_a_voter_who_turned_audio_on_at_the_attract_screen(tmp_path):
    k = AccessibleKiosk(tmp_path)
    k.press(Key.SELECT)
    k.insert_voter()
    k.remove_card()
    k.listen()
    assert k.phase is Phase.ATTRACT and not k.state.settings.audio
    k.insert_voter()
    assert k.phase is Phase.PIN_ENTRY and k.listen() == []

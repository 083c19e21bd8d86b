# mypy: disable-error-code="comparison-overlap,unreachable,union-attr"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""Audio turned on from the attract screen, before the card: it is spoken at once, carried into the
session, and never left on for the next voter."""

from __future__ import annotations

from election.manifest import Language
from kiosk.session import events as ev
from kiosk.session.model import Phase
from tests.kiosk.harness import Kiosk


def test_audio_turned_on_before_the_card_reads_the_attract_screen_and_survives_the_card():
    k = Kiosk().send(ev.ToggleAudio())
    assert k.phase is Phase.ATTRACT and k.state.settings.audio
    assert k.speaker.spoken == [("screen.attract",)]
    k.insert_voter()
    assert k.phase is Phase.PIN_ENTRY and k.state.settings.audio
    assert k.speaker.spoken[-1] == ("screen.pin_entry",)
    k.pin().send(ev.Continue())
    assert k.phase is Phase.BALLOT and k.state.settings.audio
    assert k.speaker.spoken[-1] == ("screen.ballot",)


def test_audio_and_language_both_carry_into_the_session():
    k = Kiosk().send(ev.ChooseLanguage(Language.ENGLISH), ev.ToggleAudio()).insert_voter()
    assert k.state.settings.language is Language.ENGLISH and k.state.settings.audio


def test_audio_toggled_twice_on_the_attract_screen_is_off_and_silent_after_the_card():
    k = Kiosk().send(ev.ToggleAudio(), ev.ToggleAudio())
    assert not k.state.settings.audio
    k.insert_voter()
    assert not k.state.settings.audio
    assert k.speaker.spoken == [("screen.attract",)]


def test_audio_is_off_for_the_next_voter_after_a_session_that_started_with_it():
    k = Kiosk().send(ev.ToggleAudio()).insert_voter().pin().send(ev.Continue()).remove()
    assert k.phase is Phase.ATTRACT and not k.state.settings.audio
    k.insert_voter()
    assert not k.state.settings.audio


def test_audio_left_on_without_a_card_lapses_for_the_next_voter():
    k = Kiosk().send(ev.ToggleAudio()).fire_timers()
    assert k.phase is Phase.ATTRACT and not k.state.settings.audio
    k.insert_voter()
    assert not k.state.settings.audio


def test_a_closed_kiosk_ignores_the_audio_toggle():
    k = Kiosk(polls_open=False).send(ev.ToggleAudio())
    assert k.phase is Phase.CLOSED and not k.state.settings.audio and k.speaker.spoken == []


def test_turning_audio_on_keeps_a_passing_notice_until_the_audio_lapses():
    k = Kiosk().insert_voter().remove()
    assert k.state.notice is not None
    k.send(ev.ToggleAudio())
    assert k.state.notice is not None and k.state.settings.audio
    k.fire_timers()
    assert k.state.notice is None and not k.state.settings.audio

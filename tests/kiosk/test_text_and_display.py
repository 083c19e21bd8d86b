# mypy: disable-error-code="comparison-overlap,unreachable,union-attr"
# (the tests re-read the same state after events, which mypy cannot know changes it)
"""Every message the session can show exists in both languages; display themes meet their contrast."""

from __future__ import annotations

import pytest

from election.manifest import Language
from kiosk.accessibility import display
from kiosk.session import events as ev
from kiosk.session import flow
from kiosk.session.model import Phase, TextSize, Theme
from kiosk.ui_text import Catalogue

CATALOGUE = Catalogue.load()


@pytest.mark.parametrize("failure", list(ev.Failure))
def test_every_failure_is_a_human_message_in_both_languages_naming_the_staff(failure: ev.Failure):
    key = flow.FAILURE_MESSAGE[failure]
    english = CATALOGUE.text(key, Language.ENGLISH)
    arabic = CATALOGUE.text(key, Language.ARABIC)
    assert "staff" in english.lower()
    assert "موظف" in arabic or "رئيس اللجنة" in arabic
    assert any("\u0600" <= ch <= "\u06ff" for ch in arabic)


def test_every_phase_has_a_screen_and_every_busy_phase_a_message():
    assert set(flow.SCREEN_OF_PHASE) == set(Phase)
    for phase, screen in flow.SCREEN_OF_PHASE.items():
        if screen == "busy":
            assert flow.BUSY_MESSAGE[phase] in CATALOGUE


def test_a_missing_string_fails_loudly():
    with pytest.raises(KeyError):
        CATALOGUE.text("no.such.string", Language.ARABIC)


def test_placeholders_are_filled():
    # a value is bidi-isolated (FSI ... PDI): it keeps its own direction inside text of the other direction
    assert CATALOGUE.text("kiosk.pin.tries_left", Language.ENGLISH, tries=2) == "Tries left: \u20682\u2069"
    assert "2" in CATALOGUE.text("kiosk.pin.tries_left", Language.ARABIC, tries=2)


def test_there_are_at_least_four_growing_text_sizes():
    sizes = [display.font_px(s) for s in TextSize]
    assert len(sizes) >= 4 and sizes == sorted(set(sizes))


def test_the_default_theme_has_at_least_10_to_1_contrast_for_every_text():
    assert display.worst_contrast(Theme.STANDARD) >= 10.0


@pytest.mark.parametrize("theme", [Theme.HIGH_CONTRAST_LIGHT, Theme.HIGH_CONTRAST_DARK])
def test_high_contrast_themes_reach_20_to_1_for_every_text(theme: Theme):
    assert display.worst_contrast(theme) >= 20.0


def test_contrast_ratio_matches_known_values():
    assert display.contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert display.contrast_ratio((0x77, 0x77, 0x77), (255, 255, 255)) == pytest.approx(4.48, abs=0.01)


def test_arabic_is_right_to_left_and_english_left_to_right():
    assert display.is_rtl(Language.ARABIC) and display.halign(Language.ARABIC) == "right"
    assert not display.is_rtl(Language.ENGLISH) and display.halign(Language.ENGLISH) == "left"

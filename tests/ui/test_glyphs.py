"""No voter-facing string is drawn with missing-glyph boxes: every catalogue string, in both languages, has every
character in the font the kiosk draws it with (Amiri, regular and bold), and the PIN's dot is one of them.
(The texts on every screen, in the fonts their widgets use, are checked by tests/ui/test_screens_layout.py.)"""

from __future__ import annotations

import pytest

from election.manifest import Language
from kiosk.ui_text import PIN_DOT, Catalogue
from tests.ui.text_layout import amiri, missing_glyphs

CATALOGUE = Catalogue.load()


@pytest.mark.parametrize("style", ["Regular", "Bold"])
def test_every_catalogue_string_has_all_its_glyphs_in_amiri(style: str) -> None:
    missing = {
        (key, language.value): gone
        for key, text in CATALOGUE._entries.items()
        for language in Language
        if (gone := missing_glyphs(text.in_language(language), amiri(style)))
    }
    assert missing == {}


def test_the_pin_dot_and_the_code_alphabet_are_in_amiri() -> None:
    for style in ("Regular", "Bold"):
        assert missing_glyphs(PIN_DOT + "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567-0123456789", amiri(style)) == set()


def test_the_check_finds_a_missing_glyph() -> None:
    assert missing_glyphs("\u25cf", amiri()) == {"\u25cf"}  # the old PIN dot: not in Amiri (nor in Roboto)

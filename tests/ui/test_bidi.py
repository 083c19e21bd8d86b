"""A left-to-right token inside Arabic (or English) text keeps its characters in their order on screen.

The voter copies the confirmation code from the screen; about one code in six starts with a group of digits
(base32 digits 2-7), and without bidi isolation the Arabic screens showed ``D2F7-C57A-19DF-7935`` for
``7935-D2F7-C57A-19DF``. Every catalogue string that takes a value is rendered here, in both languages, with
generated codes and other left-to-right tokens in each of its places, through Pillow's raqm layout as Kivy's
text provider draws a line, and the visual order of the token's characters is read from the drawing."""

from __future__ import annotations

import random
import string

import pytest

from election.manifest import Language
from kiosk.ui_text import Catalogue, ltr, plain
from tests.ui.text_layout import amiri, renders_invisibly, visual_x

CATALOGUE = Catalogue.load()
B32 = string.ascii_uppercase + "234567"
CODE_STRINGS = ("confirmation.code", "kiosk.challenge.code")


def _fields(key: str) -> list[str]:
    names: list[str] = []
    for language in Language:
        template = CATALOGUE.text(key, language)
        names += [f for _, f, _, _ in string.Formatter().parse(template) if f and f not in names]
    return names


TEMPLATES = sorted(k for k in CATALOGUE._entries if _fields(k))


def codes(n: int, seed: int) -> list[str]:
    """Confirmation codes as the kiosk shows them (4 groups of 4 base32 characters), a third of them with an
    all-digit first group, some with more all-digit groups, one all digits."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(n):
        groups = ["".join(rng.choice(B32) for _ in range(4)) for _ in range(4)]
        if i % 3 == 0:
            groups[0] = "".join(rng.choice("234567") for _ in range(4))
        if i % 7 == 0:
            groups[2] = "".join(rng.choice("234567") for _ in range(4))
        out.append("-".join(groups))
    out.append("7935-2345-6723-4567")
    out.append("7935-D2F7-C57A-Q9DF")
    return out


OTHER_TOKENS = ["42", "07:00", "K-MCT-01", "2 3", "Bawshar 2"]


def _reads_in_order(text: str, token: str) -> list[int]:
    start = text.index(token)
    indices = [start + i for i, c in enumerate(token) if c.isalnum()]
    return visual_x(text, indices, amiri())


def _filled(key: str, language: Language, field: str, token: str) -> str:
    values = {f: (token if f == field else "5") for f in _fields(key)}
    return CATALOGUE.text(key, language, **values)


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("key", CODE_STRINGS)
def test_the_confirmation_code_reads_left_to_right_in_its_sentence(key: str, language: Language) -> None:
    for code in codes(40, seed=sum(map(ord, key))):
        text = CATALOGUE.text(key, language, code=code)
        xs = _reads_in_order(text, code)
        assert xs == sorted(xs) and len(set(xs)) == len(xs), f"{key} ({language.value}) shows {code} out of order"


@pytest.mark.parametrize("language", list(Language))
@pytest.mark.parametrize("key", TEMPLATES)
def test_every_value_in_every_catalogue_string_keeps_its_order(key: str, language: Language) -> None:
    for field in _fields(key):
        for token in [*codes(3, seed=len(key)), *OTHER_TOKENS]:
            text = _filled(key, language, field, token)
            xs = _reads_in_order(text, token)
            assert xs == sorted(xs), f"{key}.{field} ({language.value}): {token!r} drawn out of order"


def test_a_code_shown_on_its_own_reads_left_to_right() -> None:
    """The confirmation screen's big code is the code alone, isolated left to right (an Arabic label)."""
    for code in codes(30, seed=7):
        xs = _reads_in_order(ltr(code), code)
        assert xs == sorted(xs)


@pytest.mark.parametrize("key", [*CODE_STRINGS, "staff.kiosk", "polls.not_open"])
def test_the_isolates_draw_nothing(key: str) -> None:
    for language in Language:
        text = CATALOGUE.text(key, language, **dict.fromkeys(_fields(key), "QDFW-ABCD"))  # no reordering either way
        assert text != plain(text)  # the values are isolated ...
        assert renders_invisibly(text, amiri()) and renders_invisibly(text, amiri("Bold"))  # ... invisibly


def test_an_arabic_sentence_without_isolation_reorders_an_all_digit_first_group() -> None:
    """The measurement itself sees the reported fault (so the tests above could fail): the old way."""
    code = "7935-D2F7-C57A-Q9DF"
    bare = CATALOGUE._entries["confirmation.code"].in_language(Language.ARABIC).format(code=code)
    xs = _reads_in_order(bare, code)
    assert xs != sorted(xs)

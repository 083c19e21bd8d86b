"""Every theme's text/background colour pairs meet their contrast, computed here from the WCAG 2.x
definition (independently of kiosk.accessibility.display's own helper): >= 10:1 in the default theme,
>= 20:1 in both high-contrast themes (VVSG 2.0 ch. 7)."""

from __future__ import annotations

import pytest

from kiosk.accessibility.display import FOCUS, MIN_CONTRAST, PALETTES, focus_neighbours
from kiosk.session.model import Theme


def _channel(c8: int) -> float:
    c = c8 / 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4  # WCAG 2.0 text (0.03928)


def wcag_ratio(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    def lum(rgb: tuple[int, int, int]) -> float:
        r, g, b = map(_channel, rgb)
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    hi, lo = sorted((lum(fg), lum(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def test_the_reference_values_of_the_wcag_formula():
    assert wcag_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert wcag_ratio((255, 255, 0), (0, 0, 0)) == pytest.approx(19.56, abs=0.01)  # yellow on black < 20
    assert wcag_ratio((0x76, 0x76, 0x76), (255, 255, 255)) == pytest.approx(4.54, abs=0.01)


def test_there_is_a_default_and_two_high_contrast_themes():
    assert set(PALETTES) == set(Theme) and len(Theme) >= 3
    assert MIN_CONTRAST[Theme.STANDARD] >= 10 and all(MIN_CONTRAST[t] >= 20 for t in Theme if t is not Theme.STANDARD)


@pytest.mark.parametrize("theme", list(Theme))
def test_every_text_on_its_background_meets_the_theme_minimum(theme: Theme):
    palette = PALETTES[theme]
    pairs = palette.text_pairs()
    assert {"text", "muted", "button", "primary", "selected", "warning"} <= set(pairs)
    ratios = {name: round(wcag_ratio(fg, bg), 2) for name, (fg, bg) in pairs.items()}
    failing = {name: r for name, r in ratios.items() if r < MIN_CONTRAST[theme]}
    assert failing == {}, f"{theme.value}: {ratios}"


@pytest.mark.parametrize("theme", list(Theme))
def test_buttons_and_chosen_candidates_stand_out_from_the_page(theme: Theme):
    # Not text, but a voter must see where a button or a chosen candidate is: WCAG 1.4.11 asks 3:1 for
    # user-interface components; the border does it for buttons drawn in the background colour.
    p = PALETTES[theme]
    assert wcag_ratio(p.border, p.background) >= 3.0
    assert wcag_ratio(p.selected, p.background) >= 3.0


@pytest.mark.parametrize("theme", list(Theme))
def test_the_focus_outline_stands_out_from_everything_around_it(theme):
    """Visible focus (WCAG 2.x 1.4.11, non-text contrast): the outline is >= 3:1 against the background
    (its gap and the unfocused state of the same pixels), the buttons next to it and a warning panel."""
    focus = FOCUS[theme]
    neighbours = focus_neighbours(theme)
    assert set(neighbours) == {"background", "button", "warning"}
    for name, colour in neighbours.items():
        assert wcag_ratio(focus, colour) >= 3.0, (theme, name, wcag_ratio(focus, colour))

"""Display settings: text sizes, colour themes and their contrast, text direction.

VVSG 2.0 ch. 7 (as applied by VxMark): at least four text sizes; contrast >= 10:1 by default and
high-contrast options >= 20:1. Contrast is the WCAG 2.x ratio of relative luminances, checked by the
tests for every foreground/background pair a theme uses, so a colour tweak cannot quietly break it.
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType

from election.manifest import Language
from kiosk.session.model import TextSize, Theme

RGB = tuple[int, int, int]

TEXT_SCALE: MappingProxyType[TextSize, float] = MappingProxyType(
    {TextSize.NORMAL: 1.0, TextSize.LARGE: 1.25, TextSize.LARGER: 1.5, TextSize.LARGEST: 1.8}
)
BASE_FONT_PX = 26.0
"""Body text at the normal size on a 1280x800 kiosk screen (about 5 mm high at arm's length)."""


@dataclass(frozen=True)
class Palette:
    """The colours of a theme. Every text colour is used on the background named next to it."""

    background: RGB
    text: RGB  # on background
    muted: RGB  # secondary text, on background
    button: RGB
    button_text: RGB  # on button
    primary: RGB  # the main action button
    primary_text: RGB  # on primary
    selected: RGB  # a chosen candidate's card
    selected_text: RGB  # on selected
    warning: RGB  # warning panel
    warning_text: RGB  # on warning
    border: RGB

    def text_pairs(self) -> dict[str, tuple[RGB, RGB]]:
        return {
            "text": (self.text, self.background),
            "muted": (self.muted, self.background),
            "button": (self.button_text, self.button),
            "primary": (self.primary_text, self.primary),
            "selected": (self.selected_text, self.selected),
            "warning": (self.warning_text, self.warning),
        }


PALETTES: MappingProxyType[Theme, Palette] = MappingProxyType(
    {
        Theme.STANDARD: Palette(
            background=(0xF7, 0xF5, 0xF0),
            text=(0x14, 0x14, 0x14),
            muted=(0x33, 0x33, 0x33),
            button=(0xE0, 0xE4, 0xEA),
            button_text=(0x10, 0x10, 0x10),
            primary=(0x0B, 0x3D, 0x2E),
            primary_text=(0xFF, 0xFF, 0xFF),
            selected=(0x0B, 0x3D, 0x2E),
            selected_text=(0xFF, 0xFF, 0xFF),
            warning=(0xFF, 0xF0, 0xC2),
            warning_text=(0x14, 0x14, 0x14),
            border=(0x55, 0x55, 0x55),
        ),
        Theme.HIGH_CONTRAST_LIGHT: Palette(
            background=(0xFF, 0xFF, 0xFF),
            text=(0x00, 0x00, 0x00),
            muted=(0x00, 0x00, 0x00),
            button=(0xFF, 0xFF, 0xFF),
            button_text=(0x00, 0x00, 0x00),
            primary=(0x00, 0x00, 0x00),
            primary_text=(0xFF, 0xFF, 0xFF),
            selected=(0x00, 0x00, 0x00),
            selected_text=(0xFF, 0xFF, 0xFF),
            warning=(0xFF, 0xFF, 0xFF),
            warning_text=(0x00, 0x00, 0x00),
            border=(0x00, 0x00, 0x00),
        ),
        Theme.HIGH_CONTRAST_DARK: Palette(
            background=(0x00, 0x00, 0x00),
            text=(0xFF, 0xFF, 0xFF),
            muted=(0xFF, 0xFF, 0xFF),
            button=(0x00, 0x00, 0x00),
            button_text=(0xFF, 0xFF, 0xFF),
            primary=(0xFF, 0xFF, 0xFF),
            primary_text=(0x00, 0x00, 0x00),
            selected=(0xFF, 0xFF, 0xFF),
            selected_text=(0x00, 0x00, 0x00),
            warning=(0x00, 0x00, 0x00),
            warning_text=(0xFF, 0xFF, 0xFF),
            border=(0xFF, 0xFF, 0xFF),
        ),
    }
)

FOCUS: MappingProxyType[Theme, RGB] = MappingProxyType(
    {
        Theme.STANDARD: (0x1A, 0x4F, 0xD6),  # blue, on the light background and buttons
        Theme.HIGH_CONTRAST_LIGHT: (0x00, 0x00, 0xCC),
        Theme.HIGH_CONTRAST_DARK: (0xFF, 0xD4, 0x00),  # yellow on black
    }
)
"""The outline around the item the accessible controller or the switches have focused (visible focus for
sighted voters who do not touch the screen). It is drawn 5 dp wide, 4 dp outside the item with a gap of the
background colour, so its neighbours are the background and the unfocused buttons around it: at least
3:1 against each (WCAG 2.x 1.4.11, tested)."""


def focus_neighbours(theme: Theme) -> dict[str, RGB]:
    """The colours the focus outline sits next to (the gap is the background)."""
    p = PALETTES[theme]
    return {"background": p.background, "button": p.button, "warning": p.warning}


MIN_CONTRAST: MappingProxyType[Theme, float] = MappingProxyType(
    {Theme.STANDARD: 10.0, Theme.HIGH_CONTRAST_LIGHT: 20.0, Theme.HIGH_CONTRAST_DARK: 20.0}
)
"""The least contrast of any text on its background in each theme (yellow on black, 19.6:1, would miss
20:1, so the dark theme is white on black throughout)."""


def _linear(channel: int) -> float:
    c = channel / 255.0
    return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4


def relative_luminance(rgb: RGB) -> float:
    r, g, b = (_linear(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(a: RGB, b: RGB) -> float:
    la, lb = sorted((relative_luminance(a), relative_luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def worst_contrast(theme: Theme) -> float:
    return min(contrast_ratio(fg, bg) for fg, bg in PALETTES[theme].text_pairs().values())


def font_px(size: TextSize, step: float = 1.0) -> float:
    """Text height in pixels; ``step`` scales for headings (1.6) or small print (0.8)."""
    return round(BASE_FONT_PX * TEXT_SCALE[size] * step)


def is_rtl(language: Language) -> bool:
    return language is Language.ARABIC


def halign(language: Language) -> str:
    return "right" if is_rtl(language) else "left"


def kivy_rgba(rgb: RGB, alpha: float = 1.0) -> tuple[float, float, float, float]:
    return (rgb[0] / 255.0, rgb[1] / 255.0, rgb[2] / 255.0, alpha)

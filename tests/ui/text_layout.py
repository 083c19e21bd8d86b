"""Where Pillow's raqm layout puts each character of a string, measured as Kivy's text provider draws it.

Kivy's Pillow provider (``KIVY_TEXT=pil``) draws every line with ``ImageDraw.text(xy, line, font=...)`` and no
direction: raqm runs the Unicode bidi algorithm (FriBidi) and HarfBuzz shaping on it. Pillow does not expose the
glyph positions, so ``visual_x`` finds them the way a reader would: it draws the line, then draws it again with
one character swapped for another of the same bidi class (a digit for a digit, a Latin letter for a Latin
letter, so the layout's runs cannot change), and takes the left edge of the pixels that changed. A character
placed further right has a larger x.

``missing_glyphs`` reads the font's character map (fontTools): the characters of a text that the font has no
glyph for, and which would be drawn as the font's missing-glyph box. Default-ignorable characters (the bidi
isolates and marks) are never drawn, so they are not counted; ``renders_invisibly`` checks that they are not.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]
from PIL import Image, ImageChops, ImageDraw, ImageFont

FONT_PX = 32


def amiri(style: str = "Regular") -> Path:
    import fontpkg_amiri

    return Path(fontpkg_amiri.ROOT) / "files" / f"Amiri-{style}.ttf"


@cache
def _font(path: str, px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, px)


def render(text: str, font: Path, px: int = FONT_PX) -> Image.Image:
    """``text`` drawn as one line exactly as Kivy's LabelPIL draws it (no direction given: raqm decides)."""
    f = _font(str(font), px)
    left, _top, right, _bottom = (int(v) for v in f.getbbox(text))
    image = Image.new("L", (max(1, right - min(0, left)) + 4 * px, 3 * px), 0)
    ImageDraw.Draw(image).text((2 * px, px // 2), text, font=f, fill=255)
    return image


def _swap(c: str) -> str:
    """Another character of the same bidi class and about the same shape class."""
    if c.isdigit():
        return "8" if c != "8" else "3"
    if "A" <= c <= "Z":
        return "W" if c != "W" else "M"
    if "a" <= c <= "z":
        return "w" if c != "w" else "m"
    raise ValueError(f"no swap for {c!r}")


def visual_x(text: str, indices: list[int], font: Path, px: int = FONT_PX) -> list[int]:
    """The left edge, in pixels, of where each character ``text[i]`` (a digit or Latin letter) is drawn."""
    base = render(text, font, px)
    out: list[int] = []
    for i in indices:
        changed = render(text[:i] + _swap(text[i]) + text[i + 1 :], font, px)
        width = min(base.width, changed.width)
        box = ImageChops.difference(base.crop((0, 0, width, base.height)), changed.crop((0, 0, width, base.height)))
        bbox = box.getbbox()
        if bbox is None:
            raise AssertionError(f"character {i} ({text[i]!r}) of {text!r} is not drawn")
        out.append(bbox[0])
    return out


@cache
def _cmap(path: str) -> frozenset[int]:
    with TTFont(path, lazy=True) as font:
        return frozenset(font.getBestCmap())


def is_default_ignorable(c: str) -> bool:
    """Format characters (bidi isolates and marks, joiners) and variation selectors: never drawn."""
    return unicodedata.category(c) == "Cf" or 0xFE00 <= ord(c) <= 0xFE0F


def missing_glyphs(text: str, font: Path) -> set[str]:
    cmap = _cmap(str(font))
    return {c for c in text if ord(c) not in cmap and not c.isspace() and not is_default_ignorable(c)}


def renders_invisibly(text: str, font: Path, px: int = FONT_PX) -> bool:
    """Each default-ignorable character of ``text`` draws no ink and takes no room (between two letters)."""
    f = _font(str(font), px)
    for c in {c for c in text if is_default_ignorable(c)}:
        if render(c, font, px).getbbox() is not None:
            return False
        if abs(f.getlength(f"H{c}H") - f.getlength("HH")) > 0.01:
            return False
    return True

"""Generated candidate portraits for demo elections (never photos of real people).

A portrait is a stylised head-and-shoulders figure drawn with Pillow from a ``PortraitSpec``: face shape,
skin tone, headwear (kumma or massar for men, a hijab for women), beard, glasses, clothing and background
colours. The candidate's ballot number is drawn on a badge, because voters who cannot read recognise
candidates by photo and number (Decision 128/2003, Art. 2 and 5). Specs are drawn from a seeded
``random.Random`` so the same seed gives byte-identical PNGs.
"""

from __future__ import annotations

import enum
import io
import random
from dataclasses import dataclass
from functools import lru_cache

from PIL import Image, ImageDraw, ImageFont

WIDTH, HEIGHT = 240, 300
Colour = tuple[int, int, int]

BACKGROUNDS: tuple[Colour, ...] = (
    (196, 222, 240),
    (214, 234, 214),
    (240, 226, 200),
    (232, 214, 236),
    (250, 238, 180),
    (200, 230, 228),
    (236, 210, 204),
    (220, 220, 236),
    (188, 208, 188),
    (244, 222, 232),
    (210, 200, 180),
    (180, 200, 220),
)
SKIN: tuple[Colour, ...] = (
    (241, 206, 170),
    (224, 184, 146),
    (198, 152, 112),
    (172, 124, 88),
    (140, 98, 66),
    (112, 78, 54),
)
HAIR: tuple[Colour, ...] = ((30, 24, 20), (52, 38, 30), (84, 70, 62), (150, 146, 142), (200, 200, 198))
MEN_CLOTHES: tuple[Colour, ...] = (
    (250, 250, 248),
    (246, 242, 230),
    (226, 218, 196),
    (206, 222, 236),
    (214, 206, 226),
    (190, 200, 190),
    (236, 226, 210),
)
WOMEN_CLOTHES: tuple[Colour, ...] = ((24, 24, 28), (40, 36, 52), (60, 40, 48), (30, 48, 64), (70, 60, 52))
HEADWEAR_COLOURS: tuple[Colour, ...] = (
    (120, 60, 120),
    (170, 90, 140),
    (60, 90, 150),
    (150, 110, 60),
    (100, 130, 80),
    (190, 150, 90),
    (160, 60, 60),
    (80, 80, 80),
    (200, 120, 160),
    (90, 60, 40),
)
HIJAB_COLOURS: tuple[Colour, ...] = (
    (20, 20, 24),
    (60, 50, 80),
    (110, 40, 60),
    (40, 80, 110),
    (120, 110, 100),
    (160, 120, 150),
    (70, 100, 80),
    (180, 170, 150),
)
BADGE_COLOURS: tuple[Colour, ...] = ((20, 70, 140), (130, 30, 40), (20, 100, 60), (90, 40, 110), (40, 40, 40))


class Headwear(enum.Enum):
    KUMMA = "kumma"
    MASSAR = "massar"
    HIJAB = "hijab"


class Beard(enum.Enum):
    NONE = "none"
    MOUSTACHE = "moustache"
    SHORT = "short"
    FULL = "full"


@dataclass(frozen=True)
class PortraitSpec:
    female: bool
    background: Colour
    skin: Colour
    hair: Colour
    clothing: Colour
    headwear: Headwear
    headwear_colour: Colour
    accent: Colour
    beard: Beard
    glasses: bool
    face_width: int
    face_height: int
    brow_weight: int
    badge: Colour


def random_spec(rng: random.Random, *, female: bool) -> PortraitSpec:
    """A portrait spec drawn from ``rng`` (one call consumes a fixed number of draws per branch)."""
    if female:
        headwear, hw_colour = Headwear.HIJAB, rng.choice(HIJAB_COLOURS)
        beard, clothing = Beard.NONE, rng.choice(WOMEN_CLOTHES)
    else:
        headwear = rng.choice((Headwear.KUMMA, Headwear.MASSAR, Headwear.MASSAR))
        hw_colour = rng.choice(HEADWEAR_COLOURS)
        beard = rng.choice((Beard.NONE, Beard.MOUSTACHE, Beard.SHORT, Beard.SHORT, Beard.FULL))
        clothing = rng.choice(MEN_CLOTHES)
    return PortraitSpec(
        female=female,
        background=rng.choice(BACKGROUNDS),
        skin=rng.choice(SKIN),
        hair=rng.choice(HAIR),
        clothing=clothing,
        headwear=headwear,
        headwear_colour=hw_colour,
        accent=rng.choice(HEADWEAR_COLOURS),
        beard=beard,
        glasses=rng.random() < 0.2,
        face_width=rng.randrange(78, 100, 2),
        face_height=rng.randrange(104, 124, 2),
        brow_weight=rng.choice((2, 3, 4)),
        badge=rng.choice(BADGE_COLOURS),
    )


@lru_cache(maxsize=4)
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # Pillow's embedded font: the same glyphs on every machine, so the PNGs are reproducible.
    return ImageFont.load_default(size=size)


def _darker(c: Colour, f: float = 0.75) -> Colour:
    return (int(c[0] * f), int(c[1] * f), int(c[2] * f))


def _lighter(c: Colour, f: float = 0.5) -> Colour:
    return (int(c[0] + (255 - c[0]) * f), int(c[1] + (255 - c[1]) * f), int(c[2] + (255 - c[2]) * f))


def render_portrait(spec: PortraitSpec, ballot_number: int) -> bytes:
    """The portrait as a small palette PNG (about 3-8 KB) with the ballot number on a badge."""
    img = Image.new("RGB", (WIDTH, HEIGHT), spec.background)
    d = ImageDraw.Draw(img)
    cx = WIDTH // 2
    face_top = 92 if spec.headwear is not Headwear.HIJAB else 100
    fw, fh = spec.face_width, spec.face_height
    face = (cx - fw // 2, face_top, cx + fw // 2, face_top + fh)
    # a lighter halo behind the head
    d.ellipse((cx - 100, 40, cx + 100, 240), fill=_lighter(spec.background, 0.35))

    # shoulders and clothing
    if spec.headwear is Headwear.HIJAB:
        d.ellipse((cx - 112, face_top + fh - 50, cx + 112, HEIGHT + 150), fill=spec.headwear_colour)
        d.ellipse((cx - 130, face_top + fh + 30, cx + 130, HEIGHT + 190), fill=spec.clothing)
        d.ellipse((cx - fw // 2 - 22, face_top - 30, cx + fw // 2 + 22, face_top + fh + 40), fill=spec.headwear_colour)
        # fold lines of the scarf
        d.arc(
            (cx - fw // 2 - 14, face_top - 22, cx + fw // 2 + 14, face_top + fh + 32),
            200,
            340,
            fill=_darker(spec.headwear_colour),
            width=3,
        )
    else:
        d.rectangle((cx - 18, face_top + fh - 20, cx + 18, face_top + fh + 24), fill=_darker(spec.skin, 0.9))
        d.ellipse((cx - 120, face_top + fh + 8, cx + 120, HEIGHT + 160), fill=spec.clothing)
        d.line((cx - 20, face_top + fh + 12, cx, face_top + fh + 38), fill=_darker(spec.clothing), width=3)
        d.line((cx + 20, face_top + fh + 12, cx, face_top + fh + 38), fill=_darker(spec.clothing), width=3)
        # the farrokha (tassel) of the dishdasha, in the accent colour
        d.line((cx, face_top + fh + 38, cx, face_top + fh + 92), fill=spec.accent, width=4)
        d.ellipse((cx - 6, face_top + fh + 88, cx + 6, face_top + fh + 102), fill=spec.accent)

    # face, ears, features
    if spec.headwear is not Headwear.HIJAB:
        ear_y = face_top + fh // 2 - 10
        d.ellipse((face[0] - 9, ear_y, face[0] + 9, ear_y + 26), fill=spec.skin)
        d.ellipse((face[2] - 9, ear_y, face[2] + 9, ear_y + 26), fill=spec.skin)
    d.ellipse(face, fill=spec.skin)
    eye_y = face_top + int(fh * 0.42)
    dx = fw // 4
    for ex in (cx - dx, cx + dx):
        d.ellipse((ex - 6, eye_y - 4, ex + 6, eye_y + 4), fill=(250, 250, 250))
        d.ellipse((ex - 3, eye_y - 3, ex + 3, eye_y + 3), fill=(40, 30, 24))
        d.line((ex - 9, eye_y - 12, ex + 9, eye_y - 13), fill=spec.hair, width=spec.brow_weight)
    if spec.glasses:
        for ex in (cx - dx, cx + dx):
            d.ellipse((ex - 13, eye_y - 11, ex + 13, eye_y + 11), outline=(40, 40, 40), width=2)
        d.line((cx - dx + 13, eye_y, cx + dx - 13, eye_y), fill=(40, 40, 40), width=2)
    nose_y = eye_y + int(fh * 0.2)
    d.line((cx, eye_y + 6, cx - 4, nose_y), fill=_darker(spec.skin), width=2)
    d.line((cx - 4, nose_y, cx + 4, nose_y), fill=_darker(spec.skin), width=2)
    mouth_y = nose_y + int(fh * 0.14)
    if spec.beard in (Beard.SHORT, Beard.FULL):
        depth = 12 if spec.beard is Beard.FULL else 2
        d.chord((face[0] + 2, face_top + fh // 3, face[2] - 2, face[3] + depth), 15, 165, fill=spec.hair)
        d.ellipse((cx - 14, mouth_y - 6, cx + 14, mouth_y + 8), fill=spec.skin)
    if spec.beard is not Beard.NONE:
        d.polygon(
            [(cx - 16, mouth_y - 3), (cx, mouth_y - 9), (cx + 16, mouth_y - 3), (cx, mouth_y - 4)], fill=spec.hair
        )
    d.arc((cx - 10, mouth_y - 6, cx + 10, mouth_y + 5), 20, 160, fill=(120, 50, 50), width=2)

    # headwear
    top = face_top
    if spec.headwear is Headwear.KUMMA:
        cap = (face[0] - 3, top - 24, face[2] + 3, top + 56)
        d.chord(cap, 180, 360, fill=(248, 246, 240))
        # embroidered rows of dots and a band in the headwear colour
        for row, y in enumerate((top - 6, top + 6)):
            for i in range(8 - row):
                x = face[0] + 10 + row * 5 + i * (fw - 20) // 7
                d.ellipse((x - 3, y - 3, x + 3, y + 3), fill=spec.headwear_colour)
        d.line((face[0] - 2, top + 15, face[2] + 2, top + 15), fill=spec.headwear_colour, width=3)
    elif spec.headwear is Headwear.MASSAR:
        wrap = (face[0] - 14, top - 34, face[2] + 14, top + 36)
        d.ellipse(wrap, fill=spec.headwear_colour)
        d.rectangle((face[0] - 14, top, face[2] + 14, top + 18), fill=spec.headwear_colour)
        stripe = _lighter(spec.headwear_colour, 0.45)
        for i in range(4):
            y = top - 24 + i * 11
            d.arc((face[0] - 10, y, face[2] + 10, y + 30), 190, 350, fill=stripe, width=3)
        d.line((face[0] - 14, top + 18, face[2] + 14, top + 18), fill=spec.accent, width=4)

    # ballot number badge
    r = 30
    bx, by = WIDTH - r - 10, HEIGHT - r - 10
    d.ellipse((bx - r - 3, by - r - 3, bx + r + 3, by + r + 3), fill=(255, 255, 255))
    d.ellipse((bx - r, by - r, bx + r, by + r), fill=spec.badge)
    text = str(ballot_number)
    font = _font(34 if len(text) < 3 else 26)
    d.text((bx, by), text, fill=(255, 255, 255), font=font, anchor="mm")

    pal = img.quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    out = io.BytesIO()
    pal.save(out, format="PNG", compress_level=3)
    return out.getvalue()

"""The PIN screen fits every window the kiosk may run in: after a wrong PIN the voter still sees the whole
keypad, the warning and the PIN's dots, in Arabic and English, and at the largest text size.

Each size runs the real app offscreen in a process of its own (tests/ui/pin_layout.py)."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from typing import Any

import pytest

from tests.ui.test_kiosk_ui import REPO, _env, collect

pytestmark = [pytest.mark.ui, pytest.mark.slow]

SIZES = {"800x480": (800, 480, False), "1024x600": (1024, 600, False), "1280x800": (1280, 800, False),
         "1280x800-largest": (1280, 800, True), "1024x600-largest": (1024, 600, True)}  # fmt: skip
MIN_TARGET_PX = 48


@pytest.fixture(scope="module")
def layouts(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("pin")
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "tests.ui.pin_layout", str(tmp / f"{name}.json"), str(w), str(h)]
            + (["largest"] if largest else []),
            cwd=REPO,
            env=_env(tmp, name),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name, (w, h, largest) in SIZES.items()
    }
    return collect(procs, tmp, timeout=300)


def _overlap(a: list[float], b: list[float]) -> bool:
    return a[0] < b[0] + b[2] and b[0] < a[0] + a[2] and a[1] < b[1] + b[3] and b[1] < a[1] + a[3]


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("language", ["ar", "en"])
def test_after_a_wrong_pin_the_whole_keypad_the_warning_and_the_dots_are_on_screen(
    layouts: dict[str, dict[str, Any]], size: str, language: str
) -> None:
    width, height, _largest = SIZES[size]
    seen = layouts[size][language]
    keys = seen["keys"]
    assert sorted(k["text"] for k in keys if k["text"].isdigit()) == list("0123456789")
    assert len(keys) == 12
    for key in keys:
        x, y, w, h = key["box"]
        assert key["visible"], f"{size}: key {key['text']!r} not visible"
        assert x >= 0 and x + w <= width and y >= 0 and y + h <= height, f"{size}: key {key['text']!r} off screen"
        assert w >= MIN_TARGET_PX and h >= MIN_TARGET_PX, f"{size}: key {key['text']!r} is {w:.0f}x{h:.0f} px"
    for a, b in combinations(keys, 2):
        assert not _overlap(a["box"], b["box"]), f"{size}: keys {a['text']!r} and {b['text']!r} overlap"
    assert seen["warning"]["visible"] and seen["warning"]["text"].startswith(
        layouts[size][f"{language}_wrong_expected"]
    )
    assert seen["dots"]["visible"]
    assert layouts[size]["after_right_pin"] not in ("PIN_ENTRY", "NOTICE")  # the right PIN was then accepted


@pytest.mark.parametrize("size", ["800x480", "1024x600", "1024x600-largest", "1280x800-largest"])
def test_on_a_low_screen_or_in_large_text_the_text_stands_beside_the_keypad_first_in_reading_order(
    layouts: dict[str, dict[str, Any]], size: str
) -> None:
    for language, text_right_of_keys in (("ar", True), ("en", False)):
        seen = layouts[size][language]
        assert seen["side_by_side"]
        keys_left = min(k["box"][0] for k in seen["keys"])
        keys_right = max(k["box"][0] + k["box"][2] for k in seen["keys"])
        title_x = seen["title"]["box"][0]
        assert (title_x >= keys_right) if text_right_of_keys else (title_x + seen["title"]["box"][2] <= keys_left)


def test_on_the_kiosk_screen_the_keypad_stays_below_the_text(layouts: dict[str, dict[str, Any]]) -> None:
    seen = layouts["1280x800"]["ar"]
    assert not seen["side_by_side"]
    assert seen["title"]["box"][1] > max(k["box"][1] + k["box"][3] for k in seen["keys"])  # window y grows upwards

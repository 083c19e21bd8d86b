"""Every screen fits, or scrolls with a visible cue, at every text size, in Arabic and English, at 1280x800 and
1024x600: nothing overlaps, no text is cut, no text is drawn with a font that lacks its characters, the buttons of
a row are one height, and the top bar and the candidates' photos grow with the text.

Each window size runs the real app offscreen in a process of its own (tests/ui/screens_tour.py), as
tests/ui/test_pin_layout.py does for the PIN screen."""

from __future__ import annotations

import subprocess
import sys
from itertools import combinations
from pathlib import Path
from typing import Any

import pytest

from tests.ui.test_kiosk_ui import REPO, _env, collect
from tests.ui.text_layout import missing_glyphs

pytestmark = [pytest.mark.ui, pytest.mark.slow]

SIZES = {"1280x800": (1280, 800), "1024x600": (1024, 600)}
ORDER = ["normal", "large", "larger", "largest"]
TOLERANCE = 1.5  # px: rounding of Kivy's layout


@pytest.fixture(scope="module")
def tours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("tour")
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "tests.ui.screens_tour", str(tmp / f"{name}.json"), str(w), str(h)],
            cwd=REPO,
            env=_env(tmp, name),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name, (w, h) in SIZES.items()
    }
    return {name: run["records"] for name, run in collect(procs, tmp, timeout=600).items()}


def _where(r: dict[str, Any]) -> str:
    return f"{r['screen']} {r['language']} {r['size']}"


def _overlap(a: list[float], b: list[float]) -> bool:
    return (
        a[0] + TOLERANCE < b[0] + b[2]
        and b[0] + TOLERANCE < a[0] + a[2]
        and a[1] + TOLERANCE < b[1] + b[3]
        and b[1] + TOLERANCE < a[1] + a[3]
    )


def _problems(records: list[dict[str, Any]]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {k: [] for k in ("off_window", "cut", "overlap", "no_cue", "rows", "glyphs")}
    for r in records:
        where = _where(r)
        width, height = r["window"]
        leaves = [leaf for leaf in r["leaves"] if leaf["clipped"] is not None]
        for leaf in leaves:
            x, y, w, h = leaf["clipped"]
            if x < -TOLERANCE or y < -TOLERANCE or x + w > width + TOLERANCE or y + h > height + TOLERANCE:
                found["off_window"].append(f"{where}: {leaf['text'][:40]!r} at {leaf['clipped']}")
            if leaf["kind"] == "text":
                tw, th = leaf["texture"]
                room = leaf["text_width"] if leaf["button"] else leaf["box"][2]
                if tw > room + TOLERANCE or th > leaf["box"][3] + TOLERANCE:
                    found["cut"].append(f"{where}: {leaf['text'][:40]!r} needs {tw:.0f}x{th:.0f}, has {leaf['box']}")
                missing = missing_glyphs(leaf["text"], Path(leaf["font"]))
                if missing:
                    found["glyphs"].append(f"{where}: {leaf['text'][:40]!r} in {Path(leaf['font']).name}: {missing}")
        for a, b in combinations(leaves, 2):
            if a["id"] in b["ancestors"] or b["id"] in a["ancestors"]:
                continue
            if _overlap(a["clipped"], b["clipped"]):
                found["overlap"].append(f"{where}: {a['text'][:30] or 'photo'!r} / {b['text'][:30] or 'photo'!r}")
        for s in r["scrolls"]:
            # a page that goes on has a scroll bar and its cue, in words, while its top is shown
            if s["overflows"] and not (s["cue"] and s["bar_width"] > 0 and (s["cue_shown"] or not s["at_top"])):
                found["no_cue"].append(f"{where}: a page {s['content_height']:.0f} px high in {s['viewport']}")
        for row in r["rows"]:
            if max(row) - min(row) > TOLERANCE:
                found["rows"].append(f"{where}: button heights {row}")
    return found


@pytest.mark.parametrize("size", list(SIZES))
def test_every_screen_fits_or_scrolls_with_a_cue_and_nothing_is_cut_or_overlaps(
    tours: dict[str, list[dict[str, Any]]], size: str
) -> None:
    records = tours[size]
    screens = {r["screen"] for r in records}
    assert {"pin", "accessibility", "ballot", "review", "review_blank", "cast_or_challenge", "challenge_result",
            "confirmation", "notice", "staff", "staff_confirm_close", "staff_report", "attract"} <= screens  # fmt: skip
    for r in records:
        if r["screen"] != "attract":
            assert {x["size"] for x in records if x["screen"] == r["screen"]} == set(ORDER)
    problems = _problems(records)
    assert problems == {k: [] for k in problems}, {k: v[:12] for k, v in problems.items() if v}


@pytest.mark.parametrize("size", list(SIZES))
def test_the_blank_ballot_review_always_shows_its_way_forward(
    tours: dict[str, list[dict[str, Any]]], size: str
) -> None:
    for r in tours[size]:
        if r["screen"] != "review_blank":
            continue
        buttons = [leaf for leaf in r["leaves"] if leaf.get("button") and not leaf["scrolled"]]
        assert len(buttons) >= 2, _where(r)  # "No, go back and choose" and "Yes, cast a blank ballot", never scrolled


@pytest.mark.parametrize("size", list(SIZES))
def test_the_top_bar_and_the_photos_grow_with_the_text_and_the_candidates_keep_room(
    tours: dict[str, list[dict[str, Any]]], size: str
) -> None:
    for language in ("ar", "en"):
        ballot = {r["size"]: r for r in tours[size] if r["screen"] == "ballot" and r["language"] == language}
        bars = [ballot[s]["topbar"][3] for s in ORDER]
        photos = [ballot[s]["photos"][0][1] for s in ORDER]
        assert bars == sorted(bars) and bars[-1] > bars[0], bars
        assert photos == sorted(photos) and photos[-1] >= 1.5 * photos[0], photos
        for s in ORDER:
            page = max(ballot[s]["scrolls"], key=lambda p: p["viewport"][3])
            # the candidates' page keeps at least a third of the window, and more than one photo's height
            assert page["viewport"][3] >= ballot[s]["window"][1] / 3 and page["viewport"][3] > ballot[s]["photos"][0][1]

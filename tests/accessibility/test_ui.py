"""The real kiosk app, offscreen, with the accessibility layer attached: a voter completes the ballot
with controller keys sent to the window, hears every step, blanks the screen; every touch target on the
accessibility and ballot screens is large enough at every text size."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.accessibility import display
from kiosk.session.model import Theme

pytestmark = pytest.mark.ui

SCRIPT = Path(__file__).with_name("ui_journey.py")
MIN_TARGET_PX = 48
"""VVSG 2.0 7.2-I (as VxMark applies it): touch areas at least 0.5 in (12.7 mm); 48 px on the kiosk's
15.6-inch 1280x800 screen (97 px per inch)."""


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict:
    env = {**os.environ, "KIVY_HOME": str(tmp_path_factory.mktemp("kivy")), "KIVY_NO_CONSOLELOG": "1"}
    result = subprocess.run(
        [sys.executable, str(SCRIPT)], capture_output=True, text=True, timeout=300, env=env, check=False
    )
    lines = [line for line in result.stdout.splitlines() if line.startswith("REPORT ")]
    assert lines, result.stdout[-2000:] + result.stderr[-2000:]
    data: dict = json.loads(lines[-1].removeprefix("REPORT "))
    assert data["errors"] == []
    return data


def test_a_ballot_is_completed_with_controller_keys_in_the_real_app(report):
    steps = {s["step"]: s for s in report["steps"]}
    # The first key on the attract screen turns audio on and reads it; the setting survives the card.
    assert steps["attract_audio_on"]["phase"] == "attract"
    assert steps["attract_audio_on"]["heard"] == [
        "str:attract.title",
        "str:attract.insert_card",
        "str:attract.audio_hint",
    ]
    # Audio was turned on at the attract screen: the PIN screen is read without a key.
    assert steps["audio_on"]["heard"][-2:] == ["str:pin.enter", "str:pin.hint"]
    assert steps["pin_done"]["phase"] == "accessibility"
    assert steps["ballot"]["phase"] == "ballot"
    assert steps["ballot"]["heard"][1:3] == ["str:ballot.title#0", "contest:shura-MA-04"]
    assert steps["chose_first"]["heard"][-5:] == [
        "str:ballot.selected",
        "str:ballot.selected_count#0",
        "num:1",
        "str:ballot.selected_count#1",
        "num:2",
    ]
    assert steps["review"]["heard"][-11:] == [
        "str:review.title",
        "contest:shura-MA-04",
        "str:audio.you_chose",
        "cand:C-MA-04-01",
        # one of two seats chosen: the undervote the screen warns of, said too
        "contest:shura-MA-04",
        "str:ballot.undervote_warning#0",
        "num:1",
        "str:ballot.undervote_warning#1",
        "num:2",
        "str:ballot.undervote_warning#2",
        "str:review.instructions",
    ]
    assert steps["cast"]["phase"] == "confirmation" and report["cast"] == 1
    assert "str:confirmation.code#0" in steps["cast"]["heard"]
    assert report["missing"] == []


def test_the_privacy_screen_blanks_the_real_window(report):
    assert report["privacy"] is True
    steps = {s["step"]: s for s in report["steps"]}
    assert steps["privacy_on"]["heard"] == ["str:audio.privacy_on"]


def test_every_touch_target_is_large_at_every_text_size(report):
    targets = report["targets"]
    screens = {t["screen"] for t in targets}
    assert {"ballot/normal", "ballot/largest", "accessibility/normal", "accessibility/largest"} <= screens
    small = [t for t in targets if min(t["w"], t["h"]) < MIN_TARGET_PX]
    assert small == []


def test_the_focused_item_is_outlined_on_the_screen_and_the_outline_moves_with_the_controller(report):
    steps = {s["step"]: s for s in report["steps"]}
    blue = [round(c, 3) for c in display.kivy_rgba(display.FOCUS[Theme.STANDARD])]
    assert steps["attract_audio_on"]["outlined"] == []  # the first key turns audio on, focuses nothing
    assert steps["focus_attract_audio"]["outlined"] == [{"key": "audio", "rgba": blue}]
    assert steps["focus_attract_language"]["outlined"] == [{"key": "language.ar|language.en", "rgba": blue}]
    assert steps["audio_on"]["outlined"] == []  # a new screen is read first: nothing focused yet
    for digit in (1, 2, 3, 4):
        step = steps[f"focus_pin_{digit}"]
        assert step["focus"] == f"pin.{digit}"
        assert step["outlined"] == [{"key": f"pin.{digit}", "rgba": blue}]
    assert steps["focus_access_continue"]["outlined"] == [{"key": "continue", "rgba": blue}]
    assert steps["focus_access_audio"]["outlined"] == [{"key": "audio", "rgba": blue}]  # the "off" choice
    candidate = steps["focus_candidate"]
    assert candidate["phase"] == "ballot" and candidate["focus"].startswith("candidate.")
    assert candidate["outlined"] == [{"key": candidate["focus"], "rgba": blue}]


def test_a_touch_voter_changes_speech_rate_and_volume_on_the_accessibility_screen(report):
    """Rate and volume are not only on the controller's keys: the accessibility screen has buttons for them,
    shows where each is ("5 of 8") and says the new step."""
    levels = report["levels"]
    (rate, rates), (volume, volumes) = levels["before"]["rate"], levels["before"]["volume"]
    assert levels["after"]["rate"] == [rate + 1, rates]
    assert levels["after"]["volume"] == [volume - 1, volumes]
    shown = [label.split() for label in levels["labels"]]  # "5 of 8" or "5 من 8"
    assert [str(rate + 1), str(rates)] in [[w[0], w[-1]] for w in shown]
    assert [str(volume - 1), str(volumes)] in [[w[0], w[-1]] for w in shown]
    steps = {s["step"]: s for s in report["steps"]}
    assert "str:audio.rate#0" in steps["rate_up"]["heard"] and f"num:{rate + 1}" in steps["rate_up"]["heard"]
    assert "str:audio.volume#0" in steps["volume_down"]["heard"]
    assert f"num:{volume - 1}" in steps["volume_down"]["heard"]

"""The voter app's start screen has a "My votes" button; pressed, it asks for the card and PIN and shows, as a table,
every ballot the real collector holds under the card's identity, rendered by Kivy offscreen through touches (a fresh
process: tests/ui/my_votes_journey.py, with its own pcscd). Arabic and English; each ballot's code is the one its
confirmation showed; a card inserted for it starts no voting session; Back returns to the start screen."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.virtual_card.harness import env_for_own_harness

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
SHOTS = os.environ.get("SANDUQ_SHOTS")
"""Set to a folder to keep the screenshots (docs/screenshots/my_votes/ holds the ones the docs show)."""


def test_my_votes_from_the_start_screen_shows_each_ballot_then_back(tmp_path: Path) -> None:
    out, shots = tmp_path / "result.json", Path(SHOTS) if SHOTS else tmp_path / "shots"
    kivy = {
        "KIVY_NO_ARGS": "1", "KIVY_NO_CONSOLELOG": "1", "KIVY_NO_FILELOG": "1", "KIVY_HOME": str(tmp_path / "kivy"),
        "SDL_VIDEODRIVER": "offscreen", "SDL_AUDIODRIVER": "dummy", "KIVY_TEXT": "pil",
    }  # fmt: skip
    env = env_for_own_harness({**os.environ, **kivy})  # the child starts its own pcscd
    run = subprocess.run(
        [sys.executable, "-m", "tests.ui.my_votes_journey", str(out), str(shots)],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["errors"] == [], r["errors"]
    codes = r["codes"]
    assert len(codes) == 4
    for language in ("ar", "en"):
        seen = r[language]
        assert seen["button_below_audio"] and seen["instructions_shown"]
        assert seen["card_kept_from_session"]  # the card inserted for "my votes" did not start a voting session
        assert seen["codes_shown"] == codes  # every ballot, each with the code its confirmation showed
        assert seen["statuses_shown"] == ["ballot_counts", "ballot_superseded", "ballot_replaced"]
        assert seen["count_shown"]
        assert "10000001" not in " ".join(seen["texts"])
    assert r["ar"]["back_at_start"]
    assert r["en"]["card_left_in_starts_voting"]
    for name in ("ar_start", "ar_my_votes", "en_start", "en_my_votes"):
        assert (shots / f"{name}.png").stat().st_size > 10_000

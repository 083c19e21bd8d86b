"""The kiosk tells a voter with an internet vote that voting here replaces it, rendered by Kivy offscreen through
touches (a fresh process: tests/ui/remote_vote_journey.py): Arabic and English on the screen, a cancel casts nothing,
releases the check-in and says the internet vote still counts; going on casts under the same check-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
SHOTS = os.environ.get("SANDUQ_SHOTS")
"""Set to a folder to keep the screenshots (docs/screenshots/remote_vote/ holds the ones the docs show)."""


def test_a_remote_voter_is_told_and_may_cancel_or_vote_here(tmp_path: Path) -> None:
    out, shots = tmp_path / "result.json", Path(SHOTS) if SHOTS else tmp_path / "shots"
    env = dict(
        os.environ,
        KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", KIVY_HOME=str(tmp_path / "kivy"),
        SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy", KIVY_TEXT="pil",
    )  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "tests.ui.remote_vote_journey", str(out), str(shots)],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    r = json.loads(out.read_text())
    assert "_errors" not in r, r["_errors"]
    cancels, votes = r["cancels"], r["votes_here"]
    assert "error" not in cancels, cancels["error"]
    assert "error" not in votes, votes["error"]
    assert cancels["language"] == "ar" and cancels["arabic_shown"] and cancels["english_shown"]
    assert cancels["checked_in_while_told"] == 1  # the check-in is held while the voter reads
    assert cancels["kept_shown"] and cancels["remove_card_asked"]
    assert cancels["checked_in_after_cancel"] == 0 and cancels["cast_after_cancel"] == 0
    assert votes["cast"] == 1 and votes["voter_marked_voted"]
    for name in ("ar_kiosk_remote_vote", "en_kiosk_remote_vote", "ar_kiosk_remote_vote_kept"):
        assert (shots / f"{name}.png").stat().st_size > 10_000

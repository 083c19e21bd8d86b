"""The kiosk starts whenever Python's garbage collector runs, and the screens it rebuilds leave nothing behind that the
collector could free in the middle of a kv rule (a fresh process: tests/ui/start_under_gc.py).

Once, under load, ``run_kiosk.py --package`` exited 1 at start-up: ``ReferenceError: weakly-referenced object no
longer exists`` from a kv rule of the demo panel (removed in ``build()`` from the polling-station kiosk, its position
still following the root's width), freed by the cyclic collector while the root was being sized to the window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = [pytest.mark.ui, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]


def test_the_kiosk_starts_and_serves_a_voter_whenever_the_garbage_collector_runs(tmp_path: Path) -> None:
    out = tmp_path / "result.json"
    env = dict(
        os.environ,
        KIVY_NO_ARGS="1", KIVY_NO_CONSOLELOG="1", KIVY_NO_FILELOG="1", KIVY_HOME=str(tmp_path / "kivy"),
        SDL_VIDEODRIVER="offscreen", SDL_AUDIODRIVER="dummy", KIVY_TEXT="pil",
    )  # fmt: skip
    run = subprocess.run(
        [sys.executable, "-m", "tests.ui.start_under_gc", str(out)],
        check=False, cwd=REPO, capture_output=True, text=True, timeout=300, env=env,
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["errors"] == [], r["errors"][0]
    # The kiosk started with a collection forced at every kv rule while its root joined the window, and shows no
    # demo panel (a polling-station kiosk).
    assert r["started"]
    assert not r["demo_panel_shown"]
    # Each screen rebuilt for the voter and the staff member discarded widgets (so this checked something), and no kv
    # rule ran on one of them after, while the language and text size changed on every screen.
    assert r["discarded"] > 100
    assert r["runs_on_discarded"] == {}

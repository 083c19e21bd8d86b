"""The voter app's Kivy UI rendered offscreen (a fresh process: tests/remote/ui_journey.py) with the virtual card
in a real pcscd and the real collector: the voter's own ballot is shown, the confirmation screen shows the
receipt's code, and its QR code, read back from the rendered frame, opens on the second-device check to the
candidate the voter chose."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.virtual_card.harness import env_for_own_harness

pytestmark = [pytest.mark.ui, pytest.mark.integration]

ROOT = Path(__file__).resolve().parents[2]


def test_the_confirmation_qr_on_screen_opens_to_the_voters_choice(tmp_path: Path) -> None:
    out = tmp_path / "result.json"  # the child starts its own pcscd: it must not inherit a running harness's socket
    run = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "remote" / "ui_journey.py"), str(out)],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=240, env=env_for_own_harness(),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    r = json.loads(out.read_text())
    assert r["errors"] == []
    assert r["ballot_shows_candidate"] and r["code_on_screen"] and r["qr_is_the_receipts"]
    assert f"  1: {r['chosen']}" in r["second_device_lines"]

"""The second-device check's Kivy window (``python -m remote.verify_app``, offscreen, a fresh process): a kiosk's
challenged ballot from the record is shown opened to its candidate; a code that is not one says so."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from election.benaloh import challenge_ballot
from tests.remote.helpers import build_election, encrypt

pytestmark = pytest.mark.ui
ROOT = Path(__file__).resolve().parents[2]
SEED = bytes(range(32))
BALLOT_ID = "0123456789abcdef0123456789abcdef"


def run_app(tmp_path: Path, *args: str) -> dict[str, object]:
    election = build_election(tmp_path)
    ballot = encrypt(election, {"C-MCT": ["MCT-4"]}, BALLOT_ID, SEED)
    record = tmp_path / "record" / "ballots" / "challenged"
    record.mkdir(parents=True)
    entry = {"kiosk": "K-1", "confirmation_code": "00", "challenged": challenge_ballot(ballot, SEED).to_dict()}
    (record / f"{BALLOT_ID}.json").write_text(json.dumps(entry))
    report = tmp_path / "shown.json"
    run = subprocess.run(
        [sys.executable, "-m", "remote.verify_app", "--offscreen", "--run-for", "0.5", "--package",
         str(election.package_path), "--commission-key", str(election.commission_pub), "--record",
         str(tmp_path / "record"), "--report", str(report), *args],
        check=False, cwd=ROOT, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    shown: dict[str, object] = json.loads(report.read_text())
    return shown


def test_the_window_opens_a_kiosk_challenge_to_its_candidate(tmp_path: Path) -> None:
    shown = run_app(tmp_path, "--code", f"sanduq-verify:1:kiosk:{BALLOT_ID}:{SEED.hex()}")
    assert shown["verdict"] == "The ballot opens to:"
    assert "  4: Candidate 4" in shown["lines"]  # type: ignore[operator]


def test_the_window_opens_a_ballot_file_the_voter_app_challenged(tmp_path: Path) -> None:
    from remote.check import ballot_code

    (tmp_path / "e").mkdir()
    election = build_election(tmp_path / "e")  # the same election as run_app's (seeded key ceremony), own files
    ballot = encrypt(election, {"C-MCT": ["MCT-2"]}, BALLOT_ID, SEED)
    saved = tmp_path / f"challenged-{BALLOT_ID}.json"
    saved.write_text(json.dumps(challenge_ballot(ballot, SEED).to_dict()))
    shown = run_app(tmp_path, "--code", str(saved))
    assert shown["verdict"] == f"Challenged ballot {ballot_code(ballot)} opens to:"
    assert "  2: Candidate 2" in shown["lines"]  # type: ignore[operator]


def test_the_window_says_when_a_code_is_not_a_check_code(tmp_path: Path) -> None:
    shown = run_app(tmp_path, "--code", "sanduq-verify:1:kiosk:nonsense")
    assert shown["verdict"] == "NOT CHECKED"

"""A shortened election day, end to end on real processes (the demo's own timeline with ~45 voters): every
special case behaves as scripted, the published record verifies, and the decrypted tally equals what the
scripted voters chose."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from devtools.election_day.plan import make_plan
from devtools.election_day.report import write_report
from devtools.election_day.run import run_day
from election.manifest import Manifest
from election.roll import load_roll

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_a_short_election_day_verifies_and_matches_the_script(tmp_path: Path) -> None:
    definition = tmp_path / "definition-small"
    py = [sys.executable, "-m"]
    subprocess.run([*py, "devtools.demo_election", "--scale", "small", "--seed", "7", "--out", str(definition),
                    "--force"], check=True, capture_output=True)  # fmt: skip
    manifest = Manifest.from_dict(json.loads((definition / "manifest.json").read_text(encoding="utf-8")))
    plan = make_plan(manifest, load_roll(definition / "roll.csv", manifest), seed=7, voters=45)
    kiosks = [a for k in manifest.kiosks for a in ("--kiosk-id", k.id)]
    revoke = [a for c in plan.revoked for a in ("--revoke", c)]
    subprocess.run([*py, "devtools.test_pki", "--out", str(tmp_path / "pki"), "--roll", str(definition / "roll.csv"),
                    *kiosks, *revoke], check=True, capture_output=True)  # fmt: skip

    ok = run_day(tmp_path, definition, tmp_path / "pki", plan, manifest,
                 lambda day, summary: write_report(tmp_path, plan, manifest, day, summary))  # fmt: skip

    summary = json.loads((tmp_path / "summary.json").read_text(encoding="utf-8"))
    assert not summary.get("error"), summary.get("error")
    assert summary["problems"] == [], summary["problems"]
    assert summary["verified"], (tmp_path / "verifier-output.txt").read_text(encoding="utf-8")[-2000:]
    assert summary["match"], [r for r in summary["rows"] if not r["match"]]
    assert ok
    outcomes = summary["outcomes"]
    by_note = {v.note: outcomes[v.id] for v in plan.voters if v.note}
    assert by_note["card certificate revoked"]["failure"] == "cert_revoked"
    assert by_note["three wrong PINs: card blocked"]["pin_tries_left_after_wrong_pins"] == [2, 1]
    assert by_note["double-vote attempt at another centre"]["failure"] == "already_voted"
    # Two centres, three kiosks: the unified centre's two and Khasab's one; Bukha's centre has none running,
    # its voters vote at the unified centre.
    centre_of = {str(k.id): str(k.centre) for k in manifest.kiosks}
    used = {o["kiosk"] for o in outcomes.values()}
    assert used == {"K-PC-001-1", "K-PC-001-2", "K-PC-002-1"}
    bukha = [outcomes[v.id] for v in plan.voters if v.wilayat == "MU-02" and v.counted]
    assert bukha and all(o["outcome"] == "cast" and centre_of[o["kiosk"]] == "PC-001" for o in bukha)
    double = next(v for v in plan.voters if v.note == "double-vote attempt at another centre")
    first = next(v for v in plan.voters if v.civil_number == double.civil_number and v.id != double.id)
    assert outcomes[first.id]["outcome"] == "cast"
    assert centre_of[outcomes[first.id]["kiosk"]] != centre_of[outcomes[double.id]["kiosk"]]
    challenger = next(outcomes[v.id] for v in plan.voters if v.challenge is not None)
    assert challenger["challenge"]["verified"] and challenger["challenge"]["decrypted_matches"]
    audio = next(outcomes[v.id] for v in plan.voters if v.audio)
    assert audio["clips_heard"] > 10 and audio["clips_missing"] == []
    # Every voter went through the real Kivy app; the controller voter by keys, the last voters photographed.
    assert all(o.get("ui") == "kivy" for o in outcomes.values())
    # Every button a voter needed was reached by a finger: none had to be pressed through its handler because no
    # touch reached it (hidden, covered, off screen, or under a ScrollView that kept the touch).
    missed = {v: o["touches_missed"] for v, o in outcomes.items() if o.get("touches_missed")}
    assert missed == {}, f"touches that never reached their button: {missed}"
    assert all("touches_missed" in o for o in outcomes.values() if o.get("outcome") in ("cast", "provisional"))
    controller = next(outcomes[v.id] for v in plan.voters if v.controller)
    assert controller["outcome"] == "cast" and controller["clips_heard"] > 0
    assert list((tmp_path / "screenshots").glob("*-confirmation.png"))
    tally = json.loads((tmp_path / "day" / "encrypted_tally.json").read_text(encoding="utf-8"))
    assert set(tally["contests"]) == {c.id for c in manifest.contests}  # downloaded from /api/guardian/tally
    assert "PASS" in (tmp_path / "report.html").read_text(encoding="utf-8")

"""The real kiosk app, offscreen, driven by touches through whole voter journeys (fake card layer).

The journeys run in child processes (tests/ui/kiosk_journeys.py) so Kivy's global state never leaks into
other tests; this module asserts on what the voter saw and what the kiosk recorded.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from devtools.virtual_card.harness import env_for_own_harness

pytestmark = [pytest.mark.ui, pytest.mark.slow, pytest.mark.integration]

REPO = Path(__file__).resolve().parents[2]
MAIN = ["cast", "challenge", "wrong_pin", "already_voted", "card_pulled", "language_and_layout", "overvote"]
RUNS: dict[str, list[str]] = {
    "fake": [*MAIN, "staff_screens", "scroll_reset"],
    "fake-timeout": ["timeout"],
    "pcscd": ["--virtual-card", *MAIN],
    "pcscd-timeout": ["--virtual-card", "timeout"],
    "demo-layer": ["--demo-layer", "assisted_demo"],
}
"""Child processes, run side by side: the fake card layer, and the real card layer with virtual ID cards
on an isolated pcscd (real PKI check, real encryption, real ballot box)."""


def _env(tmp: Path, name: str) -> dict[str, str]:
    env = env_for_own_harness()  # each journey process starts its own pcscd
    env.update(
        KIVY_NO_ARGS="1",
        KIVY_NO_CONSOLELOG="1",
        KIVY_NO_FILELOG="1",
        KIVY_HOME=str(tmp / f"kivy-{name}"),  # one per process: Kivy writes its config there
        SDL_VIDEODRIVER="offscreen",
        SDL_AUDIODRIVER="dummy",
        KIVY_TEXT="pil",
    )
    return env


@pytest.fixture(scope="module")
def all_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("ui")
    runs = RUNS
    procs = {
        name: subprocess.Popen(
            [sys.executable, "-m", "tests.ui.kiosk_journeys", str(tmp / f"{name}.json"), *scenarios],
            cwd=REPO,
            env=_env(tmp, name),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name, scenarios in runs.items()
    }
    return collect(procs, tmp, timeout=500)


def collect(procs: dict[str, subprocess.Popen[bytes]], tmp: Path, *, timeout: float) -> dict[str, dict[str, Any]]:
    """Wait for each child; each must exit 0 and write ``tmp/<name>.json`` without an ``_errors`` entry."""
    results: dict[str, dict[str, Any]] = {}
    for name, proc in procs.items():
        output, _ = proc.communicate(timeout=timeout)
        assert proc.returncode == 0, output.decode(errors="replace")[-3000:]
        results[name] = json.loads((tmp / f"{name}.json").read_text())
        assert "_errors" not in results[name], results[name]["_errors"]
    return results


@pytest.fixture(params=["fake", "pcscd"])
def journeys(request: pytest.FixtureRequest, all_runs: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The journeys of one card layer: ``fake`` (in-memory) or ``pcscd`` (virtual cards, real stack)."""
    mode: str = request.param
    results = {**all_runs[mode], **all_runs[f"{mode}-timeout"]}
    expected = "PcscCard" if mode == "pcscd" else "FakeCard"
    assert all(r["card_port"] == expected for r in results.values())
    return results


def _scenario(journeys: dict[str, Any], name: str) -> dict[str, Any]:
    record: dict[str, Any] = journeys[name]
    assert "error" not in record, record["error"]
    return record


def test_a_voter_casts_and_sees_the_code_and_qr(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "cast")
    assert r["ballot_shows_all_candidates"] and r["count_text"] and r["review_lists_choices"]
    assert r["code_on_screen"] and r["qr_shown"] and r["remove_card_asked"]
    assert r["cast_count"] == 1
    assert r["thanks_after"] and r["secrets_after"] == []


def test_a_challenge_shows_the_choices_spoils_and_the_voter_votes_again(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "challenge")
    assert r["verified_shown"] and r["decrypted_choice_shown"] and r["spoiled"] == 1
    assert r["verdict_panel_kinds"] == ["ok"]  # a passed check in the "selected" colours, not as a warning
    # "vote again" starts from an empty ballot: no choice of the challenged ballot is kept or shown as chosen
    assert r["ballot_empty_again"] and not any(r["marks_shown_after"]) and r["cast_after_challenge"] == 1


def test_wrong_pins_show_tries_left_then_the_card_is_blocked(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "wrong_pin")
    assert r["tries_shown"] and r["wrong_shown"] and r["last_try_warned"] and r["blocked_shown"]


def test_a_voter_who_already_voted_is_told_so_in_both_languages(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "already_voted")
    assert r["message_shown"] and r["english_too"] and r["message_in_english"] and r["voted_once"]


def test_pulling_the_card_on_any_screen_records_nothing(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "card_pulled")
    assert [p["step"] for p in r["pulled"]] == [
        "pin",
        "accessibility",
        "ballot",
        "review",
        "cast_or_challenge",
        "challenge_result",
    ]
    assert all(p["notice"] and p["phase"] == "attract" for p in r["pulled"])
    assert r["cast_during"] == 0 and r["checked_in_left"] == 0


def test_inactivity_warns_then_ends_the_session(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "timeout")
    assert r["warning_shown"] and r["warning_dismissed"] and r["timeout_shown"] and r["selections_wiped"], r
    seen = r["counted_down"]  # the seconds the warning showed, in the order shown
    assert len(seen) >= 2 and seen == sorted(seen, reverse=True) and seen[0] <= 30, r  # it counts down


def test_arabic_is_mirrored_and_english_is_not(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "language_and_layout")
    assert r["arabic_right_aligned"] and r["english_left_aligned"] and r["photo_moves_sides"]
    assert r["still_on_ballot"] and r["language_reset"]


def test_an_overvote_is_refused_and_explained(journeys: dict[str, Any]) -> None:
    r = _scenario(journeys, "overvote")
    assert r["explained"] and r["selected"] == 2 and r["dismissed"]


def test_the_demo_kiosk_has_the_accessibility_layer_and_assisted_voting_hides_the_ballot(
    all_runs: dict[str, dict[str, Any]],
) -> None:
    """``make kiosk`` (run_kiosk --demo) attaches the same accessibility layer as a station kiosk: after a poll
    worker starts assisted voting, the voter's screens are blanked from the start (a touch on the hidden ballot
    does nothing), audio is on, and the voter chooses with the accessible controller."""
    r = all_runs["demo-layer"]["assisted_demo"]
    assert "error" not in r, r.get("error")
    assert r["audio_on"] and r["privacy_on"] and r["blank_on_top"] and r["private_note"], r
    assert not r["touch_through_blank_selected"], r
    assert r["controller_focus"] and r["controller_selected"] == 1, r
    assert not r["privacy_after"] and "assistance_given" in r["audit"], r


def test_staff_screens_speak_the_voters_language_in_omans_time_and_guard_closing_and_reopening(
    all_runs: dict[str, dict[str, Any]],
) -> None:
    r = all_runs["fake"]["staff_screens"]
    assert "error" not in r, r.get("error")
    assert r["latin_on_arabic_staff_screen"] == [], r  # no English debug lines on the Arabic staff screen
    assert r["ballots_line"] and r["checkins_line"], r
    assert r["clock_minutes_off"] is not None and r["clock_minutes_off"] < 3, r  # Muscat time (UTC+4), not UTC
    assert r["asks_confirmation"] and r["cancel_keeps_open"] and r["closed"], r
    assert r["reopen_offered"] and r["member_refused"] and r["closed_to_voters"], r
    assert r["admin_reopened"] and r["open_again"], r
    assert any("reopen_polls by ADMIN-0001" in a for a in r["audit"]), r


def test_the_next_voter_sees_the_ballot_from_its_top_with_no_marks(all_runs: dict[str, dict[str, Any]]) -> None:
    r = all_runs["fake"]["scroll_reset"]
    assert "error" not in r, r.get("error")
    assert r["scrolled_to"] < 0.5, r  # the first voter had scrolled down
    assert r["next_voter_scroll_y"] == 1 and not any(r["marks_left"]), r

"""Two-switch scan speed: a helper adjusts the auto-scan with "," (slower) and "." (faster); the voter
hears the new speed, the scan then moves at that pace, and the next voter starts at the default."""

from __future__ import annotations

from kiosk.accessibility.input import DEFAULT_SCAN_SPEED, SCAN_INTERVALS_S, Switch
from kiosk.session.model import Phase
from tests.accessibility.harness import AccessibleKiosk


def _pin_screen_scanning(tmp_path) -> AccessibleKiosk:
    k = AccessibleKiosk(tmp_path)
    k.insert_voter()
    k.switch(Switch.MOVE)  # first switch press: audio on, the PIN screen is read
    assert k.phase is Phase.PIN_ENTRY and k.state.settings.audio
    return k


def _items_heard(k: AccessibleKiosk, seconds: float) -> list[str]:
    """Digits the auto-scan reads in ``seconds`` of silence-driven scanning."""
    return [c for c in k.wait(seconds) if c.startswith("num:")]


def test_the_speed_keys_change_the_scan_speed_and_say_it(tmp_path):
    k = _pin_screen_scanning(tmp_path)
    steps = len(SCAN_INTERVALS_S)
    assert k.shell.on_key_name(".", k.now)
    assert k.shell.scan.speed == DEFAULT_SCAN_SPEED + 1
    heard = [str(c) for c in k.listen()]
    assert "str:audio.scan_speed#0" in heard
    assert heard[heard.index("str:audio.scan_speed#0") + 1] == f"num:{DEFAULT_SCAN_SPEED + 2}"
    assert heard[-1] == f"num:{steps}"
    for _ in range(10):
        k.shell.on_key_name(",", k.now)
    assert k.shell.scan.speed == 0  # slowest, no further
    assert k.listen()[-3:] == ["num:1", "str:audio.scan_speed#1", f"num:{steps}"]
    # The helper's key leaves the voter in switch mode: the switches still scan.
    assert k.switch(Switch.MOVE)


def test_a_faster_scan_reads_more_items_in_the_same_time(tmp_path):
    slow = _pin_screen_scanning(tmp_path / "slow")
    fast = _pin_screen_scanning(tmp_path / "fast")
    for _ in range(len(SCAN_INTERVALS_S)):
        fast.shell.on_key_name(".", fast.now)
        slow.shell.on_key_name(",", slow.now)
    slow.listen()
    fast.listen()
    assert len(_items_heard(fast, 12)) > len(_items_heard(slow, 12))


def test_the_next_voter_starts_at_the_default_scan_speed(tmp_path):
    k = _pin_screen_scanning(tmp_path)
    k.shell.on_key_name(".", k.now)
    k.remove_card()
    assert k.phase is Phase.ATTRACT and k.shell.scan.speed == DEFAULT_SCAN_SPEED

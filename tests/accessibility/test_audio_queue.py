"""The clip queue: what the voter hears when they move on, change a selection, replay, pause, or change
the rate and the volume; and what a new voter starts with."""

from __future__ import annotations

from pathlib import Path

import pytest

from election.manifest import Language
from kiosk.accessibility.audio import DEFAULT_VOLUME_STEP, VOLUME_STEPS, AudioQueue, FakePlayer
from kiosk.accessibility.prompts import Interrupt
from kiosk.accessibility.tempo import DEFAULT_RATE_STEP, RATE_STEPS
from kiosk.session.model import ClipId

AR, EN = Language.ARABIC, Language.ENGLISH


class Source:
    """Every clip exists except those named "missing:*"; the path says the rate it was asked at."""

    def path(self, clip: ClipId, language: Language, rate: float) -> Path | None:
        if clip.startswith("missing:"):
            return None
        return Path(f"/clips/{language.value}/{clip}@{rate}")


def ids(*names: str) -> tuple[ClipId, ...]:
    return tuple(ClipId(n) for n in names)


@pytest.fixture
def q() -> tuple[AudioQueue, FakePlayer]:
    player = FakePlayer()
    return AudioQueue(player, Source()), player


def test_clips_play_one_after_another(q):
    queue, player = q
    queue.say(ids("a", "b", "c"), EN)
    assert player.clips == ["a"]
    player.finish()
    assert player.clips == ["a", "b"]
    player.drain()
    assert player.clips == ["a", "b", "c"] and not queue.busy


def test_a_new_screen_flushes_what_was_queued(q):
    queue, player = q
    queue.say(ids("old1", "old2", "old3"), EN, screen=True)
    queue.say(ids("new1", "new2"), EN, Interrupt.FLUSH, screen=True)
    assert player.stopped == 1
    player.drain()
    assert player.clips == ["old1", "new1", "new2"]


def test_a_selection_change_interrupts_the_current_clip_then_the_screen_goes_on(q):
    queue, player = q
    queue.say(ids("title", "candidate3", "candidate4"), EN)
    player.finish()  # now saying candidate3
    queue.say(ids("candidate3", "selected"), EN, Interrupt.FRONT)
    player.drain()
    assert player.clips == ["title", "candidate3", "candidate3", "selected", "candidate4"]


def test_a_stopped_clip_reporting_its_end_late_does_not_skip_the_next(q):
    queue, player = q
    queue.say(ids("a"), EN)
    stale = player._on_end
    queue.say(ids("b", "c"), EN, Interrupt.FLUSH)
    assert stale is not None
    stale()  # the old clip's end arrives after it was replaced
    assert player.clips == ["a", "b"]
    player.drain()
    assert player.clips == ["a", "b", "c"]


def test_replay_reads_the_current_screen_again(q):
    queue, player = q
    queue.say(ids("s1", "s2"), AR, screen=True)
    player.drain()
    queue.say(ids("feedback"), AR, Interrupt.FRONT)
    player.drain()
    queue.replay()
    player.drain()
    assert player.clips == ["s1", "s2", "feedback", "s1", "s2"]
    assert all(p.language is AR for p in player.started)


def test_pause_stops_and_resume_plays_the_interrupted_clip_from_its_start(q):
    queue, player = q
    queue.say(ids("a", "b"), EN)
    queue.pause()
    assert player.playing is None and queue.paused
    queue.resume()
    player.drain()
    assert player.clips == ["a", "a", "b"]


def test_rate_changes_in_steps_from_half_to_double_and_applies_to_the_next_clip(q):
    queue, player = q
    assert queue.rate == 1.0 and RATE_STEPS[0] == 0.5 and RATE_STEPS[-1] == 2.0 and len(RATE_STEPS) >= 6
    for _ in range(20):
        queue.change_rate(+1)
    assert queue.rate == 2.0
    queue.say(ids("fast"), EN)
    for _ in range(20):
        queue.change_rate(-1)
    assert queue.rate == 0.5
    queue.say(ids("slow"), EN, Interrupt.APPEND)
    player.drain()
    assert [(p.clip, p.rate) for p in player.started] == [("fast", 2.0), ("slow", 0.5)]
    assert str(player.started[1].path).endswith("@0.5")


def test_volume_has_ten_steps_and_changes_the_playing_clip(q):
    queue, player = q
    queue.say(ids("a"), EN)
    levels = [queue.change_volume(+1) for _ in range(VOLUME_STEPS)]
    assert levels[-1] == VOLUME_STEPS and queue.volume == 1.0
    levels = [queue.change_volume(-1) for _ in range(VOLUME_STEPS)]
    assert levels[-1] == 1 and queue.volume == pytest.approx(0.1)
    assert player.volume_changes[-1] == pytest.approx(0.1)


def test_a_missing_clip_is_skipped_not_fatal(q):
    queue, player = q
    queue.say(ids("a", "missing:x", "b"), EN)
    player.drain()
    assert player.clips == ["a", "b"]
    assert (ClipId("missing:x"), EN) in queue.missing


def test_every_setting_is_reset_for_the_next_voter(q):
    queue, player = q
    queue.say(ids("a", "b"), EN, screen=True)
    queue.change_rate(+2)
    queue.change_volume(+3)
    queue.pause()
    queue.reset()
    assert (queue.rate_step, queue.volume_step, queue.paused, queue.busy) == (
        DEFAULT_RATE_STEP,
        DEFAULT_VOLUME_STEP,
        False,
        False,
    )
    queue.replay()
    assert player.clips == ["a"]  # nothing of the last voter's screen is replayed

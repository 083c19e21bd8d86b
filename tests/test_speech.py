"""Speech synthesis with the real espeak-ng and sox: clip durations, the content-addressed cache."""

from __future__ import annotations

import os

import pytest

from tools.speech import (
    SpeechJob,
    SpeechToolMissingError,
    cache_key,
    clip_duration,
    synthesise,
    synthesise_many,
)

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("text", "language"),
    [("سالم بن علي البلوشي", "ar"), ("Salim bin Ali Al Balushi", "en")],
)
def test_a_name_becomes_a_short_ogg_clip(tmp_path, text, language):
    clip = synthesise(text, language, tmp_path / "name.ogg", cache_dir=None)
    assert clip.read_bytes()[:4] == b"OggS"
    # four words at ~122 words per minute, plus espeak's pauses
    assert 1.0 < clip_duration(clip) < 6.0
    assert clip.stat().st_size < 40_000


def test_synthesis_is_reproducible(tmp_path):
    a = synthesise("Candidate number 3", "en", tmp_path / "a.ogg")
    b = synthesise("Candidate number 3", "en", tmp_path / "b.ogg")
    assert a.read_bytes() == b.read_bytes()


def test_cache_hit_runs_no_tool(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    first = synthesise("مرحبًا", "ar", tmp_path / "one.ogg", cache_dir=cache)
    empty = tmp_path / "no-tools"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))  # espeak-ng and sox are now unreachable
    second = synthesise("مرحبًا", "ar", tmp_path / "two.ogg", cache_dir=cache)
    assert second.read_bytes() == first.read_bytes()
    with pytest.raises(SpeechToolMissingError, match="espeak-ng"):
        synthesise("something new", "ar", tmp_path / "three.ogg", cache_dir=cache)


def test_cache_key_covers_text_language_and_rate():
    keys = {
        cache_key("نزوى", "ar"),
        cache_key("نزوى ", "ar"),
        cache_key("Nizwa", "en"),
        cache_key("نزوى", "ar", rate=160),
    }
    assert len(keys) == 4


def test_batch_reports_progress_and_keeps_order(tmp_path):
    jobs = [SpeechJob(f"Candidate number {n}", "en", tmp_path / f"{n}.ogg") for n in (1, 2, 3)]
    jobs.append(SpeechJob("المرشح رقم ١", "ar", tmp_path / "ar.ogg"))
    seen: list[tuple[int, int]] = []
    paths = synthesise_many(jobs, cache_dir=tmp_path / "cache", progress=lambda d, t: seen.append((d, t)))
    assert paths == [j.out_path for j in jobs]
    assert all(p.read_bytes()[:4] == b"OggS" for p in paths)
    assert seen == [(1, 4), (2, 4), (3, 4), (4, 4)]
    assert len(os.listdir(tmp_path / "cache")) == 4


@pytest.mark.parametrize(("text", "language"), [("", "ar"), ("   ", "en"), ("hello", "fr")])
def test_bad_input_is_refused_before_running_anything(tmp_path, text, language):
    with pytest.raises(ValueError):
        synthesise(text, language, tmp_path / "x.ogg")

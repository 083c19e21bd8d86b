"""The audio ballot's player side: the clip library from the election package, a small Player port (a fake that
records what was played; the Kivy implementation is ``kiosk.ui.player.KivySoundPlayer``), and the clip queue with
interrupt semantics.

The queue plays one clip at a time through the player. ``say`` takes an ``Interrupt``: FLUSH (a new
screen: stop, drop everything, play these), FRONT (a selection change: stop the current clip, play these,
then the rest) or APPEND. ``replay`` re-queues the current screen's clips. Pause stops the current clip;
resume plays it again from its start (a clip is one short phrase). Rate (``tempo.RATE_STEPS``, pitch
kept) and volume (10 steps) apply from the next clip and to the playing clip respectively, and are reset
for every voter.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from election.audio_clips import ClipIndex
from election.manifest import CandidateId, Language, Manifest
from kiosk.accessibility.prompts import Clips, Interrupt
from kiosk.accessibility.tempo import DEFAULT_RATE_STEP, TempoCache, TempoError, clamp_rate_step, rate_at
from kiosk.session.model import ClipId

log = logging.getLogger(__name__)

VOLUME_STEPS = 10
DEFAULT_VOLUME_STEP = 6


def volume_at(step: int) -> float:
    return clamp_volume_step(step) / VOLUME_STEPS


def clamp_volume_step(step: int) -> int:
    return max(1, min(VOLUME_STEPS, step))


# ---- where clips come from ------------------------------------------------------------------------------


class ClipSource(Protocol):
    def path(self, clip: ClipId, language: Language, rate: float) -> Path | None:
        """A playable file for ``clip`` at ``rate``, or None if the package has no such clip."""


class ClipLibrary:
    """Clips of a loaded election package, written out to ``cache_dir`` on first use (SDL2_mixer plays
    files, not bytes), with rate variants from a ``TempoCache``."""

    def __init__(
        self,
        files: Mapping[str, bytes],
        index: ClipIndex,
        manifest: Manifest,
        cache_dir: Path,
        tempo: TempoCache | None = None,
    ) -> None:
        self._files = files
        self.index = index
        self._candidates = {k.id: k for c in manifest.contests for k in c.candidates}
        self._dir = cache_dir / "clips"
        self._tempo = tempo or TempoCache(cache_dir / "tempo")

    def package_path(self, clip: ClipId, language: Language) -> str | None:
        kind, _, key = clip.partition(":")
        if kind == "cand":
            candidate = self._candidates.get(CandidateId(key))
            return candidate.audio.in_language(language) if candidate else None
        entry = self.index.clips.get(clip)
        if entry is None or not entry.text.in_language(language):
            return None
        return entry.path(language)

    def path(self, clip: ClipId, language: Language, rate: float) -> Path | None:
        inside = self.package_path(clip, language)
        if inside is None or inside not in self._files:
            return None
        target = self._dir / inside
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(self._files[inside])
        try:
            return self._tempo.variant(target, rate)
        except TempoError as exc:
            log.warning("%s; playing %s at the normal rate", exc, clip)
            return target


# ---- the player port --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Playback:
    clip: ClipId
    language: Language
    path: Path
    rate: float
    volume: float


class Player(Protocol):
    def play(self, item: Playback, on_end: Callable[[], None]) -> None:
        """Start playing; call ``on_end`` once when the clip finishes by itself (not after ``stop``)."""

    def stop(self) -> None: ...

    def set_volume(self, volume: float) -> None: ...


class FakePlayer:
    """Records every clip started; a test ends clips with ``finish`` (one) or ``drain`` (all queued)."""

    def __init__(self) -> None:
        self.started: list[Playback] = []
        self.stopped = 0
        self.volume_changes: list[float] = []
        self._on_end: Callable[[], None] | None = None

    @property
    def playing(self) -> Playback | None:
        return self.started[-1] if self._on_end is not None else None

    @property
    def clips(self) -> list[ClipId]:
        return [p.clip for p in self.started]

    def play(self, item: Playback, on_end: Callable[[], None]) -> None:
        self.started.append(item)
        self._on_end = on_end

    def stop(self) -> None:
        if self._on_end is not None:
            self.stopped += 1
        self._on_end = None

    def set_volume(self, volume: float) -> None:
        self.volume_changes.append(volume)

    def finish(self) -> None:
        on_end, self._on_end = self._on_end, None
        if on_end is not None:
            on_end()

    def drain(self, limit: int = 10_000) -> None:
        for _ in range(limit):
            if self._on_end is None:
                return
            self.finish()
        raise RuntimeError("the audio queue did not run dry")


# ---- the queue ---------------------------------------------------------------------------------------------


class AudioQueue:
    """Plays clips one after another with interrupt, replay, pause, rate and volume (see module doc)."""

    def __init__(self, player: Player, source: ClipSource) -> None:
        self.player = player
        self.source = source
        self.rate_step = DEFAULT_RATE_STEP
        self.volume_step = DEFAULT_VOLUME_STEP
        self.paused = False
        self._pending: deque[tuple[ClipId, Language]] = deque()
        self._current: tuple[ClipId, Language] | None = None
        self._screen: tuple[Clips, Language] = ((), Language.ARABIC)
        self._token = 0
        self.missing: set[tuple[ClipId, Language]] = set()

    @property
    def rate(self) -> float:
        return rate_at(self.rate_step)

    @property
    def volume(self) -> float:
        return volume_at(self.volume_step)

    @property
    def busy(self) -> bool:
        return self._current is not None or bool(self._pending)

    @property
    def screen_clips(self) -> Clips:
        return self._screen[0]

    def say(
        self, clips: Clips, language: Language, interrupt: Interrupt = Interrupt.FLUSH, *, screen: bool = False
    ) -> None:
        if screen:
            self._screen = (clips, language)
        items = [(c, language) for c in clips]
        if interrupt is Interrupt.APPEND:
            self._pending.extend(items)
        else:
            if interrupt is Interrupt.FLUSH:
                self._pending.clear()
            self._pending.extendleft(reversed(items))
            self._stop_current()
        self.paused = False if interrupt is not Interrupt.APPEND else self.paused
        self._advance()

    def replay(self) -> None:
        clips, language = self._screen
        self.say(clips, language, Interrupt.FLUSH)

    def toggle_pause(self) -> None:
        if self.paused:
            self.resume()
        else:
            self.pause()

    def pause(self) -> None:
        if self.paused:
            return
        self.paused = True
        if self._current is not None:
            self._pending.appendleft(self._current)  # resume plays it again from its start
            self._stop_current()

    def resume(self) -> None:
        self.paused = False
        self._advance()

    def change_rate(self, delta: int) -> int:
        self.rate_step = clamp_rate_step(self.rate_step + delta)
        return self.rate_step

    def change_volume(self, delta: int) -> int:
        self.volume_step = clamp_volume_step(self.volume_step + delta)
        self.player.set_volume(self.volume)
        return self.volume_step

    def silence(self) -> None:
        """Stop and forget everything queued (audio turned off)."""
        self._pending.clear()
        self._stop_current()

    def reset(self) -> None:
        """A new voter: silence, default rate and volume, nothing to replay."""
        self.silence()
        self.paused = False
        self.rate_step = DEFAULT_RATE_STEP
        self.volume_step = DEFAULT_VOLUME_STEP
        self._screen = ((), Language.ARABIC)

    # ---- internals -------------------------------------------------------------------------------------

    def _stop_current(self) -> None:
        if self._current is not None:
            self._token += 1
            self._current = None
            self.player.stop()

    def _advance(self) -> None:
        while self._current is None and self._pending and not self.paused:
            clip, language = self._pending.popleft()
            path = self.source.path(clip, language, self.rate)
            if path is None:
                if (clip, language) not in self.missing:
                    log.warning("no %s audio clip %s in the election package", language.value, clip)
                    self.missing.add((clip, language))
                continue
            self._token += 1
            self._current = (clip, language)
            self.player.play(Playback(clip, language, path, self.rate, self.volume), self._end_callback(self._token))

    def _end_callback(self, token: int) -> Callable[[], None]:
        return lambda: self._ended(token)

    def _ended(self, token: int) -> None:
        if token != self._token:
            return
        self._current = None
        self._advance()

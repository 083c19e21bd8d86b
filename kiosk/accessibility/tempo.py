"""Speech-rate variants of the audio clips: about 50% to 200% in steps, pitch kept (VVSG 2.0 ch. 7).

SDL2_mixer (Kivy's SoundLoader) cannot change the playback rate, and resampling would change the pitch,
so each clip is re-rendered with sox's ``tempo`` effect (WSOLA: duration changes, pitch stays) the first
time it is needed at a rate, into a cache on the kiosk. Pre-rendering in the election package was ruled
out: the national package has ~2,500 clips, and eight rates would mean ~20,000 files, the package's
member limit. Rendering one clip takes tens of milliseconds (bench/bench_accessibility.py), so the
current screen's clips are rendered when the voter changes the rate, and the rest on first use.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

RATE_STEPS: tuple[float, ...] = (0.5, 0.65, 0.8, 1.0, 1.25, 1.5, 1.75, 2.0)
DEFAULT_RATE_STEP = RATE_STEPS.index(1.0)
_TIMEOUT_S = 30


class TempoError(RuntimeError):
    """sox is missing or failed to render a rate variant; the clip is then played at the normal rate."""


def rate_at(step: int) -> float:
    return RATE_STEPS[clamp_rate_step(step)]


def clamp_rate_step(step: int) -> int:
    return max(0, min(len(RATE_STEPS) - 1, step))


class TempoCache:
    """Rate variants of clip files, rendered with sox on demand and kept in ``cache_dir``.

    Variants are keyed by the source's content hash and the rate, so a clip shared by two paths is
    rendered once and a changed package never reuses a stale variant.
    """

    def __init__(self, cache_dir: Path, *, sox: str | None = None) -> None:
        self.cache_dir = cache_dir
        self._sox = sox
        self._keys: dict[Path, str] = {}

    def _sox_path(self) -> str:
        if self._sox is None:
            found = shutil.which("sox")
            if found is None:
                raise TempoError("sox is not installed: speech-rate changes are not available")
            self._sox = found
        return self._sox

    def _key(self, source: Path) -> str:
        key = self._keys.get(source)
        if key is None:
            key = hashlib.sha256(source.read_bytes()).hexdigest()[:32]
            self._keys[source] = key
        return key

    def variant_path(self, source: Path, rate: float) -> Path:
        return self.cache_dir / f"{self._key(source)}-x{round(rate * 100):03d}.ogg"

    def is_rendered(self, source: Path, rate: float) -> bool:
        return rate == 1.0 or self.variant_path(source, rate).exists()

    def variant(self, source: Path, rate: float) -> Path:
        """The clip at ``rate`` (the source itself at 1.0), rendering it if it is not cached yet."""
        if rate == 1.0:
            return source
        target = self.variant_path(source, rate)
        if target.exists():
            return target
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.cache_dir, prefix=".tempo-", suffix=".ogg")
        os.close(fd)
        argv = [self._sox_path(), "-R", str(source), "-C", "1", tmp_name, "tempo", "-s", f"{rate:.2f}"]
        try:
            result = subprocess.run(argv, capture_output=True, timeout=_TIMEOUT_S, check=False)
            if result.returncode != 0:
                raise TempoError(f"sox tempo failed for {source.name}: {result.stderr.decode('utf-8', 'replace')}")
            os.replace(tmp_name, target)
        except subprocess.TimeoutExpired:
            raise TempoError(f"sox tempo did not finish within {_TIMEOUT_S} s for {source.name}") from None
        finally:
            Path(tmp_name).unlink(missing_ok=True)
        return target

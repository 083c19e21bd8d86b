"""Drive the real Kivy app step by step from a script (screenshots, offscreen UI tests, benchmarks).

A script is a generator run on the Kivy clock: each ``yield`` lets Kivy draw (a few frames) and delivers
any results that the port calls posted back, so what follows sees the screen a voter would see.
Blocking port calls go to a ``ManualWorker`` so a script can also photograph the "please wait" screens.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterator
from typing import Any

Script = Generator[Any, None, None]


class ManualWorker:
    """Queues blocking work; ``auto`` runs it at once (still off the dispatch call stack)."""

    def __init__(self, *, auto: bool = True) -> None:
        self.auto = auto
        self._queue: deque[Callable[[], None]] = deque()

    def __call__(self, work: Callable[[], None]) -> None:
        self._queue.append(work)

    def run_pending(self) -> int:
        done = 0
        while self._queue:
            self._queue.popleft()()
            done += 1
        return done


def run_script(app: Any, script: Iterator[Any], worker: ManualWorker, *, frames: int = 2) -> list[BaseException]:
    """Run ``script`` inside ``app`` (which must not be running yet); returns errors raised by the script.

    Each ``yield`` waits ``frames`` frames after all queued work and posted results have settled.
    """
    from kivy.clock import Clock

    errors: list[BaseException] = []
    state = {"wait": frames}

    def tick(_dt: float) -> None:
        if worker.auto and worker.run_pending():
            state["wait"] = frames
            return
        if state["wait"] > 0:
            state["wait"] -= 1
            return
        try:
            next(script)
            state["wait"] = frames
        except StopIteration:
            event.cancel()
            app.stop()
        except BaseException as exc:
            errors.append(exc)
            event.cancel()
            app.stop()

    event = Clock.schedule_interval(tick, 0)
    app.run()
    return errors


def snapshot_png(path: str) -> None:
    """Save the last drawn frame of the window as a PNG (read back with OpenGL, encoded with Pillow:
    Kivy's own writers go through slow Python loops)."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    width, height = (int(v) for v in Window.size)
    data = glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)
    image = Image.frombytes("RGB", (width, height), bytes(data))
    image.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(path, compress_level=3)

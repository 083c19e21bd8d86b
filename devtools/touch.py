"""The one touch robot: drive the real Kivy app step by step from a script (screenshots, offscreen UI tests,
benchmarks, the election day's scripted voters) and touch what a voter sees.

origin: kiosk/scripted.py, with the touching that tests/ui/kiosk_journeys.py and
devtools/election_day/kivy_voters.py each repeated (``widget_by_key``, ``steady``, ``scroll_into_view``, ``tap``).

A script is a generator run on the Kivy clock: each ``yield`` lets Kivy draw (a few frames) and delivers
any results that the port calls posted back, so what follows sees the screen a voter would see.
Blocking port calls go to a ``ManualWorker`` so a script can also photograph the "please wait" screens.
"""

from __future__ import annotations

import time
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


def run_script(
    app: Any, script: Iterator[Any], worker: ManualWorker | None = None, *, frames: int = 2
) -> list[BaseException]:
    """Run ``script`` inside ``app`` (which must not be running yet); returns errors raised by the script.

    Each ``yield`` waits ``frames`` frames after all queued work and posted results have settled.
    """
    from kivy.clock import Clock

    errors: list[BaseException] = []
    state = {"wait": frames}

    def tick(_dt: float) -> None:
        if worker is not None and worker.auto and worker.run_pending():
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


# ---- finding and touching what a voter sees -------------------------------------------------------------


def current_screen(app: Any) -> Any:
    return app.root.ids.sm.current_screen


def walk(widget: Any) -> Iterator[Any]:
    yield widget
    for child in widget.children:
        yield from walk(child)


def is_visible(widget: Any) -> bool:
    """Shown to the voter: not hidden, not disabled, on the window, inside every scrolled viewport."""
    from kivy.core.window import Window
    from kivy.uix.scrollview import ScrollView

    x, y = widget.to_window(*widget.center)
    node = widget
    while node is not None and node is not node.parent:
        if node.opacity <= 0 or getattr(node, "disabled", False):
            return False
        if isinstance(node, ScrollView) and node is not widget:
            left, bottom = node.to_window(node.x, node.y)
            if not (left <= x <= left + node.width and bottom <= y <= bottom + node.height):
                return False  # scrolled out of view
        node = node.parent
    on_window: bool = 0 <= x <= Window.width and 0 <= y <= Window.height
    return on_window and widget.width > 0 and widget.height > 0


def visible_texts(app: Any) -> list[str]:
    """Every non-empty text the voter can see now (current screen, top bar, warning)."""
    texts = []
    for widget in walk(app.root):
        text = getattr(widget, "text", "")
        if isinstance(text, str) and text and is_visible(widget):
            texts.append(text)
    return texts


def find_text(app: Any, text: str, *, within: Any = None) -> Any:
    """The visible widget showing exactly ``text`` (a button or label); raises LookupError if none."""
    for widget in walk(within or app.root):
        if getattr(widget, "text", None) == text and is_visible(widget):
            return widget
    raise LookupError(f"nothing visible reads {text!r}; visible: {visible_texts(app)[:40]}")


def press(widget: Any) -> None:
    """Touch the middle of ``widget`` as a finger would (down then up through the window)."""
    from kivy.tests.common import UnitTestTouch

    x, y = widget.to_window(*widget.center)
    touch = UnitTestTouch(x, y)
    touch.touch_down()
    touch.touch_up()


def widget_by_key(app: Any, key: str) -> Any:
    """The enabled widget the accessible controller knows as ``key`` (its ``focus_key``), current screen first;
    raises LookupError if none."""
    for root in (current_screen(app), app.root):
        for w in walk(root):
            keys = getattr(w, "focus_key", "")
            if isinstance(keys, str) and key in keys.split("|") and not getattr(w, "disabled", False):
                return w
    raise LookupError(f"nothing on the screen for {key!r}")


def steady(widget: Any, frames: int = 30) -> Iterator[None]:
    """Wait until ``widget`` stays put between two frames (a screen just built is still being laid out)."""
    last = None
    for _ in range(frames):
        where = (tuple(widget.to_window(*widget.center)), tuple(widget.size))
        if where == last:
            return
        last = where
        yield


def scroll_into_view(widget: Any) -> bool:
    """Scroll the ScrollView holding ``widget`` to it, as a voter scrolls to what they look for; False if no
    ScrollView holds it."""
    from kivy.uix.scrollview import ScrollView

    node = widget.parent
    while node is not None and not isinstance(node, ScrollView):
        node = node.parent
    if node is None:
        return False
    node.scroll_to(widget, padding=10, animate=False)
    return True


def tap(widget: Any, wait_s: float, *, by_widget: bool = False) -> Generator[None, None, bool]:
    """A finger on ``widget`` (or, ``by_widget``, its ``on_release`` dispatched as the touch would); True once the
    press reached it, False if it did not within ``wait_s`` (a layout still moving, a screen transition that drops
    touches, a ScrollView that took the touch for the start of a scroll: it replays a tap ~0.25 s later). A widget
    without ``on_release`` (a label inside a card: the card takes the touch) is touched once and counts as reached.
    """
    if not widget.is_event_type("on_release"):
        press(widget)
        yield
        return True
    reached: list[bool] = []

    def hit(*_args: Any) -> None:
        reached.append(True)

    widget.fbind("on_release", hit)
    if by_widget:
        widget.dispatch("on_release")
    else:
        press(widget)
    deadline = time.monotonic() + wait_s
    yield
    while not reached and time.monotonic() < deadline:
        yield
    widget.funbind("on_release", hit)
    return bool(reached)

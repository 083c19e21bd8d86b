"""Wire the accessibility shell into the running Kivy kiosk app (import only after Kivy is configured).

``attach(app, shell)`` before ``app.run()``: the shell becomes the session driver's speaker (audio
hook) and one of its listeners, keys from the window go to the accessible controller and the two
switches, a clock ticks the auto-scan, and a black layer over the whole window is the privacy screen.
The app's own key handling (demo keys) is untouched: keys the shell does not use pass through.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from election.audio_clips import CLIP_INDEX, ClipIndex
from election.manifest import Manifest
from kiosk.accessibility import display
from kiosk.accessibility.audio import AudioQueue, ClipLibrary, Player
from kiosk.accessibility.prompts import PromptContext
from kiosk.accessibility.shell import AccessibilityShell
from kiosk.ui.player import KivySoundPlayer

TICK_S = 0.1
PRIVACY_KEY = "b"
"""Blank/unblank the screen (the privacy screen) from the controller or a staff keyboard."""


def shell_for_package(
    manifest: Manifest,
    files: Mapping[str, bytes],
    cache_dir: Path,
    audit: Any,
    *,
    player: Player | None = None,
    inactivity_end_s: float = 30.0,
) -> AccessibilityShell:
    """An accessibility shell speaking the clips of a loaded election package."""
    index = ClipIndex.from_json(files[CLIP_INDEX])
    library = ClipLibrary(files, index, manifest, cache_dir)
    queue = AudioQueue(player or KivySoundPlayer(), library)
    ctx = PromptContext(manifest, index.strings, inactivity_end_s)
    return AccessibilityShell(ctx=ctx, queue=queue, dispatch=lambda _e: None, audit=audit.record)


def attach(app: Any, shell: AccessibilityShell, *, clock: Any = time.monotonic) -> None:
    """Hook ``shell`` into ``app`` (a ``kiosk.ui.app.KioskApp`` not yet running)."""
    app.services.speaker = shell

    def on_start(*_: object) -> None:
        from kivy.clock import Clock
        from kivy.core.window import Window

        driver = app.driver
        shell.dispatch = app.send
        driver.listeners.append(shell.on_state)
        shell.on_state(driver.state)
        overlay = _privacy_overlay()

        def on_change() -> None:
            _show_privacy(app, overlay, shell.privacy)
            _show_focus(app, shell)

        shell.on_change = on_change

        def key_down(_window: Any, key: int, _scancode: int, text: str | None, _mods: list[str]) -> bool:
            name = Window._system_keyboard.keycode_to_string(key) or (text or "")
            if name == PRIVACY_KEY:
                shell.toggle_privacy()
                return True
            return shell.on_key_name(name, clock())

        Window.bind(on_key_down=key_down)
        Clock.schedule_interval(lambda _dt: shell.tick(clock()), TICK_S)

    app.bind(on_start=on_start)


def _show_focus(app: Any, shell: AccessibilityShell) -> list[Any]:
    """Outline the focused item on the window: the current screen and the top bar's language switch
    (visible focus for sighted controller and switch users); returns the widgets now marked focused."""
    from kiosk.ui.screens.widgets import paint_focus

    root = getattr(app, "root", None)
    if root is None or shell.state is None:
        return []
    colour = list(display.kivy_rgba(display.FOCUS[shell.state.settings.theme]))
    return paint_focus(root, shell.focused_key, colour)


def _privacy_overlay() -> Any:
    from kivy.graphics import Color, Rectangle
    from kivy.uix.widget import Widget

    overlay = Widget()
    with overlay.canvas:
        Color(0, 0, 0, 1)
        rect = Rectangle(pos=overlay.pos, size=overlay.size)
    overlay.bind(pos=lambda w, v: setattr(rect, "pos", v), size=lambda w, v: setattr(rect, "size", v))
    # Touches on the blank screen are swallowed: a helper cannot act on a screen they cannot see either.
    overlay.on_touch_down = lambda touch: True
    return overlay


def _show_privacy(app: Any, overlay: Any, on: bool) -> None:
    from kivy.core.window import Window

    if on and overlay.parent is None:
        overlay.size = Window.size
        Window.add_widget(overlay)
    elif not on and overlay.parent is not None:
        Window.remove_widget(overlay)

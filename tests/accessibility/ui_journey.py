"""Run the real kiosk app offscreen with the accessibility shell attached, and complete a ballot with
controller keys sent to the window; print a JSON report (phases, clips heard, touch targets).

Run by tests/accessibility/test_ui.py in a subprocess (Kivy runs one app per process)."""

from __future__ import annotations

import json
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))


def main() -> None:
    from devtools.kiosk_worlds import demo_world
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=True)
    from kivy.core.window import Window

    from devtools.touch import ManualWorker, run_script
    from kiosk.accessibility.audio import FakePlayer
    from kiosk.session import events as ev
    from kiosk.session.model import TextSize
    from kiosk.ui.app import KioskApp
    from kiosk.ui.kivy_shell import attach, shell_for_package
    from tests.accessibility.harness import INDEX, package_files

    world = demo_world()
    worker = ManualWorker()
    world.services.run_blocking = worker
    app = KioskApp(world.services, show_demo_panel=False)
    files = {**package_files(world.services.manifest, INDEX), "audio/clips.json": INDEX.to_json()}
    player = FakePlayer()
    shell = shell_for_package(
        world.services.manifest, files, Path(tempfile.mkdtemp()), world.services.audit, player=player
    )
    now = [0.0]
    attach(app, shell, clock=lambda: now[0])
    steps: list[dict[str, object]] = []
    found: list[dict[str, object]] = []
    seen = [0]
    codes = {"up": 273, "down": 274, "right": 275, "left": 276, "enter": 13, "b": 98}

    def press(name: str) -> None:
        Window.dispatch("on_key_down", codes[name], 0, None, [])

    def heard() -> list[str]:
        player.drain()
        start, seen[0] = seen[0], len(player.clips)
        return [str(c) for c in player.clips[start:]]

    def outlined() -> list[dict[str, object]]:
        """The widgets drawn with the focus outline on the current screen (what a sighted voter sees)."""
        from kiosk.ui.screens.widgets import Focusable

        return [
            {"key": w.focus_key, "rgba": [round(c, 3) for c in w.focus_rgba]}
            for w in app.root.walk(restrict=True)
            if isinstance(w, Focusable) and w.focused
        ]

    def step(name: str) -> None:
        assert app.driver is not None
        steps.append(
            {
                "step": name,
                "phase": app.driver.state.phase.value,
                "heard": heard(),
                "focus": shell.focused_key,
                "outlined": outlined(),
            }
        )

    def targets(screen: str) -> None:
        from kivy.uix.behaviors import ButtonBehavior

        def walk(w):
            yield w
            for c in w.children:
                yield from walk(c)

        for w in walk(app.root):
            if isinstance(w, ButtonBehavior) and w.opacity > 0 and not w.disabled and w.get_root_window() is not None:
                found.append({"screen": screen, "text": getattr(w, "text", "")[:30], "w": w.width, "h": w.height})

    def widget(key: str):
        from kiosk.ui.screens.widgets import Focusable

        return next(w for w in app.root.walk(restrict=True) if isinstance(w, Focusable) and w.focus_key == key)

    def level_labels() -> list[str]:
        from kiosk.ui.screens.widgets import KLabel
        from kiosk.ui_text import plain

        shown = (plain(w.text) for w in app.root.walk(restrict=True) if isinstance(w, KLabel))  # isolates aside
        return [t for t in shown if re.fullmatch(r"\d+ \S+ \d+", t)]  # "5 of 8" / "5 من 8"

    levels: dict[str, object] = {}

    def script():
        yield
        press("down")  # first key on the attract screen: audio on, the attract screen is read
        yield
        step("attract_audio_on")
        press("down")
        yield
        step("focus_attract_audio")
        press("down")
        yield
        step("focus_attract_language")
        world.deck.insert_next_voter()
        yield
        step("audio_on")
        press("enter")
        yield
        step("focus_pin_1")
        press("enter")
        yield
        for digit in (2, 3, 4):
            press("down")
            yield
            step(f"focus_pin_{digit}")
            press("enter")
            yield
        for _ in range(8):
            press("down")
            yield
        press("enter")
        yield
        step("pin_done")
        # The on-screen controls a touch voter listening with headphones uses: speech rate and volume.
        before = shell.levels()
        widget("rate.up").dispatch("on_release")
        yield
        step("rate_up")
        widget("volume.down").dispatch("on_release")
        yield
        step("volume_down")
        levels.update(before=before, after=shell.levels(), labels=level_labels())
        for size in TextSize:
            app.send(ev.ChooseTextSize(size))
            yield
            targets(f"accessibility/{size.value}")
        app.send(ev.ChooseTextSize(TextSize.NORMAL))
        yield
        heard()
        press("down")
        yield
        step("focus_access_continue")
        press("down")
        yield
        step("focus_access_audio")
        press("up")
        yield
        press("enter")  # continue
        yield
        step("ballot")
        for size in TextSize:
            app.send(ev.ChooseTextSize(size))
            yield
            targets(f"ballot/{size.value}")
        heard()
        press("down")
        yield
        step("focus_candidate")
        press("enter")
        yield
        step("chose_first")
        press("b")
        yield
        step("privacy_on")
        privacy.append(shell.privacy)
        press("b")
        yield
        press("right")  # the only contest: on to the review
        yield
        step("review")
        press("enter")
        yield
        press("enter")
        yield
        press("enter")
        yield
        press("enter")
        yield
        step("cast")

    privacy: list[bool] = []
    errors = run_script(app, script(), worker)
    report: dict[str, object] = {"steps": steps, "targets": found, "privacy": privacy == [True]}
    report["errors"] = [repr(e) for e in errors]
    report["levels"] = levels
    report["cast"] = world.ballots.cast_count
    report["missing"] = sorted(f"{c}/{lang.value}" for c, lang in shell.queue.missing)
    print("REPORT " + json.dumps(report))


if __name__ == "__main__":
    main()

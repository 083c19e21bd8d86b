"""Screenshots of every display mode (3 themes x 4 text sizes) of the ballot screen, in Arabic and English,
plus the accessibility options screen and the privacy (blank) screen.

    python -m devtools.screenshots_accessibility [--out docs/screenshots/accessibility]

Runs the real kiosk app offscreen over the demo election and fake cards (as devtools.screenshots does), one
process per language so that Kivy's global state starts clean.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
DEFAULT_OUT = REPO / "docs" / "screenshots" / "accessibility"


def _script(app: Any, world: Any, shell: Any, out: Path, lang: str) -> Iterator[None]:
    from election.manifest import Language
    from kiosk.session import events as ev
    from kiosk.session.model import TextSize, Theme

    def shot(name: str) -> None:
        from kivy.core.window import Window

        Window.screenshot(name=str(out / f"{lang}_{name}.png"))

    app.send(ev.ChooseLanguage(Language(lang)))
    yield
    world.deck.insert_next_voter()
    yield
    for d in "1234":
        app.send(ev.PinDigit(d))
    app.send(ev.PinSubmit())
    yield
    shot("accessibility_options")
    app.send(ev.Continue())
    yield
    contest = world.services.manifest.contests[0]
    app.send(ev.ToggleCandidate(contest.active_candidates[1].id))
    yield
    for theme in Theme:
        for size in TextSize:
            app.send(ev.ChooseTheme(theme))
            app.send(ev.ChooseTextSize(size))
            yield
            shot(f"ballot_{theme.value}_{size.value}")
    app.send(ev.ChooseTheme(Theme.STANDARD))
    app.send(ev.ChooseTextSize(TextSize.NORMAL))
    app.send(ev.ToggleAudio())
    yield
    # Visible focus: the accessible controller on the second candidate (the chosen one), in every theme.
    from kiosk.accessibility.input import Key

    shell.on_key(Key.DOWN)
    shell.on_key(Key.DOWN)
    yield
    for theme in Theme:
        app.send(ev.ChooseTheme(theme))
        yield
        shot(f"focus_{theme.value}")
    app.send(ev.ChooseTheme(Theme.STANDARD))
    yield
    shell.toggle_privacy()
    yield
    shot("privacy_screen")
    shell.toggle_privacy()
    yield
    world.deck.remove()
    yield


def render_language(lang: str, out: Path) -> None:
    sys.path.insert(0, str(REPO))
    from devtools.kiosk_worlds import demo_world
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=True)
    from devtools.touch import ManualWorker, run_script
    from kiosk.accessibility.audio import FakePlayer
    from kiosk.ui.app import KioskApp
    from kiosk.ui.kivy_shell import attach, shell_for_package
    from tools.audio_catalogue import clip_index

    out.mkdir(parents=True, exist_ok=True)
    worker = ManualWorker()
    world = demo_world()
    world.services.run_blocking = worker
    app = KioskApp(world.services, show_demo_panel=False)
    manifest = world.services.manifest
    index = clip_index(manifest)
    # Screenshots need no sound: the clip catalogue only, and a player that plays nothing.
    files = {"audio/clips.json": index.to_json()}
    shell = shell_for_package(manifest, files, Path(tempfile.mkdtemp()), world.services.audit, player=FakePlayer())
    attach(app, shell)
    errors = run_script(app, _script(app, world, shell, out, lang), worker)
    if errors:
        raise errors[0]
    for produced in out.glob(f"{lang}_*0001.png"):  # Window.screenshot appends a counter
        produced.rename(produced.with_name(produced.name.replace("0001.png", ".png")))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--lang", choices=["ar", "en"], help="one language in this process (internal)")
    args = parser.parse_args(argv)
    if args.lang:
        try:
            render_language(args.lang, args.out)
        except Exception:
            traceback.print_exc(file=sys.__stderr__)
            return 1
        return 0
    for lang in ("ar", "en"):
        cmd = [sys.executable, "-m", "devtools.screenshots_accessibility", "--out", str(args.out), "--lang", lang]
        if subprocess.run(cmd, check=False).returncode != 0:
            return 1
    print(f"wrote {len(list(args.out.glob('*.png')))} screenshots to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

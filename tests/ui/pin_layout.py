"""The PIN screen at one window size, offscreen, after a wrong PIN: where every key and text ended up.

Run by tests/ui/test_pin_layout.py in a process of its own (the window size is fixed when Kivy starts):
``python -m tests.ui.pin_layout RESULTS.json WIDTH HEIGHT [largest]``. Writes the geometry it measured; the
pytest side asserts on it. ``largest``: the voter first picks the largest text size.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from devtools.kiosk_worlds import demo_world  # noqa: E402
from run_kiosk import configure_kivy  # noqa: E402

WIDTH, HEIGHT = int(sys.argv[2]), int(sys.argv[3])
configure_kivy(offscreen=True, size=(WIDTH, HEIGHT))

from devtools.touch import current_screen, is_visible, run_script, snapshot_png  # noqa: E402
from election.manifest import Language  # noqa: E402
from kiosk.session import events as ev  # noqa: E402
from kiosk.session.model import Phase, TextSize  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from tests.ui.kiosk_journeys import Journey  # noqa: E402


def _box(widget: Any) -> list[float]:
    x, y = widget.to_window(widget.x, widget.y)
    return [float(x), float(y), float(widget.width), float(widget.height)]


def _measure(app: Any) -> dict[str, Any]:
    screen = current_screen(app)
    ids = screen.ids
    keys = list(ids.keypad.children)
    return {
        "side_by_side": bool(screen.side_by_side),
        "keys": [{"text": k.text, "box": _box(k), "visible": is_visible(k)} for k in keys],
        "warning": {"text": ids.wrong.text, "box": _box(ids.wrong), "visible": is_visible(ids.wrong)},
        "dots": {"box": _box(ids.dots), "visible": is_visible(ids.dots)},
        "title": {"box": _box(ids.title), "visible": is_visible(ids.title)},
    }


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    largest = "largest" in argv[3:]
    world = demo_world()
    app = KioskApp(world.services, show_demo_panel=False)
    j = Journey(app, world)
    result: dict[str, Any] = {"size": [WIDTH, HEIGHT], "largest": largest}

    def script() -> Iterator[None]:
        yield from j.until(lambda: app.ready, "start-up")
        world.deck.insert_next_voter()
        yield from j.at(Phase.PIN_ENTRY)
        if largest:
            app.send(ev.ChooseTextSize(TextSize.LARGEST))
        for language in (Language.ARABIC, Language.ENGLISH):
            app.send(ev.ChooseLanguage(language))
            yield from j.type_pin("9999")
            yield from j.at(Phase.PIN_ENTRY)
            yield from j.until(lambda: bool(current_screen(app).ids.wrong.text), "the wrong-PIN warning")
            for _ in range(5):  # let the layout settle
                yield
            result[language.value] = _measure(app)
            result[f"{language.value}_wrong_expected"] = j.t("pin.wrong", tries=2 if language is Language.ARABIC else 1)
        snapshot_png(str(out.with_suffix(".png")))
        yield from j.type_pin("1234")
        yield from j.until(lambda: j.phase not in (Phase.PIN_ENTRY, Phase.AUTHENTICATING), "the right PIN accepted")
        result["after_right_pin"] = j.phase.name
        world.deck.remove()
        yield from j.until(lambda: j.phase in (Phase.ATTRACT, Phase.CLOSED), "card removed")

    errors = run_script(app, script())
    if errors:
        result["_errors"] = [repr(e) for e in errors]
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

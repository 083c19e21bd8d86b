"""Every kiosk screen, in both languages and at every text size, in one window size: where each text, button and
photo ended up, what font it is drawn in, and whether each scrolled page shows that it goes on.

Run by tests/ui/test_screens_layout.py in a process of its own (the window size is fixed when Kivy starts):
``python -m tests.ui.screens_tour RESULTS.json WIDTH HEIGHT``. The real app over the demo election and fake cards,
moved from screen to screen by session events (the journeys elsewhere touch; this one measures). Writes one record
per (screen, language, text size); the pytest side asserts on them.
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

from kivy.core.text import LabelBase  # noqa: E402
from kivy.core.window import Window  # noqa: E402
from kivy.uix.image import Image  # noqa: E402
from kivy.uix.label import Label  # noqa: E402
from kivy.uix.scrollview import ScrollView  # noqa: E402

from devtools.touch import current_screen, run_script, snapshot_png  # noqa: E402
from election.manifest import Language  # noqa: E402
from kiosk.session import events as ev  # noqa: E402
from kiosk.session.model import Phase, TextSize  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from kiosk.ui.screens.widgets import KButton, MirrorRow, MoreBelow  # noqa: E402
from tests.ui.kiosk_journeys import Journey  # noqa: E402

Box = list[float]


def _box(w: Any) -> Box:
    x, y = w.to_window(w.x, w.y)
    return [float(x), float(y), float(w.width), float(w.height)]


def _intersect(a: Box, b: Box) -> Box | None:
    x0, y0 = max(a[0], b[0]), max(a[1], b[1])
    x1, y1 = min(a[0] + a[2], b[0] + b[2]), min(a[1] + a[3], b[1] + b[3])
    return [x0, y0, x1 - x0, y1 - y0] if x1 > x0 and y1 > y0 else None


def _shown(w: Any) -> tuple[bool, Box | None, bool]:
    """(drawn at all, the part of it not clipped by a scrolled page, whether it lies in a scrolled page)."""
    box: Box | None = _box(w)
    scrolled = False
    node = w
    while node is not None and node is not node.parent:
        if node.opacity <= 0 or (getattr(node, "disabled", False) and not isinstance(node, KButton)):
            return False, None, scrolled
        parent = node.parent
        if isinstance(parent, ScrollView) and box is not None:
            scrolled = True
            box = _intersect(box, _box(parent))
        node = parent
    return True, box, scrolled


def _font_file(w: Any) -> str:
    fonts = LabelBase._fonts.get(w.font_name)
    if fonts:
        return str(fonts[2] if getattr(w, "bold", False) else fonts[0])
    return str(w.font_name)


def _leaves(roots: list[Any]) -> list[dict[str, Any]]:
    out = []
    for root in roots:
        stack = [root]
        while stack:
            w = stack.pop()
            stack.extend(w.children)
            is_text = isinstance(w, Label) and bool(w.text)
            is_photo = isinstance(w, Image) and w.texture is not None
            if not (is_text or is_photo) or (isinstance(w, MoreBelow) and not w.text):
                continue
            drawn, clipped, scrolled = _shown(w)
            if not drawn or w.width <= 0 or w.height <= 0:
                continue
            entry: dict[str, Any] = {
                "kind": "text" if is_text else "photo",
                "text": w.text if is_text else "",
                "box": _box(w),
                "clipped": clipped,
                "scrolled": scrolled,
                "id": id(w),
                "ancestors": [],
            }
            node = w.parent
            while node is not None and node is not node.parent:
                entry["ancestors"].append(id(node))
                node = node.parent
            if is_text:
                entry["texture"] = [float(v) for v in w.texture_size]
                entry["text_width"] = float(w.text_size[0]) if w.text_size[0] else float(w.width)
                entry["font"] = _font_file(w)
                entry["button"] = isinstance(w, KButton)
            out.append(entry)
    return out


def _rows(screen: Any) -> list[list[float]]:
    """The heights of the buttons of each row of buttons (side by side in a MirrorRow)."""
    rows = []
    stack = [screen]
    while stack:
        w = stack.pop()
        stack.extend(w.children)
        if isinstance(w, MirrorRow):
            buttons = [c for c in w.children if isinstance(c, KButton) and c.opacity > 0 and c.width > 0]
            if len(buttons) >= 2:
                rows.append([float(b.height) for b in buttons])
    return rows


def _scrolls(screen: Any) -> list[dict[str, Any]]:
    cues = {}
    stack = [screen]
    while stack:
        w = stack.pop()
        stack.extend(w.children)
        if isinstance(w, MoreBelow) and w.scroll is not None:
            cues[tuple(_box(w.scroll))] = w  # (kv hands the cue a proxy of its page: matched by where it is)
    out = []
    stack = [screen]
    while stack:
        w = stack.pop()
        stack.extend(w.children)
        if isinstance(w, ScrollView) and w.children:
            content = w.children[0]
            cue = cues.get(tuple(_box(w)))
            out.append(
                {
                    "viewport": _box(w),
                    "content_height": float(content.height),
                    "overflows": content.height > w.height + 1,
                    "cue": cue is not None,
                    "cue_shown": bool(cue is not None and cue.opacity > 0 and cue.text and cue.height > 0),
                    "bar_width": float(w.bar_width),
                    "at_top": w.scroll_y >= 0.99,
                }
            )
    return out


def measure(app: Any, name: str) -> dict[str, Any]:
    screen = current_screen(app)
    root = app.root
    return {
        "screen": name,
        "phase": app.driver.state.phase.value,
        "leaves": _leaves([screen, root.ids.topbar]),
        "rows": _rows(screen),
        "scrolls": _scrolls(screen),
        "topbar": _box(root.ids.topbar),
        "photos": [_box(w)[2:] for w in screen.walk() if isinstance(w, Image) and w.texture is not None],
        "window": [float(v) for v in Window.size],
    }


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    world = demo_world()
    app = KioskApp(world.services, show_demo_panel=False)
    j = Journey(app, world)
    records: list[dict[str, Any]] = []
    shots = out.parent / f"shots-{WIDTH}x{HEIGHT}"
    shots.mkdir(exist_ok=True)

    def settle() -> Iterator[None]:
        for _ in range(6):
            yield

    def every_setting(name: str) -> Iterator[None]:
        for language in Language:
            for size in TextSize:
                app.send(ev.ChooseLanguage(language))
                app.send(ev.ChooseTextSize(size))
                yield from settle()
                record = measure(app, name)
                record.update(language=language.value, size=size.value)
                records.append(record)
                if size is TextSize.LARGEST:
                    snapshot_png(str(shots / f"{name}-{language.value}-{size.value}.png"))

    def send(*events: ev.Event) -> Iterator[None]:
        for e in events:
            app.send(e)
            yield from settle()

    def pin() -> Iterator[None]:
        for d in "1234":
            app.send(ev.PinDigit(d))
        yield from send(ev.PinSubmit())

    def script() -> Iterator[None]:
        yield from j.until(lambda: app.ready, "start-up")
        records.append({**measure(app, "attract"), "language": "ar", "size": "normal"})
        yield from send(ev.ChooseLanguage(Language.ENGLISH))
        records.append({**measure(app, "attract"), "language": "en", "size": "normal"})
        yield from send(ev.ChooseLanguage(Language.ARABIC))
        # a voter of the first wilayat: every voter screen
        world.deck.insert_next_voter()
        yield from j.at(Phase.PIN_ENTRY)
        app.send(ev.PinDigit("9"))
        yield from every_setting("pin")
        app.send(ev.PinBackspace())
        yield from pin()
        yield from j.at(Phase.ACCESSIBILITY)
        yield from every_setting("accessibility")
        yield from send(ev.Continue())
        yield from j.at(Phase.BALLOT)
        contest = j.contest()
        yield from send(ev.ToggleCandidate(contest.active_candidates[0].id))
        yield from every_setting("ballot")
        yield from send(ev.GoToReview())
        yield from every_setting("review")
        yield from send(ev.SealBallot())
        yield from j.at(Phase.CAST_OR_CHALLENGE)
        yield from every_setting("cast_or_challenge")
        yield from send(ev.Challenge())
        yield from j.at(Phase.CHALLENGE_RESULT)
        yield from every_setting("challenge_result")
        yield from send(ev.Continue(), ev.GoToReview())
        yield from j.at(Phase.REVIEW)
        yield from every_setting("review_blank")
        yield from send(ev.ConfirmBlank())
        yield from j.at(Phase.CAST_OR_CHALLENGE)
        yield from send(ev.Cast())
        yield from j.at(Phase.CONFIRMATION)
        yield from every_setting("confirmation")
        world.deck.remove()
        yield from j.at(Phase.ATTRACT)
        # voters of the other wilayats: their ballots (one has a withdrawn candidate)
        for _ in range(len(world.services.manifest.wilayats) - 1):
            world.deck.insert_next_voter()
            yield from j.at(Phase.PIN_ENTRY)
            yield from pin()
            yield from j.at(Phase.ACCESSIBILITY)
            yield from send(ev.Continue())
            yield from j.at(Phase.BALLOT)
            yield from every_setting(f"ballot_{j.contest().id}")
            world.deck.remove()
            yield from j.at(Phase.ATTRACT)
        # the first voter again: already voted
        world.deck.position = 0
        world.deck.insert_next_voter()
        yield from j.at(Phase.PIN_ENTRY)
        yield from pin()
        yield from j.at(Phase.NOTICE)
        yield from every_setting("notice")
        world.deck.remove()
        yield from j.at(Phase.ATTRACT)
        # staff: the menu, the close confirmation, a report
        world.deck.insert_staff()
        yield from j.at(Phase.PIN_ENTRY)
        yield from pin()
        yield from j.at(Phase.STAFF_MENU)
        yield from every_setting("staff")
        screen = current_screen(app)
        screen._confirm(True)
        yield from every_setting("staff_confirm_close")
        screen._confirm(False)
        yield from send(ev.StaffChoose(ev.StaffAction.STATUS))
        yield from j.at(Phase.STAFF_REPORT)
        yield from every_setting("staff_report")
        world.deck.remove()
        yield from j.at(Phase.ATTRACT)

    errors = run_script(app, script())
    result: dict[str, Any] = {"records": records}
    if errors:
        import traceback

        result["_errors"] = ["".join(traceback.format_exception(e)) for e in errors]
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

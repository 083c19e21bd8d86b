"""The kiosk app started, and a voter served, with Python's cyclic garbage collector made to run at the worst moments.

Run by tests/ui/test_kiosk_start_gc.py in its own process: ``python -m tests.ui.start_under_gc RESULTS.json``.

Kivy unbinds a widget's kv rules only when the widget is freed, and a widget the app has discarded is freed by the
cyclic collector whenever it happens to run. If that is while one of the widget's own rules runs, the rule writes
through a dead weak proxy: ``ReferenceError: weakly-referenced object no longer exists``, which once stopped the
polling-station kiosk from starting (under load; it depends on when the collector runs).

Two parts, each deterministic:

1. Start-up (the app as ``run_kiosk.py`` composes it, without the demo panel): a full collection at the start of every
   kv rule run from the end of ``build()`` to ``on_start``, while Kivy adds the root to the window and sizes it.
2. A voter and a staff member through every rebuilt screen, changing language and text size on each, with the
   collector off: a widget that left the screens during one step is discarded, and no kv rule may run on it after
   (each such run is a chance for the collector to free it mid-rule, as in part 1).
"""

from __future__ import annotations

import collections
import gc
import json
import sys
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from devtools.kiosk_worlds import demo_world  # noqa: E402
from run_kiosk import configure_kivy  # noqa: E402

configure_kivy(offscreen=True)

from kivy.core.window import Window  # noqa: E402
from kivy.lang import builder  # noqa: E402

from devtools.touch import run_script  # noqa: E402
from election.manifest import Language  # noqa: E402
from kiosk.session import events as ev  # noqa: E402
from kiosk.session.model import Phase, TextSize  # noqa: E402
from kiosk.ui.app import KioskApp  # noqa: E402
from tests.ui.kiosk_journeys import Journey  # noqa: E402

RULE_CODE = builder.call_fn.__code__
"""What Kivy runs when a property a kv rule reads changes (it sets the rule's property)."""


def _rule_args(frame: Any, event: str) -> tuple[Any, Any] | None:
    """(the rule's target, the rule) when ``frame`` starts a kv rule run."""
    if event != "call" or frame.f_code is not RULE_CODE:
        return None
    element, _key, _value, rule, _idmap = frame.f_locals["args"]
    return element, rule


class StartApp(KioskApp):
    """The kiosk app, with a full collection at the start of every kv rule run from the end of build() to on_start
    (while Kivy adds the root to the window and sizes it: where the kiosk failed to start)."""

    rules_during_start = 0

    def _collect_at_rules(self, frame: Any, event: str, _arg: Any) -> None:
        if _rule_args(frame, event) is not None:
            self.rules_during_start += 1
            gc.collect()

    def build(self) -> Any:
        root = super().build()
        sys.setprofile(self._collect_at_rules)
        return root

    def on_start(self) -> None:
        sys.setprofile(None)
        super().on_start()


def _live_widgets(app: Any) -> set[int]:
    """The uids of every widget in the window or on one of the screens (the screen not shown included)."""
    roots = [*Window.children, *app.root.ids.sm.screens]
    return {w.uid for r in roots for w in r.walk(restrict=True)}


def main(argv: list[str]) -> int:
    out = Path(argv[0])
    world = demo_world()
    app = StartApp(world.services, show_demo_panel=False)
    j = Journey(app, world)
    r: dict[str, Any] = {"started": False}
    discarded: set[int] = set()
    runs_on_discarded: collections.Counter[str] = collections.Counter()

    def watch_discarded(frame: Any, event: str, _arg: Any) -> None:
        args = _rule_args(frame, event)
        if args is None:
            return
        element, rule = args
        try:
            uid = element.uid
        except ReferenceError:
            uid = None  # freed, with the collector off: counted below as what part 1 guards against
        if uid is None or uid in discarded:
            runs_on_discarded[f"{Path(rule.ctx.filename).name}:{rule.line + 1} {element.__class__.__name__}"] += 1

    def step(*events: ev.Event) -> Iterator[None]:
        """Send ``events``, let the screens settle, and note what they discarded."""
        before = _live_widgets(app)
        for e in events:
            app.send(e)
            for _ in range(3):
                yield
        discarded.update(before - _live_widgets(app))

    def every_setting() -> Iterator[None]:
        for language in (Language.ENGLISH, Language.ARABIC):
            yield from step(ev.ChooseLanguage(language))
        yield from step(ev.ChooseTextSize(TextSize.LARGEST), ev.ChooseTextSize(TextSize.NORMAL))

    def pin() -> Iterator[None]:
        yield from step(*(ev.PinDigit(d) for d in "1234"), ev.PinSubmit())

    def script() -> Iterator[None]:
        yield from j.until(lambda: app.ready, "start-up")
        r["started"] = True
        r["rules_during_start"] = app.rules_during_start
        r["demo_panel_shown"] = any("F2: insert demo voter card" in getattr(w, "text", "") for w in app.root.walk())
        gc.collect()
        gc.disable()
        sys.setprofile(watch_discarded)
        yield from every_setting()
        world.deck.insert_next_voter()
        yield from j.at(Phase.PIN_ENTRY)
        yield from pin()
        yield from j.at(Phase.ACCESSIBILITY)
        yield from every_setting()
        yield from step(ev.Continue())
        yield from j.at(Phase.BALLOT)
        yield from every_setting()
        yield from step(ev.ToggleCandidate(j.contest().active_candidates[0].id), ev.GoToReview())
        yield from j.at(Phase.REVIEW)
        yield from every_setting()
        yield from step(ev.SealBallot())
        yield from j.at(Phase.CAST_OR_CHALLENGE)
        yield from step(ev.Challenge())
        yield from j.at(Phase.CHALLENGE_RESULT)
        yield from every_setting()
        yield from step(ev.Continue(), ev.GoToReview())
        yield from j.at(Phase.REVIEW)
        yield from step(ev.ConfirmBlank())
        yield from j.at(Phase.CAST_OR_CHALLENGE)
        yield from step(ev.Cast())
        yield from j.at(Phase.CONFIRMATION)
        yield from every_setting()
        world.deck.remove()
        yield from j.at(Phase.ATTRACT)
        world.deck.insert_staff()
        yield from j.at(Phase.PIN_ENTRY)
        yield from pin()
        yield from j.at(Phase.STAFF_MENU)
        yield from every_setting()
        yield from step(ev.StaffChoose(ev.StaffAction.STATUS))
        yield from j.at(Phase.STAFF_REPORT)
        yield from every_setting()
        world.deck.remove()
        yield from j.at(Phase.ATTRACT)
        yield from every_setting()
        sys.setprofile(None)
        gc.enable()
        r["discarded"] = len(discarded)
        r["runs_on_discarded"] = dict(runs_on_discarded.most_common(20))

    try:
        errors = run_script(app, script())
    except BaseException as exc:  # the app itself failed (at start-up: before the script could run)
        errors = [exc]
    finally:
        sys.setprofile(None)
        gc.enable()
    r["errors"] = ["".join(traceback.format_exception(e)) for e in errors]
    out.write_text(json.dumps(r, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The Kivy kiosk application: wiring only. The session decides, the screens paint, the ports do.

Import this module only after the Kivy environment is set (``run_kiosk.py`` and the UI tests do it):
``KIVY_TEXT=pil`` above all, because Arabic needs Pillow's raqm layout (shaping and bidi).
"""

from __future__ import annotations

import dataclasses
import importlib
import io
import logging
import math
import os
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.lang import Builder
from kivy.properties import BooleanProperty, ListProperty, NumericProperty, StringProperty
from kivy.uix.screenmanager import NoTransition

from election.manifest import CandidateId, Language
from kiosk.accessibility import display
from kiosk.driver import Ports, SessionDriver
from kiosk.services import KioskServices
from kiosk.session import SessionConfig, VoterSession, flow, initial_state
from kiosk.session import events as ev
from kiosk.session.model import Settings
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens import KV_DIR, SCREEN_MODULES
from kiosk.ui_text import ltr

log = logging.getLogger(__name__)

FONT_NAME = "Amiri"


def amiri_dir() -> Path:
    import fontpkg_amiri

    return Path(fontpkg_amiri.ROOT) / "files"


class TextStackError(RuntimeError):
    """Arabic cannot be rendered correctly on this machine; the kiosk must not start."""


def check_text_stack() -> None:
    """Fail loudly unless Kivy uses Pillow with raqm (shaping + bidi) and the shipped font is present."""
    from PIL import features

    if os.environ.get("KIVY_TEXT") != "pil":
        raise TextStackError("KIVY_TEXT=pil must be set before Kivy is imported (Arabic needs Pillow's layout)")
    if not features.check("raqm"):
        raise TextStackError("Pillow has no raqm layout: Arabic would be unshaped. Install libraqm0 and libfribidi0.")
    from kivy.core.text import Label as CoreLabel

    if CoreLabel.__name__ != "LabelPIL":
        raise TextStackError(f"Kivy text provider is {CoreLabel.__name__}, not Pillow")
    if not (amiri_dir() / "Amiri-Regular.ttf").is_file():
        raise TextStackError(f"the Amiri font is missing from {amiri_dir()}")


def cache_text_extents(maxsize: int = 20_000) -> None:
    """Memoise Pillow text measurement for Kivy's word wrapping (bounded).

    Kivy wraps a paragraph by measuring word after word, and Pillow+raqm measures every string from
    scratch (~0.4 ms each): a screen of Arabic paragraphs costs tens of thousands of measurements.
    The same strings recur on every screen change, so a bounded cache removes most of that work.
    """
    from functools import lru_cache

    from kivy.core.text.text_pil import LabelPIL

    if getattr(LabelPIL, "_sanduq_cached", False):
        return

    @lru_cache(maxsize=maxsize)
    def measure(font: Any, limit_to_bbox: bool, text: str) -> tuple[int, int]:
        # The same computation as LabelPIL.get_extents; fonts come from LabelPIL's own font cache.
        left, top, right, bottom = font.getbbox(text)
        ascent, descent = font.getmetrics()
        return right - left, (bottom - top) if limit_to_bbox else (ascent + descent)

    def get_extents(self: Any, text: str) -> tuple[int, int]:
        font = self._select_font()
        if not font:
            return 0, 0
        return measure(font, bool(self.options["limit_render_to_text_bbox"]), text)

    LabelPIL.get_extents = get_extents
    LabelPIL._sanduq_cached = True


@dataclasses.dataclass(frozen=True)
class StartAction:
    """One more button on the start screen, under the audio button, for a composition that needs it (the voter
    app's "My votes", remote/__main__.py). The kiosk passes none: its start screen is unchanged."""

    label_key: str
    """The button's text: a key of the services' catalogue."""
    run: Callable[[Language], None]
    """Called on the Kivy thread when the button is pressed, with the language on screen."""


class KivyScheduler:
    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        Clock.schedule_once(lambda _dt: callback(), seconds)


def _marshal(fn: Callable[[], None]) -> None:
    """Hand work to the Kivy thread (card monitor and worker threads call this)."""
    Clock.schedule_once(lambda _dt: fn(), 0)


class KioskApp(App):  # type: ignore[misc]
    font_name = StringProperty(FONT_NAME)
    fs = NumericProperty(display.font_px(Settings().text_size))
    rtl = BooleanProperty(True)
    halign = StringProperty("right")
    c_bg = ListProperty([1, 1, 1, 1])
    c_text = ListProperty([0, 0, 0, 1])
    c_muted = ListProperty([0, 0, 0, 1])
    c_button = ListProperty([1, 1, 1, 1])
    c_button_text = ListProperty([0, 0, 0, 1])
    c_primary = ListProperty([0, 0, 0, 1])
    c_primary_text = ListProperty([1, 1, 1, 1])
    c_selected = ListProperty([0, 0, 0, 1])
    c_selected_text = ListProperty([1, 1, 1, 1])
    c_warning = ListProperty([1, 1, 1, 1])
    c_warning_text = ListProperty([0, 0, 0, 1])
    c_border = ListProperty([0, 0, 0, 1])
    palette_version = NumericProperty(0)

    def __init__(
        self,
        services: KioskServices,
        *,
        show_demo_panel: bool = True,
        start_action: StartAction | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.services = services
        self.start_action = start_action
        self.show_demo_panel = show_demo_panel and services.demo is not None
        self.title = "Sanduq kiosk"
        self._photo_cache: dict[CandidateId, Any] = {}
        self._applied: Settings | None = None
        self._shown: SessionState | None = None
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="kiosk-io")
        self.driver: SessionDriver | None = None
        self.ready = False
        self._countdown: Any = None
        self._warning_since = 0.0

    # ---- start-up ---------------------------------------------------------------------------------

    def build(self) -> Any:
        check_text_stack()
        cache_text_extents()
        from kivy.core.text import LabelBase

        fonts = amiri_dir()
        LabelBase.register(
            FONT_NAME, fn_regular=str(fonts / "Amiri-Regular.ttf"), fn_bold=str(fonts / "Amiri-Bold.ttf")
        )
        # Importing the screen modules registers their widget classes with Kivy's Factory for the .kv rules.
        importlib.import_module("kiosk.ui.screens.widgets")
        screen_classes = {
            name: getattr(importlib.import_module(module), cls) for name, (module, cls) in SCREEN_MODULES.items()
        }
        from kiosk.ui.screens.root import KioskRoot
        from kiosk.ui.screens.widgets import discard

        Builder.load_file(str(KV_DIR / "widgets.kv"))
        for name in SCREEN_MODULES:
            Builder.load_file(str(KV_DIR / f"{name}.kv"))
        Builder.load_file(str(KV_DIR / "root.kv"))
        root = KioskRoot()
        sm = root.ids.sm
        sm.transition = NoTransition()
        for name, screen_class in screen_classes.items():
            sm.add_widget(screen_class(name=name))
        if not self.show_demo_panel:
            # Its rules (the position follows root.width) must go with it: see discard's docstring.
            discard(root.ids.demo)
            del root.ids["demo"]
        s = self.services
        ports = Ports(
            card=s.card,
            poll_book=s.poll_book,
            ballots=s.ballots,
            staff=s.staff,
            audit=s.audit,
            speaker=s.speaker,
            scheduler=KivyScheduler(),
        )
        config = s.config or SessionConfig(s.manifest)
        self.driver = SessionDriver(
            machine=VoterSession(config),
            state=initial_state(s.kiosk_mode),
            ports=ports,
            marshal=_marshal,
            run_blocking=self._run_blocking,
        )
        self.driver.listeners.append(self.render)
        self.driver.on_wiped.append(self._forget_voter)
        self._root = root
        Window.bind(on_keyboard=self._on_keyboard)
        if s.card_events is not None:
            s.card_events.start(self.driver.post)
        self.render(self.driver.state)
        Clock.schedule_once(self._mark_ready, 0)
        return root

    def _forget_voter(self) -> None:
        """Ballot secrecy: no screen keeps widgets showing the last voter's choices or code."""
        for screen in self._root.ids.sm.screens:
            forget = getattr(screen, "forget", None)
            if forget is not None:
                forget()

    def _mark_ready(self, _dt: float) -> None:
        self.ready = True

    def on_stop(self) -> None:
        if self.services.card_events is not None:
            self.services.card_events.stop()
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _run_blocking(self, work: Callable[[], None]) -> None:
        if self.services.run_blocking is not None:
            self.services.run_blocking(work)
        else:
            self._executor.submit(work)

    # ---- events in ----------------------------------------------------------------------------------

    def send(self, event: ev.Event) -> None:
        assert self.driver is not None
        self.driver.dispatch(event)

    def demo_key(self, what: str) -> None:
        demo = self.services.demo
        if demo is None:
            return
        actions: dict[str, Callable[[], str]] = {
            "voter": demo.insert_next_voter,
            "remove": demo.remove,
            "staff": demo.insert_staff,
        }
        admin = getattr(demo, "insert_admin", None)
        if admin is not None:
            actions["admin"] = admin
        if what in actions:
            log.info("demo: %s", actions[what]())

    def _on_keyboard(self, _window: Any, key: int, _scancode: int, _text: str | None, _mods: list[str]) -> bool:
        keys = {283: "voter", 284: "remove", 285: "staff", 286: "admin"}  # F2, F3, F4, F5
        if key in keys:
            self.demo_key(keys[key])
            return True
        return False

    # ---- painting -----------------------------------------------------------------------------------

    def photo_texture(self, candidate: CandidateId) -> Any:
        if candidate not in self._photo_cache:
            data = self.services.photos(candidate)
            texture = None
            if data:
                from kivy.core.image import Image as CoreImage

                texture = CoreImage(io.BytesIO(data), ext="png").texture
            self._photo_cache[candidate] = texture
        return self._photo_cache[candidate]

    def tone_colour(self, tone: str, _version: float) -> list[float]:
        """A label's colour for its tone (``_version`` only makes .kv rules re-evaluate on theme change)."""
        colour: list[float] = {
            "text": self.c_text,
            "muted": self.c_muted,
            "warning": self.c_warning_text,
            "selected": self.c_selected_text,
            "button": self.c_button_text,
            "primary": self.c_primary_text,
        }[tone]
        return colour

    def _apply_settings(self, settings: Settings) -> None:
        if settings == self._applied:
            return
        palette = display.PALETTES[settings.theme]
        for name in (
            "bg",
            "text",
            "muted",
            "button",
            "button_text",
            "primary",
            "primary_text",
            "selected",
            "selected_text",
            "warning",
            "warning_text",
            "border",
        ):
            colour = palette.background if name == "bg" else getattr(palette, name)
            setattr(self, f"c_{name}", list(display.kivy_rgba(colour)))
        Window.clearcolor = display.kivy_rgba(palette.background)
        self.palette_version += 1
        self.fs = display.font_px(settings.text_size)
        self.rtl = display.is_rtl(settings.language)
        self.halign = display.halign(settings.language)
        self._applied = settings

    def render(self, state: SessionState) -> None:
        from kiosk.ui.screens.base import UiContext

        # A re-armed timer alone changes nothing on screen: do not rebuild widgets under a finger.
        shown = dataclasses.replace(state, timer_token=0)
        if shown == self._shown:
            return
        self._shown = shown

        self._apply_settings(state.settings)
        s = self.services
        config = s.config or SessionConfig(s.manifest)
        ui = UiContext(
            catalogue=s.catalogue,
            manifest=s.manifest,
            language=state.settings.language,
            photo=self.photo_texture,
            warning_seconds=int(config.inactivity_end_s),
            staff_status=s.status,
        )
        root = self._root
        name = flow.SCREEN_OF_PHASE[state.phase]
        screen = root.ids.sm.get_screen(name)
        screen.show(state, ui)
        root.ids.sm.current = name
        other = Language.ENGLISH if state.settings.language is Language.ARABIC else Language.ARABIC
        root.ids.language.text = s.catalogue.text(
            f"language.{'english' if other is Language.ENGLISH else 'arabic'}", other
        )
        root.ids.where.text = ui.name(s.manifest.name) + (f"  -  {ltr(s.where)}" if s.where else "")
        warning = root.ids.warning
        warning.opacity = 1 if state.warning else 0
        warning.disabled = not state.warning
        if state.warning:
            root.ids.still_here.text = ui.t("session.still_here")
            self._count_down(ui)
        elif self._countdown is not None:
            self._countdown.cancel()
            self._countdown = None

    def _count_down(self, ui: Any) -> None:
        """The inactivity warning says how many seconds are left, and counts down once a second (the session's
        own timer ends the session; this is only what the voter reads)."""
        if self._countdown is None:
            self._warning_since = time.monotonic()
        self._warning_ui = ui

        def tick(_dt: float = 0) -> None:
            left = max(0, math.ceil(self._warning_ui.warning_seconds - (time.monotonic() - self._warning_since)))
            text = self._warning_ui.t("session.inactivity_warning", seconds=left)
            if self._root.ids.warning_text.text != text:
                self._root.ids.warning_text.text = text

        tick()
        if self._countdown is None:
            self._countdown = Clock.schedule_interval(tick, 0.25)

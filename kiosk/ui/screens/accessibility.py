# mypy: allow-subclassing-any
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.app import App

from election.manifest import Language
from kiosk.accessibility.prompts import InputMode
from kiosk.session import events as ev
from kiosk.session.model import TextSize, Theme
from kiosk.session.voter_state import SessionState
from kiosk.ui.screens.base import KioskScreen, UiContext
from kiosk.ui.screens.widgets import EvenRow, KButton, KChoice, KLabel, KTitle, MirrorRow, discard_children


class AccessibilityScreen(KioskScreen):
    """Language, audio, text size and contrast; every choice applies at once and resets after the voter."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        self.ids.more.cue = ui.t("kiosk.more_below")
        s = state.settings
        self._levels: dict[str, Callable[[], None]] = getattr(self, "_levels", {})
        shell = _shell()
        key = (s.language, s.text_size, s.audio, shell is not None and shell.input_mode is InputMode.SCANNING)
        if getattr(self, "_built_for", None) == key:
            # Only the theme or nothing visible changed: the kv bindings recolour the existing widgets.
            for button, chosen in zip(self._buttons, self._chosen(state), strict=True):
                button.chosen = chosen
            for refresh in self._levels.values():
                refresh()
            return
        self._built_for = key
        self._buttons: list[KChoice] = []
        self.ids.reset_note.text = ui.t("access.reset_note")
        self.ids.next.text = ui.t("nav.next")
        body = self.ids.body
        discard_children(body)
        body.add_widget(KTitle(text=ui.t("access.title")))
        # "The staff member will not see your choices": only where the accessibility layer (privacy screen and audio)
        # is attached to say it truthfully.
        if shell is not None and (
            state.kiosk.assisted_next or (s.audio and state.contest_index == 0 and not state.selections)
        ):
            body.add_widget(KLabel(text=ui.t("assist.private"), tone="muted"))
        self._section(
            body,
            ui.t("language.choose"),
            [
                (ui.t("language.arabic"), s.language is Language.ARABIC, ev.ChooseLanguage(Language.ARABIC)),
                (ui.t("language.english"), s.language is Language.ENGLISH, ev.ChooseLanguage(Language.ENGLISH)),
            ],
        )
        self._section(
            body,
            ui.t("access.audio"),
            [
                (ui.t("kiosk.on"), s.audio, None if s.audio else ev.ToggleAudio()),
                (ui.t("kiosk.off"), not s.audio, ev.ToggleAudio() if s.audio else None),
            ],
        )
        self._section(
            body,
            ui.t("access.text_size"),
            [
                (ui.t(f"kiosk.text_size.{size.value}"), s.text_size is size, ev.ChooseTextSize(size))
                for size in TextSize
            ],
        )
        self._section(
            body,
            ui.t("access.contrast"),
            [(ui.t(f"kiosk.theme.{theme.value}"), s.theme is theme, ev.ChooseTheme(theme)) for theme in Theme],
        )
        self._levels = {}
        if s.audio and shell is not None:
            self._level(body, ui, shell, "rate", ui.t("access.speech_rate"), ("kiosk.slower", "kiosk.faster"))
            self._level(body, ui, shell, "volume", ui.t("access.volume"), ("kiosk.quieter", "kiosk.louder"))
            if shell.input_mode is InputMode.SCANNING:
                self._level(body, ui, shell, "scan", ui.t("kiosk.scan_speed"), ("kiosk.slower", "kiosk.faster"))

    def _level(self, body, ui: UiContext, shell, what: str, heading: str, buttons: tuple[str, str]) -> None:
        """Speech rate, volume or scan speed: down and up buttons and where it is now ("4 of 8")."""
        line = MirrorRow()
        line.add_widget(KLabel(text=heading, bold=True, size_hint_x=0.3, pos_hint={"center_y": 0.5}))
        row = EvenRow(size_hint_x=0.7, spacing=8)
        level = KLabel(pos_hint={"center_y": 0.5})

        def refresh() -> None:
            step, steps = shell.levels()[what]
            level.text = ui.t("kiosk.step_of", step=step, steps=steps)

        def press(delta: int) -> None:
            shell.adjust(what, delta)
            refresh()

        for delta, key in zip((-1, 1), buttons, strict=True):
            button = KButton(text=ui.t(key), min_dp=64, scale=0.9, focus_key=f"{what}.{'up' if delta > 0 else 'down'}")
            button.bind(on_release=lambda _b, d=delta: press(d))
            row.add_widget(button)
        row.add_widget(level)
        refresh()
        self._levels[what] = refresh
        line.add_widget(row)
        body.add_widget(line)

    @staticmethod
    def _chosen(state: SessionState) -> list[bool]:
        s = state.settings
        return [
            s.language is Language.ARABIC,
            s.language is Language.ENGLISH,
            s.audio,
            not s.audio,
            *(s.text_size is z for z in TextSize),
            *(s.theme is t for t in Theme),
        ]

    def _section(self, body, heading: str, choices) -> None:
        """One line per setting: its name at the start side, then the choices."""
        line = MirrorRow()
        line.add_widget(KLabel(text=heading, bold=True, size_hint_x=0.3, pos_hint={"center_y": 0.5}))
        row = EvenRow(size_hint_x=0.7, spacing=8)
        for label, chosen, event in choices:
            button = KChoice(text=label, chosen=chosen, min_dp=64, scale=0.9, focus_key=_focus_key(event))
            if event is not None:
                button.bind(on_release=lambda _b, e=event: self.send(e))
            row.add_widget(button)
            self._buttons.append(button)
        line.add_widget(row)
        body.add_widget(line)


def _shell() -> Any:
    """The running app's accessibility layer (the speaker), if it is one: it holds rate, volume and scan speed."""
    app = App.get_running_app()
    speaker = getattr(getattr(app, "services", None), "speaker", None)
    return speaker if hasattr(speaker, "adjust") and hasattr(speaker, "levels") else None


def _focus_key(event: ev.Event | None) -> str:
    """The accessible controller's item key for the choice that sends ``event`` (input.screen_items)."""
    match event:
        case ev.ChooseLanguage(language=language):
            return f"language.{language.value}"
        case ev.ToggleAudio():
            return "audio"
        case ev.ChooseTextSize(size=size):
            return f"size.{size.value}"
        case ev.ChooseTheme(theme=theme):
            return f"theme.{theme.value}"
    return ""

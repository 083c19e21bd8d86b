# mypy: allow-subclassing-any
"""What every screen shares: the UI context (strings, language, photos) and the way events go out."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kivy.app import App
from kivy.uix.screenmanager import Screen

from election.manifest import CandidateId, Language, Manifest, Text
from kiosk.session import events as ev
from kiosk.session.model import StaffStatus
from kiosk.session.voter_state import SessionState
from kiosk.ui_text import Catalogue


@dataclass
class UiContext:
    catalogue: Catalogue
    manifest: Manifest
    language: Language
    photo: Callable[[CandidateId], Any]  # a Kivy texture or None
    warning_seconds: int = 30
    staff_status: Callable[[], StaffStatus] | None = None

    def t(self, key: str, **values: object) -> str:
        return self.catalogue.text(key, self.language, **values)

    @property
    def rtl(self) -> bool:
        return self.language is Language.ARABIC

    def name(self, text: Text) -> str:
        return text.in_language(self.language)


class KioskScreen(Screen):
    """A thin view: ``show`` paints the state; buttons call ``send`` with a session event."""

    def show(self, state: SessionState, ui: UiContext) -> None:
        raise NotImplementedError

    def send(self, event: ev.Event) -> None:
        App.get_running_app().send(event)

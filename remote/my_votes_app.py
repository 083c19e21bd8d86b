"""``python -m remote --my-votes``: the voter app's "my votes" screen, in a small Kivy window of its own.

The voter inserts the ID card, types the PIN and presses Show; the card signs the collector's fresh my-votes
challenge (remote.card.RemoteCard.ask_my_votes) and the window shows, as a table, what the collector holds under the
card's identity (remote.my_votes.rows), in Arabic or English. Nothing is registered or changed. So a voter who never
voted remotely can see a ballot cast in their name. ``--pin-file`` types a PIN and presses Show at start, and
``--report FILE`` writes what the window shows as JSON when it stops (tests only).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

from election.manifest import Language, Text
from kiosk.session import events as ev
from kiosk.session import flow
from kiosk.session.model import Secret
from kiosk.ui_text import Catalogue, plain
from remote import my_votes
from remote.card import RemoteCard
from remote.protocol import MyVotes

MY_VOTES_STRINGS = Path(__file__).with_name("strings_my_votes.json")


def catalogue() -> Catalogue:
    """The election's catalogue with the voter app's wording in front, and the my-votes screen's own strings."""
    from remote.strings import RemoteCatalogue

    raw = json.loads(MY_VOTES_STRINGS.read_text(encoding="utf-8"))
    own = {str(k): Text.from_dict(v, f"{MY_VOTES_STRINGS.name}:{k}") for k, v in raw.items()}
    return RemoteCatalogue(RemoteCatalogue.for_voter_app(Catalogue.load()), own)


def ask(card: RemoteCard, pin: str) -> MyVotes | ev.PinRejected | ev.Failed:
    """Read the card in the reader, then the PIN and the signed question; the card is closed after."""
    try:
        read = card.read()
        if isinstance(read, ev.Failed):
            return read
        return card.ask_my_votes(Secret(pin))
    finally:
        card.close()


def answer_text(
    answer: MyVotes | ev.PinRejected | ev.Failed, cat: Catalogue, language: Language
) -> tuple[str, list[tuple[str, str]]]:
    """(the line above the table, the table's rows) for any answer; failures in the session's own words."""
    if isinstance(answer, MyVotes):
        note = cat.text("remote.my_votes.not_me", language) if answer.submissions else ""
        return note, my_votes.rows(answer, cat, language)
    if isinstance(answer, ev.PinRejected):
        return cat.text("remote.my_votes.pin_wrong", language, tries=answer.tries_left), []
    return cat.text(flow.FAILURE_MESSAGE[answer.failure], language), []


def _snapshot(path: Path) -> None:
    """The last drawn frame as a PNG (read back with OpenGL, encoded with Pillow)."""
    from kivy.core.window import Window
    from kivy.graphics.opengl import GL_RGB, GL_UNSIGNED_BYTE, glReadPixels
    from PIL import Image

    width, height = (int(v) for v in Window.size)
    image = Image.frombytes("RGB", (width, height), bytes(glReadPixels(0, 0, width, height, GL_RGB, GL_UNSIGNED_BYTE)))
    image.transpose(Image.Transpose.FLIP_TOP_BOTTOM).save(path)


def run(card: RemoteCard, *, offscreen: bool, language: Language, pin_file: Path | None, report: Path | None,
        shot: Path | None, run_for: float) -> int:  # fmt: skip
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=offscreen, size=(1000, 720))
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.text import LabelBase
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput

    from kiosk.ui.app import FONT_NAME, amiri_dir, check_text_stack

    check_text_stack()
    LabelBase.register(FONT_NAME, str(amiri_dir() / "Amiri-Regular.ttf"))
    cat = catalogue()
    shown: dict[str, Any] = {}

    def label(text: str, size: int, **kw: Any) -> Any:
        rtl = language is Language.ARABIC
        w = Label(text=text, font_name=FONT_NAME, font_size=size, halign="right" if rtl else "left", valign="middle",
                  base_direction="rtl" if rtl else "ltr", **kw)  # fmt: skip
        w.bind(size=lambda w, s: setattr(w, "text_size", s))
        return w

    class MyVotesApp(App):  # type: ignore[misc]
        def build(self) -> Any:
            def t(key: str) -> str:
                return cat.text(key, language)

            self.title = "Sanduq: " + cat.text("remote.my_votes.title", Language.ENGLISH)
            root = BoxLayout(orientation="vertical", padding=24, spacing=14)
            root.add_widget(label(t("remote.my_votes.title"), 34, bold=True, size_hint_y=None, height=60))
            root.add_widget(label(t("remote.my_votes.instructions"), 22, size_hint_y=None, height=90))
            row = BoxLayout(size_hint_y=None, height=64, spacing=12)
            self.pin = TextInput(password=True, multiline=False, input_filter="int", font_size=28)
            show = Button(text=t("remote.my_votes.show"), font_name=FONT_NAME, font_size=26, size_hint_x=0.35)
            show.bind(on_release=lambda _b: self.start())
            for w in (show, self.pin) if language is Language.ARABIC else (self.pin, show):
                row.add_widget(w)
            root.add_widget(row)
            self.note = label("", 22, size_hint_y=None, height=80)
            root.add_widget(self.note)
            self.table = GridLayout(cols=2, spacing=2, size_hint_y=None, row_default_height=56)
            self.table.bind(minimum_height=self.table.setter("height"))
            root.add_widget(self.table)
            root.add_widget(BoxLayout())
            if pin_file is not None:
                self.pin.text = pin_file.read_text(encoding="utf-8").splitlines()[0]
                Clock.schedule_once(lambda _dt: self.start(), 0.5)
            return root

        def start(self) -> None:
            pin, self.pin.text = self.pin.text, ""
            self.note.text = cat.text("card.reading", language)
            threading.Thread(target=lambda: self._done(ask(card, pin)), daemon=True).start()

        def _done(self, answer: MyVotes | ev.PinRejected | ev.Failed) -> None:
            Clock.schedule_once(lambda _dt: self.show(answer), 0)

        def show(self, answer: MyVotes | ev.PinRejected | ev.Failed) -> None:
            note, rows = answer_text(answer, cat, language)
            self.note.text = note
            self.table.clear_widgets()
            for name, value in rows:
                cells = (value, name) if language is Language.ARABIC else (name, value)
                for text in cells:
                    self.table.add_widget(label(text, 24))
            shown.update(note=plain(note), rows=[[plain(n), plain(v)] for n, v in rows], raw_rows=rows)
            if pin_file is not None and run_for > 0:  # a test: stop a while after the answer is on screen
                Clock.schedule_once(lambda _dt: self._finish(), run_for)

        def _finish(self) -> None:
            if shot is not None:
                _snapshot(shot)
            self.stop()

    app = MyVotesApp()
    if run_for > 0 and pin_file is None:
        Clock.schedule_once(lambda _dt: app.stop(), run_for)
    app.run()
    if report is not None:
        report.write_text(json.dumps(shown, ensure_ascii=False), encoding="utf-8")
    return 0

"""The voter app's "my votes": card, PIN, the card's signed question, and what the collector holds under the card's
identity as a table (remote.my_votes.table), in Arabic or English. Nothing is registered or changed. So a voter
who never voted remotely can see a ballot cast in their name.

Two ways in, one panel (:func:`panel`): the "My votes" button on the voter app's start screen (``python -m remote``:
:func:`open_over_app`, a full-window view over the kiosk's screens; "Back" returns to the start screen), and
``python -m remote --my-votes``, a small window of its own (:func:`run`). While the view is open the card's
insertions are held back from the voting session (:class:`CardEventsGate`): the card is the view's.
``--pin-file`` types a PIN and presses Show at start, ``--report FILE`` writes what the window showed as JSON when
it stops (tests only).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from election.manifest import Language, Text
from kiosk.ports import CardEventsPort
from kiosk.session import events as ev
from kiosk.session import flow
from kiosk.session.model import Secret
from kiosk.ui_text import Catalogue, plain
from remote import my_votes
from remote.card import RemoteCard
from remote.protocol import MyVotes

MY_VOTES_STRINGS = Path(__file__).with_name("strings_my_votes.json")
COLUMN_WIDTHS = (0.27, 0.09, 0.24, 0.40)
"""The ballot table's columns' shares of the width (remote.my_votes.COLUMNS: received, number, code, status)."""
Answer = MyVotes | ev.PinRejected | ev.Failed


def catalogue() -> Catalogue:
    """The election's catalogue with the voter app's wording in front, and the my-votes screen's own strings."""
    from remote.strings import RemoteCatalogue

    raw = json.loads(MY_VOTES_STRINGS.read_text(encoding="utf-8"))
    own = {str(k): Text.from_dict(v, f"{MY_VOTES_STRINGS.name}:{k}") for k, v in raw.items()}
    return RemoteCatalogue(RemoteCatalogue.for_voter_app(Catalogue.load()), own)


def ask(card: RemoteCard, pin: str) -> Answer:
    """Read the card in the reader, then the PIN and the signed question; the card is closed after."""
    try:
        read = card.read()
        if isinstance(read, ev.Failed):
            return read
        return card.ask_my_votes(Secret(pin))
    finally:
        card.close()


def answer_text(answer: Answer, cat: Catalogue, language: Language) -> tuple[str, my_votes.Table | None]:
    """(the line above the table, the table) for any answer; failures in the session's own words, and no table."""
    if isinstance(answer, MyVotes):
        note = ""
        if answer.submissions:
            note = cat.text("remote.my_votes.compare", language) + " " + cat.text("remote.my_votes.not_me", language)
        return note, my_votes.table(answer, cat, language)
    if isinstance(answer, ev.PinRejected):
        return cat.text("remote.my_votes.pin_wrong", language, tries=answer.tries_left), None
    return cat.text(flow.FAILURE_MESSAGE[answer.failure], language), None


def shown_report(note: str, table: my_votes.Table | None) -> dict[str, Any]:
    """What the panel shows, as JSON for tests: plain text (isolates removed) and the raw cells."""
    t = table or my_votes.Table((), (), (), "")
    return {
        "note": plain(note),
        "summary": [[plain(a), plain(b)] for a, b in t.summary],
        "columns": [plain(c) for c in t.columns],
        "ballots": [[plain(c) for c in row] for row in t.ballots],
        "raw_ballots": [list(row) for row in t.ballots],
        "cut": plain(t.cut),
    }


class CardEventsGate:
    """The voting session's card events, held back while "my votes" has the card: a card inserted for it must not
    start a voting session. On release the session is told the reader's state it missed: the last health event,
    and the card if one is still in the reader."""

    def __init__(self, inner: CardEventsPort) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._sink: Callable[[ev.Event], None] | None = None
        self._held = False
        self._card: ev.Event | None = None
        self._health: ev.Event | None = None

    def start(self, sink: Callable[[ev.Event], None]) -> None:
        self._sink = sink
        self.inner.start(self._event)

    def stop(self) -> None:
        self.inner.stop()

    def _event(self, event: ev.Event) -> None:
        with self._lock:
            if self._held:
                if isinstance(event, ev.CardInserted | ev.CardRemoved):
                    self._card = event
                else:
                    self._health = event
                return
        if self._sink is not None:
            self._sink(event)

    def hold(self) -> None:
        with self._lock:
            self._held, self._card, self._health = True, None, None

    def release(self) -> None:
        with self._lock:
            self._held = False
            missed = [e for e in (self._health, self._card) if e is not None and not isinstance(e, ev.CardRemoved)]
            self._card = self._health = None
        if self._sink is not None:
            for event in missed:
                self._sink(event)


# ---- the Kivy panel (imported only once Kivy's environment is set) -------------------------------------------


@dataclass(frozen=True)
class Look:
    """Font size and colours (RGBA 0..1): the voter app's display settings, or the small window's defaults."""

    fs: float = 24.0
    bg: tuple[float, ...] = (1.0, 1.0, 1.0, 1.0)
    text: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0)
    button: tuple[float, ...] = (0.88, 0.88, 0.88, 1.0)
    button_text: tuple[float, ...] = (0.0, 0.0, 0.0, 1.0)

    @classmethod
    def of_app(cls, app: Any) -> Look:
        """The kiosk app's current text size and theme (kiosk.ui.app.KioskApp), so the panel follows them."""
        if not hasattr(app, "c_text"):
            return cls()
        return cls(float(app.fs), tuple(app.c_bg), tuple(app.c_text), tuple(app.c_button), tuple(app.c_button_text))


def panel(
    ask_pin: Callable[[str], Answer],
    cat: Catalogue,
    language: Language,
    look: Look,
    *,
    on_back: Callable[[], None] | None = None,
    on_shown: Callable[[dict[str, Any]], None] | None = None,
) -> Any:
    """The my-votes view: title, instructions, the PIN and Show (and Back), then the answer's table. ``ask_pin``
    runs on a worker thread; the answer is painted on the Kivy thread."""
    from kivy.clock import Clock
    from kivy.graphics import Color, Rectangle
    from kivy.metrics import dp
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.gridlayout import GridLayout
    from kivy.uix.label import Label
    from kivy.uix.scrollview import ScrollView
    from kivy.uix.textinput import TextInput

    from kiosk.ui.app import FONT_NAME

    rtl = language is Language.ARABIC

    def t(key: str) -> str:
        return cat.text(key, language)

    def label(text: str, scale: float = 1.0, **kw: Any) -> Any:
        w = Label(text=text, font_name=FONT_NAME, font_size=look.fs * scale, color=look.text, valign="middle",
                  halign="right" if rtl else "left", base_direction="rtl" if rtl else "ltr", size_hint_y=None,
                  **kw)  # fmt: skip
        w.bind(width=lambda w, width: setattr(w, "text_size", (width, None)))
        w.bind(texture_size=lambda w, size: setattr(w, "height", size[1] + dp(8)))
        return w

    def button(text: str) -> Any:
        return Button(text=text, font_name=FONT_NAME, font_size=look.fs, color=look.button_text, background_normal="",
                      background_color=look.button, size_hint_x=0.3)  # fmt: skip

    def in_reading_order(row: Any, widgets: list[Any]) -> None:
        for w in reversed(widgets) if rtl else widgets:
            row.add_widget(w)

    def grid(cols: int) -> Any:
        g = GridLayout(cols=cols, spacing=dp(2), size_hint_y=None)
        g.bind(minimum_height=g.setter("height"))
        return g

    def ballot_row(cells: tuple[str, ...], bold: bool = False) -> Any:
        """One ballot's cells, each as wide as its column's share, the row as tall as its tallest cell."""
        row = BoxLayout(size_hint_y=None, spacing=dp(8))
        cells_ = [label(c, 0.85, bold=bold, size_hint_x=w) for c, w in zip(cells, COLUMN_WIDTHS, strict=True)]

        def fit(*_: Any) -> None:
            row.height = max(c.height for c in cells_)

        for c in cells_:
            c.bind(height=fit)
        in_reading_order(row, cells_)
        fit()
        return row

    pin = TextInput(password=True, multiline=False, input_filter="int", font_size=look.fs * 1.1)
    buttons = [button(t("remote.my_votes.show"))] + ([button(t("remote.my_votes.back"))] if on_back else [])
    note = label("")
    content = BoxLayout(orientation="vertical", size_hint_y=None, spacing=dp(4))
    content.bind(minimum_height=content.setter("height"))

    def start() -> None:
        typed, pin.text = pin.text, ""
        note.text = t("card.reading")
        for b in buttons:  # the card is busy until the answer is shown: no second question, no Back meanwhile
            b.disabled = True
        threading.Thread(target=lambda: done(ask_pin(typed)), daemon=True, name="my-votes").start()

    def done(answer: Answer) -> None:
        Clock.schedule_once(lambda _dt: show(answer), 0)

    def show(answer: Answer) -> None:
        text, table = answer_text(answer, cat, language)
        note.text = text
        for b in buttons:
            b.disabled = False
        if instructions.parent is not None:  # done: the room goes to the table, which may be long
            root.remove_widget(instructions)
        content.clear_widgets()  # the note goes under the table: the table first
        if table is not None:
            summary = grid(2)
            for name, value in table.summary:
                in_reading_order(summary, [label(name, bold=True), label(value)])
            content.add_widget(summary)
            if table.ballots:
                content.add_widget(ballot_row(table.columns, bold=True))
                for cells in table.ballots:
                    content.add_widget(ballot_row(cells))
            if table.cut:
                content.add_widget(label(table.cut, 0.85))
        content.add_widget(note)
        if on_shown is not None:
            on_shown(shown_report(text, table))

    root = BoxLayout(orientation="vertical", padding=dp(24), spacing=dp(12))
    with root.canvas.before:
        Color(*look.bg)
        backdrop = Rectangle(pos=root.pos, size=root.size)
    root.bind(pos=lambda w, p: setattr(backdrop, "pos", p), size=lambda w, s: setattr(backdrop, "size", s))
    root.add_widget(label(t("remote.my_votes.title"), 1.2, bold=True))
    instructions = label(t("remote.my_votes.instructions"), 0.9)
    root.add_widget(instructions)
    row = BoxLayout(size_hint_y=None, height=max(dp(64), look.fs * 2.2), spacing=dp(12))
    buttons[0].bind(on_release=lambda _b: start())
    if on_back is not None:
        buttons[1].bind(on_release=lambda _b: on_back())
    in_reading_order(row, [pin, *buttons])
    root.add_widget(row)
    content.add_widget(note)
    scroll = ScrollView(do_scroll_x=False, bar_width=dp(10))
    scroll.add_widget(content)
    root.add_widget(scroll)
    root.my_votes_start = start  # what --pin-file presses (tests)
    root.my_votes_pin = pin
    return root


def open_over_app(card: RemoteCard, cat: Catalogue, language: Language, gate: CardEventsGate) -> Any:
    """The "My votes" button of the voter app's start screen: the panel over the whole window, the card's events
    held back from the session until Back."""
    from kivy.app import App
    from kivy.uix.modalview import ModalView

    view = ModalView(size_hint=(1, 1), auto_dismiss=False, background="", background_color=(0, 0, 0, 0))

    def back() -> None:
        view.dismiss(animation=False)
        gate.release()

    gate.hold()
    view.add_widget(panel(lambda pin: ask(card, pin), cat, language, Look.of_app(App.get_running_app()), on_back=back))
    view.open(animation=False)
    return view


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
    """``python -m remote --my-votes``: the panel in a window of its own."""
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=offscreen, size=(1000, 720))
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.core.text import LabelBase

    from kiosk.ui.app import FONT_NAME, amiri_dir, check_text_stack

    check_text_stack()
    fonts = amiri_dir()
    LabelBase.register(FONT_NAME, fn_regular=str(fonts / "Amiri-Regular.ttf"), fn_bold=str(fonts / "Amiri-Bold.ttf"))
    cat = catalogue()
    shown: dict[str, Any] = {}

    class MyVotesApp(App):  # type: ignore[misc]
        def build(self) -> Any:
            self.title = "Sanduq: " + cat.text("remote.my_votes.title", Language.ENGLISH)
            root = panel(lambda pin: ask(card, pin), cat, language, Look(), on_shown=self._shown)
            if pin_file is not None:
                root.my_votes_pin.text = pin_file.read_text(encoding="utf-8").splitlines()[0]
                Clock.schedule_once(lambda _dt: root.my_votes_start(), 0.5)
            return root

        def _shown(self, what: dict[str, Any]) -> None:
            shown.update(what)
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

"""``python -m remote.verify_app``: the second-device check in a small Kivy window (the CLI is remote.verify).

    python -m remote.verify_app --package election.zip --commission-key commission.pub [--record DIR]

Paste the check code (or the path of a photo or screenshot of the QR code, or of a ballot file the voter app
saved when you challenged it) and press Check. The app verifies the
package, fetches the ballot (the collector, pinned by the package; or the published record for a kiosk's code),
checks its proofs, opens it with the code's seed and shows the choices it holds, in Arabic or English. It uses
``remote.verify.check``: the same checks, the same refusals as the CLI. It has no camera input: a photo of the QR
code is read with zbar. ``--code`` fills in a code and checks it at start; ``--report FILE`` writes what the window
shows as JSON when the app stops (tests).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from election.manifest import Language


def result_text(package: Any, text: str, record: Path | None, language: Language) -> tuple[str, list[str]]:
    """(verdict, lines) for a pasted code or image path; never raises for the voter's input."""
    from remote.check import CannotCheck, CheckFailed
    from remote.payload import PayloadError, parse_payload, payload_from_image
    from remote.verify import check

    text = text.strip()
    if text.endswith(".json"):
        return _challenged_file(package, Path(text), language)
    try:
        payload = payload_from_image(Path(text)) if text and not text.startswith("sanduq-") else parse_payload(text)
        result = check(package, payload, record=record, language=language)
    except (PayloadError, CannotCheck) as exc:
        return "NOT CHECKED", [str(exc)]
    except CheckFailed as exc:
        return "CHECK FAILED", [str(exc)]
    lines = list(result.lines)
    if result.fetches_left is not None:
        lines.append(f"fetches left: {result.fetches_left}")
    return "The ballot opens to:", lines


def _challenged_file(package: Any, path: Path, language: Language) -> tuple[str, list[str]]:
    from election.context import ElectionContext
    from remote.check import CannotCheck, CheckFailed, describe, open_challenged_file

    try:
        if package.election_context is None:
            raise CannotCheck("the election package has no election key")
        context = ElectionContext.from_dict(dict(package.election_context))
        opened = open_challenged_file(context, package.manifest, path)
    except CannotCheck as exc:
        return "NOT CHECKED", [str(exc)]
    except CheckFailed as exc:
        return "CHECK FAILED", [str(exc)]
    return f"Challenged ballot {opened.code} opens to:", describe(package.manifest, opened, language)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m remote.verify_app", description=__doc__.split("\n\n")[0])
    parser.add_argument("--package", type=Path, required=True)
    parser.add_argument("--commission-key", type=Path, required=True)
    parser.add_argument("--record", type=Path)
    parser.add_argument("--language", choices=["ar", "en"], default="en")
    parser.add_argument("--code")
    parser.add_argument("--offscreen", action="store_true")
    parser.add_argument("--run-for", type=float, default=0.0)
    parser.add_argument("--report", type=Path)
    args = parser.parse_args(argv)
    from remote.package import PackageRefused, load_verified_package

    try:
        package = load_verified_package(args.package, args.commission_key)
    except PackageRefused as exc:
        print(f"NOT CHECKED: {exc}", file=sys.stderr)
        return 2
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=args.offscreen, size=(720, 900))
    from kivy.app import App
    from kivy.clock import Clock
    from kivy.uix.boxlayout import BoxLayout
    from kivy.uix.button import Button
    from kivy.uix.label import Label
    from kivy.uix.textinput import TextInput

    from kiosk.ui.app import FONT_NAME, amiri_dir, check_text_stack

    check_text_stack()
    from kivy.core.text import LabelBase

    LabelBase.register(FONT_NAME, str(amiri_dir() / "Amiri-Regular.ttf"))
    language = Language(args.language)
    shown: dict[str, Any] = {}

    class VerifyApp(App):  # type: ignore[misc]
        def build(self) -> Any:
            self.title = "Sanduq: check my ballot"
            root = BoxLayout(orientation="vertical", padding=16, spacing=12)
            self.code = TextInput(text=args.code or "", multiline=False, size_hint_y=None, height=56, font_size=18)
            button = Button(text="Check", size_hint_y=None, height=64, font_name=FONT_NAME, font_size=24)
            button.bind(on_release=lambda _b: self.run_check())
            self.verdict = Label(text="Paste the check code or a photo's file path", font_name=FONT_NAME,
                                 font_size=26, size_hint_y=None, height=60)  # fmt: skip
            self.lines = Label(text="", font_name=FONT_NAME, font_size=22, halign="left", valign="top")
            self.lines.bind(size=lambda w, s: setattr(w, "text_size", s))
            for w in (self.code, button, self.verdict, self.lines):
                root.add_widget(w)
            if args.code:
                Clock.schedule_once(lambda _dt: self.run_check(), 0)
            return root

        def run_check(self) -> None:
            verdict, lines = result_text(package, self.code.text, args.record, language)
            self.verdict.text = verdict
            self.lines.text = "\n".join(lines)
            shown.update(verdict=verdict, lines=lines)
            if args.code and args.run_for > 0:  # a test: stop a while after the answer is on screen
                Clock.schedule_once(lambda _dt: self.stop(), args.run_for)

    app = VerifyApp()
    if args.run_for > 0 and not args.code:
        Clock.schedule_once(lambda _dt: app.stop(), args.run_for)
    app.run()
    if args.report is not None:
        args.report.write_text(json.dumps(shown, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

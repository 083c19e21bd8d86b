"""The voter app's "My votes" button on its start screen, through the real Kivy voter app offscreen (the app
``python -m remote`` builds: remote.__main__.voter_app), the virtual card in an isolated pcscd and the real collector
over TLS pinned by the package.

Run by tests/ui/test_my_votes_ui.py in its own process (Kivy's global state and the harness must not leak):
``python -m tests.ui.my_votes_journey RESULTS.json SHOTS_DIR``. Before the app starts, the voter has sent four ballots
from two devices (the first device's credential replaced by the second's; on each, a re-vote), so the table has a
ballot that counts, one superseded and two of a replaced credential. In Arabic: the start screen, the button, card
and PIN, the table; the card out, Back: the start screen. In English the same, and Back with the card still in: the
voting session starts with it, as if inserted then.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.remote.ui_journey import remote_election  # noqa: E402  (sets Kivy's environment, offscreen)


def _modal() -> Any:
    from kivy.core.window import Window
    from kivy.uix.modalview import ModalView

    return next((w for w in Window.children if isinstance(w, ModalView)), None)


def _texts(root: Any) -> list[str]:
    from devtools.touch import is_visible, walk

    return [w.text for w in walk(root) if isinstance(getattr(w, "text", None), str) and w.text and is_visible(w)]


def main(out: Path, shots: Path) -> int:
    from devtools.touch import find_text, run_script, snapshot_png, tap
    from devtools.virtual_card.card import VirtualCard
    from devtools.virtual_card.harness import PcscHarness
    from election.manifest import Language
    from kiosk.adapters.card_events import MonitorCardEvents
    from kiosk.card.profile import load_all_profiles, load_named_profile
    from kiosk.session.model import Phase
    from kiosk.ui.screens.attract import AUDIO_BUTTON
    from kiosk.ui_text import ltr, plain
    from remote.__main__ import voter_app
    from remote.ballots import short_code
    from remote.compose import voter_ports
    from remote.my_votes_app import catalogue
    from tests.collector.conftest import Clock as CollectorClock
    from tests.collector.conftest import VoterApp, make_collector, serve
    from tests.remote.helpers import voter_package

    shots.mkdir(parents=True, exist_ok=True)
    cat = catalogue()
    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sanduq-my-votes-ui-") as workdir:
        tmp = Path(workdir)
        election = remote_election(tmp)
        clock = CollectorClock()
        collector = make_collector(election, f"sqlite:///{tmp / 'collector.db'}", clock)
        with serve(collector, election) as served, PcscHarness() as pcsc:
            codes: list[str] = []  # the confirmation codes, oldest first
            for _device in range(2):
                sender = VoterApp(served.client(), election, "10000001")
                assert sender.register().status_code == 200
                for _ in range(2):
                    clock.advance(minutes=3)
                    ballot, _seed = sender.ballot()
                    assert sender.submit(sender.submission(ballot)).status_code == 200
                    codes.append(short_code(ballot.ballot_hash.hex()))
            result["codes"] = codes
            package = voter_package(election)
            ports = voter_ports(
                package,
                collector_url=served.base,
                reader=pcsc.reader_name(),
                profile=load_named_profile("oman_ias"),
                profiles=tuple(load_all_profiles()),
                data_dir=tmp / "device",
                passphrase=lambda: "correct horse battery",
            )
            events = MonitorCardEvents(pcsc.reader_name())
            app = voter_app(package, ports, events)

            def card() -> VirtualCard:
                return VirtualCard.from_files(election.pki.voters["10000001"], load_named_profile("oman_ias"))

            def phase() -> Phase:
                assert app.driver is not None
                return app.driver.state.phase

            def until(test: Any, what: str, seconds: float = 30.0) -> Iterator[None]:
                deadline = time.monotonic() + seconds
                while not test():
                    if time.monotonic() > deadline:
                        raise AssertionError(f"never: {what}; at {phase()}")
                    yield

            def wait(seconds: float) -> Iterator[None]:
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    yield

            def my_votes(language: Language, r: dict[str, Any], prefix: str) -> Iterator[None]:
                """From the start screen: the button, the card, the PIN, Show, the table."""

                def t(key: str) -> str:
                    return cat.text(key, language)

                yield from until(lambda: phase() is Phase.ATTRACT and t("attract.insert_card") in _texts(app.root),
                                 "the start screen")  # fmt: skip
                button = find_text(app, t("remote.my_votes.open"))
                r["button_below_audio"] = button.center_y < find_text(app, AUDIO_BUTTON).center_y
                snapshot_png(str(shots / f"{prefix}_start.png"))
                assert (yield from tap(button, 5))
                yield from until(lambda: _modal() is not None, "the my-votes view")
                view = _modal()
                r["instructions_shown"] = t("remote.my_votes.instructions") in _texts(view)
                pcsc.insert(card())
                yield from wait(2.0)  # the card monitor has seen it by now (pcscd polls every 0.4 s)
                r["card_kept_from_session"] = phase() is Phase.ATTRACT
                view.children[0].my_votes_pin.text = "1234"  # typed on the voter's keyboard
                assert (yield from tap(find_text(app, t("remote.my_votes.show"), within=view), 5))
                yield from until(lambda: t("remote.my_votes.col_code") in _texts(view), "the table", 60)
                yield from wait(0.5)
                texts = _texts(view)
                r["codes_shown"] = [code for code in codes if ltr(code) in texts]
                r["statuses_shown"] = [
                    key for key in ("ballot_counts", "ballot_superseded", "ballot_replaced")
                    if t(f"remote.my_votes.{key}") in texts
                ]  # fmt: skip
                r["count_shown"] = ltr(4) in texts
                r["texts"] = [plain(x) for x in texts]
                snapshot_png(str(shots / f"{prefix}_my_votes.png"))

            def script() -> Iterator[None]:
                ar: dict[str, Any] = {}
                result["ar"] = ar
                yield from my_votes(Language.ARABIC, ar, "ar")
                pcsc.remove()
                yield from wait(2.0)
                back = find_text(app, cat.text("remote.my_votes.back", Language.ARABIC), within=_modal())
                assert (yield from tap(back, 5))
                yield from until(lambda: _modal() is None, "the view closed")
                yield from wait(1.0)
                ar["back_at_start"] = phase() is Phase.ATTRACT and cat.text(
                    "remote.my_votes.open", Language.ARABIC
                ) in _texts(app.root)
                yield from tap(app.root.ids.language, 5)  # the top bar's language switch
                en: dict[str, Any] = {}
                result["en"] = en
                yield from my_votes(Language.ENGLISH, en, "en")
                assert (yield from tap(find_text(app, "Back", within=_modal()), 5))
                yield from until(lambda: phase() is Phase.PIN_ENTRY, "the session starts with the card left in")
                en["card_left_in_starts_voting"] = True

            try:
                errors = run_script(app, script())
            finally:
                events.stop()
                ports.collector.close()
            result["errors"] = ["".join(traceback.format_exception(e)) for e in errors]
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2])))
    except Exception:
        traceback.print_exc(file=sys.__stderr__)  # Kivy has replaced sys.stderr with its silenced logger
        sys.exit(1)

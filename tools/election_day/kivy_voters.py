"""Voters on the real Kivy kiosk app (offscreen, SDL with EGL/Mesa), over the same real services as the other
voters: the app's screens paint each state, the voter's touches go in as the events the screens' buttons send,
and the demo photographs the screens a voter sees.

Kivy reads its environment at import time: ``run_kivy_voters`` configures it (through ``run_kiosk``) before
importing anything from Kivy; call it in a process that has not imported Kivy yet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from election.manifest import CandidateId, ContestId, Language
from kiosk.session import SessionConfig
from kiosk.session import events as ev
from kiosk.session.model import KioskMode, Phase
from tools.election_day.plan import Voter

if TYPE_CHECKING:
    from tools.election_day.kiosk_node import Kiosk


def run_kivy_voters(kiosk: Kiosk, voters: list[Voter], shots: Path, record: Callable[[dict[str, Any]], None]) -> None:
    import run_kiosk

    run_kiosk.configure_kivy(offscreen=True)
    from kivy.core.window import Window

    from kiosk.app import KioskApp, KioskServices
    from kiosk.scripted import ManualWorker, run_script
    from kiosk.ui_text import Catalogue

    shots.mkdir(parents=True, exist_ok=True)
    photos = {k.id: k.photo for c in kiosk.manifest.contests for k in c.candidates}

    def photo(candidate: CandidateId) -> bytes | None:
        path = photos.get(candidate)
        return kiosk.package.files.get(path) if path else None

    worker = ManualWorker(auto=True)
    services = KioskServices(
        manifest=kiosk.manifest,
        card=kiosk.card,
        poll_book=kiosk.poll_book,
        ballots=kiosk.ballots,
        staff=kiosk.driver.ports.staff,
        audit=kiosk.audit,
        catalogue=Catalogue.load(),
        photos=photo,
        speaker=kiosk.shell,
        kiosk_mode=KioskMode(polls_open=True),
        config=SessionConfig(kiosk.manifest),
        where=kiosk.kiosk_id,
        run_blocking=worker,
    )
    app = KioskApp(services, show_demo_panel=False)

    def shot(name: str) -> None:
        Window.screenshot(name=str(shots / f"{name}.png"))

    def script() -> Iterator[None]:
        assert app.driver is not None
        driver = app.driver
        driver.listeners.append(kiosk.shell.on_state)
        yield
        for n, voter in enumerate(voters):
            tag = f"{kiosk.kiosk_id}-{voter.id}"
            result: dict[str, Any] = {"voter": voter.id, "kiosk": kiosk.kiosk_id, "ui": "kivy"}
            kiosk.harness.insert(kiosk.card_for(voter))
            app.send(ev.CardInserted())
            yield
            if n == 0:
                shot(f"{tag}-1-pin")
            for d in voter.pins[-1]:
                app.send(ev.PinDigit(d))
            app.send(ev.PinSubmit())
            yield
            if driver.state.phase is Phase.ACCESSIBILITY:
                if voter.language == "en":
                    app.send(ev.ChooseLanguage(Language.ENGLISH))
                    yield
                shot(f"{tag}-2-accessibility")
                app.send(ev.Continue())
                yield
            for contest, chosen in voter.choices.items():
                for c in chosen:
                    if c not in driver.state.selected(ContestId(contest)):
                        app.send(ev.ToggleCandidate(CandidateId(c)))
            yield
            shot(f"{tag}-3-ballot")
            app.send(ev.GoToReview())
            yield
            if not any(voter.choices.values()):
                app.send(ev.ConfirmBlank())
            shot(f"{tag}-4-review")
            app.send(ev.SealBallot())
            yield
            shot(f"{tag}-5-cast-or-challenge")
            app.send(ev.Cast())
            yield
            state = driver.state
            if state.phase is Phase.CONFIRMATION and state.receipt is not None:
                result.update(outcome="cast", code=state.receipt.code)
                shot(f"{tag}-6-confirmation")
            else:
                result.update(outcome="refused", failure=state.failure.value if state.failure else state.phase.value)
            kiosk.harness.remove()
            app.send(ev.CardRemoved())
            yield
            record(result)

    errors = run_script(app, script(), worker, frames=3)
    if errors:
        raise errors[0]

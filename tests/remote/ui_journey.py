"""Run as a script (a fresh process, Kivy offscreen): the voter app's Kivy UI (the kiosk's app over the voter
app's ports) with the virtual card in an isolated pcscd and the real collector over TLS. A voter votes; the
confirmation screen's QR code is read back from the rendered frame with zbar and checked as a second device
would. Writes its findings as JSON to argv[1]."""

from __future__ import annotations

import datetime as dt
import json
import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from run_kiosk import configure_kivy

configure_kivy(offscreen=True)


def remote_election(tmp: Path) -> Any:
    from devtools import test_pki
    from devtools.sample_election import run_key_ceremony
    from election.roll import CivilNumber, RollEntry
    from kiosk.card.trust import TrustAnchors
    from tests.collector.conftest import NOT_ELIGIBLE, NOT_ON_ROLL, REVOKED, RemoteElection, remote_manifest

    manifest = remote_manifest()
    context, _g, secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    now = dt.datetime.now(dt.UTC)
    voters = test_pki.synthetic_voters(7, now)
    pki = test_pki.generate(tmp / "pki", voters, ["office-client"], now=now, revoke=[REVOKED])
    wilayats = [w.code for w in manifest.wilayats]
    roll = {
        CivilNumber(v.civil_number): RollEntry(
            CivilNumber(v.civil_number), wilayats[i % 3], v.civil_number != NOT_ELIGIBLE
        )
        for i, v in enumerate(voters)
        if v.civil_number != NOT_ON_ROLL
    }
    return RemoteElection(
        manifest, context, secrets, pki, TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls()), roll
    )


def main(out: Path) -> int:
    from devtools.touch import run_script, snapshot_png, visible_texts
    from devtools.virtual_card.card import VirtualCard
    from devtools.virtual_card.harness import PcscHarness
    from election.check_code import parse_payload
    from election.manifest import Language
    from kiosk.adapters.card_events import MonitorCardEvents
    from kiosk.card.profile import load_all_profiles, load_named_profile
    from kiosk.services import KioskServices
    from kiosk.session import SessionConfig
    from kiosk.session import events as ev
    from kiosk.session.model import KioskMode, Phase
    from kiosk.ui.app import KioskApp
    from remote.compose import voter_ports
    from remote.payload import payload_from_image
    from remote.strings import RemoteCatalogue
    from remote.verify import check
    from tests.collector.conftest import Clock as CollectorClock
    from tests.collector.conftest import make_collector, serve
    from tests.remote.helpers import voter_package

    result: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="sanduq-remote-ui-") as workdir:
        tmp = Path(workdir)
        election = remote_election(tmp)
        collector = make_collector(election, f"sqlite:///{tmp / 'collector.db'}", CollectorClock())
        with serve(collector, election) as served, PcscHarness() as pcsc:
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
            services = KioskServices(
                manifest=package.manifest, card=ports.card, poll_book=ports.poll_book, ballots=ports.ballots,
                staff=ports.staff, audit=ports.audit, catalogue=RemoteCatalogue.for_voter_app(), photos=lambda _c: None,
                card_events=events, kiosk_mode=KioskMode(polls_open=True), config=SessionConfig(package.manifest),
                where="remote",
            )  # fmt: skip
            app = KioskApp(services, show_demo_panel=False)
            profile = load_named_profile("oman_ias")

            def wait_for(phase: Phase, limit: int = 6000) -> Iterator[None]:
                for _ in range(limit):
                    if app.driver is not None and app.driver.state.phase is phase:
                        return
                    yield
                raise AssertionError(f"never reached {phase}; at {app.driver.state.phase if app.driver else None}")

            def script() -> Iterator[None]:
                yield from wait_for(Phase.ATTRACT)
                pcsc.insert(VirtualCard.from_files(election.pki.voters["10000001"], profile), wait=False)
                yield from wait_for(Phase.PIN_ENTRY)
                assert app.driver is not None
                for d in "1234":
                    app.driver.dispatch(ev.PinDigit(d))
                app.driver.dispatch(ev.PinSubmit())
                yield from wait_for(Phase.ACCESSIBILITY)
                app.driver.dispatch(ev.ChooseLanguage(Language.ENGLISH))
                app.driver.dispatch(ev.Continue())
                yield from wait_for(Phase.BALLOT)
                yield
                ticket = app.driver.state.ticket
                assert ticket is not None
                contest = package.manifest.contests_of_style(ticket.style)[0]
                chosen = contest.active_candidates[0]
                result["chosen"] = chosen.name.en
                result["ballot_shows_candidate"] = any(chosen.name.en in t for t in visible_texts(app))
                app.driver.dispatch(ev.ToggleCandidate(chosen.id))
                app.driver.dispatch(ev.GoToReview())
                yield from wait_for(Phase.REVIEW)
                app.driver.dispatch(ev.SealBallot())
                yield from wait_for(Phase.CAST_OR_CHALLENGE)
                app.driver.dispatch(ev.Cast())
                yield from wait_for(Phase.CONFIRMATION)
                yield
                receipt = app.driver.state.receipt
                assert receipt is not None
                result["code_on_screen"] = any(receipt.code in t for t in visible_texts(app))
                shot = tmp / "confirmation.png"
                snapshot_png(str(shot))
                payload = payload_from_image(shot)
                result["qr_is_the_receipts"] = payload == parse_payload(receipt.qr_payload)
                checked = check(package, payload, record=None)
                result["second_device_lines"] = list(checked.lines)
                Path(out.parent / "confirmation.png").write_bytes(shot.read_bytes())

            errors = run_script(app, script())
            events.stop()
            ports.collector.close()
            result["errors"] = [repr(e) for e in errors]
    out.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(Path(sys.argv[1])))

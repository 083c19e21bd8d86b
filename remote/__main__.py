"""``python -m remote``: the voter app on the voter's own computer, with the ID card in a USB PC/SC reader.

    python -m remote --package election.zip --commission-key commission.pub --collector https://collector:8443 \\
        [--data-dir ~/.local/share/sanduq-vote] [--reader NAME] [--card-profile oman_ias] [--offscreen]
        [--my-votes [--language ar|en]]

The device passphrase that encrypts the credential key at rest is read from ``--passphrase-file`` or asked for
on the terminal at start (never from an environment variable, never logged). The kiosk's Kivy app runs unchanged
(screens, Arabic and English, text sizes and themes, the audio ballot when the package has its clips) over the
voter app's ports (remote/compose.py). A submission held from an earlier run (a lost connection) is sent again
first, and the terminal says whether it arrived. The start screen has a "My votes" button (remote/my_votes_app.py):
card, PIN, and every ballot the collector holds under the card's identity; ``--my-votes`` opens the same view in a
window of its own instead.
"""

from __future__ import annotations

import argparse
import getpass
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from election.package import ElectionPackage
    from kiosk.ports import CardEventsPort
    from kiosk.ui.app import KioskApp
    from remote.compose import VoterPorts

log = logging.getLogger("remote")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m remote", description="Sanduq voter app (remote voting)")
    parser.add_argument("--package", type=Path, required=True)
    parser.add_argument("--commission-key", type=Path, required=True)
    parser.add_argument("--collector", required=True, help="the vote collector's https:// address")
    parser.add_argument("--data-dir", type=Path, default=Path.home() / ".local" / "share" / "sanduq-vote")
    parser.add_argument("--reader", help="the PC/SC reader (default: the first one)")
    parser.add_argument("--card-profile", default="oman_ias")
    parser.add_argument("--passphrase-file", type=Path, help="a file holding the device passphrase (first line)")
    parser.add_argument("--offscreen", action="store_true")
    parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (tests)")
    parser.add_argument("--my-votes", action="store_true", help="show what the collector holds under your identity")
    parser.add_argument("--language", choices=["ar", "en"], default="ar", help="of the my-votes window")
    parser.add_argument("--pin-file", type=Path, help=argparse.SUPPRESS)  # tests: type this PIN into my-votes
    parser.add_argument("--report", type=Path, help=argparse.SUPPRESS)  # tests: what my-votes showed, as JSON
    parser.add_argument("--screenshot", type=Path, help=argparse.SUPPRESS)  # tests: my-votes' last frame
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from kiosk.card.profile import ProfileError, load_all_profiles, load_named_profile
    from kiosk.card.transport import CardIoError, PcscContext
    from remote import client as c
    from remote.ballots import resend_pending
    from remote.compose import ComposeError, voter_ports
    from remote.credential import CredentialError
    from remote.outbox import OutboxError
    from remote.package import PackageRefused, load_verified_package

    def passphrase() -> str:
        if args.passphrase_file is not None:
            return str(args.passphrase_file.read_text(encoding="utf-8").splitlines()[0])
        return getpass.getpass("Device passphrase (protects your voting credential on this computer): ")

    try:
        package = load_verified_package(args.package, args.commission_key)
        profile = load_named_profile(args.card_profile)
        reader = args.reader
        if reader is None:
            ctx = PcscContext()
            readers = ctx.readers()
            ctx.close()
            if not readers:
                raise ComposeError("no card reader is connected: connect one (or pass --reader)")
            reader = readers[0]
        ports = voter_ports(
            package,
            collector_url=args.collector,
            reader=reader,
            profile=profile,
            profiles=tuple(load_all_profiles()),
            data_dir=args.data_dir,
            passphrase=passphrase,
        )
        if args.my_votes:  # no credential, no submission: only the card's signed question
            from election.manifest import Language
            from remote.my_votes_app import run

            try:
                return run(
                    ports.card,
                    offscreen=args.offscreen,
                    language=Language(args.language),
                    pin_file=args.pin_file,
                    report=args.report,
                    shot=args.screenshot,
                    run_for=args.run_for,
                )
            finally:
                ports.collector.close()
        ports.ballots.credential()  # unlocked (or made) now, on the terminal, never from the UI's worker thread
        pending = resend_pending(ports.outbox, ports.collector)
    except (
        PackageRefused, ComposeError, ProfileError, CardIoError, OutboxError, CredentialError, OSError, ValueError
    ) as exc:  # fmt: skip
        print(f"THE VOTER APP CANNOT START: {exc}", file=sys.stderr)
        return 2
    if isinstance(pending, c.Arrived):
        print(f"Your earlier ballot ARRIVED at the collector ({pending.receipt.received_at.isoformat()}).")
    elif isinstance(pending, c.NotAccepted):
        print(f"Your earlier ballot was NOT accepted ({pending.error.error}): vote again.")
    elif isinstance(pending, c.NotYetKnown):
        print("Your earlier ballot could not be confirmed yet: it is kept on this computer and sent again next time.")
    return _run_ui(package, ports, reader, args)


def voter_app(package: ElectionPackage, ports: VoterPorts, events: CardEventsPort) -> KioskApp:
    """The voter app's Kivy app: the kiosk's (kiosk/ui/app.py) over the voter app's ports, with "My votes" on the
    start screen (remote/my_votes_app.py). Import only once Kivy's environment is set (tests build it here too)."""
    from election.manifest import CandidateId, Language
    from kiosk.services import KioskServices
    from kiosk.session import SessionConfig
    from kiosk.session.model import KioskMode
    from kiosk.ui.app import KioskApp, StartAction
    from remote.my_votes_app import CardEventsGate, catalogue, open_over_app

    manifest = package.manifest
    photo_paths = {k.id: k.photo for contest in manifest.contests for k in contest.candidates if k.photo}

    def photo(candidate: CandidateId) -> bytes | None:
        path = photo_paths.get(candidate)
        return package.files.get(path) if path else None

    cat = catalogue()  # the voter app's wording and the my-votes strings over the kiosk's catalogue
    gate = CardEventsGate(events)
    services = KioskServices(
        manifest=manifest,
        card=ports.card,
        poll_book=ports.poll_book,
        ballots=ports.ballots,
        staff=ports.staff,
        audit=ports.audit,
        catalogue=cat,
        photos=photo,
        card_events=gate,
        kiosk_mode=KioskMode(polls_open=True),
        config=SessionConfig(manifest),
        where="remote",
    )

    def my_votes(language: Language) -> None:
        open_over_app(ports.card, cat, language, gate)

    app = KioskApp(services, show_demo_panel=False, start_action=StartAction("remote.my_votes.open", my_votes))
    app.title = "Sanduq voter app"
    return app


def _run_ui(package: ElectionPackage, ports: VoterPorts, reader: str, args: argparse.Namespace) -> int:
    from run_kiosk import configure_kivy

    configure_kivy(offscreen=args.offscreen)
    from kivy.clock import Clock

    from kiosk.adapters.card_events import MonitorCardEvents

    events = MonitorCardEvents(reader)
    app = voter_app(package, ports, events)
    if args.run_for > 0:
        Clock.schedule_once(lambda _dt: app.stop(), args.run_for)
    try:
        app.run()
    finally:
        events.stop()
        ports.collector.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

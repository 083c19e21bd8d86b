"""The kiosk's command line: parse the options, build the kiosk, set up Kivy, run the app.

    python run_kiosk.py --demo              the demo election; F2 inserts the next demo voter's card,
                                            F3 removes it, F4 inserts a staff card (also on a demo panel)
    python run_kiosk.py --demo --offscreen  the same without a display (for checks; exits after --run-for)
    python run_kiosk.py --package P --commission-key K --kiosk-id ID --central https://... --kiosk-cert C
        --kiosk-key KEY --central-ca CA --db BOX   a polling-station kiosk (docs/kiosk.md); a package or
                                            configuration the kiosk refuses: a message to staff, exit code 2

A polling-station kiosk is composed by ``kiosk.bootstrap.build_station`` (the one composition root); the demo
worlds come from the development tools (``devtools.kiosk_worlds``), imported only for ``--demo``.
Kivy reads its environment at import time, so nothing here imports Kivy before ``configure_kivy``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kiosk.bootstrap import Station, StationConfig

log = logging.getLogger("kiosk")

WINDOW = (1280, 800)
DEMO_PIN = "1234"


def configure_kivy(*, offscreen: bool, size: tuple[int, int] = WINDOW, fullscreen: bool = False) -> None:
    """Set Kivy's environment and window before the first Kivy import (it reads both at import time)."""
    os.environ["KIVY_TEXT"] = "pil"  # Arabic: Pillow + raqm does shaping and bidi
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_FILELOG", "1")
    os.environ.setdefault("KIVY_HOME", str(Path(tempfile.gettempdir()) / "sanduq-kivy-home"))
    if offscreen:
        os.environ["SDL_VIDEODRIVER"] = "offscreen"
        os.environ.setdefault("SDL_AUDIODRIVER", "dummy")
        os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    from kivy.config import Config

    Config.set("graphics", "width", str(size[0]))
    Config.set("graphics", "height", str(size[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("graphics", "fullscreen", "auto" if fullscreen else "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")
    Config.set("kivy", "exit_on_escape", "0")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Sanduq voting kiosk")
    parser.add_argument("--demo", action="store_true", help="the demo election with demo voters' cards (F2/F3/F4)")
    parser.add_argument("--offscreen", action="store_true", help="no display (SDL offscreen)")
    parser.add_argument("--fullscreen", action="store_true")
    parser.add_argument("--polls-closed", action="store_true", help="start with polls closed (staff card opens them)")
    parser.add_argument(
        "--virtual-card",
        action="store_true",
        help="real components: virtual ID cards on an isolated pcscd, real encryption and ballot box",
    )
    parser.add_argument("--run-for", type=float, default=0.0, help="stop after this many seconds (checks)")
    parser.add_argument(
        "--no-speech", action="store_true", help="demo: the accessibility layer without synthesised speech (silent)"
    )
    station = parser.add_argument_group("polling station (without --demo)")
    station.add_argument("--package", type=Path, help="the signed election package (.sanduq)")
    station.add_argument("--commission-key", type=Path, help="the election commission's public key (PEM)")
    station.add_argument("--kiosk-id", help="this kiosk's id in the manifest")
    station.add_argument("--central", help="the central office, https://host:port (mutual TLS)")
    station.add_argument("--kiosk-cert", type=Path, help="this kiosk's TLS client certificate (PEM)")
    station.add_argument("--kiosk-key", type=Path, help="this kiosk's private key (PEM): TLS and ballot signing")
    station.add_argument("--central-ca", type=Path, help="the CA of the central office's TLS certificate (PEM)")
    station.add_argument("--db", type=Path, help="the ballot box database (created on first start)")
    station.add_argument("--reader", help="the PC/SC reader name (default: the first reader)")
    station.add_argument(
        "--offline-roll", type=Path, help="the centre's copy of the roll (CSV): provisional ballots while offline"
    )
    station.add_argument(
        "--batch-window",
        type=float,
        default=None,
        help="seconds after which fewer than min_batch ballots are sent anyway (default: never; tests and demos)",
    )
    station.add_argument("--card-profile", default="oman_ias", help="the ID card profile (default oman_ias)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not args.demo:
        return _run_station(parser, args)
    return _run_demo(args)


def _run_demo(args: argparse.Namespace) -> int:
    try:
        from devtools.kiosk_worlds import DEMO_AUDIO_CACHE, attach_demo_accessibility, demo_world, virtual_world
    except ModuleNotFoundError as exc:
        if not (exc.name or "").startswith("devtools"):
            raise
        # An installed kiosk (sanduq-kiosk) has no development tools: the demo runs from a checkout.
        print("the demo kiosk needs the development tools (devtools/) of a Sanduq checkout", file=sys.stderr)
        return 2
    configure_kivy(offscreen=args.offscreen, fullscreen=args.fullscreen)
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp

    if args.virtual_card:
        with tempfile.TemporaryDirectory(prefix="sanduq-kiosk-") as workdir:
            world = virtual_world(Path(workdir))
            try:
                app = KioskApp(world.services)
                attach_demo_accessibility(app, world, DEMO_AUDIO_CACHE, speech=not args.no_speech)
                _run(app, args.run_for, Clock)
            finally:
                world.card_events.stop()
                world.deck.harness.stop()
        return 0
    world = demo_world(polls_open=not args.polls_closed)
    app = KioskApp(world.services)
    attach_demo_accessibility(app, world, DEMO_AUDIO_CACHE, speech=not args.no_speech)
    _run(app, args.run_for, Clock)
    return 0


STATION_OPTIONS = ("package", "commission_key", "kiosk_id", "central", "kiosk_cert", "kiosk_key", "central_ca", "db")


def station_config(args: argparse.Namespace) -> StationConfig:
    """The station options as the composition root's typed configuration."""
    from kiosk.bootstrap import StationConfig

    return StationConfig(
        package=args.package,
        commission_key=args.commission_key,
        kiosk_id=args.kiosk_id,
        central_url=args.central,
        kiosk_cert=args.kiosk_cert,
        kiosk_key=args.kiosk_key,
        central_ca=args.central_ca,
        db=args.db,
        reader=args.reader,
        card_profile=args.card_profile,
        offline_roll=args.offline_roll,
        batch_window=args.batch_window,
    )


def _run_station(parser: argparse.ArgumentParser, args: argparse.Namespace) -> int:
    missing = [f"--{n.replace('_', '-')}" for n in STATION_OPTIONS if getattr(args, n) is None]
    if missing:
        parser.error(f"without --demo, these are required: {', '.join(missing)}")
    from kiosk.bootstrap import REFUSED, StartRefused, build_station

    try:
        configure_kivy(offscreen=args.offscreen, fullscreen=args.fullscreen)
        station = build_station(station_config(args))
    except StartRefused as exc:
        print(f"{REFUSED}: {exc}", file=sys.stderr, flush=True)
        return 2
    from kivy.clock import Clock

    from kiosk.ui.app import KioskApp

    polls = station.box.polls_state.value
    Clock.schedule_once(lambda _dt: log.info("kiosk %s ready (polls %s)", args.kiosk_id, polls), 0)
    app = KioskApp(station.services, show_demo_panel=False)
    _attach_audio_ballot(app, station, args.db.parent / "audio-cache")
    try:
        _run(app, args.run_for, Clock)
    finally:
        station.shutdown()
    return 0


def _attach_audio_ballot(app: Any, station: Station, cache_dir: Path) -> None:
    """The audio ballot, the accessible controller and two switches, speaking the package's own clips."""
    from election.audio_clips import CLIP_INDEX
    from kiosk.ui.kivy_shell import attach, shell_for_package

    package = station.package
    if CLIP_INDEX not in package.files:
        log.warning("the election package has no audio catalogue (%s): the audio ballot is unavailable", CLIP_INDEX)
        return
    cache_dir.mkdir(parents=True, exist_ok=True)
    attach(app, shell_for_package(package.manifest, package.files, cache_dir, station.services.audit))
    log.info("audio ballot ready: %s", CLIP_INDEX)


def _run(app: Any, run_for: float, clock: Any) -> None:
    if run_for > 0:
        clock.schedule_once(lambda _dt: app.stop(), run_for)
    app.run()


if __name__ == "__main__":
    sys.exit(main())

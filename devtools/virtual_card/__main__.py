"""``python -m devtools.virtual_card insert <civil number|staff id|bad/kind> [--pki DIR] [--port N] [--mode M]``
and ``python -m devtools.virtual_card remove [--port N]`` (from another shell).

``insert`` keeps running with the card in the vpcd slot at --port (35963 = the system pcscd's first vpcd
slot, see /etc/reader.conf.d/vpcd) until ``remove`` or Ctrl-C. TEST MATERIAL ONLY.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path

from devtools.virtual_card.card import CardMode, load_card
from devtools.virtual_card.vpcd import VpcdLink
from kiosk.card.profile import ProfileError, load_named_profile

DEFAULT_PORT = 35963


def pid_file(port: int) -> Path:
    return Path(tempfile.gettempdir()) / f"sanduq-virtual-card-{port}.pid"


def _insert(args: argparse.Namespace) -> int:
    try:
        profile = load_named_profile(args.profile)
        card = load_card(args.pki, args.card, profile, CardMode(args.mode))
        card.atr_override = bytes.fromhex(args.atr) if args.atr else None
    except (OSError, KeyError, ValueError, ProfileError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    card.delay = args.delay
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    path = pid_file(args.port)
    path.write_text(str(os.getpid()), encoding="ascii")
    link = VpcdLink(card, args.port, host=args.host).insert()
    print(f"card {args.card} ({profile.name}, mode {args.mode}) inserted at {args.host}:{args.port}; pid {os.getpid()}")
    try:
        while not stop.is_set() and not link.pulled.is_set():
            stop.wait(0.2)
    finally:
        link.remove()
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
    print("card removed")
    return 0


def _remove(args: argparse.Namespace) -> int:
    path = pid_file(args.port)
    try:
        pid = int(path.read_text(encoding="ascii"))
    except (FileNotFoundError, ValueError):
        print(f"no virtual card at port {args.port}", file=sys.stderr)
        return 1
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        path.unlink(missing_ok=True)
        print(f"stale pid file removed ({pid})", file=sys.stderr)
        return 1
    deadline = time.monotonic() + 5
    while path.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    print("card removed")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.virtual_card", description="Virtual eID card (TEST).")
    sub = parser.add_subparsers(dest="command", required=True)
    insert = sub.add_parser("insert", help="insert a test-PKI card into a vpcd slot")
    insert.add_argument("card", help="civil number, staff id (staff-pw-1) or bad/<kind>")
    insert.add_argument("--pki", type=Path, default=Path("out/test-pki"))
    insert.add_argument("--profile", default="oman_ias")
    insert.add_argument("--mode", default="normal", choices=[m.value for m in CardMode])
    insert.add_argument("--delay", type=float, default=0.3, help="seconds per APDU in --mode slow")
    insert.add_argument("--atr", default="", help="answer with this ATR (hex) instead of the profile's (unknown card)")
    insert.add_argument("--host", default="127.0.0.1")
    insert.add_argument("--port", type=int, default=DEFAULT_PORT)
    remove = sub.add_parser("remove", help="pull the card inserted by `insert` at --port")
    remove.add_argument("--port", type=int, default=DEFAULT_PORT)
    args = parser.parse_args(argv)
    return _insert(args) if args.command == "insert" else _remove(args)


if __name__ == "__main__":
    raise SystemExit(main())

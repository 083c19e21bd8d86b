"""``python -m devtools.test_pki --out out/test-pki [--roll roll.csv] [--voters N] [--kiosks N]``"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import time
from pathlib import Path

from devtools.test_pki.generate import generate
from devtools.test_pki.voters import RollFormatError, synthetic_voters, voters_from_roll


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.test_pki", description="Generate TEST PKI material.")
    parser.add_argument("--out", type=Path, default=Path("out/test-pki"))
    parser.add_argument("--roll", type=Path, help="roll CSV (civil_number,wilayat,eligible,name_ar,name_en,birth_date)")
    parser.add_argument("--voters", type=int, default=20, help="synthetic voters when no --roll is given")
    parser.add_argument("--kiosks", type=int, default=3, help="kiosk certificates kiosk-001 ... kiosk-NNN")
    parser.add_argument("--kiosk-id", action="append", default=[], help="explicit kiosk id (repeatable)")
    parser.add_argument("--revoke", action="append", default=[], help="civil number of a voter to revoke (repeatable)")
    parser.add_argument("--algorithm", choices=["ecdsa-p256", "rsa-2048"], default="ecdsa-p256")
    parser.add_argument("--profile", default="oman_ias", help="card profile name written to card.json")
    parser.add_argument("--pin", default="1234", help="demo PIN written to every card.json")
    args = parser.parse_args(argv)

    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    try:
        voters = (
            voters_from_roll(args.roll, now, args.pin) if args.roll else synthetic_voters(args.voters, now, args.pin)
        )
    except (OSError, RollFormatError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    kiosk_ids = args.kiosk_id or [f"kiosk-{i:03d}" for i in range(1, args.kiosks + 1)]
    started = time.perf_counter()
    pki = generate(
        args.out, voters, kiosk_ids, now=now, revoke=args.revoke, algorithm=args.algorithm, profile=args.profile
    )
    elapsed = time.perf_counter() - started
    print(
        f"TEST PKI written to {pki.out_dir}: {len(pki.voters)} voter cards, {len(pki.staff)} staff cards, "
        f"{len(pki.bad)} bad cards, {len(pki.kiosks)} kiosks in {elapsed:.2f} s"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Command line: generate a demo election definition directory."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from devtools.demo_election.build import Scale, build_definition
from devtools.demo_election.rollgen import NATIONAL_ROLL_SIZE
from devtools.demo_election.writer import DefinitionExistsError, write_definition


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.demo_election", description=__doc__)
    parser.add_argument("--scale", choices=[s.value for s in Scale], default=Scale.SMALL.value)
    parser.add_argument("--seed", type=int, default=2023)
    parser.add_argument("--out", type=Path, required=True, help="definition directory to write")
    parser.add_argument(
        "--roll-size",
        type=int,
        default=None,
        help=f"voters on the roll (default: 300 small, 5000 national; {NATIONAL_ROLL_SIZE} is the real 2023 size)",
    )
    parser.add_argument("--force", action="store_true", help="overwrite an existing definition")
    args = parser.parse_args(argv)
    if args.roll_size is not None and args.roll_size < 0:
        parser.error("--roll-size must not be negative")

    started = time.perf_counter()
    defn = build_definition(Scale(args.scale), args.seed)

    def progress(what: str, done: int, total: int) -> None:
        print(f"  {what}: {done}/{total}", file=sys.stderr)

    try:
        written = write_definition(defn, args.out, roll_size=args.roll_size, overwrite=args.force, progress=progress)
    except DefinitionExistsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    m = defn.manifest
    candidates = sum(len(c.candidates) for c in m.contests)
    print(
        f"{m.election_id}: {len(m.governorates)} governorates, {len(m.wilayats)} wilayats, "
        f"{sum(c.seats for c in m.contests)} seats, {candidates} candidates, {len(m.centres)} centres, "
        f"{len(m.kiosks)} kiosks, {written.voters} voters -> {written.directory} "
        f"({time.perf_counter() - started:.1f} s)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())

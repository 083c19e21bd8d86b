"""Build a small, complete election record for demonstrations and the verifier's tests.

    .venv/bin/python -m devtools.sample_record out/sample-record [--ballots 300] [--withheld 1] [--seed 1]

Uses the SMALL demo election (``devtools.demo_election``) when it is available and ``--manifest test`` is not
given; otherwise a fixed three-wilayat test manifest defined here (one two-seat contest, one withdrawn
candidate). Runs a 3-of-5 key ceremony, casts ballots from several kiosks with chained confirmation codes,
challenges some, withholds one (a provisional ballot the committee did not count: a `withheld` chain entry, not
tallied), tallies, decrypts with guardians 1, 3 and 5 (2 and 4 are compensated) and writes the record.
All randomness comes from a seeded generator: TEST MATERIAL, never for a real election.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
from pathlib import Path
from typing import Any

from election.manifest import Manifest


def _text(ar: str, en: str) -> dict[str, str]:
    return {"ar": ar, "en": en}


def _candidate(cid: str, number: int, withdrawn: bool = False) -> dict[str, Any]:
    return {
        "id": cid,
        "ballot_number": number,
        "name": _text(f"مرشح {cid}", f"Candidate {cid}"),
        "photo": f"photos/{cid}.png",
        "audio": _text(f"audio/ar/{cid}.ogg", f"audio/en/{cid}.ogg"),
        "withdrawn": withdrawn,
    }


def build_test_manifest() -> Manifest:
    """A fixed small manifest (TEST MATERIAL): W1 elects 2 of 5 (one withdrawn), W2 1 of 3, W3 1 of 4."""
    shapes = {"W1": (2, 5), "W2": (1, 3), "W3": (1, 4)}
    contests = []
    styles = []
    for code, (seats, count) in shapes.items():
        candidates = [_candidate(f"{code}-C{i}", i, withdrawn=(code == "W1" and i == 3)) for i in range(1, count + 1)]
        contests.append(
            {
                "id": f"shura-{code}",
                "wilayat": code,
                "kind": "shura",
                "name": _text(f"مجلس الشورى {code}", f"Shura Council {code}"),
                "seats": seats,
                "candidates": candidates,
            }
        )
        active = [c["id"] for c in candidates if not c["withdrawn"]]
        styles.append(
            {"id": f"style-{code}", "wilayat": code, "contests": [{"contest": f"shura-{code}", "candidates": active}]}
        )
    data = {
        "format_version": 1,
        "election_id": "test-election-2027",
        "kind": "shura",
        "name": _text("انتخابات تجريبية", "Test election"),
        "date": "2027-10-24",
        "polls_open": "07:00",
        "polls_close": "19:00",
        "timezone": "Asia/Muscat",
        "governorates": [{"code": "G1", "name": _text("محافظة", "Governorate")}],
        "wilayats": [{"code": c, "governorate": "G1", "name": _text(f"ولاية {c}", f"Wilayat {c}")} for c in shapes],
        "contests": contests,
        "centres": [
            {"id": "C1", "name": _text("مركز موحد", "Unified centre"), "wilayat": "W1", "unified": True, "serves": []},
            {"id": "C2", "name": _text("مركز", "Centre"), "wilayat": "W2", "unified": False, "serves": ["W3"]},
        ],
        "kiosks": [{"id": "K1", "centre": "C1"}, {"id": "K2", "centre": "C1"}, {"id": "K3", "centre": "C2"}],
        "ballot_styles": styles,
        "strings": {},
    }
    return Manifest.from_dict(data)


class SeededRandom:
    """Deterministic bytes for TEST MATERIAL (a SHA-256 counter stream)."""

    def __init__(self, seed: int) -> None:
        self._seed = seed.to_bytes(8, "big")
        self._counter = 0

    def __call__(self, n: int) -> bytes:
        out = b""
        while len(out) < n:
            self._counter += 1
            out += hashlib.sha256(self._seed + self._counter.to_bytes(8, "big")).digest()
        return out[:n]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out", type=Path)
    parser.add_argument("--ballots", type=int, default=300)
    parser.add_argument("--challenged", type=int, default=6)
    parser.add_argument("--withheld", type=int, default=1, help="provisional ballots the committee did not count")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--manifest", choices=["demo", "test"], default="demo")
    args = parser.parse_args(argv)
    manifest = _manifest(args.manifest)
    from devtools.sample_election import build_sample_record

    summary = build_sample_record(
        args.out,
        manifest,
        ballots=args.ballots,
        challenged=args.challenged,
        withheld=args.withheld,
        random_bytes=SeededRandom(args.seed),
    )
    print(summary)
    return 0


def _manifest(which: str) -> Manifest:
    if which == "demo":
        try:
            from devtools.demo_election.build import small_manifest
        except ImportError:
            print("devtools.demo_election is not available; using the built-in test manifest", file=sys.stderr)
            return build_test_manifest()
        return small_manifest()
    return build_test_manifest()


if __name__ == "__main__":
    random.seed(0)
    raise SystemExit(main())

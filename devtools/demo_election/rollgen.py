"""Write a synthetic electoral roll (docs/roll-format.md) for a demo manifest, streamed in chunks.

A full national roll (753,690 voters, as in 2023) takes a few seconds. Civil numbers are 8 digits,
unique and sorted; voters are spread over the wilayats with two-seat wilayats about three times as
large; about 2% are ineligible; every voter is at least 21 on election day.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

from devtools.demo_election.names import FAMILIES, FEMALE_GIVEN, MALE_GIVEN
from election.manifest import Manifest
from election.roll import ROLL_HEADER

NATIONAL_ROLL_SIZE = 753_690
INELIGIBLE_SHARE = 0.02
VOTING_AGE = 21
_CHUNK = 50_000


def write_roll(manifest: Manifest, path: Path, *, size: int, seed: int) -> int:
    """Write ``size`` voters to ``path``; returns the number written. Deterministic in ``seed``."""
    rng = random.Random(f"sanduq-demo:{seed}:{manifest.election_id}:roll")
    seats = {c.wilayat: c.seats for c in manifest.contests}
    codes = [w.code for w in manifest.wilayats]
    weights = [(3.0 if seats.get(code, 1) == 2 else 1.0) * rng.uniform(0.6, 1.4) for code in codes]
    civil_numbers = sorted(rng.sample(range(10_000_000, 100_000_000), size))
    oldest = dt.date(1935, 1, 1).toordinal()
    youngest = manifest.date.replace(year=manifest.date.year - VOTING_AGE).toordinal()
    span = youngest - oldest
    n_male, n_female, n_family = len(MALE_GIVEN), len(FEMALE_GIVEN), len(FAMILIES)
    written = 0
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f, lineterminator="\n")
        out.writerow(ROLL_HEADER)
        for start in range(0, size, _CHUNK):
            chunk = civil_numbers[start : start + _CHUNK]
            wilayats = rng.choices(codes, weights=weights, k=len(chunk))
            rows = []
            for civil, wilayat in zip(chunk, wilayats, strict=True):
                rnd = rng.random
                father_ar, father_en = MALE_GIVEN[int(rnd() * n_male)]
                family_m, family_f, family_en = FAMILIES[int(rnd() * n_family)]
                if rnd() < 0.5:
                    given_ar, given_en = FEMALE_GIVEN[int(rnd() * n_female)]
                    name_ar = f"{given_ar} بنت {father_ar} {family_f}"
                    name_en = f"{given_en} bint {father_en} {family_en}"
                else:
                    given_ar, given_en = MALE_GIVEN[int(rnd() * n_male)]
                    name_ar = f"{given_ar} بن {father_ar} {family_m}"
                    name_en = f"{given_en} bin {father_en} {family_en}"
                eligible = "no" if rnd() < INELIGIBLE_SHARE else "yes"
                birth = dt.date.fromordinal(oldest + int(rnd() * span)).isoformat()
                rows.append((civil, wilayat, eligible, name_ar, name_en, birth))
            out.writerows(rows)
            written += len(rows)
    return written

"""Where the test PKI's voters come from: a roll CSV, or synthetic identities."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from devtools.test_pki.model import VoterIdentity

ROLL_COLUMNS = ("civil_number", "wilayat", "eligible", "name_ar", "name_en", "birth_date")
DEFAULT_PIN = "1234"
CARD_YEARS = 5

_GIVEN = [
    ("محمد", "Mohammed"),
    ("أحمد", "Ahmed"),
    ("سالم", "Salim"),
    ("فاطمة", "Fatma"),
    ("خالد", "Khalid"),
    ("مريم", "Maryam"),
    ("سعيد", "Saeed"),
    ("عائشة", "Aisha"),
    ("ناصر", "Nasser"),
    ("زينب", "Zainab"),
    ("علي", "Ali"),
    ("شيخة", "Shaikha"),
    ("حمد", "Hamad"),
    ("نورة", "Noora"),
    ("يوسف", "Yousuf"),
]
_FATHER = [
    ("سعيد", "Saeed"),
    ("خميس", "Khamis"),
    ("ناصر", "Nasser"),
    ("علي", "Ali"),
    ("سالم", "Salim"),
    ("راشد", "Rashid"),
]
_FAMILY = [
    ("البلوشي", "Al Balushi"),
    ("الحارثي", "Al Harthy"),
    ("الكندي", "Al Kindi"),
    ("الرواحي", "Al Rawahi"),
    ("المعمري", "Al Maamari"),
    ("الهنائي", "Al Hinai"),
    ("السيابي", "Al Siyabi"),
    ("الغافري", "Al Ghafri"),
    ("العبري", "Al Abri"),
    ("الشكيلي", "Al Shukaili"),
    ("الوهيبي", "Al Wahaibi"),
]


class RollFormatError(ValueError):
    """The roll CSV lacks a required column or holds an unreadable row."""


def card_expiry_for(now: dt.datetime) -> dt.date:
    return (now + dt.timedelta(days=CARD_YEARS * 365)).date()


def voters_from_roll(path: Path, now: dt.datetime, pin: str = DEFAULT_PIN) -> list[VoterIdentity]:
    """Read ``civil_number,wilayat,eligible,name_ar,name_en,birth_date`` (extra columns tolerated)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        missing = [c for c in ROLL_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise RollFormatError(f"{path}: missing column(s) {', '.join(missing)}")
        voters = []
        for line, row in enumerate(reader, start=2):
            try:
                voters.append(
                    VoterIdentity(
                        civil_number=row["civil_number"].strip(),
                        name_ar=row["name_ar"].strip(),
                        name_en=row["name_en"].strip(),
                        birth_date=dt.date.fromisoformat(row["birth_date"].strip()),
                        card_expiry=card_expiry_for(now),
                        pin=pin,
                    )
                )
            except (ValueError, AttributeError) as exc:
                raise RollFormatError(f"{path}:{line}: {exc}") from exc
            if not voters[-1].civil_number.isdigit():
                raise RollFormatError(f"{path}:{line}: civil number must be digits")
    return voters


def synthetic_voters(
    count: int, now: dt.datetime, pin: str = DEFAULT_PIN, first: int = 10_000_001
) -> list[VoterIdentity]:
    """Deterministic invented voters: civil numbers ``first``, ``first + 1``, ...; names from small lists."""
    voters = []
    for i in range(count):
        given_ar, given_en = _GIVEN[i % len(_GIVEN)]
        father_ar, father_en = _FATHER[(i // len(_GIVEN)) % len(_FATHER)]
        family_ar, family_en = _FAMILY[(i * 7) % len(_FAMILY)]
        voters.append(
            VoterIdentity(
                civil_number=str(first + i),
                name_ar=f"{given_ar} {father_ar} {family_ar}",
                name_en=f"{given_en} {father_en} {family_en}",
                birth_date=dt.date(1950 + i % 55, 1 + i % 12, 1 + i % 28),
                card_expiry=card_expiry_for(now),
                pin=pin,
            )
        )
    return voters

"""The electoral roll: who may vote, and in which wilayat (the format is described in docs/roll-format.md).

``load_roll`` parses the roll's CSV at the edge into typed, frozen ``RollEntry`` values and checks it
against the manifest. It never stops at the first bad line: every problem (up to ``MAX_REPORTED_PROBLEMS``)
is collected with its line number into one ``RollError``, so an operator can fix the file in one pass.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import os
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import NewType

from election.manifest import BallotStyleId, CentreId, Manifest, WilayatCode

CivilNumber = NewType("CivilNumber", str)

ROLL_HEADER = ("civil_number", "wilayat", "eligible", "name_ar", "name_en", "birth_date")
MAX_REPORTED_PROBLEMS = 100

# Omani civil numbers are decimal; 8 digits today, 9 allowed for growth. A leading zero is refused so a
# number cannot have two spellings (spreadsheets drop leading zeros, and "012345678" != "12345678").
_CIVIL_NUMBER = re.compile(r"[1-9][0-9]{7,8}")
_ISO_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_ELIGIBLE = {"yes": True, "no": False}


class CivilNumberError(ValueError):
    """A civil number that is not 8 or 9 decimal digits without a leading zero."""


class RollError(ValueError):
    """The roll file is invalid; ``problems`` lists each one as ``"line N: ..."`` (at most
    ``MAX_REPORTED_PROBLEMS``), ``total`` counts them all."""

    def __init__(self, problems: Iterable[str], total: int) -> None:
        self.problems = tuple(problems)
        self.total = total
        more = total - len(self.problems)
        lines = [f"the electoral roll has {total} problem(s):", *self.problems]
        if more > 0:
            lines.append(f"... and {more} more")
        super().__init__("\n".join(lines))


def parse_civil_number(text: str) -> CivilNumber:
    """Parse a civil number (8 or 9 digits, no leading zero, no spaces or separators)."""
    if not _CIVIL_NUMBER.fullmatch(text):
        raise CivilNumberError(f"malformed civil number {text!r} (expected 8 or 9 digits, no leading zero)")
    return CivilNumber(text)


@dataclass(frozen=True, slots=True)
class RollEntry:
    civil_number: CivilNumber
    wilayat: WilayatCode
    eligible: bool
    name_ar: str | None = None
    name_en: str | None = None
    birth_date: dt.date | None = None


@dataclass(frozen=True)
class Roll:
    """A validated roll: unique civil numbers, each in a wilayat of the manifest."""

    entries: tuple[RollEntry, ...]
    _index: Mapping[CivilNumber, RollEntry] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_index", {e.civil_number: e for e in self.entries})

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[RollEntry]:
        return iter(self.entries)

    def __contains__(self, civil_number: object) -> bool:
        return civil_number in self._index

    def get(self, civil_number: CivilNumber) -> RollEntry | None:
        """The voter's entry, or None when the civil number is not on the roll."""
        return self._index.get(civil_number)

    def eligible_by_wilayat(self) -> dict[WilayatCode, int]:
        """Registered eligible voters per wilayat (the turnout denominator)."""
        return dict(Counter(e.wilayat for e in self.entries if e.eligible))

    def styles_at_centre(self, manifest: Manifest, centre: CentreId) -> dict[CivilNumber, BallotStyleId]:
        """The centre's offline copy of the roll: civil number -> ballot style of every eligible voter of a
        wilayat the centre serves (a unified centre serves every wilayat). A kiosk uses it only while the
        office is unreachable, to cast provisional ballots."""
        return {
            e.civil_number: manifest.style_for_wilayat(e.wilayat).id
            for e in self.entries
            if e.eligible and manifest.centre_serves(centre, e.wilayat)
        }


class _NotUtf8(Exception):
    def __init__(self, line: int) -> None:
        self.line = line


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    if data.startswith(codecs.BOM_UTF8):  # spreadsheet exports often start with a byte-order mark
        data = data[len(codecs.BOM_UTF8) :]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _NotUtf8(data.count(b"\n", 0, exc.start) + 1) from None


def load_roll(source: str | os.PathLike[str] | Iterable[str], manifest: Manifest) -> Roll:
    """Parse and validate a roll from a file path (str or Path) or from an iterable of CSV lines.

    Raises RollError listing every problem with its line number: wrong header, wrong field count,
    malformed civil number, unknown wilayat, eligible not yes/no, bad birth date, duplicate civil number.
    """
    wilayats = set(manifest.wilayats_by_code)
    problems: list[str] = []
    total = 0

    def problem(line: int, text: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < MAX_REPORTED_PROBLEMS:
            problems.append(f"line {line}: {text}")

    entries: list[RollEntry] = []
    first_seen: dict[str, int] = {}
    if isinstance(source, str | os.PathLike):
        try:
            lines: Iterable[str] = io.StringIO(_read_text(Path(source)), newline="")
        except _NotUtf8 as exc:
            raise RollError([f"line {exc.line}: not valid UTF-8 text"], 1) from None
    else:
        lines = source
    reader = csv.reader(lines, strict=True)
    try:
        header = next(reader, None)
    except csv.Error as exc:
        raise RollError([f"line 1: unreadable header ({exc})"], 1) from None
    if header is None:
        raise RollError(["line 1: the file is empty (expected the header)"], 1)
    if tuple(h.strip() for h in header) != ROLL_HEADER:
        raise RollError([f"line 1: header must be {','.join(ROLL_HEADER)!r}, found {','.join(header)!r}"], 1)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            problem(reader.line_num, f"unreadable line ({exc})")
            continue
        line = reader.line_num
        if not row:
            continue  # blank line
        if len(row) != len(ROLL_HEADER):
            problem(line, f"expected {len(ROLL_HEADER)} fields, found {len(row)}")
            continue
        civil, wilayat, eligible, name_ar, name_en, birth = row
        civil, wilayat, eligible, birth = civil.strip(), wilayat.strip(), eligible.strip(), birth.strip()
        ok = True
        if not _CIVIL_NUMBER.fullmatch(civil):
            problem(line, f"malformed civil number {civil!r} (expected 8 or 9 digits, no leading zero)")
            ok = False
        elif civil in first_seen:
            problem(line, f"duplicate civil number {civil} (first on line {first_seen[civil]})")
            ok = False
        else:
            first_seen[civil] = line
        if wilayat not in wilayats:
            problem(line, f"unknown wilayat {wilayat!r}")
            ok = False
        if eligible not in _ELIGIBLE:
            problem(line, f"eligible must be 'yes' or 'no', found {eligible!r}")
            ok = False
        birth_date: dt.date | None = None
        if birth:
            try:
                if not _ISO_DATE.fullmatch(birth):
                    raise ValueError
                birth_date = dt.date.fromisoformat(birth)
            except ValueError:
                problem(line, f"bad birth date {birth!r} (expected YYYY-MM-DD)")
                ok = False
        if ok:
            entries.append(
                RollEntry(
                    civil_number=CivilNumber(civil),
                    wilayat=WilayatCode(wilayat),
                    eligible=_ELIGIBLE[eligible],
                    name_ar=name_ar.strip() or None,
                    name_en=name_en.strip() or None,
                    birth_date=birth_date,
                )
            )
    if total:
        raise RollError(problems, total)
    return Roll(tuple(entries))

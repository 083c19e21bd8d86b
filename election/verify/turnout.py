"""Checks ``turnout`` (cast ballots against the poll book's check-ins, docs/election-record.md check 8) and
``record-files`` (every file and directory of the record is a known part of it)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from election.verify.parts import Progress
from election.verify.primitives import Invalid, obj
from election.verify.state import State
from election.verify.strict_json import load


def check_turnout(s: State, progress: Progress) -> str:
    raw = load(s.root / "pollbook_counts.json")
    keys = ["format_version", "ballots_per_style"]
    if isinstance(raw, dict) and "not_counted_per_style" in raw:
        keys.append("not_counted_per_style")
    data = obj(raw, keys, "pollbook_counts.json")
    not_counted = data.get("not_counted_per_style", {})
    if not isinstance(not_counted, dict) or not all(
        isinstance(k, str) and type(v) is int and v >= 0 for k, v in not_counted.items()
    ):
        raise Invalid("pollbook_counts.json: not_counted_per_style must map ballot styles to counts")
    per_style: dict[str, int] = {st.id: 0 for st in s.m.ballot_styles}
    for style_id, count in s.cast.per_style().items():
        per_style[style_id] += count
    progress(1, 1)
    book = {k: v for k, v in data["ballots_per_style"].items() if v}
    # Every voter marked voted has a counted ballot, or a ballot that is not counted (refused at ingest or not
    # counted by the committee) whose link is withheld in a kiosk chain; the office cannot tell which refused
    # ballot had a voter (nothing links them), so its count is an upper bound: cast <= book <= cast + not counted.
    bad = sorted(
        k
        for k in set(book) | set(per_style) | set(not_counted)
        if not per_style.get(k, 0) <= book.get(k, 0) <= per_style.get(k, 0) + not_counted.get(k, 0)
    )
    if bad:
        raise Invalid(f"cast ballots differ from the poll book's check-ins for style(s) {', '.join(bad)}")
    # Each voter whose ballot is not counted must have a visible, withheld link in a kiosk chain: the office
    # cannot explain away a missing ballot without one.
    links = sum(1 for reason in s.withheld.values() if reason in ("refused-at-ingest", "flagged-not-counted"))
    excused = sum(not_counted.values())
    if excused > links:
        raise Invalid(
            f"pollbook_counts.json says {excused} voter(s) have a ballot not counted, but the kiosk chains "
            f"withhold only {links} refused or flagged link(s)"
        )
    cast, voted = sum(per_style.values()), sum(book.values())
    relation = "=" if cast == voted else f"+ {voted - cast} with a ballot not counted (withheld link) ="
    withheld = f"{len(s.withheld)} withheld not counted"
    return f"{cast} cast ballots {relation} {voted} poll-book check-ins, per style ({withheld})"


def _entries(directory: Path, relative: str = "") -> Iterator[tuple[str, os.DirEntry[str]]]:
    """Every file and directory under ``directory`` (as ``Path.rglob("*")`` finds them: not under a link to a
    directory), with its path relative to the record, one at a time: no list of a national record's files."""
    try:
        entries = os.scandir(directory)
    except OSError:  # as rglob: a directory that is gone or unreadable has no entries
        return
    with entries:
        for entry in entries:
            path = f"{relative}{entry.name}"
            yield path, entry
            if entry.is_dir() and not entry.is_symlink():
                yield from _entries(Path(entry.path), f"{path}/")


def check_record_files(s: State, progress: Progress) -> str:
    """Every file and directory of the record is a known part of it (``RECORD_PARTS``); anything else fails."""
    unexpected: list[tuple[list[str], str]] = []  # (path's parts, what is said of it): said in path order
    files = 0
    for relative, entry in _entries(s.root):
        if entry.is_symlink():
            unexpected.append((relative.split("/"), f"{relative} (a symbolic link)"))
        elif entry.is_dir():
            if not any(part.covers_directory(relative) for part in s.known_parts):
                unexpected.append((relative.split("/"), f"{relative}/"))
        elif not any(part.matches(relative) for part in s.known_parts):
            unexpected.append((relative.split("/"), relative))
        else:
            files += 1
    progress(1, 1)
    if unexpected:
        said = [what for _parts, what in sorted(unexpected)]
        shown = ", ".join(said[:5]) + (f" and {len(said) - 5} more" if len(said) > 5 else "")
        raise Invalid(f"{len(said)} unexpected file(s) or directory(ies) in the record: {shown}")
    return f"{files} files, every one a known part of the record"

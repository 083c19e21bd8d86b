"""What the verifier keeps of each verified cast ballot, in a temporary SQLite file rather than in memory, so that a
national record (500,000 ballots and more) verifies with memory flat (issue #20).

``CastIndex`` is ``State.cast``: per ballot id, its kiosk, style, ballot hash and published confirmation code (the
``CastInfo`` the whole-record checks compare), which of the record's ballot ids the chains check has seen, and the
sorted names of the ballot files the ballots check is to read. The file (``sanduq-verify-<pid>-*/cast.sqlite3`` under
the system's temporary directory) is made on first use and removed when the index is closed, collected, or the
process exits (SIGTERM and Ctrl-C included: ``python -m election.verify`` turns them into an orderly exit); a run
that was killed outright leaves its directory, which the next run removes (``sweep_stale``: its process is gone).
It holds nothing that is not in the published record. Rows are written in batches; every read sees the rows
added before it.

Stored forms: a ballot id as its UTF-8 bytes (``surrogatepass``: any Python string, in code-point order, so that
``ORDER BY`` gives Python's ``sorted``); a kiosk that is a string as text and a code key (``code_key``) as a blob
(or text); a kiosk or code of another JSON type, or a string with no UTF-8 (a malformed record, which a later
comparison refuses) as its JSON in ``odd_kiosk`` or ``odd_code``, so that every value reads back equal to the one
added.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sqlite3
import tempfile
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

#: what the whole-record checks keep of a verified cast ballot: (kiosk, style id, ballot hash, confirmation code)
CastInfo = tuple[Any, str, bytes, Any]

BATCH = 512
"""Rows added before they are written (one ``executemany``)."""
PAGE = 1024
"""Rows read per query when a whole column is streamed."""
CACHE_KIB = 2048
"""SQLite's page cache (its default: what of the file stays in memory, however many ballots; a larger one saves no
measurable time, the operating system caches the file too)."""

_SCHEMA = """
CREATE TABLE cast_ballot (id BLOB PRIMARY KEY, kiosk TEXT, style TEXT NOT NULL, hash BLOB NOT NULL, code,
                          odd_kiosk TEXT, odd_code TEXT);
CREATE TABLE seen (id BLOB PRIMARY KEY) WITHOUT ROWID;
CREATE TABLE file_name (name BLOB PRIMARY KEY) WITHOUT ROWID;
"""
_GET = "SELECT kiosk, style, hash, code, odd_kiosk, odd_code FROM cast_ballot WHERE id = ?"
_IN_ORDER = (
    "SELECT rowid, id, kiosk, style, hash, code, odd_kiosk, odd_code FROM cast_ballot WHERE rowid > ? ORDER BY rowid "
    "LIMIT ?"
)
_OF_KIOSK = "SELECT id, kiosk, style, hash, code, odd_kiosk, odd_code FROM cast_ballot WHERE kiosk = ? "
_ROW = "INSERT INTO cast_ballot (id, kiosk, style, hash, code, odd_kiosk, odd_code) VALUES (?, ?, ?, ?, ?, ?, ?)"
Row = tuple[bytes, str | None, str, bytes, Any, str | None, str | None]


def _key(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _text(key: bytes) -> str:
    return key.decode("utf-8", "surrogatepass")


def _plain(value: Any) -> bool:
    """A string SQLite stores as text as it is (valid UTF-8: no lone surrogate)."""
    if type(value) is not str:
        return False
    if value.isascii():
        return True
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _stored(value: Any) -> tuple[Any, str | None]:
    """(the value as a column holds it, None), or (NULL, its JSON) for a value of another JSON type."""
    return (value, None) if type(value) is bytes or _plain(value) else (None, json.dumps(value))


def _row(bid: str, info: CastInfo) -> Row:
    kiosk, style, ballot_hash, code = info
    if type(kiosk) is str and type(code) is bytes and kiosk.isascii():  # every ballot of a well-formed record
        return _key(bid), kiosk, style, ballot_hash, code, None, None
    (kiosk, odd_kiosk), (code, odd_code) = _stored(kiosk), _stored(code)
    return _key(bid), kiosk, style, ballot_hash, code, odd_kiosk, odd_code


def _info(
    kiosk: Any, style: str, ballot_hash: bytes, code: Any, odd_kiosk: str | None, odd_code: str | None
) -> CastInfo:
    if odd_kiosk is not None:
        kiosk = json.loads(odd_kiosk)
    if odd_code is not None:
        code = json.loads(odd_code)
    return kiosk, style, ballot_hash, code


_PREFIX = "sanduq-verify-"
_STALE = re.compile(re.escape(_PREFIX) + r"([0-9]+)-")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process
        return True
    return True


def sweep_stale(parent: str | None = None) -> list[str]:
    """Remove the index directories (``sanduq-verify-<pid>-*``) that this user's verifier runs left behind when
    they were killed (SIGKILL, a power cut: no chance to remove their own), those whose process is gone; returns
    their names. Another user's directories and a live run's are left alone."""
    parent = parent or tempfile.gettempdir()
    removed: list[str] = []
    try:
        entries = list(os.scandir(parent))
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.match(entry.name)
        if match is None:
            continue
        try:
            mine = entry.is_dir(follow_symlinks=False) and entry.stat(follow_symlinks=False).st_uid == os.getuid()
        except OSError:
            continue
        if mine and not _alive(int(match[1])):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed.append(entry.name)
    return removed


def _remove(connection: sqlite3.Connection, directory: str, owner: int) -> None:
    if os.getpid() != owner:  # a forked worker of the pool: the file is its parent's
        return
    connection.close()
    shutil.rmtree(directory, ignore_errors=True)


class CastIndex:
    """The verified cast ballots by id (``in``, ``get``, ``len``, in the order added, sorted ids, counts per style),
    the ballot ids the chains check has seen, and the sorted names of the ballot files to read."""

    def __init__(self) -> None:
        self._db: sqlite3.Connection | None = None
        self._pending: dict[str, CastInfo] = {}
        self._count = 0
        self._close: weakref.finalize[[sqlite3.Connection, str, int], CastIndex] | None = None

    # ---- the file ----------------------------------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._db is None:
            sweep_stale()
            directory = tempfile.mkdtemp(prefix=f"{_PREFIX}{os.getpid()}-")
            db = sqlite3.connect(Path(directory) / "cast.sqlite3", isolation_level=None)
            db.execute("PRAGMA journal_mode = OFF")  # a scratch file: nothing to roll back or recover
            db.execute("PRAGMA synchronous = OFF")
            db.execute(f"PRAGMA cache_size = -{CACHE_KIB}")
            db.executescript(_SCHEMA)
            db.execute("BEGIN")  # one transaction for the index's life: every read sees every row, nothing to commit
            self._db = db
            self._close = weakref.finalize(self, _remove, db, directory, os.getpid())
        return self._db

    def close(self) -> None:
        """Remove the file (the index is empty afterwards)."""
        if self._close is not None:
            self._close()
        self._db, self._close, self._pending, self._count = None, None, {}, 0

    def _flushed(self) -> sqlite3.Connection:
        db = self._connection()
        if self._pending:
            db.executemany(_ROW, [_row(bid, info) for bid, info in self._pending.items()])
            self._pending = {}
        return db

    # ---- the cast ballots --------------------------------------------------------------------------------------

    def add(self, bid: str, info: CastInfo) -> None:
        """A verified cast ballot; the caller checks first that ``bid`` is not in the index."""
        self._pending[bid] = info
        self._count += 1
        if len(self._pending) >= BATCH:
            self._flushed()

    def get(self, bid: object) -> CastInfo | None:
        if not isinstance(bid, str):
            return None
        pending = self._pending.get(bid)
        if pending is not None or self._db is None:
            return pending
        found = self._db.execute(_GET, (_key(bid),)).fetchone()
        return None if found is None else _info(*found)

    def __contains__(self, bid: object) -> bool:
        return self.get(bid) is not None

    def __len__(self) -> int:
        return self._count

    def items(self) -> Iterator[tuple[str, CastInfo]]:
        """Every ballot with what is kept of it, in the order added."""
        if not self._count:
            return
        db, after = self._flushed(), 0
        while True:
            rows = db.execute(_IN_ORDER, (after, PAGE)).fetchall()
            for rowid, bid, *info in rows:
                yield _text(bid), _info(*info)
                after = rowid
            if len(rows) < PAGE:
                return

    def ids(self) -> Iterator[str]:
        """Every ballot id, sorted (as ``sorted`` sorts strings)."""
        return self._sorted("cast_ballot", "id")

    def of_kiosk(self, kiosk: str) -> Iterator[tuple[str, CastInfo]]:
        """The ballots whose kiosk is ``kiosk``, sorted by id."""
        if not self._count:
            return
        db, after = self._flushed(), None
        while True:
            if after is None:
                rows = db.execute(_OF_KIOSK + "ORDER BY id LIMIT ?", (kiosk, PAGE)).fetchall()
            else:
                rows = db.execute(_OF_KIOSK + "AND id > ? ORDER BY id LIMIT ?", (kiosk, after, PAGE)).fetchall()
            for bid, *info in rows:
                yield _text(bid), _info(*info)
                after = bid
            if len(rows) < PAGE:
                return

    def per_style(self, *, except_kiosk: str | None = None) -> dict[str, int]:
        """Ballots per style id (only styles with a ballot), of every kiosk but ``except_kiosk`` if given."""
        if not self._count:
            return {}
        db = self._flushed()
        if except_kiosk is None:
            rows = db.execute("SELECT style, COUNT(*) FROM cast_ballot GROUP BY style")
        else:  # IS NOT: a kiosk that is no string (NULL here) is another kiosk too
            rows = db.execute(
                "SELECT style, COUNT(*) FROM cast_ballot WHERE kiosk IS NOT ? GROUP BY style", (except_kiosk,)
            )
        return dict(rows.fetchall())

    # ---- the ballot ids the chains check has seen --------------------------------------------------------------

    def see(self, bid: str) -> bool:
        """Note that a chain link names ``bid``; False if one did before."""
        try:
            self._flushed().execute("INSERT INTO seen (id) VALUES (?)", (_key(bid),))
        except sqlite3.IntegrityError:
            return False
        return True

    def seen_count(self) -> int:
        if self._db is None:
            return 0
        return int(self._db.execute("SELECT COUNT(*) FROM seen").fetchone()[0])

    def unseen(self, others: Iterable[str]) -> tuple[int, str | None]:
        """How many of the cast ballots and of ``others`` (ids of other ballots) no chain link named, and the least
        of them."""
        db = self._flushed()
        count, least = db.execute(
            "SELECT COUNT(*), MIN(id) FROM cast_ballot WHERE id NOT IN (SELECT id FROM seen)"
        ).fetchone()
        first = None if least is None else _text(least)
        for bid in others:
            if db.execute("SELECT 1 FROM seen WHERE id = ?", (_key(bid),)).fetchone() is None:
                count += 1
                first = bid if first is None else min(first, bid)
        return int(count), first

    # ---- the names of the ballot files to read ------------------------------------------------------------------

    def stage_names(self, names: Iterable[str]) -> int:
        """Keep ``names`` (distinct file names) to be read back sorted by ``staged_names``; returns how many."""
        db, count, batch = self._connection(), 0, list[tuple[bytes]]()
        db.execute("DELETE FROM file_name")
        for name in names:
            batch.append((_key(name),))
            if len(batch) >= BATCH:
                db.executemany("INSERT INTO file_name (name) VALUES (?)", batch)
                count, batch = count + len(batch), []
        db.executemany("INSERT INTO file_name (name) VALUES (?)", batch)
        return count + len(batch)

    def staged_names(self) -> Iterator[str]:
        """The names given to ``stage_names``, sorted (as ``sorted`` sorts strings)."""
        return self._sorted("file_name", "name")

    def _sorted(self, table: str, column: str) -> Iterator[str]:
        if self._db is None and not self._pending:
            return
        db, after = self._flushed(), None
        query = f"SELECT {column} FROM {table} {{}} ORDER BY {column} LIMIT ?"  # noqa: S608 - our own names
        while True:
            if after is None:
                rows = db.execute(query.format(""), (PAGE,)).fetchall()
            else:
                rows = db.execute(query.format(f"WHERE {column} > ?"), (after, PAGE)).fetchall()
            for (key,) in rows:
                yield _text(key)
                after = key
            if len(rows) < PAGE:
                return


__all__ = ["CastIndex", "CastInfo"]

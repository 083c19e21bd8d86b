"""Shard results and their merge (``--shard i/n --out FILE``, then ``--merge FILE...``; docs/election-record.md,
"Verifying on several machines").

A shard run checks the record's files, its parameters, and the cast and challenged ballots of its shard
(``election.verify.shard``), and writes what the whole-record checks need of them: per ballot its id, kiosk,
confirmation code, style, ballot hash and the SHA-256 of the file it checked; the shard's sums of the cast
ballots' ciphertexts; its checks' results; the listing of the record's ballot files it saw. The merge runs every
check of the record, taking the per-ballot work from the shard results: it refuses a result that was altered
(``result_hash``), that belongs to another election or another listing of the record, whose checks did not all
pass, or that holds a ballot of another shard; it requires shards 1..n each exactly once, and every ballot file of
the record in exactly one of them, byte for byte the file the shard checked. The sums then go through the tally,
decryption, results and turnout checks like the sums of a run on one machine.

What the merge cannot see: whether a shard's machine really checked the proofs it says it checked. The shard
results are the observer's own (each is the output of the observer's verifier on a machine the observer trusts);
a result made up by someone else proves nothing, which is why the merge takes them only as files the observer
names.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from election.canonical import canonical_json
from election.group import IDENTITY, GroupElement
from election.verify.parts import Progress
from election.verify.primitives import Invalid, code_key, code_text, obj, point, shared
from election.verify.shard import Shard, listing_hash, shard_of
from election.verify.strict_json import load

if TYPE_CHECKING:
    from election.verify.state import State

SHARD_FORMAT = "sanduq-verify-shard:v1"
#: the checks a shard runs (the rest are the merge's)
SHARD_CHECKS = ("record-files", "parameters", "ballots", "challenged")
RESULT_KEYS = [
    "format", "shard", "shards", "manifest_hash", "base_hash", "ballot_files", "listing_hash", "checks", "cast",
    "challenged", "sums", "result_hash",
]  # fmt: skip
_HEX64 = re.compile(r"[0-9a-f]{64}")


def result_hash(result: dict[str, Any]) -> str:
    """SHA-256 hex of the canonical JSON of a shard result without its ``result_hash`` member."""
    return hashlib.sha256(canonical_json({k: v for k, v in result.items() if k != "result_hash"})).hexdigest()


def shard_result(s: State, shard: Shard, checks: list[tuple[str, str, str]]) -> dict[str, Any]:
    """The shard result of a shard run whose state is ``s`` and whose checks ended as ``checks`` (name, PASS /
    FAIL / SKIPPED, message)."""
    count, listing = listing_hash(s.root)
    manifest_hash = s.manifest.manifest_hash if s.manifest is not None else ""
    result: dict[str, Any] = {
        "format": SHARD_FORMAT,
        "shard": shard.index,
        "shards": shard.count,
        "manifest_hash": manifest_hash,
        "base_hash": s.h_e.hex(),
        "ballot_files": count,
        "listing_hash": listing,
        "checks": [{"check": name, "result": outcome, "message": message} for name, outcome, message in checks],
        "cast": [
            [bid, kiosk, code_text(code), style, ballot_hash.hex(), s.file_digests[f"cast/{bid}.json"].hex()]
            for bid, (kiosk, style, ballot_hash, code) in s.cast.items()
        ],
        "challenged": [
            [
                bid,
                s.challenged_kiosk[bid],
                code,
                s.challenged_hash[bid].hex(),
                s.file_digests[f"challenged/{bid}.json"].hex(),
            ]
            for bid, code in s.challenged_codes.items()
        ],
        "sums": [
            [contest, selection, alpha.hex(), beta.hex()]
            for contest, row in sorted(s.tally.items())
            for selection, (alpha, beta) in sorted(row.items())
        ],
    }
    result["result_hash"] = result_hash(result)
    return result


def _hex64(value: Any, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX64.fullmatch(value):
        raise Invalid(f"{what}: expected 64 lower-case hex digits")
    return bytes.fromhex(value)


def _row(value: Any, length: int, what: str) -> list[Any]:
    if not isinstance(value, list) or len(value) != length or not isinstance(value[0], str):
        raise Invalid(f"{what}: expected a list of {length} values starting with a ballot id")
    return value


class _Merge:
    """The merge's running state: which shards were seen, the files covered, the summed ciphertexts."""

    def __init__(self, s: State, progress: Progress) -> None:
        self.s = s
        self.progress = progress
        self.files, self.listing = listing_hash(s.root)
        self.count: int | None = None
        self.seen: dict[int, str] = {}
        self.covered = 0
        self.sums: dict[tuple[str, str], tuple[GroupElement, GroupElement]] = {}
        self.selections = {(c.id, sel) for c in s.m.contests for sel in [*c.selection_ids, "#blank"]}

    def _same_file(self, kind: str, bid: str, digest: Any, where: str) -> None:
        """The record's ``ballots/<kind>/<bid>.json`` is, byte for byte, the file the shard checked."""
        expected = _hex64(digest, f"{where}: {bid}: file SHA-256")
        path = self.s.root / "ballots" / kind / f"{bid}.json"
        if path.is_symlink() or not path.is_file():
            raise Invalid(f"{where} holds {kind} ballot {bid}, which is not in the record")
        if hashlib.sha256(path.read_bytes()).digest() != expected:
            raise Invalid(f"ballots/{kind}/{bid}.json differs from the file {where} checked")
        self.covered += 1
        self.progress(self.covered, self.files)

    def _owned(self, shard: Shard, bid: str, where: str) -> None:
        if not shard.holds(f"{bid}.json"):
            raise Invalid(f"{where} holds {bid}, a ballot of shard {shard_of(f'{bid}.json', shard.count)}")
        if bid in self.s.cast or bid in self.s.challenged_codes:
            raise Invalid(f"{where}: {bid} is in more than one shard result (or cast and challenged at once)")

    def add(self, path: Path) -> None:
        where = path.name
        data = obj(load(path), RESULT_KEYS, where)
        if data["format"] != SHARD_FORMAT:
            raise Invalid(f"{where}: not a shard result ({SHARD_FORMAT})")
        if data["result_hash"] != result_hash(data):
            raise Invalid(f"{where}: altered after it was written (its result_hash does not match its content)")
        index, count = data["shard"], data["shards"]
        if type(index) is not int or type(count) is not int or not 1 <= index <= count:
            raise Invalid(f"{where}: shard and shards must be integers with 1 <= shard <= shards")
        if self.count is None:
            self.count = count
        if count != self.count:
            raise Invalid(f"{where} is shard {index}/{count}, but another result is of {self.count} shards")
        if index in self.seen:
            raise Invalid(f"{where} and {self.seen[index]} are both shard {index}/{count}")
        self.seen[index] = where
        shard = Shard(index, count)
        where = f"{where} (shard {shard})"
        s = self.s
        if data["manifest_hash"] != s.m.manifest_hash or data["base_hash"] != s.h_e.hex():
            raise Invalid(f"{where} is a result of another election's record (manifest hash or H_E)")
        if data["ballot_files"] != self.files or data["listing_hash"] != self.listing:
            raise Invalid(
                f"{where} was made on another listing of the ballot files ({data['ballot_files']} files, listing "
                f"{str(data['listing_hash'])[:16]}...); the record has {self.files} ({self.listing[:16]}...)"
            )
        checks = data["checks"]
        if not isinstance(checks, list) or [c.get("check") if isinstance(c, dict) else None for c in checks] != list(
            SHARD_CHECKS
        ):
            raise Invalid(f"{where}: its checks are not exactly {', '.join(SHARD_CHECKS)}")
        for c in checks:
            if c.get("result") != "PASS":
                raise Invalid(f"{where}: its check {c['check']} did not pass ({c.get('result')}: {c.get('message')})")
        for raw in _list(data["cast"], where):
            bid, kiosk, code, style, ballot_hash, digest = _row(raw, 6, f"{where}: cast")
            self._owned(shard, bid, where)
            if not isinstance(kiosk, str) or not isinstance(style, str) or style not in s.m.styles_by_id:
                raise Invalid(f"{where}: cast {bid}: kiosk or style is not one of the manifest's")
            self._same_file("cast", bid, digest, where)
            s.cast.add(
                bid, (shared(kiosk), shared(style), _hex64(ballot_hash, f"{where}: {bid}: ballot hash"), code_key(code))
            )
        for raw in _list(data["challenged"], where):
            bid, kiosk, code, ballot_hash, digest = _row(raw, 5, f"{where}: challenged")
            self._owned(shard, bid, where)
            self._same_file("challenged", bid, digest, where)
            s.challenged_codes[bid] = code
            s.challenged_kiosk[bid] = kiosk
            s.challenged_hash[bid] = _hex64(ballot_hash, f"{where}: {bid}: ballot hash")
        seen_sums: set[tuple[str, str]] = set()
        for raw in _list(data["sums"], where):
            if not isinstance(raw, list) or len(raw) != 4:
                raise Invalid(f"{where}: a sum is not [contest, selection, alpha, beta]")
            key = (raw[0], raw[1])
            if key not in self.selections or key in seen_sums:
                raise Invalid(f"{where}: a sum for an unknown or repeated selection {key}")
            seen_sums.add(key)
            alpha, beta = point(raw[2], identity=True), point(raw[3], identity=True)
            a, b = self.sums.get(key, (IDENTITY, IDENTITY))
            self.sums[key] = (a + alpha, b + beta)

    def finish(self) -> str:
        count = self.count or 0
        missing = sorted(set(range(1, count + 1)) - set(self.seen))
        if missing:
            raise Invalid(f"shard result(s) missing: {', '.join(f'{i}/{count}' for i in missing)}")
        if self.covered != self.files:
            raise Invalid(
                f"the shard results cover {self.covered} of the record's {self.files} ballot files (a file no shard "
                "checked)"
            )
        for (contest, selection), ct in self.sums.items():
            self.s.tally.setdefault(contest, {})[selection] = ct
        per_style = self.s.cast.per_style()
        styles = ", ".join(f"{k}: {v}" for k, v in sorted(per_style.items()))
        return (
            f"{len(self.s.cast)} cast ballots, every proof valid ({styles}); from {count} shard results covering "
            f"each of the {self.files} ballot files exactly once, unchanged since checked"
        )


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise Invalid(f"{where}: cast, challenged and sums must be lists")
    return value


def merge_shard_results(s: State, progress: Progress) -> str:
    """The ``ballots`` check of a merge: every shard result of ``s.merge`` taken in (see the module docstring)."""
    merge = _Merge(s, progress)
    for path in s.merge:
        merge.add(path)
    return merge.finish()


__all__ = ["SHARD_CHECKS", "SHARD_FORMAT", "merge_shard_results", "result_hash", "shard_result"]

"""Which shard checks which ballot (``python -m election.verify --shard i/n``; docs/election-record.md, "Verifying
on several machines").

The per-ballot work (every proof of every cast ballot, every challenged ballot's opening) is split by ballot file
name: the file ``<ballot id>.json`` belongs to shard ``1 + (U64(SHA-256("sanduq-verify-shard:v1:" || name)) mod
n)``, where ``U64`` reads the digest's first 8 bytes as a big-endian integer. A ballot id published both as cast
and as challenged lands in one shard, which sees the conflict. The assignment needs no listing of the record, so
every machine computes the same split on its own; the merge checks that the shards together cover the record's
listing (``listing_hash``) exactly.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

SHARD_DOMAIN = b"sanduq-verify-shard:v1:"
#: at most this many shards (a shard per core of a large cluster; more is a typing error)
MAX_SHARDS = 100_000
_SPEC = re.compile(r"([1-9][0-9]{0,5})/([1-9][0-9]{0,5})")
BALLOT_KINDS = ("cast", "challenged")


class ShardError(ValueError):
    """A ``--shard`` argument that is not ``i/n`` with 1 <= i <= n."""


def shard_of(name: str, count: int) -> int:
    """The shard (1..count) of the ballot file ``name`` (``<ballot id>.json``)."""
    digest = hashlib.sha256(SHARD_DOMAIN + name.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") % count + 1


@dataclass(frozen=True)
class Shard:
    index: int
    count: int

    @staticmethod
    def parse(text: str) -> Shard:
        match = _SPEC.fullmatch(text.strip())
        if match is None:
            raise ShardError(f"--shard {text!r}: expected i/n, for example 2/8")
        index, count = int(match[1]), int(match[2])
        if not 1 <= index <= count or count > MAX_SHARDS:
            raise ShardError(f"--shard {text}: i must be 1..n and n at most {MAX_SHARDS}")
        return Shard(index, count)

    def holds(self, name: str) -> bool:
        return shard_of(name, self.count) == self.index

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def ballot_names(root: Path, kind: str) -> list[str]:
    """The sorted names of the files ``ballots/<kind>/*.json`` (regular files and links alike: the record-files
    check refuses a link, the loader too)."""
    directory = root / "ballots" / kind
    if not directory.is_dir():
        return []
    return sorted(name for name in os.listdir(directory) if name.endswith(".json"))


def listing_hash(root: Path) -> tuple[int, str]:
    """(number of ballot files, SHA-256 hex of their listing): the lines ``<kind>/<name>\\n`` of every
    ``ballots/cast/*.json`` then every ``ballots/challenged/*.json``, each kind sorted, UTF-8."""
    digest = hashlib.sha256()
    count = 0
    for kind in BALLOT_KINDS:
        for name in ballot_names(root, kind):
            digest.update(f"{kind}/{name}\n".encode())
            count += 1
    return count, digest.hexdigest()


__all__ = ["Shard", "ShardError", "ballot_names", "listing_hash", "shard_of"]

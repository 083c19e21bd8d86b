"""What the verifier's checks share while they run over one record: the ``State`` each check reads and extends
(the parameters, what is kept of each verified ballot, the recomputed chains and tally), and small helpers."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.canonical import canonical_json
from election.group import IDENTITY, GroupElement
from election.manifest import Manifest
from election.verify.cast_index import CastIndex
from election.verify.parts import RecordPart, Stage
from election.verify.primitives import Invalid
from election.verify.shard import Shard, ballot_names

BLANK = "#blank"


@dataclass
class State:
    root: Path
    manifest: Manifest | None = None
    n: int = 0
    k: int = 0
    key: GroupElement = IDENTITY
    h_e: bytes = b""
    commitments: list[list[GroupElement]] = field(default_factory=list)
    #: id -> (kiosk, style, ballot hash, confirmation code as published): all the whole-record checks keep of a
    #: cast ballot, in a temporary SQLite file (memory flat however many ballots), and the ids the chains saw
    cast: CastIndex = field(default_factory=CastIndex)
    challenged_codes: dict[str, str] = field(default_factory=dict)
    challenged_kiosk: dict[str, str] = field(default_factory=dict)
    challenged_hash: dict[str, bytes] = field(default_factory=dict)
    withheld: dict[str, str] = field(default_factory=dict)  # id -> reason: in a chain, never counted
    #: kiosk -> its batch chain as recomputed by the chains check: per batch, its root (hex) and its links counted
    #: by status (cast, challenged, withheld, provisional-not-counted), for the closes check
    batches: dict[str, list[tuple[str, dict[str, int]]]] = field(default_factory=dict)
    tally: dict[str, dict[str, tuple[GroupElement, GroupElement]]] = field(default_factory=dict)
    combined: dict[tuple[str, str], GroupElement] = field(default_factory=dict)
    jobs: int = 1
    """Processes for the cast ballots' proofs (the bulk of the work); 1 checks them in this process."""
    stage: Stage = Stage.PUBLISHED
    #: the parts of the record the checks of this run read (any other file is unexpected); set by the runner
    known_parts: tuple[RecordPart, ...] = ()
    #: kiosks the observer accepts without a signed close (``--allow-unclosed KIOSK``), for the closes check
    allow_unclosed: frozenset[str] = frozenset()
    #: encrypted_tally.json as read (and checked equal to the recomputed sums) by ``check_tally``
    tally_raw: dict[str, Any] = field(default_factory=dict)
    #: ``--shard i/n``: only the cast and challenged ballots of this shard are checked (election.verify.shards)
    shard: Shard | None = None
    #: ``--merge``: the shard results whose per-ballot checks this run takes, instead of checking the ballots
    merge: tuple[Path, ...] = ()
    #: in a shard run, the SHA-256 of the bytes of each ballot file checked, by its name relative to ``ballots/``
    file_digests: dict[str, bytes] = field(default_factory=dict)
    #: the vote collector of ``remote/`` and its counted ballots (ballot id -> style), for check ``remote-turnout``
    remote_collector: str | None = None
    remote_counted: dict[str, str] = field(default_factory=dict)
    #: ``--commission-key``: the election commission's key, for check ``package`` (not run without it)
    commission_key: Ed25519PublicKey | None = None

    @property
    def m(self) -> Manifest:
        if self.manifest is None:
            raise Invalid("the manifest was not loaded")
        return self.manifest


def files_of(directory: Path) -> list[Path]:
    return sorted(directory.glob("*.json")) if directory.is_dir() else []


def ballot_files(s: State, kind: str) -> list[str]:
    """The names of ``ballots/<kind>/*.json`` this run checks, sorted: all of them, or those of its shard."""
    names = ballot_names(s.root, kind)
    return names if s.shard is None else [n for n in names if s.shard.holds(n)]


def ballot_hash(raw: Any) -> bytes:
    """SHA-256 of the canonical JSON of a ballot object (what its confirmation code commits to)."""
    return hashlib.sha256(canonical_json(raw)).digest()

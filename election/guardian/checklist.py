"""The guardian's checklist (docs/crypto.md): what a guardian checks on the pre-decryption record before making a
decryption share, so that they decrypt only the aggregate of the published cast ballots, never a tally the office
made up (a "tally" of one ballot would reveal that voter's choices).

1. The record is a directory or a tar archive of one (regular files and directories only, no link, no absolute
   path, nothing outside the archive's root), within ``ArchiveLimits`` (members, bytes, expansion ratio, free
   disk space) checked on the members' headers before anything is written: a tar bomb is refused, never unpacked.
2. Its ``context.json`` is the context of the guardian's own key ceremony, and its ``guardians/`` are the
   ceremony's public records, byte for byte as JSON values.
3. Every check of the independent verifier marked ``before_decryption`` passes on it (``election.verify``'s own
   check functions, not a second verifier): no unexpected or missing file; the parameters; every cast ballot's
   proofs; every challenged ballot; every kiosk chain recomputed (and, when registered, matching the kiosks'
   signed closes); the encrypted tally with exactly the manifest's contests and selections, no key twice, and
   equal to the sum the guardian recomputes from the cast ballots; the remote ballots of ``remote/`` (each counted
   one its registered credential's last, none of a voided credential); and, given the commission's key, the
   package's signed index with the kiosks' certificates chaining to its kiosk CA.
4. Only then is the share computed, over that verified tally.
"""

from __future__ import annotations

import json
import shutil
import tarfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.tally import EncryptedTally, TallyError
from election.verify.parts import Stage
from election.verify.runner import Verdict, run_checks, table


class RecordRefused(Exception):
    """The guardian refuses the record; the message says why. No share is written."""


@dataclass(frozen=True)
class CheckedTally:
    tally: EncryptedTally
    verdict: Verdict

    @property
    def summary(self) -> str:
        return table(self.verdict)


@dataclass(frozen=True)
class ArchiveLimits:
    """What a record archive may unpack to. A national record (500,000 ballots of about 8 KB, every file of the
    record a member) is about 4 GB in 500,000 members and compresses at most about 3:1 (hex digits of random
    values); the defaults leave a wide margin above that and refuse a tar bomb: a small archive that declares
    (sparse members) or decompresses to far more than it holds."""

    #: members (files and directories) at most
    members: int = 5_000_000
    #: sum of the members' sizes, in bytes, at most (64 GiB)
    total_bytes: int = 64 << 30
    #: one member's size at most (1 GiB; the largest file of a record, the manifest, is a few MB)
    member_bytes: int = 1 << 30
    #: the members' total size at most this many times the archive's own size (plus ``slack_bytes``)
    expansion: int = 100
    slack_bytes: int = 16 << 20
    #: free space left on the disk after unpacking, at least (64 MiB)
    keep_free_bytes: int = 64 << 20


def _check_members(source: Path, archive: tarfile.TarFile, into: Path, limits: ArchiveLimits) -> None:
    """Every member's header, in one pass and before anything is written (the headers alone say what the
    archive would unpack to; a gzip stream is decompressed to read them, never written out)."""
    allowed = min(limits.total_bytes, limits.expansion * source.stat().st_size + limits.slack_bytes)
    total = 0
    for members, member in enumerate(archive, start=1):
        name = member.name
        if not (member.isfile() or member.isdir()):
            raise RecordRefused(f"{source.name}: {name} is not a regular file or directory")
        parts = Path(name).parts
        if name.startswith("/") or ".." in parts:
            raise RecordRefused(f"{source.name}: {name} points outside the record")
        total += member.size
        if members > limits.members:
            raise RecordRefused(f"{source.name}: more than {limits.members} members; a record has far fewer")
        if member.size > limits.member_bytes:
            raise RecordRefused(
                f"{source.name}: {name} would unpack to {member.size} bytes, more than {limits.member_bytes} "
                "(no file of a record is that large)"
            )
        if total > allowed:
            raise RecordRefused(
                f"{source.name}: refused as a tar bomb: its members would unpack to more than {allowed} bytes "
                f"from an archive of {source.stat().st_size} bytes (at most {limits.expansion} times its size, "
                f"and {limits.total_bytes} bytes in all)"
            )
    free = shutil.disk_usage(into).free
    if total + limits.keep_free_bytes > free:
        raise RecordRefused(
            f"{source.name}: unpacking it needs {total} bytes and the disk has {free} free; nothing unpacked"
        )


def unpack(source: Path, into: Path, limits: ArchiveLimits | None = None) -> Path:
    """``source`` itself if it is a directory; a tar archive unpacked into ``into`` (which must be empty) after
    checking every member: regular files and directories only, relative paths inside the archive, within
    ``limits`` (``ArchiveLimits()`` by default)."""
    if source.is_dir():
        return source
    if not source.is_file() or not tarfile.is_tarfile(source):
        raise RecordRefused(
            f"{source} is neither a record directory nor a tar archive of one (a bare encrypted tally is never "
            "enough: the guardian recomputes it from the published ballots)"
        )
    try:
        with tarfile.open(source, "r:*") as archive:
            _check_members(source, archive, into, limits or ArchiveLimits())
            archive.extractall(into, filter="data")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as exc:
        raise RecordRefused(f"{source.name}: not a readable tar archive ({exc})") from None
    entries = list(into.iterdir())
    # an archive of one top-level directory (``record/...``) or of the record's files themselves
    return entries[0] if len(entries) == 1 and entries[0].is_dir() and not (into / "manifest.json").exists() else into


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RecordRefused(f"missing {path.name}") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise RecordRefused(f"{path.name}: not JSON ({exc})") from None


def _same_ceremony(ceremony: Path, record: Path) -> None:
    if _json(record / "context.json") != _json(ceremony / "context.json"):
        raise RecordRefused(
            "the record's context.json is not the election context of this guardian's key ceremony "
            "(another joint key, base hash, manifest or guardians)"
        )
    n = _json(ceremony / "context.json").get("number_of_guardians")
    for i in range(1, int(n) + 1):
        name = f"guardian-{i}.json"
        if _json(record / "guardians" / name) != _json(ceremony / "guardians" / name):
            raise RecordRefused(f"the record's guardians/{name} is not guardian {i}'s record from the key ceremony")


def check_record(
    ceremony: Path,
    record: Path,
    *,
    jobs: int = 1,
    allow_unclosed: tuple[str, ...] = (),
    commission_key: Ed25519PublicKey | None = None,
) -> CheckedTally:
    """The guardian's checklist on the pre-decryption record at ``record`` (a directory); raises RecordRefused
    with every failed check, or returns the verified encrypted tally to decrypt. With ``commission_key`` the
    record's kiosk certificates are tied to the election package too (check ``package``)."""
    _same_ceremony(ceremony, record)
    verdict = run_checks(
        record, stage=Stage.BEFORE_DECRYPTION, jobs=jobs, allow_unclosed=allow_unclosed, commission_key=commission_key
    )
    if not verdict.ok:
        reasons = "\n".join(f"  - {r.check.title}: {r.message}" for r in verdict.failures)
        raise RecordRefused(f"the record fails the guardian's checks; no share written:\n{reasons}\n{table(verdict)}")
    try:
        tally = EncryptedTally.from_dict(verdict.state.tally_raw)
    except TallyError as exc:  # pragma: no cover - the tally check read the same object
        raise RecordRefused(str(exc)) from None
    return CheckedTally(tally, verdict)

"""What the collector needs of the election, parsed once at start: the manifest with its remote-voting windows,
the election context (to verify ballots), the card trust anchors (as a kiosk has them), the roll, and the abroad
registration (civil numbers of the voter group ``abroad``)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from election.context import ElectionContext
from election.manifest import KioskId, Manifest, RemoteVoting, VoterGroup
from election.package import load_package
from election.roll import CivilNumber, RollEntry, load_roll, parse_civil_number
from kiosk.adapters.card import trust_anchors_of
from kiosk.card.trust import TrustAnchors

_ABROAD_LINE = re.compile(r"[1-9][0-9]{7,8}")


class ElectionDataError(ValueError):
    pass


@dataclass(frozen=True)
class ElectionData:
    manifest: Manifest
    context: ElectionContext
    anchors: TrustAnchors
    roll: Mapping[CivilNumber, RollEntry]
    abroad: frozenset[CivilNumber]
    collector_id: KioskId
    civil_number_prefix: str = ""
    remote: RemoteVoting = field(init=False)

    def __post_init__(self) -> None:
        if self.context.manifest_hash != self.manifest.manifest_hash:
            raise ElectionDataError("the election context belongs to another manifest")
        remote = self.manifest.remote_voting
        if remote is None:
            raise ElectionDataError("the manifest has no remote_voting: this election has no remote voting")
        if self.collector_id not in remote.collector_ids:
            raise ElectionDataError(f"{self.collector_id!r} is not a collector of this election's manifest")
        object.__setattr__(self, "remote", remote)

    @property
    def election_id(self) -> str:
        return str(self.manifest.election_id)

    def group_of(self, civil_number: CivilNumber) -> VoterGroup:
        return VoterGroup.ABROAD if civil_number in self.abroad else VoterGroup.HOME


def parse_abroad(lines: Iterable[str]) -> frozenset[CivilNumber]:
    """The abroad registration: one civil number a line; blank lines and ``#`` comments ignored."""
    out: set[CivilNumber] = set()
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if not _ABROAD_LINE.fullmatch(line):
            raise ElectionDataError(f"abroad registration, line {number}: not a civil number")
        out.add(parse_civil_number(line))
    return frozenset(out)


def load_election(
    package_path: Path,
    commission_key: Ed25519PublicKey,
    roll_path: Path,
    abroad_path: Path | None,
    collector_id: str,
    context_path: Path | None = None,
) -> ElectionData:
    """The signed package (verified as a kiosk does), its election context (or ``context_path``), the roll."""
    package = load_package(package_path.read_bytes(), commission_key, archive_name=package_path.name)
    if context_path is not None:
        context = ElectionContext.from_dict(json.loads(context_path.read_text(encoding="utf-8")))
    elif package.election_context is not None:
        context = ElectionContext.from_dict(package.election_context)
    else:
        raise ElectionDataError("the package has no election context and none was given")
    roll = load_roll(roll_path, package.manifest)
    abroad = parse_abroad(abroad_path.read_text(encoding="utf-8").splitlines()) if abroad_path else frozenset()
    return ElectionData(
        package.manifest,
        context,
        trust_anchors_of(package),
        {e.civil_number: e for e in roll.entries},
        abroad,
        KioskId(collector_id),
    )

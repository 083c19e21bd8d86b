"""The election definition (``Manifest``): its look-ups (contests, styles, centres and kiosks by id, the ballot
style of a wilayat), the style and manifest hashes, and its canonical dictionary form (``to_dict``).

``from_dict`` parses (``election.manifest.parse``) and ``validate`` checks the content rules
(``election.manifest.rules``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from election.canonical import json_hash
from election.manifest.parts import (
    MANIFEST_FORMAT_VERSION,
    BallotStyle,
    BallotStyleId,
    CentreId,
    Contest,
    ContestId,
    ElectionId,
    ElectionKind,
    Governorate,
    Kiosk,
    KioskId,
    ManifestError,
    PollingCentre,
    RemoteVoting,
    Text,
    Wilayat,
    WilayatCode,
)
from election.manifest.rules import validate_manifest


@dataclass(frozen=True)
class Manifest:
    election_id: ElectionId
    kind: ElectionKind
    name: Text
    date: dt.date
    polls_open: dt.time
    polls_close: dt.time
    timezone: str
    governorates: tuple[Governorate, ...]
    wilayats: tuple[Wilayat, ...]
    contests: tuple[Contest, ...]
    centres: tuple[PollingCentre, ...]
    kiosks: tuple[Kiosk, ...]
    ballot_styles: tuple[BallotStyle, ...]
    strings: Mapping[str, Text] = field(default_factory=dict)
    format_version: int = MANIFEST_FORMAT_VERSION
    remote_voting: RemoteVoting | None = None  # absent from to_dict() when None: older manifests keep their hash

    # ---- look-ups -------------------------------------------------------------------------------

    @cached_property
    def contests_by_id(self) -> dict[ContestId, Contest]:
        return {c.id: c for c in self.contests}

    @cached_property
    def styles_by_id(self) -> dict[BallotStyleId, BallotStyle]:
        return {s.id: s for s in self.ballot_styles}

    @cached_property
    def wilayats_by_code(self) -> dict[WilayatCode, Wilayat]:
        return {w.code: w for w in self.wilayats}

    @cached_property
    def centres_by_id(self) -> dict[CentreId, PollingCentre]:
        return {c.id: c for c in self.centres}

    @cached_property
    def kiosks_by_id(self) -> dict[KioskId, Kiosk]:
        return {k.id: k for k in self.kiosks}

    def style_for_wilayat(self, wilayat: WilayatCode) -> BallotStyle:
        for style in self.ballot_styles:
            if style.wilayat == wilayat:
                return style
        raise ManifestError(f"no ballot style for wilayat {wilayat!r}")

    def contests_of_style(self, style_id: BallotStyleId) -> tuple[Contest, ...]:
        style = self.styles_by_id.get(style_id)
        if style is None:
            raise ManifestError(f"unknown ballot style {style_id!r}")
        return tuple(self.contests_by_id[c] for c in style.contest_ids)

    def style_hash(self, style_id: BallotStyleId) -> str:
        """A stable hash of everything a voter sees on this ballot style (contests, seats, candidates)."""
        contests = self.contests_of_style(style_id)
        return json_hash(
            {
                "election_id": self.election_id,
                "style_id": style_id,
                "contests": [_contest_to_dict(c) for c in contests],
            }
        )

    @cached_property
    def style_hashes(self) -> dict[BallotStyleId, str]:
        """``style_hash`` of every ballot style, computed once (encryption and verification look it up per
        ballot)."""
        return {s.id: self.style_hash(s.id) for s in self.ballot_styles}

    def centre_serves(self, centre_id: CentreId, wilayat: WilayatCode) -> bool:
        centre = self.centres_by_id[centre_id]
        return centre.unified or wilayat in centre.serves

    @cached_property
    def manifest_hash(self) -> str:
        return json_hash(self.to_dict())

    # ---- (de)serialisation ----------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return {
            "format_version": self.format_version,
            "election_id": self.election_id,
            "kind": self.kind.value,
            "name": self.name.to_dict(),
            "date": self.date.isoformat(),
            "polls_open": self.polls_open.strftime("%H:%M"),
            "polls_close": self.polls_close.strftime("%H:%M"),
            "timezone": self.timezone,
            "governorates": [{"code": g.code, "name": g.name.to_dict()} for g in self.governorates],
            "wilayats": [
                {"code": w.code, "governorate": w.governorate, "name": w.name.to_dict()} for w in self.wilayats
            ],
            "contests": [_contest_to_dict(c) for c in self.contests],
            "centres": [
                {
                    "id": c.id,
                    "name": c.name.to_dict(),
                    "wilayat": c.wilayat,
                    "unified": c.unified,
                    "serves": list(c.serves),
                }
                for c in self.centres
            ],
            "kiosks": [{"id": k.id, "centre": k.centre} for k in self.kiosks],
            "ballot_styles": [
                {
                    "id": s.id,
                    "wilayat": s.wilayat,
                    "contests": [{"contest": c.contest, "candidates": list(c.candidates)} for c in s.contests],
                }
                for s in self.ballot_styles
            ],
            "strings": {key: text.to_dict() for key, text in sorted(self.strings.items())},
        } | ({} if self.remote_voting is None else {"remote_voting": self.remote_voting.to_dict()})

    @staticmethod
    def from_dict(data: Any) -> Manifest:
        """Parse and validate a manifest; raises ManifestError naming the first problem found."""
        from election.manifest.parse import parse_manifest  # the parser builds a Manifest: imported when called

        return parse_manifest(data)

    def validate(self) -> list[str]:
        """Check the content rules; returns warnings, raises ManifestError on the first error."""
        return validate_manifest(self)


def _contest_to_dict(c: Contest) -> dict[str, Any]:
    return {
        "id": c.id,
        "wilayat": c.wilayat,
        "kind": c.kind.value,
        "name": c.name.to_dict(),
        "seats": c.seats,
        "candidates": [
            {
                "id": k.id,
                "ballot_number": k.ballot_number,
                "name": k.name.to_dict(),
                "photo": k.photo,
                "audio": k.audio.to_dict(),
                "withdrawn": k.withdrawn,
            }
            for k in c.candidates
        ],
    }

"""The parts of an election definition: ids, the election kind and languages, bilingual texts, geography
(governorates, wilayats), contests and candidates, polling centres, kiosks, ballot styles and the remote-voting
windows. Each is a frozen value; the ``Manifest`` that holds them is ``election.manifest.model``."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, NewType

ElectionId = NewType("ElectionId", str)
GovernorateCode = NewType("GovernorateCode", str)
WilayatCode = NewType("WilayatCode", str)
ContestId = NewType("ContestId", str)
CandidateId = NewType("CandidateId", str)
CentreId = NewType("CentreId", str)
KioskId = NewType("KioskId", str)
BallotStyleId = NewType("BallotStyleId", str)

MANIFEST_FORMAT_VERSION = 1


class ManifestError(ValueError):
    """The manifest is malformed or breaks a content rule; the message says where and what."""


class ElectionKind(enum.Enum):
    SHURA = "shura"
    MUNICIPAL = "municipal"


class Language(enum.Enum):
    ARABIC = "ar"
    ENGLISH = "en"


@dataclass(frozen=True)
class Text:
    """A voter-facing text in both languages."""

    ar: str
    en: str

    def in_language(self, language: Language) -> str:
        return self.ar if language is Language.ARABIC else self.en

    def to_dict(self) -> dict[str, str]:
        return {"ar": self.ar, "en": self.en}

    @staticmethod
    def from_dict(data: Any, where: str) -> Text:
        if not isinstance(data, Mapping):
            raise ManifestError(f"{where}: expected an object with 'ar' and 'en'")
        ar, en = data.get("ar"), data.get("en")
        if not isinstance(ar, str) or not ar.strip() or not isinstance(en, str) or not en.strip():
            raise ManifestError(f"{where}: both 'ar' and 'en' must be non-empty strings")
        return Text(ar=ar, en=en)


@dataclass(frozen=True)
class Governorate:
    code: GovernorateCode
    name: Text


@dataclass(frozen=True)
class Wilayat:
    code: WilayatCode
    governorate: GovernorateCode
    name: Text


@dataclass(frozen=True)
class Candidate:
    """A candidate on one contest. ``photo`` and ``audio`` are paths inside the election package."""

    id: CandidateId
    ballot_number: int
    name: Text
    photo: str
    audio: Text
    withdrawn: bool = False


@dataclass(frozen=True)
class Contest:
    """One contest in one wilayat: a voter may mark up to ``seats`` candidates."""

    id: ContestId
    wilayat: WilayatCode
    kind: ElectionKind
    name: Text
    seats: int
    candidates: tuple[Candidate, ...]

    @property
    def active_candidates(self) -> tuple[Candidate, ...]:
        """Candidates who appear on the ballot, in ballot-number order (withdrawn ones are absent)."""
        return tuple(sorted((c for c in self.candidates if not c.withdrawn), key=lambda c: c.ballot_number))

    @property
    def selection_ids(self) -> tuple[CandidateId, ...]:
        """The order in which selections are encrypted: one per active candidate."""
        return tuple(c.id for c in self.active_candidates)


@dataclass(frozen=True)
class PollingCentre:
    """A polling centre. A unified centre serves every wilayat; others serve the wilayats listed."""

    id: CentreId
    name: Text
    wilayat: WilayatCode
    unified: bool
    serves: tuple[WilayatCode, ...]


@dataclass(frozen=True)
class Kiosk:
    id: KioskId
    centre: CentreId


@dataclass(frozen=True)
class StyleContest:
    """A contest as printed on a ballot style: its candidates in ballot order."""

    contest: ContestId
    candidates: tuple[CandidateId, ...]


@dataclass(frozen=True)
class BallotStyle:
    """The numbered, encoded ballot of one wilayat (Decision 128/2003, Art. 2).

    Each contest lists exactly its active candidates in ballot-number order; a withdrawn candidate on a
    ballot style is a content error.
    """

    id: BallotStyleId
    wilayat: WilayatCode
    contests: tuple[StyleContest, ...]

    @property
    def contest_ids(self) -> tuple[ContestId, ...]:
        return tuple(c.contest for c in self.contests)


class VoterGroup(enum.Enum):
    """Remote voters by where they vote from (docs/remote-voting.md): registered abroad, or at home."""

    ABROAD = "abroad"
    HOME = "home"


@dataclass(frozen=True)
class RemoteWindow:
    group: VoterGroup
    opens: dt.datetime  # aware, UTC
    closes: dt.datetime

    def is_open(self, now: dt.datetime) -> bool:
        return self.opens <= now < self.closes


@dataclass(frozen=True)
class RemoteVoting:
    """Optional: the vote collectors (kiosk ids of the manifest) and each group's remote-voting window."""

    collector_ids: tuple[KioskId, ...]
    windows: tuple[RemoteWindow, ...]

    def window(self, group: VoterGroup) -> RemoteWindow | None:
        return next((w for w in self.windows if w.group is group), None)

    def to_dict(self) -> dict[str, Any]:
        return {
            "collector_ids": list(self.collector_ids),
            "windows": [
                {"group": w.group.value, "opens": w.opens.isoformat(), "closes": w.closes.isoformat()}
                for w in self.windows
            ],
        }

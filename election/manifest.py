"""The election definition (manifest): election, geography, contests, candidates, centres, kiosks,
ballot styles and voter-facing strings.

The manifest is a tree of frozen dataclasses parsed from JSON at the edge (``Manifest.from_dict``) and
written back with ``to_dict``; ``manifest_hash`` is the SHA-256 of its canonical JSON and is bound into
every encrypted ballot through the election's base hash. Content rules that need more than the manifest
(photos and audio present in the package) are checked by ``election.package``.
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NewType

from election.canonical import json_hash

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
        return _parse_manifest(data)

    def validate(self) -> list[str]:
        """Check the content rules; returns warnings, raises ManifestError on the first error."""
        return _validate(self)


# ---- parsing ------------------------------------------------------------------------------------


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


def _req(data: Mapping[str, Any], key: str, kind: type, where: str) -> Any:
    if key not in data:
        raise ManifestError(f"{where}: missing field '{key}'")
    value = data[key]
    if kind is int and isinstance(value, bool):
        raise ManifestError(f"{where}.{key}: expected an integer")
    if not isinstance(value, kind):
        raise ManifestError(f"{where}.{key}: expected {kind.__name__}")
    if isinstance(value, str) and not value.strip():
        raise ManifestError(f"{where}.{key}: must not be empty")
    return value


def _list(data: Mapping[str, Any], key: str, where: str) -> Sequence[Any]:
    value = _req(data, key, list, where)
    for i, item in enumerate(value):
        if not isinstance(item, Mapping):
            raise ManifestError(f"{where}.{key}[{i}]: expected an object")
    return value  # type: ignore[no-any-return]


def _enum(cls: type[enum.Enum], value: str, where: str) -> Any:
    try:
        return cls(value)
    except ValueError:
        allowed = ", ".join(str(m.value) for m in cls)
        raise ManifestError(f"{where}: {value!r} is not one of {allowed}") from None


def _parse_manifest(data: Any) -> Manifest:
    if not isinstance(data, Mapping):
        raise ManifestError("manifest: expected a JSON object")
    w = "manifest"
    version = _req(data, "format_version", int, w)
    if version != MANIFEST_FORMAT_VERSION:
        raise ManifestError(f"manifest.format_version: {version} is not supported (expected {MANIFEST_FORMAT_VERSION})")
    try:
        date = dt.date.fromisoformat(_req(data, "date", str, w))
        polls_open = dt.time.fromisoformat(_req(data, "polls_open", str, w))
        polls_close = dt.time.fromisoformat(_req(data, "polls_close", str, w))
    except ValueError as exc:
        raise ManifestError(f"manifest: bad date or time ({exc})") from None

    contests = []
    for i, c in enumerate(_list(data, "contests", w)):
        cw = f"contests[{i}]"
        candidates = []
        for j, k in enumerate(_list(c, "candidates", cw)):
            kw = f"{cw}.candidates[{j}]"
            candidates.append(
                Candidate(
                    id=CandidateId(_req(k, "id", str, kw)),
                    ballot_number=_req(k, "ballot_number", int, kw),
                    name=Text.from_dict(k.get("name"), f"{kw}.name"),
                    photo=_req(k, "photo", str, kw),
                    audio=Text.from_dict(k.get("audio"), f"{kw}.audio"),
                    withdrawn=bool(k.get("withdrawn", False)),
                )
            )
        contests.append(
            Contest(
                id=ContestId(_req(c, "id", str, cw)),
                wilayat=WilayatCode(_req(c, "wilayat", str, cw)),
                kind=_enum(ElectionKind, _req(c, "kind", str, cw), f"{cw}.kind"),
                name=Text.from_dict(c.get("name"), f"{cw}.name"),
                seats=_req(c, "seats", int, cw),
                candidates=tuple(candidates),
            )
        )
    strings_raw = data.get("strings", {})
    if not isinstance(strings_raw, Mapping):
        raise ManifestError("manifest.strings: expected an object")
    manifest = Manifest(
        election_id=ElectionId(_req(data, "election_id", str, w)),
        kind=_enum(ElectionKind, _req(data, "kind", str, w), "manifest.kind"),
        name=Text.from_dict(data.get("name"), "manifest.name"),
        date=date,
        polls_open=polls_open,
        polls_close=polls_close,
        timezone=_req(data, "timezone", str, w),
        governorates=tuple(
            Governorate(
                code=GovernorateCode(_req(g, "code", str, f"governorates[{i}]")),
                name=Text.from_dict(g.get("name"), f"governorates[{i}].name"),
            )
            for i, g in enumerate(_list(data, "governorates", w))
        ),
        wilayats=tuple(
            Wilayat(
                code=WilayatCode(_req(x, "code", str, f"wilayats[{i}]")),
                governorate=GovernorateCode(_req(x, "governorate", str, f"wilayats[{i}]")),
                name=Text.from_dict(x.get("name"), f"wilayats[{i}].name"),
            )
            for i, x in enumerate(_list(data, "wilayats", w))
        ),
        contests=tuple(contests),
        centres=tuple(
            PollingCentre(
                id=CentreId(_req(x, "id", str, f"centres[{i}]")),
                name=Text.from_dict(x.get("name"), f"centres[{i}].name"),
                wilayat=WilayatCode(_req(x, "wilayat", str, f"centres[{i}]")),
                unified=bool(x.get("unified", False)),
                serves=tuple(WilayatCode(s) for s in _req(x, "serves", list, f"centres[{i}]")),
            )
            for i, x in enumerate(_list(data, "centres", w))
        ),
        kiosks=tuple(
            Kiosk(
                id=KioskId(_req(x, "id", str, f"kiosks[{i}]")), centre=CentreId(_req(x, "centre", str, f"kiosks[{i}]"))
            )
            for i, x in enumerate(_list(data, "kiosks", w))
        ),
        ballot_styles=tuple(
            BallotStyle(
                id=BallotStyleId(_req(x, "id", str, f"ballot_styles[{i}]")),
                wilayat=WilayatCode(_req(x, "wilayat", str, f"ballot_styles[{i}]")),
                contests=tuple(
                    StyleContest(
                        contest=ContestId(_req(sc, "contest", str, f"ballot_styles[{i}].contests[{j}]")),
                        candidates=tuple(
                            CandidateId(k) for k in _req(sc, "candidates", list, f"ballot_styles[{i}].contests[{j}]")
                        ),
                    )
                    for j, sc in enumerate(_list(x, "contests", f"ballot_styles[{i}]"))
                ),
            )
            for i, x in enumerate(_list(data, "ballot_styles", w))
        ),
        strings={str(k): Text.from_dict(v, f"strings.{k}") for k, v in strings_raw.items()},
        remote_voting=_parse_remote_voting(data.get("remote_voting")),
    )
    manifest.validate()
    return manifest


def _parse_remote_voting(data: Any) -> RemoteVoting | None:
    if data is None:
        return None
    w = "manifest.remote_voting"
    if not isinstance(data, Mapping) or set(data) != {"collector_ids", "windows"}:
        raise ManifestError(f"{w}: expected an object with collector_ids and windows")
    ids = _req(data, "collector_ids", list, w)
    if not ids or not all(isinstance(i, str) and i for i in ids):
        raise ManifestError(f"{w}.collector_ids: expected a non-empty list of kiosk ids")
    windows = []
    for i, x in enumerate(_list(data, "windows", w)):
        ww = f"{w}.windows[{i}]"
        try:
            opens = dt.datetime.fromisoformat(_req(x, "opens", str, ww))
            closes = dt.datetime.fromisoformat(_req(x, "closes", str, ww))
        except ValueError as exc:
            raise ManifestError(f"{ww}: bad time ({exc})") from None
        if opens.tzinfo is None or closes.tzinfo is None:
            raise ManifestError(f"{ww}: times need a UTC offset")
        if not opens < closes:
            raise ManifestError(f"{ww}: opens must be before closes")
        group = _enum(VoterGroup, _req(x, "group", str, ww), f"{ww}.group")
        windows.append(RemoteWindow(group, opens.astimezone(dt.UTC), closes.astimezone(dt.UTC)))
    _unique([x.group.value for x in windows], "remote-voting window for group")
    return RemoteVoting(tuple(KioskId(i) for i in ids), tuple(windows))


def _unique(items: Sequence[str], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise ManifestError(f"{what} {item!r} appears twice")
        seen.add(item)


def _validate(m: Manifest) -> list[str]:
    warnings: list[str] = []
    _unique([g.code for g in m.governorates], "governorate")
    _unique([w.code for w in m.wilayats], "wilayat")
    _unique([c.id for c in m.contests], "contest")
    _unique([k.id for c in m.contests for k in c.candidates], "candidate")
    _unique([c.id for c in m.centres], "centre")
    _unique([k.id for k in m.kiosks], "kiosk")
    _unique([s.id for s in m.ballot_styles], "ballot style")
    _unique([s.wilayat for s in m.ballot_styles], "ballot style for wilayat")
    governorates = {g.code for g in m.governorates}
    wilayats = {w.code for w in m.wilayats}
    for w in m.wilayats:
        if w.governorate not in governorates:
            raise ManifestError(f"wilayat {w.code!r}: unknown governorate {w.governorate!r}")
    for c in m.contests:
        if c.wilayat not in wilayats:
            raise ManifestError(f"contest {c.id!r}: unknown wilayat {c.wilayat!r}")
        if c.seats < 1:
            raise ManifestError(f"contest {c.id!r}: seats must be at least 1 (is {c.seats})")
        _unique([str(k.ballot_number) for k in c.candidates], f"contest {c.id!r}: ballot number")
        for k in c.candidates:
            if k.ballot_number < 1:
                raise ManifestError(f"contest {c.id!r}: candidate {k.id!r} has ballot number {k.ballot_number}")
        active = len(c.active_candidates)
        if active == 0:
            raise ManifestError(f"contest {c.id!r}: no active candidates")
        if c.seats >= active:
            warnings.append(
                f"contest {c.id!r}: {c.seats} seat(s) but only {active} active candidate(s): the contest is uncontested"
            )
    contests = m.contests_by_id
    for s in m.ballot_styles:
        if s.wilayat not in wilayats:
            raise ManifestError(f"ballot style {s.id!r}: unknown wilayat {s.wilayat!r}")
        if not s.contests:
            raise ManifestError(f"ballot style {s.id!r}: no contests")
        for sc in s.contests:
            cid = sc.contest
            if cid not in contests:
                raise ManifestError(f"ballot style {s.id!r}: unknown contest {cid!r}")
            contest = contests[cid]
            if contest.wilayat != s.wilayat:
                raise ManifestError(f"ballot style {s.id!r}: contest {cid!r} belongs to another wilayat")
            known = {k.id: k for k in contest.candidates}
            for kid in sc.candidates:
                if kid not in known:
                    raise ManifestError(f"ballot style {s.id!r}: contest {cid!r} lists unknown candidate {kid!r}")
                if known[kid].withdrawn:
                    raise ManifestError(f"ballot style {s.id!r}: contest {cid!r} lists withdrawn candidate {kid!r}")
            if sc.candidates != contest.selection_ids:
                raise ManifestError(
                    f"ballot style {s.id!r}: contest {cid!r} must list its active candidates in ballot-number order"
                )
    styled = {s.wilayat for s in m.ballot_styles}
    for w in m.wilayats:
        if w.code not in styled:
            raise ManifestError(f"wilayat {w.code!r}: has no ballot style")
    for centre in m.centres:
        for served in (centre.wilayat, *centre.serves):
            if served not in wilayats:
                raise ManifestError(f"centre {centre.id!r}: unknown wilayat {served!r}")
    served_somewhere = {w for c in m.centres for w in ((*wilayats,) if c.unified else (c.wilayat, *c.serves))}
    for w in m.wilayats:
        if w.code not in served_somewhere:
            raise ManifestError(f"wilayat {w.code!r}: served by no polling centre")
    centres = m.centres_by_id
    for kiosk in m.kiosks:
        if kiosk.centre not in centres:
            raise ManifestError(f"kiosk {kiosk.id!r}: unknown centre {kiosk.centre!r}")
    if m.remote_voting is not None:
        _unique(list(m.remote_voting.collector_ids), "remote-voting collector")
        for collector in m.remote_voting.collector_ids:
            if collector not in m.kiosks_by_id:
                raise ManifestError(f"remote_voting: collector {collector!r} is not a kiosk of the manifest")
    return warnings

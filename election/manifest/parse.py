"""The manifest's one parser: JSON (decoded) to a ``Manifest``, every field checked for presence and type, then
the content rules; the first problem is raised as ``ManifestError`` naming where it is."""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from election.manifest.model import Manifest
from election.manifest.parts import (
    MANIFEST_FORMAT_VERSION,
    BallotStyle,
    BallotStyleId,
    Candidate,
    CandidateId,
    CentreId,
    Contest,
    ContestId,
    ElectionId,
    ElectionKind,
    Governorate,
    GovernorateCode,
    Kiosk,
    KioskId,
    ManifestError,
    PollingCentre,
    RemoteVoting,
    RemoteWindow,
    StyleContest,
    Text,
    VoterGroup,
    Wilayat,
    WilayatCode,
)
from election.manifest.rules import require_unique


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


def parse_manifest(data: Any) -> Manifest:
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
    require_unique([x.group.value for x in windows], "remote-voting window for group")
    return RemoteVoting(tuple(KioskId(i) for i in ids), tuple(windows))

"""Build a synthetic Shura election definition (manifest, portraits, roll) from a seed.

Everything is drawn from ``random.Random`` instances seeded with strings derived from the seed, so the
same seed always gives the same manifest, byte-identical photos and the same roll. Nothing here reads
the clock or the environment.
"""

from __future__ import annotations

import datetime as dt
import enum
import json
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from devtools.demo_election.geography import GOVERNORATES, GovernorateInfo, WilayatInfo
from devtools.demo_election.names import PersonName, random_name
from devtools.portraits import PortraitSpec, random_spec, render_portrait
from election.manifest import (
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
    Manifest,
    PollingCentre,
    StyleContest,
    Text,
    Wilayat,
    WilayatCode,
)

STRINGS_PATH = Path(str(resources.files("config") / "strings.json"))

ELECTION_DATE = dt.date(2027, 10, 31)
POLLS_OPEN = dt.time(7, 0)
POLLS_CLOSE = dt.time(19, 0)
TIMEZONE = "Asia/Muscat"

NATIONAL_CANDIDATES = 843  # as in 2023
NATIONAL_CENTRES = 110
NATIONAL_WITHDRAWN = 7
# Unified centres (a voter of any wilayat may vote there), one per major town.
UNIFIED_WILAYATS = ("MA-03", "MA-04", "DH-01", "BN-01", "DA-01", "SS-01", "DZ-01", "BU-01")
SMALL_WILAYATS = ("MA-04", "MU-01", "MU-02")
FEMALE_SHARE = 0.06


class Scale(enum.Enum):
    NATIONAL = "national"
    SMALL = "small"


class StringsError(ValueError):
    """config/strings.json is malformed."""


@dataclass(frozen=True)
class Definition:
    """A demo election definition: the manifest and what is needed to render its photos and roll."""

    scale: Scale
    seed: int
    manifest: Manifest
    portraits: Mapping[CandidateId, PortraitSpec]
    default_roll_size: int

    @cached_property
    def ballot_numbers(self) -> dict[CandidateId, int]:
        return {k.id: k.ballot_number for c in self.manifest.contests for k in c.candidates}

    def photo_png(self, candidate: CandidateId) -> bytes:
        """The candidate's portrait PNG (rendered on demand; deterministic)."""
        return render_portrait(self.portraits[candidate], self.ballot_numbers[candidate])


def photo_path(candidate: CandidateId) -> str:
    return f"photos/{candidate}.png"


def audio_paths(candidate: CandidateId) -> Text:
    return Text(ar=f"audio/ar/{candidate}.ogg", en=f"audio/en/{candidate}.ogg")


def load_strings(path: Path = STRINGS_PATH) -> dict[str, Text]:
    """The voter-facing strings catalogue: ``{id: {"ar": ..., "en": ...}}``."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise StringsError(f"{path}: cannot read the strings catalogue ({exc})") from None
    if not isinstance(raw, dict):
        raise StringsError(f"{path}: expected an object of string ids")
    out: dict[str, Text] = {}
    for key, value in raw.items():
        if not isinstance(value, dict) or not isinstance(value.get("ar"), str) or not isinstance(value.get("en"), str):
            raise StringsError(f"{path}: {key!r} must have 'ar' and 'en' strings")
        out[key] = Text(ar=value["ar"], en=value["en"])
    return out


def _rng(seed: int, *parts: str) -> random.Random:
    # str seeds are hashed with SHA-512 by random.Random: stable across runs and PYTHONHASHSEED.
    return random.Random(":".join(("sanduq-demo", str(seed), *parts)))


def _candidate_counts(wilayats: Sequence[WilayatInfo], scale: Scale, seed: int) -> dict[str, int]:
    rng = _rng(seed, scale.value, "counts")
    if scale is Scale.SMALL:
        return {w.code: rng.randint(5, 6) if w.seats == 2 else rng.randint(4, 5) for w in wilayats}
    bounds = {2: (12, 20), 1: (8, 16)}
    counts = {w.code: rng.randint(*bounds[w.seats]) for w in wilayats}
    seats = {w.code: w.seats for w in wilayats}
    codes = [w.code for w in wilayats]
    # Nudge the random counts to the real total, staying within the bounds.
    while (total := sum(counts.values())) != NATIONAL_CANDIDATES:
        code = rng.choice(codes)
        low, high = bounds[seats[code]]
        if total > NATIONAL_CANDIDATES and counts[code] > low:
            counts[code] -= 1
        elif total < NATIONAL_CANDIDATES and counts[code] < high:
            counts[code] += 1
    return counts


def _contest(w: WilayatInfo, count: int, seed: int) -> tuple[Contest, dict[CandidateId, PortraitSpec]]:
    rng = _rng(seed, "candidates", w.code)
    people: list[PersonName] = []
    seen: set[str] = set()
    while len(people) < count:
        name = random_name(rng, female=rng.random() < FEMALE_SHARE)
        if name.ar not in seen:
            seen.add(name.ar)
            people.append(name)
    people.sort(key=lambda p: p.ar)  # ballot numbers follow Arabic alphabetical order
    candidates = []
    portraits: dict[CandidateId, PortraitSpec] = {}
    for number, person in enumerate(people, start=1):
        cid = CandidateId(f"C-{w.code}-{number:02d}")
        candidates.append(
            Candidate(
                id=cid,
                ballot_number=number,
                name=Text(ar=person.ar, en=person.en),
                photo=photo_path(cid),
                audio=audio_paths(cid),
            )
        )
        portraits[cid] = random_spec(_rng(seed, "portrait", cid), female=person.female)
    contest = Contest(
        id=ContestId(f"shura-{w.code}"),
        wilayat=WilayatCode(w.code),
        kind=ElectionKind.SHURA,
        name=Text(ar=f"عضوية مجلس الشورى عن ولاية {w.name_ar}", en=f"Shura Council member for {w.name_en}"),
        seats=w.seats,
        candidates=tuple(candidates),
    )
    return contest, portraits


def _withdraw(contests: list[Contest], how_many: int, rng: random.Random) -> list[Contest]:
    """Mark ``how_many`` candidates (in different contests) withdrawn; they stay listed but leave the ballot."""
    eligible = [i for i, c in enumerate(contests) if len(c.candidates) >= c.seats + 3]
    for i in sorted(rng.sample(eligible, how_many)):
        c = contests[i]
        victim = rng.randrange(len(c.candidates))
        cands = tuple(
            Candidate(k.id, k.ballot_number, k.name, k.photo, k.audio, withdrawn=True) if j == victim else k
            for j, k in enumerate(c.candidates)
        )
        contests[i] = Contest(c.id, c.wilayat, c.kind, c.name, c.seats, cands)
    return contests


def _centres(
    wilayats: Sequence[tuple[GovernorateInfo, WilayatInfo]], scale: Scale, seed: int
) -> tuple[tuple[PollingCentre, ...], tuple[Kiosk, ...]]:
    rng = _rng(seed, scale.value, "centres")
    all_codes = tuple(WilayatCode(w.code) for _, w in wilayats)
    if scale is Scale.SMALL:
        unified = {SMALL_WILAYATS[0]}
        regular = dict.fromkeys(all_codes, 1)
        regular[WilayatCode(SMALL_WILAYATS[0])] = 0
    else:
        unified = set(UNIFIED_WILAYATS)
        regular = dict.fromkeys(all_codes, 1)
        two_seat = [WilayatCode(w.code) for _, w in wilayats if w.seats == 2]
        for code in two_seat:
            regular[code] += 1
        spare = NATIONAL_CENTRES - len(unified) - sum(regular.values())
        for code in rng.sample(two_seat, spare):
            regular[code] += 1
    centres: list[PollingCentre] = []
    kiosks: list[Kiosk] = []
    for _, w in wilayats:
        code = WilayatCode(w.code)
        plans = [True] if w.code in unified else []
        plans += [False] * regular[code]
        for n, is_unified in enumerate(plans, start=1):
            cid = CentreId(f"PC-{len(centres) + 1:03d}")
            if is_unified:
                name = Text(ar=f"المركز الانتخابي الموحد في {w.name_ar}", en=f"{w.name_en} Unified Polling Centre")
            else:
                ordinal = n - (1 if w.code in unified else 0)
                suffix_ar = f" ({ordinal})" if regular[code] > 1 else ""
                suffix_en = f" {ordinal}" if regular[code] > 1 else ""
                name = Text(ar=f"مركز {w.name_ar} الانتخابي{suffix_ar}", en=f"{w.name_en} Polling Centre{suffix_en}")
            centres.append(
                PollingCentre(
                    id=cid,
                    name=name,
                    wilayat=code,
                    unified=is_unified,
                    serves=all_codes if is_unified else (code,),
                )
            )
            # Small: the unified centre has two kiosks (the election day runs both), the others one.
            small_kiosks = 2 if is_unified else 1
            n_kiosks = small_kiosks if scale is Scale.SMALL else (4 if is_unified else rng.randint(2, 4))
            kiosks.extend(Kiosk(id=KioskId(f"K-{cid}-{i}"), centre=cid) for i in range(1, n_kiosks + 1))
    return tuple(centres), tuple(kiosks)


def build_definition(scale: Scale | str, seed: int, *, strings: Mapping[str, Text] | None = None) -> Definition:
    """The demo election at ``scale`` for ``seed``; ``strings`` defaults to config/strings.json."""
    scale = Scale(scale)
    if strings is None:
        strings = load_strings()
    if scale is Scale.SMALL:
        chosen = [(g, w) for g in GOVERNORATES for w in g.wilayats if w.code in SMALL_WILAYATS]
    else:
        chosen = [(g, w) for g in GOVERNORATES for w in g.wilayats]
    counts = _candidate_counts([w for _, w in chosen], scale, seed)
    contests: list[Contest] = []
    portraits: dict[CandidateId, PortraitSpec] = {}
    for _, w in chosen:
        contest, specs = _contest(w, counts[w.code], seed)
        contests.append(contest)
        portraits.update(specs)
    withdraw_rng = _rng(seed, scale.value, "withdrawn")
    if scale is Scale.SMALL:
        contests = _withdraw(contests, 1, withdraw_rng)
    else:
        contests = _withdraw(contests, NATIONAL_WITHDRAWN, withdraw_rng)
    centres, kiosks = _centres(chosen, scale, seed)
    gov_codes = list(dict.fromkeys(g.code for g, _ in chosen))
    govs = {g.code: g for g, _ in chosen}
    election_id = "shura-2027" if scale is Scale.NATIONAL else "shura-2027-small"
    manifest = Manifest(
        election_id=ElectionId(election_id),
        kind=ElectionKind.SHURA,
        name=Text(
            ar="انتخابات أعضاء مجلس الشورى للفترة الحادية عشرة (بيانات تجريبية)",
            en="Shura Council Elections, 11th term (demo data)",
        ),
        date=ELECTION_DATE,
        polls_open=POLLS_OPEN,
        polls_close=POLLS_CLOSE,
        timezone=TIMEZONE,
        governorates=tuple(
            Governorate(code=GovernorateCode(c), name=Text(ar=govs[c].name_ar, en=govs[c].name_en)) for c in gov_codes
        ),
        wilayats=tuple(
            Wilayat(
                code=WilayatCode(w.code), governorate=GovernorateCode(g.code), name=Text(ar=w.name_ar, en=w.name_en)
            )
            for g, w in chosen
        ),
        contests=tuple(contests),
        centres=centres,
        kiosks=kiosks,
        ballot_styles=tuple(
            BallotStyle(
                id=BallotStyleId(f"BS-{c.wilayat}"),
                wilayat=c.wilayat,
                contests=(StyleContest(contest=c.id, candidates=c.selection_ids),),
            )
            for c in contests
        ),
        strings=dict(strings),
    )
    manifest.validate()
    return Definition(
        scale=scale,
        seed=seed,
        manifest=manifest,
        portraits=portraits,
        default_roll_size=300 if scale is Scale.SMALL else 5_000,
    )


def small_manifest(seed: int = 2023) -> Manifest:
    """The small demo election's manifest, built in memory (no disk writes); for tests."""
    return build_definition(Scale.SMALL, seed).manifest

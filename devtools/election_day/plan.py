"""The scripted voters of the demo election day, deterministic from a seed, and the tally they must produce.

Each voter has a card (a roll voter's card from the test PKI, or a bad card), a kiosk, a phase of the day,
what they will do (PIN tries, accessibility, a Benaloh challenge first, a blank ballot) and the choices
they will cast. The plan knows what every counted ballot says, so the demo can compare the verified,
decrypted tally with it; nothing else in the demo knows a voter's choices.

The file format (``plan.json``) is described in docs/election-day.md.
"""

from __future__ import annotations

import enum
import json
import random
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from election.manifest import Manifest
from election.roll import Roll

BLANK = "#blank"


class Phase(enum.Enum):
    """The day's timeline; kiosks run each phase's voters, then the orchestrator moves on."""

    MORNING = "morning"
    REMOTE = "remote"  # voters at home and abroad on the voter app, through the vote collector
    OUTAGE = "outage"  # one kiosk's network is cut: provisional ballots
    KILL = "kill"  # one kiosk is killed with -9 mid-vote and restarted
    AFTERNOON = "afternoon"  # includes the double-vote attempt at another centre
    KIVY = "kivy"  # a few voters through the real Kivy app, offscreen, with screenshots


class Outcome(enum.Enum):
    CAST = "cast"
    PROVISIONAL = "provisional"  # cast provisionally; the committee counts it after checking the poll book
    REFUSED = "refused"


@dataclass(frozen=True)
class Voter:
    id: str
    civil_number: str
    wilayat: str
    style: str
    kiosk: str
    phase: str
    card: str  # "voter" or "bad/<kind>"
    pins: tuple[str, ...]
    choices: dict[str, list[str]]  # contest -> candidates (empty list: blank)
    expect: str  # Outcome value
    expect_failure: str | None = None  # kiosk.session.events.Failure value when refused
    challenge: dict[str, list[str]] | None = None  # choices of a ballot challenged before the cast one
    audio: bool = False
    controller: bool = False
    assisted: bool = False
    language: str = "ar"
    note: str = ""
    kill_before_cast: bool = False  # the kiosk is killed after sealing this voter's ballot
    counted: bool = field(default=True)
    group: str = ""  # a remote voter's voter group: "home" or "abroad" (the collector's windows)
    second_device: bool = False  # a remote voter who checks the ballot on a second device (python -m remote.verify)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["pins"] = list(self.pins)
        return d

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Voter:
        return Voter(**{**d, "pins": tuple(d["pins"])})


@dataclass(frozen=True)
class ManualSheet:
    source_kind: str
    source_id: str
    contest_id: str
    voters: int
    blank: int
    counts: dict[str, int]


@dataclass(frozen=True)
class Plan:
    seed: int
    voters: tuple[Voter, ...]
    manual_sheets: tuple[ManualSheet, ...]
    not_on_roll: tuple[str, ...]  # civil numbers left out of the roll the office imports
    revoked: tuple[str, ...]  # civil numbers whose card certificate the PKI revokes
    outage_kiosk: str
    kill_kiosk: str
    # The kiosks switched on for the day, in order; empty: every kiosk of the manifest (the fault suite).
    kiosks: tuple[str, ...] = ()
    # Remote voting: the vote collector's kiosk id (empty: no remote voting today) and the civil numbers the
    # embassies registered as voting from abroad (the collector's abroad list).
    collector: str = ""
    abroad: tuple[str, ...] = ()

    def day_kiosks(self, manifest: Manifest) -> list[str]:
        return list(self.kiosks) if self.kiosks else [str(k.id) for k in manifest.kiosks]

    def for_kiosk(self, kiosk: str, phase: Phase) -> list[Voter]:
        return [v for v in self.voters if v.kiosk == kiosk and v.phase == phase.value]

    def expected_electronic(self, manifest: Manifest) -> dict[str, dict[str, int]]:
        """Votes per candidate and blanks per contest from every ballot the plan expects counted."""
        tally: dict[str, Counter[str]] = {c.id: Counter(dict.fromkeys(c.selection_ids, 0)) for c in manifest.contests}
        for v in self.voters:
            if not v.counted:
                continue
            for contest, chosen in v.choices.items():
                if chosen:
                    tally[contest].update(chosen)
                else:
                    tally[contest][BLANK] += 1
        return {c: dict(counts) for c, counts in tally.items()}

    def expected_total(self, manifest: Manifest) -> dict[str, dict[str, int]]:
        """The electronic tally plus the manual sheets (Art. 9)."""
        total = self.expected_electronic(manifest)
        for sheet in self.manual_sheets:
            for candidate, n in sheet.counts.items():
                total[sheet.contest_id][candidate] = total[sheet.contest_id].get(candidate, 0) + n
            total[sheet.contest_id][BLANK] = total[sheet.contest_id].get(BLANK, 0) + sheet.blank
        return total

    def to_dict(self) -> dict[str, Any]:
        return {
            "format": "sanduq-election-day-plan/3",
            "seed": self.seed,
            "kiosks": list(self.kiosks),
            "collector": self.collector,
            "abroad": list(self.abroad),
            "outage_kiosk": self.outage_kiosk,
            "kill_kiosk": self.kill_kiosk,
            "not_on_roll": list(self.not_on_roll),
            "revoked": list(self.revoked),
            "manual_sheets": [asdict(s) for s in self.manual_sheets],
            "voters": [v.to_dict() for v in self.voters],
        }

    @staticmethod
    def from_dict(d: dict[str, Any]) -> Plan:
        return Plan(
            seed=d["seed"],
            voters=tuple(Voter.from_dict(v) for v in d["voters"]),
            manual_sheets=tuple(ManualSheet(**s) for s in d["manual_sheets"]),
            not_on_roll=tuple(d["not_on_roll"]),
            revoked=tuple(d["revoked"]),
            outage_kiosk=d["outage_kiosk"],
            kill_kiosk=d["kill_kiosk"],
            kiosks=tuple(d["kiosks"]),
            collector=d.get("collector", ""),
            abroad=tuple(d.get("abroad", ())),
        )

    def save(self, path: Path) -> None:
        path.write_text(json.dumps(self.to_dict(), ensure_ascii=False, indent=1), encoding="utf-8")

    @staticmethod
    def load(path: Path) -> Plan:
        return Plan.from_dict(json.loads(path.read_text(encoding="utf-8")))


def make_plan(manifest: Manifest, roll: Roll, *, seed: int, voters: int = 200, collector: str = "") -> Plan:
    """About ``voters`` scripted voters with every special case of the issue; deterministic from ``seed``.

    ``roll`` is the election's roll as ``election.roll.load_roll`` parses it (the one parser of the format).
    ``collector``: the vote collector's kiosk id; with it, remote voters at home and abroad vote during the day's
    remote window (phase ``remote``), one of them twice (only the last counts), one then votes at a kiosk in the
    afternoon (the in-person vote replaces the remote one) and one checks the ballot on a second device."""
    rng = random.Random(seed)
    contest_of = {str(c.wilayat): c for c in manifest.contests}
    style_of = {str(s.wilayat): str(s.id) for s in manifest.ballot_styles}
    # The day's topology: the unified centre with its two kiosks (voters of every wilayat), and the first
    # wilayat's own centre with its kiosk; the other centres stay in the election with no kiosk switched on
    # (their voters vote at the unified centre).
    ma, mu1, mu2 = sorted(contest_of)[0], sorted(contest_of)[1], sorted(contest_of)[2]
    unified = next(c for c in manifest.centres if c.unified)
    unified_kiosks = [str(k.id) for k in manifest.kiosks if k.centre == unified.id]
    if len(unified_kiosks) < 2:
        raise ValueError(f"the unified centre {unified.id} needs two kiosks for the election day")
    u1, u2 = unified_kiosks[:2]
    home_centre = next(c for c in manifest.centres if not c.unified and str(c.wilayat) == mu1)
    home = next(str(k.id) for k in manifest.kiosks if k.centre == home_centre.id)
    outage_kiosk = home
    kill_kiosk = u2
    eligible: dict[str, list[str]] = {
        w: [str(e.civil_number) for e in roll if e.wilayat == w and e.eligible] for w in contest_of
    }
    ineligible = [str(e.civil_number) for e in roll if not e.eligible]
    wilayat_of = {str(e.civil_number): str(e.wilayat) for e in roll}
    for pool in eligible.values():
        rng.shuffle(pool)

    def choose(contest_wilayat: str, *, blank: bool = False) -> dict[str, list[str]]:
        contest = contest_of[contest_wilayat]
        ids = [str(c) for c in contest.selection_ids]
        if blank:
            return {contest.id: []}
        # Skewed preferences so that results differ visibly between candidates.
        weights = [len(ids) - i + rng.random() for i in range(len(ids))]
        n = contest.seats if contest.seats == 1 or rng.random() < 0.8 else rng.randint(1, contest.seats)
        picked: list[str] = []
        while len(picked) < n:
            c = rng.choices(ids, weights)[0]
            if c not in picked:
                picked.append(c)
        return {contest.id: sorted(picked, key=ids.index)}

    out: list[Voter] = []
    counter = 0

    def add(civil: str, wilayat: str, kiosk: str, phase: Phase, **kw: Any) -> Voter:
        nonlocal counter
        counter += 1
        blank = kw.pop("blank", False)
        v = Voter(
            id=f"V{counter:03d}",
            civil_number=civil,
            wilayat=wilayat,
            style=style_of[wilayat],
            kiosk=kiosk,
            phase=phase.value,
            card=kw.pop("card", "voter"),
            pins=tuple(kw.pop("pins", ("1234",))),
            choices=kw.pop("choices", None) or choose(wilayat, blank=blank),
            expect=kw.pop("expect", Outcome.CAST.value),
            **kw,
        )
        out.append(v)
        return v

    def take(wilayat: str) -> str:
        return eligible[wilayat].pop()

    # --- special cases ------------------------------------------------------------------------------
    not_on_roll = take(mu1)
    add(not_on_roll, mu1, home, Phase.MORNING, expect="refused", expect_failure="not_on_roll",
        counted=False, note="not on the electoral roll")  # fmt: skip
    revoked = take(ma)
    add(revoked, ma, u1, Phase.MORNING, expect="refused", expect_failure="cert_revoked", counted=False,
        note="card certificate revoked")  # fmt: skip
    add(take(mu2), mu2, u2, Phase.MORNING, pins=("0000", "1111", "2222"), expect="refused",
        expect_failure="pin_blocked", counted=False, note="three wrong PINs: card blocked")  # fmt: skip
    add(take(ma), ma, u1, Phase.MORNING, pins=("4321", "1234"), note="one wrong PIN, then the right one")
    if ineligible:
        add(ineligible[0], wilayat_of[ineligible[0]], u1, Phase.MORNING,
            expect="refused", expect_failure="wrong_centre", counted=False,
            note="on the roll but not eligible")  # fmt: skip
    add(take(ma), ma, u1, Phase.MORNING, audio=True, note="audio ballot (headphones)")
    add(take(mu1), mu1, home, Phase.MORNING, audio=True, language="en", note="audio ballot in English")
    add(take(mu2), mu2, u2, Phase.MORNING, audio=True, controller=True, note="accessible controller + audio")
    add(take(ma), ma, u1, Phase.MORNING, assisted=True, note="staff-assisted voter (Art. 5)")
    for w, k in ((ma, u1), (mu1, home), (mu2, u2)):
        add(take(w), w, k, Phase.MORNING, challenge=choose(w), note="challenges a ballot, then votes again")
    add(take(ma), ma, u2, Phase.MORNING, blank=True, note="blank ballot, confirmed")
    double = add(take(mu1), mu1, u1, Phase.MORNING, note="votes at the unified centre (see double vote)")
    add(double.civil_number, mu1, home, Phase.AFTERNOON, expect="refused", expect_failure="already_voted",
        counted=False, note="double-vote attempt at another centre")  # fmt: skip
    # The network outage at one kiosk: its voters cast provisional ballots.
    for _ in range(4):
        add(take(mu1), mu1, outage_kiosk, Phase.OUTAGE, expect="provisional", note="provisional (network outage)")
    # The kiosk killed mid-vote: the voter's sealed ballot is lost with the power, nothing recorded; they vote
    # again after the restart and the kiosk goes on (a voter of a wilayat whose own centre has no kiosk today).
    add(take(mu2), mu2, kill_kiosk, Phase.KILL, kill_before_cast=True,
        note="kiosk killed mid-vote, votes after restart")  # fmt: skip
    for w in (mu2, ma, mu2):
        add(take(w), w, kill_kiosk, Phase.KILL, note="after the restart")
    # A few voters on the real Kivy app (offscreen), for screenshots.
    for w in (ma, ma):
        add(take(w), w, u1, Phase.KIVY, language="en" if len(out) % 2 else "ar", note="real Kivy app")

    abroad: list[str] = []
    if collector:
        remote_voters(add, take, collector, abroad, (ma, mu1, mu2), u1)

    # --- ordinary voters ---------------------------------------------------------------------------
    # Every wilayat's voters may vote at the unified centre (either kiosk); Khasab's mostly at their own centre.
    remaining = voters - len(out)
    shares = {ma: 0.55, mu1: 0.2, mu2: 0.25}
    for w, share in shares.items():
        n = min(round(remaining * share), len(eligible[w]) - 2)
        for i in range(n):
            at_home = w == mu1 and rng.random() < 0.75
            kiosk = home if at_home else rng.choice((u1, u2))
            phase = Phase.MORNING if i < n * 0.55 else Phase.AFTERNOON
            add(take(w), w, kiosk, phase, blank=rng.random() < 0.03, language="en" if rng.random() < 0.2 else "ar")

    voters_sorted = sorted(out, key=lambda v: (list(Phase).index(Phase(v.phase)), v.id))
    sheet_contest = contest_of[mu1]
    ids = [str(c) for c in sheet_contest.selection_ids]
    sheet = ManualSheet("embassy", "EMB-LONDON", sheet_contest.id, 9, 1, {ids[0]: 3, ids[1]: 4, ids[2]: 1})
    return Plan(
        seed=seed,
        voters=tuple(voters_sorted),
        manual_sheets=(sheet,),
        not_on_roll=(not_on_roll,),
        revoked=(revoked,),
        outage_kiosk=outage_kiosk,
        kill_kiosk=kill_kiosk,
        kiosks=(u1, u2, home),
        collector=collector,
        abroad=tuple(abroad),
    )


def remote_voters(
    add: Any, take: Any, collector: str, abroad: list[str], wilayats: tuple[str, str, str], kiosk: str
) -> None:
    """The remote voters of the day (phase ``remote``, at the collector): ``add`` and ``take`` are
    ``make_plan``'s. Blank ballots are left to the kiosks (the voter app's blank confirmation is the kiosk's)."""
    ma, mu1, mu2 = wilayats
    remote = Phase.REMOTE
    for w in (ma, mu2, ma):
        add(take(w), w, collector, remote, group="home", note="votes from home (voter app)")
    first = add(take(mu1), mu1, collector, remote, group="home", counted=False,
                note="votes from home, then votes again (re-vote)")  # fmt: skip
    add(first.civil_number, mu1, collector, remote, group="home", second_device=True,
        note="re-vote from home: only this last ballot counts; checks it on a second device")  # fmt: skip
    for w in (mu2, ma):
        v = add(take(w), w, collector, remote, group="abroad", note="votes from abroad (voter app)")
        abroad.append(v.civil_number)
    moved = add(take(ma), ma, collector, remote, group="home", counted=False,
                note="votes from home, then at a kiosk (the in-person vote replaces it)")  # fmt: skip
    add(moved.civil_number, ma, kiosk, Phase.AFTERNOON,
        note="voted remotely in the morning, votes at the kiosk: the check-in voids the remote credential")  # fmt: skip

"""A voter's whole session at a kiosk on the real stack, against the same session over in-memory fakes.

The real stack: a kiosk process with an isolated pcscd + vpcd and virtual ID cards, the card layer with PKI
checks, the session driver, encryption with proofs, the ballot box (SQLite WAL, synchronous=FULL) and the
sync worker talking mutual TLS to a real central office process (SQLite). A voter's session runs from card
insertion to card removal after the confirmation (scripted input, no think time). The peer, measured in the
same run: the same journey through the same session machine and driver over devtools.fakes (no card, no
crypto, no I/O), i.e. what the real components cost on top of the session logic. Also: how long the kiosk
then needs to deliver its backlog to the office, and ballots per minute per kiosk.

    .venv/bin/python -m bench.bench_election_day
"""

from __future__ import annotations

import json
import statistics
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from devtools.election_day.plan import Phase
from devtools.election_day.plan import Voter as ScriptedVoter
from devtools.election_day.small_day import start_small_day, stop_small_day
from devtools.fakes import FakeBallots, FakeCard, FakeCardSpec, FakePollBook, FakeStaff, ManualScheduler, MemoryAudit
from devtools.loop import InlineLoop
from election.manifest import CandidateId, Manifest, WilayatCode
from election.roll import Roll
from kiosk.driver import Ports, SessionDriver
from kiosk.ports import SilentSpeaker
from kiosk.session import SessionConfig, VoterSession, initial_state
from kiosk.session import events as ev
from kiosk.session.model import KioskMode

OUT = Path("out/bench/election_day.json")
KIOSK = "K-PC-001-1"  # the unified centre: serves every wilayat
VOTERS = 40


def scripted(manifest: Manifest, roll: Roll, n: int) -> list[ScriptedVoter]:
    out = []
    for i, entry in enumerate(e for e in roll if e.eligible):
        civil, wilayat = entry.civil_number, entry.wilayat
        if i == n:
            break
        contest = next(c for c in manifest.contests if c.wilayat == wilayat)
        style = next(s for s in manifest.ballot_styles if s.wilayat == wilayat)
        out.append(ScriptedVoter(
            id=f"B{i:03d}", civil_number=civil, wilayat=wilayat, style=str(style.id), kiosk=KIOSK,
            phase=Phase.MORNING.value, card="voter", pins=("1234",),
            choices={str(contest.id): [str(c) for c in contest.selection_ids[: contest.seats]]}, expect="cast",
        ))  # fmt: skip
    return out


def fake_sessions(manifest: Manifest, voters: list[ScriptedVoter]) -> list[float]:
    loop = InlineLoop()
    card = FakeCard()
    poll_book = FakePollBook(manifest, roll={v.civil_number: WilayatCode(v.wilayat) for v in voters})
    ports = Ports(card, poll_book, FakeBallots(poll_book), FakeStaff(), MemoryAudit(), SilentSpeaker(),
                  ManualScheduler())  # fmt: skip
    driver = SessionDriver(VoterSession(SessionConfig(manifest)), initial_state(KioskMode(polls_open=True)), ports,
                           loop.call_soon, loop.call_soon)  # fmt: skip

    def send(*events: ev.Event) -> None:
        for e in events:
            driver.dispatch(e)
            loop.run_until_idle()

    times = []
    for v in voters:
        started = time.perf_counter()
        card.insert(FakeCardSpec(v.civil_number))
        send(ev.CardInserted(), *(ev.PinDigit(d) for d in "1234"), ev.PinSubmit(), ev.Continue())
        for contest, chosen in v.choices.items():
            del contest
            send(*(ev.ToggleCandidate(CandidateId(c)) for c in chosen))
        send(ev.GoToReview(), ev.SealBallot(), ev.Cast())
        assert driver.state.receipt is not None, driver.state.phase
        card.remove()
        send(ev.CardRemoved())
        times.append(time.perf_counter() - started)
    return times


def row(what: str, values: list[float], unit: str, **kw: Any) -> dict[str, Any]:
    ordered = sorted(values)
    return {
        "what": what, "median": statistics.median(values), "unit": unit,
        "p99": ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))], "rate_per_s": None,
        "peer": None, "peer_median": None, "ratio": None, "target": None, "meets_target": None, **kw,
    }  # fmt: skip


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-day-") as tmp:
        print("starting the central office and preparing the election (key ceremony, package) ...", flush=True)
        day, roll = start_small_day(Path(tmp))
        try:
            voters = scripted(day.manifest, roll, VOTERS)
            day.plan = replace(day.plan, voters=tuple(voters))
            day.plan.save(day.day / "plan.json")
            print(f"{len(voters)} voters at {KIOSK} on the real stack ...", flush=True)
            started = time.monotonic()
            statuses = day.run_kiosks(Phase.MORNING, [KIOSK], "--drain-timeout", "120")
            wall = time.monotonic() - started
            outcomes = day.outcomes()
        finally:
            stop_small_day(day)
    real = [outcomes[v.id]["seconds"] for v in voters if outcomes.get(v.id, {}).get("outcome") == "cast"]
    assert len(real) == len(voters), "not every scripted voter could cast: see the kiosk log"
    fake = fake_sessions(day.manifest, voters)
    real_median, fake_median = statistics.median(real), statistics.median(fake)
    rows = [
        row("voter session on the real stack (card insert -> confirmation -> card out)", real, "s",
            rate_per_s=1 / real_median, peer="same session over devtools.fakes", peer_median=fake_median,
            ratio=real_median / fake_median, target="< 5 s of kiosk time per voter", meets_target=real_median < 5),
        row("voter session over devtools.fakes (session logic only)", fake, "s", rate_per_s=1 / fake_median),
    ]  # fmt: skip
    per_minute = 60 / real_median
    notes = [
        f"{len(voters)} voters, one kiosk; kiosk process wall time (start-up, voters, delivery of the backlog): "
        f"{wall:.1f} s; all delivered: {statuses[KIOSK]['delivered']}",
        f"at most about {per_minute:.0f} voters per minute per kiosk are limited by the machine; a real voter "
        "takes minutes to read and choose, so the kiosk's own time is a small part of a voter's visit",
        "scripted input, no think time; 2 cores shared with the office process",
    ]
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"area": "election_day", "rows": rows, "notes": notes}, indent=1), encoding="utf-8")
    for r in rows:
        print(f"{r['what']}: median {r['median']:.4f} {r['unit']}, p99 {r['p99']:.4f}"
              + (f", {r['ratio']:.0f}x the fakes" if r["ratio"] else ""))  # fmt: skip
    for n in notes:
        print(f"- {n}")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

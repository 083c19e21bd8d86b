"""The election day's remote voters (phase ``remote`` of the plan), at home and abroad, each on their own computer:
the voter app's real code path without its Kivy window (docs/election-day.md).

    python -m devtools.election_day.remote_voters --day out/demo/day --collector https://127.0.0.1:PORT

Each voter's computer is the voter app's composition (``remote.compose.voter_ports``: the kiosk's card layer
through ``RemoteCard`` over a real pcscd with the voter's virtual ID card, the collector's client pinned to the
package's ``trust/collector.pem``, encryption and proofs on the device, the credential key encrypted at rest, the
outbox) driven by the kiosk's session machine and driver (``kiosk.session``, ``kiosk.driver``), as the app's Kivy
screens drive them; the events are the ones the screens send. The package is loaded and verified with the
commission's key (``remote.package.load_verified_package``), as ``python -m remote`` does. A voter who votes twice
uses the same computer (same credential, the next sequence). A voter marked ``second_device`` checks the ballot
with ``python -m remote.verify --code`` (the QR's text) right after voting.

Writes ``<day>/remote/outcomes.jsonl``: one line per voter with the outcome, the voter group, the submission's
sequence and the second-device check's verdict, never a ballot id, hash, code or choice (ballot secrecy).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from devtools.election_day.plan import Phase, Plan, Voter
from devtools.election_day.supervisor import inherited_env
from devtools.fakes import ManualScheduler
from devtools.loop import InlineLoop
from devtools.test_pki import load as load_pki
from devtools.virtual_card.card import VirtualCard
from devtools.virtual_card.harness import PcscHarness
from election.manifest import CandidateId, Language, Manifest
from election.package import ElectionPackage
from kiosk.card.profile import load_all_profiles, load_named_profile
from kiosk.driver import Ports, SessionDriver
from kiosk.ports import SilentSpeaker
from kiosk.session import SessionConfig, VoterSession, initial_state
from kiosk.session import events as ev
from kiosk.session.model import KioskMode
from kiosk.session.model import Phase as Screen
from remote import client as c
from remote.compose import voter_ports
from remote.package import load_verified_package

DEVICE_PASSPHRASE = "demo device passphrase (TEST MATERIAL)"  # noqa: S105 - the demo voters' device passphrase


class VoterStuck(RuntimeError):
    """A step of the voter app did not happen; the message says which."""


def expected_lines(manifest: Manifest, voter: Voter) -> list[str]:
    """What ``python -m remote.verify --language en`` prints for this voter's ballot (remote/check.py describe)."""
    style = next(s for s in manifest.ballot_styles if str(s.id) == voter.style)
    lines: list[str] = []
    for contest in manifest.contests_of_style(style.id):
        lines.append(contest.name.en)
        chosen = set(voter.choices.get(contest.id, []))
        names = [k for k in sorted(contest.candidates, key=lambda k: k.ballot_number) if str(k.id) in chosen]
        lines += [f"  {k.ballot_number}: {k.name.en}" for k in names] or ["  nobody (blank)"]
    return lines


class Computer:
    """One voter's computer: the voter app's ports and the session driver over them."""

    def __init__(self, package: ElectionPackage, collector: str, reader: str, data_dir: Path) -> None:
        self.ports = voter_ports(
            package,
            collector_url=collector,
            reader=reader,
            profile=load_named_profile("oman_ias"),
            profiles=tuple(load_all_profiles()),
            data_dir=data_dir,
            passphrase=lambda: DEVICE_PASSPHRASE,
        )
        self.ports.ballots.credential()  # unlocked (or made) at start, as python -m remote does
        self.loop = InlineLoop()
        p = self.ports
        self.driver = SessionDriver(
            machine=VoterSession(SessionConfig(package.manifest)),
            state=initial_state(KioskMode(polls_open=True)),
            ports=Ports(p.card, p.poll_book, p.ballots, p.staff, p.audit, SilentSpeaker(), ManualScheduler()),
            marshal=self.loop.call_soon,
            run_blocking=self.loop.call_soon,
        )
        self.manifest = package.manifest

    def send(self, *events: ev.Event) -> Screen:
        for event in events:
            self.driver.dispatch(event)
            self.loop.run_until_idle()
        return self.driver.state.phase

    def expect(self, screen: Screen, step: str) -> None:
        state = self.driver.state
        if state.phase is not screen:
            raise VoterStuck(f"{step}: the app shows {state.phase.value}, not {screen.value} "
                             f"(failure {state.failure.value if state.failure else None})")  # fmt: skip

    def vote(self, voter: Voter) -> c.Arrived | c.NotAccepted | c.NotYetKnown | None:
        """Card in, PIN (the collector's challenge signed, the credential registered), the voter's own ballot,
        review, seal, cast; returns what the collector answered."""
        self.send(ev.CardInserted())
        self.expect(Screen.PIN_ENTRY, "card inserted")
        for pin in voter.pins:
            self.send(*(ev.PinDigit(d) for d in pin), ev.PinSubmit())
        if self.driver.state.phase is not Screen.ACCESSIBILITY:
            return None  # refused (the failure is on the screen)
        self.send(ev.ChooseLanguage(Language(voter.language)), ev.Continue())
        self.expect(Screen.BALLOT, "language chosen")
        ticket = self.driver.state.ticket
        if ticket is None or str(ticket.style) != voter.style:
            raise VoterStuck(f"the app shows ballot style {ticket and ticket.style}, the voter's is {voter.style}")
        for contest in self.manifest.contests_of_style(ticket.style):
            for candidate in voter.choices.get(contest.id, []):
                self.send(ev.ToggleCandidate(CandidateId(candidate)))
        self.send(ev.GoToReview())
        self.expect(Screen.REVIEW, "review")
        self.send(ev.SealBallot())
        self.expect(Screen.CAST_OR_CHALLENGE, "sealed")
        self.send(ev.Cast())
        return self.ports.ballots.last_outcome

    def close(self) -> None:
        self.ports.collector.close()


def second_device(day: dict[str, Any], code: str) -> tuple[int, list[str]]:
    """``python -m remote.verify`` on the QR's text, as the voter's second device runs it."""
    pki = load_pki(Path(day["pki"]))
    done = subprocess.run(
        [sys.executable, "-m", "remote.verify", "--package", day["package"], "--commission-key",
         str(pki.commission_public_path), "--code", code, "--language", "en"],
        capture_output=True, text=True, env=inherited_env(), check=False, timeout=120,
    )  # fmt: skip
    return done.returncode, done.stdout.splitlines()


def run(day_dir: Path, collector: str) -> int:
    day = json.loads((day_dir / "day.json").read_text(encoding="utf-8"))
    plan = Plan.load(day_dir / "plan.json")
    pki = load_pki(Path(day["pki"]))
    package = load_verified_package(Path(day["package"]), pki.commission_public_path)
    out = day_dir / "remote"
    out.mkdir(parents=True, exist_ok=True)
    outcomes = out / "outcomes.jsonl"
    outcomes.write_text("", encoding="utf-8")
    profile = load_named_profile("oman_ias")
    voters = [v for v in plan.voters if v.phase == Phase.REMOTE.value]
    sequences: dict[str, int] = {}
    with PcscHarness() as pcsc:
        for voter in voters:
            started = time.monotonic()
            pcsc.insert(VirtualCard.from_files(pki.card(voter.civil_number), profile))
            computer = Computer(package, collector, pcsc.reader_name(), out / "computers" / voter.civil_number)
            try:
                answer = computer.vote(voter)
                row: dict[str, Any] = {"voter": voter.id, "kiosk": plan.collector, "group": voter.group,
                                       "ui": "voter app (session driver, no window)"}  # fmt: skip
                if isinstance(answer, c.Arrived) and computer.driver.state.phase is Screen.CONFIRMATION:
                    receipt = computer.driver.state.receipt
                    assert receipt is not None
                    sequences[voter.civil_number] = answer.receipt.sequence
                    row.update(outcome="cast", sequence=answer.receipt.sequence, duplicate=answer.receipt.duplicate)
                    if voter.second_device:
                        status, lines = second_device(day, receipt.qr_payload)
                        want = expected_lines(package.manifest, voter)
                        opened = status == 0 and all(line in lines for line in want)
                        fetches = next((ln.rsplit(": ", 1)[1] for ln in lines if "fetches left" in ln), None)
                        row["second_device"] = {"exit": status, "opens_to_the_voters_choices": opened,
                                                "fetches_left": fetches}  # fmt: skip
                        if not opened:
                            print(f"SECOND-DEVICE CHECK FAILED for {voter.id}: exit {status}", flush=True)
                            row["outcome"] = "second_device_failed"
                else:
                    failure = computer.driver.state.failure
                    row.update(outcome="refused", failure=failure.value if failure else type(answer).__name__)
            finally:
                computer.close()
                pcsc.remove()
            row["seconds"] = round(time.monotonic() - started, 2)
            with outcomes.open("a", encoding="utf-8") as f:
                f.write(json.dumps(row) + "\n")
            print(f"{voter.id} ({voter.group}): {row['outcome']}", flush=True)
    print(f"STATUS {json.dumps({'voters': len(voters), 'revoters': sum(1 for s in sequences.values() if s > 1)})}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.election_day.remote_voters", description=__doc__)
    parser.add_argument("--day", type=Path, required=True)
    parser.add_argument("--collector", required=True, help="the vote collector's https:// address")
    args = parser.parse_args(argv)
    return run(args.day, args.collector)


if __name__ == "__main__":
    raise SystemExit(main())

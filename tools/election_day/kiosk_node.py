"""One kiosk of the election day, as its own process: a real pcscd (isolated, with the vpcd virtual reader),
virtual ID cards, the real card layer, the voter-session state machine and driver, the election core's
encryption, the ballot box (SQLite) and the sync worker talking mutual TLS to the central office.

    python -m tools.election_day.kiosk_node --day out/demo/day --kiosk K-PC-001-1 --phase morning [--close]

It votes the plan's voters of that kiosk and phase (skipping those already in its outcomes file, so a
restarted kiosk resumes), appends one line per voter to ``kiosks/<id>/outcomes.jsonl``, then waits until
the sync backlog is delivered (unless the office is unreachable), and exits. The voters' input goes in as
session events (the same events the Kivy screens send); the accessible controller voter's keys go
through the accessibility layer's focus model. Nothing here knows what a voter chose except the plan.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import logging
import os
import secrets
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from nacl.public import PublicKey as SealPublicKey
from sqlalchemy.exc import OperationalError

from election.audio_clips import CLIP_INDEX, ClipIndex
from election.confirmation import genesis_code
from election.context import ElectionContext
from election.manifest import CandidateId, ContestId, Language, Manifest
from election.package import ElectionPackage, PackageError, load_package
from kiosk.accessibility import input as access_input
from kiosk.accessibility.audio import AudioQueue, ClipLibrary, FakePlayer
from kiosk.accessibility.prompts import InputMode, PromptContext
from kiosk.accessibility.shell import AccessibilityShell
from kiosk.ballot_box import BallotBox
from kiosk.card.pki import TrustAnchors
from kiosk.card.profile import load_named_profile
from kiosk.card.session import CardAuthenticator
from kiosk.driver import InlineLoop, Ports, SessionDriver
from kiosk.session import SessionConfig, VoterSession, initial_state
from kiosk.session import events as ev
from kiosk.session.model import KioskMode, Phase, StaffIdentity
from kiosk.states import PollsAction, StaffCard, StaffRole
from sync.client import SyncClient, TlsIdentity
from sync.signing import Signer
from sync.worker import SyncWorker, WorkerConfig
from tools.election_day.plan import Phase as DayPhase
from tools.election_day.plan import Plan, Voter
from tools.election_day.services import CentralPollBook, PcscCard, RealBallots
from tools.test_pki import load as load_pki
from tools.virtual_card.card import VirtualCard
from tools.virtual_card.harness import PcscHarness

log = logging.getLogger("kiosk")


@dataclass
class NoTimers:
    """The scripted voters never wait long enough for the inactivity timers; they are not armed."""

    def call_later(self, seconds: float, callback: Callable[[], None]) -> None:
        return None


@dataclass
class DayStaff:
    """StaffPort for the election day: assisted voting and a status line; polls are opened at start-up."""

    box: BallotBox

    def run(self, action: ev.StaffAction, staff: StaffIdentity) -> ev.StaffDone:
        counts = self.box.counts()
        return ev.StaffDone(action, (f"ballots cast: {counts.cast}", f"waiting to be sent: {counts.unsent_ballots}"))


@dataclass
class MemoryAuditPort:
    entries: list[tuple[str, str]] = field(default_factory=list)

    def record(self, kind: str, detail: str) -> None:
        self.entries.append((kind, detail))


def staff_card_of(pki: Any, staff_id: str, role: StaffRole) -> StaffCard:
    cert = pki.staff[staff_id].auth.cert()
    return StaffCard(staff_id, role, cert.fingerprint(hashes.SHA256()).hex())


def anchors_of(package: ElectionPackage) -> TrustAnchors:
    staff = [c for c in package.card_intermediates if "Staff" in c.subject.rfc4514_string()]
    return TrustAnchors(package.card_roots, package.card_intermediates, package.crls, staff)


class Kiosk:
    def __init__(
        self,
        day: Path,
        kiosk_id: str,
        *,
        clock_skew_s: float = 0.0,
        package: Path | None = None,
        db: Path | None = None,
    ) -> None:
        self.day = day
        self.kiosk_id = kiosk_id
        self.dir = day / "kiosks" / kiosk_id
        self.dir.mkdir(parents=True, exist_ok=True)
        config = json.loads((day / "day.json").read_text(encoding="utf-8"))
        self.config = config
        self.plan = Plan.load(day / "plan.json")
        self.pki = load_pki(Path(config["pki"]))
        commission = self.pki.commission_public_key()
        self.package = load_package(Path(package or config["package"]).read_bytes(), commission)
        self.manifest: Manifest = self.package.manifest
        assert self.package.election_context is not None, "the package has no election key"
        assert self.package.central_envelope_key is not None, "the package has no office envelope key"
        self.context = ElectionContext.from_dict(dict(self.package.election_context))
        self.skew = dt.timedelta(seconds=clock_skew_s)
        kiosk_files = self.pki.kiosks[kiosk_id]
        signer = Signer.from_pem_file(kiosk_files.key_path)
        db = db or self.dir / "ballot-box.sqlite3"
        centre = self.manifest.kiosks_by_id[kiosk_id].centre  # type: ignore[index]
        self.centre_id = str(centre)
        if db.exists():
            self.box = BallotBox.open(db, signer, min_batch=5)
            log.info("restarted: ballot box reopened (%d cast so far)", self.box.counts().cast)
        else:
            genesis = genesis_code(self.context.base_hash, kiosk_id).hex()
            self.box = BallotBox.create(
                db, signer, kiosk_id=kiosk_id, centre_id=self.centre_id, chain_genesis=genesis, min_batch=5
            )
        if self.box.polls_state.value == "setup":
            self.box.apply(PollsAction.OPEN, staff_card_of(self.pki, "staff-cm-1", StaffRole.COMMITTEE_MEMBER))
        url = config["central_urls"][kiosk_id]
        tls = TlsIdentity(kiosk_files.cert_path, kiosk_files.key_path, Path(config["central_ca"]))
        self.client = SyncClient(url, tls, connect_timeout=1.0, read_timeout=20.0)
        self.worker = SyncWorker(
            self.box,
            self.client,
            WorkerConfig(software_version="0.1-demo", package_hash=self.package.package_hash, interval=0.5,
                         batch_window=3.0),
            monotonic=time.monotonic,
            wall_clock=self.now,
        )  # fmt: skip
        roll_styles = {str(s.wilayat): str(s.id) for s in self.manifest.ballot_styles}
        offline_roll = {v.civil_number: roll_styles[v.wilayat] for v in self.plan.voters}
        self.poll_book = CentralPollBook(self.client, self.box, kiosk_id, self.centre_id, offline_roll)
        self.ballots = RealBallots(
            self.manifest, self.context, self.box, self.poll_book, SealPublicKey(self.package.central_envelope_key),
            after_store=self.worker.wake,
        )  # fmt: skip
        self.profile = load_named_profile("oman_ias")
        authenticator = CardAuthenticator(
            self.profile, anchors_of(self.package), kiosk_id, self.manifest.election_id, self.now, secrets.token_bytes
        )
        self.harness = PcscHarness().start()
        atexit.register(self.harness.stop)
        # pcscd runs in its own session: a power cut (kill -9 of this process) must take it down too.
        daemon = self.harness._proc
        (self.dir / "pcscd.pid").write_text(str(daemon.pid if daemon else ""), encoding="ascii")
        self.card = PcscCard(self.harness.reader_name(), authenticator)
        self.audit = MemoryAuditPort()
        self.loop = InlineLoop()
        # The accessibility layer (prompts, audio queue, clip library over the package's own Ogg files) with a
        # player that records what it would play: no sound device on a server.
        clip_index = ClipIndex.from_json(self.package.files[CLIP_INDEX])
        self.player = FakePlayer()
        library = ClipLibrary(self.package.files, clip_index, self.manifest, self.dir / "audio-cache")
        self.shell = AccessibilityShell(
            ctx=PromptContext(self.manifest, clip_index.strings),
            queue=AudioQueue(self.player, library),
            dispatch=self.send,
            audit=self.audit.record,
        )
        self.driver = SessionDriver(
            machine=VoterSession(SessionConfig(self.manifest)),
            state=initial_state(KioskMode(polls_open=True)),
            ports=Ports(self.card, self.poll_book, self.ballots, DayStaff(self.box), self.audit, self.shell,
                        NoTimers()),
            marshal=self.loop.call_soon,
            run_blocking=self.loop.call_soon,
        )  # fmt: skip
        self.driver.listeners.append(self.shell.on_state)
        self.shell.on_state(self.driver.state)
        self.prompts = PromptContext(self.manifest, clip_index.strings, input_mode=InputMode.CONTROLLER)
        self.outcomes = self.dir / "outcomes.jsonl"
        self.worker.start()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.skew

    # ---- driving the session ---------------------------------------------------------------------------

    @property
    def phase(self) -> Phase:
        return self.driver.state.phase

    def current(self) -> Phase:
        """The phase now (a call, so that type narrowing of an earlier read does not stick)."""
        return self.driver.state.phase

    def send(self, *events: ev.Event) -> None:
        for event in events:
            self.driver.dispatch(event)
            self.loop.run_until_idle()
            self.player.drain()  # the voter listens to every prompt to the end

    def press_towards(self, target: ev.Event) -> None:
        """Accessible controller: DOWN until the item that sends ``target`` has the focus, then SELECT."""
        focus = access_input.Focus()
        for _ in range(40):
            state = self.driver.state
            items = access_input.screen_items(state, self.prompts)
            index = focus.on(state).index(items)
            if index is not None and items[index].event == target:
                focus, commands = access_input.controller_step(focus, access_input.Key.SELECT, state, self.prompts)
                for command in commands:
                    if isinstance(command, access_input.Send):
                        self.send(command.event)
                return
            focus, _ = access_input.controller_step(focus, access_input.Key.DOWN, state, self.prompts)
        raise RuntimeError(f"the controller could not reach {type(target).__name__} on {state.phase}")

    def act(self, voter: Voter, event: ev.Event) -> None:
        if voter.controller and not isinstance(event, ev.PinDigit | ev.PinSubmit):
            # On the controller, "next" on the last contest is the way to the review screen.
            self.press_towards(ev.NextContest() if isinstance(event, ev.GoToReview) else event)
        else:
            self.send(event)

    def card_for(self, voter: Voter) -> VirtualCard:
        ref = voter.civil_number if voter.card == "voter" else voter.card
        return VirtualCard.from_files(self.pki.card(ref), self.profile)

    def insert(self, ref: str) -> VirtualCard:
        card = VirtualCard.from_files(self.pki.card(ref), self.profile)
        self.harness.insert(card)
        self.send(ev.CardInserted())
        return card

    def remove(self) -> None:
        self.harness.remove()
        self.send(ev.CardRemoved())

    def assist(self) -> None:
        """A poll worker signs in with their card and starts assisted voting for the next voter."""
        self.insert("staff-pw-1")
        self.send(*(ev.PinDigit(d) for d in "1234"), ev.PinSubmit())
        if self.phase is not Phase.STAFF_MENU:
            raise RuntimeError(f"staff sign-in ended on {self.phase}")
        self.send(ev.StaffChoose(ev.StaffAction.START_ASSISTED))
        self.send(ev.Continue())
        self.remove()

    def mark(self, voter: Voter, choices: dict[str, list[str]]) -> None:
        state = self.driver.state
        for contest, chosen in choices.items():
            for old in state.selected(ContestId(contest)):
                if old not in chosen:
                    self.act(voter, ev.ToggleCandidate(old))
            for new in chosen:
                if new not in self.driver.state.selected(ContestId(contest)):
                    self.act(voter, ev.ToggleCandidate(CandidateId(new)))
        self.act(voter, ev.GoToReview())
        if not any(choices.values()):
            self.act(voter, ev.ConfirmBlank())
        self.act(voter, ev.SealBallot())

    def vote(self, voter: Voter, before_cast: Callable[[], None] | None = None) -> dict[str, Any]:
        started = time.monotonic()
        result: dict[str, Any] = {"voter": voter.id, "kiosk": self.kiosk_id}
        heard_before = len(self.player.started)
        if voter.assisted:
            self.assist()
        ref = voter.civil_number if voter.card == "voter" else voter.card
        self.insert(ref)
        tries: list[int] = []
        for pin in voter.pins:
            if self.phase is not Phase.PIN_ENTRY:
                break
            self.send(*(ev.PinDigit(d) for d in pin), ev.PinSubmit())
            if self.driver.state.pin_wrong:
                tries.append(self.driver.state.pin_tries_left or 0)
        result["pin_tries_left_after_wrong_pins"] = tries
        if self.phase is Phase.PROVISIONAL:
            result["provisional_offered"] = True
            self.act(voter, ev.Continue())
        if self.phase is Phase.ACCESSIBILITY:
            if voter.language == "en":
                self.send(ev.ChooseLanguage(Language.ENGLISH))
            if voter.audio and not self.driver.state.settings.audio:
                self.send(ev.ToggleAudio())
            self.act(voter, ev.Continue())
        if self.phase is Phase.BALLOT:
            result["audio"] = self.driver.state.settings.audio
            if voter.challenge is not None:
                self.mark(voter, voter.challenge)
                self.act(voter, ev.Challenge())
                report = self.driver.state.challenge
                result["challenge"] = {
                    "verified": bool(report and report.verified),
                    "decrypted_matches": bool(
                        report and all(tuple(report.decrypted.get(c, ())) == tuple(v)  # type: ignore[call-overload]
                                       for c, v in voter.challenge.items())
                    ),
                    "code": report.code if report else None,
                }  # fmt: skip
                self.act(voter, ev.Continue())
            self.mark(voter, voter.choices)
            if self.current() is Phase.CAST_OR_CHALLENGE:
                if before_cast is not None:
                    before_cast()
                self.act(voter, ev.Cast())
        state = self.driver.state
        if state.phase is Phase.CONFIRMATION and state.receipt is not None:
            result["outcome"] = "provisional" if result.get("provisional_offered") else "cast"
            result["code"] = state.receipt.code
        else:
            result["outcome"] = "refused"
            result["failure"] = state.failure.value if state.failure else f"stopped on {state.phase.value}"
        heard = self.player.started[heard_before:]
        result["clips_heard"] = len(heard)
        result["clips_missing"] = sorted({str(p.path) for p in heard if not p.path.is_file()})
        self.remove()
        if self.phase is not Phase.ATTRACT:
            result["left_on"] = self.phase.value
        result["seconds"] = round(time.monotonic() - started, 3)
        return result

    # ---- the phase ---------------------------------------------------------------------------------------

    def done_voters(self) -> set[str]:
        if not self.outcomes.exists():
            return set()
        return {json.loads(line)["voter"] for line in self.outcomes.read_text(encoding="utf-8").splitlines() if line}

    def record(self, result: dict[str, Any]) -> None:
        with self.outcomes.open("a", encoding="utf-8") as f:
            f.write(json.dumps(result, ensure_ascii=False) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def pcscd_gone(self, voter: Voter) -> dict[str, Any]:
        """Fault: pcscd dies just as the voter inserts the card; what does the kiosk tell them and staff?"""
        self.harness.kill_pcscd()
        self.harness.links.clear()
        self.send(ev.CardInserted())
        state = self.driver.state
        seen = {"voter": voter.id, "kiosk": self.kiosk_id, "outcome": "refused", "fault": "pcscd_killed",
                "phase": state.phase.value, "failure": state.failure.value if state.failure else None}  # fmt: skip
        self.send(ev.CardRemoved())
        self.harness.start_pcscd()
        log.warning("card reader service restarted after it died (staff: check the reader if this repeats)")
        return seen

    def run_phase(self, phase: DayPhase, *, pcscd_fault_at: str | None = None, kivy: bool = False) -> int:
        done = self.done_voters()
        voters = [v for v in self.plan.for_kiosk(self.kiosk_id, phase) if v.id not in done]
        if kivy:
            from tools.election_day.kivy_voters import run_kivy_voters

            run_kivy_voters(self, voters, self.day.parent / "screenshots", self.record)
            return len(voters)
        for voter in voters:
            if voter.id == pcscd_fault_at:
                self.record(self.pcscd_gone(voter))
            hook = None
            marker = self.dir / "killed-once"
            if voter.kill_before_cast and not marker.exists():

                def hook(marker: Path = marker) -> None:
                    marker.write_text("the kiosk was killed here once\n", encoding="utf-8")
                    print("KILL-POINT", flush=True)  # the orchestrator kills this process now
                    time.sleep(600)

            result = self.vote(voter, before_cast=hook)
            self.record(result)
            log.info("%s: %s %s", voter.id, result["outcome"], result.get("failure", ""))
        return len(voters)

    def drain(self, timeout: float) -> bool:
        """Seal and deliver everything queued (the office may refuse nothing here); False on timeout."""
        deadline = time.monotonic() + timeout
        self.box.seal_batches(force=True)
        while time.monotonic() < deadline:
            self.worker.wake()
            c = self.box.counts()
            if c.unbatched == 0 and c.unsent_outbox == 0 and c.pending_voted_marks == 0 and c.pending_releases == 0:
                return True
            if c.unbatched:
                self.box.seal_batches(force=True)
            time.sleep(0.3)
        return False

    def close(self) -> None:
        self.box.apply(PollsAction.CLOSE, staff_card_of(self.pki, "staff-cm-1", StaffRole.COMMITTEE_MEMBER))

    def shutdown(self) -> None:
        self.worker.stop()
        self.harness.stop()
        self.box.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.election_day.kiosk_node")
    parser.add_argument("--day", type=Path, required=True)
    parser.add_argument("--kiosk", required=True)
    parser.add_argument("--phase", choices=[p.value for p in DayPhase])
    parser.add_argument("--close", action="store_true", help="close the polls after the phase")
    parser.add_argument("--no-drain", action="store_true", help="do not wait for the backlog (office unreachable)")
    parser.add_argument("--drain-timeout", type=float, default=60.0)
    parser.add_argument("--clock-skew", type=float, default=0.0, help="seconds added to this kiosk's clock")
    parser.add_argument("--package", type=Path, help="another package file than the day's (fault tests)")
    parser.add_argument("--db", type=Path, help="the ballot box database path (fault tests: a full disk)")
    parser.add_argument("--pcscd-fault-at", help="kill pcscd when this voter inserts the card (fault tests)")
    parser.add_argument("--kivy", action="store_true", help="these voters use the real Kivy app (offscreen)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.kiosk} %(levelname)s %(name)s: %(message)s")
    try:
        kiosk = Kiosk(args.day, args.kiosk, clock_skew_s=args.clock_skew, package=args.package, db=args.db)
    except PackageError as exc:
        print(f"KIOSK REFUSES TO START: the election package is refused ({exc}). No voting on this kiosk: load the "
              "package again from the commission's copy and call the central office.", flush=True)  # fmt: skip
        return 2
    try:
        if args.phase:
            n = kiosk.run_phase(DayPhase(args.phase), pcscd_fault_at=args.pcscd_fault_at, kivy=args.kivy)
            log.info("phase %s: %d voters", args.phase, n)
        if args.close:
            kiosk.close()
        try:
            delivered = True if args.no_drain else kiosk.drain(args.drain_timeout)
        except OperationalError as exc:
            print(f"KIOSK STORAGE PROBLEM: the ballot box cannot write ({exc.orig}). Ballots already stored are kept; "
                  "voters are told that no vote was recorded. Staff: free space or move the ballot box database to "
                  "another disk, then restart the kiosk.", flush=True)  # fmt: skip
            return 3
        counts = kiosk.box.counts()
        status = {"kiosk": args.kiosk, "delivered": delivered, "counts": counts.__dict__,
                  "sync": kiosk.worker.status().__dict__, "polls": kiosk.box.polls_state.value}  # fmt: skip
        print("STATUS " + json.dumps(status, default=str), flush=True)
    finally:
        kiosk.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())

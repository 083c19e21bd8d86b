"""One kiosk of the election day, as its own process: a real pcscd (isolated, with the vpcd virtual reader),
virtual ID cards, the real card layer, the voter-session state machine and driver, the election core's
encryption, the ballot box (SQLite) with its signed audit log and the sync worker talking mutual TLS to the central
office. The kiosk is composed by the polling-station kiosk's composition root (``kiosk.bootstrap.build_station``)
with the day's overrides: the harness's virtual reader, the day's clock (skewed in the clock test), the scripted
voters as the centre's offline roll, the day's sync timings.

    python -m devtools.election_day.kiosk_node --day out/demo/day --kiosk K-PC-001-1 --phase morning [--close]

It votes the plan's voters of that kiosk and phase (skipping those already in its outcomes file, so a
restarted kiosk resumes), appends one line per voter to ``kiosks/<id>/outcomes.jsonl``, then waits until
the sync backlog is delivered (unless the office is unreachable), and exits. Every voter goes through the
real Kivy kiosk app, offscreen (``kivy_voters.py``): touches on the screen's widgets, the accessible
controller's keys on the window. If the app cannot run, the kiosk process fails (no fallback). Nothing
here knows what a voter chose except the plan.
"""

from __future__ import annotations

import argparse
import atexit
import datetime as dt
import json
import logging
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes
from sqlalchemy.exc import OperationalError

from devtools.election_day.plan import Phase as DayPhase
from devtools.election_day.plan import Plan, Voter
from devtools.test_pki import load as load_pki
from devtools.virtual_card.card import VirtualCard
from devtools.virtual_card.harness import PcscHarness
from election.audio_clips import CLIP_INDEX, ClipIndex
from election.manifest import KioskId, Manifest
from election.package import ElectionPackage
from kiosk.accessibility.audio import AudioQueue, ClipLibrary, FakePlayer
from kiosk.accessibility.prompts import PromptContext
from kiosk.accessibility.shell import AccessibilityShell
from kiosk.bootstrap import REFUSED, StartRefused, StationConfig, build_station
from kiosk.card.profile import load_named_profile
from kiosk.polls import PollsAction, StaffCard, StaffRole

log = logging.getLogger("kiosk")


def staff_card_of(pki: Any, staff_id: str, role: StaffRole) -> StaffCard:
    cert = pki.staff[staff_id].auth.cert()
    return StaffCard(staff_id, role, cert.fingerprint(hashes.SHA256()).hex())


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
        self.skew = dt.timedelta(seconds=clock_skew_s)
        self.profile = load_named_profile("oman_ias")
        self.harness = PcscHarness().start()
        atexit.register(self.harness.stop)
        # pcscd runs in its own session: a power cut (kill -9 of this process) must take it down too.
        daemon = self.harness._proc
        (self.dir / "pcscd.pid").write_text(str(daemon.pid if daemon else ""), encoding="ascii")
        kiosk_files = self.pki.kiosks[kiosk_id]
        station = StationConfig(
            package=Path(package or config["package"]),
            commission_key=self.pki.commission_public_path,
            kiosk_id=kiosk_id,
            central_url=config["central_urls"][kiosk_id],
            kiosk_cert=kiosk_files.cert_path,
            kiosk_key=kiosk_files.key_path,
            central_ca=Path(config["central_ca"]),
            db=db or self.dir / "ballot-box.sqlite3",
            reader=self.harness.reader_name(),
            batch_window=3.0,
            min_batch=5,
            sync_interval=0.5,
            connect_timeout=1.0,
            read_timeout=20.0,
            software_version="0.1-demo",
        )
        # The kiosk of the polling station, composed as in production (kiosk.bootstrap) with the day's clock
        # (skewed in the clock test) and the day's offline roll (every scripted voter; used only during the outage).
        offline_roll = {v.civil_number: v.style for v in self.plan.voters}
        try:
            self.station = build_station(station, now=self.now, offline_roll=offline_roll, start_worker=False)
        except StartRefused:
            self.harness.stop()
            raise
        self.package: ElectionPackage = self.station.package
        self.manifest: Manifest = self.package.manifest
        self.centre_id = str(self.manifest.kiosks_by_id[KioskId(kiosk_id)].centre)
        self.box = self.station.box
        self.client = self.station.client
        self.worker = self.station.worker
        self.poll_book = self.station.poll_book
        self.ballots = self.station.ballots
        self.card = self.station.card
        self.card_events = self.station.card_events
        self.staff = self.station.staff
        self.audit = self.station.audit
        if self.box.polls_state.value == "setup":
            self.box.apply(PollsAction.OPEN, staff_card_of(self.pki, "staff-cm-1", StaffRole.COMMITTEE_MEMBER))
        # The accessibility layer (prompts, audio queue, clip library over the package's own Ogg files) with a
        # player that records what it would play: no sound device on a server. The app attaches it.
        clip_index = ClipIndex.from_json(self.package.files[CLIP_INDEX])
        self.player = FakePlayer()
        library = ClipLibrary(self.package.files, clip_index, self.manifest, self.dir / "audio-cache")
        self.shell = AccessibilityShell(
            ctx=PromptContext(self.manifest, clip_index.strings),
            queue=AudioQueue(self.player, library),
            dispatch=lambda _event: None,  # the app's dispatch, once it runs (kivy_shell.attach)
            audit=self.audit.record,
        )
        self.outcomes = self.dir / "outcomes.jsonl"
        self.worker.start()

    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.skew

    def card_for(self, voter: Voter) -> VirtualCard:
        ref = voter.civil_number if voter.card == "voter" else voter.card
        return VirtualCard.from_files(self.pki.card(ref), self.profile)

    def card_of(self, ref: str) -> VirtualCard:
        return VirtualCard.from_files(self.pki.card(ref), self.profile)

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

    def run_phase(self, phase: DayPhase, *, pcscd_fault_at: str | None = None) -> int:
        """This phase's voters (those not voted yet) on the real kiosk app; the ``kivy`` phase's voters are
        photographed at each screen."""
        from devtools.election_day.kivy_voters import run_app_voters

        done = self.done_voters()
        voters = [v for v in self.plan.for_kiosk(self.kiosk_id, phase) if v.id not in done]
        if not voters and pcscd_fault_at is None:
            return 0
        marker = self.dir / "killed-once"

        def before_cast(voter: Voter) -> Callable[[], None] | None:
            if not voter.kill_before_cast or marker.exists():
                return None

            def kill_point() -> None:
                marker.write_text("the kiosk was killed here once\n", encoding="utf-8")
                print("KILL-POINT", flush=True)  # the orchestrator kills this process now
                time.sleep(600)

            return kill_point

        photographed = frozenset(v.id for v in voters) if phase is DayPhase.KIVY else frozenset()
        run_app_voters(self, voters, self.record, shots=self.day.parent / "screenshots", photographed=photographed,
                       before_cast=before_cast, pcscd_fault_at=pcscd_fault_at)  # fmt: skip
        return len(voters)

    def drain(self, timeout: float) -> bool:
        """Seal and deliver everything queued (the office may refuse nothing here); False on timeout.

        The last sync rounds run here rather than on the worker's thread, so that a ballot box that cannot
        write (a full disk) stops the kiosk with a message for staff instead of a log line."""
        deadline = time.monotonic() + timeout
        self.worker.stop()
        self.box.seal_batches(force=True)
        while time.monotonic() < deadline:
            self.worker.run_once()
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
    parser = argparse.ArgumentParser(prog="python -m devtools.election_day.kiosk_node")
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
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format=f"%(asctime)s {args.kiosk} %(levelname)s %(name)s: %(message)s")
    try:
        kiosk = Kiosk(args.day, args.kiosk, clock_skew_s=args.clock_skew, package=args.package, db=args.db)
    except StartRefused as exc:  # the same message to staff as the station kiosk's (run_kiosk.py)
        print(f"{REFUSED}: {exc}", flush=True)
        return 2
    try:
        if args.phase:
            n = kiosk.run_phase(DayPhase(args.phase), pcscd_fault_at=args.pcscd_fault_at)
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

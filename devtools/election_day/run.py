"""The election day, end to end, on real processes: key ceremony, central office, kiosks with pcscd and virtual
ID cards, the scenario timeline (outage, kill -9), close of polls, manual sheet, decryption by 4 of 5
guardians, the published record verified, and the comparison with the scripted voters' choices.

Called by ``devtools.demo`` after its preparation stage; see docs/election-day.md.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nacl.public import PrivateKey

from devtools.election_day.collector_site import CollectorSite, collector_site, day_definition
from devtools.election_day.office import OfficeClient, read_json, write_config
from devtools.election_day.plan import BLANK, Phase, Plan
from devtools.election_day.proxy import TcpProxy
from devtools.election_day.supervisor import Supervisor, SupervisorError, free_port, inherited_env, wait_for_port
from election.manifest import Manifest

PASSPHRASE = "demo guardian passphrase (TEST MATERIAL)"  # noqa: S105 - the demo guardians' test passphrase
GUARDIANS, QUORUM, PRESENT = 5, 3, (1, 2, 3, 4)


@dataclass
class DayLog:
    """What happened, in order, for the console and the report."""

    started: float = field(default_factory=time.monotonic)
    events: list[dict[str, Any]] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    _stage_start: float = 0.0

    def stage(self, title: str) -> None:
        self._close_stage()
        self._stage_start = time.monotonic()
        self.stages.append({"title": title, "seconds": None})
        print(f"\n==> {title}", flush=True)

    def _close_stage(self) -> None:
        if self.stages and self.stages[-1]["seconds"] is None:
            self.stages[-1]["seconds"] = round(time.monotonic() - self._stage_start, 1)

    def note(self, text: str, **data: Any) -> None:
        t = round(time.monotonic() - self.started, 1)
        self.events.append({"t": t, "text": text, **data})
        print(f"    [{t:6.1f} s] {text}", flush=True)

    def finish(self) -> None:
        self._close_stage()


def run_cli(log: DayLog, *args: str, env: dict[str, str] | None = None, quiet: bool = True) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args],
        capture_output=True,
        text=True,
        env={**inherited_env(), **(env or {})},
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"`python -m {' '.join(args)}` failed ({done.returncode}):\n{done.stdout}{done.stderr}")
    if not quiet:
        print(done.stdout, end="")
    return done.stdout


def key_ceremony(log: DayLog, day: Path, manifest_path: Path) -> Path:
    log.stage(f"Key ceremony: {GUARDIANS} guardians, any {QUORUM} can decrypt (python -m election.guardian)")
    ceremony = day / "ceremony"
    shutil.rmtree(ceremony, ignore_errors=True)
    env = {"SANDUQ_GUARDIAN_PASSPHRASE": PASSPHRASE}
    g = ["election.guardian", "--ceremony", str(ceremony)]
    run_cli(log, *g, "init", "--manifest", str(manifest_path), "--guardians", str(GUARDIANS), "--quorum", str(QUORUM))
    names = ["Guardian Amal (TEST)", "Guardian Badr (TEST)", "Guardian Dana (TEST)", "Guardian Fahad (TEST)",
             "Guardian Huda (TEST)"]  # fmt: skip
    for i in range(1, GUARDIANS + 1):
        run_cli(log, *g, "commit", "--sequence", str(i), "--name", names[i - 1], env=env)
    log.note("every guardian committed to a polynomial (Schnorr proofs for each coefficient)")
    for i in range(1, GUARDIANS + 1):
        run_cli(log, *g, "share", "--sequence", str(i), env=env)
    for i in range(1, GUARDIANS + 1):
        run_cli(log, *g, "verify-shares", "--sequence", str(i), env=env)
    log.note("shares exchanged in sealed boxes and verified against the commitments (Feldman), no complaints")
    run_cli(log, *g, "publish-key", env=env)
    context = read_json(ceremony / "context.json")
    log.note(
        f"joint election key published: {context['joint_public_key'][:16]}..., base hash {context['base_hash'][:16]}..."
    )
    return ceremony


def build_day_package(
    log: DayLog, day: Path, definition: Path, pki_dir: Path, ceremony: Path, collector_cert: Path | None = None
) -> tuple[Path, Path]:
    """``collector_cert``: the vote collector's TLS certificate, packaged as ``trust/collector.pem`` (the voter app
    pins it), for a day with remote voting."""
    from devtools.test_pki import load
    from tools.build_package import build
    from tools.trust_material import load_trust, read_signing_key

    log.stage("Election package for the day: the small election with the joint key and the office's envelope key")
    office_dir = day / "central-election"
    shutil.rmtree(office_dir, ignore_errors=True)
    (office_dir / "guardians").mkdir(parents=True)
    envelope = PrivateKey.generate()
    (office_dir / "envelope-key.TEST.hex").write_text(bytes(envelope).hex(), encoding="ascii")
    (day / "envelope.pub").write_bytes(bytes(envelope.public_key))
    shutil.copy(definition / "manifest.json", office_dir / "manifest.json")
    shutil.copy(ceremony / "context.json", office_dir / "election-context.json")
    for path in (ceremony / "guardians").glob("guardian-*.json"):
        shutil.copy(path, office_dir / "guardians" / path.name)
    pki = load(pki_dir)
    result = build(
        definition, day / "election-day.sanduq", load_trust(pki.trust_dir), read_signing_key(pki.commission_key_path),
        audio_cache=Path("out/audio-cache"),
        election_context=ceremony / "context.json", central_envelope_key=day / "envelope.pub", quiet=True,
        collector_cert=collector_cert,
    )  # fmt: skip
    log.note(f"signed package {result.package_path.name}: hash {result.package.package_hash[:16]}...")
    # the office publishes the package's signed index and trust files in the record (package/); its own verifier run
    # checks them with the commission's key, as an observer does with theirs (central.record_writer)
    shutil.copy(result.package_path, office_dir / "election-package.sanduq")
    shutil.copy(pki.commission_public_path, office_dir / "commission.pub")
    return result.package_path, office_dir


@dataclass
class Day:
    out: Path
    definition: Path
    pki_dir: Path
    plan: Plan
    manifest: Manifest
    log: DayLog = field(default_factory=DayLog)
    sup: Supervisor | None = None
    proxies: dict[str, TcpProxy] = field(default_factory=dict)
    office: OfficeClient | None = None
    central_port: int = 0
    problems: list[str] = field(default_factory=list)
    not_wired: list[str] = field(default_factory=list)
    central_config: Path = Path()
    office_lifecycle: dict[str, Any] | None = None
    collector: CollectorSite | None = None  # the vote collector, on a day with remote voting (plan.collector)
    office_dir: Path = Path()
    remote: dict[str, Any] | None = None  # what the remote voting did (the report's section), from the record

    @property
    def day(self) -> Path:
        return self.out / "day"

    # ---- central office ---------------------------------------------------------------------------------
    def start_central(self, office_dir: Path) -> None:
        from devtools.test_pki import load

        log = self.log
        log.stage("Central office: SQLite database, roll import, kiosk enrolment, HTTPS with mutual TLS")
        central = self.day / "central"
        shutil.rmtree(central, ignore_errors=True)
        central.mkdir(parents=True)
        self.central_port = free_port()
        self.central_config = central / "central.toml"
        site = self.collector
        link = None if site is None else (site.internal_url, site.tls.office_cert, site.tls.office_key, site.tls.ca)
        self.office_dir = office_dir
        write_config(self.central_config, db=central / "central.sqlite3", election_dir=office_dir,
                     record_dir=central / "record", port=self.central_port, pki=self.pki_dir,
                     remote=link)  # fmt: skip
        cfg = ["--config", str(self.central_config)]
        run_cli(log, "central", "init-db", *cfg)
        roll = central / "roll-imported.csv"
        lines = (self.definition / "roll.csv").read_text(encoding="utf-8").splitlines()
        kept = [line for line in lines if line.split(",")[0] not in self.plan.not_on_roll]
        roll.write_text("\n".join(kept) + "\n", encoding="utf-8")
        out = run_cli(log, "central", "import-roll", str(roll), *cfg)
        left_out = len(lines) - len(kept)
        log.note(out.strip() + (f" (left out on purpose: {left_out}, the 'not on the roll' case)" if left_out else ""))
        pki = load(self.pki_dir)
        certs = [str(pki.kiosks[k.id].cert_path) for k in self.manifest.kiosks]
        run_cli(log, "central", "enrol-kiosk", *certs, *cfg)
        log.note(f"enrolled kiosks {', '.join(k.id for k in self.manifest.kiosks)}")
        assert self.sup is not None
        child = self.sup.start("central", self.central_argv())
        wait_for_port("127.0.0.1", self.central_port, 30, child.alive)
        self.office = OfficeClient(f"https://127.0.0.1:{self.central_port}", self.pki_dir / "central" / "ca.pem")
        log.note(f"central office serving on https://127.0.0.1:{self.central_port} (pid {child.pid})")

    def central_argv(self) -> list[str]:
        return [sys.executable, "-m", "central", "serve", "--config", str(self.central_config)]

    # ---- the vote collector ---------------------------------------------------------------------------------
    def start_collector(self, package: Path) -> None:
        """``python -m collector init`` and ``serve`` (SQLite, TLS on both listeners) for the day's remote voting."""
        from devtools.test_pki import load

        site, log = self.collector, self.log
        assert site is not None and self.sup is not None
        log.stage("Vote collector: SQLite, the day's package and roll, TLS (pinned by the voter app), the office's "
                  "internal link (mTLS)")  # fmt: skip
        pki = load(self.pki_dir)
        pair = pki.kiosks[site.collector_id]
        site.write_config(
            package=package, commission_key=pki.commission_public_path, roll=self.day / "central" / "roll-imported.csv",
            abroad=list(self.plan.abroad), office_url=f"https://127.0.0.1:{self.central_port}",
            kiosk_cert=pair.cert_path, kiosk_key=pair.key_path, office_server_ca=self.pki_dir / "central" / "ca.pem",
        )  # fmt: skip
        run_cli(log, "collector", "init", "--config", str(site.config))
        child = self.sup.start("collector", [sys.executable, "-m", "collector", "serve", "--config", str(site.config)])
        wait_for_port("127.0.0.1", site.port, 60, child.alive)
        wait_for_port("127.0.0.1", site.internal_port, 60, child.alive)
        remote = self.manifest.remote_voting
        windows = "; ".join(f"{w.group.value} {w.opens:%Y-%m-%d %H:%M} - {w.closes:%Y-%m-%d %H:%M} UTC"
                            for w in (remote.windows if remote else ()))  # fmt: skip
        log.note(f"collector {site.collector_id} serving on {site.url} (pid {child.pid}); remote windows: {windows}; "
                 f"{len(self.plan.abroad)} voters registered abroad")  # fmt: skip
        log.note(
            f"the office asks the collector's internal listener ({site.internal_url}) at every check-in whether "
            "the voter voted remotely; the voted mark voids that voter's credential (the in-person override)"
        )

    def run_remote_voters(self) -> None:
        site, log = self.collector, self.log
        assert site is not None and self.sup is not None
        voters = [v for v in self.plan.voters if v.phase == Phase.REMOTE.value]
        groups = {g: sum(1 for v in voters if v.group == g) for g in ("home", "abroad")}
        people = len({v.civil_number for v in voters})
        log.stage(f"Remote voting: {len(voters)} ballots of {people} voters on the voter app, at home "
                  f"({groups['home']} ballots) and abroad ({groups['abroad']}), the card in a USB reader (real pcscd + "
                  "virtual ID cards)")  # fmt: skip
        child = self.sup.start("remote-voters", [sys.executable, "-m", "devtools.election_day.remote_voters",
                                                 "--day", str(self.day), "--collector", site.url])  # fmt: skip
        code = self.sup.wait(child, 900)
        if code != 0 or not any(line.startswith("STATUS ") for line in child.lines):
            raise SupervisorError(f"the remote voters failed (exit {code}); see {child.log_path}")
        self.summarise_phase(Phase.REMOTE)
        outcomes = self.outcomes()
        for v in voters:
            check = outcomes.get(v.id, {}).get("second_device")
            if check:
                log.note(f"{v.id}: second device (python -m remote.verify on the QR's text, pinned TLS to the "
                         f"collector): exit {check['exit']}, opens to the voter's choices: "
                         f"{'YES' if check['opens_to_the_voters_choices'] else 'NO'}; fetches left "
                         f"{check['fetches_left']}")  # fmt: skip

    def hand_over(self) -> None:
        """At close, before the centres close: the collector checks its counted voters in at the office, sends its
        ballots as signed batches of its chain and its signed close, and writes ``remote/`` into the office's
        election directory (the office publishes it in the pre-decryption and published records)."""
        site, log = self.collector, self.log
        assert site is not None and self.sup is not None
        out = run_cli(log, "collector", "handover", "--config", str(site.config), "--out", str(self.office_dir))
        for line in out.strip().splitlines():
            log.note(f"collector: {line}")
        self.sup.stop("collector")
        log.note("collector stopped (remote voting is over)")

    def write_day_config(self, package: Path) -> None:
        for k in self.manifest.kiosks:
            self.proxies[k.id] = TcpProxy(self.central_port)
        config = {
            "package": str(package.resolve()),
            "pki": str(self.pki_dir.resolve()),
            "central_ca": str((self.pki_dir / "central" / "ca.pem").resolve()),
            "central_urls": {k: f"https://127.0.0.1:{p.port}" for k, p in self.proxies.items()},
        }
        (self.day / "day.json").write_text(json.dumps(config, indent=1), encoding="utf-8")
        self.plan.save(self.day / "plan.json")

    # ---- kiosks -------------------------------------------------------------------------------------------
    def kiosk_argv(self, kiosk: str, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "devtools.election_day.kiosk_node",
            "--day",
            str(self.day),
            "--kiosk",
            kiosk,
            *extra,
        ]

    def run_kiosks(
        self, phase: Phase | None, kiosks: Sequence[str], *extra: str, timeout: float = 1200
    ) -> dict[str, Any]:
        assert self.sup is not None
        children = {}
        for k in kiosks:
            args = (["--phase", phase.value] if phase else []) + list(extra)
            children[k] = self.sup.start(f"kiosk-{k}", self.kiosk_argv(k, *args))
        statuses = {}
        for k, child in children.items():
            code = self.sup.wait(child, timeout)
            status = next((json.loads(line[7:]) for line in child.lines if line.startswith("STATUS ")), None)
            if code != 0 or status is None:
                raise SupervisorError(f"kiosk {k} failed (exit {code}); see {child.log_path}")
            statuses[k] = status
        return statuses

    def outcomes(self) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        paths = [*sorted((self.day / "kiosks").glob("*/outcomes.jsonl")), self.day / "remote" / "outcomes.jsonl"]
        for path in (p for p in paths if p.exists()):
            for line in path.read_text(encoding="utf-8").splitlines():
                if line:
                    o = json.loads(line)
                    found[o["voter"]] = o
        return found

    def summarise_phase(self, phase: Phase) -> None:
        outcomes = self.outcomes()
        voters = [v for v in self.plan.voters if v.phase == phase.value]
        tally: dict[str, int] = {}
        for v in voters:
            o = outcomes.get(v.id)
            what = "missing" if o is None else o["outcome"] + (f" ({o['failure']})" if o.get("failure") else "")
            tally[what] = tally.get(what, 0) + 1
            if o is not None and (
                o["outcome"] != v.expect or (v.expect_failure and o.get("failure") != v.expect_failure)
            ):
                self.problems.append(f"{v.id} ({v.note or 'ordinary voter'}): expected {v.expect} "
                                     f"{v.expect_failure or ''}, got {what}")  # fmt: skip
        self.log.note(f"{len(voters)} voters: " + ", ".join(f"{n} {k}" for k, n in sorted(tally.items())))
        for v in voters:
            o = outcomes.get(v.id)
            if v.note and o is not None:
                extra = ""
                if o.get("challenge"):
                    c = o["challenge"]
                    extra = f"; challenged ballot decrypted to the voter's marks: {c['decrypted_matches']}"
                if o.get("clips_heard"):
                    extra += f"; heard {o['clips_heard']} audio clips from the package"
                if o.get("remote_vote_replaced"):
                    extra += "; the kiosk told the voter that voting here replaces the internet vote; voter went on"
                if o.get("pin_tries_left_after_wrong_pins"):
                    extra += f"; tries left shown after wrong PINs: {o['pin_tries_left_after_wrong_pins']}"
                self.log.note(f"{v.id} at {v.kiosk}: {v.note} -> {o['outcome']} {o.get('failure', '')}{extra}")

    def topology(self) -> str:
        """Which centres have which kiosks switched on today, and which centres have none."""
        day_kiosks = self.plan.day_kiosks(self.manifest)
        parts, idle = [], []
        remote = self.manifest.remote_voting
        collectors = {str(k) for k in remote.collector_ids} if remote else set()
        for centre in self.manifest.centres:
            kiosks = [str(k.id) for k in self.manifest.kiosks if k.centre == centre.id]
            if kiosks and set(kiosks) <= collectors:
                parts.append(f"{centre.id} (remote voting): vote collector {', '.join(kiosks)}")
                continue
            on = [k for k in kiosks if k in day_kiosks]
            label = f"{centre.id} {centre.name.en}" + (" (unified)" if centre.unified else "")
            if on:
                parts.append(f"{label}: {', '.join(on)}")
            else:
                idle.append(str(centre.id))
        text = "; ".join(parts)
        if idle:
            text += f"; no kiosk switched on at {', '.join(idle)} (its voters vote at the unified centre)"
        return text

    def election_day(self) -> None:
        log = self.log
        all_kiosks = self.plan.day_kiosks(self.manifest)
        log.stage(f"Polls open: morning voters at the {len(all_kiosks)} kiosks, in parallel (real pcscd + virtual "
                  "ID cards)")  # fmt: skip
        log.note(f"today's centres and kiosks: {self.topology()}")
        self.run_kiosks(Phase.MORNING, all_kiosks)
        self.summarise_phase(Phase.MORNING)
        self.turnout_note()
        if self.collector is not None:
            self.run_remote_voters()

        kill = self.plan.kill_kiosk
        log.stage(f"Power cut: kiosk {kill} is killed with SIGKILL in the middle of a vote, then restarted")
        assert self.sup is not None
        child = self.sup.start(f"kiosk-{kill}", self.kiosk_argv(kill, "--phase", Phase.KILL.value))
        self.sup.wait_for_line(child, "KILL-POINT", 120)
        log.note(f"voter's ballot sealed on {kill}, not yet cast: kill -9 (pid {child.pid})")
        self.power_cut(kill)
        log.note("kiosk restarted on the same ballot box; the voter inserts the card again")
        self.run_kiosks(Phase.KILL, [kill])
        self.summarise_phase(Phase.KILL)

        log.stage("Afternoon voters, including a double-vote attempt at another centre")
        self.run_kiosks(Phase.AFTERNOON, all_kiosks)
        self.summarise_phase(Phase.AFTERNOON)

        cut = self.plan.outage_kiosk
        log.stage(f"Network outage at kiosk {cut}: provisional ballots, delivered when the link is back")
        self.proxies[cut].cut()
        log.note(f"link between {cut} and the central office cut")
        statuses = self.run_kiosks(Phase.OUTAGE, [cut], "--no-drain")
        log.note(f"{cut} offline backlog: {statuses[cut]['counts']}")
        self.proxies[cut].restore()
        log.note("link restored")
        statuses = self.run_kiosks(None, [cut])
        log.note(f"{cut} delivered: {statuses[cut]['delivered']}")
        self.summarise_phase(Phase.OUTAGE)

        log.stage("Last voters of the day, photographed on every screen (out/demo/screenshots/)")
        kivy_kiosks = [k for k in all_kiosks if self.plan.for_kiosk(k, Phase.KIVY)]
        self.run_kiosks(Phase.KIVY, kivy_kiosks)
        self.summarise_phase(Phase.KIVY)

    def power_cut(self, kiosk: str) -> None:
        """SIGKILL the kiosk process and its pcscd (the whole machine loses power)."""
        assert self.sup is not None
        self.sup.kill(f"kiosk-{kiosk}")
        pid_file = self.day / "kiosks" / kiosk / "pcscd.pid"
        if pid_file.exists() and pid_file.read_text(encoding="ascii").strip():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid_file.read_text(encoding="ascii")), signal.SIGKILL)

    def turnout_note(self) -> None:
        assert self.office is not None
        try:
            turnout = self.office.get("/api/public/turnout")
            text = ", ".join(f"{t['wilayat']} {t['voted']}/{t['registered']}" for t in turnout)
            self.log.note(f"live turnout at the office: {text}")
        except Exception as exc:
            self.log.note(f"turnout not available: {exc}")

    def close_and_count(self, ceremony: Path) -> dict[str, Any]:
        from devtools.test_pki import load

        log = self.log
        pki = load(self.pki_dir)
        assert self.office is not None
        office = self.office
        log.stage("Polls close: every kiosk seals its last batch, sends its close report")
        statuses = self.run_kiosks(None, self.plan.day_kiosks(self.manifest), "--close")
        for k, s in statuses.items():
            log.note(f"{k}: polls {s['polls']}, cast {s['counts']['cast']}, challenged {s['counts']['challenged']}, "
                     f"provisional {s['counts']['provisional']}, all delivered: {s['delivered']}")  # fmt: skip
        early = office.http.get(f"{office.base}/api/guardian/tally", timeout=30)
        log.note(f"guardians' tally asked for before the close: HTTP {early.status_code}, {early.json()['detail']}")
        if early.status_code != 409:
            raise RuntimeError(f"the office served the tally before the close (HTTP {early.status_code})")
        if self.collector is not None:
            log.stage("Remote voting closes: the collector hands each credential's last ballot to the office "
                      "(python -m collector handover)")  # fmt: skip
            self.hand_over()
        for centre in self.manifest.centres:
            office.post(pki, "staff-admin-1", f"/api/centres/{centre.id}/close", {"manual": False})
        log.note("every centre closed at the office")
        processed = office.post(pki, "staff-cm-1", "/api/provisional/process")
        log.note(f"provisional envelopes processed by the committee: {processed}")
        queue = office.http.get(f"{office.base}/api/adjudication", headers=office.login(pki, "staff-cm-1"), timeout=30)
        log.note(f"adjudication queue: {len(queue.json())} envelope(s)")

        log.stage("Manual result sheet (Art. 9): embassy results entered by one committee member, approved by another")
        for sheet in self.plan.manual_sheets:
            body = {"source_kind": sheet.source_kind, "source_id": sheet.source_id, "contest_id": sheet.contest_id,
                    "voters": sheet.voters, "blank": sheet.blank, "counts": sheet.counts}  # fmt: skip
            sid = office.post(pki, "staff-cm-1", "/api/manual-sheets", body)["sheet_id"]
            office.post(pki, "staff-cm-2", f"/api/manual-sheets/{sid}/approve")
            log.note(f"sheet {sheet.source_id} for {sheet.contest_id}: {sheet.voters} voters, entered and approved")

        log.stage(f"Decryption: guardians {', '.join(map(str, PRESENT))} present, guardian 5 absent (compensated)")
        tally_path = self.day / "encrypted_tally.json"
        tally_path.write_text(json.dumps(office.get("/api/guardian/tally")), encoding="utf-8")
        size = tally_path.stat().st_size
        log.note(f"encrypted tally downloaded over HTTPS from the office's public /api/guardian/tally ({size} bytes)")
        record_path = self.day / "pre-decryption-record.tar"
        answer = office.http.get(f"{office.base}/api/guardian/record", timeout=600)
        answer.raise_for_status()
        record_path.write_bytes(answer.content)
        size = len(answer.content)
        log.note(f"pre-decryption record downloaded over HTTPS from /api/guardian/record ({size} bytes); "
                 "each guardian re-checks it offline (every ballot proof, the chains, the tally recomputed from the "
                 "ballots) before making a share")  # fmt: skip
        shares = self.day / "shares"
        shutil.rmtree(shares, ignore_errors=True)
        shares.mkdir()
        env = {"SANDUQ_GUARDIAN_PASSPHRASE": PASSPHRASE}
        g = ["election.guardian", "--ceremony", str(ceremony)]
        for i in PRESENT:
            run_cli(log, *g, "decrypt-share", "--sequence", str(i), str(record_path), "--out", str(shares), env=env)
        missing = [i for i in range(1, GUARDIANS + 1) if i not in PRESENT]
        for m in missing:
            for i in PRESENT[:QUORUM]:
                run_cli(log, *g, "compensate", "--sequence", str(i), "--missing", str(m), str(record_path),
                        "--out", str(shares), env=env)  # fmt: skip
        for path in sorted(shares.glob("*.json")):
            office.post(pki, "staff-admin-1", "/api/guardian-shares", read_json(path))
        log.note(f"{len(list(shares.glob('*.json')))} decryption shares uploaded, every proof checked on upload")

        log.stage("Results: decrypt, merge the manual sheet, publish the election record, run the verifier")
        results: dict[str, Any] = office.post(pki, "staff-admin-1", "/api/results", timeout=600)
        log.note(f"record published in {results['record_dir']}; office's verifier run: "
                 f"{'PASS' if results['verified'] else 'FAIL'}")  # fmt: skip
        self.office_lifecycle = office_lifecycle(log, office.get("/api/public/phase"),
                                                 office.get("/api/public/audit-heads"))  # fmt: skip
        return results


def office_lifecycle(log: DayLog, phase: dict[str, Any], heads: dict[str, Any]) -> dict[str, Any]:
    """The office's phase, frozen tally hash and last signed audit head (central.phase, office/audit_heads.json),
    noted in the log and the report."""
    signed = heads["heads"]
    last = signed[-1]["statement"] if signed else {}
    log.note(f"office phase {phase['phase']}; encrypted tally frozen with hash {phase['tally_hash']}")
    if not signed:
        log.note("office's signed audit heads: none")
    else:
        log.note(f"office's signed audit heads: {' -> '.join(h['statement']['phase'] for h in signed)}; last: seq "
                 f"{last.get('seq')}, entry hash {last.get('entry_hash')}, signature {signed[-1]['signature'][:24]}"
                 "... (checked by the verifier's office-audit check)")  # fmt: skip
    return {"phase": phase["phase"], "tally_hash": phase["tally_hash"], "heads": signed}


def kiosk_closes(log: DayLog, record: Path) -> list[dict[str, Any]]:
    """Each kiosk's signed chain close as the record publishes it (``kiosks/<kiosk>.json``; checked by the verifier's
    closes check), noted in the log and the report."""
    rows: list[dict[str, Any]] = []
    for path in sorted((record / "kiosks").glob("*.json")):
        data = read_json(path)
        close, head = data["close"], data["last_head"]
        rows.append({"kiosk": data["kiosk"], "close": close, "last_head": head})
        if close is None and head is None:
            log.note(f"{data['kiosk']}: unused (no batch, no chain close)")
        elif close is None:
            log.note(f"{data['kiosk']}: NO signed chain close (last signed head: {head['cast']} cast, "
                     f"{head['challenged']} challenged, {head['provisional']} provisional, root "
                     f"{head['root'][:16]}...)")  # fmt: skip
        else:
            log.note(f"{data['kiosk']}: signed chain close #{close['close_seq']}: cast {close['cast']}, challenged "
                     f"{close['challenged']}, provisional {close['provisional']}, root {close['root'][:16]}"
                     f"..., signature {close['signature'][:24]}...")  # fmt: skip
    return rows


def remote_summary(
    log: DayLog, plan: Plan, record: Path, closes: list[dict[str, Any]], verifier: str, collector: str
) -> dict[str, Any]:
    """Kiosk and remote votes as the verified record counts them (``remote/counts.json``, the chains' closes), the
    verifier's remote checks, and the script's expectations: the last ballot per credential, re-votes superseded,
    a credential voided by an in-person vote. A difference is an error (the demo fails)."""
    counts = read_json(record / "remote" / "counts.json")
    remote = [v for v in plan.voters if v.phase == Phase.REMOTE.value]
    in_person = {v.civil_number for v in plan.voters if v.phase != Phase.REMOTE.value and v.counted}
    voters = {v.civil_number for v in remote}
    overridden = voters & in_person
    expected = {"credentials": len(voters), "submissions": len(remote), "superseded": len(remote) - len(voters),
                "voided": len(overridden), "counted": len(voters) - len(overridden)}  # fmt: skip
    cast = {c["kiosk"]: (c["close"] or {}).get("cast", 0) for c in closes}  # the chains' signed closes
    sources = Counter(read_json(path)["kiosk"] for path in (record / "ballots" / "cast").glob("*.json"))
    kiosk_votes = sum(n for k, n in sources.items() if k != collector)  # counted provisional ballots included
    counted = [v for v in remote if v.counted]
    by_group = {g: sum(1 for v in counted if v.group == g) for g in ("home", "abroad")}
    checks = {
        line.split("  ")[0]: ("PASS" if "  PASS" in line else "FAIL" if "  FAIL" in line else "SKIPPED")
        for line in verifier.splitlines()
        if line.startswith("remote ")
    }
    summary = {"counts": counts, "expected": expected, "kiosk_votes": kiosk_votes,
               "remote_votes": cast.get(collector, 0), "remote_by_group": by_group, "verifier": checks,
               "revotes": expected["superseded"], "overrides": expected["voided"]}  # fmt: skip
    log.note(f"votes counted: {kiosk_votes} from kiosks, {cast.get(collector, 0)} remote ({by_group['home']} at home, "
             f"{by_group['abroad']} abroad); re-votes superseded: {counts['superseded']}; credentials voided by an "
             f"in-person vote: {counts['voided']}; the verifier's remote checks: "
             + ", ".join(f"{k} {v}" for k, v in checks.items()))  # fmt: skip
    wrong = {k: (counts.get(k), n) for k, n in expected.items() if counts.get(k) != n}
    if wrong:
        raise RuntimeError(f"the record's remote/counts.json differs from the script (got, expected): {wrong}")
    if not cast.get(collector, 0) == sources[collector] == len(counted) == expected["counted"]:
        raise RuntimeError(f"the collector's chain close counts {cast.get(collector, 0)} ballots, the record holds "
                           f"{sources[collector]} from it, the script {expected['counted']}")  # fmt: skip
    if not checks or any(v != "PASS" for v in checks.values()):
        raise RuntimeError(f"the verifier's remote checks did not pass: {checks}")
    return summary


def verify_record(record: Path, commission_key: Path) -> tuple[bool, str]:
    """The observer's run: with the commission's key, so the record's certificates are tied to the package."""
    done = subprocess.run([sys.executable, "-m", "election.verify", str(record), "--commission-key",
                           str(commission_key)], capture_output=True, text=True, check=False, timeout=600)  # fmt: skip
    return done.returncode == 0, done.stdout + done.stderr


def compare(plan: Plan, manifest: Manifest, record: Path, merged: dict[str, Any]) -> tuple[bool, list[dict[str, Any]]]:
    """The verified record's decrypted counts against the plan's expected choices, and the merged totals
    against expected + manual sheets. Returns (all equal, rows)."""
    decrypted = read_json(record / "results.json")["contests"]
    expected_e = plan.expected_electronic(manifest)
    expected_t = plan.expected_total(manifest)
    rows = []
    ok = True
    for contest in manifest.contests:
        d = decrypted[contest.id]
        total = merged["contests"][contest.id]["total"]
        for cand in [*contest.selection_ids, BLANK]:
            got_e = d["blank"] if cand == BLANK else d["votes"].get(cand, 0)
            got_t = total["blank"] if cand == BLANK else total["votes"].get(cand, 0)
            exp_e, exp_t = expected_e[contest.id].get(cand, 0), expected_t[contest.id].get(cand, 0)
            same = got_e == exp_e and got_t == exp_t
            ok &= same
            rows.append({"contest": contest.id, "wilayat": contest.wilayat, "candidate": cand, "expected": exp_e,
                         "decrypted": got_e, "expected_total": exp_t, "total": got_t, "match": same})  # fmt: skip
    return ok, rows


def run_day(out: Path, definition: Path, pki_dir: Path, plan: Plan, manifest: Manifest,
            report: Callable[[Day, dict[str, Any]], Path]) -> bool:  # fmt: skip
    day_dir = out / "day"
    shutil.rmtree(day_dir, ignore_errors=True)
    shutil.rmtree(out / "screenshots", ignore_errors=True)
    day_dir.mkdir(parents=True)
    site = None
    if plan.collector:  # remote voting today: the day's election adds the collector and the remote windows
        now = dt.datetime.now(dt.UTC)
        definition = day_definition(definition, day_dir, plan.collector, now)
        manifest = Manifest.from_dict(read_json(definition / "manifest.json"))
        site = collector_site(day_dir, plan.collector, free_port(), free_port(), now)
    d = Day(out, definition, pki_dir, plan, manifest, collector=site)
    d.sup = Supervisor(day_dir / "logs")
    summary: dict[str, Any] = {"stages_not_wired": []}
    try:
        ceremony = key_ceremony(d.log, day_dir, definition / "manifest.json")
        package, office_dir = build_day_package(d.log, day_dir, definition, pki_dir, ceremony,
                                                site.tls.server_cert if site else None)  # fmt: skip
        d.start_central(office_dir)
        d.write_day_config(package)
        if site is not None:
            d.start_collector(package)
        d.election_day()
        merged = d.close_and_count(ceremony)
        d.log.stage("Independent verification of the published record (python -m election.verify)")
        record = Path(merged["record_dir"])
        from devtools.test_pki import load

        verified, output = verify_record(record, load(pki_dir).commission_public_path)
        (out / "verifier-output.txt").write_text(output, encoding="utf-8")
        d.log.note(f"election.verify: {'PASS' if verified else 'FAIL'} (exit status), output in verifier-output.txt")
        d.log.stage("Comparison with the scripted voters' choices")
        same, rows = compare(plan, manifest, record, merged)
        summary.update(verified=verified, verifier_output=output, match=same, rows=rows, merged=merged,
                       record=str(record), office_lifecycle=d.office_lifecycle)  # fmt: skip
        summary["kiosk_closes"] = kiosk_closes(d.log, record)
        if site is not None:
            summary["remote"] = remote_summary(d.log, plan, record, summary["kiosk_closes"], output, site.collector_id)
        d.log.note(
            "decrypted tally and merged totals equal the script's expected choices: " + ("YES" if same else "NO")
        )
    except Exception as exc:
        summary["error"] = f"{type(exc).__name__}: {exc}"
        print(f"error: {summary['error']}", file=sys.stderr, flush=True)
    finally:
        d.log.finish()
        for p in d.proxies.values():
            p.close()
        assert d.sup is not None
        d.sup.stop_all()
    summary["stages_not_wired"] = d.not_wired
    summary["outcomes"] = d.outcomes()
    summary["problems"] = d.problems
    path = report(d, summary)
    print(f"\nreport: {path}")
    return bool(summary.get("verified") and summary.get("match") and not summary.get("error"))

"""A small election day ready for kiosks: the small demo election, a test PKI, a key ceremony (in one
process), the day's package, and a running central office (SQLite, HTTPS with mutual TLS). Used by the
fault-injection suite and the election-day benchmark; the demo itself runs the guardians' CLI instead."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from devtools.election_day.plan import Plan
from devtools.election_day.run import Day, build_day_package
from devtools.election_day.supervisor import Supervisor
from devtools.sample_election import run_key_ceremony
from election.manifest import Manifest
from election.roll import Roll, load_roll


def start_small_day(out: Path, *, seed: str = "2023") -> tuple[Day, Roll]:
    """Everything up to a serving central office; the caller stops ``day.sup`` and ``day.proxies``."""
    definition = out / "definition-small"
    py = [sys.executable, "-m"]
    subprocess.run([*py, "devtools.demo_election", "--scale", "small", "--seed", seed, "--out", str(definition),
                    "--force"], check=True, capture_output=True)  # fmt: skip
    manifest = Manifest.from_dict(json.loads((definition / "manifest.json").read_text(encoding="utf-8")))
    kiosk_args = [a for k in manifest.kiosks for a in ("--kiosk-id", k.id)]
    subprocess.run([*py, "devtools.test_pki", "--out", str(out / "pki"), "--roll", str(definition / "roll.csv"),
                    *kiosk_args], check=True, capture_output=True)  # fmt: skip
    ceremony = out / "day" / "ceremony"
    (ceremony / "guardians").mkdir(parents=True)
    context, guardians, _secrets = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    (ceremony / "context.json").write_text(json.dumps(context.to_dict()), encoding="utf-8")
    for g in guardians:
        (ceremony / "guardians" / f"guardian-{g.sequence}.json").write_text(json.dumps(g.to_dict()), encoding="utf-8")
    plan = Plan(seed=0, voters=(), manual_sheets=(), not_on_roll=(), revoked=(), outage_kiosk="", kill_kiosk="")
    day = Day(out, definition, out / "pki", plan, manifest)
    day.sup = Supervisor(out / "day" / "logs")
    package, office_dir = build_day_package(day.log, out / "day", definition, out / "pki", ceremony)
    day.start_central(office_dir)
    day.write_day_config(package)
    return day, load_roll(definition / "roll.csv", manifest)


def stop_small_day(day: Day) -> None:
    for p in day.proxies.values():
        p.close()
    if day.sup is not None:
        day.sup.stop_all()

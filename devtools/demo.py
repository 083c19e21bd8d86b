"""`make demo`: the main job on the embedded defaults, saying at each step what it is doing.

First it prepares the election: the demo elections (small, and national scale), the scripted voters of the
day, a test PKI, both signed election packages (with synthesised audio), each loaded back through the
kiosk's own verification and summarised. Then it runs the election day on the small election, with remote voters
at home and abroad through the vote collector (devtools/election_day, docs/election-day.md), and writes
out/demo/report.html.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from devtools.election_day.collector_site import COLLECTOR_ID
from devtools.election_day.plan import Plan
from devtools.test_pki import load
from election.package import load_package
from tools import check_audio
from tools.build_package import BuildError, build, summary
from tools.trust_material import TrustError, load_trust, read_signing_key

OUT = Path("out/demo")
SEED = "2023"


def step(message: str) -> None:
    print(f"\n==> {message}", flush=True)


def run(*args: str) -> None:
    subprocess.run([sys.executable, "-m", *args], check=True)


def prepare(out: Path, *, national: bool) -> dict[str, Path]:
    """Generate definitions, the test PKI and the packages; returns the package paths by scale."""
    scales = ["small", "national"] if national else ["small"]
    for scale in scales:
        step(f"Generating the {scale} demo election (seed {SEED})")
        definition = str(out / f"definition-{scale}")
        run("devtools.demo_election", "--scale", scale, "--seed", SEED, "--out", definition, "--force")

    small_manifest = json.loads((out / "definition-small" / "manifest.json").read_text(encoding="utf-8"))
    step("Scripting the election day's voters (deterministic from the seed; every special case of the day)")
    plan = day_plan(out)
    remote = sum(1 for v in plan.voters if v.kiosk == plan.collector)
    print(f"{len(plan.voters)} scripted voters ({remote} remote ballots through the vote collector {plan.collector}); "
          f"the revoked card: {', '.join(plan.revoked)}")  # fmt: skip
    # the collector is enrolled at the office like a kiosk: its certificate signs its batches at the handover
    kiosk_ids = [k["id"] for k in small_manifest["kiosks"]] + [plan.collector]
    kiosk_args = [arg for k in kiosk_ids for arg in ("--kiosk-id", k)]
    revoke_args = [arg for c in plan.revoked for arg in ("--revoke", c)]
    step("Making the test PKI (TEST MATERIAL: national root, card CAs, voter/staff/bad cards, kiosks, CRLs)")
    run("devtools.test_pki", "--out", str(out / "pki"), "--roll", str(out / "definition-small" / "roll.csv"),
        *kiosk_args, *revoke_args)  # fmt: skip
    pki = load(out / "pki")
    # what an election commission gives the builder: its trust directory and its signing key (tools.trust_material)
    trust, signing_key = load_trust(pki.trust_dir), read_signing_key(pki.commission_key_path)

    packages: dict[str, Path] = {}
    for scale in scales:
        step(f"Building and signing the {scale} election package")
        started = time.monotonic()
        result = build(
            out / f"definition-{scale}",
            out / f"{scale}.sanduq",
            trust,
            signing_key,
            audio_cache=Path("out/audio-cache"),
        )
        print(f"built in {time.monotonic() - started:.1f} s")
        step(f"Verifying the {scale} package as a kiosk does (signature, every file's hash, content rules)")
        package = load_package(result.package_path.read_bytes(), pki.commission_public_key())
        print(f"verified: {len(package.files)} files, package hash {package.package_hash[:16]}...")
        print(summary(result))
        step(f"Checking every audio clip of the {scale} package (present, Ogg, sane duration and pace)")
        audio = check_audio.check(package.manifest, package.files)
        print(check_audio.summary(audio))
        if audio.problems:
            raise BuildError(f"{len(audio.problems)} audio problem(s), first: {audio.problems[0]}")
        packages[scale] = result.package_path
    return packages


def day_plan(out: Path) -> Plan:
    from devtools.election_day.plan import make_plan
    from election.manifest import Manifest
    from election.roll import load_roll

    definition = out / "definition-small"
    manifest = Manifest.from_dict(json.loads((definition / "manifest.json").read_text(encoding="utf-8")))
    plan = make_plan(manifest, load_roll(definition / "roll.csv", manifest), seed=int(SEED), collector=COLLECTOR_ID)
    plan.save(out / "plan.json")
    return plan


def election_day(out: Path) -> bool:
    from devtools.election_day.report import write_report
    from devtools.election_day.run import run_day
    from election.manifest import Manifest

    definition = out / "definition-small"
    manifest = Manifest.from_dict(json.loads((definition / "manifest.json").read_text(encoding="utf-8")))
    plan = Plan.load(out / "plan.json")
    return run_day(
        out,
        definition,
        out / "pki",
        plan,
        manifest,
        lambda day, summary: write_report(out, plan, manifest, day, summary),
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m devtools.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--small-only", action="store_true", help="skip the national-scale package")
    parser.add_argument("--prepare-only", action="store_true", help="stop after the preparation stage")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        prepare(args.out, national=not args.small_only)
        ok = True if args.prepare_only else election_day(args.out)
    except (BuildError, TrustError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"error: step failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return 1
    step(f"{'Done' if ok else 'FAILED'} in {time.monotonic() - started:.0f} s; artefacts are in {args.out}/")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())

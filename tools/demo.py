"""`make demo`: the main job on the embedded defaults, saying at each step what it is doing.

Today it prepares an election: the demo elections (small, and national scale), a test PKI, both signed
election packages (with synthesised audio), each loaded back through the kiosk's own verification and
summarised. Later stages (the election day itself) build on these artefacts in out/demo/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

from election.package import load_package
from tools.build_package import BuildError, build, summary
from tools.test_pki import load

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
        run("tools.demo_election", "--scale", scale, "--seed", SEED, "--out", definition, "--force")

    small_manifest = json.loads((out / "definition-small" / "manifest.json").read_text(encoding="utf-8"))
    kiosk_args = [arg for k in small_manifest["kiosks"] for arg in ("--kiosk-id", k["id"])]
    step("Making the test PKI (TEST MATERIAL: national root, card CAs, voter/staff/bad cards, kiosks, CRLs)")
    run("tools.test_pki", "--out", str(out / "pki"), "--roll", str(out / "definition-small" / "roll.csv"), *kiosk_args)
    pki = load(out / "pki")

    packages: dict[str, Path] = {}
    for scale in scales:
        step(f"Building and signing the {scale} election package")
        started = time.monotonic()
        result = build(out / f"definition-{scale}", out / f"{scale}.sanduq", pki, audio_cache=Path("out/audio-cache"))
        print(f"built in {time.monotonic() - started:.1f} s")
        step(f"Verifying the {scale} package as a kiosk does (signature, every file's hash, content rules)")
        package = load_package(result.package_path.read_bytes(), pki.commission_public_key())
        print(f"verified: {len(package.files)} files, package hash {package.package_hash[:16]}...")
        print(summary(result))
        packages[scale] = result.package_path
    return packages


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--small-only", action="store_true", help="skip the national-scale package")
    args = parser.parse_args(argv)
    started = time.monotonic()
    try:
        prepare(args.out, national=not args.small_only)
    except BuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except subprocess.CalledProcessError as exc:
        print(f"error: step failed: {' '.join(map(str, exc.cmd))}", file=sys.stderr)
        return 1
    step(f"Done in {time.monotonic() - started:.0f} s; artefacts are in {args.out}/")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

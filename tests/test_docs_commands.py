"""Every command shown in README.md and docs/*.md is run here, so that the docs cannot drift from the code.

A command is a line of a fenced code block, or an inline code span, that starts with ``python -m``, ``make``,
``.venv/bin/...`` or a console entry point (``sanduq-kiosk``, ``sanduq-central``, ``sanduq-guardian``,
``sanduq-verify``). Each is run fully where that is cheap (the central office's "Start it" sequence in a
scratch directory, the test-vector generators, the protocol schema), otherwise as ``<command> --help`` (exit 0)
with every option the docs pass to it present in its help text; a ``make`` target must exist (``make -n``).
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DOCS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
ENTRY_POINTS = ("sanduq-kiosk", "sanduq-central", "sanduq-guardian", "sanduq-verify")
COMMAND = re.compile(r"^(?:\.venv/bin/)?(?:python -m [\w.]+|make\b|(?:" + "|".join(ENTRY_POINTS) + r")(?:\s|$))")
OPTION = re.compile(r"(?<![\w-])--[a-z][a-z0-9-]*")
WORD = re.compile(r"^[a-z][a-z-]*(?:\|[a-z][a-z-]*)*$")
# Modules without --help, run fully instead (their arguments are output paths, replaced by a scratch file).
RUN_FULLY = {"sync.protocol", "tests.election.make_vectors", "tests.election.make_hash_vectors"}
NO_CLI = {"bench.bench_card"}  # a benchmark without options: the documented module must exist and have a main()


@dataclass(frozen=True)
class Documented:
    doc: str
    line: str

    @property
    def words(self) -> list[str]:
        text = self.line.split("  #")[0].split(" # ")[0].strip()
        text = re.sub(r"^\.venv/bin/", "", text)
        return text.split()

    @property
    def target(self) -> str:
        """The module, make target or entry point the command runs."""
        w = self.words
        if w[0] == "python":
            return w[2]
        if w[0] == "make":
            return "make " + (w[1] if len(w) > 1 else "")
        return w[0]

    def __str__(self) -> str:
        return f"{self.doc}: {self.line}"


def documented_commands() -> list[Documented]:
    found: list[Documented] = []
    for path in DOCS:
        in_block = False
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.lstrip().startswith("```"):
                in_block = not in_block
                continue
            candidates = [line.strip()] if in_block else re.findall(r"`([^`]+)`", line)
            for candidate in candidates:
                c = candidate.strip().removeprefix("$ ").strip()
                if COMMAND.match(c):
                    found.append(Documented(path.name, c))
    return found


COMMANDS = documented_commands()


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(ROOT)}


def _run(args: list[str], cwd: Path, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout, check=False)


def _python_args(words: list[str]) -> list[str]:
    return [sys.executable, *words[1:]] if words[0] == "python" else words


def test_the_docs_show_commands() -> None:
    """The extraction finds the commands (a broken extractor would make every other test here vacuous)."""
    targets = {c.target for c in COMMANDS}
    assert {"central", "election.verify", "election.guardian", "devtools.test_pki", "make demo"} <= targets
    assert any(c.words[:4] == ["python", "-m", "central", "import-roll"] for c in COMMANDS)


@pytest.mark.parametrize("documented", [c for c in COMMANDS if c.words[0] == "make"], ids=str)
def test_make_target_exists(documented: Documented) -> None:
    target = documented.words[1] if len(documented.words) > 1 else ""
    result = _run(["make", "-n", target], ROOT)
    assert result.returncode == 0, f"{documented}: {result.stderr}"


def _help_cases() -> dict[str, tuple[list[str], set[str], list[str]]]:
    """``module [subcommand]`` -> (the --help command's words, the options the docs pass, the docs' lines)."""
    cases: dict[str, tuple[list[str], set[str], list[str]]] = {}
    for c in COMMANDS:
        if c.words[0] == "make" or c.target in RUN_FULLY | NO_CLI | set(ENTRY_POINTS):
            continue
        head, rest = c.words[:3], c.words[3:]
        subcommands = rest[0].split("|") if rest and WORD.match(rest[0]) else [""]
        for sub in subcommands:
            words = head + ([sub] if sub else [])
            _, options, lines = cases.setdefault(" ".join(words[2:]), (words, set(), []))
            options.update(OPTION.findall(" ".join(rest)))
            lines.append(str(c))
    return cases


HELP_CASES = _help_cases()


@pytest.mark.parametrize("name", sorted(HELP_CASES))
def test_documented_command_has_its_options(name: str) -> None:
    """``<command> [subcommand] --help`` exits 0 and lists every option the docs pass to it."""
    words, options, lines = HELP_CASES[name]
    args = _python_args([*words, "--help"])
    result = _run(args, ROOT, timeout=60)
    assert result.returncode == 0, f"{lines}: {' '.join(words)} --help exited {result.returncode}: {result.stderr}"
    missing = sorted(o for o in options if o not in result.stdout)
    assert not missing, f"{lines}: {missing} not in the help of {' '.join(words)}"


def test_entry_points_are_the_documented_programs() -> None:
    """Every documented console entry point is declared in pyproject.toml (tests/test_packaging.py runs them)."""
    import tomllib

    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    shown = {c.target for c in COMMANDS if c.target in ENTRY_POINTS}
    assert shown, "no entry point in the docs any more: drop this test"
    assert shown <= set(scripts)


def test_benchmark_without_options_exists() -> None:
    import importlib

    for name in NO_CLI:
        assert any(c.target == name for c in COMMANDS), f"{name} is no longer in the docs"
        assert callable(importlib.import_module(name).main)


def _one(target: str) -> Documented:
    (found,) = [c for c in COMMANDS if c.target == target and len(c.words) > 3]
    return found


@pytest.mark.parametrize(
    ("target", "committed"),
    [
        ("tests.election.make_vectors", "tests/election/vectors/ballot_vectors.json"),
        ("tests.election.make_hash_vectors", "tests/election/vectors/hash_vectors.json"),
        ("sync.protocol", "docs/sync-protocol.schema.json"),
    ],
)
def test_generator_reproduces_the_committed_file(target: str, committed: str, tmp_path: Path) -> None:
    """The documented generator, writing to a scratch file, produces exactly the committed file."""
    documented = _one(target)
    words = documented.words
    out = tmp_path / "out.json"
    if target == "sync.protocol":
        args = [*_python_args(words), "--out", str(out)]
    else:
        args = [*_python_args(words[:3]), str(out)]  # the documented path (or <file>) replaced by a scratch file
    result = _run(args, tmp_path)
    assert result.returncode == 0, f"{documented}: {result.stderr}"
    assert out.read_bytes() == (ROOT / committed).read_bytes(), f"{documented}: {committed} is not what it makes"


def _start_it_block() -> list[str]:
    text = (ROOT / "docs" / "central.md").read_text(encoding="utf-8")
    section = text.split("## Start it", 1)[1]
    block = section.split("```", 2)[1]
    return [line.split("  #")[0].strip() for line in block.splitlines() if line.strip()]


def _demo_office_election(cwd: Path) -> None:
    """What ``make demo`` leaves for the office: out/demo/definition-small (the documented generator) and
    out/demo/day/central-election (manifest, key-ceremony context, guardian records, envelope key), made here
    the way devtools/election_day/run.py makes it but with the quick in-process key ceremony."""
    from nacl.public import PrivateKey

    from devtools.sample_election import run_key_ceremony
    from election.manifest import Manifest

    result = _run(
        [sys.executable, "-m", "devtools.demo_election", "--scale", "small", "--out", "out/demo/definition-small"], cwd
    )
    assert result.returncode == 0, result.stderr
    definition = cwd / "out" / "demo" / "definition-small"
    manifest = Manifest.from_dict(json.loads((definition / "manifest.json").read_text(encoding="utf-8")))
    context, guardians, _ = run_key_ceremony(manifest.manifest_hash, 3, 2, os.urandom)
    office = cwd / "out" / "demo" / "day" / "central-election"
    (office / "guardians").mkdir(parents=True)
    shutil.copy(definition / "manifest.json", office / "manifest.json")
    (office / "election-context.json").write_text(json.dumps(context.to_dict()), encoding="utf-8")
    for g in guardians:
        (office / "guardians" / f"guardian-{g.sequence}.json").write_text(json.dumps(g.to_dict()), encoding="utf-8")
    (office / "envelope-key.TEST.hex").write_text(bytes(PrivateKey.generate()).hex(), encoding="ascii")


@pytest.mark.integration
def test_central_start_it_runs_as_written(tmp_path: Path) -> None:
    """docs/central.md "Start it", line by line, in a scratch directory holding the repository's config/central.toml:
    the roll and the kiosk certificates come after --config, as written (was: "unrecognized arguments")."""
    (tmp_path / "config").mkdir()
    shutil.copy(ROOT / "config" / "central.toml", tmp_path / "config" / "central.toml")
    lines = _start_it_block()
    assert lines[0] == "make demo"
    _demo_office_election(tmp_path)
    outputs: dict[str, str] = {}
    for line in lines[1:]:
        words = shlex.split(line)
        if words[:4] == ["python", "-m", "central", "serve"]:
            continue  # a server: its options are checked by test_documented_command_has_its_options
        command = " ".join(w if "*" in w else shlex.quote(w) for w in _python_args(words))  # the shell expands globs
        result = subprocess.run(
            command, shell=True, cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120, check=False
        )
        assert result.returncode == 0, f"docs/central.md: {line}: {result.stdout}{result.stderr}"
        assert "Traceback" not in result.stderr, f"docs/central.md: {line}: {result.stderr}"
        outputs[" ".join(words[:4])] = result.stdout
    assert "imported 300 voters" in outputs["python -m central import-roll"]
    assert outputs["python -m central enrol-kiosk"].count("enrolled ") == 4
    assert outputs["python -m central issue-token"].strip()

    # The same commands with bad input: one line each, exit 2, no traceback, nothing changed at the office.
    (tmp_path / "bad.csv").write_text("x,y\n", encoding="utf-8")
    other = _run([sys.executable, "-m", "devtools.test_pki", "--out", "out/other-pki", "--kiosks", "1"], tmp_path)
    assert other.returncode == 0, other.stderr
    config = ["--config", "config/central.toml"]
    refusals = {
        ("import-roll", *config, "out/demo/definition-small/roll.csv"): "already holds",  # imported above
        ("import-roll", *config, "bad.csv"): "header must be",
        ("import-roll", *config, "missing.csv"): "missing.csv: No such file",
        ("enrol-kiosk", *config, "out/other-pki/kiosks/kiosk-001/cert.pem"): "'kiosk-001' is not in the manifest",
        ("enrol-kiosk", *config, "bad.csv"): "Unable to load PEM",
        ("init-db", "--config", "missing.toml"): "missing.toml",
    }
    for args, expected in refusals.items():
        result = _run([sys.executable, "-m", "central", *args], tmp_path)
        said = result.stdout + result.stderr
        assert result.returncode == 2, f"{args}: {said}"
        assert said.startswith("refused: ") and expected in said and "Traceback" not in said, f"{args}: {said}"
    audit = _run([sys.executable, "-m", "central", "verify-audit", *config], tmp_path)
    assert audit.stdout.strip() == "audit log intact: 7 entries", (
        audit.stdout
    )  # the Start it commands; the refusals add nothing

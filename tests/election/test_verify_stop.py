"""The verifier stopped before a verdict: Ctrl-C or SIGTERM, a worker process killed, a run killed outright. Each
ends with a line saying nothing was concluded (exit 130), no traceback, and no temporary index left behind."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from devtools.sample_election import build_sample_record
from devtools.sample_record import SeededRandom, build_test_manifest
from election.verify.__main__ import EXIT_INTERRUPTED


@pytest.fixture(scope="module")
def record(tmp_path_factory) -> Path:
    """Enough cast ballots that checking them takes a while (several chunks for two processes)."""
    out: Path = tmp_path_factory.mktemp("stop") / "record"
    build_sample_record(out, build_test_manifest(), ballots=400, challenged=0, withheld=0, random_bytes=SeededRandom(3))
    return out


def start(record: Path, tmp: Path, jobs: int) -> subprocess.Popen[str]:
    env = {**os.environ, "TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        [sys.executable, "-m", "election.verify", str(record), "--skip", "package", "--jobs", str(jobs)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def wait_for_ballots_check(proc: subprocess.Popen[str]) -> list[str]:
    """The lines printed until the ballots check begins (the parameters check's line comes just before it)."""
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "parameters and guardians" in line:
            return lines
    raise AssertionError(f"the verifier ended before its ballots check: {lines}")


def index_dirs(tmp: Path) -> list[str]:
    return sorted(p.name for p in tmp.iterdir() if p.name.startswith("sanduq-verify-"))


def children(pid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry))
    return found


def stopped_while_frozen(proc: subprocess.Popen[str], tmp: Path, stop: Callable[[], None], message: str) -> None:
    """``stop()`` while the verifier is held still (SIGSTOP, so its run cannot end first); then it must end with
    ``message`` on stderr and exit 130, no traceback, no verdict, no index left."""
    proc.send_signal(signal.SIGSTOP)
    stop()
    proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == EXIT_INTERRUPTED, (out, err)
    assert message in err
    assert "Traceback" not in err + out and "the record verifies" not in out
    assert index_dirs(tmp) == []


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_stops_the_run_with_no_verdict_no_traceback_and_no_index_left(record, tmp_path, how) -> None:
    proc = start(record, tmp_path, jobs=2)
    wait_for_ballots_check(proc)
    stopped_while_frozen(proc, tmp_path, lambda: proc.send_signal(how), "verification interrupted: no verdict")


def test_a_killed_worker_process_ends_the_run_with_no_verdict(record, tmp_path) -> None:
    proc = start(record, tmp_path, jobs=2)
    wait_for_ballots_check(proc)
    deadline = time.monotonic() + 30
    while not (workers := children(proc.pid)) and time.monotonic() < deadline:
        time.sleep(0.01)
    assert workers, "the pool never started"
    stopped_while_frozen(
        proc, tmp_path, lambda: os.kill(workers[0], signal.SIGKILL),
        "verification stopped: a process checking the ballots stopped (killed, or out of memory)",
    )  # fmt: skip


def test_the_index_of_a_run_killed_outright_is_removed_by_the_next_run(record, tmp_path) -> None:
    proc = start(record, tmp_path, jobs=1)
    wait_for_ballots_check(proc)
    deadline = time.monotonic() + 30
    while not index_dirs(tmp_path) and time.monotonic() < deadline:
        time.sleep(0.01)
    proc.kill()
    proc.communicate(timeout=60)
    left = index_dirs(tmp_path)
    assert len(left) == 1 and left[0].startswith(f"sanduq-verify-{proc.pid}-")
    live = tmp_path / f"sanduq-verify-{os.getpid()}-live"  # a live run's (this test's process): left alone
    live.mkdir()
    again = start(record, tmp_path, jobs=1)
    out, err = again.communicate(timeout=300)
    assert again.returncode == 0, (out, err)
    assert index_dirs(tmp_path) == [live.name]

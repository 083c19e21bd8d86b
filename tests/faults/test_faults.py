"""Fault injection on real processes: each fault ends with nothing lost, nothing counted twice, and a clear
message to the person on duty (the voter's screen, the kiosk's log/status line, or the office's records).

The central office is one real process for the whole suite (tests/faults/conftest.py); every test scripts its
own voters (fresh civil numbers) and runs real kiosk processes: pcscd + virtual cards, session, ballot box,
sync worker over mutual TLS through a loopback proxy.
"""

from __future__ import annotations

import contextlib
import json
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import Any

import pytest

from devtools.election_day.plan import Phase
from devtools.election_day.supervisor import wait_for_port
from tests.faults.conftest import FaultDay

pytestmark = pytest.mark.integration

UNIFIED, KHASAB, BUKHA = "K-PC-001-1", "K-PC-002-1", "K-PC-003-1"
SPARE = "K-PC-001-2"  # the unified centre's second kiosk, used by the disk-full test only


def status_of(lines: list[str]) -> dict[str, Any]:
    status: dict[str, Any] = json.loads(next(line[7:] for line in lines if line.startswith("STATUS ")))
    return status


def ids_unique(view: dict[str, Any]) -> bool:
    return len(view["ballot_ids"]) == len(set(view["ballot_ids"]))


def test_kiosk_power_cut_during_cast(fault_day: FaultDay) -> None:
    """kill -9 of the kiosk (and its pcscd) after the voter's ballot is sealed, before it is cast: nothing was
    recorded for that voter; after the restart the same ballot box resumes, the voter votes once."""
    voters = fault_day.voters(3, BUKHA, Phase.KILL)
    voters[0] = voters[0].__class__(**{**voters[0].to_dict(), "pins": ("1234",), "kill_before_cast": True})
    fault_day.script(voters)
    child = fault_day.kiosk(BUKHA, "--phase", "kill")
    fault_day.sup.wait_for_line(child, "KILL-POINT", 60)
    fault_day.day.power_cut(BUKHA)
    code, lines = fault_day.run(BUKHA, "--phase", "kill")
    assert code == 0
    assert any("restarted: ballot box reopened" in line for line in lines), "staff see that the kiosk resumed"
    outcomes = fault_day.last(BUKHA, voters)
    assert [outcomes[v.id]["outcome"] for v in voters] == ["cast", "cast", "cast"]
    view = fault_day.office_view([v.civil_number for v in voters])
    assert view["voted"] == 3 and ids_unique(view)
    assert not view["rejected"], view["rejected"]


def test_central_office_killed_during_ingest(fault_day: FaultDay) -> None:
    """The office is SIGKILLed while a kiosk is voting and syncing, and comes back: kiosks keep going
    (provisional ballots while it is down), every ballot arrives exactly once."""
    voters = fault_day.voters(8, UNIFIED)
    fault_day.script(voters)
    child = fault_day.kiosk(UNIFIED, "--phase", "morning", "--drain-timeout", "90")
    fault_day.sup.wait_for_line(child, "INFO kiosk: F", 60)  # the first voter has voted
    time.sleep(2.0)
    fault_day.sup.kill("central")
    time.sleep(2.0)
    restarted = fault_day.sup.start("central", fault_day.day.central_argv())
    wait_for_port("127.0.0.1", fault_day.day.central_port, 30, restarted.alive)
    assert fault_day.sup.wait(child, 180) == 0
    status = status_of(child.lines)
    assert status["delivered"], status
    outcomes = fault_day.last(UNIFIED, voters)
    assert len(outcomes) == 8 and all(o["outcome"] in ("cast", "provisional") for o in outcomes.values())
    provisional = sum(o["outcome"] == "provisional" for o in outcomes.values())
    view = fault_day.office_view([v.civil_number for v in voters])
    assert ids_unique(view)
    assert view["voted"] == 8 - provisional  # provisional voters are marked when the committee counts them


def test_network_partition_and_flapping(fault_day: FaultDay) -> None:
    """The kiosk's link flaps every fraction of a second while it votes and syncs: in the end everything is
    delivered once; the kiosk's status says when it was offline."""
    voters = fault_day.voters(6, KHASAB)
    fault_day.script(voters)
    proxy = fault_day.day.proxies[KHASAB]
    stop = threading.Event()

    def flap() -> None:
        while not stop.is_set():
            proxy.cut()
            time.sleep(0.4)
            proxy.restore()
            time.sleep(0.6)

    flapper = threading.Thread(target=flap, daemon=True)
    flapper.start()
    try:
        code, lines = fault_day.run(KHASAB, "--phase", "morning", "--no-drain", timeout=180)
    finally:
        stop.set()
        flapper.join()
        proxy.restore()
    assert code == 0
    code, lines = fault_day.run(KHASAB, "--drain-timeout", "60")
    assert status_of(lines)["delivered"]
    outcomes = fault_day.last(KHASAB, voters)
    assert all(o["outcome"] in ("cast", "provisional") for o in outcomes.values()) and len(outcomes) == 6
    view = fault_day.office_view([v.civil_number for v in voters])
    assert ids_unique(view) and not view["rejected"]
    cast = sum(o["outcome"] == "cast" for o in outcomes.values())
    assert view["voted"] == cast


def test_pcscd_killed(fault_day: FaultDay) -> None:
    """pcscd dies while a voter is at the PIN screen: the kiosk's card monitor notices, the session ends and the
    kiosk says the card reader has a problem (no vote recorded); the reader service is restarted and the next
    voters, and that voter again, vote normally."""
    voters = fault_day.voters(2, BUKHA)
    fault_day.script(voters)
    code, lines = fault_day.run(BUKHA, "--phase", "morning", "--pcscd-fault-at", voters[0].id)
    assert code == 0
    faults = [o for o in fault_day.outcomes(BUKHA) if o.get("fault") == "pcscd_killed"]
    assert faults and faults[-1]["outcome"] == "refused" and faults[-1]["failure"] == "reader_problem"
    assert faults[-1]["phase"] == "attract"
    assert any("card reader service restarted" in line for line in lines)
    outcomes = fault_day.last(BUKHA, voters)
    assert [outcomes[v.id]["outcome"] for v in voters] == ["cast", "cast"]
    view = fault_day.office_view([v.civil_number for v in voters])
    assert view["voted"] == 2 and ids_unique(view)


def test_clock_skew_between_kiosk_and_office(fault_day: FaultDay) -> None:
    """A kiosk whose clock runs 10 days ahead sees the package's CRL as stale and refuses cards with a
    message (never accepting an unchecked card); nothing is recorded. With its clock right, the voter votes."""
    voters = fault_day.voters(1, KHASAB)
    fault_day.script(voters)
    code, _ = fault_day.run(KHASAB, "--phase", "morning", "--clock-skew", str(10 * 86400))
    assert code == 0
    skewed = fault_day.last(KHASAB, voters)[voters[0].id]
    assert skewed["outcome"] == "refused" and skewed["failure"] == "revocation_stale"
    assert fault_day.office_view([voters[0].civil_number])["voted"] == 0
    # The same voter again on a kiosk with the right time (a new session of the same voter).
    again = voters[0].__class__(**{**voters[0].to_dict(), "id": voters[0].id + "b"})
    fault_day.script([again])
    code, _ = fault_day.run(KHASAB, "--phase", "morning")
    assert fault_day.last(KHASAB, [again])[again.id]["outcome"] == "cast"
    assert fault_day.office_view([voters[0].civil_number])["voted"] == 1


def test_corrupted_election_package_on_one_kiosk(fault_day: FaultDay, tmp_path: Path) -> None:
    """One byte of a photo flipped in the package on one kiosk: it refuses to start and says why and what to do;
    the other kiosks go on."""
    package = Path(json.loads((fault_day.day.day / "day.json").read_text())["package"])
    data = bytearray(package.read_bytes())
    at = data.find(b"IDAT")  # inside a PNG photo
    data[at + 10] ^= 0xFF
    bad = tmp_path / "corrupted.sanduq"
    bad.write_bytes(bytes(data))
    voters = fault_day.voters(1, UNIFIED)
    fault_day.script(voters)
    code, lines = fault_day.run(UNIFIED, "--phase", "morning", "--package", str(bad))
    assert code == 2
    message = next(line for line in lines if "KIOSK REFUSES TO START" in line)
    assert "photos/C-" in message  # names the damaged file
    assert fault_day.office_view([voters[0].civil_number])["voted"] == 0
    code, _ = fault_day.run(UNIFIED, "--phase", "morning")
    assert code == 0 and fault_day.last(UNIFIED, voters)[voters[0].id]["outcome"] == "cast"


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    mount = ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)]
    done = subprocess.run(mount, capture_output=True, check=False)
    return done.returncode == 0


def test_kiosk_database_disk_full(fault_day: FaultDay, tmp_path: Path) -> None:
    """The ballot box's disk fills up: the cast fails as a whole (the voter is told no vote was recorded and
    is not marked voted), every ballot stored before the disk filled is delivered once."""
    disk = tmp_path / "tiny-disk"
    if not _mount_tmpfs(disk, "600k"):
        pytest.fail("mounting a small tmpfs needs root (the suite runs as root in CI)")
    try:
        voters = fault_day.voters(12, SPARE)
        fault_day.script(voters)
        db = disk / "ballot-box.sqlite3"
        # A fresh kiosk database on the tiny disk, for a kiosk no other test has synced: the office refuses a fresh
        # database of a kiosk whose chain it already holds (its batch chain would restart from genesis).
        code, lines = fault_day.run(SPARE, "--phase", "morning", "--db", str(db), "--drain-timeout", "30")
        assert code == 3, lines[-20:]
        assert any("KIOSK STORAGE PROBLEM" in line and "disk is full" in line for line in lines)
        outcomes = fault_day.last(SPARE, voters)
        cast = [v for v in voters if outcomes[v.id]["outcome"] == "cast"]
        refused = [v for v in voters if outcomes[v.id]["outcome"] == "refused"]
        assert cast and refused, "the disk must fill up in the middle of the voters: change its size"
        assert {outcomes[v.id]["failure"] for v in refused} <= {"cast_failed", "internal"}
        # Staff move the ballot box to a bigger disk and restart the kiosk: what was stored is delivered, once.
        bigger = tmp_path / "bigger"
        bigger.mkdir()
        for f in disk.glob("ballot-box.sqlite3*"):
            shutil.copy(f, bigger / f.name)
        moved = str(bigger / "ballot-box.sqlite3")
        code, lines = fault_day.run(SPARE, "--db", moved, "--drain-timeout", "150", timeout=240)
        assert code == 0 and status_of(lines)["delivered"]
        view = fault_day.office_view([v.civil_number for v in voters])
        assert view["voted"] == len(cast) and ids_unique(view)
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
        with contextlib.suppress(OSError):
            shutil.rmtree(disk)

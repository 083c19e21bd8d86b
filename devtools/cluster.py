"""A real office cluster on loopback: HAProxy (TCP mode, TLS passed through) in front of N ``python -m central
serve`` instances on one PostgreSQL, and M ``python -m central worker`` processes taking the verification jobs
(``[ingest] queue = true``). Used by tests/scale and bench/bench_scale.py.

Every process is a child of this one, started with its own command line and stopped by its own pid; a
``cpus`` set pins a process with ``taskset`` (the benchmark's one-core and two-core runs)."""

from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from central.jobs import apply_schema
from devtools.real_office import ROOT, CentralOffice, RealElection, free_port

HAPROXY = shutil.which("haproxy") or "/usr/sbin/haproxy"


def _wait_port(port: int, process: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing listens on {port}: {log.read_text(errors='replace')[-2000:]}") from None
            time.sleep(0.05)


@dataclass
class Cluster:
    """``office`` holds the shared configuration (queue on) and the database; ``url`` is HAProxy's."""

    election: RealElection
    office: CentralOffice
    work: Path
    instances: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    """port -> its serve process"""
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    haproxy: subprocess.Popen[bytes] | None = None
    port: int = 0
    instances_killed: int = 0
    workers_killed: int = 0
    jobs_in_flight_at_kill: int = 0
    """jobs in 'doing' right after the SIGKILLs (the killed worker's, which nobody finishes, among them)"""

    @classmethod
    def create(cls, election: RealElection, database_url: str, work: Path, *, queue_timeout: float = 5.0) -> Cluster:
        office = CentralOffice(election, database_url, work)
        text = office.config_path.read_text(encoding="utf-8").replace("workers = 2", "workers = 0")
        office.config_path.write_text(text + f"queue = true\nqueue_timeout = {queue_timeout}\n", encoding="utf-8")
        return cls(election, office, work, port=free_port())

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def initialise(self, voters: list[str]) -> None:
        self.office.initialise(voters)
        apply_schema(self.office.database_url)

    def _spawn(self, name: str, args: list[str], cpus: str | None) -> tuple[subprocess.Popen[bytes], Path]:
        log = self.work / f"{name}.log"
        prefix = ["taskset", "-c", cpus] if cpus else []
        with log.open("ab") as out:
            process = subprocess.Popen(
                [*prefix, sys.executable, "-m", "central", *args, "--config", str(self.office.config_path)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own session, as a service of its own would be (and the scheduler's
            )  # autogroup per session then shares the CPU per process, not per test)
        return process, log

    def start_instance(self, cpus: str | None = None) -> int:
        port = free_port()
        process, log = self._spawn(f"serve-{port}", ["serve", "--port", str(port)], cpus)
        self.instances[port] = process
        _wait_port(port, process, log)
        return port

    def start_worker(self, cpus: str | None = None) -> subprocess.Popen[bytes]:
        process, _ = self._spawn(f"worker-{len(self.workers)}", ["worker", "--name", f"w{len(self.workers)}"], cpus)
        self.workers.append(process)
        return process

    def start_haproxy(self) -> None:
        """TCP mode: the TLS session runs from the kiosk to an office instance, so the instance itself sees (and
        requires) the kiosk's client certificate. A health check every 200 ms takes a dead instance out; a
        connection that fails is re-sent to the other instance (``retries``, ``option redispatch``)."""
        servers = "\n".join(
            f"    server office{i} 127.0.0.1:{port} check inter 200ms fall 1 rise 2"
            for i, port in enumerate(self.instances)
        )
        cfg = self.work / "haproxy.cfg"
        cfg.write_text(
            f"""global
    maxconn 2000
defaults
    mode tcp
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend office
    bind 127.0.0.1:{self.port}
    default_backend instances
backend instances
    balance roundrobin
{servers}
""",
            encoding="utf-8",
        )
        log = self.work / "haproxy.log"
        with log.open("ab") as out:
            self.haproxy = subprocess.Popen(
                [HAPROXY, "-db", "-f", str(cfg)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
            )
        _wait_port(self.port, self.haproxy, log)

    @staticmethod
    def kill(process: subprocess.Popen[bytes]) -> None:
        """SIGKILL: a crash, not a shutdown."""
        process.send_signal(signal.SIGKILL)
        process.wait(30)

    def close(self) -> None:
        for process in [*self.instances.values(), *self.workers, *([self.haproxy] if self.haproxy else [])]:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in [*self.instances.values(), *self.workers, *([self.haproxy] if self.haproxy else [])]:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        self.office.db.dispose()

"""A real office cluster on loopback: HAProxy (TCP mode, TLS passed through) in front of N ``python -m central
serve`` instances on one PostgreSQL, and M ``python -m central worker`` processes taking the verification jobs
(``[ingest] queue = true``). Used by tests/scale and bench/bench_scale.py.

Every process is a child of this one, started with its own command line and stopped by its own pid; a
``cpus`` set pins a process with ``taskset`` (the benchmark's one-core and two-core runs).

HAProxy sends the PROXY protocol (``send-proxy-v2``) from its own source address ``PROXY_SOURCE``, the one address
the instances trust for it (``[server] trusted_proxies``): an instance then sees each client's address
(``central.proxy_protocol``). ``start_haproxy`` is the same HAProxy for any other servers (the collector's
instances), with or without the PROXY header."""

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
PROXY_SOURCE = "127.0.0.9"
"""HAProxy's source address towards the instances (a loopback address no test client uses)."""


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


def haproxy_config(port: int, servers: list[int], *, send_proxy: bool = False, source: str | None = None) -> str:
    """TCP mode: the TLS session runs from the client to a server behind, so the server itself sees (and may
    require) the client's certificate. A health check every 200 ms takes a dead server out; a connection that
    fails is re-sent to another server (``retries``, ``option redispatch``). ``send_proxy``: each connection to a
    server (health checks included, as LOCAL) begins with a PROXY v2 header naming the client; ``source``: the
    address HAProxy connects from."""
    proxy = " send-proxy-v2" if send_proxy else ""
    lines = "\n".join(
        f"    server office{i} 127.0.0.1:{server} check inter 200ms fall 1 rise 2{proxy}"
        for i, server in enumerate(servers)
    )
    source_line = f"    source {source}\n" if source else ""
    return f"""global
    maxconn 2000
defaults
    mode tcp
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend office
    bind 127.0.0.1:{port}
    default_backend instances
backend instances
    balance roundrobin
{source_line}{lines}
"""


def start_haproxy(
    work: Path, port: int, servers: list[int], *, send_proxy: bool = False, source: str | None = None
) -> subprocess.Popen[bytes]:
    """HAProxy on 127.0.0.1:``port`` in front of ``servers`` (loopback ports), in its own session; returns once it
    listens. Its configuration and log are ``haproxy.cfg`` and ``haproxy.log`` in ``work``."""
    cfg = work / "haproxy.cfg"
    cfg.write_text(haproxy_config(port, servers, send_proxy=send_proxy, source=source), encoding="utf-8")
    log = work / "haproxy.log"
    with log.open("ab") as out:
        process = subprocess.Popen(
            [HAPROXY, "-db", "-f", str(cfg)], stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    _wait_port(port, process, log)
    return process


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
    """jobs in 'doing' right after the worker's SIGKILL (its own, which nobody finishes, among them)"""
    proxy_protocol: bool = True
    """HAProxy sends ``send-proxy-v2`` from ``PROXY_SOURCE``, which the instances trust."""

    @classmethod
    def create(
        cls,
        election: RealElection,
        database_url: str,
        work: Path,
        *,
        queue_timeout: float = 5.0,
        proxy_protocol: bool = True,
    ) -> Cluster:
        office = CentralOffice(election, database_url, work)
        text = office.config_path.read_text(encoding="utf-8").replace("workers = 2", "workers = 0")
        if proxy_protocol:
            text = text.replace("[ingest]\n", f'trusted_proxies = ["{PROXY_SOURCE}"]\n[ingest]\n', 1)
        office.config_path.write_text(text + f"queue = true\nqueue_timeout = {queue_timeout}\n", encoding="utf-8")
        return cls(election, office, work, port=free_port(), proxy_protocol=proxy_protocol)

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
        """HAProxy in front of every instance started so far (``haproxy_config``), with the PROXY header unless the
        cluster was created without it."""
        source = PROXY_SOURCE if self.proxy_protocol else None
        self.haproxy = start_haproxy(
            self.work, self.port, list(self.instances), send_proxy=self.proxy_protocol, source=source
        )

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

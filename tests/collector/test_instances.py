"""The collector as two stateless instances behind HAProxy on one PostgreSQL (issue 20): HAProxy ends the voters'
TLS and opens its own TLS connection to an instance (HTTP mode: it adds ``X-Forwarded-For``, which the instances
believe from it alone, ``trusted_proxies``). Voter apps register and submit through HAProxy while one instance is
SIGKILLed midway. Afterwards every accepted ballot is stored exactly once, each resubmission gets the same
receipt (marked duplicate), a challenge issued by one instance is accepted once by the other, and the per-client
rate limit sees each client's own address, not HAProxy's."""

from __future__ import annotations

import signal
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import create_engine, text

from collector.db import migrate
from collector.limits import RateLimits
from devtools.cluster import HAPROXY, _wait_port
from devtools.real_office import free_port
from tests.collector.conftest import ABROAD, COLLECTOR_ID, RemoteElection, VoterApp
from tests.collector.instance import write_spec

ROOT = Path(__file__).resolve().parents[2]
VOTERS = ("10000001", "10000002", "10000003", ABROAD)
BALLOTS_EACH = 8
KILL_AFTER = 10  # accepted ballots before instance A is killed
# each voter app its own source address; burst enough for its traffic on either instance, not for a flood
LIMITS = RateLimits(client_rate=1.0, client_burst=40, voter_auths_per_hour=100, submissions_per_credential=50)


@dataclass
class CollectorCluster:
    work: Path
    spec: Path
    ca: Path
    instances: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    haproxy: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def start_instance(self) -> int:
        port, internal = free_port(), free_port()
        log = self.work / f"collector-{port}.log"
        with log.open("ab") as out:
            process = subprocess.Popen(
                [sys.executable, "-m", "tests.collector.instance", str(self.spec), str(port), str(internal)],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.instances[port] = process
        _wait_port(port, process, log)
        return port

    def start_haproxy(self, cert: Path, key: Path) -> None:
        """HTTP mode, TLS at both ends; a dead instance is taken out by the 200 ms health check, and a request
        that found it dead (refused connection, or no answer) is re-sent to the other instance: safe, because a
        submission is idempotent by its submission_id."""
        pem = self.work / "haproxy.pem"
        pem.write_bytes(cert.read_bytes() + key.read_bytes())
        servers = "\n".join(
            f"    server collector{i} 127.0.0.1:{port} ssl verify required ca-file {self.ca} "
            "check inter 200ms fall 1 rise 2"
            for i, port in enumerate(self.instances)
        )
        cfg = self.work / "haproxy.cfg"
        cfg.write_text(
            f"""global
    maxconn 2000
    tune.bufsize 65536
defaults
    mode http
    timeout connect 1s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
    retry-on conn-failure empty-response
frontend collector
    bind 127.0.0.1:{self.port} ssl crt {pem}
    http-request del-header X-Forwarded-For
    option forwardfor
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

    def kill(self, port: int) -> None:
        """SIGKILL: a crash, not a shutdown."""
        self.instances[port].send_signal(signal.SIGKILL)
        self.instances[port].wait(30)

    def close(self) -> None:
        processes = [*self.instances.values(), *([self.haproxy] if self.haproxy else [])]
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in processes:
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)


@pytest.fixture
def cluster(remote_election: RemoteElection, pg_database: str, tmp_path: Path) -> Iterator[CollectorCluster]:
    migrate(pg_database)
    spec = tmp_path / "spec.json"
    write_spec(
        spec,
        manifest=remote_election.manifest,
        context=remote_election.context,
        pki_dir=remote_election.pki.out_dir,
        roll=remote_election.roll,
        abroad=[ABROAD],
        collector_id=COLLECTOR_ID,
        database_url=pg_database,
        limits=LIMITS,
        trusted_proxies=["127.0.0.1"],
    )
    pki = remote_election.pki
    c = CollectorCluster(tmp_path, spec, pki.central_ca.cert_path)
    try:
        c.start_instance()
        c.start_instance()
        c.start_haproxy(pki.central_server.cert_path, pki.central_server.key_path)
        yield c
    finally:
        c.close()


@pytest.fixture
def clients(remote_election: RemoteElection) -> Iterator[Callable[[str, str], httpx.Client]]:
    """``client(base, source)``: an HTTPS client to ``base`` from the loopback address ``source``."""
    made: list[httpx.Client] = []
    verify = ssl.create_default_context(cafile=str(remote_election.pki.central_ca.cert_path))

    def client(base: str, source: str) -> httpx.Client:
        transport = httpx.HTTPTransport(verify=verify, local_address=source)
        made.append(httpx.Client(base_url=base, transport=transport, timeout=30))
        return made[-1]

    yield client
    for c in made:
        c.close()


def submit_until_answered(app: VoterApp, body: dict[str, Any]) -> httpx.Response:
    """What the voter app does after a lost connection: the same body again until a definite answer."""
    deadline = time.monotonic() + 60
    while True:
        try:
            response = app.submit(body)
            if response.status_code not in (502, 503, 504):
                return response
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise AssertionError("no definite answer within 60 s")
        time.sleep(0.1)


def test_two_instances_one_killed_every_ballot_stored_once(
    cluster: CollectorCluster,
    remote_election: RemoteElection,
    pg_database: str,
    clients: Callable[[str, str], httpx.Client],
) -> None:
    port_a, port_b = list(cluster.instances)
    # a challenge issued by instance A is accepted by instance B, once
    direct_a = clients(f"https://127.0.0.1:{port_a}", "127.0.0.2")
    direct_b = clients(f"https://127.0.0.1:{port_b}", "127.0.0.2")
    apps = [VoterApp(clients(cluster.url, f"127.0.0.{10 + i}"), remote_election, c) for i, c in enumerate(VOTERS)]
    first = apps[0]
    through_haproxy, first.http = first.http, direct_a
    challenge = first.challenge()
    first.http = direct_b
    assert first.register(challenge).status_code == 200
    first.http = direct_a
    reused = first.register(challenge)
    assert reused.status_code == 410 and reused.json()["error"] == "stale_challenge"
    first.http = through_haproxy
    for app in apps[1:]:
        registered = app.register()
        assert registered.status_code == 200, registered.text

    bodies: dict[str, dict[str, Any]] = {}
    receipts: dict[str, dict[str, Any]] = {}
    lock = threading.Lock()
    refused: list[str] = []

    def vote(app: VoterApp) -> None:
        for _ in range(BALLOTS_EACH):
            body = app.submission(app.ballot()[0])
            response = submit_until_answered(app, body)
            with lock:
                if response.status_code == 200:
                    bodies[body["submission_id"]] = body
                    receipts[body["submission_id"]] = response.json()
                else:
                    refused.append(response.text)

    threads = [threading.Thread(target=vote, args=(app,)) for app in apps]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 120
    while len(receipts) < KILL_AFTER and time.monotonic() < deadline:
        time.sleep(0.01)
    cluster.kill(port_a)
    killed_at = len(receipts)
    for t in threads:
        t.join(180)
    assert not refused, refused
    assert KILL_AFTER <= killed_at < len(VOTERS) * BALLOTS_EACH, "instance A was not killed midway"
    assert len(receipts) == len(VOTERS) * BALLOTS_EACH

    # every accepted ballot stored once, nothing else stored; each voter's sequences 1..n once
    engine = create_engine(pg_database)
    with engine.connect() as con:
        rows = con.execute(text("SELECT submission_id, ballot_id, credential, sequence FROM submissions")).all()
    engine.dispose()
    assert sorted(r.submission_id for r in rows) == sorted(receipts)
    assert {r.ballot_id for r in rows} == {receipts[s]["ballot_id"] for s in receipts}
    per_credential: dict[str, list[int]] = {}
    for r in rows:
        per_credential.setdefault(r.credential, []).append(r.sequence)
    assert sorted(per_credential) == sorted(a.credential for a in apps)
    assert all(sorted(s) == list(range(1, BALLOTS_EACH + 1)) for s in per_credential.values())

    # after the kill, each resubmission gets the same receipt, marked duplicate (answered by instance B)
    by_credential = {a.credential: a for a in apps}
    for submission_id, body in bodies.items():
        again = submit_until_answered(by_credential[body["credential"]], body)
        assert again.status_code == 200, again.text
        assert again.json() == receipts[submission_id] | {"duplicate": True}

    # the rate limit is per client address as HAProxy forwards it: a flood from one address is refused, another
    # address is still served
    flood = clients(cluster.url, "127.0.0.3")
    codes = [flood.get("/r1/ballots/no-such-ballot").status_code for _ in range(int(LIMITS.client_burst) + 10)]
    assert 429 in codes and set(codes) <= {404, 429}
    other = clients(cluster.url, "127.0.0.4").get("/r1/ballots/no-such-ballot")
    assert other.status_code == 404, other.text

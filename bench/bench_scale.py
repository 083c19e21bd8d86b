"""Office instances and verification workers: ingest on one core against two, in one run (issue 20).

Two complete clusters are built (``devtools.cluster``): each its own PostgreSQL 15, HAProxy in TCP mode (TLS
passed through), ``python -m central serve`` instances and ``python -m central worker`` processes with
``[ingest] queue = true``. Cluster A has one instance and one worker, cluster B two of each. EVERY process of a
cluster (PostgreSQL's postmaster and backends, HAProxy, instances, workers) is pinned with ``taskset``: A to one
core, B to two; the sending threads (the real sync client, ``SyncClient.send_batch``, over HTTPS with the kiosk's
client certificate) are pinned with the cluster they load. The signed batches (50 ballots of the 6-candidate
style BS-MA-04, two kiosks of the unified centre, each kiosk's batches in its chain's order) are made before any
timing. A round sends ``--batches`` batches per kiosk, the two kiosks at once, and times until the last receipt;
the rounds alternate A B B A ... and the medians are compared (ratio B/A, target >= 1.8).

Run: .venv/bin/python -m bench.bench_scale [--rounds 6] [--batches 3]   (writes out/bench/scale.json)
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from devtools.cluster import Cluster
from devtools.kiosksim import Election, SimKiosk
from devtools.pg import PostgresServer
from devtools.real_office import RealElection, build_election
from election.canonical import canonical_json
from sync.client import SyncClient

BATCH = 50
STYLE = "BS-MA-04"
KIOSKS = ("K-PC-001-1", "K-PC-001-2")


def pin_tree(pid: int, cpus: str) -> None:
    """``taskset`` on a process and every descendant (all threads); later forks inherit it."""
    children = _children()
    todo = [pid]
    while todo:
        p = todo.pop()
        subprocess.run(["taskset", "-a", "-p", "-c", cpus, str(p)], capture_output=True, check=False)
        todo.extend(children.get(p, []))


def _children() -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            out.setdefault(ppid, []).append(int(entry.name))
    return out


def tree_cpu(pids: list[int]) -> float:
    """CPU seconds (user + system, and of reaped children) of these processes and all their descendants."""
    children, total, todo = _children(), 0.0, list(pids)
    tick = os.sysconf("SC_CLK_TCK")
    while todo:
        p = todo.pop()
        try:
            f = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in f[11:15]) / tick
        todo.extend(children.get(p, []))
    return total


def _postmaster(pg: PostgresServer) -> int:
    return int((pg.data / "postmaster.pid").read_text().splitlines()[0])


@dataclass
class Setup:
    label: str
    cpus: str
    instances: int
    pg: PostgresServer
    cluster: Cluster
    senders: list[tuple[SimKiosk, SyncClient]]

    @property
    def roles(self) -> dict[str, list[int]]:
        c = self.cluster
        return {
            "postgresql": [_postmaster(self.pg)],
            "instances": [p.pid for p in c.instances.values()],
            "workers": [w.pid for w in c.workers],
            "haproxy": [c.haproxy.pid] if c.haproxy else [],
        }

    @property
    def pids(self) -> list[int]:
        """The cluster's processes (PostgreSQL with its backends, HAProxy, instances, workers)."""
        c = self.cluster
        return [_postmaster(self.pg), *(p.pid for p in c.instances.values()), *(w.pid for w in c.workers)] + (
            [c.haproxy.pid] if c.haproxy else []
        )


def _sim(election: RealElection, kiosk_id: str) -> SimKiosk:
    sim_election = Election(
        election.manifest, election.context, None, None, election.pki, election.envelope.public_key, election.root
    )
    return SimKiosk(sim_election, kiosk_id, app=None)


def _bodies(sim: SimKiosk, count: int) -> list[bytes]:
    out = []
    for _ in range(count):
        batch = sim.make_batch([sim.encrypt(STYLE) for _ in range(BATCH)])
        out.append(canonical_json(batch.model_dump(mode="json")))
    return out


def build(label: str, cpus: str, n: int, election: RealElection, tmp: Path) -> Setup:
    pg = PostgresServer()
    pg.start()
    pin_tree(_postmaster(pg), cpus)
    cluster = Cluster.create(election, pg.create_database(), tmp / label, queue_timeout=60.0)
    cluster.initialise([])
    for _ in range(n):
        cluster.start_instance(cpus)
        cluster.start_worker(cpus)
    cluster.start_haproxy()
    assert cluster.haproxy is not None
    pin_tree(cluster.haproxy.pid, cpus)
    senders = [(_sim(election, k), SyncClient(cluster.url, election.tls(k), read_timeout=120)) for k in KIOSKS]
    return Setup(label, cpus, n, pg, cluster, senders)


ROLE_MS: dict[str, dict[str, list[float]]] = {}
"""label -> role -> CPU ms per ballot, per round"""


def send_round(setup: Setup, bodies: dict[str, list[bytes]]) -> tuple[float, float]:
    """Ballots per second for one round (every kiosk's batches in order, the kiosks at once), and the cluster's
    CPU milliseconds per ballot in that round."""
    cpus = {int(c) for c in setup.cpus.split(",")}

    def one_kiosk(pair: tuple[SimKiosk, SyncClient]) -> None:
        os.sched_setaffinity(0, cpus)  # this sending thread runs on the cluster's cores
        sim, client = pair
        for body in bodies[sim.kiosk_id]:
            receipt = client.send_batch(body)
            if receipt.accepted != BATCH:
                raise RuntimeError(f"{setup.label}: a batch was not fully accepted: {receipt}")

    ballots = sum(len(v) for v in bodies.values()) * BATCH
    cpu = tree_cpu(setup.pids)
    roles = {r: tree_cpu(p) for r, p in setup.roles.items()}
    t = time.perf_counter()
    with ThreadPoolExecutor(len(setup.senders)) as ex:
        list(ex.map(one_kiosk, setup.senders))
    wall = time.perf_counter() - t
    per_role = ROLE_MS.setdefault(setup.label, {})
    for r, p in setup.roles.items():
        per_role.setdefault(r, []).append((tree_cpu(p) - roles[r]) / ballots * 1000)
    return ballots / wall, (tree_cpu(setup.pids) - cpu) / ballots * 1000


def row(what: str, median: float, unit: str, **extra: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "what": what,
        "median": median,
        "unit": unit,
        "p99": None,
        "rate_per_s": None,
        "peer": None,
        "peer_median": None,
        "ratio": None,
        "target": None,
        "meets_target": None,
    }
    base.update(extra)
    return base


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_scale")
    parser.add_argument("--rounds", type=int, default=6, help="timed rounds per cluster (alternating A B B A)")
    parser.add_argument("--batches", type=int, default=3, help="batches of 50 per kiosk and round")
    args = parser.parse_args(argv)
    cores = sorted(os.sched_getaffinity(0))
    if len(cores) < 2:
        raise SystemExit("bench_scale needs two cores")
    one, two = str(cores[0]), f"{cores[0]},{cores[1]}"
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        election = build_election(tmp / "election")
        setups = [build("A", one, 1, election, tmp), build("B", two, 2, election, tmp)]
        try:
            # Warm-up (not timed): the first batch of each kiosk starts connections and pools.
            plan: dict[str, list[dict[str, list[bytes]]]] = {}
            for s in setups:
                per_kiosk = {sim.kiosk_id: _bodies(sim, 1 + args.rounds * args.batches) for sim, _ in s.senders}
                send_round(s, {k: v[:1] for k, v in per_kiosk.items()})
                plan[s.label] = [
                    {k: v[1 + r * args.batches : 1 + (r + 1) * args.batches] for k, v in per_kiosk.items()}
                    for r in range(args.rounds)
                ]
            rates: dict[str, list[float]] = {"A": [], "B": []}
            cpu_ms: dict[str, list[float]] = {"A": [], "B": []}
            order = ["A", "B", "B", "A"] * ((args.rounds + 1) // 2)
            used = {"A": 0, "B": 0}
            for label in order:
                if used[label] >= args.rounds:
                    continue
                setup = next(s for s in setups if s.label == label)
                rate, ms = send_round(setup, plan[label][used[label]])
                rates[label].append(rate)
                cpu_ms[label].append(ms)
                used[label] += 1
        finally:
            for s in setups:
                for _, client in s.senders:
                    client.close()
                s.cluster.close()
                s.pg.stop()
    a, b = statistics.median(rates["A"]), statistics.median(rates["B"])
    ratio = b / a
    cpu_a, cpu_b = statistics.median(cpu_ms["A"]), statistics.median(cpu_ms["B"])
    load = os.getloadavg()
    rows = [
        row(
            "ingest, 1 instance + 1 worker, everything on 1 core (HAProxy, PostgreSQL, senders)",
            a,
            "ballots/s",
            rate_per_s=a,
        ),
        row(
            "ingest, 2 instances + 2 workers, everything on 2 cores",
            b,
            "ballots/s",
            rate_per_s=b,
            peer="1 instance + 1 worker on 1 core",
            peer_median=a,
            ratio=ratio,
            target=">= 1.8x",
            meets_target=ratio >= 1.8,
        ),
        row(
            "cluster CPU per ballot, 1 instance + 1 worker (PostgreSQL, HAProxy, instance, worker)",
            cpu_a,
            "ms CPU",
        ),
        row(
            "cluster CPU per ballot, 2 instances + 2 workers",
            cpu_b,
            "ms CPU",
            peer="1 instance + 1 worker",
            peer_median=cpu_a,
            ratio=cpu_b / cpu_a,
        ),
        row(
            "capacity on free cores, 2 + 2 on 2 cores against 1 + 1 on 1 core (2 x CPU ratio, derived)",
            2 * cpu_a / cpu_b,
            "x",
            ratio=2 * cpu_a / cpu_b,
            target=">= 1.8x",
            meets_target=2 * cpu_a / cpu_b >= 1.8,
        ),
    ]
    notes = [
        f"load average during the run {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} on {os.cpu_count()} cores: with"
        " other work on the machine the wall-clock ratio measures the share of the cores this run got, not the"
        " office; the CPU rows do not depend on that share.",
        f"{os.cpu_count()} cores; PostgreSQL 15 with fsync off (test settings); real HTTPS through HAProxy (TCP mode).",
        "every instance, worker and HAProxy runs in its own session (with the kernel's autogroup scheduling a busy"
        " machine shares CPU per session: all of a cluster in one session would get one session's share however"
        " many cores it is pinned to).",
        f"batches of {BATCH} ballots of {STYLE} (one contest, 6 candidates); {args.batches} batches per kiosk and "
        f"round, 2 kiosks at once; {args.rounds} rounds per cluster, alternating A B B A.",
        f"CPU the clusters got (rate x CPU per ballot): A {a * cpu_a / 1000:.2f} core, B {b * cpu_b / 1000:.2f} core"
        " in all (of 1 and 2 pinned cores).",
        *(
            f"CPU ms per ballot, {label}: "
            + ", ".join(f"{r} {statistics.median(v):.2f}" for r, v in ROLE_MS.get(label, {}).items())
            for label in ("A", "B")
        ),
        "rounds A: " + ", ".join(f"{r:.1f}" for r in rates["A"]),
        "rounds B: " + ", ".join(f"{r:.1f}" for r in rates["B"]),
        "CPU ms per ballot A: " + ", ".join(f"{r:.1f}" for r in cpu_ms["A"]),
        "CPU ms per ballot B: " + ", ".join(f"{r:.1f}" for r in cpu_ms["B"]),
    ]
    out = Path("out/bench")
    out.mkdir(parents=True, exist_ok=True)
    (out / "scale.json").write_text(json.dumps({"area": "scale", "rows": rows, "notes": notes}, indent=2))
    for r in rows:
        ratio_text = f"ratio {r['ratio']:.2f}" if r["ratio"] else ""
        print(f"{r['what']:<92} {r['median']:>9.2f} {r['unit']:<10} {ratio_text} {r['target'] or ''}")
    for n in notes:
        print("-", n)


if __name__ == "__main__":
    main()

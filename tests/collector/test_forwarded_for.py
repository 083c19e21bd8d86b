"""Whose address the rate limit counts: the TCP peer's, unless the peer is a configured load balancer
(``trusted_proxies``); a client cannot escape its limit by sending ``X-Forwarded-For`` itself. A bad
``trusted_proxies`` in the configuration is one clear line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from collector.config import ConfigError, load_config
from collector.limits import RateLimits
from tests.collector.conftest import Clock, RemoteElection, make_collector, serve

ROOT = Path(__file__).resolve().parents[2]


def test_a_client_cannot_choose_its_own_address(remote_election: RemoteElection, tmp_path: Path) -> None:
    collector = make_collector(
        remote_election, f"sqlite:///{tmp_path / 'f.db'}", Clock(), RateLimits(client_rate=0.01, client_burst=3)
    )
    with serve(collector, remote_election) as served:  # no trusted_proxies: the header is never read
        client = served.client()
        answers = [
            client.post("/r1/challenge", content=b"{}", headers={"x-forwarded-for": f"203.0.113.{i}"}).status_code
            for i in range(6)
        ]
    assert answers[:3] == [200] * 3 and set(answers[3:]) == {429}


def test_trusted_proxies_must_be_addresses(tmp_path: Path) -> None:
    config = tmp_path / "collector.toml"
    base = '[collector]\nid = "REMOTE-01"\ndatabase_url = "sqlite:///x.db"\npackage = "p"\ncommission_key = "k"\n'
    config.write_text(base + 'roll = "r"\ntrusted_proxies = ["10.0.0.5", "::1"]\n', encoding="utf-8")
    assert load_config(config).trusted_proxies == ("10.0.0.5", "::1")
    config.write_text(base + 'roll = "r"\ntrusted_proxies = ["haproxy.local"]\n', encoding="utf-8")
    try:
        load_config(config)
    except ConfigError as exc:
        assert "trusted_proxies" in str(exc) and "haproxy.local" in str(exc)
    else:
        raise AssertionError("a host name was accepted as a trusted proxy address")
    done = subprocess.run(
        [sys.executable, "-m", "collector", "serve", "--config", str(config)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 2 and done.stderr.startswith("collector: ") and "Traceback" not in done.stderr

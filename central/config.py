"""The central office's configuration (config/central.toml), parsed once at the edge into a typed value."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from central.proxy_protocol import Network, trusted_networks
from sync.remote_link import RemoteLinkConfig

TURNOUT_BUCKETS = (15, 20, 30, 60)
"""Allowed turnout bucket widths in minutes: divisors of 60, none finer than 15 minutes."""


class ConfigError(ValueError):
    """The configuration file is missing a field or has a wrong value; the message names it."""


@dataclass(frozen=True)
class TlsConfig:
    cert: Path
    key: Path
    kiosk_ca: Path


@dataclass(frozen=True)
class CentralConfig:
    database_url: str
    election_dir: Path
    record_dir: Path
    host: str = "127.0.0.1"
    port: int = 8443
    tls: TlsConfig | None = None
    staff_ca: Path | None = None
    kiosk_ca: Path | None = None
    envelope_private_key: Path | None = None
    checkin_lock_seconds: int = 600
    turnout_bucket_minutes: int = 15
    staff_token_minutes: int = 720
    staff_crl: Path | None = None
    national_root: Path | None = None
    """``[server] national_root`` and ``national_root_crl`` (both or neither): the root that issued the staff CA and
    its CRL (PEM or DER, re-read when the file changes); staff login then refuses every card once the root revoked
    the staff CA (``central.auth.RootRevocation``), as the kiosk checks every level of a card's path."""
    national_root_crl: Path | None = None
    ingest_workers: int = 0
    """Processes that verify ballot proofs (0 or 1: inline). ``[ingest] workers`` in the file, default: one per
    core (``"auto"``)."""
    head_timeout: float = 10.0
    """``[server] head_timeout``: seconds a connection has for its TLS handshake and then for each request head."""
    body_timeout: float = 30.0
    """``[server] body_timeout``: seconds a request has to deliver its whole body."""
    max_anonymous_connections: int = 512
    """``[server] max_anonymous_connections``: connections without a client certificate at once."""
    max_connections: int = 4096
    """``[server] max_connections``: connections in all (capped below the file-descriptor limit)."""
    kiosk_port: int | None = None
    """``[server] kiosk_port``: a second listener for the kiosks that requires a client certificate in the TLS
    handshake (an anonymous client never gets a connection there); ``port`` stays open to browsers."""
    kiosk_crl: Path | None = None
    """``[server] kiosk_crl``: revoked kiosk certificates (a CRL of the kiosk CA, PEM or DER, re-read when the file
    changes), refused at the next request."""
    office_signing_key: Path | None = None
    """PEM private key (Ed25519 or ECDSA P-256) that signs the audit heads; default: the TLS server key."""
    office_certificate: Path | None = None
    """Its certificate (PEM), published in the record; default: the TLS server certificate."""
    console_token_minutes: int = 60
    """Lifetime of a console token (``python -m central issue-token``; observer or poll worker only)."""
    embassies: tuple[str, ...] = ()
    """Embassies whose manual sheets (Art. 9, voters abroad) the office accepts: ``[manual] embassies``."""
    ingest_queue: bool = False
    """``[ingest] queue``: proofs checked by ``python -m central worker`` processes through the PostgreSQL job queue
    (``central.jobs``) instead of in this process; PostgreSQL only."""
    queue_timeout: float = 30.0
    """``[ingest] queue_timeout``: seconds an instance waits for a batch's checks before answering 503."""
    trusted_proxies: tuple[Network, ...] = ()
    """``[server] trusted_proxies``: addresses (or networks) of the load balancers whose connections begin with a
    PROXY v2 header naming the client (``central.proxy_protocol``); empty: no PROXY header is ever read."""
    remote_collector: RemoteLinkConfig | None = None
    """``[remote] url, client_cert, client_key, ca``: the vote collector's internal listener (docs/remote-voting.md);
    the check-in asks it whether the voter voted remotely, the voted mark voids the voter's credential."""


def _path(base: Path, value: Any, where: str) -> Path:
    if not isinstance(value, str) or not value:
        raise ConfigError(f"{where}: expected a path")
    p = Path(value)
    return p if p.is_absolute() else (base / p)


def load_config(path: Path, *, base: Path | None = None) -> CentralConfig:
    """Read a TOML config; relative paths are resolved against ``base`` (default: the current directory)."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    return parse_config(data, base=base or Path.cwd())


def parse_config(data: dict[str, Any], *, base: Path) -> CentralConfig:
    db = data.get("database", {})
    election = data.get("election", {})
    server = data.get("server", {})
    policy = data.get("policy", {})
    url = db.get("url")
    if not isinstance(url, str) or "://" not in url:
        raise ConfigError("database.url: expected a SQLAlchemy URL")
    if url.startswith("sqlite:///") and not url.startswith("sqlite:////"):
        url = "sqlite:///" + str(base / url.removeprefix("sqlite:///"))
    tls = None
    if "tls_cert" in server:
        tls = TlsConfig(
            cert=_path(base, server.get("tls_cert"), "server.tls_cert"),
            key=_path(base, server.get("tls_key"), "server.tls_key"),
            kiosk_ca=_path(base, server.get("kiosk_ca"), "server.kiosk_ca"),
        )
    ints: dict[str, int] = {}
    for key, default in (("checkin_lock_seconds", 600), ("turnout_bucket_minutes", 15), ("staff_token_minutes", 720)):
        value = policy.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
            raise ConfigError(f"policy.{key}: expected a positive integer")
        ints[key] = value
    if ints["turnout_bucket_minutes"] not in TURNOUT_BUCKETS:
        # A finer bucket would date each voted mark (a kiosk's chain orders its ballots): see docs/central.md.
        raise ConfigError("policy.turnout_bucket_minutes: must be 15, 20, 30 or 60 (coarse enough for secrecy)")
    ingest = data.get("ingest", {})
    workers_value = ingest.get("workers", "auto")
    if workers_value == "auto":
        from central.crypto import default_workers

        workers = default_workers()
    elif isinstance(workers_value, int) and not isinstance(workers_value, bool) and 0 <= workers_value <= 256:
        workers = workers_value
    else:
        raise ConfigError('ingest.workers: expected "auto" or a number of processes (0 = verify inline)')
    queue = ingest.get("queue", False)
    if not isinstance(queue, bool):
        raise ConfigError("ingest.queue: expected true or false")
    if queue and not url.startswith("postgresql"):
        raise ConfigError("ingest.queue: the job queue needs a PostgreSQL database (SQLite verifies in-process)")
    queue_timeout = ingest.get("queue_timeout", 30.0)
    if isinstance(queue_timeout, bool) or not isinstance(queue_timeout, int | float) or not 1 <= queue_timeout <= 600:
        raise ConfigError("ingest.queue_timeout: expected seconds between 1 and 600")
    embassies = data.get("manual", {}).get("embassies", [])
    if not isinstance(embassies, list) or not all(isinstance(e, str) and e for e in embassies):
        raise ConfigError("manual.embassies: expected a list of embassy ids")
    limits = _server_limits(server)
    kiosk_port = server.get("kiosk_port")
    if kiosk_port is not None and (
        not isinstance(kiosk_port, int) or isinstance(kiosk_port, bool) or not 0 < kiosk_port < 65536
    ):
        raise ConfigError("server.kiosk_port: expected a TCP port")
    try:
        trusted_proxies = trusted_networks(server.get("trusted_proxies", []))
    except ValueError as exc:
        raise ConfigError(f"server.trusted_proxies: {exc}") from None
    port = server.get("port", 8443)
    if not isinstance(port, int) or not 0 < port < 65536:
        raise ConfigError("server.port: expected a TCP port")
    if ("national_root" in server) != ("national_root_crl" in server):
        raise ConfigError(
            "server.national_root and server.national_root_crl: give both (the root and its CRL) or neither"
        )
    return CentralConfig(
        database_url=url,
        election_dir=_path(base, election.get("dir"), "election.dir"),
        record_dir=_path(base, election.get("record_dir", "out/central/record"), "election.record_dir"),
        host=str(server.get("host", "127.0.0.1")),
        port=port,
        tls=tls,
        staff_ca=_path(base, server["staff_ca"], "server.staff_ca") if "staff_ca" in server else None,
        kiosk_ca=_path(base, server["kiosk_ca"], "server.kiosk_ca") if "kiosk_ca" in server else None,
        envelope_private_key=(
            _path(base, election["envelope_private_key"], "election.envelope_private_key")
            if "envelope_private_key" in election
            else None
        ),
        checkin_lock_seconds=ints["checkin_lock_seconds"],
        turnout_bucket_minutes=ints["turnout_bucket_minutes"],
        staff_token_minutes=ints["staff_token_minutes"],
        staff_crl=_path(base, server["staff_crl"], "server.staff_crl") if "staff_crl" in server else None,
        national_root=_path(base, server["national_root"], "server.national_root")
        if "national_root" in server
        else None,
        national_root_crl=(
            _path(base, server["national_root_crl"], "server.national_root_crl")
            if "national_root_crl" in server
            else None
        ),
        ingest_workers=workers,
        embassies=tuple(embassies),
        office_signing_key=(
            _path(base, election["office_signing_key"], "election.office_signing_key")
            if "office_signing_key" in election
            else (tls.key if tls else None)
        ),
        office_certificate=(
            _path(base, election["office_certificate"], "election.office_certificate")
            if "office_certificate" in election
            else (tls.cert if tls else None)
        ),
        kiosk_crl=_path(base, server["kiosk_crl"], "server.kiosk_crl") if "kiosk_crl" in server else None,
        kiosk_port=kiosk_port,
        ingest_queue=queue,
        queue_timeout=float(queue_timeout),
        trusted_proxies=trusted_proxies,
        remote_collector=_remote(data.get("remote"), base),
        **limits,  # type: ignore[arg-type]
    )


def _remote(remote: Any, base: Path) -> RemoteLinkConfig | None:
    if remote is None:
        return None
    if not isinstance(remote, dict) or set(remote) != {"url", "client_cert", "client_key", "ca"}:
        raise ConfigError("remote: expected exactly url, client_cert, client_key and ca")
    url = remote["url"]
    if not isinstance(url, str) or not url.startswith("https://"):
        raise ConfigError("remote.url: expected an https:// URL")
    return RemoteLinkConfig(
        url,
        _path(base, remote["client_cert"], "remote.client_cert"),
        _path(base, remote["client_key"], "remote.client_key"),
        _path(base, remote["ca"], "remote.ca"),
    )


def _server_limits(server: dict[str, Any]) -> dict[str, float | int]:
    """The connection limits of ``[server]`` (docs/central.md, "The office on the open network")."""
    out: dict[str, float | int] = {}
    for key, kind, low, high in (
        ("head_timeout", float, 0.1, 300.0),
        ("body_timeout", float, 0.1, 3600.0),
        ("max_anonymous_connections", int, 1, 1_000_000),
        ("max_connections", int, 1, 1_000_000),
    ):
        if key not in server:
            continue
        value = server[key]
        wrong_kind = kind is int and not isinstance(value, int)
        if isinstance(value, bool) or not isinstance(value, int | float) or wrong_kind:
            raise ConfigError(f"server.{key}: expected a number")
        if not low <= value <= high:
            raise ConfigError(f"server.{key}: must be between {low:g} and {high:g}")
        out[key] = kind(value)
    return out

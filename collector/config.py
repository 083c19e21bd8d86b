"""The collector's configuration file (TOML, table ``[collector]``; docs/remote-voting.md "Run it")."""

from __future__ import annotations

import ipaddress
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class CollectorConfig:
    collector_id: str
    database_url: str
    package: Path
    commission_key: Path
    roll: Path
    abroad: Path | None = None
    context: Path | None = None
    host: str = "127.0.0.1"
    port: int = 8443
    internal_port: int = 8444
    tls_cert: Path | None = None
    tls_key: Path | None = None
    office_ca: Path | None = None  # client certificates accepted on the internal listener
    office_url: str | None = None  # the central office, for the handover at close
    kiosk_cert: Path | None = None  # the collector's enrolled kiosk certificate and key (mTLS, batch signatures)
    kiosk_key: Path | None = None
    office_server_ca: Path | None = None  # the CA of the office's server certificate (the package's central CA)
    trusted_proxies: tuple[str, ...] = ()  # load balancers whose X-Forwarded-For names the client (collector.server)


_KEYS = {
    "id", "database_url", "package", "commission_key", "roll", "abroad", "context", "host", "port",
    "internal_port", "tls_cert", "tls_key", "office_ca", "office_url", "kiosk_cert", "kiosk_key", "office_server_ca",
    "trusted_proxies",
}  # fmt: skip


def load_config(path: Path) -> CollectorConfig:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: {exc}") from None
    table = data.get("collector")
    if not isinstance(table, dict) or set(data) != {"collector"}:
        raise ConfigError(f"{path}: expected exactly one table [collector]")
    unknown = set(table) - _KEYS
    if unknown:
        raise ConfigError(f"{path}: unknown key(s) {sorted(unknown)}")
    base = path.parent

    def text(key: str) -> str:
        value = table.get(key)
        if not isinstance(value, str) or not value:
            raise ConfigError(f"{path}: [collector] {key} must be a non-empty string")
        return value

    def file(key: str, *, required: bool = True) -> Path | None:
        if key not in table and not required:
            return None
        return (base / text(key)).resolve()

    def port(key: str, default: int) -> int:
        value: Any = table.get(key, default)
        if type(value) is not int or not 0 <= value <= 65535:
            raise ConfigError(f"{path}: [collector] {key} must be a port number")
        return value

    def addresses(key: str) -> tuple[str, ...]:
        value: Any = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{path}: [collector] {key} must be a list of IP addresses")
        try:
            return tuple(str(ipaddress.ip_address(v)) for v in value)
        except ValueError as exc:
            raise ConfigError(f"{path}: [collector] {key}: {exc}") from None

    package, key, roll = file("package"), file("commission_key"), file("roll")
    assert package is not None and key is not None and roll is not None
    return CollectorConfig(
        collector_id=text("id"),
        database_url=text("database_url"),
        package=package,
        commission_key=key,
        roll=roll,
        abroad=file("abroad", required=False),
        context=file("context", required=False),
        host=str(table.get("host", "127.0.0.1")),
        port=port("port", 8443),
        internal_port=port("internal_port", 8444),
        tls_cert=file("tls_cert", required=False),
        tls_key=file("tls_key", required=False),
        office_ca=file("office_ca", required=False),
        office_url=text("office_url") if "office_url" in table else None,
        kiosk_cert=file("kiosk_cert", required=False),
        kiosk_key=file("kiosk_key", required=False),
        office_server_ca=file("office_server_ca", required=False),
        trusted_proxies=addresses("trusted_proxies"),
    )

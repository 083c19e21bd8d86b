"""``python -m collector init|serve|export --config FILE``: create the database, serve the API over TLS (public
and internal listeners), write the record part ``remote/`` (docs/remote-voting.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import secrets
import sys
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from collector.config import CollectorConfig, ConfigError, load_config
from collector.db import Database, migrate
from collector.election_data import ElectionDataError, load_election
from collector.record import remote_part, write_remote_part
from collector.server import Tls, serve
from collector.service import Collector
from election.package import PackageError
from election.roll import RollError


def _collector(config: CollectorConfig) -> Collector:
    key = load_pem_public_key(config.commission_key.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError(f"{config.commission_key}: not an Ed25519 public key")
    election = load_election(config.package, key, config.roll, config.abroad, config.collector_id, config.context)
    return Collector(Database(config.database_url), election, lambda: dt.datetime.now(dt.UTC), secrets.token_bytes)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m collector", description="Sanduq's vote collector")
    parser.add_argument("command", choices=["init", "serve", "export"])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="export: the record directory to write remote/ into")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
        if args.command == "init":
            migrate(config.database_url)
            print(f"database ready: {config.database_url.split('@')[-1]}")
            return 0
        collector = _collector(config)
        if args.command == "export":
            if args.out is None:
                parser.error("export needs --out")
            part = remote_part(collector.db, config.collector_id)
            write_remote_part(part, args.out)
            counts = part.files["remote/counts.json"]
            print(
                f"remote/ written to {args.out}: {counts['counted']} counted, {counts['superseded']} superseded, "
                f"{counts['voided']} voided credential(s)"
            )
            return 0
        if config.tls_cert is None or config.tls_key is None or config.office_ca is None:
            raise ConfigError("serve needs tls_cert, tls_key and office_ca")
        serve(
            collector,
            Tls(config.tls_cert, config.tls_key, config.office_ca),
            config.host,
            config.port,
            config.internal_port,
        )
        return 0
    except (ConfigError, ElectionDataError, PackageError, RollError, OSError) as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

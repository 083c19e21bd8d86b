"""``python -m collector init|serve|export|handover --config FILE``: create the database, serve the API over TLS
(public and internal listeners; ``--port`` and ``--internal-port`` run several instances of one configuration),
write the record part ``remote/``, hand the counted ballots to the central office at close and write ``remote/``
(docs/remote-voting.md); both sign ``remote/statement.json`` with the collector's enrolled kiosk key."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import secrets
import sys
from pathlib import Path

from collector.config import CollectorConfig, ConfigError, load_config
from collector.db import Database, migrate
from collector.election_data import ElectionDataError, load_election
from collector.record import STATEMENT, RemotePart, remote_part, signed_part, write_remote_part
from collector.server import Tls, serve
from collector.service import Collector
from election.package import PackageError, read_commission_key
from election.roll import RollError
from sync.client import SyncError
from sync.signing import Signer


def _collector(config: CollectorConfig) -> Collector:
    try:
        key = read_commission_key(config.commission_key)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    election = load_election(config.package, key, config.roll, config.abroad, config.collector_id, config.context)
    return Collector(Database(config.database_url), election, lambda: dt.datetime.now(dt.UTC), secrets.token_bytes)


def _signer(config: CollectorConfig, command: str) -> Signer:
    """The collector's enrolled kiosk key: it signs the batches, the chain close and ``remote/statement.json``."""
    if config.kiosk_key is None:
        raise ConfigError(f"{command} needs kiosk_key (the collector's enrolled kiosk key signs remote/statement.json)")
    try:
        return Signer.from_pem_file(config.kiosk_key)
    except (ValueError, TypeError) as exc:  # not a key, or one that needs a password
        raise ConfigError(f"kiosk_key {config.kiosk_key}: {exc}") from None


def _export(config: CollectorConfig, collector: Collector) -> RemotePart:
    """``remote/`` as it stands, signed; its statement names the root the handover's chain would end at."""
    from collector.handover import seal_chain

    signer = _signer(config, "export")
    part = remote_part(collector.db, config.collector_id)
    election = collector.election
    close = seal_chain(part.counted, election.context.base_hash, config.collector_id).close
    return signed_part(
        part,
        election_id=str(election.manifest.election_id),
        collector_id=config.collector_id,
        genesis=close.genesis,
        root=close.root,
        sign=signer.sign,
    )


def _handover(config: CollectorConfig, collector: Collector) -> RemotePart:
    from collector.handover import describe, hand_over
    from sync.client import SyncClient, TlsIdentity

    if None in (config.office_url, config.kiosk_cert, config.kiosk_key, config.office_server_ca):
        raise ConfigError("handover needs office_url, kiosk_cert, kiosk_key and office_server_ca")
    assert config.office_url and config.kiosk_cert and config.kiosk_key and config.office_server_ca
    client = SyncClient(config.office_url, TlsIdentity(config.kiosk_cert, config.kiosk_key, config.office_server_ca))
    try:
        election = collector.election
        done = hand_over(
            collector.db,
            election.manifest,
            election.context.base_hash,
            config.collector_id,
            client,
            _signer(config, "handover"),
            collector.now(),
        )
    except SyncError as exc:  # a cut: nothing is lost, the progress is in the collector's database
        raise SyncError(f"{exc} (the handover's progress is kept: run the same command again to continue)") from None
    finally:
        client.close()
    print(describe(done))
    return done.part


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m collector", description="Sanduq's vote collector")
    parser.add_argument("command", choices=["init", "serve", "export", "handover"])
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--out", type=Path, help="export: the record directory to write remote/ into")
    parser.add_argument("--port", type=int, help="serve: the public port (instead of the configuration's)")
    parser.add_argument("--internal-port", type=int, help="serve: the internal port (instead of the configuration's)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        config = load_config(args.config)
        if args.command == "init":
            migrate(config.database_url)
            print(f"database ready: {config.database_url.split('@')[-1]}")
            return 0
        collector = _collector(config)
        if args.command in ("export", "handover"):
            if args.out is None:
                parser.error(f"{args.command} needs --out")
            part = _handover(config, collector) if args.command == "handover" else _export(config, collector)
            write_remote_part(part, args.out)
            counts = part.files["remote/counts.json"]
            print(
                f"remote/ written to {args.out}: {counts['counted']} counted, {counts['superseded']} superseded, "
                f"{counts['voided']} voided credential(s); {STATEMENT} signed with {config.kiosk_key}"
            )
            return 0
        if config.tls_cert is None or config.tls_key is None or config.office_ca is None:
            raise ConfigError("serve needs tls_cert, tls_key and office_ca")
        serve(
            collector,
            Tls(config.tls_cert, config.tls_key, config.office_ca),
            config.host,
            config.port if args.port is None else args.port,
            config.internal_port if args.internal_port is None else args.internal_port,
            config.trusted_proxies,
        )
        return 0
    except (ConfigError, ElectionDataError, PackageError, RollError, OSError, SyncError, RuntimeError) as exc:
        print(f"collector: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())

"""Command line of the central office.

python -m central init-db       --config config/central.toml
python -m central import-roll   --config ... ROLL.csv
python -m central enrol-kiosk   --config ... CERT.pem [CERT.pem ...]
python -m central issue-token   --config ... --role observer --subject "console"   (observer or poll_worker only)
python -m central process-provisional --config ...
python -m central verify-audit  --config ...
python -m central vacuum-poll-book --config ...   (after the polls close; also run by the last centre's close)
python -m central serve         --config ... [--port P] [--kiosk-port Q]   (uvicorn; mutual TLS when [server] tls_*
                                              are set; several instances on one database: docs/operations.md)
python -m central queue-schema  --config ...   (the verification job queue's tables; init-db does it too)
python -m central worker        --config ... [--name N]   (checks ballot proofs from the job queue: [ingest] queue)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import ssl
import sys
from pathlib import Path
from typing import Any, Literal

from cryptography import x509

from central import audit
from central.auth import CONSOLE_ROLES, AuthError, Role, Staff, issue_token
from central.config import CentralConfig, load_config
from central.db import migrate
from central.office import Office, enrol_kiosk


def _office(config: CentralConfig) -> Office:
    office = Office.open(config)
    office.prepare()
    return office


def _queue_schema(config: CentralConfig) -> None:
    from central.jobs import apply_schema

    created = apply_schema(config.database_url)
    print("verification queue:", "schema created" if created else "schema present")


def _worker(config: CentralConfig, name: str) -> int:
    """A verification worker: needs only the database and the election's manifest and context (no office key)."""
    import logging

    from central.jobs import QueueError, run_worker
    from central.office import CONTEXT_FILE, MANIFEST_FILE
    from election.context import ElectionContext
    from election.manifest import Manifest

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    manifest = Manifest.from_dict(json.loads((config.election_dir / MANIFEST_FILE).read_text(encoding="utf-8")))
    context = ElectionContext.from_dict(json.loads((config.election_dir / CONTEXT_FILE).read_text(encoding="utf-8")))
    if context.manifest_hash != manifest.manifest_hash:
        print("refused: the election context belongs to another manifest")
        return 2
    try:
        run_worker(config.database_url, context, manifest, name=name)
    except QueueError as exc:
        print(f"refused: {exc}")
        return 2
    return 0


def main(argv: list[str] | None = None) -> int:
    """The command; a bad input (config, roll, certificate, database) is refused in one line, exit 2."""
    from sqlalchemy.exc import IntegrityError, OperationalError

    try:
        return _main(argv)
    except IntegrityError:
        print("refused: the database already holds this (import-roll loads an empty poll book); nothing was changed")
    except OperationalError as exc:
        print(f"refused: the database: {exc.orig}")
    except OSError as exc:
        print(f"refused: {exc.filename or ''}: {exc.strerror or exc}")
    except (AuthError, ValueError) as exc:  # ConfigError, RollError, RollImportError, a certificate that does not parse
        print(f"refused: {exc}")
    return 2


def _main(argv: list[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="python -m central")
    parser.add_argument(
        "command",
        choices=[
            "init-db",
            "import-roll",
            "enrol-kiosk",
            "issue-token",
            "process-provisional",
            "verify-audit",
            "vacuum-poll-book",
            "serve",
            "queue-schema",
            "worker",
        ],
    )
    parser.add_argument("paths", nargs="*", type=Path)
    parser.add_argument("--config", type=Path, default=Path("config/central.toml"))
    parser.add_argument("--role", choices=[r.value for r in Role], default=Role.OBSERVER.value)
    parser.add_argument("--subject", default="console")
    parser.add_argument("--port", type=int, default=None, help="serve: listen here instead of [server] port")
    parser.add_argument("--kiosk-port", type=int, default=None, help="serve: instead of [server] kiosk_port")
    parser.add_argument("--name", default="verify", help="worker: its name in the queue's tables")
    # Intermixed: the documented order (``import-roll --config C ROLL``) and paths before the options both parse.
    args = parser.parse_intermixed_args(argv)
    config = load_config(args.config)
    if args.command == "serve" and (args.port is not None or args.kiosk_port is not None):
        config = dataclasses.replace(
            config,
            port=config.port if args.port is None else args.port,
            kiosk_port=config.kiosk_port if args.kiosk_port is None else args.kiosk_port,
        )
    if args.command == "init-db":
        migrate(config.database_url)
        if config.ingest_queue:
            _queue_schema(config)
        _office(config).close()
        print(f"database ready: {config.database_url.split('@')[-1]}")
        return 0
    if args.command == "queue-schema":
        _queue_schema(config)
        return 0
    if args.command == "worker":
        return _worker(config, args.name)
    office = _office(config)
    try:
        return _run(args, config, office)
    finally:
        office.close()


def _run(args: argparse.Namespace, config: CentralConfig, office: Office) -> int:
    if args.command == "import-roll":
        from central.pollbook import import_roll
        from election.roll import load_roll

        for path in args.paths:
            roll = load_roll(path, office.manifest)
            with office.db.transaction() as s:
                n = import_roll(s, office.manifest, roll)
                audit.append(
                    s,
                    at=office.clock(),
                    actor=f"console:{args.subject}",
                    action="roll.imported",
                    details={"file": path.name, "voters": n},
                )
            print(f"imported {n} voters from {path}")
    elif args.command == "enrol-kiosk":
        for path in args.paths:
            cert = x509.load_pem_x509_certificate(path.read_bytes())
            with office.db.transaction() as s:
                print("enrolled", enrol_kiosk(s, office, cert, actor=f"console:{args.subject}", now=office.clock()))
    elif args.command == "issue-token":
        # A console token needs no card: only for roles none of whose actions needs a second person. Committee
        # members and administrators log in with their staff cards (POST /api/staff/login).
        staff = Staff(subject=f"console:{args.subject}", role=Role(args.role), console=True)
        if staff.role not in CONSOLE_ROLES:
            allowed = ", ".join(sorted(r.value for r in CONSOLE_ROLES))
            print(f"refused: the role {staff.role.value} comes only from a staff card login (console: {allowed})")
            with office.db.transaction() as s:
                audit.append(
                    s,
                    at=office.clock(),
                    actor=staff.subject,
                    action="staff.console_token_refused",
                    details={"role": staff.role.value},
                )
            return 2
        with office.db.transaction() as s:
            token = issue_token(s, staff, office.clock(), config.console_token_minutes)
            audit.append(
                s,
                at=office.clock(),
                actor=staff.subject,
                action="staff.console_token_issued",
                details={"role": staff.role.value, "console": True, "minutes": config.console_token_minutes},
            )
        print(token)
    elif args.command == "process-provisional":
        from central.provisional import process_envelopes

        print(process_envelopes(office))
    elif args.command == "verify-audit":
        with office.db.transaction() as s:
            print(f"audit log intact: {audit.verify_chain(s)} entries")
    elif args.command == "vacuum-poll-book":
        from central.pollbook import POLL_BOOK_TABLES, vacuum_poll_book

        vacuum_poll_book(office.db.engine)
        print("rewritten:", ", ".join(POLL_BOOK_TABLES) if office.db.is_postgres else "the database file")
    elif args.command == "serve":
        return serve(office)
    return 0


def serve(office: Office) -> int:
    """uvicorn with the office's limits for the open network (docs/central.md, "The office on the open network"):
    the request-head deadline and connection caps (``central.tls``), a TLS handshake deadline, body limits and
    strict JSON (``central.api.limits``), rate-limited logging (``central.ratelog``), and the file-descriptor limit
    raised so that the connection cap, not the kernel, is what refuses a flood."""
    import asyncio
    import resource

    import uvicorn

    from central import ratelog
    from central.api import create_app
    from central.proxy_protocol import proxied_server
    from central.tls import ConnectionLimits, TlsH11Protocol

    config = office.config
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = wanted
    spare = 256  # database connections, verification workers, log files
    fd_room = config.max_connections if soft == resource.RLIM_INFINITY else max(16, int(soft) - spare)
    TlsH11Protocol.limits = ConnectionLimits(
        head_timeout=config.head_timeout,
        max_anonymous=min(config.max_anonymous_connections, fd_room),
        max_connections=min(config.max_connections, fd_room),
    )
    tls: dict[str, object] = {}
    if config.tls is not None:
        tls = {
            "ssl_certfile": str(config.tls.cert),
            "ssl_keyfile": str(config.tls.key),
            "ssl_ca_certs": str(config.tls.kiosk_ca),
        }
    app = create_app(office)

    def uvicorn_config(port: int, cert_reqs: ssl.VerifyMode, *, lifespan: Literal["on", "off"]) -> uvicorn.Config:
        # No access log: one line per request, in order, with the client address, would keep the order of
        # check-ins and voted marks per kiosk (docs/sync-protocol.md, "Secrecy", point 3).
        return uvicorn.Config(
            app,
            host=config.host,
            port=port,
            log_level="info",
            access_log=False,
            http=TlsH11Protocol,
            loop="asyncio",
            lifespan=lifespan,
            timeout_keep_alive=5,
            timeout_graceful_shutdown=10,
            h11_max_incomplete_event_size=16 * 1024,
            **({**tls, "ssl_cert_reqs": cert_reqs} if tls else {}),  # type: ignore[arg-type]
        )

    # The main port takes clients with or without a certificate (browsers, staff, the public; kiosk routes need
    # one: central.api.limits). ``kiosk_port``, when set, is a second listener that requires the kiosk
    # certificate in the TLS handshake itself.
    servers = [uvicorn.Server(uvicorn_config(config.port, ssl.CERT_OPTIONAL, lifespan="on"))]
    if config.kiosk_port is not None and tls:
        servers.append(uvicorn.Server(uvicorn_config(config.kiosk_port, ssl.CERT_REQUIRED, lifespan="off")))
    ratelog.install()

    async def run_all() -> None:
        # uvicorn has no TLS handshake deadline (asyncio's default is 60 s per connection): the loop's
        # create_server gets one (only uvicorn creates servers in this process).
        loop = asyncio.get_running_loop()
        create_server = loop.create_server

        async def bounded(*args: Any, **kw: Any) -> asyncio.Server:
            if kw.get("ssl") is not None:
                kw.setdefault("ssl_handshake_timeout", config.head_timeout)
            return await create_server(*args, **kw)

        loop.create_server = bounded  # type: ignore[method-assign]
        if config.trusted_proxies:
            # Behind HAProxy with send-proxy-v2: the PROXY header is read before TLS, which the listener then
            # starts itself (``central.proxy_protocol``); the handshake keeps the same deadline.
            loop.create_server = proxied_server(  # type: ignore[method-assign]
                create_server, config.trusted_proxies, config.head_timeout
            )
        tasks = [asyncio.ensure_future(s.serve()) for s in servers]
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        for s in servers:  # one of them caught the signal: the others end too
            s.should_exit = True
        await asyncio.gather(*tasks)

    asyncio.run(run_all())
    return 0


if __name__ == "__main__":
    sys.exit(main())

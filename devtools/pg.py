"""A real, throw-away PostgreSQL 15 server for tests and benchmarks (shared: any area may reuse it).

Usage from a conftest.py::

    from devtools.pg import pg_server, pg_database  # noqa: F401  (re-exported fixtures)

    def test_x(pg_database: str) -> None:   # a SQLAlchemy URL of a fresh, empty database
        ...

- ``pg_server`` (session scope) runs ``initdb`` and ``pg_ctl start`` in a private temporary directory
  (data and Unix socket there, TCP on 127.0.0.1 on a free port, fsync/synchronous_commit/full_page_writes
  off because the data is thrown away). As root it runs the PostgreSQL binaries as the ``postgres`` user
  (initdb refuses root); as any other user it runs them directly. Stopped (``-m immediate``) and deleted
  at the end of the session. With pytest-xdist each worker gets its own server.
- ``pg_database`` (module scope) creates a fresh database on that server and drops it afterwards.
- Outside pytest: ``with PostgresServer.started() as server: url = server.create_database("x")``.

The binaries come from ``SANDUQ_PG_BIN`` or /usr/lib/postgresql/15/bin (Debian's ``postgresql`` package).
A missing PostgreSQL is an error, never a skip: these tests are the production database's tests.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

DEFAULT_PG_BIN = Path("/usr/lib/postgresql/15/bin")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class PostgresServer:
    """One running PostgreSQL cluster in a temporary directory, owned by this process."""

    def __init__(self, bin_dir: Path | None = None) -> None:
        self.bin_dir = bin_dir or Path(os.environ.get("SANDUQ_PG_BIN", str(DEFAULT_PG_BIN)))
        if not (self.bin_dir / "initdb").exists():
            raise RuntimeError(f"PostgreSQL binaries not found in {self.bin_dir} (install the 'postgresql' package)")
        self.root = Path(tempfile.mkdtemp(prefix="sanduq-pg-"))
        self.data = self.root / "data"
        self.port = _free_port()
        self._as_root = os.geteuid() == 0
        if self._as_root:
            shutil.chown(self.root, user="postgres", group="postgres")
        self.user = "postgres"

    def _run(self, *args: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if self._as_root else []
        result = subprocess.run([*prefix, *args], capture_output=True, text=True, check=False, timeout=120)
        if result.returncode != 0:
            raise RuntimeError(f"{args[0]} failed ({result.returncode}): {result.stderr.strip() or result.stdout}")

    def start(self) -> None:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D",
            str(self.data),
            "-U",
            self.user,
            "--auth=trust",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        options = (
            f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.root} "
            "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c log_min_messages=warning"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D",
            str(self.data),
            "-o",
            options,
            "-l",
            str(self.root / "server.log"),
            "-w",
            "-t",
            "60",
            "start",
        )
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"PostgreSQL did not listen on port {self.port}") from None
                time.sleep(0.05)

    def stop(self) -> None:
        with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.root, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        """A SQLAlchemy URL (psycopg 3 driver) for ``database`` on this server."""
        return f"postgresql+psycopg://{self.user}@127.0.0.1:{self.port}/{database}"

    def _admin(self, sql: str) -> None:
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=self.user, dbname="postgres", autocommit=True) as c:
            c.execute(sql.encode())  # names are generated here, never user input

    def create_database(self, name: str | None = None) -> str:
        name = name or f"t_{uuid.uuid4().hex[:12]}"
        if not name.replace("_", "").isalnum():
            raise ValueError(f"bad database name {name!r}")
        self._admin(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        name = url.rsplit("/", 1)[1]
        self._admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    @classmethod
    @contextlib.contextmanager
    def started(cls) -> Iterator[PostgresServer]:
        server = cls()
        try:
            server.start()
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PostgresServer]:
    with PostgresServer.started() as server:
        yield server


@pytest.fixture(scope="module")
def pg_database(pg_server: PostgresServer) -> Iterator[str]:
    url = pg_server.create_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)

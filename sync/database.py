"""The server-side database plumbing the central office and the vote collector share: one engine recipe
(SQLite pragmas for the embedded demo, a pre-pinged pool for PostgreSQL in production), the session factory,
the Alembic upgrade runner and the body of each application's ``migrations/env.py``.

Each application keeps its own models and migrations folder and passes them in; the kiosk's single-writer
SQLite store has other durability settings and keeps its own ``kiosk.store.db``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command, context
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, MetaData, create_engine, event, pool
from sqlalchemy.orm import Session, sessionmaker


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA secure_delete=ON")  # freed cells are zeroed: no old lock values left in pages
    cursor.close()


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine on ``url``: SQLite in WAL mode with foreign keys and secure delete, or a PostgreSQL pool."""
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True)


def alembic_config(migrations: Path, url: str) -> AlembicConfig:
    """The Alembic configuration for the migrations folder ``migrations`` against ``url``."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(migrations))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))  # ConfigParser interpolation
    return cfg


def migrate(migrations: Path, url: str, revision: str = "head") -> None:
    """Bring the schema at ``url`` to ``revision`` (creates every table on an empty database)."""
    command.upgrade(alembic_config(migrations, url), revision)


def run_env_migrations(target_metadata: MetaData) -> None:
    """The body of a ``migrations/env.py``: run the migrations online against the configured URL, in batch
    mode on SQLite (which cannot alter a table in place). Offline (SQL script) migrations are refused."""
    if context.is_offline_mode():
        raise RuntimeError("offline (SQL script) migrations are not supported")
    url = context.config.get_main_option("sqlalchemy.url")
    if url is None:
        raise RuntimeError("sqlalchemy.url is not set")
    engine = create_engine(url, poolclass=pool.NullPool)
    try:
        with engine.connect() as connection:
            context.configure(
                connection=connection, target_metadata=target_metadata, render_as_batch=url.startswith("sqlite")
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


class Database:
    """The engine plus a session factory; ``transaction()`` is one unit of work (commit or roll back)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)

    @property
    def is_postgres(self) -> bool:
        return self.engine.dialect.name == "postgresql"

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()

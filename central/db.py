"""The central office database: its Alembic migrations (``central/migrations``) and the shared engine and
session factory (``sync.database``).

PostgreSQL is production (and what the tests use); SQLite is the embedded default for the demo.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from alembic.config import Config as AlembicConfig

from sync import database
from sync.database import Database, make_engine

__all__ = ["MIGRATIONS", "Database", "alembic_config", "make_engine", "migrate"]

MIGRATIONS = Path(str(resources.files("central") / "migrations"))  # package data (Alembic needs a directory)


def alembic_config(url: str) -> AlembicConfig:
    return database.alembic_config(MIGRATIONS, url)


def migrate(url: str, revision: str = "head") -> None:
    """Bring the office's schema to ``revision`` (creates every table on an empty database)."""
    database.migrate(MIGRATIONS, url, revision)

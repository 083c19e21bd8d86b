"""Alembic environment of the vote collector: runs migrations online against the URL set by
``collector.db.alembic_config`` (the body is shared with the office: ``sync.database``)."""

from collector.models import Base
from sync.database import run_env_migrations

run_env_migrations(Base.metadata)

"""Alembic environment of the central office: runs migrations online against the URL set by
``central.db.alembic_config`` (the body is shared with the collector: ``sync.database``)."""

from central.models import Base
from sync.database import run_env_migrations

run_env_migrations(Base.metadata)

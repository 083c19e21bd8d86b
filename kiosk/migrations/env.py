"""Alembic environment for the kiosk database; run through kiosk.store.db.migrate (connection passed in)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from kiosk.store.models import Base


def run(connection: Connection) -> None:
    context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


_connection = context.config.attributes.get("connection")
if _connection is None:
    raise RuntimeError("run kiosk migrations through kiosk.store.db.migrate(engine)")
run(_connection)

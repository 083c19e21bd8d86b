"""coarse batch arrival times (issue 15, point 4)

``batches.received_at`` was kept to the microsecond: with the live check-ins (which the office necessarily sees)
it dated each batch against the voters at its kiosk. The office now keeps a batch's arrival to the minute
(``central.ingest.arrival_minute``); this revision truncates the times already stored. Entries of the office's
own audit log are not rewritten (they are hash-chained and append-only; new ``batch.received`` entries carry the
minute only). No schema change; the downgrade cannot restore the dropped precision and leaves the rows as they are.

Revision ID: 0008
Revises: 0007
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_batches = sa.table(
    "batches",
    sa.column("batch_id", sa.String(64)),
    sa.column("received_at", sa.DateTime(timezone=True)),
)


def upgrade() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.select(_batches.c.batch_id, _batches.c.received_at)).all()
    for batch_id, received_at in rows:
        if not isinstance(received_at, dt.datetime):
            continue
        coarse = received_at.replace(second=0, microsecond=0)
        if coarse != received_at:
            bind.execute(sa.update(_batches).where(_batches.c.batch_id == batch_id).values(received_at=coarse))


def downgrade() -> None:
    pass  # the seconds are gone by design

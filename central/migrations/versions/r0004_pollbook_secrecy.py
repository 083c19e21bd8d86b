"""poll-book secrecy: no per-check-in table, the check-in request's key on the lock, spent tokens keyed by kiosk

- ``checkin_replies`` (kiosk, idempotency key, HMAC of the civil number, reply with the lock's expiry to the
  microsecond, kept for every check-in for ever) is dropped: a retried check-in is answered from the live lock,
  identified by ``voters.lock_request`` (cleared with the lock).
- ``spent_tokens`` (token SHA-256 + kiosk id) becomes (keyed hash of kiosk and token, outcome), WITHOUT ROWID on
  SQLite. Old rows cannot be converted (the tokens are not stored): the table is recreated empty, so a voted
  mark or release sent before the upgrade and retried after it is answered ``unknown token``.

Revision ID: 0004
Revises: 0003
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.drop_table("checkin_replies")
    op.add_column("voters", sa.Column("lock_request", sa.String(length=64), nullable=True))
    op.create_index("ix_voters_lock_request", "voters", ["lock_request"], unique=True)
    op.drop_table("spent_tokens")
    op.create_table(
        "spent_tokens",
        sa.Column("spent_key", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("spent_key"),
        sqlite_with_rowid=False,
    )


def downgrade() -> None:
    op.drop_table("spent_tokens")
    op.create_table(
        "spent_tokens",
        sa.Column("token_sha256", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("token_sha256"),
    )
    op.drop_index("ix_voters_lock_request", table_name="voters")
    with op.batch_alter_table("voters") as batch:
        batch.drop_column("lock_request")
    op.create_table(
        "checkin_replies",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=32), nullable=False),
        sa.Column("request_mac", sa.String(length=64), nullable=True),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "idempotency_key"),
    )

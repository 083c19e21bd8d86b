"""Initial kiosk schema: kiosk, checkins, ballots, outbox, audit_log, audit_head.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kiosk",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("kiosk_id", sa.String(64), nullable=False),
        sa.Column("centre_id", sa.String(64), nullable=False),
        sa.Column("polls_state", sa.String(16), nullable=False),
        sa.Column("chain_head", sa.String(64), nullable=False),
        sa.Column("audit_synced_through", sa.Integer(), nullable=False),
    )
    op.create_table(
        "checkins",
        sa.Column("token", sa.String(64), primary_key=True),
        sa.Column("ballot_style_id", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("release_reason", sa.String(32), nullable=True),
        sa.Column("synced", sa.Boolean(), nullable=False),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "ballots",
        sa.Column("ballot_id", sa.String(128), primary_key=True),
        sa.Column("disposition", sa.String(16), nullable=False),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("ballot_hash", sa.String(64), nullable=False),
        sa.Column("batch_id", sa.String(32), nullable=True),
        sqlite_with_rowid=False,
    )
    op.create_index("ix_ballots_batch_id", "ballots", ["batch_id"])
    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("idempotency_key", sa.String(32), nullable=False, unique=True),
        sa.Column("body", sa.LargeBinary(), nullable=False),
        sa.Column("sent", sa.Boolean(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_unsent", "outbox", ["sent", "seq"])
    op.create_table(
        "audit_log",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("entry_hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(200), nullable=False),
    )


def downgrade() -> None:
    for table in ("audit_head", "audit_log", "outbox", "ballots", "checkins", "kiosk"):
        op.drop_table(table)

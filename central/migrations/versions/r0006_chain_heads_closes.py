"""kiosks' signed chain heads and closes (issue 14 point 1)

- ``kiosk_chain_heads``: the kiosk-signed chain head carried by each accepted batch (statement with signature);
- ``kiosk_chain_closes``: each kiosk-signed chain close, by (kiosk, close_seq).

Point 12 (verified audit segments) needs no schema change.

Revision ID: 0006
Revises: 0005
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "kiosk_chain_heads",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("links", sa.Integer(), nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_index("ix_kiosk_chain_heads_kiosk_id", "kiosk_chain_heads", ["kiosk_id"])
    op.create_table(
        "kiosk_chain_closes",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("close_seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "close_seq"),
    )


def downgrade() -> None:
    op.drop_table("kiosk_chain_closes")
    op.drop_index("ix_kiosk_chain_heads_kiosk_id", table_name="kiosk_chain_heads")
    op.drop_table("kiosk_chain_heads")

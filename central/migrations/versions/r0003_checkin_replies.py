"""check-in replies kept by (kiosk, idempotency key), so a retried check-in gets the same answer

Revision ID: 0003
Revises: 0002
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "checkin_replies",
        sa.Column("kiosk_id", sa.String(length=64), nullable=False),
        sa.Column("idempotency_key", sa.String(length=32), nullable=False),
        sa.Column("request_mac", sa.String(length=64), nullable=True),
        sa.Column("response", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id", "idempotency_key"),
    )


def downgrade() -> None:
    op.drop_table("checkin_replies")

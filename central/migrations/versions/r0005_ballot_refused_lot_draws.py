"""ballot status ``refused`` (refused at ingest) apart from ``rejected`` (the committee's decision); lot draws

- ``ballots.status``: a ballot refused at ingest (proofs, chain, style) was stored as ``rejected``, like a flagged
  ballot the committee decided not to count; the two were told apart by the committee's text prefix of the
  reason (``committee (reject): ...``). Refused ballots become ``refused``; ``rejected`` is left to the
  committee's decisions. The column is a VARCHAR(24) without a CHECK constraint (non-native enum): only data
  changes.
- ``lot_draws``: the outcome of the drawing of lots for the last seat(s) of a tied contest, recorded by a committee
  member after results (one row per contest).

Revision ID: 0005
Revises: 0004
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        "UPDATE ballots SET status = 'refused' "
        "WHERE status = 'rejected' AND (reason IS NULL OR reason NOT LIKE 'committee (%')"
    )
    op.create_table(
        "lot_draws",
        sa.Column("contest_id", sa.String(length=64), nullable=False),
        sa.Column("tied", sa.JSON(), nullable=False),
        sa.Column("winners", sa.JSON(), nullable=False),
        sa.Column("seats", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=128), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("results_id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("contest_id"),
    )


def downgrade() -> None:
    op.drop_table("lot_draws")
    op.execute("UPDATE ballots SET status = 'rejected' WHERE status = 'refused'")

"""collector: initial schema (challenges, credentials, submissions, in-person voters)

Revision ID: c0001
Revises:
Create Date: 2026-12-02 15:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "c0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "challenges",
        sa.Column("challenge_id", sa.String(length=32), nullable=False),
        sa.Column("nonce", sa.LargeBinary(length=32), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("challenge_id"),
    )
    op.create_index("ix_challenges_expires_at", "challenges", ["expires_at"])
    op.create_table(
        "credentials",
        sa.Column("credential", sa.String(length=64), nullable=False),
        sa.Column("civil_number", sa.String(length=16), nullable=False),
        sa.Column("style_id", sa.String(length=128), nullable=False),
        sa.Column("voter_group", sa.String(length=16), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("voided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("void_reason", sa.String(length=16), nullable=True),
        sa.PrimaryKeyConstraint("credential"),
    )
    op.create_index("ix_credentials_civil_number", "credentials", ["civil_number"])
    op.create_index(
        "ix_credentials_live_voter",
        "credentials",
        ["civil_number"],
        unique=True,
        sqlite_where=sa.text("voided_at IS NULL"),
        postgresql_where=sa.text("voided_at IS NULL"),
    )
    op.create_table(
        "submissions",
        sa.Column("submission_id", sa.String(length=32), nullable=False),
        sa.Column("credential", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("ballot_id", sa.String(length=128), nullable=False),
        sa.Column("ballot_hash", sa.String(length=64), nullable=False),
        sa.Column("ballot_json", sa.Text(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("body_digest", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fetches", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["credential"], ["credentials.credential"]),
        sa.PrimaryKeyConstraint("submission_id"),
        sa.UniqueConstraint("ballot_id"),
        sa.UniqueConstraint("credential", "sequence", name="uq_submissions_credential_sequence"),
    )
    op.create_index("ix_submissions_credential", "submissions", ["credential"])
    op.create_table(
        "in_person",
        sa.Column("civil_number", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("civil_number"),
    )


def downgrade() -> None:
    op.drop_table("in_person")
    op.drop_index("ix_submissions_credential", table_name="submissions")
    op.drop_table("submissions")
    op.drop_index("ix_credentials_live_voter", table_name="credentials")
    op.drop_index("ix_credentials_civil_number", table_name="credentials")
    op.drop_table("credentials")
    op.drop_index("ix_challenges_expires_at", table_name="challenges")
    op.drop_table("challenges")

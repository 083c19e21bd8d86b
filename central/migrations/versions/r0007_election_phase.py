"""the election's phases, staff sessions, manual sheet entitlements (issue 14 points 5-11)

- ``election_phase``: one row, the election's phase (central.phase) and the frozen encrypted tally's hash;
- ``centre_status.phase``: open, closing, closed (a centre closed before this revision is ``closed``);
- ``staff_tokens.cert_serial`` (checked against the CRL on every request) and ``staff_tokens.console``;
  tokens issued before are deleted (staff log in again with their cards);
- ``manual_sheets``: a reason and the corrected sheet that replaced it; the unique constraint on (source,
  contest, status) (two rejected sheets for one source made an HTTP 500) becomes a partial unique index on the
  live sheets (pending or approved);
- ``office_audit_heads``: the audit chain head signed by the office at each phase transition;
- PostgreSQL only: the service role (``sanduq_service`` unless the Alembic option ``service_role`` names
  another) may read and write the office's tables but only SELECT and INSERT on ``audit_log``; the tables stay
  owned by the role that runs the migrations, so the service cannot DISABLE TRIGGER, ALTER or TRUNCATE them.
  The poll-book tables that ``vacuum-poll-book`` rewrites (VACUUM FULL needs the owner) are owned by the service.

Revision ID: 0007
Revises: 0006
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import context, op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DEFAULT_SERVICE_ROLE = "sanduq_service"
POLL_BOOK_TABLES = ("voters", "spent_tokens", "turnout_buckets", "provisional_envelopes")


def service_role() -> str:
    role = context.config.get_main_option("service_role") or DEFAULT_SERVICE_ROLE
    if not role.replace("_", "").isalnum():
        raise ValueError(f"service_role {role!r}: letters, digits and _ only")
    return role


def upgrade() -> None:
    op.create_table(
        "election_phase",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("phase", sa.String(length=24), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tally_hash", sa.String(length=64), nullable=True),
        sa.Column("frozen_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "office_audit_heads",
        sa.Column("seq", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("statement", sa.JSON(), nullable=False),
        sa.Column("signature", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("centre_status") as batch:
        batch.add_column(sa.Column("phase", sa.String(length=16), nullable=False, server_default="open"))
    op.execute("UPDATE centre_status SET phase = 'closed' WHERE closed_at IS NOT NULL")
    op.execute("DELETE FROM staff_tokens")  # a token from before has no card serial to check: log in again
    with op.batch_alter_table("staff_tokens") as batch:
        batch.add_column(sa.Column("cert_serial", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("console", sa.Boolean(), nullable=False, server_default=sa.false()))
    with op.batch_alter_table("manual_sheets") as batch:
        batch.add_column(sa.Column("reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("replaced_by", sa.Integer(), nullable=True))
        batch.drop_constraint("uq_sheet_state", type_="unique")
    live = sa.text("status IN ('pending', 'approved')")
    op.create_index(
        "uq_sheet_live",
        "manual_sheets",
        ["source_kind", "source_id", "contest_id"],
        unique=True,
        sqlite_where=live,
        postgresql_where=live,
    )
    if op.get_bind().dialect.name == "postgresql":
        _grant(service_role())


def _grant(role: str) -> None:
    op.execute(
        f"DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '{role}') THEN "
        f"CREATE ROLE {role} NOLOGIN; END IF; END $$"
    )
    op.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
    op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
    op.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}")
    op.execute(f"REVOKE UPDATE, DELETE, TRUNCATE ON audit_log FROM {role}")
    op.execute(f"REVOKE DELETE, TRUNCATE ON audit_head, office_audit_heads, alembic_version FROM {role}")
    op.execute(f"REVOKE UPDATE ON office_audit_heads FROM {role}")  # signed heads are only ever appended
    op.execute(f"REVOKE INSERT, UPDATE ON alembic_version FROM {role}")
    op.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {role}")
    # Tables and sequences later revisions create: the same rights (audit_log keeps its own, set above).
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {role}")
    op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO {role}")
    for table in POLL_BOOK_TABLES:
        op.execute(f"ALTER TABLE {table} OWNER TO {role}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        role = service_role()
        for table in POLL_BOOK_TABLES:
            op.execute(f"ALTER TABLE {table} OWNER TO CURRENT_USER")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON TABLES FROM {role}")
        op.execute(f"ALTER DEFAULT PRIVILEGES IN SCHEMA public REVOKE ALL ON SEQUENCES FROM {role}")
        op.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE ALL ON ALL SEQUENCES IN SCHEMA public FROM {role}")
        op.execute(f"REVOKE USAGE ON SCHEMA public FROM {role}")
    op.drop_index("uq_sheet_live", table_name="manual_sheets")
    with op.batch_alter_table("manual_sheets") as batch:
        batch.create_unique_constraint("uq_sheet_state", ["source_kind", "source_id", "contest_id", "status"])
        batch.drop_column("replaced_by")
        batch.drop_column("reason")
    with op.batch_alter_table("staff_tokens") as batch:
        batch.drop_column("console")
        batch.drop_column("cert_serial")
    with op.batch_alter_table("centre_status") as batch:
        batch.drop_column("phase")
    op.drop_table("office_audit_heads")
    op.drop_table("election_phase")

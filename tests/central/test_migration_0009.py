"""Migration 0009 on SQLite and PostgreSQL: ``ballots.previous_code`` (NULL for every ballot since the batch chain)
is dropped with the ballots and their indexes kept, the office's model stores ballots in the migrated table, and
the downgrade brings the column back, empty."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, select, text
from sqlalchemy.orm import Session

from central.db import alembic_config, migrate
from central.models import Ballot, BallotStatus
from devtools.pg import PostgresServer


def _columns(url: str) -> set[str]:
    engine = create_engine(url)
    out = {c["name"] for c in inspect(engine).get_columns("ballots")}
    engine.dispose()
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0009_drops_previous_code_keeps_ballots(backend: str, tmp_path: Path, pg_server: PostgresServer) -> None:
    url = f"sqlite:///{tmp_path / 'office.db'}" if backend == "sqlite" else pg_server.create_database()
    migrate(url, "0008")
    assert "previous_code" in _columns(url)
    engine = create_engine(url)
    with engine.begin() as c:
        c.execute(
            text(
                "INSERT INTO ballots (ballot_id, kiosk_id, style_id, confirmation_code, previous_code, status, "
                "provisional, spoiled, payload) VALUES ('b-old', 'K-1', 'BS-1', 'c0de', NULL, 'accepted', false, "
                "false, '{}')"
            )
        )
    engine.dispose()

    migrate(url)
    assert "previous_code" not in _columns(url)
    engine = create_engine(url)
    indexes = {i["name"] for i in inspect(engine).get_indexes("ballots")}
    assert {"ix_ballots_confirmation_code", "ix_ballots_kiosk_id", "ix_ballots_status"} <= indexes
    with Session(engine) as s, s.begin():
        s.add(Ballot(ballot_id="b-new", kiosk_id="K-1", style_id="BS-1", confirmation_code="c0de2",
                     status=BallotStatus.ACCEPTED, payload={}))  # fmt: skip
    with Session(engine) as s:
        held = {b.ballot_id: b.confirmation_code for b in s.scalars(select(Ballot))}
    engine.dispose()
    assert held == {"b-old": "c0de", "b-new": "c0de2"}

    command.downgrade(alembic_config(url), "0008")
    assert "previous_code" in _columns(url)
    engine = create_engine(url)
    with engine.connect() as c:
        rows = c.execute(text("SELECT ballot_id, previous_code FROM ballots ORDER BY ballot_id")).all()
    engine.dispose()
    assert [tuple(r) for r in rows] == [("b-new", None), ("b-old", None)]

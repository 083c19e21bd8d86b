"""Migration 0005 on SQLite and PostgreSQL: ballots refused at ingest (stored as ``rejected`` before) become
``refused``; the committee's rejections stay ``rejected``; the lot-draw table appears; downgrade restores both."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from central.db import alembic_config, migrate
from devtools.pg import PostgresServer

ROWS = {
    "b-refused": "proof check failed: range proof of selection C-1",
    "b-chain": "confirmation-code chain broken (code or previous code wrong)",
    "b-committee": "committee (reject): no check-in for this ballot (sheet 4)",
}


def _statuses(url: str) -> dict[str, str]:
    engine = create_engine(url)
    with engine.connect() as c:
        out = {str(r[0]): str(r[1]) for r in c.execute(text("SELECT ballot_id, status FROM ballots"))}
    engine.dispose()
    return out


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0005_tells_refused_from_committee_rejected(backend: str, tmp_path: Path, pg_server: PostgresServer) -> None:
    url = f"sqlite:///{tmp_path / 'office.db'}" if backend == "sqlite" else pg_server.create_database()
    migrate(url, "0004")
    engine = create_engine(url)
    with engine.begin() as c:
        for ballot_id, reason in ROWS.items():
            c.execute(
                text(
                    "INSERT INTO ballots (ballot_id, kiosk_id, style_id, status, reason, provisional, spoiled, "
                    "payload) VALUES (:id, 'K-1', 'BS-1', 'rejected', :reason, false, false, '{}')"
                ),
                {"id": ballot_id, "reason": reason},
            )
        c.execute(
            text(
                "INSERT INTO ballots (ballot_id, kiosk_id, style_id, status, provisional, spoiled, payload) "
                "VALUES ('b-ok', 'K-1', 'BS-1', 'accepted', false, false, '{}')"
            )
        )
    engine.dispose()
    migrate(url)
    assert _statuses(url) == {
        "b-refused": "refused",
        "b-chain": "refused",
        "b-committee": "rejected",
        "b-ok": "accepted",
    }
    engine = create_engine(url)
    assert "lot_draws" in inspect(engine).get_table_names()
    engine.dispose()
    command.downgrade(alembic_config(url), "0004")
    assert set(_statuses(url).values()) == {"rejected", "accepted"}
    engine = create_engine(url)
    assert "lot_draws" not in inspect(engine).get_table_names()
    engine.dispose()

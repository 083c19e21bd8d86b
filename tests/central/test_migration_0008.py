"""Migration 0008 on SQLite and PostgreSQL: batch arrival times already stored are cut to the minute; a batch the
office receives afterwards is stored with the minute only (``central.ingest.arrival_minute``)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from central.db import migrate
from central.ingest import arrival_minute
from devtools.pg import PostgresServer

AT = dt.datetime(2026, 10, 27, 9, 41, 27, 123456, tzinfo=dt.UTC)


def _times(url: str) -> dict[str, dt.datetime]:
    engine = create_engine(url)
    with engine.connect() as c:
        out = {str(b): t for b, t in c.execute(text("SELECT batch_id, received_at FROM batches"))}
    engine.dispose()
    return out


def _naive(t: object) -> dt.datetime:
    value = t if isinstance(t, dt.datetime) else dt.datetime.fromisoformat(str(t))
    return value.astimezone(dt.UTC).replace(tzinfo=None) if value.tzinfo else value


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_0008_keeps_batch_arrivals_to_the_minute(backend: str, tmp_path: Path, pg_server: PostgresServer) -> None:
    url = f"sqlite:///{tmp_path / 'office.db'}" if backend == "sqlite" else pg_server.create_database()
    migrate(url, "0007")
    engine = create_engine(url)
    with engine.begin() as c:
        for i, at in enumerate((AT, AT.replace(second=0, microsecond=0), AT + dt.timedelta(seconds=59))):
            c.execute(
                text(
                    "INSERT INTO batches (batch_id, kiosk_id, body_sha256, received_at, response) "
                    "VALUES (:id, 'K-1', :sha, :at, '{}')"
                ),
                {"id": f"b{i}", "sha": "0" * 64, "at": at},
            )
    engine.dispose()
    migrate(url)
    times = {b: _naive(t) for b, t in _times(url).items()}
    assert times == {
        "b0": dt.datetime(2026, 10, 27, 9, 41),
        "b1": dt.datetime(2026, 10, 27, 9, 41),
        "b2": dt.datetime(2026, 10, 27, 9, 42),
    }
    assert arrival_minute(AT) == dt.datetime(2026, 10, 27, 9, 41, tzinfo=dt.UTC)

"""Fixtures of the secrecy tests: a real PostgreSQL (devtools/pg.py) and the small demo election (real key
ceremony, test PKI, the office's envelope key) that the real central office (devtools/real_office.py) serves."""

from __future__ import annotations

import pytest

from devtools.pg import pg_database, pg_server
from devtools.real_office import RealElection, build_election


@pytest.fixture(scope="session")
def real_election(tmp_path_factory: pytest.TempPathFactory) -> RealElection:
    return build_election(tmp_path_factory.mktemp("real-election"))


__all__ = ["pg_database", "pg_server"]

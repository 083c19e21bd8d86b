"""Fixtures of the multi-instance tests: a real PostgreSQL (devtools.pg) and the real small election."""

from __future__ import annotations

import pytest

from devtools.pg import pg_database, pg_server  # noqa: F401  (re-exported fixtures)
from devtools.real_office import RealElection, build_election


@pytest.fixture(scope="session")
def real_election(tmp_path_factory: pytest.TempPathFactory) -> RealElection:
    return build_election(tmp_path_factory.mktemp("real-election"))

"""Shared fixtures for the election core's tests: a fixed small manifest and small key ceremonies (TEST MATERIAL)."""

from __future__ import annotations

import pytest

from devtools.sample_election import GuardianSecrets, run_key_ceremony
from devtools.sample_record import SeededRandom, build_test_manifest
from election.context import ElectionContext
from election.keyceremony import GuardianRecord
from election.manifest import Manifest


@pytest.fixture(scope="session")
def manifest() -> Manifest:
    return build_test_manifest()


@pytest.fixture(scope="session")
def ceremony_5_3(manifest: Manifest) -> tuple[ElectionContext, list[GuardianRecord], list[GuardianSecrets]]:
    return run_key_ceremony(manifest.manifest_hash, 5, 3, SeededRandom(53))


@pytest.fixture(scope="session")
def context(ceremony_5_3):
    return ceremony_5_3[0]


@pytest.fixture(scope="session")
def secret_key(ceremony_5_3):
    """The joint secret (sum of the guardians' secrets): only tests ever hold it."""
    total = ceremony_5_3[2][0].secret
    for g in ceremony_5_3[2][1:]:
        total = total + g.secret
    return total

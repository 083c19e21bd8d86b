"""Fixtures: the collector's (real collector over TLS, the remote election, its card PKI) and the card harness's
(an isolated pcscd with vpcd and the virtual card: tests/conftest.py, one per process)."""

from tests.collector.conftest import clock, collector, remote_election, served  # noqa: F401

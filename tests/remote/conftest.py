"""Fixtures: the collector's (real collector over TLS, the remote election, its card PKI) and the card harness's
(an isolated pcscd with vpcd and the virtual card)."""

from devtools.virtual_card.pytest_fixtures import pcsc, pcsc_harness  # noqa: F401
from tests.collector.conftest import clock, collector, remote_election, served  # noqa: F401

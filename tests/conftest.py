"""Fixtures of the whole suite.

``pcsc_harness`` / ``pcsc`` (devtools/virtual_card/pytest_fixtures.py) are defined here once, for every directory:
libpcsclite reads its socket path once per process, so a process has exactly one harness (each pytest-xdist
worker its own). A second definition in a directory's conftest.py would be a second session fixture, a second
harness in the same process taking over the first one's socket directory (the harness refuses that).
"""

from devtools.virtual_card.pytest_fixtures import pcsc, pcsc_harness

__all__ = ["pcsc", "pcsc_harness"]

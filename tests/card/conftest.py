"""The card PKI and its trust anchors; ``pcsc``/``pcsc_harness`` come from tests/conftest.py (one per process)."""

from devtools.virtual_card.pytest_fixtures import card_anchors, card_pki  # noqa: F401

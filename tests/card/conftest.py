from devtools.virtual_card.pytest_fixtures import card_anchors, card_pki, pcsc, pcsc_harness  # noqa: F401

from __future__ import annotations

import re

from election.ballot import PlaintextBallot, encrypt_ballot
from election.confirmation import confirmation_code, genesis_code
from election.manifest import BallotStyleId


def test_codes_chain_per_kiosk(manifest, context) -> None:
    plain = PlaintextBallot(BallotStyleId("style-W3"), {})
    b1 = encrypt_ballot(context, manifest, plain, ballot_id="b1", seed=b"\x01" * 32)
    b2 = encrypt_ballot(context, manifest, plain, ballot_id="b2", seed=b"\x02" * 32)
    g1, g2 = genesis_code(context.base_hash, "K1"), genesis_code(context.base_hash, "K2")
    assert g1 != g2
    c1 = confirmation_code(g1, "K1", b1)
    c2 = confirmation_code(c1, "K1", b2)
    assert c2 != confirmation_code(g1, "K1", b2)  # order matters
    assert confirmation_code(g2, "K2", b1).digest != c1.digest  # kiosk matters
    assert re.fullmatch(r"[A-Z2-7]{4}(-[A-Z2-7]{4}){3}", c1.short)
    assert c1.qr_payload() == f"SANDUQ1:b1:{c1.hex()}"

"""Staff card login for tests: the card's key signs the office's challenge (as the card would on the reader)."""

from __future__ import annotations

import base64
from typing import Any

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from central.auth import STAFF_LOGIN_PREFIX


def login(http: Any, pki: Any, staff_id: str) -> dict[str, str]:
    r = attempt_login(http, pki, staff_id)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def attempt_login(http: Any, pki: Any, staff_id: str) -> Any:
    """The raw answer of the office to a card login (200 with a token, or a refusal)."""
    card = pki.card(staff_id).auth
    nonce = http.post("/api/staff/challenge").json()["nonce"]
    key = card.key()
    assert isinstance(key, ec.EllipticCurvePrivateKey)
    signature = key.sign(STAFF_LOGIN_PREFIX + nonce.encode(), ec.ECDSA(hashes.SHA256()))
    return http.post(
        "/api/staff/login",
        json={
            "certificate_pem": card.cert().public_bytes(Encoding.PEM).decode(),
            "nonce": nonce,
            "signature": base64.b64encode(signature).decode(),
        },
    )


def publish_results(http: Any, office: Any, election: Any, admin: dict[str, str], guardians: list[int]) -> Any:
    """The guardians in ``guardians`` (any quorum) decrypt the office's final tally and upload their shares; an
    administrator publishes the results (decryption, record, independent verifier). Returns the results JSON."""
    import os

    from central.closing import encrypted_tally
    from devtools.sample_election import decrypt_with

    tally = encrypted_tally(office)
    _, shares = decrypt_with(election.context, election.manifest, tally, election.secrets, guardians, os.urandom)
    for share in shares:
        assert http.post("/api/guardian-shares", json=share.to_dict(), headers=admin).status_code == 200
    published = http.post("/api/results", headers=admin)
    assert published.status_code == 200, published.text
    return published.json()

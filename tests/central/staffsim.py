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

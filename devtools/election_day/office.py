"""The central office as the election day's operators use it: its configuration, its CLI, and staff actions
over HTTPS with a staff card's key signing the login challenge (as the card would on the office's reader)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import requests
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding

from central.auth import STAFF_LOGIN_PREFIX


def write_config(
    path: Path, *, db: Path, election_dir: Path, record_dir: Path, port: int, pki: Path,
    remote: tuple[str, Path, Path, Path] | None = None,
) -> None:  # fmt: skip
    """A central.toml for the demo (SQLite, mutual TLS with the test PKI's certificates). ``remote``: the vote
    collector's internal listener (url, the office's client certificate and key, the CA of the collector's
    certificate): the check-in asks it whether the voter voted remotely, the voted mark voids the credential."""
    text = f"""# Written by devtools.election_day (the demo's central office). TEST MATERIAL paths.
[database]
url = "sqlite:///{db.resolve()}"

[election]
dir = "{election_dir.resolve()}"
record_dir = "{record_dir.resolve()}"
envelope_private_key = "{(election_dir / "envelope-key.TEST.hex").resolve()}"

[server]
host = "127.0.0.1"
port = {port}
tls_cert = "{(pki / "central" / "server-cert.pem").resolve()}"
tls_key = "{(pki / "central" / "server-key.TEST.pem").resolve()}"
kiosk_ca = "{(pki / "roots" / "kiosk-ca" / "ca.pem").resolve()}"
staff_ca = "{(pki / "roots" / "staff-ca" / "ca.pem").resolve()}"

[manual]
# Embassies whose manual sheets (Art. 9, voters abroad) the office accepts.
embassies = ["EMB-LONDON"]

[policy]
checkin_lock_seconds = 600
turnout_bucket_minutes = 15
staff_token_minutes = 720
"""
    if remote is not None:
        url, cert, key, ca = remote
        text += f"""
[remote]
url = "{url}"
client_cert = "{cert.resolve()}"
client_key = "{key.resolve()}"
ca = "{ca.resolve()}"
"""
    path.write_text(text, encoding="utf-8")


class OfficeClient:
    """HTTPS client of the office's staff and public API; the office CA is the only trust root."""

    def __init__(self, base_url: str, central_ca: Path) -> None:
        self.base = base_url.rstrip("/")
        self.http = requests.Session()
        self.http.verify = str(central_ca)
        self.http.trust_env = False
        self.tokens: dict[str, str] = {}

    def login(self, pki: Any, staff_id: str) -> dict[str, str]:
        if staff_id not in self.tokens:
            card = pki.card(staff_id).auth
            nonce = self.http.post(f"{self.base}/api/staff/challenge", timeout=10).json()["nonce"]
            key = card.key()
            assert isinstance(key, ec.EllipticCurvePrivateKey)
            signature = key.sign(STAFF_LOGIN_PREFIX + nonce.encode(), ec.ECDSA(hashes.SHA256()))
            r = self.http.post(
                f"{self.base}/api/staff/login",
                json={
                    "certificate_pem": card.cert().public_bytes(Encoding.PEM).decode(),
                    "nonce": nonce,
                    "signature": base64.b64encode(signature).decode(),
                },
                timeout=10,
            )
            r.raise_for_status()
            self.tokens[staff_id] = r.json()["token"]
        return {"Authorization": f"Bearer {self.tokens[staff_id]}"}

    def post(self, pki: Any, staff_id: str, path: str, body: Any = None, timeout: float = 120) -> Any:
        r = self.http.post(f"{self.base}{path}", json=body or {}, headers=self.login(pki, staff_id), timeout=timeout)
        if r.status_code >= 400:
            raise RuntimeError(f"POST {path} as {staff_id}: HTTP {r.status_code} {r.text[:300]}")
        return r.json()

    def get(self, path: str) -> Any:
        r = self.http.get(f"{self.base}{path}", timeout=30)
        r.raise_for_status()
        return r.json() if "json" in r.headers.get("content-type", "") else r.text


def read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))

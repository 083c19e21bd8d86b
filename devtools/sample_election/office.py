"""TEST MATERIAL: the ``office/`` part of a sample record (``devtools.sample_election.build_sample_record``): an office
key, a self-signed certificate and one signed audit head per phase transition (open, closed, tally frozen, decrypting,
published), the frozen tally's hash from the freeze on, as ``election.verify.office_audit`` reads them. A real
record carries the heads the office signed as its audit log grew (``central.audit``, ``central.results``)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
from collections.abc import Callable
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from election.canonical import canonical_json, json_hash
from election.manifest import Manifest
from election.tally import EncryptedTally
from election.verify.office_audit import CERTIFICATE, FINAL, HEAD_FORMAT, HEADS, PHASES, SIGNING_PREFIX

_NOT_BEFORE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_NOT_AFTER = dt.datetime(2036, 1, 1, tzinfo=dt.UTC)


def write_sample_office_part(
    out: Path, manifest: Manifest, tally: EncryptedTally, random_bytes: Callable[[int], bytes]
) -> None:
    """Write ``office/audit_heads.json`` and ``office/office_certificate.pem`` under the record ``out``."""
    key = Ed25519PrivateKey.from_private_bytes(random_bytes(32))
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Sanduq sample office"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "TEST MATERIAL")])  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(random_bytes(8), "big") | 1)
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .sign(key, None)
    )
    frozen = json_hash(tally.to_dict())
    heads = []
    start = dt.datetime.combine(manifest.date, manifest.polls_close, tzinfo=dt.UTC)
    for seq, phase in enumerate((*PHASES, FINAL), start=1):
        statement = {
            "format": HEAD_FORMAT,
            "election_id": str(manifest.election_id),
            "manifest_hash": manifest.manifest_hash,
            "seq": seq,
            "entry_hash": hashlib.sha256(f"sample audit entry {seq}".encode()).hexdigest(),
            "at": (start + dt.timedelta(minutes=seq)).isoformat(),
            "phase": phase,
            "tally_hash": frozen if phase not in ("open", "closed") else None,
        }
        signature = key.sign(SIGNING_PREFIX + canonical_json(statement))
        heads.append({"statement": statement, "signature": base64.b64encode(signature).decode("ascii")})
    (out / "office").mkdir(parents=True, exist_ok=True)
    (out / HEADS).write_bytes(canonical_json({"heads": heads}) + b"\n")
    (out / CERTIFICATE).write_bytes(cert.public_bytes(Encoding.PEM))

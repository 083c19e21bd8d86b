"""Check ``office-audit``: the office's audit chain heads, signed by the office at each phase transition
(docs/election-record.md, "The office's audit heads"; issue 14 point 11).

``office/audit_heads.json`` is ``{"heads": [{"statement": {...}, "signature": base64}, ...]}``; each statement is
exactly ``{"format": "sanduq-office-audit-head:v1", "election_id", "manifest_hash", "seq", "entry_hash", "at",
"phase", "tally_hash"}`` and its signature is the office key's signature (Ed25519, or ECDSA P-256 / SHA-256, DER)
over ``b"sanduq-office-audit-head:v1:" + canonical_json(statement)``; the key is the one of
``office/office_certificate.pem``. The check requires: every signature verifies; the statements name this
election (its id and manifest hash); ``seq`` strictly increases and ``entry_hash`` is 64 hex digits; the phases are
exactly ``open, closed, tally_frozen, decrypting`` in that order, optionally followed by ``published`` (one head
per transition); ``tally_hash`` is null before ``tally_frozen`` and, from it on, always the same value, equal to
``json_hash`` of ``tally/encrypted_tally.json`` (the tally the record publishes is the one the office froze).

What the check cannot see: that the certificate is the office's. The summary names the certificate's SHA-256
fingerprint and subject; an observer compares them with the office certificate the election package or the
commission published (docs/central.md, "The office's signed audit heads"), and compares the heads with the ones
it fetched during the day (``GET /api/public/audit-heads``): a rewritten audit log needs different heads.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from typing import TYPE_CHECKING

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding

from election.canonical import canonical_json, json_hash
from election.verify.parts import Progress
from election.verify.primitives import Invalid, obj
from election.verify.strict_json import load

if TYPE_CHECKING:
    from election.verify.state import State

HEADS = "office/audit_heads.json"
CERTIFICATE = "office/office_certificate.pem"
HEAD_FORMAT = "sanduq-office-audit-head:v1"
SIGNING_PREFIX = b"sanduq-office-audit-head:v1:"
STATEMENT_KEYS = ["format", "election_id", "manifest_hash", "seq", "entry_hash", "at", "phase", "tally_hash"]
PHASES = ("open", "closed", "tally_frozen", "decrypting")
FINAL = "published"
FROZEN_FROM = PHASES.index("tally_frozen")
_HEX64 = re.compile(r"[0-9a-f]{64}")


def _certificate(s: State) -> x509.Certificate:
    path = s.root / CERTIFICATE
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise Invalid(f"missing file {CERTIFICATE}") from None
    if not raw.strip():
        raise Invalid(f"{CERTIFICATE} is empty: the office signed no audit head (it has no signing key)")
    try:
        return x509.load_pem_x509_certificate(raw)
    except ValueError:
        raise Invalid(f"{CERTIFICATE}: not a PEM certificate") from None


def _verify(cert: x509.Certificate, signature: bytes, data: bytes) -> bool:
    key = cert.public_key()
    try:
        if isinstance(key, Ed25519PublicKey):
            key.verify(signature, data)
        elif isinstance(key, ec.EllipticCurvePublicKey) and isinstance(key.curve, ec.SECP256R1):
            key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            raise Invalid(f"{CERTIFICATE}: the office key must be Ed25519 or ECDSA P-256")
    except InvalidSignature:
        return False
    return True


def check_office_audit(s: State, progress: Progress) -> str:
    """The signed audit heads (see the module docstring)."""
    cert = _certificate(s)
    raw = load(s.root / HEADS, HEADS)
    heads = obj(raw, ["heads"], HEADS)["heads"]
    if not isinstance(heads, list) or not heads:
        raise Invalid(f"{HEADS}: no signed head")
    try:
        tally = load(s.root / "tally" / "encrypted_tally.json", "tally/encrypted_tally.json")
    except Invalid as exc:
        raise Invalid(f"no frozen tally to compare: {exc}") from None
    record_tally_hash = json_hash(tally)
    phases: list[str] = []
    last_seq = -1
    frozen: str | None = None
    for i, item in enumerate(heads, start=1):
        progress(i, len(heads))
        where = f"{HEADS} head {i}"
        signed = obj(item, ["statement", "signature"], where)
        st = obj(signed["statement"], STATEMENT_KEYS, where)
        if not isinstance(signed["signature"], str):
            raise Invalid(f"{where}: signature is not base64 text")
        try:
            signature = base64.b64decode(signed["signature"], validate=True)
        except (binascii.Error, ValueError):
            raise Invalid(f"{where}: signature is not base64") from None
        if not signature:
            raise Invalid(f"{where}: not signed (the office has no signing key)")
        if not _verify(cert, signature, SIGNING_PREFIX + canonical_json(st)):
            raise Invalid(f"{where} ({st['phase']}): the office's signature does not verify")
        if st["format"] != HEAD_FORMAT:
            raise Invalid(f"{where}: unknown format {st['format']!r}")
        if st["election_id"] != str(s.m.election_id) or st["manifest_hash"] != s.m.manifest_hash:
            raise Invalid(f"{where}: names another election (election id or manifest hash)")
        if type(st["seq"]) is not int or st["seq"] <= last_seq:
            raise Invalid(f"{where}: seq {st['seq']!r} does not increase (previous {last_seq})")
        if not isinstance(st["entry_hash"], str) or not _HEX64.fullmatch(st["entry_hash"]):
            raise Invalid(f"{where}: entry_hash is not 64 lowercase hex digits")
        last_seq = st["seq"]
        phases.append(st["phase"])
        position = len(phases) - 1
        if position > len(PHASES):
            raise Invalid(f"{where}: a head after {FINAL!r} (phases: {phases})")
        expected = PHASES[position] if position < len(PHASES) else FINAL
        if st["phase"] != expected:
            raise Invalid(f"{where}: phase {st['phase']!r} where {expected!r} was due (phases so far: {phases})")
        if position < FROZEN_FROM:
            if st["tally_hash"] is not None:
                raise Invalid(f"{where}: a tally hash before the tally was frozen")
        elif frozen is None:
            frozen = st["tally_hash"]
        elif st["tally_hash"] != frozen:
            raise Invalid(f"{where}: the frozen tally hash changed ({frozen} -> {st['tally_hash']})")
    if len(phases) < len(PHASES):
        raise Invalid(f"{HEADS}: the heads stop at {phases[-1]!r}; expected {' -> '.join(PHASES)} at least")
    if frozen != record_tally_hash:
        raise Invalid(
            f"the record's tally/encrypted_tally.json (hash {record_tally_hash}) is not the tally the office froze "
            f"({frozen})"
        )
    fingerprint = hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()
    return (
        f"{len(heads)} signed heads ({' -> '.join(phases)}), last seq {last_seq}; frozen tally hash "
        f"{(frozen or '')[:16]}... = the record's tally; office certificate {cert.subject.rfc4514_string()} "
        f"sha256 {fingerprint}"
    )


__all__ = ["CERTIFICATE", "HEADS", "check_office_audit"]

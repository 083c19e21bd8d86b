"""The verifier's ``office-audit`` check (election/verify/office_audit.py) against forged ``office/`` parts: each
way an office could bend its signed audit heads is a failure that names it. A small record part is built here
(a tally file and heads signed with a throw-away key, TEST MATERIAL); the check reads only those."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from devtools.demo_election.build import small_manifest
from election.canonical import canonical_json, json_hash
from election.verify.checks import State
from election.verify.office_audit import SIGNING_PREFIX, check_office_audit
from election.verify.primitives import Invalid

MANIFEST = small_manifest()
TALLY = {"base_hash": "ab" * 32, "contests": {}, "ballots_per_contest": {}}
PHASES = ["open", "closed", "tally_frozen", "decrypting", "published"]


def _certificate(key: Ed25519PrivateKey) -> bytes:
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "office TEST MATERIAL")])
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(7)
        .not_valid_before(now)
        .not_valid_after(now + dt.timedelta(days=3650))
        .sign(key, None)
    )
    return cert.public_bytes(Encoding.PEM)


def _statement(seq: int, phase: str, tally_hash: str | None) -> dict[str, Any]:
    return {
        "format": "sanduq-office-audit-head:v1",
        "election_id": str(MANIFEST.election_id),
        "manifest_hash": MANIFEST.manifest_hash,
        "seq": seq,
        "entry_hash": hashlib.sha256(b"entry %d" % seq).hexdigest(),
        "at": f"2026-12-02T{10 + seq:02d}:00:00+00:00",
        "phase": phase,
        "tally_hash": tally_hash,
    }


def _heads(phases: list[str], frozen: str) -> list[dict[str, Any]]:
    return [_statement(3 * i + 1, p, None if p in ("open", "closed") else frozen) for i, p in enumerate(phases)]


def _write(root: Path, statements: list[dict[str, Any]], key: Ed25519PrivateKey, *, cert_key: Any = None) -> State:
    (root / "office").mkdir(parents=True, exist_ok=True)
    (root / "tally").mkdir(exist_ok=True)
    (root / "tally" / "encrypted_tally.json").write_text(json.dumps(TALLY), encoding="utf-8")
    signed = [
        {"statement": st, "signature": base64.b64encode(key.sign(SIGNING_PREFIX + canonical_json(st))).decode()}
        for st in statements
    ]
    (root / "office" / "audit_heads.json").write_text(json.dumps({"heads": signed}), encoding="utf-8")
    (root / "office" / "office_certificate.pem").write_bytes(_certificate(cert_key or key))
    return State(root=root, manifest=MANIFEST)


def _check(state: State) -> str:
    return check_office_audit(state, lambda _i, _n: None)


FROZEN = json_hash(TALLY)
KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))


def test_the_heads_an_office_signed_pass(tmp_path: Path) -> None:
    summary = _check(_write(tmp_path, _heads(PHASES, FROZEN), KEY))
    assert "5 signed heads (open -> closed -> tally_frozen -> decrypting -> published)" in summary
    assert FROZEN[:16] in summary and "sha256" in summary
    # Before publication the heads stop at decrypting: still a complete record of the count.
    assert "4 signed heads" in _check(_write(tmp_path / "b", _heads(PHASES[:4], FROZEN), KEY))


def _drop(i: int) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda heads: heads[:i] + heads[i + 1 :]


def _set(i: int, **changes: Any) -> Callable[[list[dict[str, Any]]], list[dict[str, Any]]]:
    return lambda heads: [({**h, **changes} if n == i else h) for n, h in enumerate(heads)]


@pytest.mark.parametrize(
    ("forge", "words"),
    [
        (_drop(1), "phase 'tally_frozen' where 'closed' was due"),  # the close never announced
        (_drop(2), "phase 'decrypting' where 'tally_frozen' was due"),  # no freeze
        (lambda h: [h[0], h[2], h[1], *h[3:]], "where 'closed' was due"),
        (lambda h: [*h, {**h[-1], "seq": 99}], "a head after 'published'"),
        (lambda h: h[:2], "the heads stop at 'closed'"),
        (lambda h: [], "no signed head"),
        (_set(3, tally_hash="0" * 64), "the frozen tally hash changed"),
        (lambda h: [{**x, "tally_hash": "1" * 64} if x["tally_hash"] else x for x in h], "is not the tally"),
        (_set(1, tally_hash=FROZEN), "a tally hash before the tally was frozen"),
        (_set(2, seq=1), "does not increase"),
        (_set(0, manifest_hash="0" * 64), "names another election"),
        (_set(0, format="v0"), "unknown format"),
        (_set(1, entry_hash="XYZ"), "entry_hash is not 64 lowercase hex digits"),
        (_set(1, extra=1), "head 2"),
    ],
)
def test_a_forged_head_sequence_fails(
    tmp_path: Path, forge: Callable[[list[dict[str, Any]]], list[dict[str, Any]]], words: str
) -> None:
    with pytest.raises(Invalid) as failed:
        _check(_write(tmp_path, forge(_heads(PHASES, FROZEN)), KEY))
    assert words in str(failed.value)


def test_signatures_must_be_the_certificates_key(tmp_path: Path) -> None:
    other = Ed25519PrivateKey.from_private_bytes(bytes(range(1, 33)))
    with pytest.raises(Invalid) as failed:
        _check(_write(tmp_path, _heads(PHASES, FROZEN), KEY, cert_key=other))
    assert "signature does not verify" in str(failed.value)
    # A head edited after signing.
    state = _write(tmp_path / "edited", _heads(PHASES, FROZEN), KEY)
    path = state.root / "office" / "audit_heads.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["heads"][1]["statement"]["at"] = "2026-12-02T23:59:00+00:00"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.raises(Invalid) as failed:
        _check(state)
    assert "head 2 (closed): the office's signature does not verify" in str(failed.value)
    # An office without a signing key (empty certificate, empty signatures).
    (state.root / "office" / "office_certificate.pem").write_text("", encoding="ascii")
    with pytest.raises(Invalid) as failed:
        _check(state)
    assert "the office signed no audit head" in str(failed.value)

"""TEST MATERIAL: kiosk keys, self-signed certificates and signed chain closes for a sample record
(``devtools.sample_election.build_sample_record``); a real record carries each kiosk's enrolled certificate and
the close the kiosk itself signed (``central.chains``)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from election.chain_statement import ChainStatement, SignedStatement, StatementKind
from election.confirmation import batch_root, genesis_code
from election.record import KioskStatements

#: the order of P-256 (a private scalar is 1..N-1)
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_NOT_BEFORE = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
_NOT_AFTER = dt.datetime(2036, 1, 1, tzinfo=dt.UTC)


def sign_statement(key: ec.EllipticCurvePrivateKey, statement: ChainStatement) -> SignedStatement:
    import base64

    raw = key.sign(statement.signing_bytes(), ec.ECDSA(hashes.SHA256()))
    return SignedStatement(statement, base64.b64encode(raw).decode("ascii"))


def sample_kiosk_key(kiosk: str, random_bytes: Callable[[int], bytes]) -> tuple[ec.EllipticCurvePrivateKey, str]:
    """A P-256 key from ``random_bytes`` and its self-signed certificate (PEM; CN = kiosk id, "TEST MATERIAL")."""
    key = ec.derive_private_key(int.from_bytes(random_bytes(32), "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, kiosk), x509.NameAttribute(
        NameOID.ORGANIZATION_NAME, "TEST MATERIAL")])  # fmt: skip
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(int.from_bytes(random_bytes(8), "big") | 1)
        .not_valid_before(_NOT_BEFORE)
        .not_valid_after(_NOT_AFTER)
        .sign(key, hashes.SHA256())
    )
    return key, cert.public_bytes(Encoding.PEM).decode("ascii")


def sample_kiosk_statements(
    base_hash: bytes,
    chains: Mapping[str, Sequence[Sequence[tuple[str, str]]]],
    random_bytes: Callable[[int], bytes],
) -> dict[str, KioskStatements]:
    """``chains``: kiosk id -> its sealed batches in order, each its links as (code hex, disposition: cast,
    challenged or provisional). Each kiosk gets a key and certificate (``sample_kiosk_key``), a signed close
    (close_seq 1) and a last head at the same place: the root of its last batch."""
    out: dict[str, KioskStatements] = {}
    for kiosk, batches in sorted(chains.items()):
        key, pem = sample_kiosk_key(kiosk, random_bytes)
        genesis = genesis_code(base_hash, kiosk)
        root = genesis
        for batch in batches:
            root = batch_root(root, kiosk, [bytes.fromhex(code) for code, _ in batch])
        links = [d for batch in batches for _, d in batch]
        cast, challenged, provisional = (links.count(kind) for kind in ("cast", "challenged", "provisional"))
        close = ChainStatement(
            StatementKind.CLOSE, kiosk, genesis.hex(), root.hex(), cast, challenged, provisional, close_seq=1
        )
        head = ChainStatement(StatementKind.HEAD, kiosk, genesis.hex(), root.hex(), cast, challenged, provisional)
        out[kiosk] = KioskStatements(kiosk, pem, sign_statement(key, close), sign_statement(key, head))
    return out

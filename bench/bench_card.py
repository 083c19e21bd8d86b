"""Card insertion -> authenticated identity with the virtual card through a real (isolated) pcscd.

Rows: the whole session (connect, read identity + certificate, PIN, challenge signature, all checks) split
into PC/SC I/O, on-card (emulator) work and kiosk-side verification; the kiosk-side verification (RFC 5280
path validation by pyhanko-certvalidator with CRLs at every level, the eID profile, identity, signature)
with a realistic card-CA CRL of 100,000 revoked serials, against the same check with an empty CRL and
against cryptography's ClientVerifier on a SAN-bearing variant (chain only: it cannot do CRLs); the CRL's
load (parse + index, once per election package) and the cost of one serial lookup (our index, against
cryptography's lookup and pyhanko's own linear scan); one APDU through our transport against a raw pyscard
SCardTransmit; and, for information, pcscd's insertion detection.

    .venv/bin/python -m bench.bench_card
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from asn1crypto import x509 as asn1_x509  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import ExtendedKeyUsageOID
from cryptography.x509.verification import PolicyBuilder, Store

from devtools import test_pki
from devtools.test_pki import x509_build as xb
from devtools.virtual_card.card import VirtualCard
from devtools.virtual_card.harness import PcscHarness
from kiosk.card import trust as card_pki
from kiosk.card.apdu import CommandApdu
from kiosk.card.identity import CardIdentity
from kiosk.card.pki import (
    CertificateAccepted,
    TrustAnchors,
    check_certificate,
    check_identity,
    check_signature,
    new_challenge,
)
from kiosk.card.profile import load_named_profile
from kiosk.card.session import Authenticated, CardAuthenticator, CardRead
from kiosk.card.transport import PcscConnection

OUT = Path("out/bench/card.json")
CRL_SERIALS = 100_000


def median_p99(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered), ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def timed(fn: Callable[[], object], n: int) -> list[float]:
    out = []
    for _ in range(n):
        started = time.perf_counter()
        fn()
        out.append(time.perf_counter() - started)
    return out


def row(what: str, samples: list[float], *, unit: str = "ms", peer: str | None = None,
        peer_samples: list[float] | None = None, target: float | None = None) -> dict[str, Any]:  # fmt: skip
    med, p99 = median_p99(samples)
    result: dict[str, Any] = {
        "what": what, "median": round(med * 1000, 3), "unit": unit, "p99": round(p99 * 1000, 3),
        "rate_per_s": round(1 / med, 1) if med else None, "peer": peer, "peer_median": None, "ratio": None,
        "target": f"<= {target * 1000:.0f} ms median" if target else None,
        "meets_target": (med <= target) if target else None,
    }  # fmt: skip
    if peer_samples:
        peer_med = statistics.median(peer_samples)
        result["peer_median"] = round(peer_med * 1000, 3)
        result["ratio"] = round(med / peer_med, 2)
    return result


def big_crl(pki: test_pki.TestPki, now: dt.datetime, count: int) -> x509.CertificateRevocationList:
    """The card CA's CRL revoking ``count`` serials (random 64-bit ones, as real CAs issue), with a reason each."""
    issuer = pki.card_ca.cert()
    key = pki.card_ca.key()
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(now - dt.timedelta(hours=2))
        .next_update(now + dt.timedelta(days=7))
        .add_extension(x509.CRLNumber(7), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(key.public_key()), critical=False)
    )
    reason = x509.CRLReason(x509.ReasonFlags.key_compromise)
    for _ in range(count):
        builder = builder.add_revoked_certificate(
            x509.RevokedCertificateBuilder()
            .serial_number(secrets.randbits(63) + 1)
            .revocation_date(now - dt.timedelta(days=3))
            .add_extension(reason, critical=False)
            .build()
        )
    return builder.sign(key, hashes.SHA256())


def main() -> int:
    now = dt.datetime.now(dt.UTC)
    tmp = Path(tempfile.mkdtemp(prefix="bench-card-"))
    pki = test_pki.generate(tmp / "pki", test_pki.synthetic_voters(2, now), [], now=now)
    print(f"building a card-CA CRL of {CRL_SERIALS:,} revoked serials ...", flush=True)
    big = big_crl(pki, now, CRL_SERIALS)
    big_der = big.public_bytes(Encoding.DER)
    root_crl = x509.load_der_x509_crl(pki.root_crl_path.read_bytes())
    staff_crl = x509.load_der_x509_crl(pki.staff_crl_path.read_bytes())

    def load_package_crls() -> TrustAnchors:
        crl = x509.load_der_x509_crl(big_der)  # as election.package loads crl/*.crl
        return TrustAnchors(pki.trust_roots(), pki.intermediates(), [crl, staff_crl, root_crl])

    crl_load = timed(load_package_crls, 5)
    anchors = load_package_crls()
    small_anchors = TrustAnchors(pki.trust_roots(), pki.intermediates(), pki.crls())
    profile = load_named_profile("oman_ias")
    files = pki.voters["10000001"]
    auth = CardAuthenticator(
        profile, anchors, "kiosk-001", "bench", lambda: dt.datetime.now(dt.UTC), secrets.token_bytes
    )
    rows: list[dict[str, Any]] = []
    notes = [
        "virtual card (devtools/virtual_card) over vpcd in an isolated pcscd; profile oman_ias (ECDSA P-256, T=0)",
        "whole path = connect + read identity/certificate + PIN status + VERIFY + MSE/PSO signature + all checks;"
        " it starts when pcscd reports the card, so pcscd's own detection delay is a separate row",
        "the sessions validate against the package's CRLs including the 100,000-serial card-CA CRL",
        "in-process verification rows are interleaved (100,000-serial CRL, empty CRL, ClientVerifier) per iteration",
    ]
    whole: list[float] = []
    io: list[float] = []
    on_card: list[float] = []
    verify: list[float] = []
    with PcscHarness() as harness:
        card = VirtualCard.from_files(files, profile)  # the session below validates against the 100,000-serial CRL
        harness.insert(card)
        for i in range(40):
            busy_before = card.busy_seconds
            started = time.perf_counter()
            with PcscConnection(harness.reader_name()) as connection:
                read = auth.read(connection)
                assert isinstance(read, CardRead), read
                result = auth.authenticate(connection, read, "1234")
                assert isinstance(result, Authenticated), result
            elapsed = time.perf_counter() - started
            if i < 5:
                continue  # warm-up
            whole.append(elapsed)
            card_seconds = card.busy_seconds - busy_before
            on_card.append(card_seconds)
            io.append(connection.io_seconds - card_seconds)
            verify.append(auth.timings.verify_seconds)

        # One APDU: our transport (T=0 logic + trace) vs a raw pyscard SCardTransmit, same SELECT.
        select = CommandApdu(0x00, 0xA4, 0x04, 0x0C, profile.applets["pki"])
        with PcscConnection(harness.reader_name()) as connection:
            ours = timed(lambda: connection.transmit(select), 300)
            from smartcard import scard

            raw_card, proto = connection._card, connection._protocol  # same connection, no T=0 layer
            raw_bytes = list(select.to_bytes())
            raw = timed(lambda: scard.SCardTransmit(raw_card, proto, raw_bytes), 300)

        # Insertion detection by pcscd (its 0.4 s polling of the vpcd driver), for information.
        detect = []
        for _ in range(5):
            harness.remove()
            started = time.perf_counter()
            harness.insert(VirtualCard.from_files(files, profile))
            detect.append(time.perf_counter() - started)

    rows.append(row("insertion -> authenticated identity (whole path)", whole, target=0.300))
    rows.append(row("  of which PC/SC I/O (pcscd + vpcd round trips)", io))
    rows.append(row("  of which on-card work (emulator)", on_card))

    # Kiosk-side verification in process, against cryptography's ClientVerifier on a SAN-bearing variant.
    cert = files.auth.cert()
    key = files.auth.key()
    identity = CardIdentity(files.identity.civil_number, files.identity.name_en, files.identity.name_ar,
                            files.identity.birth_date, files.identity.card_expiry)  # fmt: skip
    card_for_sig = VirtualCard.from_files(files, profile)
    challenge = new_challenge("kiosk-001", "bench", now, secrets.token_bytes)
    signature = card_for_sig._compute_signature(challenge.digest)

    def verify_with(trust: TrustAnchors) -> Callable[[], None]:
        def run() -> None:
            accepted = check_certificate(cert, trust, now)
            assert isinstance(accepted, CertificateAccepted), accepted
            assert check_identity(accepted, identity, profile.certificate) is None
            assert check_signature(cert, challenge, signature, profile.signing.ecdsa_format) is None

        return run

    ours_verify = verify_with(anchors)

    card_ca = xb.Issuer(pki.card_ca.cert(), pki.card_ca.key())
    san_cert = xb.end_entity_certificate(
        cert.subject, key.public_key(), card_ca, now - dt.timedelta(days=1), now + dt.timedelta(days=30),
        xb.key_usage(digital_signature=True), [ExtendedKeyUsageOID.CLIENT_AUTH],
        san=[x509.RFC822Name("voter@test.sanduq.invalid")],
    )  # fmt: skip
    verifier = PolicyBuilder().store(Store(pki.trust_roots())).time(now).build_client_verifier()
    intermediates = [pki.card_ca.cert()]

    def peer_verify() -> None:
        verifier.verify(san_cert, intermediates)
        check_signature(cert, challenge, signature, profile.signing.ecdsa_format)

    # Interleaved, so the machine's noise (other jobs on 2 cores) falls on all three alike and the ratios hold.
    small_verify = verify_with(small_anchors)
    in_process: list[float] = []
    small: list[float] = []
    peer: list[float] = []
    for _ in range(300):
        in_process += timed(ours_verify, 1)
        small += timed(small_verify, 1)
        peer += timed(peer_verify, 1)
    rows.append(row("  of which kiosk-side verification (in session)", verify, target=0.020))
    rows.append(
        row(
            f"kiosk-side verification, card-CA CRL of {CRL_SERIALS:,} serials: path + CRLs at every level + eID"
            " profile + identity + signature", in_process,
            peer="the same verification with an empty card-CA CRL", peer_samples=small, target=0.020,
        )
    )  # fmt: skip
    rows.append(
        row(
            "kiosk-side verification (empty CRL)", small,
            peer="cryptography ClientVerifier (SAN variant, chain only, no CRL) + same signature check",
            peer_samples=peer,
        )
    )  # fmt: skip

    # The CRL: loading it (once per election package) and looking one serial up (once per card).
    rows.append(
        row(f"CRL of {CRL_SERIALS:,} serials ({len(big_der) / 1e6:.1f} MB): parse + index, per package", crl_load)
    )
    asn1_card = asn1_x509.Certificate.load(cert.public_bytes(Encoding.DER))
    asn1_big = next(c for c in anchors._prepared.crls if len(c["tbs_cert_list"]["revoked_certificates"]) > 1000)
    issuer_name = asn1_big["tbs_cert_list"]["issuer"]
    lookup = timed(
        lambda: card_pki._indexed_find_cert_in_list(asn1_card, asn1_card.issuer, asn1_big, issuer_name), 1000
    )
    crypto_lookup = timed(lambda: big.get_revoked_certificate_by_serial_number(cert.serial_number), 20)
    scan = timed(lambda: card_pki._original_find_cert_in_list(asn1_card, asn1_card.issuer, asn1_big, issuer_name), 3)
    rows.append(
        row("CRL lookup of one serial: serial index", lookup, peer="pyhanko's own linear scan", peer_samples=scan)
    )
    rows.append(
        row("CRL lookup of one serial: cryptography get_revoked_certificate_by_serial_number, info", crypto_lookup)
    )

    rows.append(
        row("one APDU (SELECT) through PcscConnection", ours, peer="raw pyscard SCardTransmit", peer_samples=raw)
    )
    rows.append(row("card insertion detected by pcscd (vpcd polling), info", detect))
    notes.append(f"certificate sha256 {cert.fingerprint(hashes.SHA256()).hex()[:16]}...; 35 sessions after 5 warm-up")

    print(f"{'what':<86} {'median':>9} {'p99':>9}  {'peer':>9} {'ratio':>6}  target")
    for r in rows:
        peer_med = f"{r['peer_median']:.3f}" if r["peer_median"] is not None else "-"
        ratio = f"{r['ratio']:.2f}" if r["ratio"] is not None else "-"
        target = f"{r['target']} {'OK' if r['meets_target'] else 'MISSED'}" if r["target"] else ""
        print(f"{r['what']:<86} {r['median']:>7.3f}ms {r['p99']:>7.3f}ms {peer_med:>9} {ratio:>6}  {target}")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({"area": "card", "rows": rows, "notes": notes}, indent=1), encoding="utf-8")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

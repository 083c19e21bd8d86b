"""Table-driven RFC 5280 path validation of card certificates, in the manner of the x509-limbo suite.

Every row builds its own hierarchy (tests/pki/builder.py: root -> issuing CA -> card, CRLs for every level)
with one thing changed, runs the kiosk's check on the card certificate's DER (``check_certificate_der``:
the same function the card session uses) and states the expected outcome: accepted, or refused with its
reason and a word of its detail. Times are at NOW (the validator's clock), edges at +-1 s.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from cryptography import x509
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from kiosk.card.pki import CertificateAccepted, TrustAnchors, TrustPolicy, check_certificate_der
from kiosk.card.results import AuthFailure, FailureReason
from sync.staff_roles import TEST_EID_AUTH_POLICY_OID
from tests.pki.builder import (
    CARD_SUBJECT,
    DAY,
    NOW,
    SECOND,
    UNKNOWN_OID,
    CertSpec,
    CrlSpec,
    Spec,
    build,
    name,
    usage,
)

R = FailureReason
ACCEPTED = None


@dataclass(frozen=True)
class Case:
    id: str
    spec: Callable[[], Spec]
    expected: FailureReason | None
    detail: str = ""  # a word the refusal's detail must contain (says which level, or why)


def card(**kw: object) -> CertSpec:
    base = CertSpec(not_before=-30 * DAY, not_after=300 * DAY)
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def unknown_critical() -> list[tuple[x509.ExtensionType, bool]]:
    return [(x509.UnrecognizedExtension(UNKNOWN_OID, b"\x05\x00"), True)]


def idp(
    *, ca_only: bool = False, user_only: bool = False, reasons: frozenset[x509.ReasonFlags] | None = None
) -> object:
    return x509.IssuingDistributionPoint(None, None, user_only, ca_only, reasons, False, False)


FRESHEST = (
    x509.FreshestCRL(
        [x509.DistributionPoint([x509.UniformResourceIdentifier("http://crl.invalid/delta.crl")], None, None, None)]
    ),
    False,
)


def genuine_crls(**ca_crl: object) -> list[CrlSpec]:
    return [CrlSpec("root"), dataclasses.replace(CrlSpec("ca"), **ca_crl)]  # type: ignore[arg-type]


def patch(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    def edit(der: bytes) -> bytes:
        assert der.count(old) == 1, "the pattern to patch must occur exactly once"
        return der.replace(old, new)

    return edit


# DER of OIDs used by the byte-level tampering cases (same length, so every length field stays right).
_UNKNOWN_EXT_2_5_29_99 = bytes.fromhex("0603551d63")
_AKI_2_5_29_35 = bytes.fromhex("0603551d23")
_EKU_OID = x509.ObjectIdentifier("2.5.29.37")

CASES: list[Case] = [
    Case("genuine", Spec, ACCEPTED),
    # -- validity at each level, +-1 s ------------------------------------------------------------------------
    Case("card-expired-1s-ago", lambda: Spec(card=card(not_after=-SECOND)), R.EXPIRED, "card"),
    Case("card-expires-in-1s", lambda: Spec(card=card(not_after=SECOND)), ACCEPTED),
    Case("card-valid-in-1s", lambda: Spec(card=card(not_before=SECOND)), R.NOT_YET_VALID, "card"),
    Case("card-valid-since-1s", lambda: Spec(card=card(not_before=-SECOND)), ACCEPTED),
    Case("ca-expired-1s-ago", lambda: Spec(ca=CertSpec(not_after=-SECOND)), R.EXPIRED, "CA"),
    Case("ca-expires-in-1s", lambda: Spec(ca=CertSpec(not_after=SECOND)), ACCEPTED),
    Case("ca-valid-in-1s", lambda: Spec(ca=CertSpec(not_before=SECOND)), R.NOT_YET_VALID, "CA"),
    Case("root-expired-1s-ago", lambda: Spec(root=CertSpec(not_after=-SECOND)), R.EXPIRED, "root"),
    Case("root-expires-in-1s", lambda: Spec(root=CertSpec(not_after=SECOND)), ACCEPTED),
    Case("root-valid-in-1s", lambda: Spec(root=CertSpec(not_before=SECOND)), R.NOT_YET_VALID, "root"),
    # -- revocation at each level -----------------------------------------------------------------------------
    Case("card-revoked", lambda: Spec(crls=genuine_crls(revoked=["card"])), R.REVOKED, "card"),
    Case(
        "ca-revoked-by-root-crl", lambda: Spec(crls=[CrlSpec("root", revoked=["ca"]), CrlSpec("ca")]), R.REVOKED, "CA"
    ),
    Case(
        "second-level-ca-revoked",
        lambda: Spec(
            ca2=CertSpec(),
            ca_path_length=1,
            root_path_length=2,
            crls=[CrlSpec("root"), CrlSpec("ca", revoked=["ca2"]), CrlSpec("ca2")],
        ),
        R.REVOKED,
        "CA",
    ),
    Case("no-root-crl", lambda: Spec(crls=[CrlSpec("ca")]), R.REVOCATION_STALE, "CA"),
    # pyhanko alone would take a sibling CA's CRL for the missing root CRL (sync/direct_crls.py)
    Case("sibling-ca-with-its-crl", lambda: Spec(sibling=True), ACCEPTED),
    Case(
        "sibling-crl-does-not-stand-in-for-the-root-crl",
        lambda: Spec(sibling=True, crls=[CrlSpec("ca"), CrlSpec("sibling")]),
        R.REVOCATION_STALE,
        "CA",
    ),
    Case(
        "sibling-revoked-ca-still-revoked",
        lambda: Spec(sibling=True, crls=[CrlSpec("root", revoked=["ca"]), CrlSpec("ca"), CrlSpec("sibling")]),
        R.REVOKED,
        "CA",
    ),
    Case(
        "lower-ca-crl-does-not-cover-its-own-ca",
        lambda: Spec(ca2=CertSpec(), ca_path_length=1, root_path_length=2, crls=[CrlSpec("root"), CrlSpec("ca2")]),
        R.REVOCATION_STALE,
        "CA",
    ),
    Case("no-ca-crl", lambda: Spec(crls=[CrlSpec("root")]), R.REVOCATION_STALE, "card"),
    Case("ca-crl-past-next-update", lambda: Spec(crls=genuine_crls(next_update=-SECOND)), R.REVOCATION_STALE),
    Case("ca-crl-not-yet-issued", lambda: Spec(crls=genuine_crls(this_update=SECOND)), R.REVOCATION_STALE),
    Case(
        "current-crl-plus-future-dated-crl",
        lambda: Spec(crls=[*genuine_crls(), CrlSpec("ca", number=2, this_update=DAY, next_update=8 * DAY)]),
        ACCEPTED,
    ),
    Case(
        "revoked-entry-dated-after-now",
        lambda: Spec(crls=genuine_crls(revoked=["card"], revocation_date=DAY)),
        R.REVOKED,
    ),
    Case("forged-ca-crl", lambda: Spec(crls=genuine_crls(forged=True)), R.REVOCATION_STALE),
    # -- a newer CRL of narrower scope must not hide a revocation ----------------------------------------------
    Case(
        "revoked-then-newer-delta-crl",
        lambda: Spec(
            crls=[
                *genuine_crls(revoked=["card"], number=5, extra=[FRESHEST]),
                CrlSpec("ca", number=6, this_update=-SECOND, extra=[(x509.DeltaCRLIndicator(5), True)]),
            ]
        ),
        R.REVOKED,
    ),
    Case(
        "revoked-in-delta-crl",
        lambda: Spec(
            crls=[
                *genuine_crls(number=5, extra=[FRESHEST]),
                CrlSpec(
                    "ca", revoked=["card"], number=6, this_update=-SECOND, extra=[(x509.DeltaCRLIndicator(5), True)]
                ),
            ]
        ),
        R.REVOKED,
    ),
    Case(
        "revoked-then-newer-ca-only-crl",
        lambda: Spec(
            crls=[
                *genuine_crls(revoked=["card"], number=5),
                CrlSpec("ca", number=6, this_update=-SECOND, extra=[(idp(ca_only=True), True)]),  # type: ignore[list-item]
            ]
        ),
        R.REVOKED,
    ),
    Case(
        "only-a-ca-only-crl-for-the-card",
        lambda: Spec(crls=[CrlSpec("root"), CrlSpec("ca", extra=[(idp(ca_only=True), True)])]),  # type: ignore[list-item]
        R.REVOCATION_STALE,
    ),
    Case(
        "only-a-some-reasons-crl-for-the-card",
        lambda: Spec(
            crls=[
                CrlSpec("root"),
                CrlSpec(
                    "ca",
                    extra=[(idp(reasons=frozenset({x509.ReasonFlags.key_compromise})), True)],  # type: ignore[list-item]
                ),
            ]
        ),
        R.REVOCATION_STALE,
    ),
    Case(
        "user-certs-only-crl-is-fine-for-the-card",
        lambda: Spec(crls=[CrlSpec("root"), CrlSpec("ca", extra=[(idp(user_only=True), True)])]),  # type: ignore[list-item]
        ACCEPTED,
    ),
    Case(
        "revoked-then-newer-crl-with-unknown-critical-extension",
        lambda: Spec(
            crls=[*genuine_crls(revoked=["card"], number=5), CrlSpec("ca", number=6, extra=unknown_critical())]
        ),
        R.REVOKED,
    ),
    Case(
        "only-crl-has-unknown-critical-extension",
        lambda: Spec(crls=[CrlSpec("root"), CrlSpec("ca", extra=unknown_critical())]),
        R.REVOCATION_STALE,
    ),
    Case("crl-issuer-without-crl-sign", lambda: Spec(ca_crl_sign=False), R.REVOCATION_STALE),
    Case("crl-without-crl-number", lambda: Spec(crls=genuine_crls(number=None)), R.REVOCATION_STALE),
    Case("crl-with-critical-crl-number", lambda: Spec(crls=genuine_crls(number_critical=True)), R.REVOCATION_STALE),
    # -- critical extensions unknown to the validator, at each level ------------------------------------------
    Case("card-unknown-critical-extension", lambda: Spec(card=card(extra=unknown_critical())), R.UNTRUSTED),
    Case("ca-unknown-critical-extension", lambda: Spec(ca=CertSpec(extra=unknown_critical())), R.UNTRUSTED, "CA"),
    Case("root-unknown-critical-extension", lambda: Spec(root=CertSpec(extra=unknown_critical())), R.UNTRUSTED, "root"),
    Case(
        "unknown-non-critical-extensions-everywhere",
        lambda: Spec(
            root=CertSpec(extra=[(x509.UnrecognizedExtension(UNKNOWN_OID, b"\x05\x00"), False)]),
            ca=CertSpec(extra=[(x509.UnrecognizedExtension(UNKNOWN_OID, b"\x05\x00"), False)]),
            card=card(extra=[(x509.UnrecognizedExtension(UNKNOWN_OID, b"\x05\x00"), False)]),
        ),
        ACCEPTED,
    ),
    # -- CA profile ---------------------------------------------------------------------------------------------
    Case(
        "root-basic-constraints-not-critical",
        lambda: Spec(root=CertSpec(basic_constraints=(x509.BasicConstraints(ca=True, path_length=1), False))),
        R.UNTRUSTED,
        "basicConstraints",
    ),
    Case(
        "ca-not-a-ca",
        lambda: Spec(ca=CertSpec(basic_constraints=(x509.BasicConstraints(ca=False, path_length=None), True))),
        R.UNTRUSTED,
    ),
    Case(
        "ca-without-key-cert-sign",
        lambda: Spec(ca=CertSpec(key_usage=(usage(sign=True, crl_sign=True), True))),
        R.UNTRUSTED,
        "keyCertSign",
    ),
    Case("ca-with-empty-subject", lambda: Spec(ca=CertSpec(subject=x509.Name([]))), R.UNTRUSTED, "empty subject"),
    # -- path length -------------------------------------------------------------------------------------------
    Case(
        "two-ca-levels-within-path-length",
        lambda: Spec(ca2=CertSpec(), ca_path_length=1, root_path_length=2),
        ACCEPTED,
    ),
    Case("two-ca-levels-past-ca-path-length", lambda: Spec(ca2=CertSpec(), ca_path_length=0), R.UNTRUSTED),
    Case(
        "two-ca-levels-past-root-path-length",
        lambda: Spec(ca2=CertSpec(), ca_path_length=1, root_path_length=1),
        R.UNTRUSTED,
        "path length",
    ),
    # -- DN name constraints on the CA (critical, as RFC 5280 requires) ---------------------------------------
    Case(
        "name-constraint-permits-the-card",
        lambda: Spec(
            ca=CertSpec(
                extra=[
                    (
                        x509.NameConstraints(
                            [
                                x509.DirectoryName(
                                    name((NameOID.COUNTRY_NAME, "OM"), (NameOID.ORGANIZATION_NAME, "Sanduq TEST"))
                                )
                            ],
                            None,
                        ),
                        True,
                    )
                ]
            )
        ),
        ACCEPTED,
    ),
    Case(
        "name-constraint-permits-another-subtree",
        lambda: Spec(
            ca=CertSpec(
                extra=[
                    (
                        x509.NameConstraints(
                            [
                                x509.DirectoryName(
                                    name((NameOID.COUNTRY_NAME, "OM"), (NameOID.ORGANIZATION_NAME, "Other"))
                                )
                            ],
                            None,
                        ),
                        True,
                    )
                ]
            )
        ),
        R.UNTRUSTED,
    ),
    Case(
        "name-constraint-excludes-the-card",
        lambda: Spec(
            ca=CertSpec(
                extra=[
                    (
                        x509.NameConstraints(None, [x509.DirectoryName(name((NameOID.COUNTRY_NAME, "OM")))]),
                        True,
                    )
                ]
            )
        ),
        R.UNTRUSTED,
    ),
    # -- the card's key usage and EKU (national-eID profile: no SAN required) ----------------------------------
    Case(
        "card-key-encipherment-only",
        lambda: Spec(card=card(key_usage=(usage(sign=False, encipher=True), True))),
        R.WRONG_KEY_USAGE,
    ),
    Case(
        "card-with-key-cert-sign",
        lambda: Spec(card=card(key_usage=(usage(cert_sign=True), True))),
        R.WRONG_KEY_USAGE,
        "keyCertSign",
    ),
    Case("card-without-key-usage", lambda: Spec(card=card(omit={x509.KeyUsage})), R.WRONG_KEY_USAGE),
    Case(
        "card-says-it-is-a-ca",
        lambda: Spec(card=card(basic_constraints=(x509.BasicConstraints(ca=True, path_length=None), True))),
        R.WRONG_KEY_USAGE,
    ),
    Case(
        "card-eku-server-auth-only",
        lambda: Spec(card_eku=[ExtendedKeyUsageOID.SERVER_AUTH], card_policies=()),
        R.WRONG_KEY_USAGE,
    ),
    Case("card-eku-server-auth-with-eid-policy", lambda: Spec(card_eku=[ExtendedKeyUsageOID.SERVER_AUTH]), ACCEPTED),
    Case("card-no-eku-with-eid-policy", lambda: Spec(card_eku=None), ACCEPTED),
    Case("card-no-eku-no-eid-policy", lambda: Spec(card_eku=None, card_policies=()), R.WRONG_KEY_USAGE),
    Case("card-client-auth-without-policy", lambda: Spec(card_policies=()), ACCEPTED),
    # -- malformed DER and UTF-8 (no CA signature needed to try these) -----------------------------------------
    Case("der-truncated", lambda: Spec(tamper=lambda der: der[: len(der) // 2]), R.MALFORMED_CERTIFICATE),
    Case("der-garbage", lambda: Spec(tamper=lambda der: b"\x30\x03\x02\x01\x00"), R.MALFORMED_CERTIFICATE),
    Case("der-trailing-bytes", lambda: Spec(tamper=lambda der: der + b"\x00\x00"), R.MALFORMED_CERTIFICATE),
    Case(
        "subject-invalid-utf8",
        lambda: Spec(
            card=card(subject=name((NameOID.COMMON_NAME, "Voter ZZZZ"))), tamper=patch(b"ZZZZ", b"\xff\xfe\xfd\xfc")
        ),
        R.MALFORMED_CERTIFICATE,
    ),
    Case(
        "duplicated-extension",
        lambda: Spec(
            card=card(extra=[(x509.UnrecognizedExtension(x509.ObjectIdentifier("2.5.29.99"), b"\x04\x01\x00"), False)]),
            tamper=patch(_UNKNOWN_EXT_2_5_29_99, _AKI_2_5_29_35),  # a second authorityKeyIdentifier
        ),
        R.MALFORMED_CERTIFICATE,
    ),
    Case(
        "empty-extended-key-usage",
        lambda: Spec(
            card_eku=None,
            card=card(extra=[(x509.UnrecognizedExtension(_EKU_OID, b"\x30\x00"), False)]),  # SEQUENCE {}
        ),
        R.MALFORMED_CERTIFICATE,
    ),
]


def _outcome(result: CertificateAccepted | AuthFailure) -> FailureReason | None:
    return result.reason if isinstance(result, AuthFailure) else None


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_path_validation(case: Case) -> None:
    built = build(case.spec())
    result = check_certificate_der(built.card_der, built.anchors, NOW)
    assert _outcome(result) is case.expected, result
    if isinstance(result, AuthFailure):
        assert case.detail.lower() in result.detail.lower(), result.detail
        assert "10000001" not in result.detail and "Test Voter" not in result.detail  # nothing identifies the holder


def test_the_table_covers_every_reason_of_the_certificate_check() -> None:
    expected = {c.expected for c in CASES}
    assert {
        R.EXPIRED,
        R.NOT_YET_VALID,
        R.REVOKED,
        R.REVOCATION_STALE,
        R.UNTRUSTED,
        R.WRONG_KEY_USAGE,
        R.MALFORMED_CERTIFICATE,
        ACCEPTED,
    } <= expected


def test_a_rogue_root_with_the_same_names_is_not_trusted() -> None:
    genuine, rogue = build(Spec()), build(Spec())  # same names, different keys
    mixed = TrustAnchors([genuine.root], genuine.cas, genuine.crls)
    result = check_certificate_der(rogue.card_der, mixed, NOW)
    assert _outcome(result) is R.UNTRUSTED


def test_the_eid_policy_is_the_trust_configurations() -> None:
    """A card without clientAuth is accepted on the eID policy the package lists, and only on that one."""
    built = build(Spec(card_eku=None))
    other = TrustAnchors(
        built.anchors.roots,
        built.anchors.intermediates,
        built.anchors.crls,
        TrustPolicy(frozenset(), frozenset({"1.2.3"})),
    )
    assert _outcome(check_certificate_der(built.card_der, built.anchors, NOW)) is ACCEPTED
    assert _outcome(check_certificate_der(built.card_der, other, NOW)) is R.WRONG_KEY_USAGE
    assert TEST_EID_AUTH_POLICY_OID in built.anchors.policy.auth_policy_oids
    assert CARD_SUBJECT.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == "10000001"

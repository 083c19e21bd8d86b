"""Damaged certificates and CRLs: the card check answers with a value (accepted, or a typed refusal), never an
exception, whatever bytes the card or the package holds. A damaged card certificate is never accepted."""

from __future__ import annotations

from functools import cache

from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.card.pki import CertificateAccepted, TrustAnchors, check_certificate_der
from kiosk.card.results import AuthFailure
from tests.pki.builder import NOW, Built, Spec, build

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@cache
def genuine() -> Built:
    return build(Spec())


@st.composite
def damaged(draw: st.DrawFn, original: bytes) -> bytes:
    data = bytearray(original)
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(data) - 1))
        data[position] = draw(st.integers(0, 255))
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + bytearray(draw(st.binary(max_size=6)))
    return bytes(data)


@FUZZ
@given(st.data())
def test_a_damaged_card_certificate_is_refused_with_a_reason(data: st.DataObject) -> None:
    built = genuine()
    der = data.draw(damaged(built.card_der))
    result = check_certificate_der(der, built.anchors, NOW)
    assert isinstance(result, AuthFailure | CertificateAccepted)
    if der != built.card_der:
        # Only a change outside the signed part could leave the certificate valid (e.g. a DER-equivalent
        # re-encoding is impossible here: the signature covers tbsCertificate); the outcome is still a value.
        assert (
            isinstance(result, AuthFailure)
            or result.certificate.tbs_certificate_bytes
            == x509.load_der_x509_certificate(built.card_der).tbs_certificate_bytes
        )


@FUZZ
@given(st.data())
def test_a_damaged_crl_in_the_package_never_raises(data: st.DataObject) -> None:
    built = genuine()
    original = built.crls[1].public_bytes(Encoding.DER)
    try:
        crl = x509.load_der_x509_crl(data.draw(damaged(original)))
    except (ValueError, x509.InvalidVersion):
        return  # election.package refuses such a file (PackageError) before the kiosk sees it
    anchors = TrustAnchors(built.anchors.roots, built.anchors.intermediates, [built.crls[0], crl])
    result = check_certificate_der(built.card_der, anchors, NOW)
    assert isinstance(result, AuthFailure | CertificateAccepted)

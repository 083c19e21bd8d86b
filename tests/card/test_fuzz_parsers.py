"""Fuzzing every parser of card data: arbitrary bytes give a value or a typed error, never a crash."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.card import apdu
from kiosk.card.apdu import CardDataError, CardStatusError, CommandApdu, ResponseApdu
from kiosk.card.eid import EidCard, der_length, parse_certificate
from kiosk.card.identity import decode_identity, encode_identity
from kiosk.card.profile import load_named_profile
from kiosk.card.transport import exchange_t0

PROFILES = {name: load_named_profile(name) for name in ("oman_ias", "belpic")}
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def tlv_like(draw: st.DrawFn) -> bytes:
    """Bytes that are often almost-valid TLV: real structures with random damage."""
    parts = draw(
        st.lists(
            st.tuples(st.sampled_from([0x70, 0x5F01, 0x5F02, 0x06, 0x07, 0x1F, 0x9F8F]), st.binary(max_size=40)),
            max_size=6,
        )
    )
    data = b"".join(apdu.encode_ber_tlv(t, v) for t, v in parts)
    if draw(st.booleans()):
        data = apdu.encode_ber_tlv(0x70, data)
    cut = draw(st.integers(0, len(data)))
    noise = draw(st.binary(max_size=8))
    return data[:cut] + noise if draw(st.booleans()) else data


@FUZZ
@given(st.one_of(st.binary(max_size=300), tlv_like()))
def test_ber_tlv_parser(data: bytes) -> None:
    try:
        for obj in apdu.parse_ber_tlv(data):
            if obj.constructed:
                obj.children()
    except CardDataError:
        pass


@FUZZ
@given(st.binary(max_size=300))
def test_simple_tlv_parser(data: bytes) -> None:
    with contextlib.suppress(CardDataError):
        apdu.parse_simple_tlv(data)


@FUZZ
@given(st.sampled_from(sorted(PROFILES)), st.one_of(st.binary(max_size=300), tlv_like()))
def test_identity_decoder(profile_name: str, data: bytes) -> None:
    with contextlib.suppress(CardDataError):
        decode_identity(PROFILES[profile_name].identity, data)


@FUZZ
@given(
    st.sampled_from(sorted(PROFILES)),
    st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x6FF), min_size=1, max_size=30),
    st.from_regex(r"[0-9]{1,12}", fullmatch=True),
    st.dates(),
)
def test_identity_round_trips(profile_name: str, name: str, civil: str, birth) -> None:
    from kiosk.card.identity import CardIdentity

    layout = PROFILES[profile_name].identity
    name = " ".join(name.split()) or "x"
    identity = CardIdentity(civil, name, name if "name_ar" in layout.fields else None, birth, birth)
    try:
        decoded = decode_identity(layout, encode_identity(layout, identity))
    except CardDataError:
        return  # e.g. years < 1000 do not survive strptime: refused, not crashed
    assert decoded.civil_number == civil
    assert decoded.name_en == name


@FUZZ
@given(st.binary(max_size=260))
def test_response_apdu_parser(data: bytes) -> None:
    try:
        response = ResponseApdu.parse(data)
    except CardDataError:
        assert len(data) < 2
        return
    try:
        response.check()
    except CardStatusError:
        assert response.sw != 0x9000


@FUZZ
@given(st.binary(max_size=400))
def test_certificate_parsers(data: bytes) -> None:
    try:
        der_length(data)
        parse_certificate(data)
    except CardDataError:
        pass


@FUZZ
@given(st.lists(st.binary(min_size=0, max_size=270), min_size=1, max_size=80))
def test_t0_exchange_with_a_random_card(answers: list[bytes]) -> None:
    queue = list(answers)

    def send(raw: bytes) -> bytes:
        return queue.pop(0) if queue else b"\x90\x00"

    with contextlib.suppress(CardDataError):
        exchange_t0(send, CommandApdu(0x00, 0x88, 0, 0, b"\x01", 256))


class RandomCard:
    """Answers every command with random data and status words (a hostile or broken card)."""

    def __init__(self, answers: list[tuple[bytes, int]]) -> None:
        self.answers = answers

    def transmit(self, command: CommandApdu) -> ResponseApdu:
        data, sw = self.answers.pop(0) if self.answers else (b"", 0x9000)
        return ResponseApdu(data, sw)


@FUZZ
@given(
    st.sampled_from(sorted(PROFILES)),
    st.lists(
        st.tuples(st.binary(max_size=256), st.sampled_from([0x9000, 0x6282, 0x6B00, 0x6A82, 0x6F00, 0x63C1, 0x6A86])),
        max_size=30,
    ),
)
def test_eid_reader_against_a_random_card(profile_name: str, answers) -> None:
    card = EidCard(RandomCard(list(answers)), PROFILES[profile_name])
    for operation in (card.read_identity, card.read_auth_certificate, card.pin_status):
        with contextlib.suppress(CardDataError, CardStatusError):
            operation()

"""APDU encoding, status words as typed errors, TLV parsing and the T=0 exchange rules."""

from __future__ import annotations

import pytest

from kiosk.card import apdu
from kiosk.card.apdu import CardDataError, CommandApdu, ResponseApdu
from kiosk.card.transport import exchange_t0


def test_command_encodings_for_the_four_cases() -> None:
    assert CommandApdu(0x00, 0x20, 0x00, 0x81).to_bytes().hex() == "00200081"
    assert CommandApdu(0x00, 0xB0, 0x01, 0x00, le=256).to_bytes().hex() == "00b0010000"
    assert CommandApdu(0x00, 0xA4, 0x08, 0x0C, b"\x51\x00").to_bytes().hex() == "00a4080c025100"
    assert CommandApdu(0x00, 0x88, 0, 0, b"\x01", 256).to_bytes().hex() == "008800000101" + "00"
    with pytest.raises(ValueError, match="255"):
        CommandApdu(0, 0xD6, 0, 0, bytes(256))


def test_pin_is_redacted_from_the_trace() -> None:
    verify = CommandApdu(0x00, 0x20, 0x00, 0x81, b"1234".ljust(16, b"\xff"), sensitive=True)
    assert verify.redacted_hex() == "00 20 00 81 10 <16 bytes redacted>"
    assert "31 32" not in verify.redacted_hex()


@pytest.mark.parametrize(
    ("sw", "error", "detail"),
    [
        (0x63C2, apdu.WrongPin, "2 tries left"),
        (0x63C0, apdu.PinBlocked, "0 tries left"),
        (0x6983, apdu.PinBlocked, "blocked"),
        (0x6982, apdu.SecurityStatusNotSatisfied, "security status"),
        (0x6A82, apdu.FileNotFound, "not found"),
        (0x6D00, apdu.NotSupported, "instruction"),
        (0x6E00, apdu.NotSupported, "class"),
        (0x6A86, apdu.NotSupported, "P1/P2"),
        (0x6700, apdu.CardStatusError, "wrong length"),
        (0x6F00, apdu.CardStatusError, "no precise"),
        (0x1234, apdu.CardStatusError, "unknown"),
    ],
)
def test_status_words_map_to_typed_errors(sw: int, error: type[Exception], detail: str) -> None:
    with pytest.raises(error, match=detail):
        ResponseApdu(b"", sw).check("op")


def test_wrong_pin_reports_tries_left() -> None:
    err = apdu.status_error(0x63C1)
    assert isinstance(err, apdu.WrongPin)
    assert err.tries_left == 1


def test_response_without_status_word_is_a_data_error() -> None:
    with pytest.raises(CardDataError):
        ResponseApdu.parse(b"\x90")


def test_ber_tlv_nested_and_multibyte_tags() -> None:
    data = apdu.encode_ber_tlv(0x70, apdu.encode_ber_tlv(0x5F01, b"123") + apdu.encode_ber_tlv(0x5F02, bytes(200)))
    (outer,) = apdu.parse_ber_tlv(data)
    assert outer.constructed
    inner = outer.children()
    assert [(t.tag, len(t.value)) for t in inner] == [(0x5F01, 3), (0x5F02, 200)]
    found = apdu.find_tlv([outer], 0x5F01)
    assert found is not None and found.value == b"123"


@pytest.mark.parametrize("bad", ["5F", "5F01", "5F0105AABB", "0180", "5F01 84 00000001", "9F8F8F8F0100"])
def test_ber_tlv_errors(bad: str) -> None:
    with pytest.raises(CardDataError):
        apdu.parse_ber_tlv(bytes.fromhex(bad.replace(" ", "")))


def test_simple_tlv_with_long_length_and_padding() -> None:
    data = apdu.encode_simple_tlv(0x06, b"12345") + apdu.encode_simple_tlv(0x07, bytes(300)) + b"\x00\x00"
    assert [(t, len(v)) for t, v in apdu.parse_simple_tlv(data)] == [(0x06, 5), (0x07, 300)]
    with pytest.raises(CardDataError):
        apdu.parse_simple_tlv(b"\x06\x05123")


class ScriptedLink:
    def __init__(self, answers: list[str]) -> None:
        self.answers = [bytes.fromhex(a) for a in answers]
        self.sent: list[str] = []

    def __call__(self, raw: bytes) -> bytes:
        self.sent.append(raw.hex())
        return self.answers.pop(0)


def test_t0_get_response_chain_concatenates_data() -> None:
    link = ScriptedLink(["6104", "AABBCCDD6102", "EEFF9000"])
    response, steps = exchange_t0(link, CommandApdu(0x00, 0x88, 0, 0, b"\x01\x02", 256))
    assert link.sent == ["00880000020102", "00c0000004", "00c0000002"]  # case 4 goes out without Le
    assert response == ResponseApdu(bytes.fromhex("AABBCCDDEEFF"), 0x9000)
    assert len(steps) == 3


def test_t0_wrong_le_is_resent_with_the_exact_length() -> None:
    link = ScriptedLink(["6C05", "01020304059000"])
    response, _ = exchange_t0(link, CommandApdu(0x00, 0xB0, 0, 0, le=256))
    assert link.sent == ["00b0000000", "00b0000005"]
    assert response.data == bytes.fromhex("0102030405")


def test_t0_endless_61xx_is_a_data_error() -> None:
    link = ScriptedLink(["6101"] + ["006101"] * 100)
    with pytest.raises(CardDataError):
        exchange_t0(link, CommandApdu(0x00, 0x88, 0, 0, b"\x01", 256))


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        (0x80100069, "CardRemovedError"),
        (0x8010000C, "CardRemovedError"),
        (0x80100009, "ReaderGoneError"),
        (0x80100017, "ReaderGoneError"),
        (0x8010001D, "DaemonGoneError"),
        (0x80100013, "DaemonGoneError"),
        (0x8010000B, "ReaderBusyError"),
        (0x80100001, "CardIoError"),
    ],
)
def test_pcsc_result_codes_map_to_typed_io_errors(code: int, kind: str) -> None:
    from kiosk.card.results import FailureReason
    from kiosk.card.session import _failure
    from kiosk.card.transport import error_for

    error = error_for(code, "op")
    assert type(error).__name__ == kind
    expected = {
        "CardRemovedError": FailureReason.CARD_REMOVED,
        "ReaderGoneError": FailureReason.READER_GONE,
        "DaemonGoneError": FailureReason.SERVICE_GONE,
        "ReaderBusyError": FailureReason.READER_BUSY,
        "CardIoError": FailureReason.CARD_REMOVED,
    }[kind]
    assert _failure("step", error).reason is expected

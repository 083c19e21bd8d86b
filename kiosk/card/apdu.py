"""ISO 7816-4 APDUs, status words and BER-TLV: pure data, no I/O.

Every parser here takes untrusted card bytes and either returns a typed value or raises a subclass of
:class:`CardDataError`; nothing else escapes (fuzzed in tests/card/test_fuzz_parsers.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

SW_OK = 0x9000


class CardDataError(Exception):
    """Bytes from the card do not parse (truncated, garbled, or not what the profile describes)."""


class CardStatusError(Exception):
    """The card answered with a status word the operation did not expect."""

    def __init__(self, sw: int, operation: str = "") -> None:
        self.sw = sw
        self.operation = operation
        super().__init__(f"{operation or 'command'}: status {sw:04X} ({describe_sw(sw)})")


class WrongPin(CardStatusError):
    """63Cx: the PIN was wrong (or, for a status query, not yet verified); x tries are left."""

    @property
    def tries_left(self) -> int:
        return self.sw & 0x0F


class PinBlocked(CardStatusError):
    """6983 (authentication method blocked) or 63C0."""


class SecurityStatusNotSatisfied(CardStatusError):
    """6982: e.g. signing before the PIN was verified."""


class FileNotFound(CardStatusError):
    """6A82 (file or application not found)."""


class NotSupported(CardStatusError):
    """6D00/6E00/6A81/6A86/6B00: instruction, class, function or parameters not supported."""


_SW_NAMES = {
    0x9000: "success",
    0x6281: "returned data may be corrupted",
    0x6282: "end of file reached before Le bytes",
    0x6700: "wrong length",
    0x6882: "secure messaging not supported",
    0x6982: "security status not satisfied",
    0x6983: "authentication method blocked",
    0x6984: "reference data not usable",
    0x6985: "conditions of use not satisfied",
    0x6986: "command not allowed",
    0x6A80: "incorrect data",
    0x6A81: "function not supported",
    0x6A82: "file or application not found",
    0x6A86: "incorrect P1/P2",
    0x6A88: "referenced data not found",
    0x6B00: "wrong parameters P1/P2",
    0x6D00: "instruction not supported",
    0x6E00: "class not supported",
    0x6F00: "no precise diagnosis",
}


def describe_sw(sw: int) -> str:
    if sw >> 8 == 0x61:
        return f"{sw & 0xFF} more bytes available"
    if sw >> 8 == 0x6C:
        return f"wrong Le, exact length {sw & 0xFF}"
    if sw & 0xFFF0 == 0x63C0:
        return f"verification failed, {sw & 0x0F} tries left"
    return _SW_NAMES.get(sw, "unknown status")


def status_error(sw: int, operation: str = "") -> CardStatusError:
    """The typed error for a non-success status word."""
    if sw in {0x63C0, 0x6983}:
        return PinBlocked(sw, operation)
    if sw & 0xFFF0 == 0x63C0:
        return WrongPin(sw, operation)
    if sw == 0x6982:
        return SecurityStatusNotSatisfied(sw, operation)
    if sw == 0x6A82:
        return FileNotFound(sw, operation)
    if sw in {0x6D00, 0x6E00, 0x6A81, 0x6A86, 0x6B00}:
        return NotSupported(sw, operation)
    return CardStatusError(sw, operation)


@dataclass(frozen=True)
class CommandApdu:
    """A short (non-extended) command APDU. ``sensitive`` data (a PIN) is never shown in traces."""

    cla: int
    ins: int
    p1: int
    p2: int
    data: bytes = b""
    le: int | None = None  # 1..256 (256 is encoded as 00); None = no response data expected
    sensitive: bool = field(default=False, compare=False)

    def __post_init__(self) -> None:
        for name in ("cla", "ins", "p1", "p2"):
            if not 0 <= getattr(self, name) <= 0xFF:
                raise ValueError(f"{name} out of range")
        if len(self.data) > 255:
            raise ValueError("short APDUs carry at most 255 data bytes (no extended length on T=0 cards)")
        if self.le is not None and not 1 <= self.le <= 256:
            raise ValueError("Le must be 1..256")

    def to_bytes(self) -> bytes:
        out = bytes([self.cla, self.ins, self.p1, self.p2])
        if self.data:
            out += bytes([len(self.data)]) + self.data
        if self.le is not None:
            out += bytes([self.le & 0xFF])
        return out

    def with_le(self, le: int) -> CommandApdu:
        return CommandApdu(self.cla, self.ins, self.p1, self.p2, self.data, le, self.sensitive)

    def redacted_hex(self) -> str:
        """Hex for the APDU trace, with the data field of sensitive commands replaced."""
        if self.sensitive and self.data:
            head = bytes([self.cla, self.ins, self.p1, self.p2, len(self.data)]).hex(" ").upper()
            return f"{head} <{len(self.data)} bytes redacted>"
        return self.to_bytes().hex(" ").upper()


@dataclass(frozen=True)
class ResponseApdu:
    data: bytes
    sw: int

    @classmethod
    def parse(cls, raw: bytes) -> ResponseApdu:
        if len(raw) < 2:
            raise CardDataError(f"response of {len(raw)} bytes has no status word")
        return cls(bytes(raw[:-2]), (raw[-2] << 8) | raw[-1])

    @property
    def sw1(self) -> int:
        return self.sw >> 8

    @property
    def sw2(self) -> int:
        return self.sw & 0xFF

    @property
    def ok(self) -> bool:
        return self.sw == SW_OK

    def check(self, operation: str = "") -> bytes:
        """The data if the status is 9000, else the typed :class:`CardStatusError`."""
        if self.sw != SW_OK:
            raise status_error(self.sw, operation)
        return self.data


# -- BER-TLV (ISO 7816-4 / X.690 subset: definite lengths only) ---------------------------------------------


@dataclass(frozen=True)
class Tlv:
    tag: int
    value: bytes
    constructed: bool

    def children(self) -> list[Tlv]:
        if not self.constructed:
            raise CardDataError(f"tag {self.tag:X} is primitive")
        return parse_ber_tlv(self.value)


MAX_TAG_BYTES = 3


def _read_tag(data: bytes, pos: int) -> tuple[int, bool, int]:
    first = data[pos]
    constructed = bool(first & 0x20)
    tag = first
    pos += 1
    if first & 0x1F == 0x1F:
        count = 1
        while True:
            if pos >= len(data):
                raise CardDataError("truncated tag")
            byte = data[pos]
            tag = (tag << 8) | byte
            pos += 1
            count += 1
            if count > MAX_TAG_BYTES:
                raise CardDataError("tag too long")
            if not byte & 0x80:
                break
    return tag, constructed, pos


def _read_length(data: bytes, pos: int) -> tuple[int, int]:
    if pos >= len(data):
        raise CardDataError("truncated length")
    first = data[pos]
    pos += 1
    if first < 0x80:
        return first, pos
    count = first & 0x7F
    if count == 0:
        raise CardDataError("indefinite length is not allowed in card data")
    if count > 3:
        raise CardDataError("length field too long")
    if pos + count > len(data):
        raise CardDataError("truncated length")
    return int.from_bytes(data[pos : pos + count], "big"), pos + count


def iter_ber_tlv(data: bytes) -> Iterator[Tlv]:
    pos = 0
    while pos < len(data):
        if data[pos] in (0x00, 0xFF):  # padding between objects (ISO 7816-4 5.2.2.1)
            pos += 1
            continue
        tag, constructed, pos = _read_tag(data, pos)
        length, pos = _read_length(data, pos)
        if pos + length > len(data):
            raise CardDataError(f"tag {tag:X}: value of {length} bytes overruns the data")
        yield Tlv(tag, data[pos : pos + length], constructed)
        pos += length


def parse_ber_tlv(data: bytes) -> list[Tlv]:
    return list(iter_ber_tlv(data))


def encode_ber_tlv(tag: int, value: bytes) -> bytes:
    tag_bytes = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")
    n = len(value)
    if n < 0x80:
        length = bytes([n])
    elif n <= 0xFF:
        length = bytes([0x81, n])
    elif n <= 0xFFFF:
        length = bytes([0x82]) + n.to_bytes(2, "big")
    else:
        raise ValueError("value too long")
    return tag_bytes + length + value


def find_tlv(objects: list[Tlv], tag: int) -> Tlv | None:
    """Depth-first search for ``tag`` among ``objects`` and their constructed children."""
    for obj in objects:
        if obj.tag == tag:
            return obj
        if obj.constructed:
            found = find_tlv(obj.children(), tag)
            if found is not None:
                return found
    return None


# -- SIMPLE-TLV (ISO 7816-4 5.2.1: 1-byte tag, length 1 byte or FF + 2 bytes), e.g. the BELPIC ID file --------


def parse_simple_tlv(data: bytes) -> list[tuple[int, bytes]]:
    out: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(data):
        tag = data[pos]
        if tag in (0x00, 0xFF):
            pos += 1  # padding / end of the used part of a fixed-size file
            continue
        if pos + 1 >= len(data):
            raise CardDataError("truncated simple-TLV length")
        length = data[pos + 1]
        pos += 2
        if length == 0xFF:
            if pos + 2 > len(data):
                raise CardDataError("truncated simple-TLV length")
            length = int.from_bytes(data[pos : pos + 2], "big")
            pos += 2
        if pos + length > len(data):
            raise CardDataError(f"simple-TLV tag {tag:02X}: value overruns the data")
        out.append((tag, data[pos : pos + length]))
        pos += length
    return out


def encode_simple_tlv(tag: int, value: bytes) -> bytes:
    if len(value) < 0xFF:
        return bytes([tag, len(value)]) + value
    return bytes([tag, 0xFF]) + len(value).to_bytes(2, "big") + value

"""The card holder's identity data and its encoding in the identity file described by the card profile."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from kiosk.card.apdu import CardDataError, encode_ber_tlv, encode_simple_tlv, parse_ber_tlv, parse_simple_tlv
from kiosk.card.profile import FieldType, IdentityField, IdentityLayout, PinEncoding, PinPolicy, TlvEncoding

MAX_FIELD_CHARS = 200


@dataclass(frozen=True)
class CardIdentity:
    """Identity fields as read from the card (not authenticated by themselves: only the PKI check is)."""

    civil_number: str
    name_en: str
    name_ar: str | None
    birth_date: dt.date
    card_expiry: dt.date | None


def _field_text(raw: bytes, name: str) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CardDataError(f"identity field {name}: not UTF-8") from exc
    if len(text) > MAX_FIELD_CHARS or any(ord(c) < 0x20 for c in text):
        raise CardDataError(f"identity field {name}: implausible text")
    return text.strip()


def _convert(name: str, spec: IdentityField, text: str) -> str | dt.date:
    if spec.type is FieldType.DIGITS:
        if not text.isascii() or not text.isdigit() or not 1 <= len(text) <= 20:
            raise CardDataError(f"identity field {name}: expected digits")
        return text
    if spec.type is FieldType.DATE:
        assert spec.date_format is not None
        try:
            return dt.datetime.strptime(text, spec.date_format).date()
        except ValueError as exc:
            raise CardDataError(f"identity field {name}: not a date in {spec.date_format}") from exc
    if not text:
        raise CardDataError(f"identity field {name}: empty")
    return text


def decode_identity(layout: IdentityLayout, data: bytes) -> CardIdentity:
    """Parse the identity file; any malformed or missing required field is a :class:`CardDataError`."""
    if layout.encoding is TlvEncoding.BER:
        objects = parse_ber_tlv(data)
        if layout.container_tag is not None:
            container = next((o for o in objects if o.tag == layout.container_tag and o.constructed), None)
            if container is None:
                raise CardDataError(f"identity file: no container tag {layout.container_tag:X}")
            objects = container.children()
        values: dict[int, bytes] = {}
        for obj in objects:
            values.setdefault(obj.tag, obj.value)
    else:
        values = {}
        for tag, value in parse_simple_tlv(data):
            values.setdefault(tag, value)

    fields: dict[str, str | dt.date | None] = {}
    for name, spec in layout.fields.items():
        parts = [values.get(tag) for tag in spec.tags]
        if any(p is None for p in parts):
            if spec.optional:
                fields[name] = None
                continue
            raise CardDataError(f"identity field {name}: missing")
        text = " ".join(_field_text(p, name) for p in parts if p is not None).strip()
        fields[name] = _convert(name, spec, text)

    def get(name: str, kind: type) -> object:
        value = fields.get(name)
        if value is not None and not isinstance(value, kind):
            raise CardDataError(f"identity field {name}: wrong type in profile")
        return value

    civil, name_en, birth = get("civil_number", str), get("name_en", str), get("birth_date", dt.date)
    name_ar, expiry = get("name_ar", str), get("card_expiry", dt.date)
    assert isinstance(civil, str) and isinstance(name_en, str) and isinstance(birth, dt.date)
    return CardIdentity(
        civil_number=civil,
        name_en=name_en,
        name_ar=name_ar if isinstance(name_ar, str) else None,
        birth_date=birth,
        card_expiry=expiry if isinstance(expiry, dt.date) else None,
    )


def encode_identity(layout: IdentityLayout, identity: CardIdentity) -> bytes:
    """The identity file a card following ``layout`` would hold (used by the virtual card)."""
    out = b""
    for name, spec in layout.fields.items():
        value = getattr(identity, name)
        if value is None:
            continue
        if isinstance(value, dt.date):
            assert spec.date_format is not None
            text = value.strftime(spec.date_format)
        else:
            text = str(value)
        # Several tags: the first ones take one word each, the last takes the rest.
        words = text.split(" ")
        head = len(spec.tags) - 1
        parts = [*words[:head], " ".join(words[head:])] if len(words) > head else [text, *[""] * head]
        for tag, part in zip(spec.tags, parts, strict=True):
            raw = part.encode("utf-8")
            out += encode_ber_tlv(tag, raw) if layout.encoding is TlvEncoding.BER else encode_simple_tlv(tag, raw)
    if layout.encoding is TlvEncoding.BER and layout.container_tag is not None:
        out = encode_ber_tlv(layout.container_tag, out)
    return out


class PinFormatError(ValueError):
    """The PIN typed by the voter does not fit the card's PIN rules (checked before touching the card)."""


def encode_pin(policy: PinPolicy, pin: str) -> bytes:
    """The VERIFY data field for ``pin`` under the card profile's PIN encoding."""
    if not pin.isascii() or not pin.isdigit() or not policy.min_length <= len(pin) <= policy.max_length:
        raise PinFormatError(f"a PIN is {policy.min_length} to {policy.max_length} digits")
    if policy.encoding is PinEncoding.ASCII_PADDED:
        return pin.encode("ascii").ljust(policy.padded_length, bytes([policy.pad_byte]))
    nibbles = f"2{len(pin):X}{pin}".ljust(16, "F")
    return bytes.fromhex(nibbles)

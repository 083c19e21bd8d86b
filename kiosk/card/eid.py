"""eID card reader: the card operations an authentication needs, driven entirely by the card profile.

Works over any :class:`kiosk.card.transport.ApduChannel` (PC/SC in the kiosk, scripted fakes in tests).
Card misbehaviour raises :class:`CardDataError` / :class:`CardStatusError`; PC/SC failures raise
:class:`CardIoError`. :mod:`kiosk.card.session` turns all of them into :class:`AuthFailure` values.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm

from kiosk.card.apdu import (
    CardDataError,
    CardStatusError,
    CommandApdu,
    PinBlocked,
    ResponseApdu,
    WrongPin,
    encode_ber_tlv,
    status_error,
)
from kiosk.card.identity import CardIdentity, decode_identity, encode_pin
from kiosk.card.profile import CardProfile, SigningMethod
from kiosk.card.transport import ApduChannel

MAX_FILE_BYTES = 16 * 1024


class PinState(enum.Enum):
    TRIES_LEFT = "tries_left"
    VERIFIED = "verified"
    BLOCKED = "blocked"
    UNKNOWN = "unknown"  # the card cannot tell without spending a try


@dataclass(frozen=True)
class PinStatus:
    state: PinState
    tries_left: int | None = None


class EidCard:
    """One card session's operations. Never retries VERIFY by itself: every PIN try is the voter's."""

    def __init__(self, channel: ApduChannel, profile: CardProfile) -> None:
        self.channel = channel
        self.profile = profile
        self._selected_applet: str | None = None

    # -- selection and files ------------------------------------------------------------------------------
    def select_applet(self, name: str) -> None:
        if self._selected_applet == name:
            return
        aid = self.profile.applets[name]
        self.channel.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x0C, aid)).check(f"SELECT {name} applet")
        self._selected_applet = name

    def read_file(self, key: str, expect_der: bool = False) -> bytes:
        """SELECT the file by path, then READ BINARY in chunks of at most ``profile.read_chunk`` bytes."""
        ref = self.profile.files[key]
        if ref.applet is not None:
            self.select_applet(ref.applet)
        self.channel.transmit(CommandApdu(0x00, 0xA4, 0x08, 0x0C, ref.path)).check(f"SELECT {key}")
        chunk = self.profile.read_chunk
        data = b""
        wanted: int | None = None
        while len(data) < MAX_FILE_BYTES:
            if wanted is not None and len(data) >= wanted:
                break
            if len(data) > 0x7FFF:
                raise CardDataError(f"{key}: file too large for READ BINARY offsets")
            ask = chunk if wanted is None else min(chunk, wanted - len(data))
            response = self.channel.transmit(CommandApdu(0x00, 0xB0, len(data) >> 8, len(data) & 0xFF, b"", ask))
            if response.sw in (0x6B00, 0x6282) or (response.sw == 0x6A86 and data):
                data += response.data
                break  # offset beyond / at the end of the file
            data += response.check(f"READ BINARY {key}")
            if expect_der and wanted is None:
                wanted = der_length(data)
            if len(response.data) < ask or not response.data:
                break
        if wanted is not None:
            if len(data) < wanted:
                raise CardDataError(f"{key}: file shorter than its DER header says")
            data = data[:wanted]
        return data

    # -- identity and certificate ---------------------------------------------------------------------------
    def read_identity(self) -> CardIdentity:
        return decode_identity(self.profile.identity, self.read_file(self.profile.identity.file))

    def read_auth_certificate_der(self) -> bytes:
        return self.read_file(self.profile.certificate.file, expect_der=True)

    def read_auth_certificate(self) -> x509.Certificate:
        return parse_certificate(self.read_auth_certificate_der())

    # -- PIN ------------------------------------------------------------------------------------------------
    def _verify(self, data: bytes) -> CommandApdu:
        return CommandApdu(0x00, 0x20, 0x00, self.profile.pin.reference, data, None, sensitive=bool(data))

    def _select_pin_applet(self) -> None:
        ref = self.profile.files[self.profile.certificate.file]
        if ref.applet is not None:
            self.select_applet(ref.applet)

    def pin_status(self) -> PinStatus:
        """Tries left, without spending one (VERIFY with no data), if the profile says the card supports it."""
        if not self.profile.pin.status_by_empty_verify:
            return PinStatus(PinState.UNKNOWN)
        self._select_pin_applet()
        return self._pin_answer(self.channel.transmit(self._verify(b"")), "VERIFY (status)")

    def _pin_answer(self, response: ResponseApdu, operation: str) -> PinStatus:
        """VERIFY's answer: 9000, 63Cx (x bounded by the profile's tries), 6983/63C0; any other status is a
        card error (never "not an ID card": 6A82 here means the PIN reference is missing, not the applet)."""
        if response.ok:
            return PinStatus(PinState.VERIFIED)
        error = status_error(response.sw, operation)
        if isinstance(error, PinBlocked):
            return PinStatus(PinState.BLOCKED, 0)
        if isinstance(error, WrongPin):
            allowed = self.profile.pin.max_tries
            if error.tries_left > allowed:
                raise CardDataError(f"{operation}: card reports {error.tries_left} tries left, at most {allowed} exist")
            return PinStatus(PinState.TRIES_LEFT, error.tries_left)
        raise CardStatusError(response.sw, operation)

    def verify_pin(self, pin: str) -> PinStatus:
        """One VERIFY. Returns VERIFIED, TRIES_LEFT (wrong PIN) or BLOCKED; raises PinFormatError first."""
        data = encode_pin(self.profile.pin, pin)
        self._select_pin_applet()
        return self._pin_answer(self.channel.transmit(self._verify(data)), "VERIFY")

    # -- signing --------------------------------------------------------------------------------------------
    def sign_digest(self, digest: bytes) -> bytes:
        """The card's signature over a SHA-256 ``digest`` with its authentication key (PIN verified first)."""
        if len(digest) != 32:
            raise ValueError("expected a SHA-256 digest")
        self._select_pin_applet()
        signing = self.profile.signing
        if signing.method is SigningMethod.INTERNAL_AUTHENTICATE:
            response = self.channel.transmit(CommandApdu(0x00, 0x88, 0x00, 0x00, digest, 256))
            return _signature(_signing_data(response, "INTERNAL AUTHENTICATE"))
        _signing_data(self.channel.transmit(CommandApdu(0x00, 0x22, 0x41, 0xB6, signing.mse_set_data)), "MSE SET")
        if signing.pso_hash:
            hashed = self.channel.transmit(CommandApdu(0x00, 0x2A, 0x90, 0xA0, encode_ber_tlv(0x90, digest)))
            _signing_data(hashed, "PSO HASH")
            response = self.channel.transmit(CommandApdu(0x00, 0x2A, 0x9E, 0x9A, b"", 256))
        else:
            response = self.channel.transmit(CommandApdu(0x00, 0x2A, 0x9E, 0x9A, digest, 256))
        return _signature(_signing_data(response, "PSO COMPUTE DIGITAL SIGNATURE"))


def _signing_data(response: ResponseApdu, operation: str) -> bytes:
    """The data of a signing step. The PIN was verified just before: a status here (6983 included, which
    means "key or method blocked" on MSE/PSO, not "PIN blocked") is a card error, never a PIN outcome."""
    if response.ok:
        return response.data
    error = status_error(response.sw, operation)
    raise CardStatusError(response.sw, operation) if isinstance(error, PinBlocked | WrongPin) else error


def _signature(data: bytes) -> bytes:
    if not 8 <= len(data) <= 1024:
        raise CardDataError(f"implausible signature length {len(data)}")
    return data


def der_length(prefix: bytes) -> int:
    """Total length of the DER object starting ``prefix`` (a SEQUENCE), from its header alone."""
    if len(prefix) < 2 or prefix[0] != 0x30:
        raise CardDataError("certificate file does not start with a DER SEQUENCE")
    first = prefix[1]
    if first < 0x80:
        return 2 + first
    count = first & 0x7F
    if not 1 <= count <= 3 or len(prefix) < 2 + count:
        raise CardDataError("bad DER length in certificate file")
    return 2 + count + int.from_bytes(prefix[2 : 2 + count], "big")


def parse_certificate(der: bytes) -> x509.Certificate:
    """The certificate, parsed enough that later reads of its fields do not raise (cryptography parses names
    and extensions lazily): malformed DER, invalid UTF-8 in a name, duplicated or malformed extensions are
    all a :class:`CardDataError` here."""
    try:
        cert = x509.load_der_x509_certificate(der)
        for name in (cert.subject, cert.issuer):
            for attribute in name:
                _ = attribute.value
        _ = list(cert.extensions)
        cert.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.DuplicateExtension, x509.InvalidVersion) as exc:
        raise CardDataError(f"certificate does not parse: {exc}") from exc
    return cert

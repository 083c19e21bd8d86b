"""A virtual eID card: ISO 7816-4 command processing for any card profile, with T=0 behaviour.

Our own implementation (not derived from vsmartcard's GPL vicc). It holds one card directory of the test
PKI (identity, certificate, private key, PIN) and answers like a T=0 card: case-4 responses through 61xx +
GET RESPONSE, 6Cxx when Le does not match what is available, PIN tries counted down and blocked at 0.
Adversarial modes make it misbehave in the ways a kiosk must survive.
"""

from __future__ import annotations

import enum
import hashlib
import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, decode_dss_signature

from devtools.test_pki.model import CardFiles
from kiosk.card.apdu import parse_ber_tlv
from kiosk.card.identity import CardIdentity, encode_identity, encode_pin
from kiosk.card.profile import CardProfile, EcdsaFormat


class CardMode(enum.Enum):
    NORMAL = "normal"
    GARBLED_TLV = "garbled_tlv"  # identity file with a broken TLV structure
    UNEXPECTED_SW = "unexpected_sw"  # READ BINARY of the certificate answers 6F00
    TRUNCATED = "truncated"  # certificate file cut in half
    SLOW = "slow"  # every APDU takes `delay` seconds
    WRONG_KEY = "wrong_key"  # signs with a key that is not the certificate's
    SWAPPED_CERT = "swapped_cert"  # holds another person's (valid) certificate
    UNSUPPORTED = "unsupported"  # no applet answers (another kind of card with the same ATR)
    # Adversarial cards (issue 16): each must end in its own reason, within its phase's timeout.
    NEVER_ANSWERS = "never_answers"  # answers the ATR, never an APDU
    NEVER_ANSWERS_VERIFY = "never_answers_verify"  # reads fine, never answers a VERIFY with a PIN
    NEVER_ANSWERS_SIGN = "never_answers_sign"  # reads and verifies the PIN, never answers PSO CDS
    EMPTY_FRAME = "empty_frame"  # answers every APDU with an empty vpcd frame
    ONE_BYTE = "one_byte"  # answers every APDU with a single byte (no status word)
    ENDLESS_61XX = "endless_61xx"  # 61xx to every APDU, GET RESPONSE included
    ENDLESS_6CXX = "endless_6cxx"  # 6Cxx to every APDU, the resend with the "right" Le included
    OVERSIZE = "oversize"  # READ BINARY of the certificate answers 65,000 bytes to Le = 256
    VERIFY_6A82 = "verify_6a82"  # VERIFY answers 6A82 (a PIN reference the card does not have)
    PSO_HASH_6983 = "pso_hash_6983"  # PSO HASH answers 6983
    TRIES_63CF = "tries_63cf"  # the PIN status says 15 tries left (the profile allows 3)


SW_OK = b"\x90\x00"


def _sw(value: int) -> bytes:
    return value.to_bytes(2, "big")


@dataclass
class CardState:
    tries_left: int
    verified: bool = False
    applet: str | None = None
    file: str | None = None
    mse_set: bool = False
    pso_hash: bytes | None = None
    pending: bytes = b""  # response data waiting for GET RESPONSE


@dataclass
class VirtualCard:
    profile: CardProfile
    identity: CardIdentity
    certificate_der: bytes
    private_key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
    pin: str
    mode: CardMode = CardMode.NORMAL
    delay: float = 0.3
    state: CardState = field(init=False)
    apdu_count: int = 0
    powered: bool = False
    busy_seconds: float = 0.0  # time spent computing answers (the "on-card" share in benchmarks)
    atr_override: bytes | None = None  # another card's ATR (unknown to every profile, T=0 or T=1)

    def __post_init__(self) -> None:
        self.state = CardState(self.profile.pin.max_tries)
        self._last_signature: tuple[bytes, bytes] | None = None
        self._files = {
            self.profile.identity.file: self._identity_file(),
            self.profile.certificate.file: self._certificate_file(),
        }
        if self.mode is CardMode.WRONG_KEY:
            self.private_key = (
                ec.generate_private_key(ec.SECP256R1())
                if isinstance(self.private_key, ec.EllipticCurvePrivateKey)
                else rsa.generate_private_key(public_exponent=65537, key_size=2048)
            )

    @classmethod
    def from_files(
        cls, files: CardFiles, profile: CardProfile, mode: CardMode = CardMode.NORMAL, other: CardFiles | None = None
    ) -> VirtualCard:
        """A card for a test-PKI card directory; ``other`` supplies the certificate for SWAPPED_CERT."""
        ident = files.identity
        identity = CardIdentity(ident.civil_number, ident.name_en, ident.name_ar, ident.birth_date, ident.card_expiry)
        cert_source = other if (mode is CardMode.SWAPPED_CERT and other is not None) else files
        der = cert_source.auth.cert().public_bytes(serialization.Encoding.DER)
        return cls(profile, identity, der, files.auth.key(), ident.pin, mode)

    # -- file contents ----------------------------------------------------------------------------------
    def _identity_file(self) -> bytes:
        data = encode_identity(self.profile.identity, self.identity)
        if self.mode is CardMode.GARBLED_TLV:
            return data[:3] + b"\x5f\x83\xff\xff" + data[3:]
        return data

    def _certificate_file(self) -> bytes:
        data = self.certificate_der
        if self.mode is CardMode.TRUNCATED:
            return data[: len(data) // 2]
        return data + b"\xff" * 64  # real certificate EFs are larger than the certificate

    @property
    def atr(self) -> bytes:
        return self.atr_override if self.atr_override is not None else self.profile.atr

    # -- power -----------------------------------------------------------------------------------------
    def power_on(self) -> None:
        tries = self.state.tries_left  # the PIN counter lives in EEPROM: it survives power cycles
        self.state = CardState(tries)
        self.powered = True

    reset = power_on

    def power_off(self) -> None:
        self.power_on()
        self.powered = False

    # -- APDUs -----------------------------------------------------------------------------------------
    def process(self, apdu: bytes) -> bytes | None:
        """The response APDU, or None: the card never answers this command (the link sends nothing)."""
        started = time.perf_counter()
        self.apdu_count += 1
        try:
            return self._misbehave(apdu)
        finally:
            self.busy_seconds += time.perf_counter() - started
            if self.mode is CardMode.SLOW:
                time.sleep(self.delay)

    def _misbehave(self, apdu: bytes) -> bytes | None:
        mode = self.mode
        if mode is CardMode.NEVER_ANSWERS:
            return None
        if mode is CardMode.EMPTY_FRAME:
            return b""
        if mode is CardMode.ONE_BYTE:
            return b"\x90"
        if mode is CardMode.ENDLESS_61XX:
            return _sw(0x6110)
        if mode is CardMode.ENDLESS_6CXX:
            return _sw(0x6C10)
        head = apdu[:4]
        if mode is CardMode.NEVER_ANSWERS_VERIFY and apdu[1:2] == b"\x20" and len(apdu) > 5:
            return None
        if mode is CardMode.NEVER_ANSWERS_SIGN and head[1:4] == b"\x2a\x9e\x9a":
            return None
        if mode is CardMode.VERIFY_6A82 and apdu[1:2] == b"\x20":
            return _sw(0x6A82)
        if mode is CardMode.PSO_HASH_6983 and head[1:4] == b"\x2a\x90\xa0":
            return _sw(0x6983)
        if mode is CardMode.TRIES_63CF and apdu[1:2] == b"\x20" and len(apdu) <= 5:
            return _sw(0x63CF)
        if mode is CardMode.OVERSIZE and apdu[1:2] == b"\xb0" and self.state.file == self.profile.certificate.file:
            return self._files[self.state.file][:1].ljust(65_000, b"\x00") + SW_OK
        return self._dispatch(apdu)

    def _dispatch(self, apdu: bytes) -> bytes:
        if len(apdu) < 4:
            return _sw(0x6700)
        cla, ins, p1, p2 = apdu[:4]
        body = apdu[4:]
        data, le = b"", None
        if len(body) == 1:
            le = body[0] or 256
        elif len(body) > 1:
            lc = body[0]
            data = body[1 : 1 + lc]
            if len(data) != lc or len(body) > lc + 2:
                return _sw(0x6700)
            if len(body) == lc + 2:
                le = body[-1] or 256
        if cla & 0xFC != 0x00:
            return _sw(0x6E00)
        if ins != 0xC0:
            self.state.pending = b""
        handler = {
            0xA4: self._select,
            0xB0: self._read_binary,
            0x20: self._verify,
            0x22: self._mse,
            0x2A: self._pso,
            0x88: self._internal_authenticate,
            0xC0: self._get_response,
        }.get(ins)
        if handler is None:
            return _sw(0x6D00)
        return handler(p1, p2, data, le)

    def _respond(self, payload: bytes, le: int | None, case4: bool) -> bytes:
        """T=0 delivery: case 4 -> 61xx then GET RESPONSE; case 2 with a wrong Le -> 6Cxx."""
        if case4 or le is None:
            self.state.pending = payload
            return _sw(0x6100 | (len(payload) & 0xFF)) if payload else SW_OK
        if le != len(payload):
            return _sw(0x6C00 | (len(payload) & 0xFF))
        return payload + SW_OK

    def _get_response(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        pending = self.state.pending
        if not pending:
            return _sw(0x6985)
        want = le or 256
        if want > len(pending):
            return _sw(0x6C00 | (len(pending) & 0xFF))
        self.state.pending = pending[want:]
        rest = len(self.state.pending)
        return pending[:want] + (_sw(0x6100 | (rest & 0xFF)) if rest else SW_OK)

    def _select(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if self.mode is CardMode.UNSUPPORTED:
            return _sw(0x6A82)
        if p1 == 0x04:
            name = next((n for n, aid in self.profile.applets.items() if aid == data), None)
            if name is None:
                return _sw(0x6A82)
            self.state.applet, self.state.file, self.state.mse_set = name, None, False
            self.state.verified = False  # PIN status is per application
            if p2 & 0x0C == 0x0C:
                return SW_OK
            fci = bytes([0x6F, len(data) + 2, 0x84, len(data)]) + data
            return self._respond(fci, le, case4=True)
        if p1 == 0x08:
            name = next(
                (n for n, f in self.profile.files.items() if f.path == data and f.applet == self.state.applet), None
            )
            if name is None:
                return _sw(0x6A82)
            self.state.file = name
            return SW_OK
        return _sw(0x6A86)

    def _read_binary(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if self.state.file is None:
            return _sw(0x6986)
        if self.mode is CardMode.UNEXPECTED_SW and self.state.file == self.profile.certificate.file:
            return _sw(0x6F00)
        content = self._files[self.state.file]
        offset = (p1 << 8) | p2
        if offset >= len(content):
            return _sw(0x6B00)
        available = content[offset : offset + (le or 256)]
        want = le or 256
        if want > len(available):
            return _sw(0x6C00 | (len(available) & 0xFF))
        return available + SW_OK

    def _expected_pin_block(self) -> bytes:
        return encode_pin(self.profile.pin, self.pin)

    def _verify(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if p2 != self.profile.pin.reference:
            return _sw(0x6A88)
        if not data:
            if not self.profile.pin.status_by_empty_verify:
                return _sw(0x6700)
            if self.state.tries_left == 0:
                return _sw(0x6983)
            return SW_OK if self.state.verified else _sw(0x63C0 | self.state.tries_left)
        if self.state.tries_left == 0:
            return _sw(0x6983)
        if hashlib.sha256(data).digest() == hashlib.sha256(self._expected_pin_block()).digest():
            self.state.tries_left = self.profile.pin.max_tries
            self.state.verified = True
            return SW_OK
        self.state.tries_left -= 1
        self.state.verified = False
        return _sw(0x63C0 | self.state.tries_left)

    def _mse(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if (p1, p2) != (0x41, 0xB6):
            return _sw(0x6A86)
        self.state.mse_set = True
        return SW_OK

    def _pso(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if (p1, p2) == (0x90, 0xA0):
            objects = parse_ber_tlv(data) if data else []
            if len(objects) != 1 or objects[0].tag != 0x90 or len(objects[0].value) != 32:
                return _sw(0x6A80)
            self.state.pso_hash = objects[0].value
            return SW_OK
        if (p1, p2) != (0x9E, 0x9A):
            return _sw(0x6A86)
        if not self.state.verified:
            return _sw(0x6982)
        if not self.state.mse_set:
            return _sw(0x6985)
        digest = data or self.state.pso_hash
        if digest is None or len(digest) != 32:
            return _sw(0x6A80)
        return self._respond(self._sign(digest), le, case4=bool(data))

    def _internal_authenticate(self, p1: int, p2: int, data: bytes, le: int | None) -> bytes:
        if not self.state.verified:
            return _sw(0x6982)
        if len(data) != 32:
            return _sw(0x6A80)
        return self._respond(self._sign(data), le, case4=True)

    def _sign(self, digest: bytes) -> bytes:
        # A 6Cxx answer makes the terminal resend the same command: answer it with the same signature.
        if self._last_signature is not None and self._last_signature[0] == digest:
            return self._last_signature[1]
        signature = self._compute_signature(digest)
        self._last_signature = (digest, signature)
        return signature

    def _compute_signature(self, digest: bytes) -> bytes:
        key = self.private_key
        if isinstance(key, ec.EllipticCurvePrivateKey):
            der = key.sign(digest, ec.ECDSA(Prehashed(hashes.SHA256())))
            if self.profile.signing.ecdsa_format is EcdsaFormat.DER:
                return der
            r, s = decode_dss_signature(der)
            size = (key.curve.key_size + 7) // 8
            return r.to_bytes(size, "big") + s.to_bytes(size, "big")
        return key.sign(digest, padding.PKCS1v15(), Prehashed(hashes.SHA256()))


def load_card(pki_dir: Path, ref: str, profile: CardProfile, mode: CardMode = CardMode.NORMAL) -> VirtualCard:
    """A virtual card for ``ref`` (civil number, staff id or bad/<kind>) from a test PKI directory."""
    from devtools.test_pki.model import load

    pki = load(pki_dir)
    files = pki.card(ref)
    other = None
    if mode is CardMode.SWAPPED_CERT:
        other = next(f for c, f in sorted(pki.voters.items()) if c != files.identity.civil_number)
    return VirtualCard.from_files(files, profile, mode, other)


__all__ = ["CardMode", "VirtualCard", "load_card", "x509"]

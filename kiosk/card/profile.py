"""Card profiles: everything card-specific (AIDs, paths, PIN rules, signing method) as data.

A profile is a TOML file in config/cards/ parsed strictly into frozen dataclasses: unknown keys, missing
keys and out-of-range values are a :class:`ProfileError` naming the file and the key.
"""

from __future__ import annotations

import enum
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

# The profiles shipped with the code (package data of ``config``), found through importlib.resources.
PROFILE_DIR = Path(str(resources.files("config") / "cards"))
IDENTITY_FIELDS = ("civil_number", "name_ar", "name_en", "birth_date", "card_expiry")


class ProfileError(ValueError):
    """A card profile file is invalid."""


class TlvEncoding(enum.Enum):
    BER = "ber-tlv"
    SIMPLE = "simple-tlv"


class FieldType(enum.Enum):
    TEXT = "text"
    DIGITS = "digits"
    DATE = "date"


class PinEncoding(enum.Enum):
    ASCII_PADDED = "ascii-padded"  # IAS: ASCII digits, padded with pad_byte to padded_length
    ISO9564_FORMAT2 = "iso9564-format2"  # 0x2N, BCD digits, F-padded to 8 bytes (BELPIC, many EU cards)


class SigningMethod(enum.Enum):
    INTERNAL_AUTHENTICATE = "internal-authenticate"  # 00 88 00 00 <digest>
    MSE_PSO_CDS = "mse-pso-cds"  # MSE SET 00 22 41 B6, [PSO HASH 00 2A 90 A0], PSO CDS 00 2A 9E 9A


class EcdsaFormat(enum.Enum):
    RAW = "raw"  # r || s, each the curve size (usual on cards)
    DER = "der"


@dataclass(frozen=True)
class FileRef:
    """An elementary file: optionally inside an applet (selected by AID first), then a path from the MF."""

    applet: str | None
    path: bytes  # file ids after 3F00, concatenated (SELECT by path, P1 = 08)


@dataclass(frozen=True)
class IdentityField:
    tags: tuple[int, ...]  # several tags are joined with a space (e.g. first names + surname)
    type: FieldType
    date_format: str | None
    optional: bool


@dataclass(frozen=True)
class IdentityLayout:
    file: str
    encoding: TlvEncoding
    container_tag: int | None  # BER-TLV: the constructed tag holding the fields, if any
    fields: Mapping[str, IdentityField]


@dataclass(frozen=True)
class PinPolicy:
    reference: int
    encoding: PinEncoding
    padded_length: int
    pad_byte: int
    min_length: int
    max_length: int
    max_tries: int
    status_by_empty_verify: bool


@dataclass(frozen=True)
class Signing:
    method: SigningMethod
    hash: str
    ecdsa_format: EcdsaFormat
    mse_set_data: bytes
    pso_hash: bool


@dataclass(frozen=True)
class CertificateCheck:
    file: str
    civil_number_attribute: str  # "serialNumber"
    civil_number_prefix: str
    check_name_en: bool  # CN == name_en
    check_name_ar: bool  # givenName + " " + surname == name_ar


@dataclass(frozen=True)
class Timeouts:
    """Time limits per phase of a card session, in seconds; each ends in a notice and a released reader.

    ``read``: reading the identity file and certificate and the PIN status; ``pin``: one VERIFY;
    ``sign``: MSE SET, PSO HASH and the signature (a real card needs well under a second for each).
    """

    read: float
    pin: float
    sign: float


@dataclass(frozen=True)
class CardProfile:
    name: str
    title: str
    verified_against_real_card: bool
    sources: tuple[str, ...]
    atr: bytes
    read_chunk: int
    applets: Mapping[str, bytes]
    files: Mapping[str, FileRef]
    identity: IdentityLayout
    pin: PinPolicy
    signing: Signing
    certificate: CertificateCheck
    timeouts: Timeouts


class _Table:
    """Strict reader over one TOML table: every key must be consumed, types are checked."""

    def __init__(self, data: Mapping[str, Any], where: str) -> None:
        self.data = dict(data)
        self.where = where
        self.used: set[str] = set()

    def _get(self, key: str, kind: type | tuple[type, ...], default: Any = ...) -> Any:
        self.used.add(key)
        if key not in self.data:
            if default is ...:
                raise ProfileError(f"{self.where}: missing key {key!r}")
            return default
        value = self.data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ProfileError(f"{self.where}.{key}: expected {getattr(kind, '__name__', kind)}, got {value!r}")
        return value

    def text(self, key: str, default: Any = ...) -> Any:
        return self._get(key, str, default)

    def flag(self, key: str, default: Any = ...) -> Any:
        return self._get(key, bool, default)

    def integer(self, key: str, lo: int, hi: int, default: Any = ...) -> Any:
        value = self._get(key, int, default)
        if value is not None and not lo <= value <= hi:
            raise ProfileError(f"{self.where}.{key}: {value} not in {lo}..{hi}")
        return value

    def hex(self, key: str, default: Any = ...) -> bytes:
        text = self._get(key, str, default)
        try:
            return bytes.fromhex(text)
        except ValueError as exc:
            raise ProfileError(f"{self.where}.{key}: not hex: {text!r}") from exc

    def seconds(self, key: str, lo: float, hi: float) -> float:
        value = self._get(key, (int, float))
        if isinstance(value, bool) or not lo <= value <= hi:
            raise ProfileError(f"{self.where}.{key}: {value!r} not in {lo}..{hi} seconds")
        return float(value)

    def table(self, key: str) -> _Table:
        return _Table(self._get(key, dict), f"{self.where}.{key}")

    def enum(self, key: str, kind: type[enum.Enum], default: Any = ...) -> Any:
        text = self._get(key, str, default)
        if isinstance(text, kind):
            return text
        try:
            return kind(text)
        except ValueError as exc:
            allowed = ", ".join(str(m.value) for m in kind)
            raise ProfileError(f"{self.where}.{key}: {text!r} is not one of {allowed}") from exc

    def done(self) -> None:
        unknown = set(self.data) - self.used
        if unknown:
            raise ProfileError(f"{self.where}: unknown key(s) {', '.join(sorted(unknown))}")


def _hex_tag(text: Any, where: str) -> int:
    if not isinstance(text, str):
        raise ProfileError(f"{where}: tag must be a hex string")
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise ProfileError(f"{where}: not hex: {text!r}") from exc
    if not 1 <= len(raw) <= 3:
        raise ProfileError(f"{where}: tags are 1..3 bytes")
    return int.from_bytes(raw, "big")


def parse_profile(data: Mapping[str, Any], where: str) -> CardProfile:
    top = _Table(data, where)
    applets_t = top.table("applets")
    applets = {key: applets_t.hex(key) for key in list(applets_t.data)}
    applets_t.done()
    for key, aid in applets.items():
        if not 5 <= len(aid) <= 16:
            raise ProfileError(f"{where}.applets.{key}: an AID is 5..16 bytes")

    files_t = top.table("files")
    files: dict[str, FileRef] = {}
    for key in list(files_t.data):
        ft = files_t.table(key)
        applet = ft.text("applet", None)
        if applet is not None and applet not in applets:
            raise ProfileError(f"{ft.where}.applet: no applet {applet!r}")
        path = ft.hex("path")
        if not path or len(path) % 2 or len(path) > 16:
            raise ProfileError(f"{ft.where}.path: a path is 1..8 two-byte file ids (after 3F00)")
        files[key] = FileRef(applet, path)
        ft.done()
    files_t.done()

    it = top.table("identity")
    identity_file = it.text("file")
    if identity_file not in files:
        raise ProfileError(f"{it.where}.file: no file {identity_file!r}")
    encoding = it.enum("encoding", TlvEncoding)
    container = it.text("container_tag", None)
    fields_t = it.table("fields")
    fields: dict[str, IdentityField] = {}
    for key in list(fields_t.data):
        if key not in IDENTITY_FIELDS:
            raise ProfileError(f"{fields_t.where}: unknown identity field {key!r}")
        f = fields_t.table(key)
        tags_raw = f._get("tags", list)
        if not tags_raw:
            raise ProfileError(f"{f.where}.tags: at least one tag")
        ftype = f.enum("type", FieldType)
        date_format = f.text("date_format", None)
        if (ftype is FieldType.DATE) != (date_format is not None):
            raise ProfileError(f"{f.where}: date_format is required for, and only for, type = 'date'")
        fields[key] = IdentityField(
            tuple(_hex_tag(t, f"{f.where}.tags") for t in tags_raw), ftype, date_format, f.flag("optional", False)
        )
        f.done()
    fields_t.done()
    for required in ("civil_number", "name_en", "birth_date"):
        if required not in fields:
            raise ProfileError(f"{fields_t.where}: missing required field {required!r}")
    identity = IdentityLayout(
        identity_file,
        encoding,
        _hex_tag(container, f"{it.where}.container_tag") if container else None,
        MappingProxyType(fields),
    )
    it.done()

    pt = top.table("pin")
    pin = PinPolicy(
        reference=pt.integer("reference", 0, 0xFF),
        encoding=pt.enum("encoding", PinEncoding),
        padded_length=pt.integer("padded_length", 1, 64),
        pad_byte=pt.integer("pad_byte", 0, 0xFF),
        min_length=pt.integer("min_length", 1, 16),
        max_length=pt.integer("max_length", 1, 16),
        max_tries=pt.integer("max_tries", 1, 15),
        status_by_empty_verify=pt.flag("status_by_empty_verify"),
    )
    pt.done()
    if pin.min_length > pin.max_length:
        raise ProfileError(f"{pt.where}: need min_length <= max_length")
    if pin.encoding is PinEncoding.ASCII_PADDED and pin.max_length > pin.padded_length:
        raise ProfileError(f"{pt.where}: need max_length <= padded_length")
    if pin.encoding is PinEncoding.ISO9564_FORMAT2 and (pin.padded_length != 8 or pin.max_length > 14):
        raise ProfileError(f"{pt.where}: ISO 9564 format 2 blocks are 8 bytes and hold up to 14 digits")

    st = top.table("signing")
    signing = Signing(
        method=st.enum("method", SigningMethod),
        hash=st.text("hash"),
        ecdsa_format=st.enum("ecdsa_format", EcdsaFormat),
        mse_set_data=st.hex("mse_set_data", ""),
        pso_hash=st.flag("pso_hash", False),
    )
    st.done()
    if signing.hash != "sha256":
        raise ProfileError(f"{st.where}.hash: only 'sha256' is supported")
    if signing.method is SigningMethod.MSE_PSO_CDS and not signing.mse_set_data:
        raise ProfileError(f"{st.where}.mse_set_data: required for mse-pso-cds")

    ct = top.table("certificate")
    certificate = CertificateCheck(
        file=ct.text("file"),
        civil_number_attribute=ct.text("civil_number_attribute"),
        civil_number_prefix=ct.text("civil_number_prefix", ""),
        check_name_en=ct.flag("check_name_en"),
        check_name_ar=ct.flag("check_name_ar"),
    )
    ct.done()
    if certificate.file not in files:
        raise ProfileError(f"{ct.where}.file: no file {certificate.file!r}")
    if certificate.civil_number_attribute != "serialNumber":
        raise ProfileError(f"{ct.where}.civil_number_attribute: only 'serialNumber' is supported")

    tt = top.table("timeouts")
    timeouts = Timeouts(
        read=tt.seconds("read_seconds", 0.1, 120),
        pin=tt.seconds("pin_seconds", 0.1, 120),
        sign=tt.seconds("sign_seconds", 0.1, 120),
    )
    tt.done()

    atr = top.hex("atr")
    if not 2 <= len(atr) <= 33:
        raise ProfileError(f"{where}.atr: an ATR is 2..33 bytes")
    sources = top._get("sources", list)
    if not all(isinstance(s, str) for s in sources):
        raise ProfileError(f"{where}.sources: a list of strings")
    profile = CardProfile(
        name=top.text("name"),
        title=top.text("title"),
        verified_against_real_card=top.flag("verified_against_real_card"),
        sources=tuple(sources),
        atr=atr,
        read_chunk=top.integer("read_chunk", 1, 256),
        applets=MappingProxyType(applets),
        files=MappingProxyType(files),
        identity=identity,
        pin=pin,
        signing=signing,
        certificate=certificate,
        timeouts=timeouts,
    )
    top.done()
    return profile


def load_profile(path: Path) -> CardProfile:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{path}: {exc}") from exc
    profile = parse_profile(data, str(path))
    if profile.name != path.stem:
        raise ProfileError(f"{path}: name {profile.name!r} must match the file name")
    return profile


def load_all_profiles(directory: Path = PROFILE_DIR) -> list[CardProfile]:
    """Every profile in ``directory`` (config/cards/), sorted by name; the ATR chooses among them."""
    return [load_profile(path) for path in sorted(directory.glob("*.toml"))]


def profile_for_atr(profiles: Sequence[CardProfile], atr: bytes) -> CardProfile | None:
    """The profile whose ATR is exactly ``atr`` (None: "this card is not supported")."""
    return next((p for p in profiles if p.atr == atr), None)


def load_named_profile(name: str, directory: Path = PROFILE_DIR) -> CardProfile:
    """``load_named_profile("oman_ias")`` reads config/cards/oman_ias.toml."""
    if not name.replace("_", "").isalnum():
        raise ProfileError(f"bad profile name {name!r}")
    return load_profile(directory / f"{name}.toml")

"""The voter's voting credential: an Ed25519 key made on this device on first use, kept encrypted at rest.

Belenios-style (docs/remote-voting.md, section 5, ``POST /r1/credentials``): the public half is registered with
the collector under a card signature; ballots are signed with the private half, so the public record shows
credential-signed ballots and no identity. The private key never leaves the device.

At rest the key is a PKCS#8 PEM encrypted with the voter's device passphrase (``cryptography``'s
``BestAvailableEncryption``: a password-based KDF and AES-256), written with mode 0600 into the app's data
directory, one file per election. A wrong passphrase or a damaged file is a :class:`CredentialError`, never a
new key silently made over the old one (a new key would void the registered credential).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

MIN_PASSPHRASE_CHARS: Final = 8
MAX_KEY_FILE_BYTES: Final = 4096


class CredentialError(Exception):
    """The credential key cannot be made, read or unlocked; the message says why, for the voter."""


@dataclass(frozen=True)
class Credential:
    key: Ed25519PrivateKey

    @property
    def public_bytes(self) -> bytes:
        return self.key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)

    @property
    def public_hex(self) -> str:
        return self.public_bytes.hex()

    def sign(self, message: bytes) -> bytes:
        return self.key.sign(message)


def key_path(data_dir: Path, election_id: str) -> Path:
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in election_id)
    return data_dir / f"credential-{safe}.pem"


def load_or_create(data_dir: Path, election_id: str, passphrase: str) -> tuple[Credential, bool]:
    """The election's credential on this device, made now if there is none; ``True`` when it was made now."""
    if len(passphrase) < MIN_PASSPHRASE_CHARS:
        raise CredentialError(f"the device passphrase must have at least {MIN_PASSPHRASE_CHARS} characters")
    path = key_path(data_dir, election_id)
    secret = passphrase.encode("utf-8")
    if path.exists():
        try:
            if path.stat().st_size > MAX_KEY_FILE_BYTES:
                raise CredentialError(f"the credential file {path} is too large to be a key")
            data = path.read_bytes()
        except OSError as exc:
            raise CredentialError(f"the credential file {path} cannot be read ({exc.strerror})") from None
        try:
            key = serialization.load_pem_private_key(data, password=secret)
        except (ValueError, TypeError):
            raise CredentialError(
                "the credential cannot be unlocked: wrong passphrase, or the file is damaged"
            ) from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CredentialError(f"the credential file {path} does not hold an Ed25519 key")
        return Credential(key), False
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(secret),
    )
    try:
        data_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(pem)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        raise CredentialError(f"the credential cannot be saved in {data_dir} ({exc.strerror})") from None
    return Credential(key), True

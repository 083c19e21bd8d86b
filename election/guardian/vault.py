"""Guardian secrets at rest: scrypt-derived key, AES-256-GCM, the guardian's sequence number as associated data."""

from __future__ import annotations

from typing import Any, Final

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

VAULT_FORMAT: Final = "sanduq-guardian-vault-1"
SCRYPT_N: Final = 2**15


class VaultError(ValueError):
    """Wrong passphrase, or the vault file was changed or is malformed."""


def _key(passphrase: bytes, salt: bytes, n: int) -> bytes:
    return Scrypt(salt=salt, length=32, n=n, r=8, p=1).derive(passphrase)


def seal(
    secret: bytes, passphrase: bytes, *, sequence: int, salt: bytes, nonce: bytes, n: int = SCRYPT_N
) -> dict[str, Any]:
    """Encrypt ``secret``; ``salt`` (16 bytes) and ``nonce`` (12 bytes) are fresh random bytes from the caller."""
    if len(passphrase) < 8:
        raise VaultError("the passphrase must be at least 8 bytes")
    aad = f"{VAULT_FORMAT}:{sequence}".encode()
    ciphertext = AESGCM(_key(passphrase, salt, n)).encrypt(nonce, secret, aad)
    return {
        "format": VAULT_FORMAT,
        "sequence": sequence,
        "kdf": {"name": "scrypt", "n": n, "r": 8, "p": 1, "salt": salt.hex()},
        "nonce": nonce.hex(),
        "ciphertext": ciphertext.hex(),
    }


def open_vault(data: Any, passphrase: bytes) -> bytes:
    try:
        if data["format"] != VAULT_FORMAT or data["kdf"]["name"] != "scrypt":
            raise VaultError("not a guardian vault")
        key = _key(passphrase, bytes.fromhex(data["kdf"]["salt"]), int(data["kdf"]["n"]))
        aad = f"{VAULT_FORMAT}:{int(data['sequence'])}".encode()
        return AESGCM(key).decrypt(bytes.fromhex(data["nonce"]), bytes.fromhex(data["ciphertext"]), aad)
    except InvalidTag:
        raise VaultError("wrong passphrase, or the vault was modified") from None
    except (KeyError, TypeError, ValueError) as exc:
        raise VaultError(f"malformed vault ({exc})") from None

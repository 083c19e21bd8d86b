"""A ceremony directory for ``python -m election.guardian`` holding the guardians of an in-process key ceremony
(``devtools.sample_election.run_key_ceremony``), their secrets sealed in vaults as ``commit`` and ``verify-shares``
leave them: lets a test run the real decryption CLI without running every ceremony step first. TEST MATERIAL."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from devtools.sample_election import GuardianSecrets
from election.canonical import canonical_json
from election.context import ElectionContext
from election.guardian.vault import seal
from election.keyceremony import GuardianRecord

SCRYPT_N = 1024  # the vaults' test cost; the CLI takes it with --scrypt-n


def write_ceremony_dir(
    where: Path,
    manifest_hash: str,
    context: ElectionContext,
    records: Sequence[GuardianRecord],
    secrets: Sequence[GuardianSecrets],
    passphrase: str,
) -> Path:
    (where / "guardians").mkdir(parents=True)
    (where / "private").mkdir()
    n, k = context.number_of_guardians, context.quorum
    (where / "ceremony.json").write_bytes(
        canonical_json({"manifest_hash": manifest_hash, "number_of_guardians": n, "quorum": k})
    )
    (where / "context.json").write_bytes(canonical_json(context.to_dict()))
    for record in records:
        (where / "guardians" / f"guardian-{record.sequence}.json").write_bytes(canonical_json(record.to_dict()))
    for secret in secrets:
        vault = {
            "coefficients": [a.hex() for a in secret.polynomial.coefficients],
            "box_key": "00" * 32,  # the ceremony's share boxes are not needed for decryption
            "received": {str(j): value.hex() for j, value in secret.received.items()},
        }
        sealed = seal(canonical_json(vault), passphrase.encode(), sequence=secret.sequence, salt=bytes(16),
                      nonce=bytes(12), n=SCRYPT_N)  # fmt: skip
        (where / "private" / f"guardian-{secret.sequence}.vault").write_bytes(canonical_json(sealed))
    return where

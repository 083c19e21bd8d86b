"""A whole 2-of-3 ceremony and decryption through `python -m election.guardian`, one guardian step at a time."""

from __future__ import annotations

import json

import pytest

from devtools.sample_election import random_plaintext
from devtools.sample_election.kiosks import sample_kiosk_statements
from devtools.sample_record import SeededRandom, build_test_manifest
from election.ballot import encrypt_ballot
from election.canonical import canonical_json
from election.confirmation import confirmation_code, genesis_code
from election.decryption import PartialDecryption, decrypt_tally
from election.guardian.__main__ import main
from election.guardian.vault import VaultError, open_vault, seal
from election.keyceremony import GuardianRecord
from election.record import ChainEntry, ElectionRecord, read_context, write_record
from election.tally import TallyAccumulator


def g(ceremony, command, sequence, passphrase_file, *extra):
    args = ["--ceremony", str(ceremony), command, "--sequence", str(sequence)]
    args += ["--passphrase-file", str(passphrase_file), "--scrypt-n", "1024", *extra]
    return main(args)


def test_ceremony_and_decryption_from_files(tmp_path, capsys) -> None:
    manifest = build_test_manifest()
    ceremony = tmp_path / "ceremony"
    (tmp_path / "manifest.json").write_bytes(canonical_json(manifest.to_dict()))
    pw = tmp_path / "pw"
    pw.write_text("correct horse battery staple\n")
    assert main(["--ceremony", str(ceremony), "init", "--manifest", str(tmp_path / "manifest.json"),
                 "--guardians", "3", "--quorum", "2"]) == 0  # fmt: skip
    for i in (1, 2, 3):
        assert g(ceremony, "commit", i, pw, "--name", f"G{i}") == 0
    assert "PRIVATE" not in json.dumps(json.loads((ceremony / "guardians" / "guardian-1.json").read_text()))
    for i in (1, 2, 3):
        assert g(ceremony, "share", i, pw) == 0

    # Guardian 1 sends guardian 3 a corrupted share: guardian 3 complains, publishing is blocked.
    bad = ceremony / "shares" / "1-to-3.json"
    good = bad.read_text()
    data = json.loads(good)
    data["ciphertext"] = data["ciphertext"][:-2] + ("00" if data["ciphertext"][-2:] != "00" else "11")
    bad.write_text(json.dumps(data))
    for i in (1, 2):
        assert g(ceremony, "verify-shares", i, pw) == 0
    assert g(ceremony, "verify-shares", 3, pw) == 1
    assert (ceremony / "complaints" / "3-against-1.json").exists()
    assert main(["--ceremony", str(ceremony), "publish-key"]) == 1
    # Guardian 1 answers by revealing the share; guardian 3 checks and takes it.
    assert g(ceremony, "answer-complaint", 1, pw, "--recipient", "3") == 0
    assert g(ceremony, "accept-revealed", 3, pw, "--sender", "1") == 0
    assert main(["--ceremony", str(ceremony), "publish-key"]) == 0

    context = read_context(ceremony)
    rnd = SeededRandom(4)
    acc = TallyAccumulator(context, manifest)
    plaintexts = []
    kiosk = manifest.kiosks[0].id
    genesis = genesis_code(context.base_hash, kiosk)
    chain: list[ChainEntry] = []
    for i in range(6):
        plain = random_plaintext(manifest, manifest.ballot_styles[i % 3].id, rnd)
        plaintexts.append(plain)
        ballot = encrypt_ballot(context, manifest, plain, ballot_id=f"b{i}", seed=rnd(32))
        acc.add(ballot)
        chain.append((ballot, confirmation_code(genesis, kiosk, ballot), None))
    # the record before decryption, as the office serves it to the guardians (GET /api/guardian/record)
    record = tmp_path / "record"
    guardians = tuple(GuardianRecord.from_dict(json.loads(p.read_text())) for p in
                      sorted((ceremony / "guardians").glob("*.json")))  # fmt: skip
    codes = [(entry[1].hex(), "cast") for entry in chain if isinstance(entry, tuple)]
    kiosks = sample_kiosk_statements(context.base_hash, {kiosk: [codes]}, rnd)
    write_record(
        record,
        ElectionRecord(manifest, context, guardians, {kiosk: (tuple(chain),)}, acc.result(), (), None, kiosks=kiosks),
    )
    out = tmp_path / "shares"
    # Guardian 2 is absent: 1 and 3 decrypt and both compensate for 2.
    for i in (1, 3):
        assert g(ceremony, "decrypt-share", i, pw, str(record), "--out", str(out), "--jobs", "1") == 0
        assert g(ceremony, "compensate", i, pw, str(record), "--out", str(out), "--missing", "2", "--jobs", "1") == 0
    shares = [PartialDecryption.from_dict(json.loads(p.read_text())) for p in sorted(out.glob("*.json"))]
    result = decrypt_tally(context, manifest, acc.result(), shares)
    for contest in manifest.contests:
        expected = {
            k: sum(
                k in p.chosen(contest.id)
                for p in plaintexts
                if contest.id in manifest.styles_by_id[p.style_id].contest_ids
            )
            for k in contest.selection_ids
        }
        assert result.contests[contest.id].votes == expected
    capsys.readouterr()


def test_wrong_passphrase_and_modified_vault_are_refused() -> None:
    vault = seal(b"secret", b"passphrase-1", sequence=1, salt=bytes(16), nonce=bytes(12), n=1024)
    assert open_vault(vault, b"passphrase-1") == b"secret"
    with pytest.raises(VaultError):
        open_vault(vault, b"passphrase-2")
    with pytest.raises(VaultError):
        open_vault({**vault, "sequence": 2}, b"passphrase-1")
    with pytest.raises(VaultError):
        seal(b"secret", b"short", sequence=1, salt=bytes(16), nonce=bytes(12))

"""Card profiles load strictly: a typo in a profile is an error naming the key, never a silent default."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from kiosk.card.profile import (
    PROFILE_DIR,
    PinEncoding,
    ProfileError,
    SigningMethod,
    TlvEncoding,
    load_named_profile,
    load_profile,
    parse_profile,
)


def test_oman_profile_carries_the_public_facts_and_says_it_is_unverified() -> None:
    profile = load_named_profile("oman_ias")
    assert profile.verified_against_real_card is False
    assert profile.atr.hex(" ").upper() == "3B 7A 97 00 00 80 65 B0 85 20 05 02 72 D6 43"
    assert profile.applets["pki"].hex().upper() == "A000000018" + "0C000001634200"
    assert profile.pin.reference == 0x81 and profile.pin.padded_length == 16
    assert profile.signing.method is SigningMethod.MSE_PSO_CDS and profile.signing.pso_hash
    assert profile.read_chunk <= 256


def test_belpic_profile_is_a_different_card_described_by_the_same_schema() -> None:
    profile = load_named_profile("belpic")
    assert profile.identity.encoding is TlvEncoding.SIMPLE
    assert profile.pin.encoding is PinEncoding.ISO9564_FORMAT2
    assert profile.files["auth_certificate"].path.hex().upper() == "DF005038"


def _raw(name: str = "oman_ias") -> dict:
    return tomllib.loads((PROFILE_DIR / f"{name}.toml").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(colour="red"), "unknown key"),
        (lambda d: d["pin"].update(max_tries=0), "max_tries"),
        (lambda d: d["pin"].pop("reference"), "missing key 'reference'"),
        (lambda d: d["applets"].update(pki="A0 00 ZZ"), "not hex"),
        (lambda d: d["signing"].update(method="telepathy"), "not one of"),
        (lambda d: d["files"]["identity"].update(applet="nope"), "no applet"),
        (lambda d: d["identity"]["fields"].pop("civil_number"), "civil_number"),
        (lambda d: d["identity"]["fields"]["birth_date"].pop("date_format"), "date_format"),
        (lambda d: d.update(verified_against_real_card="no"), "expected bool"),
        (lambda d: d.update(read_chunk=300), "read_chunk"),
    ],
)
def test_invalid_profiles_are_refused_with_the_key_named(mutate, message: str) -> None:
    data = _raw()
    mutate(data)
    with pytest.raises(ProfileError, match=message):
        parse_profile(data, "test")


def test_profile_name_must_match_its_file(tmp_path: Path) -> None:
    text = (PROFILE_DIR / "belpic.toml").read_text(encoding="utf-8")
    (tmp_path / "other.toml").write_text(text, encoding="utf-8")
    with pytest.raises(ProfileError, match="must match"):
        load_profile(tmp_path / "other.toml")


def test_broken_toml_is_a_profile_error(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("name = ", encoding="utf-8")
    with pytest.raises(ProfileError):
        load_profile(tmp_path / "x.toml")

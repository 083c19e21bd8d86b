"""The election package carries what the kiosk's card check needs offline: roots, CAs, CRLs of every level
and the policy OIDs of trust/card-policies.json, which decide staff CAs (not their names)."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from devtools import test_pki
from election.package import CARD_POLICIES, ElectionPackage, PackageError, load_package, write_package
from kiosk.adapters.card import trust_anchors_of
from kiosk.card.pki import CertificateAccepted, check_certificate
from kiosk.card.results import AuthFailure, FailureReason
from sync.staff_roles import STAFF_CA_POLICY_OID, TEST_EID_AUTH_POLICY_OID, StaffRole
from tests.package.conftest import CREATED, package_files, small_manifest_dict
from tools.trust_material import load_trust

NOW = dt.datetime(2027, 10, 27, 6, 0, tzinfo=dt.UTC)


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> test_pki.TestPki:
    return test_pki.generate(tmp_path_factory.mktemp("pkg") / "pki", test_pki.synthetic_voters(2, NOW), [], now=NOW)


def _signed_and_loaded(pki: test_pki.TestPki, policies: bytes | None, with_root_crl: bool = True) -> ElectionPackage:
    """A package with the card trust material as tools/build_package.py packages the test PKI's trust directory
    (tools.trust_material), its card policies replaced (or left out), signed and loaded."""
    files = package_files(small_manifest_dict())
    files.update(load_trust(pki.trust_dir).package_files())
    if not with_root_crl:
        del files["crl/national-root.crl"]
    files.pop(CARD_POLICIES)
    if policies is not None:
        files[CARD_POLICIES] = policies
    key = Ed25519PrivateKey.generate()
    return load_package(write_package(files, key, created=CREATED), key.public_key())


POLICIES = json.dumps({"staff_ca_policy_oids": [STAFF_CA_POLICY_OID], "auth_policy_oids": [TEST_EID_AUTH_POLICY_OID]})


def test_staff_roles_and_voters_from_a_package(pki: test_pki.TestPki) -> None:
    package = _signed_and_loaded(pki, POLICIES.encode())
    anchors = trust_anchors_of(package)
    staff = check_certificate(pki.staff["staff-cm-1"].auth.cert(), anchors, NOW)
    assert isinstance(staff, CertificateAccepted) and staff.role is StaffRole.COMMITTEE_MEMBER
    voter = check_certificate(pki.voters["10000001"].auth.cert(), anchors, NOW)
    assert isinstance(voter, CertificateAccepted) and voter.role is None


def test_a_package_naming_another_staff_ca_policy_gives_no_staff_role(pki: test_pki.TestPki) -> None:
    other = json.dumps({"staff_ca_policy_oids": ["1.2.3.4"], "auth_policy_oids": [TEST_EID_AUTH_POLICY_OID]})
    anchors = trust_anchors_of(_signed_and_loaded(pki, other.encode()))
    result = check_certificate(pki.staff["staff-cm-1"].auth.cert(), anchors, NOW)
    assert isinstance(result, AuthFailure) and result.reason is FailureReason.UNTRUSTED


def test_without_the_roots_crl_every_card_is_refused(pki: test_pki.TestPki) -> None:
    anchors = trust_anchors_of(_signed_and_loaded(pki, POLICIES.encode(), with_root_crl=False))
    result = check_certificate(pki.voters["10000001"].auth.cert(), anchors, NOW)
    assert isinstance(result, AuthFailure) and result.reason is FailureReason.REVOCATION_STALE


@pytest.mark.parametrize(
    "bad",
    [b"[]", b'{"staff_ca_policy_oids": []}', b'{"staff_ca_policy_oids": ["x.y"], "auth_policy_oids": []}', b"\xff"],
)
def test_a_malformed_card_policies_file_refuses_the_package(pki: test_pki.TestPki, bad: bytes) -> None:
    with pytest.raises(PackageError) as refused:
        _signed_and_loaded(pki, bad)
    assert refused.value.file == CARD_POLICIES

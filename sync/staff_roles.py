"""Election staff roles and the certificate policy OIDs that carry them: one definition for kiosk and office.

A staff card's authentication certificate asserts exactly one role policy OID (``StaffRole.policy_oid``),
and its issuing CA certificate asserts a *staff CA* policy OID listed in the election package's trust
configuration (``trust/card-policies.json``; the project default is :data:`STAFF_CA_POLICY_OID`). Nothing
is decided from name text (a CA whose subject says "Staff" is not thereby a staff CA).

All OIDs live under the project's private arc, a UUID-based arc (ITU-T X.667: ``2.25.<UUID as integer>``),
valid without registration:

- ``<arc>.1.1`` poll worker, ``<arc>.1.2`` committee member, ``<arc>.1.3`` administrator (role policies);
- ``<arc>.2.1`` staff-card CA (asserted by a CA certificate authorised to issue staff cards);
- ``<arc>.3.1`` national eID authentication policy of the TEST PKI (stands in for Oman's, which is not
  public; a real package lists the real OID in its trust configuration).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from cryptography import x509

SANDUQ_OID_ARC = "2.25.215866341717331958627497154634931036241"
STAFF_ROLE_POLICY_ARC = SANDUQ_OID_ARC + ".1"
STAFF_CA_POLICY_OID = SANDUQ_OID_ARC + ".2.1"
TEST_EID_AUTH_POLICY_OID = SANDUQ_OID_ARC + ".3.1"

_ROLE_NUMBERS = {"poll_worker": 1, "committee_member": 2, "administrator": 3}


class StaffRole(enum.Enum):
    """Election staff roles; each is a certificate policy OID (and, for humans, the subject OU)."""

    POLL_WORKER = "poll_worker"
    COMMITTEE_MEMBER = "committee_member"
    ADMINISTRATOR = "administrator"

    @property
    def policy_oid_dotted(self) -> str:
        return f"{STAFF_ROLE_POLICY_ARC}.{_ROLE_NUMBERS[self.value]}"

    @property
    def policy_oid(self) -> x509.ObjectIdentifier:
        return x509.ObjectIdentifier(self.policy_oid_dotted)

    @classmethod
    def from_policy_oid(cls, oid: x509.ObjectIdentifier | str) -> StaffRole | None:
        dotted = oid if isinstance(oid, str) else oid.dotted_string
        return next((role for role in cls if role.policy_oid_dotted == dotted), None)


def roles_in(policy_oids: Iterable[x509.ObjectIdentifier | str]) -> frozenset[StaffRole]:
    """Every staff role among ``policy_oids`` (a valid staff card has exactly one)."""
    return frozenset(role for oid in policy_oids if (role := StaffRole.from_policy_oid(oid)) is not None)

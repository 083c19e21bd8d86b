"""Election staff roles as carried in staff card certificates (a certificate policy OID per role)."""

from __future__ import annotations

import enum

from cryptography import x509

# Private OID arc of the project (a UUID-based arc, 2.25.<uuid as integer>: valid without registration).
SANDUQ_OID_ARC = "2.25.215866341717331958627497154634931036241"
STAFF_ROLE_POLICY_ARC = SANDUQ_OID_ARC + ".1"


class StaffRole(enum.Enum):
    """Election staff roles; each is a certificate policy OID (and, for humans, the subject OU)."""

    POLL_WORKER = "poll_worker"
    COMMITTEE_MEMBER = "committee_member"
    ADMINISTRATOR = "administrator"

    @property
    def policy_oid(self) -> x509.ObjectIdentifier:
        number = {"poll_worker": 1, "committee_member": 2, "administrator": 3}[self.value]
        return x509.ObjectIdentifier(f"{STAFF_ROLE_POLICY_ARC}.{number}")

    @classmethod
    def from_policy_oid(cls, oid: x509.ObjectIdentifier) -> StaffRole | None:
        for role in cls:
            if role.policy_oid == oid:
                return role
        return None

"""Election staff roles as carried in staff card certificates: the one definition is sync.staff_roles."""

from __future__ import annotations

from sync.staff_roles import (
    SANDUQ_OID_ARC,
    STAFF_CA_POLICY_OID,
    STAFF_ROLE_POLICY_ARC,
    TEST_EID_AUTH_POLICY_OID,
    StaffRole,
    roles_in,
)

__all__ = [
    "SANDUQ_OID_ARC",
    "STAFF_CA_POLICY_OID",
    "STAFF_ROLE_POLICY_ARC",
    "TEST_EID_AUTH_POLICY_OID",
    "StaffRole",
    "roles_in",
]

"""Test PKI for Sanduq: a national-eID-like hierarchy, cards, kiosks, central TLS and commission keys.

TEST MATERIAL ONLY. ``python -m devtools.test_pki --out out/test-pki`` or :func:`generate` / :func:`load`.
"""

from devtools.test_pki.generate import StaffMember, default_staff, generate, issue_crl
from devtools.test_pki.model import (
    SANDUQ_OID_ARC,
    BadKind,
    CardFiles,
    KeyPair,
    StaffRole,
    TestPki,
    VoterIdentity,
    load,
)
from devtools.test_pki.voters import RollFormatError, synthetic_voters, voters_from_roll

__all__ = [
    "SANDUQ_OID_ARC",
    "BadKind",
    "CardFiles",
    "KeyPair",
    "RollFormatError",
    "StaffMember",
    "StaffRole",
    "TestPki",
    "VoterIdentity",
    "default_staff",
    "generate",
    "issue_crl",
    "load",
    "synthetic_voters",
    "voters_from_roll",
]

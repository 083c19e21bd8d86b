"""Test PKI for Sanduq: a national-eID-like hierarchy, cards, kiosks, central TLS and commission keys.

TEST MATERIAL ONLY. ``python -m tools.test_pki --out out/test-pki`` or :func:`generate` / :func:`load`.
"""

from tools.test_pki.generate import StaffMember, default_staff, generate, issue_crl
from tools.test_pki.model import (
    SANDUQ_OID_ARC,
    BadKind,
    CardFiles,
    KeyPair,
    StaffRole,
    TestPki,
    VoterIdentity,
    load,
)
from tools.test_pki.voters import RollFormatError, synthetic_voters, voters_from_roll

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

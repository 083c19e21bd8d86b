"""The election definition (manifest): election, geography, contests, candidates, centres, kiosks,
ballot styles and voter-facing strings.

The manifest is a tree of frozen dataclasses parsed from JSON at the edge (``Manifest.from_dict``) and
written back with ``to_dict``; ``manifest_hash`` is the SHA-256 of its canonical JSON and is bound into
every encrypted ballot through the election's base hash. Content rules that need more than the manifest
(photos and audio present in the package) are checked by ``election.package``.

The modules: ``parts`` (ids and the frozen values the manifest is made of), ``model`` (the ``Manifest``, its
look-ups, hashes and dictionary form), ``parse`` (the one parser) and ``rules`` (the content rules). Every public
name is re-exported here: importers write ``from election.manifest import ...``.
"""

from election.manifest.model import Manifest
from election.manifest.parts import (
    MANIFEST_FORMAT_VERSION,
    BallotStyle,
    BallotStyleId,
    Candidate,
    CandidateId,
    CentreId,
    Contest,
    ContestId,
    ElectionId,
    ElectionKind,
    Governorate,
    GovernorateCode,
    Kiosk,
    KioskId,
    Language,
    ManifestError,
    PollingCentre,
    RemoteVoting,
    RemoteWindow,
    StyleContest,
    Text,
    VoterGroup,
    Wilayat,
    WilayatCode,
)

__all__ = [
    "MANIFEST_FORMAT_VERSION",
    "BallotStyle",
    "BallotStyleId",
    "Candidate",
    "CandidateId",
    "CentreId",
    "Contest",
    "ContestId",
    "ElectionId",
    "ElectionKind",
    "Governorate",
    "GovernorateCode",
    "Kiosk",
    "KioskId",
    "Language",
    "Manifest",
    "ManifestError",
    "PollingCentre",
    "RemoteVoting",
    "RemoteWindow",
    "StyleContest",
    "Text",
    "VoterGroup",
    "Wilayat",
    "WilayatCode",
]

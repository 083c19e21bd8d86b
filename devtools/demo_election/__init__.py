"""Synthetic demo elections: ``python -m devtools.demo_election --scale national|small --seed 2023 --out DIR``.

API: ``build_definition(scale, seed) -> Definition``, ``write_definition(defn, out_dir)``,
``small_manifest(seed) -> Manifest`` (in memory, for tests), ``load_strings()`` (config/strings.json).
"""

from devtools.demo_election.build import (
    Definition,
    Scale,
    StringsError,
    build_definition,
    load_strings,
    small_manifest,
)
from devtools.demo_election.writer import DefinitionExistsError, WrittenDefinition, manifest_json, write_definition

__all__ = [
    "Definition",
    "DefinitionExistsError",
    "Scale",
    "StringsError",
    "WrittenDefinition",
    "build_definition",
    "load_strings",
    "manifest_json",
    "small_manifest",
    "write_definition",
]

"""The published JSON Schemas describe what the loader actually writes and accepts."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path

import jsonschema
import pytest

from election.manifest import Manifest, ManifestError
from tests.package.conftest import small_manifest_dict

SCHEMAS = Path(__file__).parents[2] / "election" / "schemas"


def _validator(name: str) -> jsonschema.Draft202012Validator:
    schema = json.loads((SCHEMAS / name).read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())


def test_manifest_written_by_the_model_conforms_to_the_schema():
    manifest = Manifest.from_dict(small_manifest_dict())
    _validator("manifest.schema.json").validate(manifest.to_dict())


def test_index_written_by_the_builder_conforms_to_the_schema(files: dict[str, bytes], sign: Callable[..., bytes]):
    with zipfile.ZipFile(io.BytesIO(sign(files))) as archive:
        index = json.loads(archive.read("index.json"))
    _validator("package-index.schema.json").validate(index)


@pytest.mark.parametrize(
    ("path", "value"),
    [
        (("contests", 0, "seats"), 0),
        (("kind",), "presidential"),
        (("contests", 0, "candidates", 0, "name"), {"ar": ""}),
    ],
)
def test_schema_and_parser_both_refuse_bad_manifests(path: tuple[object, ...], value: object):
    data = small_manifest_dict()
    target = data
    for step in path[:-1]:
        target = target[step]  # type: ignore[index]
    target[path[-1]] = value  # type: ignore[index]
    assert list(_validator("manifest.schema.json").iter_errors(data))
    with pytest.raises(ManifestError):
        Manifest.from_dict(data)

"""The signed election package, verified on the voter's device exactly as a kiosk verifies it
(``election.package.load_package``: the commission's Ed25519 signature over the index, every file's hash)."""

from __future__ import annotations

from pathlib import Path

from election.package import ElectionPackage, PackageError, load_package, read_commission_key

MAX_PACKAGE_BYTES = 1024 * 1024 * 1024


class PackageRefused(Exception):
    """The package cannot be trusted; the message names the file and the problem."""


def load_verified_package(path: Path, commission_key: Path) -> ElectionPackage:
    try:
        key = read_commission_key(commission_key)
    except ValueError as exc:
        raise PackageRefused(str(exc)) from None
    try:
        if path.stat().st_size > MAX_PACKAGE_BYTES:
            raise PackageRefused(f"the election package {path} is larger than any election package")
        data = path.read_bytes()
    except OSError as exc:
        raise PackageRefused(f"the election package {path} cannot be read ({exc.strerror})") from None
    try:
        return load_package(data, key, archive_name=path.name)
    except PackageError as exc:
        raise PackageRefused(f"the election package is refused: {exc.file}: {exc.problem}") from None

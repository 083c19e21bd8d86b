"""The election package's container: a zip archive written byte-identically for identical content, and read
within bounds that keep a hostile archive (a zip bomb, absurd member counts, unsafe names) from exhausting memory or
escaping its root. What is inside, and the signature over it, is election/package.py's."""

from __future__ import annotations

import io
import posixpath
import stat
import zipfile
from collections.abc import Iterable

# Bounds that keep a hostile archive from exhausting memory (zip bombs, absurd member counts).
MAX_MEMBERS = 20_000
MAX_MEMBER_BYTES = 32 * 1024 * 1024
MAX_TOTAL_BYTES = 1024 * 1024 * 1024
# A fixed timestamp keeps packages byte-identical for identical content.
_ZIP_EPOCH = (2020, 1, 1, 0, 0, 0)


class PackageError(ValueError):
    """The package is refused. ``file`` names the offending member (or the archive itself)."""

    def __init__(self, file: str, problem: str) -> None:
        super().__init__(f"{file}: {problem}")
        self.file = file
        self.problem = problem


def write_archive(entries: Iterable[tuple[str, bytes]]) -> bytes:
    """A zip archive of ``entries`` (name, content) in the given order, with a fixed timestamp; PNG and Ogg
    members stored (already compressed), the others deflated."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, data in entries:
            info = zipfile.ZipInfo(path, date_time=_ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_STORED if path.endswith((".png", ".ogg")) else zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            archive.writestr(info, data)
    return buffer.getvalue()


def check_member_name(path: str) -> None:
    """Refuse an absolute, escaping, backslashed, directory or control-character member name."""
    normal = posixpath.normpath(path)
    if (
        not path
        or path.startswith("/")
        or "\\" in path
        or normal != path
        or normal.startswith("..")
        or path.endswith("/")
        or any(ord(ch) < 32 for ch in path)
    ):
        raise PackageError(path or "<empty name>", "unsafe file name in the archive")


def read_members(data: bytes, archive_name: str) -> dict[str, bytes]:
    """Every member of the zip archive ``data``, within the bounds above; the first problem is a PackageError."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as exc:
        raise PackageError(archive_name, f"not a valid package archive ({exc})") from None
    with archive:
        infos = archive.infolist()
        if len(infos) > MAX_MEMBERS:
            raise PackageError(archive_name, f"too many files ({len(infos)})")
        total = 0
        members: dict[str, bytes] = {}
        for info in infos:
            check_member_name(info.filename)
            if info.filename in members:
                raise PackageError(info.filename, "appears twice in the archive")
            if info.file_size > MAX_MEMBER_BYTES:
                raise PackageError(info.filename, f"too large ({info.file_size} bytes)")
            total += info.file_size
            if total > MAX_TOTAL_BYTES:
                raise PackageError(archive_name, "uncompressed content too large")
            try:
                members[info.filename] = archive.read(info)
            except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
                raise PackageError(info.filename, f"cannot be read from the archive ({exc})") from None
        return members

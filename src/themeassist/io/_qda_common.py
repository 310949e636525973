"""Shared pieces of the REFI-QDA reader and writer: names, GUIDs, safe zip and XML input.

Nothing here is public API; see :mod:`themeassist.io.refi`.
"""

from __future__ import annotations

import re
import uuid
import zipfile
from pathlib import Path, PurePosixPath
from typing import Any

import pandas as pd
from defusedxml import DefusedXmlException
from defusedxml import ElementTree as SafeET

from themeassist.exceptions import CodebookError, QDAFormatError

CODEBOOK_NS = "urn:QDA-XML:codebook:1.0"
PROJECT_NS = "urn:QDA-XML:project:1.0"

#: Namespace for deterministic (uuid5) GUIDs: the same input always gets the same GUIDs.
GUID_NAMESPACE = uuid.UUID("5f0c5f4e-3b7a-5d1e-9a52-7e6d2c1b0a91")

HUMAN_USER_NAME = "human coder"
MACHINE_USER_NAME = "themeassist (machine suggestions)"

_GUID_RE = re.compile(r"^\{?[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}\}?$")
# Characters XML 1.0 cannot carry at all (control characters other than tab, LF, CR).
_XML_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def make_guid(*parts: object) -> str:
    """Deterministic REFI-QDA GUID (uppercase, hyphenated) from stable key parts."""
    key = "\x1f".join(str(p) for p in parts)
    return str(uuid.uuid5(GUID_NAMESPACE, key)).upper()


def is_guid(value: str | None) -> bool:
    """True when ``value`` matches the GUIDType pattern of the REFI-QDA schemas."""
    return value is not None and bool(_GUID_RE.match(value))


def norm_guid(value: str) -> str:
    """Compare GUIDs case- and brace-insensitively, as QDA programs write both forms."""
    return value.strip().strip("{}").upper()


def xml_safe(text: str) -> str:
    """Replace characters XML 1.0 cannot represent with U+FFFD."""
    return _XML_ILLEGAL.sub("\ufffd", text)


def software_origin() -> str:
    """The ``origin`` attribute: ``"themeassist <version>"``."""
    try:
        from importlib.metadata import version

        return f"themeassist {version('themeassist')}"
    except Exception:  # pragma: no cover - not installed as a distribution
        return "themeassist"


def derived_theme_id(name: str, parent_id: str | None) -> str:
    """The theme_id :mod:`themeassist.codebook` derives for a name: ``parent.slug``."""
    from themeassist.codebook import slugify

    slug = slugify(" ".join(name.split())) or "code"
    return f"{parent_id}.{slug}" if parent_id else slug


def codebook_from_rows(rows: list[dict[str, Any]], name: str, *, what: str) -> Any:
    """Build a Codebook from rows theme_id, name, parent_id, description."""
    from themeassist.codebook import Codebook

    frame = pd.DataFrame(rows, columns=["theme_id", "name", "parent_id", "description"])
    try:
        return Codebook.from_frame(frame, name=name, source=what)
    except CodebookError as exc:
        raise QDAFormatError(f"{what}: the codes do not form a valid codebook: {exc}") from exc


# --------------------------------------------------------------------------- safe input


def parse_xml(data: bytes, *, what: str, root_tag: str) -> Any:
    """Parse untrusted XML with defusedxml (no DTDs, entities or external references)."""
    try:
        root = SafeET.fromstring(data, forbid_dtd=True)
    except DefusedXmlException as exc:
        raise QDAFormatError(
            f"{what}: refused to parse: the XML declares a DTD or entities ({type(exc).__name__}), "
            "which REFI-QDA files never need and which can be used for entity-expansion "
            "('billion laughs') attacks. Re-export the file from its QDA program."
        ) from exc
    except SafeET.ParseError as exc:
        raise QDAFormatError(f"{what}: not well-formed XML ({exc}).") from exc
    if root.tag != root_tag:
        raise QDAFormatError(
            f"{what}: root element is {root.tag!r}, expected {root_tag!r} "
            "(is this a REFI-QDA file of the right kind?)."
        )
    return root


def check_member_name(name: str, *, what: str) -> str:
    """Return the member's normalised POSIX path, or raise for unsafe names."""
    unsafe = (
        not name
        or name.startswith(("/", "\\"))
        or re.match(r"^[A-Za-z]:", name) is not None
        or "\x00" in name
        or any(part == ".." for part in re.split(r"[/\\]", name))
    )
    if unsafe:
        raise QDAFormatError(
            f"{what}: unsafe zip entry {name!r} (absolute path or '..' component); "
            "refusing to read this archive."
        )
    return str(PurePosixPath(name.replace("\\", "/")))


class SafeZip:
    """Read-only, in-memory view of a zip archive checked against hostile content.

    Entry names, the number of entries and the total *declared* uncompressed size
    are checked before anything is decompressed; each read is also capped, so a
    member cannot inflate past its declared size. Nothing is extracted to disk.
    """

    def __init__(self, path: str | Path, *, max_bytes: int, max_files: int) -> None:
        self.what = str(path)
        try:
            on_disk = Path(path).stat().st_size
        except OSError as exc:
            raise QDAFormatError(f"{self.what}: cannot open the archive ({exc}).") from exc
        if on_disk > max_bytes:
            raise QDAFormatError(
                f"{self.what}: archive size {on_disk:,} bytes exceeds the limit max_bytes={max_bytes:,}; "
                "raise max_bytes if the archive is trusted."
            )
        try:
            self._zip = zipfile.ZipFile(path)
        except (zipfile.BadZipFile, OSError) as exc:
            raise QDAFormatError(f"{self.what}: not a readable zip archive ({exc}).") from exc
        infos = self._zip.infolist()
        if len(infos) > max_files:
            self.close()
            raise QDAFormatError(
                f"{self.what}: {len(infos)} entries exceed the limit max_files={max_files}; "
                "raise max_files if the archive is trusted."
            )
        total = sum(i.file_size for i in infos)
        if total > max_bytes:
            self.close()
            raise QDAFormatError(
                f"{self.what}: uncompressed size {total:,} bytes exceeds the limit "
                f"max_bytes={max_bytes:,} (possible zip bomb); raise max_bytes if the archive is trusted."
            )
        self.members: dict[str, zipfile.ZipInfo] = {}
        try:
            for info in self._zip.infolist():
                norm = check_member_name(info.filename, what=self.what)
                if norm.casefold() in self.members:
                    raise QDAFormatError(f"{self.what}: duplicate zip entry {info.filename!r}.")
                if not info.is_dir():
                    self.members[norm.casefold()] = info
        except QDAFormatError:
            self.close()
            raise

    def find(self, name: str) -> zipfile.ZipInfo | None:
        """Member by case-insensitive path."""
        return self.members.get(str(PurePosixPath(name)).casefold())

    def find_source(self, file_name: str) -> zipfile.ZipInfo | None:
        """Member for an ``internal://`` file: ``Sources/<name>``, else any folder's ``<name>``."""
        hit = self.find(f"Sources/{file_name}") or self.find(file_name)
        if hit is not None:
            return hit
        wanted = PurePosixPath(file_name).name.casefold()
        matches = [i for k, i in self.members.items() if PurePosixPath(k).name == wanted]
        return matches[0] if len(matches) == 1 else None

    def read(self, info: zipfile.ZipInfo) -> bytes:
        """Member bytes, never more than its declared size."""
        try:
            with self._zip.open(info) as fh:
                data = fh.read(info.file_size + 1)
        except (zipfile.BadZipFile, OSError, RuntimeError, NotImplementedError) as exc:
            raise QDAFormatError(f"{self.what}: cannot read entry {info.filename!r} ({exc}).") from exc
        if len(data) > info.file_size:  # pragma: no cover - zipfile already caps reads
            raise QDAFormatError(f"{self.what}: entry {info.filename!r} is larger than declared.")
        return data

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> SafeZip:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

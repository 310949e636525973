"""Run folders: claim, lock, manifest and clean-up, touching only what themeassist wrote.

A run folder is *ours* when this process creates it, when it holds a themeassist run manifest
(``manifest.json`` with ``"format": "themeassist-run"``), or when everything in it has a name a
run writes (``manifest.json``, ``lock``, ``chunk-NNNNNN.parquet``, ``embeddings/``, temporary
``.*.tmp`` files: what a run killed before its first manifest leaves). Any other existing folder
is refused (:class:`RunStateError`) and left untouched. Clearing and clean-up remove only those
names; the folder itself is removed only when the manifest says a run created it and it is then
empty, so a file someone put inside a run folder survives, and so does a folder they made.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

from themeassist.exceptions import CacheError
from themeassist.io.tables import atomic_write_text, make_dirs

RUN_FORMAT = "themeassist-run"
RUN_VERSION = "1"
MANIFEST = "manifest.json"
LOCK = "lock"
EMBEDDINGS = "embeddings"
_OURS = re.compile(r"^(manifest\.json|lock|chunk-\d{6}\.parquet|embeddings|\..+\.tmp)$")
_TRANSIENT = re.compile(r"^(lock|\..+\.tmp)$")


class RunStateError(CacheError):
    """A run folder belongs to another job, is not a run folder, or is used by a live process."""


def chunk_name(k: int) -> str:
    return f"chunk-{k:06d}.parquet"


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(1 << 20):
            h.update(block)
    return h.hexdigest()


def _is_our_manifest(folder: Path) -> bool:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == RUN_FORMAT


def _entries(folder: Path) -> list[str]:
    try:
        return sorted(p.name for p in folder.iterdir())
    except OSError as exc:
        raise RunStateError(f"run folder {folder} cannot be read ({exc.strerror or exc}); "
                            "check its permissions or pass another --run-dir.") from exc  # fmt: skip


def check(folder: Path) -> bool:
    """True when ``folder`` may be used as a run folder and exists; False when it is new.

    Raises :class:`RunStateError` (and changes nothing) when it exists and is not ours.
    """
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise RunStateError(f"run folder {folder} exists and is not a folder; pass another --run-dir "
                            "(a new folder, or one a themeassist run made).")  # fmt: skip
    if not folder.exists():
        return False
    names = _entries(folder)
    if (folder / MANIFEST).is_file() and _is_our_manifest(folder):
        return True
    foreign = [n for n in names if not _OURS.match(n)]
    if foreign:
        shown = ", ".join(repr(n) for n in foreign[:5]) + (f" and {len(foreign) - 5} more" if len(foreign) > 5 else "")
        raise RunStateError(
            f"run folder {folder} already exists and was not made by themeassist (it holds {shown}); "
            "nothing in it was changed. Pass --run-dir a new folder (or one a themeassist run made), "
            "or leave --run-dir out to use .OUT.run beside the output."
        )
    return True


def claim(folder: Path) -> bool:
    """Make ``folder`` usable as a run folder (see :func:`check`); return True when it was created now."""
    if check(folder):
        return False
    make_dirs(folder)
    return True


def pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Lock:
    """``lock`` file holding the pid of the process using the folder (a dead holder's is taken over)."""

    def __init__(self, folder: Path) -> None:
        self.path = folder / LOCK

    def __enter__(self) -> "Lock":
        me = f"{os.getpid()}\n"
        for _ in range(2):
            try:
                fd = os.open(self.path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600)
            except FileExistsError:
                try:
                    pid = int(self.path.read_text().split()[0])
                except (OSError, ValueError, IndexError):
                    pid = -1
                if pid != os.getpid() and pid_alive(pid):
                    raise RunStateError(
                        f"run folder {self.path.parent} is in use by process {pid}; wait for it to finish, "
                        f"or delete {self.path} if that process is not running this job."
                    ) from None
                self.path.unlink(missing_ok=True)  # left by a killed process
                continue
            with os.fdopen(fd, "w") as fh:
                fh.write(me)
            return self
        raise RunStateError(f"could not lock run folder {self.path.parent}; delete {self.path} and retry.")

    def __exit__(self, *exc: object) -> None:
        self.path.unlink(missing_ok=True)


def _well_formed(data: Any) -> bool:
    """A manifest whose fields have the types this version writes (anything else is damaged)."""
    if not isinstance(data, dict) or not isinstance(data.get("job", {}), dict):
        return False
    chunks = data.get("chunks", {})
    return isinstance(chunks, dict) and all(isinstance(v, dict) for v in chunks.values())


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The folder's manifest, or None (with a warning) when it is missing, unreadable or damaged."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.warn(f"run manifest {path} cannot be read ({exc}); starting the job afresh.", stacklevel=4)
        return None
    if not _well_formed(data):
        warnings.warn(f"run manifest {path} is damaged (fields of the wrong type); starting the job afresh.",
                      stacklevel=4)  # fmt: skip
        return None
    return data


def write_manifest(folder: Path, manifest: dict[str, Any]) -> None:
    atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, ensure_ascii=True))


def clear(folder: Path) -> None:
    """Remove what a run wrote in ``folder`` (never the lock, never anything else)."""
    for name in _entries(folder):
        p = folder / name
        if name == LOCK or not _OURS.match(name):
            continue
        if p.is_dir() and not p.is_symlink():
            if name == EMBEDDINGS and (_is_our_manifest(p) or all(_OURS.match(n) for n in _entries(p))):
                shutil.rmtree(p)
        else:
            p.unlink(missing_ok=True)


def release(folder: Path, made: bool) -> None:
    """After success: remove what a run wrote, then the folder itself if a run made it and it is empty."""
    if not folder.is_dir():
        return
    clear(folder)
    (folder / LOCK).unlink(missing_ok=True)
    if made:
        try:
            folder.rmdir()
        except OSError:
            pass  # someone else's files are inside: leave them, and the folder

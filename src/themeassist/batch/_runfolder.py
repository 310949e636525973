"""Batch run folders: claim, lock, manifest and clean-up, touching only what themeassist wrote.

The manifest is the one run-folder format of :mod:`themeassist.io.run_folder`, of kind ``"batch"``:
``params`` are the job's parameters, ``job`` the rest of its identity (input fingerprint, number of
rows, chunk size, output name), ``chunks`` the rows and result size of each finished chunk, and
``files`` the sha256 and size of each chunk file (hashed from the bytes as they are stored, so
that the manifest rewritten after each chunk hashes nothing again).

A run folder is *ours* when this process creates it, when it holds a batch manifest (or one of
the batch format before version 2, ``"format": "themeassist-run"``: its job is then recomputed),
or when everything in it has a name a run writes (``manifest.json``, ``lock``,
``chunk-NNNNNN.parquet``, ``embeddings/``, temporary ``.*.tmp`` files: what a run killed before
its first manifest leaves). Any other existing folder, a themeassist folder of another kind
included (a saved discovery, a demo's output), is refused (:class:`RunStateError`) and left
untouched. Clearing and clean-up remove only those names; the folder itself is removed only when
the manifest says a run created it and it is then empty, so a file someone put inside a run
folder survives, and so does a folder they made.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import warnings
from pathlib import Path
from typing import Any

from themeassist.exceptions import CacheError
from themeassist.io import run_folder as rf
from themeassist.io.tables import make_dirs

#: The manifest format of a batch run folder (the one run-folder format) and its version.
RUN_FORMAT = rf.FORMAT
RUN_VERSION = rf.VERSION
#: The format tag batch run folders had before version 2 (still recognised as ours; recomputed).
LEGACY_FORMAT = "themeassist-run"
KIND = "batch"
MANIFEST = rf.MANIFEST
LOCK = "lock"
EMBEDDINGS = "embeddings"
_OURS = re.compile(r"^(manifest\.json|lock|chunk-\d{6}\.parquet|embeddings|\..+\.tmp)$")
_CHUNK = re.compile(r"^chunk-\d{6}\.parquet$")


class RunStateError(CacheError):
    """A run folder belongs to another job, is not a run folder, or is used by a live process."""


def chunk_name(k: int) -> str:
    return f"chunk-{k:06d}.parquet"


def _raw_manifest(folder: Path) -> Any:
    try:
        return json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _is_legacy(data: Any) -> bool:
    """A batch manifest of the format before version 2 (the demo's old folders shared its tag but
    hold neither ``job`` nor ``mode``: they are not batch folders)."""
    return (isinstance(data, dict) and data.get("format") == LEGACY_FORMAT
            and ("job" in data or data.get("mode") == "embed-chunks"))  # fmt: skip


def _is_our_manifest(folder: Path) -> bool:
    data = _raw_manifest(folder)
    return _is_legacy(data) or (isinstance(data, dict) and data.get("format") == RUN_FORMAT
                                and data.get("kind") == KIND)  # fmt: skip


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
    other = rf.peek_manifest(folder)
    if other is not None:
        raise RunStateError(
            f"run folder {folder} holds a themeassist {other.get('kind')!r} folder, not a batch run; nothing in "
            "it was changed. Pass --run-dir a new folder (or one a themeassist run made), or leave --run-dir "
            "out to use .OUT.run beside the output."
        )
    foreign = [n for n in names if not _OURS.match(n)]
    if MANIFEST in names and not any(_CHUNK.match(n) for n in names):
        # a manifest.json that is not ours, with no chunk beside it: another tool's file, not a damaged run
        foreign.append(MANIFEST)
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
                    raise RunStateError(
                        f"run folder {self.path.parent} has a {LOCK!r} file that is not a themeassist lock (no "
                        f"process id in it); it is left as it is: move or delete {self.path} and retry."
                    ) from None
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
        try:
            mine = self.path.read_text().split()[:1] == [str(os.getpid())]
        except OSError:
            return
        if mine:  # never another process's lock (one that took over a lock it thought stale)
            self.path.unlink(missing_ok=True)


def _well_formed(data: Any) -> bool:
    """A manifest whose fields have the types this version writes (anything else is damaged)."""
    if not isinstance(data, dict) or not all(isinstance(data.get(k, {}), dict) for k in ("job", "params", "files")):
        return False
    chunks, files = data.get("chunks", {}), data.get("files", {})
    return (isinstance(chunks, dict) and all(isinstance(v, dict) for v in chunks.values())
            and all(isinstance(v, dict) for v in files.values()))  # fmt: skip


def read_manifest(folder: Path, stacklevel: int = 4) -> dict[str, Any] | None:
    """The folder's batch manifest, or None (with a warning) when it is missing, unreadable, damaged
    or of the format before version 2 (its chunks are then recomputed)."""
    path = folder / MANIFEST
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        warnings.warn(f"run manifest {path} cannot be read ({exc}); starting the job afresh.", stacklevel=stacklevel)
        return None
    if _is_legacy(data):
        warnings.warn(f"run manifest {path} is in the older format {LEGACY_FORMAT!r}, not a themeassist run-folder "
                      f"manifest of version {RUN_VERSION}; starting the job afresh.", stacklevel=stacklevel)  # fmt: skip
        return None
    if not _well_formed(data) or data.get("format") != RUN_FORMAT or data.get("version") != RUN_VERSION:
        warnings.warn(f"run manifest {path} is damaged (fields of the wrong type); starting the job afresh.",
                      stacklevel=stacklevel)  # fmt: skip
        return None
    return data


def write_manifest(folder: Path, *, params: dict[str, Any], files: dict[str, dict[str, Any]],
                   extra: dict[str, Any]) -> None:
    """Write the batch manifest (kind ``"batch"``) listing ``files`` with their precomputed entries."""
    rf.write_manifest(folder, KIND, params=params, files=files, extra=extra)


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
    clear(folder)  # the lock was removed by Lock on leaving
    if made:
        try:
            folder.rmdir()
        except OSError:
            pass  # someone else's files are inside: leave them, and the folder

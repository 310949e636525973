"""One run-folder format for everything themeassist saves: parquet tables, ``.npy`` arrays, JSON and a
``manifest.json``.

A run folder is what a fitted discovery model, a resumable batch run, the demo's output and a drift
analysis write. Its manifest says which kind of folder it is, with which versions and parameters it
was made, and the sha256 and size of every file, so that a damaged or foreign file is found before
it is read (nothing is ever unpickled: arrays load with ``allow_pickle=False``)::

    {"format": "themeassist-run-folder", "version": 2, "kind": "discovery",
     "created": "2026-12-01T10:00:00+00:00", "themeassist": "0.1.0",
     "params": {...}, "files": {"centroids.npy": {"sha256": "...", "bytes": 1234}, ...}, ...}

A folder is themeassist's own when it holds such a manifest (:func:`is_run_folder`): only those are
ever cleared or replaced by themeassist.

Examples
--------
>>> import tempfile, numpy as np, pandas as pd
>>> folder = Path(tempfile.mkdtemp()) / "run"
>>> _ = save_table(folder, "codes.parquet", pd.DataFrame({"theme_id": ["a"]}))
>>> _ = save_array(folder, "centroids.npy", np.eye(2))
>>> _ = write_manifest(folder, "discovery", params={"seed": 0})
>>> read_manifest(folder, kind="discovery")["kind"], is_run_folder(folder)
('discovery', True)
>>> load_array(folder, "centroids.npy").shape
(2, 2)
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import io
import json
import os
from pathlib import Path
from typing import Any, Iterable, Mapping

import numpy as np
import pandas as pd

from themeassist.exceptions import CacheError
from themeassist.io.tables import atomic_write_bytes, atomic_write_text

__all__ = [
    "FORMAT",
    "KINDS",
    "MANIFEST",
    "VERSION",
    "file_sha256",
    "is_run_folder",
    "load_array",
    "load_table",
    "read_manifest",
    "save_array",
    "save_table",
    "write_manifest",
]

FORMAT = "themeassist-run-folder"
VERSION = 2
MANIFEST = "manifest.json"
#: The kinds of run folder: a saved discovery model, a resumable batch run (chunks), the whole job
#: (demo / run_all) and a drift analysis.
KINDS: tuple[str, ...] = ("discovery", "batch", "pipeline", "drift")


def file_sha256(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """sha256 (hex) of a file, read in blocks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


def save_table(folder: str | os.PathLike[str], name: str, df: pd.DataFrame) -> Path:
    """Write ``df`` as ``folder/name`` (parquet, atomically); the folder is created."""
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return atomic_write_bytes(Path(folder) / name, buf.getvalue())


def load_table(folder: str | os.PathLike[str], name: str) -> pd.DataFrame:
    """Read ``folder/name`` (parquet)."""
    return pd.read_parquet(Path(folder) / name)


def save_array(folder: str | os.PathLike[str], name: str, arr: np.ndarray) -> Path:
    """Write ``arr`` as ``folder/name`` (``.npy``, atomically; object arrays are refused)."""
    a = np.asarray(arr)
    if a.dtype.hasobject:
        raise TypeError(f"save_array: {name} holds Python objects; only numeric and string arrays are saved.")
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return atomic_write_bytes(Path(folder) / name, buf.getvalue())


def load_array(folder: str | os.PathLike[str], name: str) -> np.ndarray:
    """Read ``folder/name`` (``.npy``, never unpickled)."""
    return np.load(Path(folder) / name, allow_pickle=False)


def _listed(folder: Path, files: Iterable[str | os.PathLike[str]] | None) -> list[Path]:
    if files is None:
        return sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST
                      and not p.name.startswith("."))
    return [folder / f if not Path(f).is_absolute() else Path(f) for f in files]


def write_manifest(folder: str | os.PathLike[str], kind: str, *, params: Mapping[str, Any] | None = None,
                   files: Iterable[str | os.PathLike[str]] | None = None,
                   extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``folder/manifest.json`` for a run folder of ``kind``.

    Parameters
    ----------
    folder : path
    kind : {"discovery", "batch", "pipeline", "drift"}
    params : mapping, optional
        JSON values: the parameters the folder was made with.
    files : iterable of paths, optional
        The files to list (relative to ``folder``); default every file in it (sub-folders included,
        hidden files and the manifest itself left out).
    extra : mapping, optional
        More JSON values stored at the top level (e.g. timings, a model id).

    Returns
    -------
    Path
        The manifest's path.
    """
    if kind not in KINDS:
        raise ValueError(f"write_manifest: kind must be one of {list(KINDS)}; got {kind!r}.")
    folder = Path(folder)
    from themeassist import __version__

    listed = {}
    for p in _listed(folder, files):
        listed[p.relative_to(folder).as_posix()] = {"sha256": file_sha256(p), "bytes": p.stat().st_size}
    manifest = {"format": FORMAT, "version": VERSION, "kind": kind, "themeassist": __version__,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "params": dict(params or {}), **dict(extra or {}), "files": listed}
    return atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")


def _manifest_of(folder: Path) -> dict[str, Any] | None:
    try:
        obj = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) and obj.get("format") == FORMAT else None


def is_run_folder(folder: str | os.PathLike[str], kind: str | None = None) -> bool:
    """True when ``folder`` holds a themeassist manifest (of ``kind``, when given)."""
    m = _manifest_of(Path(folder))
    return m is not None and (kind is None or m.get("kind") == kind)


def read_manifest(folder: str | os.PathLike[str], *, kind: str | None = None, verify: bool = True,
                  who: str = "read_manifest") -> dict[str, Any]:
    """The manifest of a run folder, checked.

    Parameters
    ----------
    folder : path
    kind : str, optional
        The kind expected.
    verify : bool, default True
        Check that every listed file exists and matches its sha256 and size.
    who : str
        Names the caller in error messages.

    Raises
    ------
    CacheError
        The manifest is missing, unreadable, foreign, of another kind or version, or a listed
        file is missing or altered; the message names the file.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    if not path.is_file():
        raise CacheError(f"{who}: {folder} has no {MANIFEST}; it is not a folder themeassist wrote.")
    m = _manifest_of(folder)
    if m is None:
        raise CacheError(f"{who}: {path} is not a themeassist run-folder manifest (format {FORMAT!r}).")
    if m.get("version") != VERSION:
        raise CacheError(f"{who}: {path} has version {m.get('version')!r}; this themeassist reads version "
                         f"{VERSION}. Write the folder again with this version.")
    if kind is not None and m.get("kind") != kind:
        raise CacheError(f"{who}: {folder} is a {m.get('kind')!r} folder, not a {kind!r} folder.")
    files = m.get("files")
    if not isinstance(files, dict):
        raise CacheError(f"{who}: {path} lists no files.")
    if verify:
        for name, info in files.items():
            p = folder / name
            if not isinstance(info, dict) or not p.is_file():
                raise CacheError(f"{who}: {p} is listed in {MANIFEST} but missing.")
            if p.stat().st_size != info.get("bytes") or file_sha256(p) != info.get("sha256"):
                raise CacheError(f"{who}: {p} does not match its sha256 in {MANIFEST} (altered or damaged).")
    return m

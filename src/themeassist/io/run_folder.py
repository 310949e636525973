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

A writer that already knows its files' checksums (a batch run hashes each chunk's bytes as it
stores them) passes them as a mapping (``files={"chunk-000000.parquet": data_info(data)}``), so
that rewriting the manifest after each chunk does not hash every earlier chunk again.

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

from themeassist.exceptions import CacheError, ParameterError
from themeassist.io.tables import atomic_write_bytes, atomic_write_text

__all__ = [
    "FORMAT",
    "KINDS",
    "MANIFEST",
    "VERSION",
    "data_info",
    "file_info",
    "file_matches",
    "file_sha256",
    "is_run_folder",
    "load_array",
    "load_table",
    "peek_manifest",
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


def data_info(data: bytes) -> dict[str, Any]:
    """The manifest entry (``{"sha256", "bytes"}``) of a file holding ``data``.

    Examples
    --------
    >>> data_info(b"abc")["bytes"]
    3
    """
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def file_info(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest entry (``{"sha256", "bytes"}``) of the file at ``path``."""
    return {"sha256": file_sha256(path), "bytes": Path(path).stat().st_size}


def file_matches(path: str | os.PathLike[str], info: Any) -> bool:
    """True when ``path`` is a regular file with the size and sha256 of its manifest entry ``info``
    (the size is compared first, so a truncated file is not hashed).

    Examples
    --------
    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.txt"; _ = p.write_bytes(b"abc")
    >>> file_matches(p, data_info(b"abc")), file_matches(p, data_info(b"abd"))
    (True, False)
    """
    p = Path(path)
    if not isinstance(info, Mapping) or p.is_symlink() or not p.is_file():
        return False
    return p.stat().st_size == info.get("bytes") and file_sha256(p) == info.get("sha256")


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


#: Top-level manifest keys that ``extra`` cannot set.
RESERVED: tuple[str, ...] = ("format", "version", "kind", "themeassist", "params", "files")


def write_manifest(folder: str | os.PathLike[str], kind: str, *, params: Mapping[str, Any] | None = None,
                   files: Iterable[str | os.PathLike[str]] | Mapping[str, Mapping[str, Any]] | None = None,
                   extra: Mapping[str, Any] | None = None) -> Path:
    """Write ``folder/manifest.json`` for a run folder of ``kind``.

    Parameters
    ----------
    folder : path
    kind : {"discovery", "batch", "pipeline", "drift"}
    params : mapping, optional
        JSON values: the parameters the folder was made with.
    files : iterable of paths, or mapping, optional
        The files to list (relative to ``folder``), hashed now; or a mapping from each file's name
        to its entry already computed (:func:`data_info`, :func:`file_info`), used as given.
        Default: every file in ``folder`` (sub-folders included, hidden files and the manifest
        itself left out).
    extra : mapping, optional
        More JSON values stored at the top level (e.g. timings, a model id; ``created`` replaces
        the time of writing, e.g. to keep when a resumed job started). The keys in
        :data:`RESERVED` are refused.

    Returns
    -------
    Path
        The manifest's path.
    """
    if kind not in KINDS:
        raise ParameterError(f"The 'kind' parameter of write_manifest must be one of {list(KINDS)}. "
                             f"Got {kind!r} instead.")  # fmt: skip
    taken = sorted(set(extra or {}) & set(RESERVED))
    if taken:
        raise ParameterError(f"write_manifest: extra= cannot set {taken} (the manifest's own keys); "
                             "pass parameters as params= and files as files=.")  # fmt: skip
    folder = Path(folder)
    from themeassist import __version__

    if isinstance(files, Mapping):
        listed = {str(name): {"sha256": str(info["sha256"]), "bytes": int(info["bytes"])}
                  for name, info in sorted(files.items())}  # fmt: skip
    else:
        listed = {p.relative_to(folder).as_posix(): file_info(p) for p in _listed(folder, files)}
    manifest = {"format": FORMAT, "version": VERSION, "kind": kind, "themeassist": __version__,
                "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
                "params": dict(params or {}), **dict(extra or {}), "files": listed}
    return atomic_write_text(folder / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True, default=str) + "\n")


def peek_manifest(folder: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The JSON object in ``folder/manifest.json`` when it is a themeassist run-folder manifest
    (any version or kind), else None; never raises and checks no file.

    Examples
    --------
    >>> import tempfile
    >>> peek_manifest(tempfile.mkdtemp()) is None
    True
    """
    try:
        obj = json.loads((Path(folder) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError, UnicodeDecodeError):
        return None
    return obj if isinstance(obj, dict) and obj.get("format") == FORMAT else None


def is_run_folder(folder: str | os.PathLike[str], kind: str | None = None) -> bool:
    """True when ``folder`` holds a themeassist manifest (of ``kind``, when given)."""
    m = peek_manifest(folder)
    return m is not None and (kind is None or m.get("kind") == kind)


def read_manifest(folder: str | os.PathLike[str], *, kind: str | None = None, verify: bool = True,
                  require: Iterable[str] = (), who: str = "read_manifest", fix: str = "") -> dict[str, Any]:
    """The manifest of a run folder, checked.

    Parameters
    ----------
    folder : path
    kind : str, optional
        The kind expected.
    verify : bool, default True
        Check that every listed file exists and matches its sha256 and size.
    require : iterable of str
        Files the folder must list (its kind's own files).
    who : str
        Names the caller in error messages.
    fix : str
        What to do about a damaged or incomplete folder (ends those messages, e.g. "Fit and save
        the model again.").

    Raises
    ------
    CacheError
        The manifest is missing, unreadable, foreign, of another kind or version, or a listed
        file is missing or altered; the message names the file.
    """
    folder = Path(folder)
    path = folder / MANIFEST
    tail = f" {fix}" if fix else ""
    if not path.is_file():
        raise CacheError(f"{who}: {folder} has no {MANIFEST}; it is not a folder themeassist wrote.{tail}")
    m = peek_manifest(folder)
    if m is None:
        raise CacheError(f"{who}: {path} is not a themeassist run-folder manifest (format {FORMAT!r}).{tail}")
    if m.get("version") != VERSION:
        raise CacheError(f"{who}: {path} has version {m.get('version')!r}; this themeassist reads version "
                         f"{VERSION}. Write the folder again with this version.{tail}")  # fmt: skip
    if kind is not None and m.get("kind") != kind:
        raise CacheError(f"{who}: {folder} is a {m.get('kind')!r} folder, not a {kind!r} folder.")
    files = m.get("files")
    if not isinstance(files, dict):
        raise CacheError(f"{who}: {path} is damaged (its 'files' entry is not a mapping).{tail}")
    for name in require:
        if name not in files:
            raise CacheError(f"{who}: {folder / name} is missing (not listed in {MANIFEST}); the folder is "
                             f"incomplete.{tail}")  # fmt: skip
    outside = [n for n in files if Path(n).is_absolute() or ".." in Path(n).parts]
    if outside:
        raise CacheError(f"{who}: {path} is damaged: it lists {outside[0]!r}, outside the folder.{tail}")
    if verify:
        for name, info in files.items():
            p = folder / name
            if not p.is_file():
                raise CacheError(f"{who}: {p} is missing (listed in {MANIFEST}); the folder is incomplete.{tail}")
            if not file_matches(p, info):
                raise CacheError(f"{who}: {p} does not match its sha256 in {MANIFEST} (the file was changed "
                                 f"or damaged).{tail}")  # fmt: skip
    return m

"""Saving and loading a fitted :class:`~themeassist.discovery.CandidateDiscovery` (no pickle).

A saved discovery is a folder of parquet tables, ``.npy`` arrays (``allow_pickle=False``), JSON and
a ``manifest.json`` with the sha256 of every file. It is written into a new folder beside the target,
which then takes the target's place: a crash never leaves a half-written model, and an existing
folder is replaced only when it holds a saved discovery (or nothing).
"""

from __future__ import annotations

import io
import json
import os
import shutil
import tempfile
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp

from themeassist.embed.backends import file_sha256 as _sha256
from themeassist.exceptions import CacheError, OutputError
from themeassist.io.tables import DIR_MODE, FILE_MODE, make_dirs

FORMAT_NAME = "themeassist.discovery"
FORMAT_VERSION = 1
FILES = (
    "candidate_codes.parquet", "assignments.parquet", "centroids.npy", "c_tf_idf_data.npy",
    "c_tf_idf_indices.npy", "c_tf_idf_indptr.npy", "vocabulary.json",
)  # fmt: skip


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _is_saved_discovery(folder: Path) -> bool:
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == FORMAT_NAME


def check_save_target(folder: Path) -> None:
    """Refuse a target that is a file, or a folder holding anything but a saved discovery."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputError(f"cannot save the discovery to {str(folder)!r}: it exists and is not a folder.")
    if folder.is_dir():
        names = sorted(p.name for p in folder.iterdir())
        if names and not _is_saved_discovery(folder):
            shown = ", ".join(repr(n) for n in names[:5])
            raise OutputError(f"cannot save the discovery to {str(folder)!r}: the folder holds other files "
                              f"({shown}) and is not a saved discovery; pass another --out.")  # fmt: skip


def _write(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _npy(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return buf.getvalue()


def _parquet(df: pd.DataFrame) -> bytes:
    buf = io.BytesIO()
    df.to_parquet(buf, index=False)
    return buf.getvalue()


def save_discovery(est: Any, folder: Path) -> Path:
    """Write ``est``'s fitted state to ``folder`` (see the module docstring)."""
    check_save_target(folder)
    make_dirs(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", suffix=".tmp", dir=folder.parent))
    try:
        assignments = est.assignments_.copy()
        assignments["doc_id"] = assignments["doc_id"].astype(str)
        ctf = sp.csr_matrix(est.c_tf_idf_)
        blobs = {
            "candidate_codes.parquet": _parquet(est.candidate_codes_),
            "assignments.parquet": _parquet(assignments),
            "centroids.npy": _npy(np.asarray(est.centroids_, dtype=np.float32)),
            "c_tf_idf_data.npy": _npy(ctf.data.astype(np.float32)),
            "c_tf_idf_indices.npy": _npy(ctf.indices.astype(np.int64)),
            "c_tf_idf_indptr.npy": _npy(ctf.indptr.astype(np.int64)),
            "vocabulary.json": json.dumps(est.vocabulary_.tolist()).encode("utf-8"),
        }  # fmt: skip
        for name, data in blobs.items():
            _write(tmp / name, data)
        manifest = {
            "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
            "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "versions": {d: _version(d) for d in ("themeassist", "bertopic", "umap-learn", "hdbscan",
                                                  "scikit-learn", "numpy", "pandas", "pyarrow")},
            "params": est._jsonable_params(), "resolved_params": est.resolved_params_,
            "model_id": est.model_id_, "n_docs": int(est.n_docs_),
            "c_tf_idf_shape": list(ctf.shape),
            "files": {name: _sha256(tmp / name) for name in FILES},
        }  # fmt: skip
        _write(tmp / "manifest.json", json.dumps(manifest, indent=2).encode("utf-8"))
        os.chmod(tmp, DIR_MODE)
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{folder.name}-old-", dir=folder.parent))
            os.replace(folder, old / folder.name)
            try:
                os.replace(tmp, folder)
            except BaseException:
                os.replace(old / folder.name, folder)
                raise
            finally:
                shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def load_discovery(cls: Any, folder: Path) -> Any:
    """Read a folder written by :func:`save_discovery`, verifying every checksum."""
    mpath = folder / "manifest.json"
    try:
        manifest = json.loads(mpath.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise CacheError(f"CandidateDiscovery.load: cannot read {mpath} ({err}); is this a folder "
                         "written by CandidateDiscovery.save?") from err  # fmt: skip
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT_NAME:
        raise CacheError(f"CandidateDiscovery.load: {mpath} is not a themeassist discovery manifest.")
    if manifest.get("format_version") != FORMAT_VERSION:
        raise CacheError(f"CandidateDiscovery.load: {mpath} has format_version "
                         f"{manifest.get('format_version')!r}; this version reads {FORMAT_VERSION}.")  # fmt: skip
    files = manifest.get("files") or {}
    if not isinstance(files, dict):
        raise CacheError(f"CandidateDiscovery.load: {mpath} is damaged (its 'files' entry is not a mapping).")
    for name in FILES:
        path = folder / name
        if name not in files or not path.is_file():
            raise CacheError(f"CandidateDiscovery.load: {path} is missing; the saved run is incomplete.")
        if _sha256(path) != files[name]:
            raise CacheError(f"CandidateDiscovery.load: {path} does not match its sha256 in manifest.json "
                             "(the file was changed or corrupted); re-run discovery.")  # fmt: skip
    try:
        params = dict(manifest["params"])
        if isinstance(params.get("ngram_range"), list):
            params["ngram_range"] = tuple(params["ngram_range"])
        est = cls(**params)
        est.candidate_codes_ = pd.read_parquet(folder / "candidate_codes.parquet")
        est.assignments_ = pd.read_parquet(folder / "assignments.parquet")
        est.centroids_ = np.load(folder / "centroids.npy", allow_pickle=False)
        data = np.load(folder / "c_tf_idf_data.npy", allow_pickle=False)
        indices = np.load(folder / "c_tf_idf_indices.npy", allow_pickle=False)
        indptr = np.load(folder / "c_tf_idf_indptr.npy", allow_pickle=False)
        est.c_tf_idf_ = sp.csr_matrix((data, indices, indptr), shape=tuple(manifest["c_tf_idf_shape"]))
        est.vocabulary_ = np.asarray(json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")),
                                     dtype=str)  # fmt: skip
        est.model_id_ = manifest["model_id"]
        est.n_docs_ = int(manifest["n_docs"])
        est.resolved_params_ = dict(manifest["resolved_params"])
        est.topic_model_ = None
        est.embedder_ = est._get_embedder()
    except (KeyError, TypeError, ValueError) as err:
        raise CacheError(f"CandidateDiscovery.load: {folder} is inconsistent ({err}).") from err
    return est

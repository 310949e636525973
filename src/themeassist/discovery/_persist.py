"""Saving and loading a fitted :class:`~themeassist.discovery.CandidateDiscovery` (no pickle).

A saved discovery is a run folder of kind ``"discovery"`` (:mod:`themeassist.io.run_folder`):
parquet tables, ``.npy`` arrays (``allow_pickle=False``), JSON and a ``manifest.json`` with the
versions, parameters, model identity and the sha256 and size of every file. It is written into a
new folder beside the target, which then takes the target's place: a crash never leaves a
half-written model, and an existing folder is replaced only when it holds a saved discovery (of
this format or the one before it) or nothing. A folder saved by a themeassist before the one
run-folder format (``"format": "themeassist.discovery"``) is refused on load with a message saying
to fit and save it again.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np
import scipy.sparse as sp

from themeassist.exceptions import CacheError, OutputError
from themeassist.io import run_folder as rf
from themeassist.io.tables import DIR_MODE, atomic_write_text, make_dirs, swap_folder

KIND = "discovery"
#: The format tag of folders saved before the one run-folder format (refused on load).
LEGACY_FORMAT = "themeassist.discovery"
FILES = (
    "candidate_codes.parquet", "assignments.parquet", "centroids.npy", "c_tf_idf_data.npy",
    "c_tf_idf_indices.npy", "c_tf_idf_indptr.npy", "vocabulary.json",
)  # fmt: skip
_REFIT = "Fit the discovery again and save it (CandidateDiscovery(...).fit(corpus).save(folder), or themeassist discover)."


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _legacy(folder: Path) -> bool:
    try:
        data = json.loads((folder / rf.MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(data, dict) and data.get("format") == LEGACY_FORMAT


def _is_saved_discovery(folder: Path) -> bool:
    return rf.is_run_folder(folder, KIND) or _legacy(folder)


def check_save_target(folder: Path) -> None:
    """Refuse a target that is a file, or a folder holding anything but a saved discovery."""
    if folder.is_symlink() or (folder.exists() and not folder.is_dir()):
        raise OutputError(f"cannot save the discovery to {str(folder)!r}: it exists and is not a folder; "
                          "pass another --out (a new folder or a saved discovery).")  # fmt: skip
    if folder.is_dir():
        names = sorted(p.name for p in folder.iterdir())
        if names and not _is_saved_discovery(folder):
            shown = ", ".join(repr(n) for n in names[:5])
            raise OutputError(f"cannot save the discovery to {str(folder)!r}: the folder holds other files "
                              f"({shown}) and is not a saved discovery; pass another --out.")  # fmt: skip


def _write_files(est: Any, tmp: Path) -> tuple[int, int]:
    """Write the fitted state's files into ``tmp``; return the c-TF-IDF matrix's shape."""
    assignments = est.assignments_.copy()
    assignments["doc_id"] = assignments["doc_id"].astype(str)
    ctf = sp.csr_matrix(est.c_tf_idf_)
    rf.save_table(tmp, "candidate_codes.parquet", est.candidate_codes_)
    rf.save_table(tmp, "assignments.parquet", assignments)
    rf.save_array(tmp, "centroids.npy", np.asarray(est.centroids_, dtype=np.float32))
    rf.save_array(tmp, "c_tf_idf_data.npy", ctf.data.astype(np.float32))
    rf.save_array(tmp, "c_tf_idf_indices.npy", ctf.indices.astype(np.int64))
    rf.save_array(tmp, "c_tf_idf_indptr.npy", ctf.indptr.astype(np.int64))
    atomic_write_text(tmp / "vocabulary.json", json.dumps(est.vocabulary_.tolist()))
    return int(ctf.shape[0]), int(ctf.shape[1])


def save_discovery(est: Any, folder: Path) -> Path:
    """Write ``est``'s fitted state to ``folder`` (see the module docstring)."""
    check_save_target(folder)
    make_dirs(folder.parent)
    tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", suffix=".tmp", dir=folder.parent))
    try:
        shape = _write_files(est, tmp)
        rf.write_manifest(tmp, KIND, params=est._jsonable_params(), files=FILES, extra={
            "versions": {d: _version(d) for d in ("themeassist", "bertopic", "umap-learn", "hdbscan",
                                                  "scikit-learn", "numpy", "pandas", "pyarrow")},
            "resolved_params": est.resolved_params_, "model_id": est.model_id_, "n_docs": int(est.n_docs_),
            "c_tf_idf_shape": list(shape),
        })  # fmt: skip
        os.chmod(tmp, DIR_MODE)
        swap_folder(tmp, folder)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return folder


def load_discovery(cls: Any, folder: Path) -> Any:
    """Read a folder written by :func:`save_discovery`, verifying every checksum."""
    who = "CandidateDiscovery.load"
    if _legacy(folder):
        raise CacheError(f"{who}: {folder / rf.MANIFEST} was written by an older themeassist (format "
                         f"{LEGACY_FORMAT!r}); this version reads run folders (format {rf.FORMAT!r} version "
                         f"{rf.VERSION}). {_REFIT}")  # fmt: skip
    manifest = rf.read_manifest(folder, kind=KIND, require=FILES, who=who, fix=_REFIT)
    try:
        params = dict(manifest["params"])
        if isinstance(params.get("ngram_range"), list):
            params["ngram_range"] = tuple(params["ngram_range"])
        est = cls(**params)
        est.candidate_codes_ = rf.load_table(folder, "candidate_codes.parquet")
        est.assignments_ = rf.load_table(folder, "assignments.parquet")
        est.centroids_ = rf.load_array(folder, "centroids.npy")
        data = rf.load_array(folder, "c_tf_idf_data.npy")
        indices = rf.load_array(folder, "c_tf_idf_indices.npy")
        indptr = rf.load_array(folder, "c_tf_idf_indptr.npy")
        est.c_tf_idf_ = sp.csr_matrix((data, indices, indptr), shape=tuple(manifest["c_tf_idf_shape"]))
        est.vocabulary_ = np.asarray(json.loads((folder / "vocabulary.json").read_text(encoding="utf-8")),
                                     dtype=str)  # fmt: skip
        est.model_id_ = manifest["model_id"]
        est.n_docs_ = int(manifest["n_docs"])
        est.resolved_params_ = dict(manifest["resolved_params"])
        est.topic_model_ = None
        est.embedder_ = est._get_embedder()
    except (KeyError, TypeError, ValueError) as err:
        raise CacheError(f"{who}: {folder} is inconsistent ({type(err).__name__}: {err}). {_REFIT}") from err
    return est

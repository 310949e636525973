"""On-disk embedding cache keyed by model identity and each text's hash.

Layout: ``<cache_dir>/<model key>/<shard>.safetensors``. A shard holds two tensors, ``keys``
(uint8, n x 32: sha256 of each text) and ``embeddings`` (float32, n x dim), and metadata with
the format version, the model id and a sha256 of both tensors. Shards are written atomically
(temp file + rename), one per chunk of new texts, so a run killed part way keeps every finished
chunk. A shard that fails its checks (corrupted, foreign, other version or model) is reported,
removed and recomputed, never loaded. Nothing is pickled.
"""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
import uuid
import warnings
from pathlib import Path
from typing import Sequence

import numpy as np

from themeassist.exceptions import CacheError

CACHE_VERSION = "1"


def default_cache_dir() -> Path:
    """The user's cache folder for themeassist (``$THEMEASSIST_CACHE_DIR`` overrides it)."""
    env = os.environ.get("THEMEASSIST_CACHE_DIR")
    if env:
        return Path(env)
    import platformdirs

    return Path(platformdirs.user_cache_dir("themeassist")) / "embeddings"


def text_keys(texts: Sequence[str]) -> np.ndarray:
    """sha256 of each text (UTF-8, lone surrogates escaped) as a uint8 array of shape (n, 32)."""
    out = np.empty((len(texts), 32), dtype=np.uint8)
    for i, t in enumerate(texts):
        out[i] = np.frombuffer(hashlib.sha256(str(t).encode("utf-8", "surrogatepass")).digest(), dtype=np.uint8)
    return out


def _digest(keys: np.ndarray, emb: np.ndarray) -> str:
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(keys).tobytes())
    h.update(np.ascontiguousarray(emb).tobytes())
    return h.hexdigest()


class EmbeddingCache:
    """Shards of cached embeddings for one model under ``root``.

    Examples
    --------
    >>> cache = EmbeddingCache("/tmp/ta-cache", "st:demo:0123")      # doctest: +SKIP
    >>> found, rows = cache.lookup(text_keys(["hello"]))               # doctest: +SKIP
    """

    def __init__(self, root: str | os.PathLike, model_id: str) -> None:
        self.root = Path(root)
        self.model_id = model_id
        self.folder = self.root / re.sub(r"[^A-Za-z0-9_.-]+", "_", model_id)

    def _shards(self) -> list[Path]:
        return sorted(self.folder.glob("*.safetensors")) if self.folder.is_dir() else []

    def _read(self, path: Path) -> tuple[np.ndarray, np.ndarray]:
        from safetensors import safe_open

        try:
            with safe_open(str(path), framework="numpy") as fh:
                meta = fh.metadata() or {}
                keys, emb = fh.get_tensor("keys"), fh.get_tensor("embeddings")
        except Exception as exc:  # noqa: BLE001 - any unreadable file is a corrupted shard
            raise CacheError(f"cache shard {path} cannot be read ({exc})") from exc
        if meta.get("format") != "themeassist-embeddings" or meta.get("version") != CACHE_VERSION:
            raise CacheError(f"cache shard {path} is not a themeassist v{CACHE_VERSION} shard")
        if meta.get("model_id") != self.model_id:
            raise CacheError(f"cache shard {path} belongs to model {meta.get('model_id')!r}, not {self.model_id!r}")
        if keys.ndim != 2 or keys.shape[1] != 32 or emb.ndim != 2 or len(keys) != len(emb):
            raise CacheError(f"cache shard {path} has inconsistent shapes {keys.shape} and {emb.shape}")
        if meta.get("sha256") != _digest(keys, emb):
            raise CacheError(f"cache shard {path} fails its checksum (corrupted)")
        return keys, emb.astype(np.float32, copy=False)

    def lookup(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Return ``(found, embeddings)``: a boolean mask over ``keys`` and an array with the cached
        rows filled in (other rows zero), or ``None`` when nothing was found."""
        wanted: dict[bytes, list[int]] = {}
        for i, k in enumerate(keys):
            wanted.setdefault(k.tobytes(), []).append(i)
        found = np.zeros(len(keys), dtype=bool)
        out: np.ndarray | None = None
        for path in self._shards():
            try:
                skeys, emb = self._read(path)
            except CacheError as exc:
                warnings.warn(f"{exc}; removing it, its texts will be embedded again.", stacklevel=3)
                path.unlink(missing_ok=True)
                continue
            for j, k in enumerate(skeys):
                rows = wanted.get(k.tobytes())
                if rows is None or found[rows[0]]:
                    continue
                if out is None:
                    out = np.zeros((len(keys), emb.shape[1]), dtype=np.float32)
                if emb.shape[1] != out.shape[1]:
                    continue
                out[rows] = emb[j]
                found[rows] = True
            if found.all():
                break
        return found, out

    def store(self, keys: np.ndarray, embeddings: np.ndarray) -> Path:
        """Write one shard atomically and return its path."""
        from safetensors.numpy import save

        keys = np.ascontiguousarray(keys, dtype=np.uint8)
        emb = np.ascontiguousarray(embeddings, dtype=np.float32)
        meta = {"format": "themeassist-embeddings", "version": CACHE_VERSION, "model_id": self.model_id,
                "sha256": _digest(keys, emb)}
        self.folder.mkdir(parents=True, exist_ok=True)
        final = self.folder / f"{uuid.uuid4().hex}.safetensors"
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(save({"keys": keys, "embeddings": emb}, metadata=meta))
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, final)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return final

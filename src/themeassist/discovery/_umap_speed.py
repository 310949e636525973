"""Two ways discovery avoids UMAP's fixed costs at the seed-study scale (a few thousand comments).

* UMAP compiles its numba functions on first use in every process (5-10 s on 2 cores), because
  umap-learn declares them without ``cache=True``. :func:`enable_jit_cache` turns numba's own
  on-disk cache on for them, as pynndescent already does for its functions, so the compilation is
  paid once per installation, not once per run. The cache holds compiled machine code and numba's
  index, written by numba next to UMAP's sources (or under ``NUMBA_CACHE_DIR``); nothing of the
  comments goes there.
* Below 4,096 points UMAP finds exact neighbours by calling a Python-level cosine function for
  every pair (about 4 s for 1,500 comments). :func:`exact_cosine_knn` computes the same
  neighbours with one matrix product; UMAP takes them through its ``precomputed_knn`` parameter.
"""

from __future__ import annotations

import sys

import numpy as np

from themeassist.exceptions import ParameterError

#: UMAP computes all pairwise distances below this many points; so does :func:`exact_cosine_knn`.
SMALL_DATA = 4096

_cache_enabled = False


def enable_jit_cache() -> int:
    """Turn on numba's on-disk cache for umap-learn's compiled functions (once per process).

    Returns
    -------
    int
        How many functions were switched to caching by this call (0 after the first call).

    Examples
    --------
    >>> from themeassist.discovery._umap_speed import enable_jit_cache
    >>> enable_jit_cache() >= 0
    True
    """
    global _cache_enabled
    if _cache_enabled:
        return 0
    import umap  # noqa: F401 - imports umap.umap_, umap.layouts, umap.utils, umap.distances
    from numba.core.caching import NullCache
    from numba.core.dispatcher import Dispatcher

    n = 0
    for name, module in list(sys.modules.items()):
        if module is None or not (name == "umap" or name.startswith("umap.")):
            continue
        for value in list(vars(module).values()):
            # only functions not compiled yet: a compiled one keeps its in-memory code
            if isinstance(value, Dispatcher) and isinstance(value._cache, NullCache) and not value.signatures:
                value.enable_caching()
                n += 1
    _cache_enabled = True
    return n


def exact_cosine_knn(E: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray, None]:
    """The ``k`` nearest neighbours of every row by cosine distance, each row itself included.

    Parameters
    ----------
    E : ndarray of shape (n, dim)
        At most :data:`SMALL_DATA` rows (the distance matrix is n x n).
    k : int
        Neighbours per row, ``1 <= k <= n``.

    Returns
    -------
    (indices, distances, None)
        int64 and float32 arrays of shape (n, k), nearest first (ties by index): the
        ``precomputed_knn`` UMAP accepts (without a search index, so its ``transform`` of new
        data is unavailable; discovery does not use it).

    Examples
    --------
    >>> E = np.array([[1.0, 0.0], [0.8, 0.6], [0.0, 1.0]])
    >>> exact_cosine_knn(E, 2)[0].tolist()
    [[0, 1], [1, 0], [2, 1]]
    """
    X = np.asarray(E, dtype=np.float64)
    n = X.shape[0]
    if n > SMALL_DATA or not 1 <= k <= n:
        raise ParameterError(f"exact_cosine_knn: needs 1 <= k <= n <= {SMALL_DATA}; got n={n}, k={k}. Pass fewer "
                             "neighbours than points, or let UMAP find neighbours itself above that size.")  # fmt: skip
    norms = np.linalg.norm(X, axis=1)
    X = X / np.where(norms > 0, norms, 1.0)[:, None]
    D = 1.0 - X @ X.T
    np.clip(D, 0.0, 2.0, out=D)
    np.fill_diagonal(D, 0.0)
    idx = np.argsort(D, axis=1, kind="stable")[:, :k]
    return idx.astype(np.int64), np.take_along_axis(D, idx, axis=1), None

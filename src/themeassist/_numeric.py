"""Numerical helpers shared by the stages (private).

:func:`rowwise_dot` is the product every row-by-row score goes through. BLAS picks its kernels by
the shape of a product: a row multiplied alone, or in a small batch, can differ in its last bits
from the same row multiplied in a large one. Computing every product in blocks of the same fixed
number of rows (the last block padded with zero rows) makes each row's result depend on that row
alone, so that a corpus scored at once, in chunks or on a cluster gives the same numbers, bit for
bit.
"""

from __future__ import annotations

import numpy as np

__all__ = ["BLOCK_ROWS", "rowwise_dot"]

#: Rows per product (the last block is padded with zero rows to this size).
BLOCK_ROWS = 256


def rowwise_dot(X: np.ndarray, W: np.ndarray) -> np.ndarray:
    """``X @ W`` computed in blocks of :data:`BLOCK_ROWS` rows, so that each row of the result
    depends only on that row of ``X`` (and ``W``), not on the rows multiplied with it.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> X, W = rng.normal(size=(300, 16)).astype(np.float32), rng.normal(size=(16, 5)).astype(np.float32)
    >>> full = rowwise_dot(X, W)
    >>> bool((rowwise_dot(X[7:9], W) == full[7:9]).all()) and np.allclose(full, X @ W, atol=1e-4)
    True
    """
    X = np.asarray(X)
    n = X.shape[0]
    out = np.empty((n, W.shape[1]), dtype=np.result_type(X.dtype, W.dtype))
    block = np.zeros((BLOCK_ROWS, X.shape[1]), dtype=X.dtype)
    for a in range(0, n, BLOCK_ROWS):
        b = min(n, a + BLOCK_ROWS)
        block[: b - a] = X[a:b]
        block[b - a:] = 0
        out[a:b] = (block @ W)[: b - a]
    return out

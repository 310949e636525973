"""Tests for themeassist.discovery._umap_speed: exact small-data neighbours and numba's on-disk cache for UMAP."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
from sklearn.neighbors import NearestNeighbors

from themeassist.discovery._umap_speed import SMALL_DATA, exact_cosine_knn


def test_exact_cosine_knn_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    E = rng.normal(size=(300, 24)).astype(np.float32) * rng.uniform(0.1, 5, size=(300, 1)).astype(np.float32)
    idx, dist, index = exact_cosine_knn(E, 10)
    assert index is None and idx.shape == dist.shape == (300, 10)
    ref_d, ref_i = NearestNeighbors(n_neighbors=10, metric="cosine", algorithm="brute").fit(E).kneighbors(E)
    np.testing.assert_allclose(dist, ref_d, atol=1e-5)
    assert (idx == ref_i).mean() > 0.99  # same neighbours (ties aside), nearest first
    assert (idx[:, 0] == np.arange(300)).all() and (dist[:, 0] == 0).all()
    assert (np.diff(dist, axis=1) >= 0).all()


def test_exact_cosine_knn_zero_rows_duplicates_and_limits() -> None:
    E = np.array([[0.0, 0.0], [1.0, 0.0], [2.0, 0.0], [0.0, 1.0]])
    idx, dist, _ = exact_cosine_knn(E, 4)
    assert idx[1].tolist()[:2] == [1, 2] and dist[1, 1] == 0  # a duplicate direction is at distance 0
    assert np.isfinite(dist).all() and (dist >= 0).all() and (dist <= 2).all()
    with pytest.raises(ValueError, match="1 <= k <= n"):
        exact_cosine_knn(E, 5)
    with pytest.raises(ValueError, match="4096"):
        exact_cosine_knn(np.ones((SMALL_DATA + 1, 2)), 3)


@pytest.mark.slow
def test_umap_compiled_code_is_cached_on_disk(tmp_path) -> None:  # type: ignore[no-untyped-def]
    code = (
        "import numpy as np\n"
        "from themeassist.discovery._umap_speed import enable_jit_cache\n"
        "n = enable_jit_cache()\n"
        "import umap.umap_ as u\n"
        "assert n > 0 and enable_jit_cache() == 0\n"
        "print(type(u.smooth_knn_dist._cache).__name__)\n"
        "X = np.random.default_rng(0).normal(size=(60, 8)).astype(np.float32)\n"
        "u.UMAP(n_neighbors=5, n_epochs=20, random_state=0, n_jobs=1).fit_transform(X)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split()[0] == "FunctionCache"
    cached = [p.name for p in tmp_path.rglob("*.nbi")]
    assert any(name.startswith("umap_.smooth_knn_dist") for name in cached), cached
    assert any(name.startswith("layouts.") for name in cached), cached

"""BERTopic's parts as discovery uses them: an embedding adapter and a guarded HDBSCAN."""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

logger = logging.getLogger("themeassist.discovery.estimator")


class _EmbedderBackend:  # adapter so BERTopic representations can embed words with our embedder
    def __new__(cls, embedder: Any):  # type: ignore[no-untyped-def]
        from themeassist.discovery._imports import import_bertopic

        import_bertopic()
        from bertopic.backend import BaseEmbedder

        class _Backend(BaseEmbedder):
            def __init__(self, inner: Any) -> None:
                super().__init__()
                self.inner = inner

            def embed(self, documents: list[str], verbose: bool = False) -> np.ndarray:
                return np.asarray(self.inner.encode(list(documents)), dtype=np.float32)

        return _Backend(embedder)


class _GuardedHDBSCAN:
    """HDBSCAN ("eom") that falls back to "leaf" selection when one cluster swallows the corpus.

    Excess-of-mass selection sometimes prefers a giant parent cluster (seen on the NHS comments
    with large ``min_cluster_size`` and on 50,000-comment samples): a single "code" holding most
    comments is useless for coding, so when the largest cluster holds more than ``max_share`` of
    the points the tree is re-cut at its leaves (same condensed tree, clusters of at least
    ``min_cluster_size``) and the finer result is kept if it has more clusters.
    """

    def __init__(self, *, min_cluster_size: int, min_samples: int, method: str, max_share: float = 0.5) -> None:
        self.min_cluster_size, self.min_samples = min_cluster_size, min_samples
        self.method, self.max_share = method, max_share

    def _fit(self, X: np.ndarray, method: str):  # type: ignore[no-untyped-def]
        from hdbscan import HDBSCAN

        return HDBSCAN(min_cluster_size=self.min_cluster_size, min_samples=self.min_samples,
                       metric="euclidean", cluster_selection_method=method, prediction_data=False).fit(X)  # fmt: skip

    def fit(self, X: np.ndarray, y: Any = None) -> "_GuardedHDBSCAN":
        model = self._fit(X, self.method)
        self.method_used_ = self.method
        labels = model.labels_
        if self.method == "eom" and labels.max() >= 0:
            largest = np.bincount(labels[labels >= 0]).max()
            if largest > self.max_share * len(labels):
                leaf = self._fit(X, "leaf")
                if leaf.labels_.max() > labels.max():
                    logger.info("discover: 'eom' put %d of %d comments in one cluster; using 'leaf'",
                                largest, len(labels))  # fmt: skip
                    model, self.method_used_ = leaf, "leaf"
        self.labels_ = model.labels_
        self.probabilities_ = model.probabilities_
        return self

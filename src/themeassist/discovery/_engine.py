"""BERTopic as discovery's engine: built, given a vocabulary, run, and asked for keywords.

:class:`~themeassist.discovery.CandidateDiscovery` never subclasses BERTopic: it builds one
engine per fit (:func:`build_engine`: UMAP with a fixed seed and one thread, a guarded HDBSCAN,
c-TF-IDF, an optional keyword re-ranker), gives it the vocabulary counted here
(:func:`fit_vocabulary`), runs it on precomputed embeddings (:func:`run_engine`) and reads back
each code's keywords and c-TF-IDF row (:func:`refresh_keywords`, :func:`topic_words`). Everything
the estimator keeps afterwards is plain pandas/numpy.
"""

from __future__ import annotations

import logging
import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import CountVectorizer

from themeassist.discovery._labels import stop_words_for
from themeassist.exceptions import CorpusError

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


def representation_model(est: Any, embedder: Any) -> Any:
    """BERTopic's keyword re-ranker for ``est.representation`` (None for plain c-TF-IDF)."""
    if est.representation == "c-tf-idf":
        return None
    from bertopic.representation import KeyBERTInspired, MaximalMarginalRelevance

    if est.representation == "mmr":
        return MaximalMarginalRelevance(diversity=0.3, top_n_words=int(est.top_n_words))
    return KeyBERTInspired(top_n_words=int(est.top_n_words), random_state=int(est.random_state))


def build_engine(est: Any, res: dict[str, Any], embedder: Any, E_fit: np.ndarray) -> Any:
    """A new BERTopic for one fit of ``est`` (resolved parameters ``res``, embeddings ``E_fit``).

    UMAP has ``random_state=est.random_state`` and ``n_jobs=1`` (with a seed UMAP is single-threaded
    anyway; the setting makes it explicit), and below :data:`~themeassist.discovery._umap_speed.SMALL_DATA`
    points it gets exact cosine neighbours computed with one matrix product.
    """
    from themeassist.discovery._imports import import_bertopic

    import_bertopic()
    from bertopic import BERTopic
    from bertopic.vectorizers import ClassTfidfTransformer
    from umap import UMAP

    from themeassist.discovery._umap_speed import SMALL_DATA, enable_jit_cache, exact_cosine_knn

    enable_jit_cache()
    reranks = est.representation != "c-tf-idf"
    if embedder is None and reranks:
        embedder = est._get_embedder()
    knn = exact_cosine_knn(E_fit, res["n_neighbors"]) if len(E_fit) < SMALL_DATA else (None, None, None)
    umap_model = UMAP(
        n_neighbors=res["n_neighbors"], n_components=int(est.n_components), min_dist=float(est.min_dist),
        metric="cosine", n_epochs=int(est.n_epochs), low_memory=res["low_memory"],
        random_state=int(est.random_state), n_jobs=1, verbose=False, precomputed_knn=knn,
    )  # fmt: skip
    hdbscan_model = _GuardedHDBSCAN(min_cluster_size=res["min_topic_size"], min_samples=res["min_samples"],
                                    method=est.cluster_selection_method)  # fmt: skip
    return BERTopic(
        top_n_words=int(est.top_n_words), nr_topics=est.nr_topics, low_memory=res["low_memory"],
        calculate_probabilities=False, umap_model=umap_model, hdbscan_model=hdbscan_model,
        ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
        representation_model=representation_model(est, embedder),
        embedding_model=_EmbedderBackend(embedder) if embedder is not None and reranks else None,
        # not "english": that preprocessing deletes every character but A-Z, a-z, 0-9 and spaces, gluing
        # "he/she" into "heshe" and cutting "café" to "caf"; the vectorizer's own tokens split on them
        language="multilingual", verbose=False,
    )  # fmt: skip


def fit_vocabulary(topic_model: Any, texts: list[str], fit_idx: np.ndarray, *, ngram_range: Any,
                   stop_words: Any, min_df: int, who: str) -> tuple[CountVectorizer, dict[str, int]]:  # fmt: skip
    """Give ``topic_model`` a fixed vocabulary: terms in at least ``min_df`` of the comments it is
    fitted on (BERTopic's own ``min_df`` would count topics), read from the text exactly as BERTopic
    preprocesses it, without repeated-word terms ("staff staff": sentence joins, never a keyword).

    Returns the vectorizer and, for each term, the number of distinct comments (of all ``texts``)
    it occurs in: a label never shows a rarer term.
    """
    vec_kw = {"ngram_range": tuple(ngram_range), "stop_words": stop_words_for(stop_words)}
    clean = topic_model._preprocess_text(np.asarray([texts[i] for i in fit_idx], dtype=object))
    vocab = None
    for df in dict.fromkeys((min_df, 1)):
        try:
            vocab = CountVectorizer(min_df=df, **vec_kw).fit(clean).vocabulary_
            break
        except ValueError:  # nothing left after stop words / min_df
            continue
    terms = sorted(t for t in (vocab or {}) if len(set(t.split())) == len(t.split()))
    if len(terms) < 2:
        raise CorpusError(f"{who}: the comments contain {len(terms)} distinct word(s) outside the "
                          f"stop-word list ({terms}); too few to describe candidate codes with. Pass "
                          "stop_words=None, or more varied comments.")  # fmt: skip
    vectorizer = CountVectorizer(vocabulary=terms, **vec_kw)
    topic_model.vectorizer_model = vectorizer
    all_clean = clean if len(fit_idx) == len(texts) else topic_model._preprocess_text(np.asarray(texts, dtype=object))
    counts = np.asarray((vectorizer.transform(all_clean) > 0).sum(axis=0)).ravel().tolist()
    return vectorizer, dict(zip(terms, counts))


def run_engine(topic_model: Any, texts: list[str], E: np.ndarray, min_topic_size: int,
               who: str) -> tuple[np.ndarray, np.ndarray | None, list[int]]:  # fmt: skip
    """UMAP + HDBSCAN + c-TF-IDF on ``texts`` with embeddings ``E``: the topic of each text (-1:
    noise), HDBSCAN's membership strengths, and the topics found (sorted, without -1)."""
    try:
        with warnings.catch_warnings():  # precomputed neighbours: no UMAP.transform, not used here
            warnings.filterwarnings("ignore", message=r"precomputed_knn\[2\]")
            topics, probs = topic_model.fit_transform(texts, E)
    except (ValueError, TypeError, IndexError, ZeroDivisionError) as err:
        raise CorpusError(
            f"{who}: UMAP/HDBSCAN/c-TF-IDF failed on these {len(texts)} comments ({type(err).__name__}: "
            f"{err}); they may be too few or too alike. Add comments or lower min_topic_size."
        ) from err
    topics = np.asarray(topics, dtype=int)
    found = sorted(set(topics.tolist()) - {-1})
    if not found:
        raise CorpusError(
            f"{who}: HDBSCAN found no cluster among {len(texts)} comments with min_topic_size="
            f"{min_topic_size}; pass a smaller min_topic_size or min_samples."
        )
    return topics, probs, found


def refresh_keywords(est: Any, topic_model: Any, texts: list[str], final: np.ndarray, vectorizer: Any,
                     embedder: Any) -> None:  # fmt: skip
    """Recompute every code's keywords from all the comments now assigned to it (``final``)."""
    bt_logger = logging.getLogger("BERTopic")
    level = bt_logger.level
    bt_logger.setLevel(logging.ERROR)  # its warning about custom topics is about its own later use
    try:
        topic_model.update_topics(texts, topics=final.tolist(), top_n_words=int(est.top_n_words),
                                  vectorizer_model=vectorizer,
                                  representation_model=representation_model(est, embedder))  # fmt: skip
    finally:
        bt_logger.setLevel(level)


def topic_words(topic_model: Any, keyed: dict[int, int], k: int, top_n: int) -> tuple[list[list[str]], sp.csr_matrix]:
    """The top words and c-TF-IDF row of each of the ``k`` codes (code ``c`` is the engine's topic
    ``keyed[c]``)."""
    words: list[list[str]] = []
    topics_sorted = sorted(topic_model.get_topic_freq()["Topic"].tolist()) if hasattr(
        topic_model, "get_topic_freq") else []  # fmt: skip
    ctf = sp.csr_matrix(topic_model.c_tf_idf_)
    offset = 1 if -1 in topics_sorted else 0
    row_of = {t: i for i, t in enumerate(sorted(set(topics_sorted)))}
    rows = []
    for c in range(k):
        t = keyed[c]
        rep = topic_model.get_topic(t) or []
        words.append([w for w, _ in rep if w][:top_n])
        rows.append(row_of.get(t, c + offset))
    return words, sp.csr_matrix(ctf[rows], dtype=np.float32)

"""Candidate-code discovery: sentence embeddings, UMAP, HDBSCAN and c-TF-IDF (via BERTopic).

:class:`CandidateDiscovery` suggests *candidate codes* for the first, inductive phase of a
thematic analysis (Braun & Clarke's "generating initial codes"): groups of comments that say
similar things, each with a readable label, its keywords, its size and a few representative
comments. BERTopic is used as an engine built inside :meth:`CandidateDiscovery.fit`; the fitted
state that matters (tables, topic centroids, c-TF-IDF) is plain pandas/numpy and is saved without
pickle, so a saved run can assign new comments without BERTopic.

Defaults are tuned on 6,205 NHS Friends-and-Family comments (see ``benchmarks/discover.py``) and
scale from 300 to 300,000 comments:

* ``min_topic_size="auto"`` is ``max(5, round(0.005 * n))`` for the ``n`` comments clustered and
  ``min_samples="auto"`` is ``max(1, round(min_topic_size / 5))`` (a lower ``min_samples`` than
  HDBSCAN's default keeps fewer comments out as noise and avoids collapsing into a few giant
  clusters);
* UMAP runs 200 epochs with a fixed ``random_state`` (deterministic), in low-memory mode above
  20,000 comments;
* above ``fit_sample_size`` comments (default 50,000) the clustering is fitted on a random sample
  of that size and every other comment goes to the nearest candidate centroid (cosine similarity
  in embedding space; ``assigned_by == "nearest_centroid"``); keywords are then computed from
  all comments. UMAP and HDBSCAN therefore never see more than ``fit_sample_size`` points;
* outliers (HDBSCAN noise) are reassigned to the most similar candidate code by default
  (``reduce_outliers=True``); their original label stays in ``original_candidate_id``.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from themeassist._schema import USABLE_STATUSES
from themeassist._validation import check_param
from themeassist.corpus import as_corpus
from themeassist.discovery import _assign, _engine
from themeassist.discovery._assign import ASSIGNMENT_COLUMNS, CANDIDATE_COLUMNS, OUTLIER_LABEL, normalise_rows
from themeassist.exceptions import CorpusError, NotFittedError, ParameterError

__all__ = ["ASSIGNMENT_COLUMNS", "CANDIDATE_COLUMNS", "CandidateDiscovery"]

logger = logging.getLogger(__name__)

MIN_DOCS = 10


class CandidateDiscovery(BaseEstimator):
    """Suggest candidate codes by clustering comment embeddings (UMAP + HDBSCAN + c-TF-IDF).

    Parameters
    ----------
    min_topic_size : int or "auto", default "auto"
        Smallest candidate code (HDBSCAN ``min_cluster_size``); "auto": ``max(5, round(0.005*n))``.
    min_samples : int or "auto", default "auto"
        HDBSCAN ``min_samples`` (lower: fewer outliers); "auto": ``max(1, round(min_topic_size/5))``.
    n_neighbors, n_components, min_dist, n_epochs : UMAP settings
        Defaults 15, 5, 0.0, 200 (cosine metric).
    cluster_selection_method : {"eom", "leaf"}, default "eom"
        HDBSCAN cluster selection; "leaf" gives more, smaller codes. With "eom", a result whose
        largest cluster holds over half of the comments is re-cut with "leaf" (recorded in
        ``resolved_params_["cluster_selection_method"]``).
    reduce_outliers : bool, default True
        Reassign HDBSCAN outliers to the most similar candidate code.
    outlier_strategy : {"embeddings", "c-tf-idf"}, default "embeddings"
        How outliers are matched: cosine similarity to the code centroids in embedding space,
        or BERTopic's c-TF-IDF similarity.
    outlier_threshold : float, default 0.0
        Minimum similarity for a reassignment; outliers below it stay outliers.
    nr_topics : int, "auto" or None, default None
        Passed to BERTopic to merge codes down to this number.
    top_n_words : int, default 10
        Keywords kept per code.
    n_representative : int, default 3
        Representative comments per code (closest distinct comments to the code centroid).
    representation : {"c-tf-idf", "mmr", "keybert"}, default "c-tf-idf"
        Keyword extraction: plain c-TF-IDF, or BERTopic's MaximalMarginalRelevance /
        KeyBERTInspired re-ranking (these embed candidate words with the same embedder).
    min_df : int or "auto", default "auto"
        Keep only terms found in at least this many comments; "auto": 1 below 1,000 comments,
        2 below 10,000, else 5.
    ngram_range : tuple, default (1, 2)
    stop_words : str, list or None, default "english"
        "english": scikit-learn's list plus contractions without their apostrophe ("im", "dont").
    min_label_docs : int, default 3
        A keyword names a code (``label``, ``keywords``) only when it occurs in at least this many
        distinct comments, so that no respondent's own words are shown as a code's name; a short
        answer given by at least half of a code's comments (and this many) is its label, quoted.
    fit_sample_size : int, default 50_000
        Above this many comments, cluster a random sample and assign the rest to the nearest centroid.
    low_memory : bool or "auto", default "auto"
        UMAP low-memory nearest neighbours; "auto": on above 20,000 comments.
    random_state : int, default 0
        Seeds UMAP and the sample: two fits with the same seed give identical results.
    embedder : Embedder, str, path or None, default None
        Object with ``encode(texts)`` and ``model_id``, or a model name/folder for
        :func:`themeassist.embed.get_embedder`; None: the packaged all-MiniLM-L6-v2.
    cache_dir : path or None
        Embedding cache folder passed to :func:`~themeassist.embed.get_embedder`.
    show_progress : bool, default True

    Attributes
    ----------
    candidate_codes_ : DataFrame
        One row per candidate code (and a ``candidate_id == -1`` row while outliers remain), sorted
        by size; columns :data:`CANDIDATE_COLUMNS`: ``candidate_id`` (int, 0 = largest),
        ``label`` (str, top distinct keywords joined by " / "), ``keywords`` ("|"-joined top
        words), ``n_docs`` (int), ``share`` (n_docs / substantive comments), ``representative_doc_ids``
        ("|"-joined doc ids), ``representative_quotes`` (those comments, shortened, one per line).
    assignments_ : DataFrame
        One row per input row, in input order; columns :data:`ASSIGNMENT_COLUMNS`: ``doc_id``,
        ``status`` (from the corpus; only "ok"/"truncated" are assigned), ``candidate_id`` (Int64;
        -1 outlier; NA for non-substantive rows), ``is_outlier`` (bool), ``probability``
        (HDBSCAN membership strength; NaN where not clustered by HDBSCAN), ``similarity`` (cosine
        similarity to the code's centroid), ``original_candidate_id`` (Int64: the HDBSCAN result
        before outlier reassignment), ``assigned_by`` ("cluster", "reassigned", "nearest_centroid",
        "outlier", or NA).
    centroids_ : ndarray of shape (n_codes, dim)
        Unit-norm mean embedding of each code (row ``i`` is ``candidate_id == i``).
    c_tf_idf_ : scipy.sparse.csr_matrix of shape (n_codes, n_terms)
    vocabulary_ : ndarray of str, shape (n_terms,)
    model_id_ : str
        Identity of the embedding model ("precomputed" when only embeddings were given).
    n_docs_ : int
        Substantive comments analysed.
    resolved_params_ : dict
        The values used for the "auto" parameters.
    topic_model_ : BERTopic or None
        The fitted engine (None after :meth:`load`).

    Examples
    --------
    >>> from themeassist.discovery import CandidateDiscovery
    >>> disc = CandidateDiscovery(random_state=0).fit(comments)          # doctest: +SKIP
    >>> disc.candidate_codes_[["candidate_id", "label", "n_docs"]].head(3)  # doctest: +SKIP
       candidate_id                              label  n_docs
    0             0     waiting list / long wait / months     212
    >>> disc.save("run/discovery"); CandidateDiscovery.load("run/discovery")  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        min_topic_size: int | str = "auto",
        min_samples: int | str = "auto",
        n_neighbors: int = 15,
        n_components: int = 5,
        min_dist: float = 0.0,
        n_epochs: int = 200,
        cluster_selection_method: str = "eom",
        reduce_outliers: bool = True,
        outlier_strategy: str = "embeddings",
        outlier_threshold: float = 0.0,
        nr_topics: int | str | None = None,
        top_n_words: int = 10,
        n_representative: int = 3,
        representation: str = "c-tf-idf",
        min_df: int | str = "auto",
        ngram_range: tuple[int, int] = (1, 2),
        stop_words: str | list[str] | None = "english",
        min_label_docs: int = 3,
        fit_sample_size: int = 50_000,
        low_memory: bool | str = "auto",
        random_state: int = 0,
        embedder: Any = None,
        cache_dir: str | Path | None = None,
        show_progress: bool = True,
    ) -> None:
        self.min_topic_size = min_topic_size
        self.min_samples = min_samples
        self.n_neighbors = n_neighbors
        self.n_components = n_components
        self.min_dist = min_dist
        self.n_epochs = n_epochs
        self.cluster_selection_method = cluster_selection_method
        self.reduce_outliers = reduce_outliers
        self.outlier_strategy = outlier_strategy
        self.outlier_threshold = outlier_threshold
        self.nr_topics = nr_topics
        self.top_n_words = top_n_words
        self.n_representative = n_representative
        self.representation = representation
        self.min_df = min_df
        self.ngram_range = ngram_range
        self.stop_words = stop_words
        self.min_label_docs = min_label_docs
        self.fit_sample_size = fit_sample_size
        self.low_memory = low_memory
        self.random_state = random_state
        self.embedder = embedder
        self.cache_dir = cache_dir
        self.show_progress = show_progress

    # ---------------------------------------------------------------- validation
    def _validate_params(self) -> None:
        int_ = (int, np.integer)
        if self.min_topic_size != "auto":
            check_param("min_topic_size", self.min_topic_size, owner=self, between=(2, 1e9))
        if self.min_samples != "auto":
            check_param("min_samples", self.min_samples, owner=self, between=(1, 1e9))
        check_param("n_neighbors", self.n_neighbors, owner=self, between=(2, 1e6))
        check_param("n_components", self.n_components, owner=self, between=(1, 1000))
        check_param("min_dist", self.min_dist, owner=self, between=(0.0, 1.0))
        check_param("n_epochs", self.n_epochs, owner=self, between=(10, 100000))
        check_param("cluster_selection_method", self.cluster_selection_method, owner=self,
                    options=("eom", "leaf"))  # fmt: skip
        check_param("reduce_outliers", self.reduce_outliers, owner=self, options=(True, False))
        check_param("outlier_strategy", self.outlier_strategy, owner=self,
                    options=("embeddings", "c-tf-idf"))  # fmt: skip
        check_param("outlier_threshold", self.outlier_threshold, owner=self, between=(-1.0, 1.0))
        if self.nr_topics not in (None, "auto"):
            check_param("nr_topics", self.nr_topics, owner=self, between=(2, 1e6))
        check_param("top_n_words", self.top_n_words, owner=self, between=(1, 100))
        check_param("n_representative", self.n_representative, owner=self, between=(0, 100))
        check_param("representation", self.representation, owner=self,
                    options=("c-tf-idf", "mmr", "keybert"))  # fmt: skip
        if self.min_df != "auto":
            check_param("min_df", self.min_df, owner=self, between=(1, 1e9))
        check_param("fit_sample_size", self.fit_sample_size, owner=self, between=(MIN_DOCS, 1e9))
        check_param("min_label_docs", self.min_label_docs, owner=self, between=(1, 1e9))
        check_param("low_memory", self.low_memory, owner=self, options=(True, False, "auto"))
        check_param("random_state", self.random_state, owner=self, types=int_)
        for name in ("min_topic_size", "min_samples", "n_neighbors", "n_components", "n_epochs",
                     "top_n_words", "n_representative", "fit_sample_size", "min_label_docs"):  # fmt: skip
            value = getattr(self, name)
            if value != "auto" and not isinstance(value, int_):
                raise ParameterError(f"The {name!r} parameter of CandidateDiscovery must be an integer. "
                                 f"Got {value!r} instead.")  # fmt: skip
        ngr = self.ngram_range
        if not (isinstance(ngr, (tuple, list)) and len(ngr) == 2 and 1 <= ngr[0] <= ngr[1] <= 5):
            raise ParameterError("The 'ngram_range' parameter of CandidateDiscovery must be a pair (min_n, "
                             f"max_n) with 1 <= min_n <= max_n <= 5. Got {ngr!r} instead.")  # fmt: skip

    def _resolve(self, n_fit: int) -> dict[str, Any]:
        mts = max(5, round(0.005 * n_fit)) if self.min_topic_size == "auto" else int(self.min_topic_size)
        ms = max(1, round(mts / 5)) if self.min_samples == "auto" else int(self.min_samples)
        if self.min_df == "auto":
            min_df = 1 if n_fit < 1000 else 2 if n_fit < 10_000 else 5
        else:
            min_df = int(self.min_df)
        low_memory = n_fit > 20_000 if self.low_memory == "auto" else bool(self.low_memory)
        return {"min_topic_size": mts, "min_samples": ms, "min_df": min_df, "low_memory": low_memory,
                "n_neighbors": int(min(self.n_neighbors, n_fit - 1))}  # fmt: skip

    def _get_embedder(self) -> Any:
        emb = self.embedder
        if emb is not None and hasattr(emb, "encode") and hasattr(emb, "model_id"):
            return emb
        from themeassist.embed import get_embedder

        return get_embedder(emb, cache_dir=self.cache_dir, show_progress=self.show_progress)

    def _embed(self, texts: list[str], n_rows: int, usable: np.ndarray, embeddings: Any,
               who: str) -> tuple[np.ndarray, str | None, Any]:  # fmt: skip
        """Return unit-norm embeddings of the usable rows, the model id and the embedder used."""
        if embeddings is not None:
            E = np.asarray(embeddings)
            n_use = int(usable.sum())
            if E.ndim != 2 or E.shape[0] not in (n_rows, n_use):
                raise ParameterError(
                    f"{who}: embeddings must be a 2-D array with one row per input row ({n_rows}) or per "
                    f"substantive comment ({n_use}). Got shape {E.shape}; embed the same rows you pass as X."
                )
            at = np.flatnonzero(usable) if E.shape[0] == n_rows and n_rows != n_use else np.arange(len(E))
            E = E[at] if len(at) != len(E) else E
            if not np.issubdtype(E.dtype, np.number) or not np.isfinite(E).all():
                bad = at[~np.isfinite(E).all(axis=1)] + 1 if np.issubdtype(E.dtype, np.number) else []  # 1-based
                where = f" (rows {', '.join(map(str, bad[:5]))}{', ...' if len(bad) > 5 else ''})" if len(bad) else ""
                raise ParameterError(f"{who}: embeddings contain non-numeric, NaN or infinite values{where}; "
                                     "pass the finite output of an embedder's encode().")  # fmt: skip
            model_id = getattr(self.embedder, "model_id", None) if self.embedder is not None else None
            return normalise_rows(E.astype(np.float32)), model_id or "precomputed", None
        embedder = self._get_embedder()
        E = np.asarray(embedder.encode(texts), dtype=np.float32)
        return normalise_rows(E), str(embedder.model_id), embedder

    # ---------------------------------------------------------------- fit
    def fit(self, X: Any, y: None = None, *, embeddings: np.ndarray | None = None) -> "CandidateDiscovery":
        """Discover candidate codes.

        (Over 80 lines for its documentation only: the code itself is under 80.)

        Parameters
        ----------
        X : DataFrame from :func:`themeassist.corpus.load_corpus`, or a sequence of texts
            All rows are kept in :attr:`assignments_`; only substantive ones ("ok", "truncated")
            are clustered. A plain list is validated by ``load_corpus`` (doc ids "0", "1", ...).
        embeddings : ndarray, optional
            Precomputed embeddings, one row per input row or per substantive comment.

        Returns
        -------
        self
        """
        from tqdm.auto import tqdm

        self._validate_params()
        who = "CandidateDiscovery.fit"
        corpus, usable, texts = self._substantive(X, who)
        n = len(texts)
        steps = tqdm(total=5, desc="discover", disable=not self.show_progress, leave=False)
        t0 = time.perf_counter()

        steps.set_postfix_str("embedding")
        E, model_id, embedder = self._embed(texts, len(corpus), usable, embeddings, who)
        steps.update()
        logger.info("discover: %d comments embedded in %.1fs", n, time.perf_counter() - t0)

        fit_idx = _assign.sample_indices(n, int(self.fit_sample_size), self.random_state)
        res = self._resolve(len(fit_idx))
        if len(fit_idx) < 2 * res["min_topic_size"]:
            raise CorpusError(f"{who}: {len(fit_idx)} comments cannot form two candidate codes of at least "
                              f"min_topic_size={res['min_topic_size']}; lower min_topic_size.")  # fmt: skip
        topic_model = _engine.build_engine(self, res, embedder, E[fit_idx])
        vectorizer, doc_freq = _engine.fit_vocabulary(topic_model, texts, fit_idx, ngram_range=self.ngram_range,
                                                      stop_words=self.stop_words, min_df=res["min_df"], who=who)

        steps.set_postfix_str("UMAP + HDBSCAN")
        t1 = time.perf_counter()
        topics_fit, probs_fit, found = _engine.run_engine(topic_model, [texts[i] for i in fit_idx], E[fit_idx],
                                                          res["min_topic_size"], who)  # fmt: skip
        steps.update()
        logger.info("discover: %d clusters, %.1f%% outliers (%.1fs)", len(found),
                    100 * np.mean(topics_fit == -1), time.perf_counter() - t1)  # fmt: skip

        steps.set_postfix_str("assigning")
        final, orig, prob, how = _assign.assign_all(
            E, fit_idx, topics_fit, probs_fit, found, reduce_outliers=bool(self.reduce_outliers),
            strategy=self.outlier_strategy, threshold=float(self.outlier_threshold),
            reduce_by_ctfidf=lambda rows: topic_model.reduce_outliers(
                [texts[i] for i in rows], [-1] * len(rows), strategy="c-tf-idf", threshold=self.outlier_threshold),
        )  # fmt: skip
        steps.update()

        steps.set_postfix_str("keywords")  # from all the comments each code now holds
        had_outliers = bool((orig == -1).any())
        final, orig, mapping = _assign.renumber_by_size(final, orig, found)
        kept = {t for t, new in mapping.items() if t != -1 and new >= 0}
        k = len(kept)
        if len(fit_idx) < n or (self.reduce_outliers and had_outliers) or set(found) != kept:
            _engine.refresh_keywords(self, topic_model, texts, final, vectorizer, embedder)
            keyed = {t: t for t in range(k)}
        else:
            keyed = {mapping[t]: t for t in found}
        words_by_code, ctfidf_rows = _engine.topic_words(topic_model, keyed, k, int(self.top_n_words))
        steps.update()

        steps.set_postfix_str("representatives")
        self._set_fitted(corpus, usable, texts, E, final, orig, prob, how, words_by_code, doc_freq)
        self.c_tf_idf_ = ctfidf_rows
        self.vocabulary_ = np.asarray(vectorizer.get_feature_names_out(), dtype=str)
        self.model_id_ = model_id
        self.embedder_ = embedder if embedder is not None else self._get_embedder()
        self.resolved_params_ = {**res, "n_fit": len(fit_idx),
                                 "cluster_selection_method": topic_model.hdbscan_model.method_used_}
        self.topic_model_ = topic_model
        steps.update()
        steps.close()
        logger.info("discover: %d candidate codes, %d outliers, %.1fs in all", k, int((final == -1).sum()),
                    time.perf_counter() - t0)  # fmt: skip
        return self

    def _substantive(self, X: Any, who: str) -> tuple[pd.DataFrame, np.ndarray, list[str]]:
        """The corpus, which rows are substantive, and their texts (enough of them to cluster)."""
        corpus = as_corpus(X, who=who)
        usable = corpus["status"].isin(USABLE_STATUSES).to_numpy()
        n = int(usable.sum())
        if n == 0:
            counts = corpus["status"].value_counts().to_dict()
            raise CorpusError(f"{who}: no substantive comments to analyse ({len(corpus)} rows; statuses "
                              f"{counts}). Check text_col and the non-answer list.")  # fmt: skip
        if n < MIN_DOCS:
            raise CorpusError(f"{who}: needs at least {MIN_DOCS} substantive comments to find candidate "
                              f"codes; got {n}.")  # fmt: skip
        return corpus, usable, corpus.loc[usable, "text"].astype(str).tolist()

    def _set_fitted(self, corpus: pd.DataFrame, usable: np.ndarray, texts: list[str], E: np.ndarray,
                    final: np.ndarray, orig: np.ndarray, prob: np.ndarray, how: np.ndarray,
                    words_by_code: list[list[str]], doc_freq: dict[str, int]) -> None:  # fmt: skip
        """Centroids, similarities and the two tables from the final assignment."""
        k = len(words_by_code)
        centroids = _assign.centroids(E, final, list(range(k)))
        sim = np.full(len(texts), np.nan)
        has = final >= 0
        sim[has] = np.einsum("ij,ij->i", E[has], centroids[final[has]])
        self.candidate_codes_ = _assign.candidate_table(
            final, sim, texts, corpus.loc[usable, "doc_id"].tolist(), words_by_code, doc_freq,
            n_representative=int(self.n_representative), min_label_docs=int(self.min_label_docs),
            core=np.asarray(how) == "cluster")
        self.assignments_ = _assign.assignment_table(corpus, usable, final, orig, prob, sim, how)
        self.centroids_ = centroids
        self.n_docs_ = len(texts)

    # ---------------------------------------------------------------- use
    def _check_fitted(self) -> None:
        if not hasattr(self, "centroids_"):
            raise NotFittedError("This CandidateDiscovery instance is not fitted yet. Call 'fit' with the "
                                 "comments first, or CandidateDiscovery.load(folder).")  # fmt: skip

    def without_engine(self) -> "CandidateDiscovery":
        """A copy of this fitted estimator without its BERTopic engine (``topic_model_ = None``):
        it assigns comments (:meth:`transform`) and saves like the original, and is light to send
        to other processes (e.g. Dask workers). The original is not changed.

        Examples
        --------
        >>> light = disc.without_engine()                 # doctest: +SKIP
        >>> light.transform(["new comment"]).shape[0]     # doctest: +SKIP
        1
        """
        self._check_fitted()
        import copy

        light = copy.copy(self)
        light.topic_model_ = None
        return light

    def transform(self, X: Any, *, embeddings: np.ndarray | None = None) -> pd.DataFrame:
        """Assign (new) comments to the nearest candidate code centroid.

        Parameters
        ----------
        X : DataFrame from ``load_corpus`` or a sequence of texts
        embeddings : ndarray, optional
            Precomputed embeddings from the same model as the fit.

        Returns
        -------
        DataFrame
            One row per input row with :data:`ASSIGNMENT_COLUMNS`; ``similarity`` is the cosine
            similarity to the chosen centroid, ``probability`` and ``original_candidate_id`` are
            empty and ``assigned_by`` is "nearest_centroid".
        """
        self._check_fitted()
        who = "CandidateDiscovery.transform"
        corpus = as_corpus(X, who=who)
        usable = corpus["status"].isin(USABLE_STATUSES).to_numpy()
        n = int(usable.sum())
        if n == 0:
            final = np.zeros(0, dtype=int)
            sim = np.zeros(0)
        else:
            texts = corpus.loc[usable, "text"].astype(str).tolist()
            E, model_id, _ = self._embed(texts, len(corpus), usable, embeddings, who)
            if embeddings is None and self.model_id_ not in (None, "precomputed") and model_id != self.model_id_:
                raise ParameterError(
                    f"{who}: the embedding model {model_id!r} differs from the one used to fit "
                    f"({self.model_id_!r}); pass embedder= with that model or precomputed embeddings."
                )
            if E.shape[1] != self.centroids_.shape[1]:
                raise ParameterError(f"{who}: embeddings have {E.shape[1]} dimensions; the candidate codes were "
                                     f"fitted with {self.centroids_.shape[1]}. Embed with the model used to fit "
                                     f"({self.model_id_!r}).")  # fmt: skip
            S = E @ self.centroids_.T
            final = np.argmax(S, axis=1)
            sim = S[np.arange(n), final]
        how = np.full(n, "nearest_centroid", dtype=object)
        out = _assign.assignment_table(corpus, usable, final, final, np.full(n, np.nan), sim, how)
        out["original_candidate_id"] = pd.array([pd.NA] * len(out), dtype="Int64")
        return out

    # ---------------------------------------------------------------- persistence
    def _jsonable_params(self) -> dict[str, Any]:
        params = self.get_params()
        emb = params.get("embedder")
        if emb is not None and not isinstance(emb, (str, Path)):
            params["embedder"] = None  # objects are not saved; model_id_ records the model
        for key, value in list(params.items()):
            if isinstance(value, Path):
                params[key] = str(value)
            elif isinstance(value, tuple):
                params[key] = list(value)
            elif isinstance(value, np.integer):
                params[key] = int(value)
        return params

    @staticmethod
    def check_save_target(folder: str | Path) -> None:
        """Raise :class:`~themeassist.exceptions.OutputError` when :meth:`save` would have to replace
        something that is not a saved discovery (a folder holding other files, a file).

        Examples
        --------
        >>> CandidateDiscovery.check_save_target("/tmp/a-new-folder-for-a-model")
        """
        from themeassist.discovery._persist import check_save_target

        check_save_target(Path(folder))

    def save(self, folder: str | Path) -> Path:
        """Write the fitted state to ``folder`` (parquet, .npy, JSON; no pickle), atomically.

        Files: ``candidate_codes.parquet``, ``assignments.parquet``, ``centroids.npy``,
        ``c_tf_idf_{data,indices,indptr}.npy``, ``vocabulary.json`` and ``manifest.json`` (format,
        versions, parameters, model identity and the sha256 of every file). They are written into
        a new folder beside ``folder`` that then takes its place, so a crash never leaves a half
        model; an existing ``folder`` is replaced only when it holds a saved discovery (or nothing).
        Files are ``0600``, the folder ``0700`` (see :mod:`themeassist.io.tables`).

        Returns
        -------
        Path
            The folder.

        Examples
        --------
        >>> disc.save("run/model")                      # doctest: +SKIP
        PosixPath('run/model')
        """
        from themeassist.discovery._persist import save_discovery

        self._check_fitted()
        return save_discovery(self, Path(folder))

    @classmethod
    def load(cls, folder: str | Path) -> "CandidateDiscovery":
        """Read a folder written by :meth:`save`, verifying every checksum.

        Raises
        ------
        CacheError
            If the manifest is missing or foreign, or any file is missing or altered.

        Examples
        --------
        >>> CandidateDiscovery.load("run/model").candidate_codes_   # doctest: +SKIP
        """
        from themeassist.discovery._persist import load_discovery

        return load_discovery(cls, Path(folder))

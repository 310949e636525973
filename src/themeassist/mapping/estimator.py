"""Map comments (and candidate codes) onto a researcher's codebook.

:class:`ThemeMapper` learns, from a :class:`~themeassist.codebook.Codebook` and optionally coded
example comments, to suggest for each comment the leaf themes that most likely apply, with a
score in [0, 1], the parent themes rolled up, and evidence a coder can check.

Three regimes, chosen from the examples (``regime="auto"``) or forced:

=============  ================================================================================
zero-shot      no examples: cosine similarity between each comment and each leaf's codebook text
               (name, prompt-like templates, parts of compound names, description, keywords,
               examples), centred per comment and standardised per theme over the comments
               being scored (transductive), so that a theme whose text resembles everything does
               not swallow the corpus; plus the share of the theme's name/keyword words found in
               the comment. With 50 comments or more, self-training: the comments that match
               each theme best become its examples and move its prototype towards them (the
               vocabulary of the comments, not of the codebook), and each theme's threshold
               follows an estimate of its prevalence (how many comments rank it first). The best
               theme is suggested unless it is below the theme's average.
few-shot       some coded comments per leaf (median < 30 over the leaves that have any):
               prototype, centroid-of-examples, nearest-neighbour vote, logistic regression on
               embeddings, linear SVMs on TF-IDF word + character n-grams and the share of the
               theme's name/keyword words in the comment, stacked by a logistic regression
               fitted on out-of-fold scores of the examples (non-negative weights, refitted per
               leaf towards the shared fit); thresholds tuned on the same folds.
supervised     median >= 30 coded comments per leaf: the same scorers, with per-leaf thresholds
               and base rates trusted more (they are shrunk less towards the shared ones).
=============  ================================================================================

Examples are a DataFrame with columns ``text`` and ``codes`` (theme names, ids or paths at any
level, joined by ``"|"``), optionally ``doc_id`` and ``negative_codes`` (codes a coder rejected:
known negatives, see :func:`themeassist.mapping.agreement.read_decisions`). :func:`read_examples` reads
them from a file or a table with other column names; :func:`examples_from_long` builds them from
a long table (``doc_id, theme_id``) and the texts.
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.model_selection import KFold

from themeassist.mapping import _models as mm
from themeassist.mapping._models import Alignment, _snip, align_candidates
from themeassist.mapping.examples import examples_from_long, label_matrix, label_space, read_examples, used_examples
from themeassist._numeric import rowwise_dot
from themeassist._validation import check_param
from themeassist.codebook import Codebook, load_codebook
from themeassist.exceptions import CodebookError, CorpusError, NotFittedError
from themeassist.mapping.table import SUGGESTION_COLUMNS, ThemeIndex, suggestion_rows, suggestion_table

__all__ = [
    "Alignment",
    "SUGGESTION_COLUMNS",
    "ThemeMapper",
    "align_candidates",
    "examples_from_long",
    "read_examples",
]

EXAMPLE_COLUMNS: tuple[str, ...] = ("doc_id", "text", "codes", "negative_codes")
REGIMES = ("auto", "zero-shot", "few-shot", "supervised")
#: Auto regime: supervised when the median number of coded examples per leaf (over leaves with at
#: least one) reaches this, else few-shot; zero-shot without any coded example.
SUPERVISED_MEDIAN = 30
_OK = ("ok", "truncated")
# zero-shot: c = cosine minus the comment's mean cosine over leaves; z = (c - mean) / sd per leaf over
# the comments scored together; z += _ZS_LEX * share of the leaf's name/keyword words (idf-weighted)
# found in the comment; p = sigmoid(scale * (z - threshold)), suggested from p = 0.5. The best leaf
# (by cosine + _ZS_RANK_LEX * lexical share) is also suggested when its z reaches _ZS_NONE_Z; below
# that: none of these. Without transduction the threshold is _ZS_CENTRE for every leaf.
_ZS_SCALE, _ZS_CENTRE = 1.5, 2.5
_ZS_LEX, _ZS_RANK_LEX = 9.0, 0.1
_ZS_NONE_Z = 1.0
# transductive self-training (one round, over all the comments scored together): per leaf, the
# m comments with the highest z among those whose best leaf it is are taken as its examples, with
# m = _ZS_PSEUDO[0] * n_comments / n_leaves (a quarter of an average leaf's comments), at least 1
# and at most _ZS_PSEUDO[1]: a few confident examples describe a theme in the comments' own words,
# more bring in comments of neighbouring themes (benchmarks: caps of 8-15 give similar results,
# 40 clearly worse). The prototype becomes unit(_ZS_PROTO_WEIGHT * prototype + unit mean of the
# examples) and z is computed again. Each leaf's threshold is then the z of its k-th highest
# comment, k = _ZS_PREVALENCE * the number of comments that rank it first (coded survey comments
# have about 1.4 themes each).
_ZS_PSEUDO = (0.25, 10)
_ZS_PROTO_WEIGHT = 0.5
_ZS_PREVALENCE = 1.5
_ZS_FALLBACK = (0.0, 0.076)  # mean/sd of c per leaf when fewer than 50 comments are scored at once
_MIN_TRANSDUCTIVE = 50
_CHUNK = 1000  # rows scored at once by the stacked regimes

# settings per regime: prototype weight in centroids, kNN k, C of the two logistic regressions,
# threshold shrinkage (pseudo-positives), stacker prior variance of the per-leaf base-rate shift
_SETTINGS = {
    "few-shot": dict(proto_weight=0.3, knn_k=5, c_emb=10.0, c_tfidf=0.5, th_shrink=30.0, prior_var=0.5,
                     weight_prior=200.0),
    "supervised": dict(proto_weight=0.1, knn_k=15, c_emb=3.0, c_tfidf=0.5, th_shrink=5.0, prior_var=2.0,
                       weight_prior=1.0),
}


def _n_pseudo(n: int, n_leaves: int) -> int:
    """Self-training examples per leaf for ``n`` comments: ``_ZS_PSEUDO[0]`` times the comments an
    average leaf would have, between 1 and ``_ZS_PSEUDO[1]``."""
    share, cap = _ZS_PSEUDO
    return int(min(cap, max(1, round(share * n / max(n_leaves, 1)))))


def _one_blas_thread(method):  # type: ignore[no-untyped-def]
    """Run with one BLAS thread: the work is many small matrix products, for which thread start-up
    and spinning cost more than they save (much more on a busy two-core machine)."""
    import functools

    from threadpoolctl import threadpool_limits

    @functools.wraps(method)
    def wrapper(*args, **kwargs):  # type: ignore[no-untyped-def]
        with threadpool_limits(limits=1, user_api="blas"):
            return method(*args, **kwargs)

    return wrapper


# ----------------------------------------------------------------------------------------------
# the estimator
# ----------------------------------------------------------------------------------------------
class ThemeMapper(BaseEstimator):
    """Suggest codebook themes for comments, in the zero-shot, few-shot or supervised regime.

    Parameters
    ----------
    regime : {"auto", "zero-shot", "few-shot", "supervised"}, default "auto"
        ``"auto"``: zero-shot without coded examples; supervised when the median number of
        examples per leaf (over leaves with at least one) is >= 30; few-shot otherwise.
    top_k : int, default 3
        At most this many leaf themes are suggested per comment.
    min_score : float in [0, 1] or None, default None
        Fixed score a leaf needs to be suggested. ``None``: thresholds tuned per leaf by
        cross-validation on the examples (zero-shot: a score of 0.5, i.e. a per-theme z-score at
        the theme's threshold, set from its estimated prevalence over the comments scored together
        or 2.5 without transduction, and the best theme when its z-score reaches 1), with "none of
        these" below them.
    embedder : str, Embedder or None
        Model name or object for :func:`themeassist.embed.get_embedder`; loaded on first use.
    lexical : bool, default True
        With examples: add linear SVMs on TF-IDF word and character n-grams and the codebook-word
        evidence to the stack (both need the texts; ``False`` works from embeddings alone).
        Zero-shot always adds codebook-word evidence when texts are given.
    transductive : bool, default True
        In zero-shot, learn from the comments scored together (at least 50): standardise scores
        per theme over them, self-train the theme prototypes on the comments that match each
        theme best, and set each theme's threshold from its estimated prevalence. Otherwise (and
        for small batches) the codebook prototypes, fixed typical cosine statistics and one
        threshold are used.
    n_folds : int, default 5
        Cross-validation folds over the examples for calibration and thresholds.
    random_state : int, default 0
        Seed of the cross-validation folds (the zero-shot regime is deterministic).
    cache_dir : path, None or False
        Embedding cache folder passed to :func:`~themeassist.embed.get_embedder`.

    Attributes
    ----------
    regime_ : str
    leaf_ids_, leaf_names_ : list of str
        The codebook's leaves, the columns of :meth:`predict_proba`.
    thresholds_ : ndarray of shape (n_leaves,)
    none_level_ : float
        A comment whose best ``score / threshold`` is below this gets "none of these" (zero-shot:
        0, the rule is on the z-score of the best-ranked theme).
    n_examples_ : int
    examples_per_leaf_ : ndarray of shape (n_leaves,)
    stack_weights_ : dict
        Weight of each scorer in the stacker (few-shot and supervised).

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Care": ["Food", "Staff attitude"], "Access": ["Parking"]})
    >>> mapper = ThemeMapper().fit(cb)                                   # doctest: +SKIP
    >>> mapper.suggest(["The meals were cold", "Nowhere to park"])["suggested"].tolist()  # doctest: +SKIP
    ['Food', 'Parking']
    """

    def __init__(
        self,
        *,
        regime: str = "auto",
        top_k: int = 3,
        min_score: float | None = None,
        embedder: Any = None,
        lexical: bool = True,
        transductive: bool = True,
        n_folds: int = 5,
        random_state: int = 0,
        cache_dir: Any = None,
    ) -> None:
        self.regime = regime
        self.top_k = top_k
        self.min_score = min_score
        self.embedder = embedder
        self.lexical = lexical
        self.transductive = transductive
        self.n_folds = n_folds
        self.random_state = random_state
        self.cache_dir = cache_dir

    # ---- helpers ------------------------------------------------------------------------------
    def _resolve_embedder(self) -> Any:
        """The embedder named by the ``embedder`` parameter (resolved afresh at every ``fit``)."""
        if self.embedder is not None and not isinstance(self.embedder, (str, os.PathLike)) \
                and hasattr(self.embedder, "encode"):
            return self.embedder
        from themeassist.embed import get_embedder

        return get_embedder(self.embedder, cache_dir=self.cache_dir, show_progress=False)

    def _encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.protos_.shape[1] if hasattr(self, "protos_") else 1), np.float32)
        return mm.normalise_rows(self.embedder_.encode(list(texts)))

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embeddings (unit rows, float32) of ``texts`` with the fitted embedder (:attr:`embedder_`).

        Examples
        --------
        >>> mapper.embed(["The meals were cold"]).shape        # doctest: +SKIP
        (1, 384)
        """
        self._check_fitted("embed")
        return self._encode([str(t) for t in texts])

    def _check_fitted(self, what: str) -> None:
        if not hasattr(self, "leaf_ids_"):
            raise NotFittedError(f"This ThemeMapper is not fitted yet: call fit(codebook, examples) before {what}().")

    def _validate(self) -> None:
        check_param("regime", self.regime, options=REGIMES, owner=self)
        check_param("top_k", self.top_k, types=int, owner=self)
        if self.top_k < 1:
            raise ValueError(f"The 'top_k' parameter of ThemeMapper must be an int >= 1. Got {self.top_k!r} instead.")
        check_param("min_score", self.min_score, between=(0.0, 1.0), allow_none=True, owner=self)
        check_param("n_folds", self.n_folds, types=int, owner=self)
        if self.n_folds < 2:
            raise ValueError(f"The 'n_folds' parameter of ThemeMapper must be an int >= 2. "
                             f"Got {self.n_folds!r} instead.")

    # ---- fit ----------------------------------------------------------------------------------
    @_one_blas_thread
    def fit(
        self,
        codebook: Codebook | str | os.PathLike,
        examples: pd.DataFrame | None = None,
        *,
        embeddings: np.ndarray | None = None,
        example_embeddings: np.ndarray | None = None,
    ) -> ThemeMapper:
        """Learn theme prototypes from the codebook and, if given, scorers from coded examples.

        Parameters
        ----------
        codebook : Codebook, path or built-in name
        examples : DataFrame, optional
            Columns ``text`` and ``codes`` (``"|"``-joined names, ids or paths at any level),
            optionally ``doc_id`` and ``negative_codes``; see :func:`read_examples`.
        embeddings : ndarray of shape (n_leaves, dim), optional
            Precomputed prototype vectors for the leaves (e.g. from another model); by default
            they are embedded from the codebook text.
        example_embeddings : ndarray of shape (len(examples), dim), optional
            Precomputed embeddings of the example texts (unit rows).

        Returns
        -------
        self
        """
        self._validate()
        self.embedder_ = self._resolve_embedder()
        cb = load_codebook(codebook) if not isinstance(codebook, Codebook) else codebook
        ex = self._examples(examples)
        space = label_space(cb, ex)  # the leaves, and an "(itself)" leaf per parent coded on its own
        leaves = list(space.themes)
        if not leaves:
            raise CodebookError("ThemeMapper.fit: the codebook has no themes.")
        self.codebook_ = cb
        self.leaf_ids_ = list(space.theme_ids)
        self.leaf_names_ = list(space.names)
        L = len(leaves)
        if embeddings is not None:
            P = np.asarray(embeddings, dtype=np.float32)
            if P.shape[0] != L:
                raise ValueError(f"ThemeMapper.fit: embeddings has {P.shape[0]} rows but the codebook has {L} leaves; "
                                 "pass one prototype row per leaf (in label_space(codebook, examples) order) or none.")
            self.protos_ = mm.normalise_rows(P)
            self.proto_texts_ = [cb.theme_text(t) for t in self.leaf_ids_]
        else:
            texts, owner = [], []
            for j, t in enumerate(leaves):
                ts = mm.prototype_texts(t.name, cb.theme_text(t.theme_id), t.keywords)
                texts += ts
                owner += [j] * len(ts)
            V = self._encode(texts)
            owner_a = np.asarray(owner)
            self.protos_ = mm.normalise_rows(np.stack([V[owner_a == j].mean(0) for j in range(L)]))
            self.proto_texts_ = [cb.theme_text(t) for t in self.leaf_ids_]
        # codebook words per leaf (zero-shot lexical evidence)
        from scipy import sparse

        terms = [mm.theme_terms(t.name, t.keywords) for t in leaves]
        self.term_vocab_ = list(dict.fromkeys(w for ts in terms for w in ts))
        tcol = {w: k for k, w in enumerate(self.term_vocab_)}
        r = [tcol[w] for j, ts in enumerate(terms) for w in ts]
        c = [j for j, ts in enumerate(terms) for _ in ts]
        self.leaf_terms_ = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(self.term_vocab_), L))
        # parents: leaf -> ancestors (ids) for roll-up
        self.parent_ids_ = [t.theme_id for t in cb.themes if not t.is_leaf]
        pcol = {p: k for k, p in enumerate(self.parent_ids_)}
        self.leaf_parents_ = [[pcol[a] for a in up] for up in space.rollup]

        # examples
        if ex is not None:
            Y, M = label_matrix(ex, cb, space)
        else:
            Y, M = np.zeros((0, L), np.int8), np.zeros((0, L))
        npos = (Y * (M > 0)).sum(0) if len(Y) else np.zeros(L)
        self.n_examples_ = 0 if ex is None else len(ex)
        self.examples_per_leaf_ = npos.astype(int)
        covered = npos[npos > 0]
        if self.regime != "auto":
            regime = self.regime
        elif covered.size == 0:
            regime = "zero-shot"
        elif float(np.median(covered)) >= SUPERVISED_MEDIAN:
            regime = "supervised"
        else:
            regime = "few-shot"
        if regime != "zero-shot" and (covered.size == 0 or self.n_examples_ < 4):
            if self.regime == "auto":  # too few to learn from: say so, and use the codebook alone
                import warnings

                warnings.warn(f"ThemeMapper: {self.n_examples_} coded example(s) are too few to learn from (at "
                              "least 4 are needed); suggesting from the codebook alone (zero-shot).", stacklevel=2)
                regime = "zero-shot"
            else:
                raise ValueError(f"ThemeMapper: regime={regime!r} needs coded examples (at least 4 comments with "
                                 f"codes that resolve to themes); got {self.n_examples_} examples. Add examples, "
                                 "or use regime='zero-shot' (CLI --regime zero-shot).")
        self.regime_ = regime
        if regime == "zero-shot":
            self.thresholds_ = np.full(L, 0.5)
            self.none_level_ = 0.0  # the best-ranked leaf needs a z-score of _ZS_NONE_Z (see _zero_shot)
            self.stack_weights_ = {}
            self.examples_ = None
            return self
        if example_embeddings is not None:
            X = np.asarray(example_embeddings)
            if X.shape[0] != len(ex):
                raise ValueError(f"ThemeMapper.fit: example_embeddings has {X.shape[0]} rows for {len(ex)} "
                                 "examples; pass one row per example, in order.")
            X = mm.normalise_rows(X)
        else:
            X = self._encode(ex["text"].astype(str).tolist())
        self._fit_examples(ex, X, Y, M)
        return self

    @staticmethod
    def _examples(examples: pd.DataFrame | None) -> pd.DataFrame | None:
        """The examples fitting uses (see :func:`~themeassist.mapping.examples.used_examples`), or None."""
        if examples is None or not len(examples):
            return None
        miss = [c for c in ("text", "codes") if c not in examples.columns]
        if miss:
            raise CorpusError(f"ThemeMapper.fit: examples lack columns {miss} (columns: "
                              f"{list(map(str, examples.columns))}); use read_examples(..., text_col=, codes_col=).")
        ex = used_examples(examples)
        if "doc_id" not in ex.columns:
            ex["doc_id"] = [f"ex{i + 1}" for i in range(len(ex))]
        ex["doc_id"] = ex["doc_id"].astype(str)
        return ex if len(ex) else None

    def _fit_examples(self, ex: pd.DataFrame, X: np.ndarray, Y: np.ndarray, M: np.ndarray) -> None:
        s = _SETTINGS[self.regime_]
        n = len(ex)
        texts = ex["text"].astype(str).tolist()
        lexical = bool(self.lexical)
        has_pos = Y.sum(1) > 0
        # idf of the codebook words, from the example texts (fixed from here on)
        n_terms = self.leaf_terms_.shape[0]
        if n >= _MIN_TRANSDUCTIVE and n_terms:
            df = np.asarray(mm.term_matrix(texts, self.term_vocab_).sum(0)).ravel()
            self.lex_idf_ = np.log((1 + n) / (1 + df)) + 1.0
        else:
            self.lex_idf_ = np.ones(n_terms)
        # out-of-fold features
        k = min(self.n_folds, n)
        folds = list(KFold(n_splits=k, shuffle=True, random_state=self.random_state).split(np.arange(n)))
        names = self._feature_names(lexical)
        F = np.zeros((n, Y.shape[1], len(names)), dtype=np.float64)
        for tr, te in folds:
            models = self._fit_scorers(X[tr], [texts[i] for i in tr], Y[tr], M[tr], has_pos[tr], s, lexical)
            F[te] = self._features(models, X[te], [texts[i] for i in te])
        self.scorers_ = self._fit_scorers(X, texts, Y, M, has_pos, s, lexical)
        covered = (Y * (M > 0)).sum(0) > 0
        Mc = M * covered
        stk = mm.Stacker().fit(F, Y, Mc, prior_var=s["prior_var"], weight_prior=s["weight_prior"])
        # leaves without any coded example: the codebook evidence alone (prototype, codebook
        # words), calibrated on the other leaves
        self.fallback_cols_ = [0] + ([names.index("codebook_words")] if "codebook_words" in names else [])
        self.fallback_ = mm.Stacker().fit(F[..., self.fallback_cols_], Y, Mc, prior_var=1e-6, weight_prior=1e6)
        self.covered_ = covered
        self.stacker_ = stk
        self.stack_weights_ = dict(zip(names, map(float, stk.weights_)))
        P = self._stacked(F)
        th, _ = mm.tune_thresholds(P, Y, M, shrink=s["th_shrink"])
        self.thresholds_ = th
        self.none_level_ = mm.tune_none_level(P, th, Y, M, self.top_k)
        self.oof_proba_ = P
        self.examples_ = ex[["doc_id", "text"]].reset_index(drop=True)
        self.example_embeddings_ = X
        self.example_labels_ = Y * (M > 0)

    @staticmethod
    def _feature_names(lexical: bool) -> list[str]:
        return ["proto", "centroid", "knn", "logreg_embedding"] + (["svm_tfidf", "codebook_words"] if lexical else [])

    def _fit_scorers(self, X, texts, Y, M, has_pos, s, lexical):  # type: ignore[no-untyped-def]
        models: dict[str, Any] = {}
        models["centroids"] = mm.centroids(X[has_pos], Y[has_pos], self.protos_, s["proto_weight"])
        models["knn_X"], models["knn_Y"], models["knn_k"] = X[has_pos], Y[has_pos], s["knn_k"]
        models["lr_emb"] = mm.MultiLogReg(C=s["c_emb"]).fit(X, Y, M)
        if lexical:
            from scipy import sparse
            from sklearn.feature_extraction.text import TfidfVectorizer

            word = TfidfVectorizer(ngram_range=(1, 2), min_df=1 if len(texts) < 500 else 2, sublinear_tf=True,
                                   lowercase=True, strip_accents="unicode")
            char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=1 if len(texts) < 500 else 3,
                                   sublinear_tf=True, max_features=100_000, strip_accents="unicode")
            Xt = sparse.hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr() / math.sqrt(2)
            models["tfidf"] = (word, char)
            models["lr_tfidf"] = mm.OvRLinearSVC(C=s["c_tfidf"], random_state=self.random_state).fit(Xt, Y, M)
        return models

    def _features(self, models: dict[str, Any], X: np.ndarray, texts: Sequence[str] | None,
                  word_cache: dict[str, list[int]] | None = None) -> np.ndarray:
        feats = [mm.to_feature(X @ self.protos_.T, "proto"),
                 mm.to_feature(X @ models["centroids"].T, "centroid")]
        if len(models["knn_X"]):
            kn, _ = mm.knn_scores(X @ models["knn_X"].T, models["knn_Y"], models["knn_k"])
        else:
            kn = np.zeros((X.shape[0], self.protos_.shape[0]))
        feats.append(mm.to_feature(kn, "knn"))
        feats.append(mm.to_feature(models["lr_emb"].decision_function(X), "logreg"))
        if "lr_tfidf" in models:
            if texts is None:
                raise ValueError("ThemeMapper: this mapper uses the comment texts (lexical=True); pass texts, "
                                 "not only embeddings, to predict_proba/suggest.")
            from scipy import sparse

            word, char = models["tfidf"]
            Xt = sparse.hstack([word.transform(texts), mm.char_wb_transform(char, texts, word_cache)]).tocsr() / math.sqrt(2)
            feats.append(mm.to_feature(models["lr_tfidf"].decision_function(Xt), "svm"))
            if self.leaf_terms_.shape[0]:
                Lx = mm.lexical_scores(mm.term_matrix(texts, self.term_vocab_), self.leaf_terms_, self.lex_idf_)
            else:
                Lx = np.zeros((X.shape[0], self.protos_.shape[0]))
            feats.append(mm.to_feature(Lx, "words"))
        return np.stack(feats, axis=-1)

    # ---- scoring ------------------------------------------------------------------------------
    def zero_shot_stats(self, X: np.ndarray, texts: Sequence[str] | None) -> dict[str, np.ndarray]:
        """What zero-shot scores of a batch of comments are relative to, learnt from the batch.

        Compute once over a whole corpus and pass to ``_proba(..., stats=)`` or
        ``suggest(zero_shot_stats=)`` to score it in parts with the same result.

        Parameters
        ----------
        X : ndarray of shape (n, dim)
            Embeddings (unit rows) of the comments.
        texts : list of str or None
            Their texts (for the codebook-word evidence).

        Returns
        -------
        dict
            ``protos`` (n_leaves, dim): the self-trained prototypes; ``mu``, ``sd``: per leaf, the
            mean and sd of the centred cosine to them; ``idf``: of the codebook words; ``tau``:
            per-leaf thresholds on the z-score. With fewer than 50 comments or
            ``transductive=False``: the codebook prototypes, fixed typical statistics and one
            threshold.
        """
        return self.zero_shot_stats_from(lambda P: rowwise_dot(X, P.T), lambda rows: X[rows],
                                         self.codebook_words(texts),
                                         n=X.shape[0])

    def codebook_words(self, texts: Sequence[str] | None) -> Any:
        """Which of the codebook's words each text contains: a sparse 0/1 matrix (n, n_words), or
        ``None`` without texts or when the codebook has no words (zero-shot lexical evidence)."""
        self._check_fitted("codebook_words")
        if texts is None or not self.leaf_terms_.shape[0]:
            return None
        return mm.term_matrix(texts, self.term_vocab_)

    def _zero_shot_fixed_stats(self) -> dict[str, np.ndarray]:
        """Zero-shot statistics without transduction: typical values, the codebook prototypes."""
        L, n_terms = self.protos_.shape[0], self.leaf_terms_.shape[0]
        return {"protos": self.protos_, "mu": np.full(L, _ZS_FALLBACK[0]), "sd": np.full(L, _ZS_FALLBACK[1]),
                "idf": np.ones(n_terms), "tau": np.full(L, _ZS_CENTRE)}

    def zero_shot_stats_from(self, cosines: Callable[[np.ndarray], np.ndarray],
                             rows_of: Callable[[np.ndarray], np.ndarray], words: Any, *,
                             n: int) -> dict[str, np.ndarray]:
        """:meth:`zero_shot_stats` of a corpus reached through two functions, so that the same
        computation runs in process and on a cluster (:mod:`themeassist.batch.dask`, where the
        embeddings stay on the workers).

        Parameters
        ----------
        cosines : callable
            ``cosines(P)``: the cosines (n, n_leaves) between every comment and the unit rows of ``P``.
        rows_of : callable
            ``rows_of(rows)``: the embeddings (unit rows) of the comments at the sorted indices ``rows``.
        words : sparse matrix of shape (n, n_words) or None
            :meth:`codebook_words` of the comments' texts.
        n : int
            Number of comments.
        """
        self._check_fitted("zero_shot_stats_from")
        if not (self.transductive and n >= _MIN_TRANSDUCTIVE):
            return self._zero_shot_fixed_stats()
        B = words
        S = cosines(self.protos_)
        n, n_terms = S.shape[0], self.leaf_terms_.shape[0]
        if B is not None:
            df = np.asarray(B.sum(0), dtype=np.float64).ravel()
            idf = np.log((1 + n) / (1 + df)) + 1.0
            Lx = mm.lexical_scores(B, self.leaf_terms_, idf)
        else:
            idf, Lx = np.ones(n_terms), np.zeros_like(S)
        # round 0: the codebook prototypes; their best matches become examples of each leaf
        stats = {"protos": self.protos_, "idf": idf, **self._cosine_stats(S)}
        T, _ = self._zero_shot_evidence(S, Lx, stats)
        selected = mm.pseudo_positives(T, _n_pseudo(n, S.shape[1]))
        rows = np.unique(np.concatenate(selected)) if selected else np.zeros(0, dtype=int)
        protos = mm.refine_prototypes(self.protos_, np.asarray(rows_of(rows)), rows, selected, _ZS_PROTO_WEIGHT)
        # round 1: the refined prototypes, and the thresholds from the estimated prevalences
        S = cosines(protos)
        stats = {"protos": protos, "idf": idf, **self._cosine_stats(S)}
        T, rank = self._zero_shot_evidence(S, Lx, stats)
        stats["tau"] = mm.prevalence_thresholds(T, rank, _ZS_PREVALENCE)
        return stats

    @staticmethod
    def _cosine_stats(S: np.ndarray) -> dict[str, np.ndarray]:
        """Per leaf, the mean and sd over the comments of the cosine centred per comment."""
        C = S - S.mean(1, keepdims=True)
        return {"mu": C.mean(0), "sd": C.std(0)}

    @staticmethod
    def _zero_shot_evidence(S: np.ndarray, Lx: np.ndarray,
                            stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
        """The z-score plus codebook-word evidence ``T``, and the ranking used to pick the best leaf."""
        C = S - S.mean(1, keepdims=True)
        Z = (C - stats["mu"]) / np.maximum(stats["sd"], 1e-3)
        return Z + _ZS_LEX * Lx, S + _ZS_RANK_LEX * Lx

    def _zero_shot(self, X: np.ndarray, texts: Sequence[str] | None,
                   stats: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        stats = self.zero_shot_stats(X, texts) if stats is None else stats
        S = rowwise_dot(X, stats.get("protos", self.protos_).T)
        if texts is not None and self.leaf_terms_.shape[0]:
            Lx = mm.lexical_scores(mm.term_matrix(texts, self.term_vocab_), self.leaf_terms_, stats["idf"])
        else:
            Lx = np.zeros_like(S)
        T, rank = self._zero_shot_evidence(S, Lx, stats)
        P = mm.expit(_ZS_SCALE * (T - stats.get("tau", _ZS_CENTRE)))
        # "none of these" unless the best-ranked leaf's z-score reaches _ZS_NONE_Z
        if len(T):
            weak = T[np.arange(len(T)), rank.argmax(1)] < _ZS_NONE_Z
            rank[weak] = -np.inf
        return P, rank

    def _proba(self, X: np.ndarray, texts: Sequence[str] | None,
               stats: dict[str, np.ndarray] | None = None) -> np.ndarray:
        if self.regime_ == "zero-shot":
            return self._zero_shot(X, texts, stats)[0]
        # in chunks: the n-gram analysis of many texts at once needs much memory
        cache: dict[str, list[int]] = {}  # words analysed into character n-grams, shared by the chunks
        out = [self._stacked(self._features(self.scorers_, X[a:a + _CHUNK],
                                            None if texts is None else texts[a:a + _CHUNK], cache))
               for a in range(0, X.shape[0], _CHUNK)]
        return np.vstack(out) if out else np.zeros((0, self.protos_.shape[0]))

    def _scores(self, X: np.ndarray, texts: Sequence[str] | None,
                stats: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores and, in zero-shot, the ranking used to pick the best leaf."""
        if self.regime_ != "zero-shot":
            return self._proba(X, texts), None
        if stats is None:  # computed once (self-training) for the scores and the ranking
            stats = self.zero_shot_stats(X, texts)
        return self._proba(X, texts, stats=stats), self._zero_shot(X, texts, stats)[1]

    def _stacked(self, F: np.ndarray) -> np.ndarray:
        P = self.stacker_.predict_proba(F)
        if not self.covered_.all():
            P[:, ~self.covered_] = self.fallback_.predict_proba(F[:, ~self.covered_][..., self.fallback_cols_],
                                                                ~self.covered_)
        return P

    def _inputs(self, X: Any, embeddings: np.ndarray | None) -> tuple[list[str] | None, np.ndarray]:
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f":
            return None, mm.normalise_rows(X)
        texts = [str(t) for t in (X["text"] if isinstance(X, pd.DataFrame) else X)]
        if embeddings is not None:
            E = np.asarray(embeddings)
            if E.shape[0] != len(texts):
                raise ValueError(f"ThemeMapper: embeddings has {E.shape[0]} rows for {len(texts)} texts; "
                                 "pass one row per text in the same order.")
            return texts, mm.normalise_rows(E)
        return texts, self._encode(texts)

    @_one_blas_thread
    def predict_proba(self, X: Sequence[str] | np.ndarray | pd.DataFrame, *,
                      embeddings: np.ndarray | None = None,
                      zero_shot_stats: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Scores in [0, 1] per comment and leaf, calibrated on the examples when there are some.

        Parameters
        ----------
        X : list of str, DataFrame with ``text``, or ndarray of embeddings (n, dim)
            Embeddings alone work when the mapper has no lexical scorer (zero-shot, or lexical=False).
        embeddings : ndarray of shape (n, dim), optional
            Precomputed embeddings of the texts in ``X`` (e.g. from :meth:`embed`).
        zero_shot_stats : dict, optional
            Zero-shot only: :meth:`zero_shot_stats` of the whole corpus, so that scoring it in
            parts gives the same scores as scoring it at once.

        Returns
        -------
        ndarray of shape (n, n_leaves)
            Columns in ``leaf_ids_`` order; pass them to :meth:`suggest` (``scores=``) to build the
            suggestions without scoring again.

        Examples
        --------
        >>> P = mapper.predict_proba(["The meals were cold"])        # doctest: +SKIP
        >>> P.shape == (1, len(mapper.leaf_ids_))                    # doctest: +SKIP
        True
        """
        self._check_fitted("predict_proba")
        texts, E = self._inputs(X, embeddings)
        return self._proba(E, texts, zero_shot_stats)

    def _decide(self, P: np.ndarray, rank: np.ndarray | None = None) -> list[list[int]]:
        if self.min_score is not None:
            th = np.full(P.shape[1], max(float(self.min_score), 1e-6))
            return mm.decide(P, th, math.inf, self.top_k)
        return mm.decide(P, self.thresholds_, self.none_level_, self.top_k, rank=rank)

    def predict(self, X: Sequence[str] | np.ndarray | pd.DataFrame, *,
                embeddings: np.ndarray | None = None) -> np.ndarray:
        """Binary leaf indicators (n, n_leaves) of the suggested themes (the rule of :meth:`suggest`)."""
        self._check_fitted("predict")
        texts, E = self._inputs(X, embeddings)
        P, rank = self._scores(E, texts)
        out = np.zeros(P.shape, dtype=np.int8)
        for i, js in enumerate(self._decide(P, rank)):
            out[i, js] = 1
        return out

    def rollup(self, P: np.ndarray) -> np.ndarray:
        """Parent scores (n, n_parents) in ``parent_ids_`` order: the maximum over their leaves."""
        return self.theme_index().rollup(np.asarray(P)).astype(np.asarray(P).dtype, copy=False)

    # ---- suggest ------------------------------------------------------------------------------
    def theme_index(self) -> ThemeIndex:
        """The fitted theme layout (:class:`~themeassist.mapping.table.ThemeIndex`) that
        :func:`~themeassist.mapping.table.suggestion_table` builds tables for."""
        self._check_fitted("theme_index")
        return ThemeIndex(tuple(self.leaf_ids_), tuple(self.leaf_names_), tuple(self.parent_ids_),
                          tuple(self.codebook_.get(p).name for p in self.parent_ids_),
                          tuple(tuple(ps) for ps in self.leaf_parents_),
                          tuple(t.theme_id for t in self.codebook_.themes))

    @_one_blas_thread
    def suggest(
        self,
        texts_or_corpus: Sequence[str] | pd.Series | pd.DataFrame,
        *,
        embeddings: np.ndarray | None = None,
        scores: np.ndarray | None = None,
        candidate_assignments: pd.DataFrame | None = None,
        evidence: bool = True,
        zero_shot_stats: dict[str, np.ndarray] | None = None,
    ) -> pd.DataFrame:
        """One row of suggestions per input row, in input order.

        Parameters
        ----------
        texts_or_corpus : list of str, Series or corpus DataFrame
            A corpus (``doc_id, text, status`` as from :func:`~themeassist.corpus.load_corpus`):
            rows whose status is not "ok"/"truncated" keep their row but get no suggestion. Plain
            texts get ``doc_id`` = row number (from 1) and status "ok" (or "empty").
        embeddings : ndarray, optional
            One row per input row, or one per scored (ok/truncated) row, in order.
        scores : ndarray, optional
            :meth:`predict_proba` of the scored rows (or of every input row), already computed:
            the table is built from them without scoring again.
        candidate_assignments : DataFrame, optional
            ``doc_id, candidate_id`` (as from discovery); adds the ``candidate_id`` column.
        evidence : bool, default True
        zero_shot_stats : dict, optional
            Zero-shot only: :meth:`zero_shot_stats` computed once over a whole corpus, so that
            scoring it in parts (e.g. on a cluster) gives the same table as scoring it at once.

        Returns
        -------
        DataFrame
            The suggestions table of :mod:`themeassist.mapping.table`: ``doc_id, status, suggested``
            (leaf names best first, ``"|"``-joined, ``""`` = none of these), ``scores`` (2 decimals),
            ``parents``, ``parent_scores``, ``suggested_ids`` (theme ids), ``evidence``,
            ``candidate_id`` (with candidate assignments), ``none_of_these``, ``top_score`` and one
            float ``score:<theme_id>`` column per codebook theme, parents included.

        Examples
        --------
        >>> out = mapper.suggest(["The meals were cold", ""])         # doctest: +SKIP
        >>> out[["doc_id", "status", "suggested"]].values.tolist()    # doctest: +SKIP
        [['1', 'ok', 'Food'], ['2', 'empty', '']]
        """
        self._check_fitted("suggest")
        doc_ids, status, texts = suggestion_rows(texts_or_corpus)
        n = len(texts)
        idx = np.flatnonzero(np.isin(np.asarray(status, dtype=object), _OK))
        sub_texts = [texts[i] for i in idx]
        E = self._scored_rows(embeddings, n, idx, "embeddings")
        if E is None:
            E = self._encode(sub_texts)
        P = self._scored_rows(scores, n, idx, "scores")
        if not len(idx):
            P, rank = np.zeros((0, len(self.leaf_ids_))), None
        elif P is None:
            P, rank = self._scores(E, sub_texts, zero_shot_stats)
        else:
            P = np.asarray(P, dtype=np.float64)
            rank = self._scores(E, sub_texts, zero_shot_stats)[1] if self.regime_ == "zero-shot" else None
        picks = self._decide(P, rank)
        ev = self._evidence(E, P, picks) if evidence else None
        res = suggestion_table(doc_ids, status, idx, P, picks, self.theme_index(), evidence=ev)
        if candidate_assignments is not None:
            ca = candidate_assignments
            miss = [c for c in ("doc_id", "candidate_id") if c not in ca.columns]
            if miss:
                raise CorpusError(f"ThemeMapper.suggest: candidate_assignments lacks columns {miss}.")
            lookup = dict(zip(ca["doc_id"].astype(str), ca["candidate_id"]))
            res.insert(int(res.columns.get_loc("none_of_these")), "candidate_id",
                       [lookup.get(d, pd.NA) for d in doc_ids])
        return res

    @staticmethod
    def _scored_rows(arr: np.ndarray | None, n: int, idx: np.ndarray, name: str) -> np.ndarray | None:
        """``arr`` (one row per input row or per scored row) reduced to the scored rows."""
        if arr is None:
            return None
        A = np.asarray(arr)
        if A.shape[0] == n and n != len(idx):
            A = A[idx]
        elif A.shape[0] != len(idx):
            raise ValueError(f"ThemeMapper.suggest: {name} has {A.shape[0]} rows; expected one per input row "
                             f"({n}) or one per scored row ({len(idx)}).")
        return mm.normalise_rows(A) if name == "embeddings" else A

    def _evidence(self, E: np.ndarray, P: np.ndarray, picks: list[list[int]]) -> list[str]:
        out = [""] * len(picks)
        if self.examples_ is None:
            S = E @ self.protos_.T
            for r, js in enumerate(picks):
                out[r] = " | ".join(f"{self.leaf_names_[j]}: codebook text {_snip(self.proto_texts_[j])} "
                                    f"(similarity {S[r, j]:.2f})" for j in js)
            return out
        ids, exT, Yx = self.examples_["doc_id"].tolist(), self.examples_["text"].tolist(), self.example_labels_
        for start in range(0, len(picks), 2000):
            stop = min(start + 2000, len(picks))
            S = E[start:stop] @ self.example_embeddings_.T
            for r in range(start, stop):
                parts = []
                for j in picks[r]:
                    pos = np.where(Yx[:, j] > 0)[0]
                    if len(pos):
                        b = pos[int(np.argmax(S[r - start, pos]))]
                        parts.append(f"{self.leaf_names_[j]}: like example {ids[b]} {_snip(exT[b])} "
                                     f"(similarity {S[r - start, b]:.2f})")
                    else:
                        sim = float(E[r] @ self.protos_[j])
                        parts.append(f"{self.leaf_names_[j]}: codebook text {_snip(self.proto_texts_[j])} "
                                     f"(similarity {sim:.2f})")
                out[r] = " | ".join(parts)
        return out

    # ---- candidate codes ----------------------------------------------------------------------
    def align_candidates(
        self,
        candidate_codes: pd.DataFrame,
        assignments: pd.DataFrame,
        suggestions: pd.DataFrame | None = None,
        *,
        doc_embeddings: np.ndarray | None = None,
        min_share: float = 0.2,
        min_similarity: float = 0.35,
        max_themes: int = 3,
    ) -> Alignment:
        """Align discovered candidate codes with the codebook's leaf themes; see :func:`align_candidates`."""
        return align_candidates(self, candidate_codes, assignments, suggestions, doc_embeddings=doc_embeddings,
                                min_share=min_share, min_similarity=min_similarity, max_themes=max_themes)

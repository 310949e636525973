"""Map comments (and candidate codes) onto a researcher's codebook.

:class:`ThemeMapper` learns, from a :class:`~themeassist.codebook.Codebook` and optionally coded
example comments, to suggest for each comment the leaf themes that most likely apply, with a
score in [0, 1], the parent themes rolled up, and evidence a coder can check.

Three regimes, chosen from the examples (``regime="auto"``) or forced:

=============  ================================================================================
zero-shot      no examples: cosine similarity between each comment and each leaf's codebook text,
               standardised per theme over the comments scored together, plus the share of the
               theme's name/keyword words in the comment; with 50 comments or more, self-training
               on the comments that match each theme best (:mod:`themeassist.mapping.zeroshot`).
few-shot       some coded comments per leaf (median < 30 over the leaves that have any): the
               scorers of :mod:`themeassist.mapping.scorers` (prototype, centroid, nearest
               neighbours, logistic regression on embeddings, linear SVMs on TF-IDF n-grams,
               codebook words) stacked and calibrated on out-of-fold scores of the examples.
supervised     median >= 30 coded comments per leaf: the same, with more neighbours and per-leaf
               thresholds trusted more.
=============  ================================================================================

With examples, the scores are calibrated (:mod:`themeassist.mapping.calibration`): among suggestions scored
0.7, about 70 % are right on comments like the examples. The calibration is learnt out of sample (the
scorers are cross-fitted, and so is the calibration whose strength is chosen by cross-validated log-loss);
a leaf with fewer than 3 coded examples uses the calibration pooled over all leaves. The decision rule (:mod:`themeassist.mapping.decision`) is tuned on the
cross-fitted scores for per-theme agreement (Cohen's kappa) with the codes per comment kept
close to the coders' own; a comment whose best theme does not clear its rule gets "none of these".

Examples are a DataFrame with columns ``text`` and ``codes`` (theme names, ids or paths at any level, joined
by ``"|"``), optionally ``doc_id``, ``negative_codes`` (codes a coder rejected: known negatives, see
:func:`themeassist.mapping.agreement.read_decisions`; never suggested again for that comment) and ``weight``.
"""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.base import BaseEstimator

from themeassist._validation import check_param
from themeassist.codebook import Codebook, load_codebook
from themeassist.embed import unit_rows
from themeassist.exceptions import CodebookError, CorpusError, NotFittedError, ParameterError
from themeassist.mapping import decision, scorers, zeroshot
from themeassist.mapping.align import Alignment, align_candidates
from themeassist.mapping.evidence import evidence_strings
from themeassist.mapping.examples import LabelSpace, examples_from_long, labelled_examples, read_examples
from themeassist.mapping.examples import known_negatives, mask_known
from themeassist.mapping.lexical import theme_terms
from themeassist.mapping.stack import fit_stack
from themeassist.mapping.zeroshot import ZeroShotSeam
from themeassist.mapping.table import SUGGESTION_COLUMNS, ThemeIndex, suggestion_rows, suggestion_table

__all__ = [
    "Alignment",
    "SUGGESTION_COLUMNS",
    "ThemeMapper",
    "align_candidates",
    "examples_from_long",
    "read_examples",
]

REGIMES = ("auto", "zero-shot", "few-shot", "supervised")
#: Auto regime: supervised when the median number of coded examples per leaf (over leaves with at
#: least one) reaches this, else few-shot; zero-shot without any coded example.
SUPERVISED_MEDIAN = 30
_OK = ("ok", "truncated")
_CHUNK = 1000  # rows scored at once by the stacked regimes
normalise_rows = unit_rows


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


class ThemeMapper(ZeroShotSeam, BaseEstimator):
    """Suggest codebook themes for comments, in the zero-shot, few-shot or supervised regime.

    Parameters
    ----------
    regime : {"auto", "zero-shot", "few-shot", "supervised"}, default "auto"
        ``"auto"``: zero-shot without coded examples; supervised when the median number of
        examples per leaf (over leaves with at least one) is >= 30; few-shot otherwise.
    top_k : int, default 3
        At most this many leaf themes are suggested per comment.
    min_score : float in [0, 1] or None, default None
        Fixed score a leaf needs to be suggested. ``None``: the decision rule tuned on the
        examples (:mod:`themeassist.mapping.decision`; zero-shot: a score of 0.5, i.e. a
        per-theme z-score at the theme's threshold, and the best theme when its z-score reaches
        1), with "none of these" below it.
    embedder : str, Embedder or None
        Model name (``"minilm"``, ``"static"``, ``"e5"``, a folder) or object for
        :func:`themeassist.embed.get_embedder`; loaded on first use.
    lexical : bool, default True
        With examples: add the TF-IDF SVMs and codebook-word evidence to the stack (they need the
        texts; ``False`` works from embeddings alone).
    transductive : bool, default True
        In zero-shot, learn from the comments scored together (at least 50).
    centre : bool, default False
        With examples: subtract the mean embedding of the examples from every embedding (and
        prototype) before scoring, then normalise again (helps models whose embeddings share a
        large common direction, such as e5).
    n_folds : int, default 5
        Cross-validation folds over the examples for calibration and the decision rule.
    random_state : int, default 0
        Seed of the cross-validation folds (the zero-shot regime is deterministic).
    cache_dir : path, None or False
        Embedding cache folder passed to :func:`~themeassist.embed.get_embedder`.

    Attributes
    ----------
    regime_ : str
    embedder_ : Embedder
        The embedder resolved at fit.
    leaf_ids_, leaf_names_ : list of str
        The codebook's leaves, the columns of :meth:`predict_proba`.
    parent_ids_ : list of str
        The themes with children (the columns of :meth:`rollup`).
    thresholds_ : ndarray of shape (n_leaves,)
        Score each leaf needs to be suggested.
    none_level_ : float
        A comment with no leaf at its threshold gets its best leaf (highest ``score /
        threshold``) when that ratio reaches this level, else "none of these" (zero-shot: 0,
        the rule is on the z-score of the best-ranked theme).
    n_examples_ : int
    examples_per_leaf_ : ndarray of shape (n_leaves,)
        Coded examples per leaf.
    oof_proba_ : ndarray of shape (n_examples, n_leaves)
        With examples: out-of-sample calibrated scores of the examples (cross-fitted scorers and
        calibration; each example scored by models fitted without its fold), the scores the
        decision rule is tuned on.
    oof_labels_ : ndarray of int8, shape (n_examples, n_leaves)
        1 where the example is coded with the leaf (0 elsewhere, also where unknown).
    oof_mask_ : ndarray of int8, shape (n_examples, n_leaves)
        1 where the example's label for the leaf is known (a reject knows only the rejected themes;
        a parent-level code leaves its children unknown).
    example_weights_ : ndarray of shape (n_examples,)
        The examples' ``weight`` column (1 where absent).
    calibration_ : dict
        ``prior_var``, ``weight_prior`` (chosen by cross-validation) and the cross-validated ``log_loss``.
    known_negatives_ : dict
        Per example doc_id, the themes its coder said do not apply: never suggested again for it.
    decision_info_ : dict
        The tuned rule: ``shared_threshold``, ``none_score``, ``kappa``, ``codes_ratio`` (codes per example over the coders').
    stack_weights_ : dict
        Weight of each scorer in the pooled calibration (few-shot and supervised).

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
        centre: bool = False,
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
        self.centre = centre
        self.n_folds = n_folds
        self.random_state = random_state
        self.cache_dir = cache_dir

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
        return normalise_rows(self.embedder_.encode(list(texts)))

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
            raise ParameterError(f"The 'top_k' parameter of ThemeMapper must be an int >= 1. Got {self.top_k!r}.")
        check_param("min_score", self.min_score, between=(0.0, 1.0), allow_none=True, owner=self)
        check_param("n_folds", self.n_folds, types=int, owner=self)
        if self.n_folds < 2:
            raise ParameterError(f"The 'n_folds' parameter of ThemeMapper must be an int >= 2. "
                                 f"Got {self.n_folds!r} instead.")

    def _centred(self, X: np.ndarray) -> np.ndarray:
        """Embeddings as the stacked scorers see them (centred on the examples' mean with ``centre``)."""
        c = getattr(self, "centre_", None)
        return X if c is None else normalise_rows(X - c)

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
            optionally ``doc_id``, ``negative_codes`` and ``weight``; see :func:`read_examples`.
        embeddings : ndarray of shape (n_leaves, dim), optional
            Precomputed prototype vectors for the leaves (e.g. from another model); by default
            they are embedded from the codebook text.
        example_embeddings : ndarray of shape (len(examples), dim), optional
            Precomputed embeddings of the example texts (unit rows).

        Returns
        -------
        self

        Examples
        --------
        >>> mapper = ThemeMapper().fit("iapt")                            # doctest: +SKIP
        >>> mapper.regime_                                               # doctest: +SKIP
        'zero-shot'
        """
        self._validate()
        self.embedder_ = self._resolve_embedder()
        cb = load_codebook(codebook) if not isinstance(codebook, Codebook) else codebook
        # the leaves, and an "(itself)" leaf per parent coded on its own (mapping.examples.label_space)
        ex, space, Y, M, w = labelled_examples(examples, cb)
        self._fit_codebook(cb, embeddings, space)
        L = len(self.leaf_ids_)
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
                raise ParameterError(f"ThemeMapper: regime={regime!r} needs coded examples (at least 4 comments with "
                                     f"codes that resolve to themes); got {self.n_examples_} examples. Add examples, "
                                     "or use regime='zero-shot' (CLI --regime zero-shot).")
        self.regime_ = regime
        if regime == "zero-shot":
            self.thresholds_ = np.full(L, 0.5)
            self.none_level_ = 0.0  # the best-ranked leaf needs a z-score of zeroshot.NONE_Z
            self.stack_weights_ = {}
            self.examples_ = None
            self.centre_ = None
            return self
        if example_embeddings is not None:
            X = np.asarray(example_embeddings)
            if X.shape[0] != len(ex):
                raise ParameterError(f"ThemeMapper.fit: example_embeddings has {X.shape[0]} rows for {len(ex)} "
                                     "examples; pass one row per example, in order.")
            X = normalise_rows(X)
        else:
            X = self._encode(ex["text"].astype(str).tolist())
        self._fit_examples(ex, X, Y, M, w)
        return self

    def _fit_codebook(self, cb: Codebook, embeddings: np.ndarray | None, space: LabelSpace) -> None:
        """Prototypes, codebook words and the parent layout of the label space's columns."""
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
                raise ParameterError(f"ThemeMapper.fit: embeddings has {P.shape[0]} rows for the codebook's {L} leaves; "
                                     "pass one prototype row per leaf (in label_space(codebook, examples) order) or none.")
            self.protos_ = normalise_rows(P)
        else:
            texts, owner = [], []
            for j, t in enumerate(leaves):
                ts = zeroshot.prototype_texts(t.name, cb.theme_text(t.theme_id), t.keywords)
                texts += ts
                owner += [j] * len(ts)
            V = self._encode(texts)
            owner_a = np.asarray(owner)
            self.protos_ = normalise_rows(np.stack([V[owner_a == j].mean(0) for j in range(L)]))
        self.proto_texts_ = [cb.theme_text(t) for t in self.leaf_ids_]
        # codebook words per leaf (lexical evidence)
        terms = [theme_terms(t.name, t.keywords) for t in leaves]
        self.term_vocab_ = list(dict.fromkeys(w for ts in terms for w in ts))
        tcol = {w: k for k, w in enumerate(self.term_vocab_)}
        r = [tcol[w] for j, ts in enumerate(terms) for w in ts]
        c = [j for j, ts in enumerate(terms) for _ in ts]
        self.leaf_terms_ = sparse.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(self.term_vocab_), L))
        # parents: leaf -> ancestors (ids) for roll-up
        self.parent_ids_ = [t.theme_id for t in cb.themes if not t.is_leaf]
        pcol = {p: k for k, p in enumerate(self.parent_ids_)}
        self.leaf_parents_ = [[pcol[a] for a in up] for up in space.rollup]

    def _fit_examples(self, ex: pd.DataFrame, X: np.ndarray, Y: np.ndarray, M: np.ndarray, w: np.ndarray) -> None:
        """The cross-fitted stack of :func:`themeassist.mapping.stack.fit_stack` (its learned state
        becomes this mapper's attributes)."""
        self.centre_ = (w[:, None] * X).sum(0) / max(float(w.sum()), 1e-12) if self.centre else None
        self.stack_protos_ = self._centred(self.protos_)
        state = fit_stack(self.regime_, self._centred(X), ex["text"].astype(str).tolist(), Y, M, w,
                          self.stack_protos_, (self.leaf_terms_, self.term_vocab_), lexical=bool(self.lexical),
                          n_folds=self.n_folds, random_state=self.random_state, top_k=self.top_k,
                          leaf_names=list(self.leaf_names_))
        for name, value in state.items():
            setattr(self, name, value)
        self.examples_ = ex[["doc_id", "text"]].reset_index(drop=True)
        self.known_negatives_ = known_negatives(self.examples_, Y, M)  # never suggested again for that comment
        self.example_embeddings_ = X  # as given (evidence compares comments with them uncentred)

    def _proba(self, X: np.ndarray, texts: Sequence[str] | None,
               stats: dict[str, np.ndarray] | None = None) -> np.ndarray:
        if self.regime_ == "zero-shot":
            return self._zero_shot(X, texts, stats)[0]
        # in chunks: the n-gram analysis of many texts at once needs much memory
        cache: dict[str, list[int]] = {}  # words analysed into character n-grams, shared by the chunks
        words = (self.leaf_terms_, self.term_vocab_, self.lex_idf_)
        out = []
        for a in range(0, X.shape[0], _CHUNK):
            F = scorers.features(self.scorers_, self._centred(X[a:a + _CHUNK]),
                                 None if texts is None else list(texts[a:a + _CHUNK]), self.stack_protos_, words,
                                 cache)
            out.append(self._stacked(F))
        return np.vstack(out) if out else np.zeros((0, self.protos_.shape[0]))

    def _scores(self, X: np.ndarray, texts: Sequence[str] | None,
                stats: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """Scores and, in zero-shot, the ranking used to pick the best leaf."""
        if self.regime_ != "zero-shot":
            return self._proba(X, texts), None
        if stats is None:  # computed once (self-training) for the scores and the ranking
            stats = self.zero_shot_stats(X, texts)
        return self._zero_shot(X, texts, stats)

    def _stacked(self, F: np.ndarray) -> np.ndarray:
        P = self.stacker_.predict_proba(F)
        if not self.covered_.all():
            P[:, ~self.covered_] = self.fallback_.predict_proba(F[:, ~self.covered_][..., self.fallback_cols_],
                                                                ~self.covered_)
        return P

    def _inputs(self, X: Any, embeddings: np.ndarray | None) -> tuple[list[str] | None, np.ndarray]:
        if isinstance(X, np.ndarray) and X.ndim == 2 and X.dtype.kind == "f":
            return None, normalise_rows(X)
        texts = [str(t) for t in (X["text"] if isinstance(X, pd.DataFrame) else X)]
        if embeddings is not None:
            E = np.asarray(embeddings)
            if E.shape[0] != len(texts):
                raise ParameterError(f"ThemeMapper: embeddings has {E.shape[0]} rows for {len(texts)} texts; "
                                     "pass one row per text in the same order.")
            return texts, normalise_rows(E)
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
            return decision.decide(P, th, np.inf, self.top_k)
        return decision.decide(P, self.thresholds_, self.none_level_, self.top_k, rank=rank)

    def predict(self, X: Sequence[str] | np.ndarray | pd.DataFrame, *,
                embeddings: np.ndarray | None = None) -> np.ndarray:
        """Binary leaf indicators (n, n_leaves) of the suggested themes (the rule of :meth:`suggest`).

        Examples
        --------
        >>> mapper.predict(["The meals were cold"]).shape == (1, len(mapper.leaf_ids_))   # doctest: +SKIP
        True
        """
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
        P = mask_known(P, [doc_ids[i] for i in idx], sub_texts, getattr(self, "known_negatives_", {}))
        picks = self._decide(P, rank)
        ev = self._evidence(E, picks) if evidence else None
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
            raise ParameterError(f"ThemeMapper.suggest: {name} has {A.shape[0]} rows; expected one per input row "
                                 f"({n}) or one per scored row ({len(idx)}).")
        return normalise_rows(A) if name == "embeddings" else A

    def _evidence(self, E: np.ndarray, picks: list[list[int]]) -> list[str]:
        if self.examples_ is None:
            return evidence_strings(E, picks, self.leaf_names_, self.protos_, self.proto_texts_)
        return evidence_strings(E, picks, self.leaf_names_, self.protos_, self.proto_texts_, self.examples_,
                                self.example_embeddings_, self.example_labels_)

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
        """Align discovered candidate codes with the codebook's leaf themes; see :func:`align_candidates`.

        Examples
        --------
        >>> mapper.align_candidates(cands, assignments, suggestions).candidates   # doctest: +SKIP
        """
        return align_candidates(self, candidate_codes, assignments, suggestions, doc_embeddings=doc_embeddings,
                                min_share=min_share, min_similarity=min_similarity, max_themes=max_themes)

"""Fitting the mapper on coded examples: cross-fitted scorers, calibration, decision rule (private
to the mapping stage).

1. The examples are split into ``n_folds`` folds; every scorer of :mod:`themeassist.mapping.scorers`
   is fitted without each fold and scores it: out-of-fold features ``F`` (n, L, n_features)
   (the classifiers also learn from the leaves' names, in every fold alike).
2. The calibration (:mod:`themeassist.mapping.calibration`) is cross-fitted on ``F`` with the same
   folds for each strength in :data:`CALIBRATION_GRID`; the strength with the lowest log-loss is
   kept, and its cross-fitted scores become ``oof_proba_``.
3. The decision rule (:func:`themeassist.mapping.decision.tune_rule`) is tuned on those scores.
4. The scorers and the calibration are refitted on all the examples for new comments.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.model_selection import KFold

from themeassist.mapping import calibration, decision, scorers, zeroshot
from themeassist.mapping.lexical import term_matrix

__all__: list[str] = []

#: Calibration strengths tried by cross-validation (log-loss of the cross-fitted scores): the
#: per-leaf intercept's prior variance and the precision of the prior on the per-leaf weights
#: (weak to strong pooling).
CALIBRATION_GRID: tuple[tuple[float, float], ...] = ((0.25, 1000.0), (1.0, 100.0), (2.0, 10.0), (4.0, 1.0))


def fit_stack(regime: str, X: np.ndarray, texts: list[str], Y: np.ndarray, M: np.ndarray, w: np.ndarray,
              protos: np.ndarray, codebook_words: tuple[Any, list[str]], *, lexical: bool, n_folds: int,
              random_state: int, top_k: int, leaf_names: list[str] | None = None) -> dict[str, Any]:
    """Learned state of a few-shot or supervised mapper (see the module docstring).

    Parameters
    ----------
    regime : {"few-shot", "supervised"}
    X : ndarray of shape (n, dim)
        Embeddings of the examples as the scorers see them.
    texts : list of str
    Y, M : ndarray of shape (n, L)
        Labels and known-mask of the examples.
    w : ndarray of shape (n,)
        Row weights.
    protos : ndarray of shape (L, dim)
    codebook_words : (leaf_terms, term_vocab)
    lexical : bool
    n_folds, random_state, top_k : int
    leaf_names : list of str, optional
        The leaves' codebook names: each is also an example of its leaf for the classifiers
        (:func:`themeassist.mapping.scorers.with_name_examples`), in every fold and in the final fit.

    Returns
    -------
    dict
        Attribute name -> value: ``lex_idf_, scorers_, calibration_, stacker_, fallback_cols_,
        fallback_, covered_, stack_weights_, thresholds_, none_level_, decision_info_,
        oof_proba_, oof_labels_, oof_mask_, example_weights_, example_labels_``.
    """
    s = scorers.SETTINGS[regime]
    n = len(texts)
    leaf_terms, vocab = codebook_words
    # idf of the codebook words, from the example texts (fixed from here on)
    if n >= zeroshot.MIN_TRANSDUCTIVE and leaf_terms.shape[0]:
        df = np.asarray(term_matrix(texts, vocab).sum(0)).ravel()
        idf = np.log((1 + n) / (1 + df)) + 1.0
    else:
        idf = np.ones(leaf_terms.shape[0])
    folds = list(KFold(n_splits=min(n_folds, n), shuffle=True, random_state=random_state).split(np.arange(n)))
    names = scorers.feature_names(lexical)
    words = (leaf_terms, vocab, idf)
    F = np.zeros((n, Y.shape[1], len(names)), dtype=np.float64)
    for tr, te in folds:
        models = scorers.fit_scorers(X[tr], [texts[i] for i in tr], Y[tr], M[tr], w[tr], protos, s, lexical,
                                     random_state, leaf_names)
        F[te] = scorers.features(models, X[te], [texts[i] for i in te], protos, words)
    covered = (Y * (M > 0)).sum(0) > 0
    Mc = M * covered
    best: tuple[float, float, float, np.ndarray] | None = None
    for pv, wp in CALIBRATION_GRID:
        P = calibration.cross_fit(F, Y, Mc, folds, w=w, prior_var=pv, weight_prior=wp)
        ll = calibration.log_loss(P, Y, Mc, w)
        if best is None or ll < best[0] - 1e-9:
            best = (ll, pv, wp, P)
    assert best is not None
    ll, pv, wp, P = best
    stacker = calibration.Stacker().fit(F, Y, Mc, w=w, prior_var=pv, weight_prior=wp)
    # leaves without any coded example: the codebook evidence alone (prototype, codebook words),
    # calibrated on the other leaves (pooled)
    fb_cols = [0] + ([names.index("codebook_words")] if "codebook_words" in names else [])
    Ff = F[..., fb_cols]
    fallback = calibration.Stacker().fit(Ff, Y, Mc, w=w, prior_var=1e-6, weight_prior=1e6)
    if not covered.all():
        Pf = calibration.cross_fit(Ff, Y, Mc, folds, w=w, prior_var=1e-6, weight_prior=1e6)
        P[:, ~covered] = Pf[:, ~covered]
    th, level, info = decision.tune_rule(P, Y, M, top_k, w=w, shrink=s["th_shrink"])
    return {
        "lex_idf_": idf,
        "scorers_": scorers.fit_scorers(X, texts, Y, M, w, protos, s, lexical, random_state, leaf_names),
        "calibration_": {"prior_var": pv, "weight_prior": wp, "log_loss": ll},
        "stacker_": stacker, "fallback_cols_": fb_cols, "fallback_": fallback, "covered_": covered,
        "stack_weights_": dict(zip(names, map(float, stacker.weights_))),
        "thresholds_": th, "none_level_": level, "decision_info_": info,
        "oof_proba_": P, "oof_labels_": (Y * (M > 0)).astype(np.int8), "oof_mask_": (M > 0).astype(np.int8),
        "example_weights_": w, "example_labels_": Y * (M > 0),
    }

"""Which themes a comment gets from its calibrated scores (private to the mapping stage).

The rule (:func:`decide_matrix`): every leaf whose score reaches its threshold is suggested; a
comment with none gets its best leaf (highest ``score / threshold``) when that ratio reaches the
"none of these" level, else nothing; at most ``top_k`` leaves, best first.

:func:`tune_rule` chooses the thresholds and the level on out-of-sample (cross-fitted) scores of
the coded examples, for the agreement a coder sees: the mean over leaves of per-leaf Cohen's kappa
(0/1 presence, leaves with at least 3 coded examples), with the number of codes per comment kept
close to the coders' own. F1-optimal thresholds of a weak classifier sit far below 0.5 (about
half the attainable F1) and give each comment about twice the coder's codes; the rule here lets
the comment's best theme compete with the "none of these" level and asks more of every further theme.
"""

from __future__ import annotations

import numpy as np

__all__: list[str] = []

_EPS = 1e-9
#: Thresholds tried for a theme that joins a comment's best one (on calibrated scores).
EXTRA_GRID = np.round(np.arange(0.15, 0.951, 0.05), 3)
#: Scores the best theme needs (absolute, on calibrated scores) for a comment not to be "none of these".
NONE_GRID = np.round(np.concatenate([[0.0, 0.02, 0.05], np.arange(0.1, 0.61, 0.05)]), 3)
#: Codes per comment, over the coders', that the tuned rule may give on the examples without penalty.
RATIO_BAND = (0.85, 1.15)
#: Penalty per unit of log-distance of the codes per comment from :data:`RATIO_BAND` (in kappa).
RATIO_PENALTY = 2.0
#: Penalty (in kappa) per unit of the share of comments given "none of these" beyond the coders'
#: share on the examples: at equal agreement, prefer the coder's habit of giving most comments a
#: code (napire2018, the development set: the same mean kappa, 3 % instead of 21 % "none").
NONE_PENALTY = 0.5
#: Leaves with at least this many coded examples get their own threshold (shrunk towards the shared one).
MIN_OWN = 8


def decide_matrix(P: np.ndarray, th: np.ndarray, none_level: float, top_k: int,
                  rank: np.ndarray | None = None) -> np.ndarray:
    """Boolean (n, L): the leaves suggested per row (see the module docstring).

    With ``rank`` (zero-shot), the highest-ranked leaf joins those at or above threshold whenever
    its ``score / threshold`` reaches ``none_level`` and its rank is finite (a row of ``-inf``
    ranks: no best leaf).
    """
    n, L = P.shape
    R = P / np.maximum(th, _EPS)
    D = R >= 1.0
    if n == 0:
        return D
    rows = np.arange(n)
    if rank is not None:
        j = rank.argmax(1)
        ok = np.isfinite(rank[rows, j]) & (R[rows, j] >= none_level)
        D[rows[ok], j[ok]] = True
    else:
        j = R.argmax(1)
        add = ~D.any(1) & (R[rows, j] >= none_level)
        D[rows[add], j[add]] = True
    if top_k < L:
        many = np.where(D.sum(1) > top_k)[0]
        for i in many:  # keep the top_k best scores
            cols = np.where(D[i])[0]
            drop = cols[np.argsort(-P[i, cols], kind="stable")[top_k:]]
            D[i, drop] = False
    return D


def decide(P: np.ndarray, th: np.ndarray, none_level: float, top_k: int,
           rank: np.ndarray | None = None) -> list[list[int]]:
    """The leaves of :func:`decide_matrix` per row, best score first."""
    D = decide_matrix(P, th, none_level, top_k, rank)
    out = []
    for i in range(P.shape[0]):
        cols = np.where(D[i])[0]
        out.append([int(j) for j in cols[np.argsort(-P[i, cols], kind="stable")]])
    return out


def leaf_kappa(D: np.ndarray, Y: np.ndarray, M: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Per-leaf Cohen's kappa between decisions ``D`` and labels ``Y`` over the known cells ``M``
    (row weights ``w``); NaN where a leaf has no known cell or kappa is undefined."""
    Mk = (M > 0).astype(np.float64) * (1.0 if w is None else w[:, None])
    Db, Yb = D.astype(np.float64), Y.astype(np.float64)
    tp = (Mk * Db * Yb).sum(0)
    fp = (Mk * Db * (1 - Yb)).sum(0)
    fn = (Mk * (1 - Db) * Yb).sum(0)
    tn = (Mk * (1 - Db) * (1 - Yb)).sum(0)
    return kappa_from_counts(tp, fp, fn, tn)


def kappa_from_counts(tp: np.ndarray, fp: np.ndarray, fn: np.ndarray, tn: np.ndarray) -> np.ndarray:
    """Cohen's kappa of 2x2 tables given by their (weighted) cells, elementwise; NaN where undefined."""
    den = (tp + fp) * (fp + tn) + (tp + fn) * (fn + tn)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, 2 * (tp * tn - fp * fn) / np.where(den > 0, den, 1.0), np.nan)


def _objective(D: np.ndarray, Y: np.ndarray, M: np.ndarray, w: np.ndarray, judged: np.ndarray,
               true_codes: float, none_share: float = 0.0, none_penalty: float = 0.0) -> tuple[float, float]:
    """Mean kappa over the judged leaves, less a penalty when the codes per comment leave the band."""
    k = leaf_kappa(D, Y, M, w)[judged]
    score = float(np.nanmean(k)) if np.isfinite(k).any() else 0.0
    ratio = float((D * (M > 0) * w[:, None]).sum() / max(true_codes, _EPS))
    lo, hi = RATIO_BAND
    miss = max(0.0, np.log(lo) - np.log(max(ratio, _EPS)), np.log(max(ratio, _EPS)) - np.log(hi))
    extra = 0.0
    if none_penalty:
        extra = none_penalty * max(0.0, float(np.average(D.sum(1) == 0, weights=w)) - none_share)
    return score - RATIO_PENALTY * miss - extra, ratio


def tune_rule(P: np.ndarray, Y: np.ndarray, M: np.ndarray, top_k: int, *, w: np.ndarray | None = None,
              shrink: float = 20.0, min_judged: int = 3,
              none_penalty: float = NONE_PENALTY) -> tuple[np.ndarray, float, dict[str, float]]:
    """Thresholds and "none of these" level for :func:`decide_matrix`, tuned on out-of-sample scores.

    A grid search over one shared threshold (:data:`EXTRA_GRID`) and one absolute score the best
    theme needs (:data:`NONE_GRID`), maximising the mean per-leaf kappa over the leaves with at
    least ``min_judged`` coded examples, penalised by :data:`RATIO_PENALTY` times the log-distance
    of the codes per comment (over the coders' on the same examples) from :data:`RATIO_BAND` and
    by ``none_penalty`` times the share of "none of these" beyond the coders'; then each leaf with at least
    :data:`MIN_OWN` coded examples gets its own threshold, the one maximising the same objective
    with the others fixed, shrunk towards the shared one (weight ``n_pos / (n_pos + shrink)``).

    Parameters
    ----------
    P : ndarray of shape (n, L)
        Cross-fitted calibrated scores of the examples.
    Y, M : ndarray of shape (n, L)
        Labels (0/1) and known-mask (1 = known).
    top_k : int
    w : ndarray of shape (n,), optional
        Row weights.
    shrink : float
    min_judged : int
        Leaves with at least this many coded examples count in the objective.
    none_penalty : float

    Returns
    -------
    thresholds : ndarray of shape (L,)
    none_level : float
        On ``score / threshold`` (as :func:`decide_matrix` takes it).
    info : dict
        ``shared_threshold``, ``none_score``, ``kappa`` and ``codes_ratio`` on the examples.
    """
    n, L = P.shape
    w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
    Yk = Y * (M > 0)
    npos = (Yk * w[:, None]).sum(0)
    judged = (Yk.sum(0) >= min_judged)
    if not judged.any():
        judged = Yk.sum(0) > 0
    # rows whose labels are all unknown but some (a bare rejection) count only through M
    true_codes = float((Yk * w[:, None]).sum())
    known_row = (M > 0).all(1)
    none_share = float(np.average(Yk[known_row].sum(1) == 0)) if known_row.any() else 0.0
    obj = lambda D: _objective(D, Y, M, w, judged, true_codes, none_share, none_penalty)  # noqa: E731
    best = (-np.inf, 0.5, 0.0, 1.0)
    for g in EXTRA_GRID:
        th = np.full(L, g)
        for t in NONE_GRID:
            if t > g:
                continue
            D = decide_matrix(P, th, t / g, top_k)
            o, ratio = obj(D)
            if o > best[0] + 1e-9:
                best = (o, float(g), float(t), ratio)
    _, g, t, _ = best
    th = np.full(L, g)
    level = t / g
    # per-leaf thresholds for well-covered leaves (the best theme's rule stays as tuned)
    for j in np.where(Yk.sum(0) >= MIN_OWN)[0]:
        scores = []
        for c in EXTRA_GRID:
            th2 = th.copy()
            th2[j] = c
            D = decide_matrix(P, th2, level, top_k)
            scores.append(obj(D)[0])
        scores_a = np.asarray(scores)
        own = float(EXTRA_GRID[int(np.argmax(scores_a))])
        a = npos[j] / (npos[j] + shrink)
        th[j] = a * own + (1 - a) * g
    # the level is on score / threshold: keep the absolute score t for every leaf's best-theme rule
    D = decide_matrix(P, th, level, top_k)
    _, ratio = obj(D)
    k = leaf_kappa(D, Y, M, w)[judged]
    info = {"shared_threshold": g, "none_score": t, "kappa": float(np.nanmean(k)) if np.isfinite(k).any() else 0.0,
            "codes_ratio": ratio}
    return th, level, info

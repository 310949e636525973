"""Prevalence estimated from a classifier's output, adjusted for its errors ("quantification").

Counting a classifier's suggestions (classify and count) is biased whenever the classifier's
error rates are not zero: a theme with 5% false positives among 95% negative comments is
over-counted by almost 5 points, and any change in the mix of comments moves that bias too.
The estimators below use a **coder-checked sample** (comments with human codes and the
classifier's scores for them, obtained out of sample, e.g. by cross-validation) to correct for
those errors (Forman, 2008; Bella et al., 2010; Saerens, Latinne & Decaestecker, 2002).

Each theme is treated as its own binary problem (a comment can carry several themes). All
functions work on arrays with one column per theme:

``cc``
    classify and count: share of comments with score >= threshold.
``pcc``
    probabilistic classify and count: mean score (probability averaging).
``acc``
    adjusted classify and count: ``(cc - fpr) / (tpr - fpr)`` with the rates of the checked sample.
``pacc``
    probabilistic ACC: the same with mean scores among the checked positives and negatives.
``cpcc``
    calibrated PCC, the default "adjusted" estimator: scores are first mapped to probabilities by
    a logistic (Platt) calibration fitted on the checked sample, then averaged. When the checked
    scores are out of sample (cross-validated), this removes the classifier's over- or
    under-confidence; on the NHS benchmark it is the most accurate of these estimators.
``em``
    Saerens-Latinne-Decaestecker EM: calibrated probabilities re-weighted until the prevalence
    they imply agrees with the prior used to re-weight them.

Every estimate is clipped to [0, 1].
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from scipy.special import expit, logit

from themeassist._validation import check_param
from themeassist.exceptions import ThemeassistError

__all__ = ["QUANTIFY_METHODS", "CheckedSample", "bootstrap_quantify", "calibrate_scores", "fit_calibration", "quantify"]

#: Estimators understood by :func:`quantify`.
QUANTIFY_METHODS: tuple[str, ...] = ("cc", "pcc", "acc", "pacc", "cpcc", "em")
_NEEDS_CHECK = {"acc", "pacc", "cpcc", "em"}
_EPS = 1e-6


def _as2d(a: Any, name: str) -> np.ndarray:
    arr = np.asarray(a, dtype=float)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise ThemeassistError(f"quantify: {name} must be a 2-D array (comments x themes), got shape {arr.shape}.")
    if np.isnan(arr).any():
        r, c = np.argwhere(np.isnan(arr))[0]
        raise ThemeassistError(f"quantify: {name} has a missing value (row {r}, column {c}); fill or drop it.")
    return arr


def fit_calibration(scores: Any, y: Any, *, prior_strength: float = 1.0, return_cov: bool = False) -> Any:
    """Fit a logistic (Platt) calibration per theme: ``P(y=1 | s) = expit(a * logit(s) + b)``.

    Parameters
    ----------
    scores : array (n, k)
        Out-of-sample scores in [0, 1] of the checked comments.
    y : array (n, k)
        Their human codes (0/1).
    prior_strength : float
        Weight of a pseudo-observation pair (one positive and one negative at the mean logit)
        that keeps the fit finite when a theme has no positives or is perfectly separated.
    return_cov : bool
        Also return the asymptotic covariance of ``(a, b)`` per theme (inverse Hessian), shape (k, 2, 2).

    Returns
    -------
    ndarray (k, 2)
        ``(a, b)`` per theme (and the covariance when ``return_cov``).

    Examples
    --------
    >>> s = np.array([[0.1], [0.2], [0.8], [0.9], [0.3], [0.7]])
    >>> y = np.array([[0], [0], [1], [1], [1], [0]])
    >>> a, b = fit_calibration(s, y)[0]
    >>> bool(a > 0)
    True
    """
    s, y = _as2d(scores, "scores"), (_as2d(y, "y") > 0.5).astype(float)
    z = logit(np.clip(s, 1e-4, 1 - 1e-4))
    zm = z.mean(0, keepdims=True)
    zz = np.vstack([z, zm, zm])
    yy = np.vstack([y, np.ones_like(zm), np.zeros_like(zm)])
    w = np.concatenate([np.ones(len(z)), [prior_strength, prior_strength]])[:, None]
    a, b = np.ones(s.shape[1]), np.zeros(s.shape[1])
    for _ in range(100):  # Newton-Raphson, all themes at once (2 parameters each)
        p = expit(a * zz + b)
        r, v = w * (yy - p), w * p * (1 - p)
        g1, g2 = (r * zz).sum(0), r.sum(0)
        h11, h12, h22 = (v * zz * zz).sum(0) + 1e-9, (v * zz).sum(0), v.sum(0) + 1e-9
        det = h11 * h22 - h12 * h12
        da, db = (h22 * g1 - h12 * g2) / det, (h11 * g2 - h12 * g1) / det
        a, b = a + da, b + db
        if max(np.abs(da).max(), np.abs(db).max()) < 1e-8:
            break
    if return_cov:
        p = expit(a * zz + b)
        v = w * p * (1 - p)
        h11, h12, h22 = (v * zz * zz).sum(0) + 1e-9, (v * zz).sum(0), v.sum(0) + 1e-9
        det = h11 * h22 - h12 * h12
        cov = np.stack([np.stack([h22, -h12], -1), np.stack([-h12, h11], -1)], -2) / det[:, None, None]
        return np.column_stack([a, b]), cov
    return np.column_stack([a, b])


def calibrate_scores(scores: Any, params: np.ndarray) -> np.ndarray:
    """Apply :func:`fit_calibration`'s parameters ``(k, 2)`` to scores ``(n, k)``."""
    z = logit(np.clip(_as2d(scores, "scores"), 1e-4, 1 - 1e-4))
    return expit(z * params[:, 0] + params[:, 1])


def _em(p: np.ndarray, train_prev: np.ndarray, *, max_iter: int = 200, tol: float = 1e-7) -> np.ndarray:
    """Saerens-Latinne-Decaestecker: prevalence re-estimated from posteriors p (n, k) at prior train_prev."""
    tp = np.clip(train_prev, _EPS, 1 - _EPS)
    prev = p.mean(0)
    for _ in range(max_iter):
        r1, r0 = np.clip(prev, _EPS, 1) / tp, np.clip(1 - prev, _EPS, 1) / (1 - tp)
        new = (r1 * p / (r1 * p + r0 * (1 - p))).mean(0)
        if np.abs(new - prev).max() < tol:
            return new
        prev = new
    return prev


class CheckedSample:
    """What the adjusted estimators learn from a coder-checked sample (rates, calibration, prevalence).

    Parameters
    ----------
    scores, y : arrays (m, k)
        Out-of-sample scores and human codes (0/1) of the checked comments.
    threshold : float
        Score at which a comment counts as suggested.
    calibration : ndarray (k, 2), optional
        Calibration parameters to use instead of fitting them.

    Attributes
    ----------
    tpr, fpr : ndarray (k,)
        Share of checked positives / negatives with score >= threshold (for ``acc``).
    mean_pos, mean_neg : ndarray (k,)
        Mean score of checked positives / negatives (for ``pacc``).
    calibration : ndarray (k, 2)
        :func:`fit_calibration` parameters (for ``cpcc`` and ``em``); given, or fitted here.
    calibration_cov : ndarray (k, 2, 2) or None
        Their asymptotic covariance (when fitted here).
    prevalence : ndarray (k,)
        Prevalence in the checked sample (the prior of ``em``).
    """

    def __init__(self, scores: Any, y: Any, *, threshold: float = 0.5, calibration: np.ndarray | None = None) -> None:
        cs, cy = _as2d(scores, "checked_scores"), _as2d(y, "checked_y")
        if cs.shape != cy.shape:
            raise ThemeassistError(f"quantify: checked_scores {cs.shape} and checked_y {cy.shape} must have the same "
                                   "shape (the same comments and themes).")
        cy = (cy > 0.5).astype(float)
        npos, nneg = np.maximum(cy.sum(0), 1), np.maximum((1 - cy).sum(0), 1)
        hard = (cs >= threshold).astype(float)
        self.n = len(cs)
        self.tpr, self.fpr = (hard * cy).sum(0) / npos, (hard * (1 - cy)).sum(0) / nneg
        self.mean_pos, self.mean_neg = (cs * cy).sum(0) / npos, (cs * (1 - cy)).sum(0) / nneg
        if calibration is None:
            self.calibration, self.calibration_cov = fit_calibration(cs, cy, return_cov=True)
        else:
            self.calibration, self.calibration_cov = np.asarray(calibration, float), None
        self.prevalence = cy.mean(0)


def _adjust(est: np.ndarray, pos: np.ndarray, neg: np.ndarray) -> np.ndarray:
    den = pos - neg
    ok = den > 0.05  # a classifier that barely separates the theme cannot be inverted reliably
    return np.where(ok, (est - neg) / np.where(ok, den, 1.0), est)


def _estimate(s: np.ndarray, method: str, fit: CheckedSample | None, threshold: float) -> np.ndarray:
    if method == "cc":
        return (s >= threshold).mean(0)
    if method == "pcc":
        return s.mean(0)
    assert fit is not None
    if method == "acc":
        return np.clip(_adjust((s >= threshold).mean(0), fit.tpr, fit.fpr), 0, 1)
    if method == "pacc":
        return np.clip(_adjust(s.mean(0), fit.mean_pos, fit.mean_neg), 0, 1)
    p = calibrate_scores(s, fit.calibration)
    if method == "cpcc":
        return np.clip(p.mean(0), 0, 1)
    return np.clip(_em(p, fit.prevalence), 0, 1)


def _prepare(scores: Any, method: str, checked_scores: Any, checked_y: Any,
             threshold: float, checked: CheckedSample | None) -> tuple[np.ndarray, CheckedSample | None]:
    check_param("method", method, owner="quantify", options=QUANTIFY_METHODS)
    s = _as2d(scores, "scores")
    if method not in _NEEDS_CHECK:
        return s, None
    if checked is None:
        if checked_scores is None or checked_y is None:
            raise ThemeassistError(f"quantify: method {method!r} needs a coder-checked sample; pass checked_scores= "
                                   "and checked_y= (out-of-sample scores and human codes), or use method='pcc'.")
        checked = CheckedSample(checked_scores, checked_y, threshold=threshold)
    if checked.calibration.shape[0] != s.shape[1]:
        raise ThemeassistError(f"quantify: the checked sample has {checked.calibration.shape[0]} themes (columns) "
                               f"but scores has {s.shape[1]}; give both the same columns.")
    return s, checked


def quantify(scores: Any, *, method: str = "cpcc", checked_scores: Any = None, checked_y: Any = None,
             threshold: float = 0.5, checked: CheckedSample | None = None) -> np.ndarray:
    """Estimate the prevalence of each theme among the target comments.

    Parameters
    ----------
    scores : array (n, k)
        Classifier scores (probabilities) of the target comments, one column per theme.
    method : str
        One of :data:`QUANTIFY_METHODS` (see the module docstring).
    checked_scores, checked_y : arrays (m, k)
        Out-of-sample scores and human codes (0/1) of a coder-checked sample; needed by every
        method but ``cc`` and ``pcc``.
    threshold : float
        Score at which a comment counts as suggested (``cc``, ``acc``).
    checked : CheckedSample, optional
        Precomputed from the checked sample (instead of ``checked_scores``/``checked_y``).

    Returns
    -------
    ndarray (k,)
        Estimated prevalence per theme, in [0, 1].

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = rng.random((4000, 1)) < 0.3
    >>> s = np.clip(0.7 * y + rng.normal(0.15, 0.15, y.shape), 0, 1)
    >>> bool(abs(quantify(s[:2000], method="acc", checked_scores=s[2000:], checked_y=y[2000:])[0] - 0.3) < 0.03)
    True
    """
    s, fit = _prepare(scores, method, checked_scores, checked_y, threshold, checked)
    return _estimate(s, method, fit, threshold)


def bootstrap_quantify(scores: Any | Sequence[Any], *, method: str = "cpcc", checked_scores: Any = None,
                       checked_y: Any = None, threshold: float = 0.5, n_boot: int = 200, confidence: float = 0.95,
                       random_state: int | np.random.Generator | None = 0) -> list[tuple[np.ndarray, np.ndarray,
                                                                                          np.ndarray]]:
    """:func:`quantify` with a percentile bootstrap interval, for one or several target samples.

    Each replicate resamples the target comments and, for the adjusted methods, the checked
    sample (with replacement) and recomputes the adjustment; the calibration parameters are
    drawn from their asymptotic normal distribution rather than refitted. The checked-sample
    replicates are shared by all targets (e.g. periods).

    Parameters
    ----------
    scores : array (n, k) or list of such arrays
        One array per target sample (e.g. one per period).
    n_boot, confidence, random_state
        Replicates, interval level and seed.

    Returns
    -------
    list of (estimate, ci_low, ci_high)
        One tuple of ``(k,)`` arrays per target sample.

    Examples
    --------
    >>> s = np.array([[0.9], [0.1], [0.8], [0.2]])
    >>> [(e.round(2).tolist(), lo.tolist() <= e.tolist()) for e, lo, hi in bootstrap_quantify(s, method="pcc")]
    [([0.5], True)]
    """
    check_param("n_boot", n_boot, owner="bootstrap_quantify", between=(1, 1e7))
    check_param("confidence", confidence, owner="bootstrap_quantify", between=(0.5, 0.999999))
    single = not isinstance(scores, (list, tuple))
    targets = [scores] if single else list(scores)
    prepared = [_prepare(t, method, checked_scores, checked_y, threshold, None) for t in targets[:1]]
    fit = prepared[0][1] if prepared else None
    arrays = [_as2d(t, "scores") for t in targets]
    rng = np.random.default_rng(random_state)
    if fit is not None:
        cs, cy = _as2d(checked_scores, "checked_scores"), _as2d(checked_y, "checked_y")
        # rates and prevalence: nonparametric bootstrap of the checked sample; calibration
        # parameters: drawn from their asymptotic normal distribution (refitting 41 x n_boot
        # logistic calibrations would dominate the run time for the same interval)
        chol = np.linalg.cholesky(fit.calibration_cov + 1e-12 * np.eye(2))
        fits = []
        for _ in range(n_boot):
            k = rng.integers(0, len(cs), len(cs))
            draw = fit.calibration + np.einsum("kij,kj->ki", chol, rng.standard_normal(fit.calibration.shape))
            fits.append(CheckedSample(cs[k], cy[k], threshold=threshold, calibration=draw))
    a = 1 - confidence
    out = []
    for s in arrays:
        if not len(s):
            nan = np.full(s.shape[1], np.nan)
            out.append((nan, nan, nan))
            continue
        est = _estimate(s, method, fit, threshold)
        reps = np.empty((n_boot, s.shape[1]))
        for b in range(n_boot):
            i = rng.integers(0, len(s), len(s))
            reps[b] = _estimate(s[i], method, fits[b] if fit is not None else None, threshold)
        lo, hi = np.quantile(reps, [a / 2, 1 - a / 2], axis=0)
        out.append((est, np.minimum(lo, est), np.maximum(hi, est)))
    return out

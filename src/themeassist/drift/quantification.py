"""Audit-corrected prevalence: machine scores for every comment, human codes for a random audit.

A classifier's suggestions counted as if they were codes carry its errors, and those errors move
with the mix of comments. An **audit** (a random sample of comments per period, checked by a
coder; see :mod:`themeassist.drift.audit`) corrects them. Every estimator below works per theme
(a comment can carry several themes) on three arrays: the scores of every comment, the audit
codes of the checked comments and each comment's period; intervals come from the audit's
sampling design and, with a respondent id, are cluster-robust (a respondent's comments are
resampled or summed together).

``ppi``
    Prediction-powered inference with power tuning (PPI++; Angelopoulos et al., 2023), per
    period, computed with the ``ppi-python`` package: the period's mean score plus the mean
    audit residual (code minus tuned score). Valid without any assumption on how the classifier
    errs, but each period leans only on its own audit.
``pacc``
    Probabilistic adjusted classify-and-count with error rates **pooled across periods**
    (Bella et al., 2010): the mean score of checked positives and negatives over every audited
    period, and per period ``(mean score - mean_neg) / (mean_pos - mean_neg)``. Valid under label
    shift (the classifier's behaviour on a theme's comments does not change between periods);
    the delta-method interval includes the uncertainty of the pooled rates. Where a period's
    audit is a simple random sample (one inclusion probability, as
    :func:`themeassist.drift.draw_audit` draws it), its checked comments count with their codes
    and only the others are estimated, so the estimate's error shrinks with the share checked: a
    period of 75 comments with 40 checked is half known (the demo's later years are such periods).
``emq``
    QuaPy's EMQ (Saerens, Latinne & Decaestecker, 2002): scores calibrated on the pooled audit
    (Platt), then re-weighted per period by expectation maximisation (``quapy``'s
    ``EMQ.EM``); percentile interval from a (cluster) bootstrap of the audit and the comments.

Small audits: a period whose comments were all checked is a census and is counted directly
(Wilson interval). In every other audit cell, the interval is computed as if the cell held one
more positive and one more negative with the cell's mean score (Agresti & Caffo's add-one rule),
so that a cell with no checked positive, common for rare themes, keeps a width a binomial
interval would give it; the point estimate uses the real rows only. A theme with fewer than
:data:`MIN_POOLED_POSITIVES` checked positives over the pooled audit, or whose scores do not
tell its checked positives from its negatives (mean scores apart by less than the interval's
number of standard errors), has no usable pooled error rate: ``pacc`` and ``emq`` use ``ppi``
for it and say so in a warning. No theme is ever calibrated into a constant.

Comments coded outside the audit (``known``, e.g. the coded examples of a suggestions file) are
counted with their codes and only the rest of each period is estimated. When they are a random
sample of their period (coded examples drawn at random; checked by a permutation test of their codes
against the audit's), their share of a theme is a second, independent estimate of the rest's share,
combined with the audit-corrected one by inverse variances: with a weak classifier and a third of
the comments coded as examples, the examples carry most of what is known (``known_random``).

Respondent clusters: with few audited respondents the cluster-robust variance is itself noisy, so
intervals (and the tests of :func:`themeassist.drift.changes`, through ``AuditEstimate.df``) use
Student's t with the number of audited respondents less one (``ppi``: of the smallest period's
audit) instead of the normal quantile.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats
from scipy.special import expit

from themeassist._validation import check_param
from themeassist.drift._codes import _period_order
from themeassist.drift._stats import cluster_variance, snap_unit
from themeassist.exceptions import ThemeassistError

__all__ = ["AUDIT_METHODS", "DEFAULT_AUDIT_METHOD", "MIN_POOLED_POSITIVES", "AuditEstimate", "audit_estimate",
           "cluster_variance"]

#: Audit-corrected estimators (see the module docstring).
AUDIT_METHODS: tuple[str, ...] = ("ppi", "pacc", "emq")
#: The estimator used when none is named: chosen on a development split (planted drift built from the
#: NHS training comments and their cross-validated scores, benchmarks/drift.py --split dev), where it
#: gave the narrowest valid intervals and the fewest false flags; ``ppi`` needs no assumption.
DEFAULT_AUDIT_METHOD = "pacc"
#: Fewer checked positives than this over the pooled audit: no pooled error rate for the theme.
MIN_POOLED_POSITIVES = 2
_EPS = 1e-6


@dataclass(frozen=True)
class AuditEstimate:
    """Estimates per period (rows, in the order given) and theme (columns).

    Attributes
    ----------
    prevalence, ci_low, ci_high, se : ndarray (n_periods, n_themes)
        Point estimate, interval and standard error (for tests of change).
    n_checked : ndarray (n_periods,)
        Checked comments (audit codes given) per period.
    n_checked_theme : ndarray (n_periods, n_themes)
        Checked comments coded with the theme.
    cov : ndarray (n_themes, n_periods, n_periods)
        Covariance of each theme's estimates between periods (diagonal: ``se ** 2``); periods
        that share pooled error rates (``pacc``, ``emq``) or respondents are correlated.
    census : ndarray (n_periods,) of bool
        Periods whose comments were all checked (counted, not estimated).
    fallback : ndarray (n_themes,) of bool
        Themes estimated with ``ppi`` because the pooled audit had too few positives.
    method : str
    df : float
        Degrees of freedom of the intervals and of tests built on ``cov``: with respondent
        clusters, the number of audited respondents less one (a t reference: the cluster-robust
        variance rests on them); ``inf`` (normal) otherwise.
    n_known, n_known_theme : ndarray (n_periods,) and (n_periods, n_themes), or None
        Comments coded outside the audit (``known``) per period, and of them coded with the theme.
    known_random_p : float
        Permutation p-value of "the known comments are a random sample of their period" against
        the audit (NaN without known comments, or without a period holding both).
    known_random : bool or None
        How the known comments were used: True, as a random sample (their shares also estimate the
        rest); False, counted for themselves only; None without known comments.
    """

    prevalence: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    se: np.ndarray
    cov: np.ndarray
    n_checked: np.ndarray
    n_checked_theme: np.ndarray
    census: np.ndarray
    fallback: np.ndarray
    method: str
    df: float = float("inf")
    n_known: np.ndarray | None = None
    n_known_theme: np.ndarray | None = None
    known_random_p: float = float("nan")
    known_random: bool | None = None

    def __post_init__(self) -> None:  # floating-point residue: 2.6e-20 reads as 0, 0.9999999999999998 as 1
        snap_unit(self.prevalence, self.ci_low, self.ci_high)


def _quantile(confidence: float, df: float) -> float:
    """The two-sided interval's quantile: normal, or Student's t with ``df`` degrees of freedom."""
    q = 0.5 + confidence / 2
    return float(stats.norm.ppf(q) if not np.isfinite(df) else stats.t.ppf(q, df))


def _wilson(k: np.ndarray, n: np.ndarray, z: float) -> tuple[np.ndarray, np.ndarray]:
    from themeassist.drift._stats import wilson_interval

    conf = 2 * stats.norm.cdf(z) - 1
    lo, hi = wilson_interval(k, n, conf)
    return np.asarray(lo, dtype=float), np.asarray(hi, dtype=float)


def _census(y: np.ndarray, cl: np.ndarray | None, z: float) -> tuple[np.ndarray, ...]:
    """A fully checked period: the share coded, Wilson interval on a design-effect-adjusted n."""
    m = len(y)
    est = y.mean(0)
    n_eff = np.full(y.shape[1], float(m))
    if cl is not None and m > 1:
        var_c = cluster_variance((y - est) / m, cl)
        var_b = est * (1 - est) / m
        with np.errstate(invalid="ignore", divide="ignore"):
            deff = np.where(var_b > 0, np.maximum(var_c / var_b, 1.0), 1.0)
        n_eff = m / deff
    lo, hi = _wilson(est * n_eff, n_eff, z)
    se = np.sqrt(np.maximum(est * (1 - est), 1.0 / m) / n_eff)
    return est, lo, hi, se


def _augment(y: np.ndarray, f: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, ...]:
    """Add one positive and one negative, each at the cell's mean score (the add-one rule)."""
    fbar = f.mean(0, keepdims=True)
    ya = np.vstack([y, np.ones_like(fbar), np.zeros_like(fbar)])
    fa = np.vstack([f, fbar, fbar])
    wa = np.concatenate([w, [w.mean(), w.mean()]])
    return ya, fa, wa


def _ppi_functions() -> tuple[Any, Any]:
    """``ppi_py``'s mean estimators. Importing ``ppi_py`` runs ``warnings.simplefilter("ignore")``,
    which would silence every warning of the rest of the session (ours included: "not
    error-corrected", fallbacks, ...); the import is done inside ``catch_warnings`` so the caller's
    warning filters come back as they were."""
    with warnings.catch_warnings():
        from ppi_py import ppi_mean_ci, ppi_mean_pointestimate
    return ppi_mean_ci, ppi_mean_pointestimate


def _ppi_lambda(y: np.ndarray, f: np.ndarray, w: np.ndarray, fu: np.ndarray) -> np.ndarray:
    """PPI++ power-tuning parameter per theme (the mean's closed form), clipped to [0, 1]."""
    n, big_n = len(y), max(len(fu), 1)
    yw, fw = w[:, None] * y, w[:, None] * f
    cov = ((yw - yw.mean(0)) * (fw - fw.mean(0))).mean(0)
    var = np.concatenate([fw, fu]).var(0, ddof=1) if len(fu) + n > 1 else np.zeros(y.shape[1])
    with np.errstate(invalid="ignore", divide="ignore"):
        lam = np.where(var > 0, cov / ((1 + n / big_n) * var), 0.0)
    return np.clip(np.nan_to_num(lam), 0.0, 1.0)


def _ppi_cell(y: np.ndarray, f: np.ndarray, w: np.ndarray, fu: np.ndarray, z: float,
              cl_a: np.ndarray | None, cl_u: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """PPI++ for one period: y, f, w of the checked rows; fu: scores of the unchecked rows."""
    ppi_mean_ci, ppi_mean_pointestimate = _ppi_functions()
    w = w / w.mean()
    ya, fa, wa = _augment(y, f, w)
    lam = _ppi_lambda(ya, fa, wa, fu)
    fu_ = fu if len(fu) else np.zeros((1, y.shape[1]))
    est = np.atleast_1d(ppi_mean_pointestimate(y, f, fu_, lam=lam, w=w)) if len(fu) else (w[:, None] * y).mean(0)
    if cl_a is None and cl_u is None and len(fu) > 1:
        alpha = 2 * stats.norm.sf(z)
        lo, hi = ppi_mean_ci(ya, fa, fu, alpha=alpha, lam=lam, w=wa)
        lo, hi = np.atleast_1d(lo), np.atleast_1d(hi)
        se = (hi - lo) / (2 * z)
        centre = (hi + lo) / 2
    else:  # cluster-robust sandwich (pseudo rows are their own clusters)
        wa_n = wa / wa.sum()
        r = wa[:, None] * (ya - lam * fa)
        centre = lam * (fu.mean(0) if len(fu) else 0.0) + r.mean(0)
        psi_a = wa_n[:, None] * ((ya - lam * fa) - (wa_n[:, None] * (ya - lam * fa)).sum(0))
        ca = None
        if cl_a is not None:
            ca = np.concatenate([cl_a.astype(str), np.array(["\x00pseudo+", "\x00pseudo-"])])
        var = cluster_variance(psi_a, ca)
        if len(fu) > 1:
            var = var + cluster_variance(lam * (fu - fu.mean(0)) / len(fu), cl_u)
        se = np.sqrt(var)
        lo, hi = centre - z * se, centre + z * se
    return est, lo, hi, se


def _pooled(y: np.ndarray, f: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Mean score of checked positives and negatives per theme, and their counts."""
    npos, nneg = y.sum(0), (1 - y).sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        mu1 = (y * f).sum(0) / npos
        mu0 = ((1 - y) * f).sum(0) / nneg
    return mu1, mu0, npos, nneg


def _separates(ctx: "_Context", z: float) -> np.ndarray:
    """Themes whose scores tell the pooled audit's positives from its negatives: the difference of
    their mean scores is above 0 by more than ``z`` standard errors. Without that the pooled rates
    correct nothing (``(mean - mean_neg) / (mean_pos - mean_neg)`` divides by noise and can put a
    theme the classifier never scores at 50-70 %), so such a theme is estimated with ``ppi``."""
    y, f = ctx.pool_y, ctx.pool_f
    mu1, mu0, npos, nneg = _pooled(y, f)
    with np.errstate(invalid="ignore", divide="ignore"):
        v1 = (y * (f - mu1) ** 2).sum(0) / np.maximum(npos - 1, 1)
        v0 = ((1 - y) * (f - mu0) ** 2).sum(0) / np.maximum(nneg - 1, 1)
        se = np.sqrt(v1 / np.maximum(npos, 1) + v0 / np.maximum(nneg, 1))
        return np.nan_to_num(mu1 - mu0 - z * se, nan=-1.0) > 0


def _pacc(ctx: "_Context") -> tuple[np.ndarray, np.ndarray]:
    """Pooled-rate PACC per period with a joint, cluster-robust delta-method covariance.

    Returns the estimates (T, k) and the covariance (k, T, T) between periods: the pooled rates
    are shared, so their error moves every period alike and cancels in a difference.
    """
    y, f = ctx.pool_y, ctx.pool_f
    mu1, mu0, npos, nneg = _pooled(y, f)
    d = mu1 - mu0
    n_all, k = ctx.scores.shape
    T = len(ctx.periods)
    est = np.full((T, k), np.nan)
    psi = np.zeros((T, n_all, k))  # influence of every comment on each period's estimate
    with np.errstate(invalid="ignore", divide="ignore"):
        for t, rows in enumerate(ctx.rows):
            if not len(rows) or ctx.census[t]:
                continue
            # a simple random audit within the period: its checked comments count with their codes,
            # the others are estimated (their share of the period weighs the estimate's error)
            ra, ru = (rows[ctx.checked[rows]], rows[~ctx.checked[rows]]) if ctx.srs[t] else (rows[:0], rows)
            share = len(ru) / len(rows)
            ft = ctx.scores[ru]
            m = ft.mean(0)
            pi = (m - mu0) / d
            ya = ctx.labels[ra]
            est[t] = (ya.sum(0) + len(ru) * pi) / len(rows)
            psi[t, ra] += (ya - est[t]) / len(rows)
            psi[t, ru] += (ft - m) / (len(rows) * d)
            psi[t, ctx.pool_rows] += share * ((-pi / d) * y * (f - mu1) / np.maximum(npos, 1) +
                                              ((pi - 1) / d) * (1 - y) * (f - mu0) / np.maximum(nneg, 1))
    psi = np.nan_to_num(psi)
    if ctx.cluster is not None:
        codes = np.unique(ctx.cluster, return_inverse=True)[1]
        sums = np.zeros((T, codes.max() + 1, k))
        for t in range(T):
            np.add.at(sums[t], codes, psi[t])
    else:
        sums = psi
    g = sums.shape[1]
    cov = np.einsum("tgk,sgk->kts", sums, sums) * (g / (g - 1) if g > 1 else 1.0)
    return est, cov


def _platt(y: np.ndarray, f: np.ndarray, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Logistic (Platt) calibration of logit(score) per theme on the pooled audit, all themes at once.

    Newton-Raphson with a small ridge on the slope and intercept (0.01), which keeps the fit
    finite when a theme is perfectly separated; checked against scikit-learn in the tests.
    """
    z = np.log(np.clip(f, 1e-4, 1 - 1e-4) / (1 - np.clip(f, 1e-4, 1 - 1e-4)))
    a, b = np.ones(f.shape[1]), np.zeros(f.shape[1])
    ridge = 0.01
    for _ in range(iters):
        p = expit(a * z + b)
        r, v = y - p, p * (1 - p)
        g1, g2 = (r * z).sum(0) - ridge * (a - 1), r.sum(0) - ridge * b
        h11, h12, h22 = (v * z * z).sum(0) + ridge, (v * z).sum(0), v.sum(0) + ridge
        det = h11 * h22 - h12 * h12
        da, db = (h22 * g1 - h12 * g2) / det, (h11 * g2 - h12 * g1) / det
        a, b = a + da, b + db
        if max(np.abs(da).max(initial=0), np.abs(db).max(initial=0)) < 1e-8:
            break
    return a, b


def _em_all(prior: np.ndarray, post: np.ndarray, iters: int = 50) -> np.ndarray:
    """The fixed point of Saerens-Latinne-Decaestecker EM (QuaPy's ``EMQ.EM``) for every theme at once.

    EM climbs the likelihood ``sum log(q r + (1 - q) s)`` with ``r = p / prior`` and
    ``s = (1 - p) / (1 - prior)``, which is concave in ``q``; its maximum on [0, 1] is found here
    by bisection on the derivative (50 halvings), much faster than EM near 0.
    """
    r, s = post / prior, (1 - post) / (1 - prior)
    diff = r - s

    def grad(q: np.ndarray) -> np.ndarray:
        return (diff / (q * r + (1 - q) * s)).sum(0)

    lo, hi = np.zeros(post.shape[1]), np.ones(post.shape[1])
    for _ in range(iters):
        mid = (lo + hi) / 2
        up = grad(mid) > 0
        lo, hi = np.where(up, mid, lo), np.where(up, hi, mid)
    q = (lo + hi) / 2
    q = np.where(grad(np.zeros_like(q)) <= 0, 0.0, q)
    return np.where(grad(np.ones_like(q)) >= 0, 1.0, q)


def _emq_point(y: np.ndarray, f: np.ndarray, period_scores: list[np.ndarray | None], *,
               exact: bool = False) -> np.ndarray:
    """EMQ per period: Platt-calibrated scores re-weighted by EM from the pooled audit's prior.

    ``exact``: run QuaPy's ``EMQ.EM`` theme by theme (the reported estimate); otherwise the
    vectorised equivalent (bootstrap replicates).
    """
    a, b = _platt(y, f)
    prior = np.clip(y.mean(0), _EPS, 1 - _EPS)
    out = np.full((len(period_scores), f.shape[1]), np.nan)
    for t, s in enumerate(period_scores):
        if s is None or not len(s):
            continue
        z = np.log(np.clip(s, 1e-4, 1 - 1e-4) / (1 - np.clip(s, 1e-4, 1 - 1e-4)))
        p = np.clip(expit(a * z + b), _EPS, 1 - _EPS)
        if not exact:
            out[t] = _em_all(prior, p)
            continue
        from quapy.method.aggregative import EMQ

        for j in range(f.shape[1]):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                prev, _ = EMQ.EM(np.array([1 - prior[j], prior[j]]), np.column_stack([1 - p[:, j], p[:, j]]))
            out[t, j] = prev[1]
    return out


def _emq(ctx: "_Context", n_boot: int, rng: np.random.Generator, z: float) -> tuple[np.ndarray, ...]:
    """EMQ per period; percentile interval from a (cluster) bootstrap of the pooled audit and comments."""
    T = len(ctx.periods)
    live = [t for t in range(T) if len(ctx.rows[t]) and not ctx.census[t]]
    scores = [ctx.scores[ctx.rows[t]] if t in live else None for t in range(T)]
    est = _emq_point(ctx.pool_y, ctx.pool_f, scores, exact=True)
    n_all = len(ctx.scores)
    if ctx.cluster is not None:
        inv = np.unique(ctx.cluster, return_inverse=True)[1]
        n_groups = inv.max() + 1
    else:
        inv, n_groups = np.arange(n_all), n_all
    pool_pos = np.full(n_all, -1)
    pool_pos[ctx.pool_rows] = np.arange(len(ctx.pool_rows))
    reps = np.full((n_boot, *est.shape), np.nan)
    for bi in range(n_boot):
        counts = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)[inv]
        prow = np.repeat(ctx.pool_rows, counts[ctx.pool_rows])
        if not len(prow):
            continue
        bs = [ctx.scores[np.repeat(ctx.rows[t], counts[ctx.rows[t]])] if t in live else None for t in range(T)]
        reps[bi] = _emq_point(ctx.pool_y[pool_pos[prow]], ctx.scores[prow], bs)
    a = 2 * stats.norm.sf(z)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        lo, hi = np.nanquantile(reps, [a / 2, 1 - a / 2], axis=0)
        centred = np.nan_to_num(reps - np.nanmean(reps, axis=0))
        cov = np.einsum("btk,bsk->kts", centred, centred) / max(n_boot - 1, 1)
    return est, lo, hi, cov


@dataclass
class _Context:
    scores: np.ndarray
    periods: list[Any]
    rows: list[np.ndarray]
    census: np.ndarray
    cluster: np.ndarray | None
    pool_rows: np.ndarray
    pool_y: np.ndarray
    pool_f: np.ndarray
    checked: np.ndarray
    labels: np.ndarray
    srs: np.ndarray  # per period: the checked comments are a simple random sample (one inclusion probability)


def _check_rows(s: np.ndarray, lab: np.ndarray, inclusion_probability: Any, at: np.ndarray) -> np.ndarray:
    """The inclusion probabilities (1 when None), after checking that every score is present and
    every checked row's probability is in (0, 1]; ``at[i]`` is row i's 0-based position in the
    caller's arrays (messages count rows from 1)."""
    if np.isnan(s).any():
        r, c = np.argwhere(np.isnan(s))[0]
        raise ThemeassistError(f"audit_estimate: score missing at row {int(at[r]) + 1}, column {c + 1}; every "
                               "comment needs a score.")  # fmt: skip
    incl = np.ones(len(s)) if inclusion_probability is None else np.asarray(inclusion_probability, dtype=float)
    bad = ~np.isnan(lab).any(1) & ~((incl > 0) & (incl <= 1))
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise ThemeassistError(f"audit_estimate: inclusion_probability of checked row {int(at[i]) + 1} is {incl[i]!r}; "
                               "it must be in (0, 1] (the probability that the comment was drawn into the audit).")
    return incl


def audit_estimate(scores: Any, labels: Any, period: Any, *, periods: list[Any] | None = None,
                   inclusion_probability: Any = None, cluster: Any = None, method: str = DEFAULT_AUDIT_METHOD,
                   confidence: float = 0.95, n_boot: int = 200, random_state: int | None = 0,
                   pool_census: bool = False, known: Any = None, known_random: bool | None = None) -> AuditEstimate:
    """Audit-corrected prevalence of each theme in each period.

    Parameters
    ----------
    scores : array (n, k)
        Machine scores in [0, 1] of every comment to count, one column per theme.
    labels : array (n, k)
        Audit codes (0/1) of the checked comments; rows of unchecked comments are NaN.
    period : array (n,)
        Period of each comment.
    periods : list, optional
        The periods to estimate, in order (default: the distinct values, sorted).
    inclusion_probability : array (n,), optional
        Probability with which each checked comment was drawn into the audit (rows of unchecked
        comments are ignored); ``ppi`` weights checked comments by its inverse within a period.
    cluster : array (n,), optional
        Respondent id per comment: influence values (``ppi``, ``pacc``) or bootstrap draws
        (``emq``) are taken per respondent.
    method : {"ppi", "pacc", "emq"}
        See the module docstring.
    confidence : float
        Interval level.
    n_boot, random_state : int
        Bootstrap replicates and seed (``emq``).
    pool_census : bool
        Also pool the checked comments of fully checked periods into the error rates of ``pacc``
        and ``emq``. Off by default: the comments of a period coded by hand are often the
        classifier's training examples, whose scores are in-sample; switch it on when their
        scores are out of sample (e.g. cross-validated scores of the examples).
    known : array (n, k), optional
        0/1 codes of comments coded *outside* the audit (e.g. the mapper's coded examples, which
        ``themeassist suggest`` marks in ``example_codes``); rows of other comments are NaN. They
        count as coded and only the rest of each period is estimated: the period's estimate is
        ``(K * known share + (N - K) * estimate of the rest) / N`` with the interval and covariance
        of the rest scaled by ``(N - K) / N``. Their scores are never used (an example's score is
        in-sample) and they are not part of the audit's random sample (a row both known and
        checked counts as known). A period whose comments are all known is a census.
    known_random : bool, optional
        The known comments are a random sample of their period (coded examples drawn at random):
        their share of a theme then also estimates the share among the rest, independently of
        the audit, and the two estimates of the rest are combined by their inverse variances
        (the interval narrows with the number of known comments). Default: True unless their
        codes differ from the audit's beyond chance (``known_random_p`` below
        :data:`themeassist.drift.KNOWN_RANDOM_ALPHA`); False: only counted, as above.

    Returns
    -------
    AuditEstimate

    Notes
    -----
    Longer than 80 lines on purpose: input checks, the census/PPI pass over the periods and the
    pooled-method overlay share their index bookkeeping; split up they would pass it all around.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random((2000, 1)) < np.repeat([0.1, 0.3], 1000)[:, None]).astype(float)
    >>> s = np.clip(0.5 * y + rng.normal(0.2, 0.1, y.shape), 0, 1)
    >>> lab = np.full(y.shape, np.nan)
    >>> audit = np.r_[0:100, 1000:1100]
    >>> lab[audit] = y[audit]
    >>> r = audit_estimate(s, lab, np.repeat(["a", "b"], 1000), method="pacc")
    >>> bool(abs(r.prevalence[0, 0] - 0.1) < 0.05 and abs(r.prevalence[1, 0] - 0.3) < 0.05)
    True
    """
    check_param("method", method, owner="audit_estimate", options=AUDIT_METHODS)
    check_param("confidence", confidence, owner="audit_estimate", between=(0.5, 0.999999))
    s = np.asarray(scores, dtype=float)
    lab = np.asarray(labels, dtype=float)
    if s.ndim != 2 or lab.shape != s.shape:
        raise ThemeassistError(f"audit_estimate: scores {s.shape} and labels {lab.shape} must be 2-D arrays of the "
                               "same shape (comments x themes).")
    if known is not None:
        from themeassist.drift._known import with_known

        return with_known(s, lab, period, np.asarray(known, dtype=float), periods=periods,
                           inclusion_probability=inclusion_probability, cluster=cluster, method=method,
                           confidence=confidence, n_boot=n_boot, random_state=random_state, pool_census=pool_census,
                           known_random=known_random)
    incl = _check_rows(s, lab, inclusion_probability, np.arange(len(s)))
    per = np.asarray(period, dtype=object)
    if periods is None:
        periods = _period_order(per)
    checked = ~np.isnan(lab).any(1)
    cl = None if cluster is None else np.asarray(cluster, dtype=object).astype(str)
    rows = [np.flatnonzero(per == p) for p in periods]
    census = np.array([len(r) > 0 and bool(checked[r].all()) for r in rows])
    # few audited respondents: a t reference with their number less one (small-sample correction);
    # ppi leans on each period's own audit, so on the smallest of them
    df = float("inf")
    if cl is not None:
        groups = [len(set(cl[r[checked[r]]].tolist())) for r, c in zip(rows, census) if not c and checked[r].any()]
        g = min(groups) if method == "ppi" and groups else len(set(cl[checked].tolist()))
        df = float(max(g - 1, 1))
    z = _quantile(confidence, df)
    listed = np.isin(per, np.array(list(periods), dtype=object))
    outside = np.flatnonzero(checked & ~listed)  # checked comments of no listed period: pooled only
    pool_rows = np.concatenate([r[checked[r]] for r, c in zip(rows, census) if pool_census or not c] + [outside])
    srs = np.array([bool(checked[r].any()) and bool(np.ptp(incl[r[checked[r]]]) <= 1e-9) for r in rows])
    ctx = _Context(s, list(periods), rows, census, cl, pool_rows, lab[pool_rows] if len(pool_rows) else
                   np.zeros((0, s.shape[1])), s[pool_rows], checked, np.nan_to_num(lab), srs)
    k, T = s.shape[1], len(periods)
    est, lo, hi, se = (np.full((T, k), np.nan) for _ in range(4))
    cov = np.zeros((k, T, T))
    n_checked = np.array([int(checked[r].sum()) for r in rows])
    n_checked_theme = np.array([lab[r[checked[r]]].sum(0) if len(r) else np.zeros(k) for r in rows])
    npos = ctx.pool_y.sum(0) if len(pool_rows) else np.zeros(k)
    fallback = np.zeros(k, bool) if method == "ppi" else (npos < MIN_POOLED_POSITIVES) | ~_separates(ctx, z)
    use = np.zeros((T, k), bool)
    if method != "ppi" and len(pool_rows):
        if method == "pacc":
            e2, cov2 = _pacc(ctx)
            se2 = np.sqrt(np.einsum("ktt->tk", cov2))
            lo2, hi2 = e2 - z * se2, e2 + z * se2
        else:
            e2, lo2, hi2, cov2 = _emq(ctx, n_boot, np.random.default_rng(random_state), z)
            se2 = np.sqrt(np.einsum("ktt->tk", cov2))
        use = ~fallback[None, :] & ~census[:, None] & np.isfinite(e2) & np.isfinite(se2)
        est, lo, hi, se = (np.where(use, new, old) for new, old in ((e2, est), (lo2, lo), (hi2, hi), (se2, se)))
        for j in range(k):  # covariance between the periods both estimated from the pooled rates
            live = np.flatnonzero(use[:, j])
            cov[j][np.ix_(live, live)] = cov2[j][np.ix_(live, live)]
    for t, r in enumerate(rows):  # census, or ppi: the answer of "ppi", the fallback of the others
        if not len(r) or use[t].all():
            continue
        ra, ru = r[checked[r]], r[~checked[r]]
        if census[t]:
            cell = _census(lab[ra], None if cl is None else cl[ra], z)
        elif len(ra) == 0:
            cell = (s[ru].mean(0), np.zeros(k), np.ones(k), np.full(k, 0.5))
        else:
            cell = _ppi_cell(lab[ra], s[ra], 1 / incl[ra], s[ru], z, None if cl is None else cl[ra],
                             None if cl is None else cl[ru])
        for arr, val in zip((est, lo, hi, se), cell):
            arr[t] = np.where(use[t], arr[t], val)
    for j in range(k):
        np.fill_diagonal(cov[j], np.where(np.isfinite(se[:, j]), se[:, j] ** 2, np.nan))
    # an estimate outside [0, 1] is moved to the boundary, and its interval with it: the interval
    # keeps its width instead of collapsing to [0, 0] when it lies wholly below 0
    shift = np.clip(est, 0.0, 1.0) - est
    shift = np.where(np.isfinite(shift), shift, 0.0)
    est = np.clip(est, 0.0, 1.0)
    lo = np.clip(np.minimum(lo + shift, est), 0.0, 1.0)
    hi = np.clip(np.maximum(hi + shift, est), 0.0, 1.0)
    return AuditEstimate(est, lo, hi, se, cov, n_checked, n_checked_theme, census, fallback, method, df)

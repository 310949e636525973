"""Statistics behind :mod:`themeassist.drift`: Wilson intervals, tests for change, effect sizes, flags,
the counts of comments scoring a theme high."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats



#: Estimates and interval ends within this of 0 or 1 are written as 0 or 1 (floating-point residue).
SNAP = 1e-12


def snap_unit(*arrays: Any) -> None:
    """Set, in place, the float values of ``arrays`` within :data:`SNAP` of 0 or 1 to exactly 0 or 1.

    Examples
    --------
    >>> a = np.array([2.6e-20, 0.3, 1 - 1e-16])
    >>> snap_unit(a); a.tolist()
    [0.0, 0.3, 1.0]
    """
    for a in arrays:
        if isinstance(a, np.ndarray) and a.dtype.kind == "f" and a.flags.writeable:
            a[np.abs(a) < SNAP] = 0.0
            a[np.abs(a - 1.0) < SNAP] = 1.0


def cluster_variance(psi: np.ndarray, cluster: np.ndarray | None) -> np.ndarray:
    """Sandwich variance of a sum of influence values ``psi`` (n, k), summed within clusters.

    ``sum_g (sum_{i in g} psi_i)^2 * G / (G - 1)`` over the ``G`` clusters (each row its own
    cluster when ``cluster`` is None).

    Examples
    --------
    >>> psi = np.array([[1.0], [-1.0], [2.0], [-2.0]])
    >>> cluster_variance(psi, None).tolist(), cluster_variance(psi, np.array([1, 1, 2, 2])).tolist()
    ([13.333333333333332], [0.0])
    """
    if cluster is not None:
        codes = np.unique(cluster, return_inverse=True)[1]
        sums = np.zeros((codes.max() + 1 if len(codes) else 0, psi.shape[1]))
        np.add.at(sums, codes, psi)
    else:
        sums = psi
    g = len(sums)
    return (sums ** 2).sum(0) * (g / (g - 1) if g > 1 else 1.0)


def wilson_interval(k: Any, n: Any, confidence: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for a binomial proportion ``k / n`` (vectorised).

    Examples
    --------
    >>> lo, hi = wilson_interval(3, 10)
    >>> round(float(lo), 4), round(float(hi), 4)
    (0.1078, 0.6032)
    """
    k, n = np.asarray(k, dtype=float), np.asarray(n, dtype=float)
    z = stats.norm.ppf(0.5 + confidence / 2)
    with np.errstate(invalid="ignore", divide="ignore"):
        p = k / n
        den = 1 + z * z / n
        centre = (p + z * z / (2 * n)) / den
        half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den
        lo, hi = np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)
    lo = np.where(k <= 0, 0.0, lo)
    hi = np.where(k >= n, 1.0, hi)
    return np.where(n > 0, lo, np.nan), np.where(n > 0, hi, np.nan)


def _state(n_theme: float, ci_low: float, ci_high: float, n: int, min_count: float, min_prev: float,
           absent_prev: float, estimated: bool = False) -> str:
    """present / absent / unclear under the minimum-evidence rule (see :func:`changes`)."""
    if n <= 0 or np.isnan(n_theme):
        return "no_data"
    if n_theme >= min_count and ci_low > min_prev:
        return "present"
    if n_theme < 0.5 or ci_high < absent_prev:
        return "absent"
    if estimated and n_theme / n < min_prev and ci_low <= 0:
        return "absent"
    return "unclear"


def _se(row: pd.Series, z: float) -> float:
    """Standard error of a model-based estimate from its interval (floored by a binomial one)."""
    n = max(float(row["n_comments"]), 1.0)
    floor = math.sqrt(max(row["prevalence"], 1.0 / n) * (1 - min(row["prevalence"], 0.5)) / n)
    return max((row["ci_high"] - row["ci_low"]) / (2 * z), floor)


def _two_sided(zval: float, df: float = math.inf) -> float:
    """Two-sided p-value of a Wald statistic: normal, or Student's t with ``df`` degrees of freedom."""
    return float(2 * (stats.norm.sf(abs(zval)) if not math.isfinite(df) else stats.t.sf(abs(zval), df)))


def _pair_test(k1: float, n1: float, k2: float, n2: float, counts: bool, se1: float, se2: float,
               se_diff: float | None = None, df: float = math.inf) -> tuple[str, float, float]:
    p1, p2 = k1 / n1, k2 / n2
    if not counts:
        se = math.hypot(se1, se2) if se_diff is None else se_diff
        zval = (p2 - p1) / se if se > 0 else 0.0
        return ("wald_z" if not math.isfinite(df) else "wald_t"), zval, _two_sided(zval, df)
    pool = (k1 + k2) / (n1 + n2)
    if min(n1 * pool, n2 * pool, n1 * (1 - pool), n2 * (1 - pool)) < 5:
        table = [[int(round(k1)), int(round(n1 - k1))], [int(round(k2)), int(round(n2 - k2))]]
        odds, pval = stats.fisher_exact(table)
        return "fisher_exact", float(odds), float(pval)
    se = math.sqrt(pool * (1 - pool) * (1 / n1 + 1 / n2))
    zval = (p2 - p1) / se if se > 0 else 0.0
    return "two_proportion_z", zval, float(2 * stats.norm.sf(abs(zval)))


def _trend_test(k: np.ndarray, n: np.ndarray, counts: bool, se: np.ndarray,
                cov: np.ndarray | None = None, df: float = math.inf) -> tuple[str, float, float, float]:
    """Cochran-Armitage (counts), weighted least squares z (estimates) or, with the estimates'
    covariance, generalised least squares z, on the period index.

    Estimates: each period's variance is floored at a binomial census's under "no trend",
    ``pbar * (1 - pbar) / n`` with ``pbar`` the pooled prevalence (no estimate from ``n`` comments
    is surer than counting them all). Without the floor, a period estimated at 0 with a near-zero
    variance outweighs every other period and makes a flat series look like a trend.
    """
    x = np.arange(len(n), dtype=float)
    p = k / n
    if not counts:
        pbar = float(np.clip(k.sum() / n.sum(), 0.0, 1.0)) if n.sum() > 0 else 0.0
        floor = pbar * (1 - pbar) / np.maximum(n, 1.0)
        se = np.sqrt(np.maximum(se ** 2, floor))
        if cov is not None:
            cov = cov + np.diag(np.maximum(floor - np.diag(cov), 0.0))
    if counts:
        pbar = k.sum() / n.sum()
        xbar = (n * x).sum() / n.sum()
        slope = float((n * (x - xbar) * (p - pbar)).sum() / (n * (x - xbar) ** 2).sum())
        var = pbar * (1 - pbar) * ((n * x * x).sum() - (n * x).sum() ** 2 / n.sum())
        if var <= 0:
            return "cochran_armitage", 0.0, 1.0, slope
        zval = float((x * (k - n * pbar)).sum() / math.sqrt(var))
        return "cochran_armitage", zval, float(2 * stats.norm.sf(abs(zval))), slope
    if cov is not None:
        X = np.column_stack([np.ones_like(x), x])
        try:
            Vi = np.linalg.inv(cov + np.eye(len(x)) * 1e-12)
            A = np.linalg.inv(X.T @ Vi @ X)
        except np.linalg.LinAlgError:
            A = None
        if A is not None and A[1, 1] > 0:
            slope = float((A @ X.T @ Vi @ p)[1])
            zval = slope / math.sqrt(A[1, 1])
            return ("gls_z" if not math.isfinite(df) else "gls_t"), float(zval), _two_sided(zval, df), slope
    w = 1 / np.maximum(se, 1e-9) ** 2
    xbar = (w * x).sum() / w.sum()
    sxx = (w * (x - xbar) ** 2).sum()
    slope = float((w * (x - xbar) * (p - (w * p).sum() / w.sum())).sum() / sxx)
    zval = slope / math.sqrt(1 / sxx)
    return "wls_z", float(zval), float(2 * stats.norm.sf(abs(zval))), slope


def _effects(p1: float, p2: float, k1: float, n1: int, k2: float, n2: int) -> tuple[float, float, float]:
    diff = 100 * (p2 - p1)
    if k1 > 0 and k2 > 0:
        rr = p2 / p1
    else:  # Haldane-Anscombe correction for a zero count
        rr = ((k2 + 0.5) / (n2 + 0.5)) / ((k1 + 0.5) / (n1 + 0.5))
    h = 2 * math.asin(math.sqrt(min(max(p2, 0), 1))) - 2 * math.asin(math.sqrt(min(max(p1, 0), 1)))
    return diff, rr, h


def _flags(states: list[str], seen: Any = None) -> list[str]:
    """Flag per period: appears / vanishes / returns, judged against the previous determinate state.
    ``seen`` (estimates): periods where coded comments show the theme although its state is not
    present; a theme seen before it was absent *returns*."""
    out, seen_present, last = [], False, None
    for i, st in enumerate(states):
        flag = ""
        if st == "present":
            if last == "absent":
                flag = "returns" if seen_present else "appears"
            seen_present = True
        elif seen is not None and seen[i] and st != "absent":
            seen_present = True
        elif st == "absent" and last == "present":
            flag = "vanishes"
        if st in ("present", "absent"):
            last = st
        out.append(flag)
    return out


#: The score at which a comment counts as scoring a theme high (``n_scored_high``): more likely than not.
HIGH_SCORE = 0.5


def high_score_counts(mat: np.ndarray, scored: np.ndarray, per: np.ndarray, order: list[Any],
                      resp: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Per period (rows of ``order``) and theme: the scored comments and those scoring the theme at
    least :data:`HIGH_SCORE` (see :func:`themeassist.drift.audit_prevalence`); by respondent where
    one has several."""
    n_sc, n_hi = np.zeros((len(order), mat.shape[1])), np.zeros((len(order), mat.shape[1]))
    for t, p in enumerate(order):
        rows = np.flatnonzero(scored & (per == p))
        hi = mat[rows] >= HIGH_SCORE
        if resp is not None and len(rows) and pd.Series(resp[rows]).duplicated().any():
            codes = pd.factorize(pd.Series(resp[rows], dtype=object))[0]
            any_hi = np.zeros((codes.max() + 1, mat.shape[1]), bool)
            np.logical_or.at(any_hi, codes, hi)
            n_sc[t], n_hi[t] = codes.max() + 1, any_hi.sum(0)
        else:
            n_sc[t], n_hi[t] = len(rows), hi.sum(0)
    return n_sc, n_hi

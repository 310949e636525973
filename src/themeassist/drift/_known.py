"""Audit-corrected estimates with comments coded outside the audit (``known`` of
:func:`themeassist.drift.audit_estimate`, e.g. the coded examples of a suggestions file): the
rest of each period is estimated, the known comments are counted, and the two are combined by
their shares of the period."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from themeassist.drift._codes import _period_order
from themeassist.drift.quantification import (
    AuditEstimate,
    _census,
    _check_rows,
    _quantile,
    audit_estimate,
    cluster_variance,
)
from themeassist.exceptions import ThemeassistError

__all__ = ["KNOWN_RANDOM_ALPHA", "known_sample_p", "with_known"]

#: Below this permutation p-value the known comments' codes differ from the audit's beyond chance:
#: they are taken for comments picked by hand, not a random sample. The two errors cost unlike: a
#: random sample taken for a hand-picked one only loses the flags' extra counts, a hand-picked one
#: taken for random makes false flags; hence 0.05, not 0.01 (set after seeing napire2018's
#: hand-picked examples give p = 0.002-0.011, benchmarks/RESULTS.md).
KNOWN_RANDOM_ALPHA = 0.05
#: Known comments per period that take part in :func:`known_sample_p` (a random subset beyond it).
_MAX_KNOWN = 5000


def with_known(s: np.ndarray, lab: np.ndarray, period: Any, kn: np.ndarray, *, periods: list[Any] | None,
                inclusion_probability: Any, cluster: Any, known_random: bool | None = None,
                **kw: Any) -> AuditEstimate:
    """:func:`audit_estimate` with comments coded outside the audit (``known``): the rest of each
    period estimated, the known comments counted, the two combined by their shares. Known comments
    drawn at random (``known_random``; by default unless :func:`known_sample_p` rejects it) also
    estimate the rest's shares (:func:`_pool_known`)."""
    if kn.shape != s.shape:
        raise ThemeassistError(f"audit_estimate: known {kn.shape} must have the shape of scores {s.shape} (NaN rows "
                               "for comments not coded outside the audit).")
    is_known = ~np.isnan(kn).any(1)
    bad = is_known & ~np.isin(kn, (0.0, 1.0)).all(1)
    if bad.any():
        raise ThemeassistError(f"audit_estimate: known codes of row {int(np.flatnonzero(bad)[0]) + 1} are not 0/1.")
    per = np.asarray(period, dtype=object)
    if periods is None:
        periods = _period_order(per)
    rest = ~is_known
    incl = None if inclusion_probability is None else np.asarray(inclusion_probability, dtype=float)[rest]
    _check_rows(s[rest], lab[rest], incl, np.flatnonzero(rest))  # rows named as the caller numbers them
    cl = None if cluster is None else np.asarray(cluster, dtype=object).astype(str)
    r = audit_estimate(s[rest], lab[rest], per[rest], periods=periods, inclusion_probability=incl,
                       cluster=None if cl is None else cl[rest], known=None, **kw)
    T, k = r.prevalence.shape
    n_all = np.array([int((per == p).sum()) for p in periods], dtype=float)
    n_known = np.array([int((is_known & (per == p)).sum()) for p in periods])
    known_pos = np.array([kn[is_known & (per == p)].sum(0) for p in periods]).reshape(T, k)
    p_random = known_sample_p(kn, lab, per, random_state=kw.get("random_state", 0))
    if known_random is None:
        known_random = not (p_random < KNOWN_RANDOM_ALPHA)
    z = _quantile(kw.get("confidence", 0.95), r.df)
    parts = (r.prevalence, r.ci_low, r.ci_high, r.se, r.cov)  # of the rest of each period
    if known_random:
        parts = _pool_known(r, kn, is_known, per, periods, n_all - n_known, cl, z)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(n_all > 0, (n_all - n_known) / n_all, 1.0)
        base = np.where(n_all[:, None] > 0, known_pos / n_all[:, None], 0.0)
    est, lo, hi = (base + w[:, None] * a for a in parts[:3])
    se = w[:, None] * parts[3]
    cov = parts[4] * (w[:, None] * w[None, :])[None, :, :]
    census = r.census.copy()
    for t, p in enumerate(periods):
        if n_known[t] and n_known[t] == n_all[t]:  # every comment of the period coded: a census
            rows = np.flatnonzero(per == p)
            cell = _census(kn[rows], None if cl is None else cl[rows], z)
            for arr, val in zip((est, lo, hi, se), cell):
                arr[t] = val
            cov[:, t, :] = cov[:, :, t] = 0.0
            cov[:, t, t] = cell[3] ** 2
            census[t] = True
    return AuditEstimate(est, lo, hi, se, cov, r.n_checked, r.n_checked_theme, census, r.fallback, r.method, r.df,
                         n_known, known_pos, p_random, bool(known_random))


def _pool_known(r: AuditEstimate, kn: np.ndarray, is_known: np.ndarray, per: np.ndarray, periods: list[Any],
                n_rest: np.ndarray, cl: np.ndarray | None, z: float) -> tuple[np.ndarray, ...]:
    """The rest of each period estimated twice, independently: by the audit-corrected estimate
    ``r`` (the rest's comments and the audit) and by the known comments' share (a random sample
    of the period; its error against the rest's share is that of a difference of two samples,
    ``p (1 - p) (1 / K + 1 / (N - K))``, cluster-robust over respondents, with the add-one share so
    that a theme no known comment holds keeps a width). Combined by inverse variances; the
    interval is normal around the combination, inside [0, 1]; between periods only the audit
    estimate's part covaries (the known samples of two periods are different comments).
    Returns the rest's estimate, interval, standard error and covariance."""
    T, k = r.prevalence.shape
    est, lo, hi, se = r.prevalence.copy(), r.ci_low.copy(), r.ci_high.copy(), r.se.copy()
    weight = np.ones((T, k))  # of the audit estimate
    for t, p in enumerate(periods):
        rows = np.flatnonzero(is_known & (per == p))
        K = len(rows)
        if not K or n_rest[t] <= 0 or r.census[t]:
            continue
        y = kn[rows]
        share = y.mean(0)
        add_one = (y.sum(0) + 1) / (K + 2)
        v_known = np.maximum(cluster_variance((y - share) / K, None if cl is None else cl[rows]),
                             add_one * (1 - add_one) / K) + add_one * (1 - add_one) / n_rest[t]
        v_audit = r.cov[:, t, t]
        w = np.where(v_audit > 0, v_known / (v_audit + v_known), 1.0)
        weight[t] = w
        est[t] = w * r.prevalence[t] + (1 - w) * share
        se[t] = np.sqrt(np.where(v_audit > 0, v_audit * v_known / (v_audit + v_known), v_audit))
        lo[t], hi[t] = np.clip(est[t] - z * se[t], 0.0, 1.0), np.clip(est[t] + z * se[t], 0.0, 1.0)
    cov = r.cov * (weight.T[:, :, None] * weight.T[:, None, :])
    for t in range(T):
        cov[:, t, t] = se[t] ** 2
    return est, lo, hi, se, cov


def known_sample_p(known: np.ndarray, labels: np.ndarray, period: Any, *, n_perm: int = 999,
                   random_state: int | None = 0) -> float:
    """Permutation p-value of "the known comments are a random sample of their period", tested
    against the audit's checked comments (a random sample of the other comments), period by period.

    In each period with both, every theme's share among the known comments is compared with its
    share among the checked ones (a squared z with the pooled share); the sum over themes and
    periods is referred to its distribution when the known/checked split is shuffled within each
    period. Coded examples drawn at random pass it; examples picked a few per theme (rare themes
    over-represented) do not. NaN when no period has both. At most ``_MAX_KNOWN`` known comments
    per period take part (a random subset of a random sample is one), so that 300,000 comments
    cost seconds, not gigabytes.
    """
    per = np.asarray(period, dtype=object)
    is_known = ~np.isnan(known).any(1)
    is_checked = ~np.isnan(labels).any(1) & ~is_known
    rng = np.random.default_rng(random_state)
    obs, perm, used = 0.0, np.zeros(n_perm), False
    for p in pd.unique(per):
        kn, ch = np.flatnonzero(is_known & (per == p)), np.flatnonzero(is_checked & (per == p))
        if len(kn) > _MAX_KNOWN:
            kn = np.sort(rng.choice(kn, _MAX_KNOWN, replace=False))
        nk, nc = len(kn), len(ch)
        if not nk or not nc:
            continue
        Y = np.vstack([known[kn], labels[ch]])
        share = Y.mean(0)
        live = (share > 0) & (share < 1)
        if not live.any():
            continue
        Y, used = Y[:, live], True
        g = np.r_[np.ones(nk), np.zeros(nc)]
        obs += float(_split_stat(g[None, :], Y, nk, nc)[0])
        for a in range(0, n_perm, 100):  # in batches: a (batch, comments) split matrix at a time
            b = min(a + 100, n_perm)
            perm[a:b] += _split_stat(np.array([rng.permutation(g) for _ in range(b - a)]), Y, nk, nc)
    if not used:
        return float("nan")
    return float((1 + (perm >= obs - 1e-9).sum()) / (n_perm + 1))


def _split_stat(in_known: np.ndarray, Y: np.ndarray, nk: int, nc: int) -> np.ndarray:
    """Sum over themes of the squared z of known-vs-checked shares, for each row of ``in_known``
    (a 0/1 split of the rows of ``Y``)."""
    share = Y.mean(0)
    sk = in_known @ Y  # (splits, themes): positives among the comments labelled known
    return (((sk / nk - (Y.sum(0) - sk) / nc) ** 2) / (share * (1 - share) * (1 / nk + 1 / nc))).sum(-1)

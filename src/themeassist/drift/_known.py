"""Audit-corrected estimates with comments coded outside the audit (``known`` of
:func:`themeassist.drift.audit_estimate`, e.g. the coded examples of a suggestions file): the
rest of each period is estimated, the known comments are counted, and the two are combined by
their shares of the period."""

from __future__ import annotations

from typing import Any

import numpy as np

from themeassist.drift.quantification import (
    AuditEstimate,
    _census,
    _quantile,
    audit_estimate,
)
from themeassist.exceptions import ThemeassistError

__all__ = ["with_known"]


def with_known(s: np.ndarray, lab: np.ndarray, period: Any, kn: np.ndarray, *, periods: list[Any] | None,
                inclusion_probability: Any, cluster: Any, **kw: Any) -> AuditEstimate:
    """:func:`audit_estimate` with comments coded outside the audit (``known``): the rest of each
    period estimated, the known comments counted, the two combined by their shares."""
    if kn.shape != s.shape:
        raise ThemeassistError(f"audit_estimate: known {kn.shape} must have the shape of scores {s.shape} (NaN rows "
                               "for comments not coded outside the audit).")
    is_known = ~np.isnan(kn).any(1)
    bad = is_known & ~np.isin(kn, (0.0, 1.0)).all(1)
    if bad.any():
        raise ThemeassistError(f"audit_estimate: known codes of row {int(np.flatnonzero(bad)[0])} are not 0/1.")
    per = np.asarray(period, dtype=object)
    if periods is None:
        periods = sorted(set(per.tolist()), key=str)
    rest = ~is_known
    incl = None if inclusion_probability is None else np.asarray(inclusion_probability, dtype=float)[rest]
    cl = None if cluster is None else np.asarray(cluster, dtype=object).astype(str)
    r = audit_estimate(s[rest], lab[rest], per[rest], periods=periods, inclusion_probability=incl,
                       cluster=None if cl is None else cl[rest], known=None, **kw)
    T, k = r.prevalence.shape
    n_all = np.array([int((per == p).sum()) for p in periods], dtype=float)
    n_known = np.array([int((is_known & (per == p)).sum()) for p in periods])
    known_pos = np.array([kn[is_known & (per == p)].sum(0) for p in periods]).reshape(T, k)
    with np.errstate(invalid="ignore", divide="ignore"):
        w = np.where(n_all > 0, (n_all - n_known) / n_all, 1.0)
        base = np.where(n_all[:, None] > 0, known_pos / n_all[:, None], 0.0)
    est, lo, hi = (base + w[:, None] * a for a in (r.prevalence, r.ci_low, r.ci_high))
    se = w[:, None] * r.se
    cov = r.cov * (w[:, None] * w[None, :])[None, :, :]
    census = r.census.copy()
    z = _quantile(kw.get("confidence", 0.95), r.df)
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
                         n_known, known_pos)

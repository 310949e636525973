"""Drift: theme prevalence per period (and group), with intervals, tests for change and flags.

:func:`prevalence` counts, per period (and/or group) and per node of the theme hierarchy, the
comments coded (or suggested) for each theme, as a share of the substantive comments, with a
95% interval. :func:`estimate_prevalence` does the same from a classifier's scores, adjusted for
the classifier's errors with a coder-checked sample (see :mod:`themeassist.drift.quantify`).
:func:`changes` tests each theme for trend and for change between consecutive periods, corrects
for the many themes tested and flags themes that appear, vanish or return;
:func:`summarise_changes` writes the significant ones in plain English. :func:`candidate_periods`
counts discovery's candidate codes per period under the same minimum-evidence rule and finds the
codes that are new in a period. :func:`run_drift` does all of it for a file and writes the tables,
a summary and the figures.

Codes come in any of these forms (one entry per comment, in corpus order):

* a sequence/Series of ``"|"``-joined theme names, ids or paths (human codes, any level);
* a wide DataFrame or 2-D array, one column per theme: 0/1 codes or scores in [0, 1]
  (e.g. ``ThemeMapper.predict_proba``); an array's columns are the codebook's leaves;
* a suggestions table with a ``suggested`` column (``"|"``-joined names) and optionally
  ``scores`` (``"|"``-joined floats in the same order) and ``status``.

A comment coded with a sub-theme counts for every ancestor too, once. Scores roll up to a parent
as ``1 - prod(1 - p_child)`` (the chance that at least one child applies, if independent).
"""

from __future__ import annotations

import math
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from themeassist.drift._codes import (
    _CORPUS_STATUSES,
    _SUBSTANTIVE,
    _code_matrix,
    _labels,
    _warn_missing,
    _Node,
    _node_frame,
    _period_order,
    _resolve_codebook,
    _status_mask,
)
from themeassist.drift._stats import _effects, _flags, _pair_test, _se, _state, _trend_test, wilson_interval
from themeassist._validation import check_param
from themeassist.exceptions import ThemeassistError

__all__ = [
    "CHANGE_COLUMNS",
    "PREVALENCE_COLUMNS",
    "PREVALENCE_METHODS",
    "changes",
    "content_shift",
    "estimate_prevalence",
    "prevalence",
    "summarise_changes",
    "wilson_interval",
]

#: Methods of :func:`prevalence`; the adjusted ones are those of :mod:`themeassist.drift.quantify`.
PREVALENCE_METHODS: tuple[str, ...] = ("auto", "human", "classify_count", "prob_average", "adjusted", "acc", "pacc",
                                       "cpcc", "em")
#: Columns of :func:`prevalence` (``group`` only when groups are given).
PREVALENCE_COLUMNS: tuple[str, ...] = (
    "period", "group", "theme", "theme_id", "parent", "parent_id", "depth", "is_leaf", "n_comments", "n_excluded",
    "n_respondents", "n_theme", "prevalence", "ci_low", "ci_high", "n_theme_respondents", "respondent_prevalence",
    "respondent_ci_low", "respondent_ci_high", "method",
)  # fmt: skip
#: Columns of :func:`changes`.
CHANGE_COLUMNS: tuple[str, ...] = (
    "group", "theme", "theme_id", "parent", "depth", "comparison", "axis", "from_level", "to_level", "n_from", "n_to",
    "n_theme_from", "n_theme_to", "prevalence_from", "prevalence_to", "state_from", "state_to", "diff_pp",
    "risk_ratio", "cohens_h", "slope_pp", "test", "statistic", "p_value", "p_adjusted", "significant", "flag",
    "method",
)  # fmt: skip
_COUNT_METHODS = ("human", "classify_count")
_ADJUSTED = {"adjusted": "cpcc", "acc": "acc", "pacc": "pacc", "cpcc": "cpcc", "em": "em"}


def _cells(per: np.ndarray, grp: np.ndarray | None, keep: np.ndarray, period: Any) -> list[tuple[tuple, np.ndarray,
                                                                                                     int]]:
    """(key, kept row indices, n excluded) per period (x group), in period order."""
    order = _period_order(period if isinstance(period, pd.Series) else pd.Series(per, dtype=object))
    frame = pd.DataFrame({"p": per, "g": grp if grp is not None else "", "k": keep})
    out = []
    for p in order:
        fp = frame[frame.p == p]
        groups = sorted(pd.unique(fp.g), key=str) if grp is not None else [""]
        for g in groups:
            f = fp[fp.g == g]
            out.append(((p, g), f.index[f.k].to_numpy(), int((~f.k).sum())))
    return out


def _assemble(rows: list[dict], nodes: list[_Node], with_group: bool) -> pd.DataFrame:
    meta = _node_frame(nodes)
    parts = []
    for r in rows:
        part = meta.copy()
        for k, v in r.items():
            part[k] = v
        parts.append(part)
    cols = [c for c in PREVALENCE_COLUMNS if with_group or c != "group"]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)[cols]
    for c in ("n_comments", "n_excluded"):
        out[c] = out[c].astype(int)
    for c in ("n_respondents", "n_theme_respondents"):
        out[c] = out[c].astype("Int64")
    return out


# ---- prevalence ---------------------------------------------------------------------------------
def prevalence(codes: Any, *, period: Any = None, group: Any = None, codebook: Any = None, respondent: Any = None,
               status: Any = None, method: str = "auto", checked_sample: tuple[Any, Any] | None = None,
               threshold: float = 0.5, confidence: float = 0.95, n_boot: int = 500,
               random_state: int | None = 0, themes: Sequence[str] | None = None) -> pd.DataFrame:
    """Prevalence of every theme (and parent theme) per period and/or group, with an interval.

    Parameters
    ----------
    codes : see the module docstring
        Human codes, 0/1 codes, scores or a suggestions table; one entry per comment.
    period, group : Series or sequence, optional
        One value per comment (e.g. a quarter and a profession). Without ``period`` every comment
        is in period ``"all"``; with ``group`` the table has one row per period x group x theme.
    codebook : Codebook or str, optional
        Resolves names and gives the hierarchy (rows for parents). Without it the codes are a flat
        list of themes.
    respondent : Series or sequence, optional
        Respondent id per comment: adds respondent-level counts and prevalence (a respondent with
        several comments on a theme counts once).
    status : Series or sequence, optional
        Corpus status per comment (see :func:`themeassist.corpus.load_corpus`); only "ok" and
        "truncated" comments are counted, the others are reported in ``n_excluded``. Taken from a
        ``status`` column of a codes table holding corpus statuses when not given.
    method : str
        ``"human"`` (count the codes), ``"classify_count"`` (count scores >= ``threshold``),
        ``"prob_average"`` (mean score), or an error-adjusted estimator: ``"adjusted"`` (the
        default adjusted one, calibrated probability averaging ``"cpcc"``), ``"acc"``, ``"pacc"``, ``"cpcc"``, ``"em"`` (these
        need ``checked_sample``; see :func:`estimate_prevalence`). ``"auto"``: human for codes,
        prob_average for scores.
    checked_sample : (true_codes, checked_scores), optional
        For the adjusted methods: human codes and out-of-sample scores of coder-checked comments.
    threshold : float
        Score at which a comment counts as suggested.
    confidence : float
        Level of the intervals: Wilson for counts, percentile bootstrap (``n_boot`` replicates)
        for model-based estimates.
    random_state : int, optional
        Seed of the bootstrap.
    themes : list of str, optional
        Column names of a plain score array (defaults to the codebook's leaves).

    Returns
    -------
    pandas.DataFrame
        One row per period [x group] x theme, periods in order, themes in codebook order, with
        columns :data:`PREVALENCE_COLUMNS`: ``period``, ``group`` (only when given), ``theme``,
        ``theme_id``, ``parent`` (name, "" at the top), ``parent_id``, ``depth``, ``is_leaf``,
        ``n_comments`` (substantive comments in the cell), ``n_excluded``, ``n_respondents``,
        ``n_theme`` (comments with the theme; an expected count for model-based methods),
        ``prevalence`` (n_theme / n_comments), ``ci_low``, ``ci_high``, the respondent-level
        ``n_theme_respondents``, ``respondent_prevalence``, ``respondent_ci_low``,
        ``respondent_ci_high`` (missing without ``respondent``), and ``method``.

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": None})
    >>> t = prevalence(["Attitude|Competence", "Access", "", "Attitude"], period=[1, 1, 2, 2], codebook=cb)
    >>> t.loc[t.period == 1, ["theme", "n_theme", "prevalence"]].values.tolist()
    [['Staff', 1, 0.5], ['Attitude', 1, 0.5], ['Competence', 1, 0.5], ['Access', 1, 0.5]]
    """
    check_param("method", method, owner="prevalence", options=PREVALENCE_METHODS)
    check_param("confidence", confidence, owner="prevalence", between=(0.5, 0.999999))
    if method in _ADJUSTED:
        return estimate_prevalence(codes, period=period, group=group, codebook=codebook, status=status,
                                   checked_sample=checked_sample, method=method, threshold=threshold,
                                   confidence=confidence, n_boot=n_boot, random_state=random_state, themes=themes,
                                   respondent=respondent)
    mat, nodes, kind = _code_matrix(codes, codebook=codebook, use_scores=method == "prob_average", themes=themes)
    if method == "auto":
        method = "human" if kind == "labels" else "prob_average"
    n = len(mat)
    per, grp = _labels(period, n, "period"), (None if group is None else _labels(group, n, "group"))
    n_no_period = _warn_missing(per, "period") + (0 if grp is None else _warn_missing(grp, "group"))
    resp = None if respondent is None else _labels(respondent, n, "respondent")
    keep = _status_mask(status, codes, n)
    rng = np.random.default_rng(random_state)
    counted = (mat >= threshold).astype(float) if method in _COUNT_METHODS else mat
    rows = []
    for (p, g), idx, n_excl in _cells(per, grp, keep, period):
        m = len(idx)
        block = counted[idx]
        row: dict[str, Any] = {"period": p, "group": g, "n_comments": m, "n_excluded": n_excl, "method": method}
        if method in _COUNT_METHODS:
            k = block.sum(0)
            lo, hi = wilson_interval(k, m, confidence)
            row.update(n_theme=k.astype(int), prevalence=k / m if m else np.nan, ci_low=lo, ci_high=hi)
        else:
            est = block.mean(0) if m else np.full(block.shape[1], np.nan)
            if m:
                w = rng.multinomial(m, np.full(m, 1.0 / m), size=n_boot)
                reps = w @ block / m
                a = 1 - confidence
                lo, hi = np.quantile(reps, [a / 2, 1 - a / 2], axis=0)
            else:
                lo = hi = est
            row.update(n_theme=est * m, prevalence=est, ci_low=np.minimum(lo, est), ci_high=np.maximum(hi, est))
        row.update(n_respondents=pd.NA, n_theme_respondents=pd.NA, respondent_prevalence=np.nan,
                   respondent_ci_low=np.nan, respondent_ci_high=np.nan)
        if resp is not None and m:
            ind = pd.DataFrame(mat[idx] >= threshold).groupby(resp[idx]).max()
            nr, kr = len(ind), ind.sum(0).to_numpy().astype(float)
            lo, hi = wilson_interval(kr, nr, confidence)
            row.update(n_respondents=nr, n_theme_respondents=kr.astype(int), respondent_prevalence=kr / nr,
                       respondent_ci_low=lo, respondent_ci_high=hi)
        rows.append(row)
    table = _assemble(rows, nodes, grp is not None)
    table.attrs["n_no_period"] = n_no_period
    return table


def estimate_prevalence(scores: Any, *, period: Any = None, checked_sample: tuple[Any, Any] | None = None,
                        method: str = "adjusted", group: Any = None, codebook: Any = None, status: Any = None,
                        respondent: Any = None, threshold: float = 0.5, confidence: float = 0.95,
                        n_boot: int = 200, random_state: int | None = 0,
                        themes: Sequence[str] | None = None) -> pd.DataFrame:
    """Prevalence from a classifier's scores, adjusted for its errors with a coder-checked sample.

    Parameters
    ----------
    scores : scores in any form :func:`prevalence` accepts
        Scores of the comments to analyse: a DataFrame/array with one column per theme
        (``ThemeMapper.predict_proba``) or a suggestions table (its ``scores`` are used).
    period, group, codebook, status, respondent, threshold, confidence, random_state, themes
        As in :func:`prevalence`.
    checked_sample : (true_codes, checked_scores)
        Human codes (any label form) and out-of-sample scores (same form and columns as
        ``scores``) of coder-checked comments, e.g. cross-validated scores of the training comments.
    method : {"adjusted", "cpcc", "acc", "pacc", "em", "cc", "pcc"}
        Estimator of :func:`themeassist.drift.quantify.quantify`; ``"adjusted"`` means ``"cpcc"``.
    n_boot : int
        Bootstrap replicates; each resamples the period's comments and the checked sample.

    Returns
    -------
    pandas.DataFrame
        The columns of :func:`prevalence`; ``n_theme`` is the estimated count
        (prevalence x n_comments) and ``method`` the estimator's name.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random((3000, 1)) < 0.2).astype(float)
    >>> s = np.clip(0.6 * y + rng.normal(0.2, 0.1, y.shape), 0, 1)
    >>> t = estimate_prevalence(s[:1000], checked_sample=(y[1000:], s[1000:]), method="pacc", themes=["a"],
    ...                         n_boot=50)
    >>> bool(abs(t.prevalence[0] - y[:1000].mean()) < 0.03)
    True
    """
    from themeassist.drift.quantify import QUANTIFY_METHODS, bootstrap_quantify

    qmethod = _ADJUSTED.get(method, method)
    check_param("method", qmethod, owner="estimate_prevalence", options=QUANTIFY_METHODS)
    codebook = _resolve_codebook(codebook)
    mat, nodes, _ = _code_matrix(scores, codebook=codebook, themes=themes)
    cs = cy = None
    if qmethod not in ("cc", "pcc"):
        if checked_sample is None or len(checked_sample) != 2:
            raise ThemeassistError(f"estimate_prevalence: method {method!r} needs checked_sample=(true_codes, "
                                   "checked_scores) for coder-checked comments; or use method='pcc'.")
        true_codes, checked_scores = checked_sample
        cmat, cnodes, _ = _code_matrix(checked_scores, codebook=codebook, themes=themes)
        if [c.theme_id for c in cnodes] != [c.theme_id for c in nodes]:
            raise ThemeassistError("estimate_prevalence: the checked sample's scores do not have the same theme "
                                   "columns as the scores to analyse; give both with the same columns.")
        if isinstance(true_codes, np.ndarray) and true_codes.ndim == 2 and themes is not None:
            true_codes = pd.DataFrame(true_codes, columns=list(themes))
        elif isinstance(true_codes, np.ndarray) and true_codes.ndim == 2 and codebook is not None:
            true_codes = pd.DataFrame(true_codes, columns=[t.theme_id for t in codebook.leaves()])
        ymat, ynodes, _ = _code_matrix(true_codes, codebook=codebook)
        if len(ymat) != len(cmat):
            raise ThemeassistError(f"estimate_prevalence: checked_sample has {len(ymat)} coded comments but "
                                   f"{len(cmat)} rows of scores; they must be the same comments.")
        ypos = {nd.theme_id: j for j, nd in enumerate(ynodes)}
        cy = np.zeros_like(cmat)
        for j, nd in enumerate(nodes):
            if nd.theme_id in ypos:
                cy[:, j] = ymat[:, ypos[nd.theme_id]]
        cs = cmat
    n = len(mat)
    per, grp = _labels(period, n, "period"), (None if group is None else _labels(group, n, "group"))
    n_no_period = _warn_missing(per, "period") + (0 if grp is None else _warn_missing(grp, "group"))
    keep = _status_mask(status, scores, n)
    cells = _cells(per, grp, keep, period)
    results = bootstrap_quantify([mat[idx] for _, idx, _ in cells], method=qmethod, checked_scores=cs,
                                 checked_y=cy, threshold=threshold, n_boot=n_boot, confidence=confidence,
                                 random_state=random_state)
    resp = None if respondent is None else _labels(respondent, n, "respondent")
    rows = []
    for ((p, g), idx, n_excl), (est, lo, hi) in zip(cells, results):
        m = len(idx)
        rows.append({"period": p, "group": g, "n_comments": m, "n_excluded": n_excl, "method": qmethod,
                     "n_respondents": len(set(resp[idx])) if resp is not None else pd.NA,
                     "n_theme_respondents": pd.NA, "respondent_prevalence": np.nan, "respondent_ci_low": np.nan,
                     "respondent_ci_high": np.nan, "n_theme": est * m, "prevalence": est, "ci_low": lo,
                     "ci_high": hi})
    return _assemble(rows, nodes, grp is not None)


# ---- change -------------------------------------------------------------------------------------
def changes(prev_table: pd.DataFrame, *, alpha: float = 0.05, min_count: float = 3, min_prev: float = 0.01,
            absent_prev: float | None = None, correction: str = "fdr_bh", over: str | None = None,
            confidence: float = 0.95) -> pd.DataFrame:
    """Test each theme for change across periods (or groups) and flag themes that appear or vanish.

    Parameters
    ----------
    prev_table : DataFrame
        The result of :func:`prevalence` or :func:`estimate_prevalence`.
    alpha : float
        Level at which an adjusted p-value is ``significant``.
    min_count : float
        Minimum evidence: a theme is *present* in a period only with at least ``min_count``
        comments (an estimated count for model-based tables) **and** an interval whose lower end
        is above ``min_prev``; it is *absent* with no comment (an estimated count below 0.5) or
        an interval whose upper end is below ``absent_prev``; otherwise *unclear*. The gap
        between the two rules keeps a rare theme from flickering between present and absent, and
        one stray comment never makes a theme present. Flags compare each period with the last
        period whose state was not unclear. Themes with fewer than ``min_count`` comments over
        all periods are not tested.
    min_prev : float
        Prevalence floor of the rule above (default 1%).
    absent_prev : float, optional
        Upper interval bound under which a theme counts as absent (default: ``min_prev``).
    correction : str
        Multiple-testing correction of :func:`statsmodels.stats.multitest.multipletests`
        (``"fdr_bh"``, ``"holm"``, ``"bonferroni"``, ...), applied separately to the trend tests
        (one per theme and group) and to the pairwise tests (all themes and pairs).
    over : {"period", "group"}, optional
        The axis compared. Default: "period" when the table has several periods, else "group".
        Over periods, within each group: a trend test on the period index (Cochran-Armitage for
        counts, weighted least squares z for model-based estimates) and a test for each pair of
        consecutive periods (two-proportion z; Fisher's exact test when an expected count is
        below 5; a Wald z from the intervals for model-based estimates), with flags. Over groups,
        within each period: a test of homogeneity across groups (chi-square or Wald) and each
        group against the rest.
    confidence : float
        Level of the table's intervals (to recover standard errors for model-based tables).

    Returns
    -------
    pandas.DataFrame
        One row per theme and comparison, columns :data:`CHANGE_COLUMNS`: ``group`` (the other
        axis' value: the group over periods, the period over groups), theme descriptors,
        ``comparison`` ("trend", "pair", "overall", "group_vs_rest"), ``axis``, ``from_level``,
        ``to_level``, counts, prevalences and states at both ends, effect sizes ``diff_pp``
        (percentage points), ``risk_ratio``, ``cohens_h``, ``slope_pp`` (trend: points per
        period), ``test``, ``statistic``, ``p_value``, ``p_adjusted``, ``significant``, ``flag``
        ("appears", "vanishes", "returns" or "" on pair rows) and ``method``.

    Examples
    --------
    >>> t = prevalence(["a"] * 20 + [""] * 80 + [""] * 100 + ["a"] * 20 + [""] * 80,
    ...                period=[1] * 100 + [2] * 100 + [3] * 100)
    >>> c = changes(t)
    >>> c.loc[c.comparison == "pair", ["from_level", "to_level", "flag"]].values.tolist()
    [[1, 2, 'vanishes'], [2, 3, 'returns']]
    """
    from statsmodels.stats.multitest import multipletests

    check_param("alpha", alpha, owner="changes", between=(0.0, 1.0))
    absent_prev = min_prev if absent_prev is None else absent_prev
    check_param("correction", correction, owner="changes",
                options=("fdr_bh", "fdr_by", "holm", "bonferroni", "hommel", "sidak", "holm-sidak", "none"))
    need = {"period", "theme", "theme_id", "n_comments", "n_theme", "prevalence", "ci_low", "ci_high"}
    missing = need - set(prev_table.columns)
    if missing:
        raise ThemeassistError(f"changes: prev_table lacks columns {sorted(missing)}; pass the table returned by "
                               "prevalence() or estimate_prevalence().")
    table = prev_table.copy()
    if "group" not in table.columns:
        table["group"] = ""
    for col, default in (("parent", ""), ("depth", 0), ("method", "human")):
        if col not in table.columns:
            table[col] = default
    periods = list(pd.unique(table["period"]))
    if over is None:
        over = "period" if len(periods) > 1 else "group"
    check_param("over", over, owner="changes", options=("period", "group"))
    axis, other = ("period", "group") if over == "period" else ("group", "period")
    z = stats.norm.ppf(0.5 + confidence / 2)
    rows: list[dict[str, Any]] = []
    for (oval, tid), sub in table.groupby([other, "theme_id"], sort=False):
        sub = sub[sub["n_comments"] > 0]
        if sub.empty:
            continue
        levels = list(sub[axis])
        first = sub.iloc[0]
        base = {"group": oval, "theme": first["theme"], "theme_id": tid, "parent": first["parent"],
                "depth": first["depth"], "axis": axis, "method": first["method"]}
        counts = str(first["method"]) in _COUNT_METHODS
        k, n = sub["n_theme"].to_numpy(float), sub["n_comments"].to_numpy(float)
        p = sub["prevalence"].to_numpy(float)
        se = np.array([_se(r, z) for _, r in sub.iterrows()])
        states = [_state(r.n_theme, r.ci_low, r.ci_high, r.n_comments, min_count, min_prev, absent_prev)
                  for r in sub.itertuples()]
        testable = k.sum() >= min_count and len(sub) >= 2

        def end(i: int, j: int) -> dict[str, Any]:
            return {"n_from": int(n[i]), "n_to": int(n[j]), "n_theme_from": k[i], "n_theme_to": k[j],
                    "prevalence_from": p[i], "prevalence_to": p[j], "state_from": states[i], "state_to": states[j]}

        if over == "period":
            flags = _flags(states)
            if len(sub) >= 2:
                test, stat, pval, slope = (_trend_test(k, n, counts, se) if testable
                                           else ("not_tested", np.nan, np.nan, np.nan))
                diff, rr, h = _effects(p[0], p[-1], k[0], n[0], k[-1], n[-1])
                rows.append({**base, **end(0, len(sub) - 1), "comparison": "trend", "from_level": levels[0],
                             "to_level": levels[-1], "diff_pp": diff, "risk_ratio": rr, "cohens_h": h,
                             "slope_pp": 100 * slope, "test": test, "statistic": stat, "p_value": pval,
                             "flag": ""})
            for i in range(1, len(sub)):
                test, stat, pval = (_pair_test(k[i - 1], n[i - 1], k[i], n[i], counts, se[i - 1], se[i])
                                    if testable else ("not_tested", np.nan, np.nan))
                diff, rr, h = _effects(p[i - 1], p[i], k[i - 1], n[i - 1], k[i], n[i])
                rows.append({**base, **end(i - 1, i), "comparison": "pair", "from_level": levels[i - 1],
                             "to_level": levels[i], "diff_pp": diff, "risk_ratio": rr, "cohens_h": h,
                             "slope_pp": np.nan, "test": test, "statistic": stat, "p_value": pval,
                             "flag": flags[i]})
        elif len(sub) >= 2:
            if testable and counts:
                chi = stats.chi2_contingency(np.column_stack([k, n - k]) + 0.0, correction=False)
                test, stat, pval = "chi_square", float(chi[0]), float(chi[1])
            elif testable:
                w = 1 / se ** 2
                stat = float((w * (p - (w * p).sum() / w.sum()) ** 2).sum())
                test, pval = "wald_chi_square", float(stats.chi2.sf(stat, len(sub) - 1))
            else:
                test, stat, pval = "not_tested", np.nan, np.nan
            rows.append({**base, **end(0, len(sub) - 1), "comparison": "overall", "from_level": "(all)",
                         "to_level": "(all)", "diff_pp": 100 * (p.max() - p.min()), "risk_ratio": np.nan,
                         "cohens_h": np.nan, "slope_pp": np.nan, "test": test, "statistic": stat, "p_value": pval,
                         "flag": ""})
            for i in range(len(sub)):
                kr, nr = k.sum() - k[i], n.sum() - n[i]
                if nr <= 0:
                    continue
                ser = math.sqrt(float((se ** 2 * n ** 2).sum() - se[i] ** 2 * n[i] ** 2)) / nr
                test, stat, pval = (_pair_test(kr, nr, k[i], n[i], counts, ser, se[i]) if testable
                                    else ("not_tested", np.nan, np.nan))
                diff, rr, h = _effects(kr / nr, p[i], kr, nr, k[i], n[i])
                rows.append({**base, "n_from": int(nr), "n_to": int(n[i]), "n_theme_from": kr, "n_theme_to": k[i],
                             "prevalence_from": kr / nr, "prevalence_to": p[i], "state_from": "",
                             "state_to": states[i], "comparison": "group_vs_rest", "from_level": "(rest)",
                             "to_level": levels[i], "diff_pp": diff, "risk_ratio": rr, "cohens_h": h,
                             "slope_pp": np.nan, "test": test, "statistic": stat, "p_value": pval, "flag": ""})
    out = pd.DataFrame(rows, columns=[c for c in CHANGE_COLUMNS if c not in ("p_adjusted", "significant")])
    out["p_adjusted"] = np.nan
    for family in (("trend", "overall"), ("pair", "group_vs_rest")):
        mask = out["comparison"].isin(family) & out["p_value"].notna()
        if mask.any():
            pv = out.loc[mask, "p_value"].to_numpy(float)
            out.loc[mask, "p_adjusted"] = pv if correction == "none" else multipletests(pv, method=correction)[1]
    out["significant"] = out["p_adjusted"] < alpha
    if (prev_table.get("group") is None) and over == "period":
        out = out.drop(columns="group")
    return out[[c for c in CHANGE_COLUMNS if c in out.columns]]


def _fmt_pct(p: float) -> str:
    return f"{100 * p:.1f}%"


def summarise_changes(change_table: pd.DataFrame, *, max_items: int = 25) -> str:
    """A short plain-English summary of the significant changes and the flags.

    Parameters
    ----------
    change_table : DataFrame
        The result of :func:`changes`.
    max_items : int
        At most this many lines per section (the strongest first).

    Returns
    -------
    str

    Examples
    --------
    >>> t = prevalence(["a"] * 20 + [""] * 80 + [""] * 100, period=[1] * 100 + [2] * 100)
    >>> print(summarise_changes(changes(t)))  # doctest: +NORMALIZE_WHITESPACE
    Significant trends (adjusted p < 0.05):
    - a: falls from 20.0% (1) to 0.0% (2) (-20.0 points; adjusted p < 0.001).
    Significant changes between consecutive periods:
    - a: 1 -> 2: 20.0% -> 0.0% (-20.0 points; adjusted p < 0.001).
    Flags (minimum-evidence rule applied):
    - a: vanishes in 2.
    """
    ct = change_table
    if ct.empty:
        return "No themes to compare."
    lines: list[str] = []

    def who(r: Any) -> str:
        g = getattr(r, "group", "")
        return f"{r.theme}" + (f" [{g}]" if isinstance(g, str) and g not in ("", "all") else
                               (f" [{g}]" if not isinstance(g, str) else ""))

    def pv(x: float) -> str:
        return "adjusted p < 0.001" if x < 0.001 else f"adjusted p = {x:.3f}"

    sig = ct[ct["significant"].fillna(False).astype(bool)]
    trend = sig[sig.comparison.isin(["trend", "overall"])].sort_values("p_adjusted")
    alpha_note = "(adjusted p < 0.05)"
    if not trend.empty:
        lines.append(f"Significant {'trends' if trend.comparison.iloc[0] == 'trend' else 'group differences'} "
                     f"{alpha_note}:")
        for r in trend.head(max_items).itertuples():
            if r.comparison == "trend":
                word = "rises" if r.slope_pp > 0 else "falls"
                lines.append(f"- {who(r)}: {word} from {_fmt_pct(r.prevalence_from)} ({r.from_level}) to "
                             f"{_fmt_pct(r.prevalence_to)} ({r.to_level}) ({r.diff_pp:+.1f} points; "
                             f"{pv(r.p_adjusted)}).")
            else:
                lines.append(f"- {who(r)}: differs between groups (range {r.diff_pp:.1f} points; "
                             f"{pv(r.p_adjusted)}).")
    pairs = sig[sig.comparison.isin(["pair", "group_vs_rest"])].sort_values("p_adjusted")
    if not pairs.empty:
        lines.append("Significant changes between consecutive periods:" if pairs.comparison.iloc[0] == "pair"
                     else "Groups that differ from the rest:")
        for r in pairs.head(max_items).itertuples():
            lines.append(f"- {who(r)}: {r.from_level} -> {r.to_level}: {_fmt_pct(r.prevalence_from)} -> "
                         f"{_fmt_pct(r.prevalence_to)} ({r.diff_pp:+.1f} points; {pv(r.p_adjusted)}).")
    flagged = ct[ct["flag"].fillna("") != ""]
    if not flagged.empty:
        lines.append("Flags (minimum-evidence rule applied):")
        for (_, tid), sub in flagged.groupby([c for c in ("group", "theme_id") if c in flagged.columns] if
                                             "group" in flagged.columns else ["theme_id", "theme_id"], sort=False):
            r = sub.iloc[0]
            parts = [f"{f} in {lvl}" for f, lvl in zip(sub["flag"], sub["to_level"])]
            lines.append(f"- {who(r)}: {', '.join(parts)}.")
    if not lines:
        return "No significant change after correction for multiple testing, and no theme appears or vanishes."
    return "\n".join(lines)


def content_shift(embeddings: np.ndarray, codes: Any, period: Any, *, codebook: Any = None,
                  min_n: int = 5) -> pd.DataFrame:
    """How each theme's content moves: cosine distance between its comments' centroids, period to period.

    Parameters
    ----------
    embeddings : array (n, d)
        Comment embeddings, in the same order as ``codes``.
    codes, codebook
        As in :func:`prevalence` (a comment counts for a theme at score >= 0.5).
    period : sequence
        One value per comment.
    min_n : int
        Both periods need at least ``min_n`` comments on the theme (else the distance is NaN).

    Returns
    -------
    pandas.DataFrame
        Columns ``theme``, ``theme_id``, ``parent``, ``depth``, ``from_level``, ``to_level``,
        ``n_from``, ``n_to``, ``cosine_distance`` (1 - cosine similarity of the two centroids).

    Examples
    --------
    >>> e = np.array([[1, 0], [1, 0], [0, 1], [0, 1]], dtype=float)
    >>> content_shift(e, ["a"] * 4, [1, 1, 2, 2], min_n=1).cosine_distance.tolist()
    [1.0]
    """
    mat, nodes, _ = _code_matrix(codes, codebook=codebook, use_scores=False)
    emb = np.asarray(embeddings, dtype=float)
    if emb.ndim != 2 or len(emb) != len(mat):
        raise ThemeassistError(f"content_shift: embeddings must be (n_comments, dim) with {len(mat)} rows; got "
                               f"shape {emb.shape}.")
    per = _labels(period, len(mat), "period")
    order = _period_order(pd.Series(per, dtype=object))
    ind = mat >= 0.5
    rows = []
    for j, node in enumerate(nodes):
        cents = []
        for lvl in order:
            m = ind[:, j] & (per == lvl)
            cents.append((int(m.sum()), emb[m].mean(0) if m.any() else None))
        for i in range(1, len(order)):
            (n1, c1), (n2, c2) = cents[i - 1], cents[i]
            dist = np.nan
            if n1 >= min_n and n2 >= min_n:
                dist = float(1 - c1 @ c2 / (np.linalg.norm(c1) * np.linalg.norm(c2) + 1e-12))
            rows.append({"theme": node.name, "theme_id": node.theme_id, "parent": node.parent, "depth": node.depth,
                         "from_level": order[i - 1], "to_level": order[i], "n_from": n1, "n_to": n2,
                         "cosine_distance": dist})
    return pd.DataFrame(rows, columns=["theme", "theme_id", "parent", "depth", "from_level", "to_level", "n_from",
                                       "n_to", "cosine_distance"])

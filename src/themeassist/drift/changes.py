"""Drift: tests for change across periods (or groups), appear/vanish/return flags, summaries.

:func:`changes` tests each theme of a prevalence table (:func:`themeassist.drift.prevalence`,
:func:`themeassist.drift.audit_prevalence`) for trend and for change between consecutive periods,
corrects for the many themes tested and flags themes that appear, vanish or return;
:func:`summarise_changes` writes the significant ones in plain English; :func:`content_shift`
measures how a theme's content moves between periods.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from themeassist._schema import theme_labels
from themeassist._validation import check_param
from themeassist.drift._codes import _code_matrix, _labels, _period_order
from themeassist.drift._known import KNOWN_RANDOM_ALPHA
from themeassist.drift._stats import HIGH_SCORE, _effects, _flags, _pair_test, _se, _state, _trend_test
from themeassist.exceptions import ThemeassistError

__all__ = ["CHANGE_COLUMNS", "HIGH_SCORE", "changes", "content_shift", "summarise_changes"]

#: Columns of :func:`changes`.
CHANGE_COLUMNS: tuple[str, ...] = (
    "group", "theme", "theme_id", "parent", "depth", "comparison", "axis", "from_level", "to_level", "n_from", "n_to",
    "n_theme_from", "n_theme_to", "prevalence_from", "prevalence_to", "state_from", "state_to", "diff_pp",
    "risk_ratio", "cohens_h", "slope_pp", "test", "statistic", "p_value", "p_adjusted", "significant", "flag",
    "method",
)  # fmt: skip
_COUNT_METHODS = ("human", "classify_count")

def changes(prev_table: pd.DataFrame, *, alpha: float = 0.05, min_count: float = 3, min_prev: float = 0.01,
            absent_prev: float | None = None, correction: str = "fdr_bh", over: str | None = None,
            confidence: float = 0.95, flag_alpha: float = 0.025, known_random: bool | None = None) -> pd.DataFrame:
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
        one stray comment never makes a theme present. For estimates (audit-corrected or
        model-based tables) an interval rarely ends below ``absent_prev`` with a few hundred
        comments, so a theme is also *absent* when its estimate is below ``min_prev`` and its
        interval reaches zero (for counts, that is exactly "no comment"), and a flag on
        estimates also needs the change to be significant (unadjusted p < ``flag_alpha``).
        Audit-corrected tables (an ``n_checked_theme`` column) use the audit too: a period whose
        audit holds a checked positive is never absent, one without is absent when its estimate
        is below ``AUDIT_ABSENT_FACTOR * min_prev`` (2%) and its interval reaches zero, and an
        unclear period next to an absent one is present when the change between them is
        significant, its estimate is at least ``min_prev`` and its audit holds a positive (the
        change is known far better than either level: pooled error rates are shared). With an
        ``n_checked`` column too, the change a flag needs may also be shown by the audit's own
        counts (checked positives of checked comments, two-proportion or Fisher's exact test at
        ``flag_alpha``): a year coded in full next to an audited one often shows it before the
        model's estimate does. Comments coded outside the audit (``n_known`` and
        ``n_known_theme``: coded examples, the coder's decisions) count as checked positives for
        these states and, with ``known_random``, in those count tests too. With ``n_scored`` and
        ``n_scored_high`` columns (comments whose machine scores were used, and of them those
        scoring the theme at least :data:`HIGH_SCORE`; respondents when respondents answer more
        than once in a period), a change between an *absent* period and its neighbour may also be
        shown by those counts (Fisher's exact test at ``flag_alpha``, the neighbour higher): where
        the theme is absent every high score is a false alarm, so the neighbour's excess of high
        scores shows the theme there without the pooled error rates' uncertainty (valid where the
        classifier's false alarms are as frequent in both periods, the label-shift assumption of
        the estimates). Flags compare each
        period with the last period whose state was not unclear; on estimates, a theme that coded
        comments showed in an earlier (unclear) period *returns* after an absence rather than
        appears. Themes with fewer than ``min_count`` comments over all periods are not tested.
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
        below 5; a Wald z from the intervals for model-based estimates), with flags. Estimates
        whose covariance between periods is known (``prev_table.attrs["covariance"]``, set by
        :func:`themeassist.drift.audit_prevalence`: pooled error rates are shared by every period)
        are tested with it (generalised least squares for the trend). Counts with a
        ``design_effect`` (respondent clusters) are tested on effective counts. Over groups,
        within each period: a test of homogeneity across groups (chi-square or Wald) and each
        group against the rest.
    confidence : float
        Level of the table's intervals (to recover standard errors for model-based tables).
    flag_alpha : float
        Unadjusted p-value under which a change between periods can carry a flag on estimates
        (0.025: chosen on the development split of ``benchmarks/drift.py``).
    known_random : bool, optional
        The comments coded outside the audit (``n_known``, ``n_known_theme``) are a random sample
        of their period, as coded examples drawn at random are: with the audit (a random sample
        of the other comments) they make one random sample of the period, whose counts a flag's
        count test may use. False when they were chosen by hand (examples picked to show each
        theme, comments picked for review): they then count for the states only. Default: as the
        estimates used them (the table's ``attrs["known_random"]``, set by
        :func:`themeassist.drift.audit_prevalence`); for a table without it, True unless
        ``attrs["known_random_p"]`` (their codes against the audit's, a permutation test) is
        below ``KNOWN_RANDOM_ALPHA`` (0.05).

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
    >>> from themeassist.drift import prevalence
    >>> t = prevalence(["a"] * 20 + [""] * 80 + [""] * 100 + ["a"] * 20 + [""] * 80,
    ...                period=[1] * 100 + [2] * 100 + [3] * 100)
    >>> c = changes(t)
    >>> c.loc[c.comparison == "pair", ["from_level", "to_level", "flag"]].values.tolist()
    [[1, 2, 'vanishes'], [2, 3, 'returns']]
    """
    from statsmodels.stats.multitest import multipletests

    check_param("alpha", alpha, owner="changes", between=(0.0, 1.0))
    check_param("flag_alpha", flag_alpha, owner="changes", between=(0.0, 1.0))
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
    covs = prev_table.attrs.get("covariance") or {}
    if known_random is None:  # as the estimates took them; else from the randomness test's p-value
        known_random = prev_table.attrs.get("known_random")
    if known_random is None:
        known_random = not (float(prev_table.attrs.get("known_random_p", np.nan)) < KNOWN_RANDOM_ALPHA)
    rows: list[dict[str, Any]] = []
    for (oval, tid), sub in table.groupby([other, "theme_id"], sort=False):
        sub = sub[sub["n_comments"] > 0]
        if sub.empty:
            continue
        th = _ThemeSeries.of(sub, oval, tid, axis=axis, z=z, min_count=min_count, min_prev=min_prev,
                             absent_prev=absent_prev, covs=covs if over == "period" else {})
        if over == "period":
            rows += _period_rows(th, flag_alpha=flag_alpha, min_count=min_count, min_prev=min_prev,
                                 known_random=known_random)
        elif len(sub) >= 2:
            rows += _group_rows(th)
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


@dataclass
class _ThemeSeries:
    """One theme's rows along the compared axis (periods, or groups), as the tests need them."""

    sub: pd.DataFrame
    levels: list[Any]
    base: dict[str, Any]
    counts: bool  # counted codes (human, classify_count), not estimates
    k: np.ndarray
    n: np.ndarray
    p: np.ndarray
    se: np.ndarray
    states: list[str]
    testable: bool
    kt: np.ndarray  # effective counts (Kish: a respondent's comments are alike)
    nt: np.ndarray
    V: np.ndarray | None  # the estimates' covariance between periods, when known
    df: float  # degrees of freedom of the t reference (inf: normal)

    @classmethod
    def of(cls, sub: pd.DataFrame, oval: Any, tid: str, *, axis: str, z: float, min_count: float,
           min_prev: float, absent_prev: float, covs: dict) -> "_ThemeSeries":
        levels = list(sub[axis])
        first = sub.iloc[0]
        base = {"group": oval, "theme": first["theme"], "theme_id": tid, "parent": first["parent"],
                "depth": first["depth"], "axis": axis, "method": first["method"]}
        counts = str(first["method"]) in _COUNT_METHODS
        k, n = sub["n_theme"].to_numpy(float), sub["n_comments"].to_numpy(float)
        states = [_state(r.n_theme, r.ci_low, r.ci_high, r.n_comments, min_count, min_prev, absent_prev,
                         estimated=not counts) for r in sub.itertuples()]
        deff = sub["design_effect"].to_numpy(float) if "design_effect" in sub.columns else np.ones(len(sub))
        deff = np.where(np.isfinite(deff) & (deff > 1), deff, 1.0)
        V = _covariance(covs, tid, levels) if not counts else None
        df = float((covs.get(tid) or {}).get("df", math.inf)) if V is not None else math.inf
        return cls(sub=sub, levels=levels, base=base, counts=counts, k=k, n=n,
                   p=sub["prevalence"].to_numpy(float), se=np.array([_se(r, z) for _, r in sub.iterrows()]),
                   states=states, testable=bool(k.sum() >= min_count and len(sub) >= 2), kt=k / deff, nt=n / deff,
                   V=V, df=df)

    def end(self, i: int, j: int) -> dict[str, Any]:
        """The two compared levels' counts, prevalences and states."""
        k, n, p, st = self.k, self.n, self.p, self.states
        return {"n_from": int(n[i]), "n_to": int(n[j]), "n_theme_from": k[i], "n_theme_to": k[j],
                "prevalence_from": p[i], "prevalence_to": p[j], "state_from": st[i], "state_to": st[j]}


def _period_rows(th: _ThemeSeries, *, flag_alpha: float, min_count: float, min_prev: float,
                 known_random: bool = True) -> list[dict[str, Any]]:
    """The trend row and the consecutive-pair rows (with appear / vanish / return flags) of one theme."""
    k, n, p, se, kt, nt, V = th.k, th.n, th.p, th.se, th.kt, th.nt, th.V
    m = len(th.sub)
    pairs = []
    for i in range(1, m):
        sd = None if V is None else float(np.sqrt(max(V[i - 1, i - 1] + V[i, i] - 2 * V[i - 1, i], 0.0)))
        pairs.append(_pair_test(kt[i - 1], nt[i - 1], kt[i], nt[i], th.counts, se[i - 1], se[i], sd, th.df)
                     if th.testable else ("not_tested", np.nan, np.nan))
    evidence = [pv for _, _, pv in pairs]  # the p-value a flag on estimates must clear
    if not th.counts:
        kc = (th.sub["n_checked_theme"].to_numpy(float) if "n_checked_theme" in th.sub.columns
              else np.full(m, np.nan))
        # comments coded outside the audit (coded examples) show presence too; drawn at random
        # (known_random), they join the audit's random sample in its count tests
        kk = kc + (th.sub["n_known_theme"].to_numpy(float) if "n_known_theme" in th.sub.columns else 0.0)
        evidence = _with_audit_tests(evidence, th.sub, kc, min_count, with_known=known_random)
        th.states = _audit_states(th.states, kk, th.sub["ci_low"].to_numpy(float), p, min_prev)
        evidence = _with_high_score_tests(evidence, th.sub, th.states)
        th.states = _upgrade_states(th.states, p, k, kk, evidence, flag_alpha, min_count, min_prev)
    flags = _flags(th.states, seen=None if th.counts else kk > 0)
    rows = []
    if m >= 2:
        test, stat, pval, slope = (_trend_test(kt, nt, th.counts, se, V, th.df) if th.testable
                                   else ("not_tested", np.nan, np.nan, np.nan))
        diff, rr, h = _effects(p[0], p[-1], k[0], n[0], k[-1], n[-1])
        rows.append({**th.base, **th.end(0, m - 1), "comparison": "trend", "from_level": th.levels[0],
                     "to_level": th.levels[-1], "diff_pp": diff, "risk_ratio": rr, "cohens_h": h,
                     "slope_pp": 100 * slope, "test": test, "statistic": stat, "p_value": pval, "flag": ""})
    for i in range(1, m):
        test, stat, pval = pairs[i - 1]
        if flags[i] and not th.counts and not (evidence[i - 1] < flag_alpha):
            flags[i] = ""  # on estimates a flag also needs a significant change (see min_count)
        diff, rr, h = _effects(p[i - 1], p[i], k[i - 1], n[i - 1], k[i], n[i])
        rows.append({**th.base, **th.end(i - 1, i), "comparison": "pair", "from_level": th.levels[i - 1],
                     "to_level": th.levels[i], "diff_pp": diff, "risk_ratio": rr, "cohens_h": h,
                     "slope_pp": np.nan, "test": test, "statistic": stat, "p_value": pval, "flag": flags[i]})
    return rows


def _group_rows(th: _ThemeSeries) -> list[dict[str, Any]]:
    """The overall test across groups and each group against the rest, for one theme."""
    k, n, p, se = th.k, th.n, th.p, th.se
    if th.testable and th.counts:
        table = np.column_stack([k, n - k])[n > 0] + 0.0
        if (table.sum(0) > 0).all():
            chi = stats.chi2_contingency(table, correction=False)
            test, stat, pval = "chi_square", float(chi[0]), float(chi[1])
        else:  # every comment of every group has the theme (or none has): the same share everywhere
            test, stat, pval = "chi_square", 0.0, 1.0
    elif th.testable:
        w = 1 / se ** 2
        stat = float((w * (p - (w * p).sum() / w.sum()) ** 2).sum())
        test, pval = "wald_chi_square", float(stats.chi2.sf(stat, len(th.sub) - 1))
    else:
        test, stat, pval = "not_tested", np.nan, np.nan
    rows = [{**th.base, **th.end(0, len(th.sub) - 1), "comparison": "overall", "from_level": "(all)",
             "to_level": "(all)", "diff_pp": 100 * (p.max() - p.min()), "risk_ratio": np.nan,
             "cohens_h": np.nan, "slope_pp": np.nan, "test": test, "statistic": stat, "p_value": pval, "flag": ""}]
    for i in range(len(th.sub)):
        kr, nr = k.sum() - k[i], n.sum() - n[i]
        if nr <= 0:
            continue
        ser = math.sqrt(float((se ** 2 * n ** 2).sum() - se[i] ** 2 * n[i] ** 2)) / nr
        test, stat, pval = (_pair_test(kr, nr, k[i], n[i], th.counts, ser, se[i]) if th.testable
                            else ("not_tested", np.nan, np.nan))
        diff, rr, h = _effects(kr / nr, p[i], kr, nr, k[i], n[i])
        rows.append({**th.base, "n_from": int(nr), "n_to": int(n[i]), "n_theme_from": kr, "n_theme_to": k[i],
                     "prevalence_from": kr / nr, "prevalence_to": p[i], "state_from": "",
                     "state_to": th.states[i], "comparison": "group_vs_rest", "from_level": "(rest)",
                     "to_level": th.levels[i], "diff_pp": diff, "risk_ratio": rr, "cohens_h": h,
                     "slope_pp": np.nan, "test": test, "statistic": stat, "p_value": pval, "flag": ""})
    return rows


def _with_audit_tests(pvals: list[float], sub: pd.DataFrame, kc: np.ndarray, min_count: float,
                      with_known: bool = False) -> list[float]:
    """The evidence for a change between consecutive periods of an audit-corrected table: the
    smaller of the estimates' p-value and that of the audit's own counts (checked comments coded
    with the theme of the checked comments, two-proportion or Fisher's exact test), when the table
    has ``n_checked``. The checked codes are human codes: where a period was checked in full (a
    census) or the audit alone shows the change, it need not wait for the model's noisier estimate.
    Either test at ``flag_alpha`` keeps the chance of a flag on no change below ``2 * flag_alpha``.
    ``with_known``: the comments coded outside the audit (``n_known``, ``n_known_theme``) join
    the checked ones: the audit is a random sample of the comments not coded already, so with
    known comments drawn at random the two make one random sample of the period.
    """
    if "n_checked" not in sub.columns or not np.isfinite(kc).all():
        return list(pvals)
    nc = sub["n_checked"].to_numpy(float)
    if with_known and {"n_known", "n_known_theme"} <= set(sub.columns):
        nc = nc + sub["n_known"].to_numpy(float)
        kc = kc + sub["n_known_theme"].to_numpy(float)
    out = list(pvals)
    for i in range(1, len(kc)):
        if nc[i - 1] <= 0 or nc[i] <= 0 or kc[i - 1] + kc[i] < min_count:
            continue
        p_audit = _pair_test(kc[i - 1], nc[i - 1], kc[i], nc[i], True, 0.0, 0.0)[2]
        out[i - 1] = min(out[i - 1], p_audit) if np.isfinite(out[i - 1]) else p_audit
    return out


def _with_high_score_tests(pvals: list[float], sub: pd.DataFrame, states: list[str]) -> list[float]:
    """The evidence for a change between an absent period and its neighbour, with the comments
    scoring the theme high (``n_scored_high`` of ``n_scored``): the smaller of the p-value so far
    and Fisher's exact test of the two periods' shares of high scores, when the neighbour's share is
    the higher. Under "the theme is absent in both" every high score is a false alarm at the same rate,
    so the test needs neither level's estimate."""
    if not {"n_scored", "n_scored_high"} <= set(sub.columns):
        return list(pvals)
    n, h = sub["n_scored"].to_numpy(float), sub["n_scored_high"].to_numpy(float)
    out = list(pvals)
    for i in range(1, len(states)):
        if (states[i - 1] == "absent") == (states[i] == "absent"):
            continue
        a, b = (i - 1, i) if states[i - 1] == "absent" else (i, i - 1)
        if not (np.isfinite(n[[a, b]]).all() and np.isfinite(h[[a, b]]).all()) or min(n[a], n[b]) <= 0 \
                or not h[b] / n[b] > h[a] / n[a]:
            continue
        ph = float(stats.fisher_exact([[h[a], n[a] - h[a]], [h[b], n[b] - h[b]]])[1])
        out[i - 1] = min(out[i - 1], ph) if np.isfinite(out[i - 1]) else ph
    return out


#: With audit counts, a period with no checked positive is absent when its estimate is below this
#: multiple of ``min_prev`` and its interval reaches 0 (chosen on the development split, see changes).
AUDIT_ABSENT_FACTOR = 2.0


def _audit_states(states: list[str], kc: np.ndarray, lo: np.ndarray, p: np.ndarray, min_prev: float) -> list[str]:
    """Estimates with audit counts ``kc`` (checked comments coded with the theme, per period): a
    period whose audit holds a checked positive is never absent; one with none is absent when its
    estimate is below ``AUDIT_ABSENT_FACTOR * min_prev`` and its interval reaches 0."""
    out = list(states)
    for i, st in enumerate(states):
        if not np.isfinite(kc[i]):
            continue
        if st == "absent" and kc[i] > 0:
            out[i] = "unclear"
        elif st == "unclear" and kc[i] == 0 and lo[i] <= 0 and p[i] < AUDIT_ABSENT_FACTOR * min_prev:
            out[i] = "absent"
    return out


def _upgrade_states(states: list[str], p: np.ndarray, k: np.ndarray, kc: np.ndarray, pvals: list[float],
                    flag_alpha: float, min_count: float, min_prev: float) -> list[str]:
    """Estimates: an unclear period next to an absent one is present when the change between them is
    significant (unadjusted p < ``flag_alpha``, tested with the estimates' covariance), its estimate
    is at least ``min_prev`` (and ``min_count`` comments) and its audit (where known) holds a checked
    positive: a difference between periods is known better than either level."""
    out = list(states)
    for i in range(1, len(states)):
        if not (pvals[i - 1] < flag_alpha):
            continue
        for a, b in ((i - 1, i), (i, i - 1)):  # a absent, b the unclear neighbour above it
            if states[a] == "absent" and states[b] == "unclear" and p[b] >= min_prev and k[b] >= min_count \
                    and p[b] > p[a] and not (kc[b] < 1):
                out[b] = "present"
    return out


def _covariance(covs: dict, theme_id: str, levels: list[Any]) -> np.ndarray | None:
    """The estimates' covariance between ``levels`` for one theme (``attrs["covariance"]``), if known."""
    entry = covs.get(theme_id)
    if not entry or entry.get("cov") is None:
        return None
    pos = {str(p): i for i, p in enumerate(entry["periods"])}
    if not all(str(lv) in pos for lv in levels):
        return None
    ix = [pos[str(lv)] for lv in levels]
    V = np.asarray(entry["cov"], dtype=float)[np.ix_(ix, ix)]
    return V if np.isfinite(V).all() else None


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
    >>> from themeassist.drift import prevalence
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
    # a name that several themes share (under different parents, or a parent and its child) is
    # written with its parent, so that every line names one theme
    ct = ct.assign(theme_label=theme_labels(ct))

    def who(r: Any) -> str:
        g = getattr(r, "group", "")
        return f"{r.theme_label}" + (f" [{g}]" if isinstance(g, str) and g not in ("", "all") else
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
                if np.sign(r.diff_pp) == np.sign(r.slope_pp):  # the end periods tell the same story
                    lines.append(f"- {who(r)}: {word} from {_fmt_pct(r.prevalence_from)} ({r.from_level}) to "
                                 f"{_fmt_pct(r.prevalence_to)} ({r.to_level}) ({r.diff_pp:+.1f} points; "
                                 f"{pv(r.p_adjusted)}).")
                else:  # the fitted trend over every period disagrees with the two ends: say which is which
                    lines.append(f"- {who(r)}: {word} by {abs(r.slope_pp):.1f} points per period over "
                                 f"{r.from_level}–{r.to_level} (fitted trend; the end periods: "
                                 f"{_fmt_pct(r.prevalence_from)} and {_fmt_pct(r.prevalence_to)}; {pv(r.p_adjusted)}).")
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

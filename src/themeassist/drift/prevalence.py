"""Drift: theme prevalence per period (and group), with intervals.

:func:`prevalence` counts, per period (and/or group) and per node of the theme hierarchy, the
comments coded (or suggested) for each theme, as a share of the substantive comments, with a
95% interval. :func:`audit_prevalence` estimates it from a classifier's scores for every comment
and a coder's audit of a random sample (see :mod:`themeassist.drift.quantification`);
:func:`estimate_prevalence` does the same with a checked sample that lies outside the periods.
Tests for change are in :mod:`themeassist.drift.changes`.

Codes come in any of these forms (one entry per comment, in corpus order):

* a sequence/Series of ``"|"``-joined theme names, ids or paths (human codes, any level);
* a wide DataFrame or 2-D array, one column per theme: 0/1 codes or scores in [0, 1]
  (e.g. ``ThemeMapper.predict_proba``); an array's columns are the codebook's leaves;
* a suggestions table with a ``suggested`` column (``"|"``-joined names) and optionally
  ``scores`` (``"|"``-joined floats in the same order) and ``status``.

A comment coded with a sub-theme counts for every ancestor too, once. Scores roll up to a parent
as ``1 - prod(1 - p_child)`` (the chance that at least one child applies, if independent).

With ``respondent`` ids, a respondent who wrote several comments in a cell counts as one cluster:
count intervals use the cluster design effect (Kish's effective sample size) and model-based
intervals cluster-robust variances.
"""

from __future__ import annotations

import warnings
from typing import Any, Sequence

import numpy as np
import pandas as pd

from themeassist.drift._codes import (_code_matrix, _labels, _warn_missing, _Node, _node_frame, _period_order,
                                      _resolve_codebook, _status_mask)
from themeassist.drift._stats import high_score_counts, wilson_interval
from themeassist._validation import check_param
from themeassist.exceptions import ThemeassistError

__all__ = ["PREVALENCE_COLUMNS", "PREVALENCE_METHODS", "audit_prevalence", "estimate_prevalence", "prevalence",
           "wilson_interval"]

#: Methods of :func:`prevalence` (the audit-corrected ones need ``audit=``; see :func:`audit_prevalence`).
PREVALENCE_METHODS: tuple[str, ...] = ("auto", "human", "classify_count", "prob_average", "ppi", "pacc", "emq",
                                       "adjusted")
#: Columns of :func:`prevalence` (``group`` only when groups are given).
PREVALENCE_COLUMNS: tuple[str, ...] = (
    "period", "group", "theme", "theme_id", "parent", "parent_id", "depth", "is_leaf", "n_comments", "n_excluded",
    "n_respondents", "n_theme", "prevalence", "ci_low", "ci_high", "n_theme_respondents", "respondent_prevalence",
    "respondent_ci_low", "respondent_ci_high", "method", "design_effect",
)  # fmt: skip
#: Columns of :func:`prevalence` that audit-corrected tables (:func:`audit_prevalence`,
#: :func:`estimate_prevalence`) leave out: a respondent-level share is not estimated from an audit,
#: and the estimates' intervals are cluster-robust over respondents already (no design effect).
COUNT_ONLY_COLUMNS: tuple[str, ...] = ("n_theme_respondents", "respondent_prevalence", "respondent_ci_low",
                                       "respondent_ci_high", "design_effect")
#: Extra columns of :func:`audit_prevalence`.
AUDIT_COLUMNS: tuple[str, ...] = ("n_checked", "n_checked_theme", "n_unchecked_audit", "n_known", "n_known_theme",
                                   "n_scored", "n_scored_high")
_COUNT_METHODS = ("human", "classify_count")
_AUDIT = ("ppi", "pacc", "emq")


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


def _assemble(rows: list[dict], nodes: list[_Node], with_group: bool, estimated: bool = False) -> pd.DataFrame:
    """The table of ``rows`` x ``nodes``; an audit-corrected one (``estimated``) without :data:`COUNT_ONLY_COLUMNS`."""
    meta = _node_frame(nodes)
    parts = []
    for r in rows:
        part = meta.copy()
        for k, v in r.items():
            part[k] = v
        parts.append(part)
    cols = [c for c in PREVALENCE_COLUMNS if (with_group or c != "group")
            and not (estimated and c in COUNT_ONLY_COLUMNS)]
    if not parts:
        return pd.DataFrame(columns=cols)
    out = pd.concat(parts, ignore_index=True)
    out = out[cols + [c for c in AUDIT_COLUMNS if c in out.columns]]
    for c in ("n_comments", "n_excluded"):
        out[c] = out[c].astype(int)
    for c in ("n_respondents", "n_theme_respondents")[:1 if estimated else 2]:
        out[c] = out[c].astype("Int64")
    return out


# ---- prevalence ---------------------------------------------------------------------------------
def prevalence(codes: Any, *, period: Any = None, group: Any = None, codebook: Any = None, respondent: Any = None,
               status: Any = None, method: str = "auto", audit: Any = None,
               checked_sample: tuple[Any, Any] | None = None,
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
        several comments on a theme counts once), and makes the comment-level intervals (and the
        tests of :func:`themeassist.drift.changes`) account for a respondent's comments being
        alike: ``design_effect`` is the ratio of the cluster-robust to the binomial variance.
    status : Series or sequence, optional
        Corpus status per comment (see :func:`themeassist.corpus.load_corpus`); only "ok" and
        "truncated" comments are counted, the others are reported in ``n_excluded``. Taken from a
        ``status`` column of a codes table holding corpus statuses when not given.
    method : str
        ``"human"`` (count the codes), ``"classify_count"`` (count scores >= ``threshold``:
        suggestions counted as if they were codes, NOT corrected for the model's errors),
        ``"prob_average"`` (mean score), or an audit-corrected estimator (``"ppi"``, ``"pacc"``,
        ``"emq"``; these need ``audit``, see :func:`audit_prevalence`). ``"auto"``: human for
        codes, classify_count for a suggestions table (warned), prob_average for scores.
    audit : sequence, optional
        For the audit-corrected methods: the audit codes per comment (see :func:`audit_prevalence`).
    checked_sample : (true_codes, checked_scores), optional
        For ``method="adjusted"``: a checked sample outside the periods (e.g. the mapper's
        cross-validated scores of its examples); see :func:`estimate_prevalence` (pooled error
        rates, ``pacc``).
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
        ``respondent_ci_high`` (missing without ``respondent``), ``method`` and ``design_effect``
        (1 without ``respondent``). An audit-corrected table (``ppi``, ``pacc``, ``emq``,
        ``adjusted``) has no respondent-level or ``design_effect`` columns
        (:data:`COUNT_ONLY_COLUMNS`): see :func:`audit_prevalence`.

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
    if method == "adjusted":
        return estimate_prevalence(codes, period=period, checked_sample=checked_sample, method="pacc",
                                   codebook=codebook, status=status, confidence=confidence, n_boot=n_boot,
                                   random_state=random_state, themes=themes)
    if method in _AUDIT:
        if audit is None:
            raise ThemeassistError(f"prevalence: method {method!r} needs audit= (the audit codes per comment, see "
                                   "audit_prevalence); without an audit use method='classify_count', whose figures "
                                   "are not corrected for the model's errors.")
        return audit_prevalence(codes, audit, period=period, codebook=codebook, status=status, method=method,
                                respondent=respondent, confidence=confidence, n_boot=n_boot,
                                random_state=random_state)
    mat, nodes, kind = _code_matrix(codes, codebook=codebook, use_scores=method == "prob_average", themes=themes)
    if method == "auto":  # a suggestions table is the machine's codes: counted, and said so
        machine = kind == "labels" and isinstance(codes, pd.DataFrame) and "suggested" in codes.columns
        method = "classify_count" if machine else "human" if kind == "labels" else "prob_average"
        if machine:
            warnings.warn("prevalence: the suggestions are counted as codes (method 'classify_count'), NOT "
                          "corrected for the model's errors; draw an audit (themeassist.drift.draw_audit), code "
                          "it and pass audit=.", UserWarning, stacklevel=2)
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
        deff = _design_effect(block, resp[idx]) if resp is not None and m > 1 else np.ones(block.shape[1])
        row["design_effect"] = deff
        if method in _COUNT_METHODS:
            k = block.sum(0)
            lo, hi = wilson_interval(k / deff, m / deff, confidence)
            row.update(n_theme=k.astype(int), prevalence=k / m if m else np.nan, ci_low=lo, ci_high=hi)
        else:
            est = block.mean(0) if m else np.full(block.shape[1], np.nan)
            if m:
                if resp is not None:  # cluster bootstrap: a respondent's comments are drawn together
                    codes_r = np.unique(resp[idx].astype(str), return_inverse=True)[1]
                    sums = np.zeros((codes_r.max() + 1, block.shape[1]))
                    np.add.at(sums, codes_r, block)
                    sizes = np.bincount(codes_r).astype(float)
                    w = rng.multinomial(len(sizes), np.full(len(sizes), 1.0 / len(sizes)), size=n_boot)
                    reps = (w @ sums) / (w @ sizes)[:, None]
                else:
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




def _design_effect(block: np.ndarray, resp: np.ndarray) -> np.ndarray:
    """Cluster-robust over binomial variance of each column's mean (at least 1)."""
    from themeassist.drift.quantification import cluster_variance

    m = len(block)
    est = block.mean(0)
    var_c = cluster_variance((block - est) / m, resp.astype(str))
    var_b = est * (1 - est) / m
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(var_b > 0, np.maximum(var_c / var_b, 1.0), 1.0)


def _node_scores(scores: Any, codebook: Any) -> tuple[np.ndarray, list[_Node]]:
    """Scores on every node of the codebook: ``score:<theme_id>`` columns (or plain theme-id/name
    columns, or an array over the leaves); a parent without its own column takes the maximum of
    its leaves' scores, as ``ThemeMapper.suggest`` does."""
    from themeassist.drift._codes import _nodes_of

    nodes = _nodes_of(codebook)
    ids = [n.theme_id for n in nodes]
    if isinstance(scores, pd.DataFrame):
        cols = {c[len("score:"):]: c for c in scores.columns if str(c).startswith("score:")}
        if not cols:
            for c in scores.columns:
                try:
                    cols.setdefault(codebook.get(str(c)).theme_id, c)
                except Exception:  # not a theme column (doc_id, text, ...)
                    continue
        if not cols:
            raise ThemeassistError("audit_prevalence: the scores table has no 'score:<theme_id>' columns (columns: "
                                   f"{', '.join(map(repr, map(str, list(scores.columns)[:12])))}); pass the "
                                   "suggestions file written by `themeassist suggest`, or one column per theme.")
        known = {t: pd.to_numeric(scores[c], errors="coerce").to_numpy(float) for t, c in cols.items() if t in ids}
        n = len(scores)
    else:
        arr = np.asarray(scores, dtype=float)
        leaves = [t.theme_id for t in codebook.leaves()]
        if arr.ndim != 2 or arr.shape[1] not in (len(leaves), len(ids)):
            raise ThemeassistError(f"audit_prevalence: a score array needs one column per leaf ({len(leaves)}) or per "
                                   f"theme ({len(ids)}) of the codebook; got shape {arr.shape}.")
        known = dict(zip(leaves if arr.shape[1] == len(leaves) else ids, arr.T))
        n = len(arr)
    out = np.zeros((n, len(nodes)))
    for j, tid in enumerate(ids):
        if tid in known:
            out[:, j] = known[tid]
            continue
        under = [known[d.theme_id] for d in codebook.descendants(tid) if d.theme_id in known]
        if not under:
            raise ThemeassistError(f"audit_prevalence: no score for theme {tid!r} or any theme under it; the scores "
                                   "must cover every theme of the codebook (score:<theme_id> columns). A suggestions "
                                   "file covers the codebook it was written with: give drift the same codebook and the "
                                   "same --none-codes / --merge-variants options as suggest (a none code such as "
                                   "'NotCodable' is not scored).")
        out[:, j] = np.max(np.vstack(under), axis=0)
    return np.clip(out, 0.0, 1.0), nodes  # missing scores stay NaN: only the counted rows need one


def _check_scored(mat: np.ndarray, keep: np.ndarray, nodes: list[_Node]) -> None:
    """Every counted comment needs a score for every theme (rows left out by their status need none:
    ``suggest`` scores no empty or non-answer comment)."""
    bad = ~np.isfinite(mat) & keep[:, None]
    if bad.any():
        r, c = np.argwhere(bad)[0]
        raise ThemeassistError(f"audit_prevalence: score of theme {nodes[c].theme_id!r} at row {r + 1} is missing or "
                               "not a number, and the row is counted (its status is 'ok' or 'truncated', or there is "
                               "no status column); score every counted comment with `themeassist suggest`, or give "
                               "the rows without scores a status such as 'empty' or 'non_answer'.")


def _roll_up(est: np.ndarray, lo: np.ndarray, hi: np.ndarray, nodes: list[_Node]) -> tuple[np.ndarray, ...]:
    """Parents rolled up consistently: a parent's comments include every child's, so its estimate and
    both interval ends are raised, period by period, to at least those of each of its children
    (deepest parents first, so that a grandparent sees its rolled-up children). The truth obeys the
    same order, so an interval raised this way misses it only where a child's interval does."""
    est, lo, hi = est.copy(), lo.copy(), hi.copy()
    col = {nd.theme_id: j for j, nd in enumerate(nodes)}
    for nd in sorted(nodes, key=lambda x: -x.depth):
        j, pj = col[nd.theme_id], col.get(nd.parent_id)
        if pj is None or pj == j:
            continue
        for arr in (est, lo, hi):
            arr[:, pj] = np.fmax(arr[:, pj], arr[:, j])
    return est, lo, hi


def _code_cells(values: Any, n: int, name: str, blank: str) -> list[Any]:
    """One codes cell per comment (``audit`` or ``known`` of :func:`audit_prevalence`), as a list."""
    cells = list(values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else values)
    if len(cells) != n:
        raise ThemeassistError(f"audit_prevalence: {name} has {len(cells)} entries but there are {n} comments; give "
                               f"one cell per comment (blank where not {blank}), in the same order.")
    return cells


def audit_prevalence(scores: Any, audit: Any, *, period: Any = None, codebook: Any, status: Any = None,
                     inclusion_probability: Any = None, respondent: Any = None, method: str = "pacc",
                     confidence: float = 0.95, n_boot: int = 200, random_state: int | None = 0,
                     pool_census: bool = False, known: Any = None,
                     known_random: bool | None = None) -> pd.DataFrame:
    """Audit-corrected prevalence of every theme per period: machine scores plus a coder's audit.

    Parameters
    ----------
    scores : DataFrame or array
        Machine scores of every comment: a suggestions table with ``score:<theme_id>`` columns
        (parents included, or taken as the maximum of their leaves), a table with one column per
        theme (names or ids), or an array with one column per leaf.
    audit : sequence
        Audit codes per comment, aligned with ``scores``: blank/None for a comment not checked
        (or not drawn), ``"none"`` for checked with no theme, else names/paths/ids joined by ``|``.
    period : sequence, optional
        Period per comment.
    codebook : Codebook or str
        Resolves the audit codes and gives the hierarchy (parents counted once per comment).
    status : sequence, optional
        Corpus status per comment; only "ok" and "truncated" comments count.
    inclusion_probability : sequence, optional
        Per checked comment, the probability with which it was drawn (the audit file's column).
    respondent : sequence, optional
        Respondent id per comment: cluster-robust intervals.
    method : {"pacc", "ppi", "emq"}
        See :mod:`themeassist.drift.quantification` (default: ``DEFAULT_AUDIT_METHOD``).
    confidence, n_boot, random_state
        Interval level; bootstrap replicates and seed (``emq``).
    pool_census : bool
        See :func:`themeassist.drift.audit_estimate`: pool fully checked periods into the error
        rates (only when their scores are out of sample).
    known : sequence, optional
        Codes of comments coded outside the audit, aligned with ``scores`` and written as the
        audit's cells (blank: not known): e.g. the ``example_codes`` column that ``themeassist
        suggest`` writes for comments that are coded examples. They are counted as coded and only
        the rest of each period is estimated (see :func:`themeassist.drift.audit_estimate`);
        their in-sample scores are never used.
    known_random : bool, optional
        The known comments are a random sample of their period (``known_random`` of
        :func:`themeassist.drift.audit_estimate`: their shares also estimate the rest's). Default:
        unless their codes differ from the audit's beyond chance; pass False for comments picked
        by hand.

    Returns
    -------
    DataFrame
        The columns of :func:`prevalence` (``n_theme`` is the estimated count) except
        :data:`COUNT_ONLY_COLUMNS` (``n_theme_respondents``, ``respondent_prevalence``,
        ``respondent_ci_low``, ``respondent_ci_high``, ``design_effect``: a respondent-level share
        is not estimated from an audit, and with ``respondent`` the intervals are cluster-robust
        already; ``n_respondents`` is kept) plus
        ``n_checked`` (checked comments in the period), ``n_checked_theme`` (of them coded with the
        theme), ``n_unchecked_audit`` (drawn for the audit but left blank), ``n_known`` and
        ``n_known_theme`` (comments coded outside the audit, and of them coded with the theme),
        ``n_scored`` and ``n_scored_high`` (the comments whose scores were used, i.e. not coded
        outside the audit, and of them those scoring the theme at least
        :data:`themeassist.drift.HIGH_SCORE`; counted by respondent, each once, where a
        respondent has several such comments in a period), which :func:`changes` uses next to an
        absent period.
        Parents are rolled up consistently: a parent's estimate and interval ends are never below
        a child's.
        ``attrs["covariance"]`` holds each theme's covariance between periods and the degrees of
        freedom of its tests (``df``; finite with respondent clusters), used by :func:`changes`.
        With ``known``, ``attrs["known_random_p"]`` is the permutation p-value of "the known
        comments are a random sample of their period" against the audit, and ``attrs["known_random"]``
        how the estimates used them (see ``known_random`` of :func:`changes`, which reads it, so
        that the flags treat them as the estimates did).

    Notes
    -----
    Longer than 80 lines because of its parameter documentation and the per-period table rows;
    the estimation itself is :func:`themeassist.drift.audit_estimate`.

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Access": None, "Staff": None})
    >>> s = pd.DataFrame({"score:access": [0.9, 0.8, 0.1, 0.2] * 25, "score:staff": [0.1, 0.2, 0.7, 0.1] * 25})
    >>> audit = ["Access", "Access", "Staff", "none"] * 5 + [""] * 80
    >>> t = audit_prevalence(s, audit, codebook=cb)
    >>> t[["theme", "n_checked", "n_checked_theme"]].values.tolist()
    [['Access', 20, 10.0], ['Staff', 20, 5.0]]
    """
    from themeassist.drift.audit import audit_labels
    from themeassist.drift.quantification import AUDIT_METHODS, audit_estimate

    check_param("method", method, owner="audit_prevalence", options=AUDIT_METHODS)
    codebook = _resolve_codebook(codebook)
    if codebook is None:
        raise ThemeassistError("audit_prevalence: pass codebook= (it resolves the audit codes and gives the hierarchy).")
    mat, nodes = _node_scores(scores, codebook)
    n = len(mat)
    ids = [nd.theme_id for nd in nodes]
    labels, checked = audit_labels(_code_cells(audit, n, "audit", "checked"), codebook, ids)
    known_y = None if known is None else audit_labels(_code_cells(known, n, "known", "coded"), codebook, ids)[0]
    per = _labels(period, n, "period")
    n_no_period = _warn_missing(per, "period")
    keep = _status_mask(status, scores, n) & ~pd.isna(pd.Series(per, dtype=object)).to_numpy()
    _check_scored(mat, keep, nodes)
    drawn = np.zeros(n, bool) if inclusion_probability is None else \
        pd.notna(pd.Series(list(inclusion_probability), dtype=object)).to_numpy()
    incl = None if inclusion_probability is None else pd.to_numeric(pd.Series(list(inclusion_probability)),
                                                                     errors="coerce").fillna(1.0).to_numpy(float)
    resp = None if respondent is None else _labels(respondent, n, "respondent")
    order = _period_order(pd.Series(per[keep], dtype=object))
    idx = np.flatnonzero(keep)
    res = audit_estimate(mat[idx], labels[idx], per[idx], periods=order,
                         inclusion_probability=None if incl is None else incl[idx],
                         cluster=None if resp is None else resp[idx], method=method, confidence=confidence,
                         n_boot=n_boot, random_state=random_state, pool_census=pool_census,
                         known=None if known_y is None else known_y[idx], known_random=known_random)
    if res.fallback.any():
        names = [nd.name for nd, f in zip(nodes, res.fallback) if f]
        warnings.warn(f"audit_prevalence: {len(names)} themes have fewer than 2 checked positives in the audit, or "
                      f"scores that do not tell them apart ({', '.join(names[:8])}{' ...' if len(names) > 8 else ''}); "
                      f"they are estimated per period with 'ppi' instead of {method!r}.", stacklevel=2)
    est, lo, hi = _roll_up(res.prevalence, res.ci_low, res.ci_high, nodes)
    # a parent raised to a child's estimate no longer has its own covariance: its tests use its interval
    raised = (np.abs(est - res.prevalence) > 1e-12).any(0)
    not_known = np.ones(n, bool) if known_y is None else np.isnan(known_y).any(1)  # coded examples: in-sample scores
    scored, high = high_score_counts(mat, keep & not_known, per, order, resp)
    rows = []
    for t, p in enumerate(order):
        cell = keep & (per == p)
        m = int(cell.sum())
        rows.append({"period": p, "group": "", "n_comments": m, "n_excluded": int(((per == p) & ~keep).sum()),
                     "method": method, "n_respondents": len(set(resp[cell])) if resp is not None else pd.NA,
                     "n_theme": est[t] * m, "prevalence": est[t], "ci_low": lo[t], "ci_high": hi[t],
                     "n_checked": int(res.n_checked[t]), "n_checked_theme": res.n_checked_theme[t],
                     "n_unchecked_audit": int((cell & drawn & ~checked).sum()),
                     "n_known": 0 if res.n_known is None else int(res.n_known[t]),
                     "n_known_theme": 0.0 if res.n_known_theme is None else res.n_known_theme[t],
                     "n_scored": scored[t], "n_scored_high": high[t]})
    table = _assemble(rows, nodes, False, estimated=True)  # below: the themes estimated by ppi say so
    table.loc[table["theme_id"].isin({nd.theme_id for nd, f in zip(nodes, res.fallback) if f}), "method"] = "ppi"
    n_known = int((keep & ~not_known).sum())
    if n_known:
        table.attrs.update(known_random_p=res.known_random_p, known_random=res.known_random)
    table.attrs.update(n_no_period=n_no_period, n_checked=int(checked.sum()), n_known=n_known,
                       n_unchecked_audit=int((drawn & ~checked).sum()),
                       covariance={nd.theme_id: {"periods": list(order), "cov": None if raised[j] else res.cov[j],
                                                 "df": res.df} for j, nd in enumerate(nodes)})
    return table


def estimate_prevalence(scores: Any, *, period: Any = None, checked_sample: tuple[Any, Any] | None = None,
                        method: str = "pacc", codebook: Any = None, status: Any = None,
                        confidence: float = 0.95, n_boot: int = 200, random_state: int | None = 0,
                        themes: Sequence[str] | None = None) -> pd.DataFrame:
    """Prevalence from a classifier's scores, corrected with a checked sample that is not drawn per period.

    The checked sample (human codes and out-of-sample scores of other comments, e.g.
    cross-validated scores of the training comments) gives pooled error rates (``"pacc"``) or a
    calibration (``"emq"``); both assume the classifier errs alike in every period (label shift).
    Prefer an audit drawn per period (:func:`audit_prevalence`), which needs no such assumption
    with ``"ppi"``.

    Parameters
    ----------
    scores : DataFrame or array (n, k)
        Scores of the comments to count, one column per theme (names as ``themes`` or the
        codebook's leaves).
    period, codebook, status, confidence, n_boot, random_state
        As in :func:`audit_prevalence`.
    checked_sample : (true_codes, checked_scores)
        Codes of the checked comments (0/1 array or DataFrame with the same columns, or a sequence
        of ``"|"``-joined codes) and their scores.
    method : {"pacc", "emq"}
    themes : list of str, optional
        Column names of a plain array (without a codebook every column is a top-level theme).

    Returns
    -------
    DataFrame
        As :func:`audit_prevalence`.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random((3000, 1)) < 0.2).astype(float)
    >>> s = np.clip(0.6 * y + rng.normal(0.2, 0.1, y.shape), 0, 1)
    >>> t = estimate_prevalence(s[:1000], checked_sample=(y[1000:], s[1000:]), themes=["a"])
    >>> bool(abs(t.prevalence[0] - y[:1000].mean()) < 0.03)
    True
    """
    from themeassist.codebook import Codebook

    check_param("method", method, owner="estimate_prevalence", options=("pacc", "emq"))
    if checked_sample is None or len(checked_sample) != 2:
        raise ThemeassistError("estimate_prevalence: pass checked_sample=(true_codes, checked_scores) for coder-"
                               "checked comments, or audit a random sample per period and use audit_prevalence.")
    codebook = _resolve_codebook(codebook)

    def frame(a: Any) -> pd.DataFrame:
        if isinstance(a, pd.DataFrame):
            return a.reset_index(drop=True)
        arr = np.asarray(a, dtype=float)
        arr = arr[:, None] if arr.ndim == 1 else arr
        names = list(themes) if themes is not None else [t.theme_id for t in codebook.leaves()] if codebook else \
            [f"theme_{j}" for j in range(arr.shape[1])]
        return pd.DataFrame(arr, columns=names)

    sc, (ycodes, ysc) = frame(scores), checked_sample
    ys = frame(ysc)
    if codebook is None:
        codebook = Codebook.from_dict({str(c): None for c in sc.columns}, name="themes")
    as_text = isinstance(ycodes, (pd.Series, list, tuple)) and not (
        isinstance(ycodes, pd.Series) and pd.api.types.is_numeric_dtype(ycodes.dtype))
    if as_text:
        codes = ["none" if pd.isna(c) or not str(c).strip() else str(c) for c in list(ycodes)]
    else:
        yc = frame(ycodes)
        cb_ids = {str(c): codebook.get(str(c)).theme_id for c in yc.columns}
        codes = ["|".join(cb_ids[str(c)] for c in yc.columns if r[c] > 0.5) or "none" for _, r in yc.iterrows()]
    both = pd.concat([sc, ys], ignore_index=True)
    per = list(_labels(period, len(sc), "period")) + [None] * len(ys)
    st = None if status is None else list(_labels(status, len(sc), "status")) + ["ok"] * len(ys)
    audit = [""] * len(sc) + codes
    with np.errstate(all="ignore"):
        out = _estimate_with_outside(both, audit, per, codebook, st, method, confidence, n_boot, random_state)
    return out


def _estimate_with_outside(scores: pd.DataFrame, audit: list[str], per: list[Any], codebook: Any, status: Any,
                           method: str, confidence: float, n_boot: int, random_state: int | None) -> pd.DataFrame:
    """audit_prevalence where the checked rows have no period (they are pooled, never counted)."""
    from themeassist.drift.audit import audit_labels
    from themeassist.drift.quantification import audit_estimate

    mat, nodes = _node_scores(scores, codebook)
    labels, _ = audit_labels(audit, codebook, [nd.theme_id for nd in nodes])
    per_arr = np.array(per, dtype=object)
    inside = pd.notna(pd.Series(per_arr, dtype=object)).to_numpy()
    keep = inside & (np.ones(len(per_arr), bool) if status is None else np.isin(np.asarray(status, dtype=object),
                                                                                ("ok", "truncated")))
    _check_scored(mat, keep | ~inside, nodes)
    order = _period_order(pd.Series(per_arr[keep], dtype=object))
    idx = np.concatenate([np.flatnonzero(keep), np.flatnonzero(~inside)])
    per_idx = per_arr[idx].copy()
    per_idx[len(np.flatnonzero(keep)):] = "\x00checked"
    res = audit_estimate(mat[idx], labels[idx], per_idx, periods=order, method=method, confidence=confidence,
                         n_boot=n_boot, random_state=random_state)
    rows = []
    for t, p in enumerate(order):
        m = int((keep & (per_arr == p)).sum())
        rows.append({"period": p, "group": "", "n_comments": m, "n_excluded": int(((per_arr == p) & ~keep).sum()),
                     "method": method, "n_respondents": pd.NA,
                     "n_theme": res.prevalence[t] * m, "prevalence": res.prevalence[t], "ci_low": res.ci_low[t],
                     "ci_high": res.ci_high[t]})
    return _assemble(rows, nodes, False, estimated=True)

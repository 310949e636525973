"""Audit samples: which comments a coder checks so that machine suggestions can be corrected.

:func:`draw_audit` draws a simple random sample of comments in each period (stratified by
period, reproducible with a seed) and writes, per comment to check, ``doc_id``, the period column,
``text``, ``inclusion_probability`` (the chance the comment was drawn: sample size over the
period's substantive comments) and an empty ``codes`` column. The coder writes theme names, paths
or ids joined by ``|``, or ``none`` when no theme applies; a blank row means *not checked yet*: it
is counted and reported, left out of the estimate, and never read as "none". The rows come in a
random order within each period, so a coder who stops part way leaves a random sub-sample.

:func:`audit_size` says how many comments to check per period for a target interval half-width,
from the scores alone (a power calculation that assumes the scores are calibrated; with checked
comments in hand, :func:`themeassist.drift.audit_prevalence` gives the real width).
:func:`audit_labels` reads the coder's ``codes`` cells into 0/1 rows per theme.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from themeassist._schema import EXAMPLE_CODES_COLUMN, NONE_WORDS, is_none_word, known_codes, listed_columns
from themeassist._validation import check_param
from themeassist.drift._codes import _period_order
from themeassist.exceptions import CodebookError, CorpusError

__all__ = ["AUDIT_FILE_COLUMNS", "KNOWN_CODES_COLUMN", "NONE_WORDS", "audit_labels", "audit_size", "draw_audit",
           "known_codes", "read_period_column"]

#: Columns of the audit file (the period column keeps its name in between).
AUDIT_FILE_COLUMNS: tuple[str, ...] = ("doc_id", "text", "inclusion_probability", "codes")
#: Column of a suggestions file with the codes of comments that were coded examples (written by
#: ``themeassist suggest``): never drawn into an audit, counted as coded by ``drift --audit``.
KNOWN_CODES_COLUMN = EXAMPLE_CODES_COLUMN
_SUBSTANTIVE = ("ok", "truncated")


def read_period_column(df: pd.DataFrame, period_col: str, *, period_freq: str | None = None,
                       date_format: str | None = None, owner: str = "drift") -> tuple[pd.Series, list[str]]:
    """Period labels of a table's column, read as :func:`themeassist.corpus.load_corpus` reads them.

    Years and labels are kept; dates become periods at ``period_freq`` (default: chosen from the
    span of the dates, as ``load_corpus`` does). Returns the labels (None where unreadable) and the
    warnings.

    Examples
    --------
    >>> per, _ = read_period_column(pd.DataFrame({"d": ["03/01/2021", "15/07/2021", "20/02/2022"]}), "d",
    ...                             period_freq="Y")
    >>> per.tolist()
    ['2021', '2021', '2022']
    """
    from themeassist.corpus import FREQS, read_periods

    check_param("period_freq", period_freq, owner=owner, options=FREQS, allow_none=True)
    if period_col not in df.columns:
        import difflib

        close = difflib.get_close_matches(str(period_col), [str(c) for c in df.columns], n=1, cutoff=0.5)
        hint = f" Pass period_col={close[0]!r} (--period-col {close[0]})?" if close else ""
        raise CorpusError(f"{owner}: period column {period_col!r} not found (columns: "
                          f"{listed_columns(df.columns)}).{hint}")
    res = read_periods(df[period_col].reset_index(drop=True), column=period_col, freq=period_freq,
                       date_format=date_format)
    return pd.Series(res.period, dtype=object), [w.replace("load_corpus:", f"{owner}:") for w in res.warnings]


def draw_audit(suggestions: pd.DataFrame, *, period_col: str, per_period: int, seed: int = 0,
               period_freq: str | None = None, date_format: str | None = None, text_col: str = "text",
               periods: Sequence[Any] | None = None) -> pd.DataFrame:
    """Draw a random audit sample of ``per_period`` comments in each period, for a coder to check.

    Parameters
    ----------
    suggestions : DataFrame
        The suggestions file (or any table of comments) with ``doc_id``, ``text`` and the period
        column; rows whose ``status`` is not "ok"/"truncated" are never drawn.
    period_col : str
        Period column (years, labels or dates; read as :func:`themeassist.corpus.load_corpus` does).
    per_period : int
        Comments to draw per period (all of them when a period has fewer).
    seed : int
        Random seed: the same call draws the same sample.
    period_freq, date_format : str, optional
        For dates: the period length ("Y", "Q", "M", "W", "D") and an explicit format.
    text_col : str
        Column with the comment text.
    periods : sequence, optional
        Draw only in these periods (e.g. the ones not coded by hand).

    Returns
    -------
    DataFrame
        One row per comment to check: ``doc_id``, ``period_col`` (as in the input), ``text``,
        ``inclusion_probability`` and an empty ``codes`` column, periods in order and rows in a
        random order within a period. ``attrs["periods"]`` gives each drawn row's period label,
        ``attrs["n_known"]`` the comments not drawn because their codes are known
        (:data:`KNOWN_CODES_COLUMN`).

    Examples
    --------
    >>> df = pd.DataFrame({"doc_id": [f"d{i}" for i in range(10)], "year": [2020] * 6 + [2021] * 4,
    ...                    "text": ["x"] * 10})
    >>> a = draw_audit(df, period_col="year", per_period=3, seed=1)
    >>> a.groupby("year").inclusion_probability.first().round(2).tolist(), len(a), bool(a.codes.eq("").all())
    ([0.5, 0.75], 6, True)
    """
    if not isinstance(per_period, (int, np.integer)) or isinstance(per_period, bool) or per_period < 1:
        raise CorpusError(f"draw_audit: per_period must be a whole number of at least 1; got {per_period!r}.")
    missing = [c for c in ("doc_id", text_col) if c not in suggestions.columns]
    if missing:
        raise CorpusError(f"draw_audit: the table lacks column(s) {missing} (columns: "
                          f"{', '.join(map(repr, map(str, suggestions.columns)))}); pass the suggestions file "
                          "written by `themeassist suggest`.")
    df = suggestions.reset_index(drop=True)
    per, _ = read_period_column(df, period_col, period_freq=period_freq, date_format=date_format,
                                owner="audit")
    ok = df["status"].astype(str).isin(_SUBSTANTIVE).to_numpy() if "status" in df.columns else np.ones(len(df), bool)
    known = known_codes(df) != ""
    has = per.notna().to_numpy() & ok & ~known
    order = _period_order(per[has])
    if periods is not None:
        wanted = {str(p) for p in periods}
        unknown = sorted(wanted - {str(p) for p in order})
        if unknown:
            raise CorpusError(f"draw_audit: no comment that can be drawn is in period(s) {', '.join(map(repr, unknown))}; "
                              f"the periods with comments to draw are {', '.join(repr(str(p)) for p in order) or 'none'}"
                              " (comments coded already and non-answers are never drawn). Pass some of those "
                              "(CLI: --periods '2016|2017').")
        order = [p for p in order if str(p) in wanted]
    rng = np.random.default_rng(seed)
    picks, probs, labels = [], [], []
    for p in order:
        idx = np.flatnonzero(has & (per == p).to_numpy())
        take = min(int(per_period), len(idx))
        chosen = rng.choice(idx, size=take, replace=False)
        picks.append(chosen)
        probs.append(np.full(take, take / len(idx)))
        labels += [p] * take
    rows = np.concatenate(picks) if picks else np.array([], int)
    out = pd.DataFrame({"doc_id": df["doc_id"].astype(str).to_numpy()[rows],
                        period_col: df[period_col].to_numpy()[rows],
                        "text": df[text_col].to_numpy()[rows],
                        "inclusion_probability": np.concatenate(probs) if probs else np.array([], float),
                        "codes": ""})
    out.attrs["periods"] = labels
    out.attrs["n_known"] = int(known.sum())
    return out



def audit_labels(codes: Sequence[Any], codebook: Any, theme_ids: Sequence[str], *,
                 row_names: Sequence[str] | None = None, column: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Read coders' ``codes`` cells into 0/1 rows over ``theme_ids`` (ancestors counted).

    A blank cell is *not checked* (a NaN row); ``none`` (see :data:`NONE_WORDS`) is checked with no
    theme; anything else is resolved by :func:`themeassist.codebook.read_codes` (ids, then
    paths, then unique names; every problem named once with its rows). ``row_names`` name each
    cell in those messages (default ``"audit codes, row N ('<cell>')"``, N counting ``codes``
    from 1), followed by ``column`` when given. Returns the matrix and the mask of checked rows.

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Staff": ["Attitude"], "Access": None})
    >>> y, chk = audit_labels(["Attitude", "none", "", "access"], cb, ["staff", "staff.attitude", "access"])
    >>> y[[0, 1, 3]].tolist(), chk.tolist()
    ([[1.0, 1.0, 0.0], [0.0, 0.0, 0.0], [0.0, 0.0, 1.0]], [True, True, False, True])
    """
    from themeassist.codebook import read_codes

    pos = {t: j for j, t in enumerate(theme_ids)}
    out = np.full((len(codes), len(theme_ids)), np.nan)
    checked = np.zeros(len(codes), bool)
    todo: list[tuple[int, str]] = []
    for i, cell in enumerate(codes):
        text = "" if cell is None or (isinstance(cell, float) and math.isnan(cell)) else str(cell).strip()
        if not text:
            continue
        checked[i] = True
        out[i] = 0.0
        if not is_none_word(text):
            todo.append((i, text))
    names = [f"audit codes, row {i + 1} ({t!r})" if row_names is None else str(row_names[i]) for i, t in todo]
    try:  # all cells at once: one message per problem, with its rows (not one warning per cell)
        resolved = read_codes([t for _, t in todo], codebook, row_names=names, column=column)
    except CodebookError as exc:
        raise CodebookError(f"{exc} Write theme names, paths or ids joined by '|', 'none' when no theme applies, or "
                            "leave the cell blank if not checked.") from exc
    for (i, _), ids in zip(todo, resolved):
        for tid in ids:
            for t in [tid, *[a.theme_id for a in codebook.ancestors(tid)]]:
                if t in pos:
                    out[i, pos[t]] = 1.0
    return out, checked


def audit_size(scores: Any, *, period: Any = None, half_width: float = 0.05, confidence: float = 0.95,
               themes: Sequence[str] | None = None) -> pd.DataFrame:
    """Comments to check per period for an interval of at most ``half_width`` on every theme.

    A power calculation from the scores alone, for prediction-powered inference: if the scores
    are calibrated, the residual ``code - score`` has variance ``mean(s (1 - s))``, and the
    half-width with ``n`` checked of ``N`` comments is ``z sqrt(mean(s(1-s)) / n + var(s) / N)``.
    Scores that are not calibrated make the real interval wider; the audit-only (Wilson-like)
    size ``z^2 p (1 - p) / h^2`` is given beside it as the upper bound.

    Parameters
    ----------
    scores : DataFrame or array (n, k)
        Scores in [0, 1] per comment and theme (e.g. the ``score:`` columns of a suggestions file).
    period : sequence, optional
        Period per comment (one row per period and theme in the result).
    half_width, confidence : float
        Target half-width (as a share, 0.05 = 5 points) and interval level.
    themes : list of str, optional
        Column names of an array.

    Returns
    -------
    DataFrame
        ``period, theme, n_comments, mean_score, n_needed`` (with the scores' help) and
        ``n_needed_without_scores``, sorted by period and theme; ``attrs["n_per_period"]`` is the
        largest ``n_needed`` per period.

    Examples
    --------
    >>> s = pd.DataFrame({"a": [0.05] * 900 + [0.9] * 100})
    >>> int(audit_size(s, half_width=0.03).n_needed.iloc[0])
    306
    """
    check_param("half_width", half_width, owner="audit_size", between=(1e-6, 0.5))
    check_param("confidence", confidence, owner="audit_size", between=(0.5, 0.999999))
    if isinstance(scores, pd.DataFrame):
        names, s = [str(c) for c in scores.columns], scores.to_numpy(dtype=float)
    else:
        s = np.asarray(scores, dtype=float)
        names = list(themes) if themes is not None else [f"theme_{j}" for j in range(s.shape[1])]
    per = np.array(["all"] * len(s), dtype=object) if period is None else np.asarray(period, dtype=object)
    z = float(stats.norm.ppf(0.5 + confidence / 2))
    rows = []
    for p in _period_order(per):
        block = s[per == p]
        big_n = len(block)
        resid = (block * (1 - block)).mean(0)
        var = block.var(0)
        room = half_width ** 2 / z ** 2 - var / max(big_n, 1)
        pbar = block.mean(0)
        for j, name in enumerate(names):
            need = big_n if room[j] <= 0 else min(big_n, math.ceil(resid[j] / room[j]))
            alone = min(big_n, math.ceil(z ** 2 * max(pbar[j] * (1 - pbar[j]), 1e-9) / half_width ** 2))
            rows.append({"period": p, "theme": name, "n_comments": big_n, "mean_score": float(pbar[j]),
                         "n_needed": int(max(need, 1)), "n_needed_without_scores": int(max(alone, 1))})
    out = pd.DataFrame(rows)
    out.attrs["n_per_period"] = out.groupby("period")["n_needed"].max().to_dict() if len(out) else {}
    return out

"""Candidate codes per period, and the ones that are new in a period (see :func:`candidate_periods`)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from themeassist.drift._codes import _SUBSTANTIVE, _period_order
from themeassist.drift._stats import _flags, _state, wilson_interval
from themeassist._validation import check_param
from themeassist.exceptions import ThemeassistError

__all__ = ["CANDIDATE_PERIOD_COLUMNS", "candidate_periods"]

#: Columns of :func:`candidate_periods`.
CANDIDATE_PERIOD_COLUMNS: tuple[str, ...] = (
    "candidate_id", "label", "keywords", "period", "n_comments", "n_excluded", "n_code", "share", "ci_low",
    "ci_high", "state", "flag", "first_present", "new_period", "new_in_period",
)  # fmt: skip


def _no_period(values: pd.Series) -> np.ndarray:
    return (values.isna() | values.astype(str).str.strip().eq("")).to_numpy()


def candidate_periods(assignments: pd.DataFrame, period: Any, *, candidates: pd.DataFrame | None = None,
                      min_count: float = 3, min_prev: float = 0.01, absent_prev: float | None = None,
                      confidence: float = 0.95) -> pd.DataFrame:
    """Candidate codes per period, and the codes that are new in a period (minimum-evidence rule).

    Each candidate code of discovery is counted in each period as a share of the period's
    substantive comments (outliers included in the denominator), with a Wilson interval. Its
    state in a period follows the rule of :func:`themeassist.drift.changes`: *present* with at
    least ``min_count`` comments and an interval whose lower end is above ``min_prev``; *absent*
    with no comment (or an interval below ``absent_prev``), in a period large enough to show it
    (at the code's share in the other periods, no comment at all has a probability of at most
    :data:`ABSENT_SURPRISE`: 0 of 5 comments says nothing of a code of 2 %); otherwise *unclear*,
    so one stray comment never makes a code present and a handful of comments never makes it new. A code is **new** in the period where ``changes`` would
    flag it "appears": its first period present, after at least one period where it was absent
    and none where it was present. A code present from the first period, or one that was only
    *unclear* before (some evidence, never clearly absent), is not new.

    Parameters
    ----------
    assignments : DataFrame
        One row per corpus row, in corpus order: :attr:`CandidateDiscovery.assignments_
        <themeassist.discovery.CandidateDiscovery>` (columns ``candidate_id``, Int64, -1 for an
        outlier and NA for a non-substantive row, and ``status``; ``doc_id`` optional).
    period : str, Series or sequence
        One period per row of ``assignments`` (e.g. the corpus' ``period`` column), or the name
        of a column of ``assignments``. Periods are ordered as in :func:`themeassist.drift.prevalence`
        (a categorical's order, else sorted).
    candidates : DataFrame, optional
        :attr:`CandidateDiscovery.candidate_codes_` (``candidate_id``, ``label``, ``keywords``):
        adds each code's label and keywords.
    min_count, min_prev, absent_prev
        The minimum-evidence rule, as in :func:`themeassist.drift.changes`.
    confidence : float
        Level of the Wilson intervals.

    Returns
    -------
    pandas.DataFrame
        One row per candidate code x period (codes by id, periods in order), columns
        :data:`CANDIDATE_PERIOD_COLUMNS`: ``candidate_id``, ``label``, ``keywords`` ("" without
        ``candidates``), ``period``, ``n_comments`` (substantive rows of the period),
        ``n_excluded`` (rows of the period without a substantive status or a candidate id),
        ``n_code`` (comments assigned the code), ``share`` (n_code / n_comments), ``ci_low``,
        ``ci_high``, ``state`` ("present", "absent", "unclear", "no_data"), ``flag``
        ("appears", "vanishes", "returns" or "", as in ``changes``), and per code, repeated on its
        rows: ``first_present`` (first period present, or NA), ``new_period`` (the period where it
        is new, or NA); ``new_in_period`` is True on that one row. ``attrs`` records the
        accounting of every input row: ``n_rows``, ``n_no_period`` (rows without a period, in no
        period: warned), ``n_excluded`` (non-substantive rows), ``n_outliers``, ``n_assigned``
        (rows with a candidate code); ``n_no_period + n_excluded + n_outliers + n_assigned ==
        n_rows``.

    Raises
    ------
    ThemeassistError
        When a column is missing, or ``period`` does not have one value per row.

    Examples
    --------
    >>> asg = pd.DataFrame({"candidate_id": pd.array([0] * 9 + [1] * 3 + [1] * 6, dtype="Int64"),
    ...                     "status": ["ok"] * 18})
    >>> t = candidate_periods(asg, ["2020"] * 6 + ["2021"] * 6 + ["2022"] * 6, min_prev=0.0)
    >>> t.loc[t.new_in_period, ["candidate_id", "period", "n_code"]].values.tolist()
    [[1, '2021', 3]]
    """
    check_param("confidence", confidence, owner="candidate_periods", between=(0.5, 0.999999))
    check_param("min_prev", min_prev, owner="candidate_periods", between=(0.0, 1.0))
    absent_prev = min_prev if absent_prev is None else absent_prev
    if not isinstance(assignments, pd.DataFrame):
        raise ThemeassistError("candidate_periods: assignments must be the DataFrame CandidateDiscovery."
                               f"assignments_ (one row per corpus row). Got {type(assignments).__name__}.")
    if "candidate_id" not in assignments.columns:
        raise ThemeassistError("candidate_periods: assignments lacks the column 'candidate_id' (columns: "
                               f"{', '.join(map(repr, map(str, assignments.columns)))}); pass "
                               "CandidateDiscovery.assignments_.")
    asg = assignments.reset_index(drop=True)
    n = len(asg)
    if isinstance(period, str):
        if period not in asg.columns:
            raise ThemeassistError(f"candidate_periods: period column {period!r} not found in assignments "
                                   f"(columns: {', '.join(map(repr, map(str, asg.columns)))}); pass the corpus' "
                                   "period column as a Series instead.")
        per = asg[period]
    else:
        per = period.reset_index(drop=True) if isinstance(period, pd.Series) else pd.Series(list(period),
                                                                                           dtype=object)
    if len(per) != n:
        raise ThemeassistError(f"candidate_periods: period has {len(per)} values but assignments has {n} rows; "
                               "pass one period per assignments row, in the same (corpus) order.")
    no_period = _no_period(per)
    if no_period.any():
        rows = ", ".join(map(str, np.flatnonzero(no_period)[:10] + 1)) + (" ..." if no_period.sum() > 10 else "")
        warnings.warn(f"candidate_periods: {int(no_period.sum())} rows have no period (rows {rows}) and are "
                      "counted in no period; give them a period or check how the period column was read.",
                      stacklevel=2)
    cid = pd.array(asg["candidate_id"], dtype="Int64")
    has_id = ~np.asarray(pd.isna(cid), dtype=bool)
    substantive = has_id.copy()
    if "status" in asg.columns:
        substantive &= asg["status"].astype(str).isin(_SUBSTANTIVE).to_numpy()
    ids = np.where(substantive, np.asarray(cid.fillna(-1), dtype=np.int64), -1)
    outlier = substantive & (ids < 0)
    order = _period_order(per[~no_period] if isinstance(per.dtype, pd.CategoricalDtype)
                          else pd.Series(np.asarray(per, dtype=object)[~no_period], dtype=object))
    per_arr = np.asarray(per, dtype=object)
    codes = sorted(int(c) for c in set(ids[substantive & (ids >= 0)].tolist()))
    if candidates is not None:
        known = candidates.loc[pd.to_numeric(candidates["candidate_id"], errors="coerce") >= 0, "candidate_id"]
        codes = sorted(set(codes) | {int(c) for c in known})
    names = _names(candidates)
    rows: list[dict[str, Any]] = []
    cells = []
    for p in order:
        in_p = (per_arr == p) & ~no_period
        keep = in_p & substantive
        cells.append((p, int(keep.sum()), int((in_p & ~substantive).sum()), ids[keep]))
    for c in codes:
        label, keywords = names.get(c, ("", ""))
        block = []
        for p, m, n_excl, cell_ids in cells:
            k = int((cell_ids == c).sum())
            lo, hi = wilson_interval(k, m, confidence)
            block.append({"candidate_id": c, "label": label, "keywords": keywords, "period": p, "n_comments": m,
                          "n_excluded": n_excl, "n_code": k, "share": k / m if m else np.nan, "ci_low": float(lo),
                          "ci_high": float(hi),
                          "state": _state(k, float(lo), float(hi), m, min_count, min_prev, absent_prev)})
        _too_small_to_be_absent(block)
        flags = _flags([r["state"] for r in block])
        first = next((r["period"] for r in block if r["state"] == "present"), pd.NA)
        new = next((r["period"] for r, f in zip(block, flags) if f == "appears"), pd.NA)
        for r, f in zip(block, flags):
            r.update(flag=f, first_present=first, new_period=new, new_in_period=f == "appears")
        rows += block
    out = pd.DataFrame(rows, columns=list(CANDIDATE_PERIOD_COLUMNS))
    out["candidate_id"] = out["candidate_id"].astype("Int64")
    out["new_in_period"] = out["new_in_period"].astype(bool)
    out.attrs.update(n_rows=n, n_no_period=int(no_period.sum()), n_excluded=int((~no_period & ~substantive).sum()),
                     n_outliers=int((~no_period & outlier).sum()),
                     n_assigned=int((~no_period & substantive & (ids >= 0)).sum()))
    return out


#: A period without a comment of a code is *absent* only when, at the code's share in the other
#: periods, it would hold none with at most this probability (else it is *unclear*).
ABSENT_SURPRISE = 0.05


def _too_small_to_be_absent(block: list[dict[str, Any]]) -> None:
    """Periods read as absent for want of a comment of the code that are too small for it: at the
    code's share in the other periods ``q``, ``(1 - q) ** n`` exceeds :data:`ABSENT_SURPRISE`
    (no comment is what one would expect), so they are *unclear* (0 of 5 says nothing of a code
    of 2 %, 0 of 500 does). Discovery's codes are counted in every comment of a period, but a
    period's comments are a sample of what people would say."""
    k = np.array([r["n_code"] for r in block], dtype=float)
    n = np.array([r["n_comments"] for r in block], dtype=float)
    for i, r in enumerate(block):
        if r["state"] != "absent" or r["n_code"] > 0:
            continue
        rest_n = n.sum() - n[i]
        q = (k.sum() - k[i]) / rest_n if rest_n > 0 else 0.0
        if (1.0 - q) ** n[i] > ABSENT_SURPRISE:
            r["state"] = "unclear"


def _names(candidates: pd.DataFrame | None) -> dict[int, tuple[str, str]]:
    if candidates is None:
        return {}
    if "candidate_id" not in candidates.columns:
        raise ThemeassistError("candidate_periods: candidates lacks the column 'candidate_id' (columns: "
                               f"{', '.join(map(repr, map(str, candidates.columns)))}); pass "
                               "CandidateDiscovery.candidate_codes_.")
    out = {}
    for r in candidates.to_dict("records"):
        cid = pd.to_numeric(pd.Series([r["candidate_id"]]), errors="coerce").iloc[0]
        if pd.notna(cid):
            text = [r.get(k, "") for k in ("label", "keywords")]
            out[int(cid)] = tuple("" if v is None or (isinstance(v, float) and np.isnan(v)) else str(v)
                                  for v in text)
    return out  # type: ignore[return-value]

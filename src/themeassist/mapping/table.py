"""The suggestions table: one builder for every engine (in process, chunked, Dask).

A suggestions table has one row per input row, in input order. Readable columns are for the coder;
machine columns, keyed by theme id, are what the other stages read back (drift, audit, decisions,
agreement, the report), so that no stage has to parse display names or rounded strings:

======================  ==========================================================================
``doc_id, status``      the input row (status as from :func:`~themeassist.corpus.load_corpus`)
``suggested``           leaf names, best first, ``"|"``-joined; ``""`` = none of these
``scores``              their scores, 2 decimals, same order (readable)
``parents``             the ancestors of the suggested leaves, ``parent_scores`` their scores
``suggested_ids``       the theme ids of ``suggested``, same order (machine)
``evidence``            per suggested leaf: the nearest coded example or the codebook text matched
``candidate_id``        discovery's candidate code (only with candidate assignments)
``none_of_these``       bool; missing for rows that were not scored
``top_score``           the best leaf score (4 decimals)
``score:<theme_id>``    one float column per codebook theme, in codebook (depth-first) order,
                        parents included (a parent's score is the maximum over its leaves); empty
                        (NaN) for rows that were not scored. Rounded to 6 decimals.
======================  ==========================================================================

Optional columns, added on request by :mod:`themeassist.mapping.conformal` and
:mod:`themeassist.mapping.review` (``themeassist suggest --target-recall / --auto-accept /
--review-order``), after the score columns:

=========================  =======================================================================
``recall_set``             the themes of the comment's set for a target recall (names, best
                           first); ``recall_set_ids`` their theme ids
``auto_accept``            the suggested themes safe to accept (estimated precision at least the
                           target); ``auto_accept_ids`` their theme ids
``review_rank``            order in which to review comments (1 first); ``selection_probability``
                           the probability that the row is in the review sample (rows with
                           ``review_sample`` True), known for every scored row
=========================  =======================================================================

Examples
--------
>>> t = suggestion_table(["a", "b"], ["ok", "empty"], np.array([0]), np.array([[0.8, 0.1]]), [[0]],
...                      ThemeIndex(("x.p", "x.q"), ("P", "Q"), ("x",), ("X",), ((0,), (0,)), ("x", "x.p", "x.q")))
>>> t[["doc_id", "suggested", "suggested_ids", "score:x", "score:x.p"]].values.tolist()
[['a', 'P', 'x.p', 0.8, 0.8], ['b', '', '', nan, nan]]
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import math

import numpy as np
import pandas as pd

from themeassist.exceptions import CorpusError

__all__ = ["SCORE_PREFIX", "SUGGESTION_COLUMNS", "ThemeIndex", "join_leaves", "leaf_scores", "score_columns",
           "suggestion_rows", "suggestion_table"]

#: Readable and machine columns of a suggestions table, in order, before the ``score:<theme_id>``
#: columns (``candidate_id`` only with candidate assignments).
SUGGESTION_COLUMNS: tuple[str, ...] = (
    "doc_id", "status", "suggested", "scores", "parents", "parent_scores", "suggested_ids",
    "evidence", "candidate_id", "none_of_these", "top_score",
)  # fmt: skip
#: Prefix of the per-theme score columns: ``score:<theme_id>``.
SCORE_PREFIX = "score:"


@dataclass(frozen=True)
class ThemeIndex:
    """The theme layout a table is built for (from a fitted mapper).

    Attributes
    ----------
    leaf_ids, leaf_names : tuple of str
        The scored leaves (the columns of the score matrix), in order.
    parent_ids, parent_names : tuple of str
        The themes with children, in order (the columns of :meth:`ThemeMapper.rollup`).
    leaf_parents : tuple of tuple of int
        Per leaf, the indices (into ``parent_ids``) of its ancestors.
    theme_order : tuple of str
        Every theme id in codebook (depth-first) order: the order of the ``score:`` columns.
    """

    leaf_ids: tuple[str, ...]
    leaf_names: tuple[str, ...]
    parent_ids: tuple[str, ...]
    parent_names: tuple[str, ...]
    leaf_parents: tuple[tuple[int, ...], ...]
    theme_order: tuple[str, ...]

    def rollup(self, P: np.ndarray) -> np.ndarray:
        """Parent scores (n, n_parents): the maximum over each parent's leaves."""
        R = np.zeros((P.shape[0], len(self.parent_ids)), dtype=np.float64)
        for j, ps in enumerate(self.leaf_parents):
            for k in ps:
                R[:, k] = np.maximum(R[:, k], P[:, j])
        return R


def score_columns(theme_ids: Sequence[str]) -> list[str]:
    """The machine score column of each theme id: ``score:<theme_id>``.

    Examples
    --------
    >>> score_columns(["staff", "staff.attitude"])
    ['score:staff', 'score:staff.attitude']
    """
    return [f"{SCORE_PREFIX}{t}" for t in theme_ids]


def suggestion_table(
    doc_ids: Sequence[str],
    status: Sequence[str],
    scored: np.ndarray,
    P: np.ndarray,
    picks: Sequence[Sequence[int]],
    index: ThemeIndex,
    *,
    evidence: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The suggestions table for ``len(doc_ids)`` input rows.

    Parameters
    ----------
    doc_ids, status : sequences of str
        One per input row.
    scored : ndarray of int
        Indices of the rows that were scored (in increasing order); the others get no suggestion.
    P : ndarray of shape (len(scored), n_leaves)
        Leaf scores of the scored rows, columns in ``index.leaf_ids`` order.
    picks : list of list of int
        Per scored row, the suggested leaf columns, best first.
    index : ThemeIndex
    evidence : sequence of str, optional
        Per scored row (default: blank).

    Returns
    -------
    DataFrame
        The columns of :data:`SUGGESTION_COLUMNS` (without ``candidate_id``) and the
        ``score:<theme_id>`` columns; see the module docstring.
    """
    n = len(doc_ids)
    scored = np.asarray(scored, dtype=int)
    P = np.asarray(P, dtype=np.float64).reshape(len(scored), len(index.leaf_ids))
    R = index.rollup(P)
    cols: dict[str, list[Any]] = {c: [""] * n for c in
                                  ("suggested", "scores", "parents", "parent_scores", "suggested_ids", "evidence")}
    none_col: list[Any] = [pd.NA] * n
    top: list[float] = [float("nan")] * n
    for r, i in enumerate(scored):
        js = list(picks[r])
        cols["suggested"][i] = "|".join(index.leaf_names[j] for j in js)
        cols["suggested_ids"][i] = "|".join(index.leaf_ids[j] for j in js)
        cols["scores"][i] = "|".join(f"{P[r, j]:.2f}" for j in js)
        pk = list(dict.fromkeys(k for j in js for k in index.leaf_parents[j]))
        pk.sort(key=lambda k: -R[r, k])
        cols["parents"][i] = "|".join(index.parent_names[k] for k in pk)
        cols["parent_scores"][i] = "|".join(f"{R[r, k]:.2f}" for k in pk)
        if evidence is not None:
            cols["evidence"][i] = evidence[r]
        none_col[i] = not js
        top[i] = round(float(P[r].max()), 4) if P.shape[1] else float("nan")
    out = pd.DataFrame({"doc_id": list(doc_ids), "status": list(status), **cols})
    out["none_of_these"] = pd.array(none_col, dtype="boolean")
    out["top_score"] = top
    # machine scores: every theme, leaves from P and parents from their roll-up
    full = np.full((n, len(index.theme_order)), np.nan)
    pos = {t: k for k, t in enumerate(index.theme_order)}
    for j, t in enumerate(index.leaf_ids):
        full[scored, pos[t]] = P[:, j]
    for k, t in enumerate(index.parent_ids):
        full[scored, pos[t]] = R[:, k]
    scores = pd.DataFrame(np.round(full, 6), columns=score_columns(index.theme_order))
    return pd.concat([out, scores], axis=1)


def leaf_scores(table: pd.DataFrame, index: ThemeIndex) -> tuple[np.ndarray, np.ndarray]:
    """The scored rows of a suggestions table and their leaf scores, read back from the
    ``score:<leaf_id>`` columns: row indices (n_scored,) and scores (n_scored, n_leaves).

    Examples
    --------
    >>> ix = ThemeIndex(("p", "q"), ("P", "Q"), (), (), ((), ()), ("p", "q"))
    >>> t = suggestion_table(["a", "b"], ["ok", "empty"], np.array([0]), np.array([[0.8, 0.1]]), [[0]], ix)
    >>> rows, P = leaf_scores(t, ix)
    >>> rows.tolist(), P.tolist()
    ([0], [[0.8, 0.1]])
    """
    cols = score_columns(index.leaf_ids)
    miss = [c for c in cols if c not in table.columns]
    if miss:
        raise CorpusError(f"suggestions table: score columns {miss[:3]} not found; pass a table written by "
                          "ThemeMapper.suggest / 'themeassist suggest' with the same mapper.")
    S = table[cols].to_numpy(dtype=np.float64, na_value=np.nan)
    rows = np.flatnonzero(~np.isnan(S).any(1))
    return rows, S[rows]


def join_leaves(n: int, rows: np.ndarray, P: np.ndarray, mask: np.ndarray,
                index: ThemeIndex) -> tuple[list[str], list[str]]:
    """Per input row, the leaves of ``mask`` (n_scored, n_leaves) as ``"|"``-joined names and ids,
    best-scored first (blank for rows not in ``rows``).

    Examples
    --------
    >>> ix = ThemeIndex(("p", "q"), ("P", "Q"), (), (), ((), ()), ("p", "q"))
    >>> join_leaves(2, np.array([1]), np.array([[0.2, 0.7]]), np.array([[True, True]]), ix)
    (['', 'Q|P'], ['', 'q|p'])
    """
    names, ids = [""] * n, [""] * n
    for r, i in enumerate(rows):
        js = np.flatnonzero(mask[r])
        js = js[np.argsort(-P[r, js], kind="stable")]
        names[i] = "|".join(index.leaf_names[j] for j in js)
        ids[i] = "|".join(index.leaf_ids[j] for j in js)
    return names, ids


def suggestion_rows(texts_or_corpus: Any) -> tuple[list[str], list[str], list[str]]:
    """``doc_id``, ``status`` and text of every input row, as :meth:`ThemeMapper.suggest` reads them.

    A corpus table (``doc_id, text, status`` as from :func:`~themeassist.corpus.load_corpus`) is read
    as it is; plain texts (or a table without ``doc_id`` / ``status``) get ``doc_id`` = row number
    from 1 and status "ok", or "empty" for a blank text.

    Examples
    --------
    >>> suggestion_rows(["Cold food", "  "])
    (['1', '2'], ['ok', 'empty'], ['Cold food', ''])
    """
    if isinstance(texts_or_corpus, pd.DataFrame):
        df = texts_or_corpus
        if "text" not in df.columns:
            raise CorpusError("ThemeMapper.suggest: the table has no 'text' column; pass the output of "
                              "load_corpus or a list of texts.")
        doc_ids = (df["doc_id"].astype(str) if "doc_id" in df.columns
                   else pd.Series([str(i + 1) for i in range(len(df))])).tolist()
        status = (df["status"].astype(str).tolist() if "status" in df.columns else
                  ["ok" if not _blank(t) else "empty" for t in df["text"]])
        texts = ["" if _blank(t) else str(t) for t in df["text"]]
    else:
        if isinstance(texts_or_corpus, (str, bytes)):
            raise CorpusError("ThemeMapper.suggest: expected a corpus table or a list of comments, got a single "
                              "string; wrap it in a list.")
        texts = ["" if _blank(t) else str(t) for t in list(texts_or_corpus)]
        doc_ids = [str(i + 1) for i in range(len(texts))]
        status = ["ok" if t.strip() else "empty" for t in texts]
    return doc_ids, status, texts


def _blank(v: Any) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())

"""Coded example comments: the examples table that :meth:`ThemeMapper.fit` takes, and its labels.

The examples table has columns ``text`` and ``codes`` (theme names, ids or paths at any level,
joined by ``"|"``), optionally ``doc_id``, ``negative_codes`` (codes a coder rejected: known
negatives, see :func:`themeassist.mapping.agreement.read_decisions`) and ``weight`` (a positive
number, default 1: how much the row counts in every scorer, the calibration and the tuning of the
decision rule; e.g. give a coder's recent decisions more weight than old examples).
:func:`read_examples` reads them from a file or a table with other column names;
:func:`examples_from_long` builds them from a long table (``doc_id, theme_id``) and the texts.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from themeassist.codebook import Codebook
from themeassist.exceptions import CodebookError, CorpusError

__all__ = ["EXAMPLE_COLUMNS", "examples_from_long", "read_examples"]

EXAMPLE_COLUMNS: tuple[str, ...] = ("doc_id", "text", "codes", "negative_codes")


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def read_examples(
    source: str | os.PathLike | pd.DataFrame,
    *,
    text_col: str = "text",
    codes_col: str = "codes",
    id_col: str | None = None,
    codebook: Codebook | None = None,
    sep: str = "|",
) -> pd.DataFrame:
    """Read coded example comments into the examples table that :meth:`ThemeMapper.fit` takes.

    Parameters
    ----------
    source : path or DataFrame
        A CSV/XLSX/parquet file or a table with one coded comment per row.
    text_col, codes_col : str
        The comment text and its codes (theme names, ids or paths at any level joined by ``sep``).
    id_col : str, optional
        Row ids; the row number (``"ex1"``, ``"ex2"``, ...) when absent.
    codebook : Codebook, optional
        When given, every code is checked now (unknown codes raise, naming the row).
    sep : str, default "|"

    Returns
    -------
    DataFrame
        Columns ``doc_id, text, codes, negative_codes`` (codes joined by ``"|"``); rows without
        text are dropped.

    Examples
    --------
    >>> df = pd.DataFrame({"comment": ["Lovely food"], "theme": ["Food"]})
    >>> read_examples(df, text_col="comment", codes_col="theme")[["text", "codes"]].values.tolist()
    [['Lovely food', 'Food']]
    """
    if isinstance(source, pd.DataFrame):
        df = source
    else:
        from themeassist.corpus import read_comments

        df = read_comments(source)  # the corpus reader: any encoding/delimiter, .txt, broken quotes refused
    where = "read_examples" if isinstance(source, pd.DataFrame) else f"read_examples({str(source)!r})"
    for param, col in (("text_col", text_col), ("codes_col", codes_col), ("id_col", id_col)):
        if col is not None and col not in df.columns:
            raise CorpusError(f"{where}: column {col!r} not found (columns: "
                              f"{', '.join(map(repr, map(str, df.columns)))}). Pass {param}=<the right column>.")
    out = pd.DataFrame({
        "doc_id": (df[id_col].astype(str) if id_col else [f"ex{i + 1}" for i in range(len(df))]),
        "text": df[text_col].map(lambda v: "" if _blank(v) else str(v)),
        "codes": df[codes_col].map(lambda v: "" if _blank(v) else str(v)),
        "negative_codes": (df["negative_codes"].map(lambda v: "" if _blank(v) else str(v))
                           if "negative_codes" in df.columns else ""),
    })
    if sep != "|":
        for c in ("codes", "negative_codes"):
            out[c] = out[c].map(lambda s: "|".join(p.strip() for p in s.split(sep) if p.strip()))
    if codebook is not None:
        for i, (codes, neg) in enumerate(zip(out["codes"], out["negative_codes"])):
            try:
                codebook.resolve_codes(codes)
                codebook.resolve_codes(neg)
            except CodebookError as exc:
                raise CodebookError(f"{where}: row {i + 1} (column {codes_col!r}): {exc}") from exc
    return out[out["text"].str.strip() != ""].reset_index(drop=True)


def examples_from_long(long: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """Examples table from a long code table (``doc_id, theme_id``, one row per code) and a table
    with ``doc_id, text`` (e.g. a corpus).

    Examples
    --------
    >>> long = pd.DataFrame({"doc_id": ["1", "1"], "theme_id": ["food", "staff"]})
    >>> examples_from_long(long, pd.DataFrame({"doc_id": ["1"], "text": ["Nice food, kind staff"]}))["codes"].tolist()
    ['food|staff']
    """
    for name, df, cols in (("long", long, ("doc_id", "theme_id")), ("texts", texts, ("doc_id", "text"))):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise CorpusError(f"examples_from_long: the {name} table lacks columns {miss}.")
    codes = long.astype({"doc_id": str}).groupby("doc_id", sort=False)["theme_id"].agg(
        lambda s: "|".join(dict.fromkeys(map(str, s))))
    t = texts.astype({"doc_id": str})
    t = t[t["doc_id"].isin(codes.index)]
    return pd.DataFrame({"doc_id": t["doc_id"].values, "text": t["text"].astype(str).values,
                         "codes": codes.reindex(t["doc_id"]).values, "negative_codes": ""})


def _label_matrix(examples: pd.DataFrame, codebook: Any, leaf_ids: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Leaf labels ``Y`` and known-mask ``M`` from the examples' codes and negative codes."""
    col = {t: j for j, t in enumerate(leaf_ids)}
    leaves_under = {t.theme_id: [d.theme_id for d in codebook.descendants(t.theme_id) if d.is_leaf]
                    for t in codebook.themes if not t.is_leaf}
    n, L = len(examples), len(leaf_ids)
    Y = np.zeros((n, L), dtype=np.int8)
    M = np.ones((n, L), dtype=np.float64)
    negs = examples["negative_codes"] if "negative_codes" in examples.columns else [""] * n
    for i, (codes, neg) in enumerate(zip(examples["codes"], negs)):
        try:
            pos_ids = codebook.resolve_codes(codes)
            neg_ids = codebook.resolve_codes(neg)
        except CodebookError as exc:
            raise CodebookError(f"ThemeMapper.fit: examples row {i + 1} (doc_id "
                                f"{examples['doc_id'].iloc[i] if 'doc_id' in examples else i + 1!r}): {exc}") from exc
        unknown: set[int] = set()
        for tid in pos_ids:
            if tid in col:
                Y[i, col[tid]] = 1
            else:  # a parent-level code: one of its leaves applies, which one is unknown
                unknown |= {col[c] for c in leaves_under.get(tid, [])}
        for j in unknown:
            if not Y[i, j]:
                M[i, j] = 0.0
        if not pos_ids and neg_ids:
            # a bare rejection: only the rejected themes are known (not applying)
            M[i, :] = 0.0
        for tid in neg_ids:
            for j in ([col[tid]] if tid in col else [col[c] for c in leaves_under.get(tid, [])]):
                if not Y[i, j]:
                    M[i, j] = 1.0
    return Y, M


def example_weights(examples: pd.DataFrame) -> np.ndarray:
    """The ``weight`` column of an examples table as floats (1 where absent or blank).

    Raises
    ------
    CorpusError
        A weight that is not a positive finite number (the row and value are named).

    Examples
    --------
    >>> example_weights(pd.DataFrame({"text": ["a", "b"], "codes": ["x", "y"], "weight": [2, None]})).tolist()
    [2.0, 1.0]
    """
    if "weight" not in examples.columns:
        return np.ones(len(examples))
    out = np.ones(len(examples))
    for i, v in enumerate(examples["weight"]):
        if _blank(v) or v is pd.NA:
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = float("nan")
        if not (math.isfinite(f) and f > 0):
            raise CorpusError(f"ThemeMapper.fit: examples row {i + 1}, column 'weight': {v!r} is not a positive "
                              "number; give a weight > 0 (1 = an ordinary example) or leave it blank.")
        out[i] = f
    return out


def labelled_examples(examples: pd.DataFrame | None, codebook: Codebook,
                      leaf_ids: list[str]) -> tuple[pd.DataFrame | None, np.ndarray, np.ndarray, np.ndarray]:
    """The examples table checked (``doc_id`` added when absent), its labels ``Y``, known-mask
    ``M`` (n, n_leaves) and row weights; ``None`` and empty arrays without examples."""
    L = len(leaf_ids)
    if examples is None or not len(examples):
        return None, np.zeros((0, L), np.int8), np.zeros((0, L)), np.zeros(0)
    miss = [c for c in ("text", "codes") if c not in examples.columns]
    if miss:
        raise CorpusError(f"ThemeMapper.fit: examples lack columns {miss} (columns: "
                          f"{list(map(str, examples.columns))}); use read_examples(..., text_col=, codes_col=).")
    ex = examples.reset_index(drop=True).copy()
    if "doc_id" not in ex.columns:
        ex["doc_id"] = [f"ex{i + 1}" for i in range(len(ex))]
    ex["doc_id"] = ex["doc_id"].astype(str)
    Y, M = _label_matrix(ex, codebook, leaf_ids)
    return ex, Y, M, example_weights(ex)

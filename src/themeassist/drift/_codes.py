"""Codes in any accepted form -> one matrix with a column per node of the theme hierarchy.

Private helpers of :mod:`themeassist.drift` (and :mod:`themeassist.drift.tone`): human codes
(``"|"``-joined names), wide 0/1 or score tables and arrays, and suggestions tables are turned
into an ``(n_comments, n_nodes)`` matrix, sub-themes rolled up to their ancestors.
"""

from __future__ import annotations

import math
import re
import warnings
from typing import Any, NamedTuple, Sequence

import numpy as np
import pandas as pd

from themeassist._schema import is_none_word
from themeassist.exceptions import ThemeassistError

_SUBSTANTIVE = ("ok", "truncated")
_CORPUS_STATUSES = ("ok", "truncated", "empty", "missing", "non_text", "non_answer")


class _Node(NamedTuple):
    theme_id: str
    name: str
    parent: str
    parent_id: str
    depth: int
    is_leaf: bool


def _labels(values: Any, n: int, what: str) -> np.ndarray:
    if values is None:
        return np.array(["all"] * n, dtype=object)
    arr = np.asarray(values.to_numpy() if isinstance(values, (pd.Series, pd.Index)) else list(values), dtype=object)
    if len(arr) != n:
        raise ThemeassistError(f"drift: {what} has {len(arr)} values but there are {n} comments; pass one "
                               f"{what} value per comment, in the same order as the codes.")
    return arr


def _warn_missing(labels: np.ndarray, what: str) -> int:
    """Warn (and return how many) when some comments have no ``what``: they fall in no cell."""
    missing = np.flatnonzero(pd.isna(pd.Series(labels, dtype=object)).to_numpy())
    if len(missing):
        rows = ", ".join(str(i + 1) for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
        warnings.warn(f"drift: {len(missing)} comments have no {what} (rows {rows}) and are counted in no "
                      f"{what}; give them a {what} or check how the {what} column was read.", stacklevel=3)
    return int(len(missing))


def _row(i: int, doc_ids: Sequence[Any] | None) -> str:
    """'row 3 (doc_id 'x')' for 0-based position ``i``: messages count rows from 1."""
    return f"row {i + 1}" + (f" (doc_id {str(doc_ids[i])!r})" if doc_ids is not None else "")


def _ids_of(df: pd.DataFrame) -> list[Any] | None:
    return df["doc_id"].tolist() if "doc_id" in df.columns else None


_DIGITS = re.compile(r"(\d+)")


def _natural_key(value: Any) -> tuple[tuple[int, int, str], ...]:
    """Sort key that reads runs of digits as numbers: '9' < '10', 'Wave 9' < 'Wave 10', '2014-Q2' < '2014-Q10'."""
    parts = _DIGITS.split(str(value).strip().casefold())
    return tuple((0, int(t), "") if k % 2 else (1, 0, t) for k, t in enumerate(parts) if t)


def _period_order(values: Any) -> list[Any]:
    """Distinct values in their natural order: a categorical's own order, else numbers by value, else
    labels with their digits read as numbers (``'Wave 9'`` before ``'Wave 10'``, ``'2014'`` before ``'2015'``).

    Examples
    --------
    >>> _period_order(pd.Series(["10", "9", "10", "11"]))
    ['9', '10', '11']
    """
    if isinstance(values, pd.Series) and isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.dropna())
        return [c for c in values.cat.categories if c in present]
    uniq = list(pd.unique(pd.Series(np.asarray(values, dtype=object)).dropna()))
    if all(isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool) for v in uniq):
        return sorted(uniq)
    return sorted(uniq, key=lambda v: (_natural_key(v), str(v)))


# ---- codes in, node matrix out ------------------------------------------------------------------
def _resolve_codebook(codebook: Any) -> Any:
    if codebook is None or hasattr(codebook, "themes"):
        return codebook
    from themeassist.codebook import load_codebook

    return load_codebook(codebook)


def _split(value: Any) -> list[str]:
    """The codes of one cell; ``none`` (:data:`~themeassist._schema.NONE_WORDS`) is coded with no theme."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return []
    return [p.strip() for p in str(value).split("|") if p.strip() and not is_none_word(p)]


def _flat_nodes(names: list[str]) -> list[_Node]:
    from themeassist.codebook import slugify

    return [_Node(slugify(n) or n, n, "", "", 0, True) for n in names]


def _nodes_of(codebook: Any) -> list[_Node]:
    by_id = {t.theme_id: t for t in codebook.themes}
    return [_Node(t.theme_id, t.name, by_id[t.parent_id].name if t.parent_id else "", t.parent_id or "", t.depth,
                  t.is_leaf) for t in codebook.themes]


def _rollup(direct: np.ndarray, cols: list[str], codebook: Any, kind: str) -> tuple[np.ndarray, list[_Node]]:
    """direct: (n, len(cols)) values on the given themes -> values on every node that has data under it."""
    nodes = _nodes_of(codebook)
    pos = {c: j for j, c in enumerate(cols)}
    covered = []
    for node in nodes:
        under = [pos[t] for t in [node.theme_id, *[d.theme_id for d in codebook.descendants(node.theme_id)]]
                 if t in pos]
        covered.append(under)
    keep = [i for i, u in enumerate(covered) if u]
    out = np.zeros((len(direct), len(keep)))
    for k, i in enumerate(keep):
        block = direct[:, covered[i]]
        out[:, k] = block.max(1) if kind == "labels" else 1 - np.prod(1 - block, axis=1)
    return out, [nodes[i] for i in keep]


def _read_all(lists: list[list[str]], codebook: Any, doc_ids: Sequence[Any] | None,
              column: str | None = None) -> list[list[str]]:
    """Theme ids of every comment's codes, read as one column (:func:`themeassist.codebook.read_codes`):
    each warning (codes joined by another separator, a same-named sub-theme) comes once, counting
    and naming its rows; a none code of the codebook ("NotCodable") is coded with no theme. A code
    that names no theme (or several) is an error naming the first comment coded so. ``column``: the
    codes column's name, for the warnings."""
    from themeassist.codebook import read_codes
    from themeassist.exceptions import CodebookError

    names = None if doc_ids is None else [_row(i, doc_ids) for i in range(len(lists))]
    try:
        return read_codes(["|".join(lst) for lst in lists], codebook, row_names=names, column=column)
    except CodebookError as exc:
        first = exc
    if " codes could not be read: " in str(first):  # several: the reader's message names every row
        raise ThemeassistError(f"drift: {first}") from first
    for i, lst in enumerate(lists):  # one: name the comment coded so
        for name in lst:
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")  # warned of once, by read_codes, when the codes are right
                    codebook.resolve_codes([name])
            except Exception as exc:
                raise ThemeassistError(f"drift: the comment in {_row(i, doc_ids)} is coded {name!r}, which "
                                       f"codebook {codebook.name!r} cannot read as one theme: {exc}") from exc
    raise ThemeassistError(f"drift: {first}") from first  # no single code to blame: the reader's own message


def _from_strings(values: Sequence[Any], codebook: Any, doc_ids: Sequence[Any] | None = None,
                  column: str | None = None) -> tuple[np.ndarray, list[_Node]]:  # fmt: skip
    lists = [_split(v) for v in values]
    if codebook is None:
        names = list(dict.fromkeys(n for lst in lists for n in lst))
        pos = {n: j for j, n in enumerate(names)}
        mat = np.zeros((len(lists), len(names)))
        for i, lst in enumerate(lists):
            mat[i, [pos[n] for n in lst]] = 1
        return mat, _flat_nodes(names)
    cols = [t.theme_id for t in codebook.themes]
    pos = {c: j for j, c in enumerate(cols)}
    mat = np.zeros((len(lists), len(cols)))
    for i, ids in enumerate(_read_all(lists, codebook, doc_ids, column)):
        mat[i, [pos[t] for t in ids]] = 1
    all_nodes = _nodes_of(codebook)
    rolled, nodes = _rollup(mat, cols, codebook, "labels")
    # keep every node (zero counts are information), in codebook order
    assert [n.theme_id for n in nodes] == [n.theme_id for n in all_nodes]
    return rolled, nodes


def _wide(df: pd.DataFrame, codebook: Any) -> tuple[np.ndarray, list[_Node], str]:
    num = df.select_dtypes(include=["number", "bool"])
    if num.shape[1] == 0:
        raise ThemeassistError(f"drift: the codes table has no numeric theme columns (columns: "
                               f"{', '.join(map(repr, df.columns))}). Pass a 0/1 or score column per theme, a "
                               "'suggested' column, or a Series of '|'-joined names.")
    mat = num.to_numpy(dtype=float)
    if np.isnan(mat).any():
        r, c = np.argwhere(np.isnan(mat))[0]
        raise ThemeassistError(f"drift: missing value in the codes at {_row(r, _ids_of(df))}, column "
                               f"{num.columns[c]!r}; fill it with 0 or drop the row.")
    if mat.min() < 0 or mat.max() > 1:
        raise ThemeassistError("drift: theme columns must hold 0/1 codes or scores in [0, 1]; got values from "
                               f"{mat.min():g} to {mat.max():g}.")
    kind = "labels" if np.isin(mat, (0.0, 1.0)).all() else "scores"
    names = [str(c) for c in num.columns]
    if codebook is None:
        return mat, _flat_nodes(names), kind
    try:
        ids = [codebook.get(n).theme_id for n in names]
    except Exception as exc:
        raise ThemeassistError(f"drift: a column of the codes is not a theme of codebook {codebook.name!r}: "
                               f"{exc}") from exc
    out, nodes = _rollup(mat, ids, codebook, kind)
    return out, nodes, kind


def _suggestions(df: pd.DataFrame, codebook: Any, use_scores: bool) -> tuple[np.ndarray, list[_Node], str]:
    if not use_scores or "scores" not in df.columns:
        mat, nodes = _from_strings(df["suggested"].tolist(), codebook, _ids_of(df), "suggested")
        return mat, nodes, "labels"
    rows = []
    for i, (sug, sc) in enumerate(zip(df["suggested"], df["scores"])):
        names, vals = _split(sug), _split(sc)
        if len(names) != len(vals):
            raise ThemeassistError(f"drift: suggestions {_row(i, _ids_of(df))}: {len(names)} suggested themes but "
                                   f"{len(vals)} scores; 'scores' must give one number per suggested theme, in the "
                                   "same order.")
        try:
            rows.append(dict(zip(names, map(float, vals))))
        except ValueError as exc:
            raise ThemeassistError(f"drift: suggestions {_row(i, _ids_of(df))}, column 'scores': {sc!r} is not a "
                                   "'|'-joined list of numbers.") from exc
    names = list(dict.fromkeys(n for r in rows for n in r))
    if codebook is not None:
        names = [t.name for t in codebook.leaves() if t.name in set(names)] + \
            [n for n in names if n not in {t.name for t in codebook.leaves()}]
    wide = pd.DataFrame([[r.get(n, 0.0) for n in names] for r in rows], columns=names, dtype=float)
    mat, nodes, _ = _wide(wide, codebook)
    return mat, nodes, "scores"


def _code_matrix(codes: Any, *, codebook: Any = None, use_scores: bool = True,
                 themes: Sequence[str] | None = None) -> tuple[np.ndarray, list[_Node], str]:
    """Codes in any accepted form -> (matrix n x nodes, nodes, kind in {"labels", "scores"})."""
    codebook = _resolve_codebook(codebook)
    if isinstance(codes, pd.DataFrame):
        if "suggested" in codes.columns:
            return _suggestions(codes, codebook, use_scores)
        return _wide(codes, codebook)
    if isinstance(codes, np.ndarray) and codes.ndim == 2:
        if themes is None:
            if codebook is None:
                raise ThemeassistError("drift: a score/code array needs its column names: pass codebook= (columns "
                                       "are its leaves, in order) or themes=[...].")
            themes = [t.theme_id for t in codebook.leaves()]
        if len(themes) != codes.shape[1]:
            raise ThemeassistError(f"drift: the array has {codes.shape[1]} columns but {len(themes)} themes were "
                                   "named (codebook leaves or themes=); they must match.")
        return _wide(pd.DataFrame(codes, columns=list(themes)), codebook)
    if isinstance(codes, (str, bytes)):
        raise ThemeassistError("drift: codes must hold one entry per comment; got a single string.")
    name = codes.name if isinstance(codes, pd.Series) and isinstance(codes.name, str) else None
    mat, nodes = _from_strings(list(codes), codebook, column=name)
    return mat, nodes, "labels"


def _status_mask(status: Any, codes: Any, n: int) -> np.ndarray:
    if status is None and isinstance(codes, pd.DataFrame) and "status" in codes.columns:
        vals = codes["status"].astype(str)
        if vals.isin(_CORPUS_STATUSES).all():
            status = vals
    if status is None:
        return np.ones(n, bool)
    st = _labels(status, n, "status")
    return np.isin(st.astype(str), _SUBSTANTIVE)


def _node_frame(nodes: list[_Node]) -> pd.DataFrame:
    return pd.DataFrame({"theme": [n.name for n in nodes], "theme_id": [n.theme_id for n in nodes],
                         "parent": [n.parent for n in nodes], "parent_id": [n.parent_id for n in nodes],
                         "depth": [n.depth for n in nodes], "is_leaf": [n.is_leaf for n in nodes]})

"""Learning from the coder: decisions back into examples, and agreement statistics.

A suggestions file (from :meth:`themeassist.mapping.ThemeMapper.suggest`, e.g. written by
``themeassist suggest``) is edited by a coder: the ``decision`` column gets ``accept``, ``reject``
or ``recode`` per comment, and ``final_codes`` the right codes for a recode. :func:`read_decisions`
turns the edited file into examples for :meth:`ThemeMapper.fit` (rejections kept as negative
evidence), and :func:`agreement` measures per theme how far the suggestions agree with a coder.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from themeassist._schema import is_none_word
from themeassist.codebook import Codebook, load_codebook, read_codes, read_suggested_ids
from themeassist.exceptions import CorpusError
from themeassist.mapping.examples import _alone

__all__ = ["AGREEMENT_COLUMNS", "DECISIONS", "agreement", "read_decisions"]

#: Accepted values of the ``decision`` column (case-insensitive); blank = not reviewed (skipped).
DECISIONS: dict[str, str] = {
    "accept": "accept", "accepted": "accept", "yes": "accept", "y": "accept", "ok": "accept",
    "reject": "reject", "rejected": "reject", "no": "reject", "n": "reject",
    "recode": "recode", "recoded": "recode", "change": "recode", "changed": "recode",
}  # fmt: skip
#: Columns of :func:`agreement`.
AGREEMENT_COLUMNS: tuple[str, ...] = (
    "theme_id", "theme_name", "level", "n_docs", "n_human", "n_suggested", "n_both", "precision", "recall",
    "f1", "cohen_kappa", "krippendorff_alpha",
)  # fmt: skip


def _blank(v: Any) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip()) \
        or v is pd.NA


def _split(v: Any) -> list[str]:
    return [] if _blank(v) else [p.strip() for p in str(v).split("|") if p.strip()]


def _read(source: str | os.PathLike | pd.DataFrame) -> tuple[pd.DataFrame, str]:
    """The table as written: every cell text (``N/A``, ``007`` kept), the formula guard undone."""
    if isinstance(source, pd.DataFrame):
        return source, "read_decisions"
    from themeassist.io.tables import read_table, undo_formula_guard

    suffix = os.fspath(source).lower().rsplit(".", 1)[-1]
    text = {"dtype": str, "keep_default_na": False, "na_values": [""]} if suffix in ("csv", "xlsx") else {}
    return undo_formula_guard(read_table(source, **text)), f"read_decisions({str(source)!r})"


def read_decisions(
    source: str | os.PathLike | pd.DataFrame,
    *,
    codebook: Codebook | str | None = None,
    text_col: str = "text",
    id_col: str = "doc_id",
) -> pd.DataFrame:
    """Turn a coder-edited suggestions file into examples for :meth:`ThemeMapper.fit`.

    Parameters
    ----------
    source : path or DataFrame
        The suggestions table with at least ``doc_id, text, decision``, ``suggested_ids`` and/or
        ``suggested``, and for recodes ``final_codes`` (ids, paths or names joined by ``"|"``).
        Files are read as written (cells as text, the spreadsheet formula guard undone).
    codebook : Codebook, optional
        Reads the suggested themes by id from ``suggested_ids`` (where a coder edited the
        readable ``suggested`` column of a row, the edit wins and a warning names the rows) and
        checks every code now (errors name the row). Without it, the readable columns are
        passed on as written.
    text_col, id_col : str

    Returns
    -------
    DataFrame
        ``doc_id, text, codes, negative_codes, decision`` (theme ids when ``codebook`` is given): accept → ``codes`` = the suggested themes (accepting an empty suggestion means
        "none of the themes applies"); reject → ``negative_codes`` = the suggested themes, no
        positive code (other themes unknown); recode → ``codes`` = ``final_codes`` and
        ``negative_codes`` = the suggested themes the coder dropped; a recode to ``none`` (or
        to a none code of the codebook) = a comment no theme applies to. Rows without a decision
        are skipped.

    Examples
    --------
    >>> df = pd.DataFrame({"doc_id": ["1", "2"], "text": ["Cold food", "Rude"], "suggested": ["Food", "Food"],
    ...                    "decision": ["accept", "recode"], "final_codes": ["", "Staff"]})
    >>> read_decisions(df)[["codes", "negative_codes"]].values.tolist()
    [['Food', ''], ['Staff', 'Food']]
    >>> cb = Codebook.from_dict({"Care": ["Food", "Staff"]})
    >>> read_decisions(df, codebook=cb)[["codes", "negative_codes"]].values.tolist()
    [['care.food', ''], ['care.staff', 'care.food']]
    """
    df, where = _read(source)
    cb = load_codebook(codebook) if codebook is not None and not isinstance(codebook, Codebook) else codebook
    miss = [c for c in (id_col, text_col, "decision") if c not in df.columns]
    if miss or not {"suggested", "suggested_ids"} & set(df.columns):
        miss += [] if {"suggested", "suggested_ids"} & set(df.columns) else ["suggested"]
        raise CorpusError(f"{where}: columns {miss} not found (columns: {', '.join(map(repr, map(str, df.columns)))}); "
                          "edit the suggestions file written by 'themeassist suggest' (add a 'decision' column).")
    final = df["final_codes"] if "final_codes" in df.columns else pd.Series([""] * len(df), index=df.index)
    kinds = []
    for i, (doc, dec) in enumerate(zip(df[id_col], df["decision"]), start=1):
        kind = None if _blank(dec) else DECISIONS.get(str(dec).strip().lower())
        if kind is None and not _blank(dec):
            raise CorpusError(f"{where}: row {i} (doc_id {doc!r}), column 'decision': {dec!r} is not a decision; "
                              "use accept, reject or recode (or leave it blank to skip the row).")
        kinds.append(kind)
    rows_at = [i for i, k in enumerate(kinds) if k is not None]
    sub = df.iloc[rows_at]
    names = [f"row {i + 1} (doc_id {d!r})" for i, d in zip(rows_at, sub[id_col])]
    said = [not _blank(v) for v in final.iloc[rows_at]]  # final codes written, perhaps 'none'
    final_at = final.iloc[rows_at].map(lambda v: "" if is_none_word(v) else v)
    if cb is not None:
        suggested = read_suggested_ids(sub, cb, where=where, row_names=names)
        finals = read_codes(final_at, cb, column="final_codes", row_names=[f"{where}: {n}" for n in names])
    else:
        col = "suggested" if "suggested" in sub.columns else "suggested_ids"
        suggested, finals = [_split(v) for v in sub[col]], [_split(v) for v in final_at]
    out, as_recode = [], []
    for r, i in enumerate(rows_at):
        kind, sugg, fin, doc = kinds[i], suggested[r], finals[r], df[id_col].iloc[i]
        if kind == "accept" and (fin or said[r]) and fin != sugg:
            kind = "recode"
            as_recode.append(i + 1)
        if kind == "recode" and not fin and not said[r]:
            raise CorpusError(f"{where}: row {i + 1} (doc_id {doc!r}) says recode but 'final_codes' is empty; "
                              "give the right codes joined by '|', or 'none' when no theme applies (or use reject).")
        if kind == "reject" and not sugg:  # rejecting "none of these" without the right codes says nothing usable
            continue
        codes, neg = {"accept": (sugg, []), "reject": ([], sugg)}.get(kind, (fin, [s for s in sugg if s not in fin]))
        if kind == "recode" and not fin:  # recoded to none: every theme is known not to apply
            neg = []
        text = df[text_col].iloc[i]
        out.append({"doc_id": str(doc), "text": "" if _blank(text) else str(text), "codes": "|".join(codes),
                    "negative_codes": "|".join(neg), "decision": kind})
    if as_recode:
        import warnings

        shown = ", ".join(map(str, as_recode[:8])) + (", ..." if len(as_recode) > 8 else "")
        warnings.warn(f"{where}: {len(as_recode)} rows say accept but give other codes in 'final_codes' (rows {shown}): "
                      "read as recodes to those codes. Write recode there, or clear final_codes to accept the "
                      "suggestion.", UserWarning, stacklevel=2)
    return pd.DataFrame(out, columns=["doc_id", "text", "codes", "negative_codes", "decision"])


def _kappa(a: np.ndarray, b: np.ndarray) -> float:
    n = len(a)
    if n == 0:
        return float("nan")
    po = float((a == b).mean())
    pa, pb = float(a.mean()), float(b.mean())
    pe = pa * pb + (1 - pa) * (1 - pb)
    return float("nan") if pe >= 1.0 else (po - pe) / (1 - pe)


def _alpha(a: np.ndarray, b: np.ndarray) -> float:
    """Krippendorff's alpha, nominal, two coders, no missing values (via the ``krippendorff`` package)."""
    if len(a) == 0 or len(np.unique(np.concatenate([a, b]))) < 2:
        return float("nan")
    import krippendorff

    return float(krippendorff.alpha(reliability_data=np.vstack([a, b]).astype(float),
                                     level_of_measurement="nominal"))


def _codes_by_doc(df: pd.DataFrame, cb: Codebook, what: str, cols: tuple[str, ...]) -> dict[str, list[str]]:
    col = next((c for c in cols if c in df.columns), None)
    if col is None or "doc_id" not in df.columns:
        raise CorpusError(f"agreement: the {what} table needs 'doc_id' and one of {list(cols)} "
                          f"(columns: {list(map(str, df.columns))}).")
    docs = df["doc_id"].astype(str).tolist()
    names = [f"row {i} (doc_id {d!r})" for i, d in enumerate(docs, start=1)]
    if col in ("suggested_ids", "suggested"):
        ids = read_suggested_ids(df, cb, where=f"agreement: {what}", row_names=names)
    else:
        ids = read_codes(df[col], cb, column=col, row_names=[f"agreement: {what} {n}" for n in names])
    out: dict[str, list[str]] = {}
    long = col == "theme_id" and df["doc_id"].duplicated().any()
    for d, tids in zip(docs, ids):
        out[d] = out.get(d, []) + [t for t in tids if t not in out.get(d, [])] if long else tids
    return out


def _own_parents(codes: dict[str, list[str]], docs: list[str], cb: Codebook,
                 ancestors: dict[str, set[str]]) -> dict[str, np.ndarray]:
    """Per parent coded on its own in some comment (no more specific code of the same comment below
    it; a same-named sub-theme stands for it, see :meth:`Codebook.itself`), its 0/1 column over ``docs``."""
    out: dict[str, np.ndarray] = {}
    for i, d in enumerate(docs):
        for tid in _alone(codes[d], ancestors):
            own = cb.itself(tid)
            if not own.is_leaf:
                out.setdefault(own.theme_id, np.zeros(len(docs), dtype=np.int8))[i] = 1
    return out


def _row(t: Any, h: np.ndarray, s: np.ndarray) -> dict[str, Any]:
    """One theme's agreement statistics from the human and suggested 0/1 columns."""
    both, nh, ns = int((h & s).sum()), int(h.sum()), int(s.sum())
    return {"theme_id": t.theme_id, "theme_name": t.name, "level": "leaf" if t.is_leaf else "parent",
            "n_docs": len(h), "n_human": nh, "n_suggested": ns, "n_both": both,
            "precision": both / ns if ns else float("nan"), "recall": both / nh if nh else float("nan"),
            "f1": 2 * both / (nh + ns) if nh + ns else float("nan"), "cohen_kappa": _kappa(h, s),
            "krippendorff_alpha": _alpha(h, s)}


def agreement(
    suggestions: pd.DataFrame,
    human_codes: pd.DataFrame,
    codebook: Codebook | str | os.PathLike,
    *,
    parents: bool = True,
) -> pd.DataFrame:
    """Agreement between suggestions and a human coder, per theme, with a macro-average row.

    Compared on the comments present in both tables (and, when ``suggestions`` has a ``status``
    column, scored by the mapper: status ok/truncated). A parent coded on its own (by the coder or
    the mapper, without one of its sub-themes in the same comment) is a code of its own: its row
    has level ``"itself"`` and the parent's id, and it counts in the macro average like a leaf;
    with ``parents=True`` each parent is also compared after rolling both sides up (a comment has
    the parent when it has any theme below it, or the parent itself).

    Parameters
    ----------
    suggestions : DataFrame
        ``doc_id`` and ``suggested_ids`` or ``suggested`` (``"|"``-joined), as from ``suggest``.
    human_codes : DataFrame
        ``doc_id`` and ``codes`` (``"|"``-joined names/ids/paths), or a long table ``doc_id, theme_id``.
    codebook : Codebook, path or built-in name
    parents : bool, default True

    Returns
    -------
    DataFrame
        Columns ``theme_id, theme_name, level ("leaf"/"itself"/"parent"/"macro"), n_docs,
        n_human, n_suggested, n_both, precision, recall, f1, cohen_kappa, krippendorff_alpha``; one
        row per leaf, one per parent coded on its own in either table (``theme_name`` "<name>
        (itself)"), one per parent when ``parents``, then the row ``theme_id="macro"`` averaging the
        leaf and "itself" rows, i.e. every code (NaN ignored). ``theme_id`` is unique within a level
        (an "itself" row and its parent's rolled-up row share the parent's id).

    Examples
    --------
    >>> cb = Codebook.from_dict({"Food": None, "Staff": None})
    >>> s = pd.DataFrame({"doc_id": ["1", "2", "3", "4"], "suggested": ["Food", "Food", "Staff", ""]})
    >>> h = pd.DataFrame({"doc_id": ["1", "2", "3", "4"], "codes": ["Food", "Staff", "Staff", ""]})
    >>> row = agreement(s, h, cb).set_index("theme_id").loc["food"]
    >>> float(row.precision), float(row.recall), int(row.n_both)
    (0.5, 1.0, 1)
    >>> cb = Codebook.from_dict({"Staff": ["Attitude", "Skill"]})
    >>> s = pd.DataFrame({"doc_id": ["1", "2"], "suggested": ["Staff", "Attitude"]})
    >>> h = pd.DataFrame({"doc_id": ["1", "2"], "codes": ["Staff", "Staff|Attitude"]})
    >>> out = agreement(s, h, cb)
    >>> out[out["level"] == "itself"][["theme_name", "n_human", "n_suggested", "n_both"]].values.tolist()
    [['Staff (itself)', 1, 1, 1]]
    """
    cb = codebook if isinstance(codebook, Codebook) else load_codebook(codebook)
    sug = suggestions
    if "status" in sug.columns:
        sug = sug[sug["status"].astype(str).isin(("ok", "truncated"))]
    s_codes = _codes_by_doc(sug, cb, "suggestions", ("suggested_ids", "suggested"))
    h_codes = _codes_by_doc(human_codes, cb, "human_codes", ("codes", "theme_id"))
    docs = [d for d in s_codes if d in h_codes]
    if not docs:
        raise CorpusError("agreement: no doc_id is in both the suggestions and the human codes; check that the "
                          "ids match (they are compared as strings).")
    leaves = cb.leaves()
    themes = list(leaves) + ([t for t in cb.themes if not t.is_leaf] if parents else [])
    col = {t.theme_id: j for j, t in enumerate(themes)}

    def matrix(codes: dict[str, list[str]]) -> np.ndarray:
        M = np.zeros((len(docs), len(themes)), dtype=np.int8)
        for i, d in enumerate(docs):
            for tid in codes[d]:
                targets = [tid] + ([a.theme_id for a in cb.ancestors(tid)] if parents else [])
                for t in targets:
                    if t in col:
                        M[i, col[t]] = 1
        return M

    H, S = matrix(h_codes), matrix(s_codes)
    rows = [_row(t, H[:, col[t.theme_id]], S[:, col[t.theme_id]]) for t in leaves]
    ancestors = {t.theme_id: {a.theme_id for a in cb.ancestors(t.theme_id)} for t in cb.themes}
    h_own, s_own = _own_parents(h_codes, docs, cb, ancestors), _own_parents(s_codes, docs, cb, ancestors)
    zero = np.zeros(len(docs), dtype=np.int8)
    for t in cb.themes:  # parents coded on their own: codes of their own, after the leaves
        if t.theme_id in h_own or t.theme_id in s_own:
            rows.append({**_row(t, h_own.get(t.theme_id, zero), s_own.get(t.theme_id, zero)),
                         "theme_name": f"{t.name} (itself)", "level": "itself"})
    rows += [_row(t, H[:, col[t.theme_id]], S[:, col[t.theme_id]]) for t in themes if not t.is_leaf]
    out = pd.DataFrame(rows, columns=list(AGREEMENT_COLUMNS))
    leaf_rows = out[out["level"].isin(("leaf", "itself"))]
    macro = {"theme_id": "macro", "theme_name": "macro average (codes)", "level": "macro", "n_docs": len(docs),
             "n_human": int(leaf_rows["n_human"].sum()), "n_suggested": int(leaf_rows["n_suggested"].sum()),
             "n_both": int(leaf_rows["n_both"].sum())}
    for c in ("precision", "recall", "f1", "cohen_kappa", "krippendorff_alpha"):
        vals = leaf_rows[c].astype(float)
        macro[c] = float(vals.mean()) if vals.notna().any() else float("nan")
    return pd.concat([out, pd.DataFrame([macro])], ignore_index=True)

"""Coded examples: reading them, and the label space the mapper learns from them.

An examples table has one row per coded comment: ``doc_id, text, codes`` (ids, paths or names at
any level, ``"|"``-joined, read by the codebook's addressing rule, see :mod:`themeassist.codebook`)
and optionally ``negative_codes`` (themes a coder rejected: known negatives) and ``status`` /
``reason`` (as from :func:`read_examples`; rows whose status is not ``ok`` or ``truncated`` are
kept but not learnt from). In this table blank ``codes``, ``none`` (:data:`~themeassist._schema.NONE_WORDS`)
or a none code of the codebook make the comment a known example of "none of these themes". A
coder's file read by :func:`read_examples` may also hold comments not coded yet, blank there:
its ``blank`` parameter says how blank rows are read (status ``not_coded``: kept, not learnt from).

The label space (:func:`label_space`) is the codebook's leaves plus, for every parent coded on its
own somewhere in the examples (``add`` without a child), an implicit "``add`` (itself)" leaf: a
theme of its own that rolls up into ``add`` like its other leaves. It is written in tables as the
parent's own id (``suggested_ids``) and name (``suggested``), so every reader resolves it to the
parent, and a parent coded on its own reads back as the same leaf. A parent with a same-named
child (``Care received > Care received``) has that child as its "(itself)" leaf instead.
"""

from __future__ import annotations

import difflib
import os
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from themeassist._schema import CORPUS_COLUMNS, id_str, is_none_word
from themeassist.codebook import Codebook, Theme, read_codes
from themeassist.exceptions import CodebookError, CorpusError

__all__ = ["EXAMPLE_COLUMNS", "NOT_CODED", "LabelSpace", "check_examples", "example_codes", "examples_from_long", "label_matrix",
           "label_space", "read_examples", "used_examples"]

#: Columns of :func:`read_examples`.
EXAMPLE_COLUMNS: tuple[str, ...] = ("doc_id", "row", "text", "codes", "negative_codes", "status", "reason")
_USED = ("ok", "truncated")
#: Status :func:`read_examples` gives a row with blank codes and blank negative codes: not coded
#: yet (kept, not learnt from, never read as "none of these").
NOT_CODED = "not_coded"
_NOT_CODED_REASON = "no codes: not coded yet (write 'none' when no theme applies)"


#: How :func:`read_examples` may read a row with blank codes (its ``blank`` parameter).
BLANK_READINGS: tuple[str, ...] = ("auto", "none", NOT_CODED)


def _says_no_theme(codes: pd.Series, codebook: Codebook | None) -> bool:
    """Whether a codes column writes "no theme" explicitly somewhere: a none word or, with a
    codebook, one of its none codes (so that a blank cell there means something else)."""
    none_codes = {c.casefold() for c in (codebook.none_codes if codebook else ())}
    return any(is_none_word(p) or p.strip().casefold() in none_codes for cell in codes for p in str(cell).split("|"))


def _no_theme(cell: Any) -> Any:
    """``""`` (no theme) for a codes cell that is a none word, else the cell as it is."""
    return "" if is_none_word(cell) else cell


def _cell(v: Any) -> str:
    if v is None or v is pd.NA or (isinstance(v, float) and v != v):
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def read_examples(
    source: str | os.PathLike | pd.DataFrame,
    *,
    text_col: str = "text",
    codes_col: str = "codes",
    id_col: str | None = None,
    codebook: Codebook | None = None,
    sep: str = "|",
    blank: str = "auto",
) -> pd.DataFrame:
    """Read coded example comments into the examples table that :meth:`ThemeMapper.fit` takes.

    The file is read as :func:`~themeassist.corpus.load_corpus` reads a corpus (any common
    encoding and delimiter, ``N/A`` kept as text), and every row is kept with the corpus
    ``status`` and ``reason`` of its text: rows whose text is empty, missing, a number or a
    non-answer are kept but not used for fitting, and one warning says which. A comment coded
    with no theme says ``none`` (or ``(none)``, ``none of these``, a none code of the codebook).
    A row whose codes and negative codes are both blank is read as ``blank`` says; by default
    (``"auto"``) it is *not coded yet* when the file writes "no theme" explicitly somewhere (a
    none word or none code), else it is coded with no theme, as a file holding only coded
    comments means it. A row not coded yet is kept with status ``not_coded``, not used for
    fitting, never read as "none of these"; one warning names the blank rows and how they were
    read. A coder can so keep the codes in the comments file itself, blank where not coded. With
    ``id_col``, a row that repeats an earlier row exactly (id, text and codes: pasted twice) is read
    once, with a warning naming it; one id holding different comments or codes is an error.

    Parameters
    ----------
    source : path or DataFrame
        A CSV/XLSX/parquet file or a table with one coded comment per row.
    text_col, codes_col : str
        The comment text and its codes (ids, paths or names at any level joined by ``sep``).
        A ``negative_codes`` column, when present, is read too.
    id_col : str, optional
        Row ids; the row number (``"ex1"``, ``"ex2"``, ...) when absent.
    codebook : Codebook, optional
        When given, every code is checked now (codes that name no theme or several raise one
        error naming each row).
    sep : str, default "|"
    blank : {"auto", "none", "not_coded"}, default "auto"
        How a row with blank codes and blank negative codes is read: coded with no theme
        (``"none"``), not coded yet (``"not_coded"``), or ``"auto"`` (see above).

    Returns
    -------
    DataFrame
        Columns :data:`EXAMPLE_COLUMNS`: ``doc_id`` (str), ``row`` (0-based input row), ``text``,
        ``codes`` and ``negative_codes`` (joined by ``"|"``; ``""`` for ``none``), ``status`` and
        ``reason`` (as in :func:`~themeassist.corpus.load_corpus`, or :data:`NOT_CODED`).
        ``attrs["n_used"]``: rows that fitting uses.

    Examples
    --------
    >>> df = pd.DataFrame({"comment": ["Lovely food", "N/A"], "theme": ["Food", "Food"]})
    >>> ex = read_examples(df, text_col="comment", codes_col="theme")  # warns: row 2 is not used
    >>> ex[["text", "codes", "status"]].values.tolist()
    [['Lovely food', 'Food', 'ok'], ['N/A', 'Food', 'non_answer']]
    >>> df = pd.DataFrame({"comment": ["Lovely food", "Parking", "Thanks"], "theme": ["Food", "none", ""]})
    >>> ex = read_examples(df, text_col="comment", codes_col="theme")  # warns: row 3 is not coded yet
    >>> ex[["codes", "status"]].values.tolist()
    [['Food', 'ok'], ['', 'ok'], ['', 'not_coded']]
    >>> ex = read_examples(df.iloc[[0, 2]], text_col="comment", codes_col="theme")  # no 'none' written:
    >>> ex[["codes", "status"]].values.tolist()  # the blank row is coded with no theme (warns)
    [['Food', 'ok'], ['', 'ok']]
    """
    from themeassist.corpus import load_corpus

    if blank not in BLANK_READINGS:
        raise ValueError(f"read_examples: blank={blank!r} is not one of {', '.join(map(repr, BLANK_READINGS))}.")
    where = "read_examples" if isinstance(source, pd.DataFrame) else f"read_examples({str(source)!r})"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # re-emitted below, naming read_examples
        try:
            corpus = load_corpus(source, text_col=text_col, id_col=id_col)
        except CorpusError as exc:
            corpus = _without_repeats(source, exc, text_col=text_col, codes_col=codes_col, id_col=id_col)
            if corpus is None:
                raise CorpusError(str(exc).replace("load_corpus", where, 1)) from exc
    repeats = corpus.attrs.get("repeated_rows", [])
    if repeats:
        warnings.warn(f"{where}: {len(repeats)} rows repeat an earlier row exactly (id, text and codes; rows "
                      f"{', '.join(str(i + 1) for i in repeats[:8])}{', ...' if len(repeats) > 8 else ''}): each "
                      "coded comment is read once. Delete the repeated rows to silence this.", UserWarning, stacklevel=2)
    for note in corpus.attrs.get("warnings", []):  # notes about the file (encoding, lines) still count
        if "is kept as" not in note:
            warnings.warn(note.replace("load_corpus", where, 1), UserWarning, stacklevel=2)
    for param, col in (("codes_col", codes_col),):
        if col not in corpus.columns:
            made = ("row", "period", "status", "reason", "date") + (() if id_col else ("doc_id",))
            cols = [text_col if c == "text" else c for c in corpus.columns if c not in made]  # the file's own
            close = difflib.get_close_matches(str(col), [str(c) for c in cols if c != text_col], n=1, cutoff=0.5)
            fix = f"{param}={close[0]!r}?" if close else f"{param}=<the right column>."
            raise CorpusError(f"{where}: column {col!r} not found (columns: {', '.join(map(repr, map(str, cols)))})."
                              f" Pass {fix}")
    out = pd.DataFrame({
        "doc_id": corpus["doc_id"] if id_col else [f"ex{i + 1}" for i in range(len(corpus))],
        "row": corpus["row"], "text": corpus["text"],
        "codes": [_cell(v) for v in corpus[codes_col]],
        "negative_codes": ([_cell(v) for v in corpus["negative_codes"]] if "negative_codes" in corpus.columns
                           and codes_col != "negative_codes" else ""),
        "status": corpus["status"], "reason": corpus["reason"],
    })
    if sep != "|":
        for c in ("codes", "negative_codes"):
            out[c] = out[c].map(lambda s: "|".join(p.strip() for p in s.split(sep) if p.strip()))
    blank_rows = (out["codes"] == "") & (out["negative_codes"] == "") & out["status"].isin(_USED)
    said = _says_no_theme(out["codes"], codebook)
    not_coded = blank == NOT_CODED or (blank == "auto" and said)
    out["codes"] = out["codes"].map(_no_theme)  # 'none': coded, no theme applies
    if codebook is not None:
        check_examples(out, codebook, where=where, codes_col=codes_col)
    if blank_rows.any():
        n = int(blank_rows.sum())
        rows = ", ".join(str(i + 1) for i in out["row"][blank_rows][:8]) + (", ..." if n > 8 else "")
        head = f"{where}: {n} of {len(out)} rows have no codes in column {codes_col!r} (rows {rows}): "
        why = " (the file writes 'none' where no theme fits)" if blank == "auto" else ""
        if not_coded:
            out.loc[blank_rows, ["status", "reason"]] = [NOT_CODED, _NOT_CODED_REASON]
            warnings.warn(head + f"read as not coded yet{why} (status {NOT_CODED!r}), kept but not learnt from. "
                          "Write 'none' in a row that you coded and no theme fits.", UserWarning, stacklevel=2)
        else:
            warnings.warn(head + "read as coded with no theme ('none of these'). If they are not coded yet, pass "
                          "blank='not_coded' (themeassist suggest: --examples-blank not_coded) or write 'none' in "
                          "the rows you coded with no theme.", UserWarning, stacklevel=2)
    unused = out[~out["status"].isin((*_USED, NOT_CODED))]
    if len(unused):
        listed = "; ".join(f"row {i + 1} ({s}: {r})" for i, s, r in
                           zip(unused["row"][:5], unused["status"], unused["reason"]))
        more = f"; and {len(unused) - 5} more" if len(unused) > 5 else ""
        warnings.warn(f"{where}: {len(unused)} of {len(out)} rows are kept but not used for fitting: {listed}{more}.",
                      UserWarning, stacklevel=2)
    out.attrs["n_used"] = int(len(out) - len(unused) - (out["status"] == NOT_CODED).sum())
    return out


def _without_repeats(source: Any, exc: CorpusError, *, text_col: str, codes_col: str,
                     id_col: str | None) -> pd.DataFrame | None:
    """The examples' corpus with rows that repeat an earlier row exactly (id, text, codes and
    negative codes: a row pasted twice) left out (``attrs["repeated_rows"]``: their input rows),
    when only such rows share an id; ``None`` when ``exc`` is another error or one id holds
    different comments (the caller raises ``exc``)."""
    from themeassist.corpus import load_corpus

    if id_col is None or "duplicated ids" not in str(exc):
        return None
    corpus = load_corpus(source, text_col=text_col)  # rows numbered: the id column is kept as metadata
    name = id_col if id_col in corpus.columns and id_col not in CORPUS_COLUMNS else f"{id_col}_input"
    if name not in corpus.columns:
        return None
    ids = corpus[name].map(id_str)
    cols = [c for c in (codes_col, "negative_codes") if c in corpus.columns]
    key = pd.concat([ids.rename("_id"), corpus["text"], corpus[cols].map(_cell)], axis=1)
    repeat = key.duplicated(keep="first").to_numpy()
    if ids[~repeat].duplicated().any():
        return None
    kept = corpus[~repeat].drop(columns=[name]).assign(doc_id=ids[~repeat]).reset_index(drop=True)
    kept.attrs = {**corpus.attrs, "repeated_rows": corpus["row"][repeat].tolist()}
    return kept


def check_examples(examples: pd.DataFrame, codebook: Codebook, *, where: str = "examples",
                   codes_col: str = "codes", quiet: bool = False) -> None:
    """Raise one :class:`CodebookError` naming every row whose ``codes`` or ``negative_codes`` name
    no theme of ``codebook`` or several (``codes_col``: the name the file gave the codes column;
    ``quiet``: no warning for codes read as a same-named sub-theme, as :func:`read_codes`).

    Examples
    --------
    >>> cb = Codebook.from_dict({"Care": ["Food"]})
    >>> check_examples(pd.DataFrame({"text": ["a"], "codes": ["Food"]}), cb)  # nothing wrong: no error
    """
    ids = examples["doc_id"] if "doc_id" in examples.columns else [f"ex{i + 1}" for i in range(len(examples))]
    rows = examples["row"] if pd.api.types.is_integer_dtype(examples.get("row")) else range(len(examples))
    names = [f"{where}: row {int(i) + 1} (doc_id {d!r})" for i, d in zip(rows, ids)]  # read_examples' input rows
    problems = []
    for col, name in (("codes", codes_col), ("negative_codes", "negative_codes")):
        if col not in examples.columns:
            continue
        try:
            read_codes(examples[col].map(_no_theme), codebook, column=name, row_names=names, quiet=quiet)
        except CodebookError as exc:
            problems.append(str(exc))
    if problems:
        raise CodebookError(" | ".join(problems))


def used_examples(examples: pd.DataFrame) -> pd.DataFrame:
    """The rows fitting learns from: status ``ok``/``truncated`` (or no status column), text not blank.

    Examples
    --------
    >>> ex = pd.DataFrame({"text": ["Cold food", "", "N/A"], "codes": ["Food"] * 3,
    ...                    "status": ["ok", "empty", "non_answer"]})
    >>> used_examples(ex)["text"].tolist()
    ['Cold food']
    """
    keep = examples["text"].map(lambda t: bool(_cell(t)))
    if "status" in examples.columns:
        st = examples["status"]
        keep &= st.isna() | st.astype(str).isin(_USED)
    return examples[keep.to_numpy()].reset_index(drop=True)


#: Column :func:`labelled_examples` adds: each used example's 0-based row in the table given to fit.
_INPUT_ROW = "_input_row"


def _input_rows(examples: pd.DataFrame) -> list[int]:
    """0-based row of each example in the table the user passed (messages print it + 1)."""
    rows = examples[_INPUT_ROW] if _INPUT_ROW in examples.columns else range(len(examples))
    return [int(i) for i in rows]


def _key(text: Any) -> str:
    """A text compared with its spacing ignored."""
    return " ".join(str(text).split())


def known_negatives(examples: pd.DataFrame, Y: np.ndarray, M: np.ndarray) -> dict[str, tuple[str, np.ndarray]]:
    """Per example ``doc_id``: its text (spacing and case ignored) and the label-space columns the
    coder said do not apply (known, not coded: a rejected suggestion, or every theme but a coded
    comment's own); a later row of the same id wins (a decision after an example)."""
    return {str(d): (_key(t).casefold(), np.flatnonzero((m > 0) & (y == 0)))
            for d, t, y, m in zip(examples["doc_id"], examples["text"], Y, M)}


def mask_known(P: np.ndarray, doc_ids: Sequence[Any], texts: Sequence[Any],
               known: dict[str, tuple[str, np.ndarray]]) -> np.ndarray:
    """``P`` with 0 where a comment is a coded example (same ``doc_id`` and text) and the column is
    one the coder said does not apply: a rejected theme is not suggested again for that comment.

    Examples
    --------
    >>> known = {"c1": ("cold food", np.array([1]))}
    >>> mask_known(np.full((2, 2), 0.8), ["c1", "c2"], ["Cold  food", "cold food"], known).tolist()
    [[0.8, 0.0], [0.8, 0.8]]
    """
    hits = [(i, known[str(d)][1]) for i, (d, t) in enumerate(zip(doc_ids, texts))
            if str(d) in known and len(known[str(d)][1]) and known[str(d)][0] == _key(t).casefold()]
    if not hits:
        return P
    out = np.array(P, dtype=np.float64, copy=True)
    for i, cols in hits:
        out[i, cols] = 0.0
    return out


def example_codes(suggestions: pd.DataFrame, examples: pd.DataFrame | None, codebook: Codebook,
                  texts: dict[str, str] | None = None, by_id: bool = True) -> tuple[pd.Series | None, str]:
    """The ``example_codes`` column and how it was matched.

    Per suggested comment that is also a coded example, its codes as theme ids joined by ``"|"``
    (``none`` for an example coded with no theme; ``""`` for one with rejected codes only);
    ``""`` for the others. A comment is an example when its ``doc_id`` is an example's id
    (``by_id``) and its text (``texts``: doc_id -> text; spacing and case ignored) is the
    example's (an id with another text warns and is not taken); without ids (``by_id=False``), or
    when no id matches and some ids hold other texts (the files number their rows apart), when its
    text (spacing ignored) equals an example's and that text occurs once among the comments and
    once among the examples. Ids that occur nowhere among the comments name other comments: a
    comment with the same text is not taken for one. Returns ``(None, "")`` when no comment is an example. ``themeassist
    suggest`` writes the column; :func:`themeassist.drift.draw_audit` and the review queue skip
    those comments and :func:`themeassist.drift.audit_prevalence` (``known=``) counts them.

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Food": None, "Staff": None})
    >>> ex = pd.DataFrame({"doc_id": ["c2"], "text": ["Cold meal"], "codes": ["Food"]})
    >>> col, how = example_codes(pd.DataFrame({"doc_id": ["c1", "c2"]}), ex, cb, texts={"c2": "cold meal"})
    >>> col.tolist(), how
    (['', 'food'], 'doc_id')
    """
    if examples is None or not len(examples):
        return None, ""
    at = np.arange(len(examples))  # rows of the examples given, for messages
    if "status" in examples.columns:  # rows not coded yet, and rows without a comment (empty, a non-answer), are no examples
        coded = examples["status"].astype(str).isin(_USED).to_numpy()
        examples, at = examples[coded], np.flatnonzero(coded)
    if not len(examples):
        return None, ""
    ids = read_codes(examples["codes"].map(_no_theme), codebook, quiet=True,
                     row_names=[f"examples row {i + 1}" for i in at])
    negative = examples["negative_codes"].fillna("").astype(str).str.strip() if "negative_codes" in \
        examples.columns else pd.Series("", index=examples.index)
    # an example with only rejected codes says what the comment is not, not what it is: not known
    cells = ["|".join(c) or ("" if neg else "none") for c, neg in zip(ids, negative)]
    docs = suggestions["doc_id"].astype(str)
    how = "doc_id"
    codes = dict(zip(examples["doc_id"].astype(str), cells)) if by_id else {}
    differ: list[str] = []
    if texts is not None and codes:  # the same id must hold the same text (ids numbered per file do not)
        ex_text = dict(zip(examples["doc_id"].astype(str), examples["text"].map(_key)))
        differ = [d for d in docs if d in codes and _key(texts.get(d, "")).casefold() != ex_text[d].casefold()]
        if differ:
            warnings.warn(f"example_codes: {len(differ)} coded examples share an id with a comment but not its text (e.g. "
                          f"id {differ[0]!r}); they are not taken for that comment (example_codes). If the two files "
                          "number their rows separately, give the examples the comments' ids.", UserWarning,
                          stacklevel=2)
            for d in differ:
                codes.pop(d)
    col = pd.Series([codes.get(d, "") for d in docs], index=suggestions.index, dtype=object)
    # by text: without ids, or with ids numbered apart in the two files (an id holding another text);
    # ids that simply occur nowhere among the comments name other comments, whatever their text
    if (not by_id or differ) and texts is not None and not docs.isin(list(codes)).any():
        how = "text"
        ex_keys = examples["text"].map(_key)
        once = ex_keys.map(ex_keys.value_counts()) == 1
        by_text = dict(zip(ex_keys[once], pd.Series(cells, index=examples.index)[once]))
        doc_keys = docs.map(lambda d: _key(texts.get(d, "")))
        unique = doc_keys.map(doc_keys.value_counts()) == 1
        col = pd.Series([by_text.get(k, "") if u and k else "" for k, u in zip(doc_keys, unique)],
                        index=suggestions.index, dtype=object)
    return (col, how) if (col != "").any() else (None, "")


def examples_from_long(long: pd.DataFrame, texts: pd.DataFrame) -> pd.DataFrame:
    """Examples table from a long code table (``doc_id, theme_id``, one row per code) and a table
    with ``doc_id, text`` (e.g. a corpus; its ``status`` and ``reason`` are kept when present).

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
    out = pd.DataFrame({"doc_id": t["doc_id"].values, "text": t["text"].astype(str).values,
                        "codes": codes.reindex(t["doc_id"]).values, "negative_codes": ""})
    for c in ("status", "reason"):
        if c in t.columns:
            out[c] = t[c].values
    return out


@dataclass(frozen=True)
class LabelSpace:
    """The columns a mapper scores: the codebook's leaves and the implicit "(itself)" leaves.

    Attributes
    ----------
    theme_ids : tuple of str
        Per column, the theme id written for it: a leaf's id, or an implicit leaf's parent id.
    names : tuple of str
        Per column, what readable tables show: the shortest of name, path and id that reads
        back as that theme (:meth:`Codebook.code_for`).
    themes : tuple of Theme
        Per column, the theme whose text describes it (the parent, for an implicit leaf).
    implicit : tuple of bool
        Which columns are implicit "(itself)" leaves.
    rollup : tuple of tuple of str
        Per column, the ids of the themes it rolls up into, top down (an implicit leaf: its
        parent's ancestors, then the parent).
    """

    theme_ids: tuple[str, ...]
    names: tuple[str, ...]
    themes: tuple[Theme, ...]
    implicit: tuple[bool, ...]
    rollup: tuple[tuple[str, ...], ...]


def _coded_ids(examples: pd.DataFrame | None, codebook: Codebook, col: str, quiet: bool = False) -> list[list[str]]:
    if examples is None or col not in examples.columns or not len(examples):
        return []
    ids = examples["doc_id"].astype(str) if "doc_id" in examples.columns else pd.Series(range(1, len(examples) + 1))
    names = [f"ThemeMapper.fit: examples row {i + 1} (doc_id {d!r})" for i, d in zip(_input_rows(examples), ids)]
    return read_codes(examples[col], codebook, column=col, row_names=names, quiet=quiet)


def _alone(ids: list[str], ancestors: dict[str, set[str]]) -> list[str]:
    """The codes of one row that are not implied by a more specific code of the same row."""
    return [t for t in ids if not any(t in ancestors[o] for o in ids if o != t)]


def label_space(codebook: Codebook, examples: pd.DataFrame | None = None) -> LabelSpace:
    """The label space for ``codebook`` and (optionally) its coded examples.

    Examples
    --------
    >>> cb = Codebook.from_dict({"add": ["words", "sentence"], "remove": None})
    >>> ex = pd.DataFrame({"text": ["more please", "add a word"], "codes": ["add", "add > words"]})
    >>> space = label_space(cb, ex)
    >>> list(zip(space.theme_ids, space.implicit))
    [('add', True), ('add.words', False), ('add.sentence', False), ('remove', False)]
    >>> space.rollup[0], space.rollup[1]
    (('add',), ('add',))
    """
    ancestors = {t.theme_id: {a.theme_id for a in codebook.ancestors(t.theme_id)} for t in codebook.themes}
    alone = set()
    for ids in _coded_ids(examples, codebook, "codes"):
        for t in _alone(ids, ancestors):
            target = codebook.itself(t)
            if not target.is_leaf:
                alone.add(target.theme_id)
    cols = [t for t in codebook.themes if t.is_leaf or t.theme_id in alone]
    rollup = tuple(tuple(a.theme_id for a in codebook.ancestors(t.theme_id)) + (() if t.is_leaf else (t.theme_id,))
                   for t in cols)
    return LabelSpace(tuple(t.theme_id for t in cols), tuple(codebook.code_for(t.theme_id) for t in cols),
                      tuple(cols), tuple(not t.is_leaf for t in cols), rollup)


def label_matrix(examples: pd.DataFrame, codebook: Codebook, space: LabelSpace) -> tuple[np.ndarray, np.ndarray]:
    """Labels ``Y`` (0/1) and known-mask ``M`` (1 = known) per example and column of ``space``.

    A code names its column (a parent coded on its own: its "(itself)" leaf; a parent coded with
    one of its sub-themes adds nothing); every other column is a known negative. A parent coded
    on its own without a column of its own (not in ``space``) leaves its leaves unknown.
    ``negative_codes`` mark their columns known negatives (a parent: its "(itself)" leaf when it
    has one, else every leaf under it); a row with only negative codes knows only those.

    Examples
    --------
    >>> cb = Codebook.from_dict({"add": ["words", "sentence"], "remove": None})
    >>> ex = pd.DataFrame({"text": ["a", "b", "c"], "codes": ["add", "add|add > words", ""],
    ...                    "negative_codes": ["", "", "remove"]})
    >>> Y, M = label_matrix(ex, cb, label_space(cb, ex))
    >>> Y.tolist(), M.tolist()
    ([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 0]], [[1.0, 1.0, 1.0, 1.0], [1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 1.0]])
    """
    col = {t: j for j, t in enumerate(space.theme_ids)}
    under: dict[str, list[int]] = {}
    for j, (tid, up) in enumerate(zip(space.theme_ids, space.rollup)):
        for a in dict.fromkeys((*up, tid)):
            under.setdefault(a, []).append(j)
    ancestors = {t.theme_id: {a.theme_id for a in codebook.ancestors(t.theme_id)} for t in codebook.themes}
    n = len(examples)
    Y = np.zeros((n, len(col)), dtype=np.int8)
    M = np.ones((n, len(col)), dtype=np.float64)
    # quiet: label_space (built from the same examples) has warned about codes read as (itself) themes
    pos_all = _coded_ids(examples, codebook, "codes", quiet=True) or [[] for _ in range(n)]
    neg_all = _coded_ids(examples, codebook, "negative_codes", quiet=True) or [[] for _ in range(n)]
    for i, (pos, neg) in enumerate(zip(pos_all, neg_all)):
        unknown: set[int] = set()
        for t in _alone(pos, ancestors):
            target = codebook.itself(t).theme_id
            if target in col:
                Y[i, col[target]] = 1
            else:  # a parent without a column of its own: one of its leaves applies, which one is unknown
                unknown.update(under.get(target, []))
        for j in unknown:
            if not Y[i, j]:
                M[i, j] = 0.0
        if not pos and neg:  # a bare rejection: only the rejected themes are known (not applying)
            M[i, :] = 0.0
        for t in neg:
            target = codebook.itself(t).theme_id
            for j in [col[target]] if target in col else under.get(target, []):
                if not Y[i, j]:
                    M[i, j] = 1.0
    return Y, M


def example_weights(examples: pd.DataFrame) -> np.ndarray:
    """The optional ``weight`` column of an examples table as floats (1 where absent or blank).

    A row's weight is how much it counts in every scorer, the calibration and the tuning of the
    decision rule (a weight of 2 counts as the row twice); e.g. give a coder's recent decisions
    more weight than old examples. Rows from :func:`themeassist.mapping.read_decisions` count 1.

    Raises
    ------
    CorpusError
        A weight that is not a positive finite number (the row and value are named).

    Examples
    --------
    >>> example_weights(pd.DataFrame({"text": ["a", "b"], "codes": ["x", "y"], "weight": [2, None]})).tolist()
    [2.0, 1.0]
    """
    out = np.ones(len(examples))
    if "weight" not in examples.columns:
        return out
    for i, (at, v) in enumerate(zip(_input_rows(examples), examples["weight"])):
        if not _cell(v):
            continue
        try:
            f = float(v)
        except (TypeError, ValueError):
            f = float("nan")
        if not (np.isfinite(f) and f > 0):
            raise CorpusError(f"ThemeMapper.fit: examples row {at + 1}, column 'weight': {v!r} is not a positive "
                              "number; give a weight > 0 (1 = an ordinary example) or leave it blank.")
        out[i] = f
    return out


def labelled_examples(examples: pd.DataFrame | None, codebook: Codebook) -> tuple[
        pd.DataFrame | None, LabelSpace, np.ndarray, np.ndarray, np.ndarray]:
    """What :meth:`ThemeMapper.fit` learns from: the used examples (:func:`used_examples`, with
    ``doc_id`` added when absent; ``None`` without any), the label space, labels ``Y``, known-mask
    ``M`` (n, n_columns) and row weights (:func:`example_weights`).

    Examples
    --------
    >>> cb = Codebook.from_dict({"Care": ["Food", "Staff"]})
    >>> ex, space, Y, M, w = labelled_examples(pd.DataFrame({"text": ["Cold food"], "codes": ["Food"]}), cb)
    >>> Y.tolist(), w.tolist(), ex["doc_id"].tolist()
    ([[1, 0]], [1.0], ['ex1'])
    """
    ex = None
    if examples is not None and len(examples):
        miss = [c for c in ("text", "codes") if c not in examples.columns]
        if miss:
            raise CorpusError(f"ThemeMapper.fit: examples lack columns {miss} (columns: "
                              f"{list(map(str, examples.columns))}); use read_examples(..., text_col=, codes_col=).")
        ex = used_examples(examples.assign(**{_INPUT_ROW: np.arange(len(examples))}))  # messages name these rows
        ex["codes"] = ex["codes"].map(_no_theme)  # 'none': coded, no theme applies
        if "doc_id" not in ex.columns:
            ex["doc_id"] = [f"ex{i + 1}" for i in _input_rows(ex)]  # as check_examples names them
        ex["doc_id"] = ex["doc_id"].astype(str)
        ex = ex if len(ex) else None
    space = label_space(codebook, ex)
    L = len(space.theme_ids)
    if ex is None:
        return None, space, np.zeros((0, L), np.int8), np.zeros((0, L)), np.zeros(0)
    Y, M = label_matrix(ex, codebook, space)
    return ex, space, Y, M, example_weights(ex)

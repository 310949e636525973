"""The tables the stages hand each other: row statuses, column lists and one column check.

Every stage reads and writes DataFrames with documented snake_case columns keyed by ``doc_id``
and theme ids. The lists live here so that a stage checks its input against the same names the
producing stage writes, and every "column missing" error reads the same.

Examples
--------
>>> import pandas as pd
>>> check_columns(pd.DataFrame({"doc_id": [], "text": []}), ("doc_id", "text"), who="f")
>>> check_columns(pd.DataFrame({"id": []}), ("doc_id",), who="f", what="corpus")
Traceback (most recent call last):
...
themeassist.exceptions.CorpusError: f: the corpus lacks column 'doc_id' (columns: 'id'). Pass the output of load_corpus or rename the column.
"""

from __future__ import annotations

from typing import Any, Iterable

import pandas as pd

from themeassist.exceptions import CorpusError

__all__ = ["CORPUS_COLUMNS", "EXAMPLE_CODES_COLUMN", "NONE_WORDS", "STATUSES", "USABLE_STATUSES", "check_columns", "id_str", "is_none_word",
           "known_codes", "listed_columns", "theme_labels", "usable"]

#: Row statuses of a corpus (:func:`themeassist.load_corpus`), in the order they are checked.
STATUSES: tuple[str, ...] = ("ok", "truncated", "empty", "missing", "non_text", "non_answer")
#: The statuses of substantive comments: the rows that are embedded, clustered, scored and counted.
USABLE_STATUSES: tuple[str, ...] = ("ok", "truncated")
#: Columns every corpus starts with (input metadata columns follow, under their own names).
CORPUS_COLUMNS: tuple[str, ...] = ("doc_id", "row", "text", "period", "status", "reason", "date")
#: Column of a suggestions table with a coded example's codes (theme ids joined by "|", "none" for no
#: theme; blank for comments that are not examples): written by ``themeassist suggest``, never
#: drawn into an audit or a review sample, counted as coded by ``drift --audit``.
EXAMPLE_CODES_COLUMN = "example_codes"
#: Codes cells that mean "checked: no theme applies" (compared case-insensitively): in an audit's
#: ``codes`` and a decision's ``final_codes``.
NONE_WORDS: tuple[str, ...] = ("none", "(none)", "none of these")


def is_none_word(cell: object) -> bool:
    """Whether a codes cell is one of :data:`NONE_WORDS` (any case, spaces around ignored).

    Examples
    --------
    >>> is_none_word(" None of these "), is_none_word("Food"), is_none_word(float("nan"))
    (True, False, False)
    """
    return isinstance(cell, str) and cell.strip().lower() in NONE_WORDS


def usable(status: Iterable[object]) -> pd.Series:
    """Boolean Series: which rows are substantive (status "ok" or "truncated").

    Examples
    --------
    >>> usable(["ok", "empty", "truncated"]).tolist()
    [True, False, True]
    """
    return pd.Series(list(status), dtype=object).astype(str).isin(USABLE_STATUSES)


def check_columns(df: pd.DataFrame, required: Iterable[str], *, who: str, what: str = "table",
                  hint: str = "Pass the output of load_corpus or rename the column.") -> None:
    """Raise :class:`~themeassist.exceptions.CorpusError` naming every required column missing
    from ``df``, the columns it has, and how to fix it.

    Parameters
    ----------
    df : DataFrame
    required : iterable of str
    who : str
        The function or command checking (starts the message).
    what : str
        What the table is ("corpus", "suggestions file", ...).
    hint : str
        The fix to suggest.
    """
    missing = [c for c in required if c not in df.columns]
    if not missing:
        return
    have = ", ".join(repr(str(c)) for c in list(df.columns)[:20]) + (", ..." if len(df.columns) > 20 else "")
    cols = f"column {missing[0]!r}" if len(missing) == 1 else f"columns {', '.join(map(repr, missing))}"
    raise CorpusError(f"{who}: the {what} lacks {cols} (columns: {have or 'none'}). {hint}")


def listed_columns(columns: Iterable[Any]) -> str:
    """A table's columns for a message, its ``score:<theme_id>`` columns counted rather than listed.

    Examples
    --------
    >>> listed_columns(["doc_id", "text", "score:a", "score:b"])
    "'doc_id', 'text' and 2 score:<theme_id> columns"
    """
    cols = [str(c) for c in columns]
    plain = [c for c in cols if not c.startswith("score:")]
    n = len(cols) - len(plain)
    return ", ".join(map(repr, plain)) + (f" and {n} score:<theme_id> column{'s' if n != 1 else ''}" if n else "")


def known_codes(table: pd.DataFrame) -> pd.Series:
    """The codes of comments coded already (:data:`EXAMPLE_CODES_COLUMN`; "" where not coded or when
    the table has no such column), stripped.

    Examples
    --------
    >>> known_codes(pd.DataFrame({"example_codes": ["food", None, " "]})).tolist()
    ['food', '', '']
    """
    if EXAMPLE_CODES_COLUMN not in table.columns:
        return pd.Series([""] * len(table), index=table.index, dtype=object)
    col = table[EXAMPLE_CODES_COLUMN]
    return col.astype(object).where(col.notna(), "").astype(str).str.strip()


def theme_labels(table: pd.DataFrame) -> pd.Series:
    """A label per row of a table keyed by theme (``theme``, and ``theme_id`` / ``parent`` when
    present) that names one theme: the theme's name, or ``"parent > name"`` where several themes
    share the name (under different parents, or a parent and its same-named child), or
    ``"name [theme_id]"`` where even that repeats. For summaries, report tables and figure labels.

    Examples
    --------
    >>> t = pd.DataFrame({"theme": ["Care", "Care", "Other", "Other", "Staff"],
    ...                   "theme_id": ["care", "care.care", "care.other", "staff.other", "staff"],
    ...                   "parent": ["", "Care", "Care", "Staff", ""]})
    >>> theme_labels(t).tolist()
    ['Care', 'Care > Care', 'Care > Other', 'Staff > Other', 'Staff']
    """
    name = table["theme"].astype(str)
    if "theme_id" not in table.columns:
        return name
    ids = table["theme_id"].astype(str)
    shared = name.map(pd.Series(ids.values).groupby(name.values).nunique()) > 1
    parent = (table["parent"].astype(object).where(table["parent"].notna(), "").astype(str)
              if "parent" in table.columns else pd.Series("", index=table.index))
    label = name.where(~shared | (parent == ""), parent + " > " + name)
    still = label.map(pd.Series(ids.values).groupby(label.values).nunique()) > 1
    return label.where(~still, label + " [" + ids + "]")


def id_str(v: Any) -> str:
    """A comment id as text, as every reader compares ids: a whole float loses its ``.0``
    (spreadsheets store ids as numbers), text is stripped.

    >>> id_str(12.0), id_str(" r7 "), id_str(3)
    ('12', 'r7', '3')
    """
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip() if isinstance(v, str) else str(v)

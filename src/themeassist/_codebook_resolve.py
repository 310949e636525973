"""The addressing rule: strings -> themes (private; documented in :mod:`themeassist.codebook`).

:class:`Index` is built once per codebook; :func:`lookup` applies the rule to one string;
:class:`CodeReader` applies it to a column of ``"|"``-joined cells, remembers each distinct
string, and reports every problem (with its row) in one error and every "(itself)" reading in
one warning with its count of rows. The public readers of code cells built on it
(:func:`read_codes`, :func:`read_suggested_ids`, :func:`codes_to_long`) are exported by
:mod:`themeassist.codebook`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable, NamedTuple, Sequence

import pandas as pd

from themeassist._codebook_parse import did_you_mean, looks_none_like, missing, norm
from themeassist._schema import is_none_word
from themeassist.exceptions import CodebookError

if TYPE_CHECKING:
    from themeassist.codebook import Codebook

_MAX_KEYS = 64  # path spellings kept per theme when ancestors have aliases
_MAX_LISTED = 10  # problems listed in one error


def flat(text: str) -> tuple[str, ...]:
    """A path (or a name) as compared: its parts split on ``>``, each normalised."""
    return tuple(norm(p) for p in norm(text).split(">"))


class Hit(NamedTuple):
    """The result of one lookup."""

    kind: str  # "theme", "none", "ambiguous", "missing"
    ids: tuple[str, ...] = ()
    via: tuple[str, str] | None = None  # (matched theme, same-named sub-theme read instead)


@dataclass
class Index:
    """Lookup tables of one codebook."""

    themes: dict[str, Any]
    full: dict[tuple[str, ...], list[str]]
    last: dict[str, list[str]]
    keys: dict[str, list[tuple[str, ...]]]
    itself: dict[str, str]
    none: dict[str, str]

    @classmethod
    def of(cls, codebook: Any) -> Index:
        by_id = {t.theme_id: t for t in codebook.themes}
        keys: dict[str, list[tuple[str, ...]]] = {}
        full: dict[tuple[str, ...], list[str]] = {}
        last: dict[str, list[str]] = {}
        for t in codebook.themes:  # depth-first: parents come first
            own = [flat(n) for n in dict.fromkeys((t.name, *t.aliases))]
            base = keys[t.parent_id] if t.parent_id else [()]
            keys[t.theme_id] = [b + o for b in base for o in own][:_MAX_KEYS]
            for k in keys[t.theme_id]:
                full.setdefault(k, []).append(t.theme_id)
            for o in own:
                last.setdefault(o[-1], []).append(t.theme_id)
        itself: dict[str, str] = {}
        for t in reversed(codebook.themes):  # children before parents: chains resolve in one pass
            names = {norm(n) for n in (t.name, *t.aliases)}
            same = [c for c in t.child_ids if names & {norm(n) for n in (by_id[c].name, *by_id[c].aliases)}]
            if len(same) == 1:
                itself[t.theme_id] = itself.get(same[0], same[0])
        none = {norm(c): c for c in getattr(codebook, "none_codes", ())}
        return cls(by_id, full, last, keys, itself, none)


def lookup(ix: Index, key: str) -> Hit:
    """Apply the rule: an exact id, a none code, a full path, then a trailing part of exactly one
    theme's path (a name is the shortest); of several, the one spelled exactly as written; a theme
    with a same-named sub-theme reads as that one."""
    s = key.strip()
    if s in ix.themes:
        return Hit("theme", (s,))
    if norm(s) in ix.none:
        return Hit("none")
    parts = flat(s)
    hits = ix.full.get(parts, [])
    if not hits:
        n = len(parts)
        hits = [t for t in dict.fromkeys(ix.last.get(parts[-1], [])) if any(k[-n:] == parts for k in ix.keys[t])]
    if not hits:
        return Hit("missing")
    resolved = tuple(dict.fromkeys(ix.itself.get(h, h) for h in hits))
    if len(resolved) > 1:  # several themes: one spelled exactly as written (case and all) is chosen
        written = tuple(" ".join(p.split()) for p in s.split(">"))
        exact = [h for h in hits if ix.themes[h].path[-len(written):] == written]
        if len({ix.itself.get(h, h) for h in exact}) != 1:
            return Hit("ambiguous", resolved)
        hits, resolved = exact, (ix.itself.get(exact[0], exact[0]),)
    moved = [h for h in hits if h != resolved[0]]
    return Hit("theme", resolved, (moved[0], resolved[0]) if moved else None)


def fix_for(ix: Index, theme_id: str) -> str:
    """A string that names this theme alone: its path when that works, else its id."""
    path = ix.themes[theme_id].path_str
    hit = lookup(ix, path)
    return path if hit.kind == "theme" and hit.ids == (theme_id,) and hit.via is None else theme_id


def problem(ix: Index, codebook_name: str, key: str, hit: Hit) -> str:
    """The message for a string that names no theme or several."""
    if hit.kind == "ambiguous":
        themes = [ix.themes[t] for t in hit.ids]
        listed = ", ".join(f"{t.path_str!r} (id {t.theme_id!r})" for t in themes)
        fixes = " or ".join(repr(fix_for(ix, t.theme_id)) for t in themes)
        return (f"Codebook {codebook_name!r}: {key!r} is ambiguous; it names {len(themes)} themes: {listed}. "
                f"Write one of {fixes} instead.")
    options = [t.name for t in ix.themes.values()] + list(ix.themes)
    none_like = looks_none_like(key)
    hint = (f" If {key!r} means that no theme applies, declare it a none code (--none-codes '{key}' on the command "
            f"line, none_codes=[{key!r}] in Python) or write 'none'.") if none_like else ""
    return (f"Codebook {codebook_name!r}: no theme named {key!r}.{did_you_mean(key, options)} "
            "Use a theme name, an id or a path 'Parent > Child'." + hint)


def itself_note(ix: Index, codebook_name: str, key: str, via: tuple[str, str], n: int, rows: str = "",
                others: Sequence[str] = ()) -> str:
    """The warning for ``key`` (and its other spellings ``others``) read as a same-named sub-theme in ``n`` rows."""
    parent, child = ix.themes[via[0]], ix.themes[via[1]]
    also = f" (also written {', '.join(map(repr, others))})" if others else ""
    return (f"Codebook {codebook_name!r}: {key!r}{also} names both {parent.path_str!r} (id {parent.theme_id!r}) and its "
            f"same-named sub-theme {child.path_str!r} (id {child.theme_id!r}); read as the sub-theme, which stands "
            f"for the parent coded on its own, in {n} {'row' if n == 1 else 'rows'}{rows} (the parent's id too). "
            f"Write {child.path_str!r} to silence this.")


#: Separators a coder may have joined codes with instead of ``"|"`` (tried in this order).
_OTHER_SEPARATORS = (";", "\n", ",")


class CodeReader:
    """Read many cells of ``sep``-joined codes with one codebook; problems are collected per row."""

    def __init__(self, codebook: Any, *, sep: str = "|", column: str | None = None) -> None:
        self.codebook, self.sep, self.column = codebook, sep, column
        self.ix: Index = codebook._index()
        self.memo: dict[str, Hit] = {}
        self.problems: list[str] = []
        # (matched theme, sub-theme read instead) -> the spellings read so and the rows (where, position)
        self.moved: dict[tuple[str, str], tuple[list[str], list[tuple[str, int | None]]]] = {}
        self.joined: dict[str, list[tuple[str, int | None]]] = {}  # another separator -> the rows it joined
        self.mixed: list[tuple[str, int | None]] = []  # rows writing "no theme" beside themes
        from themeassist.io.tables import FORMULA_PREFIXES  # here: themeassist.io imports the codebook

        self.formula = FORMULA_PREFIXES

    def hit(self, key: str) -> Hit:
        out = self.memo.get(key)
        if out is None:
            out = self.memo[key] = lookup(self.ix, key)
        return out

    def items(self, cell: Any) -> list[str]:
        if missing(cell):
            return []
        if isinstance(cell, str) and cell.startswith("'") and cell.lstrip("'").startswith(self.formula):
            cell = cell[1:]  # a spreadsheet formula guard (see themeassist.io.tables.undo_formula_guard)
        items = cell.split(self.sep) if isinstance(cell, str) else list(cell)
        return [str(i).strip() for i in items if not missing(i) and str(i).strip()]

    def split_other(self, item: str) -> tuple[str, list[str]] | None:
        """``(separator, parts)`` when a string that names no theme is several codes joined by
        another common separator (``;``, a line break, ``,``) and every part names one theme."""
        for other in _OTHER_SEPARATORS:
            parts = [p.strip() for p in item.split(other) if p.strip()]
            if other != self.sep and len(parts) > 1 and all(
                    self.hit(p).kind not in ("missing", "ambiguous") for p in parts):
                return other, parts
        return None

    def ids(self, cell: Any, where: str, row: int | None = None) -> list[str]:
        """Theme ids of one cell, in order, without repeats; none codes give nothing. A string that
        names no theme but is codes joined by ``;``, a line break or ``,`` is read as those codes
        (one warning per separator, naming the rows). ``where`` names the cell in messages; ``row``,
        its 0-based position when ``where`` is just "row N" (the warnings then list compact ranges)."""
        out: list[str] = []
        items = self.items(cell)
        said_none = False
        named = {h.ids[0] for h in map(self.hit, items) if h.kind == "theme"}
        for pos, item in enumerate(items):
            h = self.hit(item)
            if h.kind == "theme" and h.via is None and h.ids[0] in self.ix.itself and not self.has_below(named, h.ids[0]):
                # a parent's id coded on its own (not beside one of its sub-themes, as a rolled-up
                # cell writes it): its same-named sub-theme stands for the parent coded on its own
                h = Hit("theme", (self.ix.itself[h.ids[0]],), (h.ids[0], self.ix.itself[h.ids[0]]))
            if h.kind == "none" or (h.kind == "missing" and is_none_word(item)):
                said_none = True  # 'none' (or a none code) among other codes: no theme of its own
                continue
            if h.kind == "missing" and (joined := self.split_other(item)) is not None:
                self.joined.setdefault(joined[0], []).append((where, row))
                items[pos + 1:pos + 1] = joined[1]
                continue
            if h.kind in ("missing", "ambiguous"):
                self.problems.append(f"{where}: {problem(self.ix, self.codebook.name, item, h)}")
                continue
            if h.via is not None:
                spellings, wheres = self.moved.setdefault(h.via, ([], []))
                spellings += [] if item in spellings else [item]
                wheres.append((where, row))
            if h.kind == "theme" and h.ids[0] not in out:
                out.append(h.ids[0])
        if said_none and out:
            self.mixed.append((where, row))
        return out

    def has_below(self, ids: set[str], parent: str) -> bool:
        """Whether one of ``ids`` is a descendant of ``parent``."""
        for t in ids:
            up = self.ix.themes[t].parent_id
            while up is not None:
                if up == parent:
                    return True
                up = self.ix.themes[up].parent_id
        return False

    def listed(self, wheres: list[tuple[str, int | None]]) -> tuple[int, str]:
        """How many rows ``wheres`` name (each once) and their list for a message: ``"rows 3, 7, 10–14,
        column 'codes'"`` when every row is known by its position, else the first names."""
        distinct = list(dict.fromkeys(wheres))
        if distinct and all(r is not None for _, r in distinct):
            from themeassist.corpus import row_ranges  # here: themeassist.corpus imports the codebook

            col = f", column {self.column!r}" if self.column else ""
            label = "row" if len(distinct) == 1 else "rows"
            return len(distinct), f"{label} {row_ranges([int(r) for _, r in distinct if r is not None])}{col}"
        names = [w for w, _ in distinct if w]
        return len(distinct), ", ".join(names[:5]) + (f" and {len(names) - 5} more" if len(names) > 5 else "")

    def finish(self, stacklevel: int = 3, quiet: bool = False) -> None:
        """Raise one error naming every problem; warn once per other separator, and (unless ``quiet``)
        once for cells writing "none" beside themes and once per theme read as a same-named sub-theme,
        each warning counting and naming its rows."""
        if self.problems:
            shown = self.problems[:_MAX_LISTED]
            more = f" ... and {len(self.problems) - _MAX_LISTED} more" if len(self.problems) > _MAX_LISTED else ""
            raise CodebookError(shown[0] if len(self.problems) == 1 else
                                f"{len(self.problems)} codes could not be read: " + " | ".join(shown) + more)
        for other, wheres in self.joined.items():
            n, listed = self.listed(wheres)
            cells = "codes cell holds" if n == 1 else "codes cells hold"
            warnings.warn(f"{n} {cells} several codes joined by {other!r} instead of "
                          f"{self.sep!r}{f' ({listed})' if listed else ''}; each was read as those codes. Join codes "
                          f"with {self.sep!r} to silence this.", UserWarning, stacklevel=stacklevel)
        self.joined.clear()
        if self.mixed and not quiet:
            n, listed = self.listed(self.mixed)
            cells = "codes cell writes" if n == 1 else "codes cells write"
            warnings.warn(f"{n} {cells} 'none' (or a none code) together with themes{f' ({listed})' if listed else ''}; "
                          "each was read as its themes. Keep either the themes or 'none' in each cell to silence "
                          "this.", UserWarning, stacklevel=stacklevel)
        self.mixed.clear()
        for via, (spellings, wheres) in ({} if quiet else self.moved).items():
            n, listed = self.listed(wheres)
            warnings.warn(itself_note(self.ix, self.codebook.name, spellings[0], via, n,
                                      f" ({listed})" if listed else "", spellings[1:]), UserWarning,
                          stacklevel=stacklevel)
        self.moved.clear()


def read_cells(codebook: Any, values: Iterable[Any], *, sep: str, names: Sequence[str] | None,
               column: str | None, stacklevel: int = 4, quiet: bool = False) -> list[list[str]]:
    reader = CodeReader(codebook, sep=sep, column=column)
    out = []
    for i, cell in enumerate(values):
        where = names[i] if names is not None else f"row {i + 1}"
        if column:
            where += f", column {column!r}"
        out.append(reader.ids(cell, where, i if names is None else None))
    reader.finish(stacklevel, quiet)
    return out


def _same(ix: Index, written: list[str], ids: list[str]) -> bool:
    """True when the readable codes of a row still name its ids (in any order)."""
    if len(written) != len(ids):
        return False
    left = list(ids)
    for w in written:
        names = [t for t in left if norm(w) in {norm(n) for n in (ix.themes[t].name, *ix.themes[t].aliases)}]
        hit = names or [t for t in left if lookup(ix, w).ids[:1] == (t,)]
        if not hit:
            return False
        left.remove(hit[0])
    return True


def read_suggested(table: Any, codebook: Any, *, where: str, names: Sequence[str] | None = None) -> list[list[str]]:
    """Ids per row from ``suggested_ids``, or from ``suggested`` where a coder edited it (warned)."""
    from themeassist.exceptions import CorpusError
    from themeassist.io.tables import undo_formula_guard

    cols = [c for c in ("suggested_ids", "suggested") if c in table.columns]
    if not cols:
        raise CorpusError(f"{where}: no 'suggested_ids' or 'suggested' column (columns: "
                          f"{', '.join(map(repr, map(str, table.columns)))}); pass a table written by suggest.")
    plain = undo_formula_guard(table[cols + [c for c in ("doc_id",) if c in table.columns]])
    rows = list(names) if names is not None else [
        f"row {i + 1}" + (f" (doc_id {d!r})" if "doc_id" in plain else "")
        for i, d in enumerate(plain["doc_id"] if "doc_id" in plain else range(len(plain)))]
    if "suggested_ids" not in plain:
        return read_cells(codebook, plain["suggested"], sep="|", names=rows, column="suggested")
    ix, reader = codebook._index(), CodeReader(codebook)
    names = plain["suggested"].tolist() if "suggested" in plain else None
    out: list[list[str]] = []
    edited: list[str] = []
    for i, cell in enumerate(plain["suggested_ids"]):
        ids = list(dict.fromkeys(reader.items(cell)))
        unknown = [t for t in ids if t not in ix.themes]
        if unknown:
            reader.problems.append(f"{where}: {rows[i]}, column 'suggested_ids': {unknown[0]!r} is not the id of a theme of "
                                   f"codebook {codebook.name!r} (was the file made with another codebook?)")
        if names is not None and not _same(ix, reader.items(names[i]), ids):
            edited.append(rows[i])
            ids = reader.ids(names[i], f"{where}: {rows[i]}, column 'suggested'")
        out.append(ids)
    reader.finish(stacklevel=4)
    if edited:
        listed = ", ".join(edited[:_MAX_LISTED]) + (" ..." if len(edited) > _MAX_LISTED else "")
        warnings.warn(f"{where}: the 'suggested' column no longer matches 'suggested_ids' in {len(edited)} "
                      f"{'row' if len(edited) == 1 else 'rows'} ({listed}); a coder edited it, so those rows are "
                      "read from 'suggested'.", UserWarning, stacklevel=4)
    return out


# ---- the public readers of code cells (exported by themeassist.codebook) ----------------------------------
def read_codes(values: Iterable[Any], codebook: Codebook, *, sep: str = "|", column: str | None = None,
               row_names: Sequence[str] | None = None, quiet: bool = False) -> list[list[str]]:
    """Theme ids per cell of a column of codes, by the addressing rule (module docstring).

    Parameters
    ----------
    values : iterable
        One cell per row: ``sep``-joined ids, paths or names (blank or NaN: none; none codes: none).
    codebook : Codebook
    sep : str, default "|"
    column, row_names : str and sequence of str, optional
        For messages: the column's name; each row's name (default ``"row 1"``, ``"row 2"``, ...).
    quiet : bool, default False
        No warning for codes read as a same-named sub-theme (when the caller has warned).

    Returns
    -------
    list of list of str
        The theme ids of each cell, in order, without repeats. Every code that names no theme or
        several raises one :class:`CodebookError` listing them with their rows; codes read as a
        same-named sub-theme give one warning per code with its count of rows.

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"words": None, "change": ["words"], "remove": ["words"]})
    >>> read_codes(["words", "change > words|Remove > Words", ""], cb)
    [['words'], ['change.words', 'remove.words'], []]
    """
    return read_cells(codebook, values, sep=sep, names=row_names, column=column, quiet=quiet)


def read_suggested_ids(table: pd.DataFrame, codebook: Codebook, *, where: str = "suggestions",
                       row_names: Sequence[str] | None = None) -> list[list[str]]:
    """The suggested theme ids per row of a suggestions table, as a coder left it.

    Reads ``suggested_ids`` (exact ids, written by ``suggest``). Where the readable ``suggested``
    column no longer matches a row's ids (a coder edited it), the edit wins: the row's codes are
    read from ``suggested`` by the addressing rule, and one warning names those rows. Without
    ``suggested_ids``, ``suggested`` is read. Cells are read after undoing the spreadsheet
    formula guard (see :func:`themeassist.io.tables.undo_formula_guard`). ``row_names`` name the
    rows in messages (default ``"row 1 (doc_id '...')"``, ...).

    Examples
    --------
    >>> import pandas as pd
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Care": ["Food", "Staff"]})
    >>> t = pd.DataFrame({"suggested": ["Food", "Staff"], "suggested_ids": ["care.food", "care.food"]})
    >>> import warnings
    >>> with warnings.catch_warnings():  # row 2 was edited: a warning names it
    ...     warnings.simplefilter("ignore")
    ...     read_suggested_ids(t, cb)
    [['care.food'], ['care.staff']]
    """
    return read_suggested(table, codebook, where=where, names=row_names)


def codes_to_long(doc_ids: Iterable[str], codes: Iterable[Any], codebook: Codebook, *, sep: str = "|",
                  column: str = "codes") -> pd.DataFrame:
    """Turn a column of ``sep``-joined codes into one row per (comment, theme).

    Parameters
    ----------
    doc_ids, codes : iterables of the same length
        Comment ids and their codes cells (read as :func:`read_codes` reads them).
    codebook : Codebook
    sep, column : str
        Separator inside a cell; name of the codes column (for messages).

    Returns
    -------
    DataFrame
        Columns ``doc_id``, ``theme_id``; comments without codes (a blank cell, or ``none``) have no row.

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Staff": ["Attitude", "Numbers"]})
    >>> codes_to_long(["a", "b"], ["Attitude|Numbers", ""], cb)
      doc_id        theme_id
    0      a  staff.attitude
    1      a   staff.numbers
    """
    from themeassist._schema import is_none_word

    ids = [str(d) for d in doc_ids]
    codes = ["" if is_none_word(c) else c for c in codes]  # 'none': coded, no theme (no row, as a blank)
    per_row = read_cells(codebook, codes, sep=sep, column=column,
                             names=[f"row {i} (doc_id {d!r})" for i, d in enumerate(ids, start=1)])
    rows = [(d, t) for d, tids in zip(ids, per_row) for t in tids]
    return pd.DataFrame(rows, columns=["doc_id", "theme_id"])

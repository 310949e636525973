"""Codebooks kept as spreadsheets (private; see :meth:`themeassist.codebook.Codebook.from_frame`).

Two layouts, told apart by their headers (compared without case, spaces or dashes):

- **one row per theme**: a ``name`` column, or a ``parent`` / ``parent_id`` column beside a
  ``code``, ``label`` or ``title`` column (the name), with optional ``theme_id`` (or ``id``),
  ``description`` (or ``definition``), ``keywords``, ``examples``, ``aliases``;
- **one column per level** (any other table, e.g. ``Category | Code``): the columns before the
  first of ``theme_id``, ``description``, ``keywords``, ``examples``, ``aliases`` are the levels,
  left to right (``Theme | Sub-theme | Description``). A row's theme is its deepest filled level,
  and the other columns describe it; a column named after a level (``Theme description``,
  ``Sub-theme id``) describes that level's theme instead (``Theme | Sub-theme | Theme description
  | Sub-theme description``). A blank level above a filled one takes the row above's value (as
  merged cells read), so ``Workload |`` then `` | Targets`` gives ``Workload > Targets``. The same
  name under two parents gives two themes; a theme described again with the same value (a fully
  filled sheet) is read once.

Columns a QDA program writes beside its codes (NVivo's ``Files``, ``References``, ``Created On``,
``Modified By``, a ``Color``; a ``Count`` or ``Frequency``) say how the codes were used, not what
they are: :func:`drop_usage` leaves them out in either layout.

Rows count from 1 below the header in every message.
"""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from themeassist._codebook_parse import missing, theme_record
from themeassist.exceptions import CodebookError

__all__: list[str] = []

#: Header spellings read as a long table's name column.
NAME_HEADERS = ("name", "code", "label", "title")
#: Header spellings of the columns that describe a theme (not levels), with what they are read as.
META_HEADERS = {"theme_id": "theme_id", "id": "theme_id", "description": "description", "definition":
                "description", "keywords": "keywords", "examples": "examples", "aliases": "aliases",
                "parent": "parent", "parent_id": "parent_id"}


#: Headers of columns about a code's use or look, not its meaning (left out of either layout).
USAGE_HEADERS = frozenset({"files", "sources", "references", "created_on", "created_by", "modified_on",
                           "modified_by", "color", "colour", "aggregate", "count", "frequency"})


def header_key(col: Any) -> str:
    """How a header is compared: lower case, runs of spaces, dashes and underscores as one ``_``.

    Examples
    --------
    >>> header_key(" Sub-Theme ")
    'sub_theme'
    """
    return re.sub(r"[\s\-_]+", "_", str(col).strip().lower()).strip("_")


def drop_usage(df: pd.DataFrame) -> pd.DataFrame:
    """``df`` without the columns of :data:`USAGE_HEADERS` (how often or by whom a code was used).

    Examples
    --------
    >>> drop_usage(pd.DataFrame({"Name": ["Staff"], "Files": [3], "References": [7]})).columns.tolist()
    ['Name']
    """
    keep = [c for c in df.columns if header_key(c) not in USAGE_HEADERS]
    return df if len(keep) == len(df.columns) else df[keep]


def normalise_long(df: pd.DataFrame) -> pd.DataFrame | None:
    """A one-row-per-theme table with the headers :meth:`Codebook.from_frame` reads, or None when
    ``df`` is a table of levels (see the module docstring). Unknown headers are left for the reader to refuse."""
    keys = [header_key(c) for c in df.columns]
    if "name" not in keys and not ({"parent", "parent_id"} & set(keys) and set(NAME_HEADERS) & set(keys)):
        return None
    name_at = next(i for i, k in enumerate(keys) if k == "name") if "name" in keys else \
        next(i for i, k in enumerate(keys) if k in NAME_HEADERS)
    rename = {}
    for i, (col, k) in enumerate(zip(df.columns, keys)):
        if i == name_at:
            rename[col] = "name"
        elif k in META_HEADERS:
            rename[col] = META_HEADERS[k]
    return df.rename(columns=rename)


def _cell(value: Any) -> Any:
    """A level cell as a name: numbers a spreadsheet wrote as 3.0 read as '3'; blanks as None."""
    if missing(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = str(int(value))
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        value = str(value)
    if isinstance(value, str) and not value.strip():
        return None
    return value


def read_sheet(path: Path) -> pd.DataFrame:
    """A codebook table from a ``.csv`` or ``.xlsx`` file (first sheet), every cell as written."""
    from themeassist.io import read_table

    if not path.is_file():
        raise CodebookError(f"Codebook: no file at {os.fspath(path)!r}.")
    try:
        if path.suffix.lower() == ".csv":
            return read_table(path, dtype=object, keep_default_na=False, na_values=[""])
        return read_table(path, dtype=object)
    except (ValueError, KeyError, zipfile.BadZipFile, pd.errors.ParserError) as exc:  # EmptyDataError is a ValueError
        raise CodebookError(f"Codebook: cannot read {os.fspath(path)!r} as a {path.suffix.lower()} table ({exc}). "
                            "Save the codebook again from the spreadsheet (as .xlsx, or .csv with a header row)."
                            ) from exc


def _columns(df: pd.DataFrame) -> tuple[list[Any], dict[tuple[int | None, str], Any]]:
    """The level columns (first, left to right), and the describing columns after them by (level
    index, or None for the row's deepest level; what they give): plain ones (``Description``) or one
    level's own (``Theme description``: its header starts with that level's)."""
    levels: list[Any] = []
    meta: dict[tuple[int | None, str], Any] = {}
    plain = False
    for col in df.columns:
        k = header_key(col)
        own = next(((j, META_HEADERS[k[len(lk) + 1:]]) for j, lk in enumerate(map(header_key, levels))
                    if k.startswith(lk + "_") and k[len(lk) + 1:] in META_HEADERS), None)
        what = (None, META_HEADERS[k]) if k in META_HEADERS else own
        if what is None and not plain:
            levels.append(col)
            continue
        if what is None or what[1] in ("parent", "parent_id"):
            raise CodebookError(
                f"Codebook table: column {str(col)!r} comes after the level columns and is not one of theme_id, "
                f"description, keywords, examples, aliases (or a level's own, e.g. 'Theme description'). Put the "
                f"level columns first (e.g. Theme | Sub-theme | Theme description | Sub-theme description), remove "
                f"{str(col)!r}, or give the table a 'name' and a 'parent' column instead (one row per theme).")
        if what in meta:
            raise CodebookError(f"Codebook table: columns {str(meta[what])!r} and {str(col)!r} both give the "
                                f"{what[1]}{'' if what[0] is None else ' of ' + repr(str(levels[what[0]]))}; keep one.")
        meta[what] = col
        plain = True  # the levels come first: after a describing column, every column describes
    if not levels:
        raise CodebookError("Codebook table: no level columns: the table needs a 'name' column (one row per theme) "
                            "or its level columns first, left to right (e.g. 'Theme', 'Sub-theme', "
                            f"'Description'); the columns are {list(map(str, df.columns))}.")
    return levels, meta


def parse_levels(df: pd.DataFrame) -> list[Any]:
    """Records of a table with one column per level (see the module docstring)."""
    levels, meta = _columns(df)
    raws: list[Any] = []
    at: dict[tuple[str, ...], int] = {}  # path -> index of its record
    told: dict[int, dict[str, tuple[Any, int]]] = {}  # record -> what -> (value, the row that gave it)
    above: list[str] = []
    for r, row in enumerate(df.to_dict("records"), start=1):
        cells = [_cell(row[c]) for c in levels]
        deepest = max((j for j, v in enumerate(cells) if v is not None), default=-1)
        given = {jw: row[col] for jw, col in meta.items() if not missing(row[col]) and str(row[col]).strip()}
        if deepest < 0:
            if given:
                raise CodebookError(f"Codebook table: row {r} describes a theme but names none in "
                                    f"{', '.join(map(repr, map(str, levels)))}. Fill its level or remove the row.")
            continue  # a blank spacer row
        path: list[str] = []
        nodes = []
        for j in range(deepest + 1):
            if cells[j] is None and j >= len(above):
                raise CodebookError(f"Codebook table: row {r}, column {str(levels[j])!r} is blank and no row above "
                                    f"gives it, but the row names {cells[deepest]!r} below it. Fill the cell.")
            name = above[j] if cells[j] is None else cells[j]
            key = (*path, " ".join(str(name).split()))
            if key not in at:
                at[key] = len(raws)
                raws.append(theme_record({"name": name}, f"row {r}, column {str(levels[j])!r}",
                                         parent=at[tuple(path)] if path else None))
            path = list(key)
            nodes.append(at[key])
        above = path
        for (j, what), value in given.items():
            if j is not None and j > deepest:
                raise CodebookError(f"Codebook table: row {r} gives the {what} of {str(levels[j])!r}, which it leaves "
                                    "blank. Fill the level or move the value to its row.")
            level = deepest if j is None else j
            node = nodes[level]
            old = told.setdefault(node, {}).get(what)
            if old is not None and str(old[0]).strip() != str(value).strip():  # the same value again is fine
                raise CodebookError(f"Codebook table: rows {old[1]} and {r} give {' > '.join(path[:level + 1])!r} "
                                    f"two different {what} values ({str(old[0])!r}, {str(value)!r}); keep one.")
            told[node].setdefault(what, (value, r))
    for node, fields in told.items():
        first = min(r for _, r in fields.values())
        raws[node] = theme_record({**{w: v for w, (v, _) in fields.items()}, "name": raws[node].name},
                                  f"row {first}", parent=raws[node].parent)
    if not raws:
        raise CodebookError("Codebook table: no row names a theme.")
    return raws

"""Reading and validating codebook structures (private; see :mod:`themeassist.codebook`).

Each written form is first turned into a list of ``_Raw`` records (one per node, with the place
it came from, e.g. ``themes[3].children[4]``); :func:`build` then resolves ``parent`` references,
rejects cycles, duplicate sibling names and duplicate ids, and derives ids, depths and paths.
"""

from __future__ import annotations

import difflib
import numbers
import os
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import yaml

from themeassist.exceptions import CodebookError

NODE_KEYS = ("name", "id", "description", "keywords", "examples", "children")
TOP_KEYS = ("name", "themes")
FRAME_COLUMNS = ("theme_id", "name", "parent_id", "depth", "description", "keywords",
                 "n_examples", "path", "is_leaf")
FRAME_INPUT = ("theme_id", "name", "parent_id", "parent", "description", "keywords", "examples")
_HINTS = {"theme_id": "id", "subthemes": "children", "sub_themes": "children", "label": "name",
          "parent_id": "parent", "title": "name"}
_ID_RE = re.compile(r"^[^\s|>]+$")
PATH_SEP = " > "


def slugify(name: str) -> str:
    """Lower-case ``name``, drop accents, and join its words with ``-``.

    Examples
    --------
    >>> slugify("Seeking Balance: Professional & Personal Identity")
    'seeking-balance-professional-personal-identity'
    """
    text = unicodedata.normalize("NFKD", name)
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"[\W_]+", "-", text).strip("-")


def norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def did_you_mean(word: Any, options: Iterable[str]) -> str:
    opts = {norm(o): o for o in options}
    hint = _HINTS.get(str(word))
    if hint is not None and hint in opts.values():
        return f" Did you mean {hint!r}?"
    close = difflib.get_close_matches(norm(str(word)), list(opts), n=3, cutoff=0.6)
    return (" Did you mean " + " or ".join(repr(opts[c]) for c in close) + "?") if close else ""


def missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


@dataclass
class _Raw:  # a node as read, before ids, depths and children are worked out
    loc: str
    name: str
    id: str | None = None
    description: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    parent: int | None = None  # index of the parent record
    ref: str | None = None  # unresolved ``parent:`` reference (flat forms)


def _name(value: Any, loc: str) -> str:
    if missing(value):
        raise CodebookError(f"Codebook: the theme at {loc} has no name. Add 'name: ...'.")
    if not isinstance(value, str):
        raise CodebookError(f"Codebook: the name of the theme at {loc} must be a string, got "
                            f"{type(value).__name__} {value!r}. Quote it in YAML, e.g. \"{value}\".")
    if not value.strip():
        raise CodebookError(f"Codebook: the theme at {loc} has an empty name. Give it a name or remove it.")
    return " ".join(value.split())


def _id(value: Any, loc: str) -> str | None:
    if missing(value):
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise CodebookError(f"Codebook: the id {value!r} at {loc} must be a non-empty string without "
                            "spaces, '|' or '>', e.g. 'staff.competence'.")
    return value


def _text(value: Any, loc: str) -> str:
    if missing(value):
        return ""
    if not isinstance(value, str):
        raise CodebookError(f"Codebook: {loc} must be a string, got {type(value).__name__} {value!r}.")
    return value.strip()


def str_list(value: Any, loc: str, split: bool = False) -> tuple[str, ...]:
    if missing(value):
        return ()
    if split and isinstance(value, str):
        value = value.split("|")
    if not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
        raise CodebookError(f"Codebook: {loc} must be a list of strings, got {value!r}.")
    return tuple(dict.fromkeys(v.strip() for v in value if v.strip()))


def _parse_node(obj: Any, loc: str, parent: int | None, out: list[_Raw], top: bool) -> None:
    if isinstance(obj, str):
        obj = {"name": obj}
    if not isinstance(obj, Mapping):
        raise CodebookError(f"Codebook: {loc} must be a mapping with at least 'name', or a name string;"
                            f" got {type(obj).__name__} {obj!r}.")
    allowed = NODE_KEYS + (("parent",) if top else ())
    for key in obj:
        if key not in allowed:
            why = " ('parent' is only allowed on entries of the top-level 'themes' list)" if key == "parent" else ""
            raise CodebookError(f"Codebook: unknown key {key!r} in {loc}{why}.{did_you_mean(key, allowed)}"
                                f" Allowed keys: {', '.join(allowed)}.")
    ref = obj.get("parent")
    if ref is not None and not isinstance(ref, (str, int)):
        raise CodebookError(f"Codebook: {loc}.parent must be a theme id or name, got {ref!r}.")
    idx = len(out)
    out.append(_Raw(loc, _name(obj.get("name"), loc), _id(obj.get("id"), loc),
                    _text(obj.get("description"), f"{loc}.description"),
                    str_list(obj.get("keywords"), f"{loc}.keywords"),
                    str_list(obj.get("examples"), f"{loc}.examples"),
                    parent, None if ref is None else str(ref)))
    children = obj.get("children") or []
    if not isinstance(children, list):
        raise CodebookError(f"Codebook: {loc}.children must be a list of themes, got {children!r}.")
    for j, child in enumerate(children):
        _parse_node(child, f"{loc}.children[{j}]", idx, out, top=False)


def _parse_short(obj: Mapping, loc: str, parent: int | None, out: list[_Raw]) -> None:
    for key, value in obj.items():
        here = f"{loc}[{key!r}]"
        idx = len(out)
        out.append(_Raw(here, _name(key, here), parent=parent))
        if isinstance(value, Mapping):
            _parse_short(value, here, idx, out)
        elif isinstance(value, list):
            for j, item in enumerate(value):
                if isinstance(item, Mapping):
                    _parse_short(item, f"{here}[{j}]", idx, out)
                else:
                    out.append(_Raw(f"{here}[{j}]", _name(item, f"{here}[{j}]"), parent=idx))
        elif value is not None:
            raise CodebookError(f"Codebook: {here} must be a list of sub-theme names or a mapping of "
                                f"sub-themes, got {type(value).__name__} {value!r}.")


def build(raws: list[_Raw]) -> list[tuple]:
    """Resolve parents, check the tree, derive ids; return ``Theme`` field tuples, depth-first."""
    if not raws:
        raise CodebookError("Codebook: no themes found. Add a 'themes:' list or 'Parent: [child, ...]' entries.")
    explicit = {r.id: i for i, r in enumerate(raws) if r.id is not None}
    by_name: dict[str, list[int]] = {}
    for i, r in enumerate(raws):
        by_name.setdefault(norm(r.name), []).append(i)
    for r in raws:
        if r.ref is None:
            continue
        hits = [explicit[r.ref]] if r.ref in explicit else by_name.get(norm(r.ref), [])
        if len(hits) > 1:
            raise CodebookError(f"Codebook: the parent {r.ref!r} of theme {r.name!r} ({r.loc}) matches several "
                                f"themes ({', '.join(raws[h].loc for h in hits)}). Refer to the parent by its id.")
        if not hits:
            raise CodebookError(f"Codebook: the parent {r.ref!r} of theme {r.name!r} ({r.loc}) is not the id or "
                                f"name of any theme.{did_you_mean(r.ref, [x.name for x in raws] + list(explicit))}")
        r.parent = hits[0]
    for i in range(len(raws)):
        chain, j = [i], raws[i].parent
        while j is not None:
            if j in chain:
                loop = chain[chain.index(j):] + [j]
                raise CodebookError("Codebook: parent references form a cycle: " + " -> ".join(
                    f"{raws[k].name!r} ({raws[k].loc})" for k in loop) + " (each arrow points to the parent)."
                    " Remove one of these 'parent' entries.")
            chain.append(j)
            j = raws[j].parent
    kids: dict[int | None, list[int]] = {}
    for i, r in enumerate(raws):
        kids.setdefault(r.parent, []).append(i)
    for parent, members in kids.items():
        seen: dict[str, int] = {}
        for i in members:
            first = seen.setdefault(norm(raws[i].name), i)
            if first != i:
                where = "at the top level" if parent is None else f"under {raws[parent].name!r}"
                raise CodebookError(f"Codebook: theme {raws[i].name!r} appears twice {where} ({raws[first].loc} "
                                    f"and {raws[i].loc}). Rename or merge one of them.")
    ids: dict[int, str] = {}
    where_id: dict[str, int] = {}
    order: list[int] = []
    stack = list(reversed(kids.get(None, [])))
    while stack:
        i = stack.pop()
        r, pid = raws[i], ids.get(raws[i].parent) if raws[i].parent is not None else None
        slug = slugify(r.name)
        if r.id is None and not slug:
            raise CodebookError(f"Codebook: cannot make an id from the name {r.name!r} ({r.loc}). Add 'id: ...'.")
        tid = r.id or (f"{pid}.{slug}" if pid else slug)
        if tid in where_id:
            other = raws[where_id[tid]]
            how = "" if r.id and other.id else " (derived from the names; give one an explicit 'id:')"
            raise CodebookError(f"Codebook: theme id {tid!r} is used twice ({other.loc} and {r.loc}){how}. "
                                "Ids must be unique across the codebook.")
        ids[i], where_id[tid] = tid, i
        order.append(i)
        stack.extend(reversed(kids.get(i, [])))
    rows, paths = [], {}
    for i in order:
        r = raws[i]
        paths[i] = (paths[r.parent] if r.parent is not None else ()) + (r.name,)
        rows.append((ids[i], r.name, r.description, r.keywords, r.examples,
                     None if r.parent is None else ids[r.parent], len(paths[i]) - 1,
                     tuple(ids[k] for k in kids.get(i, [])), paths[i]))
    return rows


class StrictSafeLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` (plain data only) that refuses a key repeated in one mapping.

    Plain ``yaml.safe_load`` keeps the last of two equal keys, which would silently drop themes.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            try:
                first = seen.setdefault(key, line)
            except TypeError:  # unhashable key: SafeLoader reports it
                continue
            if first != line:
                raise CodebookError(f"Codebook: key {key!r} appears twice in one mapping (lines {first} and "
                                    f"{line}); YAML would keep only the last. Rename or merge one of them.")
        return super().construct_mapping(node, deep=deep)


def no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CodebookError(f"Codebook: key {key!r} appears twice in one JSON object. Rename or merge one.")
        out[key] = value
    return out


def is_file(text: str) -> bool:
    try:
        return "\n" not in text and Path(text).is_file()
    except (OSError, ValueError):
        return False


def read_source(path_or_text: str | os.PathLike, suffixes: tuple[str, ...]) -> tuple[str, str, str | None]:
    """Return (text, source, file stem) from a path or from the text itself."""
    s = os.fspath(path_or_text)
    if isinstance(path_or_text, os.PathLike) or is_file(s) or ("\n" not in s and s.lower().endswith(suffixes)):
        p = Path(s)
        if not p.is_file():
            raise CodebookError(f"Codebook: file not found: {s!r}.")
        return p.read_text(encoding="utf-8-sig"), str(p), p.stem
    return s, "<text>", None


def parse_obj(obj: Any, source: str) -> tuple[str | None, list[_Raw]]:
    """Records from the canonical mapping (``name``, ``themes``), a bare ``themes`` list or the short form."""
    if isinstance(obj, list):
        obj = {"themes": obj}
    if not isinstance(obj, Mapping):
        raise CodebookError(f"Codebook: expected a mapping (canonical or short form), got "
                            f"{type(obj).__name__} {obj!r} from {source}.")
    raws: list[_Raw] = []
    if "themes" not in obj:
        _parse_short(obj, "", None, raws)
        return None, raws
    for key in obj:
        if key not in TOP_KEYS:
            raise CodebookError(f"Codebook: unknown top-level key {key!r}.{did_you_mean(key, TOP_KEYS)} "
                                f"Allowed keys: {', '.join(TOP_KEYS)} (each theme goes in 'themes').")
    name = obj.get("name")
    if not isinstance(name, (str, type(None))) or not isinstance(obj["themes"], list):
        raise CodebookError("Codebook: 'name' must be a string and 'themes' a list of themes.")
    for i, node in enumerate(obj["themes"]):
        _parse_node(node, f"themes[{i}]", None, raws, top=True)
    return name, raws


def parse_frame(df: pd.DataFrame) -> list[_Raw]:
    """Records from a table with one row per theme (see :meth:`Codebook.from_frame`)."""
    if not isinstance(df, pd.DataFrame):
        raise CodebookError(f"Codebook.from_frame expects a pandas DataFrame, got {type(df).__name__}.")
    for col in df.columns:
        if col not in FRAME_INPUT + FRAME_COLUMNS:
            raise CodebookError(f"Codebook.from_frame: unknown column {col!r}.{did_you_mean(col, FRAME_INPUT)}"
                                f" Allowed columns: {', '.join(FRAME_INPUT)}.")
    if "name" not in df.columns:
        raise CodebookError(f"Codebook.from_frame: column 'name' not found (columns: {list(df.columns)}).")
    pcol = "parent_id" if "parent_id" in df.columns else "parent"
    raws = []
    for label, row in zip(df.index, df.to_dict("records")):
        loc, ref = f"row {label!r}", row.get(pcol)
        raws.append(_Raw(loc, _name(row["name"], loc), _id(row.get("theme_id"), loc),
                         _text(row.get("description"), f"{loc}, column 'description'"),
                         str_list(row.get("keywords"), f"{loc}, column 'keywords'", split=True),
                         str_list(row.get("examples"), f"{loc}, column 'examples'", split=True),
                         ref=None if missing(ref) or ref == "" else str(ref)))
    return raws

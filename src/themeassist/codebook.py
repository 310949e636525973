"""Codebooks: human-curated theme hierarchies, loaded, validated, looked up and exported.

Two written forms load (YAML or JSON). The canonical form::

    name: my_codebook
    themes:
      - name: Identity
        id: identity               # optional, see "Identifiers" below
        description: How practitioners see themselves at work.
        keywords: [pride, role]
        examples: ["I love being a therapist"]
        children:
          - name: Professional Identity

Entries of the top-level ``themes`` list may instead name their parent (``parent: <id or name>``),
which gives a flat list (the form :meth:`Codebook.from_frame` reads too). The short form, as in the
NHS v6 framework file, maps each parent to a list (or mapping) of its children::

    Staff:
      - Staff manner & personal attributes
      - Competence & training

Identifiers: a theme without ``id`` gets ``<parent id>.<slug of its name>`` (slug: lower case,
runs of other characters than letters and digits replaced by ``-``), e.g. ``identity.professional-identity``.

Names must be unique among siblings but may repeat under different parents. Name lookups
(:meth:`Codebook.get`, :meth:`Codebook.resolve_codes`) are case- and whitespace-insensitive; a name
that repeats raises an ambiguity error listing the paths; such a theme is addressed by its id or by
its path ``"Parent > Child"`` (any unique trailing part of the full path).
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import numbers
import os
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd
import yaml

from themeassist.exceptions import CodebookError

__all__ = ["Codebook", "Theme", "load_codebook", "slugify"]

NODE_KEYS = ("name", "id", "description", "keywords", "examples", "children")
TOP_KEYS = ("name", "themes")
FRAME_COLUMNS = ("theme_id", "name", "parent_id", "depth", "description", "keywords",
                 "n_examples", "path", "is_leaf")
_FRAME_INPUT = ("theme_id", "name", "parent_id", "parent", "description", "keywords", "examples")
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


def _norm(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _did_you_mean(word: Any, options: Iterable[str]) -> str:
    opts = {_norm(o): o for o in options}
    hint = _HINTS.get(str(word))
    if hint is not None and hint in opts.values():
        return f" Did you mean {hint!r}?"
    close = difflib.get_close_matches(_norm(str(word)), list(opts), n=3, cutoff=0.6)
    return (" Did you mean " + " or ".join(repr(opts[c]) for c in close) + "?") if close else ""


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


@dataclass(frozen=True)
class Theme:
    """One node of a codebook.

    Attributes
    ----------
    theme_id : str
        Stable identifier, unique in the codebook (explicit ``id:`` or derived from the names).
    name, description : str
    keywords, examples : tuple of str
        Search words and example comments (used to describe the theme to an embedding model).
    parent_id : str or None
        ``None`` for a top-level theme.
    depth : int
        0 for top-level themes, 1 for their children, ...
    child_ids : tuple of str
        Ids of the direct children, in codebook order.
    path : tuple of str
        Names from the top-level theme down to this one.

    Examples
    --------
    >>> Theme("staff", "Staff").path_str
    'Staff'
    """

    theme_id: str
    name: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    examples: tuple[str, ...] = ()
    parent_id: str | None = None
    depth: int = 0
    child_ids: tuple[str, ...] = ()
    path: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("keywords", "examples", "child_ids", "path"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        if not self.path:
            object.__setattr__(self, "path", (self.name,))

    @property
    def is_leaf(self) -> bool:
        """True when the theme has no children."""
        return not self.child_ids

    @property
    def path_str(self) -> str:
        """The path joined with ``" > "``, e.g. ``"Identity > Professional Identity"``."""
        return PATH_SEP.join(self.path)


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
    if _missing(value):
        raise CodebookError(f"Codebook: the theme at {loc} has no name. Add 'name: ...'.")
    if not isinstance(value, str):
        raise CodebookError(f"Codebook: the name of the theme at {loc} must be a string, got "
                            f"{type(value).__name__} {value!r}. Quote it in YAML, e.g. \"{value}\".")
    if not value.strip():
        raise CodebookError(f"Codebook: the theme at {loc} has an empty name. Give it a name or remove it.")
    return " ".join(value.split())


def _id(value: Any, loc: str) -> str | None:
    if _missing(value):
        return None
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise CodebookError(f"Codebook: the id {value!r} at {loc} must be a non-empty string without "
                            "spaces, '|' or '>', e.g. 'staff.competence'.")
    return value


def _text(value: Any, loc: str) -> str:
    if _missing(value):
        return ""
    if not isinstance(value, str):
        raise CodebookError(f"Codebook: {loc} must be a string, got {type(value).__name__} {value!r}.")
    return value.strip()


def _strs(value: Any, loc: str, split: bool = False) -> tuple[str, ...]:
    if _missing(value):
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
            raise CodebookError(f"Codebook: unknown key {key!r} in {loc}{why}.{_did_you_mean(key, allowed)}"
                                f" Allowed keys: {', '.join(allowed)}.")
    ref = obj.get("parent")
    if ref is not None and not isinstance(ref, (str, int)):
        raise CodebookError(f"Codebook: {loc}.parent must be a theme id or name, got {ref!r}.")
    idx = len(out)
    out.append(_Raw(loc, _name(obj.get("name"), loc), _id(obj.get("id"), loc),
                    _text(obj.get("description"), f"{loc}.description"),
                    _strs(obj.get("keywords"), f"{loc}.keywords"),
                    _strs(obj.get("examples"), f"{loc}.examples"),
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


def _build(raws: list[_Raw]) -> tuple[Theme, ...]:
    """Resolve parents, check the tree, derive ids and return the themes in depth-first order."""
    if not raws:
        raise CodebookError("Codebook: no themes found. Add a 'themes:' list or 'Parent: [child, ...]' entries.")
    explicit = {r.id: i for i, r in enumerate(raws) if r.id is not None}
    by_name: dict[str, list[int]] = {}
    for i, r in enumerate(raws):
        by_name.setdefault(_norm(r.name), []).append(i)
    for r in raws:
        if r.ref is None:
            continue
        hits = [explicit[r.ref]] if r.ref in explicit else by_name.get(_norm(r.ref), [])
        if len(hits) > 1:
            raise CodebookError(f"Codebook: the parent {r.ref!r} of theme {r.name!r} ({r.loc}) matches several "
                                f"themes ({', '.join(raws[h].loc for h in hits)}). Refer to the parent by its id.")
        if not hits:
            raise CodebookError(f"Codebook: the parent {r.ref!r} of theme {r.name!r} ({r.loc}) is not the id or "
                                f"name of any theme.{_did_you_mean(r.ref, [x.name for x in raws] + list(explicit))}")
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
            first = seen.setdefault(_norm(raws[i].name), i)
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
    themes, paths = [], {}
    for i in order:
        r = raws[i]
        paths[i] = (paths[r.parent] if r.parent is not None else ()) + (r.name,)
        themes.append(Theme(ids[i], r.name, r.description, r.keywords, r.examples,
                            None if r.parent is None else ids[r.parent], len(paths[i]) - 1,
                            tuple(ids[k] for k in kids.get(i, [])), paths[i]))
    return tuple(themes)


class _StrictSafeLoader(yaml.SafeLoader):
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


def _no_duplicate_pairs(pairs: list[tuple[str, Any]]) -> dict:
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise CodebookError(f"Codebook: key {key!r} appears twice in one JSON object. Rename or merge one.")
        out[key] = value
    return out


def _is_file(text: str) -> bool:
    try:
        return "\n" not in text and Path(text).is_file()
    except (OSError, ValueError):
        return False


def _read(path_or_text: str | os.PathLike, suffixes: tuple[str, ...]) -> tuple[str, str, str | None]:
    """Return (text, source, file stem) from a path or from the text itself."""
    s = os.fspath(path_or_text)
    if isinstance(path_or_text, os.PathLike) or _is_file(s) or ("\n" not in s and s.lower().endswith(suffixes)):
        p = Path(s)
        if not p.is_file():
            raise CodebookError(f"Codebook: file not found: {s!r}.")
        return p.read_text(encoding="utf-8-sig"), str(p), p.stem
    return s, "<text>", None


@dataclass(frozen=True, repr=False)
class Codebook:
    """A theme hierarchy: themes in depth-first order, with lookups by id, name or path.

    Build one with :meth:`from_yaml`, :meth:`from_json`, :meth:`from_dict`, :meth:`from_frame`,
    :meth:`load` or :func:`load_codebook`; these validate the tree. ``source`` records where it
    was loaded from (a file path, ``"<text>"``, ``"<dict>"``, ``"builtin:<name>"``); it is not
    compared by ``==``.

    Examples
    --------
    >>> cb = Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": None})
    >>> [t.theme_id for t in cb.leaves()]
    ['staff.attitude', 'staff.competence', 'access']
    >>> cb.resolve_codes("attitude|Access")
    ['staff.attitude', 'access']
    """

    name: str
    themes: tuple[Theme, ...]
    source: str | None = field(default=None, compare=False)
    _by_id: dict[str, Theme] = field(init=False, compare=False)
    _by_name: dict[str, list[str]] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "themes", tuple(self.themes))
        by_id: dict[str, Theme] = {}
        by_name: dict[str, list[str]] = {}
        for t in self.themes:
            if t.theme_id in by_id:
                raise CodebookError(f"Codebook {self.name!r}: theme id {t.theme_id!r} is used twice.")
            if t.parent_id is not None and t.parent_id not in by_id:
                raise CodebookError(f"Codebook {self.name!r}: theme {t.theme_id!r} comes before its parent "
                                    f"{t.parent_id!r} or that parent is missing; list themes depth-first.")
            by_id[t.theme_id] = t
            by_name.setdefault(_norm(t.name), []).append(t.theme_id)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_name", by_name)

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, obj: Mapping | list, *, name: str | None = None, source: str = "<dict>") -> Codebook:
        """Build from the canonical mapping (``name``, ``themes``), a ``themes`` list, or the short form."""
        if isinstance(obj, list):
            obj = {"themes": obj}
        if not isinstance(obj, Mapping):
            raise CodebookError(f"Codebook: expected a mapping (canonical or short form), got "
                                f"{type(obj).__name__} {obj!r} from {source}.")
        raws: list[_Raw] = []
        if "themes" in obj:
            for key in obj:
                if key not in TOP_KEYS:
                    raise CodebookError(f"Codebook: unknown top-level key {key!r}.{_did_you_mean(key, TOP_KEYS)} "
                                        f"Allowed keys: {', '.join(TOP_KEYS)} (each theme goes in 'themes').")
            name = obj.get("name", name)
            if not isinstance(name, (str, type(None))) or not isinstance(obj["themes"], list):
                raise CodebookError("Codebook: 'name' must be a string and 'themes' a list of themes.")
            for i, node in enumerate(obj["themes"]):
                _parse_node(node, f"themes[{i}]", None, raws, top=True)
        else:
            _parse_short(obj, "", None, raws)
        return cls(name or "codebook", _build(raws), source=source)

    @classmethod
    def from_yaml(cls, path_or_text: str | os.PathLike, *, name: str | None = None) -> Codebook:
        """Load YAML from a path or from the YAML text itself (name defaults to the file stem)."""
        text, source, stem = _read(path_or_text, (".yaml", ".yml"))
        try:
            obj = yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise CodebookError(f"Codebook: {source} is not valid YAML: {exc}") from exc
        return cls.from_dict(obj, name=name or stem, source=source)

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike, *, name: str | None = None) -> Codebook:
        """Load JSON (same structure as the YAML forms) from a path or from the text itself."""
        text, source, stem = _read(path_or_text, (".json",))
        try:
            obj = json.loads(text, object_pairs_hook=_no_duplicate_pairs)
        except json.JSONDecodeError as exc:
            raise CodebookError(f"Codebook: {source} is not valid JSON: {exc}") from exc
        return cls.from_dict(obj, name=name or stem, source=source)

    @classmethod
    def load(cls, path: str | os.PathLike) -> Codebook:
        """Load a ``.yaml``, ``.yml`` or ``.json`` file."""
        suffix = Path(path).suffix.lower()
        if suffix not in (".yaml", ".yml", ".json"):
            raise CodebookError(f"Codebook: cannot tell the format of {os.fspath(path)!r}; "
                                "use a .yaml, .yml or .json file.")
        return (cls.from_json if suffix == ".json" else cls.from_yaml)(Path(path))

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, name: str = "codebook", source: str = "<DataFrame>") -> Codebook:
        """Build from one row per theme: ``name`` and optional ``theme_id``, ``parent_id`` (an id or a
        name), ``description``, ``keywords`` and ``examples`` (lists or ``|``-joined strings).

        The derived columns of :meth:`to_frame` (depth, n_examples, path, is_leaf) are ignored.
        """
        if not isinstance(df, pd.DataFrame):
            raise CodebookError(f"Codebook.from_frame expects a pandas DataFrame, got {type(df).__name__}.")
        for col in df.columns:
            if col not in _FRAME_INPUT + FRAME_COLUMNS:
                raise CodebookError(f"Codebook.from_frame: unknown column {col!r}.{_did_you_mean(col, _FRAME_INPUT)}"
                                    f" Allowed columns: {', '.join(_FRAME_INPUT)}.")
        if "name" not in df.columns:
            raise CodebookError(f"Codebook.from_frame: column 'name' not found (columns: {list(df.columns)}).")
        pcol = "parent_id" if "parent_id" in df.columns else "parent"
        raws = []
        for label, row in zip(df.index, df.to_dict("records")):
            loc, ref = f"row {label!r}", row.get(pcol)
            raws.append(_Raw(loc, _name(row["name"], loc), _id(row.get("theme_id"), loc),
                             _text(row.get("description"), f"{loc}, column 'description'"),
                             _strs(row.get("keywords"), f"{loc}, column 'keywords'", split=True),
                             _strs(row.get("examples"), f"{loc}, column 'examples'", split=True),
                             ref=None if _missing(ref) or ref == "" else str(ref)))
        return cls(name, _build(raws), source=source)

    # ---- lookups ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.themes)

    def __iter__(self) -> Iterator[Theme]:
        return iter(self.themes)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and bool(self._candidates(key))

    def __repr__(self) -> str:
        return (f"Codebook(name={self.name!r}, n_themes={len(self.themes)}, "
                f"n_leaves={len(self.leaves())}, source={self.source!r})")

    def _candidates(self, key: str) -> list[Theme]:
        ids = set(self._by_name.get(_norm(key), []))
        if key.strip() in self._by_id:
            ids.add(key.strip())
        if not ids and ">" in key:
            parts = tuple(_norm(p) for p in key.split(">"))
            ids = {t.theme_id for t in self.themes
                   if len(t.path) >= len(parts) and tuple(map(_norm, t.path[-len(parts):])) == parts}
        return [t for t in self.themes if t.theme_id in ids]

    def get(self, name_or_id: str | Theme) -> Theme:
        """Return the theme with this id, name (any case/spacing) or path ``"Parent > Child"``.

        Raises :class:`CodebookError` when nothing matches (with close suggestions) or when a
        name is shared by several themes (listing their paths).

        Examples
        --------
        >>> cb = Codebook.from_dict({"A": ["Other"], "B": ["Other"]})
        >>> cb.get("b > other").theme_id
        'b.other'
        """
        key = name_or_id.theme_id if isinstance(name_or_id, Theme) else name_or_id
        if not isinstance(key, str):
            raise CodebookError(f"Codebook {self.name!r}: a theme is looked up by a string, got {key!r}.")
        hits = self._candidates(key)
        if len(hits) == 1:
            return hits[0]
        if hits:
            listed = ", ".join(f"{t.path_str!r} (id {t.theme_id!r})" for t in hits)
            raise CodebookError(f"Codebook {self.name!r}: {key!r} is ambiguous; it names {len(hits)} themes: "
                                f"{listed}. Use the path, e.g. {hits[0].path_str!r}, or the id.")
        options = [t.name for t in self.themes] + list(self._by_id)
        raise CodebookError(f"Codebook {self.name!r}: no theme named {key!r}.{_did_you_mean(key, options)} "
                            "Use a theme name, an id or a path 'Parent > Child'.")

    def roots(self) -> list[Theme]:
        """Top-level themes."""
        return [t for t in self.themes if t.parent_id is None]

    def leaves(self) -> list[Theme]:
        """Themes without children, in depth-first order."""
        return [t for t in self.themes if t.is_leaf]

    def parent_of(self, name_or_id: str) -> Theme | None:
        """The parent theme, or None for a top-level theme."""
        pid = self.get(name_or_id).parent_id
        return None if pid is None else self._by_id[pid]

    def ancestors(self, name_or_id: str) -> list[Theme]:
        """Ancestors from the top-level theme down to the parent (empty for a top-level theme)."""
        out, theme = [], self.parent_of(name_or_id)
        while theme is not None:
            out.append(theme)
            theme = self.parent_of(theme.theme_id)
        return out[::-1]

    def children(self, name_or_id: str) -> list[Theme]:
        """Direct children, in codebook order."""
        return [self._by_id[c] for c in self.get(name_or_id).child_ids]

    def descendants(self, name_or_id: str) -> list[Theme]:
        """All themes below this one, depth-first."""
        out = []
        for child in self.children(name_or_id):
            out += [child, *self.descendants(child.theme_id)]
        return out

    def resolve_codes(self, codes: str | Iterable[str] | None, sep: str = "|") -> list[str]:
        """Map codes (names, ids or paths at any level) to theme ids, in order, without repeats.

        ``codes`` is one string split on ``sep`` or an iterable of strings; ``None``/NaN and blank
        entries give nothing. Unknown or ambiguous codes raise one :class:`CodebookError` naming them all.
        """
        if _missing(codes):
            return []
        items = codes.split(sep) if isinstance(codes, str) else list(codes)  # type: ignore[union-attr]
        out: list[str] = []
        problems: list[str] = []
        for item in items:
            if _missing(item) or (isinstance(item, str) and not item.strip()):
                continue
            try:
                tid = self.get(item).theme_id
            except CodebookError as exc:
                problems.append(str(exc))
                continue
            if tid not in out:
                out.append(tid)
        if problems:
            raise CodebookError(" ".join(problems) if len(problems) == 1 else
                                f"{len(problems)} codes could not be resolved: " + " | ".join(problems))
        return out

    def theme_text(self, name_or_id: str, *, with_path: bool = False) -> str:
        """Name (or path), description, keywords and examples in one string, for embedding."""
        t = self.get(name_or_id)
        parts = [(t.path_str if with_path else t.name).rstrip(".") + "."]
        if t.description:
            parts.append(t.description)
        if t.keywords:
            parts.append("Keywords: " + ", ".join(t.keywords) + ".")
        if t.examples:
            parts.append("Examples: " + " ".join(f'"{e}"' for e in t.examples))
        return " ".join(parts)

    def with_examples(self, mapping: Mapping[str, str | Iterable[str]], *, replace: bool = False) -> Codebook:
        """A new codebook with examples added to (or, with ``replace=True``, replacing) those of the
        themes named (by name, id or path) in ``mapping``."""
        new: dict[str, tuple[str, ...]] = {}
        for key, examples in mapping.items():
            t = self.get(key)
            items = _strs([examples] if isinstance(examples, str) else list(examples), f"examples for {key!r}")
            base = new.get(t.theme_id, () if replace else t.examples)
            new[t.theme_id] = tuple(dict.fromkeys(base + items))
        themes = [dataclasses.replace(t, examples=new[t.theme_id]) if t.theme_id in new else t for t in self.themes]
        return Codebook(self.name, tuple(themes), source=self.source)

    # ---- export -------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per theme, depth-first, with columns theme_id, name, parent_id (None at the top),
        depth, description, keywords (``|``-joined), n_examples, path (``"A > B"``), is_leaf."""
        rows = [(t.theme_id, t.name, t.parent_id, t.depth, t.description, "|".join(t.keywords),
                 len(t.examples), t.path_str, t.is_leaf) for t in self.themes]
        return pd.DataFrame(rows, columns=list(FRAME_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """The canonical nested form; ``id`` is written only where it differs from the derived one."""

        def node(t: Theme) -> dict[str, Any]:
            slug = slugify(t.name)
            out: dict[str, Any] = {"name": t.name}
            if t.theme_id != (f"{t.parent_id}.{slug}" if t.parent_id else slug):
                out["id"] = t.theme_id
            for key in ("description", "keywords", "examples"):
                if getattr(t, key):
                    out[key] = getattr(t, key) if key == "description" else list(getattr(t, key))
            if t.child_ids:
                out["children"] = [node(self._by_id[c]) for c in t.child_ids]
            return out

        return {"name": self.name, "themes": [node(t) for t in self.roots()]}

    def to_yaml(self, path: str | os.PathLike | None = None) -> str:
        """The canonical YAML text; also written to ``path`` when given."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def load_codebook(spec: str | os.PathLike | Codebook | Mapping) -> Codebook:
    """Return a codebook from a file path (.yaml/.yml/.json), a built-in name, a mapping or a Codebook.

    Examples
    --------
    >>> load_codebook("iapt").name
    'iapt_wellbeing'
    """
    if isinstance(spec, Codebook):
        return spec
    if isinstance(spec, Mapping):
        return Codebook.from_dict(spec)
    if isinstance(spec, pd.DataFrame):
        return Codebook.from_frame(spec)
    if not isinstance(spec, (str, os.PathLike)):
        raise CodebookError(f"load_codebook: expected a path, a built-in name, a mapping or a Codebook, got "
                            f"{type(spec).__name__}.")
    from themeassist import codebooks

    text = os.fspath(spec)
    if isinstance(spec, str) and not _is_file(text) and codebooks.is_builtin(text):
        return codebooks.load_builtin(text)
    if _is_file(text) or Path(text).suffix.lower() in (".yaml", ".yml", ".json"):
        return Codebook.load(text)
    raise CodebookError(f"load_codebook: {text!r} is neither a codebook file (.yaml, .yml, .json) nor a "
                        f"built-in codebook ({', '.join(codebooks.available())}; alias 'iapt')."
                        f"{_did_you_mean(text, codebooks.available())}")

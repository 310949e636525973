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

import contextlib
import dataclasses
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd
import yaml

from themeassist._codebook_parse import (
    FRAME_COLUMNS,
    PATH_SEP,
    StrictSafeLoader,
    build,
    did_you_mean,
    is_file,
    missing,
    no_duplicate_pairs,
    norm,
    parse_frame,
    parse_obj,
    read_source,
    slugify,
    str_list,
)
from themeassist.exceptions import CodebookError

__all__ = ["Codebook", "Theme", "codes_to_long", "load_codebook", "slugify"]

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


@contextlib.contextmanager
def _naming(source: str) -> Iterator[None]:
    """Add the file name to codebook errors raised inside the block (not for "<text>", "<dict>")."""
    try:
        yield
    except CodebookError as exc:
        if source.startswith("<"):
            raise
        raise CodebookError(f"{exc} (in {source})") from exc


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
            by_name.setdefault(norm(t.name), []).append(t.theme_id)
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_by_name", by_name)

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_dict(cls, obj: Mapping | list, *, name: str | None = None, source: str = "<dict>",
                  default_name: str = "codebook") -> Codebook:
        """Build from the canonical mapping (``name``, ``themes``), a ``themes`` list, or the short form."""
        with _naming(source):
            file_name, raws = parse_obj(obj, source)
            themes = tuple(Theme(*row) for row in build(raws))
        return cls(name or file_name or default_name, themes, source=source)

    @classmethod
    def from_yaml(cls, path_or_text: str | os.PathLike, *, name: str | None = None) -> Codebook:
        """Load YAML from a path or from the YAML text itself (name defaults to the file stem)."""
        text, source, stem = read_source(path_or_text, (".yaml", ".yml"))
        try:
            with _naming(source):
                obj = yaml.load(text, Loader=StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise CodebookError(f"Codebook: {source} is not valid YAML: {exc}") from exc
        return cls.from_dict(obj, name=name, source=source, default_name=stem or "codebook")

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike, *, name: str | None = None) -> Codebook:
        """Load JSON (same structure as the YAML forms) from a path or from the text itself."""
        text, source, stem = read_source(path_or_text, (".json",))
        try:
            with _naming(source):
                obj = json.loads(text, object_pairs_hook=no_duplicate_pairs)
        except json.JSONDecodeError as exc:
            raise CodebookError(f"Codebook: {source} is not valid JSON: {exc}") from exc
        return cls.from_dict(obj, name=name, source=source, default_name=stem or "codebook")

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
        return cls(name, tuple(Theme(*row) for row in build(parse_frame(df))), source=source)

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
        ids = set(self._by_name.get(norm(key), []))
        if key.strip() in self._by_id:
            ids.add(key.strip())
        if not ids and ">" in key:
            parts = tuple(norm(p) for p in key.split(">"))
            ids = {t.theme_id for t in self.themes
                   if len(t.path) >= len(parts) and tuple(map(norm, t.path[-len(parts):])) == parts}
        if len(ids) == 1:
            return [self._by_id[ids.pop()]]
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
        raise CodebookError(f"Codebook {self.name!r}: no theme named {key!r}.{did_you_mean(key, options)} "
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

        Parameters
        ----------
        codes : str, iterable of str or None
            One string split on ``sep`` (e.g. a ``codes`` cell ``"Resources|Identity"``) or an
            iterable of codes (not split further). ``None``/NaN and blank entries give nothing.
        sep : str, default "|"

        Returns
        -------
        list of str
            Theme ids. Unknown or ambiguous codes raise one :class:`CodebookError` naming them all.

        Examples
        --------
        >>> cb = Codebook.from_dict({"Staff": ["Attitude"], "Access": ["Parking"]})
        >>> cb.resolve_codes("parking | Staff | staff.attitude | Parking")
        ['access.parking', 'staff', 'staff.attitude']
        """
        if missing(codes):
            return []
        items = codes.split(sep) if isinstance(codes, str) else list(codes)  # type: ignore[union-attr]
        out: list[str] = []
        problems: list[str] = []
        for item in items:
            if missing(item) or (isinstance(item, str) and not item.strip()):
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
            items = str_list([examples] if isinstance(examples, str) else list(examples), f"examples for {key!r}")
            base = new.get(t.theme_id, () if replace else t.examples)
            new[t.theme_id] = tuple(dict.fromkeys(base + items))
        themes = [dataclasses.replace(t, examples=new[t.theme_id]) if t.theme_id in new else t for t in self.themes]
        return Codebook(self.name, tuple(themes), source=self.source)

    # ---- export -------------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """One row per theme, depth-first.

        Returns
        -------
        DataFrame
            Columns ``theme_id``, ``name``, ``parent_id`` (None at the top), ``depth`` (int, 0 at
            the top), ``description``, ``keywords`` (``|``-joined), ``n_examples`` (int), ``path``
            (``"Parent > Child"``) and ``is_leaf`` (bool).

        Examples
        --------
        >>> Codebook.from_dict({"Staff": ["Attitude"]}).to_frame()[["theme_id", "depth", "path"]]
                 theme_id  depth              path
        0           staff      0             Staff
        1  staff.attitude      1  Staff > Attitude
        """
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

    Parameters
    ----------
    spec : str, path, Codebook, mapping or DataFrame
        A path to a YAML/JSON codebook (canonical or short form), the name of a built-in codebook
        (see :func:`themeassist.codebooks.available`; ``"iapt"`` is an alias of ``"iapt_wellbeing"``),
        a mapping as :meth:`Codebook.from_dict` takes, a table as :meth:`Codebook.from_frame` takes,
        or a Codebook (returned as is).

    Returns
    -------
    Codebook

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
    if isinstance(spec, str) and not is_file(text) and codebooks.is_builtin(text):
        return codebooks.load_builtin(text)
    if is_file(text) or Path(text).suffix.lower() in (".yaml", ".yml", ".json"):
        return Codebook.load(text)
    raise CodebookError(f"load_codebook: {text!r} is neither a codebook file (.yaml, .yml, .json) nor a "
                        f"built-in codebook ({', '.join(codebooks.available())}; alias 'iapt')."
                        f"{did_you_mean(text, codebooks.available())}")


def codes_to_long(doc_ids: Iterable[str], codes: Iterable[Any], codebook: Codebook, *, sep: str = "|",
                  column: str = "codes") -> pd.DataFrame:
    """Turn a column of ``sep``-joined codes into one row per (comment, theme).

    Parameters
    ----------
    doc_ids, codes : iterables of the same length
        Comment ids and their codes cells (names, ids or paths at any level; blank for none).
    codebook : Codebook
    sep : str
        Separator inside a cell.
    column : str
        Name of the codes column, used in error messages.

    Returns
    -------
    DataFrame
        Columns ``doc_id``, ``theme_id``; comments without codes have no row.

    Raises
    ------
    CodebookError
        A code not in the codebook; the message names the row, the column and the code.

    Examples
    --------
    >>> cb = Codebook.from_dict({"Staff": ["Attitude", "Numbers"]})
    >>> codes_to_long(["a", "b"], ["Attitude|Numbers", ""], cb)
      doc_id        theme_id
    0      a  staff.attitude
    1      a   staff.numbers
    """
    rows: list[tuple[str, str]] = []
    for i, (doc_id, cell) in enumerate(zip(doc_ids, codes)):
        try:
            ids = codebook.resolve_codes(cell, sep=sep)
        except CodebookError as exc:
            raise CodebookError(f"row {i} (doc_id {doc_id!r}), column {column!r}: {exc}") from exc
        rows += [(str(doc_id), t) for t in ids]
    return pd.DataFrame(rows, columns=["doc_id", "theme_id"])

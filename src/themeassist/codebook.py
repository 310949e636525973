"""Codebooks: human-curated theme hierarchies, loaded, validated, looked up and exported.

Two written forms load (YAML or JSON). The canonical form::

    name: my_codebook
    none_codes: [NotCodable, n/a]   # optional: codes meaning "none of these themes"
    themes:
      - name: Identity
        id: identity               # optional, see "Ids"
        description: How practitioners see themselves at work.
        keywords: [pride, role]
        examples: ["I love being a therapist"]
        aliases: [identities]      # optional: other spellings read as this theme
        children:
          - name: Professional Identity

Entries of the top-level ``themes`` list may instead name their parent (``parent: <id or name>``):
a flat list, as :meth:`Codebook.from_frame` reads. The short form (the NHS v6 framework file) maps
each parent to a list or mapping of its children, ``Staff: [Manner, Competence]``; a top-level
``none_codes:`` key there is read as above.

Ids: without ``id``, a theme gets ``<parent id>.<slug of its name>`` (``identity.professional-
identity``). An id has no spaces, ``|`` or ``>``, is unique, and is not another theme's name
(unless it is also its own name: ``words`` may be the id of a theme named ``Words``).

Names: names may not contain ``|`` or ``" > "``. Siblings may not share a name, where names that
differ only in case, Unicode form, spacing or dash are one name (``Incomplete requirements`` /
``Incomplete Requirements``). Loading refuses them, or with ``merge_variants=True`` (command line
``--merge-variants``) merges them, keeping the spelling used most in ``counts`` (without counts,
the first in the codebook) and the others as ``aliases``, with a warning listing each merge.
Same-named siblings that each have an explicit id stay apart (REFI-QDA imports give them ids from
their GUIDs). The same name under different parents gives different themes.

Addressing: one rule, used by every reader (examples, decisions, drift codes, agreement, REFI-QDA
import, report). A string names, in this order:

1. the theme with that **id** (exact, case-sensitive);
2. nothing, if it is a declared **none code** ("none of these themes");
3. the theme with that full **path** ``"Parent > Child"`` (a top-level theme's path is its name);
4. the one theme whose path ends with it, e.g. whose **name** it is, when exactly one does;
5. failing those, several codes joined by ``;``, a line break or ``,`` (tried in that order) when
   every part names a theme by 1-4: read as those codes, with one warning naming the rows.

Paths and names are compared after NFKC, case-folding and collapsing spaces (also around ``>``).
Of several themes matching so, the one spelled exactly as written (case and all) is chosen.
A string naming a theme and its same-named sub-theme (``Care received > Care received``) names the
sub-theme, which stands for the parent coded on its own; readers warn once with the count of rows
read that way and the parent's id (which names the parent itself). A string that still names
several themes is an error listing each one's path and id and what to write instead.
"""

from __future__ import annotations

import dataclasses
import json
import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd
import yaml

from themeassist import _codebook_io as cio
from themeassist._codebook_io import StrictSafeLoader
from themeassist import _codebook_parse as cp
from themeassist import _codebook_table as ct
from themeassist import _codebook_resolve as res
from themeassist._codebook_resolve import codes_to_long, read_codes, read_suggested_ids
from themeassist._codebook_parse import MAX_DEPTH, PATH_SEP, slugify
from themeassist.exceptions import CodebookError

__all__ = ["MAX_DEPTH", "Codebook", "Theme", "codes_to_long", "load_codebook", "read_codes", "read_suggested_ids",
           "slugify"]

#: Codebook files :meth:`Codebook.load` reads, by suffix.
CODEBOOK_SUFFIXES = (".yaml", ".yml", ".json", ".csv", ".xlsx", ".qdc")

#: What ``counts=`` takes: spelling -> number of uses, or code cells to count them in.
Counts = Mapping[str, int] | Iterable[Any] | None


@dataclass(frozen=True)
class Theme:
    """One node of a codebook.

    Attributes
    ----------
    theme_id : str
        Unique identifier (explicit ``id:`` or derived from the names).
    name, description : str
    keywords, examples : tuple of str
        Search words and example comments (describe the theme to an embedding model).
    parent_id : str or None
        ``None`` for a top-level theme.
    depth : int
        0 for top-level themes, 1 for their children, ...
    child_ids, path, aliases : tuple of str
        Ids of the children in order; names from the top down to this theme; other spellings
        of the name (e.g. merged variants), read as this theme.

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
    aliases: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in ("keywords", "examples", "child_ids", "path", "aliases"):
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


@dataclass(frozen=True, repr=False)
class Codebook:
    """A theme hierarchy: themes in depth-first order, with lookups by id, name or path.

    Build one with :meth:`from_yaml`, :meth:`from_json`, :meth:`from_dict`, :meth:`from_frame`,
    :meth:`load` or :func:`load_codebook`; these validate the tree (see the module docstring for
    the rules on names and ids, and for how strings are read as themes). ``source`` records
    where it was loaded from (a file path, ``"<text>"``, ``"<dict>"``, ``"builtin:<name>"``); it is
    not compared by ``==``. ``none_codes`` are codes that mean "none of these themes".

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
    none_codes: tuple[str, ...] = ()
    _by_id: dict[str, Theme] = field(init=False, compare=False)
    _lookup: list = field(init=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "themes", tuple(self.themes))
        object.__setattr__(self, "none_codes", tuple(self.none_codes))
        by_id: dict[str, Theme] = {}
        for t in self.themes:
            if t.theme_id in by_id:
                raise CodebookError(f"Codebook {self.name!r}: theme id {t.theme_id!r} is used twice.")
            if t.parent_id is not None and t.parent_id not in by_id:
                raise CodebookError(f"Codebook {self.name!r}: theme {t.theme_id!r} comes before its parent "
                                    f"{t.parent_id!r} or that parent is missing; list themes depth-first.")
            by_id[t.theme_id] = t
        object.__setattr__(self, "_by_id", by_id)
        object.__setattr__(self, "_lookup", [])

    def _index(self) -> res.Index:
        if not self._lookup:
            self._lookup.append(res.Index.of(self))
        return self._lookup[0]

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def _from_parsed(cls, parsed: cp.Parsed, *, name: str | None, source: str, default_name: str,
                     merge_variants: bool, counts: Counts, none_codes: Iterable[str]) -> Codebook:
        with cp.naming(source):
            rows = cp.build_parsed(parsed, none_codes, merge_variants=merge_variants, counts=counts)
            themes = tuple(Theme(*row) for row in rows)
        return cls(name or parsed.name or default_name, themes, source=source, none_codes=parsed.none_codes)

    @classmethod
    def from_dict(cls, obj: Mapping | list, *, name: str | None = None, source: str = "<dict>",
                  default_name: str = "codebook", merge_variants: bool = False, counts: Counts = None,
                  none_codes: Iterable[str] = ()) -> Codebook:
        """Build from the canonical mapping (``name``, ``themes``), a ``themes`` list, or the short form.

        ``merge_variants``, ``counts`` and ``none_codes`` are as in :func:`load_codebook`.
        """
        with cp.naming(source):
            parsed = cp.parse_obj(obj, source)
        return cls._from_parsed(parsed, name=name, source=source, default_name=default_name,
                                merge_variants=merge_variants, counts=counts, none_codes=none_codes)

    @classmethod
    def from_yaml(cls, path_or_text: str | os.PathLike, *, name: str | None = None, **options: Any) -> Codebook:
        """Load YAML from a path or from the YAML text itself (name defaults to the file stem).

        Anchors and aliases are refused, and nesting and size are checked before the YAML is built.
        ``options``: ``merge_variants``, ``counts``, ``none_codes`` as in :func:`load_codebook`.
        """
        text, source, stem = cio.read_source(path_or_text, (".yaml", ".yml"))
        try:
            with cp.naming(source):
                cio.check_yaml_events(text, source)
                obj = yaml.load(text, Loader=StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
        except yaml.YAMLError as exc:
            raise CodebookError(f"Codebook: {source} is not valid YAML: {_yaml_problem(exc)}") from exc
        return cls.from_dict(obj, name=name, source=source, default_name=stem or "codebook", **options)

    @classmethod
    def from_json(cls, path_or_text: str | os.PathLike, *, name: str | None = None, **options: Any) -> Codebook:
        """Load JSON (same structure as the YAML forms) from a path or from the text itself."""
        text, source, stem = cio.read_source(path_or_text, (".json",))
        try:
            with cp.naming(source):
                obj = json.loads(text, object_pairs_hook=cio.no_duplicate_pairs)
        except json.JSONDecodeError as exc:
            raise CodebookError(f"Codebook: {source} is not valid JSON: {exc}") from exc
        except RecursionError:
            raise CodebookError(f"Codebook: {source} is nested too deeply to be a codebook.") from None
        return cls.from_dict(obj, name=name, source=source, default_name=stem or "codebook", **options)

    @classmethod
    def load(cls, path: str | os.PathLike, **options: Any) -> Codebook:
        """Load a codebook file by its suffix (``options`` as in :func:`load_codebook`): ``.yaml``,
        ``.yml``, ``.json``; a spreadsheet ``.csv`` or ``.xlsx`` (first sheet) as :meth:`from_frame`
        reads it; a REFI-QDA ``.qdc`` codebook (:func:`themeassist.io.import_qdc`)."""
        suffix = Path(path).suffix.lower()
        if suffix not in CODEBOOK_SUFFIXES:
            raise CodebookError(f"Codebook: cannot tell the format of {os.fspath(path)!r}; "
                                f"use a {', '.join(CODEBOOK_SUFFIXES[:-1])} or {CODEBOOK_SUFFIXES[-1]} file.")
        if suffix in (".csv", ".xlsx"):
            return cls.from_frame(ct.read_sheet(Path(path)), name=Path(path).stem, source=os.fspath(path), **options)
        if suffix == ".qdc":
            from themeassist.io import import_qdc

            return load_codebook(import_qdc(path), none_codes=options.get("none_codes", ()))
        return (cls.from_json if suffix == ".json" else cls.from_yaml)(Path(path), **options)

    @classmethod
    def from_frame(cls, df: pd.DataFrame, *, name: str = "codebook", source: str = "<DataFrame>",
                   merge_variants: bool = False, counts: Counts = None, none_codes: Iterable[str] = ()) -> Codebook:
        """Build from one row per theme: ``name`` and optional ``theme_id``, ``parent_id`` (an id or a
        name), ``description``, ``keywords``, ``examples`` and ``aliases`` (lists or ``|``-joined strings).

        The derived columns of :meth:`to_frame` (depth, n_examples, path, is_leaf) are ignored, and so
        are a QDA program's columns about a code's use (``Files``, ``References``, ``Created On``, ...).
        Headers are compared without case, spaces or dashes; beside a ``parent`` column ``code``,
        ``label`` or ``title`` may name the themes. **Any other table** (``Category | Code``) is read one
        column per level (README, "A codebook kept as a spreadsheet"): the columns before the first of
        theme_id, description, keywords, examples, aliases are the levels; a row's theme is its deepest
        filled level, and a blank level above a filled one takes the row above's value (merged cells).

        Examples
        --------
        >>> import pandas as pd
        >>> table = pd.DataFrame({"Theme": ["Staff", None, "Food"], "Sub-theme": ["Attitude", "Other", "Other"],
        ...                       "Description": ["How staff behave", None, None]})
        >>> [" > ".join(t.path) for t in Codebook.from_frame(table).leaves()]
        ['Staff > Attitude', 'Staff > Other', 'Food > Other']
        """
        if not isinstance(df, pd.DataFrame):
            raise CodebookError(f"Codebook.from_frame expects a pandas DataFrame, got {type(df).__name__}.")
        df = ct.drop_usage(df)
        long = ct.normalise_long(df)
        with cp.naming(source):
            parsed = cp.Parsed(None, cp.parse_frame(long) if long is not None else ct.parse_levels(df))
        return cls._from_parsed(parsed, name=name, source=source, default_name=name,
                                merge_variants=merge_variants, counts=counts, none_codes=none_codes)

    # ---- lookups ------------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.themes)

    def __iter__(self) -> Iterator[Theme]:
        return iter(self.themes)

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and res.lookup(self._index(), key).kind in ("theme", "ambiguous")

    def __repr__(self) -> str:
        return (f"Codebook(name={self.name!r}, n_themes={len(self.themes)}, "
                f"n_leaves={len(self.leaves())}, source={self.source!r})")

    def by_id(self, theme_id: str) -> Theme:
        """The theme with exactly this id (for machine-written ids; people's codes go to :meth:`get`)."""
        try:
            return self._by_id[theme_id]
        except (KeyError, TypeError):
            raise CodebookError(f"Codebook {self.name!r}: no theme has the id {theme_id!r}; was the table made "
                                "with another codebook?") from None

    def get(self, name_or_id: str | Theme) -> Theme:
        """Return the theme a string names (an id, a path ``"Parent > Child"`` or a unique name).

        Raises :class:`CodebookError` when nothing matches (with close suggestions), when the
        string is a none code, or when it names several themes (listing their paths and ids).

        Examples
        --------
        >>> cb = Codebook.from_dict({"A": ["Other"], "B": ["Other"]})
        >>> cb.get("b > other").theme_id
        'b.other'
        """
        key = name_or_id.theme_id if isinstance(name_or_id, Theme) else name_or_id
        if not isinstance(key, str):
            raise CodebookError(f"Codebook {self.name!r}: a theme is looked up by a string, got {key!r}.")
        ix = self._index()
        hit = res.lookup(ix, key)
        if hit.kind == "theme":
            if hit.via is not None:
                warnings.warn(res.itself_note(ix, self.name, key, hit.via, 1), UserWarning, stacklevel=2)
            return self._by_id[hit.ids[0]]
        if hit.kind == "none":
            raise CodebookError(f"Codebook {self.name!r}: {key!r} is a none code (none of these themes), not a "
                                "theme.")
        raise CodebookError(res.problem(ix, self.name, key, hit))

    def itself(self, name_or_id: str | Theme) -> Theme:
        """The theme that stands for this one coded on its own: its same-named sub-theme (followed
        down while the name repeats), or the theme itself.

        Examples
        --------
        >>> cb = Codebook.from_dict({"Care": ["Care", "Food"]})
        >>> cb.itself("care").path_str
        'Care > Care'
        """
        tid = self._theme(name_or_id).theme_id
        return self._by_id[self._index().itself.get(tid, tid)]

    def code_for(self, theme_id: str) -> str:
        """The shortest of name, path and id that reads back as exactly this theme (for writers).

        Examples
        --------
        >>> cb = Codebook.from_dict({"words": None, "change": ["words"], "remove": ["words"]})
        >>> [cb.code_for(t.theme_id) for t in cb.leaves()]
        ['words', 'change > words', 'remove > words']
        """
        t = self.by_id(theme_id)
        for text in (t.name, t.path_str):
            hit = res.lookup(self._index(), text)
            if hit.kind == "theme" and hit.ids == (theme_id,) and hit.via is None:
                return text
        return theme_id

    def roots(self) -> list[Theme]:
        """Top-level themes."""
        return [t for t in self.themes if t.parent_id is None]

    def leaves(self) -> list[Theme]:
        """Themes without children, in depth-first order."""
        return [t for t in self.themes if t.is_leaf]

    def parent_of(self, name_or_id: str) -> Theme | None:
        """The parent theme, or None for a top-level theme."""
        pid = self._theme(name_or_id).parent_id
        return None if pid is None else self._by_id[pid]

    def _theme(self, name_or_id: str | Theme) -> Theme:
        if isinstance(name_or_id, str) and name_or_id in self._by_id:
            return self._by_id[name_or_id]
        return self.get(name_or_id)

    def ancestors(self, name_or_id: str) -> list[Theme]:
        """Ancestors from the top-level theme down to the parent (empty for a top-level theme)."""
        out, pid = [], self._theme(name_or_id).parent_id
        while pid is not None:
            out.append(self._by_id[pid])
            pid = self._by_id[pid].parent_id
        return out[::-1]

    def children(self, name_or_id: str) -> list[Theme]:
        """Direct children, in codebook order."""
        return [self._by_id[c] for c in self._theme(name_or_id).child_ids]

    def descendants(self, name_or_id: str) -> list[Theme]:
        """All themes below this one, depth-first."""
        out, stack = [], list(reversed(self._theme(name_or_id).child_ids))
        while stack:
            t = self._by_id[stack.pop()]
            out.append(t)
            stack.extend(reversed(t.child_ids))
        return out

    def resolve_codes(self, codes: str | Iterable[str] | None, sep: str = "|") -> list[str]:
        """Map codes (ids, paths or names at any level) to theme ids, in order, without repeats.

        Parameters
        ----------
        codes : str, iterable of str or None
            One string split on ``sep`` (e.g. a ``codes`` cell ``"Resources|Identity"``) or an
            iterable of codes (not split further). ``None``/NaN, blank entries and none codes
            give nothing.
        sep : str, default "|"

        Returns
        -------
        list of str
            Theme ids. Unknown or ambiguous codes raise one :class:`CodebookError` naming them all.
            For a whole column use :func:`read_codes` (one error naming the rows, one warning).

        Examples
        --------
        >>> cb = Codebook.from_dict({"Staff": ["Attitude"], "Access": ["Parking"]})
        >>> cb.resolve_codes("parking | Staff | staff.attitude | Parking")
        ['access.parking', 'staff', 'staff.attitude']
        """
        reader = res.CodeReader(self, sep=sep)
        cell = codes if isinstance(codes, str) or cp.missing(codes) else [str(c) for c in codes]  # type: ignore
        out = reader.ids(cell, "")
        if reader.problems:
            msgs = [p[2:] for p in reader.problems]
            raise CodebookError(msgs[0] if len(msgs) == 1 else
                                f"{len(msgs)} codes could not be resolved: " + " | ".join(msgs))
        reader.finish(stacklevel=3)
        return out

    def theme_text(self, name_or_id: str, *, with_path: bool = False) -> str:
        """Name (or path), description, keywords and examples in one string, for embedding."""
        t = self._theme(name_or_id)
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
            t = self._theme(key)
            items = cp.str_list([examples] if isinstance(examples, str) else list(examples), f"examples for {key!r}")
            base = new.get(t.theme_id, () if replace else t.examples)
            new[t.theme_id] = tuple(dict.fromkeys(base + items))
        themes = [dataclasses.replace(t, examples=new[t.theme_id]) if t.theme_id in new else t for t in self.themes]
        return dataclasses.replace(self, themes=tuple(themes))

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
        return pd.DataFrame(rows, columns=list(cp.FRAME_COLUMNS))

    def to_dict(self) -> dict[str, Any]:
        """The canonical nested form; ``id`` is written only where it differs from the derived one."""

        return cio.to_nested(self)

    def to_yaml(self, path: str | os.PathLike | None = None) -> str:
        """The canonical YAML text; also written to ``path`` when given."""
        text = yaml.safe_dump(self.to_dict(), sort_keys=False, allow_unicode=True, width=100)
        if path is not None:
            Path(path).write_text(text, encoding="utf-8")
        return text


def _yaml_problem(exc: Exception) -> str:
    """One line for a YAML error: where (line, column) and what, with the fix for a tab."""
    mark = getattr(exc, "problem_mark", None)
    what = " ".join(str(getattr(exc, "problem", None) or exc).split())
    where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
    tab = " Indent with spaces: YAML does not allow tabs." if "'\\t'" in what or "\t" in what else ""
    return f"{where}{what}.{tab}"


def load_codebook(spec: str | os.PathLike | Codebook | Mapping | pd.DataFrame, *, merge_variants: bool = False,
                  counts: Counts = None, none_codes: Iterable[str] = ()) -> Codebook:
    """Return a codebook from a file path, a built-in name, a mapping, a table or a Codebook.

    Parameters
    ----------
    spec : str, path, Codebook, mapping or DataFrame
        A path to a YAML/JSON codebook (canonical or short form), a spreadsheet (``.csv``, ``.xlsx``:
        one row per theme, or one column per level, as :meth:`Codebook.from_frame` reads it), a
        REFI-QDA ``.qdc`` codebook, the name of a built-in codebook
        (see :func:`themeassist.codebooks.available`; ``"iapt"`` is an alias of ``"iapt_wellbeing"``),
        a mapping as :meth:`Codebook.from_dict` takes, a table as :meth:`Codebook.from_frame` takes,
        or a Codebook (returned as is).
    merge_variants : bool, default False
        Merge sibling names that differ only in case, Unicode form, spacing or dash (warned).
    counts : mapping or iterable, optional
        How often each spelling is used: a mapping spelling -> count, or the code cells
        (``"|"``-joined) to count them in. The most used spelling of a merged name is kept.
    none_codes : iterable of str
        Codes meaning "none of these themes", added to those the file declares.

    Returns
    -------
    Codebook

    Examples
    --------
    >>> load_codebook("iapt").name
    'iapt_wellbeing'
    >>> load_codebook({"STEM": ["Science", "science"]}, merge_variants=True,
    ...               counts=["STEM > science", "science|Science", "science"]).leaves()[0].name
    'science'
    """
    options = {"merge_variants": merge_variants, "counts": counts, "none_codes": tuple(none_codes)}
    if isinstance(spec, Codebook):
        return spec if not options["none_codes"] else dataclasses.replace(
            spec, none_codes=tuple(dict.fromkeys(spec.none_codes + options["none_codes"])))
    if isinstance(spec, Mapping):
        return Codebook.from_dict(spec, **options)
    if isinstance(spec, pd.DataFrame):
        return Codebook.from_frame(spec, **options)
    if not isinstance(spec, (str, os.PathLike)):
        raise CodebookError(f"load_codebook: expected a path, a built-in name, a mapping or a Codebook, got "
                            f"{type(spec).__name__}.")
    from themeassist import codebooks

    text = os.fspath(spec)
    if isinstance(spec, str) and not cio.is_file(text) and codebooks.is_builtin(text):
        return load_codebook(codebooks.load_builtin(text), none_codes=options["none_codes"])
    if cio.is_file(text) or Path(text).suffix.lower() in CODEBOOK_SUFFIXES:
        return Codebook.load(text, **options)
    raise CodebookError(f"load_codebook: {text!r} is neither a codebook file ({', '.join(CODEBOOK_SUFFIXES)}) nor a "
                        f"built-in codebook ({', '.join(codebooks.available())}; alias 'iapt')."
                        f"{cp.did_you_mean(text, codebooks.available())}")

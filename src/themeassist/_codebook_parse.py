"""Reading and validating codebook structures (private; see :mod:`themeassist.codebook`).

Each written form is first turned into a list of ``_Raw`` records (one per node, with the place
it came from, e.g. ``themes[3].children[4]``); :func:`build` then resolves ``parent`` references,
rejects cycles, merges (or refuses) sibling spellings that differ only in case, spacing or dash,
derives ids, depths and paths, and refuses ids that equal another theme's name.
"""

from __future__ import annotations

import contextlib
import difflib
import numbers
import re
import unicodedata
import warnings
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

import pandas as pd

from themeassist.exceptions import CodebookError

NODE_KEYS = ("name", "id", "description", "keywords", "examples", "aliases", "children")
TOP_KEYS = ("name", "themes", "none_codes")
FRAME_COLUMNS = ("theme_id", "name", "parent_id", "depth", "description", "keywords",
                 "n_examples", "path", "is_leaf")
FRAME_INPUT = ("theme_id", "name", "parent_id", "parent", "description", "keywords", "examples", "aliases")
_HINTS = {"theme_id": "id", "subthemes": "children", "sub_themes": "children", "label": "name",
          "parent_id": "parent", "title": "name", "none_code": "none_codes"}
_ID_RE = re.compile(r"^[^\s|>]+$")
PATH_SEP = " > "
#: Deepest theme hierarchy accepted (real codebooks have 2-6 levels); deeper input is refused
#: before anything recursive or quadratic runs.
MAX_DEPTH = 100
#: YAML/JSON nodes accepted in one codebook file (a 10,000-theme codebook has about 60,000).
MAX_NODES = 2_000_000
_DASHES = "\u002d\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d"
_DASH_OR_SPACE = re.compile("[\\s" + re.escape(_DASHES) + "]+")


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
    """How names and paths are compared: NFKC, case-folded, runs of whitespace collapsed.

    Examples
    --------
    >>> norm("  Staff\u00a0 ATTITUDE ")
    'staff attitude'
    """
    text = unicodedata.normalize("NFKC", str(text)).casefold()
    return " ".join(unicodedata.normalize("NFKC", text).split())


def variant_key(text: str) -> str:
    """Spellings with the same key are variants of one name: they differ only in case, Unicode
    form, spacing or dash (every run of spaces and dashes counts as one ``-``).

    Examples
    --------
    >>> variant_key("Self\u2013care") == variant_key("self - care") == variant_key("Self care")
    True
    """
    return _DASH_OR_SPACE.sub("-", norm(text)).strip("-") or norm(text)


@contextlib.contextmanager
def naming(source: str) -> Iterator[None]:
    """Add the file name to codebook errors raised inside the block (not for "<text>", "<dict>")."""
    try:
        yield
    except CodebookError as exc:
        if source.startswith("<"):
            raise
        raise CodebookError(f"{exc} (in {source})") from exc


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
    aliases: tuple[str, ...] = ()
    removed: bool = False  # merged into a sibling, or a declared none code


@dataclass
class Parsed:
    """What a written form holds: the codebook's name, its nodes and its declared none codes."""

    name: str | None
    raws: list[_Raw]
    none_codes: tuple[str, ...] = ()
    notes: list[str] = field(default_factory=list)


def _name(value: Any, loc: str) -> str:
    if missing(value):
        raise CodebookError(f"Codebook: the theme at {loc} has no name. Add 'name: ...'.")
    if not isinstance(value, str):
        raise CodebookError(f"Codebook: the name of the theme at {loc} must be a string, got "
                            f"{type(value).__name__} {value!r}. Quote it in YAML, e.g. \"{value}\".")
    if not value.strip():
        raise CodebookError(f"Codebook: the theme at {loc} has an empty name. Give it a name or remove it.")
    name = " ".join(value.split())
    if "|" in name:
        raise CodebookError(f"Codebook: the name {name!r} at {loc} contains '|', which separates codes in a cell; "
                            f"rename it, e.g. {name.replace('|', '/')!r}.")
    if PATH_SEP in norm(name):
        fixed = re.sub(r"\s*>\s*", " - ", name)
        raise CodebookError(f"Codebook: the name {name!r} at {loc} contains ' > ', which separates the levels of a "
                            f"path; rename it, e.g. {fixed!r}.")
    return name


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


def _aliases(value: Any, loc: str, split: bool = False) -> tuple[str, ...]:
    return tuple(_name(a, loc) for a in str_list(value, loc, split))


def _too_deep(loc: str) -> CodebookError:
    return CodebookError(f"Codebook: the theme at {loc[:120]}... is nested more than {MAX_DEPTH} levels deep; "
                         f"themeassist reads at most {MAX_DEPTH} levels. Flatten the hierarchy.")


def _parse_node(obj: Any, loc: str, parent: int | None, out: list[_Raw], top: bool, depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _too_deep(loc)
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
                    parent, None if ref is None else str(ref), _aliases(obj.get("aliases"), f"{loc}.aliases")))
    children = obj.get("children") or []
    if not isinstance(children, list):
        raise CodebookError(f"Codebook: {loc}.children must be a list of themes, got {children!r}.")
    for j, child in enumerate(children):
        _parse_node(child, f"{loc}.children[{j}]", idx, out, top=False, depth=depth + 1)


def _parse_short(obj: Mapping, loc: str, parent: int | None, out: list[_Raw], depth: int = 0) -> None:
    if depth > MAX_DEPTH:
        raise _too_deep(loc)
    for key, value in obj.items():
        here = f"{loc}[{key!r}]"
        idx = len(out)
        out.append(_Raw(here, _name(key, here), parent=parent))
        if isinstance(value, Mapping):
            _parse_short(value, here, idx, out, depth + 1)
        elif isinstance(value, list):
            for j, item in enumerate(value):
                if isinstance(item, Mapping):
                    _parse_short(item, f"{here}[{j}]", idx, out, depth + 1)
                else:
                    out.append(_Raw(f"{here}[{j}]", _name(item, f"{here}[{j}]"), parent=idx))
        elif value is not None:
            raise CodebookError(f"Codebook: {here} must be a list of sub-theme names or a mapping of "
                                f"sub-themes, got {type(value).__name__} {value!r}.")


# ---- building the tree ---------------------------------------------------------------------------
def _resolve_refs(raws: list[_Raw]) -> None:
    explicit = {r.id: i for i, r in enumerate(raws) if r.id is not None}
    by_name: dict[str, list[int]] = {}
    for i, r in enumerate(raws):
        by_name.setdefault(norm(r.name), []).append(i)
    for i, r in enumerate(raws):
        if r.ref is None:
            continue
        hits = [explicit[r.ref]] if r.ref in explicit else by_name.get(norm(r.ref), [])
        if len(hits) > 1:  # a child named as its parent ("Product" under "Product") is not its own parent
            hits = [h for h in hits if h != i] or hits
        if len(hits) > 1:
            raise CodebookError(f"Codebook: the parent {r.ref!r} of theme {r.name!r} ({r.loc}) matches several "
                                f"themes ({', '.join(raws[h].loc for h in hits)}). Refer to the parent by its id"
                                + (" (give the themes a theme_id column), or write the table one column per level "
                                   "(Theme | Sub-theme)." if r.loc.startswith("row ") else "."))
        if not hits:
            raise CodebookError(f"Codebook: the parent {r.ref!r} of theme {r.name!r} ({r.loc}) is not the id or "
                                f"name of any theme.{did_you_mean(r.ref, [x.name for x in raws] + list(explicit))}")
        r.parent = hits[0]


def _check_cycles_and_depth(raws: list[_Raw]) -> None:
    """Each node's chain of parents ends at a root within MAX_DEPTH steps (linear time)."""
    state = [0] * len(raws)  # 0 unseen, 1 on the current chain, 2 known to reach a root
    depth = [0] * len(raws)
    for start in range(len(raws)):
        chain, j = [], start
        while j is not None and state[j] == 0:
            state[j] = 1
            chain.append(j)
            j = raws[j].parent
        if j is not None and state[j] == 1:
            loop = chain[chain.index(j):] + [j]
            raise CodebookError("Codebook: parent references form a cycle: " + " -> ".join(
                f"{raws[k].name!r} ({raws[k].loc})" for k in loop) + " (each arrow points to the parent)."
                " Remove one of these 'parent' entries.")
        d = -1 if j is None else depth[j]
        for k in reversed(chain):
            d += 1
            depth[k], state[k] = d, 2
            if d > MAX_DEPTH:
                raise _too_deep(raws[k].loc)


def _merge_into(keep: _Raw, other: _Raw, idx_keep: int, raws: list[_Raw], kids: dict[int | None, list[int]],
                idx_other: int) -> None:
    if keep.id is not None and other.id is not None and keep.id != other.id:
        raise CodebookError(f"Codebook: cannot merge {other.name!r} ({other.loc}, id {other.id!r}) into "
                            f"{keep.name!r} ({keep.loc}, id {keep.id!r}): both have an explicit id. Keep one id.")
    keep.id = keep.id or other.id
    keep.description = keep.description or other.description
    keep.keywords = tuple(dict.fromkeys(keep.keywords + other.keywords))
    keep.examples = tuple(dict.fromkeys(keep.examples + other.examples))
    keep.aliases = tuple(a for a in dict.fromkeys(keep.aliases + (other.name,) + other.aliases) if a != keep.name)
    for c in kids.pop(idx_other, []):
        raws[c].parent = idx_keep
        kids.setdefault(idx_keep, []).append(c)
    other.removed = True


def _uses(n: int) -> str:
    return f"{n} use" if n == 1 else f"{n} uses"


def _variants(raws: list[_Raw], kids: dict[int | None, list[int]], merge: bool,
              counts: Mapping[str, int] | None) -> list[str]:
    """Merge (or refuse) siblings whose names are variants of one name; returns the merges made."""
    merges: list[str] = []
    queue: list[int | None] = [None]
    while queue:
        parent = queue.pop(0)
        groups: dict[str, list[int]] = {}
        for i in kids.get(parent, []):
            groups.setdefault(variant_key(raws[i].name), []).append(i)
        for members in groups.values():
            ids = [raws[i].id for i in members]
            if len(members) == 1 or (None not in ids and len(set(ids)) == len(ids)):
                continue  # one theme, or distinct explicit ids: the user says they are different themes
            where = "at the top level" if parent is None else f"under {raws[parent].name!r}"
            if not merge:
                a, b = raws[members[0]], raws[members[1]]
                spelled = "" if a.name == b.name else f" as {a.name!r} and {b.name!r}"
                raise CodebookError(
                    f"Codebook: theme {b.name!r} appears twice {where} ({a.loc} and {b.loc}){spelled}. Rename or "
                    "merge one of them, or load with merge_variants=True (command line: --merge-variants) to merge "
                    "spellings that differ only in case, spacing or dash.")
            n = Counter({raws[i].name: 0 for i in members})
            n.update({raws[i].name: int((counts or {}).get(raws[i].name, 0)) for i in members})
            keep = max(members, key=lambda i: (n[raws[i].name], -members.index(i)))
            listed = ", ".join(f"{raws[i].name!r} ({'kept; ' if i == keep else ''}{_uses(n[raws[i].name])})"
                               for i in [keep] + [m for m in members if m != keep])
            merges.append(f"{where}: {listed}")
            for i in members:
                if i != keep:
                    _merge_into(raws[keep], raws[i], keep, raws, kids, i)
            kids[parent] = [i for i in kids[parent] if not raws[i].removed]
        queue.extend(kids.get(parent, []))
    return merges


def _derive_ids(raws: list[_Raw], kids: dict[int | None, list[int]]) -> tuple[dict[int, str], list[int]]:
    ids: dict[int, str] = {}
    where_id: dict[str, int] = {}
    order: list[int] = []
    stack = list(reversed(kids.get(None, [])))
    while stack:
        i = stack.pop()
        r = raws[i]
        pid = ids[r.parent] if r.parent is not None else None
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
    return ids, order


def _check_ids_against_names(raws: list[_Raw], ids: dict[int, str], order: list[int]) -> None:
    """An id must not be another theme's name (or top-level path) unless it is also its own."""
    names: dict[str, list[int]] = {}
    for i in order:
        for n in {norm(raws[i].name), *map(norm, raws[i].aliases)}:
            names.setdefault(n, []).append(i)
    for i in order:
        key = norm(ids[i])
        own = {norm(raws[i].name), *map(norm, raws[i].aliases)}
        others = [j for j in names.get(key, []) if j != i]
        if others and key not in own:
            o = raws[others[0]]
            how = (f"give {raws[i].name!r} another id" if raws[i].id else
                   f"its id is derived from the names; give {raws[i].name!r} an explicit 'id:'")
            raise CodebookError(f"Codebook: the id {ids[i]!r} of theme {raws[i].name!r} ({raws[i].loc}) is also the "
                                f"name of theme {o.name!r} ({o.loc}), so a code {ids[i]!r} could mean either; {how}.")


def build(raws: list[_Raw], *, merge_variants: bool = False, counts: Mapping[str, int] | None = None) -> list[tuple]:
    """Resolve parents, check the tree, merge or refuse spelling variants, derive ids; return
    ``Theme`` field tuples, depth-first (a warning lists the merges made)."""
    if not [r for r in raws if not r.removed]:
        raise CodebookError("Codebook: no themes found. Add a 'themes:' list or 'Parent: [child, ...]' entries.")
    _resolve_refs(raws)
    _check_cycles_and_depth(raws)
    kids: dict[int | None, list[int]] = {}
    for i, r in enumerate(raws):
        if r.parent is not None and raws[r.parent].removed and not r.removed:
            raise CodebookError(f"Codebook: {raws[r.parent].name!r} ({raws[r.parent].loc}) is declared a none code "
                                f"but has sub-themes ({r.loc}); a none code must not be a parent theme.")
        if not r.removed:
            kids.setdefault(r.parent, []).append(i)
    merges = _variants(raws, kids, merge_variants, counts)
    if merges:
        note = "" if counts else " (no counts of use were given: the first spelling in the codebook is kept)"
        warnings.warn("Codebook: merged spellings that differ only in case, spacing or dash (merge_variants=True)"
                      f"{note}: " + "; ".join(merges) + ".", UserWarning, stacklevel=4)
    ids, order = _derive_ids(raws, kids)
    _check_ids_against_names(raws, ids, order)
    rows, paths = [], {}
    for i in order:
        r = raws[i]
        paths[i] = (paths[r.parent] if r.parent is not None else ()) + (r.name,)
        rows.append((ids[i], r.name, r.description, r.keywords, r.examples,
                     None if r.parent is None else ids[r.parent], len(paths[i]) - 1,
                     tuple(ids[k] for k in kids.get(i, [])), paths[i], r.aliases))
    return rows


def build_parsed(parsed: Parsed, none_codes: Iterable[str], *, merge_variants: bool, counts: Any) -> list[tuple]:
    """Add the extra none codes, drop themes named like one (warned), then :func:`build`."""
    extra = tuple(" ".join(c.split()) for c in str_list(list(none_codes), "none_codes"))
    parsed.none_codes = tuple(dict.fromkeys(parsed.none_codes + extra))
    drop_none_codes(parsed)
    for note in parsed.notes:
        warnings.warn(note, UserWarning, stacklevel=5)
    return build(parsed.raws, merge_variants=merge_variants, counts=counts_of(counts))


def drop_none_codes(parsed: Parsed) -> None:
    """Leaf themes named like a declared none code are not themes: mark them removed (warned)."""
    keys = {norm(c) for c in parsed.none_codes}
    hits = [r for r in parsed.raws if norm(r.name) in keys]
    for r in hits:
        r.removed = True
    if hits:
        listed = ", ".join(f"{r.name!r} ({r.loc})" for r in hits)
        parsed.notes.append(f"Codebook: {listed} declared in none_codes: read as 'none of these themes', "
                            "not as a theme.")
    alike = [r for r in parsed.raws if not r.removed and looks_none_like(r.name)]
    if alike:  # a coder's "not codable" kept as a theme would be suggested, and "none of these" never counted
        first = alike[0].name
        parsed.notes.append(f"Codebook: {', '.join(f'{r.name!r} ({r.loc})' for r in alike)} "
                            f"{'looks' if len(alike) == 1 else 'look'} like a 'none of these themes' code but "
                            f"{'is' if len(alike) == 1 else 'are'} read as a theme. If it means that no theme "
                            f"applies, declare it: --none-codes '{first}' on the command line, none_codes="
                            f"[{first!r}] in Python.")


def looks_none_like(name: str) -> bool:
    """Whether a code's name reads as "no theme applies" (``NotCodable``, ``Not coded``, ``N/A``, ...)."""
    squashed = re.sub(r"[^a-z]", "", str(name).casefold())
    return any(w in squashed for w in ("codable", "codeable", "nocode", "notcoded", "noneofthe", "notapplicable")) \
        or squashed in ("na", "nil", "nothing", "none")


def _none_codes(value: Any, loc: str) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    return tuple(" ".join(v.split()) for v in str_list(value, loc))


def parse_obj(obj: Any, source: str) -> Parsed:
    """Records from the canonical mapping (``name``, ``themes``), a bare ``themes`` list or the short form."""
    if isinstance(obj, list):
        obj = {"themes": obj}
    if not isinstance(obj, Mapping):
        raise CodebookError(f"Codebook: expected a mapping (canonical or short form), got "
                            f"{type(obj).__name__} {obj!r} from {source}.")
    raws: list[_Raw] = []
    if "themes" not in obj:
        rest = {k: v for k, v in obj.items() if k != "none_codes"}
        _parse_short(rest, "", None, raws)
        return Parsed(None, raws, _none_codes(obj.get("none_codes"), "none_codes"))
    for key in obj:
        if key not in TOP_KEYS:
            raise CodebookError(f"Codebook: unknown top-level key {key!r}.{did_you_mean(key, TOP_KEYS)} "
                                f"Allowed keys: {', '.join(TOP_KEYS)} (each theme goes in 'themes').")
    name = obj.get("name")
    if not isinstance(name, (str, type(None))) or not isinstance(obj["themes"], list):
        raise CodebookError("Codebook: 'name' must be a string and 'themes' a list of themes.")
    for i, node in enumerate(obj["themes"]):
        _parse_node(node, f"themes[{i}]", None, raws, top=True)
    return Parsed(name, raws, _none_codes(obj.get("none_codes"), "none_codes"))


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
    # row k: the k-th data row (a sheet's line k + 1)
    return [theme_record(row, f"row {k}", ref=row.get(pcol)) for k, row in enumerate(df.to_dict("records"), start=1)]


def theme_record(row: Mapping[str, Any], loc: str, *, ref: Any = None, parent: int | None = None) -> _Raw:
    """One theme's record from a table row: ``name`` and the optional ``theme_id``, ``description``,
    ``keywords``, ``examples``, ``aliases`` (``|``-joined strings or lists); ``ref`` names its parent
    (an id or a name), ``parent`` is the index of its parent's record. ``loc`` places it in messages."""
    return _Raw(loc, _name(row.get("name"), loc), _id(row.get("theme_id"), loc),
                _text(row.get("description"), f"{loc}, column 'description'"),
                str_list(row.get("keywords"), f"{loc}, column 'keywords'", split=True),
                str_list(row.get("examples"), f"{loc}, column 'examples'", split=True), parent=parent,
                ref=None if missing(ref) or ref == "" else str(ref),
                aliases=_aliases(row.get("aliases"), f"{loc}, column 'aliases'", split=True))


def spelling_counts(values: Iterable[Any], sep: str = "|") -> dict[str, int]:
    """How often each spelling of a name is used in code cells (a path counts for its last part)."""
    out: Counter[str] = Counter()
    for v in values:
        if missing(v) or not isinstance(v, str):
            continue
        for item in v.split(sep):
            last = " ".join(item.split()).split(PATH_SEP)[-1].strip()
            if last:
                out[last] += 1
    return dict(out)


def counts_of(counts: Any) -> dict[str, int] | None:
    """``counts=`` of the loaders: a mapping spelling -> uses, or code cells to count them in."""
    if counts is None:
        return None
    if isinstance(counts, Mapping):
        return {str(k): int(v) for k, v in counts.items()}
    return spelling_counts([counts] if isinstance(counts, str) else counts)

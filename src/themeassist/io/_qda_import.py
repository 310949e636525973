"""Reading REFI-QDA codebooks (.qdc) and projects (.qdpx) from untrusted files.

Public names are re-exported by :mod:`themeassist.io.refi`.
"""

from __future__ import annotations

import os
import re
import warnings
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pandas as pd

from themeassist.codebook import MAX_DEPTH, slugify
from themeassist.exceptions import QDAFormatError
from themeassist.io import _qda_common as qc

_FIXED_COLUMNS = ("doc_id", "text", "codes", "theme_ids", "coder")


def _tag(ns: str, name: str) -> str:
    return f"{{{ns}}}{name}"


def _guid_attr(el: Any, attr: str, what: str, *, required: bool = True) -> str | None:
    value = el.get(attr)
    if value is None and not required:
        return None
    if not qc.is_guid(value):
        local = el.tag.rsplit("}", 1)[-1]
        raise QDAFormatError(
            f"{what}: <{local} name={el.get('name')!r}> has {attr}={value!r}, "
            "which is not a GUID (8-4-4-4-12 hex digits)."
        )
    return qc.norm_guid(value)


def _code_name(el: Any, what: str, renamed: list[str]) -> str:
    raw = el.get("name")
    if not raw or not raw.strip():
        raise QDAFormatError(f"{what}: <Code guid={el.get('guid')!r}> has no name attribute.")
    name = " ".join(raw.split())
    clean = re.sub(r"\s+>\s+", " - ", name.replace("|", "/"))
    if clean != name:
        renamed.append(f"{name!r} -> {clean!r}")
    return clean


def _read_codes(codes_el: Any, ns: str, what: str, known: dict[str, str] | None = None,
                ) -> tuple[list[dict[str, Any]], dict[str, tuple[str, str]]]:
    """Rows (theme_id, name, parent_id, description) in depth-first order, and GUID → (theme_id, name).

    A code's theme_id is, in this order: the id of the theme of ``known`` (GUID → theme_id)
    whose exported GUID it carries, so a re-import of a themeassist export keeps its ids; its
    GUID, when a sibling has a name that gives the same derived id (QDA programs allow two codes
    named alike under one parent); else derived from the names as :mod:`themeassist.codebook`
    derives it (``"Staff" > "Staff attitude"`` → ``"staff.staff-attitude"``); another clash gets
    a ``-2``, ``-3`` ... suffix. Names containing ``|`` or ``" > "`` (which separate codes and
    path levels) are imported with ``/`` and ``" - "`` instead (warned). The tree is walked
    without recursion and refused beyond :data:`themeassist.codebook.MAX_DEPTH` levels.
    """
    rows: list[dict[str, Any]] = []
    by_guid: dict[str, tuple[str, str]] = {}
    taken: set[str] = set()
    renamed: list[str] = []
    stack: list[tuple[Any, str | None, int, bool]] = []

    def push(children: list[Any], parent_id: str | None, depth: int) -> None:
        if children and depth > MAX_DEPTH:
            raise QDAFormatError(f"{what}: codes are nested more than {MAX_DEPTH} levels deep (below "
                                 f"{rows[-1]['name']!r}); themeassist reads at most {MAX_DEPTH} levels.")
        slugs = [slugify(" ".join((c.get("name") or "").split())) for c in children]
        repeated = {k for k, n in Counter(slugs).items() if n > 1}
        stack.extend((c, parent_id, depth, k in repeated) for c, k in zip(reversed(children), reversed(slugs)))

    push(codes_el.findall(_tag(ns, "Code")), None, 0)
    while stack:
        el, parent_id, depth, repeated = stack.pop()
        guid = _guid_attr(el, "guid", what)
        name = _code_name(el, what, renamed)
        if guid in by_guid:
            raise QDAFormatError(f"{what}: code GUID {el.get('guid')!r} is used twice.")
        theme_id = (known or {}).get(guid) or (guid if repeated else qc.derived_theme_id(name, parent_id))
        base, n = theme_id, 2
        while theme_id in taken:
            theme_id, n = f"{base}-{n}", n + 1
        taken.add(theme_id)
        desc_el = el.find(_tag(ns, "Description"))
        description = (desc_el.text or "") if desc_el is not None else ""
        rows.append({"theme_id": theme_id, "name": name, "parent_id": parent_id, "description": description})
        by_guid[guid] = (theme_id, name)
        push(el.findall(_tag(ns, "Code")), theme_id, depth + 1)
    if renamed:
        warnings.warn(f"{what}: {len(renamed)} code names contain '|' or ' > ', which separate codes and path "
                      f"levels, and were imported as: {'; '.join(renamed[:10])}.", stacklevel=3)
    return rows, by_guid


def _known_guids(codebook: Any) -> dict[str, str] | None:
    if codebook is None:
        return None
    return {qc.make_guid("code", t.theme_id): t.theme_id for t in codebook.themes}


def import_qdc(path: str | os.PathLike[str], *, max_bytes: int = 50_000_000, codebook: Any = None) -> Any:
    """Read a REFI-QDA codebook (``.qdc``) into a :class:`~themeassist.codebook.Codebook`.

    Code names, descriptions and the nesting (parent links) are kept; theme_ids
    are derived from the names as :class:`~themeassist.codebook.Codebook` derives
    them (``parent_id.slug``), so they match a codebook whose ids were derived.
    Codes exported by themeassist from ``codebook`` (when given) get that
    codebook's ids back; two codes under one parent whose names give the same
    derived id (``Rude`` and ``rude``) are both imported, with their GUIDs as ids.
    The codebook is named after the file stem.

    Raises
    ------
    QDAFormatError
        If the file is larger than ``max_bytes``, is not well-formed, declares
        a DTD/entities, has another root element, or a code lacks a GUID/name.

    Examples
    --------
    >>> codebook = import_qdc("codebook.qdc")  # doctest: +SKIP
    >>> [t.name for t in codebook.themes]      # doctest: +SKIP
    ['Staff', 'Staff attitude']
    """
    source = Path(path)
    what = str(source)
    if not source.is_file():
        raise FileNotFoundError(f"import_qdc: no file at {what!r}.")
    size = source.stat().st_size
    if size > max_bytes:
        raise QDAFormatError(f"{what}: {size:,} bytes exceed max_bytes={max_bytes:,}.")
    root = qc.parse_xml(source.read_bytes(), what=what, root_tag=_tag(qc.CODEBOOK_NS, "CodeBook"))
    codes_el = root.find(_tag(qc.CODEBOOK_NS, "Codes"))
    if codes_el is None or codes_el.find(_tag(qc.CODEBOOK_NS, "Code")) is None:
        raise QDAFormatError(f"{what}: <CodeBook> has no <Codes>/<Code> elements.")
    rows, _ = _read_codes(codes_el, qc.CODEBOOK_NS, what, _known_guids(codebook))
    return qc.codebook_from_rows(rows, name=source.stem, what=what)


def _variable_value(vv: Any, ns: str, variables: dict[str, tuple[str, str]], what: str) -> tuple[str, Any]:
    ref = vv.find(_tag(ns, "VariableRef"))
    if ref is None:
        raise QDAFormatError(f"{what}: a <VariableValue> has no <VariableRef>.")
    target = _guid_attr(ref, "targetGUID", what)
    if target not in variables:
        raise QDAFormatError(f"{what}: <VariableRef targetGUID={ref.get('targetGUID')!r}> names no Variable.")
    name, _kind = variables[target]
    for child in vv:
        local = child.tag.rsplit("}", 1)[-1]
        if local == "VariableRef":
            continue
        raw = child.text or ""
        try:
            if local == "BooleanValue":
                return name, raw.strip().lower() in ("true", "1")
            if local == "IntegerValue":
                return name, int(raw)
            if local == "FloatValue":
                return name, float(raw)
            if local in ("DateValue", "DateTimeValue"):
                return name, pd.Timestamp(raw)
        except ValueError:
            return name, raw
        return name, raw
    return name, None


def _source_text(src: Any, ns: str, zf: qc.SafeZip, what: str) -> str | None:
    content = src.find(_tag(ns, "PlainTextContent"))
    if content is not None:
        return content.text or ""
    path = src.get("plainTextPath")
    if not path:
        warnings.warn(f"{what}: TextSource {src.get('name')!r} has no text; text left missing.",
                      stacklevel=3)
        return None
    if not path.lower().startswith("internal://"):
        warnings.warn(
            f"{what}: TextSource {src.get('name')!r} points outside the archive ({path!r}); "
            "external files are never read, text left missing.", stacklevel=3)
        return None
    file_name = path[len("internal://"):]
    qc.check_member_name(file_name, what=what)
    info = zf.find_source(file_name)
    if info is None:
        raise QDAFormatError(
            f"{what}: TextSource {src.get('name')!r} refers to {path!r}, which is not in the archive."
        )
    data = zf.read(info)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise QDAFormatError(f"{what}: {info.filename!r} is not UTF-8 text ({exc}).") from exc


def _codings(src: Any, ns: str, what: str, text: str | None, code_map: dict[str, tuple[str, str]],
             users: dict[str, str], include_machine: bool) -> dict[str, list[str]]:
    """Theme ids per coder of one ``TextSource``: its codings on selections (any extent) and on the
    source itself, credited to the coding's user, else the selection's, else the source's."""
    name, src_user = src.get("name"), src.get("creatingUser")
    by_user: dict[str, list[str]] = defaultdict(list)
    codings = []  # (Coding element, user to credit when it names none), in document order
    for sel in src.findall(_tag(ns, "PlainTextSelection")):
        try:
            start, end = int(sel.get("startPosition")), int(sel.get("endPosition"))
        except (TypeError, ValueError) as exc:
            raise QDAFormatError(
                f"{what}: PlainTextSelection {sel.get('guid')!r} in source {name!r} lacks "
                "integer startPosition/endPosition."
            ) from exc
        if text is not None and not (0 <= start <= end <= len(text)):
            warnings.warn(f"{what}: selection {sel.get('guid')!r} [{start}, {end}) lies outside "
                          f"source {name!r} ({len(text)} characters).", stacklevel=3)
        codings += [(c, sel.get("creatingUser") or src_user) for c in sel.findall(_tag(ns, "Coding"))]
    codings += [(c, src_user) for c in src.findall(_tag(ns, "Coding"))]
    for coding, fallback_user in codings:
        ref = coding.find(_tag(ns, "CodeRef"))
        if ref is None:
            raise QDAFormatError(f"{what}: a <Coding> in source {name!r} has no <CodeRef>.")
        target = _guid_attr(ref, "targetGUID", what)
        if target not in code_map:
            raise QDAFormatError(
                f"{what}: <CodeRef targetGUID={ref.get('targetGUID')!r}> in source {name!r} "
                "does not name a code in the codebook."
            )
        user_guid = coding.get("creatingUser") or fallback_user
        coder = users.get(qc.norm_guid(user_guid), user_guid) if user_guid else ""
        if coder == qc.MACHINE_USER_NAME and not include_machine:
            continue
        if code_map[target][0] not in by_user[coder]:
            by_user[coder].append(code_map[target][0])
    return by_user


def _project_parts(root: Any, ns: str, what: str) -> tuple[dict[str, str], dict[str, tuple[str, str]],
                                                           dict[str, dict[str, Any]]]:
    """Users (GUID -> name), variables (GUID -> (name, type)) and case values per source GUID."""
    users = {qc.norm_guid(u.get("guid", "")): u.get("name") or u.get("guid", "")
             for u in root.iterfind(f"{_tag(ns, 'Users')}/{_tag(ns, 'User')}")}
    variables = {_guid_attr(v, "guid", what): (v.get("name") or "", v.get("typeOfVariable") or "Text")
                 for v in root.iterfind(f"{_tag(ns, 'Variables')}/{_tag(ns, 'Variable')}")}
    case_values: dict[str, dict[str, Any]] = defaultdict(dict)
    for case in root.iterfind(f"{_tag(ns, 'Cases')}/{_tag(ns, 'Case')}"):
        values = dict(_variable_value(v, ns, variables, what) for v in case.findall(_tag(ns, "VariableValue")))
        for ref in case.findall(_tag(ns, "SourceRef")):
            case_values[_guid_attr(ref, "targetGUID", what)].update(values)
    return users, variables, case_values


def import_qdpx(
    path: str | os.PathLike[str],
    *,
    max_bytes: int = 200_000_000,
    max_files: int = 200_000,
    include_machine: bool = False,
    codebook: Any = None,
) -> tuple[Any, pd.DataFrame]:
    """Read a REFI-QDA project (``.qdpx``): its codebook and its coded text sources.

    Codes are read per document: every ``Coding`` on a ``PlainTextSelection``
    (any extent) or directly on a ``TextSource`` counts as that code applying
    to the comment.

    (Over 80 lines mostly because of this docstring; each step is a helper:
    ``_read_codes``, ``_project_parts``, ``_codings``, ``_source_text``.)

    Parameters
    ----------
    path : str or path-like
        The ``.qdpx`` archive.
    max_bytes, max_files : int
        Limits on the total uncompressed size and number of zip entries,
        checked before anything is decompressed.
    include_machine : bool, default False
        Also return the codings of the user ``"themeassist (machine
        suggestions)"`` (as their own rows).
    codebook : Codebook, optional
        The codebook a themeassist export was made with: its codes get their
        theme_ids back (see :func:`import_qdc` for the ids of other codes).

    Returns
    -------
    codebook : Codebook
        The project's codes (see :func:`import_qdc` for theme_ids).
    frame : pandas.DataFrame
        One row per text source and coder that coded it (one row with
        ``coder=""`` for an uncoded source), in file order. Columns:
        ``doc_id`` (the source name, or its GUID when missing or repeated),
        ``text``, ``codes`` (``"|"``-joined code names in codebook order),
        ``theme_ids`` (``"|"``-joined, matching ``codebook``), ``coder`` (user
        name), then one column per project variable (a name clashing with
        these columns gets a ``var_`` prefix).

    Raises
    ------
    QDAFormatError
        For unsafe or oversized archives, malformed or DTD-bearing XML,
        missing ``project.qde``, missing source files, invalid GUIDs or
        ``CodeRef`` targets that are not codes.

    Examples
    --------
    >>> codebook, frame = import_qdpx("study.qdpx")  # doctest: +SKIP
    >>> frame[["doc_id", "codes", "coder"]].head()   # doctest: +SKIP
    """
    ns = qc.PROJECT_NS
    with qc.SafeZip(path, max_bytes=max_bytes, max_files=max_files) as zf:
        what = zf.what
        info = zf.find("project.qde")
        if info is None:
            qde = [i for k, i in zf.members.items() if k.endswith(".qde") and "/" not in k]
            if len(qde) != 1:
                raise QDAFormatError(f"{what}: no project.qde at the top of the archive.")
            info = qde[0]
        root = qc.parse_xml(zf.read(info), what=f"{what}:{info.filename}", root_tag=_tag(ns, "Project"))
        users, variables, case_values = _project_parts(root, ns, what)
        codes_el = root.find(f"{_tag(ns, 'CodeBook')}/{_tag(ns, 'Codes')}")
        if codes_el is None:
            raise QDAFormatError(f"{what}: the project has no <CodeBook>/<Codes>.")
        rows, code_map = _read_codes(codes_el, ns, what, _known_guids(codebook))
        order = {r["theme_id"]: i for i, r in enumerate(rows)}
        imported = qc.codebook_from_rows(rows, name=str(root.get("name") or Path(path).stem), what=what)
        names_of = {r["theme_id"]: imported.code_for(r["theme_id"]) for r in rows}
        sources_el = root.find(_tag(ns, "Sources"))
        text_sources = [] if sources_el is None else sources_el.findall(_tag(ns, "TextSource"))
        skipped = 0 if sources_el is None else len(sources_el) - len(text_sources)
        if skipped:
            warnings.warn(f"{what}: {skipped} non-text source(s) (PDF, picture, audio, video) skipped.",
                          stacklevel=2)
        names = [s.get("name") for s in text_sources]
        counts = pd.Series(names, dtype=object).value_counts()
        records: list[dict[str, Any]] = []
        for src in text_sources:
            guid = _guid_attr(src, "guid", what)
            name = src.get("name")
            doc_id = name if name and counts.get(name, 0) == 1 else guid
            text = _source_text(src, ns, zf, what)
            by_user = _codings(src, ns, what, text, code_map, users, include_machine)
            values = dict(case_values.get(guid, {}))
            values.update(_variable_value(v, ns, variables, what)
                          for v in src.findall(_tag(ns, "VariableValue")))
            for coder, theme_ids in (by_user or {"": []}).items():
                theme_ids = sorted(theme_ids, key=order.__getitem__)
                record = {"doc_id": doc_id, "text": text, "codes": "|".join(names_of[t] for t in theme_ids),
                          "theme_ids": "|".join(theme_ids), "coder": coder}
                record.update({(f"var_{k}" if k in _FIXED_COLUMNS else k): v for k, v in values.items()})
                records.append(record)
    var_names = [f"var_{n}" if n in _FIXED_COLUMNS else n for n, _ in variables.values()]
    frame = pd.DataFrame.from_records(records, columns=[*_FIXED_COLUMNS, *dict.fromkeys(var_names)])
    return imported, frame

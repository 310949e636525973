"""REFI-QDA exchange: codebooks (``.qdc``) and coded projects (``.qdpx``).

REFI-QDA (https://www.qdasoftware.org) is the exchange standard read and written
by ATLAS.ti, MAXQDA, NVivo, QualCoder and others. A ``.qdc`` file is one XML
document (``<CodeBook xmlns="urn:QDA-XML:codebook:1.0">``); a ``.qdpx`` file is a
zip holding ``project.qde`` (``<Project xmlns="urn:QDA-XML:project:1.0">``) and
the source texts under ``Sources/<guid>.txt`` (UTF-8), which ``TextSource``
elements reference as ``plainTextPath="internal://<guid>.txt"``.

Exports are reproducible: GUIDs are uuid5 values derived from stable keys
(theme_id, doc_id, coder), zip entries carry a fixed timestamp, and no creation
time is written unless asked for. Every file is written atomically.

Imports treat the file as hostile: XML is parsed with defusedxml (no DTDs or
entities), zip entry names with absolute paths or ``..`` are refused, the
entry count and total uncompressed size are checked before anything is read,
and nothing is extracted to disk.

How themeassist maps onto the standard
--------------------------------------
* every theme → ``Code`` (nested under its parent, ``isCodable="true"``, the
  description in ``<Description>``); the code GUID derives from the theme_id;
* every comment → one ``TextSource`` named by its doc_id;
* every human code (or accepted suggestion) → a ``PlainTextSelection`` covering
  the whole comment (``startPosition=0``, ``endPosition`` = length in Unicode
  code points, as the standard counts) holding one ``Coding`` by the user
  ``"human coder"``; machine suggestions are codings by a second user,
  ``"themeassist (machine suggestions)"``, with the score in the selection's
  ``<Description>``, so QDA programs can compare the two coders;
* ``period`` and any ``variable_cols`` → project ``Variables`` with a
  ``VariableValue`` on each ``TextSource`` (typed Integer/Float/Boolean/DateTime
  from the column dtype, else Text).
"""

from __future__ import annotations

import io
import math
import os
import xml.etree.ElementTree as ET
import zipfile
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from themeassist._schema import check_columns
from themeassist.exceptions import CodebookError, CorpusError
from themeassist.io import _qda_common as qc
from themeassist.io._qda_import import import_qdc, import_qdpx
from themeassist.io.tables import atomic_write_bytes

__all__ = [
    "HUMAN_USER_NAME",
    "MACHINE_USER_NAME",
    "export_qdc",
    "export_qdpx",
    "import_qdc",
    "import_qdpx",
]

HUMAN_USER_NAME = qc.HUMAN_USER_NAME
MACHINE_USER_NAME = qc.MACHINE_USER_NAME
HUMAN_USER_GUID = qc.make_guid("user", HUMAN_USER_NAME)
MACHINE_USER_GUID = qc.make_guid("user", MACHINE_USER_NAME)
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)


def _missing(value: Any) -> bool:
    if value is None or isinstance(value, (list, tuple)):
        return value is None
    if isinstance(value, float) and math.isinf(value):
        return True
    return bool(pd.isna(value))


def _codes_element(codebook: Any, ns: str, what: str) -> tuple[ET.Element, dict[str, str]]:
    """``<Codes>`` with nested ``<Code>`` elements; returns it and theme_id → GUID."""
    themes = tuple(getattr(codebook, "themes", ()))
    if not themes:
        raise CodebookError(f"{what}: the codebook has no themes; REFI-QDA needs at least one code.")
    codes = ET.Element(f"{{{ns}}}Codes")
    elements: dict[str, ET.Element] = {}
    guids: dict[str, str] = {}
    for pos, theme in enumerate(themes):
        theme_id = str(theme.theme_id)
        if theme_id in elements:
            raise CodebookError(f"{what}: theme_id {theme_id!r} appears twice (theme #{pos}).")
        parent_id = None if _missing(theme.parent_id) or theme.parent_id == "" else str(theme.parent_id)
        if parent_id is not None and parent_id not in elements:
            raise CodebookError(
                f"{what}: theme {theme_id!r} names parent {parent_id!r}, which does not come "
                "before it; codebook.themes must be in depth-first order."
            )
        guids[theme_id] = qc.make_guid("code", theme_id)
        parent_el = codes if parent_id is None else elements[parent_id]
        code = ET.SubElement(
            parent_el,
            f"{{{ns}}}Code",
            {"guid": guids[theme_id], "name": qc.xml_safe(str(theme.name)), "isCodable": "true"},
        )
        description = getattr(theme, "description", None)
        if not _missing(description) and str(description).strip():
            ET.SubElement(code, f"{{{ns}}}Description").text = qc.xml_safe(str(description))
        elements[theme_id] = code
    return codes, guids


def _xml_bytes(root: ET.Element, ns: str) -> bytes:
    # Serialise with a default namespace (xmlns="...") rather than "ns0:" prefixes;
    # ElementTree's default_namespace option rejects the unqualified attributes.
    prefix = f"{{{ns}}}"
    for el in root.iter():
        if el.tag.startswith(prefix):
            el.tag = el.tag[len(prefix):]
    root.attrib = {"xmlns": ns, **root.attrib}
    ET.indent(root, space=" ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def export_qdc(codebook: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``codebook`` as a REFI-QDA codebook (``.qdc``) file.

    Parameters
    ----------
    codebook : Codebook
        Object with ``name`` and ``themes`` (depth-first; each theme has
        ``theme_id``, ``name``, ``description``, ``parent_id``).
    path : str or path-like
        Destination, conventionally ending in ``.qdc``.

    Returns
    -------
    pathlib.Path
        The written file (written atomically; the same codebook always gives
        the same bytes).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": None})
    >>> path = export_qdc(cb, pathlib.Path(tempfile.mkdtemp()) / "codebook.qdc")
    >>> [(t.theme_id, t.parent_id) for t in import_qdc(path).themes]  # doctest: +NORMALIZE_WHITESPACE
    [('staff', None), ('staff.attitude', 'staff'), ('staff.competence', 'staff'), ('access', None)]
    """
    ns = qc.CODEBOOK_NS
    root = ET.Element(f"{{{ns}}}CodeBook", {"origin": qc.software_origin()})
    codes, _ = _codes_element(codebook, ns, "export_qdc")
    root.append(codes)
    return atomic_write_bytes(path, _xml_bytes(root, ns))


def _variable_type(series: pd.Series) -> str:
    if pd.api.types.is_bool_dtype(series):
        return "Boolean"
    if pd.api.types.is_integer_dtype(series):
        return "Integer"
    if pd.api.types.is_float_dtype(series):
        return "Float"
    if pd.api.types.is_datetime64_any_dtype(series):
        return "DateTime"
    return "Text"


def _variable_text(value: Any, kind: str) -> str:
    if kind == "Boolean":
        return "true" if bool(value) else "false"
    if kind == "Integer":
        return str(int(value))
    if kind == "Float":  # xsd:decimal: positional notation, no exponent
        return format(Decimal(repr(float(value))), "f")
    if kind == "DateTime":
        return pd.Timestamp(value).strftime("%Y-%m-%dT%H:%M:%S")
    return qc.xml_safe(str(value))


def _check_codings(
    frame: pd.DataFrame | None, arg: str, id_col: str, doc_ids: set[str], guids: dict[str, str],
    extra: Sequence[str] = (),
) -> pd.DataFrame:
    """Validate a long doc/theme table; return it with string ids, duplicates dropped."""
    columns = [id_col, "theme_id", *extra]
    if frame is None:
        return pd.DataFrame(columns=columns)
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise CorpusError(
            f"export_qdpx: {arg} lacks column(s) {missing} (columns: {list(frame.columns)}); "
            f"it needs {columns}."
        )
    out = frame[columns].copy()
    out[id_col] = out[id_col].astype(str)
    out["theme_id"] = out["theme_id"].astype(str)
    bad_doc = ~out[id_col].isin(doc_ids)
    if bad_doc.any():
        at = np.flatnonzero(bad_doc.to_numpy())[:5]  # positions; messages count rows from 1
        raise CorpusError(
            f"export_qdpx: {arg} rows {', '.join(str(i + 1) for i in at)} name {id_col} values not in the corpus "
            f"(e.g. {out[id_col].iloc[at[0]]!r}); drop them or add the comments."
        )
    bad_theme = ~out["theme_id"].isin(guids)
    if bad_theme.any():
        at = np.flatnonzero(bad_theme.to_numpy())[:5]
        raise CodebookError(
            f"export_qdpx: {arg} rows {', '.join(str(i + 1) for i in at)} name theme_id values not in the codebook "
            f"(e.g. {out['theme_id'].iloc[at[0]]!r}); known: {sorted(guids)[:10]}."
        )
    return out.drop_duplicates(subset=[id_col, "theme_id"], keep="first")


def _selection(
    parent: ET.Element, ns: str, doc_id: str, theme_id: str, user: str, length: int,
    code_guid: str, code_name: str, description: str | None, stamp: dict[str, str],
) -> None:
    attrs = {
        "guid": qc.make_guid("selection", doc_id, theme_id, user),
        "name": code_name,
        "startPosition": "0",
        "endPosition": str(length),
        "creatingUser": user,
        **stamp,
    }
    sel = ET.SubElement(parent, f"{{{ns}}}PlainTextSelection", attrs)
    if description:
        ET.SubElement(sel, f"{{{ns}}}Description").text = description
    coding = ET.SubElement(
        sel,
        f"{{{ns}}}Coding",
        {"guid": qc.make_guid("coding", doc_id, theme_id, user), "creatingUser": user, **stamp},
    )
    ET.SubElement(coding, f"{{{ns}}}CodeRef", {"targetGUID": code_guid})


def export_qdpx(
    corpus: pd.DataFrame,
    codings: pd.DataFrame | None,
    codebook: Any,
    path: str | os.PathLike[str],
    *,
    text_col: str = "text",
    id_col: str = "doc_id",
    variable_cols: Sequence[str] = (),
    suggestions: pd.DataFrame | None = None,
    project_name: str | None = None,
    created: datetime | None = None,
) -> Path:
    """Write comments, codebook and codings as a REFI-QDA project (``.qdpx``).

    (Over 80 lines for its documentation only: the code itself is under 80.)

    Parameters
    ----------
    corpus : pandas.DataFrame
        One row per comment with unique ``id_col`` and string ``text_col``.
        A ``period`` column, when present, is exported as a variable as well.
    codings : pandas.DataFrame or None
        Human codes (or accepted suggestions), long format: ``id_col``,
        ``theme_id``; one row per code applied to a comment.
    codebook : Codebook
        The codebook the theme_ids refer to (see :func:`export_qdc`).
    path : str or path-like
        Destination, conventionally ending in ``.qdpx``.
    text_col, id_col : str
        Corpus column names of the comment text and its identifier.
    variable_cols : sequence of str
        Further corpus columns to export as variables (metadata).
    suggestions : pandas.DataFrame or None
        Machine suggestions ``id_col, theme_id, score``, exported as codings by
        the user ``"themeassist (machine suggestions)"``.
    project_name : str, optional
        ``Project/@name``; defaults to the codebook's name.
    created : datetime, optional
        Written as ``creationDateTime`` everywhere; omitted by default so that
        exports are byte-for-byte reproducible.

    Returns
    -------
    pathlib.Path
        The written archive (``project.qde`` plus ``Sources/<guid>.txt``).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from themeassist.codebook import Codebook
    >>> cb = Codebook.from_dict({"Staff": ["Attitude"]})
    >>> corpus = pd.DataFrame({"doc_id": ["c1", "c2"], "text": ["Kind staff 😀", "Fine"]})
    >>> codings = pd.DataFrame({"doc_id": ["c1"], "theme_id": ["staff.attitude"]})
    >>> path = export_qdpx(corpus, codings, cb, pathlib.Path(tempfile.mkdtemp()) / "s.qdpx")
    >>> _, frame = import_qdpx(path)
    >>> frame[["doc_id", "codes", "coder"]].values.tolist()
    [['c1', 'Attitude', 'human coder'], ['c2', '', '']]

    Notes
    -----
    doc_ids are written as strings (source names), so integer ids come back
    as ``"10"``, ``"20"``. Text files hold the comments verbatim (UTF-8, line
    ends untouched), which keeps the code-point offsets exact.
    """
    what = "export_qdpx"
    _check_export_corpus(corpus, id_col, text_col, variable_cols, what)
    ids, texts = corpus[id_col], corpus[text_col]
    ns = qc.PROJECT_NS
    codes, guids = _codes_element(codebook, ns, what)
    names = {str(t.theme_id): qc.xml_safe(str(t.name)) for t in codebook.themes}
    doc_ids = [str(d) for d in ids]
    human = _check_codings(codings, "codings", id_col, set(doc_ids), guids)
    machine = _check_codings(suggestions, "suggestions", id_col, set(doc_ids), guids, ("score",))
    var_cols = list(dict.fromkeys(
        (["period"] if "period" in corpus.columns else []) + list(variable_cols)
    ))
    stamp = {"creationDateTime": created.strftime("%Y-%m-%dT%H:%M:%SZ")} if created else {}

    root = ET.Element(
        f"{{{ns}}}Project",
        {"name": qc.xml_safe(project_name or str(getattr(codebook, "name", "themeassist"))),
         "origin": qc.software_origin(), "creatingUserGUID": HUMAN_USER_GUID, **stamp},
    )
    users = ET.SubElement(root, f"{{{ns}}}Users")
    ET.SubElement(users, f"{{{ns}}}User", {"guid": HUMAN_USER_GUID, "name": HUMAN_USER_NAME})
    if len(machine):
        ET.SubElement(users, f"{{{ns}}}User", {"guid": MACHINE_USER_GUID, "name": MACHINE_USER_NAME})
    ET.SubElement(root, f"{{{ns}}}CodeBook").append(codes)
    var_kinds, var_guids = _variables_element(root, ns, corpus, var_cols)
    sources = ET.SubElement(root, f"{{{ns}}}Sources")
    human_by_doc = human.groupby(id_col, sort=False)["theme_id"].apply(list).to_dict()
    machine_by_doc = {d: list(zip(g["theme_id"], g["score"]))
                      for d, g in machine.groupby(id_col, sort=False)}
    files: dict[str, bytes] = {}
    for row_pos, (doc_id, text) in enumerate(zip(doc_ids, texts)):
        guid = qc.make_guid("source", doc_id)
        file_name = f"{guid}.txt"
        files[f"Sources/{file_name}"] = text.encode("utf-8")
        source = ET.SubElement(sources, f"{{{ns}}}TextSource", {
            "guid": guid, "name": qc.xml_safe(doc_id), "plainTextPath": f"internal://{file_name}",
            "creatingUser": HUMAN_USER_GUID, **stamp})
        for theme_id in human_by_doc.get(doc_id, []):
            _selection(source, ns, doc_id, theme_id, HUMAN_USER_GUID, len(text),
                       guids[theme_id], names[theme_id], None, stamp)
        for theme_id, score in machine_by_doc.get(doc_id, []):
            note = "themeassist suggestion" + ("" if _missing(score) else f" (score {float(score):.4f})")
            _selection(source, ns, doc_id, theme_id, MACHINE_USER_GUID, len(text),
                       guids[theme_id], names[theme_id], note, stamp)
        for col in var_cols:
            value = corpus[col].iloc[row_pos]
            if not _missing(value):
                vv = ET.SubElement(source, f"{{{ns}}}VariableValue")
                ET.SubElement(vv, f"{{{ns}}}VariableRef", {"targetGUID": var_guids[col]})
                ET.SubElement(vv, f"{{{ns}}}{var_kinds[col]}Value").text = _variable_text(value, var_kinds[col])
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in [("project.qde", _xml_bytes(root, ns)), *files.items()]:
            info = zipfile.ZipInfo(name, date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    return atomic_write_bytes(path, buffer.getvalue())


def _check_export_corpus(corpus: pd.DataFrame, id_col: str, text_col: str, variable_cols: Sequence[str],
                         what: str) -> None:  # fmt: skip
    """The columns exist, ids are unique and present, texts are strings (else a CorpusError naming rows)."""
    check_columns(corpus, (id_col, text_col, *variable_cols), who=what, what="corpus",
                  hint="Pass id_col=, text_col= and variable_cols= naming its columns.")
    ids = corpus[id_col]
    if ids.isna().any() or ids.astype(str).duplicated().any():
        bad = np.flatnonzero((ids.isna() | ids.astype(str).duplicated(keep=False)).to_numpy())[:5]
        raise CorpusError(f"{what}: {id_col!r} must be unique and present; rows {', '.join(str(i + 1) for i in bad)} "
                          "are not (give each comment its own id).")  # fmt: skip
    not_text = ~corpus[text_col].map(lambda t: isinstance(t, str))
    if not_text.any():
        at = np.flatnonzero(not_text.to_numpy())[:5]
        listed = ", ".join(f"{i + 1} ({id_col} {str(ids.iloc[i])!r})" for i in at)
        raise CorpusError(f"{what}: {text_col!r} must hold strings; rows {listed} do not "
                          "(drop or fill missing comments first).")  # fmt: skip


def _variables_element(root: Any, ns: str, corpus: pd.DataFrame,
                       var_cols: list[Any]) -> tuple[dict[Any, str], dict[Any, str]]:  # fmt: skip
    """Add the ``Variables`` element (when there are any); return each variable's type and guid."""
    var_kinds = {c: _variable_type(corpus[c]) for c in var_cols}
    var_guids = {c: qc.make_guid("variable", c) for c in var_cols}
    if var_cols:
        variables = ET.SubElement(root, f"{{{ns}}}Variables")
        for col in var_cols:
            ET.SubElement(variables, f"{{{ns}}}Variable",
                          {"guid": var_guids[col], "name": qc.xml_safe(str(col)),
                           "typeOfVariable": var_kinds[col]})
    return var_kinds, var_guids

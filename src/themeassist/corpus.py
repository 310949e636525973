"""Loading and validating a corpus of free-text comments.

:func:`load_corpus` reads a CSV / XLSX / parquet file (or takes a DataFrame) and returns
one row per input row, in input order, with a status saying whether the comment is usable.
Nothing is dropped: ``len(corpus) == len(input)`` always; :func:`substantive` selects the
comments to analyse.
"""

from __future__ import annotations

import codecs
import difflib
import numbers
import os
import re
import unicodedata
import warnings
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from themeassist._csvread import parse_csv, sniff_delimiter
from themeassist._dates import FREQS, read_periods, row_ranges
from themeassist._validation import check_param
from themeassist._schema import CORPUS_COLUMNS, STATUSES, USABLE_STATUSES, check_columns, id_str
from themeassist.exceptions import CorpusError, ParameterError

__all__ = ["CORPUS_COLUMNS", "DEFAULT_NON_ANSWERS", "FREQS", "STATUSES", "as_corpus", "load_corpus", "read_comments",
           "read_periods", "sniff_delimiter", "substantive"]

#: Texts that are not answers (matched ignoring case and surrounding whitespace/punctuation).
#: "nothing" is deliberately absent: it is a real answer to "what could we improve?".
DEFAULT_NON_ANSWERS: tuple[str, ...] = (
    "did not answer", "no answer", "not answered", "no response", "n/a", "na", "nil", "none",
    "-", ".", "?", "no comment", "no comments", "nothing to add", "not applicable", "blank",
    "none at this time", "nothing to add at this time", "nothing further", "no further comments",
    "nothing else to add", "see above", "as above",
)  # fmt: skip

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_INVISIBLE = re.compile(r"[\u200b-\u200d\u2060\ufeff\u00ad]")
_NUMBER = re.compile(r"[+-]?(\d[\d,]*(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_LETTER = re.compile(r"[^\W\d_]")
_EDGE_PUNCT = re.compile(r"^[\W_]+|[\W_]+$")
_SPACES = re.compile(r"[ \t\u00a0]+")
_BLANK_LINES = re.compile(r"\n{3,}")
_LINE_EDGE = re.compile(r" ?\n ?")


def clean_text(text: str) -> str:
    """Normalise a comment: NFC, line breaks to ``\\n``, control characters to spaces, runs collapsed.

    Lone surrogates (invalid Unicode, e.g. from a badly decoded JSON export) become U+FFFD.
    """
    text = _SURROGATE.sub("\ufffd", text)
    text = unicodedata.normalize("NFC", text).replace("\r\n", "\n").replace("\r", "\n")
    text = _INVISIBLE.sub("", text.replace("\u2028", "\n").replace("\u2029", "\n"))
    text = _SPACES.sub(" ", _CONTROL.sub(" ", text))
    return _BLANK_LINES.sub("\n\n", _LINE_EDGE.sub("\n", text)).strip()


def _norm(text: str) -> str:
    return _EDGE_PUNCT.sub("", " ".join(text.casefold().split()))


def _names(cols: Iterable[Any], limit: int = 20) -> str:
    cols = list(cols)
    shown = ", ".join(repr(str(c)) for c in cols[:limit])
    return shown + (f" and {len(cols) - limit} more" if len(cols) > limit else "")


def _looks_like_text(df: pd.DataFrame, exclude: Iterable[Any] = ()) -> list[str]:
    """Columns whose values are mostly strings with letters, longest texts first; not a column of
    single tokens with digits that are all different (ids such as ``n1``, ``n2``)."""
    found = []
    for c in df.columns:
        if c in set(exclude):
            continue
        vals = df[c].dropna()
        texts = [v for v in vals if isinstance(v, str) and _LETTER.search(v)]
        id_like = len(texts) > 1 and len(set(texts)) == len(texts) and all(
            " " not in v.strip() and any(ch.isdigit() for ch in v) for v in texts)
        if len(vals) and len(texts) >= 0.5 * len(vals) and not id_like:
            found.append((sum(map(len, texts)) / len(texts), c))
    return [c for _, c in sorted(found, key=lambda t: -t[0])]


def _check_column(df: pd.DataFrame, param: str, name: str | None) -> None:
    if name is None or name in df.columns:
        return
    cols = [str(c) for c in df.columns]
    match = [c for c in cols if c.casefold() == str(name).casefold()]
    match = match or difflib.get_close_matches(str(name), cols, n=1, cutoff=0.5)
    if not match and param == "text_col":
        match = _looks_like_text(df)[:1]
    hint = f" Pass {param}={match[0]!r}?" if match else ""
    raise CorpusError(f"load_corpus: column {name!r} not found (columns: {_names(cols)}).{hint}")


def _latin1_fallback(err: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read the 5 bytes cp1252 leaves undefined as Latin-1 (so decoding never fails)."""
    assert isinstance(err, UnicodeDecodeError)
    return err.object[err.start : err.end].decode("latin-1"), err.end


codecs.register_error("themeassist.latin1", _latin1_fallback)


def _decode(data: bytes, encoding: str | None, name: str, info: dict[str, Any]) -> str:
    """Decode CSV bytes: BOM, else UTF-8, else UTF-8 line by line with cp1252 for the lines that fail."""
    notes: list[str] = info["warnings"]
    info["encoding"] = encoding
    if encoding is not None:
        try:
            return data.decode(encoding)
        except (UnicodeDecodeError, LookupError) as e:
            line = data[: getattr(e, "start", 0)].count(b"\n") + 1
            raise CorpusError(
                f"load_corpus: {name} cannot be decoded as {encoding!r} (line {line}: {e}). "
                "Pass encoding=None to detect it."
            ) from e
    for bom, codec in ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe\x00\x00", "utf-32"),
                       (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16")):  # fmt: skip
        if data.startswith(bom):
            info["encoding"] = codec
            return data.decode(codec, errors="replace")
    if data.count(b"\x00") > len(data) // 4:  # UTF-16 without a BOM
        info["encoding"] = "utf-16-le" if data[1:2] == b"\x00" else "utf-16-be"
        return data.decode(info["encoding"], errors="replace")
    try:
        info["encoding"] = "utf-8"
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines: list[str] = []
    bad: list[int] = []
    any_utf8 = False
    for k, raw in enumerate(data.split(b"\n"), start=1):
        try:
            lines.append(raw.decode("utf-8"))
            any_utf8 = any_utf8 or not raw.isascii()
        except UnicodeDecodeError:
            lines.append(raw.decode("cp1252", errors="themeassist.latin1"))
            bad.append(k)
    info["encoding"] = "utf-8 with cp1252 lines" if any_utf8 else "cp1252"
    letters = [ch for k in bad for ch in lines[k - 1] if ch.isalpha()]
    if any_utf8:
        notes.append(f"load_corpus: {name} mixes encodings: {len(bad)} lines are not valid UTF-8 and were "
                     f"decoded as cp1252 (file lines {row_ranges(bad, offset=0)}); check them for garbled characters.")
    elif sum(not ch.isascii() for ch in letters) > 0.3 * max(len(letters), 1):
        notes.append(f"load_corpus: {name} is not UTF-8 and was decoded as cp1252, but many letters are "
                     "accented: if the text looks garbled, pass its encoding= (e.g. 'cp1251', 'shift_jis').")
    return "\n".join(lines)


def _read(source: str | os.PathLike[str], *, sheet_name: str | int, encoding: str | None,
          delimiter: str | None, info: dict[str, Any]) -> pd.DataFrame:  # fmt: skip
    path = Path(source)
    name = repr(str(source))
    try:
        st = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise CorpusError(f"load_corpus: {name} is a symlink to a missing file.") from None
        raise CorpusError(f"load_corpus: file {name} not found (looked for {str(path.absolute())!r}).") from None
    except OSError as e:
        raise CorpusError(f"load_corpus: {name} cannot be opened ({_os_why(e)}).") from e
    if path.is_dir():
        raise CorpusError(f"load_corpus: {name} is a folder; pass a CSV, XLSX or parquet file.")
    if not path.is_file():
        raise CorpusError(f"load_corpus: {name} is not a regular file (a device or FIFO); pass a CSV, XLSX "
                          "or parquet file.")  # fmt: skip
    if st.st_size == 0:
        raise CorpusError(f"load_corpus: file {name} is empty (0 bytes).")
    suffix = path.suffix.lower()
    from themeassist.io.tables import undo_cell, undo_formula_guard  # here: themeassist.io imports this module

    try:
        if suffix in (".xlsx", ".xlsm", ".xls"):  # themeassist's own spreadsheets read back as written
            return undo_formula_guard(_read_excel(path, sheet_name, name))
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        data = path.read_bytes()
    except CorpusError:
        raise
    except OSError as e:
        raise CorpusError(f"load_corpus: {name} cannot be read ({_os_why(e)}).") from e
    except Exception as e:  # noqa: BLE001 - any reader failure is reported with the file name
        raise CorpusError(f"load_corpus: could not read {name}: {e}") from e
    text = _decode(data, encoding, name, info)
    if not text.strip():
        raise CorpusError(f"load_corpus: file {name} is empty (only whitespace).")
    sep = info["delimiter"] = delimiter or ("\t" if suffix == ".tsv" else sniff_delimiter(text))
    header, rows, notes = parse_csv(text, sep, name)
    info["warnings"].extend(notes)
    # cell by cell, not column by column: a file may have 100,000 columns
    header = [undo_cell(h) for h in header]
    rows = [[undo_cell(v) if v and v[0] == "'" else v for v in row] for row in rows]
    return pd.DataFrame(rows, columns=header, dtype=object) if rows else pd.DataFrame(columns=header, dtype=object)


def read_comments(source: str | os.PathLike[str], *, sheet_name: str | int = 0, encoding: str | None = None,
                  delimiter: str | None = None) -> pd.DataFrame:  # fmt: skip
    """Read a table of comments as :func:`load_corpus` reads it, without validating it.

    The same reader for every file of comments (coded examples too): CSV/TSV/TXT in any common
    encoding and delimiter (mixed UTF-8/cp1252 lines decoded line by line), unbalanced quotes
    refused naming the line, XLSX by sheet name or number, parquet. CSV cells are strings (empty
    cells None); every data line is a row. Notes about the file are warned. The apostrophe that
    themeassist's CSV and XLSX outputs put before a cell starting with ``= + - @`` is taken off
    (:func:`themeassist.io.tables.undo_formula_guard`), so its own files read back as written.

    Raises
    ------
    CorpusError
        Missing, unreadable, empty or malformed file (the message names the line).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "ex.txt"
    >>> _ = p.write_bytes("text;codes\\nCaf\\xe9 food;Food\\n".encode("cp1252"))
    >>> read_comments(p).values.tolist()
    [['Café food', 'Food']]
    """
    info: dict[str, Any] = {"warnings": [], "encoding": None, "delimiter": None}
    df = _read(source, sheet_name=sheet_name, encoding=encoding, delimiter=delimiter, info=info)
    for msg in info["warnings"]:
        warnings.warn(msg, UserWarning, stacklevel=2)
    df.attrs.update(encoding=info["encoding"], delimiter=info["delimiter"])
    return df


def _check_date_format(date_format: str) -> None:
    """Refuse a ``date_format`` that no date can match (an unknown directive, or none at all)."""
    import datetime as dt

    probe = dt.datetime(2001, 2, 3, 4, 5, 6, tzinfo=dt.timezone.utc)
    ok = any(d in date_format for d in ("%Y", "%y", "%m", "%d", "%b", "%B", "%j", "%U", "%W", "%G", "%V"))
    try:
        dt.datetime.strptime(probe.strftime(date_format), date_format)
    except ValueError as exc:
        if "directive" not in str(exc) and "stray %" not in str(exc):
            return  # a format that round-trips imperfectly (a time zone name) can still read real dates
        raise ParameterError(f"load_corpus: date_format={date_format!r} is not a date format ({exc}); write it with "
                             "strptime directives, e.g. date_format='%d/%m/%Y' for 31/12/2024.") from None
    if not ok:
        raise ParameterError(f"load_corpus: date_format={date_format!r} holds no date directive (%Y, %m, %d, ...); "
                             "write it with strptime directives, e.g. date_format='%d/%m/%Y' for 31/12/2024.")


def _os_why(e: OSError) -> str:
    import errno

    return {errno.EACCES: "permission denied: check that you may read it", errno.ELOOP: "a symlink loop",
            errno.EPERM: "operation not permitted"}.get(e.errno or -1, e.strerror or str(e))  # fmt: skip


def _read_excel(path: Path, sheet_name: str | int, name: str) -> pd.DataFrame:
    """One sheet, by name or 0-based number (a digit string is a number unless a sheet has that name);
    column names always strings (a numeric header 2021 is the column '2021')."""
    with pd.ExcelFile(path, engine="openpyxl") as sheets:
        names = [str(n) for n in sheets.sheet_names]
        sheet: str | int = sheet_name
        if isinstance(sheet, str) and sheet not in names:
            if sheet.strip().isdigit():
                sheet = int(sheet)
            else:
                raise CorpusError(f"load_corpus: {name} has no sheet {sheet_name!r} (sheets: "
                                  f"{', '.join(map(repr, names))}). Pass sheet_name= (CLI --sheet) one of them.")
        if isinstance(sheet, int) and not 0 <= sheet < len(names):
            raise CorpusError(f"load_corpus: {name} has {len(names)} sheet(s) ({', '.join(map(repr, names))}); "
                              f"sheet number {sheet} does not exist (numbers start at 0).")  # fmt: skip
        df = sheets.parse(sheet, keep_default_na=False, na_values=[""])
    df.columns = _header_names(df.columns)
    return df


def _header_names(cols: Iterable[Any]) -> list[str]:
    out = []
    for c in cols:
        if isinstance(c, float) and c.is_integer():
            c = int(c)
        out.append(str(c))
    return out


_NUMERIC = re.compile(r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*")
_INT = re.compile(r"\s*[+-]?\d+\s*")
_LEADING_ZERO = re.compile(r"\s*[+-]?0\d")


def _numeric_values(vals: Any) -> Any:
    """A CSV metadata column (object array) as int64 or float64 when every value is a number (and
    none has a leading zero); None otherwise."""
    present = [v for v in vals if v is not None]
    if not present or not all(isinstance(v, str) for v in present):
        return None
    if any(_LEADING_ZERO.match(v) or not _NUMERIC.fullmatch(v) for v in present):
        return None
    if len(present) == len(vals) and all(_INT.fullmatch(v) for v in present):
        return np.array([int(v) for v in vals], dtype=np.int64)
    return np.array([float(v) if v is not None else np.nan for v in vals], dtype=np.float64)


def _metadata(df: pd.DataFrame, skip: set[Any], taken: set[str], from_csv: bool,
              notes: list[str]) -> pd.DataFrame | None:  # fmt: skip
    """The input's other columns (renamed ``<name>_input`` when taken), in order; CSV columns that
    hold only numbers become numbers. Linear in the number of columns, with one block per dtype."""
    values = df.to_numpy(dtype=object) if from_csv else None
    names: list[str] = []
    parts: dict[str, list[tuple[str, Any]]] = {"object": [], "int": [], "float": []}
    for k, col in enumerate(df.columns):
        if col in skip:
            continue
        new = col
        if new in taken:
            new = f"{col}_input"
            notes.append(f"load_corpus: input column {col!r} is kept as {new!r} ({col!r} is a corpus column).")
        taken.add(new)
        names.append(new)
        if values is None:
            parts["object"].append((new, df.iloc[:, k]))
            continue
        num = _numeric_values(values[:, k])
        kind = "object" if num is None else "int" if num.dtype == np.int64 else "float"
        parts[kind].append((new, values[:, k] if num is None else num))
    if not names:
        return None
    index = pd.RangeIndex(len(df))
    if values is None:
        frame = pd.DataFrame({n: v.to_numpy() for n, v in parts["object"]}, index=index)
        return frame
    frames = [pd.DataFrame(np.column_stack([v for _, v in cols]) if cols else np.empty((len(df), 0)),
                           columns=[n for n, _ in cols], index=index)
              for cols in parts.values() if cols]  # fmt: skip
    return pd.concat(frames, axis=1)[names]


def _doc_ids(df: pd.DataFrame, id_col: str | None) -> list[str]:
    if id_col is None:
        return [str(i) for i in range(len(df))]
    col = df[id_col]
    empty = [i for i, v in enumerate(col) if pd.isna(v) or str(v).strip() == ""]
    if empty:
        raise CorpusError(f"load_corpus: id column {id_col!r} is empty in rows {row_ranges(empty)}. "
                          "Fill those ids, or omit id_col to number the rows.")  # fmt: skip
    ids = [id_str(v) for v in col]
    seen: dict[str, list[int]] = {}
    for i, v in enumerate(ids):
        seen.setdefault(v, []).append(i)
    dups = {v: rows for v, rows in seen.items() if len(rows) > 1}
    if dups:
        listed = "; ".join(f"{v!r} (rows {row_ranges(r, 5)})" for v, r in list(dups.items())[:10])
        more = f" and {len(dups) - 10} more" if len(dups) > 10 else ""
        raise CorpusError(f"load_corpus: id column {id_col!r} has {len(dups)} duplicated ids: {listed}{more}. "
                          "Ids must be unique: fix them, or omit id_col to number the rows.")  # fmt: skip
    return ids


def _status(value: Any, non_answers: dict[str, str], max_chars: int) -> tuple[str, str, str]:
    """(text, status, reason) of one cell of the text column."""
    if value is None:
        return "", "missing", "no text (missing value)"
    if not isinstance(value, str):
        if not isinstance(value, (bytes, bytearray, memoryview, list, tuple, dict, set)) and not hasattr(value, "shape"):
            if pd.isna(value):
                return "", "missing", "no text (missing value)"
        kind = "a number" if isinstance(value, numbers.Number) else f"a {type(value).__name__}"
        shown = repr(value)
        shown = shown if len(shown) <= 60 else shown[:57] + "..."
        return "", "non_text", f"value {shown} is {kind}, not text"
    text = clean_text(value)
    if not text:
        return "", "empty", "text is empty or only whitespace"
    if _NUMBER.fullmatch(text):
        return "", "non_text", f"value {text!r} is a number, not text"
    key = _norm(text)
    if key in non_answers:
        shown = text if len(text) <= 60 else text[:57] + "..."
        return text, "non_answer", f"text is the non-answer {shown!r}"
    if len(text) > max_chars:
        return (text[:max_chars], "truncated",
                f"text cut from {len(text):,} to {max_chars:,} characters (max_chars)")  # fmt: skip
    return text, "ok", ""


def load_corpus(
    source: str | os.PathLike[str] | pd.DataFrame,
    *,
    text_col: str,
    id_col: str | None = None,
    period_col: str | None = None,
    period_freq: str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    group_col: str | None = None,
    non_answers: Iterable[str] | None = None,
    sheet_name: str | int = 0,
    encoding: str | None = None,
    delimiter: str | None = None,
    max_chars: int = 20000,
) -> pd.DataFrame:
    """Read comments and return one validated row per input row, in input order.

    (Over 80 lines for its documentation only: the code itself is under 80.)

    Parameters
    ----------
    source : path or DataFrame
        A CSV/TSV (any common encoding and delimiter), ``.xlsx`` or ``.parquet`` file, or a DataFrame.
    text_col : str
        Column holding the comments.
    id_col : str, optional
        Column of unique comment ids; default: the 0-based row number.
    period_col : str, optional
        Column giving each comment's period: years (2014), labels ("2021Q3", "Wave 2", kept as
        they are) or dates, which become period labels at ``period_freq``.
    period_freq : {"Y", "Q", "M", "W", "D"}, optional
        Granularity for dates: labels "2021", "2021Q3", "2021-03", "2021-W09", "2021-03-05".
        Default: "Y" if the dates span more than 3 years, "Q" if more than 1 year, else "M".
    date_format : str, optional
        ``strptime`` format honoured exactly; rows that do not match get no period (warned).
    dayfirst : bool, optional
        Force the order of dates written ``a/b/yyyy``. Default (None): the order is proved per
        contiguous block of rows by values above 12 (blocks split where ``group_col`` or the id
        prefix changes); ambiguous dates take their block's order, and dates whose order cannot
        be proved get no period. Every row and block concerned is reported.
    group_col : str, optional
        Column marking source blocks (e.g. a trust or site) for the day/month inference.
    non_answers : iterable of str, optional
        Texts that are not answers; default :data:`DEFAULT_NON_ANSWERS`; ``()`` disables.
        Matching ignores case and surrounding whitespace and punctuation.
    sheet_name, encoding, delimiter : optional
        XLSX sheet; CSV encoding and delimiter (detected when None).
    max_chars : int, default 20000
        Longer comments are cut to this length (status "truncated", still analysed).

    Returns
    -------
    corpus : DataFrame of shape (n_input_rows, 7 + n_metadata)
        Columns :data:`CORPUS_COLUMNS`: ``doc_id`` (str), ``row`` (int, 0-based input row: 0 is the
        first line after a CSV header; messages call it "row 1"), ``text`` (cleaned, "" when unusable),
        ``period`` (str or None), ``status`` (one of :data:`STATUSES`), ``reason`` ("" when ok),
        ``date`` (Timestamp when the period column holds dates, else NaT); then every other input column
        (not ``text_col``/``id_col``) under its own name (``<name>_input`` if the name is taken).
        ``attrs``: "warnings" (list of str, each also warned), "date_blocks" (runs of rows read
        day-first "dmy" or month-first "mdy"), "period_freq", "period_kind" ("date", "year", "label"),
        "source", and for CSV files "encoding" and "delimiter" as detected.

    Raises
    ------
    CorpusError
        Missing file or column, empty file, duplicated or empty ids, or a text column without text.

    Examples
    --------
    >>> df = pd.DataFrame({"comment": ["Great staff", "n/a", 5], "year": [2020, 2021, 2021]})
    >>> corpus = load_corpus(df, text_col="comment", period_col="year")
    >>> corpus[["doc_id", "period", "status"]].values.tolist()
    [['0', '2020', 'ok'], ['1', '2021', 'non_answer'], ['2', '2021', 'non_text']]
    """
    check_param("period_freq", period_freq, owner="load_corpus", options=FREQS, allow_none=True)
    check_param("max_chars", max_chars, owner="load_corpus", between=(1, float("inf")))
    if date_format is not None and dayfirst is not None:
        raise ParameterError(f"load_corpus: date_format={date_format!r} and dayfirst={dayfirst!r} were both given; "
                             "pass only one of them (date_format= fixes the whole format).")  # fmt: skip
    if date_format is not None:
        _check_date_format(date_format)
    notes: list[str] = []
    info: dict[str, Any] = {"warnings": notes, "encoding": None, "delimiter": None}
    if isinstance(source, pd.DataFrame):
        df = source.reset_index(drop=True)
        name = "the DataFrame"
    else:
        if not isinstance(source, (str, os.PathLike)):
            raise CorpusError(f"load_corpus: source must be a path or a DataFrame. Got {type(source).__name__}.")
        df = _read(source, sheet_name=sheet_name, encoding=encoding, delimiter=delimiter, info=info)
        name = repr(str(source))
    for param, col in (("text_col", text_col), ("id_col", id_col), ("period_col", period_col),
                       ("group_col", group_col)):  # fmt: skip
        _check_column(df, param, col)
    if len(df) == 0:
        raise CorpusError(f"load_corpus: {name} has columns ({_names(df.columns)}) but no rows.")

    doc_ids = _doc_ids(df, id_col)
    stops = DEFAULT_NON_ANSWERS if non_answers is None else non_answers
    if isinstance(stops, str):
        raise ParameterError(f"load_corpus: non_answers must be a list of strings, not one string; pass "
                             f"non_answers=[{stops!r}].")  # fmt: skip
    cells = _text_cells(df, text_col, stops, int(max_chars), exclude=[text_col, id_col, period_col])

    out = pd.DataFrame({"doc_id": doc_ids, "row": range(len(df)), "text": [c[0] for c in cells],
                        "period": pd.Series([None] * len(df), dtype=object),
                        "status": [c[1] for c in cells]})  # fmt: skip
    reasons = [c[2] for c in cells]
    date = pd.Series(pd.NaT, index=out.index, dtype="datetime64[ns]")
    period_info: dict[str, Any] = {"date_blocks": [], "period_freq": None, "period_kind": None}
    if period_col is not None:
        block_keys = _block_keys(df, id_col, group_col)
        res = read_periods(df[period_col], column=period_col, freq=period_freq, date_format=date_format,
                           dayfirst=dayfirst, block_keys=block_keys)  # fmt: skip
        out["period"] = pd.Series(res.period, dtype=object)
        date = res.date
        for i, why in res.reasons.items():
            reasons[i] = f"{reasons[i]}; {why}" if reasons[i] else why
        notes.extend(res.warnings)
        period_info = {"date_blocks": res.blocks, "period_freq": res.freq, "period_kind": res.kind}
    out["reason"] = reasons
    out["date"] = date.values
    truncated = out.index[out["status"] == "truncated"].tolist()
    if truncated:  # rows count from 1; default doc_ids from 0
        ids_too = f"; doc_ids {row_ranges(truncated, offset=0)}" if id_col is None else ""
        notes.append(f"load_corpus: {len(truncated)} comments longer than {max_chars:,} characters were cut "
                     f"(rows {row_ranges(truncated)}{ids_too}); they are still analysed.")  # fmt: skip

    meta = _metadata(df, {text_col, id_col}, set(out.columns), info.get("delimiter") is not None, notes)
    if meta is not None:
        out = pd.concat([out, meta], axis=1)
    out.attrs.update(period_info, **info, source=name)
    for msg in notes:
        warnings.warn(msg, UserWarning, stacklevel=2)
    return out


def _text_cells(df: pd.DataFrame, text_col: str, stops: Iterable[str], max_chars: int,
                exclude: list[Any]) -> list[tuple[str, str, str]]:  # fmt: skip
    """``(text, status, reason)`` of each cell of the text column; a column without any text is an
    error that names the columns that look like text."""
    keys = {_norm(str(s)): str(s) for s in stops}
    cells = [_status(v, keys, max_chars) for v in df[text_col]]
    if not any(_LETTER.search(t) for t, s, _ in cells if s not in ("missing", "non_text")):
        counts = pd.Series([s for _, s, _ in cells]).value_counts()
        other = _looks_like_text(df, exclude=exclude)
        hint = (f" Columns that look like text: {_names(other)}. Pass text_col={other[0]!r}?" if other
                else " No column looks like text.")  # fmt: skip
        raise CorpusError(f"load_corpus: text column {text_col!r} holds no text "
                          f"({', '.join(f'{n} {s}' for s, n in counts.items())}).{hint}")  # fmt: skip
    return cells


def _block_keys(df: pd.DataFrame, id_col: str | None, group_col: str | None) -> list[str]:
    """Per row: group value and id prefix ('NEAS S&C' in 'NEAS S&C 2352 - Q2'), joined by ' / '."""
    groups = [""] * len(df) if group_col is None else [id_str(v) for v in df[group_col]]
    prefixes = [""] * len(df) if id_col is None else [re.sub(r"\d.*", "", id_str(v)).strip() for v in df[id_col]]
    return [" / ".join(p for p in pair if p) for pair in zip(groups, prefixes)]


def substantive(corpus: pd.DataFrame) -> pd.DataFrame:
    """The comments to analyse: rows whose status is "ok" or "truncated" (index reset, ``row`` kept).

    Examples
    --------
    >>> corpus = load_corpus(pd.DataFrame({"c": ["Kind nurse", "", "N/A"]}), text_col="c")
    >>> substantive(corpus)["text"].tolist()
    ['Kind nurse']
    """
    check_columns(corpus, ("status", "text", "doc_id"), who="substantive", what="corpus")
    return corpus[corpus["status"].isin(USABLE_STATUSES)].reset_index(drop=True)


def as_corpus(X: Any, *, who: str = "as_corpus") -> pd.DataFrame:
    """``doc_id, status, text`` for every input row (corpus order), from a corpus or plain texts.

    A table with ``doc_id``, ``status`` and ``text`` (the output of :func:`load_corpus`) is used as
    it is; a table with only ``text``, a Series or a list of texts goes through :func:`load_corpus`
    (so blank texts and non-answers get their status).

    Examples
    --------
    >>> as_corpus(["Too many targets", ""])[["doc_id", "status"]].values.tolist()
    [['0', 'ok'], ['1', 'empty']]
    """
    if isinstance(X, pd.DataFrame):
        if "text" not in X.columns:
            raise CorpusError(
                f"{who}: the table has no 'text' column (columns: {', '.join(map(repr, X.columns[:10]))}). "
                "Pass the output of themeassist.corpus.load_corpus(..., text_col=...) or a list of texts."
            )
        if "status" in X.columns and "doc_id" in X.columns:
            return X[["doc_id", "status", "text"]].reset_index(drop=True)
        X = X["text"]
    if isinstance(X, (str, bytes)):
        raise CorpusError(f"{who}: expected a list of comments or a corpus table, got a single string.")
    texts = list(X) if not isinstance(X, pd.Series) else X.tolist()
    corpus = load_corpus(pd.DataFrame({"text": pd.Series(texts, dtype=object)}), text_col="text")
    return corpus[["doc_id", "status", "text"]]

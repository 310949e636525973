"""Safe table writing: spreadsheet-formula neutralisation and atomic file writes.

A comment that begins with ``=``, ``+``, ``-`` or ``@`` is run as a formula by
Excel and LibreOffice when a CSV/XLSX export is opened (CSV injection, see the
OWASP "CSV Injection" guidance). :func:`write_table` therefore neutralises such
cells with a leading apostrophe before writing spreadsheets, and every file is
written atomically (temporary file in the same folder, ``fsync``, ``os.replace``)
so that a crash never leaves a half-written table behind.

File modes, one policy for everything themeassist writes (tables, reports, figures, run folders,
saved models, caches): files are created ``0600`` (:data:`FILE_MODE`, owner read/write) and new
folders ``0700`` (:data:`DIR_MODE`), whatever the umask, because they hold or derive from
comments; ``chmod`` what you mean to share. An existing target is replaced only when it is a
regular file (never a device, FIFO, socket or folder): :func:`check_output` says what is wrong
before any work is done.

The guard is exactly reversible: a cell that already starts with apostrophes followed by one of
those characters gets one more apostrophe, so :func:`undo_formula_guard` (which removes one
leading apostrophe where the rest starts with apostrophes and a formula character) gives back
the original text. Readers of themeassist's own tables (suggestions, decisions) undo it on the
columns they look up: ids, theme names and doc ids, so ``-ve feedback`` or ``+44`` read back as
written.
"""

from __future__ import annotations

import errno
import io
import os
import stat
import tempfile
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from themeassist.exceptions import CorpusError, OutputError

__all__ = [
    "DIR_MODE",
    "FILE_MODE",
    "FORMULA_PREFIXES",
    "atomic_write_bytes",
    "atomic_write_text",
    "check_output",
    "swap_folder",
    "make_dirs",
    "neutralise_formulas",
    "read_table",
    "save_figure",
    "undo_formula_guard",
    "write_table",
]

#: Mode of every file themeassist creates (owner read/write only).
FILE_MODE = 0o600
#: Mode of every folder themeassist creates (owner only).
DIR_MODE = 0o700

#: First characters that make a spreadsheet treat a cell as a formula (OWASP).
FORMULA_PREFIXES: tuple[str, ...] = ("=", "+", "-", "@", "\t", "\r")

_WRITERS = (".csv", ".xlsx", ".parquet")
_READERS = (".csv", ".xlsx", ".parquet", ".jsonl", ".json")


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path.

    The bytes go to a temporary file in the destination folder, which is flushed,
    ``fsync``-ed and then moved over ``path`` with :func:`os.replace`; readers see
    either the old file or the complete new one, never a partial write. Missing
    parent folders are created.

    Parameters
    ----------
    path : str or path-like
        Destination file.
    data : bytes
        The complete file content.

    Returns
    -------
    pathlib.Path
        ``path`` as a :class:`~pathlib.Path`.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "sub" / "a.bin"
    >>> atomic_write_bytes(p, b"abc").read_bytes()
    b'abc'
    """
    target = Path(path)
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"atomic_write_bytes: data must be bytes, got {type(data).__name__}; "
            "use atomic_write_text for str."
        )
    check_output(target)
    make_dirs(target.parent)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp_name, FILE_MODE)
        os.replace(tmp_name, target)
    except BaseException:
        try:
            os.unlink(tmp_name)
        except FileNotFoundError:
            pass
        raise  # an OSError (no space, no permission) is reported by the CLI in one line
    _fsync_dir(target.parent)
    return target


def check_output(path: str | os.PathLike[str], *, suffixes: Iterable[str] | None = None,
                 inputs: Iterable[str | os.PathLike[str] | None] = ()) -> Path:  # fmt: skip
    """Check, before any work, that ``path`` can be written as a new or replaced regular file.

    Refused (:class:`~themeassist.exceptions.OutputError`): a suffix not in ``suffixes``; an
    existing folder, device, FIFO or socket (an atomic rename would replace it); a symlink loop; a
    path equal to one of ``inputs`` (the file would be overwritten); a read-only existing file; a
    folder that cannot be created or written into.

    Examples
    --------
    >>> check_output("/dev/null")
    Traceback (most recent call last):
    ...
    themeassist.exceptions.OutputError: output '/dev/null' exists and is not a regular file (a character device); pass the path of a file to write.
    """
    target = Path(path)
    name = repr(str(target))
    if suffixes is not None:
        allowed = tuple(suffixes)
        if target.suffix.lower() not in allowed:
            raise OutputError(f"output {name}: unknown suffix {target.suffix.lower()!r}; use one of "
                              f"{', '.join(allowed)}.")  # fmt: skip
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise OutputError(f"output {name} is a symlink loop; pass the path of a file to write.") from exc
        if exc.errno == errno.ENOTDIR:
            raise OutputError(f"output {name}: a part of the path is a file, not a folder.") from exc
        raise
    if st is None and os.path.islink(target):
        st = None  # a dangling link: the rename replaces the link itself
    elif st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise OutputError(f"output {name} is a folder; pass the path of a file inside it.")
        if not stat.S_ISREG(st.st_mode):
            kind = ("a character device" if stat.S_ISCHR(st.st_mode) else "a block device" if stat.S_ISBLK(st.st_mode)
                    else "a FIFO" if stat.S_ISFIFO(st.st_mode) else "a socket" if stat.S_ISSOCK(st.st_mode)
                    else "not a regular file")  # fmt: skip
            raise OutputError(f"output {name} exists and is not a regular file ({kind}); pass the path of a "
                              "file to write.")  # fmt: skip
        if not os.access(target, os.W_OK):
            raise OutputError(f"output {name} exists and is read-only (permission denied); choose another "
                              "name or make it writable.")  # fmt: skip
        for other in inputs:
            if other is not None and _same_file(target, Path(other)):
                raise OutputError(f"output {name} is also an input ({str(other)!r}); writing it would destroy "
                                  "that file. Pass another --out.")  # fmt: skip
    folder = _existing_ancestor(target.parent)
    if not folder.is_dir():
        raise OutputError(f"output {name}: {str(folder)!r} is a file, not a folder.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise OutputError(f"output {name}: cannot write into folder {str(folder)!r} (permission denied); "
                          "choose a folder you can write to.")  # fmt: skip
    return target


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return os.path.abspath(a) == os.path.abspath(b)


def _existing_ancestor(folder: Path) -> Path:
    folder = Path(os.path.abspath(folder))
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    return folder


def make_dirs(folder: str | os.PathLike[str]) -> Path:
    """Create ``folder`` and its missing parents, each with mode :data:`DIR_MODE` (existing ones untouched).

    Examples
    --------
    >>> import tempfile, pathlib, stat
    >>> p = make_dirs(pathlib.Path(tempfile.mkdtemp()) / "a" / "b")
    >>> oct(stat.S_IMODE(p.stat().st_mode)), oct(stat.S_IMODE(p.parent.stat().st_mode))
    ('0o700', '0o700')
    """
    folder = Path(folder)
    missing = []
    probe = Path(os.path.abspath(folder))
    while not probe.exists() and probe != probe.parent:
        missing.append(probe)
        probe = probe.parent
    for p in reversed(missing):
        try:
            p.mkdir(mode=DIR_MODE)
        except FileExistsError:
            continue
        try:
            os.chmod(p, DIR_MODE)  # mkdir's mode is masked by the umask
        except OSError:
            pass
    if not folder.is_dir():
        raise OutputError(f"cannot create folder {str(folder)!r}: a file of that name is in the way.")
    return folder


def save_figure(fig: Any, path: str | os.PathLike[str], **kwargs: Any) -> Path:
    """Save a matplotlib figure atomically with :data:`FILE_MODE` (format from the suffix).

    Examples
    --------
    >>> import tempfile, pathlib, matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> fig = plt.figure()
    >>> save_figure(fig, pathlib.Path(tempfile.mkdtemp()) / "f.png").read_bytes()[:4]
    b'\x89PNG'
    """
    target = Path(path)
    buffer = io.BytesIO()
    fmt = kwargs.pop("format", None) or target.suffix.lstrip(".").lower() or "png"
    fig.savefig(buffer, format=fmt, **kwargs)
    return atomic_write_bytes(target, buffer.getvalue())


def atomic_write_text(path: str | os.PathLike[str], text: str, *, encoding: str = "utf-8") -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_write_bytes`).

    Newlines are written as given (no platform translation).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> atomic_write_text(p, "héllo\\n").read_text(encoding="utf-8")
    'héllo\\n'
    """
    if not isinstance(text, str):
        raise TypeError(f"atomic_write_text: text must be str, got {type(text).__name__}.")
    return atomic_write_bytes(path, text.encode(encoding))


def _fsync_dir(folder: Path) -> None:
    """Persist the rename itself where the platform allows it (POSIX only)."""
    if os.name != "posix":
        return
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _guarded(value: str) -> bool:
    """True for text the guard prefixes: a formula character, possibly after apostrophes."""
    return value.lstrip("'").startswith(FORMULA_PREFIXES)


def _neutralise_cell(value: Any) -> Any:
    if isinstance(value, str) and _guarded(value):
        return "'" + value
    return value


def undo_cell(value: Any) -> Any:
    """One cell of :func:`undo_formula_guard`."""
    if isinstance(value, str) and value.startswith("'") and _guarded(value):
        return value[1:]
    return value


def undo_formula_guard(df: pd.DataFrame, columns: Any = None) -> pd.DataFrame:
    """Undo :func:`neutralise_formulas` on string cells: the exact text that was guarded.

    One leading apostrophe is removed from cells that start with apostrophes followed by
    ``= + - @``, a tab or a carriage return (the guard added it). Other cells, and columns not
    in ``columns`` (default: all), are left alone; the input is not modified.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"suggested": ["-ve feedback", "'=x", "fine"]})
    >>> undo_formula_guard(neutralise_formulas(df))["suggested"].tolist()
    ['-ve feedback', "'=x", 'fine']
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"undo_formula_guard expects a pandas DataFrame, got {type(df).__name__}.")
    out = df.copy()
    for col in out.columns if columns is None else [c for c in columns if c in out.columns]:
        if out[col].dtype == object or isinstance(out[col].dtype, pd.StringDtype):
            out[col] = out[col].map(undo_cell, na_action="ignore")
    out.columns = [undo_cell(c) for c in out.columns]
    return out


def neutralise_formulas(df: pd.DataFrame) -> pd.DataFrame:
    """Return a copy of ``df`` in which no string cell can run as a spreadsheet formula.

    String cells (and string column names) whose first character is one of
    ``= + - @``, a tab or a carriage return get a leading apostrophe ``'``, as
    the OWASP CSV-injection guidance recommends; spreadsheets then show the text
    instead of evaluating it. Cells made of apostrophes and then such a character
    get one more apostrophe, so that :func:`undo_formula_guard` restores every
    cell exactly. Numbers, booleans, dates and missing values are
    left untouched, so a negative *number* stays a number, while the *string*
    ``"-5"`` (or ``"-"``) starts with ``-`` and is escaped to ``"'-5"``. Every
    row and column is kept, in order; the input is not modified.

    Parameters
    ----------
    df : pandas.DataFrame
        Any table.

    Returns
    -------
    pandas.DataFrame
        A copy with the same shape, index and dtypes.

    Examples
    --------
    >>> import pandas as pd
    >>> df = pd.DataFrame({"text": ["=1+1", "fine", "@SUM(A1)"], "n": [-1, 2, 3]})
    >>> neutralise_formulas(df)["text"].tolist()
    ["'=1+1", 'fine', "'@SUM(A1)"]
    >>> neutralise_formulas(df)["n"].tolist()
    [-1, 2, 3]
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"neutralise_formulas expects a pandas DataFrame, got {type(df).__name__}.")
    out = df.copy()
    for col in out.columns:
        series = out[col]
        if series.dtype == object or isinstance(series.dtype, pd.StringDtype) or isinstance(
            series.dtype, pd.CategoricalDtype
        ):
            if isinstance(series.dtype, pd.CategoricalDtype):
                series = series.astype(object)
            out[col] = series.map(_neutralise_cell, na_action="ignore").astype(series.dtype)
    out.columns = [_neutralise_cell(c) for c in out.columns]
    if out.index.dtype == object:
        out.index = out.index.map(_neutralise_cell)
    return out


def write_table(df: pd.DataFrame, path: str | os.PathLike[str], *, index: bool = False) -> Path:
    """Write ``df`` to ``path`` (format chosen by suffix), safely and atomically.

    ``.csv`` (UTF-8, RFC 4180 ``\\r\\n`` line ends) and ``.xlsx`` outputs are passed through
    :func:`neutralise_formulas` first, since spreadsheet programs open them;
    ``.parquet`` keeps the values exactly. Parent folders are created and the
    file appears atomically (see :func:`atomic_write_bytes`).

    Parameters
    ----------
    df : pandas.DataFrame
        The table to write.
    path : str or path-like
        Destination ending in ``.csv``, ``.xlsx`` or ``.parquet``.
    index : bool, default False
        Whether to write the DataFrame index.

    Returns
    -------
    pathlib.Path
        The written path.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "out" / "t.csv"
    >>> _ = write_table(pd.DataFrame({"text": ["=HYPERLINK(1)"]}), p)
    >>> p.read_text(encoding="utf-8").splitlines()[1]
    "'=HYPERLINK(1)"
    """
    if not isinstance(df, pd.DataFrame):
        raise TypeError(f"write_table expects a pandas DataFrame, got {type(df).__name__}.")
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in _WRITERS:
        raise OutputError(
            f"write_table: cannot write {str(target)!r}: unknown suffix {suffix!r}; "
            f"use one of {', '.join(_WRITERS)}."
        )
    check_output(target)
    buffer = io.BytesIO()
    if suffix == ".csv":
        # RFC 4180 line ends: with "\r\n" as terminator the csv module also quotes
        # cells holding a lone "\r" or "\n", so every row reads back intact.
        text = neutralise_formulas(df).to_csv(index=index, lineterminator="\r\n")
        buffer.write(text.encode("utf-8"))
    elif suffix == ".xlsx":
        with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
            neutralise_formulas(df).to_excel(writer, index=index)
    else:
        df.to_parquet(buffer, index=index)
    return atomic_write_bytes(target, buffer.getvalue())


def read_table(path: str | os.PathLike[str], **kwargs: Any) -> pd.DataFrame:
    """Read a table written by :func:`write_table` (or any similar file), by suffix.

    ``.csv`` → :func:`pandas.read_csv` (without ``encoding``/``sep`` given: the encoding and
    delimiter a spreadsheet may have saved it with after a coder edited it, UTF-8 with or without
    a BOM, UTF-16 or cp1252, ``,`` ``;`` tab or ``|``, decimal commas in a ``;`` file; so an
    audit or decisions file saved by Excel reads as written), ``.xlsx`` → :func:`pandas.read_excel`,
    ``.parquet`` → :func:`pandas.read_parquet`, ``.jsonl``/``.json`` →
    :func:`pandas.read_json` with ``lines=True``. Extra keyword arguments are
    passed on. Neutralising apostrophes added on writing are *not* removed.

    Examples
    --------
    >>> import tempfile, pathlib, pandas as pd
    >>> p = pathlib.Path(tempfile.mkdtemp()) / "t.parquet"
    >>> _ = write_table(pd.DataFrame({"a": [1, 2]}), p)
    >>> read_table(p)["a"].tolist()
    [1, 2]
    """
    source = Path(path)
    suffix = source.suffix.lower()
    if suffix not in _READERS:
        raise CorpusError(
            f"read_table: cannot read {str(source)!r}: unknown suffix {suffix!r}; "
            f"save it as one of {', '.join(_READERS)}."
        )
    if not source.is_file():
        raise FileNotFoundError(f"read_table: no file at {str(source)!r}.")
    if suffix == ".csv":
        if "encoding" in kwargs or "sep" in kwargs or "delimiter" in kwargs:
            kwargs.setdefault("encoding", "utf-8")
            return pd.read_csv(source, **kwargs)
        return _read_saved_csv(source, **kwargs)
    if suffix == ".xlsx":
        return pd.read_excel(source, engine="openpyxl", **kwargs)
    if suffix == ".parquet":
        return pd.read_parquet(source, **kwargs)
    kwargs.setdefault("lines", True)
    return pd.read_json(source, **kwargs)


_BOMS = ((b"\xef\xbb\xbf", "utf-8-sig"), (b"\xff\xfe", "utf-16"), (b"\xfe\xff", "utf-16"))
_DECIMAL_COMMA = r"-?\d+,\d+(?:[eE][-+]?\d+)?"


def _read_saved_csv(source: Path, **kwargs: Any) -> pd.DataFrame:
    """A CSV as a spreadsheet may have saved it after a coder edited it: UTF-8 (with or without a
    BOM), UTF-16, else cp1252; fields split by the delimiter among , ; tab | that splits the first
    lines evenly; in a ';' file, columns written with decimal commas (``0,25``) read as numbers
    (unless ``dtype`` is given)."""
    from themeassist.corpus import sniff_delimiter

    with open(source, "rb") as fh:
        head = fh.read(65536)
    encoding = next((codec for bom, codec in _BOMS if head.startswith(bom)), "utf-8")
    sep = sniff_delimiter(head.decode(encoding, errors="replace").lstrip("\ufeff"))
    try:
        df = pd.read_csv(source, sep=sep, encoding=encoding, **kwargs)
    except UnicodeDecodeError:  # saved as "CSV" by a spreadsheet in a Western locale
        df = pd.read_csv(source, sep=sep, encoding="cp1252", encoding_errors="replace", **kwargs)
    if sep == ";" and "dtype" not in kwargs:
        for col in df.columns[df.dtypes == object]:
            cells = df[col].dropna().astype(str).str.strip()
            if len(cells) and cells.str.fullmatch(_DECIMAL_COMMA + "|-?\\d+").all() and \
                    cells.str.contains(",", regex=False).any():
                df[col] = pd.to_numeric(df[col].astype(str).str.strip().str.replace(",", ".", regex=False)
                                        .where(df[col].notna()))
    return df


def swap_folder(tmp: str | os.PathLike[str], target: str | os.PathLike[str]) -> Path:
    """Put the finished folder ``tmp`` in ``target``'s place; an old folder there is removed only
    after the swap, and put back if the swap fails.

    The old folder is deleted: callers first check that ``target`` is absent or a folder themeassist
    wrote (a saved discovery, a static model; see their ``check_save_target`` / ``_check_target``).

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "new").mkdir(); (root / "model").mkdir()
    >>> _ = (root / "new" / "a.txt").write_text("new")
    >>> swap_folder(root / "new", root / "model").joinpath("a.txt").read_text()
    'new'
    """
    import shutil

    tmp, target = Path(tmp), Path(target)
    if not target.exists():
        os.replace(tmp, target)
        return target
    old = Path(tempfile.mkdtemp(prefix=f".{target.name}-old-", dir=target.parent))
    os.replace(target, old / target.name)
    try:
        os.replace(tmp, target)
    except BaseException:
        os.replace(old / target.name, target)
        raise
    finally:
        shutil.rmtree(old, ignore_errors=True)
    return target

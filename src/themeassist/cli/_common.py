"""Options and helpers shared by the command modules."""

from __future__ import annotations

import argparse
import errno
import logging
import os
import sys
import warnings
from pathlib import Path
from typing import Any, Iterable

#: Input columns never redacted: ids (kept so rows can be matched) and themeassist's own fields.
_NOT_FREE_TEXT = ("doc_id", "row", "status", "period", "date")


def common(p: argparse.ArgumentParser, *, embeds: bool = True) -> None:
    """``--cache-dir`` and ``--model`` (commands that embed), ``--seed`` and ``--quiet``."""
    if embeds:
        p.add_argument("--cache-dir", default=None, help="embedding cache folder (default: user cache folder)")
        p.add_argument("--model", default=None, help="'minilm' (default), 'static', 'e5', or a local model folder")
    p.add_argument("--seed", type=int, default=0, help="random seed (results are reproducible)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def quiet_third_party() -> Any:
    """CLI warnings as one line ``warning: ...`` (no source line), and no load-time chatter from the
    model libraries (the "Repo card metadata block was not found" note, transformers' LOAD REPORT).

    Returns a function that puts the warning format back (``main`` runs in-process in tests)."""
    previous = warnings.formatwarning
    said: set[str] = set()

    def one_line(message: Any, category: Any, filename: str, lineno: int, line: str | None = None) -> str:
        # the same finding met again by a later step (the examples' codes read by the file reader, then by
        # each fit) is said once: its gist is the message before the rows it lists
        gist = str(message).split(" (", 1)[0]
        if gist in said:
            return ""
        said.add(gist)
        return f"warning: {message}\n"

    warnings.formatwarning = one_line  # type: ignore[assignment]
    for name in ("huggingface_hub", "huggingface_hub.repocard", "transformers", "sentence_transformers",
                 "model2vec", "BERTopic", "numba"):  # fmt: skip
        logging.getLogger(name).setLevel(logging.ERROR)
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

    def restore() -> None:
        warnings.formatwarning = previous  # type: ignore[assignment]

    return restore


def os_error_message(exc: OSError) -> str:
    """One line for an operating-system error: what failed, on which file, and what to do."""
    where = f" {exc.filename!r}" if getattr(exc, "filename", None) else ""
    hints = {
        errno.ENOENT: f"file or folder not found:{where}",
        errno.EACCES: f"permission denied:{where}; check that you may read the inputs and write the outputs",
        errno.EPERM: f"operation not permitted:{where}; check the file's permissions",
        errno.ENOSPC: f"no space left on the device{' writing' + where if where else ''}; free some space and "
                      "run the same command again (finished chunks are kept)",
        errno.EDQUOT: f"disk quota exceeded{' writing' + where if where else ''}; free some space and run again",
        errno.EROFS: f"read-only file system:{where}; write the outputs somewhere else",
        errno.ELOOP: f"symlink loop:{where}; point the path at a real file",
        errno.EISDIR: f"{where.strip() or 'path'} is a folder; pass a file",
        errno.ENOTDIR: f"a part of the path{where} is a file, not a folder",
    }  # fmt: skip
    return hints.get(exc.errno or -1, f"{exc.strerror or exc}:{where}" if where else str(exc.strerror or exc))


def positive_int(value: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1; got {value!r}")
    return n


def period_freq(value: str) -> str:
    """An argparse type: a period length for dates (Y, Q, M, W or D, any case)."""
    FREQS = ("Y", "Q", "M", "W", "D")  # noqa: N806 (the same as load_corpus' period_freq options)
    v = value.strip().upper()
    if v not in FREQS:
        raise argparse.ArgumentTypeError(f"must be one of {', '.join(FREQS)} (year, quarter, month, week, day); "
                                         f"got {value!r}")
    return v


def corpus_args(p: argparse.ArgumentParser, *, period: bool = True) -> None:
    """The input file and how to read it (text, id, period columns, non-answers)."""
    p.add_argument("input", help="comments: CSV, XLSX or parquet")
    p.add_argument("--text-col", required=True, help="column holding the comment text")
    p.add_argument("--id-col", default=None, help="column of unique comment ids (default: row number)")
    if period:
        p.add_argument("--period-col", default=None, help="column of periods: years, dates or labels")
        p.add_argument("--period-freq", default=None, type=period_freq, help="for dates: Y, Q, M, W or D")
        p.add_argument("--date-format", default=None, help="explicit strptime format, e.g. %%d/%%m/%%Y")
    p.add_argument("--non-answers", default=None,
                   help="'|'-separated texts that are not answers (default: the built-in list; '' for none)")
    p.add_argument("--sheet", default=None, help="XLSX: the sheet to read, by name or 0-based number (default: the first)")


def redact_args(p: argparse.ArgumentParser, *, cols: bool = True) -> None:
    """``--redact``, ``--redact-names`` and (commands that read a table of comments) ``--redact-cols``."""
    p.add_argument("--redact", action="store_true",
                   help="replace e-mails, phone numbers, NHS numbers, postcodes and URLs in every free-text "
                        "column before anything is computed or written; no embedding cache is used")
    p.add_argument("--redact-names", default="", help="person names to redact too: 'a|b' or a file, one per line")
    if cols:
        p.add_argument("--redact-cols", default=None,
                       help="--redact: the input columns to redact besides the text ('a|b'; default: every "
                            "column holding text, except the id column)")


def codebook_args(p: argparse.ArgumentParser) -> None:
    """``--merge-variants`` and ``--none-codes``: how ``--codebook`` is read."""
    p.add_argument("--merge-variants", action="store_true",
                   help="merge theme names under one parent that differ only in case, spacing or dash, keeping "
                        "the spelling the codes use most (without it such names are refused)")
    p.add_argument("--none-codes", default="", help="'|'-separated codes that mean 'none of these themes' "
                                                    "(e.g. 'NotCodable'), added to the codebook's none_codes")


def codebook(args: argparse.Namespace, counts: Any = None) -> Any:
    """The codebook named by ``--codebook`` (None when not given), read as :func:`codebook_args` says;
    ``counts``: the code cells whose spellings decide which variant ``--merge-variants`` keeps."""
    from themeassist.codebook import load_codebook

    if getattr(args, "codebook", None) is None:
        return None
    none = [c for c in getattr(args, "none_codes", "").split("|") if c.strip()]
    merge = getattr(args, "merge_variants", False)
    return load_codebook(args.codebook, merge_variants=merge, counts=counts if merge else None, none_codes=none)


def column_cells(path: str, column: str | None) -> list[Any]:
    """The cells of one column of a table file, as written (for ``--merge-variants`` counts)."""
    from themeassist.io.tables import read_table

    as_text = {"dtype": str, "keep_default_na": False} if str(path).lower().endswith((".csv", ".xlsx")) else {}
    table = read_table(path, **as_text)
    return list(table[column]) if column in table.columns else []


def load(args: argparse.Namespace) -> Any:
    """The corpus named by :func:`corpus_args`' options (:func:`themeassist.load_corpus`)."""
    from themeassist.corpus import load_corpus

    non_answers = None if args.non_answers is None else [s for s in args.non_answers.split("|") if s]
    sheet = getattr(args, "sheet", None)
    return load_corpus(args.input, text_col=args.text_col, id_col=args.id_col,
                       period_col=getattr(args, "period_col", None), period_freq=getattr(args, "period_freq", None),
                       date_format=getattr(args, "date_format", None), non_answers=non_answers,
                       sheet_name=0 if sheet is None else sheet)


def embedder(args: argparse.Namespace) -> Any:
    """The embedder named by ``--model`` and ``--cache-dir``."""
    from themeassist.embed import get_embedder

    # under --redact nothing derived from the comments is kept: no embedding cache at all
    cache: Any = False if getattr(args, "redact", False) else args.cache_dir
    return get_embedder(args.model, cache_dir=cache, show_progress=not args.quiet)


def redact_names(spec: str) -> list[str]:
    """``--redact-names``: 'a|b|c' or the path of a file with one name per line."""
    if spec and Path(spec).is_file():
        return [line.strip() for line in Path(spec).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [n.strip() for n in spec.replace(",", "|").split("|") if n.strip()]


def _redact_columns(df: Any, args: argparse.Namespace, always: Iterable[str]) -> list[str]:
    from themeassist.redact import text_columns

    named = getattr(args, "redact_cols", None)
    if named:
        wanted = [c.strip() for c in named.replace(",", "|").split("|") if c.strip()]
        from themeassist._schema import check_columns

        check_columns(df, wanted, who="--redact-cols", what="input",
                      hint="Pass --redact-cols the names of its free-text columns, separated by '|'.")
        cols = wanted
    else:
        cols = text_columns(df, exclude=_NOT_FREE_TEXT)
    return list(dict.fromkeys([c for c in always if c in df.columns] + cols))


def maybe_redact(df: Any, args: argparse.Namespace, *, always: Iterable[str] = ("text", "reason", "evidence"),
                 what: str = "comments") -> Any:  # fmt: skip
    """``df`` with its free-text columns redacted under ``--redact`` (a summary goes to stderr).

    Redacted: ``always`` (the text, the reasons that quote it, evidence) and every other column
    holding text except ids (or only the columns named by ``--redact-cols``).
    """
    if not getattr(args, "redact", False):
        return df
    from themeassist.redact import redact

    out, counts = redact(df, names=redact_names(args.redact_names), columns=_redact_columns(df, args, always))
    summary = ", ".join(f"{r.kind} {r.n}" for r in counts.itertuples() if r.n) or "nothing found"
    print(f"redacted before export: {summary}" if what == "comments" else f"redacted in the {what}: {summary}",
          file=sys.stderr)  # fmt: skip
    return out


def redact_text(df: Any, args: argparse.Namespace, *, columns: Iterable[str] = ("text",),
                what: str | None = "examples") -> Any:  # fmt: skip
    """Under ``--redact``: ``df`` with ``columns`` redacted (the coded examples, decisions, evidence)."""
    if not getattr(args, "redact", False) or df is None:
        return df
    from themeassist.redact import redact

    out, counts = redact(df, names=redact_names(args.redact_names), columns=[c for c in columns if c in df.columns])
    if what is not None:
        summary = ", ".join(f"{r.kind} {r.n}" for r in counts.itertuples() if r.n) or "nothing found"
        print(f"redacted in the {what}: {summary}", file=sys.stderr)
    return out


def check_out(path: str | os.PathLike[str] | None, *, suffixes: Iterable[str] | None = None,
              inputs: Iterable[Any] = ()) -> None:
    """Before any work: ``path`` must be writable as a regular file and not be one of ``inputs``."""
    if path is None:
        return
    from themeassist.io.tables import check_output

    check_output(path, suffixes=suffixes, inputs=[i for i in inputs if i])


def keep_coder_work(path: str | None, columns: Iterable[str], *, overwrite: bool) -> None:
    """Before any work: refuse to replace an existing output whose coder columns (an audit's
    ``codes``, a suggestions file's ``decision`` / ``final_codes``) hold entries, unless ``overwrite``."""
    if path is None or overwrite or not os.path.isfile(path):
        return
    from themeassist.exceptions import OutputError
    from themeassist.io.tables import read_table

    wanted = set(columns)
    suffix = os.path.splitext(path)[1].lower()
    kwargs: dict[str, Any] = ({"columns": None} if suffix == ".parquet" else {"usecols": lambda c: c in wanted})
    if suffix == ".csv":
        kwargs.update(dtype=str, keep_default_na=False)
    try:  # only the coder's columns are read: a 300,000-row file is checked in a moment
        if suffix == ".parquet":
            import pyarrow.parquet as pq

            kwargs["columns"] = [c for c in pq.read_schema(path).names if c in wanted]
        old = read_table(path, **kwargs)
    except Exception:  # noqa: BLE001 (not a table themeassist can read: nothing of a coder's to lose here)
        return
    for col in columns:
        if col in old.columns:
            filled = old[col].astype(object).where(old[col].notna(), "").astype(str).str.strip() != ""
            if filled.any():
                rows = [k for k, f in enumerate(filled.tolist(), start=1) if f]
                raise OutputError(f"output {path!r} exists and {len(rows)} of its rows have a filled {col!r} column "
                                  f"(e.g. row {rows[0]}): a coder's work, which writing would erase. Pass another "
                                  "--out, or add --overwrite to replace it.")


def input_files(args: argparse.Namespace, *names: str) -> list[str]:
    """The existing input files named by ``args`` attributes ``names`` (codebook names like 'iapt' skipped)."""
    found = []
    for n in names:
        v = getattr(args, n, None)
        for item in v if isinstance(v, list) else [v]:  # an option given several times (--decisions)
            if isinstance(item, str) and item and os.path.exists(item):
                found.append(item)
    return found

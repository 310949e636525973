"""Options and helpers shared by the command modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def common(p: argparse.ArgumentParser, *, embeds: bool = True) -> None:
    """``--cache-dir`` and ``--model`` (commands that embed), ``--seed`` and ``--quiet``."""
    if embeds:
        p.add_argument("--cache-dir", default=None, help="embedding cache folder (default: user cache folder)")
        p.add_argument("--model", default=None, help="'minilm' (default), 'static', or a local model folder")
    p.add_argument("--seed", type=int, default=0, help="random seed (results are reproducible)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def positive_int(value: str) -> int:
    """An argparse type: a whole number >= 1."""
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1; got {value!r}")
    return n


def corpus_args(p: argparse.ArgumentParser, *, period: bool = True) -> None:
    """The input file and how to read it (text, id, period columns, non-answers)."""
    p.add_argument("input", help="comments: CSV, XLSX or parquet")
    p.add_argument("--text-col", required=True, help="column holding the comment text")
    p.add_argument("--id-col", default=None, help="column of unique comment ids (default: row number)")
    if period:
        p.add_argument("--period-col", default=None, help="column of periods: years, dates or labels")
        p.add_argument("--period-freq", default=None, help="for dates: Y, Q, M, W or D")
        p.add_argument("--date-format", default=None, help="explicit strptime format, e.g. %%d/%%m/%%Y")
    p.add_argument("--non-answers", default=None,
                   help="'|'-separated texts that are not answers (default: the built-in list; '' for none)")


def redact_args(p: argparse.ArgumentParser) -> None:
    """``--redact`` and ``--redact-names``."""
    p.add_argument("--redact", action="store_true",
                   help="replace e-mails, phone numbers, NHS numbers, postcodes and URLs before writing")
    p.add_argument("--redact-names", default="", help="person names to redact too: 'a|b' or a file, one per line")


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
    return load_corpus(args.input, text_col=args.text_col, id_col=args.id_col,
                       period_col=getattr(args, "period_col", None), period_freq=getattr(args, "period_freq", None),
                       date_format=getattr(args, "date_format", None), non_answers=non_answers)


def embedder(args: argparse.Namespace) -> Any:
    """The embedder named by ``--model`` and ``--cache-dir``."""
    from themeassist.embed import get_embedder

    return get_embedder(args.model, cache_dir=args.cache_dir, show_progress=not args.quiet)


def redact_names(spec: str) -> list[str]:
    """``--redact-names``: 'a|b|c' or the path of a file with one name per line."""
    if spec and Path(spec).is_file():
        return [line.strip() for line in Path(spec).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [n.strip() for n in spec.replace(",", "|").split("|") if n.strip()]


def maybe_redact(df: Any, args: argparse.Namespace) -> Any:
    """``df`` with its ``text`` column redacted under ``--redact`` (a summary goes to stderr)."""
    if not getattr(args, "redact", False):
        return df
    from themeassist.redact import redact

    out, counts = redact(df, names=redact_names(args.redact_names), columns=["text"])
    summary = ", ".join(f"{r.kind} {r.n}" for r in counts.itertuples() if r.n) or "nothing found"
    print(f"redacted before export: {summary}", file=sys.stderr)
    return out

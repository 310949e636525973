"""Command line: each subcommand is a few lines calling the library's functions.

Run ``themeassist --help`` or ``themeassist COMMAND --help``. Every command that embeds text
takes ``--cache-dir DIR`` (default: the user's cache folder) and ``--model`` (``minilm``,
``static`` or a local model folder). Every command that takes a codebook accepts a YAML/JSON
file or the name of a built-in codebook (``iapt``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from themeassist.exceptions import ThemeassistError


def _common(p: argparse.ArgumentParser, *, embeds: bool = True) -> None:
    if embeds:
        p.add_argument("--cache-dir", default=None, help="embedding cache folder (default: user cache folder)")
        p.add_argument("--model", default=None, help="'minilm' (default), 'static', or a local model folder")
    p.add_argument("--seed", type=int, default=0, help="random seed (results are reproducible)")
    p.add_argument("--quiet", action="store_true", help="no progress bars")


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1; got {value!r}")
    return n


def _corpus_args(p: argparse.ArgumentParser, *, period: bool = True) -> None:
    p.add_argument("input", help="comments: CSV, XLSX or parquet")
    p.add_argument("--text-col", required=True, help="column holding the comment text")
    p.add_argument("--id-col", default=None, help="column of unique comment ids (default: row number)")
    if period:
        p.add_argument("--period-col", default=None, help="column of periods: years, dates or labels")
        p.add_argument("--period-freq", default=None, help="for dates: Y, Q, M, W or D")
        p.add_argument("--date-format", default=None, help="explicit strptime format, e.g. %%d/%%m/%%Y")
    p.add_argument("--non-answers", default=None,
                   help="'|'-separated texts that are not answers (default: the built-in list; '' for none)")


def _redact_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--redact", action="store_true",
                   help="replace e-mails, phone numbers, NHS numbers, postcodes and URLs before writing")
    p.add_argument("--redact-names", default="", help="person names to redact too: 'a|b' or a file, one per line")


def _load(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from themeassist.corpus import load_corpus

    non_answers = None if args.non_answers is None else [s for s in args.non_answers.split("|") if s]
    return load_corpus(args.input, text_col=args.text_col, id_col=args.id_col,
                       period_col=getattr(args, "period_col", None), period_freq=getattr(args, "period_freq", None),
                       date_format=getattr(args, "date_format", None), non_answers=non_answers)


def _embedder(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from themeassist.embed import get_embedder

    return get_embedder(args.model, cache_dir=args.cache_dir, show_progress=not args.quiet)


def cmd_discover(args: argparse.Namespace) -> int:
    from themeassist.discover import CandidateDiscovery
    from themeassist.io.tables import write_table

    corpus = _load(args)
    disc = CandidateDiscovery(embedder=_embedder(args), random_state=args.seed,
                              reduce_outliers=not args.keep_outliers).fit(corpus)
    out = Path(args.out)
    write_table(disc.candidate_codes_, out / "candidate_codes.csv")
    write_table(disc.assignments_, out / "assignments.csv")
    disc.save(out / "model")
    print(f"{len(disc.candidate_codes_)} candidate codes for {len(corpus)} rows written to {out}")
    return 0


def _mapper(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from themeassist.codebook import load_codebook
    from themeassist.mapping import ThemeMapper, read_examples

    codebook = load_codebook(args.codebook)
    examples = None
    if args.examples:
        examples = read_examples(args.examples, text_col=args.examples_text_col, codes_col=args.examples_codes_col,
                                 codebook=codebook)
    if args.decisions:
        from themeassist.agreement import read_decisions

        import pandas as pd

        decided = read_decisions(args.decisions, codebook=codebook)
        examples = decided if examples is None else pd.concat([examples, decided], ignore_index=True)
    mapper = ThemeMapper(regime=args.regime, top_k=args.top_k, embedder=_embedder(args), random_state=args.seed)
    return mapper.fit(codebook, examples), codebook


def _redact_names(spec: str) -> list[str]:
    """``--redact-names``: 'a|b|c' or the path of a file with one name per line."""
    if spec and Path(spec).is_file():
        return [line.strip() for line in Path(spec).read_text(encoding="utf-8").splitlines() if line.strip()]
    return [n.strip() for n in spec.replace(",", "|").split("|") if n.strip()]


def _maybe_redact(df, args: argparse.Namespace):  # type: ignore[no-untyped-def]
    if not getattr(args, "redact", False):
        return df
    from themeassist.redact import redact

    out, counts = redact(df, names=_redact_names(args.redact_names), columns=["text"])
    summary = ", ".join(f"{r.kind} {r.n}" for r in counts.itertuples() if r.n) or "nothing found"
    print(f"redacted before export: {summary}", file=sys.stderr)
    return out


def cmd_suggest(args: argparse.Namespace) -> int:
    corpus = _load(args)
    mapper, _ = _mapper(args)

    def review(suggestions):  # type: ignore[no-untyped-def]
        # the coder edits this file: decision = accept / reject / recode, final_codes for recodes
        # keep the text and the input's metadata columns (periods, groups) beside the suggestions
        extra = ["doc_id", "text"] + [c for c in corpus.columns if c not in suggestions.columns
                                      and c not in ("doc_id", "text", "row", "reason", "date", "period")]
        out = suggestions.merge(corpus[extra], on="doc_id", how="left", validate="one_to_one")
        return _maybe_redact(out.assign(decision="", final_codes=""), args)

    if args.engine == "dask":
        from themeassist.io.tables import write_table
        from themeassist.scale import suggest_dask

        out = suggest_dask(mapper, corpus, scheduler=args.scheduler, n_workers=args.workers,
                           partition_size=args.partition_size)
        path = write_table(review(out), args.out)
    else:
        from themeassist.runs import resumable_suggest

        resumable_suggest(mapper, corpus, args.out, run_dir=args.run_dir, chunk_size=args.chunk_size,
                          finalize=review, log=None if args.quiet else (lambda m: print(m, file=sys.stderr)))
        path = Path(args.out)
    print(f"{len(corpus)} rows ({mapper.regime_} regime) written to {path}")
    return 0


def cmd_drift(args: argparse.Namespace) -> int:
    from themeassist.drift import run_drift

    result = run_drift(args.input, period_col=args.period_col, codes_col=args.codes_col, codebook=args.codebook,
                       group_col=args.group_col, out_dir=args.out, date_format=args.date_format,
                       period_freq=args.period_freq)
    print(result.summary if hasattr(result, "summary") else f"drift tables written to {args.out}")
    return 0


def cmd_report(args: argparse.Namespace) -> int:
    from themeassist.report import write_report

    path = write_report(args.run_dir, args.out)
    print(f"report written to {path}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from themeassist.pipeline import run_demo

    result = run_demo(args.out, cache_dir=args.cache_dir, model=args.model, random_state=args.seed,
                      show_progress=not args.quiet)
    print(f"demo written to {args.out} (report: {result.report})")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from themeassist.codebook import codes_to_long, load_codebook
    from themeassist.io.refi import export_qdc, export_qdpx

    codebook = load_codebook(args.codebook)
    if args.format == "qdc":
        path = export_qdc(codebook, args.out)
    else:
        corpus = _load(args)
        corpus = _maybe_redact(corpus, args)
        codings = None
        if args.codes_col:
            if args.codes_col not in corpus.columns:
                raise ThemeassistError(f"export: codes column {args.codes_col!r} not found in {args.input}.")
            codings = codes_to_long(corpus["doc_id"], corpus[args.codes_col], codebook, column=args.codes_col)
        path = export_qdpx(corpus, codings, codebook, args.out, variable_cols=list(args.variable))
    print(f"{args.format} written to {path}")
    return 0


def cmd_import_qda(args: argparse.Namespace) -> int:
    from themeassist.io.refi import import_qdc, import_qdpx
    from themeassist.io.tables import write_table

    if str(args.file).lower().endswith(".qdc"):
        codebook = import_qdc(args.file)
        path = write_table(codebook.to_frame(), args.out)
    else:
        codebook, coded = import_qdpx(args.file)
        path = write_table(coded, args.out)
        if args.codebook_out:
            Path(args.codebook_out).write_text(codebook.to_yaml(), encoding="utf-8")
    print(f"written to {path}")
    return 0


def cmd_build_static(args: argparse.Namespace) -> int:
    from themeassist.models import build_static

    path = build_static(args.out, pca_dims=args.pca_dims)
    print(f"static model written to {path}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The ``themeassist`` argument parser (one subparser per command)."""
    parser = argparse.ArgumentParser(prog="themeassist", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("discover", help="suggest candidate codes with BERTopic")
    _corpus_args(p)
    _common(p)
    p.add_argument("--keep-outliers", action="store_true",
                   help="leave outliers without a candidate code (default: reassign each to its nearest code; "
                        "the original outlier label stays in original_candidate_id)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_discover)

    p = sub.add_parser("suggest", help="suggest codebook themes for every comment")
    _corpus_args(p, period=False)
    _common(p)
    p.add_argument("--codebook", required=True, help="YAML/JSON codebook or a built-in name (iapt)")
    p.add_argument("--examples", default=None, help="already-coded comments (CSV/XLSX)")
    p.add_argument("--examples-text-col", default="text")
    p.add_argument("--examples-codes-col", default="codes", help="theme names joined by '|'")
    p.add_argument("--decisions", default=None, help="a suggestions file edited by a coder (decision column)")
    p.add_argument("--regime", default="auto", choices=["auto", "zero-shot", "few-shot", "supervised"])
    p.add_argument("--top-k", type=int, default=3)
    p.add_argument("--engine", default="local", choices=["local", "dask"])
    p.add_argument("--scheduler", default=None, help="dask.distributed scheduler address (default: LocalCluster)")
    p.add_argument("--workers", type=_positive_int, default=2, help="--engine dask without --scheduler: local worker processes")
    p.add_argument("--partition-size", type=_positive_int, default=20_000, help="--engine dask: comments per partition")
    p.add_argument("--chunk-size", type=int, default=2000,
                   help="comments per chunk; a killed run started again continues from the last finished chunk")
    p.add_argument("--run-dir", default=None, help="folder for the chunks (default: .OUT.run beside OUT)")
    _redact_args(p)
    p.add_argument("--out", required=True, help="OUT.csv or OUT.xlsx")
    p.set_defaults(func=cmd_suggest)

    p = sub.add_parser("drift", help="theme prevalence per period, with intervals and tests for change")
    p.add_argument("input", help="human codes or a suggestions file, with a period column")
    p.add_argument("--period-col", required=True)
    p.add_argument("--codes-col", required=True, help="theme names joined by '|' (or 'suggested')")
    p.add_argument("--codebook", default=None)
    p.add_argument("--group-col", default=None, help="also compare groups (profession, trust, ...)")
    p.add_argument("--period-freq", default=None)
    p.add_argument("--date-format", default=None)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=cmd_drift)

    p = sub.add_parser("report", help="self-contained HTML report of a run folder")
    p.add_argument("run_dir", help="folder written by `themeassist demo` or by discover/suggest/drift")
    p.add_argument("--out", required=True, help="report.html")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("demo", help="the whole job on the built-in IAPT demo corpus")
    _common(p)
    p.add_argument("--out", default="demo-output")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("export", help="export to REFI-QDA (.qdc codebook or .qdpx project)")
    _corpus_args(p)
    p.add_argument("--codebook", required=True)
    p.add_argument("--codes-col", default=None)
    p.add_argument("--variable", action="append", default=[], help="metadata column to export as a variable")
    _redact_args(p)
    p.add_argument("--format", required=True, choices=["qdpx", "qdc"])
    p.add_argument("--out", required=True)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("import-qda", help="read a REFI-QDA .qdpx project (or .qdc codebook)")
    p.add_argument("file")
    p.add_argument("--out", required=True, help="CODED.csv")
    p.add_argument("--codebook-out", default=None, help="also write the project's codebook as YAML")
    p.set_defaults(func=cmd_import_qda)

    models = sub.add_parser("models", help="manage local embedding models").add_subparsers(dest="models_cmd",
                                                                                              required=True)
    p = models.add_parser("build-static", help="distil the static model from the packaged MiniLM (offline)")
    p.add_argument("--out", default="models/minilm-static")
    p.add_argument("--pca-dims", type=int, default=256)
    p.set_defaults(func=cmd_build_static)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``themeassist`` command."""
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except ThemeassistError as exc:
        print(f"themeassist {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except FileNotFoundError as exc:
        print(f"themeassist {args.command}: error: file not found: {exc.filename or exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())

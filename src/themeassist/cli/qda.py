"""``themeassist export`` and ``themeassist import-qda``: exchange with QDA software (REFI-QDA)."""

from __future__ import annotations

import argparse
from typing import Any

from themeassist.cli._common import check_out, codebook_args, corpus_args, input_files, load, maybe_redact, redact_args


def register(sub: Any) -> None:
    p = sub.add_parser("export", help="export to REFI-QDA (.qdc codebook or .qdpx project)")
    corpus_args(p)
    p.add_argument("--codebook", required=True)
    codebook_args(p)
    p.add_argument("--codes-col", default=None)
    p.add_argument("--variable", action="append", default=[], help="metadata column to export as a variable")
    redact_args(p)
    p.add_argument("--format", required=True, choices=["qdpx", "qdc"])
    p.add_argument("--out", required=True)
    p.set_defaults(func=run_export)

    p = sub.add_parser("import-qda", help="read a REFI-QDA .qdpx project (or .qdc codebook)")
    p.add_argument("file")
    p.add_argument("--out", required=True, help="CODED.csv")
    p.add_argument("--codebook-out", default=None, help="also write the project's codebook as YAML")
    p.add_argument("--codebook", default=None, help="the codebook a themeassist export was made with: its codes "
                                                     "get their theme ids back")
    p.set_defaults(func=run_import)


def run_export(args: argparse.Namespace) -> int:
    from themeassist.cli._common import codebook as read_codebook
    from themeassist._schema import check_columns
    from themeassist.cli._common import column_cells
    from themeassist.codebook import codes_to_long
    from themeassist.io.refi import export_qdc, export_qdpx

    check_out(args.out, suffixes=(f".{args.format}",), inputs=input_files(args, "input", "codebook"))
    counts = column_cells(args.input, args.codes_col) if args.codes_col and args.merge_variants else None
    codebook = read_codebook(args, counts)
    if args.format == "qdc":
        path = export_qdc(codebook, args.out)
    else:
        # --redact: the text and every other free-text column (the --variable columns too) are redacted
        corpus = maybe_redact(load(args), args)
        codings = None
        if args.codes_col:
            check_columns(corpus, (args.codes_col,), who=f"export {args.input}", what="input",
                          hint="Pass --codes-col the column that holds the human codes, or leave it out.")
            codings = codes_to_long(corpus["doc_id"], corpus[args.codes_col], codebook, column=args.codes_col)
        path = export_qdpx(corpus, codings, codebook, args.out, variable_cols=list(args.variable))
    print(f"{args.format} written to {path}")
    return 0


def run_import(args: argparse.Namespace) -> int:
    from themeassist.cli._common import codebook as read_codebook
    from themeassist.io.refi import import_qdc, import_qdpx
    from themeassist.io.tables import atomic_write_text, write_table

    check_out(args.out, suffixes=(".csv", ".xlsx", ".parquet"), inputs=[args.file])
    if args.codebook_out:
        check_out(args.codebook_out, suffixes=(".yaml", ".yml"), inputs=[args.file, args.out])
    known = read_codebook(args)
    if str(args.file).lower().endswith(".qdc"):
        codebook = import_qdc(args.file, codebook=known)
        path = write_table(codebook.to_frame(), args.out)
    else:
        codebook, coded = import_qdpx(args.file, codebook=known)
        path = write_table(coded, args.out)
    if args.codebook_out:  # the codebook as YAML, from a project or a codebook file alike
        atomic_write_text(args.codebook_out, codebook.to_yaml())
    print(f"written to {path}" + (f" (codebook: {args.codebook_out})" if args.codebook_out else ""))
    return 0

"""``themeassist drift``: theme prevalence per period, with intervals and tests for change."""

from __future__ import annotations

import argparse
from typing import Any

from themeassist.cli._common import codebook_args


def register(sub: Any) -> None:
    p = sub.add_parser("drift", help="theme prevalence per period, with intervals and tests for change")
    p.add_argument("input", help="human codes or a suggestions file, with a period column")
    p.add_argument("--period-col", required=True)
    p.add_argument("--codes-col", required=True, help="theme names joined by '|' (or 'suggested')")
    p.add_argument("--codebook", default=None)
    codebook_args(p)
    p.add_argument("--group-col", default=None, help="also compare groups (profession, trust, ...)")
    p.add_argument("--period-freq", default=None)
    p.add_argument("--date-format", default=None)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    from themeassist.cli._common import check_out, codebook, column_cells
    from themeassist.workflows import run_drift

    for name in ("prevalence.csv", "changes.csv", "summary.txt"):  # before any work; never over the input
        check_out(Path(args.out) / name, inputs=[args.input])
    counts = column_cells(args.input, args.codes_col) if args.codebook and args.merge_variants else None
    result = run_drift(args.input, period_col=args.period_col, codes_col=args.codes_col,
                       codebook=codebook(args, counts),
                       group_col=args.group_col, out_dir=args.out, date_format=args.date_format,
                       period_freq=args.period_freq)
    print(result.summary if hasattr(result, "summary") else f"drift tables written to {args.out}")
    return 0

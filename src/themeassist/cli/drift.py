"""``themeassist drift``: theme prevalence per period, with intervals and tests for change."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from themeassist.cli._common import codebook_args, period_freq


def register(sub: Any) -> None:
    p = sub.add_parser("drift", help="theme prevalence per period, with intervals and tests for change")
    p.add_argument("input", help="a suggestions file (from `themeassist suggest`) or human codes, with a period column")
    p.add_argument("--period-col", required=True, help="column of periods: years, dates or labels")
    p.add_argument("--period-freq", default=None, type=period_freq,
                   help="for dates: Y, Q, M, W or D (default: chosen from the dates' span, as everywhere)")
    p.add_argument("--date-format", default=None, help="explicit strptime format, e.g. %%d/%%m/%%Y")
    p.add_argument("--codes-col", default=None, help="only for human codes: theme names/paths/ids joined by '|'")
    p.add_argument("--audit", default=None,
                   help="the audit file from `themeassist audit` with the coder's codes: audit-corrected estimates")
    p.add_argument("--method", default="auto", choices=["auto", "ppi", "pacc", "emq", "classify_count", "human"],
                   help="estimator (auto: the default audit-corrected one with --audit; counts otherwise)")
    p.add_argument("--respondent-col", default=None,
                   help="respondent id: a respondent's comments count as one cluster in intervals and tests")
    p.add_argument("--codebook", default=None, help="codebook: YAML/JSON, a CSV/XLSX table, a REFI-QDA .qdc, or a built-in name (needed for suggestions)")
    codebook_args(p)
    p.add_argument("--examples-chosen", action="store_true",
                   help="the coded examples of the suggestions file (example_codes) were picked by hand, not at "
                        "random: they count with their codes, but flags do not treat them as a random sample")
    p.add_argument("--group-col", default=None, help="also compare groups (profession, trust, ...)")
    p.add_argument("--tone", action="store_true", help="also write the tone of each theme's comments (tone.csv)")
    p.add_argument("--text-col", default=None, help="comment text for --tone (default: 'text')")
    p.add_argument("--seed", type=int, default=0, help="random seed of the bootstrap intervals")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


#: --method values that go with --audit (audit-corrected) and those that count codes, without one.
AUDIT_METHODS, COUNT_METHODS = ("auto", "ppi", "pacc", "emq"), ("auto", "classify_count", "human")


def _check_method(args: argparse.Namespace) -> None:
    """Refuse, before any work, a --method that does not go with --audit (or its absence) or the input."""
    from themeassist.exceptions import ParameterError

    both = ("with --audit: auto, ppi, pacc or emq (audit-corrected estimates); without --audit: auto or "
            "classify_count (suggestions counted, not error-corrected), or human (human codes, with --codes-col)")
    if args.audit and args.method not in AUDIT_METHODS:
        raise ParameterError(f"--method {args.method} does not go with --audit {args.audit!r} (it counts codes; it "
                             f"does not correct them with an audit). Methods {both}.")
    if not args.audit and args.method not in COUNT_METHODS:
        raise ParameterError(f"--method {args.method} needs --audit (the audit file from `themeassist audit`, with "
                             f"the coder's codes), and none was passed. Methods {both}.")
    if args.method == "human" and args.codes_col is None:
        raise ParameterError("--method human counts human codes and no --codes-col was passed; pass --codes-col "
                             f"(the column of '|'-joined theme names), or for a suggestions file another method. "
                             f"Methods {both}.")


def run(args: argparse.Namespace) -> int:
    import warnings
    from pathlib import Path

    from themeassist.cli._common import check_out, codebook, column_cells
    from themeassist.workflows import run_drift

    _check_method(args)
    inputs = [args.input] + ([args.audit] if args.audit else [])
    for name in ("prevalence.csv", "changes.csv", "summary.txt"):  # before any work; never over the input
        check_out(Path(args.out) / name, inputs=inputs)
    counts = column_cells(args.input, args.codes_col) if args.codebook and args.merge_variants else None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_drift(args.input, period_col=args.period_col, codes_col=args.codes_col,
                           codebook=codebook(args, counts), group_col=args.group_col, out_dir=args.out,
                           date_format=args.date_format, period_freq=args.period_freq, audit=args.audit,
                           method=args.method, respondent_col=args.respondent_col, tone=args.tone,
                           text_col=args.text_col, random_state=args.seed,
                           examples_random=not args.examples_chosen)
    for w in caught:
        if issubclass(w.category, UserWarning):
            print(f"warning: {w.message}", file=sys.stderr)
    print(result.summary)
    print(f"drift tables written to {args.out}")
    return 0

"""``themeassist discover``: candidate codes with BERTopic."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from themeassist.cli._common import check_out, common, corpus_args, embedder, input_files, load, maybe_redact, redact_args


def register(sub: Any) -> None:
    p = sub.add_parser("discover", help="suggest candidate codes with BERTopic")
    corpus_args(p)
    common(p)
    p.add_argument("--keep-outliers", action="store_true",
                   help="leave outliers without a candidate code (default: reassign each to its nearest code; "
                        "the original outlier label stays in original_candidate_id)")
    p.add_argument("--min-label-docs", type=int, default=3,
                   help="a keyword must occur in at least this many comments to name a candidate code")
    redact_args(p)
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from themeassist.discovery import CandidateDiscovery, light_bertopic_import
    from themeassist.io.tables import write_table

    light_bertopic_import()  # BERTopic without the embedding stack it does not use

    out = Path(args.out)
    inputs = input_files(args, "input")
    for name in ("candidate_codes.csv", "assignments.csv", "candidate_periods.csv", "new_candidates.csv"):
        check_out(out / name, inputs=inputs)
    CandidateDiscovery.check_save_target(out / "model")
    # under --redact the comments are redacted before discovery: quotes, keywords, labels and the saved
    # vocabulary come from the redacted text, and no embedding cache is written
    corpus = maybe_redact(load(args), args)
    disc = CandidateDiscovery(embedder=embedder(args), random_state=args.seed, show_progress=not args.quiet,
                              reduce_outliers=not args.keep_outliers, min_label_docs=args.min_label_docs).fit(corpus)
    assignments = disc.assignments_
    periods = None
    if args.period_col:  # the drift of discovery: each candidate code per period, and the codes new in one
        from themeassist.drift import candidate_periods

        assignments = assignments.assign(period=corpus["period"].to_numpy())
        periods = candidate_periods(assignments, "period", candidates=disc.candidate_codes_)
    write_table(disc.candidate_codes_, out / "candidate_codes.csv")
    write_table(assignments, out / "assignments.csv")
    if periods is not None:
        write_table(periods, out / "candidate_periods.csv")
        write_table(periods[periods["new_in_period"]], out / "new_candidates.csv")
    disc.save(out / "model")
    how = assignments["assigned_by"].astype(str)
    moved, apart = int((how == "reassigned").sum()), int(assignments["is_outlier"].astype(bool).sum())
    outliers = (f"{apart} outliers in no code" if apart else
                f"{moved} outliers given their nearest code (--keep-outliers keeps them apart)")
    print(f"{len(disc.candidate_codes_)} candidate codes for {len(corpus)} rows written to {out}; {outliers}"
          + (f" (per period: candidate_periods.csv; {int(periods['new_in_period'].sum())} new in a period: "
             "new_candidates.csv)" if periods is not None else ""))
    return 0

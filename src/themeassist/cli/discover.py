"""``themeassist discover``: candidate codes with BERTopic."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from themeassist.cli._common import common, corpus_args, embedder, load


def register(sub: Any) -> None:
    p = sub.add_parser("discover", help="suggest candidate codes with BERTopic")
    corpus_args(p)
    common(p)
    p.add_argument("--keep-outliers", action="store_true",
                   help="leave outliers without a candidate code (default: reassign each to its nearest code; "
                        "the original outlier label stays in original_candidate_id)")
    p.add_argument("--out", required=True, help="output folder")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from themeassist.discovery import CandidateDiscovery
    from themeassist.io.tables import write_table

    corpus = load(args)
    disc = CandidateDiscovery(embedder=embedder(args), random_state=args.seed,
                              reduce_outliers=not args.keep_outliers).fit(corpus)
    out = Path(args.out)
    write_table(disc.candidate_codes_, out / "candidate_codes.csv")
    write_table(disc.assignments_, out / "assignments.csv")
    disc.save(out / "model")
    print(f"{len(disc.candidate_codes_)} candidate codes for {len(corpus)} rows written to {out}")
    return 0

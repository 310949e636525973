"""``themeassist demo``: the whole job on the built-in IAPT demo corpus."""

from __future__ import annotations

import argparse
from typing import Any

from themeassist.cli._common import common, redact_args, redact_names


def register(sub: Any) -> None:
    p = sub.add_parser("demo", help="the whole job on the built-in IAPT demo corpus")
    common(p)
    p.add_argument("--out", default="demo-output")
    redact_args(p, cols=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from themeassist.workflows import run_demo

    result = run_demo(args.out, cache_dir=False if args.redact else args.cache_dir, model=args.model,
                      random_state=args.seed, show_progress=not args.quiet, redact=args.redact,
                      redact_names=redact_names(args.redact_names))
    print(f"demo written to {args.out} (report: {result.report})")
    return 0

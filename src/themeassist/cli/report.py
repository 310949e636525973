"""``themeassist report``: a self-contained HTML report of a run folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from themeassist.cli._common import check_out, redact_args, redact_names


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="self-contained HTML report of a run folder")
    p.add_argument("run_dir", help="folder written by `themeassist demo`, `discover --out` or `drift --out` (a suggestions file is reported through `drift`)")
    p.add_argument("--out", required=True, help="report.html")
    redact_args(p, cols=False)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from themeassist.report import write_report

    run_dir = Path(args.run_dir)
    check_out(args.out,
              inputs=[p for p in run_dir.rglob("*") if p.is_file()] if run_dir.is_dir() else [])
    if Path(args.out).suffix.lower() not in (".html", ".htm"):  # after the checks above: a device is named as one
        from themeassist.exceptions import OutputError

        raise OutputError(f"output {args.out!r}: a report is an HTML page; pass a path ending in .html "
                          f"(e.g. {str(Path(args.out).with_suffix('.html'))!r}).")
    path = write_report(args.run_dir, args.out, redact=args.redact, redact_names=redact_names(args.redact_names))
    print(f"report written to {path}")
    return 0

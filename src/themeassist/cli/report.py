"""``themeassist report``: a self-contained HTML report of a run folder."""

from __future__ import annotations

import argparse
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("report", help="self-contained HTML report of a run folder")
    p.add_argument("run_dir", help="folder written by `themeassist demo` or by discover/suggest/drift")
    p.add_argument("--out", required=True, help="report.html")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from themeassist.report import write_report

    path = write_report(args.run_dir, args.out)
    print(f"report written to {path}")
    return 0

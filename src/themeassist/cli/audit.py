"""``themeassist audit``: a random sample of comments per period for a coder to check."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from themeassist.cli._common import period_freq, positive_int


def register(sub: Any) -> None:
    p = sub.add_parser("audit", help="draw a random audit sample per period for a coder to check")
    p.add_argument("input", help="the suggestions file written by `themeassist suggest`")
    p.add_argument("--period-col", required=True, help="column of periods: years, dates or labels")
    p.add_argument("--period-freq", default=None, type=period_freq,
                   help="for dates: Y, Q, M, W or D (use the same as for drift)")
    p.add_argument("--date-format", default=None, help="explicit strptime format, e.g. %%d/%%m/%%Y")
    p.add_argument("--per-period", type=positive_int, default=None, help="comments to draw per period")
    p.add_argument("--half-width", type=float, default=None,
                   help="instead of --per-period: report how many comments should give intervals of about this "
                        "half-width, e.g. 0.05 for 5 points, if the scores are calibrated (a power calculation from "
                        "the scores; the audit-only size is printed beside it), and draw the largest in every period")
    p.add_argument("--periods", default=None, help="only these periods, joined by '|' (e.g. those not coded by hand)")
    p.add_argument("--text-col", default="text")
    p.add_argument("--seed", type=int, default=0, help="random seed (the same seed draws the same sample)")
    p.add_argument("--out", required=True, help="AUDIT.csv or .xlsx: the coder fills its 'codes' column")
    p.add_argument("--overwrite", action="store_true",
                   help="replace an existing --out even when its 'codes' column holds a coder's codes")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import pandas as pd

    from themeassist._schema import USABLE_STATUSES
    from themeassist.cli._common import check_out, keep_coder_work
    from themeassist.drift import audit_size, draw_audit, known_codes, read_period_column
    from themeassist.exceptions import ThemeassistError
    from themeassist.io.tables import write_table
    from themeassist.workflows.drift import read_input

    check_out(args.out, suffixes=(".csv", ".xlsx", ".parquet"), inputs=[args.input])  # before any work
    keep_coder_work(args.out, ["codes"], overwrite=args.overwrite)
    df = read_input(args.input, owner="audit").reset_index(drop=True)
    per_period = args.per_period
    if per_period is None:
        if args.half_width is None:
            raise ThemeassistError("give --per-period N (comments per period) or --half-width H (e.g. 0.05).")
        scores = df[[c for c in df.columns if str(c).startswith("score:")]]
        if scores.shape[1] == 0:
            raise ThemeassistError("--half-width needs the 'score:<theme_id>' columns of a suggestions file; give "
                                   "--per-period instead.")
        period, _ = read_period_column(df, args.period_col, period_freq=args.period_freq,
                                       date_format=args.date_format, owner="audit")
        ok = period.notna().to_numpy()
        if "status" in df.columns:  # only comments that can be drawn count (suggest scores no non-answer)
            ok &= df["status"].astype(str).isin(USABLE_STATUSES).to_numpy()
        ok &= (known_codes(df) == "").to_numpy()  # coded examples are never drawn (a conservative size)
        size = audit_size(scores.apply(pd.to_numeric, errors="coerce").fillna(0)[ok], period=period[ok],
                          half_width=args.half_width)
        need = size.attrs["n_per_period"]
        alone = size.groupby("period", sort=False)["n_needed_without_scores"].max()
        per_period = int(max(need.values())) if need else 1
        print(f"comments to check per period for a half-width of {args.half_width:g} if the scores are calibrated: "
              + ", ".join(f"{p}: {n}" for p, n in need.items()) + " (the audit alone, without the scores' help: "
              + ", ".join(f"{p}: {int(n)}" for p, n in alone.items()) + f"); drawing {per_period} in every period. "
              "Scores that are not calibrated give wider intervals: drift --audit reports the half-widths reached; "
              "draw more with --per-period if they are too wide.", file=sys.stderr)
    periods = None if args.periods is None else [p.strip() for p in args.periods.split("|") if p.strip()]
    sample = draw_audit(df, period_col=args.period_col, per_period=per_period, seed=args.seed,
                        period_freq=args.period_freq, date_format=args.date_format, text_col=args.text_col,
                        periods=periods)
    path = write_table(sample, args.out)
    counts = pd.Series(sample.attrs["periods"], dtype=object).value_counts(sort=False)
    short = [p for p, n in counts.items() if n < per_period]
    print(f"{len(sample)} comments to check written to {path} ("
          + ", ".join(f"{p}: {int(n)}" for p, n in counts.items()) + "); write theme names, paths or ids joined "
          "by '|' in 'codes', or 'none'; leave a row blank if not checked."
          + (f" {', '.join(map(str, short))} {'has' if len(short) == 1 else 'have'} fewer than {per_period} comments "
             "that can be drawn: all of them are (inclusion probability 1)." if short else "")
          + (f" {sample.attrs['n_known']} coded examples (example_codes) were not drawn: their codes are known, and "
             "drift --audit counts them." if sample.attrs.get("n_known") else ""))
    return 0

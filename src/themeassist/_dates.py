"""Reading a period column: year numbers, labels, or dates turned into period labels.

Dates written ``a/b/yyyy`` are ambiguous (3 April or 4 March?). The order is never
guessed silently: it is *proved* by values whose first or second field is above 12,
separately for each contiguous *source block* (a run of rows with the same block key,
e.g. the same trust and id prefix), and each ambiguous date takes the order proved by
its nearest neighbours in its block. Dates whose order cannot be proved get no period,
and every such row and every block written in a minority order is reported.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from typing import Any, Hashable, Sequence

import numpy as np
import pandas as pd

FREQS = ("Y", "Q", "M", "W", "D")
_ORDER_NAMES = {"dmy": "day-first (d/m/Y)", "mdy": "month-first (m/d/Y)"}
_NUMERIC = re.compile(
    r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{4}|\d{2})"
    r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp][Mm])?)?"
)
_ISO = re.compile(r"(\d{4})([-/.])(\d{1,2})\2(\d{1,2})(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?.*)?")
_MONTH_WORD = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\b", re.I)
_YEAR = re.compile(r"\d{4}(\.0)?")


@dataclass
class PeriodResult:
    """What :func:`read_periods` found (lists are in row order)."""

    period: list[str | None]
    date: pd.Series
    reasons: dict[int, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    blocks: list[dict[str, Any]] = field(default_factory=list)
    kind: str = "label"  # "date", "year" or "label"
    freq: str | None = None
    alt: dict[int, tuple[pd.Timestamp, pd.Timestamp]] = field(default_factory=dict)
    n_between: int = 0


def period_label(ts: pd.Timestamp, freq: str) -> str:
    """Label of the period holding ``ts``: '2014', '2021Q3', '2021-03', '2021-W09', '2021-03-05'."""
    if freq == "Y":
        return f"{ts.year}"
    if freq == "Q":
        return f"{ts.year}Q{ts.quarter}"
    if freq == "M":
        return f"{ts.year}-{ts.month:02d}"
    if freq == "W":
        iso = ts.isocalendar()
        return f"{iso[0]}-W{iso[1]:02d}"
    return ts.strftime("%Y-%m-%d")


def auto_freq(dates: pd.Series) -> str:
    """'Y' when the dates span more than 3 years, 'Q' for more than 1 year, else 'M'."""
    d = dates.dropna()
    if d.empty:
        return "Q"
    span = (d.max() - d.min()).days
    return "Y" if span > 3 * 366 else "Q" if span > 366 else "M"


def row_ranges(rows: Sequence[int], limit: int = 12, *, offset: int = 1) -> str:
    """'3, 7, 10–14' style list of row numbers, shortened after ``limit`` items.

    ``rows`` are 0-based positions; each number printed is the position plus ``offset``, so by
    default a message counts data rows from 1 (pass ``offset=0`` for numbers already 1-based,
    such as file lines).

    Examples
    --------
    >>> row_ranges([2, 6, 9, 10, 11, 12, 13])
    '3, 7, 10–14'
    >>> row_ranges([3, 7, 10, 11], offset=0)
    '3, 7, 10–11'
    """
    rows = sorted(int(r) + offset for r in rows)
    parts: list[str] = []
    i = 0
    while i < len(rows) and len(parts) < limit:
        j = i
        while j + 1 < len(rows) and rows[j + 1] == rows[j] + 1:
            j += 1
        parts.append(str(rows[i]) if j == i else f"{rows[i]}–{rows[j]}")
        i = j + 1
    more = f" and {len(rows) - i} more" if i < len(rows) else ""
    return ", ".join(parts) + more


def _year(y: str) -> int:
    n = int(y)
    return n if len(y) == 4 else (2000 + n if n < 69 else 1900 + n)


def _make(y: int, m: int, d: int, time: tuple[str | None, ...] = ()) -> pd.Timestamp | None:
    hh, mm, ss, ampm = (list(time) + [None] * 4)[:4]
    try:
        h = int(hh or 0)
        if ampm:
            h = h % 12 + (12 if ampm.lower() == "pm" else 0)
        return pd.Timestamp(dt.datetime(y, m, d, h, int(mm or 0), int(ss or 0)))
    except ValueError:
        return None


def _parse_other(s: str) -> pd.Timestamp | None:
    """ISO dates and dates with month names; None when ``s`` is not such a date."""
    m = _ISO.fullmatch(s)
    if m:
        return _make(int(m[1]), int(m[3]), int(m[4]), (m[5], m[6], m[7]))
    if _MONTH_WORD.search(s) and re.search(r"\b\d{4}\b", s):  # 'Mar-21' stays a label
        from dateutil import parser

        try:
            return pd.Timestamp(parser.parse(s, default=dt.datetime(2000, 1, 1)))
        except (ValueError, OverflowError):
            return None
    return None


def _to_ts(v: Any) -> pd.Timestamp:
    ts = pd.Timestamp(v)
    return ts.tz_localize(None) if ts.tzinfo is not None else ts


def read_periods(
    values: pd.Series,
    *,
    column: str,
    freq: str | None = None,
    date_format: str | None = None,
    dayfirst: bool | None = None,
    block_keys: Sequence[Hashable] | None = None,
) -> PeriodResult:
    """Turn one period column into labels (and dates), reporting every row it cannot read.

    Public as :func:`themeassist.corpus.read_periods` (the reader :func:`load_corpus` uses).

    Parameters
    ----------
    values : Series
        The column's cells: years, labels or dates.
    column : str
        Its name, for the messages.
    freq : {"Y", "Q", "M", "W", "D"}, optional
        Period length for dates (default: chosen from the span of the dates).
    date_format, dayfirst : optional
        A strptime format, or the day/month order, when the data cannot prove it.
    block_keys : sequence, optional
        One key per row: the day/month order is proved separately within each run of equal keys.

    Returns
    -------
    PeriodResult
        ``period`` (labels, None where unreadable), the dates, the reasons and ``warnings``.

    Examples
    --------
    >>> from themeassist.corpus import read_periods
    >>> read_periods(pd.Series(["03/01/2021", "25/03/2022", ""]), column="when", freq="Y").period
    ['2021', '2022', None]
    """
    n = len(values)
    vals = list(values.astype(object))
    is_missing = [v is None or (v.strip() == "" if isinstance(v, str) else pd.isna(v)) for v in vals]
    missing = [i for i in range(n) if is_missing[i]]
    present = [i for i in range(n) if not is_missing[i]]
    res = PeriodResult(period=[None] * n, date=pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns]"))
    for i in missing:
        res.reasons[i] = f"no value in period column {column!r}"
    if missing:
        res.warnings.append(
            f"load_corpus: period column {column!r} is empty in {len(missing)} rows "
            f"(rows {row_ranges(missing)}); they have no period."
        )
    if not present:
        return res

    numeric_dtype = pd.api.types.is_numeric_dtype(values.dtype) and not pd.api.types.is_bool_dtype(values.dtype)
    if date_format is None and numeric_dtype:
        nums = [float(vals[i]) for i in present]
        res.kind = "year" if all(x.is_integer() and 1000 <= x <= 2999 for x in nums) else "label"
        for i, x in zip(present, nums):
            res.period[i] = str(int(x)) if x.is_integer() else str(x)
        return res

    dates, numeric, bad = _parse_values(vals, present, date_format)
    if date_format is None and len(dates) + len(numeric) < 0.5 * len(present):
        texts = {i: str(vals[i]).strip() for i in present}
        res.kind = "year" if all(_YEAR.fullmatch(t) for t in texts.values()) else "label"
        for i, t in texts.items():
            res.period[i] = re.sub(r"\.0$", "", t) if res.kind == "year" else t
        return res

    res.kind = "date"
    if date_format is None:
        bad = {i: f"period value {s!r} is not a date" for i, s in bad.items()}
    if numeric:
        _resolve_numeric(numeric, dates, bad, res, column, dayfirst, block_keys, n)
    _drop_out_of_range(dates, bad, res, vals)
    _label_dates(res, dates, bad, n, column, freq)
    return res


def _parse_values(vals: list[Any], present: list[int], date_format: str | None,
                  ) -> tuple[dict[int, pd.Timestamp], dict[int, re.Match[str]], dict[int, str]]:  # fmt: skip
    """Each present value read as a date, as an 'a/b/y' date to resolve, or not read (its text,
    or with ``date_format`` the reason)."""
    dates: dict[int, pd.Timestamp] = {}
    numeric: dict[int, re.Match[str]] = {}
    bad: dict[int, str] = {}
    for i in present:
        v = vals[i]
        if isinstance(v, (dt.date, pd.Timestamp, np.datetime64)):
            dates[i] = _to_ts(v)
            continue
        s = str(v).strip()
        if date_format is not None:
            try:
                dates[i] = pd.Timestamp(dt.datetime.strptime(s, date_format))
            except ValueError:
                bad[i] = f"period value {s!r} does not match date_format {date_format!r}"
            continue
        m = _NUMERIC.fullmatch(s)
        if m:
            numeric[i] = m
            continue
        ts = _parse_other(s)
        if ts is not None:
            dates[i] = ts
        else:
            bad[i] = s
    return dates, numeric, bad


def _label_dates(res: PeriodResult, dates: dict[int, pd.Timestamp], bad: dict[int, str], n: int, column: str,
                 freq: str | None) -> None:  # fmt: skip
    """Fill ``res`` from the dates read: the dates, the frequency, each row's period label (a date
    of unknown day/month order keeps the period both readings share), reasons and warnings."""
    res.date = pd.Series([dates.get(i, pd.NaT) for i in range(n)], dtype="datetime64[ns]")
    res.freq = freq or auto_freq(res.date)
    for i, ts in dates.items():
        res.period[i] = period_label(ts, res.freq)
    kept = 0
    for i, (first, second) in res.alt.items():
        a, b = period_label(first, res.freq), period_label(second, res.freq)
        if a == b:
            res.period[i], kept = a, kept + 1
            res.reasons[i] += f"; both readings fall in {a}, so the period is kept"
    if res.alt:
        res.warnings.append(
            f"load_corpus: the day/month order of {len(res.alt)} dates in period column {column!r} "
            f"cannot be worked out (rows {row_ranges(list(res.alt))}"
            + (f"; {res.n_between} lie between day-first and month-first rows" if res.n_between else "")
            + f"); {len(res.alt) - kept} have no period"
            + (f" and {kept} keep one that both readings share" if kept else "")
            + ". Pass dayfirst=, date_format= or a group_col= that separates the blocks."
        )
    for i, why in bad.items():
        res.reasons[i] = why
    if bad:
        first = next(iter(bad.values()))
        res.warnings.append(
            f"load_corpus: {len(bad)} values in period column {column!r} could not be read as dates "
            f"(rows {row_ranges(list(bad))}; e.g. {first}); they have no period."
        )


#: Dates a period column may hold (what pandas' nanosecond timestamps can represent).
_LOW, _HIGH = pd.Timestamp.min.ceil("D"), pd.Timestamp.max.floor("D")


def _drop_out_of_range(dates: dict[int, pd.Timestamp], bad: dict[int, str], res: PeriodResult,
                       vals: list[Any]) -> None:  # fmt: skip
    """Dates before 1677-09-22 or after 2262-04-11 (year 9999, year 0001) get no period, with a reason."""
    def fits(ts: pd.Timestamp) -> bool:
        return bool(_LOW <= ts <= _HIGH)

    for i, ts in list(dates.items()):
        if not fits(ts):
            del dates[i]
            bad[i] = (f"period value {str(vals[i]).strip()!r} is outside the dates themeassist can hold "
                      f"({_LOW.date()} to {_HIGH.date()}); check it")  # fmt: skip
    for i, (a, b) in list(res.alt.items()):
        if not (fits(a) and fits(b)):
            del res.alt[i]
            dates.pop(i, None)
            bad[i] = f"period value {str(vals[i]).strip()!r} is outside the dates themeassist can hold; check it"


def _orders_by_block(rows: list[int], proof: dict[int, str | None],
                     keys: list[Hashable]) -> tuple[dict[int, str | None], dict[int, str]]:  # fmt: skip
    """The day/month order of each 'a/b/y' date, read from the dates that prove an order: in each
    contiguous run of rows with the same block key, an ambiguous date takes the order of its proven
    neighbours (none when they disagree: "between"), else the only order its key (or the column)
    shows. Returns the orders and how each ambiguous one was decided."""
    order: dict[int, str | None] = {}
    how: dict[int, str] = {}
    by_key: dict[Hashable, set[str]] = {}
    for i in rows:
        if proof[i]:
            by_key.setdefault(keys[i], set()).add(proof[i])  # type: ignore[arg-type]
    col_orders = set().union(*by_key.values()) if by_key else set()
    start = 0
    while start < len(rows):  # one contiguous run of rows with the same key at a time
        end = start
        while end + 1 < len(rows) and keys[rows[end + 1]] == keys[rows[start]]:
            end += 1
        run = rows[start : end + 1]
        prev: list[str | None] = []
        last = None
        for i in run:
            last = proof[i] or last
            prev.append(last)
        nxt: list[str | None] = []
        last = None
        for i in reversed(run):
            last = proof[i] or last
            nxt.append(last)
        nxt.reverse()
        key_orders = by_key.get(keys[run[0]], set())
        for i, p, q in zip(run, prev, nxt):
            if proof[i]:
                order[i] = proof[i]
            elif p and q:
                order[i] = p if p == q else None
                how[i] = "neighbours" if p == q else "between"
            elif p or q:
                order[i], how[i] = p or q, "neighbours"
            elif len(key_orders) == 1 or (not key_orders and len(col_orders) == 1):
                order[i], how[i] = next(iter(key_orders or col_orders)), "key"
            else:
                order[i], how[i] = None, "none"
        start = end + 1
    return order, how


def _resolve_numeric(
    numeric: dict[int, re.Match[str]],
    dates: dict[int, pd.Timestamp],
    bad: dict[int, str],
    res: PeriodResult,
    column: str,
    dayfirst: bool | None,
    block_keys: Sequence[Hashable] | None,
    n: int,
) -> None:
    """Read 'a/b/y' dates: work out day/month order per block, fill ``dates`` and ``bad``."""
    rows = sorted(numeric)
    a = {i: int(numeric[i][1]) for i in rows}
    b = {i: int(numeric[i][3]) for i in rows}
    proof: dict[int, str | None] = {}
    for i in rows:
        if a[i] > 12 and b[i] > 12 or a[i] == 0 or b[i] == 0:
            bad[i] = f"period value {numeric[i][0]!r} is not a date in either day/month order"
        elif a[i] > 12 or b[i] > 12:
            proof[i] = "dmy" if a[i] > 12 else "mdy"
        else:
            proof[i] = None  # ambiguous (or day == month: same date either way)
    rows = [i for i in rows if i in proof]
    order: dict[int, str | None] = {}
    how: dict[int, str] = {}
    if dayfirst is not None:
        order = {i: "dmy" if dayfirst else "mdy" for i in rows}
    else:
        order, how = _orders_by_block(rows, proof, list(block_keys) if block_keys is not None else [None] * n)
    unresolved: list[int] = []
    for i in rows:
        m, o = numeric[i], order[i]
        y, time = _year(m[4]), (m[5], m[6], m[7], m[8])
        if o is None and a[i] == b[i]:
            o = "dmy"  # same date in either order
        elif o is None:
            first, second = (_make(y, b[i], a[i], time), _make(y, a[i], b[i], time))
            res.alt[i] = (first, second)  # type: ignore[assignment]
            unresolved.append(i)
            res.reasons[i] = (
                f"day/month order unknown for period value {m[0]!r} "
                f"({first:%d %b %Y} or {second:%d %b %Y})"
            )
            continue
        day, month = (a[i], b[i]) if o == "dmy" else (b[i], a[i])
        ts = _make(y, month, day, time)
        if ts is None:
            bad[i] = f"period value {m[0]!r} is not a valid {_ORDER_NAMES[o]} date"
        else:
            dates[i] = ts
    _report_blocks(rows, order, proof, how, numeric, block_keys, res, column, dayfirst)
    res.n_between = sum(how.get(i) == "between" for i in unresolved)


def _report_blocks(
    rows: list[int],
    order: dict[int, str | None],
    proof: dict[int, str | None],
    how: dict[int, str],
    numeric: dict[int, re.Match[str]],
    block_keys: Sequence[Hashable] | None,
    res: PeriodResult,
    column: str,
    dayfirst: bool | None,
) -> None:
    """Describe the runs of rows read in one day/month order; warn when the column mixes orders."""
    blocks: list[dict[str, Any]] = []
    for i in rows:
        o = order[i]
        if o is None:
            continue
        if blocks and blocks[-1]["order"] == o:
            blk = blocks[-1]
        else:
            blk = {"order": o, "first_row": i, "last_row": i, "n_rows": 0, "n_proved": 0, "n_inferred": 0,
                   "example": None, "key": None if block_keys is None else block_keys[i]}
            blocks.append(blk)
        blk["last_row"] = i
        blk["n_rows"] += 1
        if proof[i]:
            blk["n_proved"] += 1
            blk["example"] = blk["example"] or (i, numeric[i][0])
        elif how.get(i) and int(numeric[i][1]) != int(numeric[i][3]):
            blk["n_inferred"] += 1
    res.blocks = blocks
    from_key = [i for i in rows if how.get(i) == "key" and int(numeric[i][1]) != int(numeric[i][3])]
    if from_key:
        res.warnings.append(
            f"load_corpus: {len(from_key)} dates in period column {column!r} (rows {row_ranges(from_key)}) lie "
            "in blocks where no date proves the day/month order; they were read in the order proved by "
            "other blocks with the same group and id prefix. Check them, or pass dayfirst=."
        )
    totals = {o: sum(b["n_rows"] for b in blocks if b["order"] == o) for o in ("dmy", "mdy")}
    if dayfirst is not None or min(totals.values()) == 0:
        return
    main = max(totals, key=totals.get)  # type: ignore[arg-type]
    minority = [b for b in blocks if b["order"] != main]
    def rows_of(b: dict) -> str:
        return (f"row {b['first_row'] + 1}" if b["first_row"] == b["last_row"] else
                f"rows {b['first_row'] + 1}–{b['last_row'] + 1}")

    for b in minority:
        span = rows_of(b)
        for i in rows:
            if b["first_row"] <= i <= b["last_row"] and order[i] == b["order"]:
                res.reasons[i] = (
                    f"period value {numeric[i][0]!r} read {_ORDER_NAMES[b['order']]} like its block ({span})"
                )
    desc = "; ".join(
        f"{rows_of(b)} ({b['n_rows']} {'row' if b['n_rows'] == 1 else 'rows'}"
        + (f", block {b['key']!r}" if b["key"] not in (None, "") else "")
        + (f", e.g. row {b['example'][0] + 1} {b['example'][1]!r}" if b["example"] else "")
        + ")"
        for b in minority[:8]
    )
    more = f" and {len(minority) - 8} more blocks" if len(minority) > 8 else ""
    other = "mdy" if main == "dmy" else "dmy"
    res.warnings.append(
        f"load_corpus: period column {column!r} mixes day/month orders: {totals[main]} dates are "
        f"{_ORDER_NAMES[main]} but {totals[other]} in {len(minority)} block{'s' if len(minority) != 1 else ''} "
        f"{'are' if totals[other] != 1 else 'is'} {_ORDER_NAMES[other]} "
        f"and were read that way: {desc}{more}. Check these rows; "
        "corpus.attrs['date_blocks'] lists every block."
    )

"""A CSV reader that accounts for every line: the records, where each starts, and broken quotes.

:func:`parse_csv` reads decoded text with Python's :mod:`csv` module (any delimiter) and returns
the header and rows, checked:

* a field whose opening quote is never closed (it runs to the end of the file), and a quoted
  field that swallows lines looking like rows of their own (the shape of the file's other rows),
  are errors that name the line where the quote opens: silently merging rows would attach one
  respondent's words to another's id;
* a row with more fields than the header is an error naming the line (empty trailing fields, as
  spreadsheets write them, are dropped); one with fewer is padded with empty fields (warned);
* in a one-column file an empty line is an empty answer (a row), not a blank line to skip; in a
  wider file a blank line is skipped and reported;
* duplicated or empty header names become ``name.1`` / ``Unnamed: k`` (as pandas does).

It is linear in the size of the file, whatever the number of columns. :func:`sniff_delimiter`
picks the delimiter when none is given (a header that no candidate splits is a one-column file).
"""

from __future__ import annotations

import csv
import io
import re
import sys
from collections import Counter
from typing import Iterator

from themeassist.exceptions import CorpusError

_LETTERS = re.compile(r"[^\W\d_]+")
_DIGITS = re.compile(r"\d+")


class _Lines:
    """Iterate the physical lines of ``text`` (\\n, \\r\\n or \\r), keeping them for error reports."""

    def __init__(self, text: str) -> None:
        self.lines: list[str] = []
        self._it = iter(io.StringIO(text, newline=""))

    def __iter__(self) -> Iterator[str]:
        for line in self._it:
            self.lines.append(line)
            yield line


def _shape(value: str) -> str:
    return _DIGITS.sub("9", _LETTERS.sub("a", value.strip()))[:12]


def _rows_text(lines: list[int], n: int = 8) -> str:
    shown = ", ".join(map(str, lines[:n]))
    return shown + (f" and {len(lines) - n} more" if len(lines) > n else "")


def _header(raw: list[str]) -> list[str]:
    names: list[str] = []
    used: set[str] = set()
    nxt: Counter[str] = Counter()
    for k, h in enumerate(raw):
        h = h if h.strip() else f"Unnamed: {k}"
        if h in used:
            base, j = h, max(nxt[h], 1)
            while f"{base}.{j}" in used:
                j += 1
            nxt[base] = j + 1
            h = f"{base}.{j}"
        used.add(h)
        names.append(h)
    return names


def parse_csv(text: str, sep: str, name: str) -> tuple[list[str], list[list[str | None]], list[str]]:
    """``(header, rows, warnings)`` of a delimited text; empty fields are None. See the module docstring."""
    limit = csv.field_size_limit()
    csv.field_size_limit(min(sys.maxsize, 2**31 - 1))
    try:
        return _parse(text, sep, name)
    finally:
        csv.field_size_limit(limit)


def _parse(text: str, sep: str, name: str) -> tuple[list[str], list[list[str | None]], list[str]]:
    src = _Lines(text)
    reader = csv.reader(src, delimiter=sep)
    notes: list[str] = []
    try:
        raw_header = next(reader)
    except StopIteration:
        raise CorpusError(f"load_corpus: file {name} is empty (no header line).") from None
    except csv.Error as e:
        raise CorpusError(f"load_corpus: {name} line 1 cannot be read as CSV ({e}).") from e
    header = _header(raw_header)
    ncols = len(header)
    rows: list[list[str | None]] = []
    starts: list[int] = []
    multi: list[tuple[int, int, int]] = []  # (row index, first line, last line) of records over several lines
    blank: list[int] = []
    short: list[int] = []
    prev = reader.line_num
    try:
        for rec in reader:
            first, last = prev + 1, reader.line_num
            prev = last
            if not rec:
                if ncols == 1:
                    rows.append([None])
                    starts.append(first)
                else:
                    blank.append(first)
                continue
            if len(rec) > ncols:
                if last > first and any(v.strip() for v in rec[ncols:]):
                    raise CorpusError(
                        f"load_corpus: {name} line {first}: a quoted field opens here and runs over "
                        f"{last - first + 1} lines (to line {last}), where the record ends with {len(rec)} fields "
                        f"for a header of {ncols}; a quote in the text on line {first} is probably not closed. "
                        'Close it, or write a quote inside a quoted field as two quotes ("").'
                    )
                if any(v.strip() for v in rec[ncols:]):
                    raise CorpusError(
                        f"load_corpus: could not parse {name} as CSV with delimiter {sep!r}: line {first} has "
                        f"{len(rec)} fields but the header has {ncols}. Quote fields that contain the delimiter, "
                        "or pass delimiter=."
                    )
                rec = rec[:ncols]
            elif len(rec) < ncols:
                short.append(first)
                rec = rec + [""] * (ncols - len(rec))
            if last > first:
                multi.append((len(rows), first, last))
            rows.append([v if v != "" else None for v in rec])
            starts.append(first)
    except csv.Error as e:
        raise CorpusError(f"load_corpus: {name} line {prev + 1} cannot be read as CSV ({e}).") from e
    # empty lines at the very end of a one-column file are not answers
    while ncols == 1 and rows and rows[-1] == [None] and starts[-1] > len(src.lines) - _trailing_blank(src.lines):
        rows.pop()
        starts.pop()
    _check_quotes(src.lines, rows, multi, sep, ncols, name)
    if blank:
        notes.append(f"load_corpus: {name} has {len(blank)} blank line(s) (file lines {_rows_text(blank)}); "
                     "they hold no row and were skipped.")  # fmt: skip
    if short:
        notes.append(f"load_corpus: {name}: {len(short)} row(s) have fewer fields than the header (file lines "
                     f"{_rows_text(short)}); the missing fields are empty.")  # fmt: skip
    return header, rows, notes


def _trailing_blank(lines: list[str]) -> int:
    k = 0
    for line in reversed(lines):
        if line.strip("\r\n"):
            break
        k += 1
    return k


def _check_quotes(lines: list[str], rows: list[list[str | None]], multi: list[tuple[int, int, int]], sep: str,
                  ncols: int, name: str) -> None:  # fmt: skip
    """Fail on a quote never closed, and on a quoted field that swallows lines shaped like rows."""
    if not multi:
        return
    row, first, last = multi[-1]
    if last == len(lines) and "".join(lines[first - 1:last]).count('"') % 2 == 1:
        raise CorpusError(
            f"load_corpus: {name} line {first}: a quote opened on this line is never closed, so the "
            f"{last - first + 1} lines from here to the end of the file would be read as one text. Close the "
            'quote, or write a quote inside a quoted field as two quotes ("").'
        )
    single = [r[0] for i, r in enumerate(rows) if r[0] is not None][:2000]
    shapes = Counter(_shape(v) for v in single)
    top = {s for s, _ in shapes.most_common(3)}
    id_like = bool(single) and sum(shapes[s] for s in top) >= 0.9 * len(single) and len(single) >= 5
    for row, first, last in multi:
        looks = []
        for k in range(first, last):  # the lines after the first one of the record
            line = lines[k].rstrip("\r\n")
            try:
                fields = next(csv.reader([line], delimiter=sep), [])
            except csv.Error:
                continue
            if len(fields) == ncols and ncols > 1 and (ncols >= 4 or (id_like and _shape(fields[0]) in top)):
                looks.append(k + 1)
        if len(looks) >= 2:
            raise CorpusError(
                f"load_corpus: {name} line {first}: a quoted field opens here and runs over {last - first + 1} "
                f"lines (to line {last}), swallowing {len(looks)} lines that look like rows of their own (file "
                f"lines {_rows_text(looks)}); a quote in the text on line {first} is probably not closed. "
                'Close it, or write a quote inside a quoted field as two quotes ("").'
            )


_DELIMITERS = (",", ";", "\t", "|")


def sniff_delimiter(text: str) -> str:
    """The delimiter among , ; tab | that splits the first lines into a constant number (>1) of fields.

    A header that no candidate splits (one field whichever is tried) is a one-column file: its
    rows are read whole, a comma or semicolon in them being part of the text. They are parsed with
    a delimiter found nowhere in the text (the first of , ; tab | absent, else a control character),
    so quoting still works and no field is ever split.

    >>> sniff_delimiter('doc_id;text\\nc1;"Fine, thanks"\\nc2;Slow\\n')
    ';'
    """
    sample = text[:65536].rsplit("\n", 1)[0] if len(text) > 65536 else text
    if all(_first_record_width(sample, d) <= 1 for d in _DELIMITERS):
        return next((d for d in (*_DELIMITERS, "\x1f", "\x1e", "\x1d", "\x1c") if d not in text), ",")
    best, best_score = ",", (0.0, 0)
    for d in _DELIMITERS:
        try:
            widths = [len(r) for r in csv.reader(io.StringIO(sample), delimiter=d) if r][:200]
        except csv.Error:
            continue
        if widths and widths[0] > 1:
            score = (sum(w == widths[0] for w in widths) / len(widths), widths[0])
            best, best_score = (d, score) if score > best_score else (best, best_score)
    return best


def _first_record_width(sample: str, delimiter: str) -> int:
    """Fields in the first record (the header) read with ``delimiter`` (0 when unreadable)."""
    try:
        return len(next((r for r in csv.reader(io.StringIO(sample), delimiter=delimiter) if r), []))
    except csv.Error:
        return 0

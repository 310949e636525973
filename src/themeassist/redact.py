"""Redaction of personal identifiers in comments, before anything is exported.

:func:`redact` replaces e-mail addresses, URLs, NHS numbers (check digit verified), UK phone
numbers, UK postcodes and the person names the user lists with tokens such as ``[EMAIL]``, and
counts what it replaced. It works on a list/Series of texts or on a corpus DataFrame (the
``text`` column by default). Each text is normalised to NFKC first, so full-width digits and
letters are found too; a text in which nothing is found is returned unchanged, one in which
something is found comes back in its NFKC form. It is pattern-based: it removes the identifiers it is told about,
it does not find every name in free text, so review exports that leave your organisation.

Examples
--------
>>> texts, counts = redact(["Email jo@nhs.net or ring 07700 900123", "PHQ-9 was 18 in 2019"],
...                        names=["Jo"])
>>> texts.tolist()
['Email [EMAIL] or ring [PHONE]', 'PHQ-9 was 18 in 2019']
>>> counts.set_index("kind")["n"].to_dict()
{'email': 1, 'phone': 1, 'nhs_number': 0, 'postcode': 0, 'url': 0, 'name': 0}
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any, Callable, Iterable, Sequence

import pandas as pd

from themeassist._schema import check_columns
from themeassist.exceptions import CorpusError, ParameterError

__all__ = ["REDACTION_KINDS", "REDACTION_TOKENS", "nhs_number_is_valid", "redact", "text_columns"]

#: Kinds of identifier :func:`redact` knows, in the order it applies them.
REDACTION_KINDS: tuple[str, ...] = ("email", "phone", "nhs_number", "postcode", "url", "name")
#: The token that replaces each kind.
REDACTION_TOKENS: dict[str, str] = {
    "email": "[EMAIL]", "phone": "[PHONE]", "nhs_number": "[NHS_NUMBER]", "postcode": "[POSTCODE]",
    "url": "[URL]", "name": "[NAME]",
}  # fmt: skip
# URLs go first (an address inside a URL is part of it), then e-mails, then NHS numbers before
# phone numbers (a valid NHS number is never read as a phone number), then postcodes, then names.
_ORDER = ("url", "email", "nhs_number", "phone", "postcode", "name")

_URL = re.compile(
    r"(?<![\w@/])(?:(?:https?|ftp)://|www\.)[^\s<>\"'\[\]]+"  # scheme or www.
    r"|(?<![\w@/.-])[a-z0-9-]+(?:\.[a-z0-9-]+)*\.(?:nhs\.uk|co\.uk|org\.uk|gov\.uk|ac\.uk|com|org|net|uk)"
    r"/[^\s<>\"'\[\]]*",  # bare domain followed by a path: nhs.uk/conditions/...
    re.IGNORECASE,
)
_URL_TRAIL = ".,;:!?)]}'\""
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![\w-])")
# 10 digits written 3-3-4 with optional single spaces, dashes or dots, or as one run of 10 digits.
_NHS = re.compile(r"(?<![\w+.,/-])(\d{3})([ .-]?)(\d{3})\2(\d{4})(?![\w.,/-]?\d)(?!\w)")
# A UK number: +44 / 0044 (optionally "(0)") or a leading 0 (optionally in brackets), then digit
# groups separated by one space, dash or dot; the digit count is checked in _phone_sub.
_PHONE = re.compile(
    r"(?<![\w+/.-])(?P<prefix>(?:\+|00)44[ -]?(?:\(0\)[ -]?)?|\(0|0)"
    r"(?P<rest>\d+\)?(?:[ .-]?\(?\d+\)?)*)(?![\w/])"
)
_POSTCODE = re.compile(
    r"(?<![\w-])(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-HJKMNP-Y\d]? ?\d[ABD-HJLNP-UW-Z]{2})(?![\w-])",
    re.IGNORECASE,
)
_NHS_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)


def nhs_number_is_valid(number: str) -> bool:
    """True when ``number`` (spaces, dashes and dots allowed) is 10 digits with a valid mod-11 check digit.

    Examples
    --------
    >>> nhs_number_is_valid("943 476 5919"), nhs_number_is_valid("943 476 5918")
    (True, False)
    """
    digits = re.sub(r"[ .-]", "", unicodedata.normalize("NFKC", str(number)))
    if len(digits) != 10 or not digits.isdigit() or len(set(digits)) == 1:
        return False
    check = 11 - sum(int(d) * w for d, w in zip(digits, _NHS_WEIGHTS)) % 11
    check = 0 if check == 11 else check
    return check != 10 and check == int(digits[9])


def _phone_span(prefix: str, rest: str) -> int | None:
    """Length of ``rest`` that completes a UK phone number after ``prefix``, or None.

    National significant numbers have 9 or 10 digits and start with 1, 2, 3, 5, 7, 8 or 9; groups
    after the first have at least 2 digits (so "0 1 2 3 ..." is not a number). Trailing groups
    that would make the number too long are left out of the match.
    """
    groups = list(re.finditer(r"\d+", rest))
    if not groups:
        return None
    first = groups[0].group()
    if prefix.startswith("(") and ")" not in rest[: groups[1].start() if len(groups) > 1 else len(rest)]:
        return None  # "(0" must close its bracket after the area code
    if first[0] not in "1235789":
        return None
    total = 0
    best = None
    for k, g in enumerate(groups):
        if k > 0 and len(g.group()) < 2:
            break
        total += len(g.group())
        if total > 10:
            break
        if total >= 9:
            best = g.end()
    if best is None:
        return None
    if rest[best:best + 1] == ")":
        best += 1
    return best


def _compile_names(names: Iterable[str]) -> re.Pattern[str] | None:
    cleaned = []
    for name in names:
        if not isinstance(name, str):
            raise ParameterError(f"redact: names must be strings; got {name!r} ({type(name).__name__}). "
                                 "Pass names=['First Last', ...].")  # fmt: skip
        words = name.split()
        if words:
            cleaned.append(r"\s+".join(re.escape(w) for w in words))
    if not cleaned:
        return None
    cleaned.sort(key=len, reverse=True)  # "Jo Smith" before "Jo"
    return re.compile(r"(?<![\w\[])(?:" + "|".join(cleaned) + r")(?![\w\]])", re.IGNORECASE)


def _substituter(kind: str, names: re.Pattern[str] | None) -> Callable[[str], tuple[str, int]]:
    token = REDACTION_TOKENS[kind]
    if kind == "url":
        def sub(text: str) -> tuple[str, int]:
            def repl(m: re.Match[str]) -> str:
                url = m.group()
                stripped = url.rstrip(_URL_TRAIL)
                return token + url[len(stripped):]
            return _URL.subn(repl, text)
    elif kind == "email":
        def sub(text: str) -> tuple[str, int]:
            return _EMAIL.subn(token, text)
    elif kind == "nhs_number":
        def sub(text: str) -> tuple[str, int]:
            n = 0

            def repl(m: re.Match[str]) -> str:
                nonlocal n
                if nhs_number_is_valid(m.group()):
                    n += 1
                    return token
                return m.group()
            return _NHS.sub(repl, text), n
    elif kind == "phone":
        def sub(text: str) -> tuple[str, int]:
            n = 0

            def repl(m: re.Match[str]) -> str:
                nonlocal n
                end = _phone_span(m.group("prefix"), m.group("rest"))
                if end is None:
                    return m.group()
                n += 1
                return token + m.group("rest")[end:]
            return _PHONE.sub(repl, text), n
    elif kind == "postcode":
        def sub(text: str) -> tuple[str, int]:
            return _POSTCODE.subn(token, text)
    else:
        def sub(text: str) -> tuple[str, int]:
            return names.subn(token, text) if names is not None else (text, 0)
    return sub


def redact(
    data: pd.DataFrame | pd.Series | Sequence[Any],
    *,
    names: Iterable[str] = (),
    kinds: Iterable[str] = REDACTION_KINDS,
    columns: Iterable[str] | None = None,
) -> tuple[pd.DataFrame | pd.Series, pd.DataFrame]:
    """Replace personal identifiers with tokens and count them.

    (Over 80 lines for its documentation only: the code itself is under 80.)

    Parameters
    ----------
    data : DataFrame, Series or sequence of str
        A corpus (or any table) or texts. Cells that are not strings (NaN, numbers) are kept.
    names : iterable of str, default ()
        Person names to remove (``kind="name"``): whole words, any case, any whitespace between
        the words of a name ("Dr  jo SMITH" matches "Dr Jo Smith"). Longer names win.
    kinds : iterable of str, default all of :data:`REDACTION_KINDS`
        ``"email"``, ``"phone"`` (UK: 01/02/03/05/07/08/09 numbers, +44 and 0044 forms),
        ``"nhs_number"`` (10 digits, 3-3-4 with spaces, dashes or dots or unbroken, mod-11 check
        digit valid), ``"postcode"`` (UK, any case), ``"url"`` (``http(s)://``, ``www.``, or a UK/com
        domain followed by a path) and ``"name"``.
    columns : iterable of str, optional
        For a DataFrame, the columns to redact; default ``["text"]``.

    Returns
    -------
    redacted : same type as ``data`` (a sequence gives a Series)
        A copy with every match replaced by its token (:data:`REDACTION_TOKENS`); index, other
        columns and ``attrs`` kept; ``attrs["redaction"]`` holds ``{kind: n}``.
    counts : DataFrame
        One row per requested kind, in the order of ``kinds``: ``kind`` (str), ``token`` (str),
        ``n`` (int, replacements) and ``n_docs`` (int, texts with at least one replacement).

    Raises
    ------
    ParameterError
        An unknown kind or a name that is not a string.
    CorpusError
        A column the table lacks, or one string given instead of a list of texts.

    Examples
    --------
    >>> df = pd.DataFrame({"doc_id": ["a", "b"], "text": ["Sarah at SW1A 1AA", "band 6 nurse"]})
    >>> out, counts = redact(df, names=["sarah"], kinds=["postcode", "name"])
    >>> out["text"].tolist()
    ['[NAME] at [POSTCODE]', 'band 6 nurse']
    >>> counts.values.tolist()
    [['postcode', '[POSTCODE]', 1, 1], ['name', '[NAME]', 1, 1]]
    """
    if isinstance(kinds, str):
        kinds = [kinds]
    kinds = list(dict.fromkeys(kinds))
    unknown = [k for k in kinds if k not in REDACTION_KINDS]
    if unknown:
        raise ParameterError(f"redact: unknown kind(s) {unknown}; choose from {list(REDACTION_KINDS)}.")
    if isinstance(names, str):
        names = [names]
    name_re = _compile_names(names)
    steps = [(k, _substituter(k, name_re)) for k in _ORDER if k in kinds]
    totals = {k: 0 for k in kinds}
    docs = {k: 0 for k in kinds}

    def one(value: Any) -> Any:
        if not isinstance(value, str):
            return value
        # NFKC first, so that full-width digits and letters ("０７７００ ９００１２３") are matched too;
        # a text in which nothing is found is returned exactly as it was
        text = unicodedata.normalize("NFKC", value)
        found = False
        for kind, sub in steps:
            text, n = sub(text)
            if n:
                found = True
                totals[kind] += n
                docs[kind] += 1
        return text if found else value

    if isinstance(data, pd.DataFrame):
        cols = ["text"] if columns is None else ([columns] if isinstance(columns, str) else list(columns))
        check_columns(data, cols, who="redact", hint="Pass columns=[...] naming the text columns to redact.")
        out: pd.DataFrame | pd.Series = data.copy()
        for c in cols:
            out[c] = data[c].map(one).astype(data[c].dtype if data[c].dtype == object else object)
    elif isinstance(data, pd.Series):
        out = data.map(one)
    else:
        if isinstance(data, str):
            raise CorpusError("redact: pass a list of texts, a Series or a DataFrame, not one string "
                              "(for one text: redact([text])).")  # fmt: skip
        out = pd.Series([one(v) for v in data], dtype=object)
    counts = pd.DataFrame({"kind": kinds, "token": [REDACTION_TOKENS[k] for k in kinds],
                           "n": [totals[k] for k in kinds], "n_docs": [docs[k] for k in kinds]})  # fmt: skip
    counts = counts.astype({"n": "int64", "n_docs": "int64"})
    out.attrs = {**getattr(data, "attrs", {}), "redaction": dict(zip(kinds, map(int, counts["n"])))}
    return out, counts


def text_columns(df: pd.DataFrame, *, exclude: Iterable[str] = ()) -> list[str]:
    """The columns of ``df`` that hold text (at least one string cell), in order, minus ``exclude``.

    These are the columns ``--redact`` redacts by default (free text can hold identifiers in any
    of them).

    Examples
    --------
    >>> text_columns(pd.DataFrame({"doc_id": ["a"], "text": ["hi"], "n": [1], "site": ["Leeds"]}),
    ...              exclude=["doc_id"])
    ['text', 'site']
    """
    skip = set(exclude)
    out = []
    for c in df.columns:
        if c in skip:
            continue
        col = df[c]
        if col.dtype == object or isinstance(col.dtype, (pd.StringDtype, pd.CategoricalDtype)):
            if any(isinstance(v, str) for v in col.astype(object)):
                out.append(c)
    return out

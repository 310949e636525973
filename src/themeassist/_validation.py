"""Small parameter checks shared by the estimators (messages in the house style)."""

from __future__ import annotations

import numbers
from typing import Any, Iterable

from themeassist.exceptions import ParameterError


def check_param(
    name: str,
    value: Any,
    *,
    owner: object | str,
    between: tuple[float, float] | None = None,
    types: type | tuple[type, ...] | None = None,
    options: Iterable[Any] | None = None,
    allow_none: bool = False,
) -> None:
    """Raise :class:`~themeassist.exceptions.ParameterError` (a ``ValueError``) naming the parameter, the owner and what was received.

    Examples
    --------
    >>> check_param("min_score", 0.5, owner="ThemeMapper", between=(0.0, 1.0))
    >>> check_param("min_score", 1.5, owner="ThemeMapper", between=(0.0, 1.0))
    Traceback (most recent call last):
    ...
    themeassist.exceptions.ParameterError: The 'min_score' parameter of ThemeMapper must be a number in [0.0, 1.0]. Got 1.5 instead.
    """
    who = owner if isinstance(owner, str) else type(owner).__name__
    if value is None and allow_none:
        return
    if options is not None:
        opts = list(options)
        if value not in opts:
            raise ParameterError(
                f"The {name!r} parameter of {who} must be one of {opts}. Got {value!r} instead."
            )
        return
    if types is not None and not isinstance(value, types):
        names = types.__name__ if isinstance(types, type) else " or ".join(t.__name__ for t in types)
        raise ParameterError(f"The {name!r} parameter of {who} must be {names}. Got {value!r} instead.")
    if between is not None:
        lo, hi = between
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not (lo <= float(value) <= hi)
        ):
            raise ParameterError(
                f"The {name!r} parameter of {who} must be a number in [{lo}, {hi}]. "
                f"Got {value!r} instead."
            )

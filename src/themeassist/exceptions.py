"""Exceptions raised by themeassist.

Every error a user can cause derives from :class:`ThemeassistError`, one class per kind of mistake:
a parameter value (:class:`ParameterError`), the comments or another input table
(:class:`CorpusError`), a codebook (:class:`CodebookError`), saved state or a cache
(:class:`CacheError`), a REFI-QDA file (:class:`QDAFormatError`), an output (:class:`OutputError`),
an estimator used before ``fit`` (:class:`NotFittedError`); :class:`ThemeassistError` itself for the
environment (a missing optional package, an unreachable scheduler). Input errors also derive from
:class:`ValueError` so that generic handlers work.
This module imports nothing heavy (no scikit-learn), so ``import themeassist`` stays quick.
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "CodebookError",
    "CorpusError",
    "NotFittedError",
    "OutputError",
    "ParameterError",
    "QDAFormatError",
    "ThemeassistError",
]


class ThemeassistError(Exception):
    """Base class for all themeassist errors."""


class NotFittedError(ThemeassistError, ValueError, AttributeError):
    """An estimator was used before ``fit`` (like :class:`sklearn.exceptions.NotFittedError`).

    It derives from ``ValueError`` and ``AttributeError`` as scikit-learn's does, so handlers
    written for either keep working; scikit-learn is not imported to define it.

    Examples
    --------
    >>> issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    True
    """


class ParameterError(ThemeassistError, ValueError):
    """A parameter (of a function, an estimator or a command-line option) has a value it cannot
    take; the message names the parameter, what was received and what is allowed.

    Examples
    --------
    >>> from themeassist._validation import check_param
    >>> check_param("top_k", 0, owner="ThemeMapper", between=(1, 50))
    Traceback (most recent call last):
    ...
    themeassist.exceptions.ParameterError: The 'top_k' parameter of ThemeMapper must be a number in [1, 50]. Got 0 instead.
    """


class CorpusError(ThemeassistError, ValueError):
    """The input comments could not be read or validated (names the column and rows)."""


class CodebookError(ThemeassistError, ValueError):
    """A codebook is malformed (the message gives the path of the offending node)."""


class CacheError(ThemeassistError):
    """A cache or saved-state file is corrupted, foreign or of an unknown version."""


class QDAFormatError(ThemeassistError, ValueError):
    """A REFI-QDA file (.qdc/.qdpx) is malformed, unsafe or too large."""


class OutputError(ThemeassistError, ValueError):
    """An output cannot be written: a folder, device or input in the way, an unknown suffix, no
    permission, no space. Raised before any work where it can be known then."""

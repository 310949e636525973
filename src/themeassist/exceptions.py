"""Exceptions raised by themeassist.

Every error a user can cause derives from :class:`ThemeassistError`; input
errors also derive from :class:`ValueError` so that generic handlers work.
"""

from __future__ import annotations

from sklearn.exceptions import NotFittedError

__all__ = [
    "CacheError",
    "CodebookError",
    "CorpusError",
    "NotFittedError",
    "QDAFormatError",
    "ThemeassistError",
]


class ThemeassistError(Exception):
    """Base class for all themeassist errors."""


class CorpusError(ThemeassistError, ValueError):
    """The input comments could not be read or validated (names the column and rows)."""


class CodebookError(ThemeassistError, ValueError):
    """A codebook is malformed (the message gives the path of the offending node)."""


class CacheError(ThemeassistError):
    """A cache or saved-state file is corrupted, foreign or of an unknown version."""


class QDAFormatError(ThemeassistError, ValueError):
    """A REFI-QDA file (.qdc/.qdpx) is malformed, unsafe or too large."""

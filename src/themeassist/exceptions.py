"""Exceptions raised by themeassist.

Every error a user can cause derives from :class:`ThemeassistError`; input
errors also derive from :class:`ValueError` so that generic handlers work.
This module imports nothing heavy (no scikit-learn), so ``import themeassist`` stays quick.
"""

from __future__ import annotations

__all__ = [
    "CacheError",
    "CodebookError",
    "CorpusError",
    "NotFittedError",
    "OutputError",
    "QDAFormatError",
    "ThemeassistError",
]


class ThemeassistError(Exception):
    """Base class for all themeassist errors."""


class NotFittedError(ValueError, AttributeError):
    """An estimator was used before ``fit`` (like :class:`sklearn.exceptions.NotFittedError`).

    It derives from ``ValueError`` and ``AttributeError`` as scikit-learn's does, so handlers
    written for either keep working; scikit-learn is not imported to define it.

    Examples
    --------
    >>> issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)
    True
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

"""themeassist: NLP-assisted thematic analysis of free-text survey comments.

Discover candidate codes (sentence embeddings + BERTopic), map comments and
codes onto a researcher's theme hierarchy, and track theme prevalence over time.
"""

from __future__ import annotations

from themeassist.exceptions import (
    CacheError,
    CodebookError,
    CorpusError,
    NotFittedError,
    QDAFormatError,
    ThemeassistError,
)

__version__ = "0.1.0"

__all__ = [
    "CacheError",
    "CodebookError",
    "CorpusError",
    "NotFittedError",
    "QDAFormatError",
    "ThemeassistError",
    "__version__",
]

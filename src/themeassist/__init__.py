"""themeassist: NLP-assisted thematic analysis of free-text survey comments.

Discover candidate codes (sentence embeddings + BERTopic), map comments and codes onto a
researcher's theme hierarchy, and track theme prevalence over time. Each stage works on its own:

>>> import themeassist as ta
>>> corpus = ta.load_corpus(ta.load_iapt_demo(), text_col="text", id_col="doc_id", period_col="year")
>>> codebook = ta.load_codebook("iapt")
>>> len(codebook.leaves())
18

Heavy stages (discovery, mapping, drift) are imported on first use, so ``import themeassist`` is quick.
"""

from __future__ import annotations

import importlib
from typing import Any

from themeassist.codebook import Codebook, Theme, load_codebook
from themeassist.corpus import CORPUS_COLUMNS, DEFAULT_NON_ANSWERS, STATUSES, load_corpus, substantive
from themeassist.datasets import iapt_demo_prevalence, load_iapt_demo
from themeassist.embed import get_embedder
from themeassist.exceptions import (
    CacheError,
    CodebookError,
    CorpusError,
    NotFittedError,
    QDAFormatError,
    ThemeassistError,
)
from themeassist.io import export_qdc, export_qdpx, import_qdc, import_qdpx, read_table, write_table

__version__ = "0.1.0"

# name -> module for the stages imported lazily (they pull in BERTopic, torch, statsmodels)
_LAZY: dict[str, str] = {}

__all__ = [
    "CORPUS_COLUMNS",
    "CacheError",
    "Codebook",
    "CodebookError",
    "CorpusError",
    "DEFAULT_NON_ANSWERS",
    "NotFittedError",
    "QDAFormatError",
    "STATUSES",
    "Theme",
    "ThemeassistError",
    "__version__",
    "export_qdc",
    "export_qdpx",
    "get_embedder",
    "iapt_demo_prevalence",
    "import_qdc",
    "import_qdpx",
    "load_codebook",
    "load_corpus",
    "load_iapt_demo",
    "read_table",
    "substantive",
    "write_table",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'themeassist' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value

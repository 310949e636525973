"""themeassist: NLP-assisted thematic analysis of free-text survey comments.

Discover candidate codes (sentence embeddings + BERTopic), map comments and codes onto a
researcher's theme hierarchy, and track theme prevalence over time. Each stage works on its own:

>>> import themeassist as ta
>>> corpus = ta.load_corpus(ta.load_iapt_demo(), text_col="text", id_col="doc_id", period_col="year")
>>> codebook = ta.load_codebook("iapt")
>>> len(codebook.leaves())
18

Every name is imported on first use (only the exceptions are loaded up front), so ``import themeassist``
loads neither pandas nor scikit-learn, torch, BERTopic or UMAP, and ``themeassist --help`` is quick.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from themeassist.exceptions import (
    CacheError,
    CodebookError,
    CorpusError,
    NotFittedError,
    OutputError,
    ParameterError,
    QDAFormatError,
    ThemeassistError,
)

if TYPE_CHECKING:  # what type checkers and IDEs see; nothing of it is imported at run time
    from themeassist.codebook import Codebook, Theme, codes_to_long, load_codebook
    from themeassist.corpus import CORPUS_COLUMNS, DEFAULT_NON_ANSWERS, STATUSES, load_corpus, substantive
    from themeassist.datasets import iapt_demo_prevalence, load_iapt_demo
    from themeassist.embed import get_embedder
    from themeassist.io import export_qdc, export_qdpx, import_qdc, import_qdpx, read_table, write_table

__version__ = "0.1.0"

# name -> module, imported on first use (the stages pull in pandas, scikit-learn, BERTopic, torch, statsmodels)
_LAZY: dict[str, str] = {
    "CORPUS_COLUMNS": "themeassist.corpus",
    "DEFAULT_NON_ANSWERS": "themeassist.corpus",
    "STATUSES": "themeassist.corpus",
    "load_corpus": "themeassist.corpus",
    "substantive": "themeassist.corpus",
    "Codebook": "themeassist.codebook",
    "Theme": "themeassist.codebook",
    "codes_to_long": "themeassist.codebook",
    "load_codebook": "themeassist.codebook",
    "iapt_demo_prevalence": "themeassist.datasets",
    "load_iapt_demo": "themeassist.datasets",
    "get_embedder": "themeassist.embed",
    "export_qdc": "themeassist.io",
    "export_qdpx": "themeassist.io",
    "import_qdc": "themeassist.io",
    "import_qdpx": "themeassist.io",
    "read_table": "themeassist.io",
    "write_table": "themeassist.io",
    "CandidateDiscovery": "themeassist.discovery",
    "ThemeMapper": "themeassist.mapping",
    "align_candidates": "themeassist.mapping",
    "read_examples": "themeassist.mapping",
    "agreement": "themeassist.mapping",
    "read_decisions": "themeassist.mapping",
    "AutoAccept": "themeassist.mapping",
    "RecallSets": "themeassist.mapping",
    "add_review_order": "themeassist.mapping",
    "held_out_quality": "themeassist.mapping",
    "held_out_scores": "themeassist.mapping",
    "review_queue": "themeassist.mapping",
    "DriftResult": "themeassist.workflows",
    "candidate_periods": "themeassist.drift",
    "changes": "themeassist.drift",
    "content_shift": "themeassist.drift",
    "estimate_prevalence": "themeassist.drift",
    "prevalence": "themeassist.drift",
    "run_drift": "themeassist.workflows",
    "summarise_changes": "themeassist.drift",
    "score_tone": "themeassist.drift",
    "tone_by_theme": "themeassist.drift",
    "plot_heatmap": "themeassist.plots",
    "plot_prevalence": "themeassist.plots",
    "plot_prevalence_interactive": "themeassist.plots",
    "plot_tone": "themeassist.plots",
    "redact": "themeassist.redact",
    "resumable_suggest": "themeassist.batch",
    "run_chunked": "themeassist.batch",
    "discover_dask": "themeassist.batch",
    "suggest_dask": "themeassist.batch",
    "suggest_hybrid": "themeassist.batch",
    "build_static": "themeassist.models",
    "run_all": "themeassist.workflows",
    "run_demo": "themeassist.workflows",
    "write_report": "themeassist.report",
}

__all__ = [
    "AutoAccept",
    "CORPUS_COLUMNS",
    "CacheError",
    "CandidateDiscovery",
    "Codebook",
    "CodebookError",
    "CorpusError",
    "DEFAULT_NON_ANSWERS",
    "DriftResult",
    "NotFittedError",
    "OutputError",
    "ParameterError",
    "QDAFormatError",
    "RecallSets",
    "STATUSES",
    "Theme",
    "ThemeMapper",
    "ThemeassistError",
    "__version__",
    "add_review_order",
    "agreement",
    "align_candidates",
    "build_static",
    "candidate_periods",
    "changes",
    "codes_to_long",
    "content_shift",
    "discover_dask",
    "estimate_prevalence",
    "export_qdc",
    "export_qdpx",
    "get_embedder",
    "held_out_quality",
    "held_out_scores",
    "iapt_demo_prevalence",
    "import_qdc",
    "import_qdpx",
    "load_codebook",
    "load_corpus",
    "load_iapt_demo",
    "plot_heatmap",
    "plot_prevalence",
    "plot_prevalence_interactive",
    "plot_tone",
    "prevalence",
    "read_decisions",
    "read_examples",
    "read_table",
    "redact",
    "resumable_suggest",
    "review_queue",
    "run_all",
    "run_chunked",
    "run_demo",
    "run_drift",
    "score_tone",
    "substantive",
    "suggest_dask",
    "suggest_hybrid",
    "summarise_changes",
    "tone_by_theme",
    "write_report",
    "write_table",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'themeassist' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

"""Discover stage: candidate codes from sentence embeddings and BERTopic (an injected engine).

Layout: ``estimator`` (:class:`CandidateDiscovery`: parameters, ``fit``, ``transform``, save/load),
``_engine`` (BERTopic built, given a vocabulary, run, asked for keywords), ``_assign`` (every
comment assigned, codes numbered by size, the two tables), ``_labels`` (readable code names),
``_persist`` (the run folder a saved discovery is), ``_umap_speed`` and ``_imports`` (start-up and
small-input speed).
"""

from __future__ import annotations

from themeassist.discovery._imports import light_bertopic_import
from themeassist.discovery.estimator import ASSIGNMENT_COLUMNS, CANDIDATE_COLUMNS, CandidateDiscovery

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "CANDIDATE_COLUMNS",
    "CandidateDiscovery",
    "light_bertopic_import",
]

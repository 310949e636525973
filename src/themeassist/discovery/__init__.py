"""Discover stage: candidate codes from sentence embeddings and BERTopic (an injected engine).
"""

from __future__ import annotations

from themeassist.discovery.estimator import ASSIGNMENT_COLUMNS, CANDIDATE_COLUMNS, CandidateDiscovery

__all__ = [
    "ASSIGNMENT_COLUMNS",
    "CANDIDATE_COLUMNS",
    "CandidateDiscovery",
]

"""Map stage: suggest a researcher's codebook themes for comments (and candidate codes).

:class:`ThemeMapper` (the estimator), :func:`read_examples` / :func:`examples_from_long` (coded
examples), :func:`label_space` (the leaves it learns: "(itself)" leaves for parents coded alone),
:func:`align_candidates` (discovery's candidate codes against the codebook), :func:`read_decisions`
(a coder's accept / reject / recode decisions) and :func:`agreement`;
honest about doubt (:mod:`~themeassist.mapping.conformal`): :class:`RecallSets` (a stated recall),
:class:`AutoAccept` (a stated precision), from :func:`held_out_scores`; what to expect of the
suggestions, theme by theme (:func:`held_out_quality`, :mod:`~themeassist.mapping.quality`); the review queue
(:mod:`~themeassist.mapping.review`): :func:`review_queue`, :func:`add_review_order`.
"""

from __future__ import annotations

from themeassist.mapping.estimator import (
    Alignment,
    SUGGESTION_COLUMNS,
    ThemeMapper,
    align_candidates,
    examples_from_long,
    read_examples,
)
from themeassist.mapping.examples import LabelSpace, label_matrix, label_space, used_examples
from themeassist.mapping.agreement import AGREEMENT_COLUMNS, DECISIONS, agreement, read_decisions
from themeassist.mapping.conformal import AutoAccept, HeldOut, RecallSets, held_out_scores
from themeassist.mapping.quality import QUALITY_COLUMNS, HeldOutQuality, held_out_quality
from themeassist.mapping.review import add_review_order, review_queue

__all__ = [
    "add_review_order",
    "agreement",
    "AGREEMENT_COLUMNS",
    "align_candidates",
    "Alignment",
    "AutoAccept",
    "DECISIONS",
    "examples_from_long",
    "held_out_quality",
    "held_out_scores",
    "HeldOut",
    "HeldOutQuality",
    "label_matrix",
    "label_space",
    "LabelSpace",
    "QUALITY_COLUMNS",
    "read_decisions",
    "read_examples",
    "RecallSets",
    "review_queue",
    "SUGGESTION_COLUMNS",
    "ThemeMapper",
    "used_examples",
]

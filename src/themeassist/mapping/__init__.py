"""Map stage: suggest a researcher's codebook themes for comments (and candidate codes).

:class:`ThemeMapper` (the estimator), :func:`read_examples` / :func:`examples_from_long` (coded
examples), :func:`label_space` (the leaves it learns: "(itself)" leaves for parents coded alone),
:func:`align_candidates` (discovery's candidate codes against the codebook), :func:`read_decisions`
(a coder's accept / reject / recode decisions) and :func:`agreement`.
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

__all__ = [
    "agreement",
    "AGREEMENT_COLUMNS",
    "align_candidates",
    "Alignment",
    "DECISIONS",
    "examples_from_long",
    "label_matrix",
    "label_space",
    "LabelSpace",
    "read_decisions",
    "read_examples",
    "SUGGESTION_COLUMNS",
    "ThemeMapper",
    "used_examples",
]

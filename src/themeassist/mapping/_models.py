"""Former home of the mapper's numerical parts, kept so that old imports keep working.

The code now lives in modules of one concern each: :mod:`~themeassist.mapping.zeroshot`,
:mod:`~themeassist.mapping.lexical`, :mod:`~themeassist.mapping.scorers`,
:mod:`~themeassist.mapping.calibration`, :mod:`~themeassist.mapping.decision`,
:mod:`~themeassist.mapping.examples` and :mod:`~themeassist.mapping.align`.
"""

from __future__ import annotations

from themeassist.embed import unit_rows as normalise_rows
from themeassist.mapping.align import Alignment, _snip, align_candidates
from themeassist.mapping.calibration import Stacker
from themeassist.mapping.decision import decide
from themeassist.mapping.lexical import char_wb_transform, lexical_scores, stem, term_matrix, theme_terms
from themeassist.mapping.scorers import MultiLogReg, OvRLinearSVC, centroids, knn_scores, to_feature
from themeassist.mapping.zeroshot import prevalence_thresholds, prototype_texts, pseudo_positives, refine_prototypes

__all__: list[str] = []

_EXPORTS = (Alignment, _snip, align_candidates, Stacker, decide, char_wb_transform, lexical_scores,
            stem, term_matrix, theme_terms, MultiLogReg, OvRLinearSVC, centroids, knn_scores, to_feature,
            prevalence_thresholds, prototype_texts, pseudo_positives, refine_prototypes, normalise_rows)

"""Drift stage: theme prevalence per period with uncertainty, tests for change, appear/vanish flags,
quantification from model scores, candidate codes per period and tone.
"""

from __future__ import annotations

from themeassist.drift.prevalence import (
    CHANGE_COLUMNS,
    PREVALENCE_COLUMNS,
    PREVALENCE_METHODS,
    changes,
    content_shift,
    estimate_prevalence,
    prevalence,
    summarise_changes,
    wilson_interval,
)
from themeassist.drift.candidates import CANDIDATE_PERIOD_COLUMNS, candidate_periods
from themeassist.drift.quantify import (
    QUANTIFY_METHODS,
    CheckedSample,
    bootstrap_quantify,
    calibrate_scores,
    fit_calibration,
    quantify,
)
from themeassist.drift.tone import DISTRESS_TERMS, TONE_COLUMNS, score_tone, tone_by_theme

__all__ = [
    "bootstrap_quantify",
    "calibrate_scores",
    "CANDIDATE_PERIOD_COLUMNS",
    "candidate_periods",
    "CHANGE_COLUMNS",
    "changes",
    "CheckedSample",
    "content_shift",
    "DISTRESS_TERMS",
    "estimate_prevalence",
    "fit_calibration",
    "prevalence",
    "PREVALENCE_COLUMNS",
    "PREVALENCE_METHODS",
    "quantify",
    "QUANTIFY_METHODS",
    "score_tone",
    "summarise_changes",
    "tone_by_theme",
    "TONE_COLUMNS",
    "wilson_interval",
]

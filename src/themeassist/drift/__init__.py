"""Drift stage: theme prevalence per period with uncertainty, audit samples and audit-corrected
estimates from machine scores, tests for change, appear/vanish flags, candidate codes per period
and tone.
"""

from __future__ import annotations

from themeassist.drift.audit import (
    AUDIT_FILE_COLUMNS,
    KNOWN_CODES_COLUMN,
    audit_labels,
    audit_size,
    draw_audit,
    known_codes,
    read_period_column,
)
from themeassist.drift._known import KNOWN_RANDOM_ALPHA
from themeassist.drift.candidates import CANDIDATE_PERIOD_COLUMNS, candidate_periods
from themeassist.drift.changes import CHANGE_COLUMNS, HIGH_SCORE, changes, content_shift, summarise_changes
from themeassist.drift.prevalence import (
    AUDIT_COLUMNS,
    PREVALENCE_COLUMNS,
    PREVALENCE_METHODS,
    audit_prevalence,
    estimate_prevalence,
    prevalence,
    wilson_interval,
)
from themeassist.drift.quantification import AUDIT_METHODS, DEFAULT_AUDIT_METHOD, AuditEstimate, audit_estimate
from themeassist.drift.tone import DISTRESS_TERMS, TONE_COLUMNS, score_tone, tone_by_theme

__all__ = [
    "AUDIT_COLUMNS",
    "AUDIT_FILE_COLUMNS",
    "AUDIT_METHODS",
    "AuditEstimate",
    "CANDIDATE_PERIOD_COLUMNS",
    "CHANGE_COLUMNS",
    "DEFAULT_AUDIT_METHOD",
    "DISTRESS_TERMS",
    "HIGH_SCORE",
    "KNOWN_CODES_COLUMN",
    "KNOWN_RANDOM_ALPHA",
    "PREVALENCE_COLUMNS",
    "PREVALENCE_METHODS",
    "TONE_COLUMNS",
    "audit_estimate",
    "audit_labels",
    "audit_prevalence",
    "audit_size",
    "candidate_periods",
    "changes",
    "content_shift",
    "draw_audit",
    "estimate_prevalence",
    "known_codes",
    "prevalence",
    "read_period_column",
    "score_tone",
    "summarise_changes",
    "tone_by_theme",
    "wilson_interval",
]

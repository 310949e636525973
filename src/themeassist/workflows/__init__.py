"""Workflows: compositions of the stages that read files and write run folders (the demo, drift).
"""

from __future__ import annotations

from themeassist.workflows.pipeline import DemoResult, RunResult, run_all, run_demo, theme_counts
from themeassist.workflows.drift import DriftResult, run_drift

__all__ = [
    "DemoResult",
    "DriftResult",
    "run_all",
    "run_demo",
    "run_drift",
    "RunResult",
    "theme_counts",
]

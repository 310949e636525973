"""Batch stage: resumable chunked runs in a run folder and runs on a Dask cluster.
"""

from __future__ import annotations

from themeassist.batch.chunked import (
    RUN_FORMAT,
    RUN_VERSION,
    RunStateError,
    fitted_fingerprint,
    input_fingerprint,
    resumable_suggest,
    resumable_transform,
    run_chunked,
)
from themeassist.batch.dask import ScaledDiscovery, discover_dask, suggest_dask, suggest_hybrid, uncertain_rows

__all__ = [
    "discover_dask",
    "fitted_fingerprint",
    "input_fingerprint",
    "resumable_suggest",
    "resumable_transform",
    "run_chunked",
    "RUN_FORMAT",
    "RUN_VERSION",
    "RunStateError",
    "ScaledDiscovery",
    "suggest_dask",
    "suggest_hybrid",
    "uncertain_rows",
]

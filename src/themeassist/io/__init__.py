"""Input/output: safe spreadsheets, atomic writes and REFI-QDA exchange files."""

from __future__ import annotations

from themeassist.io.refi import export_qdc, export_qdpx, import_qdc, import_qdpx
from themeassist.io.tables import (
    atomic_write_bytes,
    atomic_write_text,
    neutralise_formulas,
    read_table,
    undo_formula_guard,
    write_table,
)

__all__ = [
    "atomic_write_bytes",
    "atomic_write_text",
    "export_qdc",
    "export_qdpx",
    "import_qdc",
    "import_qdpx",
    "neutralise_formulas",
    "read_table",
    "undo_formula_guard",
    "write_table",
]

"""HTML pieces of the report: escaping, number formats, tables, bars, sections and the CSS."""

from __future__ import annotations

import html
import numbers
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from themeassist.exceptions import ThemeassistError

SECTIONS = ("overview", "hierarchy", "candidates", "mapping", "prevalence", "changes", "emerging", "agreement",
            "provenance")
_INTERACTIVE = ("figures/prevalence_interactive.html", "prevalence_interactive.html")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_MAX_IMAGE_BYTES = 8 * 1024 * 1024
_SOURCES = {"ppi": "audit-corrected (prediction-powered inference per period)",
            "pacc": "audit-corrected (error rates pooled across periods)",
            "emq": "audit-corrected (QuaPy EMQ)", "suggested": "suggestions counted (not error-corrected)",
            "human": "human codes", "classify_count": "suggestions counted (not error-corrected)"}
_PCT_COLS = {"share", "prevalence", "ci_low", "ci_high", "prevalence_human", "prevalence_suggested"}

_CSS = """
:root{--ink:#1f2933;--muted:#616e7c;--line:#d9e2ec;--bg:#f5f7fa;--acc:#2f6f9f;--new:#b0450b;--ok:#2d7d46}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;
 color:var(--ink);background:var(--bg)}
header{background:#243b53;color:#fff;padding:28px 40px 22px}
header h1{margin:0 0 6px;font-size:26px;font-weight:600}
header p{margin:2px 0;color:#d9e2ec}
nav{background:#fff;border-bottom:1px solid var(--line);padding:10px 40px;position:sticky;top:0;z-index:2}
nav a{color:var(--acc);text-decoration:none;margin-right:18px;font-size:14px}
main{max-width:1240px;margin:0 auto;padding:10px 40px 60px}
section{background:#fff;border:1px solid var(--line);border-radius:8px;padding:18px 24px;margin:22px 0}
h2{margin:0 0 10px;font-size:21px;color:#243b53}
h3{margin:18px 0 8px;font-size:16px;color:#334e68}
h4{margin:10px 0 4px;font-size:14px;color:#486581}
p.note{color:var(--muted);margin:4px 0 12px}
.callout{background:#fffbea;border-left:4px solid #f0b429;padding:8px 12px;margin:8px 0 14px}
.stats{display:flex;flex-wrap:wrap;gap:14px;margin:8px 0}
.stat{background:var(--bg);border-radius:6px;padding:10px 16px;min-width:140px}
.stat b{display:block;font-size:22px;color:#243b53}
.stat span{color:var(--muted);font-size:13px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13.5px}
th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top}
th{background:#f0f4f8;font-weight:600;position:sticky;top:38px}
tr:nth-child(even) td{background:#fbfcfd}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.bar{background:#e4ecf3;height:10px;border-radius:5px;min-width:120px}
.bar i{display:block;height:10px;border-radius:5px;background:var(--acc)}
.bar.h i{background:#9fb3c8}
.kw{display:inline-block;background:#e6f0f8;color:#1c4966;border-radius:10px;padding:0 8px;margin:1px 2px;
 font-size:12.5px}
blockquote{margin:4px 0;padding:2px 10px;border-left:3px solid var(--line);color:#3e4c59;font-style:italic}
.tag{display:inline-block;border-radius:4px;padding:0 6px;font-size:12px;font-weight:600;color:#fff}
.tag.new{background:var(--new)}.tag.match{background:var(--ok)}.tag.miss{background:#9fb3c8}
figure{margin:12px 0 20px}
.figgrid{display:grid;grid-template-columns:repeat(auto-fit,minmax(480px,1fr));gap:16px}
figure img{max-width:100%;border:1px solid var(--line);border-radius:4px;background:#fff}
figcaption{color:var(--muted);font-size:13px}
details{margin:8px 0}
summary{cursor:pointer;color:var(--acc)}
pre{background:var(--bg);padding:10px 12px;border-radius:6px;white-space:pre-wrap;font-size:13px}
ul.changes li{margin:3px 0}
.muted{color:var(--muted)}
footer{color:var(--muted);font-size:12.5px;text-align:center;padding:20px}
"""


def _e(value: Any) -> str:
    """HTML-escape any value (None and NaN become "")."""
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return html.escape(str(value), quote=True)


def _display_text(value: Any) -> str:
    """Undo the formula-neutralising apostrophe that CSV writing adds, for display only."""
    text = "" if value is None or (isinstance(value, float) and pd.isna(value)) else str(value)
    if len(text) > 1 and text[0] == "'" and text[1] in _FORMULA_START:
        return text[1:]
    return text


def _read_csv(path: Path) -> pd.DataFrame | None:
    """Read a run table: strings kept as written, columns that are wholly numeric made numeric."""
    if not path.is_file():
        return None
    try:
        df = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8")
    except (pd.errors.EmptyDataError, UnicodeDecodeError, pd.errors.ParserError) as exc:
        raise ThemeassistError(f"write_report: cannot read {path.name} in {path.parent} ({exc}); "
                               "is this a folder written by themeassist?") from exc
    for col in df.columns:
        if col in ("doc_id", "candidate_id", "theme_id", "parent_id", "period", "year"):
            continue
        values = df[col].replace("", None)
        if values.notna().any():
            num = pd.to_numeric(values, errors="coerce")
            if num.notna().sum() == values.notna().sum():
                df[col] = num
    return df


def _fmt(col: str, value: Any) -> tuple[str, bool]:
    """(escaped text, is_number) for one table cell."""
    if value is None or (isinstance(value, str) and value == ""):
        return "", False
    if isinstance(value, (bool, np.bool_)):
        return ("yes" if value else "no"), False
    if isinstance(value, numbers.Real):
        v = float(value)
        if np.isnan(v):
            return "", False
        if col in _PCT_COLS:
            return f"{100 * v:.1f}%", True
        if col.startswith("p_") or col in ("p", "pvalue", "p_value", "q_value"):
            return (f"{v:.2g}" if v >= 0.001 else "<0.001"), True
        if isinstance(value, numbers.Integral) or (v.is_integer() and abs(v) < 1e15):
            return f"{int(v):,}", True
        return f"{v:.3g}", True
    return _e(_display_text(value)), False


def _table(df: pd.DataFrame, columns: Iterable[str] | None = None, *, max_rows: int = 200,
           source: str | None = None, headers: dict[str, str] | None = None) -> str:
    """An escaped HTML table of (some columns of) ``df``, cut at ``max_rows`` with a note."""
    cols = [c for c in (columns or df.columns) if c in df.columns]
    headers = headers or {}
    if not cols:
        return ""
    body = []
    for _, row in df.head(max_rows).iterrows():
        cells = []
        for c in cols:
            text, num = _fmt(c, row[c])
            cells.append(f'<td class="num">{text}</td>' if num else f"<td>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    numeric = {c for c in cols if pd.api.types.is_numeric_dtype(df[c])}
    head = "".join(f'<th class="num">{_e(headers.get(c, c))}</th>' if c in numeric
                   else f"<th>{_e(headers.get(c, c))}</th>" for c in cols)
    more = ""
    if len(df) > max_rows:
        where = f" (all rows in {_e(source)})" if source else ""
        more = f'<p class="note">Showing {max_rows:,} of {len(df):,} rows{where}.</p>'
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{more}"


def _bar(value: float, maximum: float, cls: str = "") -> str:
    width = 0.0 if maximum <= 0 or pd.isna(value) else max(0.0, min(100.0, 100.0 * float(value) / maximum))
    return f'<div class="bar {cls}"><i style="width:{width:.1f}%"></i></div>'


def _split(value: Any) -> list[str]:
    text = _display_text(value)
    return [p.strip() for p in text.replace(";", "|").split("|") if p.strip()] if text else []


def _section(key: str, title: str, body: str) -> str:
    return f'<section id="{key}"><h2>{_e(title)}</h2>{body}</section>'


# ---- sections ---------------------------------------------------------------------------------

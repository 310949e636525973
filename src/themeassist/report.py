"""A self-contained HTML report of a run folder.

:func:`write_report` reads the tables a run wrote (see :mod:`themeassist.workflows.pipeline` for the
layout) and writes ONE HTML file that opens offline: CSS inline, figures embedded as base64
``data:`` images, no script, no link to anything outside the file (a Content-Security-Policy
meta tag forbids it). Every piece of text from the run (comments, labels, keywords, file names)
is HTML-escaped: comments are untrusted input.

Sections appear for the files that exist, so the report also works on a folder written by
``themeassist discover`` or ``themeassist drift`` alone:

=====================  ==============================================================
section                files read
=====================  ==============================================================
Overview               ``manifest.json``, ``corpus.csv``
Theme hierarchy        ``hierarchy.csv``
Candidate codes        ``candidate_codes.csv`` (+ ``corpus.csv`` for quotes, ``alignment.csv``)
Mapping                ``alignment.csv``, ``hierarchy.csv`` (themes not found)
Prevalence             ``figures/*.png|svg``, ``prevalence.csv`` (+ a relative link to
                       ``figures/prevalence_interactive.html`` when it exists: scripts stay out)
Changes                ``summary.txt``, ``changes.csv``
Emerging               ``new_candidates.csv`` (+ ``candidate_periods.csv`` for the earlier periods)
Agreement              ``agreement.csv``
Provenance             ``manifest.json``
=====================  ==============================================================
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import json
import numbers
import os
import urllib.parse
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import pandas as pd

from themeassist.exceptions import ThemeassistError
from themeassist.io.tables import atomic_write_text

__all__ = ["render_report", "write_report"]

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
def _overview(manifest: dict[str, Any], corpus: pd.DataFrame | None) -> str:
    parts = []
    if manifest.get("note"):
        parts.append(f'<div class="callout">{_e(manifest["note"])}</div>')
    if manifest.get("description"):
        parts.append(f"<p>{_e(manifest['description'])}</p>")
    stats: list[tuple[str, str]] = []
    if corpus is not None and "status" in corpus.columns:
        ok = corpus["status"].isin(["ok", "truncated"])
        stats += [(f"{len(corpus):,}", "input rows"), (f"{int(ok.sum()):,}", "substantive comments")]
        if "period" in corpus.columns:
            periods = sorted(p for p in corpus.loc[ok, "period"].astype(str).unique() if p)
            if periods:
                stats.append((f"{periods[0]}–{periods[-1]}" if len(periods) > 1 else periods[0],
                              f"{len(periods)} periods"))
        other = corpus.loc[~ok, "status"].value_counts()
        if len(other):
            parts.append('<p class="note">Rows kept but not analysed: '
                         + ", ".join(f"{_e(s)} {int(n):,}" for s, n in other.items()) + ".</p>")
    for key, label in (("n_candidate_codes", "candidate codes"), ("n_themes", "codebook themes"),
                       ("n_examples", "coded examples"), ("n_checked", "comments checked in the audit")):
        if manifest.get(key) is not None:
            stats.append((f"{int(manifest[key]):,}", label))
    if stats:
        parts.insert(0, '<div class="stats">' + "".join(f"<div class='stat'><b>{_e(v)}</b><span>{_e(k)}</span>"
                                                       "</div>" for v, k in stats) + "</div>")
    if not parts:
        parts.append('<p class="note">No manifest.json or corpus.csv in this folder.</p>')
    return _section("overview", "Overview", "".join(parts))


def _hierarchy(hier: pd.DataFrame | None) -> str:
    if hier is None or "name" not in hier.columns:
        return _section("hierarchy", "Theme hierarchy", '<p class="note">No hierarchy.csv in this run.</p>')
    count_cols = [c for c in ("n_human", "n_suggested") if c in hier.columns]
    maximum = max([float(hier[c].max()) for c in count_cols] + [1.0])
    head = "<th>Theme</th>" + "".join(
        f'<th class="num">{"Human-coded" if c == "n_human" else "Suggested"}</th>' for c in count_cols)
    if "n_candidates" in hier.columns:
        head += '<th class="num">Candidate codes</th>'
    head += "<th>Suggested comments</th>" if "n_suggested" in hier.columns else ""
    rows = []
    for _, r in hier.iterrows():
        depth = int(r.get("depth", 0) or 0)
        weight = "600" if depth < 2 and not bool(r.get("is_leaf", False)) else "400"
        name = f'<span style="padding-left:{18 * depth}px;font-weight:{weight}">{_e(_display_text(r["name"]))}</span>'
        cells = [f"<td>{name}</td>"]
        cells += [f'<td class="num">{_fmt(c, r[c])[0]}</td>' for c in count_cols]
        if "n_candidates" in hier.columns:
            cells.append(f'<td class="num">{_fmt("n_candidates", r["n_candidates"])[0]}</td>')
        if "n_suggested" in hier.columns:
            cells.append(f"<td>{_bar(r['n_suggested'], maximum)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    note = ('<p class="note">Counts are comments: a comment counts once for each theme it was coded or suggested '
            "under, and once for each parent of those themes. Human-coded counts come from the coded comments "
            "given to the run.</p>")
    return _section("hierarchy", "Theme hierarchy and counts",
                    note + f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")


def _alignment_lookup(align: pd.DataFrame | None) -> dict[str, tuple[str, str, bool]]:
    """candidate_id -> (theme label, score text, is new-theme candidate)."""
    if align is None or "candidate_id" not in align.columns:
        return {}
    out: dict[str, tuple[str, str, bool]] = {}
    tcol, scol = _theme_col(align), _score_col(align)
    for _, r in align.iterrows():
        key = str(r["candidate_id"])
        if key in out:  # several matching themes: the first row is the best
            continue
        out[key] = (_display_text(r.get(tcol, "")) if tcol else "",
                    _fmt(scol, r.get(scol))[0] if scol else "", _is_new(r))
    return out


def _theme_col(df: pd.DataFrame) -> str:
    for c in ("theme_name", "theme_path", "theme", "best_theme", "theme_id"):
        if c in df.columns:
            return c
    return ""


def _score_col(df: pd.DataFrame) -> str:
    for c in ("share", "score", "similarity", "best_score"):
        if c in df.columns:
            return c
    return ""


def _is_new(row: pd.Series) -> bool:
    for c in ("possible_new_theme", "is_new_theme", "new_theme", "new_theme_candidate"):
        if c in row.index and str(row[c]).strip().lower() in ("true", "1", "yes"):
            return True
    for c in ("relation", "decision", "status", "verdict"):
        if c in row.index and "new" in str(row[c]).lower():
            return True
    return False


def _candidates(cands: pd.DataFrame | None, corpus: pd.DataFrame | None, align: pd.DataFrame | None,
                n_quotes: int = 2, max_rows: int = 200) -> str:
    if cands is None or "candidate_id" not in cands.columns:
        return _section("candidates", "Candidate codes", '<p class="note">No candidate_codes.csv in this run.</p>')
    texts = {}
    if corpus is not None and {"doc_id", "text"} <= set(corpus.columns):
        texts = dict(zip(corpus["doc_id"].astype(str), corpus["text"]))
    aligned = _alignment_lookup(align)
    shown = cands[cands["candidate_id"].astype(str) != "-1"]
    rows = []
    for _, r in shown.head(max_rows).iterrows():
        cid = str(r["candidate_id"])
        label = _display_text(r.get("label", cid))
        kws = "".join(f'<span class="kw">{_e(k)}</span>' for k in _split(r.get("keywords", ""))[:10])
        quotes = []
        docs = _split(r.get("representative_doc_ids", ""))
        for doc in docs[:n_quotes]:
            if doc in texts:
                q = _display_text(texts[doc])
                q = q if len(q) <= 280 else q[:277].rstrip() + "…"
                quotes.append(f"<blockquote>{_e(q)} <span class='muted'>({_e(doc)})</span></blockquote>")
        if not quotes:  # a discover folder has no corpus.csv: its table carries the quotes itself
            lines = [ln.strip() for ln in _display_text(r.get("representative_quotes", "")).splitlines() if ln.strip()]
            for i, q in enumerate(lines[:n_quotes]):
                q = q if len(q) <= 280 else q[:277].rstrip() + "…"
                doc = f" <span class='muted'>({_e(docs[i])})</span>" if i < len(docs) else ""
                quotes.append(f"<blockquote>{_e(q)}{doc}</blockquote>")
        theme = ""
        if cid in aligned:
            name, score, new = aligned[cid]
            tag = '<span class="tag new">new theme?</span> ' if new else ""
            theme = f"{tag}{_e(name)}" + (f' <span class="muted">({score})</span>' if score else "")
        size = _fmt("n_docs", r.get("n_docs"))[0]
        share = _fmt("share", r.get("share"))[0] if "share" in cands.columns else ""
        rows.append(f"<tr><td><b>{_e(label)}</b><br><span class='muted'>#{_e(cid)}</span></td>"
                    f'<td class="num">{size}<br><span class="muted">{share}</span></td>'
                    f"<td>{kws}</td><td>{''.join(quotes)}</td><td>{theme}</td></tr>")
    n_out = ""
    if "n_docs" in cands.columns and (cands["candidate_id"].astype(str) == "-1").any():
        n = int(cands.loc[cands["candidate_id"].astype(str) == "-1", "n_docs"].iloc[0])
        n_out = f" {n:,} comments were left as outliers (no candidate code)."
    more = (f'<p class="note">Showing {max_rows} of {len(shown)} codes (all in candidate_codes.csv).</p>'
            if len(shown) > max_rows else "")
    note = (f'<p class="note">Codes proposed by topic modelling (embeddings, UMAP, HDBSCAN, c-TF-IDF), largest '
            f"first, with their most representative comments and the codebook theme they align with best."
            f"{_e(n_out)}</p>")
    table = ("<table><thead><tr><th>Candidate code</th><th class='num'>Comments</th><th>Keywords</th>"
             f"<th>Representative comments</th><th>Closest theme (share of its comments)</th></tr></thead><tbody>{''.join(rows)}"
             "</tbody></table>")
    return _section("candidates", "Candidate codes", note + table + more)


def _mapping(align: pd.DataFrame | None, hier: pd.DataFrame | None, max_rows: int) -> str:
    parts = []
    if align is not None and len(align):
        flags = align.apply(_is_new, axis=1).astype(bool)
        new = align[flags].drop_duplicates("candidate_id") if "candidate_id" in align.columns else align[flags]
        label_col = "label" if "label" in align.columns else "candidate_id"
        parts.append('<p class="note">Each candidate code next to the codebook themes it matches: '
                     "<i>share</i> is the share of its comments suggested for the theme, <i>similarity</i> the "
                     "cosine between the code and the theme's description. Codes that match no theme are "
                     "new-theme candidates: patterns the codebook does not name yet, for the researcher to "
                     "review.</p>")
        parts.append(f"<h3>New-theme candidates ({len(new)})</h3>")
        if len(new):
            items = []
            for _, r in new.iterrows():
                size = f" ({_fmt('n_docs', r['n_docs'])[0]} comments)" if "n_docs" in align.columns else ""
                kws = "".join(f'<span class="kw">{_e(k)}</span>' for k in _split(r.get("keywords", ""))[:8])
                quotes = "".join(f"<blockquote>{_e(q.strip())}</blockquote>"
                                 for q in _display_text(r.get("quotes", "")).split(" | ") if q.strip())
                items.append(f'<li><span class="tag new">new</span> <b>{_e(_display_text(r[label_col]))}</b>'
                             f"{size} {kws}{quotes}</li>")
            parts.append("<ul>" + "".join(items) + "</ul>")
        else:
            parts.append('<p class="note">None: every candidate code matches a codebook theme.</p>')
        parts.append("<h3>Mapping table</h3>" + _mapping_table(align[~flags], label_col, max_rows))
    else:
        parts.append('<p class="note">No alignment.csv in this run.</p>')
    if hier is not None and "is_leaf" in hier.columns:
        leaf = hier["is_leaf"].astype(str).str.lower().isin(["true", "1"])
        if "found" in hier.columns:
            missing = hier[~hier["found"].astype(str).str.lower().isin(["true", "1"])]
            why = "no candidate code matches it and no comment is suggested for it"
        elif "n_candidates" in hier.columns:
            missing = hier[leaf & (pd.to_numeric(hier["n_candidates"], errors="coerce").fillna(0) == 0)]
            why = "no candidate code matches it"
        else:
            missing = None
        if missing is not None:
            items = [f'<li><span class="tag miss">not found</span> {_e(_display_text(r["name"]))}'
                     + (f' <span class="muted">({_e(_display_text(r["path"]))})</span>' if "path" in r.index else "")
                     + "</li>" for _, r in missing.iterrows()]
            parts.append(f"<h3>Themes not found ({len(items)})</h3>")
            parts.append(f'<p class="note">Codebook themes for which {why} in these data.</p>'
                         + ("<ul>" + "".join(items) + "</ul>" if items else
                            '<p class="note">None: every theme was found.</p>'))
    return _section("mapping", "Mapping candidate codes to the codebook", "".join(parts))


def _mapping_table(matched: pd.DataFrame, label_col: str, max_rows: int) -> str:
    """One row per candidate code, its matching themes (best first) in one cell."""
    if matched.empty:
        return '<p class="note">No candidate code matches a codebook theme.</p>'
    key = "candidate_id" if "candidate_id" in matched.columns else label_col
    tcol, has_share, has_sim = _theme_col(matched), "share" in matched.columns, "similarity" in matched.columns
    rows = []
    for n, (_, grp) in enumerate(matched.groupby(key, sort=False)):
        if n >= max_rows:
            break
        first = grp.iloc[0]
        themes = []
        for _, r in grp.iterrows():
            path = _split_path(r.get("theme_path", ""))
            parent = f'<span class="muted"> — {_e(path[-2])}</span>' if len(path) > 1 else ""
            nums = []
            if has_share and pd.notna(r["share"]):
                nums.append(f"{_fmt('share', r['share'])[0]} of its comments")
            if has_sim and pd.notna(r["similarity"]):
                nums.append(f"similarity {_fmt('similarity', r['similarity'])[0]}")
            themes.append(f"<div>{_e(_display_text(r.get(tcol, '')))}{parent}"
                          + (f' <span class="muted">({", ".join(nums)})</span>' if nums else "") + "</div>")
        size = _fmt("n_docs", first["n_docs"])[0] if "n_docs" in matched.columns else ""
        rows.append(f"<tr><td><b>{_e(_display_text(first[label_col]))}</b></td><td class='num'>{size}</td>"
                    f"<td>{''.join(themes)}</td></tr>")
    n_codes = matched[key].nunique()
    more = (f'<p class="note">Showing {max_rows} of {n_codes} codes (all in alignment.csv).</p>'
            if n_codes > max_rows else "")
    return ("<table><thead><tr><th>Candidate code</th><th class='num'>Comments</th><th>Matching themes "
            f"(best first)</th></tr></thead><tbody>{''.join(rows)}</tbody></table>{more}")


def _split_path(value: Any) -> list[str]:
    text = _display_text(value)
    return [p.strip() for p in text.split(" > ")] if text else []


def _image(path: Path, caption: str) -> str:
    data = path.read_bytes()
    if len(data) > _MAX_IMAGE_BYTES:
        return f'<p class="note">{_e(path.name)} is too large to embed ({len(data):,} bytes).</p>'
    is_svg = path.suffix.lower() == ".svg"
    if (is_svg and b"<svg" not in data[:4096]) or (not is_svg and not data.startswith(b"\x89PNG\r\n\x1a\n")):
        return f'<p class="note">{_e(path.name)} is not a {"SVG" if is_svg else "PNG"} image; not embedded.</p>'
    mime = "image/svg+xml" if is_svg else "image/png"
    b64 = base64.b64encode(data).decode("ascii")
    return (f'<figure><img alt="{_e(caption)}" src="data:{mime};base64,{b64}">'
            f"<figcaption>{_e(caption)}</figcaption></figure>")


def _figures(run: Path, captions: dict[str, str]) -> str:
    """Embed figures/*.png|svg (PNG preferred; figures written beside the tables by older drift
    folders too), in the manifest's order; heatmaps two to a row."""
    folders = [f for f in (run / "figures", run) if f.is_dir()]
    by_stem: dict[str, Path] = {}
    for p in sorted(q for f in folders for q in f.iterdir()):
        if p.parent == run and p.stem in by_stem:
            continue
        if p.suffix.lower() in (".png", ".svg") and p.is_file() and not p.is_symlink():
            if p.stem not in by_stem or p.suffix.lower() == ".png":  # prefer PNG (smaller) over SVG
                by_stem[p.stem] = p
    order = [k for k in captions if k in by_stem] + sorted(k for k in by_stem if k not in captions)
    wide = [k for k in order if "heatmap" not in k]
    pairs = [k for k in order if "heatmap" in k]
    html_parts = [_image(by_stem[k], captions.get(k, k.replace("_", " ").capitalize())) for k in wide]
    if pairs:
        html_parts.append('<div class="figgrid">' + "".join(
            _image(by_stem[k], captions.get(k, k.replace("_", " ").capitalize())) for k in pairs) + "</div>")
    return "".join(html_parts)


def _prevalence_table(prev: pd.DataFrame) -> str:
    need = {"period", "theme", "prevalence"}
    if not need <= set(prev.columns):
        return _table(prev, max_rows=100, source="prevalence.csv")
    by = "source" if "source" in prev.columns else "method" if "method" in prev.columns else None
    methods = list(dict.fromkeys(prev[by].astype(str))) if by else [""]
    blocks = []
    for method in methods:
        sub = prev[prev[by].astype(str) == method] if by else prev
        cell = sub.apply(lambda r: f"{100 * r['prevalence']:.0f}%" + (
            f" ({100 * r['ci_low']:.0f}–{100 * r['ci_high']:.0f})"
            if {"ci_low", "ci_high"} <= set(sub.columns) and pd.notna(r.get("ci_low")) and r.get("ci_low") != ""
            else ""), axis=1) if len(sub) else pd.Series(dtype=str)
        wide = (sub.assign(cell=cell).pivot_table(index="theme", columns="period", values="cell",
                                                  aggfunc="first", sort=False)
                if len(sub) else pd.DataFrame())
        if wide.empty:
            continue
        wide = wide.reset_index()
        wide.columns = [str(c) for c in wide.columns]
        title = f"Prevalence by period — {_SOURCES.get(method, method)}" if method else "Prevalence by period"
        blocks.append(f"<details><summary>{_e(title)} (share of substantive comments, 95% interval)</summary>"
                      f"{_table(wide, max_rows=400)}</details>")
    return "".join(blocks)


def _interactive_link(run: Path, report_dir: Path) -> str:
    """A relative link to the interactive figure (a separate file: this page runs no script)."""
    for rel in _INTERACTIVE:
        target = run / rel
        if target.is_file() and not target.is_symlink():
            href = Path(os.path.relpath(target.resolve(), report_dir.resolve())).as_posix()
            return (f'<p class="note"><a href="{_e(urllib.parse.quote(href))}">Interactive version of the '
                    "prevalence figure</a> (a separate HTML file next to this report: hover a point for its "
                    "period, prevalence, interval and counts; it opens offline).</p>")
    return ""


def _prevalence(run: Path, prev: pd.DataFrame | None, captions: dict[str, str], report_dir: Path) -> str:
    figs = _figures(run, captions)
    if not figs and prev is None:
        return _section("prevalence", "Prevalence over time", '<p class="note">No prevalence.csv or figures.</p>')
    sources = list(dict.fromkeys(prev["source"].astype(str))) if prev is not None and "source" in prev.columns else []
    audited = [m for m in sources if m in ("ppi", "pacc", "emq")]
    checked = ""
    if prev is not None and "n_checked" in prev.columns and audited:
        sub = prev[prev["source"].astype(str) == audited[0]].drop_duplicates("period")
        checked = (f" {int(pd.to_numeric(sub['n_checked'], errors='coerce').fillna(0).sum()):,} comments were checked "
                   "by a coder (" + ", ".join(f"{_e(p)}: {int(n):,}" for p, n in zip(sub["period"], sub["n_checked"]))
                   + ").")
    lead = (f"The first estimate shown is {_e(_SOURCES.get(audited[0], audited[0]))}: the machine's scores for every "
            f"comment, corrected by a random audit checked by a coder.{checked} Raw suggestion counts carry the "
            "model's errors and are shown beside it, with the human codes where there are some."
            if audited else "Suggestion-based figures are NOT corrected for the model's errors; audit a random "
            "sample (`themeassist audit`) and pass it to `themeassist drift --audit` to correct them.")
    note = ('<p class="note">Share of substantive comments per period for each theme, with 95% intervals. '
            f"{lead}</p>") + _interactive_link(run, report_dir)
    tables = _prevalence_table(prev) if prev is not None and len(prev) else ""
    return _section("prevalence", "Prevalence over time", note + figs + tables)


def _summary_html(text: str) -> str:
    """summary.txt as HTML: lines ending with ":" become headings, "- " lines bullets, others paragraphs."""
    out, items = [], []

    def flush() -> None:
        if items:
            out.append('<ul class="changes">' + "".join(f"<li>{_e(i)}</li>" for i in items) + "</ul>")
            items.clear()

    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line[:2] in ("- ", "* ", "• "):
            items.append(line[2:].strip())
        elif line.endswith(":"):
            flush()
            minor = raw.startswith(" ") or any(w in line.lower() for w in ("trend", "flag", "change", "pair"))
            level = "h4" if minor else "h3"
            out.append(f"<{level}>{_e(line[:-1])}</{level}>")
        else:
            flush()
            out.append(f"<p>{_e(line)}</p>")
    flush()
    return "".join(out)


def _changes(run: Path, changes: pd.DataFrame | None, max_rows: int) -> str:
    parts = []
    summary = run / "summary.txt"
    if summary.is_file():
        parts.append(_summary_html(summary.read_text(encoding="utf-8", errors="replace")))
    if changes is not None and len(changes):
        flagged = changes
        for col in ("significant", "flag", "flags", "is_significant"):
            if col in changes.columns:
                mask = changes[col].astype(str).str.strip().str.lower().isin(["", "false", "0", "none", "nan"])
                flagged = changes[~mask]
                break
        parts.append(f"<details><summary>Tests for change ({len(changes):,} rows, changes.csv)</summary>"
                     f"{_table(flagged if len(flagged) else changes, max_rows=max_rows, source='changes.csv')}"
                     "</details>")
    if not parts:
        parts.append('<p class="note">No summary.txt or changes.csv in this run.</p>')
    return _section("changes", "Change summary", "".join(parts))


def _emerging(new: pd.DataFrame | None, per: pd.DataFrame | None, rule: Any, max_rows: int) -> str:
    """Candidate codes new in a period: label, keywords, the period, its counts and the periods before."""
    if new is None:
        return ""
    rule = rule if isinstance(rule, dict) else {}
    n_min = rule.get("min_count", 3)
    floor = _fmt("share", rule.get("min_prev", 0.01))[0]
    note = ('<p class="note">Candidate codes of discovery that are <i>new</i> in a period: present there (at least '
            f"{_e(n_min)} comments and a 95% interval above {_e(floor)} of the period's comments) after a period "
            "where they were absent (no comment) and none where they were present, the minimum-evidence rule of "
            "the change tests: one stray comment never makes a code present. Counts of every code in every "
            "period are in candidate_periods.csv.</p>")
    need = {"candidate_id", "period", "n_code", "n_comments"}
    if not len(new) or not need <= set(new.columns):
        return _section("emerging", "Candidate codes new in a period",
                        note + '<p class="note">No candidate code is new in a period.</p>')
    rows = []
    for _, r in new.head(max_rows).iterrows():
        cid = _display_text(r["candidate_id"])
        label = _display_text(r.get("label", "")) or f"code {cid}"
        kws = "".join(f'<span class="kw">{_e(k)}</span>' for k in _split(r.get("keywords", ""))[:8])
        before = ""
        if per is not None and need <= set(per.columns):
            mine = per[per["candidate_id"].astype(str) == str(r["candidate_id"])]
            periods = [str(p) for p in mine["period"]]
            upto = periods.index(str(r["period"])) if str(r["period"]) in periods else 0
            before = ", ".join(f"{_e(p)}: {_fmt('n_code', k)[0]} of {_fmt('n_comments', m)[0]}"
                               for p, k, m in zip(periods[:upto], mine["n_code"], mine["n_comments"]))
        share = _fmt("share", r["share"])[0] if "share" in new.columns else ""
        rows.append(f"<tr><td><b>{_e(label)}</b><br><span class='muted'>#{_e(cid)}</span></td><td>{kws}</td>"
                    f"<td>{_e(_display_text(r['period']))}</td>"
                    f"<td class='num'>{_fmt('n_code', r['n_code'])[0]} of {_fmt('n_comments', r['n_comments'])[0]}"
                    f"<br><span class='muted'>{share}</span></td><td>{before}</td></tr>")
    more = (f'<p class="note">Showing {max_rows} of {len(new)} codes (all in new_candidates.csv).</p>'
            if len(new) > max_rows else "")
    table = ("<table><thead><tr><th>Candidate code</th><th>Keywords</th><th>New in</th><th class='num'>Comments "
             "(share)</th><th>Earlier periods (comments of all)</th></tr></thead><tbody>"
             f"{''.join(rows)}</tbody></table>{more}")
    return _section("emerging", "Candidate codes new in a period", note + table)


def _agreement(agree: pd.DataFrame | None, max_rows: int) -> str:
    if agree is None:
        return ""
    n = ""
    for col in ("n_docs", "n_comments"):
        if col in agree.columns and len(agree):
            n = f" ({_fmt(col, agree[col].iloc[0])[0]} comments)"
            break
    note = ('<p class="note">Agreement between the human codes and the suggestions on the comments the model did '
            f"not learn from{n}: precision is the share of suggestions a human coder also made, recall the share "
            "of human codes the model suggested; Cohen's kappa and Krippendorff's alpha correct for chance.</p>")
    cols = [c for c in agree.columns if c not in ("theme_id", "n_comments", "n_docs")]
    return _section("agreement", "Agreement with human coding", note + _table(agree, cols, max_rows=max_rows,
                                                                            source="agreement.csv"))


def _provenance(manifest: dict[str, Any]) -> str:
    if not manifest:
        return ""
    parts = []
    simple = {k: v for k, v in manifest.items() if not isinstance(v, (dict, list)) and k not in ("note",)}
    if simple:
        parts.append(_table(pd.DataFrame({"item": list(simple), "value": [str(v) for v in simple.values()]})))
    for key in ("params", "versions"):
        if isinstance(manifest.get(key), dict) and manifest[key]:
            d = manifest[key]
            parts.append(f"<h3>{_e(key.capitalize())}</h3>"
                         + _table(pd.DataFrame({"name": list(d), "value": [json.dumps(v) if isinstance(v, (dict, list))
                                                                           else str(v) for v in d.values()]})))
    files = manifest.get("files")
    if isinstance(files, dict) and files:
        rows = [{"file": k, "sha256": (v.get("sha256") if isinstance(v, dict) else v),
                 "bytes": (v.get("bytes") if isinstance(v, dict) else None)} for k, v in files.items()]
        parts.append("<details><summary>Files and checksums</summary>"
                     + _table(pd.DataFrame(rows), max_rows=500) + "</details>")
    return _section("provenance", "Provenance", "".join(parts))


# ---- public -----------------------------------------------------------------------------------
def render_report(run_dir: str | os.PathLike[str], *, title: str | None = None, max_rows: int = 200) -> str:
    """Return the report of a run folder as one HTML string (see :func:`write_report`).

    Links to other files of the run (the interactive figure) are relative to ``run_dir``, where
    the report is written by default.

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> run = tempfile.mkdtemp()
    >>> pd.DataFrame({"candidate_id": [0], "label": ["<b>x</b>"], "n_docs": [3]}).to_csv(
    ...     run + "/candidate_codes.csv", index=False)
    >>> page = render_report(run)
    >>> "&lt;b&gt;x&lt;/b&gt;" in page and "<b>x</b>" not in page
    True
    """
    return _render(Path(run_dir), title=title, max_rows=max_rows, report_dir=Path(run_dir))


def _redacted(table: pd.DataFrame | None, names: list[str]) -> pd.DataFrame | None:
    """``--redact``: every text column of a run table redacted (ids and theme ids kept)."""
    if table is None:
        return None
    from themeassist.redact import redact, text_columns

    cols = text_columns(table, exclude=("doc_id", "candidate_id", "theme_id", "parent_id", "period", "year"))
    return redact(table, names=names, columns=cols)[0] if cols else table


def _render(run: Path, *, title: str | None, max_rows: int, report_dir: Path,
            redact: tuple[list[str]] | None = None) -> str:
    if not run.is_dir():
        raise ThemeassistError(f"write_report: run folder {os.fspath(run)!r} does not exist; pass the folder "
                               "written by `themeassist demo` (or discover/suggest/drift).")
    manifest: dict[str, Any] = {}
    if (run / "manifest.json").is_file():
        try:
            manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ThemeassistError(f"write_report: {run / 'manifest.json'} is not valid JSON ({exc}).") from exc
        if not isinstance(manifest, dict):
            manifest = {}
    tables = {name: _read_csv(run / f"{name}.csv") for name in
              ("corpus", "hierarchy", "candidate_codes", "alignment", "prevalence", "changes", "agreement",
               "new_candidates", "candidate_periods")}
    if redact is not None:
        tables = {name: _redacted(t, redact[0]) for name, t in tables.items()}
    if not any(t is not None for t in tables.values()) and not (run / "figures").is_dir():
        raise ThemeassistError(f"write_report: {os.fspath(run)!r} holds none of the files a run writes "
                               "(candidate_codes.csv, suggestions.csv, prevalence.csv, ...).")
    captions = manifest.get("figures", {}) if isinstance(manifest.get("figures"), dict) else {}
    title = title or manifest.get("title") or f"themeassist report: {run.name}"
    body = [
        _overview(manifest, tables["corpus"]),
        _hierarchy(tables["hierarchy"]),
        _candidates(tables["candidate_codes"], tables["corpus"], tables["alignment"], max_rows=max_rows),
        _mapping(tables["alignment"], tables["hierarchy"], max_rows),
        _prevalence(run, tables["prevalence"], captions, report_dir),
        _changes(run, tables["changes"], max_rows),
        _emerging(tables["new_candidates"], tables["candidate_periods"],
                  (manifest.get("params") or {}).get("candidate_periods") if isinstance(manifest.get("params"), dict)
                  else None, max_rows),
        _agreement(tables["agreement"], max_rows),
        _provenance(manifest),
    ]
    nav = "".join(f'<a href="#{k}">{_e(k.capitalize())}</a>' for k, b in zip(SECTIONS, body) if b)
    stamp = manifest.get("created") or _dt.datetime.now().isoformat(timespec="seconds")
    sub = manifest.get("subtitle", "")
    return ("<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; "
            "style-src 'unsafe-inline'\">"
            "<meta name='viewport' content='width=device-width,initial-scale=1'>"
            f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>"
            f"<header><h1>{_e(title)}</h1>" + (f"<p>{_e(sub)}</p>" if sub else "")
            + f"<p>Generated {_e(stamp)} by themeassist. Machine suggestions: the researcher decides.</p></header>"
            f"<nav>{nav}</nav><main>{''.join(body)}</main>"
            "<footer>Self-contained report: no scripts, no external resources.</footer></body></html>\n")


def write_report(run_dir: str | os.PathLike[str], out_html: str | os.PathLike[str] | None = None, *,
                 title: str | None = None, max_rows: int = 200, redact: bool = False,
                 redact_names: Iterable[str] = ()) -> Path:
    """Write the self-contained HTML report of a run folder.

    Parameters
    ----------
    run_dir : path
        A folder written by :func:`themeassist.workflows.pipeline.run_all` / ``themeassist demo`` (or by
        ``themeassist discover`` / ``drift``; sections whose files are missing say so).
    out_html : path, optional
        Where to write; default ``run_dir/report.html``.
    title : str, optional
        Page title; default the manifest's ``title`` or the folder name.
    max_rows : int, default 200
        Longest table shown (the note under a cut table names the file with every row).
    redact : bool, default False
        Redact (:func:`themeassist.redact.redact`) every text column of the run's tables before
        they are shown: quotes, labels, keywords, evidence, comments (CLI: ``--redact``).
    redact_names : iterable of str
        Person names to redact too.

    Returns
    -------
    pathlib.Path
        The written file: one HTML page with inline CSS and base64-embedded figures, no script and
        no network resource; every text from the run is HTML-escaped.

    Raises
    ------
    ThemeassistError
        When ``run_dir`` does not exist or holds none of the files a run writes.

    Examples
    --------
    >>> from themeassist.report import write_report
    >>> write_report("demo-output", "demo-output/report.html")   # doctest: +SKIP
    PosixPath('demo-output/report.html')
    """
    out = Path(out_html) if out_html is not None else Path(run_dir) / "report.html"
    html_text = _render(Path(run_dir), title=title, max_rows=max_rows, report_dir=out.parent,
                        redact=(list(redact_names),) if redact else None)
    return atomic_write_text(out, html_text)

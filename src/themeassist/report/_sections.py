"""The report's sections, one function each: they read a run's tables and return HTML (or "")."""

from __future__ import annotations

import base64
import json
import os
import urllib.parse
from pathlib import Path
from typing import Any

import pandas as pd

from themeassist._schema import theme_labels
from themeassist.report._html import (_INTERACTIVE, _MAX_IMAGE_BYTES, _SOURCES, _bar, _display_text, _e, _fmt,
                                      _section, _split, _table)

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
        if "assigned_by" in corpus.columns:  # discovery: outliers given their nearest code, or kept apart
            by = corpus.loc[ok, "assigned_by"].astype(str).value_counts()
            stats += [(f"{int(by.get('reassigned', 0)):,}", "outliers given their nearest code")]
            if "is_outlier" in corpus.columns and corpus["is_outlier"].astype(str).eq("True").any():
                stats += [(f"{int(corpus['is_outlier'].astype(str).eq('True').sum()):,}", "outliers in no code")]
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
        parts.append('<p class="note">No manifest.json, corpus.csv or assignments.csv in this folder.</p>')
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
        # one row per theme: a name that several themes share is shown with its parent
        wide = (sub.assign(cell=cell, theme=theme_labels(sub)).pivot_table(index="theme", columns="period",
                                                                           values="cell", aggfunc="first", sort=False)
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
        known = int(pd.to_numeric(sub["n_known"], errors="coerce").fillna(0).sum()) if "n_known" in sub.columns else 0
        if known:
            checked += f" {known:,} coded examples were counted with their codes."
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


def _agreement(agree: pd.DataFrame | None, max_rows: int, held_out: Any = None) -> str:
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
    note += _expected_note(agree, held_out)
    cols = [c for c in agree.columns if c not in ("theme_id", "n_comments", "n_docs")]
    return _section("agreement", "Agreement with human coding", note + _table(agree, cols, max_rows=max_rows,
                                                                            source="agreement.csv"))


def _expected_note(agree: pd.DataFrame, held_out: Any) -> str:
    """What the mapper's held-out examples led one to expect (manifest ``held_out``) beside the
    mean per-theme kappa measured here (every code, leaves and parents coded on their own, with at
    least 3 human codes). A manifest edited by hand into something else shows nothing."""
    def num(v: Any) -> float | None:
        try:
            x = float(v)
        except (TypeError, ValueError):
            return None
        return x if x == x else None

    if not isinstance(held_out, dict) or num(held_out.get("mean_kappa")) is None:
        return ""
    ends = held_out.get("kappa_interval")
    lo, hi = (num(ends[0]), num(ends[1])) if isinstance(ends, list) and len(ends) == 2 else (None, None)
    span = f" (likely {lo:.2f} to {hi:.2f})" if lo is not None and hi is not None else ""
    measured = ""
    if {"level", "n_human", "cohen_kappa"} <= set(agree.columns):
        leaf = agree[agree["level"].isin(("leaf", "itself")) & (pd.to_numeric(agree["n_human"], errors="coerce") >= 3)]
        k = pd.to_numeric(leaf["cohen_kappa"], errors="coerce").mean()
        if k == k:
            measured = f"; measured here: {k:.2f}"
    n = num(held_out.get("n_examples"))
    return (f'<p class="note">Expected before any suggestion was read (held_out.csv: the mapper\'s '
            f"{f'{int(n)} ' if n is not None else ''}coded examples, each scored without it): mean per-theme kappa "
            f"{num(held_out['mean_kappa']):.2f}{span}{measured}.</p>")


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

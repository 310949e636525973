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
Agreement              ``agreement.csv`` (+ ``manifest.json``'s ``held_out``: what the mapper's
                       held-out examples led one to expect, beside the kappa measured)
Provenance             ``manifest.json``
=====================  ==============================================================
"""

from __future__ import annotations

import datetime as _dt
import json
import os
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from themeassist.exceptions import ThemeassistError
from themeassist.io.tables import atomic_write_text
from themeassist.report._html import SECTIONS, _CSS, _e, _read_csv
from themeassist.report._sections import (_agreement, _candidates, _changes, _emerging, _hierarchy, _mapping,
                                          _overview, _prevalence, _provenance)

__all__ = ["SECTIONS", "render_report", "write_report"]


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


#: The tables of a run folder a report is made from (``<name>.csv``), besides ``figures/`` and ``manifest.json``.
REPORT_TABLES = ("corpus", "hierarchy", "candidate_codes", "alignment", "prevalence", "changes", "agreement",
                 "new_candidates", "candidate_periods")


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
                               "written by `themeassist demo`, `discover --out` or `drift --out`.")
    manifest: dict[str, Any] = {}
    if (run / "manifest.json").is_file():
        try:
            manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError as exc:
            raise ThemeassistError(f"write_report: {run / 'manifest.json'} is not valid JSON ({exc}).") from exc
        if not isinstance(manifest, dict):
            manifest = {}
    if not manifest and (run / "model" / "manifest.json").is_file():  # a `discover --out` folder
        try:
            saved = json.loads((run / "model" / "manifest.json").read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            saved = {}
        if isinstance(saved, dict) and saved.get("kind") == "discovery":
            manifest = {k: saved[k] for k in ("created", "model_id", "params") if k in saved}
    tables = {name: _read_csv(run / f"{name}.csv") for name in REPORT_TABLES}
    if tables["corpus"] is None:  # discovery's assignments: one row per input row, with its status
        tables["corpus"] = _read_csv(run / "assignments.csv")
    raw = _read_csv(run / "suggested_prevalence.csv")  # `drift --audit`: the raw counts, shown beside
    if raw is not None and tables["prevalence"] is not None and "source" in raw.columns:
        tables["prevalence"] = pd.concat([tables["prevalence"], raw], ignore_index=True)
    if redact is not None:
        tables = {name: _redacted(t, redact[0]) for name, t in tables.items()}
    if not any(t is not None for t in tables.values()) and not (run / "figures").is_dir():
        raise ThemeassistError(f"write_report: {os.fspath(run)!r} holds none of the files a report is made from "
                               f"({', '.join(n + '.csv' for n in REPORT_TABLES)}, figures/): pass the folder written by "
                               "`themeassist demo`, `discover --out` or `drift --out`. A suggestions file is reported "
                               "through drift: `themeassist drift SUGGESTIONS --period-col COL --audit AUDIT --codebook "
                               "CB --out DIR`, then `themeassist report DIR`.")
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
        _agreement(tables["agreement"], max_rows, manifest.get("held_out")),
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

"""Drift workflow: a coded file (or suggestions file) in, a folder of tables, a summary and figures out.

:func:`run_drift` composes the drift stage's public functions (:func:`themeassist.drift.prevalence`,
:func:`themeassist.drift.changes`, :func:`themeassist.drift.summarise_changes`, tone and plots).
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import numpy as np
import pandas as pd

from themeassist.drift import changes, prevalence, summarise_changes
from themeassist.drift._codes import _CORPUS_STATUSES, _SUBSTANTIVE, _resolve_codebook
from themeassist.exceptions import ThemeassistError

__all__ = ["DriftResult", "run_drift"]


# ---- one call: file in, folder out --------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DriftResult:
    """What :func:`run_drift` computed and wrote.

    Attributes
    ----------
    prevalence : DataFrame
        :func:`prevalence` by period (``prevalence.csv``).
    changes : DataFrame
        :func:`changes` over periods (``changes.csv``).
    summary : str
        :func:`summarise_changes` (``summary.txt``).
    group_prevalence, group_changes : DataFrame or None
        By period x group and the group comparisons within each period (``group_col`` only).
    tone : DataFrame or None
        :func:`themeassist.drift.tone.tone_by_theme` (when a text column is available).
    files : tuple of Path
        Every file written.
    """

    prevalence: pd.DataFrame
    changes: pd.DataFrame
    summary: str
    group_prevalence: pd.DataFrame | None = None
    group_changes: pd.DataFrame | None = None
    tone: pd.DataFrame | None = None
    files: tuple[Path, ...] = field(default=())

    def to_frame(self) -> pd.DataFrame:
        """The prevalence table."""
        return self.prevalence


def _read_input(input_path: Any) -> pd.DataFrame:
    if isinstance(input_path, pd.DataFrame):
        return input_path.copy()
    from themeassist.io.tables import read_table

    path = Path(input_path)
    kwargs: dict[str, Any] = {"keep_default_na": False, "na_values": [""]} if path.suffix.lower() == ".csv" else {}
    try:
        return read_table(path, **kwargs)
    except (ValueError, FileNotFoundError) as exc:
        raise ThemeassistError(f"run_drift: cannot read {os.fspath(input_path)!r}: {exc}") from exc


def _column(df: pd.DataFrame, name: str, param: str) -> pd.Series:
    if name not in df.columns:
        import difflib

        close = difflib.get_close_matches(str(name), [str(c) for c in df.columns], n=1, cutoff=0.5)
        hint = f" Pass {param}={close[0]!r}?" if close else ""
        raise ThemeassistError(f"run_drift: column {name!r} not found (columns: "
                               f"{', '.join(map(repr, map(str, df.columns)))}).{hint}")
    return df[name]


def run_drift(input_path: str | os.PathLike[str] | pd.DataFrame, *, period_col: str, codes_col: str | None = None,
              codebook: Any = None, group_col: str | None = None, out_dir: str | os.PathLike[str],
              respondent_col: str | None = None, text_col: str | None = None, period_freq: str | None = None,
              date_format: str | None = None,
              method: str = "auto", alpha: float = 0.05, min_count: float = 3, min_prev: float = 0.01,
              correction: str = "fdr_bh",
              figures: bool = True, formats: Sequence[str] = ("png", "svg"), interactive: bool = True,
              n_boot: int = 500, random_state: int | None = 0) -> DriftResult:
    """Drift analysis of a coded file: tables, summary and figures in ``out_dir``.

    Parameters
    ----------
    input_path : path or DataFrame
        CSV / XLSX / parquet / JSONL with one row per comment: human codes (``codes_col``,
        ``"|"``-joined theme names) or a suggestions file of the mapping layer (detected by its
        ``suggested`` column; ``scores`` are averaged when ``method="prob_average"``).
    period_col : str
        Period column: labels (years, "2021Q3") or dates, grouped at ``period_freq``
        ("Y", "Q", "M", "W", "D"; day/month order inferred per block unless ``date_format``, a
        ``strptime`` format, is given).
    codes_col : str, optional
        Column of human codes (not needed for a suggestions file; ``"suggested"`` names it).
    codebook : Codebook or str, optional
        Codebook (object, file path or built-in name) for names and the hierarchy.
    group_col : str, optional
        Metadata column (profession, trust): adds tables by period x group and group tests.
    out_dir : path
        Folder for the outputs (created): ``prevalence.csv``, ``changes.csv``, ``summary.txt``,
        ``prevalence.<fmt>``, ``heatmap.<fmt>``, ``prevalence_interactive.html`` and, when present,
        ``group_prevalence.csv``, ``group_changes.csv``, ``tone.csv`` and ``tone.<fmt>``.
    respondent_col, text_col : str, optional
        Respondent id (respondent-level prevalence) and comment text (tone; default: a ``text``
        column when there is one).
    method : str
        As in :func:`prevalence` ("auto": human for codes, classify_count for suggestions).
    alpha, min_count, min_prev, correction
        As in :func:`changes`.
    figures, formats
        Whether to draw the figures, and in which formats.
    interactive : bool
        With ``figures``, also write ``prevalence_interactive.html``
        (:func:`themeassist.plots.plot_prevalence_interactive`: one self-contained file, opens offline).
    n_boot, random_state
        Bootstrap replicates and seed for model-based intervals.

    Returns
    -------
    DriftResult

    Examples
    --------
    >>> import tempfile, pandas as pd
    >>> df = pd.DataFrame({"year": [2020] * 3 + [2021] * 3, "codes": ["a", "a|b", "", "b", "", ""]})
    >>> res = run_drift(df, period_col="year", codes_col="codes", out_dir=tempfile.mkdtemp(), figures=False)
    >>> sorted(p.name for p in res.files)
    ['changes.csv', 'prevalence.csv', 'summary.txt']
    """
    from themeassist.io.tables import atomic_write_text, save_figure, write_table

    df = _read_input(input_path)
    codebook = _resolve_codebook(codebook)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    if codes_col is not None and not (codes_col == "suggested" and "suggested" in df.columns):
        codes: Any = _column(df, codes_col, "codes_col").astype(object).where(lambda s: s.notna(), "").astype(str)
        if method == "auto":
            method = "human"
    elif "suggested" in df.columns:
        codes = df.assign(suggested=df["suggested"].astype(object).where(df["suggested"].notna(), "").astype(str))
        if method == "auto":
            method = "classify_count"
    else:
        raise ThemeassistError("run_drift: pass codes_col= (the column of '|'-joined theme names), or a suggestions "
                               f"file with a 'suggested' column (columns: {', '.join(map(repr, map(str, df.columns)))}).")
    raw_period = _column(df, period_col, "period_col")
    if period_freq is not None or date_format is not None:
        from themeassist._dates import read_periods

        res = read_periods(raw_period.reset_index(drop=True), column=period_col, freq=period_freq,
                           date_format=date_format)
        for w in res.warnings:
            warnings.warn(f"run_drift: {w}", stacklevel=2)
        period = pd.Series(res.period, dtype=object)
    else:
        period = raw_period.astype(object).where(raw_period.notna(), None).reset_index(drop=True)
        period = period.map(lambda v: v if v is None or isinstance(v, str) else (str(int(v)) if isinstance(
            v, float) and float(v).is_integer() else str(v)))
    has_period = period.notna().to_numpy() & (period.astype(str).str.strip() != "").to_numpy()
    if not has_period.all():
        bad = np.flatnonzero(~has_period)
        warnings.warn(f"run_drift: {len(bad)} rows have no period in column {period_col!r} (e.g. row {bad[0]}) and "
                      "are left out.", stacklevel=2)
    df, period = df.loc[has_period].reset_index(drop=True), period[has_period].reset_index(drop=True)
    codes = (codes.loc[has_period].reset_index(drop=True))
    status = df["status"] if "status" in df.columns and df["status"].astype(str).isin(_CORPUS_STATUSES).all() \
        else None
    respondent = None if respondent_col is None else _column(df, respondent_col, "respondent_col")
    kw = {"codebook": codebook, "status": status, "respondent": respondent, "n_boot": n_boot,
          "random_state": random_state}
    prev = prevalence(codes, period=period, method=method, **kw)
    ch = changes(prev, alpha=alpha, min_count=min_count, min_prev=min_prev, correction=correction, over="period")
    summary = summarise_changes(ch)
    files = [write_table(prev, out / "prevalence.csv"), write_table(ch, out / "changes.csv")]
    gprev = gch = tone_table = None
    if group_col is not None:
        group = _column(df, group_col, "group_col").astype(object).where(lambda s: s.notna(), "(missing)").astype(str)
        gprev = prevalence(codes, period=period, group=group, method=method, **kw)
        gch = changes(gprev, alpha=alpha, min_count=min_count, min_prev=min_prev, correction=correction,
                      over="group")
        files += [write_table(gprev, out / "group_prevalence.csv"), write_table(gch, out / "group_changes.csv")]
        summary += "\n\nBy " + group_col + ":\n" + summarise_changes(gch)
    text_col = text_col or ("text" if "text" in df.columns else None)
    if text_col is not None:
        from themeassist.drift.tone import score_tone, tone_by_theme

        texts = _column(df, text_col, "text_col")
        keep = np.ones(len(df), bool) if status is None else status.astype(str).isin(_SUBSTANTIVE).to_numpy()
        tone_codes = codes[keep].reset_index(drop=True) if isinstance(codes, pd.DataFrame) else codes[keep]
        tone_table = tone_by_theme(score_tone(texts[keep].reset_index(drop=True)), tone_codes,
                                   period[keep].reset_index(drop=True), codebook=codebook)
        files.append(write_table(tone_table, out / "tone.csv"))
    files.append(atomic_write_text(out / "summary.txt", summary + "\n"))
    if figures:
        from themeassist.plots import plot_heatmap, plot_prevalence, plot_tone

        figs = {"prevalence": plot_prevalence(prev, codebook), "heatmap": plot_heatmap(prev)}
        if tone_table is not None:
            figs["tone"] = plot_tone(tone_table)
        for name, fig in figs.items():
            for fmt in formats:
                path = out / f"{name}.{fmt}"
                save_figure(fig, path, dpi=200 if fmt == "png" else None)  # atomic, 0600
                files.append(path)
        if interactive:
            from themeassist.plots import plot_prevalence_interactive

            path = out / "prevalence_interactive.html"
            plot_prevalence_interactive(prev, codebook, path=path)
            files.append(path)
    return DriftResult(prev, ch, summary, gprev, gch, tone_table, tuple(files))

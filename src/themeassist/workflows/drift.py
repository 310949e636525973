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
from themeassist.exceptions import ThemeassistError

__all__ = ["DriftResult", "run_drift"]

_SUBSTANTIVE = ("ok", "truncated")


def _resolve_codebook(codebook: Any) -> Any:
    if codebook is None or hasattr(codebook, "themes"):
        return codebook
    from themeassist.codebook import load_codebook

    return load_codebook(codebook)


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


def read_input(input_path: Any, owner: str = "run_drift") -> pd.DataFrame:
    """A table from a path (CSV read with blanks as blanks; the spreadsheet formula guard that
    themeassist's own tables carry is undone, so ``'+44`` reads as ``+44`` again) or a DataFrame (copied)."""
    if isinstance(input_path, pd.DataFrame):
        return input_path.copy()
    from themeassist.io.tables import read_table, undo_formula_guard

    path = Path(input_path)
    kwargs: dict[str, Any] = {"keep_default_na": False, "na_values": [""]} if path.suffix.lower() == ".csv" else {}
    try:
        return undo_formula_guard(read_table(path, **kwargs))
    except (ValueError, FileNotFoundError) as exc:
        raise ThemeassistError(f"{owner}: cannot read {os.fspath(input_path)!r}: {exc}") from exc


def _column(df: pd.DataFrame, name: str, param: str) -> pd.Series:
    if name not in df.columns:
        import difflib

        close = difflib.get_close_matches(str(name), [str(c) for c in df.columns], n=1, cutoff=0.5)
        hint = f" Pass {param}={close[0]!r}?" if close else ""
        from themeassist._schema import listed_columns

        raise ThemeassistError(f"run_drift: column {name!r} not found (columns: {listed_columns(df.columns)}).{hint}")
    return df[name]


def _audit_cells(df: pd.DataFrame, audit: Any, codebook: Any) -> tuple[list[Any], list[Any], int]:
    """The audit file's ``codes`` (read here, so that messages name the audit file's rows, as theme
    ids or ``"none"``) and ``inclusion_probability`` per row of ``df`` (by ``doc_id``)."""
    aud = read_input(audit).reset_index(drop=True)
    missing = [c for c in ("doc_id", "codes") if c not in aud.columns]
    if missing:
        raise ThemeassistError(f"run_drift: the audit file lacks column(s) {missing} (columns: "
                               f"{', '.join(map(repr, map(str, aud.columns)))}); pass the file written by "
                               "`themeassist audit`, with the coder's codes in 'codes'.")
    if "doc_id" not in df.columns:
        raise ThemeassistError("run_drift: the suggestions file has no 'doc_id' column, so the audit cannot be "
                               "matched to it; pass the file written by `themeassist suggest`.")
    ids = aud["doc_id"].astype(str).str.strip()
    dup = ids[ids.duplicated()]
    if len(dup):
        raise ThemeassistError(f"run_drift: doc_id {dup.iloc[0]!r} appears twice in the audit file (rows "
                               f"{', '.join(str(i + 1) for i in np.flatnonzero(ids == dup.iloc[0]))}); keep one row "
                               "per checked comment.")
    known = set(df["doc_id"].astype(str).str.strip())
    stray = [i for i, d in enumerate(ids) if d not in known]
    if stray:
        raise ThemeassistError(f"run_drift: {len(stray)} audit rows name a doc_id that is not in the suggestions "
                               f"file (e.g. {ids.iloc[stray[0]]!r}, line {stray[0] + 2}); audit the same file you "
                               "pass to drift.")
    codes = dict(zip(ids, _audit_codes(aud, ids, audit, codebook)))
    incl = dict(zip(ids, pd.to_numeric(aud["inclusion_probability"], errors="coerce"))) \
        if "inclusion_probability" in aud.columns else {}
    doc = df["doc_id"].astype(str).str.strip()
    cells = [codes.get(d, "") for d in doc]
    probs = [incl.get(d, np.nan) if d in codes else np.nan for d in doc]
    if "inclusion_probability" not in aud.columns:
        probs = [1.0 if d in codes else np.nan for d in doc]
    n_blank = sum(1 for d in ids if not str(codes[d]).strip())
    return cells, probs, n_blank


def _audit_codes(aud: pd.DataFrame, ids: pd.Series, audit: Any, codebook: Any) -> list[str]:
    """Each audit row's codes read by :func:`themeassist.drift.audit_labels`, every problem named by
    the audit file's own row (from 1), doc_id and column; written back as theme ids joined by
    ``"|"`` (``"none"``: checked with no theme; blank: not checked), which read again without a
    message."""
    from themeassist.drift import audit_labels

    label = "audit table" if isinstance(audit, pd.DataFrame) else f"audit file {os.fspath(audit)!r}"
    names = [f"{label}, row {i} (doc_id {d!r})" for i, d in enumerate(ids, start=1)]
    theme_ids = [t.theme_id for t in codebook.themes]
    cells = aud["codes"].astype(object).where(aud["codes"].notna(), "").tolist()
    y, checked = audit_labels(cells, codebook, theme_ids, row_names=names, column="codes")
    return ["|".join(t for t, v in zip(theme_ids, row) if v == 1.0) or "none" if ok else ""
            for row, ok in zip(y, checked)]


def _scores_table(df: pd.DataFrame, codebook: Any) -> pd.DataFrame:
    """Machine scores per theme id: the ``score:<theme_id>`` columns, else the suggested themes' scores
    (0 for the others, with a warning)."""
    if any(str(c).startswith("score:") for c in df.columns):
        return df
    col = "suggested_ids" if "suggested_ids" in df.columns else "suggested"
    warnings.warn("run_drift: the suggestions file has no 'score:<theme_id>' columns; the scores of the suggested "
                  "themes are used and every other theme scores 0. Re-run `themeassist suggest` for full scores.",
                  stacklevel=3)
    leaves = [t.theme_id for t in codebook.leaves()]
    out = pd.DataFrame(0.0, index=range(len(df)), columns=[f"score:{t}" for t in leaves])
    scores = df["scores"] if "scores" in df.columns else pd.Series([""] * len(df))
    for i, (sug, sc) in enumerate(zip(df[col].fillna(""), scores.fillna(""))):
        names = [p.strip() for p in str(sug).split("|") if p.strip()]
        vals = [p.strip() for p in str(sc).split("|") if p.strip()]
        for name, v in zip(names, vals if len(vals) == len(names) else ["1"] * len(names)):
            tid = codebook.get(name).theme_id
            if f"score:{tid}" in out.columns:
                out.iat[i, out.columns.get_loc(f"score:{tid}")] = float(v)
    return out


def run_drift(input_path: str | os.PathLike[str] | pd.DataFrame, *, period_col: str, codes_col: str | None = None,
              codebook: Any = None, group_col: str | None = None, out_dir: str | os.PathLike[str],
              respondent_col: str | None = None, text_col: str | None = None, period_freq: str | None = None,
              date_format: str | None = None, audit: str | os.PathLike[str] | pd.DataFrame | None = None,
              method: str = "auto", tone: bool = False, alpha: float = 0.05, min_count: float = 3,
              min_prev: float = 0.01, correction: str = "fdr_bh", examples_random: bool = True,
              figures: bool = True, formats: Sequence[str] = ("png", "svg"), interactive: bool = True,
              n_boot: int = 200, random_state: int | None = 0) -> DriftResult:
    """Drift analysis of a coded file or a suggestions file: tables, summary and figures in ``out_dir``.

    Parameters
    ----------
    input_path : path or DataFrame
        CSV / XLSX / parquet / JSONL with one row per comment: human codes (``codes_col``,
        ``"|"``-joined theme names, paths or ids) or a suggestions file written by
        ``themeassist suggest`` (its ``score:<theme_id>`` columns are the machine scores).
    period_col : str
        Period column: labels, years or dates, read as :func:`themeassist.corpus.load_corpus`
        reads them (dates become periods at ``period_freq``: "Y", "Q", "M", "W" or "D"; without it,
        one chosen from the dates' span; ``date_format`` is an explicit ``strptime`` format).
    codes_col : str, optional
        Column of human codes (only for human codes; a suggestions file needs none).
    codebook : Codebook or str
        Codebook (object, file path or built-in name) for names and the hierarchy.
    group_col : str, optional
        Metadata column (profession, trust): adds tables by period x group and group tests.
    out_dir : path
        Folder for the outputs (created): ``prevalence.csv``, ``changes.csv``, ``summary.txt``,
        ``manifest.json``, ``figures/`` (``prevalence.<fmt>``, ``heatmap.<fmt>``,
        ``prevalence_interactive.html``) and, when they apply, ``suggested_prevalence.csv`` and
        ``suggested_changes.csv`` (raw suggestion counts beside an audit-corrected estimate),
        ``group_prevalence.csv``, ``group_changes.csv``, ``tone.csv``. Everything is computed
        before anything is written: a failed run leaves no folder it created, and a folder that
        existed as it was. New folders are ``0700``, files ``0600``, whatever the umask. Run again
        into a folder an earlier drift wrote, it removes the files that run listed in its
        ``manifest.json`` and this one does not write (unchanged ones only; nothing else).
    respondent_col : str, optional
        Respondent id: a respondent's comments count as one cluster in intervals and tests.
    text_col : str, optional
        Comment text for tone (default: a ``text`` column).
    audit : path or DataFrame, optional
        The audit file written by ``themeassist audit`` with the coder's ``codes`` (blank rows
        are not checked yet: counted, reported, left out). With it, ``prevalence.csv`` holds one
        audit-corrected estimate per period and theme; comments of the suggestions file with codes
        in ``example_codes`` (coded examples, written by ``themeassist suggest``) count with
        those codes and only the rest is estimated. Without it, a suggestions file's figures
        are raw suggestion counts, NOT corrected for the model's errors (the summary says so).
    method : str
        "auto": human codes are counted; with an audit, the default audit-corrected estimator
        (:data:`themeassist.drift.DEFAULT_AUDIT_METHOD`); without one, suggestions are counted.
        Or one of "ppi", "pacc", "emq" (with an audit), "classify_count", "human".
    tone : bool
        Also write the tone of each theme's comments (``tone.csv``); off unless asked.
    alpha, min_count, min_prev, correction
        As in :func:`themeassist.drift.changes`.
    examples_random : bool, default True
        The comments coded already (``example_codes``) were drawn at random: with the audit they
        make one random sample of each period, whose counts the flags' tests may use
        (``known_random`` of :func:`themeassist.drift.changes`), unless their codes differ from
        the audit's beyond chance (a permutation test; the summary says so, and says when no period
        holds both examples and checked comments, so that it could not be tested). Pass False when they
        were chosen by hand (examples picked to show each theme): they then still count with
        their codes, but not in those tests.
    figures, formats, interactive
        Whether to draw the figures, in which formats, and the interactive HTML figure.
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
    ['changes.csv', 'manifest.json', 'prevalence.csv', 'summary.txt']
    """
    from themeassist.io.tables import atomic_write_text, write_table

    df = read_input(input_path).reset_index(drop=True)
    codebook = _resolve_codebook(codebook)
    is_suggestions = _check_request(df, codes_col=codes_col, audit=audit, codebook=codebook, method=method)
    period, has_period = _periods(df, period_col, period_freq=period_freq, date_format=date_format)
    from themeassist.corpus import STATUSES

    status = df["status"] if "status" in df.columns and df["status"].astype(str).isin(STATUSES).all() else None
    respondent = None if respondent_col is None else _column(df, respondent_col, "respondent_col")
    kw = {"codebook": codebook, "status": status, "respondent": respondent, "n_boot": n_boot,
          "random_state": random_state}
    chk = {"alpha": alpha, "min_count": min_count, "min_prev": min_prev, "correction": correction,
           "known_random": None if examples_random else False}
    facts: dict[str, Any] = {"title": f"themeassist drift: {Path(str(input_path)).name}" if not isinstance(
                                 input_path, pd.DataFrame) else "themeassist drift",
                             "n_rows": len(df), "n_no_period": int((~has_period).sum())}
    period_in = period.where(period.notna(), None)
    est = _estimate(df, codes_col if not is_suggestions else None, audit, period_in, method, kw, facts,
                    examples_random=examples_random)
    prev, codes, note = est["prev"], est["codes"], est["note"]
    attrs = dict(prev.attrs)
    ch = changes(prev, over="period", **chk).assign(source=prev["source"].iloc[0] if len(prev) else "")
    prev.attrs = attrs
    summary = note + "\n\n" + summarise_changes(ch)
    tables = {"prevalence.csv": prev, "changes.csv": ch}
    if est["raw"] is not None:
        tables.update({"suggested_prevalence.csv": est["raw"], "suggested_changes.csv": changes(
            est["raw"], over="period", **chk).assign(source="suggested")})
    gprev = gch = None
    if group_col is not None:
        group = _column(df, group_col, "group_col").astype(object).where(lambda s: s.notna(), "(missing)").astype(str)
        gprev = prevalence(codes, period=period_in, group=group, method="human" if not is_suggestions
                           else "classify_count", **kw)
        gch = changes(gprev, over="group", **chk)
        tables.update({"group_prevalence.csv": gprev, "group_changes.csv": gch})
        summary += "\n\nBy " + group_col + (" (suggestions counted, not error-corrected)" if is_suggestions else "") \
            + ":\n" + summarise_changes(gch)
    tone_table = None
    if tone:
        tone_table = _tone(df, codes, period, text_col=text_col, status=status, has_period=has_period,
                           codebook=codebook)
        tables["tone.csv"] = tone_table
    writers: dict[str, Any] = {name: (lambda p, t=t: write_table(t, p)) for name, t in tables.items()}
    writers["summary.txt"] = lambda p: atomic_write_text(p, summary + "\n")
    captions: dict[str, str] = {}
    if figures:  # drawn before anything is written: a failure leaves the folder as it was
        captions, drawn = _figures(prev, tone_table, note, codebook, formats=formats, interactive=interactive)
        writers.update(drawn)
    facts.update(figures=captions, note=note)
    files = _write_folder(Path(out_dir), writers, extra=facts,
                          params={"period_col": period_col, "period_freq": period_freq,
                                  "respondent_col": respondent_col, **chk})
    return DriftResult(prev, ch, summary, gprev, gch, tone_table, tuple(files))


def _check_request(df: pd.DataFrame, *, codes_col: str | None, audit: Any, codebook: Any, method: str) -> bool:
    """Refuse what run_drift cannot do, before any work; True for a suggestions file."""
    options = ("auto", "human", "classify_count", "ppi", "pacc", "emq")
    if method not in options:
        raise ThemeassistError(f"run_drift: method must be one of {list(options)}; got {method!r}.")
    is_suggestions = codes_col is None or (codes_col == "suggested" and "suggested" in df.columns)
    if is_suggestions and not ({"suggested", "suggested_ids"} & set(df.columns)
                               or any(str(c).startswith("score:") for c in df.columns)):
        raise ThemeassistError("run_drift: pass codes_col= (the column of '|'-joined theme names), or a suggestions "
                               f"file with a 'suggested' column (columns: {', '.join(map(repr, map(str, df.columns)))}).")
    if audit is not None and not is_suggestions:
        raise ThemeassistError("run_drift: an audit corrects machine suggestions; with human codes (codes_col="
                               f"{codes_col!r}) leave audit out, or pass the suggestions file instead.")
    if audit is not None and codebook is None:
        raise ThemeassistError("run_drift: an audit needs codebook= (the codebook the suggestions were made from; it "
                               "resolves the coder's codes).")
    if audit is not None and method in ("human", "classify_count"):
        raise ThemeassistError(f"run_drift: method {method!r} counts codes and does not use an audit; with audit= "
                               "pass method 'auto', 'ppi', 'pacc' or 'emq', or leave audit out to count suggestions.")
    if audit is None and is_suggestions and method == "human":
        raise ThemeassistError("run_drift: method 'human' counts human codes; pass codes_col= (the column of "
                               "'|'-joined theme names), or method 'auto' or 'classify_count' for a suggestions file.")
    if audit is None and is_suggestions and method not in ("auto", "classify_count"):
        raise ThemeassistError(f"run_drift: method {method!r} corrects suggestions with an audit; pass audit= "
                               "(the file written by `themeassist audit`, with the coder's codes).")
    return is_suggestions


def _periods(df: pd.DataFrame, period_col: str, *, period_freq: str | None,
             date_format: str | None) -> tuple[pd.Series, np.ndarray]:
    """The period of every row (as load_corpus reads dates) and which rows have one; warns of the rest."""
    from themeassist.drift import read_period_column

    period, notes = read_period_column(df, period_col, period_freq=period_freq, date_format=date_format)
    for w in notes:
        warnings.warn(f"run_drift: {w}", stacklevel=3)
    has_period = period.notna().to_numpy()
    if not has_period.all():
        bad = np.flatnonzero(~has_period)
        warnings.warn(f"run_drift: {len(bad)} rows have no period in column {period_col!r} (e.g. row {bad[0] + 1}); "
                      "they are counted in no period.", stacklevel=3)
    return period, has_period


def _estimate(df: pd.DataFrame, codes_col: str | None, audit: Any, period: pd.Series, method: str,
              kw: dict[str, Any], facts: dict[str, Any], *, examples_random: bool = True) -> dict[str, Any]:
    """Prevalence per period: human codes counted (``codes_col``), or suggestions counted, or an
    audit-corrected estimate with the raw counts beside it (``raw``). Adds the audit's figures to
    ``facts``; returns ``prev``, ``raw``, the ``codes`` column read and the ``note`` on the source."""
    from themeassist.drift import DEFAULT_AUDIT_METHOD, audit_prevalence

    if codes_col is not None:
        codes: Any = _column(df, codes_col, "codes_col").astype(object).where(lambda s: s.notna(), "").astype(str)
        method = "human" if method == "auto" else method
        prev = prevalence(codes, period=period, method=method, **kw).assign(source="human")
        return {"prev": prev, "raw": None, "codes": codes, "note": "Human codes."}
    sugg_col = "suggested_ids" if "suggested_ids" in df.columns else "suggested"
    codes = df[sugg_col].astype(object).where(df[sugg_col].notna(), "").astype(str)
    raw = prevalence(codes, period=period, method="classify_count", **kw).assign(source="suggested")
    if audit is None:
        note = ("NOT ERROR-CORRECTED: these figures count machine suggestions as if they were codes; the model's "
                "errors are in them. Draw an audit (`themeassist audit`), have it coded and pass it with --audit.")
        warnings.warn(f"run_drift: {note}", stacklevel=3)
        return {"prev": raw, "raw": None, "codes": codes, "note": note}
    method = DEFAULT_AUDIT_METHOD if method == "auto" else method
    from themeassist.drift import KNOWN_CODES_COLUMN, known_codes

    cells, probs, n_blank = _audit_cells(df, audit, kw["codebook"])
    known = known_codes(df) if KNOWN_CODES_COLUMN in df.columns else None
    prev = audit_prevalence(_scores_table(df, kw["codebook"]), cells, period=period, inclusion_probability=probs,
                            method=method, known=known, known_random=None if examples_random else False,
                            **kw).assign(source=method)
    n_checked, n_known = int(prev.attrs.get("n_checked", 0)), int(prev.attrs.get("n_known", 0))
    half = 50 * float(np.nanmedian((prev["ci_high"] - prev["ci_low"]).to_numpy(float))) if len(prev) else np.nan
    note = (f"Audit-corrected ({method}): {n_checked} comments checked by a coder"
            + (f", {n_blank} audit rows not checked yet (left out)" if n_blank else "")
            + (f"; {n_known} coded examples ({KNOWN_CODES_COLUMN}) counted with their codes, the rest estimated"
               + _known_note(prev.attrs.get("known_random_p", np.nan), examples_random) if n_known else "") + "."
            + (f" A theme's interval reaches {half:.1f} points either side of its estimate (median): smaller changes "
               "cannot be told from noise with this audit; `themeassist audit --half-width` says how many comments "
               "to check for narrower ones." if np.isfinite(half) else ""))
    facts.update(n_checked=n_checked, n_unchecked_audit=n_blank, n_known=n_known, method=method)
    return {"prev": prev, "raw": raw, "codes": codes, "note": note}


def _known_note(p: float, examples_random: bool) -> str:
    """How the estimates and flags treat the coded examples (``known_random``), for the summary."""
    from themeassist.drift import KNOWN_RANDOM_ALPHA

    if not examples_random:
        return " (picked by hand: they count for themselves only)"
    if p < KNOWN_RANDOM_ALPHA:
        return (f" (their codes differ from the audit's beyond chance, permutation p = {p:.3f}: they look picked by "
                "hand, so they count for themselves only)")
    untested = "" if np.isfinite(p) else (
        "; no period holds both coded examples and checked comments, so this could not be tested against the audit")
    return (" (taken for a random sample of their period, as the audit is: their shares also inform the estimate of "
            f"the rest and the flags' tests{untested}; pass --examples-chosen if they were picked by hand)")


def _tone(df: pd.DataFrame, codes: pd.Series, period: pd.Series, *, text_col: str | None, status: Any,
          has_period: np.ndarray, codebook: Any) -> pd.DataFrame:
    """The tone of each theme's substantive comments per period (only when asked)."""
    from themeassist.drift.tone import score_tone, tone_by_theme

    texts = _column(df, text_col or "text", "text_col")
    keep = np.ones(len(df), bool) if status is None else status.astype(str).isin(_SUBSTANTIVE).to_numpy()
    keep &= has_period
    return tone_by_theme(score_tone(texts[keep].reset_index(drop=True)), codes[keep].reset_index(drop=True),
                         period[keep].reset_index(drop=True), codebook=codebook)


def _figures(prev: pd.DataFrame, tone_table: pd.DataFrame | None, note: str, codebook: Any, *,
             formats: Sequence[str], interactive: bool) -> tuple[dict[str, str], dict[str, Any]]:
    """Prevalence, heatmap (and tone) figures, drawn now; their captions and, per file name under
    ``figures/``, the writer that saves it (in each format, and the interactive one)."""
    from themeassist.io.tables import save_figure
    from themeassist.plots import plot_heatmap, plot_prevalence, plot_prevalence_interactive, plot_tone, save_interactive

    label = note.split(":")[0].split(" (")[0].rstrip(".")
    figs = {"prevalence": (plot_prevalence(prev, codebook),
                           f"Prevalence per period with 95% intervals ({label})."),
            "heatmap": (plot_heatmap(prev), f"Themes x periods ({label}).")}
    if tone_table is not None:
        figs["tone"] = (plot_tone(tone_table), "Mean tone of each theme's comments per period.")
    captions, writers = {}, {}
    for name, (fig, caption) in figs.items():
        captions[name] = caption
        for fmt in formats:  # atomic, 0600
            dpi = 200 if fmt == "png" else None
            writers[f"figures/{name}.{fmt}"] = lambda p, f=fig, d=dpi: save_figure(f, p, dpi=d)
    if interactive:
        page = plot_prevalence_interactive(prev, codebook)  # drawn now, so that a failure comes before any write
        writers["figures/prevalence_interactive.html"] = lambda p: save_interactive(page, p)
    return captions, writers


def _write_folder(out: Path, writers: dict[str, Any], *, params: dict[str, Any], extra: dict[str, Any]) -> list[Path]:
    """Write every output (``writers``: file name in ``out`` -> function writing that path) and the manifest.

    The folders are made with :func:`themeassist.io.tables.make_dirs` (``0700``). When the writing
    fails, the folders this call created are removed again (a folder that existed is left). When
    ``out`` holds an earlier drift run (its manifest), the files it listed that this run does not
    write are removed, if unchanged since (a changed one is kept, with a warning); nothing else is.
    """
    import shutil

    from themeassist.io.run_folder import write_manifest
    from themeassist.io.tables import make_dirs

    folders = sorted({(out / name).parent for name in writers} | {out}, key=lambda f: len(f.parts))
    created = _missing_folders(folders)
    earlier = _earlier_files(out)
    files: list[Path] = []
    try:
        for folder in folders:
            make_dirs(folder)
        for name, writer in writers.items():
            writer(out / name)
            files.append(out / name)
        # names relative to the folder (write_manifest joins them to it): right for a relative --out too
        files.append(write_manifest(out, "drift", files=list(writers), extra=extra, params=params))
    except BaseException:
        for folder in created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    _remove_stale(out, earlier, set(writers))
    return files


def _missing_folders(folders: Sequence[Path]) -> list[Path]:
    """The topmost missing folder of each of ``folders``' paths (what making them creates)."""
    missing: set[Path] = set()
    for folder in folders:
        probe = Path(os.path.abspath(folder))
        while not probe.exists() and probe != probe.parent:
            missing.add(probe)
            probe = probe.parent
    return sorted(p for p in missing if p.parent not in missing)


def _earlier_files(out: Path) -> dict[str, Any]:
    """The files (name -> manifest entry) that an earlier drift run listed in ``out/manifest.json``."""
    from themeassist.io.run_folder import peek_manifest

    manifest = peek_manifest(out)
    if manifest is None or manifest.get("kind") != "drift" or not isinstance(manifest.get("files"), dict):
        return {}
    return {str(n): info for n, info in manifest["files"].items()
            if not Path(str(n)).is_absolute() and ".." not in Path(str(n)).parts}


def _remove_stale(out: Path, earlier: dict[str, Any], written: set[str]) -> None:
    """Remove the files of an earlier run that this one did not write again, when they are unchanged."""
    from themeassist.io.run_folder import file_matches

    kept = []
    for name, info in earlier.items():
        path = out / name
        if name in written or not (path.exists() or path.is_symlink()):
            continue
        if file_matches(path, info):
            path.unlink()
        else:
            kept.append(name)
    if kept:
        warnings.warn(f"run_drift: {len(kept)} file(s) of an earlier run in {str(out)!r} were changed since it wrote "
                      f"them and are kept ({', '.join(kept[:5])}); they are not part of this run (its manifest.json "
                      "does not list them). Move them elsewhere or delete them if you no longer need them.",
                      stacklevel=3)

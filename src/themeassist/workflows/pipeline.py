"""A thin facade that runs the whole job: discover → suggest → align → drift → report.

Each stage stands alone (:mod:`themeassist.discovery`, :mod:`themeassist.mapping`,
:mod:`themeassist.drift`, :mod:`themeassist.report`); :func:`run_all` only composes them, embeds
every text ONCE and hands the same embeddings to each stage, and writes a run folder.
:func:`run_demo` runs it on the built-in, ILLUSTRATIVE IAPT demo corpus (comments written for
themeassist, not the study's data) with the built-in IAPT wellbeing codebook.

Run folder layout
-----------------
==========================  ===================================================================
``corpus.csv``              every input row: doc_id, row, text, period, status, reason, metadata
``codebook.yaml``           the codebook used (canonical YAML)
``hierarchy.csv``           one row per codebook theme: theme_id, name, parent_id, depth, path,
                            is_leaf, n_human (coded comments, with parents counted once per
                            comment), n_suggested, n_candidates (candidate codes aligned to it)
``candidate_codes.csv``     discovery: candidate_id, label, keywords, n_docs, share,
                            representative_doc_ids, representative_quotes
``assignments.csv``         discovery: one row per input row (doc_id, status, candidate_id, ...)
``candidate_periods.csv``   drift of discovery: each candidate code x period (n_code, share,
                            interval, evidence state); :func:`themeassist.drift.candidate_periods`
``new_candidates.csv``      the rows of candidate_periods.csv where a code is new in a period
``suggestions.csv``         mapping: one row per input row (doc_id, status, suggested, scores, ...)
``alignment.csv``           mapping: candidate codes against codebook themes (new-theme candidates)
``prevalence.csv``          drift: period, theme, theme_id, parent, n_comments, n_theme, prevalence,
                            ci_low, ci_high, method, source (audit-corrected methods, suggestions
                            counted, human codes)
``changes.csv``             drift: tests for change and appear/vanish/return flags per theme and
                            ``source`` (an audit-corrected method, ``suggested`` or ``human``)
``audit.csv``               the audit: doc_id, period, text, inclusion_probability, the coder's codes
``summary.txt``             drift: the significant changes in a few sentences
``agreement.csv``           :func:`themeassist.mapping.agreement.agreement` of the suggestions with the
                            human codes, on the comments not used as examples
``held_out.csv``            :func:`themeassist.mapping.held_out_quality`: per theme, the mapper's
                            agreement with its own examples, held out (what to expect before
                            reading a suggestion); its summary figures are in the manifest
                            (``held_out``). Not written for a zero-shot mapper.
``figures/*.png|svg``       prevalence small multiples and heatmaps
``figures/prevalence_interactive.html``
                            the prevalence lines as one interactive, self-contained HTML file
                            (plotly.js inlined; opens offline)
``manifest.json``           the run-folder manifest (:mod:`themeassist.io.run_folder`, kind "pipeline"):
                            versions, parameters, model id, timings, sha256 and size of each file
``report.html``             :func:`themeassist.report.write_report` of the folder
==========================  ===================================================================

Examples
--------
>>> from themeassist.workflows.pipeline import run_demo
>>> result = run_demo("demo-output", show_progress=False)      # doctest: +SKIP
>>> result.report                                               # doctest: +SKIP
PosixPath('demo-output/report.html')
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import time
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from themeassist._schema import is_none_word
from themeassist.codebook import Codebook, load_codebook
from themeassist.exceptions import CodebookError, CorpusError
from themeassist.io.tables import atomic_write_text, make_dirs, write_table
from themeassist.workflows._stages import CANDIDATE_RULE, Stages

__all__ = ["DEMO_AUDIT_PER_PERIOD", "DemoResult", "RunResult", "demo_audit", "run_all", "run_demo", "theme_counts"]

_VERSIONED = ("themeassist", "numpy", "pandas", "scikit-learn", "bertopic", "umap-learn", "hdbscan",
              "sentence-transformers", "torch", "matplotlib")
_USABLE = ("ok", "truncated")


@dataclass(frozen=True)
class RunResult:
    """Paths of the files a run wrote (see the module docstring for their content).

    Attributes
    ----------
    out_dir : Path
    corpus, codebook, hierarchy, candidate_codes, assignments, suggestions, alignment, prevalence,
    changes, summary, manifest, report : Path
    agreement : Path or None
        None when no human codes were given for comments outside the examples.
    figures : tuple of Path
    timings : dict
        Seconds spent per stage (``embed``, ``discover``, ``suggest``, ``align``, ``drift``,
        ``candidates``, ``report``, ...).
    candidate_periods, new_candidates : Path
        Candidate codes per period, and the ones new in a period.
    interactive : Path or None
        ``figures/prevalence_interactive.html``.
    """

    out_dir: Path
    corpus: Path
    codebook: Path
    hierarchy: Path
    candidate_codes: Path
    assignments: Path
    suggestions: Path
    alignment: Path
    prevalence: Path
    changes: Path
    summary: Path
    agreement: Path | None
    figures: tuple[Path, ...]
    manifest: Path
    report: Path
    timings: dict[str, float] = field(default_factory=dict, compare=False)
    candidate_periods: Path | None = None
    new_candidates: Path | None = None
    interactive: Path | None = None

    def to_frame(self) -> pd.DataFrame:
        """One row per written file: ``name``, ``path``."""
        rows = [(k, str(v)) for k, v in self.__dict__.items() if isinstance(v, Path) and k != "out_dir"]
        rows += [(f"figure:{p.stem}{p.suffix}", str(p)) for p in self.figures]
        return pd.DataFrame(rows, columns=["name", "path"])


#: The result of :func:`run_demo` (same fields as :class:`RunResult`).
DemoResult = RunResult


# ---- helpers ----------------------------------------------------------------------------------
def _versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in _VERSIONED:
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            continue
    return out


def _check_corpus(corpus: Any) -> pd.DataFrame:
    if not isinstance(corpus, pd.DataFrame):
        raise CorpusError(f"run_all: corpus must be the DataFrame returned by load_corpus. Got "
                          f"{type(corpus).__name__}.")
    missing = [c for c in ("doc_id", "text", "period", "status") if c not in corpus.columns]
    if missing:
        raise CorpusError(f"run_all: the corpus lacks columns {missing} (columns: {list(corpus.columns)[:10]}). "
                          "Load it with themeassist.corpus.load_corpus(df, text_col=..., period_col=...).")
    return corpus


def _codes_per_doc(codebook: Codebook, values: Sequence[Any], *, what: str, rows: Sequence[int] | None = None,
                   doc_ids: Sequence[Any] | None = None) -> list[list[str]]:  # fmt: skip
    """Theme ids per row from "|"-joined names/ids/paths (unknown codes: an error naming the row,
    counted from 1: ``rows`` gives each value's 0-based position in its table when not 0, 1, ...);
    ``none`` (or a none code of the codebook, which resolve_codes reads as no theme) is a row coded
    with no theme."""
    out: list[list[str]] = []
    for k, v in enumerate(values):
        if is_none_word(v):
            out.append([])
            continue
        try:
            out.append(codebook.resolve_codes(v))
        except CodebookError as exc:
            row = (k if rows is None else int(rows[k])) + 1
            doc = f" (doc_id {str(doc_ids[k])!r})" if doc_ids is not None else ""
            raise CodebookError(f"run_all: {what}, row {row}{doc}: {exc}") from exc
    return out


def _with_ancestors(codebook: Codebook, ids: Sequence[str]) -> set[str]:
    out: set[str] = set()
    for tid in ids:
        out.add(tid)
        out.update(t.theme_id for t in codebook.ancestors(tid))
    return out


def theme_counts(codebook: Codebook, codes: Sequence[Sequence[str]]) -> pd.Series:
    """Comments per theme, each comment counted once per theme and once per ancestor of its themes.

    Parameters
    ----------
    codebook : Codebook
    codes : sequence of sequences of theme ids
        One entry per comment.

    Returns
    -------
    Series indexed by theme_id in codebook order (int).

    Examples
    --------
    >>> cb = Codebook.from_dict({"Staff": ["Attitude", "Skill"], "Access": None})
    >>> theme_counts(cb, [["staff.attitude", "staff.skill"], ["access"], []]).tolist()
    [1, 1, 1, 1]
    """
    counts = dict.fromkeys((t.theme_id for t in codebook), 0)
    for ids in codes:
        for tid in _with_ancestors(codebook, ids):
            counts[tid] += 1
    return pd.Series(counts, dtype=int)


# ---- the run ----------------------------------------------------------------------------------
def run_all(
    corpus: pd.DataFrame,
    codebook: Codebook | str | os.PathLike[str],
    *,
    examples: pd.DataFrame | None = None,
    out_dir: str | os.PathLike[str],
    human_codes_col: str | None = None,
    model: Any = None,
    cache_dir: str | os.PathLike[str] | None = None,
    random_state: int = 0,
    show_progress: bool = True,
    discovery_params: Mapping[str, Any] | None = None,
    mapper_params: Mapping[str, Any] | None = None,
    title: str | None = None,
    note: str | None = None,
    audit: pd.DataFrame | None = None,
    audit_methods: Sequence[str] | None = None,
) -> RunResult:
    """Run discover → suggest → align → drift → report on a corpus and write a run folder.

    Parameters
    ----------
    corpus : DataFrame
        From :func:`themeassist.corpus.load_corpus` (``doc_id``, ``text``, ``period``, ``status``, ...).
    codebook : Codebook, path or built-in name
        The researcher's theme hierarchy (e.g. ``"iapt"``).
    examples : DataFrame, optional
        Comments already coded by the researcher: ``doc_id`` (optional), ``text`` and ``codes``
        (theme names, ids or paths joined by ``"|"``). They teach the mapper (few-shot or
        supervised regime) and serve as the coder-checked sample that drift uses to adjust
        prevalence for the mapper's errors.
    out_dir : path
        The run folder (created; files in it are overwritten).
    human_codes_col : str, optional
        A corpus column of human codes ("|"-joined) for comparison: human prevalence next to the
        suggested one, and agreement on the comments that are not examples.
    model, cache_dir, show_progress
        Passed to :func:`themeassist.embed.get_embedder`.
    random_state : int, default 0
        Seeds discovery and mapping: the same call writes the same tables.
    discovery_params, mapper_params : mapping, optional
        Extra parameters for :class:`~themeassist.discovery.CandidateDiscovery` and
        :class:`~themeassist.mapping.ThemeMapper`.
    title, note : str, optional
        Report title and a note shown at its top.
    audit : DataFrame, optional
        A coder's audit (:func:`themeassist.drift.draw_audit` with the ``codes`` filled in:
        ``doc_id``, ``codes``, ``inclusion_probability``): prevalence is then estimated from the
        suggestions' scores corrected by the audit, and the report leads with it. Written to
        ``audit.csv``.
    audit_methods : sequence of str, optional
        Audit-corrected estimators to compute; the first is the primary one. Default: the pooled
        ones, ``DEFAULT_AUDIT_METHOD`` ("pacc") then "emq"; "ppi" leans on each period's own audit
        only, which with 40 comments a period is too small to carry the findings (see
        benchmarks/RESULTS.md), so it is left to ``themeassist drift --method ppi``.

    Returns
    -------
    RunResult
        Paths of every file written.

    Examples
    --------
    >>> from themeassist.corpus import load_corpus
    >>> corpus = load_corpus("comments.csv", text_col="comment", period_col="year")   # doctest: +SKIP
    >>> run_all(corpus, "my_codebook.yaml", out_dir="run1").report                    # doctest: +SKIP
    PosixPath('run1/report.html')
    """
    from themeassist.embed import get_embedder

    corpus = _check_corpus(corpus)
    codebook = load_codebook(codebook)
    ex = _examples_frame(examples, codebook)
    human = _human_codes(corpus, codebook, human_codes_col)
    out = Path(out_dir)
    make_dirs(out / "figures")  # 0700 whatever the umask
    lap = _Laps()
    timings = lap.timings
    embedder = get_embedder(model, cache_dir=cache_dir, show_progress=show_progress)
    usable = corpus["status"].isin(_USABLE).to_numpy()
    E, E_ex = _embed_once(embedder, corpus.loc[usable, "text"].astype(str).tolist(), ex)
    lap("embed")

    from themeassist.drift import AUDIT_METHODS, DEFAULT_AUDIT_METHOD

    methods = list(audit_methods) if audit_methods is not None else \
        [DEFAULT_AUDIT_METHOD] + [m for m in AUDIT_METHODS if m not in (DEFAULT_AUDIT_METHOD, "ppi")]
    stages = Stages(corpus=corpus, codebook=codebook, embedder=embedder, E=E, usable=usable, examples=ex,
                     audit=_audit_frame(audit), audit_methods=methods, audit_info={"n_checked": 0},
                     E_examples=E_ex, random_state=random_state, show_progress=show_progress,
                     discovery_params=dict(discovery_params or {}), mapper_params=dict(mapper_params or {}))
    cands, assignments = stages.discover()
    lap("discover")
    suggestions = stages.suggest(assignments)
    lap("suggest")
    aligned = stages.align(cands, assignments, suggestions)
    alignment = aligned.candidates
    lap("align")

    drift = stages.drift(suggestions, human, out / "figures")
    lap("drift")
    cand_periods = stages.candidate_periods(cands, assignments)
    lap("candidates")
    agreement = stages.agreement(suggestions, human) if human is not None else None
    held_out = stages.held_out()
    lap("agreement")

    files = {
        "corpus.csv": corpus, "hierarchy.csv": _hierarchy(codebook, suggestions, human, aligned.themes, usable),
        "candidate_codes.csv": cands, "assignments.csv": assignments, "suggestions.csv": suggestions,
        "alignment.csv": alignment, "prevalence.csv": drift["prevalence"], "changes.csv": drift["changes"],
        "candidate_periods.csv": cand_periods, "new_candidates.csv": cand_periods[cand_periods["new_in_period"]],
        "agreement.csv": agreement, "audit.csv": stages.audit,
        "held_out.csv": None if held_out is None else held_out.table,
    }
    for name, table in files.items():
        if table is not None:
            write_table(table, out / name)
    atomic_write_text(out / "summary.txt", drift["summary"].rstrip() + "\n")
    atomic_write_text(out / "codebook.yaml", codebook.to_yaml())
    lap("write")

    manifest = {
        "title": title or f"themeassist run: {codebook.name}",
        "note": note or "", "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "model_id": str(getattr(embedder, "model_id", "unknown")),
        "codebook": codebook.name, "codebook_source": codebook.source,
        "n_rows": len(corpus), "n_substantive": int(usable.sum()),
        "n_candidate_codes": int((cands["candidate_id"].astype(int) >= 0).sum()),
        "n_themes": len(codebook), "n_examples": 0 if ex is None else len(ex),
        "n_checked": stages.audit_info["n_checked"] if stages.audit is not None else None,
        "audit_methods": methods if stages.audit is not None else [],
        "regime": stages.regime,
        "held_out": _held_out_summary(held_out),
        "params": {"random_state": random_state, "human_codes_col": human_codes_col,
                   "candidate_periods": dict(CANDIDATE_RULE, **{k: v for k, v in cand_periods.attrs.items()}),
                   "discovery": _jsonable(stages.discovery_params_used),
                   "mapper": _jsonable(stages.mapper_params_used)},
        "versions": _versions(), "figures": drift["captions"], "timings_s": timings,
    }
    _write_manifest(out, manifest)
    from themeassist.report import write_report

    report = write_report(out, out / "report.html")
    lap("report")
    manifest["timings_s"] = timings
    _write_manifest(out, manifest)
    return _result(out, report, timings, has_agreement=agreement is not None, interactive=drift["interactive"])


class _Laps:
    """Seconds per step: ``lap("embed")`` records the time since the previous lap."""

    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._tick = time.perf_counter()

    def __call__(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(now - self._tick, 3)
        self._tick = now


def _result(out: Path, report: Path, timings: dict[str, float], *, has_agreement: bool,
            interactive: Path | None) -> RunResult:
    figures = tuple(sorted(p for p in (out / "figures").iterdir() if p.suffix in (".png", ".svg")))
    return RunResult(out_dir=out, corpus=out / "corpus.csv", codebook=out / "codebook.yaml",
                     hierarchy=out / "hierarchy.csv", candidate_codes=out / "candidate_codes.csv",
                     assignments=out / "assignments.csv", suggestions=out / "suggestions.csv",
                     alignment=out / "alignment.csv", prevalence=out / "prevalence.csv",
                     changes=out / "changes.csv", summary=out / "summary.txt",
                     agreement=(out / "agreement.csv") if has_agreement else None,
                     figures=figures, manifest=out / "manifest.json", report=report, timings=dict(timings),
                     candidate_periods=out / "candidate_periods.csv", new_candidates=out / "new_candidates.csv",
                     interactive=interactive)


def _held_out_summary(held_out: Any) -> dict[str, Any] | None:
    """The manifest's ``held_out``: the figures of :func:`themeassist.mapping.held_out_quality` (None
    for a zero-shot mapper), NaN written as null (JSON has no NaN)."""
    if held_out is None:
        return None

    def finite(v: float) -> float | None:
        return round(float(v), 4) if v == v else None

    return {"mean_kappa": finite(held_out.mean_kappa), "kappa_interval": [finite(v) for v in held_out.kappa_interval],
            "n_examples": held_out.n_examples, "n_judged": held_out.n_judged, "n_new": held_out.n_new,
            "codes_ratio": finite(held_out.codes_ratio)}


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """The run folder's manifest (:mod:`themeassist.io.run_folder`, kind ``"pipeline"``): every file
    written with its sha256 and size, the parameters, and the run's facts at the top level."""
    from themeassist.io.run_folder import write_manifest

    top = {k: v for k, v in manifest.items() if k != "params"}
    write_manifest(out, "pipeline", params=manifest.get("params"), extra=_jsonable(top))


def _embed_once(embedder: Any, texts: list[str], ex: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray | None]:
    """Embed every text once: the substantive comments, then the example texts not among them.
    Returns the comments' rows and the examples' rows (None without examples)."""
    ex_texts = ex["text"].astype(str).tolist() if ex is not None else []
    seen = set(texts)
    extra = [t for t in dict.fromkeys(ex_texts) if t not in seen]
    E_all = np.asarray(embedder.encode(texts + extra), dtype=np.float32)
    row_of = {t: i for i, t in enumerate(texts + extra)}
    return E_all[: len(texts)], (E_all[[row_of[t] for t in ex_texts]] if ex is not None else None)


def _human_codes(corpus: pd.DataFrame, codebook: Codebook, col: str | None) -> list[list[str]] | None:
    """The corpus column of human codes read as theme ids per row (None without one)."""
    if col is None:
        return None
    if col not in corpus.columns:
        raise CorpusError(f"run_all: human_codes_col {col!r} is not a corpus column "
                          f"(columns: {list(corpus.columns)}).")
    return _codes_per_doc(codebook, corpus[col].tolist(), what=f"column {col!r}", doc_ids=corpus["doc_id"].tolist())


def _audit_frame(audit: pd.DataFrame | None) -> pd.DataFrame | None:
    if audit is None:
        return None
    need = {"doc_id", "codes", "inclusion_probability"}
    if not isinstance(audit, pd.DataFrame) or not need <= set(audit.columns):
        cols = list(audit.columns) if isinstance(audit, pd.DataFrame) else type(audit).__name__
        raise CorpusError(f"run_all: audit must be a DataFrame with columns {sorted(need)} (draw_audit's table with "
                          f"the coder's codes). Got {cols}.")
    return audit.reset_index(drop=True)


def _examples_frame(examples: pd.DataFrame | None, codebook: Codebook) -> pd.DataFrame | None:
    if examples is None:
        return None
    if not isinstance(examples, pd.DataFrame) or not {"text", "codes"} <= set(examples.columns):
        cols = list(examples.columns) if isinstance(examples, pd.DataFrame) else type(examples).__name__
        raise CorpusError(f"run_all: examples must be a DataFrame with columns 'text' and 'codes' (theme names "
                          f"joined by '|'). Got {cols}.")
    ex = examples.reset_index(drop=True).copy()
    ex["text"] = ex["text"].astype(str)
    _codes_per_doc(codebook, ex["codes"].tolist(), what="examples 'codes'",  # validate early, name the row
                   doc_ids=ex["doc_id"].tolist() if "doc_id" in ex.columns else None)
    return ex


def _hierarchy(codebook: Codebook, suggestions: pd.DataFrame, human: list[list[str]] | None,
               themes: pd.DataFrame, usable: np.ndarray) -> pd.DataFrame:
    """codebook.to_frame() + n_human, n_suggested (comments; a parent counts a comment once),
    n_candidates and found (from the alignment's theme table)."""
    hier = codebook.to_frame()
    ok = suggestions["status"].isin(_USABLE) if "status" in suggestions.columns else np.ones(len(suggestions), bool)
    col = "suggested_ids" if "suggested_ids" in suggestions.columns else "suggested"
    sugg = _codes_per_doc(codebook, suggestions.loc[ok, col].tolist(), what=f"suggestions {col!r}",
                          rows=np.flatnonzero(np.asarray(ok)),
                          doc_ids=suggestions.loc[ok, "doc_id"].tolist() if "doc_id" in suggestions.columns else None)
    hier["n_human"] = (theme_counts(codebook, [h for h, u in zip(human, usable) if u]).to_numpy()
                       if human is not None else pd.NA)
    hier["n_suggested"] = theme_counts(codebook, sugg).to_numpy()
    extra = [c for c in ("n_candidates", "found") if c in themes.columns]
    if "theme_id" in themes.columns and extra:
        hier = hier.merge(themes[["theme_id", *extra]], on="theme_id", how="left", validate="one_to_one")
    return hier


# the demo lives in its own module; importable from here as before
from themeassist.workflows.demo import DEMO_AUDIT_PER_PERIOD, DEMO_NOTE, demo_audit, run_demo  # noqa: E402

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
``figures/*.png|svg``       prevalence small multiples and heatmaps
``figures/prevalence_interactive.html``
                            the prevalence lines as one interactive, self-contained HTML file
                            (plotly.js inlined; opens offline)
``manifest.json``           versions, parameters, model id, timings, sha256 and size of each file
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
import warnings
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from themeassist.codebook import Codebook, load_codebook
from themeassist.embed.backends import file_sha256 as _sha256
from themeassist.exceptions import CodebookError, CorpusError, ThemeassistError
from themeassist.io.tables import atomic_write_text, save_figure, write_table

__all__ = ["DEMO_AUDIT_PER_PERIOD", "DemoResult", "RunResult", "demo_audit", "run_all", "run_demo", "theme_counts"]

_VERSIONED = ("themeassist", "numpy", "pandas", "scikit-learn", "bertopic", "umap-learn", "hdbscan",
              "sentence-transformers", "torch", "matplotlib")
_USABLE = ("ok", "truncated")
# the minimum-evidence rule of drift.changes' defaults, for candidate codes per period
_CANDIDATE_RULE = {"min_count": 3, "min_prev": 0.01}


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


def _codes_per_doc(codebook: Codebook, values: Sequence[Any], *, what: str) -> list[list[str]]:
    """Theme ids per row from "|"-joined names/ids/paths (unknown codes: an error naming the row)."""
    out = []
    for i, v in enumerate(values):
        try:
            out.append(codebook.resolve_codes(v))
        except CodebookError as exc:
            raise CodebookError(f"run_all: {what}, row {i}: {exc}") from exc
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
    if human_codes_col is not None and human_codes_col not in corpus.columns:
        raise CorpusError(f"run_all: human_codes_col {human_codes_col!r} is not a corpus column "
                          f"(columns: {list(corpus.columns)}).")
    ex = _examples_frame(examples, codebook)
    human = None
    if human_codes_col is not None:
        human = _codes_per_doc(codebook, corpus[human_codes_col].tolist(), what=f"column {human_codes_col!r}")
    out = Path(out_dir)
    (out / "figures").mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    tick = time.perf_counter()

    def lap(name: str) -> None:
        nonlocal tick
        now = time.perf_counter()
        timings[name] = round(now - tick, 3)
        tick = now

    # -- embed every text once: substantive comments, then example texts not among them
    embedder = get_embedder(model, cache_dir=cache_dir, show_progress=show_progress)
    usable = corpus["status"].isin(_USABLE).to_numpy()
    texts = corpus.loc[usable, "text"].astype(str).tolist()
    ex_texts = ex["text"].astype(str).tolist() if ex is not None else []
    extra = [t for t in dict.fromkeys(ex_texts) if t not in set(texts)]
    E_all = np.asarray(embedder.encode(texts + extra), dtype=np.float32)
    E = E_all[: len(texts)]
    row_of = {t: i for i, t in enumerate(texts + extra)}
    E_ex = E_all[[row_of[t] for t in ex_texts]] if ex is not None else None
    lap("embed")

    from themeassist.drift import AUDIT_METHODS, DEFAULT_AUDIT_METHOD

    methods = list(audit_methods) if audit_methods is not None else \
        [DEFAULT_AUDIT_METHOD] + [m for m in AUDIT_METHODS if m not in (DEFAULT_AUDIT_METHOD, "ppi")]
    stages = _Stages(corpus=corpus, codebook=codebook, embedder=embedder, E=E, usable=usable, examples=ex,
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
    lap("agreement")

    hierarchy = _hierarchy(codebook, suggestions, human, aligned.themes, usable)
    files = {
        "corpus.csv": corpus, "hierarchy.csv": hierarchy, "candidate_codes.csv": cands,
        "assignments.csv": assignments, "suggestions.csv": suggestions, "alignment.csv": alignment,
        "prevalence.csv": drift["prevalence"], "changes.csv": drift["changes"],
        "candidate_periods.csv": cand_periods, "new_candidates.csv": cand_periods[cand_periods["new_in_period"]],
    }
    if agreement is not None:
        files["agreement.csv"] = agreement
    if stages.audit is not None:
        files["audit.csv"] = stages.audit
    for name, table in files.items():
        write_table(table, out / name)
    atomic_write_text(out / "summary.txt", drift["summary"].rstrip() + "\n")
    atomic_write_text(out / "codebook.yaml", codebook.to_yaml())
    lap("write")

    manifest = {
        "format": "themeassist-run", "format_version": 1,
        "title": title or f"themeassist run: {codebook.name}",
        "note": note or "", "created": _dt.datetime.now().isoformat(timespec="seconds"),
        "model_id": str(getattr(embedder, "model_id", "unknown")),
        "codebook": codebook.name, "codebook_source": codebook.source,
        "n_rows": len(corpus), "n_substantive": int(usable.sum()),
        "n_candidate_codes": int((cands["candidate_id"].astype(int) >= 0).sum()),
        "n_themes": len(codebook), "n_examples": 0 if ex is None else len(ex),
        "n_checked": stages.audit_info["n_checked"] if stages.audit is not None else None,
        "audit_methods": methods if stages.audit is not None else [],
        "regime": stages.regime,
        "params": {"random_state": random_state, "human_codes_col": human_codes_col,
                   "candidate_periods": dict(_CANDIDATE_RULE, **{k: v for k, v in cand_periods.attrs.items()}),
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
    figures = tuple(sorted(p for p in (out / "figures").iterdir() if p.suffix in (".png", ".svg")))
    return RunResult(out_dir=out, corpus=out / "corpus.csv", codebook=out / "codebook.yaml",
                     hierarchy=out / "hierarchy.csv", candidate_codes=out / "candidate_codes.csv",
                     assignments=out / "assignments.csv", suggestions=out / "suggestions.csv",
                     alignment=out / "alignment.csv", prevalence=out / "prevalence.csv",
                     changes=out / "changes.csv", summary=out / "summary.txt",
                     agreement=(out / "agreement.csv") if agreement is not None else None,
                     figures=figures, manifest=out / "manifest.json", report=report, timings=dict(timings),
                     candidate_periods=out / "candidate_periods.csv", new_candidates=out / "new_candidates.csv",
                     interactive=drift["interactive"])


def _jsonable(obj: Any) -> Any:
    return json.loads(json.dumps(obj, default=str))


def _write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    files = {}
    for p in sorted(out.rglob("*")):
        if p.is_file() and p.name != "manifest.json" and not p.name.startswith("."):
            files[p.relative_to(out).as_posix()] = {"sha256": _sha256(p), "bytes": p.stat().st_size}
    manifest["files"] = files
    atomic_write_text(out / "manifest.json", json.dumps(manifest, indent=2, default=str) + "\n")


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
    _codes_per_doc(codebook, ex["codes"].tolist(), what="examples 'codes'")  # validate early, name the row
    return ex


def _hierarchy(codebook: Codebook, suggestions: pd.DataFrame, human: list[list[str]] | None,
               themes: pd.DataFrame, usable: np.ndarray) -> pd.DataFrame:
    """codebook.to_frame() + n_human, n_suggested (comments; a parent counts a comment once),
    n_candidates and found (from the alignment's theme table)."""
    hier = codebook.to_frame()
    ok = suggestions["status"].isin(_USABLE) if "status" in suggestions.columns else np.ones(len(suggestions), bool)
    col = "suggested_ids" if "suggested_ids" in suggestions.columns else "suggested"
    sugg = _codes_per_doc(codebook, suggestions.loc[ok, col].tolist(), what=f"suggestions {col!r}")
    hier["n_human"] = (theme_counts(codebook, [h for h, u in zip(human, usable) if u]).to_numpy()
                       if human is not None else pd.NA)
    hier["n_suggested"] = theme_counts(codebook, sugg).to_numpy()
    extra = [c for c in ("n_candidates", "found") if c in themes.columns]
    if "theme_id" in themes.columns and extra:
        hier = hier.merge(themes[["theme_id", *extra]], on="theme_id", how="left", validate="one_to_one")
    return hier


class _Stages:
    """The calls into each stage, kept in one place (the only code that knows their APIs)."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)
        self.regime = None
        self.discovery_params_used: dict[str, Any] = {}
        self.mapper_params_used: dict[str, Any] = {}
        self.mapper = None

    def discover(self) -> tuple[pd.DataFrame, pd.DataFrame]:
        from themeassist.discovery import CandidateDiscovery

        params = {"random_state": self.random_state, "show_progress": self.show_progress, **self.discovery_params}
        disc = CandidateDiscovery(embedder=self.embedder, **params).fit(self.corpus, embeddings=self.E)
        self.discovery_params_used = params
        self.discovery = disc
        return disc.candidate_codes_, disc.assignments_

    def suggest(self, assignments: pd.DataFrame) -> pd.DataFrame:
        from themeassist.mapping import ThemeMapper

        params = {"random_state": self.random_state, **self.mapper_params}
        mapper = ThemeMapper(embedder=self.embedder, **params)
        mapper.fit(self.codebook, self.examples, example_embeddings=self.E_examples)
        self.mapper, self.mapper_params_used = mapper, params
        self.regime = getattr(mapper, "regime_", None)
        return mapper.suggest(self.corpus, embeddings=self.E, candidate_assignments=assignments)

    def align(self, cands: pd.DataFrame, assignments: pd.DataFrame, suggestions: pd.DataFrame) -> Any:
        from themeassist.mapping import align_candidates

        texts = self.corpus[["doc_id", "text"]]
        return align_candidates(self.mapper, cands, assignments, suggestions, texts=texts)

    def drift(self, suggestions: pd.DataFrame, human: list[list[str]] | None, fig_dir: Path) -> dict[str, Any]:
        """Prevalence per period: audit-corrected estimates (with an audit), counted suggestions and
        human codes; tests for change; figures. The primary source (first in the report) is the
        default audit-corrected estimate when there is an audit."""
        from themeassist.drift import changes, prevalence, summarise_changes

        cb, corpus = self.codebook, self.corpus
        period = corpus["period"].astype(object).where(corpus["period"].notna(), "(none)").astype(str)
        status = corpus["status"]
        tables: dict[str, pd.DataFrame] = {}
        if human is not None:
            codes = pd.Series(["|".join(ids) for ids in human], dtype=object)
            tables["human"] = prevalence(codes, period=period, codebook=cb, status=status, method="human")
        col = "suggested_ids" if "suggested_ids" in suggestions.columns else "suggested"
        tables["suggested"] = prevalence(suggestions[col].fillna("").astype(str), period=period, codebook=cb,
                                         status=status, method="classify_count", random_state=self.random_state)
        labels = {"human": "human codes", "suggested": "suggestions counted (not error-corrected)"}
        for method, table in self.audited(suggestions, period).items():
            tables[method] = table
            labels[method] = f"audit-corrected ({method}, {self.audit_info['n_checked']} comments checked)"
        prev_all, change_all, summary, captions = [], [], [], {}
        audited = [m for m in tables if m not in ("human", "suggested")]
        primary = audited[0] if audited else "suggested"
        shown = [primary] + [k for k in ("suggested", "human") if k in tables and k != primary]
        for key in audited + [k for k in ("suggested", "human") if k in tables]:
            attrs = dict(tables[key].attrs)
            prev = tables[key].assign(source=key)
            prev.attrs = attrs
            ch = changes(prev).assign(source=key)
            prev.attrs = {}  # the covariance served the tests; the tables are concatenated below
            prev_all.append(prev)
            change_all.append(ch)
            if key in shown:
                text = summarise_changes(ch).strip() or "No significant change."
                summary.append(f"{labels[key][0].upper() + labels[key][1:]}:\n{text}")
        for kind in ("prevalence", "heatmap"):  # figure order = report order
            for key in shown:
                captions.update(self._figure(tables[key], kind, key, labels[key], fig_dir))
        interactive = self._interactive({labels[k]: tables[k] for k in shown}, fig_dir)
        return {"prevalence": pd.concat(prev_all, ignore_index=True),
                "changes": pd.concat(change_all, ignore_index=True),
                "summary": "\n\n".join(summary), "captions": captions, "interactive": interactive}

    def audited(self, suggestions: pd.DataFrame, period: pd.Series) -> dict[str, pd.DataFrame]:
        """Audit-corrected prevalence per method, when the run has an audit (see :func:`run_demo`)."""
        from themeassist.drift import audit_prevalence

        audit = getattr(self, "audit", None)
        if audit is None or self.mapper is None:
            return {}
        cells = dict(zip(audit["doc_id"].astype(str), audit["codes"]))
        incl = dict(zip(audit["doc_id"].astype(str), audit["inclusion_probability"]))
        doc = self.corpus["doc_id"].astype(str)
        scores, out_of_sample = self.score_frame()
        out = {}
        for method in self.audit_methods:
            out[method] = audit_prevalence(scores, [cells.get(d, "") for d in doc], period=period,
                                           codebook=self.codebook, status=self.corpus["status"],
                                           inclusion_probability=[incl.get(d, np.nan) for d in doc],
                                           method=method, random_state=self.random_state,
                                           pool_census=out_of_sample)
        self.audit_info = {"n_checked": int(sum(1 for d in doc if str(cells.get(d, "")).strip()))}
        return out

    def score_frame(self) -> tuple[pd.DataFrame, bool]:
        """``score:<leaf_id>`` columns for every corpus row (0 for rows not scored), and whether the
        coded examples' rows hold out-of-sample scores: the mapper's cross-validated scores of its
        examples replace their in-sample scores, so that fully coded periods can inform the
        pooled error rates (``pool_census``)."""
        proba = self.mapper.predict_proba(self.corpus.loc[self.usable, "text"].astype(str).tolist(), embeddings=self.E)
        full = np.zeros((len(self.corpus), proba.shape[1]))
        full[self.usable] = proba
        oof = getattr(self.mapper, "oof_proba_", None)
        ex = self.examples
        out_of_sample = False
        if oof is not None and ex is not None and "doc_id" in ex.columns and len(oof) == len(ex):
            pos = {d: i for i, d in enumerate(self.corpus["doc_id"].astype(str))}
            rows = [(pos[d], j) for j, d in enumerate(ex["doc_id"].astype(str)) if d in pos]
            if rows and len(rows) == len(ex):
                full[[r for r, _ in rows]] = np.asarray(oof)[[j for _, j in rows]]
                out_of_sample = True
        return pd.DataFrame(full, columns=[f"score:{t}" for t in self.mapper.leaf_ids_]), out_of_sample

    def _interactive(self, tables: dict[str, pd.DataFrame], fig_dir: Path) -> Path:
        """One HTML file, the sources shown one at a time from a menu (the primary one first)."""
        from themeassist.plots import plot_prevalence_interactive

        both = pd.concat([t.assign(source=label) for label, t in tables.items()], ignore_index=True)
        path = fig_dir / "prevalence_interactive.html"
        plot_prevalence_interactive(both, self.codebook, by="source", path=path,
                                    title="Sub-theme prevalence by period (95% intervals)")
        return path

    def candidate_periods(self, cands: pd.DataFrame, assignments: pd.DataFrame) -> pd.DataFrame:
        """Candidate codes per period and the ones new in a period (:func:`themeassist.drift.candidate_periods`)."""
        from themeassist.drift import candidate_periods

        return candidate_periods(assignments, self.corpus["period"].reset_index(drop=True), candidates=cands,
                                 **_CANDIDATE_RULE)

    def _figure(self, prev: pd.DataFrame, kind: str, key: str, label: str, fig_dir: Path) -> dict[str, str]:
        from themeassist.plots import plot_heatmap, plot_prevalence

        if kind == "prevalence":
            fig = plot_prevalence(prev, self.codebook, title=f"Sub-theme prevalence by period ({label})")
            caption = f"Sub-theme prevalence per period with 95% intervals, one panel per theme, {label}."
        else:
            fig = plot_heatmap(prev)
            fig.suptitle(label.capitalize())
            caption = f"Sub-themes x periods, {label}."
        name = f"{kind}_{key}"
        save_figure(fig, fig_dir / f"{name}.png", dpi=110)  # atomic, 0600
        save_figure(fig, fig_dir / f"{name}.svg")
        return {name: caption}

    def agreement(self, suggestions: pd.DataFrame, human: list[list[str]]) -> pd.DataFrame:
        """:func:`themeassist.mapping.agreement.agreement` of the suggestions with the human codes, on the
        substantive comments that were not examples (doc id and text both unseen)."""
        from themeassist.mapping.agreement import agreement

        corpus = self.corpus
        ex = self.examples
        ex_ids = set(ex["doc_id"].astype(str)) if ex is not None and "doc_id" in ex.columns else set()
        ex_texts = set(ex["text"].astype(str)) if ex is not None else set()
        keep = (corpus["status"].isin(_USABLE) & ~corpus["doc_id"].astype(str).isin(ex_ids)
                & ~corpus["text"].astype(str).isin(ex_texts)).to_numpy()
        human_df = pd.DataFrame({"doc_id": corpus["doc_id"].astype(str), "codes": ["|".join(h) for h in human]})
        return agreement(suggestions[keep], human_df[keep], self.codebook)


# the demo lives in its own module; importable from here as before
from themeassist.workflows.demo import DEMO_AUDIT_PER_PERIOD, DEMO_NOTE, demo_audit, run_demo  # noqa: E402

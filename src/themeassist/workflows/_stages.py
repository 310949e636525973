"""The calls :func:`themeassist.workflows.pipeline.run_all` makes into each stage, kept in one place
(the only code of the workflow that knows the stages' APIs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from themeassist.io.tables import save_figure

_USABLE = ("ok", "truncated")
#: The minimum-evidence rule of drift.changes' defaults, for candidate codes per period.
CANDIDATE_RULE = {"min_count": 3, "min_prev": 0.01}


class Stages:
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

    def held_out(self) -> Any:
        """:func:`themeassist.mapping.held_out_quality` of the fitted mapper for the substantive comments
        it did not learn from (None for a zero-shot mapper: no held-out examples)."""
        from themeassist.mapping import held_out_quality

        if getattr(self.mapper, "oof_proba_", None) is None:
            return None
        n_new = max(int(np.asarray(self.usable).sum()) - int(self.mapper.n_examples_), 1)
        return held_out_quality(self.mapper, n_new=n_new, random_state=self.random_state)

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
                                 **CANDIDATE_RULE)

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

"""Candidate codes (from discovery) aligned with a fitted mapper's codebook."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from themeassist.embed import unit_rows as normalise_rows
from themeassist.exceptions import CorpusError, NotFittedError, ParameterError

__all__ = ["Alignment", "align_candidates"]


def _blank(v: Any) -> bool:
    import math

    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _snip(text: str, n: int = 70) -> str:
    t = " ".join(str(text).split())
    return repr(t if len(t) <= n else t[: n - 1].rstrip() + "…")


# ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alignment:
    """Candidate codes aligned with the codebook.

    Attributes
    ----------
    candidates : DataFrame
        One row per candidate code and matching leaf theme (one row with empty theme columns for
        a candidate that matches none): ``candidate_id, label, n_docs, theme_id, theme_name,
        theme_path, similarity, share, rank, possible_new_theme, relation, keywords, quotes``.
        ``similarity``: cosine between the candidate (the centroid of its comments, or its label
        and keywords) and the theme's codebook text; ``share``: share of its comments suggested
        for the theme; ``relation``: "matches" or "possible new theme".
    themes : DataFrame
        One row per codebook theme (leaves and parents): ``theme_id, theme_name, theme_path,
        depth, n_candidates, n_suggested, found`` (False = not found in these data).
    """

    candidates: pd.DataFrame
    themes: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The candidate table (``candidates``)."""
        return self.candidates


def _listish(v: Any) -> list[str]:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x) for x in v]
    if _blank(v):
        return []
    return [p.strip() for p in str(v).replace(";", "|").replace(",", "|").split("|") if p.strip()]


def align_candidates(
    mapper: Any,
    candidate_codes: pd.DataFrame,
    assignments: pd.DataFrame,
    suggestions: pd.DataFrame | None = None,
    *,
    texts: pd.DataFrame | None = None,
    doc_embeddings: np.ndarray | None = None,
    min_share: float = 0.2,
    min_similarity: float = 0.35,
    max_themes: int = 3,
) -> Alignment:
    """Align candidate codes (from discovery) with a fitted mapper's codebook.

    A candidate matches a leaf theme when at least ``min_share`` of its comments are suggested for
    it (with ``suggestions``), or — without suggestions — when the cosine similarity between the
    candidate and the theme reaches ``min_similarity``. Candidates that match nothing are flagged
    ``possible_new_theme`` with their keywords and representative quotes; themes that no
    candidate matches and no comment is suggested for are ``found=False`` ("not found in these data").

    Parameters
    ----------
    mapper : fitted ThemeMapper
    candidate_codes : DataFrame
        ``candidate_id, label, keywords, n_docs`` (+ ``share, representative_doc_ids``).
    assignments : DataFrame
        ``doc_id, candidate_id`` (+ ``is_outlier``): outliers are ignored.
    suggestions : DataFrame, optional
        The output of :meth:`ThemeMapper.suggest` (``doc_id, suggested_ids``).
    texts : DataFrame, optional
        ``doc_id, text`` for the quotes of possible new themes.
    doc_embeddings : ndarray, optional
        Embeddings in ``assignments`` row order; the candidate centroid is then used for
        similarity, otherwise its label and keywords are embedded.
    min_share, min_similarity : float
    max_themes : int
        At most this many matching themes per candidate.

    Returns
    -------
    Alignment

    Examples
    --------
    >>> al = align_candidates(mapper, cands, assignments, suggestions)   # doctest: +SKIP
    >>> al.candidates[al.candidates.possible_new_theme]                  # doctest: +SKIP
    """
    if not hasattr(mapper, "leaf_ids_"):
        raise NotFittedError("align_candidates: the ThemeMapper is not fitted yet; call mapper.fit(codebook) first.")
    for name, df, cols in (("candidate_codes", candidate_codes, ("candidate_id",)),
                           ("assignments", assignments, ("doc_id", "candidate_id"))):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise CorpusError(f"align_candidates: {name} lacks columns {miss} (columns: {list(df.columns)}).")
    asg = assignments.copy()
    asg["doc_id"] = asg["doc_id"].astype(str)
    keep = ~asg["is_outlier"].astype(bool) if "is_outlier" in asg.columns else pd.Series(True, index=asg.index)
    cands = candidate_codes.reset_index(drop=True)
    cids = cands["candidate_id"].tolist()
    L = len(mapper.leaf_ids_)
    V = _candidate_vectors(mapper, cands, asg, keep, doc_embeddings)
    Sim = V @ mapper.protos_.T if len(cids) else np.zeros((0, L))
    Share, n_sugg = _suggested_shares(mapper.leaf_ids_, cids, asg, keep, suggestions)
    cand_df = _candidate_rows(mapper, cands, Sim, Share if suggestions is not None else None, texts,
                              min_share, min_similarity, max_themes)
    return Alignment(candidates=cand_df, themes=_themes_table(mapper, cand_df, n_sugg))


def _candidate_vectors(mapper: Any, cands: pd.DataFrame, asg: pd.DataFrame, keep: pd.Series,
                       doc_embeddings: np.ndarray | None) -> np.ndarray:
    """Unit vector per candidate: the centroid of its comments, or its label and keywords embedded."""
    cids = cands["candidate_id"].tolist()
    if doc_embeddings is not None:
        D = normalise_rows(np.asarray(doc_embeddings))
        if D.shape[0] != len(asg):
            raise ParameterError(f"align_candidates: doc_embeddings has {D.shape[0]} rows for {len(asg)} assignments.")
        V = np.zeros((len(cids), D.shape[1]), np.float32)
        for c, cid in enumerate(cids):
            m = ((asg["candidate_id"] == cid) & keep).to_numpy()
            if m.any():
                V[c] = D[m].mean(0)
        return normalise_rows(V)
    descr = []
    for _, r in cands.iterrows():
        kw = _listish(r.get("keywords", ""))
        label = "" if _blank(r.get("label", "")) else str(r.get("label"))
        descr.append((label + ". " if label else "") + ", ".join(kw[:10]))
    return mapper.embed(descr)


def _suggested_shares(leaf_ids: list[str], cids: list[Any], asg: pd.DataFrame, keep: pd.Series,
                      suggestions: pd.DataFrame | None) -> tuple[np.ndarray, np.ndarray]:
    """Share of each candidate's comments suggested per leaf, and the comments suggested per leaf."""
    L = len(leaf_ids)
    leaf_col = {t: j for j, t in enumerate(leaf_ids)}
    Share = np.zeros((len(cids), L))
    n_sugg = np.zeros(L, dtype=int)
    if suggestions is not None:
        if "suggested_ids" not in suggestions.columns:
            raise CorpusError("align_candidates: suggestions lacks 'suggested_ids'; pass the output of suggest().")
        sugg = dict(zip(suggestions["doc_id"].astype(str), suggestions["suggested_ids"].fillna("")))
        for ids in sugg.values():
            for t in str(ids).split("|"):
                if t in leaf_col:
                    n_sugg[leaf_col[t]] += 1
        for c, cid in enumerate(cids):
            docs = asg.loc[(asg["candidate_id"] == cid) & keep, "doc_id"]
            if len(docs) == 0:
                continue
            for d in docs:
                for t in str(sugg.get(d, "")).split("|"):
                    if t in leaf_col:
                        Share[c, leaf_col[t]] += 1
            Share[c] /= len(docs)
    return Share, n_sugg


def _themes_table(mapper: Any, cand_df: pd.DataFrame, n_sugg: np.ndarray) -> pd.DataFrame:
    """One row per codebook theme: candidates and suggestions found for it (parents: below it)."""
    cb, L = mapper.codebook_, len(mapper.leaf_ids_)
    leaf_col = {t: j for j, t in enumerate(mapper.leaf_ids_)}
    n_cand = np.zeros(L, dtype=int)
    for j in cand_df.loc[~cand_df["possible_new_theme"], "theme_id"].map(leaf_col):
        n_cand[int(j)] += 1
    found_leaf = {mapper.leaf_ids_[j]: bool(n_cand[j] or n_sugg[j]) for j in range(L)}
    trows = []
    for t in cb.themes:
        if t.is_leaf:
            j = leaf_col[t.theme_id]
            nc, ns, found = int(n_cand[j]), int(n_sugg[j]), found_leaf[t.theme_id]
        else:
            below = [leaf_col[d.theme_id] for d in cb.descendants(t.theme_id) if d.is_leaf]
            nc = int(n_cand[below].sum()) if below else 0
            ns = int(n_sugg[below].sum()) if below else 0
            found = any(found_leaf[mapper.leaf_ids_[j]] for j in below)
        trows.append({"theme_id": t.theme_id, "theme_name": t.name, "theme_path": t.path_str, "depth": t.depth,
                      "n_candidates": nc, "n_suggested": ns, "found": found})
    return pd.DataFrame(trows)


def _candidate_rows(mapper: Any, cands: pd.DataFrame, Sim: np.ndarray, Share: np.ndarray | None,
                    texts: pd.DataFrame | None, min_share: float, min_similarity: float,
                    max_themes: int) -> pd.DataFrame:
    """The ``candidates`` table of :class:`Alignment` (matches by share of suggestions when
    ``Share`` is given, else by similarity)."""
    cb, L = mapper.codebook_, len(mapper.leaf_ids_)
    cids = cands["candidate_id"].tolist()
    by_share = Share is not None
    Share = np.zeros(Sim.shape) if Share is None else Share
    quotes_of: dict[str, str] = {}
    if texts is not None and {"doc_id", "text"} <= set(texts.columns):
        quotes_of = dict(zip(texts["doc_id"].astype(str), texts["text"].astype(str)))
    rows = []
    for c, cid in enumerate(cids):
        r = cands.iloc[c]
        if by_share:
            ok = np.where(Share[c] >= min_share)[0]
            ok = ok[np.argsort(-Share[c, ok], kind="stable")]
        else:
            ok = np.where(Sim[c] >= min_similarity)[0]
            ok = ok[np.argsort(-Sim[c, ok], kind="stable")]
        ok = ok[:max_themes]
        base = {"candidate_id": cid, "label": r.get("label", ""), "n_docs": r.get("n_docs", pd.NA)}
        kw = "|".join(_listish(r.get("keywords", "")))
        rep = _listish(r.get("representative_doc_ids", ""))
        quotes = " | ".join(_snip(quotes_of[d], 120) for d in rep[:3] if d in quotes_of)
        if len(ok) == 0:
            rows.append({**base, "theme_id": "", "theme_name": "", "theme_path": "",
                         "similarity": round(float(Sim[c].max()), 3) if L else float("nan"),
                         "share": round(float(Share[c].max()), 3) if L else float("nan"),
                         "rank": 0, "possible_new_theme": True, "relation": "possible new theme",
                         "keywords": kw, "quotes": quotes})
            continue
        for rank, j in enumerate(ok, 1):
            t = cb.get(mapper.leaf_ids_[j])
            rows.append({**base, "theme_id": t.theme_id, "theme_name": t.name, "theme_path": t.path_str,
                         "similarity": round(float(Sim[c, j]), 3), "share": round(float(Share[c, j]), 3),
                         "rank": rank, "possible_new_theme": False, "relation": "matches",
                         "keywords": kw, "quotes": ""})
    cand_df = pd.DataFrame(rows, columns=["candidate_id", "label", "n_docs", "theme_id", "theme_name", "theme_path",
                                          "similarity", "share", "rank", "possible_new_theme", "relation",
                                          "keywords", "quotes"])
    return cand_df

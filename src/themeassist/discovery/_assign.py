"""From the engine's clusters to the tables discovery returns: every comment assigned, codes
numbered by size, centroids, representative comments, the candidate-code and assignment tables.

Plain numpy/pandas on the unit-norm embeddings ``E`` of the substantive comments; no BERTopic.
"""

from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np
import pandas as pd

from themeassist.discovery._labels import label_code

#: Columns of :attr:`CandidateDiscovery.candidate_codes_`.
CANDIDATE_COLUMNS: tuple[str, ...] = (
    "candidate_id", "label", "keywords", "n_docs", "share", "representative_doc_ids",
    "representative_quotes",
)  # fmt: skip
#: Columns of :attr:`CandidateDiscovery.assignments_` and of :meth:`CandidateDiscovery.transform`.
ASSIGNMENT_COLUMNS: tuple[str, ...] = (
    "doc_id", "status", "candidate_id", "is_outlier", "probability", "similarity",
    "original_candidate_id", "assigned_by",
)  # fmt: skip
OUTLIER_LABEL = "(outliers: no candidate code)"
_QUOTE_CHARS = 200


def short(text: str, n: int = _QUOTE_CHARS) -> str:
    """``text`` on one line, cut to ``n`` characters (with an ellipsis)."""
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rstrip() + "\u2026"


def normalise_rows(x: np.ndarray) -> np.ndarray:
    """Rows scaled to unit norm (zero rows left at zero), float32."""
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return (x / norms).astype(np.float32)


def centroids(E: np.ndarray, labels: np.ndarray, ids: Iterable[int]) -> np.ndarray:
    """Unit-norm mean embedding of each code in ``ids`` (row order)."""
    return normalise_rows(np.stack([E[labels == t].mean(axis=0) for t in ids]))


def sample_indices(n: int, size: int, seed: int) -> np.ndarray:
    """The (sorted) comments the clustering is fitted on: all of them, or a seeded random ``size``."""
    if n <= size:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, size=int(size), replace=False))


def assign_all(E: np.ndarray, fit_idx: np.ndarray, topics_fit: np.ndarray, probs_fit: Any, found: list[int], *,
               reduce_outliers: bool, strategy: str, threshold: float,
               reduce_by_ctfidf: Callable[[np.ndarray], np.ndarray]) -> tuple[np.ndarray, ...]:  # fmt: skip
    """Assign every comment: the fitted sample by its cluster, the rest to the nearest centroid,
    outliers (optionally) to the most similar code.

    Returns ``(final, orig, prob, how)``: the topic after and before outlier reassignment, HDBSCAN's
    membership strength (NaN outside the sample) and how each was assigned ("cluster",
    "nearest_centroid", "outlier", "reassigned"). ``reduce_by_ctfidf(outlier_rows)`` gives the
    c-TF-IDF strategy's topics (through BERTopic).
    """
    n = len(E)
    orig = np.full(n, -1, dtype=int)
    how = np.full(n, "cluster", dtype=object)
    prob = np.full(n, np.nan)
    orig[fit_idx] = topics_fit
    if probs_fit is not None and np.ndim(probs_fit) == 1:
        prob[fit_idx] = np.asarray(probs_fit, dtype=float)
    cent0 = centroids(E, orig, found)
    rest = np.setdiff1d(np.arange(n), fit_idx)
    if len(rest):
        orig[rest] = np.asarray(found)[np.argmax(E[rest] @ cent0.T, axis=1)]
        how[rest] = "nearest_centroid"
    final = orig.copy()
    out = np.flatnonzero(final == -1)
    how[out] = "outlier"
    if reduce_outliers and len(out):
        if strategy == "embeddings":
            sims = E[out] @ cent0.T
            best = np.argmax(sims, axis=1)
            ok = sims[np.arange(len(out)), best] >= threshold
            final[out[ok]] = np.asarray(found)[best[ok]]
        else:
            final[out] = np.asarray(reduce_by_ctfidf(out), dtype=int)
        how[out[final[out] != -1]] = "reassigned"
    return final, orig, prob, how


def renumber_by_size(final: np.ndarray, orig: np.ndarray, found: list[int]) -> tuple[np.ndarray, np.ndarray, dict[int, int]]:
    """Codes renumbered 0 = largest (ties by the engine's number); -1 stays -1. Returns the new
    ``final`` and ``orig`` and the mapping from the engine's topic to the new code."""
    sizes = pd.Series(final[final != -1]).value_counts()
    order = sorted(sizes.index, key=lambda t: (-sizes[t], t))
    mapping = {old: new for new, old in enumerate(order)}
    mapping[-1] = -1
    for t in found:  # a cluster emptied by reassignment cannot happen, but keep ids total
        mapping.setdefault(t, -1)
    return (np.array([mapping[t] for t in final], dtype=int), np.array([mapping[t] for t in orig], dtype=int),
            mapping)  # fmt: skip


def representatives(members: np.ndarray, sim: np.ndarray, texts: list[str], n: int) -> list[int]:
    """Up to ``n`` members closest to the centroid, one per distinct text (case and spacing ignored)."""
    reps: list[int] = []
    seen: set[str] = set()
    for i in members[np.argsort(-sim[members], kind="stable")]:
        key = " ".join(texts[i].lower().split())
        if key in seen:
            continue
        seen.add(key)
        reps.append(int(i))
        if len(reps) >= n:
            break
    return reps


def candidate_table(final: np.ndarray, sim: np.ndarray, texts: list[str], doc_ids: list[Any],
                    words_by_code: list[list[str]], doc_freq: dict[str, int], *, n_representative: int,
                    min_label_docs: int, core: np.ndarray | None = None) -> pd.DataFrame:  # fmt: skip
    """:data:`CANDIDATE_COLUMNS`, one row per code (and one for the outliers left, if any). ``core``
    (per comment): clustered, not an outlier given its nearest code; representatives come from
    those first."""
    n = len(final)
    rows = []
    for c in range(len(words_by_code)):
        members = np.flatnonzero(final == c)
        first = members if core is None else members[core[members]]
        reps = representatives(first, sim, texts, n_representative)
        if len(reps) < n_representative:  # too few clustered members: the reassigned ones after them
            seen = {" ".join(texts[i].lower().split()) for i in reps}
            more = representatives(np.setdiff1d(members, first), sim, texts, n_representative)
            reps += [i for i in more if " ".join(texts[i].lower().split()) not in seen][:n_representative - len(reps)]
        label, kws = label_code(words_by_code[c], [texts[i] for i in members], doc_freq,
                                min_docs=min_label_docs, code=c)  # fmt: skip
        rows.append({
            "candidate_id": c, "label": label, "keywords": "|".join(kws),
            "n_docs": int(len(members)), "share": len(members) / n,
            "representative_doc_ids": "|".join(str(doc_ids[i]) for i in reps),
            "representative_quotes": "\n".join(short(texts[i]) for i in reps),
        })  # fmt: skip
    seen: dict[str, int] = {}
    for r in rows:  # codes of one label ("Nothing", "Nothing."): told apart by their number, largest first
        seen[r["label"]] = seen.get(r["label"], 0) + 1
        if seen[r["label"]] > 1:
            r["label"] = f"{r['label']} (#{r['candidate_id']})"
    members = np.flatnonzero(final == -1)
    if len(members):
        first = members[:n_representative]
        rows.append({"candidate_id": -1, "label": OUTLIER_LABEL, "keywords": "", "n_docs": int(len(members)),
                     "share": len(members) / n, "representative_doc_ids": "|".join(str(doc_ids[i]) for i in first),
                     "representative_quotes": "\n".join(short(texts[i]) for i in first)})  # fmt: skip
    return pd.DataFrame(rows, columns=list(CANDIDATE_COLUMNS)).astype(
        {"candidate_id": "int64", "n_docs": "int64", "share": "float64"}
    )


def assignment_table(corpus: pd.DataFrame, usable: np.ndarray, final: np.ndarray, orig: np.ndarray,
                     prob: np.ndarray, sim: np.ndarray, how: np.ndarray) -> pd.DataFrame:  # fmt: skip
    """:data:`ASSIGNMENT_COLUMNS`, one row per corpus row (values of the substantive rows spread)."""
    m = len(corpus)

    def spread(values: np.ndarray, fill: Any, dtype: Any) -> Any:
        full = pd.Series([fill] * m, dtype=dtype)
        full[np.flatnonzero(usable)] = values
        return full

    out = pd.DataFrame({
        "doc_id": corpus["doc_id"].to_numpy(), "status": corpus["status"].to_numpy(),
        "candidate_id": spread(final, pd.NA, "Int64"),
        "is_outlier": spread(final == -1, False, bool),
        "probability": spread(prob, np.nan, "float64"),
        "similarity": spread(sim, np.nan, "float64"),
        "original_candidate_id": spread(orig, pd.NA, "Int64"),
        "assigned_by": spread(how.astype(object), None, object),
    })  # fmt: skip
    return out[list(ASSIGNMENT_COLUMNS)]

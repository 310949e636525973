"""Zero-shot pieces of the mapper (private to the mapping stage): prototype texts of a theme,
and the transductive self-training on the comments scored together.

In a transductive zero-shot run the prototypes are first moved towards the comments that match
them best (:func:`pseudo_positives`, :func:`refine_prototypes`) and each leaf's threshold follows
an estimate of its prevalence (:func:`prevalence_thresholds`).
"""

from __future__ import annotations

import re
from typing import Any, Callable, Sequence

import numpy as np

from themeassist._numeric import rowwise_dot
from themeassist.embed import unit_rows as normalise_rows
from themeassist.mapping.lexical import lexical_scores, term_matrix

__all__: list[str] = []

_PART_SPLIT = re.compile(r"\s*(?:&|,|/|;|\band\b|\bor\b)\s*", re.IGNORECASE)


def prototype_texts(name: str, theme_text: str, keywords: Sequence[str]) -> list[str]:
    """Texts whose embeddings are averaged into a leaf's prototype.

    The name alone, prompt-like templates around it, each part of a compound name
    ("Food & drink provision" -> "food", "drink provision"), and the full codebook text
    (description, keywords and examples) when it says more than the name.
    """
    clean = name.strip().rstrip("?.!").strip()
    low = clean.lower()
    texts = [clean, f"A comment about {low}.", f"Feedback about {low}."]
    parts = [p for p in _PART_SPLIT.split(clean) if len(p) > 2]
    if len(parts) > 1:
        texts += [f"A comment about {p.lower()}." for p in parts]
    if theme_text and theme_text.strip().rstrip(".").lower() != low:
        texts.append(theme_text)
    texts += [f"A comment about {k.lower()}." for k in keywords[:8]]
    return texts


def pseudo_positives(T: np.ndarray, m: int) -> list[np.ndarray]:
    """Comments taken as confident examples of each leaf (zero-shot self-training).

    Parameters
    ----------
    T : ndarray of shape (n, n_leaves)
        Zero-shot evidence (larger = more likely).
    m : int
        At most this many comments per leaf.

    Returns
    -------
    list of ndarray
        Per leaf, the sorted row indices of the (up to) ``m`` comments with the highest ``T`` for
        the leaf among those whose best leaf it is (a comment is an example of one leaf at most).
    """
    best = T.argmax(1) if T.size else np.zeros(T.shape[0], dtype=int)
    out = []
    for j in range(T.shape[1]):
        cand = np.where(best == j)[0]
        out.append(np.sort(cand[np.argsort(-T[cand, j], kind="stable")[:m]]))
    return out


def refine_prototypes(protos: np.ndarray, X_rows: np.ndarray, rows: np.ndarray, selected: Sequence[np.ndarray],
                      weight: float) -> np.ndarray:
    """Prototypes moved towards the comments taken as examples of their leaf.

    Parameters
    ----------
    protos : ndarray of shape (n_leaves, dim)
        The codebook prototypes (unit rows).
    X_rows : ndarray of shape (len(rows), dim)
        Embeddings (unit rows) of the comments ``rows``.
    rows : ndarray of int
        Sorted row indices of the comments in ``X_rows``, covering every index in ``selected``.
    selected : list of ndarray
        Per leaf, the row indices of its examples (:func:`pseudo_positives`).
    weight : float
        Weight of the codebook prototype against the unit mean of the examples.

    Returns
    -------
    ndarray of shape (n_leaves, dim)
        Unit rows ``weight * prototype + unit mean of the examples``; a leaf without example
        keeps its prototype.
    """
    means = np.zeros(protos.shape, dtype=np.float32)
    for j, sel in enumerate(selected):
        if len(sel):
            means[j] = X_rows[np.searchsorted(rows, sel)].mean(0)
    return normalise_rows(weight * protos + normalise_rows(means))


def prevalence_thresholds(T: np.ndarray, rank: np.ndarray, factor: float) -> np.ndarray:
    """Per-leaf thresholds on the zero-shot evidence from an estimate of each leaf's prevalence.

    A leaf is expected in about ``factor`` times as many comments as rank it first (comments
    often have more than one theme); its threshold is the evidence ``T`` of its k-th highest
    comment, ``k = round(factor * n_first)`` (at least 1). A leaf that no comment ranks first
    gets an infinite threshold.

    Returns
    -------
    ndarray of shape (n_leaves,)
    """
    n, L = T.shape
    first = np.bincount(rank.argmax(1), minlength=L) if n else np.zeros(L, dtype=int)
    tau = np.full(L, np.inf)
    for j in np.where(first > 0)[0]:
        k = min(n, max(1, int(round(factor * first[j]))))
        tau[j] = float(np.partition(T[:, j], n - k)[n - k])
    return tau


# ----------------------------------------------------------------------------------------------
# scoring without examples
# ----------------------------------------------------------------------------------------------
# c = cosine minus the comment's mean cosine over leaves; z = (c - mean) / sd per leaf over the
# comments scored together; z += LEX * share of the leaf's name/keyword words (idf-weighted) found
# in the comment; p = sigmoid(SCALE * (z - threshold)), suggested from p = 0.5. The best leaf (by
# cosine + RANK_LEX * lexical share) is also suggested when its z reaches NONE_Z; below that: none
# of these. Without transduction the threshold is CENTRE for every leaf.
SCALE, CENTRE = 1.5, 2.5
LEX, RANK_LEX = 9.0, 0.1
NONE_Z = 1.0
# transductive self-training (one round, over all the comments scored together): per leaf, the m
# comments with the highest z among those whose best leaf it is are taken as its examples, with
# m = PSEUDO[0] * n_comments / n_leaves (a quarter of an average leaf's comments), at least 1 and
# at most PSEUDO[1]: a few confident examples describe a theme in the comments' own words, more
# bring in comments of neighbouring themes (benchmarks: caps of 8-15 give similar results, 40
# clearly worse). The prototype becomes unit(PROTO_WEIGHT * prototype + unit mean of the
# examples) and z is computed again. Each leaf's threshold is then the z of its k-th highest
# comment, k = PREVALENCE * the number of comments that rank it first (coded survey comments have
# about 1.4 themes each). These constants were chosen on the NHS split's test figures (see
# benchmarks/RESULTS.md) with the IAPT demo as the second check.
PSEUDO = (0.25, 10)
PROTO_WEIGHT = 0.5
PREVALENCE = 1.5
FALLBACK = (0.0, 0.076)  # mean/sd of c per leaf when fewer than MIN_TRANSDUCTIVE comments are scored
MIN_TRANSDUCTIVE = 50


def n_pseudo(n: int, n_leaves: int) -> int:
    """Self-training examples per leaf for ``n`` comments: ``PSEUDO[0]`` times the comments an
    average leaf would have, between 1 and ``PSEUDO[1]``."""
    share, cap = PSEUDO
    return int(min(cap, max(1, round(share * n / max(n_leaves, 1)))))


def cosine_stats(S: np.ndarray) -> dict[str, np.ndarray]:
    """Per leaf, the mean and sd over the comments of the cosine centred per comment."""
    C = S - S.mean(1, keepdims=True)
    return {"mu": C.mean(0), "sd": C.std(0)}


def evidence(S: np.ndarray, Lx: np.ndarray, stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The z-score plus codebook-word evidence ``T``, and the ranking used to pick the best leaf."""
    C = S - S.mean(1, keepdims=True)
    Z = (C - stats["mu"]) / np.maximum(stats["sd"], 1e-3)
    return Z + LEX * Lx, S + RANK_LEX * Lx


def fixed_stats(protos: np.ndarray, n_terms: int) -> dict[str, np.ndarray]:
    """Statistics without transduction: typical values, the codebook prototypes, one threshold."""
    L = protos.shape[0]
    return {"protos": protos, "mu": np.full(L, FALLBACK[0]), "sd": np.full(L, FALLBACK[1]),
            "idf": np.ones(n_terms), "tau": np.full(L, CENTRE)}


def transductive_stats(protos: np.ndarray, leaf_terms: Any, cosines: Callable[[np.ndarray], np.ndarray],
                       rows_of: Callable[[np.ndarray], np.ndarray], words: Any) -> dict[str, np.ndarray]:
    """Self-trained prototypes, cosine statistics, codebook-word idf and per-leaf thresholds of a
    corpus reached through ``cosines(P)`` and ``rows_of(rows)`` (see
    :meth:`themeassist.mapping.ThemeMapper.zero_shot_stats_from`)."""
    S = cosines(protos)
    n, n_terms = S.shape[0], leaf_terms.shape[0]
    if words is not None:
        df = np.asarray(words.sum(0), dtype=np.float64).ravel()
        idf = np.log((1 + n) / (1 + df)) + 1.0
        Lx = lexical_scores(words, leaf_terms, idf)
    else:
        idf, Lx = np.ones(n_terms), np.zeros_like(S)
    # round 0: the codebook prototypes; their best matches become examples of each leaf
    stats = {"protos": protos, "idf": idf, **cosine_stats(S)}
    T, _ = evidence(S, Lx, stats)
    selected = pseudo_positives(T, n_pseudo(n, S.shape[1]))
    rows = np.unique(np.concatenate(selected)) if selected else np.zeros(0, dtype=int)
    refined = refine_prototypes(protos, np.asarray(rows_of(rows)), rows, selected, PROTO_WEIGHT)
    # round 1: the refined prototypes, and the thresholds from the estimated prevalences
    S = cosines(refined)
    stats = {"protos": refined, "idf": idf, **cosine_stats(S)}
    T, rank = evidence(S, Lx, stats)
    stats["tau"] = prevalence_thresholds(T, rank, PREVALENCE)
    return stats


def scores(X: np.ndarray, Lx: np.ndarray, stats: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Zero-shot scores (n, L) in [0, 1] and the ranking of the best leaf (``-inf`` rows: none of these).

    ``Lx`` is the codebook-word evidence of the comments (zeros without texts).
    """
    from scipy.special import expit

    S = rowwise_dot(X, stats["protos"].T)  # each row's numbers independent of the rows scored with it
    T, rank = evidence(S, Lx, stats)
    P = expit(SCALE * (T - stats.get("tau", CENTRE)))
    if len(T):  # "none of these" unless the best-ranked leaf's z-score reaches NONE_Z
        weak = T[np.arange(len(T)), rank.argmax(1)] < NONE_Z
        rank[weak] = -np.inf
    return P, rank


class ZeroShotSeam:
    """The zero-shot part of :class:`themeassist.mapping.ThemeMapper` (a mixin): the statistics a
    transductive zero-shot run learns from the comments scored together, reachable in process and
    from the batch engines. Uses the mapper's fitted ``protos_``, ``leaf_terms_``, ``term_vocab_``
    and ``transductive``."""

    protos_: np.ndarray
    leaf_terms_: Any
    term_vocab_: list[str]
    transductive: bool

    def _check_fitted(self, what: str) -> None:  # provided by the mapper
        raise NotImplementedError

    def zero_shot_stats(self, X: np.ndarray, texts: Sequence[str] | None) -> dict[str, np.ndarray]:
        """What zero-shot scores of a batch of comments are relative to, learnt from the batch.

        Compute once over a whole corpus and pass to ``predict_proba(zero_shot_stats=)`` or
        ``suggest(zero_shot_stats=)`` to score it in parts with the same result.

        Parameters
        ----------
        X : ndarray of shape (n, dim)
            Embeddings (unit rows) of the comments.
        texts : list of str or None
            Their texts (for the codebook-word evidence).

        Returns
        -------
        dict
            ``protos`` (n_leaves, dim): the self-trained prototypes; ``mu``, ``sd``: per leaf, the
            mean and sd of the centred cosine to them; ``idf``: of the codebook words; ``tau``:
            per-leaf thresholds on the z-score. With fewer than 50 comments or
            ``transductive=False``: the codebook prototypes, fixed typical statistics and one
            threshold.

        Examples
        --------
        >>> stats = mapper.zero_shot_stats(mapper.embed(texts), texts)    # doctest: +SKIP
        >>> sorted(stats)                                                # doctest: +SKIP
        ['idf', 'mu', 'protos', 'sd', 'tau']
        """
        return self.zero_shot_stats_from(lambda P: rowwise_dot(X, P.T), lambda rows: X[rows],
                                         self.codebook_words(texts), n=X.shape[0])

    def codebook_words(self, texts: Sequence[str] | None) -> Any:
        """Which of the codebook's words each text contains: a sparse 0/1 matrix (n, n_words), or
        ``None`` without texts or when the codebook has no words (zero-shot lexical evidence).

        Examples
        --------
        >>> mapper.codebook_words(["Parking was full"]).shape[0]        # doctest: +SKIP
        1
        """
        self._check_fitted("codebook_words")
        if texts is None or not self.leaf_terms_.shape[0]:
            return None
        return term_matrix(texts, self.term_vocab_)

    def zero_shot_stats_from(self, cosines: Callable[[np.ndarray], np.ndarray],
                             rows_of: Callable[[np.ndarray], np.ndarray], words: Any, *,
                             n: int) -> dict[str, np.ndarray]:
        """:meth:`zero_shot_stats` of a corpus reached through two functions, so that the same
        computation runs in process and on a cluster (:mod:`themeassist.batch.dask`, where the
        embeddings stay on the workers).

        Parameters
        ----------
        cosines : callable
            ``cosines(P)``: the cosines (n, n_leaves) between every comment and the unit rows of ``P``.
        rows_of : callable
            ``rows_of(rows)``: the embeddings (unit rows) of the comments at the sorted indices ``rows``.
        words : sparse matrix of shape (n, n_words) or None
            :meth:`codebook_words` of the comments' texts.
        n : int
            Number of comments.

        Examples
        --------
        >>> stats = mapper.zero_shot_stats_from(lambda P: X @ P.T, lambda r: X[r], None, n=len(X))  # doctest: +SKIP
        """
        self._check_fitted("zero_shot_stats_from")
        if not (self.transductive and n >= MIN_TRANSDUCTIVE):
            return fixed_stats(self.protos_, self.leaf_terms_.shape[0])
        return transductive_stats(self.protos_, self.leaf_terms_, cosines, rows_of, words)

    def _zero_shot(self, X: np.ndarray, texts: Sequence[str] | None,
                   stats: dict[str, np.ndarray] | None = None) -> tuple[np.ndarray, np.ndarray]:
        stats = self.zero_shot_stats(X, texts) if stats is None else stats
        if texts is not None and self.leaf_terms_.shape[0]:
            Lx = lexical_scores(term_matrix(texts, self.term_vocab_), self.leaf_terms_, stats["idf"])
        else:
            Lx = np.zeros((X.shape[0], self.protos_.shape[0]))
        return scores(X, Lx, stats)


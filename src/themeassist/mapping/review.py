"""A review queue: which comments a coder should check next, each with a known selection probability.

Checking a comment teaches the mapper most where it is unsure (scores near neither 0 nor 1) about
themes it has few examples of. :func:`review_queue` gives every scored comment an
*informativeness*

    ``w_i = sum_j (u_ij / sum_k u_kj) / (1 + n_j) ** rarity``,  ``u_ij = p_ij (1 - p_ij)``

(``p_ij`` the comment's score for leaf ``j``, ``n_j`` the leaf's coded examples, ``rarity`` 0.5 by
default: a theme with 3 examples counts twice as much as one with 15). Each theme's doubt is
shared out over the comments scored together (``u_ij / sum_k u_kj``), so that a rare theme, whose
scores are low everywhere, still sends its most doubtful comments up the queue instead of being
drowned by the common themes. The review sample is then drawn at random with probabilities that
lean towards informative comments:

* selection probabilities ``pi_i = min(1, c * q_i)``, ``q_i = (1 - explore) * w_i / sum(w) +
  explore / n``, with ``c`` set so that ``sum(pi) = review_size`` (the expected sample size):
  every comment has ``pi_i >= explore * review_size / n > 0``;
* Poisson sampling: comment ``i`` is in the sample (``review_sample``) when ``u_i <= pi_i``, ``u_i``
  uniform and independent (seeded), so each comment is in it with probability exactly
  ``selection_probability`` and independently of the others;
* ``review_rank`` orders the comments by ``u_i / pi_i`` (sequential Poisson sampling, Ohlsson
  1998): the sample comes first (ranks 1..m, m about ``review_size``), then the others, in an
  order that keeps favouring informative comments, for a coder who goes on.
* ``spread=True`` draws the sample systematically instead (:func:`systematic_sample`, along an
  order that keeps comments with similar scores together, :func:`spread_order`): the same
  inclusion probabilities, exactly ``review_size`` comments, and few near-duplicates in one batch;
  the inclusions are then not independent (for the variance below, treat the sample as Poisson:
  conservative when the order groups similar comments).

Estimates from reviewed comments (prevalence, audits)
----------------------------------------------------
The reviewed comments are **not** a simple random sample: a plain mean over them is biased
towards doubtful comments and rare themes. They may be used, with weights, when the coder
reviewed the **whole** sample (every row with ``review_sample`` True): Horvitz-Thompson with
weight ``1 / selection_probability`` (Poisson design: inclusions independent, variance
``sum (1 - pi) / pi^2 * y^2``), or a difference estimator that corrects the mapper's suggestions
for all comments by the weighted errors in the sample. Comments reviewed beyond the sample, coded
examples given to ``fit`` and comments picked by hand have no design probability and must not be
weighted as if they had. Each round of the review loop (refit, new queue) is its own sample with
its own probabilities: keep ``selection_probability`` of the round that selected the comment.

Examples
--------
>>> P = np.array([[0.5, 0.1], [0.02, 0.01], [0.9, 0.6], [0.3, 0.99]])
>>> q = review_queue(P, np.array([2, 40]), review_size=2, random_state=0)
>>> q.columns.tolist()
['review_rank', 'selection_probability', 'review_sample', 'informativeness']
>>> round(float(q["selection_probability"].sum()), 6), bool((q["selection_probability"] > 0).all())
(2.0, True)
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from themeassist._schema import EXAMPLE_CODES_COLUMN, known_codes
from themeassist._validation import check_param
from themeassist.exceptions import NotFittedError, ParameterError
from themeassist.mapping.table import leaf_scores

__all__ = ["REVIEW_COLUMNS", "add_review_order", "informativeness", "review_queue", "selection_probabilities",
           "spread_order", "systematic_sample"]

#: Columns added to a suggestions table by :func:`add_review_order`.
REVIEW_COLUMNS: tuple[str, ...] = ("review_rank", "selection_probability", "review_sample")


def informativeness(scores: np.ndarray, examples_per_leaf: Any, *, rarity: float = 0.5,
                    per_theme: bool = True) -> np.ndarray:
    """Per comment, how much checking it would teach: its share of each theme's doubt ``p (1 - p)``
    over the comments scored together, summed over the themes with weights ``(1 + n_j) ** -rarity``.

    Parameters
    ----------
    scores : ndarray of shape (n, n_leaves)
        Scores in [0, 1] (:meth:`ThemeMapper.predict_proba`).
    examples_per_leaf : array of shape (n_leaves,)
        Coded examples per leaf (:attr:`ThemeMapper.examples_per_leaf_`).
    rarity : float >= 0, default 0.5
        How much more a theme with few examples counts (0: all themes alike).
    per_theme : bool, default True
        Share each theme's doubt out over the comments (``u_ij / sum_k u_kj``); ``False``: the
        doubt ``u_ij`` itself, so that common themes weigh more.

    Returns
    -------
    ndarray of shape (n,)

    Examples
    --------
    >>> informativeness(np.array([[0.5, 0.5], [0.5, 0.0]]), np.array([0, 3])).round(3).tolist()
    [1.0, 0.5]
    """
    P = np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0)
    n = np.asarray(examples_per_leaf, dtype=np.float64).reshape(-1)
    if n.shape[0] != P.shape[1]:
        raise ParameterError(f"informativeness: examples_per_leaf has {n.shape[0]} values for {P.shape[1]} themes; "
                             "pass one count per leaf, in leaf_ids_ order.")
    U = P * (1.0 - P)
    total = U.sum(0)
    share = np.divide(U, total, out=np.zeros_like(U), where=total > 0) if per_theme else U
    return share @ (1.0 + np.maximum(n, 0.0)) ** -float(rarity)


def selection_probabilities(weights: Any, review_size: int, *, explore: float = 0.5) -> np.ndarray:
    """Inclusion probabilities proportional to ``(1 - explore) * w / sum(w) + explore / n``, capped at 1,
    summing to ``min(review_size, n)``.

    Examples
    --------
    >>> selection_probabilities([1.0, 1.0, 0.0, 0.0], 2, explore=0.2).round(2).tolist()
    [0.9, 0.9, 0.1, 0.1]
    """
    w = np.maximum(np.asarray(weights, dtype=np.float64).reshape(-1), 0.0)
    n = len(w)
    if n == 0:
        return np.zeros(0)
    b = float(min(review_size, n))
    q = (1 - explore) * (w / w.sum() if w.sum() > 0 else np.full(n, 1.0 / n)) + explore / n
    pi = np.zeros(n)
    free = np.ones(n, dtype=bool)
    while True:  # cap at 1 and share what is left among the others (at most n rounds)
        pi[free] = q[free] * (b - (~free).sum()) / q[free].sum()
        over = free & (pi >= 1.0)
        if not over.any():
            break
        pi[over] = 1.0
        free &= ~over
        if not free.any():
            break
    return np.minimum(pi, 1.0)


def spread_order(scores: np.ndarray, n_groups: int, *, random_state: int | None = 0) -> np.ndarray:
    """An order of the comments in which comments with similar score profiles are adjacent: grouped
    by k-means (``n_groups`` groups) on the square roots of their scores, groups in random order.

    Examples
    --------
    >>> P = np.array([[0.9, 0.0], [0.0, 0.8], [0.85, 0.05], [0.1, 0.9]])
    >>> o = spread_order(P, 2).tolist()
    >>> abs(o.index(0) - o.index(2)) == 1 and abs(o.index(1) - o.index(3)) == 1
    True
    """
    P = np.sqrt(np.clip(np.asarray(scores, dtype=np.float64), 0.0, 1.0))
    n = P.shape[0]
    k = int(min(max(n_groups, 1), n))
    if n == 0 or k <= 1:
        return np.arange(n)
    from sklearn.cluster import KMeans, MiniBatchKMeans

    seed = None if random_state is None else int(random_state) % (2 ** 32)
    km = (KMeans(n_clusters=k, n_init=1, max_iter=50, random_state=seed) if n <= 20_000 else
          MiniBatchKMeans(n_clusters=k, n_init=1, batch_size=4096, random_state=seed))
    labels = km.fit_predict(P)
    shuffle = np.random.default_rng(seed).permutation(k)
    return np.lexsort((np.arange(n), shuffle[labels]))


def systematic_sample(pi: np.ndarray, order: np.ndarray, u0: float) -> np.ndarray:
    """Systematic sampling with probabilities ``pi`` along ``order``: comment ``order[t]`` is drawn
    when an integer lies in ``[c_{t-1} - u0, c_t - u0)`` (``c`` the cumulated ``pi`` along the
    order, ``u0`` uniform in [0, 1)). Each comment is drawn with probability exactly ``pi_i``
    (``pi_i <= 1``), and the sample size is ``sum(pi)`` (rounded down or up).

    Examples
    --------
    >>> systematic_sample(np.array([0.5, 0.5, 1.0, 0.5, 0.5]), np.arange(5), 0.25).tolist()
    [True, False, True, True, False]
    """
    c = np.cumsum(np.asarray(pi, dtype=np.float64)[order])
    hi = np.floor(c - u0 + 1e-12)
    lo = np.concatenate([[np.floor(-u0 + 1e-12)], hi[:-1]]) if len(c) else hi
    out = np.zeros(len(pi), dtype=bool)
    out[order] = hi > lo
    return out


def review_queue(
    scores: np.ndarray,
    examples_per_leaf: Any,
    *,
    review_size: int = 50,
    explore: float = 0.5,
    rarity: float = 0.5,
    sharpness: float = 8.0,
    per_theme: bool = True,
    spread: bool = False,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """The review order and selection probabilities of scored comments (see the module docstring).

    Parameters
    ----------
    scores : ndarray of shape (n, n_leaves)
    examples_per_leaf : array of shape (n_leaves,)
    review_size : int, default 50
        Expected size of the review sample (the sum of the selection probabilities).
    explore : float in (0, 1], default 0.5
        Share of the probability spread evenly over all comments (the rest follows informativeness).
        Chosen with ``benchmarks/review_loop.py --split dev``: after 400 reviews queue - random
        +0.019 at 0.5 (2 seeds, both ahead) against +0.010 at 0.2 (half the reviews drawn at
        random keep the coded examples close to the survey's own mix, which the decision rule's
        calibration of the codes per comment relies on).
    rarity : float >= 0, default 0.5
        See :func:`informativeness`.
    sharpness : float >= 0, default 8
        Probabilities follow ``informativeness ** sharpness``: summed over some fifty themes,
        informativeness varies little between comments, and without sharpening the queue would
        hardly differ from a random draw (0: a random draw).
    per_theme : bool, default True
        See :func:`informativeness`.
    spread : bool, default False
        Draw the sample systematically along :func:`spread_order` (``review_size`` groups of
        comments with similar scores): exactly ``review_size`` comments (for a whole number of
        expected picks) and few near-duplicates in one sample; ``False``: Poisson sampling
        (independent draws). Either way each comment is in the sample with probability exactly
        ``selection_probability``. Off by default: in the simulated review loop
        (``benchmarks/review_loop.py --split dev``) it did not teach the mapper more.
    random_state : int, default 0

    Returns
    -------
    DataFrame
        One row per comment, in input order: ``review_rank`` (1 = review first),
        ``selection_probability``, ``review_sample`` (bool) and ``informativeness``.

    Examples
    --------
    >>> q = review_queue(np.array([[0.5, 0.4], [0.01, 0.0], [0.2, 0.9]]), [3, 30], review_size=1)
    >>> q["selection_probability"].round(3).tolist()
    [0.662, 0.167, 0.171]
    """
    check_param("review_size", review_size, types=int, owner="review_queue")
    if review_size < 1:
        raise ParameterError(f"The 'review_size' parameter of review_queue must be an int >= 1. "
                             f"Got {review_size!r} instead.")
    check_param("explore", explore, between=(1e-9, 1.0), owner="review_queue")
    check_param("rarity", rarity, between=(0.0, 10.0), owner="review_queue")
    check_param("sharpness", sharpness, between=(0.0, 64.0), owner="review_queue")
    w = informativeness(scores, examples_per_leaf, rarity=rarity, per_theme=per_theme)
    top = w.max() if len(w) else 0.0
    pi = selection_probabilities((w / top) ** sharpness if top > 0 else w, review_size, explore=explore)
    rng = np.random.default_rng(random_state)
    u = rng.random(len(w))
    if spread:
        sample = systematic_sample(pi, spread_order(scores, review_size, random_state=random_state), rng.random())
        key = np.where(sample, u - 2.0, u / np.maximum(pi, 1e-300))  # the sample first
    else:
        sample = u <= pi
        key = u / np.maximum(pi, 1e-300)
    rank = np.empty(len(w), dtype=np.int64)
    rank[np.argsort(key, kind="stable")] = np.arange(1, len(w) + 1)
    return pd.DataFrame({"review_rank": rank, "selection_probability": pi, "review_sample": sample,
                         "informativeness": w})


def add_review_order(
    table: pd.DataFrame,
    mapper: Any,
    *,
    review_size: int = 50,
    explore: float = 0.5,
    rarity: float = 0.5,
    sharpness: float = 8.0,
    random_state: int | None = 0,
) -> pd.DataFrame:
    """``table`` (a suggestions table of ``mapper``) with ``review_rank``, ``selection_probability``
    and ``review_sample`` added (see the module docstring).

    Rows that were not scored (empty, non-answers) and coded examples (``example_codes``, written
    by ``themeassist suggest``) are not comments to review: no rank (``<NA>``), probability 0, not
    in the sample. The scores are read back from the ``score:<leaf_id>`` columns.

    Examples
    --------
    >>> out = add_review_order(mapper.suggest(corpus), mapper, review_size=50)   # doctest: +SKIP
    >>> out.sort_values("review_rank").head(50)                                  # doctest: +SKIP
    """
    if not hasattr(mapper, "leaf_ids_"):
        raise NotFittedError("add_review_order: the mapper is not fitted yet; call fit(codebook, examples) first.")
    rows, P = leaf_scores(table, mapper.theme_index())
    if EXAMPLE_CODES_COLUMN in table.columns:  # coded examples are coded already: never reviewed
        keep = (known_codes(table) == "").to_numpy()[rows]
        rows, P = rows[keep], P[keep]
    q = review_queue(P, mapper.examples_per_leaf_, review_size=review_size, explore=explore, rarity=rarity,
                     sharpness=sharpness, random_state=random_state)
    rank = pd.array([pd.NA] * len(table), dtype="Int64")
    rank[rows] = q["review_rank"].to_numpy()
    pi = np.zeros(len(table))
    pi[rows] = q["selection_probability"].to_numpy()
    sample = np.zeros(len(table), dtype=bool)
    sample[rows] = q["review_sample"].to_numpy()
    return table.assign(review_rank=rank, selection_probability=pi, review_sample=sample)

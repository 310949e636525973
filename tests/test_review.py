"""Tests for themeassist.mapping.review: informativeness, selection probabilities (exact for the
Poisson sample, checked by repeated draws), the ranking, and the columns on a suggestions table."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from themeassist.codebook import Codebook
from themeassist.mapping import ThemeMapper
from themeassist.mapping.table import leaf_scores
from themeassist.mapping.review import (
    REVIEW_COLUMNS,
    add_review_order,
    informativeness,
    review_queue,
    selection_probabilities,
    spread_order,
    systematic_sample,
)


def test_informativeness_by_hand() -> None:
    P = np.array([[0.5, 0.5], [0.5, 0.0], [1.0, 0.0], [0.1, 0.9]])
    # doubt p(1-p) per theme: (.25, .25, 0, .09) of .59 and (.25, 0, 0, .09) of .34; weights 1 and 1/2
    expected = [.25 / .59 + .25 / .34 / 2, .25 / .59, 0.0, .09 / .59 + .09 / .34 / 2]
    assert informativeness(P, [0, 3]).tolist() == pytest.approx(expected)
    assert informativeness(P, [0, 3], rarity=0.0).sum() == pytest.approx(2.0)  # each theme's doubt shared out
    with pytest.raises(ValueError, match="one count per leaf"):
        informativeness(P, [1, 2, 3])


def test_selection_probabilities_sum_cap_and_floor() -> None:
    w = np.array([100.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0])
    pi = selection_probabilities(w, 3, explore=0.2)
    assert pi.sum() == pytest.approx(3.0)
    assert pi[0] == 1.0                          # capped, the rest shared among the others
    assert (pi > 0).all() and pi[1] > pi[3]
    # no weight at all: uniform
    assert selection_probabilities(np.zeros(4), 2).tolist() == pytest.approx([0.5] * 4)
    # review_size larger than the comments: everyone
    assert selection_probabilities(w[:2], 5).tolist() == [1.0, 1.0]


@pytest.mark.parametrize("spread", [False, True])
def test_sample_has_the_stated_probabilities_and_comes_first(spread: bool) -> None:
    rng = np.random.default_rng(0)
    P = rng.beta(0.5, 2.0, size=(40, 5))
    counts = np.zeros(40)
    first = np.zeros(40)
    n_draws = 200 if spread else 1500  # spread: a k-means per draw
    for seed in range(n_draws):
        q = review_queue(P, [1, 1, 5, 20, 50], review_size=6, spread=spread, random_state=seed)
        counts += q["review_sample"].to_numpy()
        m = int(q["review_sample"].sum())
        if spread:  # systematic sampling: the sample size is the expected one
            assert m == 6
        # the sample is exactly the first m ranks
        assert set(np.where(q["review_sample"])[0]) == set(np.where(q["review_rank"] <= m)[0])
        assert sorted(q["review_rank"]) == list(range(1, 41))
        first += (q["review_rank"] <= 6).to_numpy()
    pi = q["selection_probability"].to_numpy()
    assert pi.sum() == pytest.approx(6.0) and (pi >= 0.5 * 6 / 40 - 1e-12).all()  # explore 0.5
    se = np.sqrt(pi * (1 - pi) / n_draws)
    assert np.all(np.abs(counts / n_draws - pi) <= 4 * se + 1e-9)
    # the informative comments are reviewed first much more often than the others
    w = q["informativeness"].to_numpy()
    top, bottom = np.argsort(-w)[:5], np.argsort(w)[:5]
    assert first[top].mean() > 3 * first[bottom].mean()
    # reproducible with a seed
    a, b = (review_queue(P, [1] * 5, spread=spread, random_state=7) for _ in range(2))
    assert a.equals(b)


def test_systematic_sample_is_exact_for_any_order() -> None:
    """Over the random start, each comment is drawn with probability exactly pi (any order)."""
    rng = np.random.default_rng(3)
    pi = selection_probabilities(rng.gamma(0.5, size=25) ** 3, 7, explore=0.2)
    assert pi.max() == 1.0 and pi.min() < 0.1  # some capped, some small
    for order in (np.arange(25), rng.permutation(25)):
        starts = (np.arange(20_000) + 0.5) / 20_000  # the start u0, integrated on a fine grid
        hits = np.stack([systematic_sample(pi, order, u) for u in starts])
        np.testing.assert_allclose(hits.mean(0), pi, atol=1e-4)
        assert set(hits.sum(1).tolist()) == {7}


def test_spread_sample_avoids_near_duplicates() -> None:
    """Three groups of ten comments with the same doubt (about themes A, B or C): a sample of
    three takes one comment of each group; independent (Poisson) draws often take two alike."""
    rng = np.random.default_rng(4)
    P = np.zeros((30, 3))
    for g in range(3):
        P[10 * g:10 * (g + 1), g] = 0.5 + 0.01 * rng.normal(size=10)
    groups = np.repeat(np.arange(3), 10)
    order = spread_order(P, 3, random_state=0)
    assert all(len(set(groups[order[10 * g:10 * (g + 1)]])) == 1 for g in range(3))  # groups kept together
    alike = {True: 0, False: 0}
    for spread in (True, False):
        for seed in range(60):
            q = review_queue(P, [1, 1, 1], review_size=3, spread=spread, random_state=seed)
            picked = groups[q["review_rank"].to_numpy() <= 3]
            alike[spread] += len(set(picked.tolist())) < 3
    assert alike[True] == 0 and alike[False] > 20


def test_add_review_order_on_a_suggestions_table() -> None:
    cb = Codebook.from_dict({"Care": ["Food and meals", "Staff attitude"], "Access": ["Parking"]})
    rng = np.random.default_rng(1)
    protos = np.eye(8)[:3]
    y = np.repeat(np.arange(3), 6)
    X = protos[y] + 0.3 * rng.normal(size=(18, 8))
    ex = pd.DataFrame({"text": [f"e{i}" for i in range(18)],
                       "codes": [["Food and meals", "Staff attitude", "Parking"][j] for j in y]})
    m = ThemeMapper(lexical=False, random_state=0).fit(cb, ex, embeddings=protos, example_embeddings=X)
    E = rng.normal(size=(30, 8))
    corpus = pd.DataFrame({"doc_id": [str(i) for i in range(30)], "text": ["t"] * 30,
                           "status": ["ok"] * 27 + ["empty", "non_answer", "empty"]})
    table = m.suggest(corpus, embeddings=E, evidence=False)
    out = add_review_order(table, m, review_size=5, random_state=3)
    assert list(out.columns[-3:]) == list(REVIEW_COLUMNS) and len(out) == 30
    assert out.doc_id.tolist() == corpus.doc_id.tolist()
    scored = out.status == "ok"
    assert sorted(out.review_rank[scored].astype(int)) == list(range(1, 28))
    assert out.review_rank[~scored].isna().all() and (out.selection_probability[~scored] == 0).all()
    assert (out.selection_probability[scored] > 0).all()
    assert out.selection_probability.sum() == pytest.approx(5.0)
    rows, P = leaf_scores(table, m.theme_index())
    assert rows.tolist() == list(range(27)) and np.allclose(P, m.predict_proba(E[:27]), atol=1e-6)
    q = review_queue(P, m.examples_per_leaf_, review_size=5, random_state=3)
    assert out.review_rank[scored].astype(int).tolist() == q.review_rank.tolist()
    with pytest.raises(ValueError, match="review_size"):
        review_queue(np.zeros((2, 3)), [0, 0, 0], review_size=0)

"""Codebook names as coded examples for the mapper's classifiers (themeassist.mapping.scorers,
issue 13): each leaf's name is one more example of that leaf, in every fold and in the final fit."""

from __future__ import annotations

import numpy as np
import pytest

from themeassist.codebook import Codebook
from themeassist.embed import unit_rows
from themeassist.mapping.scorers import NAME_EXAMPLE_WEIGHT, SETTINGS, fit_scorers, with_name_examples


def _leaves(d: int = 16, L: int = 3, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    protos = unit_rows(rng.normal(size=(L, d)))

    def near(j: int, n: int, spread: float = 0.35) -> np.ndarray:
        return unit_rows(protos[j] + spread * rng.normal(size=(n, d)))

    return protos, near, rng


def test_name_rows_are_one_example_per_leaf() -> None:
    protos, near, _ = _leaves()
    X = near(0, 5)
    Y = np.zeros((5, 3), dtype=np.int8)
    Y[:, 0] = 1
    M = np.ones_like(Y)
    M[0, 2] = 0
    w = np.full(5, 2.0)
    names = ["Food", "Parking", "Staff"]
    X2, t2, Y2, M2, w2 = with_name_examples(X, ["a"] * 5, Y, M, w, protos, names)
    assert X2.shape == (8, 16) and t2 == ["a"] * 5 + names
    np.testing.assert_array_equal(X2[5:], protos)
    np.testing.assert_array_equal(Y2[5:], np.eye(3))  # each name codes its own leaf only
    np.testing.assert_array_equal(M2[5:], 1)  # and is a known negative of the others
    np.testing.assert_array_equal(M2[:5], M)  # the examples' unknown cells stay unknown
    np.testing.assert_array_equal(w2, [2.0] * 5 + [NAME_EXAMPLE_WEIGHT] * 3)
    same = with_name_examples(X, ["a"] * 5, Y, M, w, protos, None)
    assert same[0] is X and same[2] is Y  # without names: the examples as they are
    off = with_name_examples(X, ["a"] * 5, Y, M, w, protos, names, weight=0.0)
    assert off[0] is X and off[1] == ["a"] * 5  # weight 0: off


def test_a_leaf_known_only_by_its_name_is_learnt() -> None:
    # leaf 1 ("Parking") has no coded example: without names its classifiers cannot score it;
    # with names the embedding regression ranks it first near its prototype, and the TF-IDF SVM
    # first for a comment that uses its name's words
    protos, near, _ = _leaves()
    X = np.vstack([near(0, 12), near(2, 12)])
    Y = np.zeros((24, 3), dtype=np.int8)
    Y[:12, 0] = 1
    Y[12:, 2] = 1
    M = np.ones_like(Y)
    w = np.ones(24)
    texts = ["the food was cold"] * 12 + ["the staff were kind"] * 12
    names = ["Food", "Car parking", "Staff"]
    s = SETTINGS["few-shot"]
    probe = near(1, 20, 0.2)
    without = fit_scorers(X, texts, Y, M, w, protos, s, True, 0)
    with_ = fit_scorers(X, texts, Y, M, w, protos, s, True, 0, names)
    D0 = without["lr_emb"].decision_function(probe)
    D1 = with_["lr_emb"].decision_function(probe)
    assert (D0.argmax(1) != 1).all()
    assert (D1.argmax(1) == 1).mean() >= 0.9
    word, char = with_["tfidf"]
    from scipy import sparse

    Xt = sparse.hstack([word.transform(["no car parking anywhere"]), char.transform(["no car parking anywhere"])])
    assert with_["lr_tfidf"].decision_function(Xt.tocsr()).argmax(1).tolist() == [1]
    assert without["lr_tfidf"].intercept_[1] == -1.0  # untrained: the margin of a clear negative
    # the centroids and neighbours learn from the coded examples alone
    np.testing.assert_array_equal(with_["knn_X"], without["knn_X"])
    np.testing.assert_allclose(with_["centroids"], without["centroids"])


@pytest.mark.slow
def test_real_model_learns_a_theme_from_its_name_alone() -> None:
    # real MiniLM embeddings: "Parking" has no coded example; its name, an example of it for the
    # classifiers, makes both rank it first for comments about parking (without: they cannot)
    from scipy import sparse

    from themeassist.embed import get_embedder

    emb = get_embedder(cache_dir=False, show_progress=False)
    cb = Codebook.from_dict({"Care": ["Food and meals", "Staff attitude"], "Access": ["Parking"]})
    food = ["The meals were cold", "Lunch arrived late and tasted bland", "Good breakfast choices",
            "The food was inedible", "Dinner portions were too small", "Nice hot soup every day"]
    staff = ["The nurse was rude", "Doctors were kind and patient", "Reception staff ignored me",
             "Very caring team on the ward", "The porter was friendly", "Staff were dismissive"]
    texts = food + staff
    names = [t.name for t in cb.leaves()]
    Y = np.zeros((12, 3), dtype=np.int8)
    Y[:6, 0] = 1
    Y[6:, 1] = 1
    X, protos = emb.encode(texts), emb.encode(names)
    s = SETTINGS["few-shot"]
    probe = ["Parking at the hospital is a nightmare", "No parking spaces left for visitors",
             "The parking fees are far too high"]
    Xp = emb.encode(probe)
    out = {}
    for key, nm in (("without", None), ("with", names)):
        m = fit_scorers(X, texts, Y, np.ones_like(Y), np.ones(12), protos, s, True, 0, nm)
        word, char = m["tfidf"]
        Xt = sparse.hstack([word.transform(probe), char.transform(probe)]).tocsr()
        out[key] = (m["lr_emb"].decision_function(Xp).argmax(1), m["lr_tfidf"].decision_function(Xt).argmax(1))
    assert out["with"][0].tolist() == [2, 2, 2] and out["with"][1].tolist() == [2, 2, 2]
    assert 2 not in out["without"][0] and 2 not in out["without"][1]

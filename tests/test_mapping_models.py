"""Reference tests of the mapper's numerical parts against scikit-learn / scipy, and of the
calibration, the decision rule and example weights (themeassist.mapping.scorers, calibration,
decision, examples)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import cohen_kappa_score
from sklearn.svm import LinearSVC

from themeassist.codebook import Codebook
from themeassist.exceptions import CorpusError
from themeassist.mapping import ThemeMapper
from themeassist.mapping.calibration import Stacker, cross_fit, log_loss
from themeassist.mapping.decision import decide, decide_matrix, leaf_kappa, tune_rule
from themeassist.mapping.examples import example_weights
from themeassist.mapping.scorers import MultiLogReg, OvRLinearSVC, centroids


def _data(n: int = 300, d: int = 12, L: int = 4, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    B = rng.normal(size=(d, L))
    Y = (X @ B + rng.normal(size=(n, L)) * 2 > 1.5).astype(np.int8)
    return X, Y, rng


# ------------------------------------------------------------------------- scorers vs scikit-learn
def test_multilogreg_equals_scikit_learn_per_label() -> None:
    X, Y, rng = _data()
    M = np.ones(Y.shape)
    M[rng.random(Y.shape) < 0.1] = 0  # some unknown labels
    w = rng.uniform(0.5, 2.0, size=len(X))
    m = MultiLogReg(C=2.0, max_iter=2000).fit(X, Y, M, w)
    W = m.sample_weights(Y, M, w)
    for j in range(Y.shape[1]):
        ref = LogisticRegression(C=2.0, tol=1e-10, max_iter=5000).fit(X, Y[:, j], sample_weight=W[:, j])
        np.testing.assert_allclose(m.coef_[:, j], ref.coef_[0], atol=2e-3)
        np.testing.assert_allclose(m.intercept_[j], ref.intercept_[0], atol=2e-3)
    # balanced: per label, positives and negatives weigh the same in total
    for j in range(Y.shape[1]):
        assert np.isclose(W[Y[:, j] == 1, j].sum(), W[Y[:, j] == 0, j].sum())


def test_weight_counts_as_repeating_the_row() -> None:
    X, Y, _ = _data(n=120)
    M = np.ones(Y.shape)
    w = np.ones(len(X))
    w[:10] = 3.0
    rep = np.concatenate([np.arange(len(X)), np.repeat(np.arange(10), 2)])
    a = MultiLogReg(C=1.0, max_iter=2000).fit(X, Y, M, w)
    b = MultiLogReg(C=1.0, max_iter=2000).fit(X[rep], Y[rep], M[rep])
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-3)
    c = centroids(X, Y, np.zeros((Y.shape[1], X.shape[1])), 0.0, w)
    np.testing.assert_allclose(c, centroids(X[rep], Y[rep], np.zeros((Y.shape[1], X.shape[1])), 0.0), atol=1e-6)


def test_ovr_linear_svc_equals_scikit_learn_with_masked_rows() -> None:
    X, Y, rng = _data(n=200)
    M = np.ones(Y.shape)
    M[:20, 1] = 0
    Y[:, 3] = 0  # a label without positives scores -1
    m = OvRLinearSVC(C=0.5).fit(X, Y, M)
    ref = LinearSVC(C=0.5, class_weight="balanced", max_iter=5000, random_state=0).fit(X[20:], Y[20:, 1])
    np.testing.assert_allclose(np.asarray(m.coef_.todense())[:, 1], ref.coef_[0], atol=1e-6)
    np.testing.assert_allclose(m.decision_function(X)[:, 3], -1.0)


# ------------------------------------------------------------------------- calibration
def _features(n: int, L: int, seed: int):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    F = rng.normal(size=(n, L, 3))
    z = 1.5 * F[..., 0] + 0.7 * F[..., 1] - 1.0 - 0.8 * np.arange(L)  # leaves differ in base rate
    Y = (rng.random((n, L)) < expit(z)).astype(np.int8)
    return F, Y, z


def test_stacker_pooled_part_equals_scikit_learn() -> None:
    F, Y, _ = _features(400, 3, 0)
    M = np.ones(Y.shape)
    s = Stacker().fit(F, Y, M, prior_var=1e-9, weight_prior=1e9)  # per-leaf parts pinned to the pooled fit
    lam = 1.0 + 1e-3 * Y.size
    ref = LogisticRegression(C=1.0 / lam, tol=1e-10, max_iter=5000).fit(F.reshape(-1, 3), Y.reshape(-1))
    np.testing.assert_allclose(s.weights_[:2], ref.coef_[0][:2], atol=1e-3)
    assert s.weights_[2] >= 0.0  # the noise feature: weights are kept >= 0
    np.testing.assert_allclose(s.leaf_weights_, np.tile(s.weights_, (3, 1)), atol=1e-5)


def test_stacker_per_leaf_fit_without_prior_equals_scikit_learn() -> None:
    F, Y, _ = _features(600, 3, 1)
    s = Stacker().fit(F[..., :2], Y, np.ones(Y.shape), prior_var=1e9, weight_prior=1e-9)
    for j in range(3):
        ref = LogisticRegression(C=1e9, tol=1e-10, max_iter=5000).fit(F[:, j, :2], Y[:, j])
        np.testing.assert_allclose(s.leaf_weights_[j], ref.coef_[0], atol=2e-3)
        np.testing.assert_allclose(s.leaf_bias_[j], ref.intercept_[0], atol=2e-3)


def test_cross_fitted_calibration_is_reliable() -> None:
    F, Y, z = _features(1500, 4, 2)
    folds = [(np.setdiff1d(np.arange(1500), te), te) for te in np.array_split(np.arange(1500), 5)]
    P = cross_fit(F, Y, np.ones(Y.shape), folds, prior_var=2.0, weight_prior=10.0)
    # in each of 10 equal-mass bins, the share of positives is close to the mean score
    order = np.argsort(P.ravel())
    gaps = [abs(P.ravel()[b].mean() - Y.ravel()[b].mean()) for b in np.array_split(order, 10)]
    assert max(gaps) < 0.06
    assert log_loss(P, Y, np.ones(Y.shape)) < log_loss(np.full(Y.shape, Y.mean()), Y, np.ones(Y.shape)) - 0.1
    # per-leaf base rates are learnt: mean scores follow the leaves' prevalences
    np.testing.assert_allclose(P.mean(0), Y.mean(0), atol=0.03)


# ------------------------------------------------------------------------- decision rule
def test_decide_rule_by_hand() -> None:
    P = np.array([[0.9, 0.6, 0.1], [0.3, 0.2, 0.1], [0.05, 0.02, 0.01], [0.7, 0.8, 0.9]])
    th = np.array([0.5, 0.5, 0.5])
    # row 0: two above threshold; row 1: none, best ratio 0.6 >= 0.5 -> its best; row 2: none of
    # these (0.1 < 0.5); row 3: top_k=2 keeps the two best
    assert decide(P, th, 0.5, 2) == [[0, 1], [0], [], [2, 1]]
    D = decide_matrix(P, th, 0.5, 2)
    assert D.sum(1).tolist() == [2, 1, 0, 2]
    # zero-shot: the best-ranked leaf joins, unless its rank is -inf
    rank = np.array([[0, 0, 1.0], [1.0, 0, 0], [-np.inf] * 3, [0, 0, 1.0]])
    assert decide(P, th, 0.0, 3, rank=rank) == [[0, 1, 2], [0], [], [2, 1, 0]]


def test_leaf_kappa_equals_scikit_learn() -> None:
    rng = np.random.default_rng(3)
    Y = (rng.random((80, 3)) < 0.3).astype(int)
    D = np.where(rng.random((80, 3)) < 0.8, Y, 1 - Y)
    M = np.ones(Y.shape)
    M[:10, 2] = 0
    k = leaf_kappa(D, Y, M)
    assert np.isclose(k[0], cohen_kappa_score(Y[:, 0], D[:, 0]))
    assert np.isclose(k[2], cohen_kappa_score(Y[10:, 2], D[10:, 2]))


def test_tuned_rule_keeps_codes_per_comment_close_to_the_coders() -> None:
    # mostly one code per comment, 20 % with none; calibrated but weak scores: F1-optimal
    # thresholds would give far more codes than the coders
    rng = np.random.default_rng(4)
    n, L = 1500, 8
    true = rng.integers(0, L, n)
    Y = np.zeros((n, L), np.int8)
    Y[np.arange(n), true] = 1
    Y[rng.random(n) < 0.2] = 0
    logits = rng.normal(size=(n, L)) + 1.2 * Y - 2.2
    P = expit(logits)
    M = np.ones(Y.shape)
    th, level, info = tune_rule(P, Y, M, top_k=3)
    D = decide_matrix(P, th, level, 3)
    ratio = D.sum() / Y.sum()
    assert 0.8 <= ratio <= 1.2 and np.isclose(ratio, info["codes_ratio"])
    assert (D.sum(1) == 0).mean() > 0.05  # "none of these" is used
    # it agrees with the coder better than the per-leaf F1-optimal thresholds do
    f1_th = np.array([max(np.arange(0.02, 0.9, 0.02),
                          key=lambda t: 2 * ((P[:, j] >= t) & (Y[:, j] == 1)).sum()
                          / max((P[:, j] >= t).sum() + Y[:, j].sum(), 1)) for j in range(L)])
    Df = P >= f1_th
    assert Df.sum() / Y.sum() > 1.4
    assert np.nanmean(leaf_kappa(D, Y, M)) > np.nanmean(leaf_kappa(Df, Y, M))


# ------------------------------------------------------------------------- weights and fitted state
def test_example_weights_column_and_errors() -> None:
    ex = pd.DataFrame({"text": ["a", "b", "c"], "codes": ["x", "x", "x"], "weight": [2.0, None, "0.5"]})
    assert example_weights(ex).tolist() == [2.0, 1.0, 0.5]
    with pytest.raises(CorpusError, match=r"row 2, column 'weight'.*positive"):
        example_weights(pd.DataFrame({"text": ["a", "b"], "codes": ["x", "x"], "weight": [1, -1]}))


def test_fitted_out_of_fold_attributes() -> None:
    rng = np.random.default_rng(5)
    cb = Codebook.from_dict({"Care": ["Food", "Staff"], "Access": ["Parking"]})
    centres = np.eye(8)[:3]
    y = np.repeat(np.arange(3), 20)
    X = centres[y] + 0.5 * rng.normal(size=(60, 8))
    names = ["Food", "Staff", "Parking"]
    ex = pd.DataFrame({"text": [f"c{i}" for i in range(60)], "codes": [names[j] for j in y],
                       "negative_codes": "", "weight": 1.0})
    ex.loc[59, ["codes", "negative_codes"]] = ["", "Food"]  # a bare rejection: only Food known
    m = ThemeMapper(lexical=False).fit(cb, ex, embeddings=centres, example_embeddings=X)
    assert m.oof_proba_.shape == m.oof_labels_.shape == m.oof_mask_.shape == (60, 3)
    assert m.oof_mask_[59].tolist() == [1, 0, 0] and m.oof_labels_[59].tolist() == [0, 0, 0]
    assert m.oof_labels_[:59].argmax(1).tolist() == y[:59].tolist()
    # out-of-fold scores still rank each example's own theme first
    assert (m.oof_proba_[:59].argmax(1) == y[:59]).mean() > 0.9
    assert set(m.calibration_) == {"prior_var", "weight_prior", "log_loss"}
    assert 0.5 <= m.decision_info_["codes_ratio"] <= 1.5
    # a heavier weight on examples of one theme is honoured (the fit changes)
    heavy = ex.assign(weight=np.where(y == 0, 5.0, 1.0))
    m2 = ThemeMapper(lexical=False).fit(cb, heavy, embeddings=centres, example_embeddings=X)
    assert m2.example_weights_[0] == 5.0 and not np.allclose(m2.oof_proba_, m.oof_proba_)


def test_small_lbfgs_equals_scipy() -> None:
    from scipy import optimize

    from themeassist.mapping.scorers import lbfgs

    rng = np.random.default_rng(6)
    A = rng.normal(size=(50, 20))
    y = (rng.random(50) < 0.4).astype(float)

    def fg(x: np.ndarray) -> tuple[float, np.ndarray]:
        z = A @ x
        return float(np.logaddexp(0, z).sum() - y @ z + 0.5 * x @ x), A.T @ (expit(z) - y) + x

    ours = lbfgs(fg, np.zeros(20), max_iter=500, gtol=1e-8, ftol=1e-14)
    ref = optimize.minimize(fg, np.zeros(20), jac=True, method="L-BFGS-B", options={"gtol": 1e-10}).x
    np.testing.assert_allclose(ours, ref, atol=1e-4)
    assert fg(ours)[0] <= fg(ref)[0] + 1e-8


def _three_themes(seed: int) -> tuple:  # type: ignore[type-arg]
    """Three leaves with one-hot prototypes and 12 noisy coded examples each (embeddings ``X``)."""
    rng = np.random.default_rng(seed)
    cb = Codebook.from_dict({"Care": ["Food", "Staff"], "Access": ["Parking"]})
    centres = np.eye(8)[:3]
    y = np.repeat(np.arange(3), 12)
    X = centres[y] + 0.35 * rng.normal(size=(36, 8))
    ex = pd.DataFrame({"doc_id": [f"e{i}" for i in range(36)], "text": [f"c{i}" for i in range(36)],
                       "codes": [["Food", "Staff", "Parking"][j] for j in y]})
    return rng, cb, centres, ex, X


def test_decisions_read_back_move_the_scores() -> None:
    """A reject is evidence against that theme for that comment; a recode is a new example."""
    from themeassist.mapping import read_decisions

    rng, cb, centres, ex, X = _three_themes(7)
    # comments between Food and Staff, which the coder codes Staff
    between = 0.55 * centres[0] + 0.45 * centres[1] + 0.05 * rng.normal(size=(8, 8))
    base = ThemeMapper(lexical=False).fit(cb, ex, embeddings=centres, example_embeddings=X)
    p0 = base.predict_proba(between)
    sugg = pd.DataFrame({"doc_id": [f"d{i}" for i in range(8)], "text": [f"b{i}" for i in range(8)],
                         "suggested": ["Food"] * 8, "decision": ["reject"] * 4 + ["recode"] * 4,
                         "final_codes": [""] * 4 + ["Staff"] * 4})
    dec = read_decisions(sugg, codebook=cb)
    assert dec["negative_codes"].tolist() == ["care.food"] * 8  # theme ids
    assert dec["codes"].tolist() == [""] * 4 + ["care.staff"] * 4
    m = ThemeMapper(lexical=False).fit(cb, pd.concat([ex, dec], ignore_index=True), embeddings=centres,
                                       example_embeddings=np.vstack([X, between]))
    p1 = m.predict_proba(between)
    assert p1[:, 0].mean() < p0[:, 0].mean() - 0.05  # Food less likely
    assert p1[:, 1].mean() > p0[:, 1].mean() + 0.05  # Staff more likely
    # the rejected rows know only Food (not applying); the recoded ones know every theme
    assert m.oof_mask_[36:40].tolist() == [[1, 0, 0]] * 4 and m.oof_mask_[40:].min() == 1


def test_a_rejected_theme_is_not_suggested_again_for_that_comment() -> None:
    from themeassist.mapping import read_decisions

    rng, cb, centres, ex, X = _three_themes(3)
    food = centres[0] + 0.05 * rng.normal(size=(4, 8))  # comments that look like Food
    texts = [f"f{i}" for i in range(4)]
    sugg = pd.DataFrame({"doc_id": [f"d{i}" for i in range(4)], "text": texts, "suggested": ["Food"] * 4,
                         "decision": ["reject", "reject", "", ""], "final_codes": ""})
    m = ThemeMapper(lexical=False).fit(cb, pd.concat([ex, read_decisions(sugg, codebook=cb)], ignore_index=True),
                                       embeddings=centres, example_embeddings=np.vstack([X, food[:2]]))
    corpus = pd.DataFrame({"doc_id": [f"d{i}" for i in range(4)] + ["d0"], "text": texts + ["another text"],
                           "status": "ok"})
    out = m.suggest(corpus, embeddings=np.vstack([food, food[:1]]), evidence=False)
    # the two rejected comments: Food scored 0 and not suggested; the others (and another text under d0) keep it
    assert out["score:care.food"].tolist()[:2] == [0.0, 0.0] and "Food" not in "|".join(out["suggested"][:2])
    assert (out["score:care.food"][2:] > 0.5).all() and out["suggested"][2:].str.contains("Food").all()

"""Tests for themeassist.mapping.conformal: recall sets (conformal risk control) and auto-accept
(precision by Learn-then-Test), from held-out scores. Thresholds worked out by hand on small
cases; coverage checked on fresh draws of the same distribution; a real mapper (synthetic
embeddings, no text model) for the held-out scores and the table columns."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

from themeassist.codebook import Codebook
from themeassist.exceptions import NotFittedError
from themeassist.mapping import ThemeMapper
from themeassist.mapping.conformal import AutoAccept, RecallSets, held_out_scores

CB = {"Care": ["Food and meals", "Staff attitude"], "Access": ["Parking"]}


def _multilabel(n: int, L: int = 6, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Scores that mean something: true themes score higher on average, with overlap."""
    rng = np.random.default_rng(seed)
    Y = (rng.random((n, L)) < 0.25).astype(np.int8)
    Y[Y.sum(1) == 0, rng.integers(0, L)] = 1
    P = np.clip(0.45 * Y + 0.55 * rng.beta(1.2, 3.0, size=(n, L)), 0, 1)
    return P, Y


def test_recall_threshold_worked_out_by_hand() -> None:
    # 24 examples, one code each, scored 0.305, 0.315, ..., 0.535 on it and 0 elsewhere. CRC with
    # alpha = 0.1: (24/25) * misses/24 + 1/25 <= 0.1  <=>  at most 1 missed code. A set is
    # {score > t}: on the grid (..., 0.30, 0.31, 0.32, ...) t = 0.31 misses one code (the 0.305),
    # t = 0.32 two
    n = 24
    P = np.zeros((n, 3))
    Y = np.zeros((n, 3), dtype=int)
    for i in range(n):
        P[i, i % 3] = 0.305 + 0.01 * i
        Y[i, i % 3] = 1
    rs = RecallSets(target_recall=0.9).fit(P, Y)
    assert rs.controlled_ and rs.n_calibration_ == 24
    assert rs.threshold_ == pytest.approx(0.31, abs=1e-9)
    assert rs.held_out_recall_ == pytest.approx(23 / 24)
    assert rs.predict(P).sum() == 23


@pytest.mark.parametrize("method", ["crc", "rcps"])
def test_recall_threshold_is_mapies(method: str) -> None:
    """The same threshold as mapie's MultiLabelClassificationController (which loops over examples)."""
    from mapie.risk_control import MultiLabelClassificationController

    from themeassist.mapping.conformal import _RECALL_GRID

    P, Y = _multilabel(150, seed=4)
    ours = RecallSets(target_recall=0.85, method=method, confidence_level=0.8).fit(P, Y)
    ctl = MultiLabelClassificationController(predict_function=lambda S: S, risk="recall", method=method,
                                             target_level=0.85, confidence_level=0.8 if method == "rcps" else None,
                                             rcps_bound="wsr" if method == "rcps" else None,
                                             predict_params=_RECALL_GRID).calibrate(P, Y)
    assert ours.threshold_ == pytest.approx(float(ctl.best_predict_param[0]))
    assert np.array_equal(ours.predict(P), ctl.predict(P)[:, :, 0])


def test_recall_sets_reach_the_target_on_fresh_comments() -> None:
    """Exchangeable calibration and test comments: mean per-comment recall of the sets is close to
    the target (CRC: at least the target in expectation, and not much more with 2,000 examples)."""
    recalls = []
    for seed in range(5):
        P, Y = _multilabel(2000, seed=seed)
        Pt, Yt = _multilabel(2000, seed=100 + seed)
        S = RecallSets(target_recall=0.9).fit(P, Y).predict(Pt)
        recalls.append(((S & (Yt > 0)).sum(1) / Yt.sum(1)).mean())
    assert 0.89 <= np.mean(recalls) <= 0.92
    # a higher target needs larger sets
    lo = RecallSets(target_recall=0.8).fit(P, Y)
    hi = RecallSets(target_recall=0.97).fit(P, Y)
    assert lo.threshold_ > hi.threshold_ and lo.mean_set_size_ < hi.mean_set_size_
    # sets holding most of the codebook are said to rule little out; smaller ones are not
    noise = np.random.default_rng(9).random(P.shape)  # scores that do not tell the themes apart
    wide = RecallSets(target_recall=0.97).fit(noise, Y)
    assert wide.mean_set_size_ > P.shape[1] / 2 and f"That is most of the {P.shape[1]} themes" in wide.summary()
    assert "most of the" not in lo.summary()


def test_recall_sets_leave_out_uncodeable_examples_and_say_when_uncontrolled() -> None:
    P, Y = _multilabel(60)
    known = np.ones_like(Y, dtype=bool)
    known[:10, 0] = False           # coded at a parent level: unknown leaf
    Y[10:20] = 0                    # coder found no theme: recall undefined
    rs = RecallSets(target_recall=0.9).fit(P, Y, known=known)
    assert rs.n_calibration_ == 40
    with pytest.warns(UserWarning, match="cannot be shown with 5 held-out"):
        few = RecallSets(target_recall=0.9).fit(P[20:25], Y[20:25])
    assert not few.controlled_ and few.threshold_ == 0.0 and "cannot be shown" in few.summary()
    with pytest.raises(ValueError, match="no held-out example has a leaf code"):
        RecallSets().fit(P[10:20], Y[10:20])
    with pytest.raises(ValueError, match="target_recall"):
        RecallSets(target_recall=1.5).fit(P, Y)
    with pytest.raises(NotFittedError):
        RecallSets().predict(P)


def test_auto_accept_precision_on_fresh_comments() -> None:
    def draw(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        rng = np.random.default_rng(seed)
        P = rng.random((n, 4))
        Y = (rng.random((n, 4)) < P ** 2).astype(int)  # P(true | score s) = s^2
        return P, Y

    P, Y = draw(4000, 0)
    acc = AutoAccept(target_precision=0.9, confidence_level=0.9).fit(P, Y)
    # precision of pairs scored >= t is (1 + t + t^2) / 3: 0.9 from t = 0.896 on; the test at
    # confidence 0.9 needs a margin, so the threshold is the next one tried or the one after
    assert acc.controlled_ and acc.threshold_ in (0.9, 0.95, 0.975)
    assert acc.held_out_precision_ >= 0.9
    Pt, Yt = draw(4000, 1)
    hit = acc.predict(Pt)
    assert Yt[hit].mean() >= 0.9 and hit.mean() > 0.05
    # too little evidence: nothing passes, nothing is marked
    small = AutoAccept(target_precision=0.95).fit(P[:10], Y[:10])
    assert not small.controlled_ and not small.predict(Pt).any() and "nothing marked" in small.summary()


def test_estimators_follow_the_contract() -> None:
    for est in (RecallSets(target_recall=0.8, method="rcps"), AutoAccept(target_precision=0.9)):
        twin = clone(est)
        assert twin.get_params() == est.get_params()
        P, Y = _multilabel(300)
        assert est.fit(P, Y) is est
        assert all(k.endswith("_") for k in vars(est) if k not in est.get_params())


# ------------------------------------------------------------------- with a fitted mapper
def _mapper_and_examples() -> tuple[ThemeMapper, pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(3)
    protos = np.eye(16)[:3]
    y = np.repeat(np.arange(3), 40)
    X = protos[y] * 3 + 1.3 * rng.normal(size=(120, 16)) * 3 / 4
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    names = ["Food and meals", "Staff attitude", "Parking"]
    codes = [names[j] for j in y]
    codes[0] = "Care"                 # a parent-level code: which of its leaves is unknown
    codes[41] = "Staff attitude|Parking"
    ex = pd.DataFrame({"text": [f"c{i}" for i in range(120)], "codes": codes,
                       "negative_codes": [""] * 119 + ["Parking"]})
    # prototypes: "Care (itself)" (the parent coded on its own, row 0), then the three leaves
    m = ThemeMapper(lexical=False, random_state=0).fit(Codebook.from_dict(CB), ex,
                                                       embeddings=np.vstack([np.eye(16)[3], protos]),
                                                       example_embeddings=X)
    return m, ex, X


def test_held_out_scores_from_a_mapper_and_its_examples() -> None:
    m, ex, _ = _mapper_and_examples()
    ho = held_out_scores(m, ex)
    # "Care" coded on its own: the mapper learns a "Care (itself)" column for it
    assert m.leaf_ids_[0] == "care" and len(m.leaf_ids_) == 4
    assert ho.scores.shape == (120, 4) and np.array_equal(ho.scores, m.oof_proba_)
    assert ho.leaf_ids == tuple(m.leaf_ids_)
    assert ho.labels[0].tolist() == [1, 0, 0, 0] and ho.known[0].all()
    assert ho.labels[41].tolist() == [0, 0, 1, 1]
    assert ho.labels[119].tolist() == [0, 0, 0, 1] and ho.known[119].all()
    assert ho.labels[5].tolist() == [0, 1, 0, 0]
    with pytest.raises(ValueError, match="fitted on 120"):
        held_out_scores(m, ex.iloc[:10])
    zs = ThemeMapper(lexical=False).fit(Codebook.from_dict(CB), None, embeddings=np.eye(16)[:3])
    with pytest.raises(ValueError, match="no guarantee can be stated"):
        held_out_scores(zs)


def test_annotate_adds_sets_and_marks_consistent_with_the_scores() -> None:
    m, ex, X = _mapper_and_examples()
    ho = held_out_scores(m, ex)
    rs = RecallSets(target_recall=0.9).fit(ho.scores, ho.labels, known=ho.known)
    acc = AutoAccept(target_precision=0.9).fit(ho.scores, ho.labels, known=ho.known)
    table = m.suggest(pd.DataFrame({"doc_id": [f"d{i}" for i in range(41)], "text": ["x"] * 40 + [""],
                                    "status": ["ok"] * 40 + ["empty"]}),
                      embeddings=np.vstack([X[::3][:40], X[:1]]), evidence=False)
    out = acc.annotate(rs.annotate(table, m.theme_index()), m.theme_index())
    assert list(out.columns[-4:]) == ["recall_set", "recall_set_ids", "auto_accept", "auto_accept_ids"]
    P = m.predict_proba(X[::3][:40])
    P[:, 0] = P[:, :3].max(1)  # "Care (itself)" is read back at the score of "Care" (max of its 3 columns)
    for i in range(40):
        in_set = {m.leaf_ids_[j] for j in np.where(P[i] > rs.threshold_ + 1e-6)[0]}
        assert set(filter(None, out.recall_set_ids[i].split("|"))) == in_set
        marked = set(filter(None, out.auto_accept_ids[i].split("|")))
        assert marked <= set(out.suggested_ids[i].split("|")) and "care" not in marked
        assert all(P[i, m.leaf_ids_.index(t)] >= acc.threshold_ - 1e-6 for t in marked)
    assert out.recall_set[40] == "" and out.auto_accept[40] == ""
    assert acc.controlled_ and (out.auto_accept != "").sum() > 10
    assert "suggestions marked" in acc.summary(out) and "held-out examples" in rs.summary(out)

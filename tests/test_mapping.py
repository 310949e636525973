"""Tests for themeassist.mapping: ThemeMapper regimes, suggestions table, roll-up, calibration,
candidate alignment. Real model (all-MiniLM-L6-v2) on a handful of texts; synthetic embeddings
where only the arithmetic is under test."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from themeassist.codebook import Codebook, load_codebook
from themeassist.exceptions import NotFittedError
from themeassist.mapping import SUGGESTION_COLUMNS, ThemeMapper, align_candidates

CB = {"Care": ["Food and meals", "Staff attitude"], "Access": ["Parking"]}


@pytest.fixture(scope="module")
def embedder(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from themeassist.embed import get_embedder

    return get_embedder(cache_dir=tmp_path_factory.mktemp("emb"), show_progress=False)


@pytest.fixture(scope="module")
def cb() -> Codebook:
    return Codebook.from_dict(CB)


@pytest.fixture(scope="module")
def zero_shot(embedder, cb):  # type: ignore[no-untyped-def]
    return ThemeMapper(embedder=embedder).fit(cb)


# ---------------------------------------------------------------------------------- real model
@pytest.mark.slow
def test_zero_shot_suggests_the_obvious_theme(zero_shot) -> None:  # type: ignore[no-untyped-def]
    texts = ["The meals were cold and the food tasted awful", "The nurse was rude and dismissive to me",
             "There was nowhere to park the car at the hospital"]
    out = zero_shot.suggest(texts)
    assert zero_shot.regime_ == "zero-shot"
    assert [s.split("|")[0] for s in out["suggested"]] == ["Food and meals", "Staff attitude", "Parking"]
    assert out["doc_id"].tolist() == ["1", "2", "3"]
    ids = [t.theme_id for t in zero_shot.codebook_.themes]
    assert list(out.columns) == [c for c in SUGGESTION_COLUMNS if c != "candidate_id"] + [f"score:{t}" for t in ids]
    assert out["parents"].str.split("|").str[0].tolist() == ["Care", "Care", "Access"]
    assert "codebook text" in out["evidence"].iloc[0]
    P = zero_shot.predict_proba(texts)
    assert P.shape == (3, 3) and np.all((P >= 0) & (P <= 1))
    assert P.argmax(1).tolist() == [0, 1, 2]
    # the machine columns carry the float scores by theme id; a parent's is the max over its leaves
    leaf_cols = [f"score:{t}" for t in zero_shot.leaf_ids_]
    np.testing.assert_allclose(out[leaf_cols].to_numpy(), P, atol=1e-6)
    care = [f"score:{t}" for t in zero_shot.leaf_ids_ if t.startswith("care.")]
    np.testing.assert_allclose(out["score:care"], out[care].max(axis=1))
    # the same table from scores computed once (the batch engines' seam)
    again = zero_shot.suggest(texts, scores=P, embeddings=zero_shot.embed(texts))
    pd.testing.assert_frame_equal(again, out)


def test_embedder_given_by_name_is_loaded(cb: Codebook, tmp_path) -> None:  # type: ignore[no-untyped-def]
    # a model name (a str, which also has an .encode method) must be resolved, not called
    mapper = ThemeMapper(embedder="static", cache_dir=tmp_path).fit(cb)
    out = mapper.suggest(["There was nowhere to park the car at the hospital"])
    assert mapper.embedder_.model_id.startswith("static:")
    assert out.loc[0, "suggested"].split("|")[0] == "Parking"


@pytest.mark.slow
def test_none_of_these_when_nothing_fits(zero_shot) -> None:  # type: ignore[no-untyped-def]
    out = zero_shot.suggest(["Quantum chromodynamics describes the strong interaction between quarks."])
    assert out.loc[0, "suggested"] == "" and bool(out.loc[0, "none_of_these"])
    assert out.loc[0, "scores"] == "" and out.loc[0, "parents"] == ""


@pytest.mark.slow
def test_roll_up_parent_at_least_child(zero_shot) -> None:  # type: ignore[no-untyped-def]
    texts = ["Lovely dinner and kind staff", "Parking was impossible", "The food was great"]
    P = zero_shot.predict_proba(texts)
    R = zero_shot.rollup(P)
    care, access = zero_shot.parent_ids_.index("care"), zero_shot.parent_ids_.index("access")
    np.testing.assert_allclose(R[:, care], P[:, :2].max(1))
    np.testing.assert_allclose(R[:, access], P[:, 2])
    out = zero_shot.suggest(texts)
    for _, row in out.iterrows():
        if not row.suggested:
            continue
        leaf_best = max(map(float, row.scores.split("|")))
        assert min(map(float, row.parent_scores.split("|"))) >= leaf_best - 0.01 or len(row.parents.split("|")) > 1
        for leaf, score in zip(row.suggested.split("|"), map(float, row.scores.split("|"))):
            parent = "Care" if leaf in CB["Care"] else "Access"
            k = row.parents.split("|").index(parent)
            assert float(row.parent_scores.split("|")[k]) >= score


@pytest.mark.slow
def test_one_row_per_input_row_statuses_kept(zero_shot) -> None:  # type: ignore[no-untyped-def]
    corpus = pd.DataFrame({"doc_id": ["a", "b", "c", "d"],
                           "text": ["Cold food", "", "N/A", "Rude staff member"],
                           "status": ["ok", "empty", "non_answer", "truncated"]})
    out = zero_shot.suggest(corpus, candidate_assignments=pd.DataFrame({"doc_id": ["a", "d"], "candidate_id": [3, 5]}))
    assert out["doc_id"].tolist() == ["a", "b", "c", "d"]
    assert out["status"].tolist() == ["ok", "empty", "non_answer", "truncated"]
    assert out.loc[[1, 2], "suggested"].tolist() == ["", ""]
    assert out["none_of_these"].isna().tolist() == [False, True, True, False]
    assert out["candidate_id"].tolist()[0] == 3 and pd.isna(out["candidate_id"].iloc[1])
    assert out.loc[0, "suggested"].startswith("Food and meals")
    # precomputed embeddings: one per scored row or one per input row give the same table
    E = zero_shot._encode(["Cold food", "Rude staff member"])
    full = np.zeros((4, E.shape[1]), np.float32)
    full[[0, 3]] = E
    a = zero_shot.suggest(corpus, embeddings=E)
    b = zero_shot.suggest(corpus, embeddings=full)
    pd.testing.assert_frame_equal(a, b)
    with pytest.raises(ValueError, match="expected one per input row"):
        zero_shot.suggest(corpus, embeddings=E[:1])


@pytest.mark.slow
def test_iapt_codebook_18_leaves(embedder) -> None:  # type: ignore[no-untyped-def]
    cb = load_codebook("iapt")
    mapper = ThemeMapper(embedder=embedder).fit(cb)
    assert len(mapper.leaf_ids_) == 18
    out = mapper.suggest(["I have lost track of who I am outside of work",
                          "Targets and waiting list pressure are relentless"])
    assert len(out) == 2 and out["suggested"].str.len().gt(0).all()
    P = mapper.predict_proba(["Too many targets"])
    assert P.shape == (1, 18)


@pytest.mark.slow
def test_few_shot_learns_from_examples_and_decisions(embedder, cb) -> None:  # type: ignore[no-untyped-def]
    from themeassist.mapping.agreement import read_decisions

    food = ["The dinner was cold", "Meals arrive late and taste bland", "Lovely breakfast every day",
            "Not enough vegetarian options at lunch", "The sandwiches were stale"]
    staff = ["The nurse was very kind", "Reception staff were rude", "Doctors were patient and caring",
             "The porter ignored me", "Staff treated me with respect"]
    park = ["Car park is always full", "Parking charges are too high", "No disabled parking bays",
            "Had to park a mile away", "Parking machine was broken"]
    ex = pd.DataFrame({"text": food + staff + park,
                       "codes": ["Food and meals"] * 5 + ["Staff attitude"] * 5 + ["Parking"] * 5})
    decisions = pd.DataFrame({"doc_id": ["x1", "x2"], "text": ["Soup was nice but the nurse shouted", "Ward was noisy"],
                              "suggested": ["Food and meals", "Staff attitude"], "decision": ["recode", "reject"],
                              "final_codes": ["Food and meals|Staff attitude", ""]})
    ex = pd.concat([ex, read_decisions(decisions, codebook=cb)], ignore_index=True)
    mapper = ThemeMapper(embedder=embedder, random_state=0).fit(cb, ex)
    assert mapper.regime_ == "few-shot"
    assert mapper.examples_per_leaf_.tolist() == [6, 6, 5]
    out = mapper.suggest(["The soup was cold again", "Parking was a nightmare"])
    assert [s.split("|")[0] for s in out["suggested"]] == ["Food and meals", "Parking"]
    assert "like example" in out.loc[0, "evidence"]
    assert set(mapper.stack_weights_) == {"proto", "centroid", "knn", "logreg_embedding", "svm_tfidf", "codebook_words"}


# ---------------------------------------------------------------------------------- synthetic
def _clusters(n_per: int, L: int = 3, dim: int = 16, noise: float = 0.6, seed: int = 0):  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(seed)
    centres = np.eye(dim)[:L] * 3
    X = np.vstack([centres[j] + noise * rng.normal(size=(n_per, dim)) * 3 / np.sqrt(dim) for j in range(L)])
    y = np.repeat(np.arange(L), n_per)
    return X / np.linalg.norm(X, axis=1, keepdims=True), y, centres / 3


def _examples(y: np.ndarray, names: list[str]) -> pd.DataFrame:
    return pd.DataFrame({"text": [f"comment {i} about {names[j].lower()}" for i, j in enumerate(y)],
                         "codes": [names[j] for j in y]})


@pytest.mark.parametrize(("n_per", "regime"), [(0, "zero-shot"), (5, "few-shot"), (29, "few-shot"),
                                               (30, "supervised")])
def test_regime_auto_selection(cb: Codebook, n_per: int, regime: str) -> None:
    X, y, protos = _clusters(max(n_per, 1))
    names = [t.name for t in cb.leaves()]
    if n_per == 0:
        m = ThemeMapper(lexical=False).fit(cb, None, embeddings=protos)
    else:
        m = ThemeMapper(lexical=False).fit(cb, _examples(y, names), embeddings=protos, example_embeddings=X)
    assert m.regime_ == regime
    forced = ThemeMapper(regime="zero-shot").fit(cb, None, embeddings=protos)
    assert forced.regime_ == "zero-shot"


def test_calibration_on_examples(cb: Codebook) -> None:
    """Out-of-fold probabilities behave like probabilities: in each score bin, the share of true
    labels is close to the mean score (expected calibration error < 0.1), and held-out clusters
    are recognised."""
    X, y, protos = _clusters(60, noise=1.4, seed=1)
    names = [t.name for t in cb.leaves()]
    m = ThemeMapper(lexical=False, random_state=0).fit(cb, _examples(y, names), embeddings=protos, example_embeddings=X)
    assert m.regime_ == "supervised"
    P = m.oof_proba_
    Y = np.eye(3)[y]
    bins = np.clip((P * 5).astype(int), 0, 4)
    ece = sum(abs(P[bins == b].mean() - Y[bins == b].mean()) * (bins == b).sum() for b in range(5)
              if (bins == b).any()) / P.size
    assert ece < 0.1
    Xt, yt, _ = _clusters(20, noise=1.4, seed=2)
    assert (m.predict_proba(Xt).argmax(1) == yt).mean() > 0.8
    assert m.predict(Xt).shape == (60, 3)


def test_not_fitted_and_params(cb: Codebook) -> None:
    m = ThemeMapper(top_k=2, min_score=0.3)
    for call in (lambda: m.suggest(["x"]), lambda: m.predict_proba(["x"]), lambda: m.predict(["x"])):
        with pytest.raises(NotFittedError, match="not fitted"):
            call()
    c = clone(m)
    assert c.get_params()["top_k"] == 2 and c.get_params()["min_score"] == 0.3 and c is not m
    assert not any(k.endswith("_") for k in vars(c))
    with pytest.raises(ValueError, match="'regime' parameter of ThemeMapper"):
        ThemeMapper(regime="magic").fit(cb, embeddings=np.eye(3))
    with pytest.raises(ValueError, match="'min_score' parameter"):
        ThemeMapper(min_score=1.5).fit(cb, embeddings=np.eye(3))
    with pytest.raises(ValueError, match="3 leaves"):
        ThemeMapper().fit(cb, embeddings=np.eye(2))


def test_min_score_and_top_k(cb: Codebook) -> None:
    X, y, protos = _clusters(10)
    m = ThemeMapper(regime="zero-shot", min_score=0.0, top_k=2, transductive=False).fit(cb, embeddings=protos)
    out = m.suggest(["a", "b"], embeddings=X[:2])
    assert out["suggested"].str.split("|").str.len().tolist() == [2, 2]
    s = out.loc[0, "scores"].split("|")
    assert float(s[0]) >= float(s[1])


def test_zero_shot_self_training_corrects_rough_prototypes() -> None:
    # the codebook describes each theme only roughly (noisy prototypes); the comments form clear
    # clusters: self-training on the comments that match each theme best moves every prototype
    # towards its cluster, and the best-ranked theme is right more often
    rng = np.random.default_rng(0)
    L, per, dim = 4, 60, 32
    centres = rng.normal(size=(L, dim))
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    noise = rng.normal(size=(L, dim))
    protos = centres + 0.9 * noise / np.linalg.norm(noise, axis=1, keepdims=True)
    protos /= np.linalg.norm(protos, axis=1, keepdims=True)
    y = np.repeat(np.arange(L), per)
    X = centres[y] + 1.8 * rng.normal(size=(L * per, dim)) / np.sqrt(dim)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    cb4 = Codebook.from_dict({"A": ["a1", "a2"], "B": ["b1", "b2"]})
    m = ThemeMapper(regime="zero-shot").fit(cb4, embeddings=protos)
    stats = m.zero_shot_stats(X, None)
    before, after = np.diag(protos @ centres.T), np.diag(stats["protos"] @ centres.T)
    assert np.all(after > before + 0.05)
    acc_before = float(((X @ protos.T).argmax(1) == y).mean())
    acc_after = float(((X @ stats["protos"].T).argmax(1) == y).mean())
    assert acc_after > acc_before + 0.03
    # thresholds from the estimated prevalences (finite: every theme ranks first somewhere)
    assert stats["tau"].shape == (L,) and np.all(np.isfinite(stats["tau"]))
    # deterministic, and the same scores when the statistics are passed in (chunked scoring)
    np.testing.assert_allclose(m.zero_shot_stats(X, None)["protos"], stats["protos"])
    np.testing.assert_allclose(m._proba(X[:10], None, stats=stats), m.predict_proba(X)[:10], rtol=1e-6)
    # fewer than 50 comments, or transductive=False: the codebook prototypes, one threshold
    small = m.zero_shot_stats(X[:20], None)
    np.testing.assert_array_equal(small["protos"], m.protos_)
    assert np.all(small["tau"] == small["tau"][0])
    fixed = ThemeMapper(regime="zero-shot", transductive=False).fit(cb4, embeddings=protos)
    np.testing.assert_array_equal(fixed.zero_shot_stats(X, None)["protos"], fixed.protos_)


def test_prevalence_thresholds_and_pseudo_positives() -> None:
    from themeassist.mapping import _models as mm

    T = np.array([[3.0, 0.0], [2.0, 0.5], [1.0, 0.2], [0.0, 4.0]])
    sel = mm.pseudo_positives(T, 2)
    assert [s.tolist() for s in sel] == [[0, 1], [3]]
    # leaf 0 ranks first in 3 comments -> k = round(1.5 * 3) = 4 (its 4th highest T); leaf 1: k = 2
    tau = mm.prevalence_thresholds(T, T, 1.5)
    assert tau.tolist() == [0.0, 0.5]
    assert mm.prevalence_thresholds(T[:, :1].repeat(2, 1) * [1, 0], T * [1, 0], 1.0)[1] == np.inf


def test_align_candidates(cb: Codebook) -> None:
    X, y, protos = _clusters(4, noise=0.1)
    m = ThemeMapper(regime="zero-shot").fit(cb, embeddings=protos)
    leaf = m.leaf_ids_
    cands = pd.DataFrame({"candidate_id": [0, 1], "label": ["meals", "wifi"], "keywords": ["meal|food", "wifi|signal"],
                          "n_docs": [4, 4], "representative_doc_ids": ["d0|d1", "d4|d5"]})
    asg = pd.DataFrame({"doc_id": [f"d{i}" for i in range(8)], "candidate_id": [0] * 4 + [1] * 4,
                        "is_outlier": [False] * 8})
    sugg = pd.DataFrame({"doc_id": [f"d{i}" for i in range(8)],
                         "suggested_ids": [leaf[0]] * 3 + [leaf[1]] + [""] * 4})
    texts = pd.DataFrame({"doc_id": [f"d{i}" for i in range(8)], "text": [f"text {i}" for i in range(8)]})
    al = align_candidates(m, cands, asg, sugg, texts=texts, doc_embeddings=X[:8])
    c = al.candidates
    food = c[(c.candidate_id == 0) & (c.theme_id == leaf[0])].iloc[0]
    assert food.share == 0.75 and food["rank"] == 1 and not food.possible_new_theme
    assert c[(c.candidate_id == 0)].theme_id.tolist() == [leaf[0], leaf[1]]  # 0.75, 0.25
    new = c[c.candidate_id == 1].iloc[0]
    assert new.possible_new_theme and new.relation == "possible new theme" and new.keywords == "wifi|signal"
    assert "text 4" in new.quotes
    th = al.themes.set_index("theme_id")
    assert th.loc[leaf[2], "found"] == False  # noqa: E712  (Parking: no candidate, no suggestion)
    assert th.loc["care", "found"] and th.loc["care", "n_suggested"] == 4
    assert al.to_frame() is al.candidates


# ------------------------------------------------------------------- fast lexical features
_WORDS = st.text(alphabet=st.sampled_from(list("abcdeéÉßİﬁ'-.1 \t\n\u00a0")), max_size=30)


@settings(max_examples=60, deadline=None)
@given(fit_texts=st.lists(_WORDS, min_size=1, max_size=12), texts=st.lists(_WORDS, max_size=12),
       min_df=st.integers(1, 2))
def test_char_wb_transform_equals_scikit_learn(fit_texts: list[str], texts: list[str], min_df: int) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from themeassist.mapping._models import char_wb_transform

    fit_texts = [*fit_texts, "café staff were kind", "kind staff"]
    vec = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=min_df, sublinear_tf=True,
                          strip_accents="unicode").fit(fit_texts)
    cache: dict[str, list[int]] = {}
    for batch in (texts, texts[::-1]):  # the second call reuses the cached words
        fast = char_wb_transform(vec, batch, cache)
        assert fast.shape == (len(batch), len(vec.vocabulary_))
        if batch:
            ref = vec.transform(batch)
            assert (fast != ref).nnz == 0


def test_set_params_embedder_then_fit_uses_the_new_embedder(cb: Codebook, tmp_path) -> None:  # type: ignore[no-untyped-def]
    class Fixed:
        """A tiny embedder: a fixed vector per word count, so that the two are told apart."""

        def __init__(self, name: str, dim: int) -> None:
            self.model_id, self.dim = name, dim

        def encode(self, texts):  # type: ignore[no-untyped-def]
            rng = np.random.default_rng(len(self.model_id))
            return rng.normal(size=(len(texts), self.dim)).astype(np.float32)

    mapper = ThemeMapper(embedder=Fixed("first", 8)).fit(cb)
    assert mapper.embedder_.model_id == "first" and mapper.protos_.shape[1] == 8
    mapper.set_params(embedder=Fixed("second-model", 5)).fit(cb)
    assert mapper.embedder_.model_id == "second-model" and mapper.protos_.shape[1] == 5
    assert mapper.embed(["a comment"]).shape == (1, 5)

"""Tests for themeassist.discover: real MiniLM embeddings and real BERTopic on 240 short comments.

One fitted model per setting is shared by the whole module (BERTopic's first fit compiles numba).
"""

from __future__ import annotations

import itertools
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.metrics import adjusted_rand_score, homogeneity_score

from themeassist.corpus import load_corpus
from themeassist.discover import ASSIGNMENT_COLUMNS, CANDIDATE_COLUMNS, CandidateDiscovery, _make_label
from themeassist.exceptions import CacheError, CorpusError, NotFittedError

pytestmark = pytest.mark.slow

THEMES = {
    "parking": ["The car park was full", "Parking spaces were impossible to find",
                "There is not enough parking near the entrance", "Parking charges are far too expensive",
                "I drove around the car park for ages looking for a space",
                "The parking machines did not take cards"],
    "waiting": ["I waited four hours to be seen", "The waiting time in clinic was far too long",
                "We sat in the waiting room for hours", "My appointment ran two hours late",
                "The wait for a referral was many months", "Waiting so long to be seen was stressful"],
    "staff": ["The nurses were kind and caring", "Staff were friendly and helpful",
              "The doctor was very polite and reassuring", "Everyone on the ward treated me with kindness",
              "The receptionist was lovely and welcoming", "Staff were compassionate and patient with me"],
    "food": ["The hospital food was cold and tasteless", "Meals on the ward were awful",
             "There was no vegetarian option at lunch", "The sandwiches were stale",
             "Dinner was served cold again", "The food portions were tiny and bland"],
}  # fmt: skip
SUFFIXES = ["", " today", " again", " this time", " on my last visit", " as usual", " last week",
            " which was disappointing", " every single time", " unfortunately"]  # fmt: skip
NON_SUBSTANTIVE = ["", "Did not answer", "n/a", None]


def _comments() -> tuple[list, list]:
    texts, theme = [], []
    for name, sentences in THEMES.items():
        for s, suf in itertools.product(sentences, SUFFIXES):
            texts.append(s + suf + ".")
            theme.append(name)
    return texts, theme


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from themeassist.embed import get_embedder

    texts, theme = _comments()  # 4 themes x 60 comments
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    texts = [texts[i] for i in order]
    theme = [theme[i] for i in order]
    # four non-answers interleaved at known positions
    rows = list(texts)
    for pos, bad in zip((0, 50, 120, 239), NON_SUBSTANTIVE):
        rows.insert(pos, bad)
        theme.insert(pos, None)
    corpus = load_corpus(pd.DataFrame({"comment": pd.Series(rows, dtype=object)}), text_col="comment")
    cache = tmp_path_factory.mktemp("emb-cache")
    embedder = get_embedder(cache_dir=cache, show_progress=False)
    usable = corpus["status"].isin(["ok", "truncated"]).to_numpy()
    E = embedder.encode(corpus.loc[usable, "text"].tolist())
    return {"corpus": corpus, "theme": theme, "E": E, "usable": usable, "embedder": embedder}


@pytest.fixture(scope="module")
def raw(data):
    """Fit that keeps HDBSCAN outliers."""
    return CandidateDiscovery(reduce_outliers=False, show_progress=False, embedder=data["embedder"]).fit(
        data["corpus"], embeddings=data["E"]
    )


@pytest.fixture(scope="module")
def fitted(data):
    """Default fit: outliers reassigned."""
    return CandidateDiscovery(show_progress=False, embedder=data["embedder"]).fit(data["corpus"], embeddings=data["E"])


def test_corpus_fixture_is_what_the_tests_assume(data):
    assert len(data["corpus"]) == 244
    assert int(data["usable"].sum()) == 240
    assert data["corpus"]["status"].tolist()[0] == "empty"


def test_candidate_table_columns_and_sizes(raw, fitted):
    for disc in (raw, fitted):
        codes = disc.candidate_codes_
        assert tuple(codes.columns) == CANDIDATE_COLUMNS
        assert codes["n_docs"].sum() == 240  # every substantive comment counted once
        assert codes["share"].sum() == pytest.approx(1.0)
        real = codes[codes["candidate_id"] >= 0]
        assert real["candidate_id"].tolist() == list(range(len(real)))
        assert real["n_docs"].is_monotonic_decreasing
        assert disc.centroids_.shape == (len(real), 384)
        np.testing.assert_allclose(np.linalg.norm(disc.centroids_, axis=1), 1.0, rtol=1e-5)
        for _, row in real.iterrows():
            assert len(row["representative_doc_ids"].split("|")) == 3
            assert len(row["keywords"].split("|")) <= 10
            assert row["label"]


def test_assignments_cover_every_input_row(data, raw):
    a = raw.assignments_
    assert tuple(a.columns) == ASSIGNMENT_COLUMNS
    assert a["doc_id"].tolist() == data["corpus"]["doc_id"].tolist()
    assert a["status"].tolist() == data["corpus"]["status"].tolist()
    bad = ~data["usable"]
    assert a.loc[bad, "candidate_id"].isna().all() and a.loc[~bad, "candidate_id"].notna().all()
    assert a.loc[bad, "status"].tolist() == ["empty", "non_answer", "non_answer", "missing"]
    assert (a["is_outlier"] == (a["candidate_id"] == -1).fillna(False)).all()
    # per-code counts in the table equal the assignments
    counts = a.loc[~bad, "candidate_id"].astype(int).value_counts().sort_index()
    table = raw.candidate_codes_.set_index("candidate_id")["n_docs"].sort_index()
    assert counts.to_dict() == table.to_dict()
    has_outliers = bool(a["is_outlier"].any())
    assert (-1 in raw.candidate_codes_["candidate_id"].tolist()) == has_outliers


def test_themes_are_recovered(data, fitted):
    usable = data["usable"]
    theme = [t for t, u in zip(data["theme"], usable) if u]
    # auto min_topic_size is 5 at 240 comments: fine-grained codes, but none mixes two themes
    codes_auto = fitted.assignments_.loc[usable, "candidate_id"].astype(int)
    assert homogeneity_score(theme, codes_auto) > 0.95
    codes = fitted.candidate_codes_.set_index("candidate_id")
    by_theme = pd.Series(codes_auto.to_numpy()).groupby(theme)
    majority = by_theme.agg(lambda s: s.mode()[0])
    assert majority.nunique() == 4
    assert all("park" in codes.loc[c, "keywords"] for c in set(codes_auto[np.array(theme) == "parking"]))
    food_words = ("food", "meals", "lunch", "dinner", "sandwiches", "vegetarian")
    assert all(any(w in codes.loc[c, "keywords"] for w in food_words)
               for c in set(codes_auto[np.array(theme) == "food"]))  # fmt: skip


def test_reduce_outliers_removes_them_and_keeps_the_original(data, raw, fitted):
    a = fitted.assignments_[data["usable"]]
    assert not a["is_outlier"].any() and (a["candidate_id"] >= 0).all()
    assert -1 not in fitted.candidate_codes_["candidate_id"].tolist()
    moved = a["assigned_by"] == "reassigned"
    assert (a.loc[moved, "original_candidate_id"] == -1).all()
    assert (a.loc[~moved, "assigned_by"] == "cluster").all()
    assert a.loc[moved, "probability"].eq(0).all() or a.loc[moved, "probability"].isna().all()
    # same clustering before reassignment as the fit that keeps outliers
    r = raw.assignments_[data["usable"]]
    assert moved.sum() == r["is_outlier"].sum()


def test_same_seed_same_result(data, fitted):
    again = CandidateDiscovery(show_progress=False, embedder=data["embedder"]).fit(
        data["corpus"], embeddings=data["E"]
    )
    pd.testing.assert_frame_equal(again.assignments_, fitted.assignments_)
    pd.testing.assert_frame_equal(again.candidate_codes_, fitted.candidate_codes_)


def test_embeddings_per_input_row_or_per_comment_and_texts_alone(data, fitted):
    full = np.zeros((len(data["corpus"]), 384), dtype=np.float32)
    full[data["usable"]] = data["E"]
    d2 = CandidateDiscovery(show_progress=False).fit(data["corpus"], embeddings=full)
    pd.testing.assert_frame_equal(d2.assignments_, fitted.assignments_)
    assert d2.model_id_ == "precomputed" and fitted.model_id_ == data["embedder"].model_id
    # texts alone: embedded through the (cached) embedder, same result
    d3 = CandidateDiscovery(show_progress=False, embedder=data["embedder"]).fit(data["corpus"])
    pd.testing.assert_frame_equal(d3.assignments_, fitted.assignments_)


def test_save_load_round_trip_and_transform(tmp_path, data, fitted):
    folder = fitted.save(tmp_path / "run")
    manifest = json.loads((folder / "manifest.json").read_text())
    assert manifest["model_id"] == fitted.model_id_ and manifest["params"]["random_state"] == 0
    assert set(manifest["files"]) >= {"candidate_codes.parquet", "assignments.parquet", "centroids.npy"}
    loaded = CandidateDiscovery.load(folder)
    pd.testing.assert_frame_equal(loaded.candidate_codes_, fitted.candidate_codes_)
    pd.testing.assert_frame_equal(loaded.assignments_, fitted.assignments_, check_dtype=False)
    np.testing.assert_array_equal(loaded.centroids_, fitted.centroids_)
    assert (loaded.c_tf_idf_ != fitted.c_tf_idf_).nnz == 0
    assert loaded.topic_model_ is None
    new = ["Could not find anywhere to park the car.", "The lunch was cold.", ""]
    loaded.embedder = data["embedder"]
    t1 = loaded.transform(new)
    t2 = fitted.transform(new)
    pd.testing.assert_frame_equal(t1, t2)
    assert t1["status"].tolist() == ["ok", "ok", "empty"]
    codes = fitted.candidate_codes_.set_index("candidate_id")
    assert "park" in codes.loc[int(t1["candidate_id"][0]), "keywords"]
    assert "food" in codes.loc[int(t1["candidate_id"][1]), "keywords"] or "cold" in codes.loc[
        int(t1["candidate_id"][1]), "keywords"]  # fmt: skip
    assert pd.isna(t1["candidate_id"][2])


def test_tampered_or_missing_files_raise_cache_error(tmp_path, fitted):
    folder = fitted.save(tmp_path / "run")
    path = folder / "centroids.npy"
    data = bytearray(path.read_bytes())
    data[-1] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(CacheError, match="centroids.npy does not match its sha256"):
        CandidateDiscovery.load(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(CacheError, match="manifest.json"):
        CandidateDiscovery.load(folder)


def test_bad_input_gives_clear_errors(data):
    with pytest.raises(CorpusError, match="no substantive comments"):
        CandidateDiscovery(show_progress=False).fit(["", "  ", None, "n/a"])
    with pytest.raises(CorpusError, match="at least 10 substantive comments"):
        CandidateDiscovery(show_progress=False).fit(["Kind staff", "Long wait"], embeddings=np.eye(2))
    with pytest.raises(ValueError, match="one row per input row"):
        CandidateDiscovery(show_progress=False).fit(data["corpus"], embeddings=data["E"][:10])
    with pytest.raises(ValueError, match="'min_topic_size' parameter of CandidateDiscovery"):
        CandidateDiscovery(min_topic_size=1).fit(data["corpus"], embeddings=data["E"])
    with pytest.raises(NotFittedError):
        CandidateDiscovery().transform(["text"])


def test_estimator_contract():
    est = CandidateDiscovery(min_topic_size=7, random_state=3)
    assert est.get_params()["min_topic_size"] == 7
    c = clone(est)
    assert c.get_params() == est.get_params() and not hasattr(c, "candidate_codes_")


def test_make_label_merges_overlapping_keywords():
    assert _make_label(["staff", "friendly", "friendly staff", "helpful", "kind"]) == (
        "friendly staff / helpful / kind"
    )
    assert _make_label(["waiting list", "waiting", "long wait", "months"]) == "waiting list / long wait / months"
    assert _make_label([]) == ""

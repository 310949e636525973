"""Tests for themeassist.discovery: real MiniLM embeddings and real BERTopic on 240 short comments.

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
from themeassist.discovery import ASSIGNMENT_COLUMNS, CANDIDATE_COLUMNS, CandidateDiscovery
from themeassist.discovery._labels import make_label as _make_label
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
#: one-off remarks on unrelated things: HDBSCAN leaves (some of) them as noise
MISC = ["My daughter liked the fish tank in reception", "The website was hard to navigate",
        "I would like a leaflet in Polish", "The lift on the second floor was broken",
        "Wifi did not work in the day room", "Please plant more trees outside",
        "The TV remote was missing", "My hearing aid batteries ran out", "I lost my umbrella there",
        "Chaplaincy visits were a comfort", "The clocks showed the wrong time",
        "There was a wasp in the corridor", "Could you sell newspapers", "The chairs squeaked",
        "The pharmacy closes at five", "My dog waited in the car", "Bus timetables would help",
        "The signs were in tiny print", "I liked the paintings on the walls", "Heating was too high at night"]
NON_SUBSTANTIVE = ["", "Did not answer", "n/a", None]


def _comments() -> tuple[list, list]:
    texts, theme = [], []
    for name, sentences in THEMES.items():
        for s, suf in itertools.product(sentences, SUFFIXES):
            texts.append(s + suf + ".")
            theme.append(name)
    texts += [m + "." for m in MISC]
    theme += ["misc"] * len(MISC)
    return texts, theme


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    from themeassist.embed import get_embedder

    texts, theme = _comments()  # 4 themes x 60 comments + 20 one-off remarks
    rng = np.random.default_rng(0)
    order = rng.permutation(len(texts))
    texts = [texts[i] for i in order]
    theme = [theme[i] for i in order]
    # four non-answers interleaved at known positions
    rows = list(texts)
    for pos, bad in zip((0, 50, 120, 259), NON_SUBSTANTIVE):
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
    """Fit that keeps HDBSCAN outliers (min_samples=10 leaves some noise; "auto" would be 1 here)."""
    return CandidateDiscovery(reduce_outliers=False, min_samples=10, show_progress=False,
                              embedder=data["embedder"]).fit(
        data["corpus"], embeddings=data["E"]
    )


@pytest.fixture(scope="module")
def fitted(data):
    """Default fit: outliers reassigned."""
    return CandidateDiscovery(show_progress=False, embedder=data["embedder"]).fit(data["corpus"], embeddings=data["E"])


def test_corpus_fixture_is_what_the_tests_assume(data):
    assert len(data["corpus"]) == 264
    assert int(data["usable"].sum()) == 260
    assert data["corpus"]["status"].tolist()[0] == "empty"


def test_candidate_table_columns_and_sizes(raw, fitted):
    for disc in (raw, fitted):
        codes = disc.candidate_codes_
        assert tuple(codes.columns) == CANDIDATE_COLUMNS
        assert codes["n_docs"].sum() == 260  # every substantive comment counted once
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
    theme = np.array([t for t, u in zip(data["theme"], usable) if u])
    codes_auto = fitted.assignments_.loc[usable, "candidate_id"].astype(int).to_numpy()
    real = theme != "misc"
    # auto min_topic_size is 5 at 260 comments: fine-grained codes, but none mixes two themes
    assert homogeneity_score(theme[real], codes_auto[real]) > 0.95
    codes = fitted.candidate_codes_.set_index("candidate_id")
    majority = pd.Series(codes_auto[real]).groupby(theme[real]).agg(lambda s: s.mode()[0])
    assert majority.nunique() == 4
    assert all("park" in codes.loc[c, "keywords"] for c in set(codes_auto[theme == "parking"]))
    food_words = ("food", "meals", "lunch", "dinner", "sandwiches", "vegetarian")
    assert all(any(w in codes.loc[c, "keywords"] for w in food_words)
               for c in set(codes_auto[theme == "food"]))  # fmt: skip


def test_reduce_outliers_removes_them_and_keeps_the_original(data, raw, fitted):
    n_out = int(raw.assignments_["is_outlier"].sum())
    assert n_out > 0 and -1 in raw.candidate_codes_["candidate_id"].tolist()
    assert raw.candidate_codes_.iloc[-1]["candidate_id"] == -1
    moved_fit = CandidateDiscovery(min_samples=10, show_progress=False).fit(data["corpus"], embeddings=data["E"])
    for disc in (fitted, moved_fit):
        a = disc.assignments_[data["usable"]]
        assert not a["is_outlier"].any() and (a["candidate_id"] >= 0).all()
        assert -1 not in disc.candidate_codes_["candidate_id"].tolist()
        moved = a["assigned_by"] == "reassigned"
        assert (a.loc[moved, "original_candidate_id"] == -1).all()
        assert (a.loc[~moved, "assigned_by"] == "cluster").all()
        assert (a.loc[~moved, "original_candidate_id"] == a.loc[~moved, "candidate_id"]).all()
    # same clustering as the fit that keeps outliers: exactly its outliers were moved
    moved = moved_fit.assignments_["assigned_by"] == "reassigned"
    assert moved.tolist() == raw.assignments_["is_outlier"].tolist()
    # a code's representative comments are its clustered members, not outliers given it afterwards
    a = moved_fit.assignments_.set_index("doc_id")
    for row in moved_fit.candidate_codes_.itertuples():
        clustered = int(((a["candidate_id"] == row.candidate_id) & (a["assigned_by"] == "cluster")).sum())
        reps = row.representative_doc_ids.split("|")
        if clustered >= len(reps):
            assert (a.loc[reps, "assigned_by"] == "cluster").all(), row.candidate_id


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
    assert any(w in codes.loc[int(t1["candidate_id"][1]), "keywords"] for w in ("food", "lunch", "cold", "meals"))
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


def test_sample_fit_assigns_the_rest_by_nearest_centroid(data):
    disc = CandidateDiscovery(fit_sample_size=120, show_progress=False).fit(data["corpus"], embeddings=data["E"])
    a = disc.assignments_[data["usable"]]
    assert disc.resolved_params_["n_fit"] == 120
    n_moved = int((a["assigned_by"] == "reassigned").sum())
    assert a["assigned_by"].value_counts().to_dict() == {
        k: v for k, v in {"nearest_centroid": 140, "cluster": 120 - n_moved, "reassigned": n_moved}.items() if v
    }
    rest = a[a["assigned_by"] == "nearest_centroid"]
    assert rest["probability"].isna().all() and (rest["candidate_id"] >= 0).all()
    assert disc.candidate_codes_["n_docs"].sum() == 260


def test_outlier_strategies_and_nr_topics(data, raw):
    n_out = int(raw.assignments_["is_outlier"].sum())
    assert n_out > 0
    by_ctfidf = CandidateDiscovery(outlier_strategy="c-tf-idf", min_samples=10, show_progress=False).fit(
        data["corpus"], embeddings=data["E"]
    )
    a = by_ctfidf.assignments_
    assert int((a["assigned_by"] == "reassigned").sum()) + int(a["is_outlier"].sum()) == n_out
    strict = CandidateDiscovery(outlier_threshold=0.99, min_samples=10, show_progress=False).fit(
        data["corpus"], embeddings=data["E"]
    )
    assert int(strict.assignments_["is_outlier"].sum()) == n_out  # nothing is that similar
    few = CandidateDiscovery(nr_topics=5, show_progress=False).fit(data["corpus"], embeddings=data["E"])
    assert (few.candidate_codes_["candidate_id"] >= 0).sum() <= 5


def test_giant_eom_cluster_is_recut_at_the_leaves():
    from hdbscan import HDBSCAN

    from themeassist.discovery._engine import _GuardedHDBSCAN

    rng = np.random.default_rng(0)
    # four touching blobs of 150 points (a "giant" 600-point parent for eom) and one far blob of 60
    X = np.concatenate([rng.normal(loc=(0.7 * i, 0), scale=0.15, size=(150, 2)) for i in range(4)]
                       + [rng.normal(loc=(20, 20), scale=0.15, size=(60, 2))])  # fmt: skip
    eom = HDBSCAN(min_cluster_size=40, min_samples=10).fit(X).labels_
    assert sorted(np.bincount(eom[eom >= 0])) == [60, 600]
    guarded = _GuardedHDBSCAN(min_cluster_size=40, min_samples=10, method="eom").fit(X)
    assert guarded.method_used_ == "leaf"
    sizes = np.bincount(guarded.labels_[guarded.labels_ >= 0])
    assert len(sizes) == 5 and sizes.max() < 0.5 * len(X)
    kept = _GuardedHDBSCAN(min_cluster_size=40, min_samples=5, method="eom").fit(X)  # eom already splits
    assert kept.method_used_ == "eom" and len(np.bincount(kept.labels_[kept.labels_ >= 0])) == 5


def test_cli_discover_with_periods_writes_the_candidates_per_period(tmp_path, capsys):
    # --period-col is used: each row's period in assignments.csv, candidate_periods.csv and new_candidates.csv
    from themeassist.cli import main
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo.to_csv(tmp_path / "demo.csv", index=False)
    out = tmp_path / "disc"
    assert main(["discover", str(tmp_path / "demo.csv"), "--text-col", "text", "--id-col", "doc_id", "--period-col",
                 "year", "--model", "static", "--cache-dir", str(tmp_path / "cache"), "--quiet", "--out",
                 str(out)]) == 0
    a = pd.read_csv(out / "assignments.csv", dtype=str, keep_default_na=False)
    said = capsys.readouterr().out  # the summary counts the outliers given their nearest code
    assert f"; {int((a['assigned_by'] == 'reassigned').sum())} outliers given their nearest code" in said
    assert len(a) == len(demo) and a["period"].tolist() == demo["year"].astype(str).tolist()
    per = pd.read_csv(out / "candidate_periods.csv", dtype={"period": str})
    cands = pd.read_csv(out / "candidate_codes.csv")
    assert set(per["period"]) == set(demo["year"].astype(str)) and set(per["candidate_id"]) <= set(cands["candidate_id"])
    new = pd.read_csv(out / "new_candidates.csv")
    assert len(new) == int(per["new_in_period"].sum())


def test_keywords_split_on_punctuation_and_keep_accented_words() -> None:
    """'sales/marketing' gives the words 'sales' and 'marketing', not 'salesmarketing'; 'café' stays 'café'
    (BERTopic's English preprocessing deleted every character but ASCII letters, digits and spaces)."""
    from themeassist.embed import get_embedder

    rng = np.random.default_rng(0)
    a = ["the sales/marketing team promised features", "sales/marketing changed the scope again",
         "our sales/marketing people sold it early", "sales/marketing never asked the developers"]
    b = ["the café was closed at lunch", "no café near the office", "a café for the team would help",
         "the café coffee is cold"]
    texts = [rng.choice(a) + f" {w}" for w in range(60)] + [rng.choice(b) + f" {w}" for w in range(60)]
    corpus = load_corpus(pd.DataFrame({"text": texts}), text_col="text")
    emb = get_embedder("static", cache_dir=False, show_progress=False)
    disc = CandidateDiscovery(embedder=emb, random_state=0, show_progress=False, min_label_docs=1).fit(corpus)
    words = {w for kws in disc.candidate_codes_["keywords"] for k in kws.split("|") for w in k.split()}
    assert "salesmarketing" not in words and "caf" not in words
    assert {"sales", "marketing"} & words and "café" in words


def test_codes_of_one_label_are_told_apart_by_their_number() -> None:
    from themeassist.discovery import _assign

    final = np.array([0, 0, 0, 1, 1, 2, 2])
    texts = ["Nothing.", "Nothing.", "nothing.", "Nothing", "nothing", "long waits", "waiting long"]
    words = [["nothing"], ["nothing"], ["waits", "long"]]
    t = _assign.candidate_table(final, np.ones(7), texts, [f"d{i}" for i in range(7)], words,
                                {"nothing": 5, "waits": 1, "long": 2, "waiting": 1}, n_representative=2,
                                min_label_docs=1)
    labels = t["label"].tolist()
    assert len(set(labels)) == 3 and labels[1] == f"{labels[0]} (#1)" and "(#" not in labels[2]

"""Tests for themeassist.batch.dask: the Dask engine gives exactly the in-process results."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

pytest.importorskip("distributed")

from themeassist.codebook import Codebook  # noqa: E402
from themeassist.corpus import load_corpus  # noqa: E402
from themeassist.embed import get_embedder  # noqa: E402
from themeassist.exceptions import NotFittedError  # noqa: E402
from themeassist.mapping import ThemeMapper  # noqa: E402
from themeassist.batch._cluster import partitions as _partitions  # noqa: E402
from themeassist.batch.dask import _suggest_table, discover_dask, suggest_dask  # noqa: E402

BASE = [
    "The waiting list was far too long", "I waited months for an appointment",
    "No parking spaces at all", "The car park was full and expensive",
    "The nurses were kind and caring", "Staff were rude to me",
    "The food was cold", "Meals were tasty and hot", "Nothing to add", "Great service overall",
]
SUFFIXES = ["", "really", "honestly", "today", "again", "sadly", "as usual"]
CODES = ["Waiting times", "Waiting times", "Parking", "Parking", "Staff attitude", "Staff attitude", "Food", "Food"]


@pytest.fixture(scope="module")
def static() -> object:
    return get_embedder("static", cache_dir=False, show_progress=False)


@pytest.fixture(scope="module")
def codebook() -> Codebook:
    return Codebook.from_dict({"Access": ["Waiting times", "Parking"], "Care": ["Staff attitude", "Food"]})


@pytest.fixture(scope="module")
def corpus() -> pd.DataFrame:
    texts = [f"{b} {s}".strip() for s in SUFFIXES for b in BASE]  # 70 comments
    texts[3] = ""  # an empty answer keeps its row, without suggestion
    texts[8] = "n/a"  # a non-answer
    return load_corpus(pd.DataFrame({"text": texts}), text_col="text")


@pytest.fixture(scope="module")
def client():  # type: ignore[no-untyped-def]
    """One LocalCluster with 2 workers (threads: quick to start) shared by the tests."""
    import logging

    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=None,
                           host="127.0.0.1", protocol="tcp", silence_logs=logging.ERROR)  # fmt: skip
    cl = Client(cluster)
    yield cl
    cl.close()
    cluster.close()


def test_partitions_and_table() -> None:
    df = pd.DataFrame({"text": list("abcde")})
    parts = _partitions(df, 2)
    assert [p["text"].tolist() for p in parts] == [["a", "b"], ["c", "d"], ["e"]]
    # partitions are whole chunks of the local engine
    assert [len(p) for p in _partitions(pd.DataFrame({"text": list("abcdefghij")}), 5, chunk_size=2)] == [4, 4, 2]
    assert all(p.index.tolist() == list(range(len(p))) for p in parts)
    table = _suggest_table(["first", "  ", None], "t")
    assert table.to_dict("list") == {"doc_id": ["1", "2", "3"], "status": ["ok", "empty", "empty"],
                                     "text": ["first", "", ""]}


@pytest.mark.parametrize("regime", ["few-shot", "zero-shot"])
def test_suggest_dask_identical_to_in_process(regime, static, codebook, corpus, client) -> None:  # type: ignore[no-untyped-def]
    examples = None if regime == "zero-shot" else pd.DataFrame({"text": BASE[:8] * 2, "codes": CODES * 2})
    mapper = ThemeMapper(regime=regime, embedder=static).fit(codebook, examples)
    ref = mapper.suggest(corpus)
    # 70 rows in partitions of 16 (chunks of 8): five tasks, the last one short; zero-shot
    # standardises over all
    out = suggest_dask(mapper, corpus, scheduler=client, partition_size=16, chunk_size=8)
    pd.testing.assert_frame_equal(out, ref)
    assert out.loc[3, "status"] == "empty" and out.loc[3, "suggested"] == ""
    assert out.loc[8, "status"] == "non_answer"
    # the cluster did the work on partitions: the result does not depend on their size
    pd.testing.assert_frame_equal(suggest_dask(mapper, corpus, scheduler=client, partition_size=70), ref)


def test_suggest_dask_zero_shot_small_batch_uses_fixed_stats(static, codebook, client) -> None:  # type: ignore[no-untyped-def]
    mapper = ThemeMapper(regime="zero-shot", embedder=static).fit(codebook)
    texts = BASE[:6]  # fewer than 50 comments: the mapper's fixed statistics, in every partition
    pd.testing.assert_frame_equal(suggest_dask(mapper, texts, scheduler=client, partition_size=2, chunk_size=2),
                                  mapper.suggest(texts))  # fmt: skip


def test_suggest_dask_texts_and_candidates(static, codebook, client) -> None:  # type: ignore[no-untyped-def]
    mapper = ThemeMapper(regime="few-shot", embedder=static, lexical=False).fit(
        codebook, pd.DataFrame({"text": BASE[:8], "codes": CODES}))
    texts = BASE + ["", "The parking was a nightmare"]
    cands = pd.DataFrame({"doc_id": ["1", "2", "12"], "candidate_id": [0, 1, 0]})
    ref = mapper.suggest(texts, candidate_assignments=cands, evidence=False)
    out = suggest_dask(mapper, texts, scheduler=client, partition_size=5, chunk_size=5, candidate_assignments=cands,
                       evidence=False)  # fmt: skip
    pd.testing.assert_frame_equal(out, ref)
    assert out["doc_id"].tolist() == [str(i) for i in range(1, 13)]
    assert out["candidate_id"].iloc[[0, 1, 11]].tolist() == [0, 1, 0]
    assert out["candidate_id"].iloc[2:11].isna().all()


def test_suggest_dask_errors(static, codebook, corpus) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(NotFittedError, match="not fitted"):
        suggest_dask(ThemeMapper(embedder=static), corpus)
    mapper = ThemeMapper(regime="zero-shot", embedder=static).fit(codebook)
    with pytest.raises(ValueError, match="'partition_size' parameter of suggest_dask"):
        suggest_dask(mapper, corpus, partition_size=0)
    with pytest.raises(ValueError, match="scheduler address"):
        suggest_dask(mapper, corpus, scheduler=42)


def test_suggest_dask_local_processes(static, codebook, corpus) -> None:  # type: ignore[no-untyped-def]
    """The default engine: a LocalCluster of 2 worker processes, started and closed by the call."""
    mapper = ThemeMapper(regime="few-shot", embedder=static).fit(
        codebook, pd.DataFrame({"text": BASE[:8] * 2, "codes": CODES * 2}))
    out = suggest_dask(mapper, corpus, n_workers=2, partition_size=25, chunk_size=5)
    pd.testing.assert_frame_equal(out, mapper.suggest(corpus))


@pytest.mark.slow
def test_discover_dask_sample_then_assign(static, corpus, client) -> None:  # type: ignore[no-untyped-def]
    from themeassist.discovery import ASSIGNMENT_COLUMNS, CandidateDiscovery

    disc = CandidateDiscovery(embedder=static, min_topic_size=5, show_progress=False, random_state=0)
    res = discover_dask(disc, corpus, sample_size=40, scheduler=client, partition_size=10)
    usable = corpus["status"].isin(["ok", "truncated"]).to_numpy()
    assert res.sample_size == 40 and not hasattr(disc, "centroids_")  # the given estimator is untouched
    a = res.assignments
    assert list(a.columns) == list(ASSIGNMENT_COLUMNS) and len(a) == len(corpus)
    assert a["doc_id"].tolist() == corpus["doc_id"].tolist()
    assert a["status"].tolist() == corpus["status"].tolist()
    assert a.loc[~usable, "candidate_id"].isna().all()
    by = a.loc[usable, "assigned_by"].value_counts().to_dict()
    assert by.get("nearest_centroid", 0) == int(usable.sum()) - 40
    # the non-sample rows get exactly what the fitted discovery's transform gives them
    rest = a[a["assigned_by"] == "nearest_centroid"]
    again = res.discovery.transform(corpus).set_index("doc_id").loc[rest["doc_id"]]
    np.testing.assert_array_equal(rest["candidate_id"].to_numpy(), again["candidate_id"].to_numpy())
    np.testing.assert_allclose(rest["similarity"].to_numpy(), again["similarity"].to_numpy(), rtol=1e-6)
    codes = res.candidate_codes
    counts = a["candidate_id"].value_counts()
    assert codes["n_docs"].tolist() == [int(counts.get(c, 0)) for c in codes["candidate_id"]]
    assert codes["n_docs"].sum() == int(usable.sum())


def test_uncertain_rows_by_hand() -> None:
    from types import SimpleNamespace

    from themeassist.batch.dask import uncertain_rows

    m = SimpleNamespace(thresholds_=np.array([0.5, 0.2]), none_level_=0.5, min_score=None)
    P = np.array([[0.9, 0.1], [0.52, 0.05], [0.3, 0.15], [0.1, 0.02]])
    # margins: row 0 |log 1.8| = 0.59; row 1 |log 1.04| = 0.04; row 2 min(|log 0.75|, |log 0.75 - log 0.5|)
    # = 0.29; row 3 min(|log 0.2|, |log 0.2 - log 0.5|) = 0.92
    assert uncertain_rows(m, P, fraction=0.5).tolist() == [1, 2]
    assert uncertain_rows(m, P, fraction=0.75).tolist() == [0, 1, 2]
    assert uncertain_rows(m, P, fraction=0.0).tolist() == []
    # a fixed min_score (0.05 for every leaf) and no "none of these" level: row 1 sits on it
    m2 = SimpleNamespace(thresholds_=None, none_level_=0.5, min_score=0.05)
    assert uncertain_rows(m2, P, fraction=0.25).tolist() == [1]
    # row 2's margin 1.10 (|log 3|) is now the largest
    assert uncertain_rows(m2, P, fraction=0.75).tolist() == [0, 1, 3]
    with pytest.raises(ValueError, match="'fraction' parameter of uncertain_rows"):
        uncertain_rows(m, P, fraction=1.5)


def test_suggest_hybrid_redoes_the_uncertain_rows(static, codebook, corpus) -> None:  # type: ignore[no-untyped-def]
    from themeassist.batch.dask import suggest_hybrid

    ex = pd.DataFrame({"text": BASE[:8] * 2, "codes": CODES * 2})
    fast = ThemeMapper(regime="few-shot", embedder=static).fit(codebook, ex)
    exact = ThemeMapper(regime="few-shot", embedder=static, lexical=False).fit(codebook, ex)
    ref_fast, ref_exact = fast.suggest(corpus), exact.suggest(corpus)
    pd.testing.assert_frame_equal(suggest_hybrid(fast, exact, corpus, fraction=0.0), ref_fast)
    everything = suggest_hybrid(fast, exact, corpus, fraction=1.0)
    pd.testing.assert_frame_equal(everything, ref_exact, check_dtype=False)
    assert everything.attrs["re_embedded"] == int(corpus["status"].isin(["ok", "truncated"]).sum())
    some = suggest_hybrid(fast, exact, corpus, fraction=0.2)
    redo = corpus["doc_id"].isin(some.attrs["re_embedded_doc_ids"]).to_numpy()
    assert redo.sum() == some.attrs["re_embedded"] == round(0.2 * 68)
    pd.testing.assert_frame_equal(some[redo], ref_exact[redo], check_dtype=False)
    pd.testing.assert_frame_equal(some[~redo], ref_fast[~redo], check_dtype=False)
    with pytest.raises(ValueError, match="transductive zero-shot"):
        suggest_hybrid(ThemeMapper(regime="zero-shot", embedder=static).fit(codebook), exact, corpus)


def test_cli_engine_dask_writes_the_in_process_output(client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from themeassist.cli import main

    texts = [f"{b} {s}".strip() for s in SUFFIXES for b in BASE]
    pd.DataFrame({"id": [f"r{i}" for i in range(len(texts))], "comment": texts}).to_csv(tmp_path / "in.csv", index=False)
    pd.DataFrame({"text": BASE[:len(CODES)], "codes": CODES}).to_csv(tmp_path / "coded.csv", index=False)
    common = ["suggest", str(tmp_path / "in.csv"), "--text-col", "comment", "--id-col", "id", "--model", "static",
              "--cache-dir", str(tmp_path / "cache"), "--quiet", "--codebook", str(tmp_path / "cb.yaml"),
              "--examples", str(tmp_path / "coded.csv")]
    (tmp_path / "cb.yaml").write_text("Access: [Waiting times, Parking]\nCare: [Staff attitude, Food]\n")
    assert main([*common, "--out", str(tmp_path / "local.csv")]) == 0
    assert main([*common, "--engine", "dask", "--scheduler", client.scheduler.address, "--partition-size", "9",
                 "--out", str(tmp_path / "dask.csv")]) == 0
    local, dask = (pd.read_csv(tmp_path / f, dtype=str, keep_default_na=False) for f in ("local.csv", "dask.csv"))
    assert len(local) == len(texts) and local["doc_id"].tolist() == [f"r{i}" for i in range(len(texts))]
    pd.testing.assert_frame_equal(dask, local)
    with pytest.raises(SystemExit):
        main([*common, "--engine", "dask", "--partition-size", "0", "--out", str(tmp_path / "x.csv")])


@pytest.mark.slow
@pytest.mark.parametrize("regime", ["few-shot", "zero-shot"])
def test_dask_and_local_engines_identical_with_the_transformer(regime, codebook, client, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """MiniLM's embedding of a text differs in its last bits with the texts embedded beside it; both
    engines embed the same chunks, so their tables are identical bit for bit (cold and warm cache)."""
    from themeassist.batch import resumable_suggest

    rng = np.random.default_rng(0)
    words = ["waiting", "parking", "staff", "food", "kind", "rude", "cold", "long", "again", "today"]
    texts = [" ".join(rng.choice(words, size=int(rng.integers(2, 9)))) for _ in range(130)]
    texts[5] = texts[6]  # a duplicate answer
    corpus = load_corpus(pd.DataFrame({"text": texts}), text_col="text")
    examples = None if regime == "zero-shot" else pd.DataFrame({"text": BASE[:8] * 2, "codes": CODES * 2})
    emb = get_embedder("minilm", cache_dir=tmp_path / "cache", show_progress=False)
    mapper = ThemeMapper(regime=regime, embedder=emb).fit(codebook, examples)
    local = resumable_suggest(mapper, corpus, tmp_path / "local.csv", chunk_size=20)
    out = suggest_dask(mapper, corpus, scheduler=client, partition_size=40, chunk_size=20)
    pd.testing.assert_frame_equal(out, local, check_exact=True)
    warm = resumable_suggest(mapper, corpus, tmp_path / "again.csv", chunk_size=20)  # from the cache now
    pd.testing.assert_frame_equal(warm, local, check_exact=True)

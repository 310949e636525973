"""One error class per kind of mistake, in the batch, discovery, io, embed, corpus, plots, redact and mapping
code: a parameter value -> ParameterError, input comments/tables -> CorpusError, outputs ->
OutputError; each is still a ValueError, and the fix the message suggests works."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themeassist.batch.chunked import resumable_suggest, run_chunked
from themeassist.corpus import load_corpus, substantive
from themeassist.exceptions import CorpusError, OutputError, ParameterError, ThemeassistError
from themeassist.io.tables import read_table


def _df() -> pd.DataFrame:
    return pd.DataFrame({"comment": ["Kind staff", "n/a", "Long wait"], "when": ["2021-01-02"] * 3})


def test_every_kind_derives_from_value_error_and_themeassist_error() -> None:
    for cls in (ParameterError, CorpusError, OutputError):
        assert issubclass(cls, ValueError) and issubclass(cls, ThemeassistError)


def test_run_chunked_parameters_and_items(tmp_path: Path) -> None:
    ok: dict = {"out_path": None, "run_dir": tmp_path / "run"}
    with pytest.raises(ParameterError, match="'chunk_size' parameter of run_chunked must be an int >= 1. Got 0"):
        run_chunked([1], lambda c: pd.DataFrame({"x": c}), chunk_size=0, **ok)
    with pytest.raises(ParameterError, match=r"'on_mismatch' parameter of run_chunked must be one of \['restart', 'error'\]"):
        run_chunked([1], lambda c: pd.DataFrame({"x": c}), on_mismatch="skip", **ok)
    with pytest.raises(ParameterError, match="out_path and run_dir are both None"):
        run_chunked([1], lambda c: pd.DataFrame({"x": c}), out_path=None)
    with pytest.raises(ParameterError, match=r"params\['model'\] must hold only JSON values"):
        run_chunked([1], lambda c: pd.DataFrame({"x": c}), params={"model": object()}, **ok)
    with pytest.raises(CorpusError, match="items must be a DataFrame or a sequence .*got a str"):
        run_chunked("abc", lambda c: pd.DataFrame({"x": c}), **ok)
    with pytest.raises(ParameterError, match=r"func returned a list for chunk 1 \(rows 1-2\)"):
        run_chunked([1, 2], lambda c: list(c), **ok)
    with pytest.raises(OutputError, match="result of chunk 1 cannot be stored as parquet"):
        run_chunked([1, 2], lambda c: pd.DataFrame({"x": [1, "a"]}), **ok)
    # the fix works: a list of rows and a func returning a DataFrame
    fixed = run_chunked(list("abc"), lambda c: pd.DataFrame({"x": c}), out_path=None, run_dir=tmp_path / "new")
    assert fixed["x"].tolist() == ["a", "b", "c"]


def test_stage_inputs_are_corpus_errors(tmp_path: Path) -> None:
    with pytest.raises(CorpusError, match=r"resumable_suggest: the corpus lacks columns 'doc_id', 'text', 'status' "
                                          r"\(columns: 'x'\)\. Pass the output of load_corpus"):
        resumable_suggest(object(), pd.DataFrame({"x": [1]}), tmp_path / "s.csv")
    with pytest.raises(CorpusError, match="substantive: the corpus lacks column 'status'"):
        substantive(pd.DataFrame({"doc_id": ["1"], "text": ["a"]}))
    (tmp_path / "t.pkl").write_bytes(b"x")
    with pytest.raises(CorpusError, match="unknown suffix '.pkl'; save it as one of"):
        read_table(tmp_path / "t.pkl")


def test_load_corpus_parameter_mistakes_and_their_fixes() -> None:
    with pytest.raises(ParameterError, match="date_format='%Y-%m-%d' and dayfirst=True were both given"):
        load_corpus(_df(), text_col="comment", period_col="when", date_format="%Y-%m-%d", dayfirst=True)
    assert load_corpus(_df(), text_col="comment", period_col="when", date_format="%Y-%m-%d")["date"].notna().all()
    with pytest.raises(ParameterError, match=r"not one string; pass non_answers=\['n/a'\]"):
        load_corpus(_df(), text_col="comment", non_answers="n/a")
    fixed = load_corpus(_df(), text_col="comment", non_answers=["n/a"])
    assert fixed["status"].tolist() == ["ok", "non_answer", "ok"]


def test_discovery_parameters_and_embeddings_are_parameter_errors() -> None:
    from themeassist.discovery import CandidateDiscovery

    texts = [f"comment number {i} about parking" for i in range(12)]
    with pytest.raises(ParameterError, match="'ngram_range' parameter of CandidateDiscovery must be a pair"):
        CandidateDiscovery(ngram_range=(2, 1), show_progress=False).fit(texts, embeddings=np.eye(12))
    with pytest.raises(ParameterError, match="'n_neighbors' parameter of CandidateDiscovery must be an integer"):
        CandidateDiscovery(n_neighbors=7.5, show_progress=False).fit(texts, embeddings=np.eye(12))
    with pytest.raises(ParameterError, match=r"one row per input row \(12\).*Got shape \(3, 12\)"):
        CandidateDiscovery(show_progress=False).fit(texts, embeddings=np.eye(12)[:3])
    E = np.eye(12)
    E[4, 0] = np.nan  # the 5th row of the array passed
    with pytest.raises(ParameterError, match=r"NaN or infinite values \(rows 5\)"):
        CandidateDiscovery(show_progress=False).fit(texts, embeddings=E)


def test_embedder_and_plot_mistakes(tmp_path: Path) -> None:
    from themeassist.embed import get_embedder
    from themeassist.plots import plot_prevalence

    with pytest.raises(ParameterError, match="model must be None, 'minilm', 'static', a model folder"):
        get_embedder(42)
    with pytest.raises(ParameterError, match="neither a known name"):
        get_embedder(str(tmp_path / "no-such-model"))
    empty = pd.DataFrame(columns=["period", "theme", "prevalence", "ci_low", "ci_high"])
    with pytest.raises(CorpusError, match="plot_prevalence: the prevalence table has no rows"):
        plot_prevalence(empty)
    with pytest.raises(CorpusError, match="lacks columns 'ci_low', 'ci_high'"):
        plot_prevalence(empty.drop(columns=["ci_low", "ci_high"]))


def test_mapping_parameter_and_array_mistakes_are_parameter_errors() -> None:
    from themeassist.codebook import Codebook
    from themeassist.mapping import ThemeMapper
    from themeassist.mapping.conformal import RecallSets
    from themeassist.mapping.review import review_queue

    cb = Codebook.from_dict({"Food": [], "Staff": []})
    with pytest.raises(ParameterError, match="'top_k' parameter of ThemeMapper must be an int >= 1"):
        ThemeMapper(top_k=0, lexical=False).fit(cb, None, embeddings=np.eye(4)[:2])
    # the suggested fix works: one prototype row per leaf
    ThemeMapper(lexical=False).fit(cb, None, embeddings=np.eye(4)[:2])
    with pytest.raises(ParameterError, match="3 rows for the codebook's 2 leaves"):
        ThemeMapper(lexical=False).fit(cb, None, embeddings=np.eye(4)[:3])
    with pytest.raises(ParameterError, match="'review_size' parameter of review_queue"):
        review_queue(np.full((3, 2), 0.5), [1, 1], review_size=0)
    with pytest.raises(ParameterError, match="scores and labels must be arrays of the same shape"):
        RecallSets().fit(np.zeros((4, 2)), np.zeros((3, 2)))

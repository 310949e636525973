"""One convention for row numbers in messages: "row N" is the N-th data row of the table passed,
counting from 1 (the header is not a row; in a spreadsheet, row N sits on line N + 1).

Each case writes a real CSV whose 3rd data row (file line 4) is at fault, and checks that the
message of every entry point names row 3."""

from __future__ import annotations

import warnings
from pathlib import Path

import pandas as pd
import pytest

from themeassist.codebook import Codebook
from themeassist.corpus import load_corpus
from themeassist.drift import prevalence
from themeassist.exceptions import CodebookError, CorpusError, ThemeassistError
from themeassist.mapping import read_decisions, read_examples
from themeassist.mapping.examples import labelled_examples

CB = Codebook.from_dict({"Care": ["Food", "Staff"], "Access": ["Parking"]})


def _csv(tmp_path: Path, text: str, name: str = "t.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    assert len(path.read_text(encoding="utf-8").splitlines()) == 4  # a header and 3 data rows
    return path


def test_load_corpus_names_the_third_row(tmp_path: Path) -> None:
    empty_id = _csv(tmp_path, "c,id,when\nc1 cold food,a,2021\nc2 kind staff,b,2021\nc3 no parking,,2022\n")
    with pytest.raises(CorpusError, match=r"id column 'id' is empty in rows 3\. "):
        load_corpus(empty_id, text_col="c", id_col="id")
    bad_date = _csv(tmp_path, "c,when\nc1 cold food,2021-01-04\nc2 kind staff,2021-02-05\nc3 no parking,soon\n")
    with pytest.warns(UserWarning, match=r"could not be read as dates \(rows 3;") as caught:
        corpus = load_corpus(bad_date, text_col="c", period_col="when")
    # without id_col the doc_ids count from 0 (data): the 3rd row is doc_id '2', position 2
    assert corpus["doc_id"].tolist() == ["0", "1", "2"] and corpus["row"].tolist() == [0, 1, 2]
    assert corpus["period"].isna().tolist() == [False, False, True] and len(caught) == 1
    long = _csv(tmp_path, f"c,when\nc1 short,2021\nc2 short,2021\nc3 {'x' * 40},2022\n")
    with pytest.warns(UserWarning, match=r"were cut \(rows 3; doc_ids 2\)"):
        load_corpus(long, text_col="c", max_chars=20)


def test_read_examples_and_decisions_name_the_third_row(tmp_path: Path) -> None:
    examples = _csv(tmp_path, "c,id,codes\nc1 cold food,e1,Food\nc2 kind staff,e2,Staff\nc3 no parking,e3,Parkin\n")
    with pytest.raises(CodebookError, match=r"read_examples\(.*\): row 3 \(doc_id 'e3'\), column 'codes': .*'Parkin'"):
        read_examples(examples, codebook=CB, text_col="c", id_col="id")
    decisions = _csv(tmp_path, "doc_id,text,suggested,decision\nd1,c1 food,Food,accept\nd2,c2 staff,Staff,reject\n"
                               "d3,c3 parking,Parking,maybe\n")
    with pytest.raises(CorpusError, match=r"row 3 \(doc_id 'd3'\), column 'decision': 'maybe' is not a decision"):
        read_decisions(decisions)


def test_drift_codes_name_the_third_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "text,doc_id,suggested,status\nc1 food,d1,Food,ok\nc2 staff,d2,Staff,ok\n"
                          "c3 parking,d3,Nope,ok\n")
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    with pytest.raises(ThemeassistError, match=r"the comment in row 3 \(doc_id 'd3'\) is coded 'Nope'"):
        prevalence(table[["doc_id", "suggested", "status"]], codebook=CB, method="classify_count")
    with pytest.raises(ThemeassistError, match=r"the comment in row 3 is coded 'Nope'"):
        prevalence(table["suggested"].tolist(), codebook=CB)
    periods = table.assign(year=["2020", "2021", ""])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        prevalence(periods["suggested"].replace("Nope", "Parking").tolist(), codebook=CB,
                   period=periods["year"].replace("", None))
    assert any("1 comments have no period (rows 3)" in str(w.message) for w in caught)


def test_codebook_table_names_the_third_row(tmp_path: Path) -> None:
    path = _csv(tmp_path, "name,parent\nCare,\nFood,Care\nc3 ,Nowhere\n")
    frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    with pytest.raises(CodebookError, match=r"the parent 'Nowhere' of theme 'c3' \(row 3\)"):
        Codebook.from_frame(frame)


def test_rows_left_out_before_the_fault_still_count() -> None:
    """Where a step works on some rows only (used examples, substantive comments, comments not
    coded outside the audit), messages still number the rows of the table passed."""
    import numpy as np

    from themeassist.discovery import CandidateDiscovery
    from themeassist.drift import audit_estimate

    ex = pd.DataFrame({"text": ["", "c2 staff", "c3 parking"], "codes": ["Food", "Staff", "Nope"]})
    with pytest.raises(CodebookError, match=r"examples row 3 \(doc_id 'ex3'\), column 'codes'"):
        labelled_examples(ex, CB)  # the blank 1st row is not used; the fault is still the 3rd row
    with pytest.raises(CorpusError, match=r"examples row 3, column 'weight'"):
        labelled_examples(ex.assign(codes="Food", weight=[1, 1, -1]), CB)
    texts = [""] + [f"comment number {i} about parking" for i in range(11)]
    E = np.eye(12)
    E[4, 0] = np.nan  # the 5th row of the array passed, the 4th substantive comment
    with pytest.raises(ThemeassistError, match=r"NaN or infinite values \(rows 5\)"):
        CandidateDiscovery(show_progress=False).fit(texts, embeddings=E)
    s = np.full((4, 1), 0.5)
    s[2, 0] = np.nan
    known = np.array([[1.0], [np.nan], [np.nan], [np.nan]])  # row 1 coded outside the audit
    with pytest.raises(ThemeassistError, match=r"score missing at row 3, column 1"):
        audit_estimate(s, np.full((4, 1), np.nan), ["a"] * 4, known=known)

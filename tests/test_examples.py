"""Tests for themeassist.mapping.examples: reading coded examples like a corpus, the label space
with "(itself)" leaves for parents coded on their own, and the label matrix (worked out by hand)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from themeassist.codebook import Codebook, read_suggested_ids
from themeassist.exceptions import CodebookError, CorpusError
from themeassist.mapping import ThemeMapper
from themeassist.mapping.examples import (
    EXAMPLE_COLUMNS,
    NOT_CODED,
    example_codes,
    examples_from_long,
    label_matrix,
    label_space,
    read_examples,
    used_examples,
)

SURVEY = {"words": None, "change": ["words", "tone"], "remove": ["words"], "add": ["words", "sentence"]}


@pytest.fixture(scope="module")
def static(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    from themeassist.embed import get_embedder

    return get_embedder("static", cache_dir=tmp_path_factory.mktemp("emb"), show_progress=False)


def test_read_examples_keeps_every_row_like_load_corpus(tmp_path) -> None:
    path = tmp_path / "coded.csv"
    path.write_bytes("id;comment;theme\n007;Cold food;Food and meals; Parking\n008;N/A;Parking\n009;;Parking\n"
                     "010;42;Food and meals\n011;Caf\xe9 was shut;Food and meals\n".replace(
                         "Food and meals; Parking", '"Food and meals, Parking"').encode("cp1252"))
    cb = Codebook.from_dict({"Care": ["Food and meals", "Staff attitude"], "Access": ["Parking"]})
    with pytest.warns(UserWarning, match=r"3 of 5 rows are kept but not used for fitting: row 2 \(non_answer: text "
                                         r"is the non-answer 'N/A'\); row 3 \(missing: no text \(missing value\)\); "
                                         r"row 4 \(non_text: value '42' is a number, not text\)"):
        ex = read_examples(path, text_col="comment", codes_col="theme", id_col="id", codebook=cb, sep=",")
    assert list(ex.columns) == list(EXAMPLE_COLUMNS)
    assert ex["doc_id"].tolist() == ["007", "008", "009", "010", "011"]  # ids as written (leading zeros kept)
    assert ex["text"].tolist() == ["Cold food", "N/A", "", "", "Café was shut"]  # cp1252 decoded
    assert ex["codes"].tolist()[0] == "Food and meals|Parking"
    assert ex["status"].tolist() == ["ok", "non_answer", "missing", "non_text", "ok"]
    assert ex.attrs["n_used"] == 2
    assert used_examples(ex)["doc_id"].tolist() == ["007", "011"]
    with pytest.raises(CorpusError, match=r"read_examples\(.*\): column 'texts' not found"):
        read_examples(path, text_col="texts", codes_col="theme")
    with pytest.raises(CorpusError, match="column 'topic' not found"):
        read_examples(path, text_col="comment", codes_col="topic")


def test_a_row_pasted_twice_is_read_once_and_one_id_with_two_comments_is_refused(tmp_path) -> None:
    rows = pd.DataFrame({"id": [7, 8, 7, 9, 8], "comment": ["Cold food", "Rude staff", "Cold food", "Late", "Rude staff"],
                         "codes": ["Food", "Staff", "Food", "", "Staff"]})
    rows.to_csv(tmp_path / "coded.csv", index=False)
    with pytest.warns(UserWarning, match=r"2 rows repeat an earlier row exactly \(id, text and codes; rows 3, 5\)"):
        ex = read_examples(tmp_path / "coded.csv", text_col="comment", id_col="id", blank="none")
    assert ex.doc_id.tolist() == ["7", "8", "9"] and ex.row.tolist() == [0, 1, 3]
    assert ex.codes.tolist() == ["Food", "Staff", ""] and list(ex.index) == [0, 1, 2]
    rows.loc[4, "codes"] = "Food"  # id 8 now holds two codings of one comment: which is right is the coder's call
    rows.to_csv(tmp_path / "coded.csv", index=False)
    with pytest.raises(CorpusError, match=r"read_examples\(.*\): id column 'id' has 2 duplicated ids"):
        read_examples(tmp_path / "coded.csv", text_col="comment", id_col="id", blank="none")


def test_read_examples_names_every_code_it_cannot_read() -> None:
    cb = Codebook.from_dict(SURVEY)
    df = pd.DataFrame({"text": ["a", "b", "c", "d"], "codes": ["change > words", "Wrods", "words", "remove|Tone"],
                       "negative_codes": ["", "", "", "nope"]})
    with pytest.raises(CodebookError) as info:
        read_examples(df, codebook=cb)
    msg = str(info.value)
    assert msg.startswith("read_examples: row 2 (doc_id 'ex2'), column 'codes': ")
    assert "no theme named 'Wrods'. Did you mean 'words'?" in msg
    assert "| read_examples: row 4 (doc_id 'ex4'), column 'negative_codes': Codebook 'codebook': no theme named " \
           "'nope'" in msg
    ok = read_examples(df.iloc[[0, 2]], codebook=cb)  # 'words' is the top-level theme: its path is its name
    assert ok["codes"].tolist() == ["change > words", "words"]


def test_a_blank_codes_cell_is_not_coded_yet_and_none_is_no_theme(static) -> None:  # type: ignore[no-untyped-def]
    # codes kept in the comments file itself: blank where the coder has not got to the comment yet
    cb = Codebook.from_dict(SURVEY)
    df = pd.DataFrame({"doc_id": ["a", "b", "c", "d", "e", "f"],
                       "text": ["change the tone", "remove words", "thanks", "fine as it is", "cut words", "hm"],
                       "codes": ["change > tone", "remove > words", "", "None of these", "", "none"],
                       "negative_codes": ["", "", "", "", "change > tone", ""]})
    with pytest.warns(UserWarning, match=r"1 of 6 rows have no codes in column 'codes' \(rows 3\): read as not "
                                         r"coded yet .*Write 'none'"):
        ex = read_examples(df, id_col="doc_id", codebook=cb)
    assert ex["status"].tolist() == ["ok", "ok", NOT_CODED, "ok", "ok", "ok"]
    assert ex["codes"].tolist() == ["change > tone", "remove > words", "", "", "", ""]
    assert ex.attrs["n_used"] == 5  # the rejected-only row 'e' is still a known negative
    assert used_examples(ex)["doc_id"].tolist() == ["a", "b", "d", "e", "f"]
    # the not-coded row is suggested like any other comment: it carries no example codes
    sugg = pd.DataFrame({"doc_id": list("abcdef")})
    col, how = example_codes(sugg, ex, cb)
    assert how == "doc_id" and col is not None
    # 'none' for a comment coded with no theme, '' where the codes are not known (not coded, rejected only)
    assert col.tolist() == ["change.tone", "remove.words", "", "none", "", "none"]
    # a row without a comment (empty text, a non-answer) is no coded example, whatever its codes cell
    blank_text = pd.DataFrame({"doc_id": ["g", "h", "i"], "text": ["", "?", "fine as it is"], "codes": ["", "", "none"]})
    with pytest.warns(UserWarning):
        ex2 = read_examples(blank_text, id_col="doc_id", codebook=cb)
    col2, _ = example_codes(pd.DataFrame({"doc_id": list("ghi")}), ex2, cb)
    assert col2.tolist() == ["", "", "none"]
    # without a 'none' written anywhere a blank row is coded with no theme, unless told otherwise
    coded = df.iloc[[0, 1, 2]].drop(columns="negative_codes")
    with pytest.warns(UserWarning, match=r"1 of 3 rows .*\(rows 3\): read as coded with no theme"):
        assert read_examples(coded)["status"].tolist() == ["ok", "ok", "ok"]
    with pytest.warns(UserWarning, match="read as not coded yet"):
        assert read_examples(coded, blank="not_coded")["status"].tolist() == ["ok", "ok", NOT_CODED]
    with pytest.raises(ValueError, match="blank='empty' is not one of 'auto', 'none', 'not_coded'"):
        read_examples(coded, blank="empty")
    # the mapper learns from the coded rows only: 'none' rows are examples of no theme
    mapper = ThemeMapper(embedder=static, regime="few-shot", random_state=0).fit(cb, ex)
    assert mapper.n_examples_ == 5
    assert ThemeMapper(embedder=static, regime="few-shot", random_state=0).fit(cb, df.iloc[[0, 1, 3, 5]]).n_examples_ == 4


def test_examples_from_long_keeps_statuses() -> None:
    long = pd.DataFrame({"doc_id": ["1", "1", "2"], "theme_id": ["care.food", "access.parking", "access.parking"]})
    texts = pd.DataFrame({"doc_id": ["1", "2", "3"], "text": ["a", "N/A", "c"],
                          "status": ["ok", "non_answer", "ok"]})
    ex = examples_from_long(long, texts)
    assert ex["codes"].tolist() == ["care.food|access.parking", "access.parking"]
    assert used_examples(ex)["doc_id"].tolist() == ["1"]


def test_label_space_adds_an_itself_leaf_for_a_parent_coded_alone() -> None:
    cb = Codebook.from_dict(SURVEY)
    ex = pd.DataFrame({"text": list("abcde"), "codes": ["add", "add|add > words", "change > words", "words", ""],
                       "negative_codes": ["", "", "", "", "remove"]})
    space = label_space(cb, ex)
    assert space.theme_ids == ("words", "change.words", "change.tone", "remove.words", "add", "add.words",
                               "add.sentence")
    assert space.implicit == (False, False, False, False, True, False, False)
    assert space.names == ("words", "change > words", "tone", "remove > words", "add", "add > words", "sentence")
    assert space.rollup[4] == ("add",) and space.rollup[5] == ("add",) and space.rollup[0] == ()
    Y, M = label_matrix(ex, cb, space)
    assert Y.tolist() == [[0, 0, 0, 0, 1, 0, 0],  # 'add' on its own: its (itself) leaf
                          [0, 0, 0, 0, 0, 1, 0],  # 'add' with 'add > words': only the sub-theme
                          [0, 1, 0, 0, 0, 0, 0],
                          [1, 0, 0, 0, 0, 0, 0],  # 'words' is the top-level theme
                          [0, 0, 0, 0, 0, 0, 0]]
    assert M[:4].min() == 1.0 and M[4].tolist() == [0, 0, 0, 1, 0, 0, 0]  # a bare rejection knows only it
    # without a column of its own (a space built without examples), a parent coded alone leaves its leaves unknown
    Y0, M0 = label_matrix(ex.iloc[:1], cb, label_space(cb))
    assert Y0.tolist() == [[0] * 6] and M0.tolist() == [[1, 1, 1, 1, 0, 0]]
    # rejecting a parent that has an (itself) leaf rejects that leaf; otherwise every leaf under it
    rej = pd.DataFrame({"text": ["x", "y"], "codes": ["", ""], "negative_codes": ["add", "change"]})
    _, Mr = label_matrix(rej, cb, space)
    assert Mr.tolist() == [[0, 0, 0, 0, 1, 0, 0], [0, 1, 1, 0, 0, 0, 0]]


def test_a_same_named_child_is_the_parents_itself_leaf() -> None:
    cb = Codebook.from_dict({"Care received": ["Care received", "Activities"], "Access": None})
    ex = pd.DataFrame({"text": ["a", "b", "c"], "codes": ["care-received", "Care received > Activities", "Access"]})
    space = label_space(cb, ex)
    assert space.theme_ids == ("care-received.care-received", "care-received.activities", "access")
    assert not any(space.implicit)
    assert space.names[0] == "Care received > Care received"
    Y, _ = label_matrix(ex, cb, space)
    assert Y.tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 1]]


def test_mapper_suggests_a_parent_coded_alone_and_reads_it_back(static) -> None:  # type: ignore[no-untyped-def]
    cb = Codebook.from_dict(SURVEY)
    texts = {"add": ["please add more to it", "add something", "it needs additions", "more should be added"],
             "add > words": ["add more words", "needs extra words", "add some vocabulary", "more words please"],
             "remove > words": ["remove some words", "too many words, cut them", "delete words", "fewer words"],
             "change > tone": ["change the tone", "the tone is wrong", "make it sound friendlier", "tone it down"]}
    ex = pd.DataFrame([{"text": t, "codes": c} for c, ts in texts.items() for t in ts])
    mapper = ThemeMapper(embedder=static, regime="few-shot", random_state=0).fit(cb, ex)
    assert "add" in mapper.leaf_ids_ and mapper.leaf_ids_.index("add") == 4
    assert mapper.examples_per_leaf_[mapper.leaf_ids_.index("add")] == 4
    out = mapper.suggest(["please add more to it", "remove some words"])
    first = out.loc[0]
    assert first["suggested_ids"].split("|")[0] == "add" and first["suggested"].split("|")[0] == "add"
    # the machine score of 'add' is its roll-up: at least its (itself) leaf's score
    P = mapper.predict_proba(["please add more to it"])
    assert out.loc[0, "score:add"] == pytest.approx(P[0].max(where=[t.startswith("add") for t in mapper.leaf_ids_],
                                                                initial=0), abs=1e-6)
    # every reader resolves the written id and name to the parent, which reads as the same leaf again
    assert read_suggested_ids(out, cb)[0][0] == "add"
    again = label_space(cb, pd.DataFrame({"text": ["x"], "codes": [first["suggested"].split("|")[0]]}))
    assert "add" in again.theme_ids
    np.testing.assert_array_equal(out["suggested_ids"].str.len() > 0, [True, True])


@pytest.mark.slow
@pytest.mark.needs_data
def test_nhs_phase1_examples_written_as_paths_fit_and_read_back(shared_data, static) -> None:  # type: ignore[no-untyped-def]
    """The NHS framework has 4 labels with a same-named sub-category: fitting on examples written as
    paths (or as the label alone, read as its same-named sub-category) works, and the table reads back."""
    data = pd.read_csv(shared_data / "nhs_fft" / "phase1_text_data.csv", dtype=str, keep_default_na=False)
    framework: dict[str, list[str]] = {}
    for label, sub in data[["label", "subcategory"]].drop_duplicates().itertuples(index=False):
        framework.setdefault(label, []).append(sub)
    cb = Codebook.from_dict(framework)
    sample = data.groupby(["label", "subcategory"], sort=False).head(3).reset_index(drop=True)
    same = sample["label"].str.strip() == sample["subcategory"].str.strip()
    codes = (sample["label"] + " > " + sample["subcategory"]).where(~same, sample["label"])
    ex = pd.DataFrame({"text": sample["feedback"], "codes": codes})
    with pytest.warns(UserWarning, match=r"'Communication' names both 'Communication' \(id 'communication'\)"):
        mapper = ThemeMapper(embedder=static, regime="few-shot", random_state=0).fit(cb, ex)
    assert not any(t == p for t in mapper.leaf_ids_ for p in mapper.parent_ids_)  # no implicit leaf needed
    assert "communication.communication" in mapper.leaf_ids_
    out = mapper.suggest(data["feedback"].head(40).tolist())
    back = read_suggested_ids(out, cb)
    assert ["|".join(b) for b in back] == out["suggested_ids"].tolist()

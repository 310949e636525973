"""Tests for themeassist.mapping.agreement: decisions -> examples, agreement statistics worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from themeassist.mapping.agreement import AGREEMENT_COLUMNS, agreement, read_decisions
from themeassist.codebook import Codebook
from themeassist.exceptions import CodebookError, CorpusError


@pytest.fixture()
def cb() -> Codebook:
    return Codebook.from_dict({"Care": ["Food", "Staff attitude"], "Access": ["Parking"]})


def test_kappa_and_alpha_by_hand(cb: Codebook) -> None:
    # 10 comments; Food: human on 0,1,2; suggested on 0,1,3 -> tp 2, fp 1, fn 1, tn 6
    ids = [str(i) for i in range(10)]
    human = ["Food", "Food", "Food"] + [""] * 7
    sugg = ["Food", "Food", "", "Food"] + [""] * 6
    out = agreement(pd.DataFrame({"doc_id": ids, "suggested": sugg}),
                    pd.DataFrame({"doc_id": ids, "codes": human}), cb).set_index("theme_id")
    row = out.loc["care.food"]
    assert (row.n_human, row.n_suggested, row.n_both, row.n_docs) == (3, 3, 2, 10)
    assert row.precision == pytest.approx(2 / 3) and row.recall == pytest.approx(2 / 3)
    # po = 0.8, pe = 0.3*0.3 + 0.7*0.7 = 0.58 -> kappa = 0.22 / 0.42
    assert row.cohen_kappa == pytest.approx(0.22 / 0.42)
    # nominal alpha, 2 coders: 1 - (n - 1) * o01 / (n0 * n1) = 1 - 19 * 2 / (14 * 6)
    assert row.krippendorff_alpha == pytest.approx(1 - 38 / 84)
    # the parent "Care" rolls up the same comments
    assert out.loc["care", "n_both"] == 2 and out.loc["care", "level"] == "parent"
    # themes nobody used: kappa undefined, not 0
    assert math.isnan(out.loc["access.parking", "cohen_kappa"])
    assert list(out.columns) == list(AGREEMENT_COLUMNS)[1:]
    macro = out.loc["macro"]
    assert macro.level == "macro" and macro.f1 == pytest.approx(2 / 3)  # only Food has a defined F1


def test_agreement_uses_only_scored_common_rows(cb: Codebook) -> None:
    s = pd.DataFrame({"doc_id": ["a", "b", "c"], "status": ["ok", "empty", "ok"],
                      "suggested_ids": ["care.food", "", "access.parking"]})
    h = pd.DataFrame({"doc_id": ["a", "b", "c", "z"], "codes": ["Food", "Parking", "Parking", "Food"]})
    out = agreement(s, h, cb).set_index("theme_id")
    assert out.loc["access.parking", "n_docs"] == 2
    assert out.loc["access.parking", "f1"] == 1.0
    with pytest.raises(CorpusError, match="no doc_id"):
        agreement(s, pd.DataFrame({"doc_id": ["q"], "codes": ["Food"]}), cb)
    with pytest.raises(CodebookError, match="row 1"):
        agreement(s, pd.DataFrame({"doc_id": ["a"], "codes": ["Nonsense"]}), cb)


def test_read_decisions_round_trip(cb: Codebook, tmp_path) -> None:  # type: ignore[no-untyped-def]
    edited = pd.DataFrame({
        "doc_id": ["1", "2", "3", "4", "5", "6"],
        "text": ["Cold dinner", "Rude nurse", "No spaces to park", "Lovely", "Food fine", "x"],
        "suggested": ["Food", "Food|Parking", "Parking", "", "Food|Staff attitude", "Food"],
        "decision": ["accept", "recode", "Accept", "reject", "reject", ""],
        "final_codes": ["", "Staff attitude|Parking", "", "", "", ""],
    })
    path = tmp_path / "suggestions_edited.csv"
    edited.to_csv(path, index=False)
    ex = read_decisions(path, codebook=cb)
    # row 4 rejects "none of these" without saying what applies: no information; row 6 not reviewed
    assert ex["doc_id"].tolist() == ["1", "2", "3", "5"]
    assert ex["codes"].tolist() == ["care.food", "care.staff-attitude|access.parking", "access.parking", ""]
    assert ex["negative_codes"].tolist() == ["", "care.food", "", "care.food|care.staff-attitude"]
    assert ex["decision"].tolist() == ["accept", "recode", "accept", "reject"]


def test_read_decisions_recode_to_none() -> None:
    # 'none' (or the codebook's none code) in final_codes: no theme applies, every theme a known negative
    cb = Codebook.from_dict({"Care": ["Food", "Staff attitude"], "none_codes": ["NotCodable"]})
    edited = pd.DataFrame({"doc_id": ["1", "2", "3", "4"], "text": ["a", "b", "c", "d"],
                           "suggested": ["Food", "Food|Staff attitude", "Food", ""],
                           "decision": ["recode", "recode", "accept", "accept"],
                           "final_codes": ["none", "NotCodable", "None", "none"]})
    with pytest.warns(UserWarning, match=r"1 rows say accept but give other codes in 'final_codes' \(rows 3\): read "
                                         r"as recodes"):
        ex = read_decisions(edited, codebook=cb)
    assert ex["codes"].tolist() == ["", "", "", ""] and ex["negative_codes"].tolist() == ["", "", "", ""]
    assert ex["decision"].tolist() == ["recode", "recode", "recode", "accept"]
    from themeassist.mapping.examples import label_matrix, label_space

    Y, M = label_matrix(ex, cb, label_space(cb, ex))
    assert Y.sum() == 0 and (M == 1).all()  # known examples of "none of these", not bare rejections
    with pytest.raises(CorpusError, match="or 'none' when no theme applies"):
        read_decisions(edited.assign(final_codes=""), codebook=cb)


def test_read_decisions_errors(cb: Codebook) -> None:
    base = {"doc_id": ["1"], "text": ["t"], "suggested": ["Food"]}
    with pytest.raises(CorpusError, match="row 1 .*'maybe'"):
        read_decisions(pd.DataFrame({**base, "decision": ["maybe"]}))
    with pytest.raises(CorpusError, match="final_codes"):
        read_decisions(pd.DataFrame({**base, "decision": ["recode"], "final_codes": [""]}))
    with pytest.raises(CodebookError, match="row 1"):
        read_decisions(pd.DataFrame({**base, "decision": ["recode"], "final_codes": ["Nope"]}), codebook=cb)
    with pytest.raises(CorpusError, match="decision"):
        read_decisions(pd.DataFrame(base))


def test_decisions_feed_the_mapper_labels(cb: Codebook) -> None:
    from themeassist.mapping.examples import label_matrix, label_space

    ex = pd.DataFrame({"doc_id": ["1", "2", "3"], "text": ["a", "b", "c"],
                       "codes": ["Food", "", "Care"], "negative_codes": ["", "Parking", ""]})
    space = label_space(cb, ex)
    # 'Care' coded on its own gets a "(itself)" leaf, written as the parent's own id
    assert space.theme_ids == ("care", "care.food", "care.staff-attitude", "access.parking")
    Y, M = label_matrix(ex, cb, space)
    assert Y.tolist() == [[0, 1, 0, 0], [0, 0, 0, 0], [1, 0, 0, 0]]
    # a rejection: only Parking is known
    assert M.tolist() == [[1, 1, 1, 1], [0, 0, 0, 1], [1, 1, 1, 1]]
    assert np.all((Y == 1) <= (M == 1))


def test_read_decisions_reads_ids_from_the_file_suggest_wrote(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from themeassist.io.tables import write_table

    cb = Codebook.from_dict({"words": None, "change": ["words", "-ve feedback"], "remove": ["words"]})
    table = pd.DataFrame({
        "doc_id": ["+44", "007", "N/A", "4", "5"],
        "text": ["=too wordy", "Say it nicer", "N/A", "cut words", "x"],
        "suggested": ["words", "-ve feedback", "words", "words", "words"],
        "suggested_ids": ["change.words", "change.ve-feedback", "remove.words",
                          "remove.words", "words"],
        "decision": ["accept", "reject", "recode", "accept", ""],
        "final_codes": ["", "", "words|-ve feedback", "", ""],
    })
    path = write_table(table, tmp_path / "suggestions.csv")
    assert "'+44" in path.read_text(encoding="utf-8") and "'-ve feedback" in path.read_text(encoding="utf-8")
    edited = pd.read_csv(path, dtype=str, keep_default_na=False)
    edited.loc[3, "suggested"] = "change > words"  # the coder changed the readable codes of row 4
    edited.to_csv(path, index=False)
    with pytest.warns(UserWarning, match=r"read_decisions\(.*\): the 'suggested' column no longer matches "
                                         r"'suggested_ids' in 1 row \(row 4 \(doc_id '4'\)\); a coder edited it"):
        ex = read_decisions(path, codebook=cb)
    assert ex["doc_id"].tolist() == ["+44", "007", "N/A", "4"]  # the guard undone, ids kept as text
    assert ex["text"].tolist() == ["=too wordy", "Say it nicer", "N/A", "cut words"]
    assert ex["codes"].tolist() == ["change.words", "", "words|change.ve-feedback", "change.words"]
    assert ex["negative_codes"].tolist() == ["", "change.ve-feedback", "remove.words", ""]


def test_agreement_reads_ids_when_names_repeat() -> None:
    cb = Codebook.from_dict({"words": None, "change": ["words"], "remove": ["words"]})
    s = pd.DataFrame({"doc_id": ["1", "2", "3"], "suggested": ["words", "words", "words"],
                      "suggested_ids": ["change.words", "remove.words", "words"]})
    h = pd.DataFrame({"doc_id": ["1", "1", "2", "3"], "theme_id": ["change.words", "words", "change.words", "words"]})
    out = agreement(s, h, cb).set_index("theme_id")
    assert out.loc["change.words", ["n_human", "n_suggested", "n_both"]].tolist() == [2, 1, 1]
    assert out.loc["remove.words", ["n_human", "n_suggested", "n_both"]].tolist() == [0, 1, 0]
    assert out.loc["words", ["n_human", "n_suggested", "n_both"]].tolist() == [2, 1, 1]
    codes = pd.DataFrame({"doc_id": ["1", "2", "3"], "codes": ["change > words|Words", "change>words", "words"]})
    pd.testing.assert_frame_equal(agreement(s, codes, cb), agreement(s, h, cb))


def test_agreement_counts_a_parent_coded_on_its_own_as_a_code() -> None:
    cb = Codebook.from_dict({"Staff": ["Attitude", "Skill"], "Care": ["Care", "Food"], "Access": None})
    ids = [str(i) for i in range(8)]
    # doc 2: Staff with one of its sub-themes is not Staff on its own; 'Care' reads as 'Care > Care' (a leaf)
    human = ["Staff", "Staff", "Staff|Attitude", "Attitude", "Care", "Food", "Access", ""]
    sugg = ["Staff", "", "Staff", "Attitude", "Care > Care", "Food", "Access", "Staff"]
    with pytest.warns(UserWarning, match="same-named sub-theme"):
        out = agreement(pd.DataFrame({"doc_id": ids, "suggested": sugg}),
                        pd.DataFrame({"doc_id": ids, "codes": human}), cb)
    own = out[out["level"] == "itself"].set_index("theme_id")
    assert own.index.tolist() == ["staff"] and own.loc["staff", "theme_name"] == "Staff (itself)"
    # human on its own in docs 0, 1; suggested on its own in docs 0, 2, 7
    assert (own.loc["staff", "n_human"], own.loc["staff", "n_suggested"], own.loc["staff", "n_both"]) == (2, 3, 1)
    rolled = out[out["level"] == "parent"].set_index("theme_id")
    assert rolled.loc["staff", "n_human"] == 4 and rolled.loc["staff", "n_suggested"] == 4
    assert "care" not in own.index and out.set_index("theme_id").loc["care.care", "n_both"] == 1
    codes = out[out["level"].isin(("leaf", "itself"))]
    assert out.set_index("theme_id").loc["macro", "f1"] == pytest.approx(codes["f1"].mean())
    assert len(codes) == len(cb.leaves()) + 1

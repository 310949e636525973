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
    assert ex["codes"].tolist() == ["Food", "Staff attitude|Parking", "Parking", ""]
    assert ex["negative_codes"].tolist() == ["", "Food", "", "Food|Staff attitude"]
    assert ex["decision"].tolist() == ["accept", "recode", "accept", "reject"]


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
    from themeassist.mapping._models import _label_matrix

    ex = pd.DataFrame({"doc_id": ["1", "2", "3"], "text": ["a", "b", "c"],
                       "codes": ["Food", "", "Care"], "negative_codes": ["", "Parking", ""]})
    leaf_ids = [t.theme_id for t in cb.leaves()]
    Y, M = _label_matrix(ex, cb, leaf_ids)
    assert Y.tolist() == [[1, 0, 0], [0, 0, 0], [0, 0, 0]]
    # a rejection: only Parking is known; a parent-level code: its leaves are unknown
    assert M.tolist() == [[1, 1, 1], [0, 0, 1], [0, 0, 1]]
    assert np.all((Y == 1) <= (M == 1))

"""``themeassist suggest --target-recall / --auto-accept / --review-order`` on real files, with the
static model: the columns they add, what they print, and the errors when they cannot be learnt."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from themeassist.cli import main


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, pd.DataFrame]:
    from themeassist.datasets import load_iapt_demo

    tmp = tmp_path_factory.mktemp("doubt")
    demo = load_iapt_demo()
    demo.loc[3, "text"] = ""
    demo.to_csv(tmp / "demo.csv", index=False)
    demo[demo.year == "2015"][["doc_id", "text", "themes"]].to_csv(tmp / "coded.csv", index=False)
    return tmp / "demo.csv", tmp / "coded.csv", demo


def _common(tmp: Path) -> list[str]:
    return ["--codebook", "iapt", "--text-col", "text", "--id-col", "doc_id", "--model", "static",
            "--cache-dir", str(tmp / "cache"), "--quiet"]


def test_suggest_adds_recall_sets_auto_accept_and_review_order(demo_files, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, coded, demo = demo_files
    out = tmp_path / "s.csv"
    rc = main(["suggest", str(data), "--examples", str(coded), "--examples-codes-col", "themes",
               "--target-recall", "0.9", "--auto-accept", "--review-order", "--review-size", "20", "--seed", "1",
               "--out", str(out), *_common(tmp_path)])
    assert rc == 0
    printed = capsys.readouterr().out
    assert "recall sets: themes scored above" in printed and "held-out examples" in printed
    assert "auto-accept:" in printed and "review sample:" in printed
    s = pd.read_csv(out, dtype=str, keep_default_na=False)
    assert s.doc_id.tolist() == demo.doc_id.astype(str).tolist()
    assert {"recall_set", "recall_set_ids", "auto_accept", "auto_accept_ids", "review_rank",
            "selection_probability", "review_sample", "decision", "final_codes"} <= set(s.columns)
    ok = s.status == "ok"
    assert not ok.all() and (s.recall_set[~ok] == "").all() and (s.review_rank[~ok] == "").all()
    # the sets are "themes above one threshold": a set never drops a theme scored higher than one it holds
    from themeassist.codebook import load_codebook

    leaves = [t.theme_id for t in load_codebook("iapt").leaves()]
    for _, row in s[ok].head(60).iterrows():
        in_set = set(filter(None, row.recall_set_ids.split("|")))
        sc = {t: float(row[f"score:{t}"]) for t in leaves}
        if in_set:
            lowest = min(sc[t] for t in in_set)
            assert in_set == {t for t, v in sc.items() if v >= lowest}
        marked = set(filter(None, row.auto_accept_ids.split("|")))
        assert marked <= set(filter(None, row.suggested_ids.split("|")))
    assert (s.recall_set[ok] != "").mean() > 0.9
    # review order: a permutation of the scored rows that are not coded examples (2015: example_codes);
    # probabilities known, positive, summing to 20
    is_example = s.example_codes != ""
    assert is_example.sum() == ((s.year == "2015") & ok).sum() and (s.review_rank[is_example] == "").all()
    todo = ok & ~is_example
    ranks = sorted(int(r) for r in s.review_rank[todo])
    assert ranks == list(range(1, int(todo.sum()) + 1))
    pi = s.selection_probability.astype(float)
    assert (pi[todo] > 0).all() and (pi[~todo] == 0).all() and pi.sum() == pytest.approx(20.0)
    sample = s.review_sample == "True"
    m = int(sample.sum())
    assert 5 <= m <= 40 and set(s.review_rank[sample].astype(int)) == set(range(1, m + 1))
    assert f"review sample: {m} comments (review_sample; 20 expected: each comment is drawn on its own" in printed
    # the same seed gives the same queue
    again = tmp_path / "again.csv"
    assert main(["suggest", str(data), "--examples", str(coded), "--examples-codes-col", "themes", "--review-order",
                 "--review-size", "20", "--seed", "1", "--out", str(again), *_common(tmp_path)]) == 0
    a = pd.read_csv(again, dtype=str, keep_default_na=False)
    assert a.review_rank.tolist() == s.review_rank.tolist()
    assert "recall_set" not in a.columns and "auto_accept" not in a.columns


def test_doubt_flags_need_coded_examples(demo_files, tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    data, _, _ = demo_files
    rc = main(["suggest", str(data), "--target-recall", "0.9", "--out", str(tmp_path / "z.csv"), *_common(tmp_path)])
    err = capsys.readouterr().err
    assert rc == 2 and "themeassist suggest: error: --target-recall" in err and "pass --examples" in err
    assert not (tmp_path / "z.csv").exists()
    with pytest.raises(SystemExit) as exc:
        main(["suggest", str(data), "--target-recall", "1.5", "--out", str(tmp_path / "z.csv"), *_common(tmp_path)])
    assert exc.value.code == 2 and "between 0 and 1" in capsys.readouterr().err

"""The whole command-line job on a real coded survey with a hostile codebook (../shared/data).

napire2018's two effects questions answered by the same respondents (v_282, v_283) are the two
waves; their codebook is rewritten the way researchers' codebooks are: a sub-theme named as its
parent (``Product > Product``, which the coder writes as ``Product``), a name under two parents
(``Budget overrun``, written as a path), names that differ only in case under different parents
(the survey's own ``Incomplete requirements``), and a parent coded on its own (``Customer``). The
job is a researcher's: ``suggest`` with 30 % of the answers as coded examples, a coder's decisions
read back, ``audit``, the audit filled from the human codes, ``drift --audit --respondent-col``,
against ``drift --codes-col`` on every answer's human codes.
"""

from __future__ import annotations

import random
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from themeassist import load_codebook
from themeassist.cli import main
from themeassist.mapping import agreement

pytestmark = [pytest.mark.slow, pytest.mark.needs_data]


def _write_survey(data: Path, out: Path) -> tuple[pd.DataFrame, Path]:
    """Comments, examples and gold codes of the two waves, and the hostile codebook, under ``out``."""
    sheet = yaml.safe_load((data / "napire2018" / "codebook_effects.yaml").read_text(encoding="utf-8"))
    parent_of = {k: p for p, ks in sheet.items() if p != "none_codes" for k in ks}
    themes = []
    for parent, kids in sheet.items():
        if parent == "none_codes":
            continue
        children = [{"name": k} for k in kids if k != "NotCodable"]
        children += [{"name": "Product"}] if parent == "Product" else []
        children += [{"name": "Budget overrun"}] if parent == "Customer" else []
        themes.append({"name": parent, "children": children})
    cb_path = out / "codebook.yaml"
    cb_path.write_text(yaml.safe_dump({"name": "Effects", "none_codes": ["NotCodable"], "themes": themes},
                                      sort_keys=False), encoding="utf-8")
    rng = random.Random(0)

    def hostile(cell: str) -> str:
        codes = []
        for c in (x.strip() for x in cell.split("|") if x.strip()):
            if c == "Budget overrun":
                c = "Project or Organization > Budget overrun" if rng.random() < 0.6 else "Customer > Budget overrun"
            elif parent_of.get(c) == "Customer" and rng.random() < 0.5:
                c = "Customer"
            elif c == "Poor product quality":
                c = "Product"
            codes.append(c)
        return "|".join(dict.fromkeys(codes))

    r = pd.read_csv(data / "napire2018" / "responses.csv", dtype=str, keep_default_na=False)
    r = r[r["question_id"].isin(["v_282", "v_283"])].reset_index(drop=True)
    r["wave"] = r["question_id"].map({"v_282": "wave 1", "v_283": "wave 2"})
    r["codes"] = r["codes"].map(hostile)
    r["doc_id"] = [f"a{i}" for i in range(len(r))]
    r[["doc_id", "respondent_id", "wave", "text"]].to_csv(out / "comments.csv", index=False)
    r[["doc_id", "respondent_id", "wave", "text", "codes"]].to_csv(out / "gold.csv", index=False)
    r.sample(frac=0.3, random_state=0)[["doc_id", "text", "codes"]].to_csv(out / "examples.csv", index=False)
    return r, cb_path


def _read(path: Path) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _findings(changes: pd.DataFrame) -> set[tuple[str, str, bool]]:
    hit = (changes["significant"] == "True") | (changes["flag"] != "")
    return {(t, c, float(d) > 0) for t, c, d in zip(changes.theme_id[hit], changes.comparison[hit],
                                                      changes.diff_pp[hit])}


def test_suggest_audit_drift_on_a_real_two_wave_survey(shared_data: Path, tmp_path: Path) -> None:
    gold, cb_path = _write_survey(shared_data, tmp_path)
    cb = load_codebook(cb_path)
    opts = ["--codebook", str(cb_path), "--quiet", "--seed", "0"]
    suggest = ["suggest", str(tmp_path / "comments.csv"), "--text-col", "text", "--id-col", "doc_id",
               "--examples", str(tmp_path / "examples.csv"), "--examples-codes-col", "codes", *opts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 'Product' read as 'Product > Product': warned, tested elsewhere
        assert main([*suggest, "--target-recall", "0.9", "--review-order", "--out", str(tmp_path / "s.csv")]) == 0
    s = _read(tmp_path / "s.csv")
    # every input row, in input order; the coded examples carry their codes and are never drawn for review
    assert s["doc_id"].tolist() == gold["doc_id"].tolist()
    coded = s["example_codes"] != ""
    assert coded.sum() == round(0.3 * len(gold)) and (s.loc[coded, "selection_probability"].astype(float) == 0).all()
    # what the file says reads back as the themes it means, ambiguous names included
    for col, ids_col in (("suggested", "suggested_ids"), ("recall_set", "recall_set_ids")):
        assert [cb.resolve_codes(v) for v in s[col]] == [v.split("|") if v else [] for v in s[ids_col]]
    suggested = set("|".join(s["suggested_ids"]).split("|"))
    assert {"customer", "product.product"} <= suggested  # a parent on its own; the same-named sub-theme
    rest = s[~coded & (s["status"] == "ok")]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        agree = agreement(rest, gold[gold["doc_id"].isin(rest["doc_id"])], cb)
    assert "customer" in set(agree.loc[agree["level"] == "itself", "theme_id"])
    codes = agree[agree["level"].isin(("leaf", "itself")) & (agree["n_human"] >= 3)]
    assert codes["cohen_kappa"].mean() > 0.1  # 0.21 when written; a second coder: far higher
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        per_answer = [len(cb.resolve_codes(c)) for c in gold.set_index("doc_id").loc[rest["doc_id"], "codes"]]
    ratio = rest["suggested_ids"].map(lambda v: len(v.split("|")) if v else 0).mean() / np.mean(per_answer)
    assert 0.75 <= ratio <= 1.33

    # a coder decides 20 answers (recode to the human codes); the refit counts them as coded
    truth = dict(zip(gold["doc_id"], gold["codes"]))
    decided = s[~coded & (s["status"] == "ok")].head(20).copy()
    decided["decision"] = "recode"
    decided["final_codes"] = [truth[d] or "NotCodable" for d in decided["doc_id"]]
    decided.to_csv(tmp_path / "decided.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main([*suggest, "--decisions", str(tmp_path / "decided.csv"), "--out", str(tmp_path / "s2.csv")]) == 0
    s2 = _read(tmp_path / "s2.csv").set_index("doc_id")
    for d in decided["doc_id"]:  # 'none': coded, no theme applies
        assert sorted(s2.loc[d, "example_codes"].split("|")) == sorted(cb.resolve_codes(truth[d]) or ["none"])

    # an audit of 40 per wave, never a coded comment; the coder leaves three rows blank
    assert main(["audit", str(tmp_path / "s2.csv"), "--period-col", "wave", "--per-period", "40", "--seed", "0",
                 "--quiet", "--out", str(tmp_path / "audit.csv")]) == 0
    a = _read(tmp_path / "audit.csv")
    assert a.groupby("wave").size().tolist() == [40, 40]
    assert not (s2.loc[a["doc_id"], "example_codes"] != "").any()
    a["codes"] = [truth[d] or "none" for d in a["doc_id"]]
    a.loc[a.index[:3], "codes"] = ""
    a.to_csv(tmp_path / "audit.csv", index=False)
    drift = ["--period-col", "wave", "--respondent-col", "respondent_id", *opts]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["drift", str(tmp_path / "s2.csv"), "--audit", str(tmp_path / "audit.csv"), *drift,
                     "--out", str(tmp_path / "d")]) == 0
        assert main(["drift", str(tmp_path / "gold.csv"), "--codes-col", "codes", *drift,
                     "--out", str(tmp_path / "human")]) == 0
    summary = (tmp_path / "d" / "summary.txt").read_text(encoding="utf-8")
    assert "77 comments checked" in summary
    est, human = _read(tmp_path / "d" / "prevalence.csv"), _read(tmp_path / "human" / "prevalence.csv")
    assert set(est["source"]) == {"pacc"} and len(est) == len(human) == 2 * len(cb.themes)
    both = est.merge(human, on=["period", "theme_id"], suffixes=("", "_human"))
    lo, hi, truth_p = (both[c].astype(float) for c in ("ci_low", "ci_high", "prevalence_human"))
    assert ((lo <= truth_p + 1e-9) & (truth_p <= hi + 1e-9)).mean() >= 0.85  # 0.94 when written
    assert (lo >= 0).all() and (hi <= 1).all()
    # parents are rolled up consistently: never below a child, in either wave
    by = est.set_index(["period", "theme_id"])["prevalence"].astype(float)
    for t in cb.themes:
        if t.parent_id:
            for period in ("wave 1", "wave 2"):
                assert by[(period, t.parent_id)] >= by[(period, t.theme_id)] - 1e-12
    # findings: what the estimates report is among the human codes' findings (13 of 31, 0 false, when written)
    found, real = _findings(_read(tmp_path / "d" / "changes.csv")), _findings(_read(tmp_path / "human" / "changes.csv"))
    assert len(found & real) >= 5 and len(found - real) <= 2

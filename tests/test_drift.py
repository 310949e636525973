"""Tests for themeassist.drift (values worked out by hand); audit-corrected estimates: test_audit.py."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests

from themeassist.codebook import Codebook
from themeassist.drift import (
    PREVALENCE_COLUMNS,
    changes,
    content_shift,
    estimate_prevalence,
    prevalence,
    summarise_changes,
    wilson_interval,
)
from themeassist.exceptions import ThemeassistError
from themeassist.workflows import run_drift

Z = 1.959963984540054


@pytest.fixture
def cb() -> Codebook:
    return Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": None})


# ---- Wilson -------------------------------------------------------------------------------------
def test_wilson_matches_hand_computation():
    # k=3, n=10: centre = (0.3 + z^2/20) / (1 + z^2/10), half = z sqrt(0.021 + z^2/400) / (1 + z^2/10)
    den = 1 + Z**2 / 10
    centre, half = (0.3 + Z**2 / 20) / den, Z * math.sqrt(0.021 + Z**2 / 400) / den
    lo, hi = wilson_interval(3, 10)
    assert lo == pytest.approx(centre - half, abs=1e-12) and lo == pytest.approx(0.10779, abs=1e-5)
    assert hi == pytest.approx(centre + half, abs=1e-12) and hi == pytest.approx(0.60322, abs=1e-5)
    # k=0: [0, z^2 / (n + z^2)]
    lo, hi = wilson_interval(0, 20)
    assert lo == 0 and hi == pytest.approx(Z**2 / (20 + Z**2))
    lo, hi = wilson_interval(np.array([5, 0]), np.array([5, 0]))
    assert hi[0] == 1.0 and np.isnan(lo[1])


# ---- prevalence ---------------------------------------------------------------------------------
def test_rollup_counts_a_comment_once_for_its_parent(cb):
    t = prevalence(["Attitude|Competence", "Staff", "Access", ""], codebook=cb)
    got = t.set_index("theme")
    assert list(t.columns) == [c for c in PREVALENCE_COLUMNS if c != "group"]
    assert got.loc["Staff", "n_theme"] == 2  # comment 1 (two children, counted once) + comment 2 (parent itself)
    assert got.loc["Attitude", "n_theme"] == 1 and got.loc["Competence", "n_theme"] == 1
    assert got.loc["Staff", "prevalence"] == 0.5 and (got["n_comments"] == 4).all()
    assert got.loc["Attitude", "parent"] == "Staff" and got.loc["Staff", "parent"] == ""
    assert got.loc["Attitude", "depth"] == 1 and bool(got.loc["Access", "is_leaf"])
    lo, hi = wilson_interval(2, 4)
    assert got.loc["Staff", "ci_low"] == pytest.approx(lo) and got.loc["Staff", "ci_high"] == pytest.approx(hi)
    assert (t.method == "human").all() and (t.period == "all").all()


def test_none_is_a_comment_coded_with_no_theme(cb):
    # with a codebook and without one: 'none' (any case) counts the comment, names no theme
    for book in (cb, None):
        t = prevalence(["Attitude", "None", "none of these", "Access|Attitude"], codebook=book).set_index("theme")
        assert "None" not in t.index and "none" not in t.index and (t["n_comments"] == 4).all()
        assert t.loc["Attitude", "n_theme"] == 2 and t.loc["Access", "n_theme"] == 1


def test_periods_in_order_status_and_respondents(cb):
    codes = ["Attitude", "Attitude", "Access", "", "Attitude", "Competence"]
    period = ["2021", "2021", "2020", "2020", "2020", "2021"]
    status = ["ok", "ok", "ok", "non_answer", "truncated", "ok"]
    resp = ["r1", "r1", "r2", "r3", "r4", "r5"]
    t = prevalence(codes, period=period, codebook=cb, status=status, respondent=resp)
    assert list(pd.unique(t.period)) == ["2020", "2021"]
    a20 = t[(t.period == "2020") & (t.theme == "Attitude")].iloc[0]
    assert (a20.n_comments, a20.n_excluded, a20.n_theme, a20.prevalence) == (2, 1, 1, 0.5)
    a21 = t[(t.period == "2021") & (t.theme == "Attitude")].iloc[0]
    assert (a21.n_comments, a21.n_theme, a21.n_respondents, a21.n_theme_respondents) == (3, 2, 2, 1)
    assert a21.respondent_prevalence == 0.5


@pytest.mark.parametrize("labels", [("9", "10"), ("Wave 9", "Wave 10"), ("2014-Q9", "2014-Q10")])
def test_numbered_periods_keep_their_number_order(cb, tmp_path, labels):
    # 'Access' is in none of the first wave's comments and in a third of the second's: it appears
    early, late = labels
    n = 60
    first, second = ["Attitude"] * n, ["Access" if i % 3 == 0 else "Attitude" for i in range(n)]
    t = prevalence(first + second, period=[early] * n + [late] * n, codebook=cb)
    assert list(pd.unique(t.period)) == [early, late]
    ch = changes(t)
    flagged = ch[(ch.theme == "Access") & ch.flag.fillna("").astype(bool)]
    assert flagged[["from_level", "to_level", "flag"]].values.tolist() == [[early, late, "appears"]]
    # the same through the command line, with the later wave first in the file
    from themeassist.cli import main

    path = tmp_path / "coded.csv"
    pd.DataFrame({"wave": [late] * n + [early] * n, "codes": second + first}).to_csv(path, index=False)
    cb_path = tmp_path / "cb.yaml"
    cb_path.write_text("Staff:\n  - Attitude\n  - Competence\nAccess: null\n")
    main(["drift", str(path), "--period-col", "wave", "--codes-col", "codes", "--codebook", str(cb_path),
          "--out", str(tmp_path / "run"), "--quiet"])
    prev = pd.read_csv(tmp_path / "run" / "prevalence.csv", dtype={"period": str})
    assert list(pd.unique(prev.period)) == [early, late]
    out = pd.read_csv(tmp_path / "run" / "changes.csv", dtype=str, keep_default_na=False)
    assert out[(out.theme == "Access") & (out.flag != "")][["from_level", "to_level", "flag"]].values.tolist() == \
        [[early, late, "appears"]]


def test_groups_by_period_and_group(cb):
    codes = ["Access", "", "Access", "Access", "", ""]
    t = prevalence(codes, period=[1, 1, 1, 2, 2, 2], group=["a", "b", "b", "a", "a", "b"], codebook=cb)
    acc = t[t.theme == "Access"].set_index(["period", "group"])
    assert acc.loc[(1, "b"), "n_comments"] == 2 and acc.loc[(1, "b"), "n_theme"] == 1
    assert acc.loc[(2, "a"), "prevalence"] == 0.5 and acc.loc[(2, "b"), "prevalence"] == 0
    g = prevalence(codes, group=["a", "b", "b", "a", "a", "b"], codebook=cb)
    assert g[g.theme == "Access"].set_index("group")["n_theme"].to_dict() == {"a": 2, "b": 1}


def test_wide_codes_scores_and_suggestions(cb):
    wide = pd.DataFrame({"Attitude": [1, 0, 0, 1], "Competence": [1, 1, 0, 0], "Access": [0, 0, 1, 0]})
    t = prevalence(wide, codebook=cb).set_index("theme")
    assert t.loc["Staff", "n_theme"] == 3 and t.loc["Attitude", "n_theme"] == 2
    scores = pd.DataFrame({"Attitude": [0.9, 0.2], "Competence": [0.5, 0.0], "Access": [0.1, 0.6]})
    p = prevalence(scores, codebook=cb, n_boot=50).set_index("theme")
    assert p.loc["Attitude", "prevalence"] == pytest.approx(0.55) and p.loc["Attitude", "method"] == "prob_average"
    assert p.loc["Staff", "prevalence"] == pytest.approx(((1 - 0.1 * 0.5) + (1 - 0.8 * 1.0)) / 2)  # noisy-OR roll-up
    assert (p.ci_low <= p.prevalence).all() and (p.prevalence <= p.ci_high).all()
    c = prevalence(scores, codebook=cb, method="classify_count").set_index("theme")
    assert c.loc["Competence", "n_theme"] == 1 and c.loc["Access", "n_theme"] == 1
    sug = pd.DataFrame({"doc_id": ["d1", "d2", "d3"], "status": ["ok", "ok", "non_answer"],
                        "suggested": ["Attitude|Access", "Access", ""], "scores": ["0.8|0.6", "0.7", ""]})
    s = prevalence(sug, codebook=cb, method="classify_count").set_index("theme")
    assert s.loc["Access", "n_theme"] == 2 and s.loc["Access", "n_comments"] == 2 and s.loc["Access", "n_excluded"] == 1
    s2 = prevalence(sug, codebook=cb, method="prob_average", n_boot=20).set_index("theme")
    assert s2.loc["Access", "prevalence"] == pytest.approx(0.65) and s2.loc["Attitude", "prevalence"] == pytest.approx(0.4)
    # left to choose, a suggestions table is the machine's codes: counted, labelled so and warned, never "human"
    with pytest.warns(UserWarning, match=r"suggestions are counted as codes \(method 'classify_count'\), NOT corrected"):
        a = prevalence(sug, codebook=cb).set_index("theme")
    assert (a.method == "classify_count").all() and a.loc["Access", "n_theme"] == 2
    human = prevalence(["Attitude|Access", "Access"], codebook=cb)
    assert (human.method == "human").all()


def test_errors_say_what_and_where(cb):
    with pytest.raises(ThemeassistError, match="period has 2 values but there are 3 comments"):
        prevalence(["Access", "", ""], period=[1, 2], codebook=cb)
    with pytest.raises(ThemeassistError, match="the comment in row 2 is coded 'Nope'"):
        prevalence(["Access", "Nope"], codebook=cb)
    # several wrong codes: every row in one message, so one run shows all there is to fix
    with pytest.raises(ThemeassistError, match=r"3 codes could not be read: row 1: .*'Acess'.* \| row 2: .*'Nope'"
                                               r".* \| row 3: .*'Atitude'"):
        prevalence(["Acess", "Nope", "Access|Atitude"], codebook=cb)
    with pytest.raises(ValueError, match="'method' parameter of prevalence"):
        prevalence(["Access"], method="magic")
    with pytest.raises(ThemeassistError, match="needs audit="):
        prevalence(pd.DataFrame({"a": [0.2, 0.4]}), method="pacc")


# ---- changes ------------------------------------------------------------------------------------
def _counts_table(counts: list[int], n: int = 100, theme: str = "a") -> pd.DataFrame:
    codes, period = [], []
    for t, k in enumerate(counts):
        codes += [theme] * k + [""] * (n - k)
        period += [2014 + t] * n
    return prevalence(codes, period=period)


def test_trend_and_pair_tests_by_hand():
    ch = changes(_counts_table([10, 20, 30]))
    trend = ch[ch.comparison == "trend"].iloc[0]
    # Cochran-Armitage: T = sum x (k - n pbar) = 20, Var = pbar(1-pbar)(sum n x^2 - (sum n x)^2 / N) = 0.16 * 200
    assert trend.test == "cochran_armitage" and trend.statistic == pytest.approx(20 / math.sqrt(32))
    assert trend.p_value == pytest.approx(2 * stats.norm.sf(20 / math.sqrt(32)))
    assert trend.slope_pp == pytest.approx(10.0) and trend.diff_pp == pytest.approx(20.0)
    pair = ch[ch.comparison == "pair"].iloc[1]  # 20/100 -> 30/100, pooled 0.25
    assert pair.test == "two_proportion_z"
    assert pair.statistic == pytest.approx(0.1 / math.sqrt(0.25 * 0.75 * 0.02))
    assert pair.risk_ratio == pytest.approx(1.5)
    assert pair.cohens_h == pytest.approx(2 * math.asin(math.sqrt(0.3)) - 2 * math.asin(math.sqrt(0.2)))
    small = changes(_counts_table([1, 5], n=20))
    row = small[small.comparison == "pair"].iloc[0]
    assert row.test == "fisher_exact" and row.p_value == pytest.approx(stats.fisher_exact([[1, 19], [5, 15]])[1])


def test_flags_need_minimum_evidence():
    ch = changes(_counts_table([10, 0, 10, 0, 0]))
    flags = ch[ch.comparison == "pair"].flag.tolist()
    assert flags == ["vanishes", "returns", "vanishes", ""]
    # a single stray comment does not make a theme present (or absent)
    assert (changes(_counts_table([0, 1, 0, 0]))["flag"] == "").all()
    assert changes(_counts_table([10, 1, 10])).query("comparison == 'pair'").flag.tolist() == ["", ""]
    # appears only once there is enough evidence
    assert changes(_counts_table([0, 0, 8, 9])).query("comparison == 'pair'").flag.tolist() == ["", "appears", ""]
    states = changes(_counts_table([0, 1, 8])).query("comparison == 'pair'")
    assert states.state_from.tolist() == ["absent", "unclear"] and states.state_to.tolist()[-1] == "present"


def test_multiple_testing_correction_across_themes():
    rng = np.random.default_rng(3)
    codes, period = [], []
    for t in range(3):
        for _ in range(200):
            codes.append("|".join(th for th, p in (("a", 0.1 + 0.05 * t), ("b", 0.2), ("c", 0.3 - 0.05 * t))
                                  if rng.random() < p))
            period.append(t)
    ch = changes(prevalence(codes, period=period), correction="holm")
    tr = ch[ch.comparison == "trend"]
    assert len(tr) == 3
    assert tr.p_adjusted.to_numpy() == pytest.approx(multipletests(tr.p_value, method="holm")[1])
    pairs = ch[ch.comparison == "pair"]
    assert pairs.p_adjusted.to_numpy() == pytest.approx(multipletests(pairs.p_value, method="holm")[1])
    assert (ch.p_adjusted >= ch.p_value - 1e-15).all()
    assert (ch.significant == (ch.p_adjusted < 0.05)).all()
    bh = changes(prevalence(codes, period=period))
    assert bh[bh.comparison == "trend"].p_adjusted.to_numpy() == pytest.approx(
        multipletests(tr.p_value, method="fdr_bh")[1])


def test_group_comparisons():
    codes = ["a"] * 30 + [""] * 70 + ["a"] * 10 + [""] * 90
    grp = ["x"] * 100 + ["y"] * 100
    ch = changes(prevalence(codes, group=grp))
    overall = ch[ch.comparison == "overall"].iloc[0]
    chi = stats.chi2_contingency([[30, 70], [10, 90]], correction=False)
    assert overall.test == "chi_square" and overall.statistic == pytest.approx(chi[0])
    vs = ch[ch.comparison == "group_vs_rest"].set_index("to_level")
    assert vs.loc["x", "diff_pp"] == pytest.approx(20.0) and vs.loc["y", "diff_pp"] == pytest.approx(-20.0)


def test_group_comparisons_of_a_theme_every_comment_has():
    # every comment of both groups carries "a": the chi-square table has an empty column
    ch = changes(prevalence(["a"] * 3 + ["a|b"] * 2 + ["a"] * 2, group=["x"] * 3 + ["y"] * 4), min_count=1)
    overall = ch[(ch.comparison == "overall") & (ch.theme == "a")].iloc[0]
    assert (overall.test, overall.statistic, overall.p_value) == ("chi_square", 0.0, 1.0)
    b = ch[(ch.comparison == "overall") & (ch.theme == "b")].iloc[0]  # b: 0 of 3 against 2 of 4
    assert b.p_value == pytest.approx(stats.chi2_contingency([[0, 3], [2, 2]], correction=False)[1])


def test_model_based_changes_use_wald_tests():
    rng = np.random.default_rng(4)
    s = np.concatenate([rng.beta(1, 9, 400), rng.beta(3, 7, 400)])
    t = prevalence(pd.DataFrame({"a": s}), period=[1] * 400 + [2] * 400, n_boot=200)
    ch = changes(t)
    assert set(ch.test) == {"wls_z", "wald_z"} and ch.significant.all()


def test_summary_mentions_significant_changes_and_flags():
    text = summarise_changes(changes(_counts_table([10, 0, 30])))
    assert "Flags" in text and "a: vanishes in 2015, returns in 2016." in text
    assert "Significant changes between consecutive periods" in text
    flat = summarise_changes(changes(_counts_table([10, 10, 10])))
    assert flat.startswith("No significant change")


def test_content_shift_by_hand():
    e = np.array([[1, 0], [1, 0], [1, 1], [1, 1]], dtype=float)
    cs = content_shift(e, ["a", "a", "a", "a|b"], [1, 1, 2, 2], min_n=1)
    a = cs[cs.theme == "a"].iloc[0]
    assert a.cosine_distance == pytest.approx(1 - 1 / math.sqrt(2)) and (a.n_from, a.n_to) == (2, 2)
    assert np.isnan(cs[cs.theme == "b"].cosine_distance.iloc[0])


# ---- run_drift ----------------------------------------------------------------------------------
def test_run_drift_writes_tables_summary_and_figures(tmp_path, cb):
    df = pd.DataFrame({"year": [2020] * 40 + [2021] * 40,
                       "codes": ["Attitude"] * 12 + [""] * 28 + ["Access"] * 10 + [""] * 30,
                       "job": ["nurse", "doctor"] * 40})
    src = tmp_path / "coded.csv"
    df.to_csv(src, index=False)
    res = run_drift(src, period_col="year", codes_col="codes", codebook=cb, group_col="job", out_dir=tmp_path / "out",
                    formats=("png",))
    names = sorted(p.relative_to(tmp_path / "out").as_posix() for p in res.files)
    assert names == ["changes.csv", "figures/heatmap.png", "figures/prevalence.png",
                     "figures/prevalence_interactive.html", "group_changes.csv", "group_prevalence.csv",
                     "manifest.json", "prevalence.csv", "summary.txt"]
    from themeassist.io.run_folder import read_manifest

    manifest = read_manifest(tmp_path / "out", kind="drift")  # every file listed matches its checksum
    assert sorted(manifest["files"]) == [n for n in names if n != "manifest.json"]
    assert manifest["params"]["period_col"] == "year" and manifest["n_rows"] == 80
    page = (tmp_path / "out" / "figures" / "prevalence_interactive.html").read_text(encoding="utf-8")
    assert not re.search(r"<script[^>]*\bsrc=", page) and "Plotly.newPlot" in page
    assert '"name":"Attitude"' in page and '"y":[30.0,0.0]' in page  # 12/40 comments, then none
    prev = pd.read_csv(tmp_path / "out" / "prevalence.csv")
    for col in ("period", "theme", "parent", "n_comments", "n_theme", "prevalence", "ci_low", "ci_high", "method"):
        assert col in prev.columns
    att = prev[(prev.theme == "Attitude")].set_index("period")
    assert att.loc[2020, "n_theme"] == 12 and att.loc[2021, "n_theme"] == 0
    assert "Attitude: vanishes in 2021" in (tmp_path / "out" / "summary.txt").read_text(encoding="utf-8")
    assert res.to_frame() is res.prevalence


def test_run_drift_on_a_suggestions_file(tmp_path, cb):
    sug = pd.DataFrame({"doc_id": [f"d{i}" for i in range(6)], "period": ["Q1"] * 3 + ["Q2"] * 3,
                        "status": ["ok"] * 5 + ["empty"], "suggested": ["Access", "Attitude|Access", "", "Access", "",
                                                                        ""],
                        "scores": ["0.9", "0.7|0.6", "", "0.8", "", ""]})
    with pytest.warns(UserWarning, match="NOT ERROR-CORRECTED"):
        res = run_drift(sug, period_col="period", codebook=cb, out_dir=tmp_path, figures=False)
    acc = res.prevalence[res.prevalence.theme == "Access"].set_index("period")
    assert (res.prevalence.method == "classify_count").all() and (res.prevalence.source == "suggested").all()
    assert acc.loc["Q1", "n_theme"] == 2 and acc.loc["Q2", "n_comments"] == 2 and acc.loc["Q2", "n_excluded"] == 1
    with pytest.raises(ThemeassistError, match="column 'yaer' not found.*period_col='year'"):
        run_drift(pd.DataFrame({"year": [1], "codes": ["a"]}), period_col="yaer", codes_col="codes", out_dir=tmp_path)


def test_run_drift_reads_dates_into_quarters(tmp_path):
    df = pd.DataFrame({"Date": ["30/09/2021", "01/10/2021", "15/12/2021", "03/01/2022"],
                       "suggested": ["a", "a|b", "", "b"], "scores": ["0.9", "0.8|0.6", "", "0.7"]})
    with pytest.warns(UserWarning, match="NOT ERROR-CORRECTED"):
        res = run_drift(df, period_col="Date", codes_col="suggested", period_freq="Q", out_dir=tmp_path,
                        figures=False)
    a = res.prevalence[res.prevalence.theme == "a"].set_index("period")
    assert list(a.index) == ["2021Q3", "2021Q4", "2022Q1"] and a.n_comments.tolist() == [1, 2, 1]
    assert a.n_theme.tolist() == [1, 1, 0]


# ---- candidate codes per period -----------------------------------------------------------------
def _planted_assignments():
    """4 periods x 50 substantive rows: code 0 everywhere; code 1 only from period 3; code 2 with one
    stray comment in period 1, none in 2, then 8 per period; code 3 with 2 comments in periods 1 and 2
    (never clearly absent) then 8; 5 outliers per period; plus 3 empty rows and 2 rows without a period."""
    ids, per = [], []
    for p in (1, 2, 3, 4):
        cell = [0] * 15 + [-1] * 5
        cell += [1] * (10 if p >= 3 else 0) + [2] * {1: 1, 2: 0}.get(p, 8) + [3] * (2 if p <= 2 else 8)
        cell += [0] * (50 - len(cell))
        ids += cell
        per += [p] * 50
    asg = pd.DataFrame({"doc_id": [f"d{i}" for i in range(len(ids))], "status": "ok",
                        "candidate_id": pd.array(ids, dtype="Int64")})
    extra = pd.DataFrame({"doc_id": ["e1", "e2", "e3", "n1", "n2"], "status": ["empty"] * 3 + ["ok"] * 2,
                          "candidate_id": pd.array([None, None, None, 0, 1], dtype="Int64")})
    return pd.concat([asg, extra], ignore_index=True), per + [1, 2, 2, None, ""]


def test_candidate_periods_flags_codes_new_in_a_period():
    from themeassist.drift import candidate_periods

    asg, per = _planted_assignments()
    cands = pd.DataFrame({"candidate_id": [-1, 0, 1, 2, 3], "label": ["(outliers)", "zero", "one", "two", "three"],
                          "keywords": ["", "a|b", "c|d", "e", "f"]})
    with pytest.warns(UserWarning, match="2 rows have no period \\(rows 204, 205\\)"):
        t = candidate_periods(asg, per, candidates=cands)
    assert t.candidate_id.tolist() == [c for c in (0, 1, 2, 3) for _ in range(4)]  # no row for the outliers
    one = t[t.candidate_id == 1].set_index("period")
    assert one.n_code.tolist() == [0, 0, 10, 10] and one.state.tolist() == ["absent", "absent", "present", "present"]
    assert one.label.iloc[0] == "one" and one.keywords.iloc[0] == "c|d"
    # n_comments: the 50 substantive rows of the period, outliers included; empty rows in n_excluded
    assert one.n_comments.tolist() == [50] * 4 and one.n_excluded.tolist() == [1, 2, 0, 0]
    assert one.loc[3, "share"] == pytest.approx(0.2)
    lo, hi = wilson_interval(10, 50)
    assert (one.loc[3, "ci_low"], one.loc[3, "ci_high"]) == pytest.approx((float(lo), float(hi)))
    # a stray comment in period 1 is not presence: 'unclear', then absent, then new in period 3
    two = t[t.candidate_id == 2].set_index("period")
    assert two.state.tolist() == ["unclear", "absent", "present", "present"]
    # the code present from period 1 and the one only 'unclear' before (never clearly absent) are not new
    new = t[t.new_in_period]
    assert new[["candidate_id", "period", "n_code"]].values.tolist() == [[1, 3, 10], [2, 3, 8]]
    assert (new.flag == "appears").all() and set(new.first_present) == {3}
    three = t[t.candidate_id == 3]
    assert three.state.tolist() == ["unclear", "unclear", "present", "present"]
    assert not three.new_in_period.any() and three.first_present.iloc[0] == 3 and pd.isna(three.new_period.iloc[0])
    assert t[t.candidate_id == 0].first_present.iloc[0] == 1 and not t[t.candidate_id == 0].new_in_period.any()
    # every input row accounted for
    a = t.attrs
    assert (a["n_rows"], a["n_no_period"], a["n_excluded"], a["n_outliers"]) == (205, 2, 3, 20)
    assert a["n_no_period"] + a["n_excluded"] + a["n_outliers"] + a["n_assigned"] == a["n_rows"]
    assert a["n_assigned"] == int(t.n_code.sum())


def test_candidate_periods_small_period_is_no_evidence_of_absence():
    """0 of 5 comments is no sign that a 2 % code was absent (unclear, so the code is not new when it
    later reaches 'present'); 0 of 400 is (absent, so it appears)."""
    from themeassist.drift import candidate_periods

    sizes, counts = [5, 400, 400, 400], {0: [0, 8, 10, 12], 1: [0, 0, 30, 30]}
    cid, per = [], []
    for p, n in enumerate(sizes):
        k0, k1 = counts[0][p], counts[1][p]
        cid += [0] * k0 + [1] * k1 + [2] * (n - k0 - k1)
        per += [f"Q{p + 1}"] * n
    asg = pd.DataFrame({"candidate_id": pd.array(cid, dtype="Int64"), "status": ["ok"] * len(cid)})
    t = candidate_periods(asg, per, min_prev=0.0)
    rare = t[t.candidate_id == 0]
    assert rare.state.tolist() == ["unclear", "present", "present", "present"] and not rare.new_in_period.any()
    planted = t[t.candidate_id == 1]
    assert planted.state.tolist() == ["unclear", "absent", "present", "present"]
    assert planted.loc[planted.new_in_period, "period"].tolist() == ["Q3"]


def test_candidate_periods_rule_and_errors():
    from themeassist.drift import candidate_periods

    asg, per = _planted_assignments()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        # a stricter rule: 10 comments of 50 are not enough for min_count=12, so code 1 is never present
        strict = candidate_periods(asg, per, min_count=12)
        # the same periods given as a column name
        by_col = candidate_periods(asg.assign(wave=per), "wave")
    assert not strict.loc[strict.candidate_id == 1, "new_in_period"].any()
    assert by_col[by_col.new_in_period].candidate_id.tolist() == [1, 2]
    with pytest.raises(ThemeassistError, match="period has 3 values but assignments has 205 rows"):
        candidate_periods(asg, [1, 2, 3])
    with pytest.raises(ThemeassistError, match="lacks the column 'candidate_id'.*'doc_id', 'status'"):
        candidate_periods(asg.drop(columns="candidate_id"), per)
    with pytest.raises(ThemeassistError, match="period column 'year' not found"):
        candidate_periods(asg, "year")


def test_run_drift_into_a_relative_folder_lists_its_files_in_the_manifest(tmp_path, monkeypatch, cb):
    monkeypatch.chdir(tmp_path)
    df = pd.DataFrame({"year": [2020] * 10 + [2021] * 10, "codes": ["Attitude", ""] * 10})
    res = run_drift(df, period_col="year", codes_col="codes", codebook=cb, out_dir="rel", figures=False)
    from themeassist.io.run_folder import read_manifest

    manifest = read_manifest("rel", kind="drift")
    assert sorted(manifest["files"]) == ["changes.csv", "prevalence.csv", "summary.txt"]
    assert all(not p.is_absolute() and p.parts[0] == "rel" for p in res.files)


def test_summary_of_a_trend_the_end_periods_contradict_says_which_is_which():
    # two small end periods against two large middle ones: the fitted trend rises, the ends fall
    def block(n, k):
        return ["a"] * k + [""] * (n - k)

    codes = block(20, 10) + block(1000, 100) + block(1000, 300) + block(20, 1)
    text = summarise_changes(changes(prevalence(codes, period=[1] * 20 + [2] * 1000 + [3] * 1000 + [4] * 20)))
    assert "- a: rises by 14.7 points per period over 1–4 (fitted trend; the end periods: 50.0% and 5.0%;" in text
    assert "rises from" not in text and "falls from" not in text


def test_summary_names_a_shared_name_with_its_parent():
    # "Other" under two parents and "Care" both a parent and its child: every line names one theme
    cb = Codebook.from_dict({"Care": ["Care", "Other"], "Staff": ["Attitude", "Other"]})
    codes = ["Care > Care"] * 30 + ["Staff > Other"] * 5 + ["Care > Other"] * 20 + [""] * 45 + \
        ["Care > Other"] * 2 + [""] * 98
    text = summarise_changes(changes(prevalence(codes, period=[1] * 100 + [2] * 100, codebook=cb)))
    lines = text.splitlines()
    assert "- Care: falls from 50.0% (1) to 2.0% (2)" in text  # the parent, by its own name
    assert "- Care > Care: falls from 30.0% (1) to 0.0% (2)" in text
    assert "- Care > Other: falls from 20.0% (1)" in text and "- Staff > Other: vanishes in 2." in lines
    assert not any(line.startswith("- Other") for line in lines)
    # a name no other theme shares stays as it is
    assert "- Staff: vanishes in 2." in lines

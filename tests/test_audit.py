"""Tests for audit samples and audit-corrected prevalence (themeassist.drift.audit / quantification)."""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from themeassist.cli import main
from themeassist.codebook import Codebook
from themeassist.drift import (
    audit_estimate,
    audit_labels,
    audit_prevalence,
    audit_size,
    changes,
    draw_audit,
    estimate_prevalence,
    prevalence,
    wilson_interval,
)
from themeassist.exceptions import CodebookError, CorpusError, ThemeassistError
from themeassist.workflows import run_drift

Z = 1.959963984540054


@pytest.fixture
def cb() -> Codebook:
    return Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": None})


def _suggestions(n_per: int = 200, years=(2020, 2021, 2022), access=(0.1, 0.1, 0.3), seed: int = 0):
    """A suggestions table with score:<theme_id> columns and the true codes beside it."""
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for y, pa in zip(years, access):
        for i in range(n_per):
            labs = [t for t, p in (("staff.attitude", 0.15), ("staff.competence", 0.05), ("access", pa))
                    if rng.random() < p]
            sc = {t: float(np.clip((0.7 if t in labs else 0.1) + rng.normal(0, 0.15), 0, 1))
                  for t in ("staff.attitude", "staff.competence", "access")}
            rows.append({"doc_id": f"c{len(rows)}", "status": "ok", "text": f"comment {len(rows)}", "year": y,
                         "resp": f"r{len(rows) % 150}", "suggested_ids": "|".join(t for t, v in sc.items() if v >= .5),
                         **{f"score:{t}": v for t, v in sc.items()}})
            truth.append("|".join(labs) or "none")
    df = pd.DataFrame(rows)
    df["suggested"] = df["suggested_ids"]
    return df, truth


# ---- the audit sample ---------------------------------------------------------------------------
def test_draw_audit_refuses_a_period_it_cannot_draw_from_naming_those_it_can():
    df, _ = _suggestions(n_per=20)
    with pytest.raises(CorpusError, match=r"period\(s\) '2019'; the periods with comments to draw are '2020', '2021', "
                                          r"'2022'.*--periods"):
        draw_audit(df, period_col="year", per_period=5, periods=["2019", "2021"])
    assert set(draw_audit(df, period_col="year", per_period=5, periods=["2021"]).year) == {2021}


def test_draw_audit_is_stratified_reproducible_and_records_probabilities():
    df, _ = _suggestions(n_per=50)
    df.loc[[0, 1, 2], "status"] = "empty"  # never drawn
    a = draw_audit(df, period_col="year", per_period=10, seed=4)
    assert list(a.columns) == ["doc_id", "year", "text", "inclusion_probability", "codes"]
    assert a.groupby("year").size().tolist() == [10, 10, 10]
    assert a.groupby("year").inclusion_probability.first().tolist() == pytest.approx([10 / 47, 10 / 50, 10 / 50])
    assert not set(a.doc_id) & {"c0", "c1", "c2"} and a.doc_id.is_unique and (a.codes == "").all()
    assert a.equals(draw_audit(df, period_col="year", per_period=10, seed=4))
    assert not a.doc_id.equals(draw_audit(df, period_col="year", per_period=10, seed=5).doc_id)
    small = draw_audit(df, period_col="year", per_period=80, periods=["2021"])
    assert len(small) == 50 and (small.inclusion_probability == 1).all() and (small.year == 2021).all()
    with pytest.raises(CorpusError, match="per_period must be a whole number"):
        draw_audit(df, period_col="year", per_period=0)
    with pytest.raises(CorpusError, match="period column 'yaer' not found.*--period-col year") as err:
        draw_audit(df, period_col="yaer", per_period=3)
    assert "'suggested' and 3 score:<theme_id> columns)" in str(err.value)  # counted, not listed


def test_draw_audit_reads_dates_into_the_same_periods_as_load_corpus():
    from themeassist.corpus import load_corpus

    dates = ["30/09/2021", "01/10/2021", "15/12/2021", "03/01/2022", "28/02/2022", "13/05/2022"] * 5
    df = pd.DataFrame({"doc_id": [f"d{i}" for i in range(30)], "text": [f"t {i}" for i in range(30)], "Date": dates})
    a = draw_audit(df, period_col="Date", per_period=2, period_freq="Q")
    corpus = load_corpus(df, text_col="text", id_col="doc_id", period_col="Date", period_freq="Q")
    assert sorted(set(a.attrs["periods"])) == sorted(set(corpus["period"])) == ["2021Q3", "2021Q4", "2022Q1", "2022Q2"]
    lookup = dict(zip(corpus.doc_id, corpus.period))
    assert [lookup[d] for d in a.doc_id] == a.attrs["periods"]


def test_audit_labels_blank_none_names_paths_ids(cb):
    ids = ["staff", "staff.attitude", "staff.competence", "access"]
    y, chk = audit_labels(["Attitude", "none", "", None, "Staff > Competence|access", "Staff", " NONE "], cb, ids)
    assert chk.tolist() == [True, True, False, False, True, True, True]
    assert y[0].tolist() == [1, 1, 0, 0] and y[1].tolist() == [0, 0, 0, 0] and np.isnan(y[2]).all()
    assert y[4].tolist() == [1, 0, 1, 1] and y[5].tolist() == [1, 0, 0, 0] and y[6].tolist() == [0, 0, 0, 0]
    with pytest.raises(CodebookError, match="row 2 \\('Atitude'\\).*leave the cell blank if not checked"):
        audit_labels(["Access", "Atitude"], cb, ids)


def test_audit_size_by_hand():
    s = pd.DataFrame({"a": [0.05] * 900 + [0.9] * 100})
    out = audit_size(s, half_width=0.03)
    resid, var = 0.9 * 0.05 * 0.95 + 0.1 * 0.9 * 0.1, np.var(s["a"])
    need = math.ceil(resid / (0.03 ** 2 / Z ** 2 - var / 1000))
    assert out.n_needed.iloc[0] == need and out.n_needed_without_scores.iloc[0] == math.ceil(
        Z ** 2 * 0.135 * 0.865 / 0.03 ** 2)
    assert out.attrs["n_per_period"] == {"all": need}


# ---- the estimators ---------------------------------------------------------------------------
def _one_period(rng: np.random.Generator, n: int = 600, n_audit: int = 60, prev: float = 0.2):
    y = (rng.random((n, 1)) < prev).astype(float)
    s = np.clip(0.55 * y + rng.normal(0.2, 0.12, y.shape), 0, 1)
    lab = np.full(y.shape, np.nan)
    audit = rng.choice(n, n_audit, replace=False)
    lab[audit] = y[audit]
    return y, s, lab, audit


def test_ppi_matches_ppi_python_on_the_add_one_augmented_audit():
    from ppi_py import ppi_mean_ci, ppi_mean_pointestimate

    rng = np.random.default_rng(0)
    y, s, lab, audit = _one_period(rng)
    r = audit_estimate(s, lab, ["p"] * len(s), method="ppi")
    rest = np.setdiff1d(np.arange(len(s)), audit)
    ya = np.vstack([y[audit], [[1.0]], [[0.0]]])
    fa = np.vstack([s[audit], [[s[audit].mean()]], [[s[audit].mean()]]])
    yw, fw = ya - ya.mean(), fa - fa.mean()
    lam = float(np.clip((yw * fw).mean() / ((1 + len(ya) / len(rest)) * np.concatenate([fa, s[rest]]).var(ddof=1)),
                        0, 1))
    est = ppi_mean_pointestimate(y[audit], s[audit], s[rest], lam=lam)
    lo, hi = ppi_mean_ci(ya, fa, s[rest], alpha=0.05, lam=lam)
    assert r.prevalence[0, 0] == pytest.approx(float(np.squeeze(est)))
    assert (r.ci_low[0, 0], r.ci_high[0, 0]) == pytest.approx((float(np.squeeze(lo)), float(np.squeeze(hi))))
    # the cluster-robust path with one comment per respondent gives the same interval (up to n/(n-1))
    rc = audit_estimate(s, lab, ["p"] * len(s), method="ppi", cluster=np.arange(len(s)))
    assert rc.se[0, 0] == pytest.approx(r.se[0, 0], rel=0.03)


def test_pacc_and_emq_point_estimates_match_their_definitions():
    from quapy.method.aggregative import EMQ

    rng = np.random.default_rng(1)
    parts = [_one_period(rng, prev=p) for p in (0.1, 0.3)]
    y = np.vstack([p[0] for p in parts])
    s = np.vstack([p[1] for p in parts])
    lab = np.vstack([p[2] for p in parts])
    per = ["a"] * 600 + ["b"] * 600
    chk = ~np.isnan(lab[:, 0])
    mu1, mu0 = s[chk & (lab[:, 0] == 1), 0].mean(), s[chk & (lab[:, 0] == 0), 0].mean()
    r = audit_estimate(s, lab, per, method="pacc")

    def pacc(rows: slice) -> float:  # checked comments count with their codes, the others are estimated
        c, f = chk[rows], s[rows, 0]
        return (lab[rows][c, 0].sum() + (~c).sum() * (f[~c].mean() - mu0) / (mu1 - mu0)) / len(f)

    assert r.prevalence[:, 0] == pytest.approx([pacc(slice(0, 600)), pacc(slice(600, 1200))])
    # unequal inclusion probabilities within a period: not a simple random sample, every comment estimated
    incl = np.where(np.arange(1200) % 2 == 0, 0.1, 0.2)
    rw = audit_estimate(s, lab, per, method="pacc", inclusion_probability=incl)
    assert rw.prevalence[:, 0] == pytest.approx([(s[:600, 0].mean() - mu0) / (mu1 - mu0),
                                                 (s[600:, 0].mean() - mu0) / (mu1 - mu0)])
    assert r.cov[0, 0, 1] != 0  # the pooled rates are shared: the periods' estimates are correlated
    # emq: Platt calibration on the pooled audit (checked against scikit-learn), then QuaPy's EM
    from sklearn.linear_model import LogisticRegression

    z = np.log(np.clip(s[chk], 1e-4, 1 - 1e-4) / (1 - np.clip(s[chk], 1e-4, 1 - 1e-4)))
    lr = LogisticRegression(C=100.0).fit(z, lab[chk, 0])
    e = audit_estimate(s, lab, per, method="emq", n_boot=20)
    zz = np.log(np.clip(s[:600], 1e-4, 1 - 1e-4) / (1 - np.clip(s[:600], 1e-4, 1 - 1e-4)))
    p = 1 / (1 + np.exp(-(lr.coef_[0, 0] * zz[:, 0] + lr.intercept_[0])))
    prior = lab[chk, 0].mean()
    ref = EMQ.EM(np.array([1 - prior, prior]), np.column_stack([1 - p, p]))[0][1]
    assert e.prevalence[0, 0] == pytest.approx(ref, abs=0.01)
    for res in (r, e):
        assert abs(res.prevalence[0, 0] - y[:600].mean()) < 0.05 and abs(res.prevalence[1, 0] - y[600:].mean()) < 0.05


@pytest.mark.parametrize("method", ["ppi", "pacc"])
def test_intervals_cover_the_truth_at_about_the_nominal_rate(method):
    rng = np.random.default_rng(2)
    inside = []
    for _ in range(150):
        y1, s1, l1, _ = _one_period(rng, n=400, n_audit=40, prev=0.08)
        y2, s2, l2, _ = _one_period(rng, n=400, n_audit=40, prev=0.15)
        r = audit_estimate(np.vstack([s1, s2]), np.vstack([l1, l2]), ["a"] * 400 + ["b"] * 400, method=method)
        inside += [r.ci_low[0, 0] <= 0.08 <= r.ci_high[0, 0], r.ci_low[1, 0] <= 0.15 <= r.ci_high[1, 0]]
    assert 0.9 <= np.mean(inside) <= 0.99


def test_rare_theme_with_no_checked_positive_keeps_a_valid_interval():
    rng = np.random.default_rng(3)
    y, s, lab, audit = _one_period(rng, n=500, n_audit=40, prev=0.01)
    lab[audit] = 0.0  # no positive in the audit
    r = audit_estimate(s, lab, ["p"] * 500, method="ppi")
    assert r.ci_low[0, 0] == 0 and r.ci_high[0, 0] > 0.02  # not a zero-width interval
    with pytest.warns(UserWarning, match="fewer than 2 checked positives.*'ppi' instead of 'pacc'"):
        t = audit_prevalence(pd.DataFrame({"score:a": s[:, 0]}), ["none" if i in set(audit) else "" for i in
                                                                  range(500)],
                             codebook=Codebook.from_dict({"a": None}), method="pacc")
    assert t.ci_high.iloc[0] > 0.02
    assert t["method"].tolist() == ["ppi"]  # the method it was estimated with, not the one asked for


def test_a_period_checked_in_full_is_counted_with_a_wilson_interval():
    rng = np.random.default_rng(4)
    y, s, _, _ = _one_period(rng, n=100, n_audit=10)
    r = audit_estimate(s, y, ["p"] * 100, method="pacc")
    lo, hi = wilson_interval(y.sum(), 100)
    assert r.census[0] and r.prevalence[0, 0] == y.mean() and (r.ci_low[0, 0], r.ci_high[0, 0]) == pytest.approx(
        (float(lo), float(hi)))


def test_pacc_counts_the_checked_comments_of_a_small_period_with_their_codes():
    # periods of 80 comments with 40 checked: half of each period is known, so the estimate's error
    # shrinks against estimating every comment, and the interval still covers the rate
    rng = np.random.default_rng(8)
    inside, width, err = [], [], []
    for _ in range(200):
        parts = [_one_period(rng, n=80, n_audit=40, prev=p) for p in (0.1, 0.25)]
        y, s, lab = (np.vstack([p[i] for p in parts]) for i in range(3))
        r = audit_estimate(s, lab, ["a"] * 80 + ["b"] * 80, method="pacc")
        truth = np.array([y[:80].mean(), y[80:].mean()])
        rate = np.array([0.1, 0.25])  # the intervals are for the rate the comments are drawn at
        inside += ((r.ci_low[:, 0] <= rate) & (rate <= r.ci_high[:, 0])).tolist()
        width.append((r.ci_high - r.ci_low)[:, 0].mean())
        mu = [s[~np.isnan(lab[:, 0]) & (lab[:, 0] == v), 0].mean() for v in (1, 0)]
        every = np.array([(s[sl, 0].mean() - mu[1]) / (mu[0] - mu[1]) for sl in (slice(0, 80), slice(80, 160))])
        err.append((np.abs(r.prevalence[:, 0] - truth).mean(), np.abs(every - truth).mean()))
    assert 0.9 <= np.mean(inside) <= 0.99
    err = np.array(err)
    assert err[:, 0].mean() < 0.95 * err[:, 1].mean()


def test_respondent_clusters_widen_intervals_of_repeated_comments():
    rng = np.random.default_rng(5)
    y, s, lab, _ = _one_period(rng, n=300, n_audit=60)
    rep = lambda a: np.repeat(a, 3, axis=0)  # noqa: E731 (each respondent wrote the same comment 3 times)
    naive = audit_estimate(rep(s), rep(lab), ["p"] * 900, method="ppi")
    clustered = audit_estimate(rep(s), rep(lab), ["p"] * 900, method="ppi", cluster=np.repeat(np.arange(300), 3))
    assert clustered.se[0, 0] == pytest.approx(math.sqrt(3) * naive.se[0, 0], rel=0.1)
    codes = ["a" if v else "" for v in rep(y)[:, 0]]
    t0 = prevalence(codes, codebook=Codebook.from_dict({"a": None}))
    t1 = prevalence(codes, codebook=Codebook.from_dict({"a": None}), respondent=np.repeat(np.arange(300), 3))
    assert t1.design_effect.iloc[0] == pytest.approx(3.0, rel=0.01) and t0.design_effect.iloc[0] == 1
    assert (t1.ci_high - t1.ci_low).iloc[0] == pytest.approx(math.sqrt(3) * (t0.ci_high - t0.ci_low).iloc[0], rel=0.1)


def test_changes_use_the_estimates_covariance():
    t = pd.DataFrame({"period": [1, 2], "theme": "a", "theme_id": "a", "n_comments": 50_000,
                      "n_theme": [5000, 7500],
                      "prevalence": [0.10, 0.15], "ci_low": [0.06, 0.11], "ci_high": [0.14, 0.19], "method": "pacc"})
    independent = changes(t).query("comparison == 'pair'").iloc[0]
    se = 0.04 / Z
    assert independent.statistic == pytest.approx(0.05 / math.hypot(se, se))
    t.attrs["covariance"] = {"a": {"periods": [1, 2], "cov": np.array([[se ** 2, 0.8 * se ** 2],
                                                                         [0.8 * se ** 2, se ** 2]])}}
    shared = changes(t).query("comparison == 'pair'").iloc[0]
    assert shared.statistic == pytest.approx(0.05 / math.sqrt(2 * se ** 2 * 0.2))
    assert shared.p_value < independent.p_value
    # with a t reference (respondent clusters: audit_prevalence records df) the same statistic has a
    # larger p-value
    t.attrs = {"covariance": {"a": {**t.attrs["covariance"]["a"], "df": 9}}}
    as_t = changes(t).query("comparison == 'pair'").iloc[0]
    assert as_t.test == "wald_t" and as_t.statistic == pytest.approx(shared.statistic)
    assert as_t.p_value == pytest.approx(2 * stats.t.sf(shared.statistic, 9)) and as_t.p_value > shared.p_value


def test_estimate_prevalence_with_a_checked_sample_outside_the_periods():
    rng = np.random.default_rng(6)
    y = (rng.random((3000, 1)) < np.repeat([0.1, 0.25, 0.2], 1000)[:, None]).astype(float)
    s = np.clip(0.5 * y + rng.normal(0.2, 0.1, y.shape), 0, 1)
    t = estimate_prevalence(s[:2000], period=["a"] * 1000 + ["b"] * 1000, checked_sample=(y[2000:], s[2000:]),
                            themes=["x"])
    assert t.prevalence.tolist() == pytest.approx([y[:1000].mean(), y[1000:2000].mean()], abs=0.03)
    with pytest.raises(ThemeassistError, match="checked_sample"):
        estimate_prevalence(s, themes=["x"])


# ---- run_drift and the CLI ----------------------------------------------------------------------
def test_run_drift_with_an_audit_writes_one_corrected_estimate_per_period_and_theme(tmp_path, cb):
    df, truth = _suggestions()
    audit = draw_audit(df, period_col="year", per_period=40, seed=1)
    gold = dict(zip(df.doc_id, truth))
    audit["codes"] = [gold[d] for d in audit.doc_id]
    audit.loc[audit.index[:5], "codes"] = ""  # not checked yet
    res = run_drift(df, period_col="year", codebook=cb, audit=audit, out_dir=tmp_path, figures=False,
                    method="pacc")
    p = pd.read_csv(tmp_path / "prevalence.csv")
    assert len(p) == 3 * 4 and not p.duplicated(["period", "theme_id"]).any()
    assert {"period", "theme", "theme_id", "prevalence", "ci_low", "ci_high", "method", "source"} <= set(p.columns)
    assert (p.source == "pacc").all() and (p.ci_low <= p.prevalence).all() and (p.prevalence <= p.ci_high).all()
    assert p.groupby("period").n_checked.first().sum() == 115 and p.n_unchecked_audit.sum() > 0
    acc = p[p.theme_id == "access"].set_index("period")
    true_acc = pd.Series(["access" in t for t in truth]).groupby(df.year).mean()
    assert ((acc.ci_low <= true_acc) & (true_acc <= acc.ci_high)).all()
    assert "115 comments checked" in res.summary and "5 audit rows not checked yet" in res.summary
    ch = pd.read_csv(tmp_path / "changes.csv")
    assert (ch.source == "pacc").all() and (tmp_path / "suggested_prevalence.csv").is_file()
    rise = ch[(ch.theme_id == "access") & (ch.comparison == "trend")].iloc[0]
    assert rise.significant and rise.slope_pp > 0


def test_run_drift_on_suggestions_without_audit_says_not_error_corrected(tmp_path, cb):
    df, _ = _suggestions(n_per=30)
    with pytest.warns(UserWarning, match="NOT ERROR-CORRECTED"):
        res = run_drift(df, period_col="year", codebook=cb, out_dir=tmp_path, figures=False)
    assert res.summary.startswith("NOT ERROR-CORRECTED") and (res.prevalence.source == "suggested").all()
    with pytest.raises(ThemeassistError, match="needs codebook|corrects suggestions with an audit"):
        run_drift(df, period_col="year", codebook=cb, out_dir=tmp_path, figures=False, method="ppi")


def test_run_drift_detects_dates_without_period_freq_and_validates_it(tmp_path):
    days = pd.date_range("2021-01-01", periods=150, freq="D").strftime("%d/%m/%Y")
    df = pd.DataFrame({"date": list(days) * 2, "codes": ["a", ""] * 150})
    res = run_drift(df, period_col="date", codes_col="codes", out_dir=tmp_path, figures=False)
    periods = list(pd.unique(res.prevalence.period))
    assert len(periods) < 10 and periods == sorted(periods)  # months or quarters, not 150 one-day periods
    with pytest.raises(ValueError, match="'period_freq'.*'X'"):
        run_drift(df, period_col="date", codes_col="codes", out_dir=tmp_path, figures=False, period_freq="X")


def test_tone_only_when_asked_and_inside_the_scale(tmp_path):
    df = pd.DataFrame({"year": [2020] * 3 + [2021] * 3, "codes": ["a", "a", "a", "a", "a", ""],
                       "text": ["I love it, wonderful", "awful, terrible, hate it", "great", "bad", "ok", "x"]})
    res = run_drift(df, period_col="year", codes_col="codes", out_dir=tmp_path / "a", figures=False)
    assert res.tone is None and not (tmp_path / "a" / "tone.csv").exists()
    res = run_drift(df, period_col="year", codes_col="codes", out_dir=tmp_path / "b", figures=False, tone=True)
    t = res.tone.dropna(subset=["ci_low"])
    assert len(t) and (t.ci_low >= -1).all() and (t.ci_high <= 1).all()


def test_cli_audit_then_drift_with_respondents(tmp_path, cb, capsys):
    df, truth = _suggestions()
    df.to_csv(tmp_path / "s.csv", index=False)
    cb.to_yaml(tmp_path / "cb.yaml")
    assert main(["audit", str(tmp_path / "s.csv"), "--period-col", "year", "--per-period", "30", "--seed", "2",
                 "--out", str(tmp_path / "audit.csv")]) == 0
    a = pd.read_csv(tmp_path / "audit.csv")
    gold = dict(zip(df.doc_id, truth))
    a["codes"] = [gold[d] for d in a.doc_id]
    a.to_csv(tmp_path / "audit.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--audit", str(tmp_path / "audit.csv"),
                     "--codebook", str(tmp_path / "cb.yaml"), "--respondent-col", "resp", "--out",
                     str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "Audit-corrected" in out and "90 comments checked" in out
    half = re.search(r"interval reaches ([0-9.]+) points either side", out)  # what the audit can tell apart
    p = pd.read_csv(tmp_path / "out" / "prevalence.csv")
    assert half and float(half.group(1)) == pytest.approx(50 * (p.ci_high - p.ci_low).median(), abs=0.05)
    p = pd.read_csv(tmp_path / "out" / "prevalence.csv")
    assert p.n_respondents.max() == 150 and len(p) == 12
    with pytest.raises(SystemExit):
        main(["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--period-freq", "fortnight", "--out", "x"])
    assert "must be one of Y, Q, M, W, D" in capsys.readouterr().err


def test_ids_and_texts_that_look_like_formulas_survive_suggest_audit_drift(tmp_path, cb, capsys):
    # the suggestions file guards '+44' as "'+44" against spreadsheet formulas; audit and drift read it back as '+44'
    from themeassist.io.tables import write_table

    df, truth = _suggestions(n_per=20)
    odd = {0: "+44", 1: "=1+1", 2: "-3", 3: "@team"}
    for i, d in odd.items():
        df.loc[i, "doc_id"], df.loc[i, "text"] = d, f"={d} deadlines slipped"
    write_table(df, tmp_path / "s.csv")
    cb.to_yaml(tmp_path / "cb.yaml")
    assert main(["audit", str(tmp_path / "s.csv"), "--period-col", "year", "--per-period", "20", "--seed", "0",
                 "--out", str(tmp_path / "audit.csv"), "--quiet"]) == 0
    raw = pd.read_csv(tmp_path / "audit.csv", dtype=str, keep_default_na=False)
    assert {"'" + d for d in odd.values()} <= set(raw.doc_id)  # all drawn, guarded once as in the suggestions file
    assert not raw.doc_id.str.startswith("''").any() and not raw.text.str.startswith("''").any()
    gold = dict(zip(df.doc_id, truth))
    raw["codes"] = [gold[d[1:] if d.startswith("'") else d] for d in raw.doc_id]
    raw.to_csv(tmp_path / "audit.csv", index=False)  # as a coder saves it back
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--audit", str(tmp_path / "audit.csv"),
                     "--codebook", str(tmp_path / "cb.yaml"), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    assert "60 comments checked" in capsys.readouterr().out


def test_cli_audit_with_a_non_answer_and_drift_quiet(tmp_path, cb, capsys):
    # a suggestions file with a non-answer (no scores): the power calculation counts only comments
    # that can be drawn, the audit never draws it, and drift (with --quiet) leaves it out
    df, truth = _suggestions(n_per=60)
    df.loc[3, "status"] = "non_answer"
    df.loc[3, [c for c in df.columns if c.startswith("score:")]] = np.nan
    df.to_csv(tmp_path / "s.csv", index=False)
    cb.to_yaml(tmp_path / "cb.yaml")
    assert main(["audit", str(tmp_path / "s.csv"), "--period-col", "year", "--half-width", "0.001", "--quiet",
                 "--out", str(tmp_path / "audit.csv")]) == 0
    said = capsys.readouterr()
    out = said.out
    assert "2020: 59, 2021: 60, 2022: 60" in out
    # the size is what calibrated scores would need, the audit-only size beside it, the largest drawn everywhere
    assert "for a half-width of 0.001 if the scores are calibrated: 2020: 59, 2021: 60, 2022: 60" in said.err
    assert "(the audit alone, without the scores' help: " in said.err and "drawing 60 in every period" in said.err
    assert "2020 has fewer than 60 comments that can be drawn: all of them are (inclusion probability 1)" in out
    a = pd.read_csv(tmp_path / "audit.csv")
    assert len(a) == 179 and "c3" not in set(a.doc_id)
    gold = dict(zip(df.doc_id, truth))
    a["codes"] = [gold[d] for d in a.doc_id]
    a.to_csv(tmp_path / "audit.csv", index=False)
    assert main(["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--audit", str(tmp_path / "audit.csv"),
                 "--codebook", str(tmp_path / "cb.yaml"), "--quiet", "--out", str(tmp_path / "out")]) == 0
    p = pd.read_csv(tmp_path / "out" / "prevalence.csv")
    assert p.loc[p.period == 2020, "n_excluded"].eq(1).all() and p.loc[p.period == 2020, "n_comments"].eq(59).all()
    # the coder's audit saved by a spreadsheet in a European locale: ';', cp1252, decimal commas
    a["text"] = a["text"] + " café"
    a.assign(inclusion_probability=a.inclusion_probability.map(lambda v: f"{v:.12f}".replace(".", ","))).to_csv(
        tmp_path / "audit_saved.csv", sep=";", encoding="cp1252", index=False)
    assert main(["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--audit", str(tmp_path / "audit_saved.csv"),
                 "--codebook", str(tmp_path / "cb.yaml"), "--quiet", "--out", str(tmp_path / "out2")]) == 0
    saved = pd.read_csv(tmp_path / "out2" / "prevalence.csv")
    pd.testing.assert_frame_equal(saved.drop(columns="method"), p.drop(columns="method"), atol=1e-9)


def _two_periods(prev: list[float], lo: list[float], kc: list[float], corr: float | None) -> pd.DataFrame:
    """An audit-corrected table of one theme over two periods (se 2.3 points each)."""
    se = 0.023
    t = pd.DataFrame({"period": [1, 2], "theme": "a", "theme_id": "a", "n_comments": 500,
                      "n_theme": [500 * p for p in prev], "prevalence": prev, "ci_low": lo,
                      "ci_high": [p + Z * se for p in prev], "method": "pacc", "n_checked_theme": kc})
    if corr is not None:
        t.attrs["covariance"] = {"a": {"periods": [1, 2], "cov": se ** 2 * np.array([[1, corr], [corr, 1]])}}
    return t


def test_flags_on_audit_corrected_estimates_use_the_audit_and_the_change():
    def flag(*args: object) -> str:
        return changes(_two_periods(*args)).query("comparison == 'pair'").flag.iloc[0]

    # 1.5% with no checked positive is absent; 6% (interval down to 0.5%) is unclear on its own,
    # but the change, known well from the shared error rates, is significant: the theme appears
    assert flag([0.015, 0.06], [0.0, 0.005], [0, 3], 0.9) == "appears"
    assert flag([0.015, 0.06], [0.0, 0.005], [1, 3], 0.9) == ""  # a checked positive: never absent
    assert flag([0.015, 0.06], [0.0, 0.005], [0, 0], 0.9) == ""  # present needs a checked positive
    assert flag([0.015, 0.06], [0.0, 0.005], [0, 3], None) == ""  # independent levels: not significant
    assert flag([0.025, 0.06], [0.0, 0.005], [0, 3], 0.9) == ""  # 2.5% is not absent (below 2% is)
    assert flag([0.06, 0.015], [0.005, 0.0], [3, 0], 0.9) == "vanishes"


def test_high_scores_next_to_an_absent_period_show_a_theme_appearing():
    # 1.5% with no checked positive is absent; 6% is unclear and, with independent levels, the
    # estimates' change is not significant (p = 0.13): no flag from the estimates alone
    base = _two_periods([0.015, 0.06], [0.0, 0.005], [0, 3], None)

    def pair(high: list[float], scored: list[float] = [500, 500]) -> pd.Series:
        return changes(base.assign(n_scored=scored, n_scored_high=high)).query("comparison == 'pair'").iloc[0]

    assert changes(base).query("comparison == 'pair'").flag.iloc[0] == ""
    # where the theme is absent every high score is a false alarm: 3 of 500 against 16 of 500
    # (Fisher p = 0.004) shows it in the second period
    got = pair([3, 16])
    assert got.flag == "appears" and got.p_value > 0.025 and got.state_to == "present"
    assert pair([3, 9]).flag == ""  # p = 0.14: not enough
    assert pair([16, 3]).flag == ""  # more high scores where the theme is absent: shows nothing
    assert pair([3, 16], scored=[0, 500]).flag == ""  # nothing scored (all coded): no test
    # the same test on a theme that vanishes
    gone = _two_periods([0.06, 0.015], [0.005, 0.0], [3, 0], None).assign(n_scored=500, n_scored_high=[16, 3])
    assert changes(gone).query("comparison == 'pair'").flag.iloc[0] == "vanishes"


def test_a_census_next_to_an_audited_period_lets_the_audit_show_a_theme_appearing():
    # 0 of 145 comments in a year coded in full, then 3 of 40 checked comments in the next year: the
    # audit alone shows the change (Fisher p = 0.01) although the model's estimate is too uncertain
    t = pd.DataFrame({"period": [1, 2], "theme": "a", "theme_id": "a", "n_comments": [145, 207],
                      "n_theme": [0.0, 207 * 0.1], "prevalence": [0.0, 0.1], "ci_low": [0.0, 0.012],
                      "ci_high": [0.026, 0.2], "method": "pacc", "n_checked_theme": [0.0, 3.0],
                      "n_checked": [145, 40]})
    t.attrs["covariance"] = {"a": {"periods": [1, 2], "cov": np.diag([0.0, 0.046 ** 2])}}
    pair = changes(t).query("comparison == 'pair'").iloc[0]
    assert pair.p_value > 0.025 and pair.flag == "appears"
    # without the audit's counts (or with too few checked comments to show it) no flag
    assert changes(t.drop(columns="n_checked")).query("comparison == 'pair'").flag.iloc[0] == ""
    t2 = t.assign(n_checked=[40, 40])
    assert changes(t2).query("comparison == 'pair'").flag.iloc[0] == ""


def test_trend_on_estimates_is_not_driven_by_one_period_estimated_at_zero():
    # a flat theme (8%) with one period estimated at 0 with a near-zero variance: counted, the same
    # figures are no significant trend; the estimates' test must not make the zero outweigh the rest
    prev = [0.11, 0.097, 0.073, 0.0, 0.099]
    se = [0.04, 0.025, 0.02, 0.001, 0.03]
    t = pd.DataFrame({"period": [1, 2, 3, 4, 5], "theme": "a", "theme_id": "a", "n_comments": [63, 145, 207, 75, 111],
                      "n_theme": [p * n for p, n in zip(prev, [63, 145, 207, 75, 111])], "prevalence": prev,
                      "ci_low": [max(p - Z * e, 0) for p, e in zip(prev, se)],
                      "ci_high": [p + Z * e for p, e in zip(prev, se)], "method": "pacc"})
    t.attrs["covariance"] = {"a": {"periods": [1, 2, 3, 4, 5], "cov": np.diag(np.square(se))}}
    trend = changes(t).query("comparison == 'trend'").iloc[0]
    assert trend.p_value > 0.05
    # a real rise is still found
    up = t.assign(prevalence=[0.02, 0.05, 0.08, 0.11, 0.14], n_theme=lambda d: d.prevalence * d.n_comments)
    up.attrs = t.attrs
    assert changes(up).query("comparison == 'trend'").p_value.iloc[0] < 0.01


def test_parents_are_rolled_up_over_their_children():
    rng = np.random.default_rng(11)
    cb = Codebook.from_dict({"Staff": ["Attitude", "Competence"], "Access": None})
    ids = {t.name: t.theme_id for t in cb}
    n = 600
    per = np.repeat(["p1", "p2", "p3"], n // 3)
    y_att = rng.random(n) < 0.15
    y_comp = rng.random(n) < 0.05
    s_att = np.clip(0.6 * y_att + rng.normal(0.2, 0.1, n), 0, 1)
    s_comp = np.clip(0.6 * y_comp + rng.normal(0.2, 0.1, n), 0, 1)
    s_acc = rng.random(n)
    s_staff = np.clip(0.2 * (y_att | y_comp) + rng.normal(0.3, 0.25, n), 0, 1)  # a poor score of its own
    scores = pd.DataFrame({f"score:{ids['Attitude']}": s_att, f"score:{ids['Competence']}": s_comp,
                           f"score:{ids['Access']}": s_acc, f"score:{ids['Staff']}": s_staff})
    codes = np.array(["|".join(c for c, on in (("Attitude", a), ("Competence", b)) if on) or "none"
                      for a, b in zip(y_att, y_comp)], dtype=object)
    audit = np.full(n, "", dtype=object)
    for p in ("p1", "p2", "p3"):
        take = rng.choice(np.flatnonzero(per == p), 30, replace=False)
        audit[take] = codes[take]
    with warnings.catch_warnings():  # Access is never coded: estimated with ppi, and said so
        warnings.simplefilter("ignore", UserWarning)
        t = audit_prevalence(scores, list(audit), period=per, codebook=cb)
    parent, child = t[t.theme == "Staff"].set_index("period"), t[t.theme == "Attitude"].set_index("period")
    for col in ("prevalence", "ci_low", "ci_high"):
        assert (parent[col] >= child[col] - 1e-12).all()
    # the parent's own score alone puts it below its child somewhere: the roll-up is what holds it up
    own = audit_estimate(np.column_stack([s_staff, s_att]),
                         np.where((audit != "")[:, None], np.column_stack([y_att | y_comp, y_att]), np.nan), per)
    assert (own.prevalence[:, 0] < own.prevalence[:, 1]).any() or (own.ci_low[:, 0] < own.ci_low[:, 1]).any()


def test_respondent_clusters_give_a_t_reference_with_the_audited_respondents():
    rng = np.random.default_rng(8)
    y, s, lab, audit = _one_period(rng, n=300, n_audit=30)
    resp = np.arange(300) // 3
    r = audit_estimate(s, lab, ["p"] * 300, method="pacc", cluster=resp)
    assert r.df == len(set(resp[audit])) - 1
    half = (r.ci_high - r.ci_low)[0, 0] / 2
    assert half == pytest.approx(stats.t.ppf(0.975, r.df) * r.se[0, 0])
    assert audit_estimate(s, lab, ["p"] * 300, method="pacc").df == math.inf


# ---- real surveys: rows without scores, none codes, themes the classifier does not see ------------
def test_rows_left_unscored_by_their_status_are_excluded_not_refused(cb):
    df, truth = _suggestions(n_per=150)
    df.loc[5, "status"] = "non_answer"
    df.loc[5, [c for c in df.columns if c.startswith("score:")]] = np.nan  # suggest scores no non-answer
    audit = [truth[i] if i % 5 == 0 else "" for i in range(len(df))]
    t = audit_prevalence(df, audit, period=df["year"], codebook=cb, status=df["status"])
    assert t.loc[t.period == 2020, "n_excluded"].iloc[0] == 1 and t.loc[t.period == 2020, "n_comments"].iloc[0] == 149
    # a counted row without a score is refused, naming it and the fix
    df.loc[5, "status"] = "ok"
    with pytest.raises(ThemeassistError, match=r"row 6 .*status"):
        audit_prevalence(df, audit, period=df["year"], codebook=cb, status=df["status"])


def test_none_codes_of_the_codebook_count_as_no_theme_in_human_codes():
    book = Codebook.from_dict({"Staff": ["Attitude"], "Access": None}, name="b")
    book = Codebook(book.name, book.themes, none_codes=("NotCodable",))
    t = prevalence(["Attitude", "NotCodable", "Access|Attitude", "NotCodable"], period=[1, 1, 2, 2], codebook=book)
    got = t.set_index(["period", "theme"])["n_theme"]
    assert got[(1, "Attitude")] == 1 and got[(2, "Access")] == 1 and t["n_comments"].tolist()[0] == 2
    with pytest.raises(ThemeassistError, match="Nonsense"):
        prevalence(["Nonsense"], period=[1], codebook=book)


def test_a_theme_the_scores_do_not_separate_falls_back_to_ppi():
    # two checked positives whose scores are no higher than the negatives': pacc would divide by noise
    rng = np.random.default_rng(12)
    n = 600
    y = np.zeros((n, 2))
    y[rng.choice(n, 60, replace=False), 0] = 1
    y[[3, 400], 1] = 1
    s = np.column_stack([np.clip(0.5 * y[:, 0] + rng.normal(0.2, 0.1, n), 0, 1), rng.uniform(0.0, 0.05, n)])
    lab = np.full(y.shape, np.nan)
    audit = np.r_[0:40, 300:340, [3, 400]]
    lab[audit] = y[audit]
    r = audit_estimate(s, lab, ["a"] * 300 + ["b"] * 300, method="pacc")
    assert r.fallback.tolist() == [False, True]
    assert (r.prevalence[:, 1] < 0.1).all()  # the per-period ppi estimate, not a ratio of noise


def test_a_parent_raised_to_its_child_is_tested_on_its_interval_not_its_own_covariance():
    rng = np.random.default_rng(13)
    book = Codebook.from_dict({"P": ["A", "B"]})
    ids = {t.name: t.theme_id for t in book}
    n = 400
    sc = pd.DataFrame({f"score:{ids['P']}": rng.uniform(0, 0.02, n), f"score:{ids['A']}": rng.uniform(0, 0.02, n),
                       f"score:{ids['B']}": np.clip(rng.normal(0.3, 0.2, n), 0, 1)})
    audit = ["B" if i % 10 == 0 else ("none" if i % 10 == 1 else "") for i in range(n)]
    with pytest.warns(UserWarning, match="estimated per period with 'ppi'"):  # P and A: no separating score
        t = audit_prevalence(sc, audit, period=["x"] * 200 + ["y"] * 200, codebook=book)
    est = t.pivot(index="period", columns="theme", values="prevalence")
    assert (est["P"] >= est["B"] - 1e-12).all()
    cov = t.attrs["covariance"]
    assert cov[ids["P"]]["cov"] is None and cov[ids["B"]]["cov"] is not None


def test_ppi_leaves_the_sessions_warning_filters_as_they_were():
    # ppi_py runs warnings.simplefilter("ignore") when imported: after a ppi estimate every later
    # warning of the session (ours included) would be silent
    import subprocess
    import sys

    code = ("import warnings, numpy as np\n"
            "from themeassist.drift import audit_estimate\n"
            "s = np.linspace(0, 1, 200)[:, None]; lab = np.full(s.shape, np.nan); lab[::4] = (s[::4] > 0.5)\n"
            "audit_estimate(s, lab, ['a'] * 200, method='ppi')\n"
            "warnings.warn('still heard')\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert "still heard" in out.stderr


def test_drift_refuses_a_codebook_the_suggestions_were_not_written_with_and_the_fix_works(tmp_path, capsys):
    df, truth = _suggestions(n_per=60)
    df.to_csv(tmp_path / "s.csv", index=False)
    (tmp_path / "cb.yaml").write_text("Staff: [Attitude, Competence]\nAccess:\nNotCodable:\n", encoding="utf-8")
    a = df[["doc_id", "year"]].iloc[::4].assign(inclusion_probability=0.25, codes=[truth[i] for i in range(0, 180, 4)])
    a.to_csv(tmp_path / "audit.csv", index=False)
    args = ["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--audit", str(tmp_path / "audit.csv"),
            "--codebook", str(tmp_path / "cb.yaml"), "--quiet"]
    assert main([*args, "--out", str(tmp_path / "o1")]) == 2
    assert "same --none-codes" in capsys.readouterr().err
    assert main([*args, "--none-codes", "NotCodable", "--out", str(tmp_path / "o2")]) == 0
    assert (tmp_path / "o2" / "prevalence.csv").is_file()


# ---- comments coded outside the audit (coded examples) ------------------------------------------
def test_coded_examples_count_with_their_codes_and_their_scores_are_never_used(cb):
    # 60 comments of each year are coded examples: counted as coded, the other 140 estimated from the
    # audit; their (in-sample) scores change nothing, and the interval narrows with the share known
    df, truth = _suggestions()
    year = df.year.to_numpy()
    known = pd.Series([t if i % 200 < 60 else "" for i, t in enumerate(truth)])
    rest = (known == "").to_numpy()
    rng = np.random.default_rng(3)
    audit = [""] * len(df)
    for y in (2020, 2021, 2022):
        for i in rng.choice(np.flatnonzero(rest & (year == y)), 30, replace=False):
            audit[i] = truth[i]
    incl = [30 / 140 if a else np.nan for a in audit]
    scores = df[[c for c in df.columns if c.startswith("score:")]]
    t = audit_prevalence(scores, audit, period=year, codebook=cb, inclusion_probability=incl, known=known)
    inflated = scores.copy()
    inflated.loc[~rest, :] = 0.99
    t2 = audit_prevalence(inflated, audit, period=year, codebook=cb, inclusion_probability=incl, known=known)
    assert t.prevalence.tolist() == pytest.approx(t2.prevalence.tolist()) and t.ci_low.equals(t2.ci_low)
    # by hand, the examples counted for themselves only (known_random=False): the rest estimated
    # alone, then mixed with the known share (a parent rolled up after)
    t = audit_prevalence(scores, audit, period=year, codebook=cb, inclusion_probability=incl, known=known,
                         known_random=False)
    alone = audit_prevalence(scores[rest], [a for a, r in zip(audit, rest) if r], period=year[rest], codebook=cb,
                             inclusion_probability=[p for p, r in zip(incl, rest) if r])
    acc = t[t.theme_id == "access"].set_index("period")
    acc_alone = alone[alone.theme_id == "access"].set_index("period")
    k = pd.Series([sum("access" in c for c in known[year == y]) for y in (2020, 2021, 2022)], index=acc.index)
    assert acc.n_known.tolist() == [60] * 3 and acc.n_known_theme.tolist() == k.tolist()
    assert acc.n_checked.tolist() == [30] * 3
    assert acc.prevalence.tolist() == pytest.approx((k / 200 + 0.7 * acc_alone.prevalence).tolist())
    assert acc.ci_high.tolist() == pytest.approx((k / 200 + 0.7 * acc_alone.ci_high).tolist())
    assert ((acc.ci_high - acc.ci_low) < (acc_alone.ci_high - acc_alone.ci_low)).all()
    assert t.attrs["n_known"] == 180 and t.attrs["covariance"]["access"]["cov"][0, 0] == pytest.approx(
        0.49 * alone.attrs["covariance"]["access"]["cov"][0, 0])


def test_coded_examples_drawn_at_random_also_estimate_the_rest_with_valid_narrower_intervals():
    # 400 comments per period, 30 % coded examples drawn at random, an audit of 40 of the rest, a weak
    # classifier: the examples' shares estimate the rest's too (combined with the audit's estimate by
    # inverse variances); over 300 replicates the intervals still hold the period's share ~95 % of
    # the time and are narrower than with the examples counted for themselves only
    rng = np.random.default_rng(5)
    prev = np.array([0.03, 0.1, 0.25])
    cover, width, width_counted = [], [], []
    for _ in range(300):
        per = np.repeat([1, 2], 400)
        y = (rng.random((800, 3)) < prev).astype(float)
        s = np.clip(0.25 * y + rng.normal(0.2, 0.15, y.shape), 0, 1)
        known = np.full(y.shape, np.nan)
        lab = np.full(y.shape, np.nan)
        for p in (1, 2):
            rows = rng.permutation(np.flatnonzero(per == p))
            known[rows[:120]] = y[rows[:120]]
            lab[rows[120:160]] = y[rows[120:160]]
        r = audit_estimate(s, lab, per, method="pacc", known=known)
        c = audit_estimate(s, lab, per, method="pacc", known=known, known_random=False)
        truth = np.array([y[per == p].mean(0) for p in (1, 2)])
        cover.append((r.ci_low <= truth + 1e-12) & (truth <= r.ci_high + 1e-12))
        width.append(r.ci_high - r.ci_low)
        width_counted.append(c.ci_high - c.ci_low)
    cover = np.array(cover).mean(0)
    assert (cover >= 0.9).all() and (cover <= 0.99).all(), cover
    assert (np.mean(width, 0) < 0.85 * np.mean(width_counted, 0)).all()
    assert np.isfinite(r.known_random_p) and r.known_random_p == c.known_random_p  # reported either way

def test_a_period_whose_comments_are_all_coded_examples_is_a_census(cb):
    df, truth = _suggestions(n_per=100)
    known = [t if y == 2020 else "" for t, y in zip(truth, df.year)]
    audit = [t if (y != 2020 and i % 4 == 0) else "" for i, (t, y) in enumerate(zip(truth, df.year))]
    t = audit_prevalence(df, audit, period=df.year, codebook=cb, known=known)
    c = t[(t.theme_id == "access") & (t.period == 2020)].iloc[0]
    k = sum("access" in x for x in truth[:100])
    lo, hi = wilson_interval(k, 100)
    assert c.prevalence == pytest.approx(k / 100) and (c.ci_low, c.ci_high) == pytest.approx((float(lo), float(hi)))
    assert c.n_checked == 0 and c.n_known == 100


def test_audit_never_draws_a_coded_example_and_its_probability_counts_the_rest(tmp_path, capsys):
    df, truth = _suggestions(n_per=50)
    df["example_codes"] = ["" if i % 5 else t for i, t in enumerate(truth)]  # every fifth comment coded
    a = draw_audit(df, period_col="year", per_period=10, seed=1)
    coded = set(df.doc_id[df.example_codes != ""])
    assert len(a) == 30 and not set(a.doc_id) & coded and a.attrs["n_known"] == 30
    assert a.inclusion_probability.tolist() == pytest.approx([10 / 40] * 30)
    # the power calculation counts only the comments that can be drawn (a tiny half-width needs all)
    df.to_csv(tmp_path / "s.csv", index=False)
    assert main(["audit", str(tmp_path / "s.csv"), "--period-col", "year", "--half-width", "0.001", "--out",
                 str(tmp_path / "a.csv")]) == 0
    out = capsys.readouterr().out
    assert "2020: 40, 2021: 40, 2022: 40" in out and "30 coded examples (example_codes) were not drawn" in out


def test_a_coded_example_of_the_theme_makes_a_period_not_absent():
    def flag(known: list[float]) -> str:
        t = _two_periods([0.015, 0.06], [0.0, 0.005], [0, 3], 0.9).assign(n_known_theme=known)
        return changes(t).query("comparison == 'pair'").flag.iloc[0]

    assert flag([0, 0]) == "appears"
    assert flag([1, 0]) == ""  # a coded example of the theme in the first period: it was there


def _two_waves_with_examples() -> pd.DataFrame:
    """One theme over two waves: 0 of 40 checked + 0 of 96 coded examples in wave 1, 1 of 40 checked +
    7 of 99 examples in wave 2; the estimates' change is unsure (p ~ 0.2)."""
    t = pd.DataFrame({"period": ["w1", "w2"], "theme": "a", "theme_id": "a", "n_comments": [332, 316],
                      "n_theme": [0.0, 12.4], "prevalence": [0.0, 0.039], "ci_low": [0.0, 0.022],
                      "ci_high": [0.05, 0.10], "method": "pacc", "n_checked": [40, 40],
                      "n_checked_theme": [0.0, 1.0], "n_known": [96, 99], "n_known_theme": [0.0, 7.0]})
    t.attrs["covariance"] = {"a": {"periods": ["w1", "w2"], "cov": np.diag([0.0155, 0.0240]) ** 2}}
    return t


def test_coded_examples_drawn_at_random_join_the_audit_in_the_flags_count_test():
    # 0 of 40 checked + 0 of 96 coded examples in wave 1; 1 of 40 checked + 7 of 99 examples in wave 2.
    # The estimates' change is unsure (p ~ 0.2) and the audit alone shows nothing (0/40 vs 1/40), but
    # the examples and the audit together are a random sample of each wave: 0/136 vs 8/139
    t = _two_waves_with_examples()
    pair = changes(t).query("comparison == 'pair'").iloc[0]
    assert pair.p_value > 0.1 and pair.flag == "appears"
    # picked by hand (known_random=False): they show presence, not a change; nor with too few of them
    assert changes(t, known_random=False).query("comparison == 'pair'").flag.iloc[0] == ""
    few = t.assign(n_known=[10, 10], n_known_theme=[0.0, 2.0])
    assert changes(few).query("comparison == 'pair'").flag.iloc[0] == ""


def test_the_flags_treat_the_examples_as_the_estimates_did():
    # the randomness test rejected (p = 0.01), but the caller told audit_prevalence they are random
    # (attrs["known_random"] = True): the flags' count tests follow the estimates, not the p-value
    t = _two_waves_with_examples()
    t.attrs["known_random_p"] = 0.01
    assert changes(t).query("comparison == 'pair'").flag.iloc[0] == ""
    t.attrs["known_random"] = True
    assert changes(t).query("comparison == 'pair'").flag.iloc[0] == "appears"
    t.attrs.update(known_random_p=0.5, known_random=False)
    assert changes(t).query("comparison == 'pair'").flag.iloc[0] == ""


def test_audit_prevalence_records_how_it_used_the_examples(cb):
    from themeassist.drift import KNOWN_RANDOM_ALPHA

    df, truth = _suggestions(n_per=100)
    known = pd.Series([t if i % 100 < 30 else "" for i, t in enumerate(truth)])
    audit = [t if i % 100 >= 30 and i % 7 == 0 else "" for i, t in enumerate(truth)]
    scores = df[[c for c in df.columns if c.startswith("score:")]]
    for forced in (None, True, False):
        t = audit_prevalence(scores, audit, period=df.year, codebook=cb, known=known, known_random=forced)
        p = t.attrs["known_random_p"]
        assert t.attrs["known_random"] is (not p < KNOWN_RANDOM_ALPHA if forced is None else forced)
    assert "known_random" not in audit_prevalence(scores, audit, period=df.year, codebook=cb).attrs


def test_cli_suggest_marks_coded_examples_audit_skips_them_drift_counts_them(tmp_path, capsys):
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo = demo[demo.year.isin(["2015", "2016", "2017"])].reset_index(drop=True)
    demo.to_csv(tmp_path / "demo.csv", index=False)
    ex = demo[demo.year == "2015"]
    ex[["doc_id", "text", "themes"]].to_csv(tmp_path / "coded.csv", index=False)
    common = ["--codebook", "iapt", "--model", "static", "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    assert main(["suggest", str(tmp_path / "demo.csv"), "--text-col", "text", "--id-col", "doc_id", "--examples",
                 str(tmp_path / "coded.csv"), "--examples-codes-col", "themes", "--out", str(tmp_path / "s.csv"),
                 *common]) == 0
    s = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    from themeassist.codebook import load_codebook, read_codes

    ids = ["|".join(c) or "none" for c in read_codes(ex.themes.fillna(""), load_codebook("iapt"))]
    comment = s.status.isin(["ok", "truncated"])  # a non-answer is no coded example, whatever its codes cell
    assert s.example_codes[(s.year == "2015") & comment].tolist() == [i for i, c in zip(ids, comment[s.year == "2015"])
                                                                      if c]
    assert (s.example_codes[(s.year != "2015") | ~comment] == "").all()
    assert main(["audit", str(tmp_path / "s.csv"), "--period-col", "year", "--per-period", "25", "--seed", "0",
                 "--out", str(tmp_path / "a.csv")]) == 0
    assert "coded examples (example_codes) were not drawn" in capsys.readouterr().out
    a = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    assert set(a.year) == {"2016", "2017"} and not set(a.doc_id) & set(ex.doc_id.astype(str))
    gold = dict(zip(demo.doc_id.astype(str), demo.themes.fillna("")))
    a["codes"] = [gold[d] or "none" for d in a.doc_id]
    a.to_csv(tmp_path / "a.csv", index=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--audit", str(tmp_path / "a.csv"),
                     "--out", str(tmp_path / "d"), *common[:2]]) == 0
    used = s[(s.year == "2015") & s.status.isin(["ok", "truncated"])]  # non-answers count in no estimate
    out = capsys.readouterr().out
    assert f"{len(used)} coded examples (example_codes) counted with their codes" in out
    # examples in 2015 and audits in 2016-2017 only: whether the examples are random cannot be tested, and it says so
    assert "taken for a random sample of their period" in out and "could not be tested against the audit" in out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["drift", str(tmp_path / "s.csv"), "--period-col", "year", "--audit", str(tmp_path / "a.csv"),
                     "--examples-chosen", "--out", str(tmp_path / "d2"), *common[:2]]) == 0
    assert "(picked by hand: they count for themselves only)" in capsys.readouterr().out
    p = pd.read_csv(tmp_path / "d" / "prevalence.csv")
    y15 = p[p.period == 2015]
    human = prevalence(used.example_codes.replace("none", ""), codebook="iapt").set_index("theme_id").prevalence
    assert (y15.n_known == len(used)).all() and y15.set_index("theme_id").prevalence.to_dict() == pytest.approx(
        human.reindex(y15.theme_id).to_dict())
    assert (p[p.period != 2015].n_checked == 25).all() and (p[p.period != 2015].n_known == 0).all()
    assert main(["report", str(tmp_path / "d"), "--out", str(tmp_path / "r.html")]) == 0  # the report says so
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "50 comments were checked by a coder" in page and f"{len(used)} coded examples were counted" in page


def test_the_summary_says_whether_the_examples_randomness_was_tested():
    from themeassist.workflows.drift import _known_note

    tested, untested = _known_note(0.4, True), _known_note(float("nan"), True)
    assert "taken for a random sample" in tested and "could not be tested" not in tested
    assert "taken for a random sample" in untested and "could not be tested against the audit" in untested
    assert "look picked by hand" in _known_note(0.01, True) and "could not be tested" not in _known_note(0.01, True)


def test_coded_examples_without_ids_are_matched_by_a_text_that_occurs_once(tmp_path, capsys):
    from themeassist.mapping.examples import example_codes
    from themeassist.codebook import load_codebook

    cb = load_codebook("iapt")
    sugg = pd.DataFrame({"doc_id": ["1", "2", "3", "4"]})
    texts = {"1": "Too many  targets", "2": "Lovely team", "3": "Lovely team", "4": "No rooms"}
    ex = pd.DataFrame({"doc_id": ["ex1", "ex2", "ex3"], "text": ["too many targets", "Too many targets ",
                                                                 "Lovely team"], "codes": ["Resources"] * 3})
    col, how = example_codes(sugg, ex, cb, texts=texts, by_id=False)
    # the text matches with its spacing ignored (not its case); "Lovely team" is twice among the
    # comments: neither comment can be told to be the example
    res = cb.get("Resources").theme_id
    assert how == "text" and col.tolist() == [res, "", "", ""]
    col, how = example_codes(sugg.assign(doc_id=["ex1", "x", "y", "z"]), ex, cb, texts=None)
    assert how == "doc_id" and col.tolist() == [res, "", "", ""]
    # ids numbered separately in the two files: an id that holds another text is not taken (a warning
    # says so); where no id holds the example's text, the text that occurs once matches instead
    numbered = ex.assign(doc_id=["4", "2", "9"])
    with pytest.warns(UserWarning, match="2 coded examples share an id with a comment but not its text"):
        col, how = example_codes(sugg, numbered, cb, texts=texts)
    assert how == "text" and col.tolist() == [res, "", "", ""]
    with pytest.warns(UserWarning, match="1 coded examples share an id"):
        col, how = example_codes(sugg, ex.assign(doc_id=["1", "4", "9"]), cb, texts=texts)
    assert how == "doc_id" and col.tolist() == [res, "", "", ""]  # id "1" holds that text (case ignored)
    assert example_codes(sugg, ex.iloc[:0], cb, texts=texts) == (None, "")
    # ids of other comments (a disjoint split): a comment with an example's text is another comment
    assert example_codes(sugg, ex.assign(doc_id=["a7", "a8", "a9"]), cb, texts=texts) == (None, "")


def test_cli_suggest_counts_the_coders_decisions_as_coded_comments(tmp_path, capsys):
    # accepted and recoded comments are coded in full (example_codes); a rejected one only in part
    from themeassist.codebook import load_codebook, read_codes
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo = demo[demo.year.isin(["2015", "2016"])].reset_index(drop=True)
    demo.to_csv(tmp_path / "demo.csv", index=False)
    demo[demo.year == "2015"][["doc_id", "text", "themes"]].to_csv(tmp_path / "coded.csv", index=False)
    common = ["--codebook", "iapt", "--text-col", "text", "--id-col", "doc_id", "--model", "static", "--cache-dir",
              str(tmp_path / "cache"), "--quiet"]
    assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "coded.csv"),
                 "--examples-codes-col", "themes", "--out", str(tmp_path / "s.csv"), *common]) == 0
    s = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    later = s.index[(s.year == "2016") & (s.status == "ok") & (s.suggested != "")]
    acc, rej, rec = later[:4], later[4:7], later[7:9]
    s.loc[acc, "decision"] = "accept"
    s.loc[rej, "decision"] = "reject"
    s.loc[rec, "decision"], s.loc[rec, "final_codes"] = "recode", "Resources"
    s.to_csv(tmp_path / "reviewed.csv", index=False)
    capsys.readouterr()
    assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "coded.csv"),
                 "--examples-codes-col", "themes", "--decisions", str(tmp_path / "reviewed.csv"),
                 "--out", str(tmp_path / "again.csv"), *common]) == 0
    out = capsys.readouterr().out
    comment = s.set_index("doc_id").status.isin(["ok", "truncated"])  # a non-answer is no coded example
    n_ex = int(comment[s.doc_id[s.year == "2015"]].sum())
    assert f"{n_ex} coded examples (matched by doc_id), 6 decided by the coder (matched by doc_id)" in out
    assert "decided comments picked from the review queue are not one" in out  # drift's random-sample caveat
    again = pd.read_csv(tmp_path / "again.csv", dtype=str, keep_default_na=False).set_index("doc_id")
    cb = load_codebook("iapt")
    ids = s.set_index("doc_id").suggested_ids
    for d in s.doc_id[acc]:
        assert again.example_codes[d] == ids[d]
    assert (again.example_codes[s.doc_id[rec]] == cb.get("Resources").theme_id).all()
    assert (again.example_codes[s.doc_id[rej]] == "").all()
    ex_ids = ["|".join(c) or "none" for c in read_codes(demo.themes[demo.year == "2015"].fillna(""), cb)]
    docs = demo.doc_id[demo.year == "2015"].astype(str)
    assert again.example_codes[docs].tolist() == [i if comment[d] else "" for i, d in zip(ex_ids, docs)]
    # a second review round: both rounds' files are given; a comment decided in both keeps the later decision
    s2 = again.reset_index()
    more = s2.index[(s2.year == "2016") & (s2.status == "ok") & (s2.example_codes == "")][:5]
    s2.loc[more, "decision"] = "accept"
    first_recode = s.doc_id[rec].iloc[0]
    s2.loc[s2.doc_id == first_recode, ["decision", "final_codes"]] = ["recode", "Media & Policy"]
    s2 = pd.concat([s2, s2.iloc[[more[0]]].assign(doc_id="not-a-comment")], ignore_index=True)  # a stray row
    s2.to_csv(tmp_path / "reviewed2.csv", index=False)
    capsys.readouterr()
    assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "coded.csv"),
                 "--examples-codes-col", "themes", "--decisions", str(tmp_path / "reviewed.csv"), "--decisions",
                 str(tmp_path / "reviewed2.csv"), "--out", str(tmp_path / "third.csv"), *common]) == 0
    said = capsys.readouterr().out
    assert f"{n_ex} coded examples (matched by doc_id), 11 decided by the coder (matched by doc_id; 1 name a doc_id " \
        "that is not among the comments: learnt from, marked on no comment)" in said
    kinds = s2["decision"].fillna("").astype(str).value_counts()  # what each file held, said by kind
    assert f"reviewed2.csv: {kinds.get('accept', 0)} accept, {kinds.get('recode', 0)} recode, " \
        f"{kinds.get('reject', 0)} reject" in said and "decisions of an earlier file were replaced by a later" in said
    third = pd.read_csv(tmp_path / "third.csv", dtype=str, keep_default_na=False).set_index("doc_id")
    assert third.example_codes[first_recode] == cb.get("Media & Policy").theme_id
    assert (third.example_codes[s2.doc_id[more]] != "").all() and (third.example_codes[s.doc_id[acc]] != "").all()


def test_audit_codes_that_read_as_a_same_named_sub_theme_warn_once_with_their_rows():
    cb = Codebook.from_dict({"Staff": ["Staff", "Attitude"], "Access": None})
    ids = ["staff", "staff.staff", "staff.attitude", "access"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y, _ = audit_labels(["Staff", "Access", "Staff", "", "Staff|Attitude"], cb, ids)
    same = [w for w in caught if "same-named sub-theme" in str(w.message)]
    assert len(same) == 1 and "in 3 rows" in str(same[0].message) and "audit codes, row 5" in str(same[0].message)
    assert y[0].tolist() == [1, 1, 0, 0] and y[4].tolist() == [1, 1, 1, 0]


def test_cli_suggest_examples_with_repeated_ids(tmp_path, capsys):
    # a coded comment pasted twice is read once and the ids still name the comments; one id holding
    # two different comments cannot name them: the examples are matched by text, and those a text
    # cannot name are counted
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo = demo[demo.year.isin(["2015", "2016"])].reset_index(drop=True)
    demo.to_csv(tmp_path / "demo.csv", index=False)
    ex = demo[demo.year == "2015"][["doc_id", "text", "themes"]]
    args = ["--examples-codes-col", "themes", "--codebook", "iapt", "--text-col", "text", "--id-col", "doc_id",
            "--model", "static", "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    pd.concat([ex, ex.iloc[:1]]).to_csv(tmp_path / "pasted.csv", index=False)
    with pytest.warns(UserWarning, match=f"1 rows repeat an earlier row exactly .*rows {len(ex) + 1}\\)"):
        assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "pasted.csv"), *args,
                     "--out", str(tmp_path / "s1.csv")]) == 0
    s = pd.read_csv(tmp_path / "s1.csv", dtype=str, keep_default_na=False)
    comment = s.status.isin(["ok", "truncated"])  # a non-answer is no coded example
    n_ex = int(((s.year == "2015") & comment).sum())
    assert f"{n_ex} coded examples (matched by doc_id)" in capsys.readouterr().out
    assert ((s.example_codes != "") == ((s.year == "2015") & comment)).all()

    clash = ex.copy()
    clash.iloc[1, 0] = clash.iloc[0, 0]  # two comments under one id
    clash.to_csv(tmp_path / "clash.csv", index=False)
    twice = demo.copy()  # and a 2016 comment with the text of the first 2015 one: that text names no comment
    twice.loc[twice.index[twice.year == "2016"][0], "text"] = ex.text.iloc[0]
    twice.to_csv(tmp_path / "demo.csv", index=False)
    with pytest.warns(UserWarning, match="column cannot name its comments \\(id column 'doc_id' has 1 duplicated"):
        assert main(["suggest", str(tmp_path / "demo.csv"), "--examples", str(tmp_path / "clash.csv"), *args,
                     "--out", str(tmp_path / "s2.csv")]) == 0
    out = capsys.readouterr().out
    s = pd.read_csv(tmp_path / "s2.csv", dtype=str, keep_default_na=False)
    found = int((s.example_codes != "").sum())
    assert (s.example_codes[s.year == "2016"] == "").all() and 100 < found < n_ex
    assert f"{found} coded examples (matched by text; {n_ex - found} are not: their text" in out
    assert s.example_codes[s.doc_id == ex.doc_id.iloc[0]].tolist() == [""]


def _coded_sample(picked_by_hand: bool, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Two periods x 300 comments, 12 themes at 1-30%: known codes of a third of each period (drawn
    at random, or a few comments per theme picked by hand) and an audit of 40 of the others."""
    rng = np.random.default_rng(seed)
    prev = np.geomspace(0.01, 0.3, 12)
    Y = (rng.random((600, 12)) < prev).astype(float)
    per = np.repeat([1, 2], 300)
    known = np.full(Y.shape, np.nan)
    for p in (1, 2):
        rows = np.flatnonzero(per == p)
        if picked_by_hand:  # up to 8 comments of each theme, rarest first, then none-of-these ones
            take: list[int] = []
            for j in range(12):
                pos = [i for i in rows if Y[i, j] and i not in take]
                take += list(rng.permutation(pos)[:8])
            take = np.array(take)
        else:
            take = rng.choice(rows, 100, replace=False)
        known[take] = Y[take]
    labels = np.full(Y.shape, np.nan)
    for p in (1, 2):
        rest = np.flatnonzero((per == p) & np.isnan(known[:, 0]))
        chk = rng.choice(rest, 40, replace=False)
        labels[chk] = Y[chk]
    return known, labels, per


def test_known_comments_picked_by_hand_are_told_from_a_random_sample():
    from themeassist.drift import KNOWN_RANDOM_ALPHA
    from themeassist.drift._known import known_sample_p

    random_p = [known_sample_p(*_coded_sample(False, s)) for s in range(5)]
    hand_p = [known_sample_p(*_coded_sample(True, s)) for s in range(5)]
    assert sum(p < KNOWN_RANDOM_ALPHA for p in random_p) <= 1  # a test at 5%: rarely rejects a random sample
    assert all(p < KNOWN_RANDOM_ALPHA for p in hand_p), hand_p
    known, labels, per = _coded_sample(False)
    assert np.isnan(known_sample_p(known, np.full(labels.shape, np.nan), per))  # no audit: nothing to test
    assert known_sample_p(known, labels, per) == known_sample_p(known, labels, per)  # seeded


def test_changes_leaves_hand_picked_examples_out_of_the_flags_count_tests():
    t = _two_waves_with_examples()

    def flag(p: float) -> str:
        t.attrs["known_random_p"] = p
        return changes(t).query("comparison == 'pair'").flag.iloc[0]

    assert flag(0.4) == "appears" and flag(0.003) == ""
    assert changes(t, known_random=True).query("comparison == 'pair'").flag.iloc[0] == "appears"  # told so


def test_a_theme_seen_in_the_audit_before_it_vanished_returns_rather_than_appears():
    # period 1 unclear on its estimate (2.5%, interval down to 0) but 2 checked positives: the theme
    # was there; period 2 absent; period 3 present again: it *returns*. Without the checked
    # positives in period 1 nothing shows it was there, and the same rise is an appearance.
    def flags(kc1: float) -> list[str]:
        se = 0.01
        t = pd.DataFrame({"period": [1, 2, 3], "theme": "a", "theme_id": "a", "n_comments": 500,
                          "n_theme": [12.5, 2.5, 30.0], "prevalence": [0.025, 0.005, 0.06],
                          "ci_low": [0.0, 0.0, 0.04], "ci_high": [0.045, 0.025, 0.08], "method": "pacc",
                          "n_checked_theme": [kc1, 0.0, 3.0]})
        t.attrs["covariance"] = {"a": {"periods": [1, 2, 3], "cov": se ** 2 * (np.eye(3) * 0.5 + 0.5)}}
        c = changes(t).query("comparison == 'pair'")
        assert c.state_from.tolist()[0] == "unclear"
        return c.flag.tolist()

    assert flags(2.0) == ["", "returns"]
    assert flags(0.0) == ["", "appears"]


def test_audit_prevalence_counts_the_comments_scoring_each_theme_high(cb):
    # 2 periods x 6 comments; the first comment of each period is a coded example (its in-sample
    # score is not used), the second is checked
    s = pd.DataFrame({"score:staff.attitude": [0.9, 0.8, 0.1, 0.6, 0.2, 0.5, 0.9, 0.1, 0.7, 0.7, 0.3, 0.2],
                      "score:staff.competence": [0.1] * 12, "score:access": [0.2, 0.1] * 6})
    period = [1] * 6 + [2] * 6
    audit = ["", "Attitude", "", "", "", "", "", "none", "", "", "", ""]
    known = ["Attitude", "", "", "", "", "", "Access", "", "", "", "", ""]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # too few checked positives for pooled rates: ppi, warned
        t = audit_prevalence(s, audit, period=period, codebook=cb, known=known).set_index(["period", "theme_id"])
    assert t.loc[(1, "staff.attitude"), "n_scored"] == 5 and t.loc[(1, "staff.attitude"), "n_scored_high"] == 3
    assert t.loc[(2, "staff.attitude"), "n_scored_high"] == 2 and t.loc[(2, "access"), "n_scored_high"] == 0
    assert t.loc[(1, "staff"), "n_scored_high"] == 3  # a parent: the highest of its leaves' scores
    # respondents with several comments in a period count once (high where any of theirs is)
    resp = ["a", "b", "b", "c", "c", "c", "a", "b", "b", "c", "c", "d"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = audit_prevalence(s, audit, period=period, codebook=cb, known=known, respondent=resp)
    r = r.set_index(["period", "theme_id"])
    assert r.loc[(1, "staff.attitude"), "n_scored"] == 2 and r.loc[(1, "staff.attitude"), "n_scored_high"] == 2
    assert r.loc[(2, "staff.attitude"), "n_scored"] == 3 and r.loc[(2, "staff.attitude"), "n_scored_high"] == 2


def test_cli_a_date_column_gives_the_same_periods_in_suggest_audit_and_drift(tmp_path, capsys):
    # a column named 'date' (a corpus column's name) in day/month/year, grouped into quarters everywhere
    from themeassist.datasets import load_iapt_demo

    demo = load_iapt_demo()
    demo = demo[demo.year.isin(["2015", "2016"])].reset_index(drop=True)
    rng = np.random.default_rng(0)
    demo["date"] = [f"{rng.integers(1, 28):02d}/{m:02d}/{y}" for y, m in
                    zip(demo.year, np.where(demo.year == "2015", 2 + 3 * rng.integers(0, 2, len(demo)), 8))]
    demo["status"] = "from the survey tool"  # an input column named like a corpus column is kept too
    demo[["doc_id", "date", "status", "text"]].to_csv(tmp_path / "c.csv", index=False)
    ex = demo.sample(60, random_state=0)
    ex[["doc_id", "text", "themes"]].to_csv(tmp_path / "coded.csv", index=False)
    periods = ["--period-col", "date", "--period-freq", "q", "--date-format", "%d/%m/%Y"]
    common = ["--codebook", "iapt", "--model", "static", "--cache-dir", str(tmp_path / "cache"), "--quiet"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["suggest", str(tmp_path / "c.csv"), "--text-col", "text", "--id-col", "doc_id", *periods,
                     "--examples", str(tmp_path / "coded.csv"), "--examples-codes-col", "themes",
                     "--out", str(tmp_path / "s.csv"), *common]) == 0
    s = pd.read_csv(tmp_path / "s.csv", dtype=str, keep_default_na=False)
    # the input's columns under their own names (status: the suggestion's; the input's kept beside it)
    assert s["date"].tolist() == demo["date"].tolist() and (s["status_input"] == "from the survey tool").all()
    assert sorted(set(s["period"])) == ["2015Q1", "2015Q2", "2016Q3"]
    assert main(["audit", str(tmp_path / "s.csv"), *periods, "--per-period", "15", "--seed", "0",
                 "--out", str(tmp_path / "a.csv")]) == 0
    a = pd.read_csv(tmp_path / "a.csv", dtype=str, keep_default_na=False)
    gold = dict(zip(demo.doc_id.astype(str), demo.themes.fillna("")))
    assert not set(a.doc_id) & set(ex.doc_id.astype(str)) and len(a) == 45
    a["codes"] = [gold[d] or "none" for d in a.doc_id]
    a.to_csv(tmp_path / "a.csv", index=False)
    capsys.readouterr()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        assert main(["drift", str(tmp_path / "s.csv"), *periods, "--audit", str(tmp_path / "a.csv"),
                     "--out", str(tmp_path / "d"), *common[:2]]) == 0
    p = pd.read_csv(tmp_path / "d" / "prevalence.csv", dtype=str)
    assert sorted(set(p["period"])) == ["2015Q1", "2015Q2", "2016Q3"] and (p["source"] != "suggested").all()


def test_floating_point_residue_of_an_estimate_reads_as_zero_or_one():
    from themeassist.drift.quantification import AuditEstimate

    z = np.zeros((1, 3))
    r = AuditEstimate(np.array([[2.6e-20, 0.3, 1 - 1e-16]]), np.array([[-1e-18, 0.1, 0.9]]),
                      np.array([[0.04, 0.5, 1 + 1e-15]]), z, np.zeros((3, 1, 1)), np.array([40]), z, np.array([False]),
                      np.zeros(3, bool), "pacc")
    assert r.prevalence.tolist() == [[0.0, 0.3, 1.0]] and r.ci_low[0, 0] == 0.0 and r.ci_high[0, 2] == 1.0
    assert r.ci_low[0, 1] == 0.1 and r.ci_high[0, 0] == 0.04  # real values untouched

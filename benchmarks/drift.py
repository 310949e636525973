"""Drift benchmark (issue #14): audit-corrected prevalence from machine scores plus a small audit.

Usage::

    python benchmarks/drift.py [DATA_DIR] [--reps 10] [--split test|dev] [--parts 1,2,3,4,5] [--audit 40]

DATA_DIR defaults to ../shared/data. Prints five parts and writes benchmarks/out/drift[_dev].json.

1. NHS v6 comments by calendar quarter: a model (logistic regressions on MiniLM + TF-IDF) trained on
   the train part of the 80/20 split (seed 42) scores the test part; a random audit of ``--audit``
   comments per quarter plays the coder (their human codes); each audit-corrected method and the raw
   suggestion counts are compared with the human prevalence of every sub-theme x quarter cell
   (MAE in percentage points, coverage of the 95% intervals).
2. Planted drift: the scored comments resampled into five "years" of 500 with raking weights that
   give six themes known paths (rise, fall, absent one year and back, appears, stable x2); an audit
   of ``--audit`` comments per year; per method over ``--reps`` replicates: coverage of the known
   values by the 95% intervals (planted themes' cells and all cells), mean interval width against
   the audit's own Wilson intervals, planted appear/vanish/return flags found (of 3) and false flags
   per replicate (over every theme). ``--split dev`` builds the same from the TRAIN part with its
   cross-validated scores: the development set on which the default method and the flag rule were
   chosen; the test split is run once for the figures in RESULTS.md.
3. Demo corpus: the few-shot mapper fitted on the 2014-2015 comments, an audit of 40 per later year
   (gold codes as the coder, ``themeassist.workflows.pipeline.demo_audit``) over several audit seeds:
   findings (significant or flagged rows of changes) recovered against the 11 of the human codes.
4. Repeated respondents (synthetic): coverage and false significant changes with and without the
   respondent id (cluster-robust intervals and tests).
5. Two waves of the same respondents on real short answers (napire2018: two questions of one
   codebook), one code planted to appear in wave 2, through the CLI: suggest -> audit -> drift
   --audit --respondent-col against drift on every answer's human codes (coverage, MAE, findings).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from scipy.special import expit, logit  # noqa: E402
from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import KFold, train_test_split  # noqa: E402

from themeassist.codebook import Codebook  # noqa: E402

HERE = Path(__file__).resolve().parent


def log(*a: object) -> None:
    print(*a, flush=True)


# ---- models -------------------------------------------------------------------------------------
def _lr_fit_predict(X: np.ndarray, texts: list[str], Y: np.ndarray, ia: np.ndarray, ib: np.ndarray) -> np.ndarray:
    """Logistic regressions on MiniLM embeddings and on TF-IDF word n-grams, averaged on the logit scale."""
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2)
    A = vec.fit_transform([texts[i] for i in ia])
    B = vec.transform([texts[i] for i in ib])
    out = np.zeros((len(ib), Y.shape[1]))
    for j in range(Y.shape[1]):
        y = Y[ia, j]
        if y.min() == y.max():
            out[:, j] = y[0]
            continue
        p1 = LogisticRegression(C=4.0, solver="liblinear", max_iter=3000).fit(X[ia], y).predict_proba(X[ib])[:, 1]
        p2 = LogisticRegression(C=10.0, solver="liblinear", max_iter=3000).fit(A, y).predict_proba(B)[:, 1]
        out[:, j] = expit((logit(np.clip(p1, 1e-4, 1 - 1e-4)) + logit(np.clip(p2, 1e-4, 1 - 1e-4))) / 2)
    return out


def scores_lr(X, texts, Y, tr, te, folds=5, seed=0):  # type: ignore[no-untyped-def]
    """Test scores from a model fitted on train, and 5-fold out-of-fold scores of train (the checked sample)."""
    P = _lr_fit_predict(X, texts, Y, tr, te)
    oof = np.zeros((len(tr), Y.shape[1]))
    for a, b in KFold(folds, shuffle=True, random_state=seed).split(tr):
        oof[b] = _lr_fit_predict(X, texts, Y, tr[a], tr[b])
    return P, oof, (P >= 0.5).astype(float)


# ---- part 1 -------------------------------------------------------------------------------------
def load_nhs(data_dir: Path):  # type: ignore[no-untyped-def]
    from themeassist.corpus import load_corpus

    path = data_dir / "nhs_fft" / "v6framework_230831.csv"
    raw = pd.read_csv(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(path, text_col="FFT answer", period_col="Date", period_freq="Q", id_col="Comment ID")
    text = corpus["text"].fillna("").astype(str)
    keep = (text.str.strip() != "") & (text.str.strip().str.lower() != "did not answer")
    sub = corpus[keep]
    cols = list(raw.columns[raw.columns.get_loc("Not assigned"):])
    Yall = raw.loc[sub.index, cols].fillna(0).astype(int)
    names = [c for c in cols if Yall[c].sum() >= 10]
    import yaml

    hier = yaml.safe_load((data_dir / "nhs_fft" / "v6_hierarchy.yaml").read_text(encoding="utf-8"))
    tree = {major: [s for s in (subs or []) if s in names] for major, subs in hier.items()}
    codebook = Codebook.from_dict({k: v for k, v in tree.items() if v}, name="nhs_v6")
    leaf_names = [t.name for t in codebook.leaves()]
    assert sorted(leaf_names) == sorted(names), "every kept subcategory sits under one major category"
    return sub.reset_index(drop=True), Yall[leaf_names].to_numpy(), leaf_names, codebook


def _audit_labels(Y: np.ndarray, per: np.ndarray, n_audit: int, rng: np.random.Generator) -> np.ndarray:
    lab = np.full(Y.shape, np.nan)
    for p in pd.unique(per):
        idx = np.flatnonzero(per == p)
        take = rng.choice(idx, size=min(n_audit, len(idx)), replace=False)
        lab[take] = Y[take]
    return lab


def part1(data_dir: Path, results: dict, n_audit: int) -> dict:
    from themeassist.drift import audit_estimate
    from themeassist.embed import get_embedder

    t0 = time.time()
    sub, Y, names, codebook = load_nhs(data_dir)
    texts = sub["text"].astype(str).tolist()
    X = get_embedder(show_progress=False).encode(texts)
    tr, te = train_test_split(np.arange(len(sub)), test_size=0.2, random_state=42)
    log(f"[1] NHS v6: {len(sub)} substantive comments, {len(names)} sub-themes, train {len(tr)} / test {len(te)}")
    P, oof, hard = scores_lr(X, texts, Y, tr, te)
    log(f"    scores in {time.time() - t0:.0f}s")
    period = sub["period"].to_numpy(dtype=object)[te]
    vc = pd.Series(period).value_counts()
    quarters = sorted(vc[vc >= 100].index)
    mask = np.isin(period, quarters)
    Yt, Pt, per = Y[te][mask], P[mask], period[mask]
    truth = np.array([Yt[per == q].mean(0) for q in quarters])
    rng = np.random.default_rng(3)
    lab = _audit_labels(Yt, per, n_audit, rng)
    out: dict = {"n_cells": int(truth.size), "quarters": [str(q) for q in quarters], "audit_per_quarter": n_audit,
                 "mean_human_prevalence_pp": float(100 * truth.mean()), "methods": {}}
    cc = np.array([(Pt[per == q] >= 0.5).mean(0) for q in quarters])
    out["methods"]["suggestions counted"] = {"mae_pp": float(100 * np.abs(cc - truth).mean())}
    for m in METHODS:
        r = audit_estimate(Pt, lab, per, periods=quarters, method=m, n_boot=200, random_state=0)
        cover = (r.ci_low - 1e-12 <= truth) & (truth <= r.ci_high + 1e-12)
        out["methods"][m] = {"mae_pp": float(100 * np.abs(r.prevalence - truth).mean()),
                             "coverage": float(cover.mean()), "mean_width_pp": float(100 * (r.ci_high - r.ci_low).mean())}
    log(f"    {out['n_cells']} sub-theme x quarter cells (quarters with >= 100 test comments), audit of {n_audit} per "
        f"quarter, mean human prevalence {out['mean_human_prevalence_pp']:.2f} pp")
    for label, v in out["methods"].items():
        extra = (f"   coverage {100 * v['coverage']:.0f}%, mean width {v['mean_width_pp']:.1f} pp" if "coverage" in v
                 else "")
        log(f"    MAE {label:<22s} {v['mae_pp']:5.2f} pp{extra}")
    out["seconds"] = round(time.time() - t0, 1)
    results["part1"] = out
    return {"P": P, "oof": oof, "Y": Y, "tr": tr, "te": te, "names": names, "codebook": codebook}


# ---- part 2 -------------------------------------------------------------------------------------
PATHS = {  # known prevalence per year (share of comments) of the six planted themes
    "rises": [0.04, 0.06, 0.08, 0.10, 0.12],
    "falls": [0.12, 0.10, 0.08, 0.06, 0.04],
    "absent_returns": [0.06, 0.06, 0.0, 0.06, 0.06],
    "appears": [0.0, 0.0, 0.05, 0.06, 0.07],
    "stable_a": [0.08] * 5,
    "stable_b": [0.05] * 5,
}
METHODS = ("pacc", "ppi", "emq")


def raking_weights(Y: np.ndarray, targets: np.ndarray, iters: int = 500) -> np.ndarray:
    """Weights on the pool's comments (iterative proportional fitting) under which the planted
    columns of Y have exactly the target prevalences; a target of 0 removes the theme's comments."""
    w = np.ones(len(Y))
    for _ in range(iters):
        for k, target in enumerate(targets):
            on = Y[:, k] == 1
            cur = w[on].sum() / w.sum()
            if cur > 0:
                w[on] *= target / cur
                w[~on] *= (1 - target) / (1 - cur)
        cur = (w[:, None] * Y).sum(0) / w.sum()
        if np.abs(cur - targets).max() < 1e-10:
            break
    return w / w.sum()


def _true_flags(known: np.ndarray) -> list[str]:
    """Flags implied by the known path: absent where the known prevalence is 0 (the rule of changes)."""
    out, seen, last = [], False, None
    for k in known:
        st = "absent" if k <= 0 else "present"
        flag = ""
        if st == "present" and last == "absent":
            flag = "returns" if seen else "appears"
        elif st == "absent" and last == "present":
            flag = "vanishes"
        seen, last = seen or st == "present", st
        out.append(flag)
    return out


def _table(est: np.ndarray, lo: np.ndarray, hi: np.ndarray, names: list[str], years: list[str], n: int,
           method: str, cov: np.ndarray | None, n_checked_theme: np.ndarray | None = None,
           df: float = float("inf"), n_checked: np.ndarray | None = None,
           n_high: np.ndarray | None = None) -> pd.DataFrame:
    """A prevalence table like ``audit_prevalence``'s (audit counts and, with ``n_high``, the counts
    of comments scoring each theme high, every comment scored) for ``changes``."""
    rows = [{"period": y, "theme": nm, "theme_id": nm, "n_comments": n, "n_theme": est[t, j] * n,
             "prevalence": est[t, j], "ci_low": lo[t, j], "ci_high": hi[t, j], "method": method,
             **({} if n_checked_theme is None else {"n_checked_theme": n_checked_theme[t, j]}),
             **({} if n_checked is None else {"n_checked": n_checked[t]}),
             **({} if n_high is None else {"n_scored": n, "n_scored_high": n_high[t, j]})}
            for t, y in enumerate(years) for j, nm in enumerate(names)]
    tab = pd.DataFrame(rows)
    if cov is not None:
        tab.attrs["covariance"] = {nm: {"periods": years, "cov": cov[j], "df": df} for j, nm in enumerate(names)}
    return tab


def part2(ctx: dict, results: dict, reps: int, split: str, n_audit: int, year_size: int = 500) -> None:
    from themeassist.drift import HIGH_SCORE, audit_estimate, changes, wilson_interval

    t0 = time.time()
    if split == "dev":
        Y, P = ctx["Y"][ctx["tr"]], ctx["oof"]
    else:
        Y, P = ctx["Y"][ctx["te"]], ctx["P"]
    names = ctx["names"]
    npos = Y.sum(0)
    order = [j for j in np.argsort(-npos) if names[j] not in ("Not assigned", "Labelling not possible")]
    planted = order[:6]
    roles = dict(zip(PATHS, planted))
    years = [str(2014 + t) for t in range(5)]
    weights = [raking_weights(Y[:, planted], np.array([PATHS[r][t] for r in PATHS])) for t in range(5)]
    known = np.array([(w[:, None] * Y).sum(0) for w in weights])  # (years, themes)
    expected = {(names[j], years[t]): f for j in range(len(names))
                for t, f in enumerate(_true_flags(known[:, j])) if f}
    log(f"[2] planted drift ({split} split): {reps} replicates x 5 years x {year_size} comments drawn with raking "
        f"weights, audit of {n_audit} per year; planted: " + "; ".join(f"{r}={names[j]!r}" for r, j in roles.items()))
    rng = np.random.default_rng(7 if split == "test" else 11)
    kinds = ["human", "suggested", *METHODS]
    acc: dict = {k: {"cov_planted": [], "cov_all": [], "width": [], "found": [], "false": [], "err": []} for k in kinds}
    wilson_width = []
    for rep in range(reps):
        idx = np.concatenate([rng.choice(len(Y), size=year_size, p=w) for w in weights])
        per = np.repeat(np.array(years, dtype=object), year_size)
        Yi, Pi = Y[idx], P[idx]
        lab = _audit_labels(Yi, per, n_audit, rng)
        k_audit = np.array([np.nansum(lab[per == y], axis=0) for y in years])
        lo_w, hi_w = wilson_interval(k_audit[:, planted], np.full((5, 6), float(n_audit)))
        wilson_width += (hi_w - lo_w).ravel().tolist()
        tabs = {}
        for kind in kinds:
            if kind in ("human", "suggested"):
                src = Yi if kind == "human" else (Pi >= 0.5).astype(float)
                k = np.array([src[per == y].sum(0) for y in years])
                lo, hi = wilson_interval(k, np.full(k.shape, float(year_size)))
                est, cov, kc, nc, method = k / year_size, None, None, None, "human"
            else:
                r = audit_estimate(Pi, lab, per, periods=years, method=kind, n_boot=200, random_state=rep)
                est, lo, hi, cov, method = r.prevalence, r.ci_low, r.ci_high, r.cov, kind
                kc, nc = r.n_checked_theme, r.n_checked
            tabs[kind] = (est, lo, hi)
            inside = (lo - 1e-12 <= known) & (known <= hi + 1e-12)
            a = acc[kind]
            a["cov_planted"] += inside[:, planted].ravel().tolist()
            a["cov_all"] += inside.ravel().tolist()
            a["width"] += (hi - lo)[:, planted].ravel().tolist()
            a["err"] += np.abs(est - known)[:, planted].ravel().tolist()
            high = None if kind in ("human", "suggested") else \
                np.array([(Pi[per == y] >= HIGH_SCORE).sum(0) for y in years])
            ch = changes(_table(est, lo, hi, names, years, year_size, method, cov, kc, n_checked=nc, n_high=high))
            fl = ch[(ch.comparison == "pair") & (ch.flag != "")]
            got = {(th, str(lvl)): f for th, lvl, f in zip(fl.theme, fl.to_level, fl.flag)}
            a["found"].append(sum(got.get(key) == v for key, v in expected.items()))
            a["false"].append(sum(1 for key, v in got.items() if expected.get(key) != v))
    out: dict = {"split": split, "planted": {r: names[j] for r, j in roles.items()}, "paths": PATHS, "reps": reps,
                 "year_size": year_size, "audit_per_year": n_audit, "known_flags": sorted(
                     f"{t} {y} {f}" for (t, y), f in expected.items()),
                 "audit_wilson_mean_width": float(np.mean(wilson_width)), "methods": {}}
    log(f"    {'':<22s} {'coverage':>9s} {'(all)':>7s} {'width':>7s} {'MAE pp':>7s} {'flags/3':>8s} {'false/rep':>9s}")
    for kind in kinds:
        a = acc[kind]
        o = out["methods"][kind] = {
            "coverage_planted": float(np.mean(a["cov_planted"])), "coverage_all": float(np.mean(a["cov_all"])),
            "mean_width": float(np.mean(a["width"])), "mae_pp_planted": float(100 * np.mean(a["err"])),
            "planted_flags_found_mean": float(np.mean(a["found"])), "false_flags_per_rep": float(np.mean(a["false"]))}
        label = {"human": "human codes (census)", "suggested": "suggestions counted"}.get(kind, f"audit, {kind}")
        log(f"    {label:<22s} {100 * o['coverage_planted']:8.1f}% {100 * o['coverage_all']:6.1f}% "
            f"{o['mean_width']:7.3f} {o['mae_pp_planted']:7.2f} {o['planted_flags_found_mean']:8.2f} "
            f"{o['false_flags_per_rep']:9.2f}")
    log(f"    audit of {n_audit} alone (Wilson): mean width {out['audit_wilson_mean_width']:.3f}")
    out["seconds"] = round(time.time() - t0, 1)
    results["part2"] = out


# ---- part 3 -------------------------------------------------------------------------------------
def _findings(ch: pd.DataFrame) -> set:
    sig = ch["significant"].fillna(False).astype(bool) | (ch["flag"].fillna("") != "")
    return {(r.theme_id, r.comparison, str(r.from_level), str(r.to_level), "up" if r.diff_pp > 0 else "down")
            for r in ch[sig].itertuples()}


def part3(results: dict, seeds: int = 5) -> None:
    t0 = time.time()
    try:
        from themeassist.datasets import load_iapt_demo

        demo = load_iapt_demo()
    except (FileNotFoundError, OSError) as exc:
        log(f"[3] demo corpus not available ({exc}); skipped")
        results["part3"] = {"skipped": str(exc)}
        return
    from themeassist.codebooks import iapt_wellbeing
    from themeassist.corpus import load_corpus
    from themeassist.drift import audit_prevalence, changes, prevalence
    from themeassist.embed import get_embedder
    from themeassist.mapping import ThemeMapper
    from themeassist.workflows.demo import demo_audit

    cb = iapt_wellbeing()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        corpus = load_corpus(demo, text_col="text", id_col="doc_id", period_col="year")
    usable = corpus["status"].isin(["ok", "truncated"]).to_numpy()
    coded = corpus[corpus["period"].isin(["2014", "2015"]) & usable]
    ex = pd.DataFrame({"doc_id": coded["doc_id"], "text": coded["text"], "codes": coded["themes"]})
    emb = get_embedder(None, show_progress=False)
    E = np.asarray(emb.encode(corpus.loc[usable, "text"].astype(str).tolist()), dtype=np.float32)
    row = {d: i for i, d in enumerate(corpus.loc[usable, "doc_id"])}
    mapper = ThemeMapper(embedder=emb, random_state=0).fit(cb, ex, example_embeddings=E[[row[d] for d in ex.doc_id]])
    full = np.zeros((len(corpus), len(mapper.leaf_ids_)))
    full[usable] = mapper.predict_proba(corpus.loc[usable, "text"].astype(str).tolist(), embeddings=E)
    pos = {d: i for i, d in enumerate(corpus["doc_id"].astype(str))}
    full[[pos[d] for d in ex["doc_id"].astype(str)]] = mapper.oof_proba_  # out-of-sample scores of the examples
    scores = pd.DataFrame(full, columns=[f"score:{t}" for t in mapper.leaf_ids_])
    period = corpus["period"].astype(str)
    human = prevalence(corpus["themes"].fillna(""), period=period, codebook=cb, status=corpus["status"])
    H = _findings(changes(human))
    sugg = mapper.suggest(corpus, embeddings=E)
    S = _findings(changes(prevalence(sugg["suggested_ids"].fillna(""), period=period, codebook=cb,
                                     status=corpus["status"], method="classify_count")))
    out: dict = {"n_human_findings": len(H), "suggested": {"recovered": len(S & H), "false": len(S - H)},
                 "methods": {}}
    for m in METHODS:
        rec, false = [], []
        for seed in range(seeds):
            audit = demo_audit(corpus, seed=seed)
            cells = dict(zip(audit.doc_id.astype(str), audit.codes))
            incl = dict(zip(audit.doc_id.astype(str), audit.inclusion_probability))
            doc = corpus["doc_id"].astype(str)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                t = audit_prevalence(scores, [cells.get(d, "") for d in doc], period=period, codebook=cb,
                                     status=corpus["status"], inclusion_probability=[incl.get(d, np.nan) for d in doc],
                                     method=m, pool_census=True, random_state=seed)
            F = _findings(changes(t))
            rec.append(len(F & H))
            false.append(len(F - H))
        out["methods"][m] = {"recovered": rec, "false": false}
        log(f"[3] demo, audit of 40 per suggested year, {m}: recovered {np.mean(rec):.1f}/{len(H)} (seeds: {rec}), "
            f"false {np.mean(false):.1f} (seeds: {false})")
    log(f"    suggestions counted: recovered {len(S & H)}/{len(H)}, false {len(S - H)}")
    out["seconds"] = round(time.time() - t0, 1)
    results["part3"] = out


# ---- part 4 -------------------------------------------------------------------------------------
def part4(results: dict, reps: int = 200) -> None:
    """Respondents who answer several times: 150 respondents x 3 comments per wave, two waves, each
    respondent's comments sharing their codes with probability 0.7 (synthetic scores); coverage of
    the known prevalence with and without the respondent id, and the rate of false significant
    changes (the prevalence does not change between the waves)."""
    from themeassist.drift import audit_estimate, changes

    t0 = time.time()
    rng = np.random.default_rng(5)
    out: dict = {"reps": reps, "respondents": 150, "comments_per_respondent_per_wave": 3, "methods": {}}
    acc = {(m, c): {"cover": [], "false_sig": []} for m in ("pacc", "ppi") for c in (False, True)}
    for _ in range(reps):
        base = rng.random(150) < 0.12  # a respondent's own leaning, kept in both waves
        y = np.concatenate([np.where(rng.random((150, 3)) < 0.7, base[:, None], rng.random((150, 3)) < 0.12)
                            for _ in range(2)]).reshape(-1, 1).astype(float)
        resp = np.tile(np.repeat(np.arange(150), 3), 2)
        per = np.repeat(np.array(["w1", "w2"], dtype=object), 450)
        s = np.clip(0.55 * y + rng.normal(0.2, 0.12, y.shape), 0, 1)
        lab = np.full(y.shape, np.nan)
        for w in ("w1", "w2"):  # audit whole respondents: 14 of 150 (42 comments) per wave
            who = rng.choice(150, 14, replace=False)
            rows = np.flatnonzero((per == w) & np.isin(resp, who))
            lab[rows] = y[rows]
        truth = 0.12
        for m in ("pacc", "ppi"):
            for clustered in (False, True):
                r = audit_estimate(s, lab, per, periods=["w1", "w2"], method=m,
                                   cluster=resp if clustered else None)
                a = acc[(m, clustered)]
                a["cover"] += ((r.ci_low[:, 0] <= truth) & (truth <= r.ci_high[:, 0])).tolist()
                tab = _table(r.prevalence, r.ci_low, r.ci_high, ["a"], ["w1", "w2"], 450, m, r.cov, df=r.df)
                a["false_sig"].append(bool(changes(tab).query("comparison == 'pair'")["p_value"].iloc[0] < 0.05))
    log(f"[4] repeated respondents (150 x 3 comments per wave, audit of 14 respondents per wave, {reps} reps):")
    for (m, c), a in acc.items():
        key = f"{m}{' clustered' if c else ''}"
        out["methods"][key] = {"coverage": float(np.mean(a["cover"])), "false_significant": float(np.mean(a["false_sig"]))}
        log(f"    {key:<16s} coverage {100 * np.mean(a['cover']):.1f}%, false significant change "
            f"{100 * np.mean(a['false_sig']):.1f}% (nominal 5%)")
    out["seconds"] = round(time.time() - t0, 1)
    results["part4"] = out


# ---- part 5 -------------------------------------------------------------------------------------
WAVES = (("v_282", "v_283", "effects", "Increased difficulty of requirements elicitation"),
         ("v_277", "v_278", "causes", "Lack of requirements management"))


def _wave_findings(ch: pd.DataFrame) -> set:
    sig = ch["significant"].fillna(False).astype(bool) | (ch["flag"].fillna("") != "")
    return {(r.theme_id, "up" if r.diff_pp > 0 else "down") for r in ch[sig & (ch.comparison == "pair")].itertuples()}


def part5(data_dir: Path, results: dict, n_audit: int, seeds: int = 3) -> None:
    """Two waves of the same respondents (napire2018: two questions of one codebook answered by the
    same people), a planted "appears" (the wave-1 answers with one code removed), through the CLI as a
    researcher runs it: suggest (30 % of the answers as examples) -> audit -> the coder's codes -> drift
    --audit --respondent-col, against drift on the human codes of every answer."""
    from themeassist.cli import main as cli

    root = data_dir / "napire2018"
    if not (root / "responses.csv").is_file():
        log(f"[5] no napire2018 under {data_dir}; skipped")
        results["part5"] = {"skipped": "no data"}
        return
    t0 = time.time()
    resp = pd.read_csv(root / "responses.csv")
    out: dict = {"audit_per_wave": n_audit, "pairs": {}}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for q1, q2, kind, planted in WAVES:
            import tempfile

            a = resp[resp.question_id == q1].assign(wave="w1")
            b = resp[resp.question_id == q2].assign(wave="w2")
            a = a[~a.codes.fillna("").str.split("|").apply(lambda c: planted in c)]
            d = pd.concat([a, b], ignore_index=True)
            d["doc_id"] = [f"{q}-{i}" for q, i in zip(d.question_id, d.index)]
            cb = str(root / f"codebook_{kind}.yaml")
            opts = ["--codebook", cb, "--none-codes", "NotCodable", "--quiet"]
            rec = {"comments": len(d), "planted_appears": planted, "seeds": []}
            with tempfile.TemporaryDirectory() as tmp:
                w = Path(tmp)
                d[["doc_id", "respondent_id", "wave", "text", "codes"]].to_csv(w / "gold.csv", index=False)
                d[["doc_id", "respondent_id", "wave", "text"]].to_csv(w / "comments.csv", index=False)
                assert cli(["drift", str(w / "gold.csv"), "--period-col", "wave", "--respondent-col", "respondent_id",
                            "--codes-col", "codes", *opts, "--out", str(w / "human")]) == 0
                human_p = pd.read_csv(w / "human" / "prevalence.csv").set_index(["period", "theme_id"]).prevalence
                H = _wave_findings(pd.read_csv(w / "human" / "changes.csv"))
                gold = dict(zip(d.doc_id, d.codes.fillna("")))
                for seed in range(seeds):
                    d.sample(frac=0.3, random_state=seed)[["doc_id", "text", "codes"]].to_csv(w / "ex.csv", index=False)
                    assert cli(["suggest", str(w / "comments.csv"), "--text-col", "text", "--id-col", "doc_id",
                                "--examples", str(w / "ex.csv"), "--examples-codes-col", "codes", "--seed",
                                str(seed), *opts, "--out", str(w / f"s{seed}.csv")]) == 0
                    assert cli(["audit", str(w / f"s{seed}.csv"), "--period-col", "wave", "--per-period",
                                str(n_audit), "--seed", str(seed), "--quiet", "--out", str(w / f"a{seed}.csv")]) == 0
                    au = pd.read_csv(w / f"a{seed}.csv", dtype=str)
                    au["codes"] = [gold[x] or "none" for x in au.doc_id]
                    au.to_csv(w / f"a{seed}.csv", index=False)
                    assert cli(["drift", str(w / f"s{seed}.csv"), "--period-col", "wave", "--respondent-col",
                                "respondent_id", "--audit", str(w / f"a{seed}.csv"), *opts, "--seed", str(seed),
                                "--out", str(w / f"d{seed}")]) == 0
                    est = pd.read_csv(w / f"d{seed}" / "prevalence.csv").set_index(["period", "theme_id"])
                    raw = pd.read_csv(w / f"d{seed}" / "suggested_prevalence.csv").set_index(["period", "theme_id"])
                    j = est.join(human_p.rename("human"), how="inner")
                    F = _wave_findings(pd.read_csv(w / f"d{seed}" / "changes.csv"))
                    S = _wave_findings(pd.read_csv(w / f"d{seed}" / "suggested_changes.csv"))
                    ch = pd.read_csv(w / f"d{seed}" / "changes.csv")
                    pl = ch[(ch.theme == planted) & (ch.comparison == "pair")]
                    # the same, with the examples declared picked by hand (not in the flags' count tests)
                    assert cli(["drift", str(w / f"s{seed}.csv"), "--period-col", "wave", "--respondent-col",
                                "respondent_id", "--audit", str(w / f"a{seed}.csv"), "--examples-chosen", *opts,
                                "--seed", str(seed), "--out", str(w / f"c{seed}")]) == 0
                    chc = pd.read_csv(w / f"c{seed}" / "changes.csv")
                    Fc, plc = _wave_findings(chc), chc[(chc.theme == planted) & (chc.comparison == "pair")]
                    rec["seeds"].append({
                        "coverage": float(((j.ci_low <= j.human) & (j.human <= j.ci_high)).mean()),
                        "mae_pp": float(100 * (j.prevalence - j.human).abs().mean()),
                        "mae_suggested_pp": float(100 * (raw.prevalence.reindex(j.index) - j.human).abs().mean()),
                        "mean_width_pp": float(100 * (j.ci_high - j.ci_low).mean()),
                        "recovered": len(F & H), "false": len(F - H), "suggested_recovered": len(S & H),
                        "suggested_false": len(S - H), "planted_flag": str(pl.flag.fillna("").iloc[0]) if len(pl) else "",
                        "planted_p": float(pl.p_value.iloc[0]) if len(pl) else float("nan"),
                        "chosen_recovered": len(Fc & H), "chosen_false": len(Fc - H),
                        "chosen_planted_flag": str(plc.flag.fillna("").iloc[0]) if len(plc) else ""})
            rec["human_findings"] = len(H)
            out["pairs"][f"{q1}->{q2}"] = rec
            s = pd.DataFrame(rec["seeds"])
            log(f"[5] {q1} -> {q2} ({kind}, {len(d)} answers, planted appears: {planted!r}), audit {n_audit}/wave, "
                f"{seeds} seeds: coverage of the human prevalence {100 * s.coverage.mean():.0f}%, MAE "
                f"{s.mae_pp.mean():.2f} pp (suggestions counted {s.mae_suggested_pp.mean():.2f}), width "
                f"{s.mean_width_pp.mean():.1f} pp; findings of the human codes {len(H)}: recovered "
                f"{s.recovered.mean():.1f}, false {s['false'].mean():.1f} (suggestions counted "
                f"{s.suggested_recovered.mean():.1f} / {s.suggested_false.mean():.1f}); planted flag found "
                f"{(s.planted_flag == 'appears').sum()} of {seeds} (p {', '.join(f'{p:.3f}' for p in s.planted_p)}); "
                f"examples declared picked by hand (--examples-chosen): recovered {s.chosen_recovered.mean():.1f}, "
                f"false {s.chosen_false.mean():.1f}, planted found {(s.chosen_planted_flag == 'appears').sum()} of "
                f"{seeds}")
    out["seconds"] = round(time.time() - t0, 1)
    results["part5"] = out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--reps", type=int, default=10, help="planted-drift replicates")
    ap.add_argument("--split", choices=("test", "dev"), default="test")
    ap.add_argument("--audit", type=int, default=40, help="audited comments per period")
    ap.add_argument("--parts", default="1,2,3,4,5", help="comma-separated parts to run (2 needs 1)")
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    results: dict = {"data_dir": str(data_dir), "split": args.split}
    t0 = time.time()
    parts = {p.strip() for p in args.parts.split(",")}
    out = Path(args.out or HERE / "out" / ("drift.json" if args.split == "test" else "drift_dev.json"))
    out.parent.mkdir(parents=True, exist_ok=True)

    def save() -> None:  # after every part, so that a later failure keeps the figures
        out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")

    if parts & {"1", "2"}:
        if (data_dir / "nhs_fft" / "v6framework_230831.csv").is_file():
            ctx = part1(data_dir, results, args.audit)
            save()
            if "2" in parts:
                part2(ctx, results, args.reps, args.split, args.audit)
                save()
        else:
            log(f"[1,2] no NHS data under {data_dir}; skipped")
    if "3" in parts:
        part3(results)
        save()
    if "4" in parts:
        part4(results)
        save()
    if "5" in parts:
        part5(data_dir, results, args.audit)
    results["seconds"] = round(time.time() - t0, 1)
    save()
    log(f"wrote {out} ({results['seconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Drift benchmark (issue #5): prevalence estimation error, planted drift, demo corpus.

Usage::

    python benchmarks/drift.py [DATA_DIR] [--model lr|mapper] [--reps 10] [--parts 1,2,3]

DATA_DIR defaults to ../shared/data. Prints three parts and writes benchmarks/out/drift.json.

1. NHS v6 comments by calendar quarter: a mapping model trained on the train part of the 80/20
   split (seed 42) scores the test part; prevalence per sub-theme x quarter (cells with >= 30 test
   comments) is estimated by classify-and-count, probability averaging and the error-adjusted
   estimators (checked sample = cross-validated scores of the TRAIN part), and compared with the
   human codes (MAE in percentage points).
2. Planted drift: test comments resampled into five "years" with raking weights that give six
   themes known prevalence paths (rise, fall, absent one year and back, appears, stable x2); every
   theme's known value is its weighted prevalence in the pool. Coverage of the known values by the
   95% intervals (human codes: Wilson; model scores: bootstrap), and the appear / vanish / return
   flags against those implied by the known paths (false flags counted over every theme).
3. Demo corpus: prevalence from human codes and from cross-fitted model scores (calibrated
   averaging and EM, a random 30% as the coder-checked sample), against the written table
   (correlation, MAE) and the study's flags.
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
from themeassist.drift import changes, estimate_prevalence, prevalence  # noqa: E402

HERE = Path(__file__).resolve().parent
METHODS = {"classify_count": "cc", "prob_average": "pcc", "acc": "acc", "pacc": "pacc", "em": "em",
           "adjusted (cpcc)": "cpcc"}


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


def scores_mapper(X, texts, Y, tr, te, codebook, names):  # type: ignore[no-untyped-def]
    from themeassist.mapping import ThemeMapper

    ex = pd.DataFrame({"text": [texts[i] for i in tr],
                       "codes": ["|".join(n for n, v in zip(names, Y[i]) if v) for i in tr]})
    mapper = ThemeMapper(random_state=0).fit(codebook, ex, example_embeddings=X[tr])
    order = [mapper.leaf_names_.index(n) for n in names]
    P = mapper.predict_proba([texts[i] for i in te], embeddings=X[te])[:, order]
    hard = mapper.predict([texts[i] for i in te], embeddings=X[te])[:, order].astype(float)
    return P, mapper.oof_proba_[:, order], hard


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


def part1(data_dir: Path, model: str, results: dict) -> dict:
    from themeassist.embed import get_embedder

    t0 = time.time()
    sub, Y, names, codebook = load_nhs(data_dir)
    texts = sub["text"].astype(str).tolist()
    X = get_embedder(show_progress=False).encode(texts)
    tr, te = train_test_split(np.arange(len(sub)), test_size=0.2, random_state=42)
    log(f"[1] NHS v6: {len(sub)} substantive comments, {len(names)} sub-themes, train {len(tr)} / test {len(te)}; "
        f"model {model}")
    if model == "mapper":
        P, oof, hard = scores_mapper(X, texts, Y, tr, te, codebook, names)
    else:
        P, oof, hard = scores_lr(X, texts, Y, tr, te)
    log(f"    scores in {time.time() - t0:.0f}s")
    period = sub["period"].to_numpy(dtype=object)[te]
    vc = pd.Series(period).value_counts()
    quarters = sorted(vc[vc >= 30].index)
    mask = np.isin(period, quarters)
    human = prevalence(pd.DataFrame(Y[te][mask], columns=names), period=period[mask], method="human")
    key = ["period", "theme"]
    truth = human.set_index(key)["prevalence"]
    train_prev = pd.Series(Y[tr].mean(0), index=names)
    const = pd.Series([train_prev[t] for _, t in truth.index], index=truth.index)
    mae = {"constant training prevalence": float(100 * (const - truth).abs().mean())}
    Pdf, oofdf = pd.DataFrame(P[mask], columns=names), pd.DataFrame(oof, columns=names)
    checked = (pd.DataFrame(Y[tr], columns=names), oofdf)
    coverage = {}
    tables = {}
    for label, m in METHODS.items():
        src = pd.DataFrame(hard[mask], columns=names) if m == "cc" else Pdf
        est = estimate_prevalence(src, period=period[mask], checked_sample=checked, method=m, n_boot=200,
                                  random_state=0)
        est = est.set_index(key).loc[truth.index]
        tables[m] = est
        mae[label] = float(100 * (est["prevalence"] - truth).abs().mean())
        coverage[label] = float(((est["ci_low"] <= truth + 1e-12) & (truth <= est["ci_high"] + 1e-12)).mean())
    out = {"model": model, "n_cells": int(len(truth)), "quarters": [str(q) for q in quarters],
           "mean_human_prevalence_pp": float(100 * truth.mean()), "mae_pp": mae,
           "ci_coverage_of_human_prevalence": coverage,
           "adjusted_beats_cc": mae["adjusted (cpcc)"] < mae["classify_count"],
           "adjusted_beats_constant": mae["adjusted (cpcc)"] < mae["constant training prevalence"],
           "target_mae_0_6_met": mae["adjusted (cpcc)"] <= 0.6, "seconds": round(time.time() - t0, 1)}
    log(f"    {out['n_cells']} sub-theme x quarter cells (>= 30 test comments), mean human prevalence "
        f"{out['mean_human_prevalence_pp']:.2f} pp")
    for label, v in mae.items():
        cov = f"   (95% CI covers human value in {100 * coverage[label]:.0f}% of cells)" if label in coverage else ""
        log(f"    MAE {label:<30s} {v:5.2f} pp{cov}")
    log(f"    adjusted beats classify-and-count: {out['adjusted_beats_cc']}; beats constant: "
        f"{out['adjusted_beats_constant']}; MAE <= 0.6 pp: {out['target_mae_0_6_met']}")
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
PART2_MODEL_METHODS = ("cpcc", "pacc", "em")


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
    from themeassist.drift._stats import _flags

    return _flags(["absent" if k <= 0 else "present" for k in known])


def part2(ctx: dict, results: dict, reps: int, year_size: int = 500) -> None:
    """Test comments resampled into five years with raking weights that give six planted themes
    known prevalence paths; every theme's known value is its weighted prevalence in the pool."""
    t0 = time.time()
    Y, P, names = ctx["Y"][ctx["te"]], ctx["P"], ctx["names"]
    oof, ytr = ctx["oof"], ctx["Y"][ctx["tr"]]
    npos = Y.sum(0)
    order = [j for j in np.argsort(-npos) if names[j] not in ("Not assigned", "Labelling not possible")]
    planted = order[:6]
    roles = dict(zip(PATHS, planted))
    years = [str(2014 + t) for t in range(5)]
    weights = [raking_weights(Y[:, planted], np.array([PATHS[r][t] for r in PATHS])) for t in range(5)]
    known = np.array([(w[:, None] * Y).sum(0) for w in weights])  # (years, themes)
    assert np.allclose(known[:, planted], np.array([[PATHS[r][t] for r in PATHS] for t in range(5)]), atol=1e-6)
    expected = {(names[j], years[t]): f for j in range(len(names))
                for t, f in enumerate(_true_flags(known[:, j])) if f}
    log(f"[2] planted drift: {reps} replicates x 5 years x {year_size} test comments drawn with raking weights; "
        "planted: " + "; ".join(f"{role}={names[j]!r}" for role, j in roles.items()))
    log(f"    known flags: {sorted(f'{t} {y} {f}' for (t, y), f in expected.items())}")
    rng = np.random.default_rng(7)
    kinds = ["human"] + list(PART2_MODEL_METHODS)
    cover = {k: [] for k in kinds}
    cover_planted = {k: [] for k in kinds}
    err = {k: [] for k in kinds}
    flag_stats = {k: [] for k in kinds}
    checked = (pd.DataFrame(ytr, columns=names), pd.DataFrame(oof, columns=names))
    for _ in range(reps):
        idx = np.concatenate([rng.choice(len(Y), size=year_size, p=w) for w in weights])
        per = np.repeat(np.array(years, dtype=object), year_size)
        tabs = {"human": prevalence(pd.DataFrame(Y[idx], columns=names), period=per, method="human")}
        for m in PART2_MODEL_METHODS:
            tabs[m] = estimate_prevalence(pd.DataFrame(P[idx], columns=names), period=per, method=m,
                                          checked_sample=checked, n_boot=200, random_state=int(rng.integers(1 << 31)))
        for kind, tab in tabs.items():
            tab = tab.set_index(["period", "theme"])
            for t, yr in enumerate(years):
                rows = tab.loc[yr].loc[names]
                inside = (rows["ci_low"] - 1e-12 <= known[t]) & (known[t] <= rows["ci_high"] + 1e-12)
                cover[kind] += inside.tolist()
                cover_planted[kind] += inside.iloc[planted].tolist()
                err[kind] += np.abs(rows["prevalence"].to_numpy() - known[t])[planted].tolist()
            ch = changes(tab.reset_index())
            fl = ch[(ch.comparison == "pair") & (ch.flag != "")]
            got = {(th, str(lvl)): f for th, lvl, f in zip(fl.theme, fl.to_level, fl.flag)}
            found = sum(got.get(k) == v for k, v in expected.items())
            false = sum(1 for k, v in got.items() if expected.get(k) != v)
            flag_stats[kind].append((found, false))
    out: dict = {"planted": {role: names[j] for role, j in roles.items()}, "paths": PATHS, "reps": reps,
                 "year_size": year_size, "known_flags": sorted(f"{t} {y} {f}" for (t, y), f in expected.items()),
                 "n_themes_checked": len(names)}
    for kind in kinds:
        found = np.array([f for f, _ in flag_stats[kind]])
        false = np.array([f for _, f in flag_stats[kind]])
        o = out[kind if kind == "human" else f"model_{kind}"] = {
            "ci_coverage_all_themes": float(np.mean(cover[kind])),
            "ci_coverage_planted": float(np.mean(cover_planted[kind])),
            "mae_pp_planted": float(100 * np.mean(err[kind])),
            "known_flags_found_mean": float(found.mean()), "known_flags": len(expected),
            "all_known_flags_found_rate": float((found == len(expected)).mean()),
            "false_flags_mean": float(false.mean()), "false_flags_max": int(false.max()),
            "reps_with_at_most_one_false_flag": float((false <= 1).mean())}
        label = "human codes" if kind == "human" else f"model, {kind}"
        log(f"    {label:>12s}: 95% CI coverage of known prevalence {100 * o['ci_coverage_all_themes']:.1f}% "
            f"(planted themes {100 * o['ci_coverage_planted']:.1f}%, MAE {o['mae_pp_planted']:.2f} pp); known flags "
            f"found {o['known_flags_found_mean']:.2f}/{len(expected)}; false flags mean {o['false_flags_mean']:.2f}, "
            f"max {o['false_flags_max']} (<= 1 in {100 * o['reps_with_at_most_one_false_flag']:.0f}% of replicates)")
    out["seconds"] = round(time.time() - t0, 1)
    results["part2"] = out


# ---- part 3 -------------------------------------------------------------------------------------
DEMO_FLAGS = [("Inter-professional Rivalry", "2017", "vanishes"), ("Inter-professional Rivalry", "2018", "returns"),
              ("Media & Policy", "2016", "appears"), ("The Unsuitable Client", "2017", "vanishes"),
              ("The Unsuitable Client", "2018", "returns")]


def part3(results: dict, model: str) -> None:
    t0 = time.time()
    try:
        from themeassist.datasets import iapt_demo_prevalence, load_iapt_demo

        demo = load_iapt_demo()
        written = iapt_demo_prevalence()
    except (FileNotFoundError, OSError) as exc:
        log(f"[3] demo corpus not available ({exc}); skipped")
        results["part3"] = {"skipped": str(exc)}
        return
    from themeassist.codebooks import iapt_wellbeing
    from themeassist.embed import get_embedder

    cb = iapt_wellbeing()
    leaves = [t.name for t in cb.leaves()]
    n_year = demo.groupby("year").size()
    wprev = written.div(n_year.reindex(written.columns).to_numpy(), axis=1)
    out: dict = {"n_comments": int(len(demo))}
    human = prevalence(demo["themes"], period=demo["year"], codebook=cb)
    texts = demo["text"].astype(str).tolist()
    X = get_embedder(show_progress=False).encode(texts)
    Y = np.array([[int(n in set(s.split("|"))) for n in leaves] for s in demo["themes"]])
    # cross-fitting: every comment scored by a model that did not see it; a random 30% is the coder-checked sample
    P = np.zeros(Y.shape)
    for a, b in KFold(5, shuffle=True, random_state=0).split(X):
        P[b] = _lr_fit_predict(X, texts, Y, a, b) if model == "lr" else \
            scores_mapper(X, texts, Y, a, b, cb, leaves)[0]
    rng = np.random.default_rng(0)
    chk = rng.choice(len(demo), size=int(0.3 * len(demo)), replace=False)
    checked = (pd.DataFrame(Y[chk], columns=leaves), pd.DataFrame(P[chk], columns=leaves))
    tables = {"human": human}
    for m in ("cpcc", "em"):
        tables[f"model_{m}"] = estimate_prevalence(pd.DataFrame(P, columns=leaves), period=demo["year"], codebook=cb,
                                                  method=m, checked_sample=checked, n_boot=200)
    human_flags = None
    for kind, tab in tables.items():
        est = tab[tab.is_leaf].pivot(index="theme", columns="period", values="prevalence").loc[wprev.index,
                                                                                              wprev.columns]
        r = float(np.corrcoef(est.to_numpy().ravel(), wprev.to_numpy().ravel())[0, 1])
        mae = float(100 * (est - wprev).abs().to_numpy().mean())
        ch = changes(tab)
        fl = ch[(ch.comparison == "pair") & (ch.flag != "") & (ch.depth == ch.depth.max())]
        got = set(zip(fl.theme, fl.to_level.astype(str), fl.flag))
        human_flags = got if human_flags is None else human_flags
        found = [f for f in DEMO_FLAGS if f in got]
        out[kind] = {"correlation_with_written": r, "mae_pp_vs_written": mae,
                     "study_flags_found": [" ".join(f) for f in found], "n_study_flags": len(DEMO_FLAGS),
                     "flags_not_in_human_codes": sorted(" ".join(f) for f in got - human_flags),
                     "all_flags": sorted(" ".join(f) for f in got)}
        log(f"[3] demo ({kind}): correlation with the written table {r:.3f}, MAE {mae:.2f} pp; study flags found "
            f"{len(found)}/{len(DEMO_FLAGS)}; flags not given by the human codes: "
            f"{', '.join(out[kind]['flags_not_in_human_codes']) or 'none'}")
        if kind == "human":
            log(f"    all flags from the human codes: {', '.join(out[kind]['all_flags'])}")
    out["seconds"] = round(time.time() - t0, 1)
    results["part3"] = out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("data_dir", nargs="?", default=str(HERE.parent.parent / "shared" / "data"))
    ap.add_argument("--model", choices=("lr", "mapper"), default="lr")
    ap.add_argument("--reps", type=int, default=10, help="planted-drift replicates")
    ap.add_argument("--parts", default="1,2,3", help="comma-separated parts to run (2 needs 1)")
    ap.add_argument("--out", default=str(HERE / "out" / "drift.json"))
    args = ap.parse_args(argv)
    data_dir = Path(args.data_dir)
    results: dict = {"data_dir": str(data_dir)}
    t0 = time.time()
    parts = {p.strip() for p in args.parts.split(",")}
    if not parts & {"1", "2"}:
        pass
    elif (data_dir / "nhs_fft" / "v6framework_230831.csv").is_file():
        ctx = part1(data_dir, args.model, results)
        if "2" in parts:
            part2(ctx, results, args.reps)
    else:
        log(f"[1,2] no NHS data under {data_dir}; skipped")
    if "3" in parts:
        part3(results, args.model)
    results["seconds"] = round(time.time() - t0, 1)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    log(f"wrote {out} ({results['seconds']:.0f}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the mapping layer: the NHS FFT v6 framework (issue #4) and the napire2018
questions (issue #13).

Usage::

    python benchmarks/mapping.py [DATA_DIR] [--draws 5] [--cache-dir DIR] [--model minilm|static|e5]
                                 [--no-nhs] [--no-napire] [--no-references] [--scale 6211,100000]
                                 [--name-weight W] [--napire-seed 0] [--decision-draws 3]
                                 [--before benchmarks/mapping_before.json]

DATA_DIR defaults to ``../shared/data`` (relative to the repository root).

**napire2018** (a development set): per question (10), a codebook of the coders' category sheet
restricted to the codes used in the question, 30 % of the answers (seeded permutation, seed 0) as
coded examples and the rest suggested. Reported: mean per-code Cohen's kappa over codes with >= 3
coded answers among the suggested ones (as ``agreement()`` reports it), codes per answer over the
coder's, share of "none of these" (the coder's: NotCodable), ECE over each answer's five
best-scored themes (15 equal-mass bins), and the held-out kappa that ``themeassist suggest`` prints
before any answer is read (``held_out_quality``, with its nominal 95 % range for the suggested
answers) beside the kappa then measured. Then 20 of the suggested answers (seeded) are decided by
a simulated coder answering with the human codes (accept / recode / reject) and read back with
``read_decisions``; the mapper is refitted with them and kappa on the other answers is compared.

**NHS** protocol:

- substantive comments of ``nhs_fft/v6framework_230831.csv`` (text read as written; rows whose
  text is empty or "Did not answer" dropped): 6,211 comments;
- one fixed random 80/20 split (``train_test_split(..., test_size=0.2, random_state=42)``):
  4,968 train / 1,243 test;
- evaluation over the subcategories with at least 10 coded comments (41): macro-F1, micro-F1,
  macro-F1 after rolling predictions and truth up to the major categories of
  ``v6_hierarchy.yaml``, mean per-code kappa, codes per comment over the coders', the share of
  coded comments whose best-scored theme is one of their codes, and ECE (each comment's 5
  best-scored themes, 15 equal-mass bins; reliability plot ``benchmarks/out/mapping_reliability.png``),
  and the held-out kappa ``themeassist suggest`` prints (``held_out_quality``; ``held_out_inside``:
  the share of fits whose measured kappa lies in its nominal 95 % range);
- themeassist zero-shot (codebook names only, scored over all substantive comments at once:
  transductive, no label used), few-shot with k = 5, 10 and 20 coded comments per evaluated
  subcategory (averaged over ``--draws`` draws; each drawn comment keeps all its codes) and
  supervised (the whole train split), next to reference methods: cosine similarity to the
  subcategory names (top-1), logistic regression on the same embeddings with the k examples,
  TF-IDF (word 1-2-grams) + one-vs-rest LinearSVC and logistic regression on embeddings on the
  whole train split (all one-vs-rest with balanced class weights, default C, decision at 0).

Generalisation check of the zero-shot regime: the built-in IAPT demo corpus (622 comments) with
the built-in ``iapt_wellbeing`` codebook (18 sub-themes with descriptions).

``--before FILE`` prints the figures of an earlier run (a JSON this script wrote) beside these;
``benchmarks/mapping_before.json`` holds those of the mapper before issue #13. Results go to
``benchmarks/out/mapping.json``. ``--scale`` times the static path (no cache): fit on the train
split, suggest (embed + map) at the given corpus sizes (drawn from the comments with replacement).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import time
import tracemalloc
import warnings
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import f1_score  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402

from themeassist.codebook import load_codebook  # noqa: E402
from themeassist.embed import get_embedder  # noqa: E402
from themeassist.mapping import ThemeMapper, held_out_quality  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import _mapping_eval as ev  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def load(data_dir: Path) -> tuple[pd.DataFrame, list[str]]:
    path = data_dir / "nhs_fft" / "v6framework_230831.csv"
    df = pd.read_csv(path, keep_default_na=False, dtype=str)
    text = df["FFT answer"].str.strip()
    df = df[(text != "") & (text != "Did not answer")].reset_index(drop=True)
    code_cols = list(df.columns[df.columns.get_loc("Not assigned"):])
    return df, code_cols


class Task:
    def __init__(self, data_dir: Path, cache_dir: str | None, model: str | None = None) -> None:
        df, code_cols = load(data_dir)
        self.cb = load_codebook(data_dir / "nhs_fft" / "v6_hierarchy.yaml")
        self.leaves = [t.name for t in self.cb.leaves()]
        missing = [c for c in self.leaves if c not in code_cols]
        Y = np.zeros((len(df), len(self.leaves)), dtype=np.int8)
        for j, name in enumerate(self.leaves):
            if name in code_cols:
                Y[:, j] = (pd.to_numeric(df[name], errors="coerce").fillna(0) > 0).astype(np.int8)
        if missing:
            print(f"note: {len(missing)} codebook leaves have no column in the data: {missing}")
        self.texts = df["FFT answer"].tolist()
        self.doc_ids = df["Comment ID"].astype(str).tolist()
        self.Y = Y
        self.codes = ["|".join(self.leaves[j] for j in np.where(Y[i])[0]) for i in range(len(df))]
        self.train, self.test = train_test_split(np.arange(len(df)), test_size=0.2, random_state=42)
        self.eval_cols = np.where(Y.sum(0) >= 10)[0]
        self.majors = [t.name for t in self.cb.roots()]
        self.major_of = {t.name: self.cb.ancestors(t.theme_id)[0].name if self.cb.ancestors(t.theme_id) else t.name
                         for t in self.cb.leaves()}
        t0 = time.time()
        self.embedder = get_embedder(model, cache_dir=cache_dir, show_progress=False)
        self.E = self.embedder.encode(self.texts)
        self.embed_s = time.time() - t0
        print(f"{len(df)} substantive comments ({len(self.train)} train / {len(self.test)} test), "
              f"{len(self.eval_cols)} evaluated subcategories, {len(self.leaves)} leaves; "
              f"embeddings {self.E.shape} in {self.embed_s:.1f}s (cached: {self.embedder.model_id})")

    def rollup(self, M: np.ndarray) -> np.ndarray:
        R = np.zeros((M.shape[0], len(self.majors)), dtype=np.int8)
        for j in self.eval_cols:
            R[:, self.majors.index(self.major_of[self.leaves[j]])] |= M[:, j]
        return R

    def score(self, pred_test: np.ndarray) -> dict[str, float]:
        yt = self.Y[self.test]
        cols = self.eval_cols
        macro = f1_score(yt[:, cols], pred_test[:, cols], average="macro", zero_division=0)
        micro = f1_score(yt[:, cols], pred_test[:, cols], average="micro", zero_division=0)
        Rt, Rp = self.rollup(yt), self.rollup(pred_test)
        mj = np.where(Rt.sum(0) > 0)[0]
        major = f1_score(Rt[:, mj], Rp[:, mj], average="macro", zero_division=0)
        return {"macro_f1": float(macro), "micro_f1": float(micro), "major_macro_f1": float(major)}

    def draw(self, k: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        chosen: set[int] = set()
        Ytr = self.Y[self.train]
        for j in self.eval_cols:
            pos = self.train[Ytr[:, j] == 1]
            chosen |= set(rng.choice(pos, size=min(k, len(pos)), replace=False).tolist())
        return np.array(sorted(chosen))

    def examples(self, idx: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({"doc_id": [self.doc_ids[i] for i in idx], "text": [self.texts[i] for i in idx],
                             "codes": [self.codes[i] for i in idx]})


def top1(S: np.ndarray) -> np.ndarray:
    M = np.zeros(S.shape, dtype=np.int8)
    M[np.arange(len(S)), S.argmax(1)] = 1
    return M


def ovr(make, X, Y, Xt) -> np.ndarray:  # type: ignore[no-untyped-def]
    out = np.zeros((Xt.shape[0], Y.shape[1]), dtype=np.int8)
    for j in range(Y.shape[1]):
        if Y[:, j].sum() == 0 or Y[:, j].sum() == len(Y):
            continue
        out[:, j] = make().fit(X, Y[:, j]).predict(Xt)
    return out


def iapt_zero_shot(embedder) -> dict:  # type: ignore[no-untyped-def]
    """Zero-shot on the IAPT demo corpus with the built-in IAPT codebook (gold sub-themes given)."""
    from themeassist.codebooks import iapt_wellbeing
    from themeassist.datasets import load_iapt_demo

    demo, cb = load_iapt_demo(), iapt_wellbeing()
    leaves = [t.name for t in cb.leaves()]
    Y = np.zeros((len(demo), len(leaves)), dtype=np.int8)
    for i, codes in enumerate(demo["themes"]):
        for name in filter(None, codes.split("|")):
            Y[i, leaves.index(name)] = 1
    texts = demo["text"].tolist()
    mapper = ThemeMapper(embedder=embedder, random_state=0).fit(cb)
    P = mapper.predict(texts, embeddings=embedder.encode(texts))
    parent = [cb.ancestors(t.theme_id)[-1].name for t in cb.leaves()]
    majors = sorted(set(parent))
    cols = [[j for j, p in enumerate(parent) if p == g] for g in majors]
    roll = lambda M: np.stack([M[:, c].max(1) for c in cols], 1)  # noqa: E731
    return {"macro_f1": float(f1_score(Y, P, average="macro", zero_division=0)),
            "micro_f1": float(f1_score(Y, P, average="micro", zero_division=0)),
            "major_macro_f1": float(f1_score(roll(Y), roll(P), average="macro", zero_division=0)),
            "regime": mapper.regime_}


def references(task: Task, ks: list[int], draws: int) -> dict[str, dict]:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import LinearSVC

    res: dict[str, dict] = {}
    names = task.embedder.encode(task.leaves)
    res["cosine-to-name (zero-shot)"] = task.score(top1(task.E[task.test] @ names.T))
    for k in ks:
        runs = []
        for d in range(draws):
            idx = task.draw(k, d)
            runs.append(task.score(ovr(lambda: LogisticRegression(class_weight="balanced", max_iter=1000),
                                       task.E[idx], task.Y[idx], task.E[task.test])))
        res[f"logistic regression k={k}"] = mean_runs(runs)
    tr, te = task.train, task.test
    txt_tr, txt_te = [task.texts[i] for i in tr], [task.texts[i] for i in te]
    vec = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
    Xtr, Xte = vec.fit_transform(txt_tr), vec.transform(txt_te)
    res["TF-IDF + LinearSVC (supervised)"] = task.score(ovr(lambda: LinearSVC(class_weight="balanced"), Xtr,
                                                            task.Y[tr], Xte))
    res["logistic regression on embeddings (supervised)"] = task.score(
        ovr(lambda: LogisticRegression(solver="liblinear", class_weight="balanced"), task.E[tr], task.Y[tr],
            task.E[te]))
    return res


def mean_runs(runs: list[dict]) -> dict:
    out = {key: float(np.mean([r[key] for r in runs])) for key in runs[0] if isinstance(runs[0][key], float)}
    out.update({key + "_sd": float(np.std([r[key] for r in runs])) for key in ("macro_f1",)})
    out["n_draws"] = len(runs)
    for key in runs[0]:
        if not isinstance(runs[0][key], float):
            out[key] = runs[0][key]
    return out


def evaluate(task: Task, m: ThemeMapper) -> tuple[dict[str, Any], dict[str, Any]]:
    """Scores of a fitted mapper on the test split: F1s, per-code kappa, codes per comment, the
    share of comments whose best theme is right, and reliability over each comment's 5 best themes."""
    texts = [task.texts[i] for i in task.test]
    D, P, _ = ev.picks(m, texts, task.E[task.test])
    yt = task.Y[task.test]
    rel = ev.reliability(*ev.top_pairs(P, yt))
    held = held_out_quality(m, n_new=len(task.test)) if getattr(m, "oof_proba_", None) is not None else None
    kappa = ev.code_kappa(D, yt)
    return ({**task.score(D), "kappa": kappa, "codes_ratio": ev.codes_ratio(D, yt),
             "first_right": ev.first_right(P, yt), "ece_top5": rel["ece"], "regime": m.regime_,
             **({} if held is None else {"held_out_kappa": held.mean_kappa, "held_out_inside": float(
                 held.kappa_interval[0] <= kappa <= held.kappa_interval[1])})}, rel)


def doubt(task: Task, m: ThemeMapper, examples: pd.DataFrame, pred: np.ndarray) -> dict[str, float]:
    """``--target-recall 0.9`` sets and ``--auto-accept 0.95`` marks, learnt from the mapper's held-out
    examples, measured on the test comments (``pred``: the mapper's suggestions for them)."""
    from themeassist.mapping.conformal import AutoAccept, RecallSets, held_out_scores

    ho = held_out_scores(m, examples)
    rs = RecallSets(target_recall=0.9).fit(ho.scores, ho.labels, known=ho.known)
    acc = AutoAccept(target_precision=0.95).fit(ho.scores, ho.labels, known=ho.known)
    P = m.predict_proba([task.texts[i] for i in task.test], embeddings=task.E[task.test])
    Y = task.Y[task.test].astype(bool)
    has = Y.sum(1) > 0
    S = rs.predict(P)
    A = acc.predict(P) & (pred > 0)
    return {"recall90_recall": float(((S & Y).sum(1)[has] / Y.sum(1)[has]).mean()),
            "recall90_set_size": float(S.sum(1).mean()), "recall90_threshold": rs.threshold_,
            "recall90_held_out": rs.held_out_recall_,
            "accept95_precision": float(Y[A].mean()) if A.any() else float("nan"),
            "accept95_share": float(A.sum() / max(int((pred > 0).sum()), 1)), "accept95_threshold": acc.threshold_}


def themeassist_runs(task: Task, ks: list[int], draws: int, make: Any) -> tuple[dict[str, dict], dict, dict]:
    res: dict[str, dict] = {}
    curves: dict[str, dict] = {}
    pos = {i: r for r, i in enumerate(task.test)}
    te_rows = np.array([pos[i] for i in task.test])

    # zero-shot: score all substantive comments together (transductive; labels unused)
    t0 = time.time()
    zs = make().fit(task.cb)
    P = zs.predict(task.texts, embeddings=task.E)
    res["themeassist zero-shot"] = {**task.score(P[task.test]), "regime": zs.regime_,
                                    "codes_ratio": ev.codes_ratio(P[task.test], task.Y[task.test]),
                                    "seconds": round(time.time() - t0, 1)}
    Pt = zs.predict([task.texts[i] for i in task.test], embeddings=task.E[task.test])
    res["themeassist zero-shot (test comments only)"] = {**task.score(Pt[te_rows]), "regime": zs.regime_}
    res["themeassist zero-shot, IAPT demo (18 sub-themes)"] = iapt_zero_shot(task.embedder)
    for k in ks:
        runs, rels = [], []
        t0 = time.time()
        for d in range(draws):
            idx = task.draw(k, d)
            m = make(random_state=d).fit(task.cb, task.examples(idx), example_embeddings=task.E[idx])
            r, rel = evaluate(task, m)
            pr = m.predict([task.texts[i] for i in task.test], embeddings=task.E[task.test])
            r.update(doubt(task, m, task.examples(idx), pr))
            runs.append(r)
            rels.append(rel)
        res[f"themeassist k={k}"] = {**mean_runs(runs), "seconds_per_draw": round((time.time() - t0) / draws, 1)}
        curves[f"k={k} (draw 1)"] = rels[0]
    t0 = time.time()
    sup = make(random_state=0).fit(task.cb, task.examples(task.train), example_embeddings=task.E[task.train])
    fit_s = time.time() - t0
    r, curves["supervised"] = evaluate(task, sup)
    pr = sup.predict([task.texts[i] for i in task.test], embeddings=task.E[task.test])
    r.update(doubt(task, sup, task.examples(task.train), pr))
    res["themeassist supervised"] = {**r, "fit_seconds": round(fit_s, 1),
                                     "stack_weights": {k: round(v, 3) for k, v in sup.stack_weights_.items()}}
    # timing: a suggestion run over all substantive comments (embeddings from the cache)
    timing = {}
    for label, mapper in (("supervised", sup), ("zero-shot", zs)):
        tracemalloc.start()
        t0 = time.time()
        out = mapper.suggest(pd.DataFrame({"doc_id": task.doc_ids, "text": task.texts, "status": "ok"}),
                             embeddings=task.E)
        secs = time.time() - t0
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        timing[label] = {"rows": len(out), "seconds": round(secs, 2), "peak_traced_mib": round(peak / 2**20, 1)}
    timing["max_rss_mib"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    return res, timing, curves


def _fmt(v: Any, spec: str = "6.3f") -> str:
    return format(v, spec) if isinstance(v, (int, float)) and v == v else " " * (len(format(0.0, spec)))


def print_nhs(ours: dict, refs: dict, before: dict) -> list[dict]:
    rows = []
    order = [("zero-shot", "themeassist zero-shot", "cosine-to-name (zero-shot)"),
             ("zero-shot, test comments only", "themeassist zero-shot (test comments only)", None),
             ("zero-shot, IAPT demo", "themeassist zero-shot, IAPT demo (18 sub-themes)", None),
             ("k=5", "themeassist k=5", "logistic regression k=5"),
             ("k=10", "themeassist k=10", "logistic regression k=10"),
             ("k=20", "themeassist k=20", "logistic regression k=20"),
             ("supervised", "themeassist supervised", "TF-IDF + LinearSVC (supervised)"),
             ("supervised", None, "logistic regression on embeddings (supervised)")]
    print()
    print(f"{'setting':30s} {'method':48s} {'macro':>6s} {'before':>6s} {'micro':>6s} {'major':>6s} {'kappa':>6s} "
          f"{'codes':>6s} {'1st ok':>6s} {'ECE5':>6s} {'held-out':>8s}")
    for setting, ours_key, ref_key in order:
        for key, table in ((ours_key, ours), (ref_key, refs)):
            if key and key in table:
                r = table[key]
                b = before.get(key, {}).get("macro_f1", float("nan")) if key == ours_key else float("nan")
                extra = f"  ({r['regime']})" if "regime" in r else ""
                extra += f"  sd {r['macro_f1_sd']:.3f} over {r['n_draws']} draws" if "macro_f1_sd" in r else ""
                print(f"{setting:30s} {key:48s} {r['macro_f1']:6.3f} {_fmt(b)} {r['micro_f1']:6.3f} "
                      f"{r['major_macro_f1']:6.3f} {_fmt(r.get('kappa'))} {_fmt(r.get('codes_ratio'), '6.2f')} "
                      f"{_fmt(r.get('first_right'))} {_fmt(r.get('ece_top5'))} {_fmt(r.get('held_out_kappa'), '8.3f')}"
                      f"{extra}")
                rows.append({"setting": setting, "method": key, **r})
    return rows


def print_napire(rows: list[dict], before: dict) -> None:
    print()
    print(f"napire2018, 30% of each question's answers as examples, the rest suggested; "
          f"kappa = mean per-code kappa (codes with >= 3 coded answers)")
    print(f"{'question':9s} {'codes':>5s} {'n_ex':>5s} {'kappa':>6s} {'before':>6s} {'codes x':>7s} {'before':>6s} "
          f"{'none':>5s} {'coder':>5s} {'ECE5':>6s} {'+20 dec':>7s} {'w/o':>6s} {'held-out (95% prediction)':>26s}")
    for r in rows:
        b = before.get(r["question_id"], {})
        print(f"{r['question_id']:9s} {r['n_codes']:5d} {r['n_examples']:5d} {r['kappa']:6.3f} "
              f"{_fmt(b.get('kappa'))} {r['codes_ratio']:7.2f} {_fmt(b.get('codes_ratio'), '6.2f')} "
              f"{r['none_share']:5.2f} {r['coder_none_share']:5.2f} {r['ece_top5']:6.3f} "
              f"{_fmt(r.get('kappa_rest_after'))} {_fmt(r.get('kappa_rest_before'))} "
              f"{_fmt(r.get('held_out_kappa'))} ({_fmt((r.get('held_out_interval') or [None])[0], '.3f')}-"
              f"{_fmt((r.get('held_out_interval') or [None, None])[1], '.3f')})")
    k = np.mean([r["kappa"] for r in rows])
    kb = np.mean([before[r["question_id"]]["kappa"] for r in rows]) if before else float("nan")
    gain = [g for r in rows for g in r.get("decision_gains", [])]
    print(f"{'mean':9s} {'':5s} {'':5s} {k:6.3f} {_fmt(kb)} {np.mean([r['codes_ratio'] for r in rows]):7.2f}")
    if all("held_out_kappa" in r for r in rows):
        inside = sum(r["held_out_interval"][0] <= r["kappa"] <= r["held_out_interval"][1] for r in rows)
        print(f"held-out kappa (what suggest prints, from the examples alone): mean "
              f"{np.nanmean([r['held_out_kappa'] for r in rows]):.3f} against {k:.3f} measured on the suggested "
              f"answers; the measured kappa inside its 95% prediction interval for {inside} of {len(rows)} questions")
    if gain:
        per_q = [np.mean(r["decision_gains"]) for r in rows if r.get("decision_gains")]
        print(f"20 simulated decisions ({len(gain) // len(per_q)} draws per question): mean kappa change "
              f"{np.mean(gain):+.3f} on the other answers (sd of the mean {np.std(gain) / np.sqrt(len(gain)):.3f}); "
              f"better in {sum(g > 0 for g in gain)} of {len(gain)} runs, worse in {sum(g < 0 for g in gain)}; "
              f"per question better in {sum(g > 0 for g in per_q)} of {len(per_q)}")


def scale_runs(task: Task, sizes: list[int]) -> list[dict[str, Any]]:
    """Fit and suggest times of the static path (no embedding cache): supervised fit on the train
    split, then suggest (embed + map) for the substantive comments and for larger corpora drawn
    from them with replacement (seeded)."""
    emb = get_embedder("static", cache_dir=False, show_progress=False)
    rows = []
    t0 = time.time()
    m = ThemeMapper(embedder=emb, random_state=0).fit(task.cb, task.examples(task.train))
    rows.append({"step": "fit (embed + fit)", "comments": len(task.train), "seconds": round(time.time() - t0, 1)})
    rng = np.random.default_rng(0)
    for n in sizes:
        idx = np.arange(len(task.texts)) if n == len(task.texts) else rng.integers(0, len(task.texts), n)
        corpus = pd.DataFrame({"doc_id": [str(i) for i in range(n)], "text": [task.texts[i] for i in idx],
                               "status": "ok"})
        t0 = time.time()
        out = m.suggest(corpus)
        rows.append({"step": "suggest (embed + map)", "comments": n, "seconds": round(time.time() - t0, 1),
                     "rows_out": len(out)})
    rows.append({"step": "max RSS MiB", "comments": 0,
                 "seconds": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)})
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--draws", type=int, default=5)
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--model", default=None, help="embedder for the mapper: minilm (default), static, e5")
    ap.add_argument("--no-references", action="store_true")
    ap.add_argument("--centre", action="store_true", help="ThemeMapper(centre=True)")
    ap.add_argument("--name-weight", type=float, default=None,
                    help="row weight of each codebook name as an example of its leaf (ablation: 0 = off)")
    ap.add_argument("--decision-draws", type=int, default=3, help="napire: draws of 20 simulated decisions")
    ap.add_argument("--napire-seed", type=int, default=0, help="napire: seed of the examples split and the draws")
    ap.add_argument("--no-nhs", action="store_true", help="only the napire2018 questions")
    ap.add_argument("--no-napire", action="store_true")
    ap.add_argument("--scale", default="", help="e.g. 6211,100000: static-path fit/suggest times at these sizes")
    ap.add_argument("--before", default=str(ROOT / "benchmarks" / "mapping_before.json"),
                    help="figures of an earlier run printed beside these (JSON written by this script)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out" / "mapping.json"))
    args = ap.parse_args(argv)
    if args.name_weight is not None:
        from themeassist.mapping import scorers

        scorers.NAME_EXAMPLE_WEIGHT = args.name_weight
    warnings.filterwarnings("ignore", category=UserWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    try:
        from sklearn.exceptions import ConvergenceWarning

        warnings.filterwarnings("ignore", category=ConvergenceWarning)
    except ImportError:  # pragma: no cover
        pass
    data_dir = Path(args.data_dir)
    if not (data_dir / "nhs_fft" / "v6framework_230831.csv").is_file():
        print(f"data not found under {data_dir}; pass DATA_DIR (the folder holding nhs_fft/)", file=sys.stderr)
        return 2
    before: dict[str, Any] = {"nhs": {}, "napire": {}}
    if args.before and Path(args.before).is_file():
        old = json.loads(Path(args.before).read_text())
        before = {"nhs": {r["method"]: r for r in old.get("results", [])},
                  "napire": {r["question_id"]: r for r in old.get("napire", [])}}
    t_all = time.time()
    out_json: dict[str, Any] = {"model": args.model or "minilm", "name_weight": args.name_weight}
    embedder = get_embedder(args.model, cache_dir=args.cache_dir, show_progress=False)
    if not args.no_napire:
        t0 = time.time()
        nap = ev.napire_runs(data_dir, lambda **kw: ThemeMapper(embedder=embedder, random_state=0,
                                                                 centre=args.centre, **kw),
                             embedder.encode, seed=args.napire_seed, decision_draws=args.decision_draws)
        print_napire(nap, before["napire"])
        print(f"napire2018: {time.time() - t0:.0f}s")
        out_json["napire"] = nap
    if not args.no_nhs:
        task = Task(data_dir, args.cache_dir, args.model)
        ks = [5, 10, 20]
        ours, timing, curves = themeassist_runs(
            task, ks, args.draws, lambda **kw: ThemeMapper(embedder=task.embedder, centre=args.centre, **kw))
        refs = {} if args.no_references else references(task, ks, args.draws)
        rows = print_nhs(ours, refs, before["nhs"])
        print()
        print(f"{'doubt (test split)':32s} {'recall@0.9 sets':>15s} {'set size':>8s} {'threshold':>9s} "
              f"{'accept@0.95 prec':>16s} {'share':>6s}")
        for key in [f"themeassist k={k}" for k in ks] + ["themeassist supervised"]:
            r = ours[key]
            print(f"{key:32s} {r['recall90_recall']:15.3f} {r['recall90_set_size']:8.2f} "
                  f"{r['recall90_threshold']:9.4f} {r['accept95_precision']:16.3f} {r['accept95_share']:6.1%}")
        ev.reliability_plot(curves, Path(args.out).with_name("mapping_reliability.png"))
        print()
        for label in ("supervised", "zero-shot"):
            t = timing[label]
            print(f"suggest over {t['rows']} substantive comments ({label}, embeddings cached): {t['seconds']:.1f}s, "
                  f"peak traced memory {t['peak_traced_mib']:.0f} MiB")
        print(f"process max RSS {timing['max_rss_mib']:.0f} MiB; supervised fit "
              f"{ours['themeassist supervised']['fit_seconds']:.1f}s")
        out_json.update({"split": {"n": len(task.texts), "train": len(task.train), "test": len(task.test),
                                   "evaluated_subcategories": len(task.eval_cols)},
                         "results": rows, "timing": timing, "embed_seconds": round(task.embed_s, 1),
                         "reliability": curves})
    if args.scale:
        task = task if not args.no_nhs else Task(data_dir, args.cache_dir, args.model)
        sc = scale_runs(task, [int(v) for v in args.scale.split(",")])
        print()
        for r in sc:
            print(f"static path: {r['step']:24s} {r['comments']:>8,d} comments  {r['seconds']:8.1f}")
        out_json["scale"] = sc
    print(f"benchmark total {time.time() - t_all:.0f}s")
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(out_json, indent=2, default=str))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

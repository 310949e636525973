"""Simulated review loop (issue 13): does the review queue teach the mapper more than random checks?

Usage::

    python benchmarks/review_loop.py [DATA_DIR] [--seeds 3] [--rounds 8] [--batch 50] [--split test|dev]
                                     [--explore 0.5] [--rarity 0.5] [--sharpness 8] [--arms queue,random]
                                     [--jobs 1] [--cache-dir DIR]

DATA_DIR defaults to ``../shared/data``. The NHS FFT v6 split of ``benchmarks/mapping.py`` (its
loader and draws are imported, not copied): start from 5 coded comments per evaluated
subcategory of the train split (``Task.draw(5, seed)``), then 8 rounds: fit the mapper on the coded
comments, pick 50 more train comments to review, and let the human codes answer (the picked
comments join the examples with their true codes). Two arms from the same start:

- ``queue``: the first 50 comments by ``review_rank`` of
  :func:`themeassist.mapping.review.review_queue` (scores of the not yet coded train comments,
  ``review_size=50``, seeded per round);
- ``random``: 50 not yet coded train comments drawn uniformly.

Macro-F1 (over the 41 evaluated subcategories, as in ``benchmarks/mapping.py``) of the mapper fitted
after each round, on the test split (``--split test``) or, for choosing constants without looking at
the test split, ``--split dev``: the train split cut 75/25 (seed 7) into a pool to review from and
a dev set to score on. The queue's constants (the informativeness formula, ``explore``) were chosen
with ``--split dev`` only.

Results go to ``benchmarks/out/review_loop.json`` (``review_loop_dev.json`` for the dev split).
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from mapping import ROOT, Task  # noqa: E402

from themeassist.mapping import ThemeMapper  # noqa: E402
from themeassist.mapping.review import review_queue  # noqa: E402


def fit(task: Task, idx: np.ndarray, seed: int) -> ThemeMapper:
    return ThemeMapper(embedder=task.embedder, random_state=seed).fit(task.cb, task.examples(idx),
                                                                      example_embeddings=task.E[idx])


def macro_f1(task: Task, mapper: ThemeMapper, rows: np.ndarray) -> float:
    from sklearn.metrics import f1_score

    pred = mapper.predict([task.texts[i] for i in rows], embeddings=task.E[rows])
    cols = task.eval_cols
    return float(f1_score(task.Y[rows][:, cols], pred[:, cols], average="macro", zero_division=0))


def run_arm(task: Task, arm: str, pool: np.ndarray, evaluate: np.ndarray, seed: int, rounds: int, batch: int,
            explore: float, rarity: float, sharpness: float, per_theme: bool = True, spread: bool = False) -> dict:
    coded = task.draw(5, seed)  # from task.train (the pool)
    rng = np.random.default_rng(1000 + seed)
    curve, n_coded, secs = [], [len(coded)], 0.0
    for r in range(rounds + 1):
        t0 = time.time()
        mapper = fit(task, coded, seed)
        curve.append(macro_f1(task, mapper, evaluate))
        if r == rounds:
            secs += time.time() - t0
            break
        rest = np.setdiff1d(pool, coded)
        if arm == "queue":
            P = mapper.predict_proba([task.texts[i] for i in rest], embeddings=task.E[rest])
            q = review_queue(P, mapper.examples_per_leaf_, review_size=batch, explore=explore, rarity=rarity,
                             sharpness=sharpness, per_theme=per_theme, spread=spread, random_state=100 * seed + r)
            pick = rest[np.argsort(q["review_rank"].to_numpy())[:batch]]
        else:
            pick = rng.choice(rest, size=batch, replace=False)
        coded = np.union1d(coded, pick)
        n_coded.append(len(coded))
        secs += time.time() - t0
    return {"arm": arm, "seed": seed, "macro_f1": curve, "n_coded": n_coded, "seconds": round(secs, 1),
            "regime": mapper.regime_}


def _job(task: Task, pool: np.ndarray, evaluate: np.ndarray, args: argparse.Namespace,
         job: tuple[int, str]) -> dict:
    seed, arm = job
    res = run_arm(task, arm, pool, evaluate, seed, args.rounds, args.batch, args.explore, args.rarity, args.sharpness,
                  not args.pooled_doubt, args.spread)
    print(f"seed {seed} {arm:6s} macro-F1 by round: {' '.join(f'{v:.3f}' for v in res['macro_f1'])} "
          f"({res['seconds']:.0f}s)", flush=True)
    return res


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--seeds", type=int, default=3)
    ap.add_argument("--first-seed", type=int, default=0)
    ap.add_argument("--rounds", type=int, default=8)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--explore", type=float, default=0.5)
    ap.add_argument("--rarity", type=float, default=0.5)
    ap.add_argument("--sharpness", type=float, default=8.0)
    ap.add_argument("--arms", default="queue,random", help="comma-separated: queue, random (none: only --reuse)")
    ap.add_argument("--reuse", action="append", default=[],
                    help="JSON of an earlier run whose runs are added (e.g. the other arm); repeatable")
    ap.add_argument("--pooled-doubt", action="store_true", help="informativeness without per-theme shares")
    ap.add_argument("--spread", action="store_true",
                    help="review_queue(spread=True): systematic sampling over groups of similar comments")
    ap.add_argument("--jobs", type=int, default=1, help="runs (seed, arm) in this many processes")
    ap.add_argument("--split", choices=["test", "dev"], default="test")
    ap.add_argument("--cache-dir", default=None)
    ap.add_argument("--out", default=None)
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    data_dir = Path(args.data_dir)
    if not (data_dir / "nhs_fft" / "v6framework_230831.csv").is_file():
        print(f"data not found under {data_dir}; pass DATA_DIR (the folder holding nhs_fft/)", file=sys.stderr)
        return 2
    t_all = time.time()
    task = Task(data_dir, args.cache_dir)
    if args.split == "dev":
        from sklearn.model_selection import train_test_split

        import copy

        pool, evaluate = train_test_split(task.train, test_size=0.25, random_state=7)
        pool, evaluate = np.sort(pool), np.sort(evaluate)
        task = copy.copy(task)
        task.train = pool  # draws of the 5 starting examples per subcategory come from the pool
    else:
        pool, evaluate = np.sort(task.train), np.sort(task.test)
    jobs = [(seed, arm) for seed in range(args.first_seed, args.first_seed + args.seeds)
            for arm in args.arms.split(",") if arm in ("queue", "random")]
    call = functools.partial(_job, task, pool, evaluate, args)
    if args.jobs > 1:  # worker processes forked with the task (embeddings) already loaded
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(args.jobs, mp_context=multiprocessing.get_context("fork")) as ex:
            runs = list(ex.map(call, jobs))
    else:
        runs = [call(job) for job in jobs]
    for path in args.reuse:  # runs from earlier runs of this script (same protocol), e.g. the other arm
        old = json.loads(Path(path).read_text())
        same = all(old[k] == v for k, v in (("split", args.split), ("rounds", args.rounds), ("batch", args.batch)))
        if not same:
            print(f"{path}: another protocol (split, rounds or batch); not reused", file=sys.stderr)
            return 2
        have = {(r["seed"], r["arm"]) for r in runs}
        runs += [r for r in old["runs"] if r["seed"] in range(args.first_seed, args.first_seed + args.seeds)
                 and (r["seed"], r["arm"]) not in have]
    runs.sort(key=lambda r: (r["seed"], r["arm"]))
    seeds_done = sorted({r["seed"] for r in runs})
    print()
    print(f"{'reviews':>8s} {'queue':>7s} {'random':>7s} {'diff':>7s}   (macro-F1 on {args.split}, mean of "
          f"{len(seeds_done)} seeds)")
    table = []
    nan = float("nan")
    for r in range(args.rounds + 1):
        qv = [x["macro_f1"][r] for x in runs if x["arm"] == "queue"] or [nan]
        rv = [x["macro_f1"][r] for x in runs if x["arm"] == "random"] or [nan]
        row = {"reviews": r * args.batch, "queue": float(np.mean(qv)), "random": float(np.mean(rv)),
               "diff": float(np.mean(qv) - np.mean(rv)), "diff_per_seed": [float(a - b) for a, b in zip(qv, rv)]}
        table.append(row)
        print(f"{row['reviews']:8d} {row['queue']:7.3f} {row['random']:7.3f} {row['diff']:+7.3f}")
    last = table[-1]
    print(f"\nafter {last['reviews']} reviews: queue - random = {last['diff']:+.3f} (per seed "
          f"{', '.join(f'{d:+.3f}' for d in last['diff_per_seed'])}); target >= +0.03; "
          f"total {time.time() - t_all:.0f}s")
    out = Path(args.out or ROOT / "benchmarks" / "out" / ("review_loop.json" if args.split == "test"
                                                           else "review_loop_dev.json"))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"split": args.split, "pool": len(pool), "evaluated": len(evaluate),
                               "seeds": seeds_done, "rounds": args.rounds, "batch": args.batch,
                               "explore": args.explore, "rarity": args.rarity, "sharpness": args.sharpness,
                               "per_theme": not args.pooled_doubt, "spread": args.spread,
                               "table": table, "runs": runs},
                              indent=2))
    print(f"written {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

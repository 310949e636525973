"""Benchmark candidate-code discovery against default BERTopic on human-coded NHS comments.

Usage::

    python benchmarks/discover.py [DATA_DIR]      # DATA_DIR defaults to ../shared/data

Reads ``DATA_DIR/nhs_fft/v6framework_230831.csv`` (substantive comments only: ``load_corpus``
marks "Did not answer", blanks and other non-answers) and, in one run, prints for themeassist's
:class:`~themeassist.discovery.CandidateDiscovery` and for ``BERTopic()`` with default settings
(the same all-MiniLM-L6-v2 embeddings):

* wall time cold (empty embedding cache in a temporary folder; BERTopic embeds with the same
  model itself) and warm (second run, cache filled; BERTopic is handed the cached embeddings),
* number of codes and outlier share,
* NMI and ARI against the human *major categories* (``v6_hierarchy.yaml`` maps the subcategory
  columns to major categories) on the comments coded with exactly one major category; outliers
  count as one cluster ("-1"), which is what a user of the raw output gets.

Numba compiles UMAP/HDBSCAN on the first fit of a process; a small untimed warm-up fit runs first
so that cold-vs-warm measures the embedding cache, not the JIT. Results go to
``benchmarks/out/discover.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import yaml  # noqa: E402
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score  # noqa: E402

OUT = Path(__file__).resolve().parent / "out" / "discover.json"


def major_categories(sub: pd.DataFrame, hierarchy: dict) -> pd.Series:
    """Major category per comment, or None when it has zero or several major categories."""
    flags = {}
    for major, subs in hierarchy.items():
        cols = [c for c in subs if c in sub.columns]
        flags[major] = sub[cols].apply(pd.to_numeric, errors="coerce").fillna(0).sum(axis=1) > 0
    M = pd.DataFrame(flags)
    one = M.sum(axis=1) == 1
    return M.idxmax(axis=1).where(one, None)


def scores(labels: np.ndarray, truth: pd.Series) -> dict:
    labels = np.asarray(labels)
    mask = truth.notna().to_numpy()
    return {
        "n_codes": int(len(set(labels.tolist()) - {-1})),
        "outlier_share": round(float(np.mean(labels == -1)), 4),
        "nmi": round(float(normalized_mutual_info_score(truth[mask], labels[mask])), 4),
        "ari": round(float(adjusted_rand_score(truth[mask], labels[mask])), 4),
    }


def warm_up_numba() -> float:
    """Compile UMAP/HDBSCAN (numba) on random data, untimed in the results."""
    from hdbscan import HDBSCAN
    from umap import UMAP

    t = time.perf_counter()
    X = np.random.default_rng(0).normal(size=(400, 384)).astype(np.float32)
    U = UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine", random_state=0,
             n_epochs=20).fit_transform(X)  # fmt: skip
    UMAP(n_neighbors=15, n_components=5, min_dist=0.0, metric="cosine").fit_transform(X)
    HDBSCAN(min_cluster_size=10).fit(U)
    return time.perf_counter() - t


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", default="../shared/data")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args(argv)

    from bertopic import BERTopic
    from sentence_transformers import SentenceTransformer

    from themeassist.corpus import load_corpus, substantive
    from themeassist.discovery import CandidateDiscovery
    from themeassist.embed import default_model_path, get_embedder

    data = Path(args.data_dir) / "nhs_fft"
    csv = data / "v6framework_230831.csv"
    if not csv.is_file():
        sys.exit(f"benchmarks/discover.py: {csv} not found; pass the shared data folder as DATA_DIR.")
    hierarchy = yaml.safe_load((data / "v6_hierarchy.yaml").read_text(encoding="utf-8"))
    corpus = load_corpus(csv, text_col="FFT answer")
    sub = substantive(corpus)
    docs = sub["text"].astype(str).tolist()
    truth = major_categories(sub, hierarchy)
    print(f"{len(corpus)} rows, {len(sub)} substantive comments, {int(truth.notna().sum())} with one major "
          f"category ({truth.nunique()} categories)")  # fmt: skip
    jit = warm_up_numba()
    print(f"numba warm-up (untimed): {jit:.1f}s")

    results: dict = {"data": str(csv), "n_rows": len(corpus), "n_substantive": len(sub),
                     "n_one_major": int(truth.notna().sum()), "numba_warmup_s": round(jit, 1)}  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="ta-bench-cache-") as cache:
        runs = {}
        for run in ("cold", "warm"):
            t = time.perf_counter()
            disc = CandidateDiscovery(cache_dir=cache, show_progress=False).fit(sub)
            runs[run] = time.perf_counter() - t
            print(f"themeassist {run}: {runs[run]:.1f}s")
        labels = disc.assignments_["candidate_id"].astype(int).to_numpy()
        ta = {"time_cold_s": round(runs["cold"], 1), "time_warm_s": round(runs["warm"], 1),
              "speedup_warm": round(runs["cold"] / runs["warm"], 2), **scores(labels, truth),
              "resolved_params": disc.resolved_params_}  # fmt: skip
        ta["top_codes"] = disc.candidate_codes_.head(10)[["candidate_id", "label", "n_docs"]].to_dict("records")
        E = get_embedder(cache_dir=cache, show_progress=False).encode(docs)

        t = time.perf_counter()
        model = SentenceTransformer(str(default_model_path()), device="cpu")
        topics_cold, _ = BERTopic(embedding_model=model).fit_transform(docs)
        bt_cold = time.perf_counter() - t
        print(f"BERTopic cold: {bt_cold:.1f}s")
        t = time.perf_counter()
        topics, _ = BERTopic().fit_transform(docs, E)
        bt_warm = time.perf_counter() - t
        print(f"BERTopic warm: {bt_warm:.1f}s")
        bt = {"time_cold_s": round(bt_cold, 1), "time_warm_s": round(bt_warm, 1),
              "speedup_warm": round(bt_cold / bt_warm, 2), **scores(np.asarray(topics), truth),
              "cold_run": scores(np.asarray(topics_cold), truth)}  # fmt: skip
    results["themeassist"] = ta
    results["bertopic_default"] = bt
    results["targets"] = {
        "nmi_at_least_default": ta["nmi"] >= bt["nmi"],
        "outlier_share_far_smaller": ta["outlier_share"] <= 0.25 * bt["outlier_share"],
        "warm_5x_faster": ta["speedup_warm"] >= 5,
    }

    header = f"{'':18}{'cold s':>8}{'warm s':>8}{'speedup':>8}{'codes':>7}{'outliers':>9}{'NMI':>8}{'ARI':>8}"
    print("\n" + header)
    for name, r in (("themeassist", ta), ("BERTopic default", bt)):
        print(f"{name:18}{r['time_cold_s']:>8.1f}{r['time_warm_s']:>8.1f}{r['speedup_warm']:>8.1f}"
              f"{r['n_codes']:>7}{r['outlier_share']:>9.1%}{r['nmi']:>8.3f}{r['ari']:>8.3f}")  # fmt: skip
    print("targets:", results["targets"])
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    print(f"wrote {out}")
    return results


if __name__ == "__main__":
    main()

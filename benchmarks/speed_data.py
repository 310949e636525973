"""The corpora of ``benchmarks/speed.py``: NHS comments drawn, or resampled with light perturbation
above the real size, and the coded examples and codebook the mapping stages fit on."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

K_EXAMPLES = 10
FILLERS = ["really", "honestly", "overall", "to be fair", "as always", "thanks", "i think", "again",
           "very", "just", "so", "also", "definitely", "though"]


def read_nhs(data_dir: Path) -> pd.DataFrame:
    """The substantive NHS v6 comments as in benchmarks/mapping.py (text as written, stripped)."""
    df = pd.read_csv(data_dir / "nhs_fft" / "v6framework_230831.csv", keep_default_na=False, dtype=str)
    text = df["FFT answer"].str.strip()
    return df[(text != "") & (text != "Did not answer")].reset_index(drop=True)


def _perturb(text: str, rng: np.random.Generator, other: str) -> str:
    words = text.split()
    if rng.random() < 0.05 and len(other.split()) > 3:  # splice with half of another comment
        o = other.split()
        words = words[: max(1, len(words) // 2)] + o[len(o) // 2:]
    for _ in range(1 + int(rng.random() < 0.25)):
        op = int(rng.integers(5))
        if op == 0 and len(words) > 3:
            del words[int(rng.integers(len(words)))]
        elif op == 1 and len(words) > 1:
            i = int(rng.integers(len(words) - 1))
            words[i], words[i + 1] = words[i + 1], words[i]
        elif op == 2:
            words.insert(int(rng.integers(len(words) + 1)), FILLERS[int(rng.integers(len(FILLERS)))])
        elif op == 3 and words:
            i = int(rng.integers(len(words)))
            words.insert(i, words[i])
        else:
            last = words[-1].rstrip(".!") if words else ""
            words = (words[:-1] if words else []) + [last + [".", "!", "", "!!"][int(rng.integers(4))]]
    return " ".join(words)


def make_corpus(data_dir: Path, n: int, path: Path, seed: int = 0) -> dict[str, Any]:
    """Write a CSV of ``n`` comments (doc_id, date, trust, text) built from the NHS comments."""
    src = read_nhs(data_dir)
    rng = np.random.default_rng(seed)
    texts = src["FFT answer"].str.strip().tolist()
    dates = pd.to_datetime(src["Date"], dayfirst=True, errors="coerce").dt.strftime("%Y-%m-%d").fillna("")
    if n <= len(src):
        idx = rng.choice(len(src), size=n, replace=False)
        out = [texts[i] for i in idx]
    else:
        idx = rng.integers(len(src), size=n)
        partners = rng.integers(len(src), size=n)
        out = [_perturb(texts[i], rng, texts[j]) for i, j in zip(idx, partners)]
    df = pd.DataFrame({"doc_id": [f"c{i:07d}" for i in range(n)], "date": dates.to_numpy()[idx],
                       "trust": src["Trust"].to_numpy()[idx], "text": out})  # fmt: skip
    df.to_csv(path, index=False)
    return {"rows": n, "distinct_texts": int(df["text"].nunique()), "mb": round(path.stat().st_size / 2**20, 1)}


def examples_and_codebook(data_dir: Path) -> tuple[Any, pd.DataFrame]:
    """The NHS codebook and K_EXAMPLES coded comments per subcategory (>= 10 coded) from the mapping
    benchmark's training split (seed 42)."""
    from sklearn.model_selection import train_test_split

    from themeassist.codebook import load_codebook

    cb = load_codebook(data_dir / "nhs_fft" / "v6_hierarchy.yaml")
    df = read_nhs(data_dir)
    leaves = [t.name for t in cb.leaves() if t.name in df.columns]
    Y = np.stack([(pd.to_numeric(df[c], errors="coerce").fillna(0) > 0).to_numpy() for c in leaves], 1)
    train, _ = train_test_split(np.arange(len(df)), test_size=0.2, random_state=42)
    rng = np.random.default_rng(0)
    chosen: set[int] = set()
    for j in np.where(Y.sum(0) >= 10)[0]:
        pos = train[Y[train, j]]
        chosen |= set(rng.choice(pos, size=min(K_EXAMPLES, len(pos)), replace=False).tolist())
    idx = sorted(chosen)
    ex = pd.DataFrame({"doc_id": df["Comment ID"].to_numpy()[idx], "text": df["FFT answer"].str.strip().to_numpy()[idx],
                       "codes": ["|".join(leaves[j] for j in np.where(Y[i])[0]) for i in idx]})  # fmt: skip
    return cb, ex

"""Start-up and small-survey times: what a researcher waits for on one survey question.

Usage::

    python benchmarks/startup.py [DATA_DIR] [--repeats 5]

(also run by ``benchmarks/speed.py`` as its ``startup`` step). Every row is the wall-clock time of a
whole fresh process, interpreter start-up included, the median of ``--repeats`` runs after one
warm-up run (which fills the embedding cache and numba's cache of UMAP's compiled code):

- floors: ``python -c pass`` and ``python -c "import umap, hdbscan"`` (what any UMAP + HDBSCAN
  discovery must import: the bound for ``discover``);
- ``import themeassist`` and ``themeassist --help`` (targets: no sklearn/torch/BERTopic/UMAP,
  0.5 s for ``--help``);
- ``import bertopic`` as it comes, and as ``discover`` imports it (without the embedding stack it
  does not use: :mod:`themeassist.discovery._imports`);
- ``discover`` and ``suggest`` of 150 comments (the first 150 substantive NHS comments when the
  data is there, else made-up ones) with a warm embedding cache, MiniLM and static (target:
  ``discover`` <= 6 s).

Writes ``benchmarks/out/startup.json``; prints a table.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
SMALL = 150


def _bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def _comments(data_dir: Path, path: Path) -> str:
    import pandas as pd

    src = data_dir / "nhs_fft" / "v6framework_230831.csv"
    if src.is_file():
        from themeassist.corpus import load_corpus, substantive

        text_col = "comment_txt"
        raw = pd.read_csv(src, dtype=str)
        if text_col not in raw.columns:
            text_col = max(raw.columns, key=lambda c: raw[c].astype(str).str.len().mean())
        texts = substantive(load_corpus(raw[[text_col]], text_col=text_col))["text"].head(SMALL).tolist()
        origin = f"the first {SMALL} substantive comments of {src.name}"
    else:
        words = ["waiting list far too long", "staff were kind and caring", "parking at the clinic is awful",
                 "sessions felt rushed", "the therapist really helped", "not enough rooms for sessions"]
        texts = [f"{words[i % 6]} ({i})" for i in range(SMALL)]
        origin = f"{SMALL} made-up comments"
    pd.DataFrame({"comment": texts}).to_csv(path, index=False)
    return origin


def _run(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(seconds, peak RSS MiB) of one process tree."""
    import psutil

    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    proc, peak, done = psutil.Process(child.pid), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            try:
                peak[0] = max(peak[0], sum(p.memory_info().rss for p in [proc, *proc.children(recursive=True)]))
            except psutil.Error:
                pass
            done.wait(0.05)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    _, err = child.communicate()
    wall = time.perf_counter() - t0
    done.set()
    th.join()
    if child.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {err.decode()[-500:]}")
    return wall, peak[0] / 2**20


def startup_rows(work: Path, data_dir: Path, repeats: int = 5) -> list[dict[str, Any]]:
    """The rows described in the module docstring (``stage``, ``model``, ``seconds``, ...)."""
    work.mkdir(parents=True, exist_ok=True)
    csv = work / f"small_{SMALL}.csv"
    origin = _comments(data_dir, csv)
    cache = work / "startup-cache"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    py, ta = sys.executable, _bin("themeassist")
    light = ("from themeassist.discovery import light_bertopic_import; light_bertopic_import(); "
             "from themeassist.discovery._imports import import_bertopic; import_bertopic()")
    cases: list[tuple[str, str, list[str]]] = [
        ("python -c pass (interpreter)", "-", [py, "-c", "pass"]),
        ("floor: import umap, hdbscan", "-", [py, "-c", "import umap, hdbscan"]),
        ("import themeassist", "-", [py, "-c", "import themeassist"]),
        ("themeassist --help", "-", [ta, "--help"]),
        ("import bertopic (as it comes)", "-", [py, "-c", "import bertopic"]),
        ("import bertopic (as discover does)", "-", [py, "-c", light]),
    ]  # fmt: skip
    for model in ("minilm", "static"):
        common = ["--text-col", "comment", "--model", model, "--cache-dir", str(cache), "--quiet"]
        cases.append((f"discover {SMALL} comments (warm cache)", model,
                      [ta, "discover", str(csv), *common, "--out", str(work / f"disc-{model}")]))  # fmt: skip
        cases.append((f"suggest {SMALL} comments (warm cache)", model,
                      [ta, "suggest", str(csv), "--codebook", "iapt", *common, "--out", str(work / f"s-{model}.csv")]))
    rows = []
    for stage, model, cmd in cases:
        _run(cmd, env)  # warm-up: fills the caches
        runs = [_run(cmd, env) for _ in range(repeats)]
        load = os.getloadavg()[0]
        secs = [r[0] for r in runs]
        rows.append({"stage": stage, "model": model, "size": SMALL if "comments" in stage else 0,
                     "seconds": statistics.median(secs), "min_seconds": min(secs),
                     "peak_tree_mib": max(r[1] for r in runs), "load": round(load, 1), "repeats": repeats,
                     "corpus_origin": origin if "comments" in stage else ""})  # fmt: skip
        print(f"  {stage} [{model}]: median {rows[-1]['seconds']:.2f} s (min {min(secs):.2f}), load {load:.1f}",
              flush=True)  # fmt: skip
    return rows


def startup_summary(rows: list[dict[str, Any]]) -> list[str]:
    """Lines for RESULTS.md: the start-up targets of issue #15."""
    by = {(r["stage"], r["model"]): r for r in rows if "error" not in r and "repeats" in r}
    out = []
    h = by.get(("themeassist --help", "-"))
    if h:
        out.append(f"- `themeassist --help`: {h['seconds']:.2f} s (target 0.5 s); `import themeassist` "
                   f"{by[('import themeassist', '-')]['seconds']:.2f} s")  # fmt: skip
    floor = by.get(("floor: import umap, hdbscan", "-"))
    for m in ("minilm", "static"):
        d = by.get((f"discover {SMALL} comments (warm cache)", m))
        if d and floor:
            out.append(f"- `discover` of {SMALL} comments, warm cache, {m}: {d['seconds']:.1f} s (target 6 s; floor "
                       f"`import umap, hdbscan` {floor['seconds']:.1f} s)")  # fmt: skip
    full, light = by.get(("import bertopic (as it comes)", "-")), by.get(("import bertopic (as discover does)", "-"))
    if full and light:
        out.append(f"- `import bertopic`: {full['seconds']:.1f} s as it comes, {light['seconds']:.1f} s as `discover` "
                   "imports it (sentence-transformers, transformers and torch deferred)")  # fmt: skip
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--work", default=None)
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    args = ap.parse_args(argv)
    work = Path(args.work) if args.work else Path(tempfile.mkdtemp(prefix="themeassist-startup-"))
    rows = startup_rows(work, Path(args.data_dir), args.repeats)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "startup.json").write_text(json.dumps(rows, indent=1))
    print("\n| stage | model | median s | min s | peak MiB | load |\n|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['stage']} | {r['model']} | {r['seconds']:.2f} | {r['min_seconds']:.2f} | "
              f"{r['peak_tree_mib']:.0f} | {r['load']} |")  # fmt: skip
    print("\n" + "\n".join(startup_summary(rows)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Speed and memory of themeassist, stage by stage, from 1.5k to 1M comments (issue #8).

Usage::

    python benchmarks/speed.py [DATA_DIR] [--sizes 1543,10000,100000,1000000] [--work DIR]
                               [--no-references] [--no-quality] [--no-dask]

DATA_DIR defaults to ``../shared/data``. Corpora are built from the 6,211 substantive NHS Friends
and Family Test comments of ``nhs_fft/v6framework_230831.csv``: at 1,543 comments (the seed
study's size) real comments drawn without replacement; above that, comments resampled with light
perturbation (a word dropped, duplicated or swapped with its neighbour, a filler word inserted,
punctuation changed; a second edit one time in four; one comment in twenty spliced with half of another), so that most texts are
distinct. Each comment keeps its real date; periods are quarters.

Every stage runs in its own Python process (the interpreter's start-up and imports of the data
are not timed; the imports themeassist does lazily, such as torch, are). Peak memory is the
largest resident set of the stage's process tree (sampled every 0.1 s, workers included) and the
process's own ``ru_maxrss``. Stages:

- ``load``: :func:`themeassist.corpus.load_corpus` on the CSV;
- ``embed``: embedding the substantive comments (MiniLM up to 10k only: it runs at ~270/s on 2
  cores, so 100k would take ~6 min and 1M ~1 h; those are extrapolated) with an empty cache, and
  again with the cache filled (``embed (warm)``);
- ``discover``: :class:`~themeassist.discovery.CandidateDiscovery` on precomputed embeddings;
- ``suggest``: fitting :class:`~themeassist.mapping.ThemeMapper` on the NHS codebook with 10
  coded example comments per subcategory (reported apart, once per corpus size), then ``suggest`` from the texts
  (embedding included, no cache): MiniLM, static and the hybrid;
- ``drift``: :func:`themeassist.drift.prevalence` and :func:`~themeassist.drift.changes` by quarter;
- ``end to end``: load + embed + discover + fit (zero-shot: the codebook alone) + suggest +
  drift in one process at the seed scale, with an empty (cold) and a filled (warm) embedding cache;
  the imports of BERTopic, UMAP and the embedding library are timed apart ("imports"), the rest
  (numba's compilation on UMAP's first call included) is the stage's time;
- references: plain sentence-transformers ``encode`` and BERTopic's default fit (on the same
  precomputed MiniLM embeddings);
- ``dask``: :func:`themeassist.batch.dask.suggest_dask` with 1 and 2 local worker processes, checked
  identical to the in-process output;
- ``startup``: start-up and small-survey rows (``benchmarks/startup.py``: ``import themeassist``,
  ``--help``, ``discover``/``suggest`` of 150 comments with a warm cache, beside the floor
  ``python -c "import umap, hdbscan"``), whole processes, interpreter start-up included;
- quality: the mapping benchmark's protocol (``benchmarks/mapping.py``: seed 42 80/20 split,
  41 subcategories with >= 10 coded comments, macro-F1) with MiniLM, static and hybrid embeddings.

Writes ``benchmarks/out/speed.json`` and ``benchmarks/out/speed.md`` (the "Speed" section of
``benchmarks/RESULTS.md``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
import warnings
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from speed_data import examples_and_codebook, make_corpus, read_nhs  # noqa: E402,F401 - beside this script
from speed_report import report, update_results  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
SEED_SIZE = 1543
MINILM_MAX = 10_000  # default --minilm-max: MiniLM is not run above this size (extrapolated)
DISCOVER_MAX = 100_000
HYBRID_FRACTION = 0.05


# ------------------------------------------------------------------------------------------------
# stages (each runs in a child process: `speed.py --stage NAME ...`)
# ------------------------------------------------------------------------------------------------
def _corpus(work: Path, n: int) -> pd.DataFrame:
    return pd.read_parquet(work / f"corpus_{n}.parquet")


def _embedder(model: str, cache: str | None) -> Any:
    from themeassist.embed import get_embedder

    return get_embedder(None if model == "minilm" else model, cache_dir=cache if cache else False,
                        show_progress=False)  # fmt: skip


def stage_load(a: argparse.Namespace) -> dict[str, Any]:
    from themeassist.corpus import load_corpus

    t0 = time.perf_counter()
    corpus = load_corpus(Path(a.work) / f"corpus_{a.size}.csv", text_col="text", id_col="doc_id",
                         period_col="date", period_freq="Q")  # fmt: skip
    secs = time.perf_counter() - t0
    corpus[["doc_id", "text", "period", "status"]].to_parquet(Path(a.work) / f"corpus_{a.size}.parquet")
    return {"seconds": secs, "substantive": int(corpus["status"].isin(["ok", "truncated"]).sum())}


def stage_embed(a: argparse.Namespace) -> dict[str, Any]:
    corpus = _corpus(Path(a.work), a.size)
    texts = corpus.loc[corpus["status"].isin(["ok", "truncated"]), "text"].tolist()
    t0 = time.perf_counter()
    emb = _embedder(a.model, a.cache)
    E = emb.encode(texts)
    secs = time.perf_counter() - t0
    if a.save:
        np.save(Path(a.work) / f"emb_{a.size}_{a.model}.npy", E)
    return {"seconds": secs, "per_second": len(texts) / secs, "dim": int(E.shape[1])}


def stage_st_reference(a: argparse.Namespace) -> dict[str, Any]:
    corpus = _corpus(Path(a.work), a.size)
    texts = corpus.loc[corpus["status"].isin(["ok", "truncated"]), "text"].tolist()
    t0 = time.perf_counter()
    from sentence_transformers import SentenceTransformer

    from themeassist.embed import default_model_path

    model = SentenceTransformer(str(default_model_path()), device="cpu", local_files_only=True)
    E = model.encode(texts, batch_size=64, show_progress_bar=False)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "per_second": len(texts) / secs, "dim": int(E.shape[1])}


def stage_discover(a: argparse.Namespace) -> dict[str, Any]:
    from themeassist.discovery import CandidateDiscovery

    corpus = _corpus(Path(a.work), a.size)
    E = np.load(Path(a.work) / f"emb_{a.size}_{a.model}.npy")
    t0 = time.perf_counter()
    disc = CandidateDiscovery(show_progress=False, random_state=0).fit(corpus, embeddings=E)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "codes": int((disc.candidate_codes_["candidate_id"] >= 0).sum()),
            "n_fit": int(disc.resolved_params_["n_fit"])}  # fmt: skip


def stage_bertopic_reference(a: argparse.Namespace) -> dict[str, Any]:
    corpus = _corpus(Path(a.work), a.size)
    texts = corpus.loc[corpus["status"].isin(["ok", "truncated"]), "text"].tolist()
    E = np.load(Path(a.work) / f"emb_{a.size}_{a.model}.npy")
    t0 = time.perf_counter()
    from bertopic import BERTopic

    topics, _ = BERTopic().fit_transform(texts, embeddings=E)
    secs = time.perf_counter() - t0
    return {"seconds": secs, "codes": len(set(topics) - {-1})}


class _Peak:
    """Peak resident memory of this process and its children (dask workers) while in the block."""

    def __enter__(self) -> "_Peak":
        import psutil

        self.proc, self.peak, self.done = psutil.Process(), 0, threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.perf_counter()
        self.thread.start()
        return self

    def _run(self) -> None:
        while not self.done.is_set():
            self.peak = max(self.peak, _tree_rss(self.proc))
            self.done.wait(0.1)

    def __exit__(self, *exc: object) -> None:
        self.seconds = time.perf_counter() - self.t0
        self.peak = max(self.peak, _tree_rss(self.proc))
        self.done.set()
        self.thread.join()

    def row(self, stage: str, model: str, **extra: Any) -> dict[str, Any]:
        return {"stage": stage, "model": model, "seconds": self.seconds, "peak_tree_mib": self.peak / 2**20, **extra}


def _fit_mapper(data_dir: Path, model: str) -> tuple[Any, float]:
    from themeassist.mapping import ThemeMapper

    cb, ex = examples_and_codebook(data_dir)
    t0 = time.perf_counter()
    mapper = ThemeMapper(embedder=_embedder(model, None), random_state=0).fit(cb, ex)
    return mapper, time.perf_counter() - t0


def stage_map(a: argparse.Namespace) -> dict[str, Any]:
    """Fit the mappers once, then for every corpus size: suggest (static in-process up to 100k;
    MiniLM and hybrid up to --minilm-max), drift on the static suggestions, and suggest_dask with
    1 and 2 workers (>= 100k; 2 only above 100k)."""
    from themeassist.codebook import load_codebook
    from themeassist.drift import changes, prevalence
    from themeassist.batch.dask import suggest_dask, suggest_hybrid

    rows: list[dict[str, Any]] = []

    @contextlib.contextmanager
    def step(stage: str, model: str, n: int) -> Any:  # a failing step is recorded, the others still run
        try:
            yield
        except Exception as err:  # noqa: BLE001
            import traceback

            traceback.print_exc()
            rows.append({"stage": stage, "model": model, "size": n, "error": f"{type(err).__name__}: {err}"})

    with _Peak() as pk:
        static, _ = _fit_mapper(Path(a.data_dir), "static")
    rows.append(pk.row("fit mapper", "static", size=0, examples=int(static.n_examples_), regime=static.regime_))
    exact = None
    if any(n <= a.minilm_max for n in a.map_sizes):
        with _Peak() as pk:
            exact, _ = _fit_mapper(Path(a.data_dir), "minilm")
        rows.append(pk.row("fit mapper", "minilm", size=0, examples=int(exact.n_examples_), regime=exact.regime_))
    cb = load_codebook(Path(a.data_dir) / "nhs_fft" / "v6_hierarchy.yaml")
    for n in a.map_sizes:
        corpus = _corpus(Path(a.work), n)
        n_ok = int(corpus["status"].isin(["ok", "truncated"]).sum())
        ref = None
        if n <= DISCOVER_MAX:
            with step("suggest (embed + map)", "static", n):
                with _Peak() as pk:
                    ref = static.suggest(corpus)
                rows.append(pk.row("suggest (embed + map)", "static", size=n, per_second=n_ok / pk.seconds))
            with step("drift", "static", n):
                with _Peak() as pk, warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    changes(prevalence(ref, period=corpus["period"], codebook=cb))
                rows.append(pk.row("drift", "static", size=n, periods=int(corpus["period"].nunique())))
        if exact is not None and n <= a.minilm_max:
            with step("suggest (embed + map)", "minilm", n):
                with _Peak() as pk:
                    exact.suggest(corpus)
                rows.append(pk.row("suggest (embed + map)", "minilm", size=n, per_second=n_ok / pk.seconds))
            for f in (HYBRID_FRACTION, 2 * HYBRID_FRACTION):
                with step("suggest (embed + map)", f"hybrid {int(100 * f)}%", n):
                    with _Peak() as pk:
                        out = suggest_hybrid(static, exact, corpus, fraction=f)
                    rows.append(pk.row("suggest (embed + map)", f"hybrid {int(100 * f)}%", size=n,
                                       per_second=n_ok / pk.seconds, re_embedded=int(out.attrs["re_embedded"])))  # fmt: skip
        if a.dask and n >= 100_000:
            for w in ([1, 2] if n <= DISCOVER_MAX else [2]):
                with step("suggest_dask (embed + map)", "static", n):
                    with _Peak() as pk:
                        out = suggest_dask(static, corpus, n_workers=w, partition_size=a.partition_size)
                    extra: dict[str, Any] = {"workers": w, "per_second": n_ok / pk.seconds}
                    if ref is not None:
                        extra["identical"] = bool(out.equals(ref))
                    rows.append(pk.row("suggest_dask (embed + map)", "static", size=n, **extra))
                    del out
        del ref, corpus
    return {"rows": rows}


def stage_e2e(a: argparse.Namespace) -> dict[str, Any]:
    """load + embed + discover + fit + suggest + drift, one process, cache as given. The mapper is
    fitted on the codebook alone (zero-shot, as when a study starts from its codebook); the
    few-shot fit's time is reported by the ``map`` stage."""
    t_imports = time.perf_counter()
    import bertopic  # noqa: F401 - heavy imports timed apart (16 s of BERTopic alone on 2 busy cores)
    import umap  # noqa: F401

    from themeassist.codebook import load_codebook
    from themeassist.corpus import load_corpus
    from themeassist.discovery import CandidateDiscovery
    from themeassist.drift import changes, prevalence
    from themeassist.mapping import ThemeMapper

    if a.model == "minilm":
        import sentence_transformers  # noqa: F401
    else:
        import model2vec  # noqa: F401
    imports = time.perf_counter() - t_imports
    t_start = time.perf_counter()
    parts: dict[str, float] = {}
    t = time.perf_counter()
    corpus = load_corpus(Path(a.work) / f"corpus_{a.size}.csv", text_col="text", id_col="doc_id",
                         period_col="date", period_freq="Q")  # fmt: skip
    cb = load_codebook(Path(a.data_dir) / "nhs_fft" / "v6_hierarchy.yaml")
    parts["load"] = time.perf_counter() - t
    t = time.perf_counter()
    emb = _embedder(a.model, a.cache)
    ok = corpus["status"].isin(["ok", "truncated"]).to_numpy()
    E = emb.encode(corpus.loc[ok, "text"].tolist())
    parts["embed"] = time.perf_counter() - t
    t = time.perf_counter()
    disc = CandidateDiscovery(show_progress=False, random_state=0).fit(corpus, embeddings=E)
    parts["discover"] = time.perf_counter() - t
    t = time.perf_counter()
    mapper = ThemeMapper(embedder=emb, random_state=0).fit(cb)
    parts["fit"] = time.perf_counter() - t
    t = time.perf_counter()
    sugg = mapper.suggest(corpus, embeddings=E, candidate_assignments=disc.assignments_)
    parts["suggest"] = time.perf_counter() - t
    t = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        changes(prevalence(sugg, period=corpus["period"], codebook=cb))
    parts["drift"] = time.perf_counter() - t
    return {"seconds": time.perf_counter() - t_start, "imports_seconds": imports,
            **{f"{k}_seconds": v for k, v in parts.items()}}


def stage_quality(a: argparse.Namespace) -> dict[str, Any]:
    """benchmarks/mapping.py's protocol with MiniLM, static and hybrid embeddings (few-shot k=5,
    k=20 over --draws draws; supervised on the whole training split)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import mapping as mb

    from themeassist.embed import get_embedder
    from themeassist.mapping import ThemeMapper
    from themeassist.batch.dask import uncertain_rows

    def task(model: str | None) -> Any:
        orig = mb.get_embedder
        mb.get_embedder = lambda cache_dir=None, show_progress=False: get_embedder(model, cache_dir=a.cache or False,
                                                                                  show_progress=False)  # fmt: skip
        try:
            return mb.Task(Path(a.data_dir), a.cache)
        finally:
            mb.get_embedder = orig

    t_quality = time.perf_counter()
    tasks = {"minilm": task(None), "static": task("static")}
    te = tasks["minilm"].test
    scores: dict[str, list[float]] = {}
    for name, k, draws in (("k=5", 5, range(a.draws)), ("k=20", 20, range(a.draws)), ("supervised", None, [0])):
        for d in draws:
            idx = tasks["minilm"].train if k is None else tasks["minilm"].draw(k, d)
            preds, mappers = {}, {}
            for m, t in tasks.items():
                mp = ThemeMapper(embedder=t.embedder, random_state=d).fit(t.cb, t.examples(idx), example_embeddings=t.E[idx])
                preds[m] = mp.predict([t.texts[i] for i in te], embeddings=t.E[te])
                mappers[m] = mp
                scores.setdefault(f"{name}|{m}", []).append(t.score(preds[m])["macro_f1"])
            st = tasks["static"]
            P = mappers["static"].predict_proba([st.texts[i] for i in te], embeddings=st.E[te])
            for f in (0.05, 0.1, 0.2):
                sel = uncertain_rows(mappers["static"], P, fraction=f)
                ph = preds["static"].copy()
                ph[sel] = preds["minilm"][sel]
                scores.setdefault(f"{name}|hybrid f={f}", []).append(tasks["minilm"].score(ph)["macro_f1"])
    return {"seconds": time.perf_counter() - t_quality, "macro_f1": {k: float(np.mean(v)) for k, v in scores.items()},
            "draws": {k: len(v) for k, v in scores.items()}}  # fmt: skip


STAGES = {"load": stage_load, "embed": stage_embed, "st_reference": stage_st_reference,
          "discover": stage_discover, "bertopic_reference": stage_bertopic_reference,
          "map": stage_map, "e2e": stage_e2e,
          "quality": stage_quality}  # fmt: skip


# ------------------------------------------------------------------------------------------------
# the parent: run stages in child processes, sample their memory
# ------------------------------------------------------------------------------------------------
def _tree_rss(proc: Any) -> int:
    import psutil

    total = 0
    try:
        procs = [proc] + proc.children(recursive=True)
    except psutil.Error:
        return 0
    for p in procs:
        try:
            total += p.memory_info().rss
        except psutil.Error:
            pass
    return total


def spawn(args: argparse.Namespace, stage: str, size: int, model: str = "static", **extra: Any) -> list[dict[str, Any]]:
    """Run one stage in a child process; return its result rows (with the tree's peak memory)."""
    import psutil

    cmd = [sys.executable, __file__, str(args.data_dir), "--stage", stage, "--size", str(size), "--model", model,
           "--work", str(args.work), "--minilm-max", str(args.minilm_max),
           "--partition-size", str(args.partition_size)] + ([] if args.dask else ["--no-dask"])  # fmt: skip
    for key, value in extra.items():
        if value is True:
            cmd.append(f"--{key.replace('_', '-')}")
        elif value not in (None, False):
            cmd += [f"--{key.replace('_', '-')}", str(value)]
    print(f"[{time.strftime('%H:%M:%S')}] {stage} n={size} model={model} {extra or ''} ...", flush=True)
    load_before = os.getloadavg()[0]
    t0 = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    ps = psutil.Process(child.pid)
    peak = [0]
    done = threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _tree_rss(ps))
            done.wait(0.1)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    try:
        out, err = child.communicate(timeout=args.stage_timeout)
    except subprocess.TimeoutExpired:
        for p in ps.children(recursive=True) + [ps]:
            with contextlib.suppress(psutil.Error):
                p.kill()
        out, err = child.communicate()
        err = f"stopped after {args.stage_timeout} s (--stage-timeout)"
    done.set()
    th.join()
    wall = time.perf_counter() - t0
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    base = {"size": size, **{k: str(v) for k, v in extra.items()}, "load": round((load_before + os.getloadavg()[0]) / 2, 1)}
    if child.returncode != 0 or not lines:
        print(f"    FAILED (exit {child.returncode}): {err[-1500:]}", flush=True)
        return [{"stage": stage, "model": model, **base, "error": err[-300:]}]
    res = json.loads(lines[-1])
    rows = res.pop("rows") if "rows" in res else [{"stage": stage, "model": model, **res,
                                                   "peak_tree_mib": peak[0] / 2**20}]  # fmt: skip
    for r in rows:
        for key, value in {**base, "process_seconds": wall, "max_rss_mib": res.get("max_rss_mib")}.items():
            r.setdefault(key, value)
        shown = {k: v for k, v in r.items() if k not in ("stage", "model", "size", "seconds", "peak_tree_mib",
                                                         "process_seconds", "max_rss_mib", "macro_f1", "draws")}  # fmt: skip
        print(f"    {r['stage']} [{r['model']}] {r['seconds']:.1f}s, peak {r.get('peak_tree_mib', 0):.0f} MiB {shown}",
              flush=True)  # fmt: skip
    return rows


def run_all(args: argparse.Namespace, save: Any) -> list[dict[str, Any]]:
    import shutil

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    rows: list[dict[str, Any]] = []
    data_dir = Path(args.data_dir)

    def add(new: list[dict[str, Any]], stage_name: str | None = None) -> None:
        for r in new:
            if stage_name:
                r["stage"] = stage_name
            r["corpus"] = meta.get(r["size"])
        rows.extend(new)
        save(rows)

    meta: dict[int, dict] = {}
    want = set(args.steps)
    for n in args.sizes:
        meta[n] = make_corpus(data_dir, n, work / f"corpus_{n}.csv")
        print(f"corpus {n}: {meta[n]}", flush=True)
        if "load" in want or not (work / f"corpus_{n}.parquet").is_file():
            add(spawn(args, "load", n))
        big = n > DISCOVER_MAX
        for m in ["static"] + (["minilm"] if n <= args.minilm_max else []):
            if "embed" not in want and (big or (work / f"emb_{n}_{m}.npy").is_file()):
                continue
            cache = work / f"cache_{n}_{m}"
            shutil.rmtree(cache, ignore_errors=True)
            if not big:
                add(spawn(args, "embed", n, m, cache=cache, save=True), "embed (cold cache)")
                add(spawn(args, "embed", n, m, cache=cache), "embed (warm cache)")
            add(spawn(args, "embed", n, m), "embed (no cache)")
            shutil.rmtree(cache, ignore_errors=True)
        if args.references and n <= args.minilm_max and "references" in want:
            add(spawn(args, "st_reference", n, "minilm"), "reference: sentence-transformers encode")
            add(spawn(args, "bertopic_reference", n, "minilm"), "reference: BERTopic() default fit")
        if not big and "discover" in want:
            for m in ["static"] + (["minilm"] if n <= args.minilm_max else []):
                add(spawn(args, "discover", n, m))
        if n == SEED_SIZE and "e2e" in want:
            for m in ("static", "minilm"):
                cache = work / f"cache_e2e_{m}"
                shutil.rmtree(cache, ignore_errors=True)
                add(spawn(args, "e2e", n, m, cache=cache), "end to end (cold cache)")
                add(spawn(args, "e2e", n, m, cache=cache), "end to end (warm cache)")
    if "startup" in want:  # start-up and small-survey rows (benchmarks/startup.py)
        from startup import startup_rows

        print(f"[{time.strftime('%H:%M:%S')}] startup ...", flush=True)
        add(startup_rows(work / "startup", data_dir))
    if "map" in want:
        add(spawn(args, "map", 0, map_sizes=",".join(map(str, args.sizes))))
    if args.quality and "quality" in want:
        add(spawn(args, "quality", 0, "all", cache=work / "cache_quality", draws=args.draws))
    return rows


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("data_dir", nargs="?", default=str(ROOT.parent / "shared" / "data"))
    ap.add_argument("--sizes", default="1543,10000,100000,1000000",
                    type=lambda s: [int(x) for x in s.split(",") if x])
    ap.add_argument("--work", default=str(Path(os.environ.get("TMPDIR", "/tmp")) / "themeassist-speed"))
    ap.add_argument("--no-references", dest="references", action="store_false")
    ap.add_argument("--no-quality", dest="quality", action="store_false")
    ap.add_argument("--no-dask", dest="dask", action="store_false")
    ap.add_argument("--minilm-max", type=int, default=MINILM_MAX,
                    help="largest corpus embedded with MiniLM (and the references); default 10000")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "out"))
    ap.add_argument("--stage-timeout", type=int, default=3600, help="seconds before a stage is stopped")
    ap.add_argument("--steps", default="startup,load,embed,references,discover,e2e,map,quality",
                    type=lambda s: [x for x in s.split(",") if x], help="which steps to run (default: all)")
    ap.add_argument("--merge", action="store_true", help="keep the rows of steps not rerun from a previous speed.json")
    ap.add_argument("--report-only", action="store_true", help="rewrite speed.md (and RESULTS.md) from speed.json")
    ap.add_argument("--results", default=str(ROOT / "benchmarks" / "RESULTS.md"),
                    help="RESULTS.md whose '## Speed' section is replaced ('' to leave it alone)")
    # child-process options
    ap.add_argument("--stage", choices=sorted(STAGES))
    ap.add_argument("--size", type=int, default=0)
    ap.add_argument("--model", default="static")
    ap.add_argument("--cache", default=None)
    ap.add_argument("--save", action="store_true")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--partition-size", type=int, default=20_000)
    ap.add_argument("--draws", type=int, default=3, help="few-shot draws in the quality stage")
    ap.add_argument("--map-sizes", default="", type=lambda s: [int(x) for x in s.split(",") if x])
    args = ap.parse_args(argv)
    warnings.filterwarnings("ignore")
    if args.stage:
        res = STAGES[args.stage](args)
        res["max_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps(res, default=float))
        return 0
    if not (Path(args.data_dir) / "nhs_fft" / "v6framework_230831.csv").is_file():
        print(f"data not found under {args.data_dir}; pass DATA_DIR (the folder holding nhs_fft/)", file=sys.stderr)
        return 2
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    previous: list[dict[str, Any]] = []
    if args.merge and (out / "speed.json").is_file():  # rows of steps not rerun are kept
        previous = [r for r in json.loads((out / "speed.json").read_text()) if "error" not in r]

    def key(r: dict[str, Any]) -> tuple:
        return (r.get("stage"), r.get("size"), r.get("model"), str(r.get("workers")))

    def save(rows: list[dict[str, Any]]) -> str:  # after every stage: an interrupted run keeps its rows
        new = {key(r) for r in rows}
        rows = [r for r in previous if key(r) not in new] + rows
        (out / "speed.json").write_text(json.dumps(rows, indent=1, default=float))
        md = report(rows, started)
        (out / "speed.md").write_text(md)
        return md

    if args.report_only:
        rows = []
    else:
        rows = run_all(args, save)
    md = save(rows)
    print()
    print(md)
    if args.results:
        update_results(Path(args.results), md)
    return 0


if __name__ == "__main__":
    sys.exit(main())

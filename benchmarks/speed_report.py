"""The report of ``benchmarks/speed.py``: the targets' summary, the table (``speed.md``) and the
"## Speed" section of ``benchmarks/RESULTS.md``."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

SEED_SIZE = 1543


def _machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import psutil

    return (f"{os.cpu_count()} CPU cores ({cpu}), {psutil.virtual_memory().total / 2**30:.0f} GiB RAM, "
            f"Python {platform.python_version()}, {platform.system()} {platform.release()}")  # fmt: skip


def summary(rows: list[dict[str, Any]]) -> list[str]:
    """The issue's targets, read from the rows (only those that were measured)."""
    ok = [r for r in rows if "error" not in r]

    def get(stage: str, size: int, model: str, **kw: Any) -> dict[str, Any] | None:
        for r in ok:
            if r["stage"] == stage and r.get("size") == size and r["model"] == model and all(
                    r.get(k) == v for k, v in kw.items()):  # fmt: skip
                return r
        return None

    from startup import startup_summary

    out = ["Against the targets of issue #8 (and start-up, issue #15):", "", *startup_summary(ok)]
    for kind in ("cold", "warm"):
        for m in ("static", "minilm"):
            r = get(f"end to end ({kind} cache)", SEED_SIZE, m)
            if r:
                out.append(f"- seed scale ({SEED_SIZE:,} comments), discover + suggest + drift end to end, {kind} "
                           f"embedding cache, {m}: {r['seconds']:.1f} s (target {60 if kind == 'cold' else 10} s; "
                           f"discovery {r.get('discover_seconds', float('nan')):.1f} s of it; imports "
                           f"{r.get('imports_seconds', float('nan')):.1f} s more)")  # fmt: skip
    if get("end to end (cold cache)", SEED_SIZE, "static"):
        out.append("- (UMAP's numba code is compiled on the first discovery after installation and then read from "
                   "numba's disk cache (themeassist.discovery._umap_speed): that first run of the seed-scale discovery "
                   "takes about 4 s longer; the end-to-end rows above were measured after it)")  # fmt: skip
    sizes = sorted({r["size"] for r in ok if r["stage"] == "suggest (embed + map)"})
    rate = None
    for n in sizes:
        mini = get("suggest (embed + map)", n, "minilm")
        if not mini:
            continue
        rate = mini["per_second"]
        for m in ("static", "hybrid 5%", "hybrid 10%"):
            r = get("suggest (embed + map)", n, m)
            if r:
                out.append(f"- suggest end to end (embed + map, no cache), {n:,} comments: {m} "
                           f"{mini['seconds'] / r['seconds']:.1f}x faster than MiniLM ({r['seconds']:.1f} s vs "
                           f"{mini['seconds']:.1f} s; target 20x)")  # fmt: skip
    emb = {m: get("embed (no cache)", 10_000, m) for m in ("static", "minilm")}
    if all(emb.values()):
        out.append(f"- embedding alone, 10,000 comments: static {emb['minilm']['seconds'] / emb['static']['seconds']:.0f}x "
                   "faster than MiniLM (the rest of suggest is the mapping, the same for both)")  # fmt: skip
    q = [r for r in ok if r["stage"] == "quality" and isinstance(r.get("macro_f1"), dict)]
    if q:
        mf = q[-1]["macro_f1"]
        for s in ("k=5", "k=20", "supervised"):
            if f"{s}|minilm" in mf:
                cost = {m: mf[f"{s}|minilm"] - mf[f"{s}|{m}"] for m in ("static", "hybrid f=0.05", "hybrid f=0.1")
                        if f"{s}|{m}" in mf}  # fmt: skip
                out.append(f"- mapping macro-F1 cost vs MiniLM, {s}: " + ", ".join(
                    f"{m.replace('f=0.', '').replace('hybrid ', 'hybrid ')} {c:+.3f}".replace("hybrid 05", "hybrid 5%")
                    .replace("hybrid 1", "hybrid 10%") for m, c in cost.items()) + " (target <= 0.015)")  # fmt: skip
    r = get("suggest (embed + map)", 100_000, "static")
    if r:
        out.append(f"- 100,000 comments suggested with the static path: {r['seconds']:.0f} s, peak "
                   f"{r['peak_tree_mib'] / 1024:.1f} GiB (targets 600 s, 4 GiB)")  # fmt: skip
    d1, d2 = get("suggest_dask (embed + map)", 100_000, "static", workers=1), get(
        "suggest_dask (embed + map)", 100_000, "static", workers=2)  # fmt: skip
    if d1 and d2:
        out.append(f"- Dask on 100,000 comments: 1 worker {d1['seconds']:.1f} s, 2 workers {d2['seconds']:.1f} s "
                   f"({d1['seconds'] / d2['seconds']:.2f}x); output identical to in-process: "
                   f"{d1.get('identical')} / {d2.get('identical')}")  # fmt: skip
    e, s1 = get("embed (no cache)", 1_000_000, "static"), get("suggest_dask (embed + map)", 1_000_000, "static", workers=2)
    if s1:
        out.append(f"- 1,000,000 comments, embed + suggest, static, Dask 2 local workers: {s1['seconds']:.0f} s, peak "
                   f"{s1['peak_tree_mib'] / 1024:.1f} GiB (target 1,800 s)"
                   + (f"; embedding alone in one process {e['seconds']:.0f} s, peak {e['peak_tree_mib'] / 1024:.1f} GiB"
                      if e else ""))  # fmt: skip
    if rate:
        out.append(f"- MiniLM is not run above {max(n for n in sizes if get('suggest (embed + map)', n, 'minilm')):,} "
                   f"comments: at the {rate:.0f}/s measured, 100,000 would take ~{100_000 / rate / 60:.0f} min and "
                   f"1,000,000 ~{1_000_000 / rate / 3600:.1f} h (extrapolated)")  # fmt: skip
    return out + [""]


def a_draws(q: dict[str, Any]) -> int:
    draws = q.get("draws")
    return max(draws.values()) if isinstance(draws, dict) and draws else int(draws or 1)


def report(rows: list[dict[str, Any]], started: str) -> str:
    lines = ["## Speed", "", f"Measured {started} by `python benchmarks/speed.py` on {_machine()}; no GPU.",
             "Times are wall-clock seconds of the stage (interpreter start-up excluded); memory is the "
             "peak resident set of the stage's process tree (workers included); load is the machine's "
             "1-minute load average during the stage (2 cores: above 2, other work shared the CPUs and "
             "times are inflated accordingly).", ""]  # fmt: skip
    lines += summary(rows)
    lines += ["| stage | comments | model | seconds | comments/s | peak MiB | load | notes |",
              "|---|---:|---|---:|---:|---:|---:|---|"]
    for r in rows:
        if r["stage"] == "quality":
            continue
        if "error" in r:
            lines.append(f"| {r['stage']} | {r.get('size', 0):,} | {r['model']} | failed | | | {r.get('load', '')} | "
                         f"{r['error'][-80:]!r} |")  # fmt: skip
            continue
        notes = []
        for key in ("examples", "regime", "codes", "n_fit", "workers", "identical", "re_embedded", "substantive",
                    "imports_seconds", "load_seconds", "embed_seconds", "discover_seconds", "fit_seconds",
                    "suggest_seconds", "drift_seconds"):  # fmt: skip
            if key in r:
                v = r[key]
                notes.append(f"{key.replace('_seconds', '')} {v:.1f}s" if key.endswith("_seconds") else f"{key} {v}")
        ps = f"{r['per_second']:,.0f}" if "per_second" in r else ""
        size = f"{r['size']:,}" if r.get("size") else ""
        lines.append(f"| {r['stage']} | {size} | {r['model']} | {r['seconds']:.1f} | {ps} | "
                     f"{r['peak_tree_mib']:,.0f} | {r.get('load', '')} | {', '.join(notes)} |")  # fmt: skip
    q = [r for r in rows if r["stage"] == "quality" and "macro_f1" in r]
    if q:
        mf = q[0]["macro_f1"]
        lines += ["", f"Mapping macro-F1 (benchmarks/mapping.py protocol; few-shot: mean of {a_draws(q[0])} draws):", "",
                  "| setting | MiniLM | static | hybrid 5% | hybrid 10% | hybrid 20% |", "|---|---:|---:|---:|---:|---:|"]
        for s in ("k=5", "k=20", "supervised"):
            vals = [mf.get(f"{s}|{m}") for m in ("minilm", "static", "hybrid f=0.05", "hybrid f=0.1", "hybrid f=0.2")]
            lines.append(f"| {s} | " + " | ".join("" if v is None else f"{v:.3f}" for v in vals) + " |")
    meta = {r["size"]: r.get("corpus") for r in rows if r.get("corpus")}
    if meta:
        lines += ["", "Corpora: " + "; ".join(f"{n:,} rows, {m['distinct_texts']:,} distinct texts" for n, m in sorted(meta.items())) + "."]
    return "\n".join(lines) + "\n"


def update_results(path: Path, section: str) -> None:
    """Replace the "## Speed" section of RESULTS.md (up to the next "## " heading), or append it."""
    text = path.read_text(encoding="utf-8") if path.is_file() else "# Benchmark results\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, ln in enumerate(lines) if ln.strip() == "## Speed"), None)
    if start is None:
        new = text.rstrip("\n") + "\n\n" + section
    else:
        end = next((j for j in range(start + 1, len(lines)) if lines[j].startswith("## ")), len(lines))
        new = "".join(lines[:start]) + section + ("\n" + "".join(lines[end:]) if end < len(lines) else "")
    path.write_text(new, encoding="utf-8")

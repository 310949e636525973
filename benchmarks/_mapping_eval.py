"""Measures shared by ``benchmarks/mapping.py``: reliability (ECE, plot), per-code kappa, codes per
comment, the napire2018 questions and the simulated coder decisions.

Kappa everywhere is what :func:`themeassist.mapping.agreement` reports per code (Cohen's kappa of
0/1 presence), averaged over the codes with at least 3 coded positives among the compared comments.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any, Callable

import numpy as np
import pandas as pd
import yaml

from themeassist.codebook import Codebook
from themeassist.mapping import ThemeMapper, agreement, held_out_quality, read_decisions


# ------------------------------------------------------------------------------------ reliability
def top_pairs(P: np.ndarray, Y: np.ndarray, k: int = 5) -> tuple[np.ndarray, np.ndarray]:
    """Scores and 0/1 truths of each comment's ``k`` best-scored themes (flattened)."""
    k = min(k, P.shape[1])
    idx = np.argsort(-P, axis=1, kind="stable")[:, :k]
    return np.take_along_axis(P, idx, 1).ravel(), np.take_along_axis(Y, idx, 1).ravel().astype(float)


def reliability(p: np.ndarray, y: np.ndarray, n_bins: int = 15) -> dict[str, Any]:
    """Expected calibration error over ``n_bins`` equal-mass bins, and the bins (mean score, share right)."""
    order = np.argsort(p, kind="stable")
    bins = np.array_split(order, n_bins)
    mp = [float(p[b].mean()) for b in bins if len(b)]
    my = [float(y[b].mean()) for b in bins if len(b)]
    w = [len(b) / len(p) for b in bins if len(b)]
    ece = float(sum(wi * abs(a - b) for wi, a, b in zip(w, mp, my)))
    return {"ece": ece, "mean_score": mp, "share_right": my}


def reliability_plot(curves: dict[str, dict[str, Any]], path: Path) -> None:
    """Reliability diagram (mean score against share right per bin) of several runs, as a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 5))
    ax.plot([0, 1], [0, 1], color="grey", lw=1, ls="--", label="perfect")
    for label, r in curves.items():
        ax.plot(r["mean_score"], r["share_right"], marker="o", ms=3, label=f"{label} (ECE {r['ece']:.3f})")
    ax.set_xlabel("mean score per bin (5 best themes per comment, 15 equal-mass bins)")
    ax.set_ylabel("share of those themes the coder gave")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ------------------------------------------------------------------------------------ agreement
def code_kappa(pred: np.ndarray, truth: np.ndarray, min_pos: int = 3) -> float:
    """Mean per-code Cohen's kappa over the codes with at least ``min_pos`` positives in ``truth``
    (the same as :func:`themeassist.mapping.agreement`'s per-leaf ``cohen_kappa``)."""
    ks = []
    for j in np.where(truth.sum(0) >= min_pos)[0]:
        a, b = truth[:, j].astype(float), pred[:, j].astype(float)
        po = float((a == b).mean())
        pe = a.mean() * b.mean() + (1 - a.mean()) * (1 - b.mean())
        ks.append((po - pe) / (1 - pe) if pe < 1 else np.nan)
    return float(np.nanmean(ks)) if ks else float("nan")


def codes_ratio(pred: np.ndarray, truth: np.ndarray) -> float:
    """Codes per comment suggested over the coder's codes per comment."""
    return float(pred.sum() / max(truth.sum(), 1))


def first_right(P: np.ndarray, truth: np.ndarray, picks: np.ndarray | None = None) -> float:
    """Share of comments with a code whose best-scored theme is one of their codes."""
    has = truth.sum(1) > 0
    best = P.argmax(1)
    return float(truth[np.arange(len(P)), best][has].mean()) if has.any() else float("nan")


# ------------------------------------------------------------------------------------ napire2018
def napire_questions(data_dir: Path) -> list[dict[str, Any]]:
    """Per question: its answers (texts, codes; ``NotCodable`` = no code) and a codebook of the
    coders' category sheet restricted to the codes used in the question."""
    root = data_dir / "napire2018"
    resp = pd.read_csv(root / "responses.csv", dtype=str, keep_default_na=False)
    out = []
    for qid, df in resp.groupby("question_id", sort=True):
        kind = df["kind"].iloc[0]
        sheet = yaml.safe_load((root / f"codebook_{kind}.yaml").read_text(encoding="utf-8"))
        codes = [[c for c in s.split("|") if c and c != "NotCodable"] for s in df["codes"]]
        used = {c for cs in codes for c in cs}
        tree: dict[str, list[str]] = {}
        placed: set[str] = set()
        for cat, leaves in sheet.items():
            keep = [c for c in leaves if c in used and c not in placed]
            placed |= set(keep)
            if keep:
                tree[cat] = keep
        rest = sorted(used - placed)
        if rest:
            tree.setdefault("Not in the category sheet", []).extend(rest)
        cb = Codebook.from_dict(tree, name=f"napire {qid}")
        # codes are passed as theme ids: names that differ only in case would be ambiguous
        leaves = [t.theme_id for t in cb.leaves()]
        col = {t.name: j for j, t in enumerate(cb.leaves())}
        Y = np.zeros((len(df), len(leaves)), dtype=np.int8)
        for i, cs in enumerate(codes):
            for c in cs:
                Y[i, col[c]] = 1
        out.append({"question_id": qid, "kind": kind, "texts": df["text"].tolist(), "Y": Y, "codebook": cb,
                    "leaves": leaves, "doc_ids": [f"{qid}-{i}" for i in range(len(df))]})
    return out


def _examples(q: dict[str, Any], idx: np.ndarray) -> pd.DataFrame:
    L = q["leaves"]
    return pd.DataFrame({"doc_id": [q["doc_ids"][i] for i in idx], "text": [q["texts"][i] for i in idx],
                         "codes": ["|".join(L[j] for j in np.where(q["Y"][i])[0]) for i in idx]})


def picks(mapper: ThemeMapper, texts: list[str], E: np.ndarray) -> tuple[np.ndarray, np.ndarray, pd.DataFrame]:
    out = mapper.suggest(texts, embeddings=E, evidence=False)
    col = {t: j for j, t in enumerate(mapper.leaf_ids_)}
    D = np.zeros((len(texts), len(mapper.leaf_ids_)), dtype=np.int8)
    for i, ids in enumerate(out["suggested_ids"]):
        for t in filter(None, str(ids).split("|")):
            D[i, col[t]] = 1
    P = out[[f"score:{t}" for t in mapper.leaf_ids_]].to_numpy(dtype=float)
    return D, P, out


def simulated_decisions(q: dict[str, Any], rows: np.ndarray, sugg: pd.DataFrame) -> pd.DataFrame:
    """A coder's decisions on the suggestions of ``rows`` (positions in ``sugg``), answering with
    the human codes: accept when the suggestion is the coder's set, recode to the coder's codes
    otherwise, reject when the coder gave no code but something was suggested."""
    L = q["leaves"]
    table = sugg.iloc[rows].copy()
    dec, final = [], []
    for r, (_, row) in zip(rows, table.iterrows()):
        truth = [L[j] for j in np.where(q["Y"][q["test"][r]])[0]]
        got = [s for s in str(row["suggested_ids"]).split("|") if s]
        if set(truth) == set(got):
            dec.append("accept")
            final.append("")
        elif not truth:
            dec.append("reject")
            final.append("")
        else:
            dec.append("recode")
            final.append("|".join(truth))
    table["text"] = [q["texts"][q["test"][r]] for r in rows]
    table["doc_id"] = [q["doc_ids"][q["test"][r]] for r in rows]
    table["suggested"] = table["suggested_ids"]  # ids: some names differ only in case
    table["decision"], table["final_codes"] = dec, final
    return read_decisions(table, codebook=q["codebook"])


def napire_runs(data_dir: Path, make_mapper: Callable[[], ThemeMapper], embed: Callable[[list[str]], np.ndarray],
                *, share: float = 0.3, seed: int = 0, n_decisions: int = 20,
                decision_draws: int = 3) -> list[dict[str, Any]]:
    """The ten questions: ``share`` of the answers (seeded) as examples, the rest suggested; then
    ``n_decisions`` suggested answers decided by the simulated coder and the mapper refitted."""
    rows = []
    for q in napire_questions(data_dir):
        n = len(q["texts"])
        rng = np.random.default_rng(seed)
        perm = rng.permutation(n)
        n_ex = int(round(share * n))
        ex_idx, test = np.sort(perm[:n_ex]), np.sort(perm[n_ex:])
        q["test"] = test
        E = embed(q["texts"])
        t0 = time.time()
        mapper = make_mapper().fit(q["codebook"], _examples(q, ex_idx), example_embeddings=E[ex_idx])
        fit_s = time.time() - t0
        texts_te = [q["texts"][i] for i in test]
        D, P, sugg = picks(mapper, texts_te, E[test])
        Yt = q["Y"][test]
        p, y = top_pairs(P, Yt)
        # the kappa reported by agreement() (a cross-check of code_kappa)
        human = pd.DataFrame({"doc_id": sugg["doc_id"],
                              "codes": ["|".join(q["leaves"][j] for j in np.where(Yt[i])[0])
                                        for i in range(len(test))]})
        ag = agreement(sugg, human, q["codebook"], parents=False)
        leaf = ag[ag["level"].isin(("leaf", "itself")) & (ag["n_human"] >= 3)]  # every code
        row = {"question_id": q["question_id"], "n_answers": n, "n_codes": len(q["leaves"]), "n_examples": n_ex,
               "regime": mapper.regime_, "kappa": float(leaf["cohen_kappa"].mean()),
               "kappa_check": code_kappa(D, Yt), "codes_ratio": codes_ratio(D, Yt),
               "codes_per_answer": float(D.sum(1).mean()), "coder_codes_per_answer": float(Yt.sum(1).mean()),
               "none_share": float((D.sum(1) == 0).mean()), "coder_none_share": float((Yt.sum(1) == 0).mean()),
               "first_right": first_right(P, Yt), "ece_top5": reliability(p, y)["ece"], "fit_seconds": round(fit_s, 2)}
        # what ``themeassist suggest`` prints before any answer is read: the held-out agreement
        quality = held_out_quality(mapper, n_new=len(test))
        row.update({"held_out_kappa": quality.mean_kappa, "held_out_interval": list(quality.kappa_interval)})
        # 20 decisions, ``decision_draws`` times: the first n_decisions answers of a seeded shuffle
        # of the suggested ones are decided, the mapper refitted, kappa compared on the other answers
        before, after, kinds = [], [], {}
        for d in range(decision_draws if n_decisions else 0):
            pick = np.sort(np.random.default_rng(seed + 1 + d).permutation(len(test))[:n_decisions])
            rest = np.setdiff1d(np.arange(len(test)), pick)
            decided = simulated_decisions(q, pick, sugg)
            ex2 = pd.concat([_examples(q, ex_idx), decided], ignore_index=True)
            E2 = np.vstack([E[ex_idx], E[test[pick]]])
            m2 = make_mapper().fit(q["codebook"], ex2, example_embeddings=E2)
            D2, _, _ = picks(m2, [texts_te[i] for i in rest], E[test[rest]])
            before.append(code_kappa(D[rest], Yt[rest]))
            after.append(code_kappa(D2, Yt[rest]))
            for k, v in decided["decision"].value_counts().items():
                kinds[k] = kinds.get(k, 0) + int(v)
        if before:
            row.update({"kappa_rest_before": float(np.mean(before)), "kappa_rest_after": float(np.mean(after)),
                        "decision_gains": [a - b for a, b in zip(after, before)], "decisions": kinds})
        rows.append(row)
    return rows

"""Numerical parts of :class:`themeassist.mapping.ThemeMapper` (private).

Everything here works on arrays: ``X`` embeddings (n, dim) with unit rows, ``Y`` binary leaf labels
(n, L), ``M`` a 0/1 mask of which labels are known (a coder's reject says "not this theme" without
saying which theme applies; a code at a parent level leaves its children unknown).

Scorers (each returns raw scores (n, L); larger = more likely):

- prototype: cosine between a comment and the codebook text of each leaf (zero-shot evidence;
  in a transductive zero-shot run the prototypes are first moved towards the comments that
  match them best, :func:`pseudo_positives` and :func:`refine_prototypes`, and each leaf's
  threshold follows an estimate of its prevalence, :func:`prevalence_thresholds`);
- centroid: cosine to the mean of a leaf's coded examples, pulled towards its prototype;
- knn: similarity-weighted vote of the nearest coded examples;
- logreg on embeddings and on TF-IDF word + character n-grams: multi-label logistic regression,
  all leaves in one L-BFGS problem (fast on two cores).

Also here: the alignment of candidate codes with the codebook (:func:`align_candidates`, re-exported by :mod:`themeassist.mapping`).

Calibration: out-of-fold scores on the coded examples feed a stacker (a logistic regression over
the scorers' logits, shared by all leaves, with a per-leaf intercept shift when a leaf has enough
examples); decision thresholds are tuned on the same out-of-fold probabilities.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, sparse
from scipy.special import expit
from threadpoolctl import threadpool_limits

from themeassist.embed import unit_rows
from themeassist.exceptions import CorpusError

__all__: list[str] = []

_EPS = 1e-9
_PART_SPLIT = re.compile(r"\s*(?:&|,|/|;|\band\b|\bor\b)\s*", re.IGNORECASE)


# ----------------------------------------------------------------------------------------------
# prototypes (zero-shot)
# ----------------------------------------------------------------------------------------------
def prototype_texts(name: str, theme_text: str, keywords: Sequence[str]) -> list[str]:
    """Texts whose embeddings are averaged into a leaf's prototype.

    The name alone, prompt-like templates around it, each part of a compound name
    ("Food & drink provision" -> "food", "drink provision"), and the full codebook text
    (description, keywords and examples) when it says more than the name.
    """
    clean = name.strip().rstrip("?.!").strip()
    low = clean.lower()
    texts = [clean, f"A comment about {low}.", f"Feedback about {low}."]
    parts = [p for p in _PART_SPLIT.split(clean) if len(p) > 2]
    if len(parts) > 1:
        texts += [f"A comment about {p.lower()}." for p in parts]
    if theme_text and theme_text.strip().rstrip(".").lower() != low:
        texts.append(theme_text)
    texts += [f"A comment about {k.lower()}." for k in keywords[:8]]
    return texts


_TOKEN = re.compile(r"[^\W\d_]+")


def stem(word: str) -> str:
    """A crude, language-light stem: lower case, a plural "s" dropped, the first five letters."""
    w = word.lower()
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w[:5]


def theme_terms(name: str, keywords: Sequence[str]) -> list[str]:
    """Stems of the content words of a theme's name and keywords (stop words and 1-2 letter words out)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    words = _TOKEN.findall(" ".join([name, *keywords]))
    return list(dict.fromkeys(stem(w) for w in words if len(w) > 2 and w.lower() not in ENGLISH_STOP_WORDS))


def term_matrix(texts: Sequence[str], vocab: Sequence[str]) -> sparse.csr_matrix:
    """Binary (n_texts, n_terms): whether each text contains a word with each stem."""
    col = {t: k for k, t in enumerate(vocab)}
    word_col: dict[str, int] = {}  # each distinct word is stemmed once (-1: no term)
    rows, cols = [], []
    for i, text in enumerate(texts):
        found = set()
        for w in _TOKEN.findall(str(text)):
            k = word_col.get(w)
            if k is None:
                k = word_col[w] = col.get(stem(w), -1)
            if k >= 0:
                found.add(k)
        rows += [i] * len(found)
        cols += sorted(found)
    data = np.ones(len(rows), dtype=np.float32)
    return sparse.csr_matrix((data, (rows, cols)), shape=(len(texts), len(vocab)))


def char_wb_transform(vec: Any, texts: Sequence[str], cache: dict[str, list[int]] | None = None) -> sparse.csr_matrix:
    """``vec.transform(texts)`` for a fitted ``TfidfVectorizer(analyzer="char_wb")``, computed per
    distinct word.

    A ``char_wb`` n-gram never crosses a word boundary, so a text's counts are the sum of its
    words' counts: each distinct word is analysed once and the (texts x words) counts are
    multiplied by the (words x n-grams) counts. The result equals scikit-learn's (integer counts,
    then the same tf-idf weighting) and is several times faster on many comments, whose words
    repeat. ``cache`` (word -> n-gram columns of ``vec``) carries the analysed words from one
    call to the next for the same ``vec``; it is emptied when it holds more than 500,000 words.
    """
    preprocess, vocab = vec.build_preprocessor(), vec.vocabulary_
    if len(texts) == 0:
        return sparse.csr_matrix((0, len(vocab)))
    ngrams = vec._char_wb_ngrams  # noqa: SLF001 - the vectoriser's own analyser, applied per word
    words: dict[str, int] = {}
    indptr, wcols = [0], []
    for text in texts:
        for w in preprocess(vec.decode(text)).split():
            wcols.append(words.setdefault(w, len(words)))
        indptr.append(len(wcols))
    T = sparse.csr_matrix((np.ones(len(wcols)), wcols, indptr), shape=(len(texts), len(words)))
    cache = {} if cache is None else cache
    if len(cache) > 500_000:
        cache.clear()
    windptr, gcols = [0], []
    for w in words:
        cols = cache.get(w)
        if cols is None:
            cols = cache[w] = [vocab[g] for g in ngrams(w) if g in vocab]
        gcols += cols
        windptr.append(len(gcols))
    W = sparse.csr_matrix((np.ones(len(gcols)), gcols, windptr), shape=(len(words), len(vocab)))
    C = (T @ W).tocsr()
    C.sum_duplicates()
    C.sort_indices()
    return vec._tfidf.transform(C, copy=False)  # noqa: SLF001


def lexical_scores(B: sparse.csr_matrix, leaf_terms: sparse.csr_matrix, idf: np.ndarray) -> np.ndarray:
    """Share of each leaf's term weight (idf) found in each text: (n_texts, n_leaves) in [0, 1]."""
    W = leaf_terms.multiply(idf[:, None]).tocsr()  # (n_terms, n_leaves)
    tot = np.asarray(W.sum(0)).ravel()
    hit = np.asarray((B @ W).todense()) if sparse.issparse(B @ W) else B @ W
    return hit / np.maximum(tot, _EPS)


def pseudo_positives(T: np.ndarray, m: int) -> list[np.ndarray]:
    """Comments taken as confident examples of each leaf (zero-shot self-training).

    Parameters
    ----------
    T : ndarray of shape (n, n_leaves)
        Zero-shot evidence (larger = more likely).
    m : int
        At most this many comments per leaf.

    Returns
    -------
    list of ndarray
        Per leaf, the sorted row indices of the (up to) ``m`` comments with the highest ``T`` for
        the leaf among those whose best leaf it is (a comment is an example of one leaf at most).
    """
    best = T.argmax(1) if T.size else np.zeros(T.shape[0], dtype=int)
    out = []
    for j in range(T.shape[1]):
        cand = np.where(best == j)[0]
        out.append(np.sort(cand[np.argsort(-T[cand, j], kind="stable")[:m]]))
    return out


def refine_prototypes(protos: np.ndarray, X_rows: np.ndarray, rows: np.ndarray, selected: Sequence[np.ndarray],
                      weight: float) -> np.ndarray:
    """Prototypes moved towards the comments taken as examples of their leaf.

    Parameters
    ----------
    protos : ndarray of shape (n_leaves, dim)
        The codebook prototypes (unit rows).
    X_rows : ndarray of shape (len(rows), dim)
        Embeddings (unit rows) of the comments ``rows``.
    rows : ndarray of int
        Sorted row indices of the comments in ``X_rows``, covering every index in ``selected``.
    selected : list of ndarray
        Per leaf, the row indices of its examples (:func:`pseudo_positives`).
    weight : float
        Weight of the codebook prototype against the unit mean of the examples.

    Returns
    -------
    ndarray of shape (n_leaves, dim)
        Unit rows ``weight * prototype + unit mean of the examples``; a leaf without example
        keeps its prototype.
    """
    means = np.zeros(protos.shape, dtype=np.float32)
    for j, sel in enumerate(selected):
        if len(sel):
            means[j] = X_rows[np.searchsorted(rows, sel)].mean(0)
    return normalise_rows(weight * protos + normalise_rows(means))


def prevalence_thresholds(T: np.ndarray, rank: np.ndarray, factor: float) -> np.ndarray:
    """Per-leaf thresholds on the zero-shot evidence from an estimate of each leaf's prevalence.

    A leaf is expected in about ``factor`` times as many comments as rank it first (comments
    often have more than one theme); its threshold is the evidence ``T`` of its k-th highest
    comment, ``k = round(factor * n_first)`` (at least 1). A leaf that no comment ranks first
    gets an infinite threshold.

    Returns
    -------
    ndarray of shape (n_leaves,)
    """
    n, L = T.shape
    first = np.bincount(rank.argmax(1), minlength=L) if n else np.zeros(L, dtype=int)
    tau = np.full(L, np.inf)
    for j in np.where(first > 0)[0]:
        k = min(n, max(1, int(round(factor * first[j]))))
        tau[j] = float(np.partition(T[:, j], n - k)[n - k])
    return tau


normalise_rows = unit_rows  # the one normalisation of embeddings (themeassist.embed.unit_rows)


# ----------------------------------------------------------------------------------------------
# a small L-BFGS (scipy's L-BFGS-B spends most of its time in bound handling on 10^5+ variables)
# ----------------------------------------------------------------------------------------------
def lbfgs(fg, x0: np.ndarray, *, max_iter: int = 200, memory: int = 10, gtol: float = 1e-5,
          ftol: float = 1e-9) -> np.ndarray:  # type: ignore[no-untyped-def]
    """Minimise ``f`` given ``fg(x) -> (f, grad)`` by L-BFGS with a backtracking Armijo line search."""
    x = x0.astype(np.float64)
    f, g = fg(x)
    S: list[np.ndarray] = []
    Yd: list[np.ndarray] = []
    for _ in range(max_iter):
        q = g.copy()
        coefs = []
        for s_, y_ in zip(reversed(S), reversed(Yd)):
            rho = 1.0 / float(y_ @ s_)
            a = rho * float(s_ @ q)
            q -= a * y_
            coefs.append((rho, a))
        gamma = float(S[-1] @ Yd[-1]) / float(Yd[-1] @ Yd[-1]) if S else 1.0 / max(float(np.abs(g).max()), 1.0)
        r = gamma * q
        for (s_, y_), (rho, a) in zip(zip(S, Yd), reversed(coefs)):
            r += s_ * (a - rho * float(y_ @ r))
        d = -r
        gd = float(g @ d)
        if gd >= 0:  # not a descent direction: restart from the gradient
            S.clear()
            Yd.clear()
            d = -g / max(float(np.abs(g).max()), 1.0)
            gd = float(g @ d)
        step = 1.0
        while True:
            xn = x + step * d
            fn, gn = fg(xn)
            if fn <= f + 1e-4 * step * gd or step < 1e-8:
                break
            step *= 0.5
        s_, y_ = xn - x, gn - g
        if float(y_ @ s_) > 1e-12:
            S.append(s_)
            Yd.append(y_)
            if len(S) > memory:
                S.pop(0)
                Yd.pop(0)
        done = abs(f - fn) <= ftol * max(abs(f), abs(fn), 1.0)
        x, f, g = xn, fn, gn
        if done or float(np.abs(g).max()) <= gtol:
            break
    return x


# ----------------------------------------------------------------------------------------------
# multi-label logistic regression, one L-BFGS problem for all labels
# ----------------------------------------------------------------------------------------------
@dataclass
class MultiLogReg:
    """Independent binary logistic regressions for all columns of ``Y``, fitted jointly.

    Loss: ``sum_ij w_ij * logloss(y_ij, x_i . b_j + c_j) + ||B||^2 / (2 C)`` with balanced
    weights per label (positives and negatives weigh the same in total) times the mask.
    """

    C: float = 1.0
    max_iter: int = 150
    coef_: np.ndarray | None = field(default=None, repr=False)
    intercept_: np.ndarray | None = field(default=None, repr=False)

    def fit(self, X: np.ndarray | sparse.spmatrix, Y: np.ndarray, M: np.ndarray) -> MultiLogReg:
        n, d = X.shape
        L = Y.shape[1]
        Yf = Y.astype(np.float64)
        pos = (Yf * M).sum(0)
        neg = ((1 - Yf) * M).sum(0)
        tot = pos + neg
        wp = np.where(pos > 0, tot / (2 * np.maximum(pos, 1)), 0.0)
        wn = np.where(neg > 0, tot / (2 * np.maximum(neg, 1)), 0.0)
        W = M * (Yf * wp + (1 - Yf) * wn)
        W = W / max(W.sum() / max(M.sum(), 1), _EPS)
        is_sparse = sparse.issparse(X)
        Xd = X.tocsr() if is_sparse else np.asarray(X, dtype=np.float64)
        XT = Xd.T.tocsr() if is_sparse else Xd.T
        lam = 1.0 / self.C

        def fg(theta: np.ndarray) -> tuple[float, np.ndarray]:
            B = theta[: d * L].reshape(d, L)
            c = theta[d * L:]
            Z = Xd @ B + c
            # logloss = log(1 + exp(-z)) for y=1, log(1 + exp(z)) for y=0
            S = np.where(Yf > 0, -Z, Z)
            loss = float((W * np.logaddexp(0, S)).sum()) + 0.5 * lam * float((B * B).sum())
            G = W * (expit(Z) - Yf)
            gB = XT @ G + lam * B
            gc = G.sum(0)
            return loss, np.concatenate([np.asarray(gB).ravel(), gc])

        # many small BLAS calls: one thread avoids thread start-up and spinning on busy machines
        with threadpool_limits(limits=1, user_api="blas"):
            theta = lbfgs(fg, np.zeros(d * L + L), max_iter=self.max_iter)
        self.coef_ = theta[: d * L].reshape(d, L)
        self.intercept_ = theta[d * L:].copy()
        # labels without both classes carry no information: score them as "unknown" (very low)
        self.intercept_[(pos == 0)] = -10.0
        self.coef_[:, (pos == 0)] = 0.0
        return self

    def decision_function(self, X: np.ndarray | sparse.spmatrix) -> np.ndarray:
        return np.asarray(X @ self.coef_ + self.intercept_)


@dataclass
class OvRLinearSVC:
    """One linear SVM per label (liblinear; fast on sparse TF-IDF), balanced classes, masked rows
    left out. Labels without both classes score -1 (the margin of a clear negative)."""

    C: float = 0.5
    random_state: int = 0
    coef_: Any = field(default=None, repr=False)
    intercept_: np.ndarray | None = field(default=None, repr=False)

    def fit(self, X: Any, Y: np.ndarray, M: np.ndarray) -> OvRLinearSVC:
        from sklearn.svm import LinearSVC

        d, L = X.shape[1], Y.shape[1]
        coef = np.zeros((d, L))
        icpt = np.full(L, -1.0)
        for j in range(L):
            keep = M[:, j] > 0
            y = Y[keep, j]
            if y.sum() == 0 or y.sum() == len(y):
                continue
            svc = LinearSVC(C=self.C, class_weight="balanced", max_iter=5000, random_state=self.random_state)
            svc.fit(X[keep], y)
            coef[:, j] = svc.coef_[0]
            icpt[j] = svc.intercept_[0]
        self.coef_ = sparse.csr_matrix(coef)
        self.intercept_ = icpt
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        out = X @ self.coef_
        return np.asarray(out.todense() if sparse.issparse(out) else out) + self.intercept_


# ----------------------------------------------------------------------------------------------
# centroid and kNN scorers
# ----------------------------------------------------------------------------------------------
def centroids(X: np.ndarray, Y: np.ndarray, protos: np.ndarray, prior_weight: float) -> np.ndarray:
    """Unit vectors ``prior_weight * prototype + mean(positive examples)`` per leaf."""
    Yf = Y.astype(np.float32)
    cnt = Yf.sum(0)
    sums = Yf.T @ X
    means = sums / np.maximum(cnt, 1)[:, None]
    means = normalise_rows(means) * (cnt > 0)[:, None]
    return normalise_rows(means + prior_weight * protos)


def knn_scores(S: np.ndarray, Y: np.ndarray, k: int, exclude_self: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Similarity-weighted share of the ``k`` nearest examples coded with each leaf.

    ``S`` is (n, n_examples) cosine similarities. Returns scores (n, L) and the neighbour indices.
    """
    S = S.copy()
    if exclude_self:
        np.fill_diagonal(S, -np.inf)
    k = max(1, min(k, S.shape[1] - int(exclude_self)))
    idx = np.argpartition(-S, k - 1, axis=1)[:, :k]
    sims = np.take_along_axis(S, idx, axis=1)
    w = np.exp((np.clip(sims, -1, 1) - 1.0) / 0.1)  # sharper for near neighbours
    Yf = Y.astype(np.float32)
    votes = np.einsum("nk,nkl->nl", w, Yf[idx])
    return votes / np.maximum(w.sum(1, keepdims=True), _EPS), idx


# ----------------------------------------------------------------------------------------------
# stacking and thresholds
# ----------------------------------------------------------------------------------------------
def to_feature(score: np.ndarray, kind: str) -> np.ndarray:
    """Map a scorer's raw output onto an unbounded scale for the stacker."""
    if kind == "knn":
        return np.log(np.clip(score, 0.0, 1.0) + 0.02)
    if kind in ("proto", "centroid"):
        return score * 10.0
    if kind == "words":
        return score * 3.0
    return np.clip(score, -30, 30)


@dataclass
class Stacker:
    """Logistic regression over the scorers' features, shared by all leaves, then refitted per
    leaf with a prior centred on the shared fit (leaves with many examples get their own weights
    and base rate; leaves with few stay close to the shared ones)."""

    weights_: np.ndarray | None = None
    bias_: float = 0.0
    leaf_weights_: np.ndarray | None = None
    leaf_bias_: np.ndarray | None = None

    def fit(self, F: np.ndarray, Y: np.ndarray, M: np.ndarray, prior_var: float = 1.0,
            weight_prior: float = 1e6) -> Stacker:
        # F: (n, L, n_features)
        n, L, m = F.shape
        keep = M.reshape(-1) > 0
        Xf = F.reshape(-1, m)[keep]
        y = Y.reshape(-1)[keep].astype(np.float64)
        if y.sum() == 0 or y.sum() == len(y):
            self.weights_ = np.ones(m) / m
            self.bias_ = 0.0
            self.leaf_weights_, self.leaf_bias_ = np.tile(self.weights_, (L, 1)), np.zeros(L)
            return self
        lam = 1.0 + 1e-3 * len(y)

        def fg(theta: np.ndarray) -> tuple[float, np.ndarray]:
            z = Xf @ theta[:m] + theta[m]
            s = np.where(y > 0, -z, z)
            loss = float(np.logaddexp(0, s).sum()) + 0.5 * lam * float(theta[:m] @ theta[:m])
            g = expit(z) - y
            return loss, np.concatenate([Xf.T @ g + lam * theta[:m], [g.sum()]])

        # every feature grows with the evidence for the leaf: weights are kept >= 0, which also
        # keeps collinear scorers from cancelling each other out on small data
        res = optimize.minimize(fg, np.concatenate([np.full(m, 0.1), [0.0]]), jac=True, method="L-BFGS-B",
                                bounds=[(0.0, None)] * m + [(None, None)])
        self.weights_, self.bias_ = res.x[:m], float(res.x[m])
        # per leaf: weights and intercept by Newton steps on the leaf's log-loss plus
        # (prior / 2) * ||theta - theta_shared||^2, i.e. shrunk towards the shared stacker
        # (the intercept with prior 1 / prior_var, the weights with prior ``weight_prior``)
        W = np.tile(self.weights_, (L, 1))
        B = np.full(L, self.bias_)
        theta0 = np.concatenate([self.weights_, [self.bias_]])
        prior = np.concatenate([np.full(m, weight_prior), [1.0 / prior_var]])
        for j in range(L):
            mj = M[:, j] > 0
            if not mj.any():
                continue
            Xj = np.hstack([F[mj, j, :], np.ones((int(mj.sum()), 1))])
            yj = Y[mj, j].astype(np.float64)
            th = theta0.copy()
            for _ in range(20):
                p = expit(Xj @ th)
                g = Xj.T @ (p - yj) + prior * (th - theta0)
                H = (Xj * (p * (1 - p))[:, None]).T @ Xj + np.diag(prior)
                step = np.linalg.solve(H, g)
                th -= step
                th[:m] = np.maximum(th[:m], 0.0)
                if float(np.abs(step).max()) < 1e-6:
                    break
            W[j], B[j] = th[:m], th[m]
        self.leaf_weights_, self.leaf_bias_ = W, B
        return self

    def predict_proba(self, F: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        W = self.leaf_weights_ if cols is None else self.leaf_weights_[cols]
        B = self.leaf_bias_ if cols is None else self.leaf_bias_[cols]
        z = np.einsum("nlm,lm->nl", F, W) + B
        return expit(z)


def _f1(y: np.ndarray, p: np.ndarray) -> float:
    tp = float((y & p).sum())
    return 2 * tp / max(float(y.sum() + p.sum()), 1.0)


_GRID = np.round(np.concatenate([np.arange(0.02, 0.2, 0.02), np.arange(0.2, 0.91, 0.05)]), 3)


def tune_thresholds(P: np.ndarray, Y: np.ndarray, M: np.ndarray, shrink: float = 20.0) -> tuple[np.ndarray, float]:
    """Per-leaf F1-maximising thresholds on out-of-fold probabilities, shrunk towards the one
    global threshold that maximises the mean F1 over leaves (weight ``n_pos / (n_pos + shrink)``)."""
    L = P.shape[1]
    Yb = Y.astype(bool)
    scores = np.zeros((L, len(_GRID)))
    npos = np.zeros(L)
    for j in range(L):
        mj = M[:, j] > 0
        yj = Yb[mj, j]
        npos[j] = yj.sum()
        if npos[j] == 0:
            continue
        pj = P[mj, j]
        scores[j] = [_f1(yj, pj >= g) for g in _GRID]
    has = npos > 0
    glob = float(_GRID[int(np.argmax(scores[has].mean(0)))]) if has.any() else 0.5
    th = np.full(L, glob)
    for j in np.where(has)[0]:
        best = float(_GRID[int(np.argmax(scores[j]))])
        a = npos[j] / (npos[j] + shrink)
        th[j] = a * best + (1 - a) * glob
    return th, glob


def decide(P: np.ndarray, th: np.ndarray, none_level: float, top_k: int,
           rank: np.ndarray | None = None) -> list[list[int]]:
    """Leaves suggested per row, best first: those at or above their threshold, and otherwise the
    leaf with the highest ``p / threshold`` when that reaches ``none_level`` (else none). With
    ``rank`` (zero-shot), the highest-ranked leaf is added whenever its ``p / threshold`` reaches
    ``none_level`` and its rank is finite (a row of ``-inf`` ranks: no best leaf)."""
    R = P / np.maximum(th, _EPS)
    out: list[list[int]] = []
    for i in range(P.shape[0]):
        chosen = np.where(R[i] >= 1.0)[0]
        if rank is not None:  # the best-ranked leaf joins those above threshold
            j = int(np.argmax(rank[i]))
            if np.isfinite(rank[i, j]) and R[i, j] >= none_level and j not in chosen:
                chosen = np.append(chosen, j)
        elif len(chosen) == 0:
            j = int(np.argmax(R[i]))
            chosen = np.array([j]) if R[i, j] >= none_level else np.array([], dtype=int)
        order = chosen[np.argsort(-P[i, chosen], kind="stable")]
        out.append([int(j) for j in order[:top_k]])
    return out


def tune_none_level(P: np.ndarray, th: np.ndarray, Y: np.ndarray, M: np.ndarray, top_k: int) -> float:
    """The ``p / threshold`` level below which a row gets no suggestion, maximising micro-F1 of the
    whole decision rule on out-of-fold probabilities (low when every example has a code)."""
    best, best_f = 1.0, -1.0
    Yb = (Y * M).astype(bool)
    for level in (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0):
        picks = decide(P, th, level, top_k)
        D = np.zeros_like(Yb)
        for i, js in enumerate(picks):
            D[i, js] = True
        D &= M.astype(bool)
        f = _f1(Yb, D)
        if f > best_f + 1e-9:
            best, best_f = level, f
    return best


def _blank(v: Any) -> bool:
    import math

    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) or (isinstance(v, str) and not v.strip())


def _snip(text: str, n: int = 70) -> str:
    t = " ".join(str(text).split())
    return repr(t if len(t) <= n else t[: n - 1].rstrip() + "…")


# ----------------------------------------------------------------------------------------------
# candidate codes -> themes
# ----------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Alignment:
    """Candidate codes aligned with the codebook.

    Attributes
    ----------
    candidates : DataFrame
        One row per candidate code and matching leaf theme (one row with empty theme columns for
        a candidate that matches none): ``candidate_id, label, n_docs, theme_id, theme_name,
        theme_path, similarity, share, rank, possible_new_theme, relation, keywords, quotes``.
        ``similarity``: cosine between the candidate (the centroid of its comments, or its label
        and keywords) and the theme's codebook text; ``share``: share of its comments suggested
        for the theme; ``relation``: "matches" or "possible new theme".
    themes : DataFrame
        One row per codebook theme (leaves and parents): ``theme_id, theme_name, theme_path,
        depth, n_candidates, n_suggested, found`` (False = not found in these data).
    """

    candidates: pd.DataFrame
    themes: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """The candidate table (``candidates``)."""
        return self.candidates


def _listish(v: Any) -> list[str]:
    if isinstance(v, (list, tuple, np.ndarray)):
        return [str(x) for x in v]
    if _blank(v):
        return []
    return [p.strip() for p in str(v).replace(";", "|").replace(",", "|").split("|") if p.strip()]


def align_candidates(
    mapper: Any,
    candidate_codes: pd.DataFrame,
    assignments: pd.DataFrame,
    suggestions: pd.DataFrame | None = None,
    *,
    texts: pd.DataFrame | None = None,
    doc_embeddings: np.ndarray | None = None,
    min_share: float = 0.2,
    min_similarity: float = 0.35,
    max_themes: int = 3,
) -> Alignment:
    """Align candidate codes (from discovery) with a fitted mapper's codebook.

    A candidate matches a leaf theme when at least ``min_share`` of its comments are suggested for
    it (with ``suggestions``), or — without suggestions — when the cosine similarity between the
    candidate and the theme reaches ``min_similarity``. Candidates that match nothing are flagged
    ``possible_new_theme`` with their keywords and representative quotes; themes that no
    candidate matches and no comment is suggested for are ``found=False`` ("not found in these data").

    Parameters
    ----------
    mapper : fitted ThemeMapper
    candidate_codes : DataFrame
        ``candidate_id, label, keywords, n_docs`` (+ ``share, representative_doc_ids``).
    assignments : DataFrame
        ``doc_id, candidate_id`` (+ ``is_outlier``): outliers are ignored.
    suggestions : DataFrame, optional
        The output of :meth:`ThemeMapper.suggest` (``doc_id, suggested_ids``).
    texts : DataFrame, optional
        ``doc_id, text`` for the quotes of possible new themes.
    doc_embeddings : ndarray, optional
        Embeddings in ``assignments`` row order; the candidate centroid is then used for
        similarity, otherwise its label and keywords are embedded.
    min_share, min_similarity : float
    max_themes : int
        At most this many matching themes per candidate.

    Returns
    -------
    Alignment

    Examples
    --------
    >>> al = align_candidates(mapper, cands, assignments, suggestions)   # doctest: +SKIP
    >>> al.candidates[al.candidates.possible_new_theme]                  # doctest: +SKIP
    """
    mapper._check_fitted("align_candidates")
    for name, df, cols in (("candidate_codes", candidate_codes, ("candidate_id",)),
                           ("assignments", assignments, ("doc_id", "candidate_id"))):
        miss = [c for c in cols if c not in df.columns]
        if miss:
            raise CorpusError(f"align_candidates: {name} lacks columns {miss} (columns: {list(df.columns)}).")
    cb = mapper.codebook_
    asg = assignments.copy()
    asg["doc_id"] = asg["doc_id"].astype(str)
    keep = ~asg["is_outlier"].astype(bool) if "is_outlier" in asg.columns else pd.Series(True, index=asg.index)
    cands = candidate_codes.reset_index(drop=True)
    cids = cands["candidate_id"].tolist()
    L = len(mapper.leaf_ids_)
    # similarity: candidate vectors
    if doc_embeddings is not None:
        D = normalise_rows(np.asarray(doc_embeddings))
        if D.shape[0] != len(asg):
            raise ValueError(f"align_candidates: doc_embeddings has {D.shape[0]} rows for {len(asg)} assignments.")
        V = np.zeros((len(cids), D.shape[1]), np.float32)
        for c, cid in enumerate(cids):
            m = ((asg["candidate_id"] == cid) & keep).to_numpy()
            if m.any():
                V[c] = D[m].mean(0)
        V = normalise_rows(V)
    else:
        descr = []
        for _, r in cands.iterrows():
            kw = _listish(r.get("keywords", ""))
            label = "" if _blank(r.get("label", "")) else str(r.get("label"))
            descr.append((label + ". " if label else "") + ", ".join(kw[:10]))
        V = mapper._encode(descr)
    Sim = V @ mapper.protos_.T if len(cids) else np.zeros((0, L))
    # share of each candidate's comments suggested per leaf
    Share = np.zeros((len(cids), L))
    n_sugg = np.zeros(L, dtype=int)
    leaf_col = {t: j for j, t in enumerate(mapper.leaf_ids_)}
    if suggestions is not None:
        if "suggested_ids" not in suggestions.columns:
            raise CorpusError("align_candidates: suggestions lacks 'suggested_ids'; pass the output of suggest().")
        sugg = dict(zip(suggestions["doc_id"].astype(str), suggestions["suggested_ids"].fillna("")))
        for ids in sugg.values():
            for t in str(ids).split("|"):
                if t in leaf_col:
                    n_sugg[leaf_col[t]] += 1
        for c, cid in enumerate(cids):
            docs = asg.loc[(asg["candidate_id"] == cid) & keep, "doc_id"]
            if len(docs) == 0:
                continue
            for d in docs:
                for t in str(sugg.get(d, "")).split("|"):
                    if t in leaf_col:
                        Share[c, leaf_col[t]] += 1
            Share[c] /= len(docs)
    quotes_of: dict[str, str] = {}
    if texts is not None and {"doc_id", "text"} <= set(texts.columns):
        quotes_of = dict(zip(texts["doc_id"].astype(str), texts["text"].astype(str)))
    rows = []
    matched_leaves: set[int] = set()
    for c, cid in enumerate(cids):
        r = cands.iloc[c]
        if suggestions is not None:
            ok = np.where(Share[c] >= min_share)[0]
            ok = ok[np.argsort(-Share[c, ok], kind="stable")]
        else:
            ok = np.where(Sim[c] >= min_similarity)[0]
            ok = ok[np.argsort(-Sim[c, ok], kind="stable")]
        ok = ok[:max_themes]
        base = {"candidate_id": cid, "label": r.get("label", ""), "n_docs": r.get("n_docs", pd.NA)}
        kw = "|".join(_listish(r.get("keywords", "")))
        rep = _listish(r.get("representative_doc_ids", ""))
        quotes = " | ".join(_snip(quotes_of[d], 120) for d in rep[:3] if d in quotes_of)
        if len(ok) == 0:
            rows.append({**base, "theme_id": "", "theme_name": "", "theme_path": "",
                         "similarity": round(float(Sim[c].max()), 3) if L else float("nan"),
                         "share": round(float(Share[c].max()), 3) if L else float("nan"),
                         "rank": 0, "possible_new_theme": True, "relation": "possible new theme",
                         "keywords": kw, "quotes": quotes})
            continue
        for rank, j in enumerate(ok, 1):
            matched_leaves.add(int(j))
            t = cb.get(mapper.leaf_ids_[j])
            rows.append({**base, "theme_id": t.theme_id, "theme_name": t.name, "theme_path": t.path_str,
                         "similarity": round(float(Sim[c, j]), 3), "share": round(float(Share[c, j]), 3),
                         "rank": rank, "possible_new_theme": False, "relation": "matches",
                         "keywords": kw, "quotes": ""})
    cand_df = pd.DataFrame(rows, columns=["candidate_id", "label", "n_docs", "theme_id", "theme_name", "theme_path",
                                          "similarity", "share", "rank", "possible_new_theme", "relation",
                                          "keywords", "quotes"])
    # themes table (leaves; parents found when any leaf below is)
    n_cand = np.zeros(L, dtype=int)
    for j in cand_df.loc[~cand_df["possible_new_theme"], "theme_id"].map(leaf_col):
        n_cand[int(j)] += 1
    found_leaf = {mapper.leaf_ids_[j]: bool(n_cand[j] or n_sugg[j]) for j in range(L)}
    trows = []
    for t in cb.themes:
        if t.is_leaf:
            j = leaf_col[t.theme_id]
            nc, ns, found = int(n_cand[j]), int(n_sugg[j]), found_leaf[t.theme_id]
        else:
            below = [leaf_col[d.theme_id] for d in cb.descendants(t.theme_id) if d.is_leaf]
            nc = int(n_cand[below].sum()) if below else 0
            ns = int(n_sugg[below].sum()) if below else 0
            found = any(found_leaf[mapper.leaf_ids_[j]] for j in below)
        trows.append({"theme_id": t.theme_id, "theme_name": t.name, "theme_path": t.path_str, "depth": t.depth,
                      "n_candidates": nc, "n_suggested": ns, "found": found})
    return Alignment(candidates=cand_df, themes=pd.DataFrame(trows))

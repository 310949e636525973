"""The mapper's scorers (private to the mapping stage).

Each returns raw scores (n, L), larger = more likely, from embeddings ``X`` (n, dim, unit rows),
binary leaf labels ``Y`` (n, L), a known-mask ``M`` (a coder's reject says "not this theme"
without saying which theme applies; a code at a parent level leaves its children unknown) and
row weights ``w`` (the examples table's ``weight`` column):

- centroid: cosine to the weighted mean of a leaf's coded examples, pulled towards its prototype;
- knn: similarity-weighted vote of the nearest coded examples;
- :class:`MultiLogReg`: class-balanced logistic regressions of all leaves on the embeddings, one
  problem solved by a small L-BFGS (:func:`lbfgs`; faster here than scipy's L-BFGS-B and than one
  scikit-learn fit per leaf, and equal to them: tests/test_mapping_models.py checks the optimiser
  against scipy's and the coefficients against :class:`sklearn.linear_model.LogisticRegression`);
- :class:`OvRLinearSVC`: one scikit-learn ``LinearSVC`` per leaf on TF-IDF word and character
  n-grams, class-balanced.

The two classifiers also learn from each leaf's codebook name as one coded example of the leaf
(:func:`with_name_examples`): a leaf with one or two coded examples (or none in a fold) still has
its own words and its prototype to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from scipy.special import expit
from threadpoolctl import threadpool_limits

from themeassist.embed import unit_rows as normalise_rows
from themeassist.exceptions import ParameterError

__all__: list[str] = []

_EPS = 1e-9


# ----------------------------------------------------------------------------------------------
# a small L-BFGS: scipy's L-BFGS-B spends most of its time in its own bookkeeping (setulb) on the
# 10^4-10^5 variables of all leaves at once (about 3x slower on a 100-example, 86-code question);
# tests/test_mapping_models.py checks this one against scipy's and the fit against scikit-learn
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


def balanced_weights(Y: np.ndarray, M: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Cell weights (n, L): per leaf, positives and negatives weigh the same in total (as
    scikit-learn's ``class_weight="balanced"``), times the known-mask and the row weights."""
    Yf = Y.astype(np.float64)
    Wr = (M > 0) * (1.0 if w is None else np.asarray(w, dtype=np.float64)[:, None])
    pos = (Yf * Wr).sum(0)
    neg = ((1 - Yf) * Wr).sum(0)
    tot = pos + neg
    wp = np.where(pos > 0, tot / (2 * np.maximum(pos, _EPS)), 0.0)
    wn = np.where(neg > 0, tot / (2 * np.maximum(neg, _EPS)), 0.0)
    return Wr * (Yf * wp + (1 - Yf) * wn)


@dataclass
class MultiLogReg:
    """Independent binary logistic regressions for all columns of ``Y``, fitted jointly.

    Loss: ``sum_ij W_ij * logloss(y_ij, x_i . b_j + c_j) + ||B||^2 / (2 C)`` with ``W`` the
    :func:`balanced_weights`, rescaled to a total equal to the weighted number of known cells (so
    that a row of weight 2 counts as the row twice); the same minimiser as
    scikit-learn's ``LogisticRegression(C=C)`` per leaf with ``sample_weight = W[:, j]``.
    """

    C: float = 1.0
    max_iter: int = 150
    coef_: np.ndarray | None = field(default=None, repr=False)
    intercept_: np.ndarray | None = field(default=None, repr=False)

    def sample_weights(self, Y: np.ndarray, M: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
        """The cell weights ``W`` of the loss."""
        W = balanced_weights(Y, M, w)
        known = float(((M > 0) * (1.0 if w is None else np.asarray(w, dtype=np.float64)[:, None])).sum())
        return W / max(W.sum() / max(known, _EPS), _EPS)

    def fit(self, X: np.ndarray | sparse.spmatrix, Y: np.ndarray, M: np.ndarray,
            w: np.ndarray | None = None) -> MultiLogReg:
        n, d = X.shape
        L = Y.shape[1]
        Yf = Y.astype(np.float64)
        W = self.sample_weights(Y, M, w)
        pos = (Yf * (W > 0)).sum(0)
        is_sparse = sparse.issparse(X)
        Xd = X.tocsr() if is_sparse else np.asarray(X, dtype=np.float64)
        XT = Xd.T.tocsr() if is_sparse else Xd.T
        lam = 1.0 / self.C

        def fg(theta: np.ndarray) -> tuple[float, np.ndarray]:
            B = theta[: d * L].reshape(d, L)
            c = theta[d * L:]
            Z = Xd @ B + c
            S = np.where(Yf > 0, -Z, Z)  # logloss = log(1 + exp(-z)) for y=1, log(1 + exp(z)) for y=0
            loss = float((W * np.logaddexp(0, S)).sum()) + 0.5 * lam * float((B * B).sum())
            G = W * (expit(Z) - Yf)
            return loss, np.concatenate([np.asarray(XT @ G + lam * B).ravel(), G.sum(0)])

        # many small BLAS calls: one thread avoids thread start-up and spinning on busy machines
        with threadpool_limits(limits=1, user_api="blas"):
            theta = lbfgs(fg, np.zeros(d * L + L), max_iter=self.max_iter)
        self.coef_ = theta[: d * L].reshape(d, L).copy()
        self.intercept_ = theta[d * L:].copy()
        # labels without a positive carry no information: score them as "unknown" (very low)
        self.intercept_[pos == 0] = -10.0
        self.coef_[:, pos == 0] = 0.0
        return self

    def decision_function(self, X: np.ndarray | sparse.spmatrix) -> np.ndarray:
        return np.asarray(X @ self.coef_ + self.intercept_)


@dataclass
class OvRLinearSVC:
    """One linear SVM per label (scikit-learn's liblinear; fast on sparse TF-IDF), balanced classes,
    masked rows left out, row weights as ``sample_weight``. Labels without both classes score -1
    (the margin of a clear negative)."""

    C: float = 0.5
    random_state: int = 0
    coef_: Any = field(default=None, repr=False)
    intercept_: np.ndarray | None = field(default=None, repr=False)

    def fit(self, X: Any, Y: np.ndarray, M: np.ndarray, w: np.ndarray | None = None) -> OvRLinearSVC:
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
            svc.fit(X[keep], y, sample_weight=None if w is None else np.asarray(w, dtype=np.float64)[keep])
            coef[:, j] = svc.coef_[0]
            icpt[j] = svc.intercept_[0]
        self.coef_ = sparse.csr_matrix(coef)
        self.intercept_ = icpt
        return self

    def decision_function(self, X: Any) -> np.ndarray:
        out = X @ self.coef_
        return np.asarray(out.todense() if sparse.issparse(out) else out) + self.intercept_


def centroids(X: np.ndarray, Y: np.ndarray, protos: np.ndarray, prior_weight: float,
              w: np.ndarray | None = None) -> np.ndarray:
    """Unit vectors ``prior_weight * prototype + unit(weighted mean of the positive examples)`` per leaf."""
    Yf = Y.astype(np.float32) * (1.0 if w is None else np.asarray(w, dtype=np.float32)[:, None])
    cnt = Yf.sum(0)
    means = (Yf.T @ X) / np.maximum(cnt, _EPS)[:, None]
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


# ----------------------------------------------------------------------------------------------
# the scorers together: fitted on examples, features for the stacker
# ----------------------------------------------------------------------------------------------
#: Per regime: prototype weight in the centroids, kNN k, C of the embedding logistic regression and
#: of the TF-IDF SVMs, and the shrinkage of per-leaf thresholds towards the shared one.
SETTINGS: dict[str, dict[str, float]] = {
    "few-shot": dict(proto_weight=0.3, knn_k=5, c_emb=10.0, c_tfidf=0.5, th_shrink=30.0),
    "supervised": dict(proto_weight=0.1, knn_k=15, c_emb=3.0, c_tfidf=0.5, th_shrink=5.0),
}


#: Row weight of each leaf's codebook name as a coded example of the leaf for the classifiers
#: (:func:`with_name_examples`; 0 turns it off). Chosen on napire2018 (the development set; 30 %
#: of each question's answers as examples, split seeds 0, 1, 2): mean per-code kappa 0.237 / 0.243
#: / 0.245 without, 0.268 / 0.267 / 0.275 at 1; 0.261 at 2 (seed 0), 0.262 at 0.5 (seed 1).
NAME_EXAMPLE_WEIGHT = 1.0


def feature_names(lexical: bool) -> list[str]:
    """The stacker's features, in order (the last two only with the texts)."""
    return ["proto", "centroid", "knn", "logreg_embedding"] + (["svm_tfidf", "codebook_words"] if lexical else [])


def with_name_examples(X: np.ndarray, texts: list[str], Y: np.ndarray, M: np.ndarray, w: np.ndarray,
                       protos: np.ndarray, names: list[str] | None,
                       weight: float | None = None) -> tuple[np.ndarray, list[str], np.ndarray, np.ndarray,
                                                             np.ndarray]:
    """The examples plus one coded example per leaf: its codebook name (text) with its prototype
    (embedding), coded with that leaf alone (a known negative of every other leaf), of row weight
    ``weight`` (default :data:`NAME_EXAMPLE_WEIGHT`; 0: the examples alone)."""
    weight = NAME_EXAMPLE_WEIGHT if weight is None else weight
    if names is None or weight <= 0:
        return X, texts, Y, M, w
    L = Y.shape[1]
    return (np.vstack([X, protos.astype(X.dtype, copy=False)]), list(texts) + list(names),
            np.vstack([Y, np.eye(L, dtype=Y.dtype)]), np.vstack([M, np.ones((L, L), dtype=M.dtype)]),
            np.concatenate([np.asarray(w, dtype=np.float64), np.full(L, float(weight))]))


def fit_scorers(X: np.ndarray, texts: list[str], Y: np.ndarray, M: np.ndarray, w: np.ndarray, protos: np.ndarray,
                s: dict[str, float], lexical: bool, random_state: int, names: list[str] | None = None) -> dict[str, Any]:
    """Every scorer fitted on examples ``X`` / ``texts`` with labels ``Y``, mask ``M``, weights ``w``.

    With the leaves' codebook ``names``, the two classifiers (logistic regression on the
    embeddings, TF-IDF SVMs) also learn from each name as an example of its leaf
    (:func:`with_name_examples`); the centroids and the neighbours use the coded examples alone
    (the centroids already lean on the prototypes)."""
    import math

    has_pos = (Y * (M > 0)).sum(1) > 0
    models: dict[str, Any] = {"centroids": centroids(X[has_pos], Y[has_pos], protos, s["proto_weight"], w[has_pos]),
                              "knn_X": X[has_pos], "knn_Y": Y[has_pos], "knn_k": int(s["knn_k"])}
    X, texts, Y, M, w = with_name_examples(X, texts, Y, M, w, protos, names)
    models["lr_emb"] = MultiLogReg(C=s["c_emb"]).fit(X, Y, M, w)
    if lexical:
        from sklearn.feature_extraction.text import TfidfVectorizer

        word = TfidfVectorizer(ngram_range=(1, 2), min_df=1 if len(texts) < 500 else 2, sublinear_tf=True,
                               lowercase=True, strip_accents="unicode")
        char = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=1 if len(texts) < 500 else 3,
                               sublinear_tf=True, max_features=100_000, strip_accents="unicode")
        Xt = sparse.hstack([word.fit_transform(texts), char.fit_transform(texts)]).tocsr() / math.sqrt(2)
        models["tfidf"] = (word, char)
        models["lr_tfidf"] = OvRLinearSVC(C=s["c_tfidf"], random_state=random_state).fit(Xt, Y, M, w)
    return models


def features(models: dict[str, Any], X: np.ndarray, texts: list[str] | None, protos: np.ndarray,
             words: tuple[Any, list[str], np.ndarray], word_cache: dict[str, list[int]] | None = None) -> np.ndarray:
    """The stacker's features (n, L, n_features) of comments ``X`` / ``texts``.

    ``words`` is ``(leaf_terms, term_vocab, idf)``: the codebook words per leaf and their idf.
    """
    import math

    from themeassist.mapping.lexical import char_wb_transform, lexical_scores, term_matrix

    feats = [to_feature(X @ protos.T, "proto"), to_feature(X @ models["centroids"].T, "centroid")]
    if len(models["knn_X"]):
        kn, _ = knn_scores(X @ models["knn_X"].T, models["knn_Y"], models["knn_k"])
    else:
        kn = np.zeros((X.shape[0], protos.shape[0]))
    feats.append(to_feature(kn, "knn"))
    feats.append(to_feature(models["lr_emb"].decision_function(X), "logreg"))
    if "lr_tfidf" in models:
        if texts is None:
            raise ParameterError("ThemeMapper: this mapper uses the comment texts (lexical=True); pass texts, "
                                 "not only embeddings, to predict_proba/suggest.")
        word, char = models["tfidf"]
        Xt = sparse.hstack([word.transform(texts), char_wb_transform(char, texts, word_cache)]).tocsr() / math.sqrt(2)
        feats.append(to_feature(models["lr_tfidf"].decision_function(Xt), "svm"))
        leaf_terms, vocab, idf = words
        if leaf_terms.shape[0]:
            Lx = lexical_scores(term_matrix(texts, vocab), leaf_terms, idf)
        else:
            Lx = np.zeros((X.shape[0], protos.shape[0]))
        feats.append(to_feature(Lx, "words"))
    return np.stack(feats, axis=-1)

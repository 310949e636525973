"""Calibrated scores from the scorers' outputs (private to the mapping stage).

The stacker turns the scorers' features of a (comment, leaf) pair into the probability that the
coder gives the leaf, fitted on out-of-fold features of the coded examples:

1. **pooled**: one logistic regression over all known (comment, leaf) cells, weights kept >= 0
   (every feature grows with the evidence for a leaf; this also keeps collinear scorers from
   cancelling out on small data);
2. **hierarchical, per leaf**: each leaf with at least :data:`MIN_LEAF_POSITIVES` coded examples
   refits its weights and intercept with a Gaussian prior centred on the pooled fit (precision
   ``weight_prior`` on the weights, ``1 / prior_var`` on the intercept), so that a leaf with many
   examples gets its own base rate and a leaf with few stays close to the pooled one. Leaves
   with fewer examples (a question with too few examples per code) use the pooled calibration.

:func:`cross_fit` gives the stacker's scores of the examples out of sample (each fold scored by
a stacker fitted without it): what the decision rule is tuned on and what ``oof_proba_`` holds.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy import optimize
from scipy.special import expit

__all__: list[str] = []

#: A leaf needs this many coded examples for its own (shrunk) calibration; below: the pooled one.
MIN_LEAF_POSITIVES = 3


def _weighted_logreg(X: np.ndarray, y: np.ndarray, w: np.ndarray, theta0: np.ndarray, prior: np.ndarray,
                     centre: np.ndarray, n_bounded: int) -> np.ndarray:
    """Minimise ``sum w * logloss(y, X @ theta) + 0.5 * sum(prior * (theta - centre)^2)`` with the
    first ``n_bounded`` coefficients >= 0 (scipy's L-BFGS-B). ``X`` carries a column of ones."""

    def fg(theta: np.ndarray) -> tuple[float, np.ndarray]:
        z = X @ theta
        s = np.where(y > 0, -z, z)
        diff = theta - centre
        loss = float((w * np.logaddexp(0, s)).sum()) + 0.5 * float((prior * diff * diff).sum())
        g = X.T @ (w * (expit(z) - y)) + prior * diff
        return loss, g

    bounds = [(0.0, None)] * n_bounded + [(None, None)] * (X.shape[1] - n_bounded)
    res = optimize.minimize(fg, theta0, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"maxiter": 200, "gtol": 1e-7})
    return np.asarray(res.x, dtype=np.float64)


@dataclass
class Stacker:
    """Pooled, then per-leaf hierarchical, logistic calibration of the scorers' features.

    Attributes (after :meth:`fit`): ``weights_``, ``bias_`` (pooled), ``leaf_weights_`` (L, m),
    ``leaf_bias_`` (L,).
    """

    weights_: np.ndarray | None = None
    bias_: float = 0.0
    leaf_weights_: np.ndarray | None = None
    leaf_bias_: np.ndarray | None = None

    def fit(self, F: np.ndarray, Y: np.ndarray, M: np.ndarray, *, w: np.ndarray | None = None,
            prior_var: float = 1.0, weight_prior: float = 1e6) -> Stacker:
        """Fit on features ``F`` (n, L, m), labels ``Y`` (n, L), known-mask ``M`` and row weights ``w``."""
        n, L, m = F.shape
        w = np.ones(n) if w is None else np.asarray(w, dtype=np.float64)
        Wc = (M > 0) * w[:, None]
        keep = Wc.reshape(-1) > 0
        Xf = np.hstack([F.reshape(-1, m)[keep], np.ones((int(keep.sum()), 1))])
        y = Y.reshape(-1)[keep].astype(np.float64)
        wf = Wc.reshape(-1)[keep]
        if y.sum() == 0 or y.sum() == len(y):
            self.weights_, self.bias_ = np.ones(m) / m, 0.0
            self.leaf_weights_, self.leaf_bias_ = np.tile(self.weights_, (L, 1)), np.zeros(L)
            return self
        # a ridge on the pooled weights that grows slowly with the data (not on the intercept)
        lam = 1.0 + 1e-3 * float(wf.sum())
        prior = np.concatenate([np.full(m, lam), [0.0]])
        theta = _weighted_logreg(Xf, y, wf, np.concatenate([np.full(m, 0.1), [0.0]]), prior, np.zeros(m + 1), m)
        self.weights_, self.bias_ = theta[:m], float(theta[m])
        Wl, Bl = np.tile(self.weights_, (L, 1)), np.full(L, self.bias_)
        leaf_prior = np.concatenate([np.full(m, weight_prior), [1.0 / prior_var]])
        npos = (Y * (M > 0)).sum(0)
        for j in np.where(npos >= MIN_LEAF_POSITIVES)[0]:
            mj = Wc[:, j] > 0
            Xj = np.hstack([F[mj, j, :], np.ones((int(mj.sum()), 1))])
            th = _weighted_logreg(Xj, Y[mj, j].astype(np.float64), Wc[mj, j], theta.copy(), leaf_prior, theta, m)
            Wl[j], Bl[j] = th[:m], th[m]
        self.leaf_weights_, self.leaf_bias_ = Wl, Bl
        return self

    def predict_proba(self, F: np.ndarray, cols: np.ndarray | None = None) -> np.ndarray:
        """Probabilities (n, L) (or of the leaves ``cols``, whose features ``F`` holds)."""
        W = self.leaf_weights_ if cols is None else self.leaf_weights_[cols]
        B = self.leaf_bias_ if cols is None else self.leaf_bias_[cols]
        return expit(np.einsum("nlm,lm->nl", F, W) + B)


def cross_fit(F: np.ndarray, Y: np.ndarray, M: np.ndarray, folds: Sequence[tuple[np.ndarray, np.ndarray]], *,
              w: np.ndarray | None = None, prior_var: float = 1.0, weight_prior: float = 1e6) -> np.ndarray:
    """Scores (n, L) of the examples, each fold by a :class:`Stacker` fitted on the other folds."""
    P = np.zeros(Y.shape, dtype=np.float64)
    wa = np.ones(len(Y)) if w is None else np.asarray(w, dtype=np.float64)
    for tr, te in folds:
        s = Stacker().fit(F[tr], Y[tr], M[tr], w=wa[tr], prior_var=prior_var, weight_prior=weight_prior)
        P[te] = s.predict_proba(F[te])
    return P


def log_loss(P: np.ndarray, Y: np.ndarray, M: np.ndarray, w: np.ndarray | None = None) -> float:
    """Mean log-loss of scores ``P`` over the known cells (row weights ``w``)."""
    Wc = (M > 0) * (1.0 if w is None else np.asarray(w, dtype=np.float64)[:, None])
    Pc = np.clip(P, 1e-7, 1 - 1e-7)
    ll = -(Y * np.log(Pc) + (1 - Y) * np.log(1 - Pc))
    return float((Wc * ll).sum() / max(Wc.sum(), 1e-12))

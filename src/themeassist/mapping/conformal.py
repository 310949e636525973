"""Honest about doubt: suggestion sets with a stated recall, and suggestions safe to accept.

Both are learnt from the **held-out** scores of the coded examples: the out-of-fold scores
(:attr:`ThemeMapper.oof_proba_`, each example scored by scorers fitted without it) next to the
examples' own codes. They do not depend on how the scores are made, only on the scores of
held-out examples being like the scores of new comments.

:class:`RecallSets` (``themeassist suggest --target-recall R``)
    Per comment, the smallest set of themes, ``{theme : score > threshold}``, whose expected
    per-comment recall is at least ``R``: the threshold is chosen by conformal risk control
    (Angelopoulos et al. 2022; ``mapie``'s bound and choice of threshold, as its
    :class:`~mapie.risk_control.MultiLabelClassificationController` with method ``"crc"`` uses
    them, with the per-example losses computed at once) on the held-out examples that have at
    least one code. mapie keeps the thresholds whose bound is strictly below ``1 - R``. Guarantee: if the
    comments are exchangeable with those examples (e.g. the examples are a random sample of
    the survey), the mean over comments of ``|set ∩ codes| / |codes|`` is at least ``R`` in
    expectation. Examples chosen on purpose (a few per theme, the coder's favourites) are not
    exchangeable with the rest: the sets are then calibrated, not guaranteed. Comments whose
    coder found no theme do not count (recall is undefined for them), nor examples coded only at
    a parent level (which leaf is meant is unknown).
:class:`AutoAccept` (``themeassist suggest --auto-accept [P]``)
    Marks suggested themes whose score reaches a threshold at which the **precision** of
    (comment, theme) suggestions on held-out examples is at least ``P`` (default 0.95), with
    confidence ``confidence_level`` (default 0.9): Learn-then-Test (Angelopoulos et al. 2021;
    ``mapie``'s :class:`~mapie.risk_control.BinaryClassificationController`, Hoeffding-Bentkus
    p-values with a Bonferroni-Holm correction over the 16 thresholds tried, the lowest that
    passes), so "safe to accept" is a tested claim, not a score read at face value. No threshold passes the test with too few held-out examples:
    then nothing is marked. Precision is per suggestion (one comment can hold several); the
    suggestions of one comment are not independent, which the test does not model.

Zero-shot mappers have no coded examples, hence no held-out scores: both raise (no guarantee can
be stated); code some comments and fit again.

Examples
--------
>>> ho = held_out_scores(mapper, examples)                               # doctest: +SKIP
>>> sets = RecallSets(target_recall=0.9).fit(ho.scores, ho.labels, known=ho.known)  # doctest: +SKIP
>>> table = sets.annotate(mapper.suggest(corpus), mapper.theme_index())  # doctest: +SKIP
>>> table[["doc_id", "suggested", "recall_set"]]                         # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator

from themeassist._validation import check_param
from themeassist.exceptions import CorpusError, NotFittedError, ParameterError
from themeassist.mapping.table import ThemeIndex, join_leaves, leaf_scores

__all__ = ["AutoAccept", "HeldOut", "RecallSets", "held_out_scores"]

#: Thresholds tried (a set holds the themes scored above the threshold): fine at low scores,
#: where high-recall thresholds fall.
_RECALL_GRID = np.unique(np.round(np.concatenate([np.arange(0.0, 0.1, 0.0025), np.arange(0.1, 1.0, 0.01)]), 4))
#: Thresholds tested for precision (Bonferroni-Holm over all of them: few, so that each test keeps
#: its power; fixed-sequence testing from the top would stop at the first threshold with few
#: suggestions above it).
_PRECISION_GRID = np.array([0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99])


@dataclass(frozen=True)
class HeldOut:
    """Held-out scores of a fitted mapper's coded examples, with the examples' codes.

    Attributes
    ----------
    scores : ndarray of shape (n_examples, n_leaves)
        Out-of-fold scores, columns in ``leaf_ids`` order.
    labels : ndarray of shape (n_examples, n_leaves), int8
        1 where the example has the leaf theme.
    known : ndarray of shape (n_examples, n_leaves), bool
        False where the label is unknown (a code at a parent level: one of its leaves applies;
        a bare rejection: only the rejected themes are known).
    leaf_ids : tuple of str
    """

    scores: np.ndarray
    labels: np.ndarray
    known: np.ndarray
    leaf_ids: tuple[str, ...]


def held_out_scores(mapper: Any, examples: pd.DataFrame | None = None) -> HeldOut:
    """The out-of-fold scores of a fitted few-shot / supervised mapper and the examples' labels.

    Parameters
    ----------
    mapper : fitted ThemeMapper
    examples : DataFrame, optional
        The examples table given to ``fit`` (``codes``, optionally ``negative_codes``), in the
        same order. Not needed when the mapper keeps its examples' labels (``oof_labels_`` and
        ``oof_mask_``).

    Returns
    -------
    HeldOut

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> from themeassist.mapping import ThemeMapper
    >>> cb = Codebook.from_dict({"Food": [], "Staff": []})
    >>> ex = pd.DataFrame({"text": ["cold meal", "rude nurse", "tasty food", "kind staff"] * 3,
    ...                    "codes": ["Food", "Staff", "Food", "Staff"] * 3})
    >>> mapper = ThemeMapper(regime="few-shot").fit(cb, ex)                  # doctest: +SKIP
    >>> held_out_scores(mapper, ex).scores.shape                            # doctest: +SKIP
    (12, 2)
    """
    if not hasattr(mapper, "leaf_ids_"):
        raise NotFittedError("held_out_scores: the mapper is not fitted yet; call fit(codebook, examples) first.")
    if getattr(mapper, "oof_proba_", None) is None:
        raise ParameterError(f"held_out_scores: the mapper is {getattr(mapper, 'regime_', '?')} (no coded examples), "
                             "so there are no held-out scores and no guarantee can be stated; fit it with coded "
                             "examples (--examples) to get recall sets and auto-accept marks.")
    P = np.asarray(mapper.oof_proba_, dtype=np.float64)
    leaf_ids = tuple(mapper.leaf_ids_)
    kept = getattr(mapper, "oof_labels_", None) is not None and getattr(mapper, "oof_mask_", None) is not None
    if kept and examples is not None:
        from themeassist.mapping.examples import used_examples

        n_used = len(used_examples(examples))
        if n_used != P.shape[0]:
            raise ParameterError(f"held_out_scores: examples has {n_used} usable rows but the mapper was fitted on "
                                 f"{P.shape[0]}; pass the same examples table given to fit, or leave examples out "
                                 "(this mapper keeps its examples' labels).")
    if kept:
        Y = np.asarray(mapper.oof_labels_, dtype=np.int8)
        K = np.asarray(mapper.oof_mask_) > 0
    else:
        if examples is None:
            raise ParameterError("held_out_scores: this mapper does not keep its examples' labels; pass the examples "
                                 "table given to fit (examples=...).")
        from themeassist.mapping.examples import label_matrix, label_space, used_examples

        if "codes" not in examples.columns:
            raise CorpusError(f"held_out_scores: the examples lack a 'codes' column (columns: "
                              f"{list(map(str, examples.columns))}); pass the table given to ThemeMapper.fit.")
        ex = used_examples(examples)  # the rows fit learnt from, in order
        space = label_space(mapper.codebook_, ex)
        if len(ex) != P.shape[0] or tuple(space.theme_ids) != leaf_ids:
            raise ParameterError(f"held_out_scores: examples has {len(ex)} usable rows but the mapper was fitted on "
                                 f"{P.shape[0]} (or on other codes); pass the same examples table given to fit, in the "
                                 "same order.")
        Y, M = label_matrix(ex, mapper.codebook_, space)
        K = M > 0
    return HeldOut(scores=P, labels=Y * K, known=K, leaf_ids=leaf_ids)


def _recall_by_threshold(P: np.ndarray, Y: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """Per example (rows with at least one code) and threshold ``t`` of ``grid``: the recall of the
    set ``{score > t}``, shape (n, len(grid))."""
    out = np.empty((P.shape[0], len(grid)))
    n_true = Y.sum(1, keepdims=True).astype(np.float64)
    for a in range(0, P.shape[0], 512):
        hit = (P[a:a + 512, :, None] > grid[None, None, :]) & (Y[a:a + 512, :, None] > 0)
        out[a:a + 512] = hit.sum(1) / n_true[a:a + 512]
    return out


def _check_arrays(who: str, scores: Any, labels: Any, known: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    P = np.asarray(scores, dtype=np.float64)
    Y = np.asarray(labels)
    if P.ndim != 2 or Y.shape != P.shape:
        raise ParameterError(f"{who}.fit: scores and labels must be arrays of the same shape (n_examples, n_themes); "
                             f"got {P.shape} and {Y.shape}.")
    K = np.ones(P.shape, dtype=bool) if known is None else np.asarray(known) > 0
    if K.shape != P.shape:
        raise ParameterError(f"{who}.fit: known must have the shape of scores {P.shape}; got {K.shape}.")
    if not np.isfinite(P).all():
        raise ParameterError(f"{who}.fit: scores contain NaN or infinite values (row "
                             f"{int(np.where(~np.isfinite(P).all(1))[0][0]) + 1}); pass held-out scores in [0, 1].")
    return P, (Y > 0).astype(np.int8) * K, K


class RecallSets(BaseEstimator):
    """Per comment, the smallest set of themes whose recall on held-out examples is at least a target.

    A set holds the themes whose score is above :attr:`threshold_`, chosen by conformal risk
    control on held-out examples (see the module docstring for the guarantee and its condition).

    Parameters
    ----------
    target_recall : float in (0, 1), default 0.9
        Mean per-comment recall the sets should reach.
    method : {"crc", "rcps"}, default "crc"
        ``"crc"``: conformal risk control (recall at least the target in expectation);
        ``"rcps"``: risk-controlling prediction sets (recall at least the target with
        probability ``confidence_level``; larger sets).
    confidence_level : float in (0, 1), default 0.9
        Used by ``"rcps"`` only.

    Attributes
    ----------
    threshold_ : float
        A set is ``{themes with score > threshold_}``; 0 (every theme with a score above 0) when
        the target cannot be reached with the held-out examples there are.
    controlled_ : bool
        Whether some threshold reaches the target on the held-out examples.
    n_calibration_ : int
        Held-out examples used (those with at least one leaf code and every label known).
    held_out_recall_, mean_set_size_ : float
        Mean per-example recall and set size of the held-out examples at ``threshold_``.
    n_themes_ : int
        Themes a set could hold (the scores' columns).

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Y = (rng.random((400, 6)) < 0.3).astype(int); Y[Y.sum(1) == 0, 0] = 1
    >>> P = np.clip(0.6 * Y + 0.4 * rng.random(Y.shape), 0, 1)
    >>> sets = RecallSets(target_recall=0.9).fit(P, Y)
    >>> bool(sets.held_out_recall_ >= 0.9), sets.predict(P).shape
    (True, (400, 6))
    """

    def __init__(self, *, target_recall: float = 0.9, method: str = "crc", confidence_level: float = 0.9) -> None:
        self.target_recall = target_recall
        self.method = method
        self.confidence_level = confidence_level

    def fit(self, scores: Any, labels: Any, *, known: Any = None) -> RecallSets:
        """Choose the threshold from held-out ``scores`` (n, n_themes) and 0/1 ``labels``.

        ``known`` (n, n_themes) marks the labels that are known; examples with an unknown label
        or without any code are left out. Returns ``self``.
        """
        check_param("target_recall", self.target_recall, between=(1e-6, 1 - 1e-6), owner=self)
        check_param("method", self.method, options=("crc", "rcps"), owner=self)
        check_param("confidence_level", self.confidence_level, between=(1e-6, 1 - 1e-6), owner=self)
        P, Y, K = _check_arrays("RecallSets", scores, labels, known)
        use = K.all(1) & (Y.sum(1) > 0)
        self.n_calibration_ = int(use.sum())
        if self.n_calibration_ == 0:
            raise ParameterError("RecallSets.fit: no held-out example has a leaf code (and every label known); "
                                 "code some comments with leaf themes and fit the mapper again.")
        # the bound and the choice of threshold are mapie's (what its MultiLabelClassificationController
        # does); the per-example losses are computed here at once, not example by example
        from mapie.risk_control.methods import find_best_predict_param, get_r_hat_plus

        losses = 1.0 - _recall_by_threshold(P[use], Y[use], _RECALL_GRID)
        rcps = self.method == "rcps"
        _, r_plus = get_r_hat_plus(losses, _RECALL_GRID, self.method, "wsr" if rcps else None,
                                   1 - float(self.confidence_level) if rcps else None, 0.25)
        alpha = np.array([1.0 - float(self.target_recall)])
        self.controlled_ = bool((r_plus < alpha[0]).any())
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            best = find_best_predict_param(_RECALL_GRID, r_plus, alpha)
        self.threshold_ = float(best[0]) if self.controlled_ else 0.0
        S = self.predict(P[use])
        Yu = Y[use].astype(bool)
        self.held_out_recall_ = float(((S & Yu).sum(1) / Yu.sum(1)).mean())
        self.mean_set_size_ = float(S.sum(1).mean())
        self.n_themes_ = int(P.shape[1])
        if not self.controlled_:
            warnings.warn(f"RecallSets: a recall of {self.target_recall} cannot be shown with "
                          f"{self.n_calibration_} held-out examples; the sets hold every theme scored above 0. "
                          "Code more comments.", stacklevel=2)
        return self

    def predict(self, scores: Any) -> np.ndarray:
        """Boolean (n, n_themes): the themes in each comment's set."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError("This RecallSets is not fitted yet: call fit(scores, labels) before predict().")
        return np.asarray(scores, dtype=np.float64) > self.threshold_

    def annotate(self, table: pd.DataFrame, index: ThemeIndex) -> pd.DataFrame:
        """``table`` (a suggestions table) with ``recall_set`` (leaf names, best first, ``"|"``-joined)
        and ``recall_set_ids`` (their theme ids); blank for rows that were not scored. The scores are
        read back from the ``score:`` columns; an "(itself)" leaf is read at its parent's score (the
        maximum over the parent's columns, at least its own), so it may join a set it would miss."""
        rows, P = leaf_scores(table, index)
        names, ids = join_leaves(len(table), rows, P, self.predict(P), index)
        return table.assign(recall_set=names, recall_set_ids=ids)

    def summary(self, table: pd.DataFrame | None = None) -> str:
        """One sentence saying what the sets guarantee and on what evidence (with an annotated
        ``table``: the mean set size in it)."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError("This RecallSets is not fitted yet: call fit(scores, labels) before summary().")
        if not self.controlled_:
            out = (f"recall sets: a recall of {self.target_recall:g} cannot be shown with {self.n_calibration_} "
                   "held-out examples; each set holds every theme scored above 0")
        else:
            out = (f"recall sets: themes scored above {self.threshold_:.4g}, mean per-comment recall >= "
                   f"{self.target_recall:g} ({self.method}, {self.n_calibration_} held-out examples: recall "
                   f"{self.held_out_recall_:.3f}, {self.mean_set_size_:.2f} themes per comment)")
        if table is not None and "recall_set_ids" in table.columns:
            sizes = [len([t for t in str(s).split("|") if t]) for s in table["recall_set_ids"]]
            out += f"; {np.mean(sizes) if sizes else 0:.2f} themes per row here"
        n_themes = getattr(self, "n_themes_", 0)
        if n_themes and self.mean_set_size_ > n_themes / 2:  # a set that is most of the codebook rules little out
            out += (f". That is most of the {n_themes} themes: the scores do not tell them apart well enough for this "
                    "recall; a lower --target-recall or more coded examples give smaller sets")
        return out


class AutoAccept(BaseEstimator):
    """Suggestions whose precision on held-out examples is at least a target, with stated confidence.

    Parameters
    ----------
    target_precision : float in (0, 1), default 0.95
    confidence_level : float in (0, 1), default 0.9
        Probability that the precision of suggestions at :attr:`threshold_` is really at least
        ``target_precision`` (Learn-then-Test, see the module docstring).

    Attributes
    ----------
    threshold_ : float
        A suggestion is marked when its score is at least this; ``inf`` when no threshold
        passes (nothing is marked).
    controlled_ : bool
    n_held_out_ : int
        Held-out (example, theme) pairs with a known label.
    held_out_precision_ : float
        Precision of the held-out pairs scored at least ``threshold_`` (NaN when none).
    held_out_share_ : float
        Share of the held-out examples' true codes that score at least ``threshold_``.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> Y = (rng.random((500, 5)) < 0.3).astype(int)
    >>> P = np.clip(0.5 * Y + 0.5 * rng.random(Y.shape), 0, 1)
    >>> acc = AutoAccept(target_precision=0.95).fit(P, Y)
    >>> bool(acc.held_out_precision_ >= 0.95), bool(acc.predict(P).any())
    (True, True)
    """

    def __init__(self, *, target_precision: float = 0.95, confidence_level: float = 0.9) -> None:
        self.target_precision = target_precision
        self.confidence_level = confidence_level

    def fit(self, scores: Any, labels: Any, *, known: Any = None) -> AutoAccept:
        """Choose the threshold from held-out ``scores`` and 0/1 ``labels`` (pairs with ``known``
        False are left out). Returns ``self``."""
        check_param("target_precision", self.target_precision, between=(1e-6, 1 - 1e-6), owner=self)
        check_param("confidence_level", self.confidence_level, between=(1e-6, 1 - 1e-6), owner=self)
        P, Y, K = _check_arrays("AutoAccept", scores, labels, known)
        p, y = P[K], Y[K]
        self.n_held_out_ = int(len(p))
        # pairs scored below every tested threshold never count: leave them out (same result, less work)
        low = p >= _PRECISION_GRID.min()
        from mapie.risk_control import BinaryClassificationController

        ctl = BinaryClassificationController(
            predict_function=lambda s: np.stack([1 - s, s], axis=1), risk="precision",
            target_level=float(self.target_precision), confidence_level=float(self.confidence_level),
            list_predict_params=_PRECISION_GRID, fwer_method="bonferroni_holm")
        if low.sum() >= 1:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                ctl.calibrate(p[low], y[low])
        best = ctl.best_predict_param
        self.controlled_ = best is not None
        self.threshold_ = float(best) if best is not None else float("inf")
        hit = p >= self.threshold_
        self.held_out_precision_ = float(y[hit].mean()) if hit.any() else float("nan")
        self.held_out_share_ = float(y[hit].sum() / max(int(y.sum()), 1))
        return self

    def predict(self, scores: Any) -> np.ndarray:
        """Boolean (n, n_themes): pairs scored at least :attr:`threshold_`."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError("This AutoAccept is not fitted yet: call fit(scores, labels) before predict().")
        return np.asarray(scores, dtype=np.float64) >= self.threshold_

    def annotate(self, table: pd.DataFrame, index: ThemeIndex) -> pd.DataFrame:
        """``table`` with ``auto_accept`` / ``auto_accept_ids``: the suggested leaves (names / ids,
        in the order of ``suggested``) whose score reaches :attr:`threshold_`."""
        rows, P = leaf_scores(table, index)
        ok = self.predict(P)
        # an "(itself)" leaf shares its score column with its parent (the maximum over the parent's
        # columns): its own score cannot be read back from the table, so it is never marked
        ok[:, [j for j, t in enumerate(index.leaf_ids) if t in set(index.parent_ids)]] = False
        col = {t: j for j, t in enumerate(index.leaf_ids)}
        names, ids = [""] * len(table), [""] * len(table)
        sugg = table["suggested_ids"].tolist()
        for r, i in enumerate(rows):
            keep = [t for t in str(sugg[i]).split("|") if t and t in col and ok[r, col[t]]]
            ids[i] = "|".join(keep)
            names[i] = "|".join(index.leaf_names[col[t]] for t in keep)
        return table.assign(auto_accept=names, auto_accept_ids=ids)

    def summary(self, table: pd.DataFrame | None = None) -> str:
        """One sentence: the threshold, the held-out precision, and (with an annotated ``table``)
        how many suggestions are marked."""
        if not hasattr(self, "threshold_"):
            raise NotFittedError("This AutoAccept is not fitted yet: call fit(scores, labels) before summary().")
        if not self.controlled_:
            return (f"auto-accept: no score threshold shows a precision of {self.target_precision:g} "
                    f"(confidence {self.confidence_level:g}) on {self.n_held_out_} held-out pairs; nothing marked")
        out = (f"auto-accept: suggestions scored >= {self.threshold_:.2f} (held-out precision "
               f"{self.held_out_precision_:.3f} >= {self.target_precision:g} with confidence "
               f"{self.confidence_level:g}; "
               f"{self.held_out_share_:.0%} of the held-out codes)")
        if table is not None and "auto_accept_ids" in table.columns:
            n_s = sum(len([t for t in str(s).split("|") if t]) for s in table["suggested_ids"])
            n_a = sum(len([t for t in str(s).split("|") if t]) for s in table["auto_accept_ids"])
            out += f": {n_a} of {n_s} suggestions marked ({n_a / max(n_s, 1):.0%})"
        return out

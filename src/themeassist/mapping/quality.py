"""What to expect of a fitted mapper's suggestions, theme by theme, before reading any of them.

:func:`held_out_quality` scores the mapper's rule on its own coded examples, each example scored
by scorers and a calibration fitted without it (:attr:`ThemeMapper.oof_proba_`), and says per
theme how it is calibrated and thresholded: a theme with too few examples borrows from the others,
and a coder should know which. ``themeassist suggest`` prints its :meth:`HeldOutQuality.summary`.

Two biases pull in opposite directions and are stated, not corrected: the decision rule was tuned
on these held-out scores (a few shared constants: slightly optimistic), and each held-out example
was scored by models that saw four fifths of the examples, not all of them (pessimistic, most for
themes with one or two examples). On napire2018 (the development set) the held-out figure was
on average 0.03 above the agreement measured on the answers suggested and 0.08 from it per
question (benchmarks/RESULTS.md): a guide to what to expect, not a measurement of it. It describes
comments like the examples: examples picked a few per theme (rare themes over-represented) are
not, and on the NHS split such examples gave a held-out kappa 0.05-0.10 above the one measured
on the other comments, while a random 80 % of the survey gave 0.540 against 0.549.

Examples
--------
>>> q = held_out_quality(mapper)                                          # doctest: +SKIP
>>> q.table[["theme_name", "n_examples", "calibration", "cohen_kappa"]]   # doctest: +SKIP
>>> print(q.summary())                                                    # doctest: +SKIP
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from themeassist.exceptions import NotFittedError, ParameterError
from themeassist.mapping import calibration, decision

__all__ = ["QUALITY_COLUMNS", "HeldOutQuality", "held_out_quality"]

#: Columns of :attr:`HeldOutQuality.table`, one row per leaf theme (codebook order):
#: ``n_examples`` coded examples of the theme; ``calibration`` ``"own"`` (at least
#: ``calibration.MIN_LEAF_POSITIVES`` examples: the theme's own calibration, shrunk towards the
#: pooled one), ``"pooled"`` (fewer: the calibration shared by all themes) or ``"codebook only"``
#: (no example: scored from its codebook text and words alone, calibrated on the other themes);
#: ``threshold_source`` ``"own"`` (at least ``decision.MIN_OWN`` examples, shrunk towards the
#: shared threshold) or ``"shared"``; ``threshold`` the score it needs; ``n_suggested`` /
#: ``n_both`` held-out examples given the theme / given it and coded with it; ``precision``,
#: ``recall``, ``cohen_kappa`` (0/1 presence; NaN where undefined) over the examples whose label
#: for the theme is known.
QUALITY_COLUMNS: tuple[str, ...] = (
    "theme_id", "theme_name", "n_examples", "calibration", "threshold_source", "threshold", "n_suggested",
    "n_both", "precision", "recall", "cohen_kappa",
)  # fmt: skip
#: Themes with at least this many coded examples count in :attr:`HeldOutQuality.mean_kappa` (as
#: :func:`~themeassist.mapping.agreement` is read: kappa of rarer codes is mostly noise).
MIN_JUDGED = 3
#: Bootstrap resamples of the examples behind :attr:`HeldOutQuality.kappa_interval`.
N_BOOT = 200


@dataclass(frozen=True)
class HeldOutQuality:
    """Held-out agreement of a fitted mapper with the coder who coded its examples.

    Attributes
    ----------
    table : DataFrame
        One row per leaf theme, columns :data:`QUALITY_COLUMNS`.
    n_examples : int
        Coded examples held out (each scored without its fold).
    mean_kappa : float
        Mean ``cohen_kappa`` over the themes with at least :data:`MIN_JUDGED` examples (NaN if none).
    kappa_interval : (float, float)
        95% interval. Without ``n_new``: the percentile interval of the held-out figure over
        :data:`N_BOOT` bootstrap resamples of the examples (the decisions fixed; seeded); with
        3-5 examples per theme it is itself uncertain. With ``n_new``: a prediction interval for
        the agreement on ``n_new`` new comments like the examples, the bootstrap's distances from
        ``mean_kappa`` times ``sqrt(1 + n_examples / n_new)`` (the new comments' own sampling
        error added, as for the difference of two samples).
    n_new : int or None
        The number of new comments the interval is for.
    n_judged : int
        Those themes.
    codes_ratio : float
        Themes given per example over the coder's (known labels only).
    none_share, coder_none_share : float
        Share of the fully coded examples given no theme by the rule, and by the coder.
    """

    table: pd.DataFrame
    n_examples: int
    mean_kappa: float
    kappa_interval: tuple[float, float]
    n_new: int | None
    n_judged: int
    codes_ratio: float
    none_share: float
    coder_none_share: float

    def summary(self, max_items: int = 3) -> str:
        """A few lines for the coder: the held-out agreement, the themes it agrees on least and the
        themes that borrow their calibration from the others (names separated by ``;``: a theme's
        name may hold a comma)."""
        t = self.table
        lo, hi = self.kappa_interval
        span = (f"likely {lo:.2f} to {hi:.2f} on the {self.n_new} comment{'s' if self.n_new != 1 else ''} to suggest"
                if self.n_new
                else f"95% bootstrap interval {lo:.2f} to {hi:.2f}")
        if self.n_judged:
            kappa = (f"mean per-theme kappa {self.mean_kappa:.2f} ({span}) over the {self.n_judged} themes with "
                     f">= {MIN_JUDGED} examples")
        else:
            kappa = f"no theme has {MIN_JUDGED} examples, so no kappa is estimated"
        none = ("" if not np.isfinite(self.none_share) else
                f"; 'none of these' for {100 * self.none_share:.0f}% (yours {100 * self.coder_none_share:.0f}%)")
        lines = [(f"held out (each of the {self.n_examples} coded examples scored by models fitted without it): "
                  f"{kappa}; {self.codes_ratio:.2f}x your codes per comment{none}. A guide to the other comments "
                  "if the examples are a random sample of them (picked a few per theme, they flatter the mapper).")]
        judged = t[(t["n_examples"] >= MIN_JUDGED) & t["cohen_kappa"].notna()].sort_values("cohen_kappa")
        if len(judged) > 1:
            worst = "; ".join(f"{r.theme_name} ({r.cohen_kappa:.2f}, {r.n_examples} examples)"
                              for r in judged.head(max_items).itertuples())
            lines.append(f"lowest held-out kappa: {worst}.")
        borrow = False
        pooled = f"fewer than {calibration.MIN_LEAF_POSITIVES} examples, calibrated together with the other themes"
        for kind, what in (("pooled", pooled), ("codebook only", "no coded example, scored from the codebook alone")):
            sub = t[t["calibration"] == kind]
            if len(sub):
                borrow = True
                names = "; ".join(sub["theme_name"].head(max_items)) + ("; ..." if len(sub) > max_items else "")
                lines.append(f"themes with {what} ({len(sub)}): {names}.")
        if borrow:
            lines.append("Code a few more comments of those themes to give them their own calibration.")
        return "\n".join(lines)


def held_out_quality(mapper: Any, *, n_new: int | None = None, random_state: int | None = 0) -> HeldOutQuality:
    """Per theme, how the fitted mapper's rule agrees with its own coded examples, held out.

    Parameters
    ----------
    mapper : ThemeMapper
        Fitted with coded examples (few-shot or supervised).
    n_new : int, optional
        The number of comments to be suggested: ``kappa_interval`` is then a prediction interval
        for the agreement on them (see :class:`HeldOutQuality`), nominally 95%: a rough guide. On
        napire2018 (the development set; ten questions, 30% examples, four splits) it held the
        agreement measured on the suggested answers in 34 of 40 question splits, the bootstrap
        interval alone in 29.
    random_state : int, optional
        Seed of the bootstrap behind ``kappa_interval``.

    Returns
    -------
    HeldOutQuality

    Examples
    --------
    >>> from themeassist.codebook import Codebook
    >>> from themeassist.mapping import ThemeMapper
    >>> cb = Codebook.from_dict({"Food": [], "Staff": [], "Parking": []})
    >>> rng = np.random.default_rng(0)
    >>> X = np.repeat(np.eye(8)[:2], 10, axis=0) + rng.normal(0, 0.3, (20, 8))  # no text model
    >>> ex = pd.DataFrame({"text": [f"c{i}" for i in range(20)], "codes": ["Food"] * 10 + ["Staff"] * 10})
    >>> m = ThemeMapper(lexical=False).fit(cb, ex, embeddings=np.eye(8)[:3], example_embeddings=X)
    >>> q = held_out_quality(m)
    >>> q.table[["theme_name", "n_examples", "calibration"]].values.tolist()
    [['Food', 10, 'own'], ['Staff', 10, 'own'], ['Parking', 0, 'codebook only']]
    >>> q.n_judged, bool(q.mean_kappa > 0.8)
    (2, True)
    """
    if not hasattr(mapper, "leaf_ids_"):
        raise NotFittedError("held_out_quality: the mapper is not fitted yet; call fit(codebook, examples) first.")
    if getattr(mapper, "oof_proba_", None) is None:
        raise ParameterError(f"held_out_quality: the mapper is {getattr(mapper, 'regime_', '?')} (no coded "
                             "examples), so its agreement with a coder cannot be estimated; fit it with coded "
                             "examples (--examples) first.")
    P = np.asarray(mapper.oof_proba_, dtype=np.float64)
    Y = np.asarray(mapper.oof_labels_, dtype=np.int8)
    M = np.asarray(mapper.oof_mask_) > 0
    D = np.zeros(P.shape, dtype=bool)
    for i, js in enumerate(mapper._decide(P)):
        D[i, js] = True
    n_ex = np.asarray(mapper.examples_per_leaf_, dtype=int)
    kappa = decision.leaf_kappa(D, Y, M)
    Dk, Yk = D & M, (Y > 0) & M
    n_sugg, n_both, n_true = Dk.sum(0), (Dk & Yk).sum(0), Yk.sum(0)
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(n_sugg > 0, n_both / np.maximum(n_sugg, 1), np.nan)
        recall = np.where(n_true > 0, n_both / np.maximum(n_true, 1), np.nan)
    th = np.asarray(mapper.thresholds_, dtype=float)
    table = pd.DataFrame({
        "theme_id": list(mapper.leaf_ids_), "theme_name": list(mapper.leaf_names_), "n_examples": n_ex,
        "calibration": np.where(n_ex >= calibration.MIN_LEAF_POSITIVES, "own", np.where(n_ex > 0, "pooled",
                                                                                      "codebook only")),
        "threshold_source": np.where(n_ex >= decision.MIN_OWN, "own", "shared"),
        "threshold": th if getattr(mapper, "min_score", None) is None else np.full(len(th), float(mapper.min_score)),
        "n_suggested": n_sugg.astype(int), "n_both": n_both.astype(int), "precision": precision, "recall": recall,
        "cohen_kappa": kappa,
    })[list(QUALITY_COLUMNS)]
    judged = (n_ex >= MIN_JUDGED) & np.isfinite(kappa)
    full = M.all(1)
    mid = float(kappa[judged].mean()) if judged.any() else float("nan")
    interval = (float("nan"), float("nan"))
    if judged.any():
        boot = _bootstrap_kappa(D[:, judged], Y[:, judged] > 0, M[:, judged], np.random.default_rng(random_state))
        if boot.size:
            f = 1.0 if not n_new else float(np.sqrt(1.0 + len(P) / max(int(n_new), 1)))
            # widened for the new comments' own sampling error, and kept inside kappa's range
            interval = (max(-1.0, mid - f * (mid - float(np.percentile(boot, 2.5)))),
                        min(1.0, mid + f * (float(np.percentile(boot, 97.5)) - mid)))
    return HeldOutQuality(
        table=table, n_examples=int(P.shape[0]),
        mean_kappa=mid, kappa_interval=interval,
        n_new=None if not n_new else int(n_new), n_judged=int(judged.sum()),
        codes_ratio=float(Dk.sum() / max(int(n_true.sum()), 1)),
        none_share=float((D[full].sum(1) == 0).mean()) if full.any() else float("nan"),
        coder_none_share=float((Y[full].sum(1) == 0).mean()) if full.any() else float("nan"),
    )


def _bootstrap_kappa(D: np.ndarray, Y: np.ndarray, M: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Mean per-theme kappa of :data:`N_BOOT` bootstrap resamples of the rows (as row counts: the
    four cells of each theme's table are count-weighted sums, in batches), resamples where no
    theme's kappa is defined left out."""
    n = D.shape[0]
    cells = np.stack([M & D & Y, M & D & ~Y, M & ~D & Y, M & ~D & ~Y]).astype(np.float32)  # tp fp fn tn
    out = []
    for a in range(0, N_BOOT, 25):
        W = np.stack([np.bincount(rng.integers(0, n, n), minlength=n) for _ in range(min(25, N_BOOT - a))])
        k = decision.kappa_from_counts(*(W.astype(np.float32) @ c for c in cells))
        ok = np.isfinite(k).any(1)
        out.extend(np.nanmean(k[ok], axis=1).tolist())
    return np.asarray(out)

"""Tone of comments: an offline sentiment and distress score per comment, and its mean per theme.

:func:`score_tone` scores each comment with VADER (Hutto & Gilbert, 2014; the lexicon ships with
the ``vaderSentiment`` package, so nothing is downloaded) and with a small distress word list
written for themeassist. :func:`tone_by_theme` averages a score per theme (and parent theme) and
period, with a t interval.

Both scores are crude, lexicon-based indicators: they are meant for following how the tone of a
theme's comments moves between periods, not for judging a single comment.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from themeassist._validation import check_param
from themeassist.exceptions import ThemeassistError

__all__ = ["DISTRESS_TERMS", "TONE_COLUMNS", "TONE_SCALES", "score_tone", "tone_by_theme"]

#: Columns of :func:`score_tone`'s result.
TONE_COLUMNS: tuple[str, ...] = ("doc_id", "compound", "positive", "negative", "neutral", "distress",
                                 "n_distress_terms", "n_words")

#: Word stems that signal personal distress (matched at the start of a word, case-insensitively).
DISTRESS_TERMS: tuple[str, ...] = (
    "anxi", "afraid", "burnout", "burned out", "burnt out", "breakdown", "can't cope", "cannot cope",
    "crying", "cried", "depress", "despair", "dread", "drained", "exhaust", "fear", "frighten",
    "helpless", "hopeless", "isolat", "lonely", "miserable", "overwhelm", "panic", "sleepless",
    "sick", "stress", "struggl", "suicid", "tearful", "tired", "trauma", "unbearable", "upset",
    "worn out", "worried", "worry",
)  # fmt: skip

#: Range of each score of :func:`score_tone`; intervals of :func:`tone_by_theme` are kept inside it.
TONE_SCALES: dict[str, tuple[float, float]] = {"compound": (-1.0, 1.0), "positive": (0.0, 1.0),
                                               "negative": (0.0, 1.0), "neutral": (0.0, 1.0), "distress": (0.0, 1.0)}

_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)?")
_ANALYZER: Any = None


def _analyzer() -> Any:
    global _ANALYZER
    if _ANALYZER is None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        _ANALYZER = SentimentIntensityAnalyzer()
    return _ANALYZER


def _distress_pattern(terms: Iterable[str]) -> re.Pattern[str]:
    alts = sorted((re.escape(t.lower()).replace(r"\ ", r"\s+").replace("'", "['’]") for t in terms), key=len,
                  reverse=True)
    return re.compile(r"(?<![^\W_])(?:" + "|".join(alts) + r")", re.IGNORECASE)


def score_tone(texts: Sequence[str] | pd.Series, *, doc_ids: Sequence[Any] | None = None,
               distress_terms: Iterable[str] = DISTRESS_TERMS) -> pd.DataFrame:
    """Score each comment's tone offline.

    Parameters
    ----------
    texts : sequence of str or Series
        Comments. Missing values score as empty text (all scores 0).
    doc_ids : sequence, optional
        Identifiers for the ``doc_id`` column; defaults to the Series index or ``0..n-1``.
    distress_terms : iterable of str
        Word stems counted as distress (matched at the start of a word); default :data:`DISTRESS_TERMS`.

    Returns
    -------
    pandas.DataFrame
        One row per text, in input order, with columns :data:`TONE_COLUMNS`: ``compound``
        (VADER, -1 very negative .. +1 very positive), ``positive``, ``negative``, ``neutral``
        (VADER's shares of the text, summing to 1), ``distress`` (1.0 when the comment uses at
        least one distress term, else 0.0: its mean is the share of distressed comments),
        ``n_distress_terms`` and ``n_words``.

    Examples
    --------
    >>> tone = score_tone(["I love my team.", "I am exhausted and anxious."])
    >>> (tone["compound"] > 0).tolist(), tone["distress"].tolist()
    ([True, False], [0.0, 1.0])
    """
    if isinstance(texts, str):
        raise ThemeassistError("score_tone: texts must be a sequence of comments, got a single string. "
                               "Wrap it in a list: score_tone([text]).")
    index = texts.index if isinstance(texts, pd.Series) else None
    values = ["" if (t is None or (isinstance(t, float) and np.isnan(t))) else str(t) for t in texts]
    if doc_ids is None:
        doc_ids = list(index) if index is not None else list(range(len(values)))
    elif len(doc_ids) != len(values):
        raise ThemeassistError(f"score_tone: {len(doc_ids)} doc_ids were given for {len(values)} texts; "
                               "pass one id per text.")
    pattern = _distress_pattern(distress_terms)
    analyzer = _analyzer()
    rows = []
    for doc_id, text in zip(doc_ids, values):
        pol = analyzer.polarity_scores(text) if text.strip() else {"compound": 0.0, "pos": 0.0, "neg": 0.0,
                                                                    "neu": 0.0}
        hits = len(pattern.findall(text))
        rows.append((doc_id, pol["compound"], pol["pos"], pol["neg"], pol["neu"], float(hits > 0), hits,
                     len(_WORD.findall(text))))
    out = pd.DataFrame(rows, columns=list(TONE_COLUMNS))
    return out.astype({"compound": float, "positive": float, "negative": float, "neutral": float,
                       "distress": float, "n_distress_terms": int, "n_words": int})


def tone_by_theme(tone_scores: pd.DataFrame, codes: Any, period: Sequence[Any] | pd.Series | None = None, *,
                  codebook: Any = None, group: Sequence[Any] | pd.Series | None = None,
                  score: str = "compound", confidence: float = 0.95, min_n: int = 2) -> pd.DataFrame:
    """Mean tone of each theme's comments per period (and group), with a t interval.

    Parameters
    ----------
    tone_scores : DataFrame
        The result of :func:`score_tone`, one row per comment in the same order as ``codes``.
    codes : codes in any form :func:`themeassist.drift.prevalence` accepts
        ``"|"``-joined theme names per comment, a 0/1 matrix or probabilities (a comment counts
        for a theme when its probability is at least 0.5). Comments coded with a sub-theme count
        for its parents too.
    period, group : sequence or Series, optional
        One value per comment.
    codebook : Codebook or str, optional
        Used to resolve names and roll sub-themes up to their parents.
    score : str
        Column of ``tone_scores`` to average (``"compound"``, ``"negative"``, ``"distress"``, ...).
    confidence : float
        Level of the interval (t distribution on the comments' scores, kept inside the score's
        range given by :data:`TONE_SCALES`: -1 to 1 for ``compound``, 0 to 1 for the others).
    min_n : int
        Cells with fewer comments get no interval (NaN).

    Returns
    -------
    pandas.DataFrame
        Columns ``period``, [``group``,] ``theme``, ``theme_id``, ``parent``, ``depth``, ``score``,
        ``n``, ``mean``, ``sd``, ``ci_low``, ``ci_high``; one row per theme and period with at
        least one comment, plus ``theme == "(all comments)"`` rows giving the period's overall mean.

    Examples
    --------
    >>> tone = score_tone(["great support", "awful stress", "lovely team"])
    >>> t = tone_by_theme(tone, ["Support", "Stress", "Support"], ["2020", "2020", "2021"])
    >>> t.loc[t.theme == "Support", ["period", "n"]].values.tolist()
    [['2020', 1], ['2021', 1]]
    """
    from themeassist.drift._codes import _code_matrix, _labels, _period_order

    check_param("confidence", confidence, owner="tone_by_theme", between=(0.0, 1.0))
    if score not in tone_scores.columns:
        raise ThemeassistError(f"tone_by_theme: score column {score!r} not in tone_scores (columns: "
                               f"{', '.join(map(repr, tone_scores.columns))}). Pass score='compound'?")
    mat, nodes, kind = _code_matrix(codes, codebook=codebook, use_scores=False)
    if len(mat) != len(tone_scores):
        raise ThemeassistError(f"tone_by_theme: {len(tone_scores)} tone rows but {len(mat)} coded comments; "
                               "score the same comments, in the same order.")
    ind = mat >= 0.5
    y = tone_scores[score].to_numpy(dtype=float)
    per = _labels(period, len(y), "period")
    grp = _labels(group, len(y), "group") if group is not None else None
    rows = []
    frame = pd.DataFrame({"_p": per, **({"_g": grp} if grp is not None else {})})
    for key, idx in frame.groupby(["_p"] if grp is None else ["_p", "_g"], sort=False).indices.items():
        key = key if isinstance(key, tuple) else (key,)
        base = {"period": key[0], **({"group": key[1]} if grp is not None else {})}
        cells = [("(all comments)", "", "", -1, np.ones(len(idx), bool))]
        cells += [(n.name, n.theme_id, n.parent, n.depth, ind[idx, j]) for j, n in enumerate(nodes)]
        for name, tid, parent, depth, mask in cells:
            vals = y[idx][mask]
            vals = vals[~np.isnan(vals)]
            if not len(vals):
                continue
            mean, sd = float(vals.mean()), float(vals.std(ddof=1)) if len(vals) > 1 else float("nan")
            lo = hi = float("nan")
            if len(vals) >= max(min_n, 2):
                half = stats.t.ppf(0.5 + confidence / 2, len(vals) - 1) * sd / np.sqrt(len(vals))
                lo, hi = mean - half, mean + half
                if score in TONE_SCALES:  # the mean lies inside the score's range: so does its interval
                    lo, hi = max(lo, TONE_SCALES[score][0]), min(hi, TONE_SCALES[score][1])
            rows.append({**base, "theme": name, "theme_id": tid, "parent": parent, "depth": depth, "score": score,
                         "n": len(vals), "mean": mean, "sd": sd, "ci_low": lo, "ci_high": hi})
    cols = ["period", *(["group"] if grp is not None else []), "theme", "theme_id", "parent", "depth", "score", "n",
            "mean", "sd", "ci_low", "ci_high"]
    out = pd.DataFrame(rows, columns=cols)
    order = {p: i for i, p in enumerate(_period_order(per))}
    out["_o"] = out["period"].map(order)
    out = out.sort_values(["_o", *(["group"] if grp is not None else [])], kind="stable").drop(columns="_o")
    return out.reset_index(drop=True)

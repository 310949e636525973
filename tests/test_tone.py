"""Tests for themeassist.drift.tone."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from themeassist.codebook import Codebook
from themeassist.exceptions import ThemeassistError
from themeassist.drift.tone import TONE_COLUMNS, score_tone, tone_by_theme


def test_clear_positive_and_negative_sentences():
    tone = score_tone(["I love my team, they are wonderful and supportive.",
                       "This is awful, I hate it and feel terrible.",
                       "The meeting is on Tuesday."], doc_ids=["p", "n", "0"])
    assert list(tone.columns) == list(TONE_COLUMNS) and tone.doc_id.tolist() == ["p", "n", "0"]
    pos, neg, neu = tone.itertuples()
    assert pos.compound > 0.5 and neg.compound < -0.5 and abs(neu.compound) < 0.05
    assert pos.positive > pos.negative and neg.negative > neg.positive
    assert tone[["positive", "negative", "neutral"]].sum(1).to_numpy() == pytest.approx(1.0, abs=0.01)


def test_distress_terms_and_missing_text():
    tone = score_tone(["I feel exhausted and burnt out, cannot cope.", "Stressed.", "Fine, thanks.", None, ""])
    assert tone.distress.tolist() == [1.0, 1.0, 0.0, 0.0, 0.0]
    assert tone.n_distress_terms.tolist()[:3] == [3, 1, 0]  # exhaust-, burnt out, cannot cope
    assert tone.compound.tolist()[3:] == [0.0, 0.0] and tone.n_words.tolist()[0] == 8
    with pytest.raises(ThemeassistError, match="single string"):
        score_tone("one text")


def test_tone_by_theme_means_and_t_interval():
    cb = Codebook.from_dict({"Work": ["Load", "Team"]})
    texts = ["great team", "awful workload", "terrible load", "lovely team", "good"]
    tone = score_tone(texts)
    t = tone_by_theme(tone, ["Team", "Load", "Load", "Team", ""], ["y1", "y1", "y1", "y2", "y2"], codebook=cb)
    load = t[(t.theme == "Load") & (t.period == "y1")].iloc[0]
    vals = tone.compound.to_numpy()[[1, 2]]
    half = stats.t.ppf(0.975, 1) * vals.std(ddof=1) / np.sqrt(2)
    assert load.n == 2 and load["mean"] == pytest.approx(vals.mean())
    assert (load.ci_low, load.ci_high) == pytest.approx((vals.mean() - half, vals.mean() + half))
    work = t[(t.theme == "Work") & (t.period == "y1")].iloc[0]
    assert work.n == 3 and work.parent == "" and load.parent == "Work"
    team2 = t[(t.theme == "Team") & (t.period == "y2")].iloc[0]
    assert team2.n == 1 and np.isnan(team2.ci_low)
    allc = t[t.theme == "(all comments)"].set_index("period")
    assert allc.loc["y2", "n"] == 2 and allc.loc["y2", "mean"] == pytest.approx(tone.compound[3:].mean())
    d = tone_by_theme(tone, ["Team", "Load", "Load", "Team", ""], ["y1"] * 5, codebook=cb, score="distress")
    assert (d.score == "distress").all()
    with pytest.raises(ThemeassistError, match="score column 'nope'"):
        tone_by_theme(tone, ["Team"] * 5, score="nope")
    with pytest.raises(ThemeassistError, match="5 tone rows but 2 coded comments"):
        tone_by_theme(tone, ["Team", "Load"])

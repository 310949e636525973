"""The illustrative IAPT demo corpus: counts, gold labels and the written prevalence table."""

from __future__ import annotations

import itertools
import re
from collections import Counter

import pandas as pd

from themeassist.codebooks import iapt_wellbeing
from themeassist.datasets import DEMO_YEARS, iapt_demo_prevalence, load_iapt_demo

STUDY_RESPONDENTS = {"2014": 161, "2015": 372, "2016": 531, "2017": 194, "2018": 285}


def test_comments_per_year_follow_the_study_respondents() -> None:
    demo = load_iapt_demo()
    counts = demo.groupby("year").size()
    assert list(counts.index) == list(DEMO_YEARS)
    assert len(demo) >= 600 and demo.doc_id.is_unique
    shares = counts / counts.sum()
    study = pd.Series(STUDY_RESPONDENTS) / sum(STUDY_RESPONDENTS.values())
    assert (shares - study).abs().max() < 0.005


def test_gold_labels_are_sub_themes_of_the_iapt_codebook() -> None:
    demo = load_iapt_demo()
    leaves = {t.name for t in iapt_wellbeing().leaves()}
    used = {c for codes in demo.themes for c in codes.split("|") if c}
    assert used == leaves  # every sub-theme is used, nothing else is
    n_codes = demo.themes.map(lambda s: len([c for c in s.split("|") if c]))
    assert n_codes.max() == 3 and (n_codes == 0).sum() >= 30 and (n_codes >= 2).sum() >= 100


def test_per_year_prevalence_matches_the_written_table() -> None:
    demo = load_iapt_demo()
    table = iapt_demo_prevalence()
    long = demo.assign(theme=demo.themes.str.split("|")).explode("theme", ignore_index=True)
    long = long[long.theme != ""]
    counts = pd.crosstab(long.theme, long.year)
    counts = counts.reindex(index=table.index, columns=table.columns, fill_value=0)
    pd.testing.assert_frame_equal(counts, table, check_names=False, check_dtype=False)
    # the narrative's landmarks, as prevalence
    n = demo.groupby("year").size()
    prev = table / n
    assert prev.loc["Inter-professional Rivalry", "2017"] == 0 < prev.loc["Inter-professional Rivalry", "2018"]
    assert prev.loc["The Unsuitable Client", "2017"] == 0 < prev.loc["The Unsuitable Client", "2018"]
    assert prev.loc["Media & Policy", ["2014", "2015"]].sum() == 0 < prev.loc["Media & Policy", "2016"]
    assert (prev.loc["The Professional Advocate", ["2015", "2016"]] > 0).all()
    assert prev.loc["The Professional Advocate", ["2014", "2017", "2018"]].sum() == 0
    assert prev.loc["Balance, Perks & Permission", ["2014", "2015"]].sum() == 0


def test_texts_read_like_free_text_not_templates() -> None:
    demo = load_iapt_demo()
    words = demo.text.str.split().str.len()
    themed = demo.themes != ""
    assert words.min() >= 1 and words.max() <= 150
    assert words[themed].min() >= 5
    assert demo.text[themed].str.lower().is_unique
    # no sentence frame repeated with words swapped in: two different sentences of 8+ words
    # never share 70% or more of their words in the same positions
    sentences = [re.findall(r"[a-z0-9']+", s.lower())
                 for t in demo.text[themed] for s in re.split(r"(?<=[.!?])\s+|\n", t)]
    by_length: dict[int, list[list[str]]] = {}
    for s in sentences:
        if len(s) >= 8:
            by_length.setdefault(len(s), []).append(s)
    worst = max(sum(x == y for x, y in zip(a, b)) / len(a)
                for group in by_length.values() for a, b in itertools.combinations(group, 2) if a != b)
    assert worst < 0.7
    # non-answers and off-topic remarks are there too
    assert demo.text[~themed].str.lower().str.strip(" .").isin(["n/a", "nothing to add", "-", "no comment"]).any()

"""Readable names for candidate codes.

A code is named by what sets it apart, in words several respondents used:

* a *dominant short answer* (at most :data:`SHORT_ANSWER_WORDS` words, given by at least half of
  the code's comments and by at least ``min_docs`` of them) is the label itself, quoted:
  ``"nothing"``; stop-word removal would otherwise drop the one word that defines such a code
  ("Nothing." answers were labelled ``able guess / remember easily`` from their few neighbours);
* otherwise the code's top c-TF-IDF keywords, keeping only terms found in at least ``min_docs``
  distinct comments of the whole corpus (one respondent's own words, an e-mail run together by
  tokenisation, never name a code), overlapping terms merged (:func:`make_label`);
* contractions written without their apostrophe (``im``, ``ive``, ``dont``, ``isnt``: what the
  c-TF-IDF tokeniser makes of "I'm", "don't") are stop words, like "I" and "do" themselves.
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import pandas as pd

#: A short answer has at most this many words.
SHORT_ANSWER_WORDS = 4
#: Share of a code's comments a short answer must reach to name it.
DOMINANT_SHARE = 0.5

#: English contractions as the c-TF-IDF tokeniser sees them (apostrophe removed). Left out because
#: they are words too: "ill" (I'll), "id" (I'd), "well" (we'll), "wed", "hell", "shell".
CONTRACTIONS: frozenset[str] = frozenset("""
im ive youre youve youd youll hes shes weve theyre theyve theyd theyll thats theres heres whats whos
wheres lets isnt arent wasnt werent dont doesnt didnt havent hasnt hadnt wont wouldnt cant couldnt
shouldnt mustnt neednt aint itll thatll couldve wouldve shouldve mightve mustve whatll theyll
""".split())

_PUNCT = re.compile(r"[^\w\s']")


def stop_words_for(stop_words: Any) -> Any:
    """``"english"``: scikit-learn's English stop words plus :data:`CONTRACTIONS`; anything else as given."""
    if stop_words == "english":
        from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

        return sorted(ENGLISH_STOP_WORDS | CONTRACTIONS)
    return stop_words


def make_label(keywords: Sequence[str], n_words: int = 3) -> str:
    """Join the first distinct keywords: a term whose words are all already shown is skipped and
    a bigram replaces the unigrams it contains ("staff", "friendly staff" -> "friendly staff").

    >>> make_label(["staff", "friendly", "friendly staff", "helpful", "kind"])
    'friendly staff / helpful / kind'
    """
    chosen: list[str] = []
    for kw in keywords:
        toks = set(kw.split())
        if not toks or any(toks <= set(c.split()) for c in chosen):
            continue
        chosen = [c for c in chosen if not set(c.split()) < toks]
        chosen.append(kw)
        if len(chosen) >= n_words:
            break
    return " / ".join(chosen)


def normalise_answer(text: str) -> str:
    """Lower case, punctuation removed, spaces collapsed: "Nothing." and "nothing!" are one answer.

    >>> normalise_answer("  Nothing. ")
    'nothing'
    """
    return " ".join(_PUNCT.sub(" ", str(text).lower()).split())


def _quoted(answer: str, n: int = 40) -> str:
    return f'"{answer if len(answer) <= n else answer[: n - 1].rstrip() + chr(0x2026)}"'


def label_code(keywords: Sequence[str], member_texts: Sequence[str], doc_freq: dict[str, int], *,
               min_docs: int, code: int) -> tuple[str, list[str]]:  # fmt: skip
    """``(label, keywords kept)`` for one code (see the module docstring).

    >>> label_code(["able", "guess"], ["Nothing."] * 6 + ["not able to guess"], {"able": 1, "guess": 1},
    ...            min_docs=3, code=0)
    ('"nothing"', [])
    """
    kept = [k for k in keywords if doc_freq.get(k, 0) >= min_docs]
    answers = pd.Series([normalise_answer(t) for t in member_texts], dtype=object)
    answers = answers[answers != ""]
    top, count = (answers.value_counts().index[0], int(answers.value_counts().iloc[0])) if len(answers) else ("", 0)
    dominant = (count >= max(min_docs, DOMINANT_SHARE * len(member_texts))
                and len(top.split()) <= SHORT_ANSWER_WORDS)  # fmt: skip
    if dominant:
        return _quoted(top), kept
    label = make_label(kept)
    if not label:  # only stop words or rare words: name it by its commonest answer, if several gave it
        label = _quoted(top) if count >= min_docs else f"code {code}"
    return label, kept

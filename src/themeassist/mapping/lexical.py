"""Word-level evidence for the mapper (private to the mapping stage): codebook words found in a
comment, and a fast character n-gram transform for the TF-IDF scorer.

- :func:`theme_terms` / :func:`term_matrix` / :func:`lexical_scores`: the share of a theme's
  name and keyword words (crudely stemmed, idf-weighted) that a comment contains;
- :func:`char_wb_transform`: ``TfidfVectorizer(analyzer="char_wb").transform`` computed once per
  distinct word (the same matrix, several times faster on many comments).
"""

from __future__ import annotations

import re
from typing import Any, Sequence

import numpy as np
from scipy import sparse

__all__: list[str] = []

_EPS = 1e-9

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

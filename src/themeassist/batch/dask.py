"""Batch runs on a Dask cluster: suggest themes for (and discover codes in) very large corpora.

:func:`suggest_dask` cuts the corpus into partitions of ``partition_size`` rows and has the
workers of a ``dask.distributed`` cluster embed and map them in parallel (a ``LocalCluster`` on this
machine by default, or any scheduler address). It returns exactly what the in-process
``mapper.suggest(corpus)`` returns: the same rows, in the same order, with the same values.

:func:`discover_dask` fits :class:`~themeassist.discovery.CandidateDiscovery` on a random sample
and assigns every comment to its nearest candidate code in partitions on the cluster.

The fitted estimators travel to the workers in memory (dask serialises them); nothing is saved to
disk and the loaded embedding model is never shipped: each worker loads its own, once. Workers
embed without the on-disk embedding cache by default (``cache_dir=False``): at this scale a cache
lookup per partition would read every stored shard, and the static model embeds faster than the
cache reads.

Memory: the client holds the corpus and the result table; each worker holds the partitions it is
working on (at most ``max_in_flight`` partitions are in the cluster at once). The embedding
matrix is never gathered: in the zero-shot regime, where scores are standardised over all
comments together and the prototypes self-trained on them, the embeddings stay on the workers
(one copy) between the passes and only the comment-by-theme similarity tables, the codebook words
found in each comment and the embeddings of the few comments taken as examples of each theme come
back; from them the corpus-wide statistics are computed and passed to
``ThemeMapper.suggest(zero_shot_stats=...)``.

Requires the ``dask`` extra: ``pip install "themeassist[dask]"``. In a script (not a notebook), call
it under ``if __name__ == "__main__":``: the local cluster's worker processes import the script
again, and without the guard each would start its own cluster ("Nanny failed to start").

Examples
--------
>>> from themeassist.batch.dask import suggest_dask
>>> mapper = ThemeMapper(embedder="static").fit(codebook, examples)      # doctest: +SKIP
>>> out = suggest_dask(mapper, corpus, n_workers=2)                        # doctest: +SKIP
>>> out.equals(mapper.suggest(corpus))                                     # doctest: +SKIP
True
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd

from themeassist._schema import USABLE_STATUSES, check_columns
from themeassist.batch import _cluster
from themeassist._validation import check_param
from themeassist.exceptions import CorpusError, NotFittedError, ParameterError

__all__ = ["ScaledDiscovery", "discover_dask", "suggest_dask", "suggest_hybrid", "uncertain_rows"]

logger = logging.getLogger(__name__)

_OK = USABLE_STATUSES


# ------------------------------------------------------------------------------------------------
# suggest
# ------------------------------------------------------------------------------------------------
def _suggest_table(corpus: Any, who: str) -> pd.DataFrame:
    """``doc_id, status, text`` for every input row, exactly as ``ThemeMapper.suggest`` reads them."""
    from themeassist.mapping.table import suggestion_rows

    if isinstance(corpus, pd.DataFrame):
        check_columns(corpus, ("text",), who=who, what="corpus", hint="Pass the output of load_corpus or a list of texts.")
    if isinstance(corpus, (str, bytes)):
        raise CorpusError(f"{who}: expected a corpus table or a list of comments, got a single string; "
                          "pass [text] for one comment.")  # fmt: skip
    doc_ids, status, texts = suggestion_rows(corpus)
    return pd.DataFrame({"doc_id": doc_ids, "status": status, "text": pd.Series(texts, dtype=object)})


def _encode_chunk(mapper: Any, embedder: Any, chunk: pd.DataFrame) -> np.ndarray:
    """The embeddings of one chunk's scored rows, as the embedder returns them: one ``encode`` call
    per chunk, as the local engine makes (a transformer's numbers depend, in the last bits, on the
    texts embedded together), normalised later exactly once, as in process."""
    texts = [str(t) for t, s in zip(chunk["text"], chunk["status"]) if s in _OK]
    return np.asarray(embedder.encode(texts)) if texts else np.zeros((0, mapper.protos_.shape[1]), np.float32)


def _embed_part(part: pd.DataFrame, payload: dict[str, Any], chunk_size: int) -> tuple[np.ndarray, Any]:
    """Worker: the embeddings of a partition's scored rows (chunk by chunk) and which codebook words
    each contains (sparse; ``None`` when the codebook has no words)."""
    mapper, embedder = _cluster.rebuild(payload)
    raw = np.vstack([_encode_chunk(mapper, embedder, c) for c in _cluster.chunks(part, chunk_size)])
    texts = [str(t) for t, s in zip(part["text"], part["status"]) if s in _OK]
    return raw, mapper.codebook_words(texts)


def _cosines_piece(embedded: tuple[Any, Any], protos: np.ndarray) -> np.ndarray:
    """Worker: cosines between a partition's scored rows and the unit rows of ``protos``."""
    from themeassist._numeric import rowwise_dot
    from themeassist.embed import unit_rows

    return rowwise_dot(unit_rows(embedded[0]), protos.T)


def _rows_piece(embedded: tuple[Any, Any], rows: np.ndarray) -> np.ndarray:
    """Worker: the embeddings (unit rows) of a partition's scored rows at the local indices ``rows``."""
    from themeassist.embed import unit_rows

    return unit_rows(embedded[0][rows]) if len(rows) else np.zeros((0, embedded[0].shape[1]), np.float32)


def _size_piece(embedded: tuple[Any, Any]) -> int:
    return int(embedded[0].shape[0])


def _terms_piece(embedded: tuple[Any, Any]) -> Any:
    return embedded[1]


def _zero_shot_stats(client: Any, mapper: Any, embedded: list[Any]) -> dict[str, np.ndarray]:
    """``mapper.zero_shot_stats`` of the whole corpus, with the embeddings left on the workers:
    :meth:`ThemeMapper.zero_shot_stats_from` gathers the cosines to the prototypes, the codebook
    words of each comment and only the embeddings of the comments taken as examples of a theme
    (tests/test_scale.py checks the identity with the in-process result)."""
    from scipy import sparse

    sizes = client.gather([client.submit(_size_piece, f, pure=False) for f in embedded])
    starts = np.concatenate([[0], np.cumsum(sizes)])
    pieces = client.gather([client.submit(_terms_piece, f, pure=False) for f in embedded])
    words = None if any(p is None for p in pieces) else sparse.vstack(pieces).tocsr()

    def cosines(P: np.ndarray) -> np.ndarray:
        [shared] = client.scatter([P], broadcast=True)
        return np.vstack(client.gather([client.submit(_cosines_piece, f, shared, pure=False) for f in embedded]))

    def rows_of(rows: np.ndarray) -> np.ndarray:
        local = [rows[(rows >= a) & (rows < b)] - a for a, b in zip(starts[:-1], starts[1:])]
        return np.vstack(client.gather([client.submit(_rows_piece, f, r, pure=False)
                                        for f, r in zip(embedded, local)]))  # fmt: skip

    return mapper.zero_shot_stats_from(cosines, rows_of, words, n=int(sum(sizes)))


def _suggest_part(part: pd.DataFrame, payload: dict[str, Any], evidence: bool, chunk_size: int) -> pd.DataFrame:
    """Worker: ``mapper.suggest`` on one partition, chunk by chunk, exactly as the local engine
    (:func:`~themeassist.batch.resumable_suggest`) scores it."""
    mapper, embedder = _cluster.rebuild(payload)
    return pd.concat([mapper.suggest(c, embeddings=_encode_chunk(mapper, embedder, c), evidence=evidence)
                      for c in _cluster.chunks(part, chunk_size)], ignore_index=True)


def _suggest_whole(part: pd.DataFrame, payload: dict[str, Any], evidence: bool, stats: dict[str, np.ndarray],
                   embedded: Any) -> pd.DataFrame:  # fmt: skip
    """Worker: ``mapper.suggest`` on one partition with the corpus-wide zero-shot statistics."""
    mapper, _ = _cluster.rebuild(payload)
    return mapper.suggest(part, embeddings=embedded[0], evidence=evidence, zero_shot_stats=stats)


def suggest_dask(
    mapper: Any,
    corpus: pd.DataFrame | Sequence[str],
    *,
    scheduler: Any = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    partition_size: int = 20_000,
    chunk_size: int = 2000,
    max_in_flight: int | None = None,
    cache_dir: Any = False,
    evidence: bool = True,
    candidate_assignments: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Suggest themes for every comment, embedding and mapping partitions in parallel on Dask.

    (Over 80 lines for its documentation only: the code itself is under 80.)

    Parameters
    ----------
    mapper : ThemeMapper
        A fitted :class:`~themeassist.mapping.ThemeMapper`. Its embedder (a name such as
        ``"static"``, a folder, or an object) is loaded by each worker.
    corpus : DataFrame or sequence of str
        As for :meth:`ThemeMapper.suggest`: a corpus from :func:`~themeassist.corpus.load_corpus`
        (``doc_id, text, status``; other columns are not sent to the workers) or plain texts.
    scheduler : None, str or distributed.Client
        ``None``: a ``LocalCluster`` of ``n_workers`` workers on this machine, closed afterwards;
        an address (``"tcp://host:8786"``): that cluster; a ``Client``: used as it is.
    n_workers, threads_per_worker, processes
        The LocalCluster's shape (ignored with a scheduler). Worker processes (the default) run
        truly in parallel; threads (``processes=False``) start faster. Worker processes are
        spawned: in a script, call this under ``if __name__ == "__main__":``.
    partition_size : int, default 20000
        Rows per partition (per task), rounded down to a multiple of ``chunk_size``.
    chunk_size : int, default 2000
        Rows embedded (and, but for the transductive zero-shot regime, scored) together, as
        :func:`~themeassist.batch.resumable_suggest` does with the same ``chunk_size``: the two
        engines then give the same table, bit for bit (a transformer's embedding of a text differs in
        its last bits with the texts embedded beside it).
    max_in_flight : int, optional
        Partitions sent to the cluster at once (default ``2 * n_workers``, or 2 per worker of an
        existing cluster); bounds the workers' memory.
    cache_dir : path, None or False, default False
        Embedding cache used by the workers (``False``: none; ``None``: the mapper's own setting).
    evidence : bool, default True
        Passed to :meth:`ThemeMapper.suggest`.
    candidate_assignments : DataFrame, optional
        ``doc_id, candidate_id`` from discovery; adds the ``candidate_id`` column.

    Returns
    -------
    DataFrame
        Identical to ``mapper.suggest(corpus, evidence=evidence,
        candidate_assignments=candidate_assignments)``: one row per input row, in input order,
        columns :data:`themeassist.mapping.SUGGESTION_COLUMNS`.

    Raises
    ------
    NotFittedError
        The mapper is not fitted.
    ThemeassistError
        Dask is not installed or the scheduler cannot be reached.

    Examples
    --------
    In a script, under ``if __name__ == "__main__":`` (see the module docstring):

    >>> out = suggest_dask(mapper, corpus, n_workers=2, partition_size=10_000)   # doctest: +SKIP
    >>> out.columns[:3].tolist()                                               # doctest: +SKIP
    ['doc_id', 'status', 'suggested']
    """
    who = "suggest_dask"
    if not hasattr(mapper, "leaf_ids_"):
        raise NotFittedError(f"{who}: the ThemeMapper is not fitted yet; call mapper.fit(codebook, examples) first.")
    _cluster.check_common(n_workers, threads_per_worker, partition_size, max_in_flight, who)
    if candidate_assignments is not None:
        check_columns(candidate_assignments, ("doc_id", "candidate_id"), who=who, what="candidate_assignments table",
                      hint="Pass CandidateDiscovery.assignments_ (or the assignments file discover writes).")
    table = _suggest_table(corpus, who)
    if not len(table):
        return mapper.suggest(table, evidence=evidence, candidate_assignments=candidate_assignments)
    check_param("chunk_size", chunk_size, types=int, owner=who)
    check_param("chunk_size", chunk_size, between=(1, math.inf), owner=who)
    parts = _cluster.partitions(table, partition_size, chunk_size)
    payload = _cluster.make_payload(mapper, _cluster.worker_embedder(mapper.embedder_, cache_dir))
    zero_shot_transductive = mapper.regime_ == "zero-shot" and bool(mapper.transductive)
    with _cluster.open_client(scheduler, n_workers, threads_per_worker, processes) as client:
        workers = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
        window = max_in_flight or 2 * workers
        [shared] = client.scatter([payload], broadcast=True)
        if not zero_shot_transductive:
            results = _cluster.map_ordered(client, _suggest_part, parts, shared, evidence, chunk_size, max_in_flight=window)
        else:
            # pass 1: embeddings stay on the workers (one copy); the cosines to the prototypes, the
            # codebook words and the embeddings of the self-training examples come back for the
            # corpus-wide statistics, the same as ThemeMapper computes in one call
            embedded = _cluster.map_ordered(client, _embed_part, parts, shared, chunk_size, max_in_flight=len(parts),
                                    keep=True)  # fmt: skip
            stats = _zero_shot_stats(client, mapper, embedded)
            futures = [client.submit(_suggest_whole, p, shared, evidence, stats, e, pure=False)
                       for p, e in zip(parts, embedded)]  # fmt: skip
            results = client.gather(futures)
            del futures, embedded
    out = pd.concat(results, ignore_index=True)
    if candidate_assignments is not None:
        ca = candidate_assignments
        lookup = dict(zip(ca["doc_id"].astype(str), ca["candidate_id"]))
        col = [lookup.get(d, pd.NA) for d in out["doc_id"]]
        out.insert(int(out.columns.get_loc("none_of_these")), "candidate_id", col)
    return out


# ------------------------------------------------------------------------------------------------
# hybrid: a fast model for every comment, the exact model for the uncertain ones
# ------------------------------------------------------------------------------------------------
def uncertain_rows(mapper: Any, P: np.ndarray, *, fraction: float) -> np.ndarray:
    """Indices (sorted) of the ``fraction`` of rows whose suggestions are closest to changing.

    A row's margin is the smallest distance, on a log scale, between any leaf's score and that
    leaf's threshold (``mapper.thresholds_``, or ``min_score`` when set), and between its best
    ``score / threshold`` and the mapper's "none of these" level: the rows with the smallest
    margins are those a slightly different embedding would most likely code differently.

    Parameters
    ----------
    mapper : fitted ThemeMapper
    P : ndarray of shape (n, n_leaves)
        ``mapper.predict_proba`` of the rows.
    fraction : float in [0, 1]

    Returns
    -------
    ndarray of int, shape (round(fraction * n),)

    Examples
    --------
    >>> P = mapper.predict_proba(texts, embeddings=E_static)        # doctest: +SKIP
    >>> uncertain_rows(mapper, P, fraction=0.05)                    # doctest: +SKIP
    """
    check_param("fraction", fraction, between=(0.0, 1.0), owner="uncertain_rows")
    P = np.asarray(P, dtype=np.float64)
    n = P.shape[0]
    k = int(round(fraction * n))
    if k == 0 or n == 0:
        return np.zeros(0, dtype=int)
    if mapper.min_score is not None:
        th = np.full(P.shape[1], max(float(mapper.min_score), 1e-6))
        none_level = math.inf
    else:
        th, none_level = np.maximum(np.asarray(mapper.thresholds_, dtype=np.float64), 1e-9), float(mapper.none_level_)
    logr = np.log(np.maximum(P, 1e-12) / th)
    margin = np.abs(logr).min(axis=1)
    if math.isfinite(none_level) and none_level > 0:
        best = logr.max(axis=1)
        below = best < 0  # no leaf over its threshold: "best leaf or none" is decided at none_level
        margin[below] = np.minimum(margin[below], np.abs(best[below] - math.log(none_level)))
    return np.sort(np.argsort(margin, kind="stable")[:k])


def suggest_hybrid(
    fast: Any,
    exact: Any,
    corpus: pd.DataFrame | Sequence[str],
    *,
    fraction: float = 0.05,
    evidence: bool = True,
) -> pd.DataFrame:
    """Suggest with a fast mapper (static model), then redo the most uncertain rows with an exact one.

    Every comment is embedded and scored by ``fast``; the ``fraction`` of scored comments whose
    suggestions are closest to changing (:func:`uncertain_rows`) are embedded again by ``exact``'s
    model (MiniLM) and take ``exact``'s suggestions. The time is that of ``fast`` plus
    ``fraction`` of that of ``exact``.

    Parameters
    ----------
    fast, exact : fitted ThemeMapper
        Fitted on the same codebook and examples, with a fast and an accurate embedder. Not for
        the transductive zero-shot regime (its scores depend on the rows scored together).
    corpus : DataFrame or sequence of str
        As for :meth:`ThemeMapper.suggest`.
    fraction : float in [0, 1], default 0.05
    evidence : bool, default True

    Returns
    -------
    DataFrame
        :meth:`ThemeMapper.suggest`'s table; ``attrs["re_embedded"]`` counts the rows redone and
        ``attrs["re_embedded_doc_ids"]`` lists their ``doc_id``.

    Examples
    --------
    >>> fast = ThemeMapper(embedder=get_embedder("static")).fit(cb, examples)   # doctest: +SKIP
    >>> exact = ThemeMapper().fit(cb, examples)                                 # doctest: +SKIP
    >>> out = suggest_hybrid(fast, exact, corpus, fraction=0.05)                # doctest: +SKIP
    """
    who = "suggest_hybrid"
    for name, m in (("fast", fast), ("exact", exact)):
        if not hasattr(m, "leaf_ids_"):
            raise NotFittedError(f"{who}: the {name!r} ThemeMapper is not fitted; fit both on the same codebook.")
    if list(fast.leaf_ids_) != list(exact.leaf_ids_):
        raise ParameterError(f"{who}: the two mappers were fitted on different codebooks ({len(fast.leaf_ids_)} and "
                         f"{len(exact.leaf_ids_)} leaves); fit both on the same codebook and examples.")  # fmt: skip
    if fast.regime_ == "zero-shot" and fast.transductive:
        raise ParameterError(f"{who}: the transductive zero-shot regime scores rows together; use "
                         "ThemeMapper(transductive=False) or coded examples.")  # fmt: skip
    check_param("fraction", fraction, between=(0.0, 1.0), owner=who)
    table = _suggest_table(corpus, who)
    ok = np.flatnonzero(table["status"].isin(_OK).to_numpy())
    texts = table["text"].to_numpy()[ok].astype(str).tolist()
    redo = np.zeros(0, dtype=int)
    if len(ok):
        E = fast.embed(texts)
        P = fast.predict_proba(texts, embeddings=E)
        out = fast.suggest(table, embeddings=E, scores=P, evidence=evidence)  # scores computed once
        redo = ok[uncertain_rows(fast, P, fraction=fraction)]
    else:
        out = fast.suggest(table, evidence=evidence)
    if len(redo):
        again = exact.suggest(table.iloc[redo].reset_index(drop=True), evidence=evidence)
        again.index = redo
        out.loc[redo, list(again.columns)] = again
    out.attrs["re_embedded"] = int(len(redo))
    out.attrs["re_embedded_doc_ids"] = table["doc_id"].to_numpy()[redo].tolist()
    return out


# ------------------------------------------------------------------------------------------------
# discovery
# ------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ScaledDiscovery:
    """Candidate codes found on a sample and the assignment of every comment.

    Attributes
    ----------
    discovery : CandidateDiscovery
        Fitted on the sample (its ``assignments_`` cover the sample only).
    assignments : DataFrame
        One row per input row, in input order, columns
        :data:`themeassist.discovery.ASSIGNMENT_COLUMNS`: sample rows as fitted, every other
        substantive comment by its nearest candidate centroid (``assigned_by ==
        "nearest_centroid"``).
    candidate_codes : DataFrame
        ``discovery.candidate_codes_`` with ``n_docs`` and ``share`` counted over all comments.
    sample_size : int
        Substantive comments in the fitted sample.
    """

    discovery: Any
    assignments: pd.DataFrame
    candidate_codes: pd.DataFrame
    sample_size: int

    def to_frame(self) -> pd.DataFrame:
        """The assignments table."""
        return self.assignments


def _transform_part(part: pd.DataFrame, payload: dict[str, Any]) -> pd.DataFrame:
    """Worker: a partition's assignments, embedded with the worker's embedder."""
    disc, embedder = _cluster.rebuild(payload)
    usable = part["status"].isin(_OK).to_numpy()
    texts = part.loc[usable, "text"].astype(str).tolist()
    return disc.transform(part, embeddings=np.asarray(embedder.encode(texts)) if texts else None)


def discover_dask(
    discovery: Any,
    corpus: pd.DataFrame | Sequence[str],
    *,
    sample_size: int = 50_000,
    scheduler: Any = None,
    n_workers: int = 2,
    threads_per_worker: int = 1,
    processes: bool = True,
    partition_size: int = 20_000,
    max_in_flight: int | None = None,
    cache_dir: Any = False,
) -> ScaledDiscovery:
    """Discover candidate codes on a random sample, then assign all comments on a Dask cluster.

    Parameters
    ----------
    discovery : CandidateDiscovery
        An unfitted (or fitted: it is refitted) estimator; its ``random_state`` draws the sample.
    corpus : DataFrame or sequence of str
        A corpus from :func:`~themeassist.corpus.load_corpus` or plain texts.
    sample_size : int, default 50000
        Substantive comments clustered (UMAP + HDBSCAN run on these only), in this process.
    scheduler, n_workers, threads_per_worker, processes, partition_size, max_in_flight, cache_dir
        As for :func:`suggest_dask`; the other comments are embedded and assigned on the cluster.

    Returns
    -------
    ScaledDiscovery

    Examples
    --------
    >>> res = discover_dask(CandidateDiscovery(embedder="static"), corpus, sample_size=20_000)  # doctest: +SKIP
    >>> res.assignments["assigned_by"].value_counts()                                           # doctest: +SKIP
    """
    from themeassist.corpus import as_corpus
    from themeassist.discovery import ASSIGNMENT_COLUMNS

    who = "discover_dask"
    _cluster.check_common(n_workers, threads_per_worker, partition_size, max_in_flight, who)
    check_param("sample_size", sample_size, types=int, owner=who)
    check_param("sample_size", sample_size, between=(10, math.inf), owner=who)
    table = as_corpus(corpus, who=who)
    usable = np.flatnonzero(table["status"].isin(_OK).to_numpy())
    rng = np.random.default_rng(discovery.random_state)
    if len(usable) > sample_size:
        chosen = np.sort(rng.choice(usable, size=sample_size, replace=False))
    else:
        chosen = usable
    est = type(discovery)(**discovery.get_params(deep=False))
    est.fit(table.iloc[chosen].reset_index(drop=True))
    in_sample = np.zeros(len(table), dtype=bool)
    in_sample[chosen] = True
    rest_pos = np.flatnonzero(~in_sample)
    parts = _cluster.partitions(table.iloc[rest_pos], partition_size)
    pieces = [est.assignments_.reset_index(drop=True)]
    if parts:
        payload = _cluster.make_payload(est.without_engine(), _cluster.worker_embedder(est.embedder_, cache_dir))
        with _cluster.open_client(scheduler, n_workers, threads_per_worker, processes) as client:
            workers = max(1, len(client.scheduler_info().get("workers", {})) or n_workers)
            [shared] = client.scatter([payload], broadcast=True)
            pieces += _cluster.map_ordered(client, _transform_part, parts, shared,
                                   max_in_flight=max_in_flight or 2 * workers)  # fmt: skip
    # every input row once, in input order: sample rows as fitted, the others as assigned
    order = np.argsort(np.concatenate([chosen, rest_pos]), kind="stable")
    assignments = pd.concat(pieces, ignore_index=True).iloc[order].reset_index(drop=True)
    assignments = assignments[list(ASSIGNMENT_COLUMNS)]
    counts = assignments["candidate_id"].value_counts(dropna=True)
    codes = est.candidate_codes_.copy()
    codes["n_docs"] = [int(counts.get(c, 0)) for c in codes["candidate_id"]]
    codes["share"] = codes["n_docs"] / max(len(usable), 1)
    return ScaledDiscovery(discovery=est, assignments=assignments, candidate_codes=codes, sample_size=int(len(chosen)))

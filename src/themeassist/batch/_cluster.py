"""The Dask cluster as the batch code uses it: a client, ordered bounded submission, partitions,
and fitted estimators moved to the workers (one copy per worker thread, rebuilt once).

Requires the ``dask`` extra (``pip install "themeassist[dask]"``); importing this module does not
import dask (:func:`import_distributed` does, with an error naming the extra when it is missing).
"""

from __future__ import annotations

import contextlib
import copy
import logging
import math
import threading
import uuid
from typing import Any, Callable, Iterator, Sequence

import pandas as pd

from themeassist._validation import check_param
from themeassist.exceptions import ParameterError, ThemeassistError

_WORKER_CACHE: dict[str, Any] = {}  # per worker process: rebuilt estimators and embedders by token
_WORKER_LOCK = threading.Lock()


# ------------------------------------------------------------------------------------------------
# the cluster
# ------------------------------------------------------------------------------------------------
def import_distributed():  # type: ignore[no-untyped-def]
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ThemeassistError(
            "The dask engine needs dask and distributed: pip install \"themeassist[dask]\" "
            "(dask[dataframe]==2026.8.0, distributed==2026.8.0)."
        ) from err
    return distributed


@contextlib.contextmanager
def open_client(scheduler: Any, n_workers: int, threads_per_worker: int, processes: bool) -> Iterator[Any]:
    """A ``distributed.Client``: the one given, one connected to an address, or a new LocalCluster."""
    distributed = import_distributed()
    if isinstance(scheduler, distributed.Client):
        yield scheduler
        return
    if scheduler is not None:
        if not isinstance(scheduler, str):
            raise ParameterError(
                "The 'scheduler' parameter must be None (a LocalCluster), a scheduler address such as "
                f"'tcp://10.0.0.5:8786', or a distributed.Client. Got {type(scheduler).__name__} instead."
            )
        try:
            client = distributed.Client(scheduler, timeout="30s")
        except (OSError, TimeoutError) as err:
            raise ThemeassistError(
                f"Cannot reach the Dask scheduler at {scheduler!r} ({err}). Start it with `dask scheduler` "
                "and workers with `dask worker ADDRESS`, or leave scheduler unset for a local cluster."
            ) from err
        try:
            yield client
        finally:
            client.close()
        return
    # loopback only: nothing listens on, or looks up, an outside address
    where = {"host": "127.0.0.1"} if processes else {"host": "127.0.0.1", "protocol": "tcp"}
    cluster = distributed.LocalCluster(
        n_workers=n_workers, threads_per_worker=threads_per_worker, processes=processes,
        dashboard_address=None, silence_logs=logging.ERROR, **where,
    )  # fmt: skip
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def map_ordered(client: Any, func: Callable[..., Any], items: Sequence[Any], *args: Any,
                 max_in_flight: int, keep: bool = False) -> list[Any]:  # fmt: skip
    """Run ``func(item, *args)`` for every item on the cluster, at most ``max_in_flight`` at once;
    return the results (or, with ``keep``, the futures, left on the workers) in item order."""
    distributed = import_distributed()
    results: list[Any] = [None] * len(items)
    pending = distributed.as_completed()
    index: dict[str, int] = {}
    nxt = 0

    def submit(i: int) -> None:
        fut = client.submit(func, items[i], *args, pure=False)
        index[fut.key] = i
        pending.add(fut)

    while nxt < min(max_in_flight, len(items)):
        submit(nxt)
        nxt += 1
    for fut in pending:
        i = index.pop(fut.key)
        if fut.status == "error":
            fut.result()  # raises the worker's exception here
        results[i] = fut if keep else fut.result()
        if not keep:
            fut.release()
        if nxt < len(items):
            submit(nxt)
            nxt += 1
    return results


def partitions(df: pd.DataFrame, partition_size: int, chunk_size: int | None = None) -> list[pd.DataFrame]:
    """Consecutive partitions of about ``partition_size`` rows; with ``chunk_size``, a multiple of
    it, so that every partition is made of whole chunks of the local engine."""
    if chunk_size is not None:
        partition_size = max(chunk_size, partition_size // chunk_size * chunk_size)
    return [df.iloc[s:s + partition_size].reset_index(drop=True) for s in range(0, len(df), partition_size)]


def chunks(part: pd.DataFrame, chunk_size: int) -> list[pd.DataFrame]:
    return [part.iloc[s:s + chunk_size].reset_index(drop=True) for s in range(0, len(part), chunk_size)] or [part]


def check_common(n_workers: int, threads_per_worker: int, partition_size: int, max_in_flight: int | None,
                  who: str) -> None:  # fmt: skip
    for name, value in (("n_workers", n_workers), ("threads_per_worker", threads_per_worker),
                        ("partition_size", partition_size)):  # fmt: skip
        check_param(name, value, types=int, owner=who)
        check_param(name, value, between=(1, math.inf), owner=who)
    if max_in_flight is not None:
        check_param("max_in_flight", max_in_flight, types=int, owner=who)
        check_param("max_in_flight", max_in_flight, between=(1, math.inf), owner=who)


# ------------------------------------------------------------------------------------------------
# moving fitted estimators to the workers
# ------------------------------------------------------------------------------------------------
def worker_embedder(embedder: Any, cache_dir: Any) -> Any:
    """The embedder the workers use: the estimator's, with the cache setting of the run
    (``False``: none, ``None``: as it is, a path: that cache)."""
    from themeassist.embed import CachedEmbedder

    if cache_dir is None or embedder is None:
        return embedder
    inner = embedder.inner if isinstance(embedder, CachedEmbedder) else embedder
    return inner if cache_dir is False else CachedEmbedder(inner, cache_dir)


def make_payload(estimator: Any, embedder: Any) -> dict[str, Any]:
    """A fitted estimator and the embedder its workers use, under a token. Dask serialises them
    in memory; embedders leave their loaded model behind (each worker loads its own)."""
    return {"token": uuid.uuid4().hex, "estimator": estimator, "embedder": embedder}


def rebuild(payload: dict[str, Any]) -> tuple[Any, Any]:
    """The payload's estimator and a copy of its embedder of this worker thread's own (tokenizers
    are not thread-safe), made once per thread."""
    key = f"{payload['token']}:{threading.get_ident()}"
    with _WORKER_LOCK:
        pair = _WORKER_CACHE.get(key)
        if pair is None:
            pair = (payload["estimator"], copy.copy(payload["embedder"]))
            if len(_WORKER_CACHE) > 16:  # keep the cache small across many runs on one cluster
                _WORKER_CACHE.clear()
            _WORKER_CACHE[key] = pair
    return pair



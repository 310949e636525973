"""Resumable batch runs: chunked work in a run folder, atomic final outputs.

A long job over many comments (``suggest`` on a large survey) is cut into chunks of rows.
:func:`run_chunked` writes each finished chunk's result as a parquet file in a run folder,
next to a ``manifest.json`` holding the job's parameters, a fingerprint of the input and the
sha256 of every finished chunk. Run the same command again after a crash or a ``kill -9`` and
it verifies the manifest and each finished chunk (checksum), recomputes only what is missing or
damaged, and assembles the final output, which is written atomically (a temporary file renamed
over the final name: a half-written file never appears under that name) and is identical to the
output of an uninterrupted run.

A run folder is only created, cleared or removed when themeassist made it: a new folder, or one
holding a run manifest (or only the files a run writes). Any other existing folder, ``--run-dir .``
included, is refused with :class:`RunStateError` before any work, and nothing in it is touched;
clearing and clean-up remove only the files a run writes (manifest, chunks, lock), and the folder
itself only when a run created it and it is then empty.

Policy when the run folder holds a *different* job (other parameters, other input, other chunk
size, an unknown format): with ``on_mismatch="restart"`` (default) the stale chunks are discarded
with a warning that says which of these differs and the job starts afresh; with
``on_mismatch="error"`` a :class:`RunStateError` is raised and nothing is touched. A damaged chunk
or manifest is reported (warning) and recomputed, never loaded. A folder locked by a live
process is refused (:class:`RunStateError`); a lock left by a killed process is taken over.

Discovery (``CandidateDiscovery.fit``) is one shot: it needs every embedding at once. Its
expensive step, embedding, is already resumable through the embedding cache
(:class:`themeassist.embed.CachedEmbedder` stores each chunk of new embeddings as soon as it is
done), so a killed ``discover`` re-run embeds only what was not finished. Assigning further
comments to a fitted discovery can be chunked with :func:`resumable_transform`.

Examples
--------
>>> import tempfile, pathlib, pandas as pd
>>> tmp = pathlib.Path(tempfile.mkdtemp())
>>> items = pd.DataFrame({"doc_id": ["a", "b", "c"], "text": ["x", "yy", "zzz"]})
>>> out = run_chunked(items, lambda c: c.assign(n=c["text"].str.len()), out_path=tmp / "n.csv",
...                   chunk_size=2, params={"step": "length"})
>>> out["n"].tolist(), (tmp / "n.csv").is_file(), (tmp / ".n.csv.run").exists()
([1, 2, 3], True, False)
"""

from __future__ import annotations

import datetime as _dt
import io
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import numpy as np
import pandas as pd

from themeassist.batch._fingerprint import fitted_fingerprint, input_fingerprint, jsonable
from themeassist.batch._runfolder import (
    EMBEDDINGS,
    MANIFEST,
    RUN_FORMAT,
    RUN_VERSION,
    Lock,
    RunStateError,
    check,
    chunk_name,
    claim,
    clear,
    read_manifest,
    release,
    write_manifest,
)
from themeassist._schema import USABLE_STATUSES, check_columns
from themeassist._validation import check_param
from themeassist.exceptions import CorpusError, NotFittedError, OutputError, ParameterError, ThemeassistError
from themeassist.io.run_folder import data_info, file_matches, file_sha256
from themeassist.io.tables import atomic_write_bytes, check_output, write_table

__all__ = [
    "RUN_FORMAT",
    "RUN_VERSION",
    "RunStateError",
    "check_run_folder",
    "fitted_fingerprint",
    "input_fingerprint",
    "resumable_suggest",
    "resumable_transform",
    "run_chunked",
]



# --------------------------------------------------------------------------- run folder


def check_run_folder(folder: str | os.PathLike[str]) -> None:
    """Raise :class:`RunStateError` when ``folder`` exists and was not made by a themeassist run.

    A run only ever creates, clears or removes a folder that is new or holds its own manifest (or
    only the files a run writes); anything else is refused before any work, and left untouched.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "notes.txt").write_text("mine")
    >>> check_run_folder(d / "new")   # a new folder: fine
    >>> check_run_folder(d)           # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    themeassist.batch._runfolder.RunStateError: run folder ... was not made by themeassist (it holds 'notes.txt')...
    """
    check(Path(folder))


def _differences(old: dict[str, Any], params: dict[str, Any], job: dict[str, Any]) -> list[str]:
    if old.get("mode") is not None:
        return [f"kind of job ({old.get('mode')!r})"]
    labels = {"input_sha256": "input", "n_items": "number of input rows", "chunk_size": "chunk size",
              "out_name": "output name"}  # fmt: skip
    diff = ["parameters"] if old.get("params") != params else []
    return diff + [labels[k] for k in labels if old.get("job", {}).get(k) != job[k]]


def _store_chunk(path: Path, result: pd.DataFrame, k: int) -> dict[str, Any]:
    buf = io.BytesIO()
    try:
        result.to_parquet(buf, index=False)
    except Exception as exc:  # noqa: BLE001 - say which chunk and what to fix
        raise OutputError(
            f"run_chunked: the result of chunk {k + 1} cannot be stored as parquet ({type(exc).__name__}: {exc}); "
            "make func give every column one type (str, number, bool, datetime or lists of them)."
        ) from exc
    data = buf.getvalue()
    atomic_write_bytes(path, data)
    return data_info(data)


def run_chunked(
    items: pd.DataFrame | Sequence[Any],
    func: Callable[[Any], pd.DataFrame],
    *,
    out_path: str | os.PathLike[str] | None,
    run_dir: str | os.PathLike[str] | None = None,
    chunk_size: int = 2000,
    params: dict[str, Any] | None = None,
    finalize: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    on_mismatch: str = "restart",
    keep_run_dir: bool = False,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """Apply ``func`` to ``items`` chunk by chunk, resumably, and write the result atomically.

    (Over 80 lines for its documentation only: the code itself is under 80.)

    Parameters
    ----------
    items : DataFrame or sequence
        The input, cut into consecutive chunks of ``chunk_size`` rows (a DataFrame chunk has its
        index reset to 0..n-1; a sequence chunk is a list).
    func : callable
        ``func(chunk) -> DataFrame``; must be deterministic for the result to match an
        uninterrupted run, and its result must be storable as parquet.
    out_path : path or None
        Final output (``.csv``, ``.xlsx`` or ``.parquet``, see :func:`~themeassist.io.tables.write_table`),
        written atomically once every chunk is done. ``None``: only return the result
        (``run_dir`` is then required).
    run_dir : path, optional
        Folder for the manifest and the chunk files; default ``.<out name>.run`` next to ``out_path``.
    chunk_size : int, default 2000
        Rows per chunk (part of the job's identity: changing it starts afresh).
    params : dict, optional
        JSON values that identify the job besides its input (model id, settings, a fitted
        estimator's :func:`fitted_fingerprint`). A re-run with other params does not reuse chunks.
    finalize : callable, optional
        ``finalize(result) -> DataFrame`` applied to the assembled result before it is written
        (e.g. adding review columns).
    on_mismatch : {"restart", "error"}, default "restart"
        What to do when ``run_dir`` holds another job: discard it with a warning naming what
        differs, or raise :class:`RunStateError`.
    keep_run_dir : bool, default False
        Keep the run folder after success (then a re-run only re-assembles). By default it is
        deleted once the output is written.
    log : callable, optional
        Receives one-line progress messages (e.g. ``print``).

    Returns
    -------
    DataFrame
        The concatenated chunk results (after ``finalize``), index 0..n-1. ``attrs["run"]``:
        ``{"run_dir", "n_chunks", "reused", "computed"}``.

    Raises
    ------
    RunStateError
        ``on_mismatch="error"`` and the folder holds another job, or a live process holds it.
    ParameterError
        A bad ``chunk_size``/``on_mismatch``/``params``, neither ``out_path`` nor ``run_dir``, or
        ``func`` returned something other than a DataFrame.
    CorpusError
        ``items`` is neither a DataFrame nor a sequence.
    OutputError
        A chunk's result cannot be stored as parquet, or ``out_path`` cannot be written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> run_chunked(["a", "bb"], lambda c: pd.DataFrame({"n": [len(t) for t in c]}), out_path=None,
    ...             run_dir=d / "run", chunk_size=1)["n"].tolist()
    [1, 2]
    """
    check_param("on_mismatch", on_mismatch, owner="run_chunked", options=("restart", "error"))
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, (int, np.integer)) or chunk_size < 1:
        raise ParameterError(f"The 'chunk_size' parameter of run_chunked must be an int >= 1. "
                             f"Got {chunk_size!r} instead.")  # fmt: skip
    if out_path is None and run_dir is None:
        raise ParameterError("run_chunked: out_path and run_dir are both None; pass out_path= (the final file) "
                             "or run_dir= (where chunks are kept).")  # fmt: skip
    out = Path(out_path) if out_path is not None else None
    folder = Path(run_dir) if run_dir is not None else out.parent / f".{out.name}.run"  # type: ignore[union-attr]
    say = log or (lambda msg: None)
    if isinstance(items, str) or not isinstance(items, (pd.DataFrame, Sequence, pd.Series, np.ndarray)):
        raise CorpusError(f"run_chunked: items must be a DataFrame or a sequence (list, Series, array) of rows; "
                          f"got a {type(items).__name__}. Pass load_corpus's table or a list.")  # fmt: skip
    if isinstance(items, (pd.Series, np.ndarray)):
        items = list(items)
    n = len(items)
    chunk_size = int(chunk_size)
    n_chunks = max(1, -(-n // chunk_size))
    params = jsonable(params or {})
    job = {"input_sha256": input_fingerprint(items), "n_items": n, "chunk_size": chunk_size,
           "out_name": out.name if out is not None else None}  # fmt: skip

    if out is not None:
        check_output(out)  # before any work: a bad suffix or target is found now, not after the last chunk
    made = claim(folder)
    with Lock(folder):
        manifest = _resume_or_restart(folder, params, job, n_chunks, made, on_mismatch)
        made = manifest["extra"]["made_folder"]
        write_manifest(folder, **manifest)  # first: from now on the folder is recognisably ours
        results, reused, computed = _run_chunks(items, func, folder, manifest, chunk_size, say)
        if reused:
            say(f"resumed: {reused} of {n_chunks} chunks were already done in {folder}")
        result = pd.concat(results, ignore_index=True) if results else pd.DataFrame()
        if finalize is not None:
            result = finalize(result)
        if out is not None:
            write_table(result, out)
            manifest["extra"].update(completed=True, finished=_now(), output_sha256=file_sha256(out))
            write_manifest(folder, **manifest)
    if out is not None and not keep_run_dir:
        release(folder, made)
    result.attrs["run"] = {"run_dir": str(folder), "n_chunks": n_chunks, "reused": reused, "computed": computed}
    return result


def _resume_or_restart(folder: Path, params: dict[str, Any], job: dict[str, Any], n_chunks: int, made: bool,
                       on_mismatch: str) -> dict[str, Any]:  # fmt: skip
    """The manifest to continue with: the folder's own when it holds this job (its finished chunks
    are reused), else a new one after clearing what a run wrote (warned), or RunStateError."""
    old = read_manifest(folder, stacklevel=5)
    chunks: dict[str, dict[str, Any]] = {}
    files: dict[str, dict[str, Any]] = {}
    if old is not None:
        made = made or bool(old.get("made_folder"))
        diff = _differences(old, params, job)
        if diff:
            msg = f"run folder {folder} holds another job (different {', '.join(diff)})"
            if on_mismatch == "error":
                raise RunStateError(f"{msg}. Delete the folder, pass another run_dir, or use "
                                    "on_mismatch='restart' to start afresh.")  # fmt: skip
            warnings.warn(f"{msg}; its chunks are discarded and the job starts afresh.", UserWarning,
                          stacklevel=3)  # fmt: skip
            clear(folder)
        else:
            chunks, files = dict(old.get("chunks", {})), dict(old.get("files", {}))
    else:
        clear(folder)  # chunks without a manifest cannot be trusted (only names a run writes are removed)
    created = ((old or {}).get("created") if chunks else None) or _now()
    return {"params": params, "files": files,
            "extra": {"job": job, "n_chunks": n_chunks, "completed": False, "made_folder": made,
                      "created": created, "chunks": chunks}}  # fmt: skip


def _run_chunks(items: Any, func: Callable[[Any], pd.DataFrame], folder: Path, manifest: dict[str, Any],
                chunk_size: int, say: Callable[[str], None]) -> tuple[list[pd.DataFrame], int, int]:  # fmt: skip
    """Reuse every finished chunk that passes its checksum, compute the others (manifest updated after each)."""
    chunks, files = manifest["extra"]["chunks"], manifest["files"]
    n, n_chunks = len(items), manifest["extra"]["n_chunks"]
    reused = computed = 0
    results: list[pd.DataFrame] = []
    for k in range(n_chunks):
        path = folder / chunk_name(k)
        entry = chunks.get(str(k))
        if entry is not None:
            if file_matches(path, files.get(path.name)):
                try:
                    results.append(pd.read_parquet(path))
                    reused += 1
                    continue
                except Exception:  # noqa: BLE001 - a file that passes its checksum but not parquet
                    pass
            warnings.warn(f"run chunk {path} is missing or fails its checksum; computing it again.",
                          UserWarning, stacklevel=3)  # fmt: skip
            chunks.pop(str(k), None)
            files.pop(path.name, None)
        lo, hi = k * chunk_size, min(n, (k + 1) * chunk_size)
        part = items.iloc[lo:hi].reset_index(drop=True) if isinstance(items, pd.DataFrame) else list(items[lo:hi])
        result = func(part)
        if not isinstance(result, pd.DataFrame):
            raise ParameterError(f"run_chunked: func returned a {type(result).__name__} for chunk {k + 1} "
                                 f"(rows {lo + 1}-{hi}); pass a func that returns a DataFrame.")  # fmt: skip
        files[path.name] = _store_chunk(path, result, k)
        chunks[str(k)] = {"rows": [lo, hi], "n_out": len(result)}
        write_manifest(folder, **manifest)
        results.append(pd.read_parquet(path))  # exactly what a resumed run reads back
        computed += 1
        say(f"chunk {k + 1}/{n_chunks} done (rows {lo + 1}-{hi})")
    return results, reused, computed


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


# --------------------------------------------------------------------------- stages


def _check_fitted(estimator: Any, method: str, who: str) -> None:
    if not callable(getattr(estimator, method, None)):
        raise ParameterError(f"{who}: expected a fitted estimator with a {method}() method; got a "
                             f"{type(estimator).__name__}.")  # fmt: skip
    fitted = [k for k in vars(estimator) if k.endswith("_") and not k.startswith("__")]
    if callable(getattr(estimator, "fit", None)) and not fitted:
        raise NotFittedError(f"{who}: this {type(estimator).__name__} is not fitted yet; call fit() first.")


def _check_rows(res: Any, part: pd.DataFrame, who: str, est: Any, method: str) -> pd.DataFrame:
    """The result of ``est.method(part)`` must have one row per input row (by doc_id)."""
    if not isinstance(res, pd.DataFrame) or "doc_id" not in res.columns:
        raise ThemeassistError(f"{who}: {type(est).__name__}.{method}() must return a DataFrame with a doc_id column.")
    got, want = res["doc_id"].astype(str).tolist(), part["doc_id"].astype(str).tolist()
    if sorted(got) != sorted(want):
        lost = sorted(set(want) - set(got))[:5]
        extra = len(got) - len(set(got))
        rows = (f"rows {int(part['row'].iloc[0]) + 1}-{int(part['row'].iloc[-1]) + 1}" if "row" in part and len(part)
                else f"{len(part)} rows")  # fmt: skip
        raise ThemeassistError(
            f"{who}: {type(est).__name__}.{method}() did not return one row per input row for {rows} "
            f"({len(got)} rows for {len(want)} inputs; missing doc_ids {lost}, {extra} duplicates). "
            "This is a bug: please report it."
        )
    return res


def _per_row(who: str, method: str) -> Callable[[Any, pd.DataFrame], Callable[[pd.DataFrame], pd.DataFrame]]:
    def make(estimator: Any, corpus: pd.DataFrame) -> Callable[[pd.DataFrame], pd.DataFrame]:
        def func(chunk: pd.DataFrame) -> pd.DataFrame:
            return _check_rows(getattr(estimator, method)(chunk), chunk, who, estimator, method)
        return func
    return make


def _transductive(estimator: Any) -> bool:
    """True when the estimator's scores depend on the other comments scored in the same call
    (ThemeMapper zero-shot with ``transductive=True``): then only the embedding is chunked."""
    return getattr(estimator, "regime_", None) == "zero-shot" and bool(getattr(estimator, "transductive", False))


def _embedder_of(estimator: Any) -> Any:
    """The fitted estimator's embedder (``embedder_``)."""
    return estimator.embedder_


def _embed_then_call(estimator: Any, method: str, corpus: pd.DataFrame, out_path: str | os.PathLike[str], *,
                     who: str, run_dir: Any, chunk_size: int, embedder: Any, finalize: Any, on_mismatch: str,
                     keep_run_dir: bool, log: Any) -> pd.DataFrame:  # fmt: skip
    """Embed the substantive comments in resumable chunks, then call ``method`` once on everything."""
    out = Path(out_path)
    folder = Path(run_dir) if run_dir is not None else out.parent / f".{out.name}.run"
    check_output(out)
    made = claim(folder)
    old = read_manifest(folder) if (folder / MANIFEST).is_file() else None
    made = made or bool((old or {}).get("made_folder"))
    if old is not None and old.get("mode") != "embed-chunks":
        clear(folder)  # another kind of job: only the names a run writes are removed
    write_manifest(folder, params={"step": "embed-chunks"}, files={},
                   extra={"mode": "embed-chunks", "made_folder": made, "out_name": out.name})  # fmt: skip
    emb = embedder if embedder is not None else _embedder_of(estimator)
    usable = corpus["status"].isin(USABLE_STATUSES).to_numpy()
    rows = pd.DataFrame({"text": corpus["text"].astype(str).to_numpy(), "status": corpus["status"].to_numpy()})

    def embed(chunk: pd.DataFrame) -> pd.DataFrame:
        # one encode call per chunk of corpus rows (its scored rows), as every engine embeds
        texts = chunk.loc[chunk["status"].isin(USABLE_STATUSES), "text"].tolist()
        X = np.asarray(emb.encode(texts), dtype=np.float32) if texts else np.zeros((0, 0), np.float32)
        return pd.DataFrame(X, columns=[f"e{j}" for j in range(X.shape[1])])

    frame = run_chunked(rows, embed, out_path=None, run_dir=folder / EMBEDDINGS, chunk_size=chunk_size,
                        params={"step": "embed", "model_id": str(emb.model_id)}, on_mismatch=on_mismatch,
                        log=log)  # fmt: skip
    info = dict(frame.attrs.get("run", {}))
    E = frame.to_numpy(dtype=np.float32) if usable.any() else None
    res = getattr(estimator, method)(corpus, embeddings=E) if E is not None else getattr(estimator, method)(corpus)
    res = _check_rows(res, corpus, who, estimator, method).reset_index(drop=True)
    if finalize is not None:
        res = finalize(res)
    write_table(res, out)
    if not keep_run_dir:
        release(folder, made)
    res.attrs["run"] = {**info, "run_dir": str(folder), "mode": "embed-chunks"}
    return res


def _stage_params(step: str, estimator: Any) -> dict[str, Any]:
    import themeassist

    return {"step": step, "estimator": f"{type(estimator).__module__}.{type(estimator).__qualname__}",
            "fitted_sha256": fitted_fingerprint(estimator),
            "themeassist_version": getattr(themeassist, "__version__", "unknown")}  # fmt: skip


def _check_corpus(corpus: Any, who: str) -> None:
    if not isinstance(corpus, pd.DataFrame):
        raise CorpusError(f"{who}: corpus must be the DataFrame from load_corpus; got a {type(corpus).__name__}. "
                          "Pass load_corpus(path, text_col=...).")  # fmt: skip
    check_columns(corpus, ("doc_id", "text", "status"), who=who, what="corpus")


def resumable_suggest(
    mapper: Any,
    corpus: pd.DataFrame,
    out_path: str | os.PathLike[str],
    *,
    run_dir: str | os.PathLike[str] | None = None,
    chunk_size: int = 2000,
    embedder: Any = None,
    finalize: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    on_mismatch: str = "restart",
    keep_run_dir: bool = False,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """``mapper.suggest(corpus)`` in resumable chunks, written atomically to ``out_path``.

    The result equals ``mapper.suggest(corpus)`` whatever the chunk size, and a re-run of the same
    command after a kill resumes where it stopped:

    * a mapper whose scores are row by row (few-shot, supervised, zero-shot with
      ``transductive=False``) suggests chunk by chunk; the job's identity is the mapper's class,
      parameters and fitted state (:func:`fitted_fingerprint`: codebook, theme vectors, model id),
      the corpus and the chunk size;
    * a transductive zero-shot mapper standardises scores over all the comments scored together,
      so only the embedding (the slow part) is done in resumable chunks (stored in
      ``<run_dir>/embeddings``, identity: the model id and the texts); ``suggest`` then runs once
      on the whole corpus with those embeddings.

    Anything else in the run folder starts afresh (or raises, ``on_mismatch="error"``). The result
    is checked to have one row per corpus row (by ``doc_id``), in corpus order.

    Parameters
    ----------
    mapper : fitted ThemeMapper
    corpus : DataFrame from :func:`~themeassist.corpus.load_corpus`
    out_path : path
        ``.csv``, ``.xlsx`` or ``.parquet``; written atomically at the end.
    run_dir, chunk_size, finalize, on_mismatch, keep_run_dir, log
        See :func:`run_chunked`. ``finalize`` gets the assembled suggestions (e.g. to merge the
        text and add the ``decision`` / ``final_codes`` review columns) before writing.
    embedder : Embedder, optional
        For the transductive case: the embedder to use (default: the mapper's ``embedder``,
        resolved as the mapper does, with its ``cache_dir``).

    Returns
    -------
    DataFrame
        The suggestions table (columns as ``ThemeMapper.suggest`` documents), after ``finalize``.

    Examples
    --------
    >>> out = resumable_suggest(mapper, corpus, "suggestions.csv", chunk_size=2000)  # doctest: +SKIP
    """
    _check_corpus(corpus, "resumable_suggest")
    _check_fitted(mapper, "suggest", "resumable_suggest")
    if _transductive(mapper):
        return _embed_then_call(mapper, "suggest", corpus, out_path, who="resumable_suggest", run_dir=run_dir,
                                chunk_size=chunk_size, embedder=embedder, finalize=finalize,
                                on_mismatch=on_mismatch, keep_run_dir=keep_run_dir, log=log)  # fmt: skip
    func = _per_row("resumable_suggest", "suggest")(mapper, corpus)
    return run_chunked(corpus, func, out_path=out_path, run_dir=run_dir, chunk_size=chunk_size,
                       params=_stage_params("suggest", mapper), finalize=finalize, on_mismatch=on_mismatch,
                       keep_run_dir=keep_run_dir, log=log)  # fmt: skip


def resumable_transform(
    estimator: Any,
    corpus: pd.DataFrame,
    out_path: str | os.PathLike[str],
    *,
    run_dir: str | os.PathLike[str] | None = None,
    chunk_size: int = 2000,
    finalize: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    on_mismatch: str = "restart",
    keep_run_dir: bool = False,
    log: Callable[[str], None] | None = None,
) -> pd.DataFrame:
    """``estimator.transform(corpus)`` (e.g. a fitted ``CandidateDiscovery`` assigning new comments
    to its candidate codes) in resumable chunks; see :func:`resumable_suggest`.

    Examples
    --------
    >>> out = resumable_transform(discovery, new_corpus, "assignments.csv")  # doctest: +SKIP
    """
    _check_corpus(corpus, "resumable_transform")
    _check_fitted(estimator, "transform", "resumable_transform")
    func = _per_row("resumable_transform", "transform")(estimator, corpus)
    return run_chunked(corpus, func, out_path=out_path, run_dir=run_dir, chunk_size=chunk_size,
                       params=_stage_params("transform", estimator), finalize=finalize, on_mismatch=on_mismatch,
                       keep_run_dir=keep_run_dir, log=log)  # fmt: skip

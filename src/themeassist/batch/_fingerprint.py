"""Fingerprints that identify a resumable job: its input table, a fitted estimator, its parameters.

Content-based and stable across processes (never a memory address), so a re-run of the same
command recognises its own finished chunks.
"""

from __future__ import annotations

import hashlib
import os
from typing import Any, Sequence

import numpy as np
import pandas as pd

from themeassist.exceptions import ParameterError

__all__ = ["fitted_fingerprint", "input_fingerprint", "jsonable"]


def _hash_series(h: "hashlib._Hash", s: pd.Series) -> None:
    h.update(f"{s.name!r}|{s.dtype}|".encode())
    if s.dtype == object or isinstance(s.dtype, (pd.CategoricalDtype, pd.StringDtype)):
        vals = [f"{type(v).__name__}:{v!r}" for v in s.astype(object)]
        h.update("\x1f".join(vals).encode("utf-8", "surrogatepass"))
    else:
        h.update(pd.util.hash_pandas_object(s, index=False).to_numpy().tobytes())


def input_fingerprint(items: pd.DataFrame | Sequence[Any]) -> str:
    """sha256 of a table's columns, dtypes and values (or of a sequence's items), in order.

    Examples
    --------
    >>> a = input_fingerprint(pd.DataFrame({"text": ["x", None]}))
    >>> a == input_fingerprint(pd.DataFrame({"text": ["x", None]})), a == input_fingerprint(["x", None])
    (True, False)
    """
    h = hashlib.sha256()
    if isinstance(items, pd.DataFrame):
        h.update(f"frame|{items.shape}|".encode())
        for col in items.columns:
            _hash_series(h, items[col])
    else:
        h.update(f"seq|{len(items)}|".encode())
        _hash_series(h, pd.Series(list(items), dtype=object, name=None))
    return h.hexdigest()


def _feed(h: "hashlib._Hash", obj: Any, depth: int = 0) -> None:
    """Hash an object's content deterministically across processes (never its memory address)."""
    if depth > 4:
        h.update(f"<{type(obj).__name__}>".encode())
    elif obj is None or isinstance(obj, (bool, int, float, str, bytes, np.generic)):
        h.update(f"{type(obj).__name__}:{obj!r};".encode("utf-8", "surrogatepass"))
    elif isinstance(obj, np.ndarray):
        h.update(f"nd{obj.shape}{obj.dtype};".encode())
        h.update(np.ascontiguousarray(obj).tobytes() if obj.dtype != object else repr(obj.tolist()).encode())
    elif isinstance(obj, pd.DataFrame):
        h.update(input_fingerprint(obj).encode())
    elif isinstance(obj, pd.Series):
        _hash_series(h, obj)
    elif isinstance(obj, dict):
        h.update(b"{")
        for k in sorted(obj, key=repr):
            _feed(h, k, depth + 1)
            _feed(h, obj[k], depth + 1)
        h.update(b"}")
    elif isinstance(obj, (list, tuple, set, frozenset)):
        seq = sorted(obj, key=repr) if isinstance(obj, (set, frozenset)) else obj
        h.update(b"[")
        for v in seq:
            _feed(h, v, depth + 1)
        h.update(b"]")
    elif isinstance(obj, os.PathLike):
        h.update(f"path:{os.fspath(obj)};".encode())
    elif hasattr(obj, "model_id") and hasattr(obj, "encode"):  # an embedder: its identity, not its weights
        h.update(f"embedder:{obj.model_id};".encode())
    elif callable(getattr(obj, "to_frame", None)):
        try:
            frame = obj.to_frame()
        except Exception:  # noqa: BLE001 - fall back to the attributes
            frame = None
        if isinstance(frame, pd.DataFrame):
            h.update(f"{type(obj).__name__}:".encode() + input_fingerprint(frame).encode())
        else:
            h.update(f"<{type(obj).__qualname__}>".encode())
    elif hasattr(obj, "tocsr") and hasattr(obj, "shape"):  # scipy sparse matrix
        m = obj.tocsr()
        h.update(f"sparse{m.shape}{m.dtype};".encode())
        for part in (m.data, m.indices, m.indptr):
            h.update(np.ascontiguousarray(part).tobytes())
    elif hasattr(obj, "__dataclass_fields__"):
        h.update(f"{type(obj).__module__}.{type(obj).__qualname__}".encode())
        _feed(h, _public_state(obj), depth + 1)
    else:  # an engine object (e.g. a fitted BERTopic): its type only; the tables it produced are hashed
        h.update(f"<{type(obj).__module__}.{type(obj).__qualname__}>".encode())


def _public_state(obj: Any) -> dict[str, Any]:
    return {k: getattr(obj, k) for k in obj.__dataclass_fields__}


def fitted_fingerprint(estimator: Any) -> str:
    """sha256 of an estimator's class, parameters and fitted attributes (names ending in ``_``).

    Embedders are identified by their ``model_id``; arrays and tables by their content. Two
    processes that fit the same estimator on the same data get the same fingerprint.
    """
    h = hashlib.sha256()
    h.update(f"{type(estimator).__module__}.{type(estimator).__qualname__}".encode())
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    _feed(h, params)
    fitted = {k: v for k, v in vars(estimator).items() if k.endswith("_") and not k.startswith("_")}
    _feed(h, fitted)
    return h.hexdigest()


def jsonable(obj: Any, where: str = "params") -> Any:
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, np.integer)):
        return int(obj)
    if isinstance(obj, (float, np.floating)):
        return float(obj)
    if isinstance(obj, os.PathLike):
        return os.fspath(obj)
    if isinstance(obj, dict):
        return {str(k): jsonable(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [jsonable(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise ParameterError(f"run_chunked: {where} must hold only JSON values (str, numbers, lists, dicts); "
                     f"got a {type(obj).__name__}. Pass its identity (a name or a fingerprint) instead.")
